"""Every template builds a valid, deterministic, commented spec at its defaults and at the
ends of every parameter's range."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from scalesim.spec import load_spec_text
from scalesim.templates import TEMPLATES, ParamError, Template, load_built
from scalesim.templates.params import Param, number_text

IDS = [t.id for t in TEMPLATES]


def ends(param: Param) -> list[Any]:
    if param.type == "bool":
        return [True, False]
    if param.type == "choice":
        return list(param.choices)
    assert param.minimum is not None and param.maximum is not None, param.name
    cast = int if param.type == "int" else float
    return [cast(param.minimum), cast(param.maximum)]


def end_cases() -> list[tuple[str, str, Any]]:
    return [(t.id, p.name, value) for t in TEMPLATES for p in t.parameters()
            for value in ends(p)]


def valid_with(template: Template[Any], name: str, value: Any) -> dict[str, Any]:
    """The end alone, or, where a rule across parameters forbids it, with one other
    parameter at one of its ends (so every end is reachable)."""
    candidates = [{name: value}] + [
        {name: value, other.name: end} for other in template.parameters()
        if other.name != name for end in ends(other)]
    for values in candidates:
        try:
            template.validate(values)
        except ParamError:
            continue
        return values
    raise AssertionError(f"{template.id}: no valid combination with {name}={value}")


@pytest.mark.parametrize("template", TEMPLATES, ids=IDS)
def test_defaults_build_a_valid_spec_named_after_the_template(template):
    built = template.build()
    system = load_built(built)
    assert system.name == template.id
    assert built.text.startswith(f"# Made by `scalesim new {template.id}`")


@pytest.mark.parametrize("template", TEMPLATES, ids=IDS)
def test_build_is_deterministic(template):
    assert template.build().text == template.build().text


@pytest.mark.parametrize("template", TEMPLATES, ids=IDS)
def test_spec_explains_itself_with_comments(template):
    """Beyond the header, the body has comments explaining the design choices."""
    body = template.build().text.split("\nscalesim: 1\n", 1)[1]
    comments = [line for line in body.splitlines() if line.lstrip().startswith("#")]
    assert len(comments) >= 3


@pytest.mark.parametrize("template", TEMPLATES, ids=IDS)
def test_quick_overrides_apply_and_shorten_the_run(template):
    built = template.build()
    full, quick = load_built(built), load_built(built, quick=True)
    assert quick.simulation.duration <= full.simulation.duration


@pytest.mark.parametrize(("template_id", "name", "value"), end_cases())
def test_every_parameter_end_builds_a_valid_spec(template_id, name, value):
    template = next(t for t in TEMPLATES if t.id == template_id)
    built = template.build(valid_with(template, name, value))
    assert getattr(built.params, name) == value
    load_spec_text(built.text, f"{template_id}.yaml")
    load_built(built, quick=True)


@pytest.mark.parametrize("template", TEMPLATES, ids=IDS)
def test_parameters_are_documented(template):
    params = template.parameters()
    assert params, template.id
    for param in params:
        assert param.help, (template.id, param.name)
        assert param.type in {"int", "float", "bool", "choice"}
        if param.type in {"int", "float"}:
            assert param.minimum is not None and param.maximum is not None
            assert param.minimum <= param.default <= param.maximum


@pytest.mark.parametrize("template", TEMPLATES, ids=IDS)
def test_header_records_the_parameters(template):
    first = template.parameters()[0]
    value = ends(first)[-1]
    text = template.build(valid_with(template, first.name, value)).text
    shown = str(value).lower() if isinstance(value, bool) else \
        number_text(value) if isinstance(value, int | float) else str(value)
    assert f"{first.name}={shown}" in text


def test_a_whole_number_given_as_a_float_is_written_as_given() -> None:
    """The Studio's form sends 200 as 200.0: the header said rps=200.0 beside timeout_ms=1000."""
    template = next(t for t in TEMPLATES if t.id == "circuit-breaker")
    text = template.build({"rps": 200.0}).text
    assert "rps=200, timeout_ms=1000," in text


def test_ids_are_unique_and_templates_versioned():
    assert len(set(IDS)) == len(IDS)
    assert all(t.version >= 1 for t in TEMPLATES)


def test_range_ends_cover_pairs_only_where_a_cross_rule_exists():
    """Only strangler-fig (the shares add up to at most 1), leader-election (client-go's
    lease > renew deadline > 1.2 × retry period) and autoscaling (max_replicas ≥
    min_replicas) have rules across parameters."""
    needs_pair = {(t.id, name) for t, (tid, name, value) in itertools.product(TEMPLATES,
                  end_cases()) if t.id == tid and len(valid_with(t, name, value)) > 1}
    assert needs_pair == {("strangler-fig", "catalog_share"), ("strangler-fig", "orders_share"),
                          ("leader-election", "lease_duration_s"),
                          ("leader-election", "renew_deadline_s"),
                          ("leader-election", "retry_period_s"),
                          ("autoscaling", "min_replicas"), ("autoscaling", "max_replicas")}


def test_docs_describe_every_template():
    text = (Path(__file__).parents[2] / "docs" / "templates.md").read_text(encoding="utf-8")
    assert [t.id for t in TEMPLATES if f"### `{t.id}`" not in text] == []


@pytest.mark.parametrize("overload", [0.5, 1.5])
def test_sharded_service_says_the_shards_are_the_bottleneck_only_when_they_are(overload):
    """The comment on the offered rate and the story follow `overload`: below capacity the
    shards idle part of the time, so goodput is the offered load, not the capacity."""
    built = next(t for t in TEMPLATES if t.id == "sharded-service").build(
        {"overload": overload})
    claims = "bottleneck" in built.text, "bottleneck" in built.scenario.story
    assert claims == (overload >= 1, overload >= 1)
