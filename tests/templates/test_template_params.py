"""Parameters: typed, documented, and bad values refused with what is allowed instead."""

from __future__ import annotations

import pytest

from scalesim.templates import TEMPLATES, ParamError, get_template
from scalesim.templates.params import describe, number_text, parse_assignments, validate_params


def problems(template_id: str, **values: object) -> list[str]:
    with pytest.raises(ParamError) as caught:
        get_template(template_id).build(values)
    assert caught.value.template_id == template_id
    return caught.value.problems


def test_out_of_range_names_the_range_and_unit():
    [problem] = problems("load-balanced-service", replicas="0")
    assert problem.startswith("replicas=0: ")
    assert "allowed: an integer from 1 to 64 (instances)" in problem


def test_wrong_choice_lists_the_choices():
    [problem] = problems("database-per-service", user_db="oracle")
    assert "allowed: one of postgres, mysql, mongodb" in problem


def test_not_a_number():
    [problem] = problems("cache-aside", hit_ratio="most")
    assert "allowed: a number from 0 to 0.999" in problem


def test_not_a_boolean():
    [problem] = problems("circuit-breaker", with_breaker="maybe")
    assert "allowed: true or false" in problem


def test_unknown_parameter_suggests_and_lists():
    [problem] = problems("load-balanced-service", replica="3")
    assert "unknown parameter 'replica' (did you mean 'replicas'?)" in problem
    assert "parameters: replicas, rps, workers, service_ms, balancer, p99_target_ms" in problem


def test_every_problem_is_reported_at_once():
    assert len(problems("load-balanced-service", replicas="0", rps="-1", nope="1")) == 3


def test_rule_across_parameters_says_what_to_change():
    [problem] = problems("strangler-fig", catalog_share="0.7", orders_share="0.5")
    assert problem == ("catalog_share + orders_share must be at most 1 (the rest stays on the "
                       "monolith); got 1.2")


def test_command_line_strings_are_converted_by_type():
    built = get_template("load-balanced-service").build(
        parse_assignments(["replicas=4", "rps=1000", "balancer=p2c"]))
    assert (built.params.replicas, built.params.rps, built.params.balancer) == (4, 1000.0, "p2c")
    assert get_template("bulkhead").build({"with_bulkhead": "false"}).params.with_bulkhead is False


def test_assignment_needs_an_equals_sign():
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_assignments(["replicas"])


def test_parameters_describe_type_unit_default_range_and_help():
    described = {p.name: p for p in get_template("database-per-service").parameters()}
    tech = described["user_db"]
    assert (tech.type, tech.default, tech.choices) == ("choice", "postgres",
                                                      ("postgres", "mysql", "mongodb"))
    rps = described["rps"]
    assert (rps.type, rps.unit, rps.default, rps.minimum, rps.maximum) == (
        "float", "req/s", 600, 3, 30_000)
    assert rps.help


def test_tech_parameters_reach_the_spec():
    built = get_template("database-per-service").build(
        {"user_db": "mysql", "product_db": "postgres", "order_db": "mongodb"})
    assert "tech: mysql" in built.text and "tech: mongodb" in built.text


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400"])
def test_nan_and_infinity_are_no_numbers(value: str) -> None:
    """rps=nan was refused as 'less than or equal to 500000', which it is not either."""
    with pytest.raises(ParamError, match=f"rps={value}: input should be a finite number; "
                       "allowed: a number from 100 to 500000"):
        get_template("load-balanced-service").build({"rps": value})


def test_autoscaling_cpu_target_stays_outside_the_hpa_tolerance_of_a_saturated_replica():
    """A saturated replica reports 100 %: above 90 % the ratio 100 / target is within the
    HPA's 10 % tolerance, so the fleet could never grow; such targets are refused."""
    [problem] = problems("autoscaling", cpu_target="91")
    assert "allowed: an integer from 10 to 90 (%)" in problem
    top = get_template("autoscaling").build({"cpu_target": "90"}).params.cpu_target
    assert 100 / top - 1 > 0.1


def test_autoscaling_refuses_a_maximum_below_the_minimum():
    """Kubernetes rejects maxReplicas < minReplicas; the template used to raise max silently."""
    [problem] = problems("autoscaling", min_replicas="10", max_replicas="5")
    assert problem == ("max_replicas must be at least min_replicas (Kubernetes rejects "
                       "maxReplicas < minReplicas); got 5 < 10")


# The range ends refused with the other parameters at their defaults, each by a rule across
# parameters that docs/templates.md states ("At the ends of the ranges").
REFUSED_ENDS = {("autoscaling", "min_replicas", 100), ("autoscaling", "max_replicas", 1),
                ("leader-election", "lease_duration_s", 1),
                ("leader-election", "renew_deadline_s", 0.1),
                ("leader-election", "renew_deadline_s", 299),
                ("leader-election", "retry_period_s", 60),
                ("strangler-fig", "catalog_share", 1), ("strangler-fig", "orders_share", 1)}


def test_only_the_documented_range_ends_are_refused_alone_and_say_why_with_values():
    refused: dict[tuple[str, str, float], str] = {}
    for template in TEMPLATES:
        for p in describe(template.params):
            for end in (p.minimum, p.maximum) if p.type in ("int", "float") else ():
                if end is None:
                    continue
                try:
                    validate_params(template.id, template.params, {p.name: end})
                except ParamError as error:
                    [refused[template.id, p.name, end]] = error.problems
    assert set(refused) == REFUSED_ENDS
    for (_, name, end), problem in refused.items():  # the parameter's name, and the values
        assert name in problem and number_text(end) in problem.split("; got ", 1)[1], problem
    assert refused["leader-election", "renew_deadline_s", 299] == (
        "lease_duration_s must be greater than renew_deadline_s (client-go NewLeaderElector);"
        " got 2 <= 299")
