"""Property: a template builds a valid spec for every value its parameters declare valid.

`test_template_build` covers the ends of each range one at a time; here every numeric
parameter is drawn at once, at its ends or anywhere between (floats as non-round as they
come), with a fixed seed so a failure reproduces. A value the parameter accepts but the spec
cannot hold (autoscaling's `cpu_target=0.655` became a 65.5 % HPA target, where the real
field is an integer) is the template's bug, not the user's."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scalesim.templates import TEMPLATES, ParamError, Template, load_built
from scalesim.templates.params import Param
from scalesim.templates.writer import _number


def numbers(param: Param) -> st.SearchStrategy[Any]:
    """A value anywhere in a numeric parameter's declared range, its ends included."""
    assert param.minimum is not None and param.maximum is not None, param.name
    if param.type == "int":
        return st.integers(int(param.minimum), int(param.maximum))
    ends = st.sampled_from([param.minimum, param.maximum])
    return ends | st.floats(param.minimum, param.maximum, allow_nan=False)


def assignments(template: Template[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Values for every numeric parameter (the others keep their defaults)."""
    return st.fixed_dictionaries({p.name: numbers(p) for p in template.parameters()
                                  if p.type in ("int", "float")})


@pytest.mark.parametrize("template", TEMPLATES, ids=[t.id for t in TEMPLATES])
def test_every_accepted_value_builds_a_valid_spec(template: Template[Any]) -> None:
    @settings(max_examples=40, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
    @given(assignments(template))
    def builds(values: dict[str, Any]) -> None:
        try:
            template.validate(values)
        except ParamError:
            assume(False)  # a rule across parameters refused it, with a message: fine
        built = template.build(values)
        load_built(built)
        load_built(built, quick=True)

    builds()


def test_the_hpa_target_is_a_whole_percent_like_the_field_it_is_written_to(run_cli) -> None:
    """cpu_target=0.655 (a share, in range) built `cpu: 65.5%`, which the spec refuses: the
    HPA's averageUtilization is an integer. The parameter is now that integer percent."""
    template = next(t for t in TEMPLATES if t.id == "autoscaling")
    assert "- cpu: 66%" in template.build({"cpu_target": 66}).text
    refused = run_cli("new", "autoscaling", "--set", "cpu_target=65.5")
    assert refused.exit_code == 2
    assert "cpu_target=65.5: input should be a valid integer" in refused.output
    assert "allowed: an integer from 10 to 90 (%)" in refused.output


@pytest.mark.parametrize(("value", "text"), [
    (1e-7, "1.0e-07"), (4.682439682161446e-235, "4.68244e-235"), (0.000123456, "1.23456e-04"),
    (0.001, "0.001"), (1 / 3, "0.333333"), (2.0, "2"), (0.0, "0")])
def test_the_writer_never_rounds_a_small_value_away(value: float, text: str) -> None:
    """Six decimals wrote timeout's slow_share=1e-7 as a branch weight of 0 (refused: it must
    be positive) after the template's `> 0` had kept the branch; YAML must read it back as the
    same float, so the exponent form keeps its dot ('1e-07' is a string to YAML)."""
    assert _number(value) == text
    assert yaml.safe_load(f"x: {text}")["x"] == pytest.approx(value, rel=1e-5)


def test_the_strangler_s_monolith_keeps_no_floating_point_dust() -> None:
    """1 - 0.7 - 0.3 is 5.6e-17: no traffic is left on the monolith, not a workload of it."""
    template = next(t for t in TEMPLATES if t.id == "strangler-fig")
    built = template.build({"catalog_share": 0.7, "orders_share": 0.3})
    assert "legacy-paths" not in built.text
    assert all("monolith" not in e.metric for e in built.scenario.expect)
