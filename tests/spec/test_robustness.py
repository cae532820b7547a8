"""Bad input never crashes: any mangled spec either loads or raises SpecError with located
issues — never another exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.fuzz.strategies import as_yaml, mangled_specs

from scalesim.spec import SpecError, load_spec_text

mangled = mangled_specs().map(as_yaml)  # examples with values replaced, deleted, renamed…


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(mangled)
def test_mangled_specs_load_or_fail_with_located_issues(text: str) -> None:
    try:
        load_spec_text(text, "mangled.yaml")
    except SpecError as error:
        assert error.issues
        assert all(issue.file == "mangled.yaml" and issue.message for issue in error.issues)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes_the_loader(text: str) -> None:
    try:
        load_spec_text(text, "noise.yaml")
    except SpecError as error:
        assert error.issues


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(mangled)
def test_mangled_specs_that_load_also_simulate(text: str) -> None:
    """Whatever validation accepts, the engine runs: to the end, or to a safety stop."""
    from scalesim.sim import SafetyStop, simulate

    short = ["simulation.duration=2s", "simulation.warmup=0s", "simulation.replications=1",
             "simulation.limits.max_events=2000000"]
    try:
        system = load_spec_text(text, "mangled.yaml", short)
    except SpecError:
        return
    try:
        result = simulate(system)
    except SafetyStop:
        return
    assert result["requests"]["total"] == result["requests"]["ok"] + result["requests"]["failed"]
