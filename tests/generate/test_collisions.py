"""Derived names that two components' objects or files would share are refused, naming both
(docs/generate.md, Names): Kubernetes keeps one object per kind, namespace and name, so
applying the second would silently replace the first."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.generate.helpers import OPTIONS, by_kind, documents
from tests.generate.test_cli import run

from scalesim.generate import GenerateError, Target, render
from scalesim.spec import load_spec_text

ROLLOUTS = """scalesim: 1
name: shop
components:
  gw:
    kind: gateway
    operations:
      get:
        work: 1ms
        calls: [{to: api.get}, {to: api-preview.get}, {to: web.get}, {to: web-canary.get}]
  api-preview: {operations: {get: {work: 1ms}}}
  api:
    rollout: {to: v2, strategy: blue_green}
    versions: {v2: {}}
    operations: {get: {work: 1ms}}
  web:
    rollout: {to: v2, strategy: canary, traffic_routing: true, steps: [{set_weight: 50%}]}
    versions: {v2: {}}
    operations: {get: {work: 1ms}}
  web-canary: {operations: {get: {work: 1ms}}}
workloads: [{name: w, to: gw.get, rate: 10/s}]
"""
PREVIEW = ("components 'api-preview' and 'api' both make the Service 'api-preview' "
           "(k8s/api-preview.yaml, argo/api.yaml): applied, the second would replace the "
           "first; rename one")
CANARY = ("components 'web-canary' and 'web' both make the Service 'web-canary' "
          "(k8s/web-canary.yaml, argo/web.yaml): applied, the second would replace the "
          "first; rename one")


@pytest.mark.parametrize("target", [Target.K8S, Target.ARGO, Target.HELM, Target.ALL])
def test_a_derived_service_equal_to_another_components_service_is_refused(
        target: Target) -> None:
    """Whatever the targets, so generating them one by one into a folder refuses too."""
    with pytest.raises(GenerateError) as caught:
        render(load_spec_text(ROLLOUTS), target, OPTIONS)
    assert caught.value.problems == [PREVIEW, CANARY]
    assert [problem.place for problem in caught.value.located] == [
        ("components", "api"), ("components", "web")]


def test_the_cli_names_both_components_at_the_line_and_writes_nothing(tmp_path: Path) -> None:
    spec = tmp_path / "clash.yaml"
    spec.write_text(ROLLOUTS)
    result = run(str(spec), "--target", "k8s", "-o", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [f"{spec}:11:3: components.api: {PREVIEW}",
                                          f"{spec}:15:3: components.web: {CANARY}"]
    assert not (tmp_path / "out").exists()


def test_derived_services_of_distinct_names_are_generated() -> None:
    spec = ROLLOUTS.replace("api-preview", "search").replace("web-canary", "cart")
    docs = documents(render(load_spec_text(spec), Target.ALL, OPTIONS))
    services = by_kind(docs, "Service")
    assert {"api", "api-preview", "search", "web", "web-canary", "cart"} <= set(services)
    assert services["api-preview"]["spec"]["selector"]["app.kubernetes.io/name"] == "api"
    assert services["search"]["spec"]["selector"]["app.kubernetes.io/name"] == "search"


SYSTEM_FILES = """scalesim: 1
name: shop
slo: {p99: 1s}
components:
  namespace:
    kind: gateway
    operations: {get: {work: 1ms, calls: [{to: analysis-template.get}]}}
  analysis-template: {operations: {get: {work: 1ms}}}
workloads: [{name: w, to: namespace.get, rate: 10/s}]
"""


def test_a_component_whose_file_is_the_systems_file_is_refused() -> None:
    """k8s/namespace.yaml held the Namespace and the component 'namespace' was dropped."""
    with pytest.raises(GenerateError) as caught:
        render(load_spec_text(SYSTEM_FILES), Target.K8S, OPTIONS)
    assert caught.value.problems == [
        "system 'shop' and component 'namespace' are both written to k8s/namespace.yaml: "
        "one would be lost; rename the component",
        "system 'shop' and component 'analysis-template' are both written to "
        "argo/analysis-template.yaml: one would be lost; rename the component"]
    renamed = SYSTEM_FILES.replace("namespace", "front").replace("analysis-template", "back")
    files = render(load_spec_text(renamed), Target.K8S, OPTIONS)
    namespace = yaml.safe_load(next(f.content for f in files if f.path == "k8s/namespace.yaml"))
    assert namespace["kind"] == "Namespace"


def test_a_derived_service_name_past_63_characters_is_refused() -> None:
    """Kubernetes takes a Service name only as an RFC 1035 label: `<63 chars>-preview` is 71."""
    name = "a" * 63
    spec = ROLLOUTS.replace("api-preview", "search").replace("web-canary", "cart") \
        .replace("api", name)
    with pytest.raises(GenerateError) as caught:
        render(load_spec_text(spec), Target.K8S, OPTIONS)
    assert caught.value.problems == [
        f"component '{name}' makes the Service '{name}-preview' (argo/{name}.yaml), which "
        "cannot be a Kubernetes name (an RFC 1035 label): it has 71 characters, at most 63 "
        "are allowed"]


CASE_AND_PREVIEW = """scalesim: 1
name: 1names
components:
  gw:
    kind: gateway
    operations:
      get:
        work: 1ms
        calls: [{to: Y.get}, {to: y.get}, {to: x.get}, {to: x-preview.get}]
  Y: {operations: {get: {work: 1ms}}}
  y: {operations: {get: {work: 1ms}}}
  x:
    rollout: {to: v2, strategy: blue_green}
    versions: {v2: {}}
    operations: {get: {work: 1ms}}
  x-preview: {operations: {get: {work: 1ms}}}
workloads: [{name: w, to: gw.get, rate: 10/s}]
"""


def test_every_naming_problem_is_listed_in_one_run() -> None:
    """docs/generate.md: every problem, not only the first. The Y/y clash hid x-preview's
    (found once it was fixed), and a system name that is no label hid both; the two
    components of one name are that one problem, not one more per object they share."""
    spec = CASE_AND_PREVIEW.replace("name: 1names", "name: names")
    with pytest.raises(GenerateError) as caught:
        render(load_spec_text(spec), Target.K8S, OPTIONS)
    assert caught.value.problems == [
        "components 'Y' and 'y' are the same Kubernetes name once lower-cased",
        "components 'x-preview' and 'x' both make the Service 'x-preview' "
        "(k8s/x-preview.yaml, argo/x.yaml): applied, the second would replace the first; "
        "rename one"]
    assert [problem.place for problem in caught.value.located] == [
        ("components", "y"), ("components", "x")]
    with pytest.raises(GenerateError) as caught:  # no objects: the names alone
        render(load_spec_text(CASE_AND_PREVIEW), Target.K8S, OPTIONS)
    assert [problem.place for problem in caught.value.located] == [
        ("name",), ("components", "y")]
