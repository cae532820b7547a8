"""Bad input never crashes: any mangled spec either loads or raises SpecError with located
issues — never another exception."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.fuzz.strategies import paths

from scalesim.spec import SpecError, load_spec_text
from scalesim.spec.yamlpos import load_with_positions

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BASES = [load_with_positions((EXAMPLES / name).read_text())[0]
         for name in ("shop.yaml", "contained.yaml", "retry-storm.yaml")]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                    st.sampled_from(["5ms", "0s", "-1s", "2k/s", "0/s", "150%", "x3", "+2s",
                                     "p95", "db.query", "nowhere.op", "unlimited", "[1", "{"]))


@st.composite
def mangled(draw: st.DrawFn) -> str:
    data = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 4))):
        inner = [p for p in paths(data) if p]
        path = draw(st.sampled_from(inner))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "rename"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "rename" and isinstance(parent, dict):
            parent[str(path[-1]) + draw(st.sampled_from(["x", "_", "s"]))] = \
                parent.pop(path[-1])
        else:
            parent[path[-1]] = draw(SCALARS)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(mangled())
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
@given(mangled())
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
