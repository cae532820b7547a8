"""Name problems are spec errors with a place (the CLI prints FILE:LINE:COL: path), say what
the name is of (a derived Service is a Service of its component), and come all at once."""

from __future__ import annotations

import pytest
from tests.generate.helpers import OPTIONS

from scalesim.generate import GenerateError, Target, render
from scalesim.spec import load_spec_text

LONG = "a" * 58
CANARY = f"""
scalesim: 1
name: sys
components:
  {LONG}:
    operations: {{get: {{work: 1ms}}}}
    versions: {{v2: {{operations: {{get: {{error_rate: 1%}}}}}}}}
    rollout: {{to: v2, at: 5s, strategy: canary, traffic_routing: true,
              steps: [{{set_weight: 10%}}]}}
workloads: [{{name: u, to: {LONG}.get, rate: 10/s}}]
"""

NAMESPACE_AND_BAD_NAME = """
scalesim: 1
name: d
components:
  namespace:
    operations: {get: {work: 1ms, calls: [{to: 1api.get}]}}
  1api:
    operations: {get: {work: 1ms}}
workloads: [{name: u, to: namespace.get, rate: 1/s}]
"""


@pytest.mark.parametrize("target", [Target.ISTIO, Target.K8S])
def test_a_derived_service_name_too_long_is_placed_at_its_component(target: Target) -> None:
    with pytest.raises(GenerateError) as raised:
        render(load_spec_text(CANARY), target, OPTIONS)
    [problem] = raised.value.located
    assert problem.place == ("components", LONG)
    assert problem.message.startswith(
        f"component '{LONG}' makes the Service '{LONG}-canary' (argo/{LONG}.yaml)")
    assert problem.message.endswith("it has 65 characters, at most 63 are allowed")


def test_the_namespace_file_clash_comes_with_the_other_name_errors() -> None:
    with pytest.raises(GenerateError) as raised:
        render(load_spec_text(NAMESPACE_AND_BAD_NAME), Target.K8S, OPTIONS)
    assert {(p.place, p.message) for p in raised.value.located} == {
        (("components", "1api"), "component '1api' cannot be a Kubernetes name (an RFC 1035 "
                                 "label): it must start with a letter"),
        (("components", "namespace"), "system 'd' and component 'namespace' are both written "
                                      "to k8s/namespace.yaml: one would be lost; rename the "
                                      "component")}
