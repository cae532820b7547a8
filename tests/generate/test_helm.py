"""The Helm chart: values fit values.schema.json, and the chart with its default values
renders exactly the objects `--target k8s` writes.

`helm` is not installable here (no Debian package), so `render_template` is a tiny renderer
for the only template forms the chart uses: `.Release.Name`, `.Release.Namespace` and
`(index .Values.components "NAME").PATH` with `| quote` or `| toJson | quote`, and
`tpl (VALUE | toJson) $ | quote` (a JSON value that names the release); the values as Helm
reads them, a null deleting its key.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from typing import Any

import jsonschema
import pytest
import yaml
from tests.generate.helpers import OPTIONS, SMALL, documents, generate, system

from scalesim.generate import GeneratedFile, GenerateOptions, Target, render
from scalesim.generate.documents import to_yaml
from scalesim.generate.helm import RELEASE_NAMESPACE, Placeholders
from scalesim.spec import load_spec_text
from scalesim.templates import TEMPLATES, get_template, load_built

_EXPRESSION = re.compile(r"\{\{ (.*?) \}\}")
_VALUE = re.compile(r'^\(index \.Values\.components "([^"]+)"\)\.([\w.]+)$')
_TPL = re.compile(r"^tpl \((.*)\) \$ \| quote$")


def _evaluate(expression: str, values: dict[str, Any], release: dict[str, str]) -> str:
    tpl = _TPL.match(expression)
    if tpl:  # Helm's tpl renders the text as a template, with the chart's context
        rendered = render_template(_evaluate(tpl[1], values, release), values, release)
        return json.dumps(rendered)
    head, *pipes = [part.strip() for part in expression.split("|")]
    if head.startswith(".Release."):
        value: Any = release[head.removeprefix(".Release.")]
    else:
        match = _VALUE.match(head)
        assert match, f"template form not supported: {expression}"
        value = values["components"][match[1]]
        for key in match[2].split("."):
            value = value[key]
    for pipe in pipes:
        if pipe == "toJson":
            value = json.dumps(value, sort_keys=True, separators=(",", ":"))
        elif pipe == "quote":
            value = json.dumps(str(value))
        else:
            raise AssertionError(f"pipe not supported: {pipe}")
    return str(value)


def render_template(text: str, values: dict[str, Any], release: dict[str, str]) -> str:
    return _EXPRESSION.sub(lambda m: _evaluate(m[1], values, release), text)


def chart_files(files: Sequence[GeneratedFile]) -> dict[str, str]:
    return {f.path.split("/", 2)[2]: f.content for f in files if f.path.startswith("helm/")}


def as_helm_reads(values: Any) -> Any:
    """The values as Helm hands them to the templates: a key whose value is null is deleted
    (Helm's coalescing reads a null as "remove this key")."""
    if isinstance(values, dict):
        return {key: as_helm_reads(item) for key, item in values.items() if item is not None}
    if isinstance(values, list):
        return [as_helm_reads(item) for item in values]
    return values


def rendered_chart(files: Sequence[GeneratedFile], namespace: str,
                   values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    chart = chart_files(files)
    name = yaml.safe_load(chart["Chart.yaml"])["name"]
    values = as_helm_reads(values or yaml.safe_load(chart["values.yaml"]))
    release = {"Name": name, "Namespace": namespace}
    return [doc for path, text in sorted(chart.items(), key=lambda kv: _order(kv[0], files))
            if path.startswith("templates/")
            for doc in yaml.safe_load_all(render_template(text, values, release)) if doc]


def _order(path: str, files: Sequence[GeneratedFile]) -> int:
    return list(chart_files(files)).index(path)


def test_chart_metadata_is_helm_v2() -> None:
    chart = yaml.safe_load(chart_files(generate(SMALL, Target.HELM))["Chart.yaml"])
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == "mini"
    assert chart["kubeVersion"] == ">= 1.33.0-0"


def test_values_validate_against_the_values_schema() -> None:
    chart = chart_files(generate(SMALL, Target.HELM))
    schema = json.loads(chart["values.schema.json"])
    values = yaml.safe_load(chart["values.yaml"])
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.validate(values, schema)
    values["components"]["api"]["replicas"] = 0
    assert not jsonschema.Draft7Validator(schema).is_valid(values)
    values["components"]["api"]["replicas"] = 2
    values["components"]["api"]["replica"] = 2
    assert not jsonschema.Draft7Validator(schema).is_valid(values)


def test_chart_renders_the_kubernetes_target() -> None:
    expected = [d for d in documents(generate(SMALL, Target.K8S)) if d["kind"] != "Namespace"]
    assert rendered_chart(generate(SMALL, Target.HELM), OPTIONS.namespace) == expected


LEASE = """
scalesim: 1
name: elect
components:
  app:
    replicas: 2
    leader_election: {type: lease}
    operations: {x: {}}
workloads: [{name: w, to: app.x, rate: 1/s}]
"""


def test_a_lease_election_renders_in_the_release_namespace() -> None:
    elect = load_spec_text(LEASE)
    chart = chart_files(render(elect, Target.HELM, OPTIONS))
    assert "SCALESIM" not in chart["values.yaml"]
    values = yaml.safe_load(chart["values.yaml"])
    jsonschema.validate(values, json.loads(chart["values.schema.json"]))
    for namespace in (OPTIONS.namespace, "elsewhere"):
        options = GenerateOptions(namespace=namespace, image_registry=OPTIONS.image_registry)
        expected = [d for d in documents(render(elect, Target.K8S, options))
                    if d["kind"] != "Namespace"]
        docs = rendered_chart(render(elect, Target.HELM, OPTIONS), namespace)
        assert docs == expected
        config = next(d for d in docs if d["kind"] == "ConfigMap")
        election = json.loads(config["data"]["consistency.json"])["leader_election"]
        assert election["lock"]["namespace"] == namespace
        assert f"--leader-elect-resource-namespace={namespace}" in election["flags"]


def test_values_parameterise_replicas_images_and_probes() -> None:
    chart = chart_files(generate(SMALL, Target.HELM))
    values = yaml.safe_load(chart["values.yaml"])
    api = values["components"]["api"]
    api["replicas"] = 7
    api["image"] = "other.example/api:2.0"
    api["probes"]["readiness"]["periodSeconds"] = 9
    api["settings"]["workers"] = 99
    docs = rendered_chart(generate(SMALL, Target.HELM), "elsewhere", values)
    deployment = next(d for d in docs if d["kind"] == "Deployment"
                      and d["metadata"]["name"] == "api")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert deployment["spec"]["replicas"] == 7
    assert deployment["metadata"]["namespace"] == "elsewhere"
    assert container["image"] == "other.example/api:2.0"
    assert container["readinessProbe"]["periodSeconds"] == 9
    config = next(d for d in docs if d["kind"] == "ConfigMap"
                  and d["metadata"]["name"] == "api-settings")
    assert json.loads(config["data"]["component.json"])["workers"] == 99
    assert system(SMALL).components["api"].replicas == 3


def _nulls(value: Any, path: str = "") -> list[str]:
    """Where a loaded YAML value holds a null."""
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _nulls(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _nulls(item, f"{path}[{i}]")]
    return [path] if value is None else []


def test_a_json_document_holding_a_null_renders_it() -> None:
    """Helm deletes a key whose value is null from the values, so outbox's broker.json lost
    Kafka's "max_attempts": null and "dead_letter_topic": null that the k8s ConfigMap has:
    such a document is its JSON text in values.yaml, and values.yaml holds no null."""
    outbox = load_built(get_template("outbox").build())
    files = render(outbox, [Target.K8S, Target.HELM], OPTIONS)
    chart = chart_files(files)
    values = yaml.safe_load(chart["values.yaml"])
    assert _nulls(values) == []
    jsonschema.validate(values, json.loads(chart["values.schema.json"]))
    expected = [d for d in documents([f for f in files if f.path.startswith("k8s/")])
                if d["kind"] != "Namespace"]
    docs = rendered_chart(files, OPTIONS.namespace)
    assert docs == expected
    broker = next(json.loads(d["data"]["broker.json"]) for d in docs
                  if d["kind"] == "ConfigMap" and "broker.json" in d["data"]
                  and "error_handler" in d["data"]["broker.json"])
    assert broker["error_handler"]["max_attempts"] is None
    assert broker["error_handler"]["dead_letter_topic"] is None


def test_a_null_beside_the_release_namespace_renders_both() -> None:
    placeholders = Placeholders()
    document = {"lock": {"namespace": RELEASE_NAMESPACE}, "limit": None}
    text = placeholders.fill(f"data: {placeholders.json('app', 'consistency', document)}\n")
    values = yaml.safe_load(to_yaml([placeholders.values]))
    assert _nulls(values) == []
    rendered = yaml.safe_load(render_template(text, as_helm_reads(values),
                                              {"Name": "r", "Namespace": "elsewhere"}))
    assert json.loads(rendered["data"]) == {"lock": {"namespace": "elsewhere"}, "limit": None}


def test_the_install_steps_name_a_release_helm_takes() -> None:
    """Helm refuses a release name over 53 characters; a 63-character system name made the
    printed `helm install` step (and the README's) one Helm refuses. The release is the
    name cut to 53 characters, and the step says so; the chart keeps the whole name."""
    from pathlib import Path

    from scalesim.generate.guide import next_steps

    long = "s" * 52 + "-" + "t" * 10  # cut at 53, the '-' is dropped too
    files = generate(SMALL, Target.HELM, (f"name={long}",))
    [step] = [s for s in next_steps(system(SMALL, (f"name={long}",)), [f.path for f in files],
                                    OPTIONS, Path("out")) if s.startswith("helm")]
    assert step == (f"helm install {'s' * 52} out/helm/{long} --namespace demo "
                    "--create-namespace   # the release name is the system's, cut to Helm's "
                    "53 characters")
    [readme] = [f.content for f in generate(SMALL, Target.ALL, (f"name={long}",))
                if f.path == "README.md"]
    assert f"helm install {'s' * 52} helm/{long} " in readme
    assert f"helm upgrade {'s' * 52} helm/{long} " in readme


CASED = """
scalesim: 1
name: cased
components:
  Api:
    autoscale: {min: 2, max: 4, metrics: [{cpu: 60%}]}
    operations: {get: {work: 1ms, calls: [{to: Store.read}]}}
  Store:
    operations: {read: {work: 1ms}}
workloads: [{name: w, to: Api.get, rate: 1/s}]
"""


def _upgrade_specs() -> dict[str, str]:
    specs = {"cased": CASED, "all-autoscaled": CASED.replace(
        "  Store:\n", "  Store:\n    autoscale: {min: 1, max: 3, metrics: [{cpu: 50%}]}\n")}
    specs.update({template.id: template.build().text for template in TEMPLATES})
    return specs


def _with_set(values: dict[str, Any], setting: str) -> dict[str, Any]:
    """The values after `helm upgrade --set PATH=VALUE` (a whole number, as Helm reads it)."""
    path, value = setting.split("=")
    *parents, leaf = path.split(".")
    node = values
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = int(value)
    return values


@pytest.mark.parametrize("spec", sorted(_upgrade_specs()))
def test_the_readmes_helm_upgrade_sets_a_value_the_schema_takes(spec: str) -> None:
    """The README's `helm upgrade --set` named the system's name (sharded-service), a
    component's DNS name where its values key is `Api`, or the replicas of an autoscaled
    component, all of which values.schema.json refuses."""
    files = render(load_spec_text(_upgrade_specs()[spec]), Target.HELM, OPTIONS)
    readme = next(f.content for f in files if f.path == "README.md")
    [setting] = re.findall(r"^helm upgrade .* --set (\S+)$", readme, re.MULTILINE)
    chart = chart_files(files)
    values = yaml.safe_load(chart["values.yaml"])
    changed = _with_set(copy.deepcopy(values), setting)
    assert changed != values
    jsonschema.validate(changed, json.loads(chart["values.schema.json"]))


def test_the_readmes_pip_install_names_a_generated_requirements_file() -> None:
    """The services' folders are code/<c> as the spec writes the name: code/Api, where the
    README named api/requirements.txt."""
    files = render(load_spec_text(CASED), Target.ALL, OPTIONS)
    readme = next(f.content for f in files if f.path == "README.md")
    [path] = re.findall(r"^cd code && .* -r (\S+)$", readme, re.MULTILINE)
    assert f"code/{path}" in {f.path for f in files}
