"""A name that breaks the naming rule is reported as the rule, and what in it breaks the
rule, not as the regular expression it failed (docs/spec.md)."""

from __future__ import annotations

import pytest

from scalesim.spec import SpecError, load_spec_text

RULE = "names use letters, digits and '-', starting with a letter or digit"
SPEC = """\
scalesim: 1
name: demo
components:
  {component}:
    operations: {{get: {{work: 1ms}}}}
workloads: [{{name: w, to: {to}, rate: 10/s}}]
faults: [{{target: {target}, at: 1s, for: 1s, crash: true}}]
"""


def issues_of(component: str = "api", to: str = "api.get", target: str = "api") -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec_text(SPEC.format(component=component, to=to, target=target), "s.yaml")
    return [str(issue) for issue in caught.value.issues]


def test_a_component_name_with_an_underscore_names_it() -> None:
    assert issues_of(component="API_Gateway", to="API_Gateway.get", target="API_Gateway")[:1] \
        == [f"s.yaml:4:3: components.API_Gateway: 'API_Gateway' is not a valid name: {RULE}, "
            "and it has '_'"]


@pytest.mark.parametrize(("to", "says"), [
    ("api.get_all", "and it has '_'"),
    ("api.-get", "and a name in it starts with '-'"),
    ("api.get.all", "names use letters, digits and '-', starting with a letter or digit"),
])
def test_a_reference_says_which_rule_it_breaks(to: str, says: str) -> None:
    [issue] = issues_of(to=f"'{to}'")
    assert issue.startswith(f"s.yaml:6:23: workloads[0].to: '{to}' is not a valid reference "
                            f"(component or component.operation): {RULE}")
    assert issue.endswith(says)
    assert "pattern" not in issue


def test_a_fault_target_may_index_a_replica() -> None:
    [issue] = issues_of(target="'-api[0]'")
    assert issue.endswith(f"'-api[0]' is not a valid target (component, or component[N] for "
                          f"one replica): {RULE}, and a name in it starts with '-'")


def test_a_name_starting_with_a_dash() -> None:
    [issue] = issues_of(component="'-api'", to="api.get")[:1]
    assert issue.endswith(f"'-api' is not a valid name: {RULE}, and it starts with '-'")
