"""Expected outcomes: metric paths, derived shares, comparisons."""

from __future__ import annotations

import pytest

from scalesim.templates import Check, Expect, evaluate, metric
from scalesim.templates.expect import count_at_most, share_near

RESULT = {
    "goodput_rps": 95.0,
    "requests": {"total": 200, "ok": 190, "failed": 10, "degraded": 20},
    "latency_ms": {"p99": 40.0, "p999": None},
    "workloads": {"web": {"requests": {"total": 0, "ok": 0, "failed": 0, "degraded": 0}}},
    "components": {"db": {"latency_ms": {"mean": 12.5}}},
    "calls": [{"from": "api.get", "to": "db.query", "amplification": 1.2},
              {"from": "api.get", "to": "cache.get", "amplification": 1.0}],
    "queues": {"jobs->worker.process": {"delivered_rps": 1200.0}},
}


@pytest.mark.parametrize(("path", "value"), [
    ("goodput_rps", 95.0),
    ("latency_ms.p99", 40.0),
    ("calls[api.get->db.query].amplification", 1.2),
    ("calls[api.get->cache.get].amplification", 1.0),
    ("queues[jobs->worker.process].delivered_rps", 1200.0),
    ("goodput_share", 0.95),
    ("failed_share", 0.05),
    ("degraded_share", 0.1),
])
def test_metric_reads_paths_brackets_and_derived_shares(path, value):
    assert metric(RESULT, path) == pytest.approx(value)


@pytest.mark.parametrize("path", [
    "latency_ms.p999",  # null
    "latency_ms.p42",  # absent
    "calls[api.get->nowhere.x].amplification",
    "workloads.web.goodput_share",  # no requests: no share
    "requests",  # not a number
])
def test_missing_or_non_numeric_metric_is_none(path):
    assert metric(RESULT, path) is None


@pytest.mark.parametrize(("op", "value", "actual", "holds"), [
    ("<", 10, 9.99, True), ("<", 10, 10, False),
    ("<=", 10, 10, True), (">", 10, 10, False), (">=", 10, 10, True),
])
def test_comparisons(op, value, actual, holds):
    assert Expect("x", op, value, "why").holds(actual) is holds


def test_approximately_is_relative_tolerance():
    expect = Expect("x", "~", 200, "why", tolerance=0.1)
    assert expect.holds(180) and expect.holds(220)
    assert not expect.holds(179.9) and not expect.holds(220.1)


def test_minus_compares_a_difference():
    [check] = evaluate((Expect("components.db.latency_ms.mean", "<", 3, "added",
                               minus="latency_ms.p99"),), {**RESULT, "latency_ms": {"p99": 10}})
    assert check.actual == pytest.approx(2.5)
    assert check.met


def test_per_divides_into_a_rate():
    """$3 over a 600 s run is $0.005 a second; a `per` metric of 0 or missing never passes."""
    expect = Expect("cost_usd", "<", 0.006, "rate", per="simulated_s")
    [check] = evaluate((expect,), {"cost_usd": 3.0, "simulated_s": 600.0})
    assert check.actual == pytest.approx(0.005) and check.met
    [check] = evaluate((expect,), {"cost_usd": 3.0, "simulated_s": 0.0})
    assert check.actual is None and not check.met
    assert str(expect) == "cost_usd / simulated_s < 0.006"
    assert str(Expect("a", "<", 1, "w", minus="b", per="c")) == "(a − b) / c < 1"


def test_a_missing_metric_is_never_met():
    [check] = evaluate((Expect("latency_ms.p42", "<", 1e9, "why"),), RESULT)
    assert check == Check(check.expect, None)
    assert not check.met
    assert str(check).startswith("MISS")


def test_expect_reads_as_a_sentence():
    assert str(Expect("goodput_share", ">=", 0.999, "w")) == "goodput_share >= 0.999"
    assert str(Expect("a", "~", 152, "w", tolerance=0.03)) == "a ≈ 152 ± 3%"
    assert str(Expect("a", "<", 10, "w", minus="b")) == "a − b < 10"


def test_a_share_is_expected_within_four_binomial_standard_errors():
    """400 trials at 1/2: the standard error is 2.5 %, so 4 of them are 10 % of 0.5
    (a 20 % relative tolerance)."""
    near = share_near("failed_share", 0.5, 400, "why")
    assert (near.op, near.value) == ("~", 0.5)
    assert near.tolerance == pytest.approx(0.2)


def test_a_rare_share_is_bounded_above_by_its_poisson_count():
    """1 event expected in 1000 trials: at most 1 + 4·1 + 4 = 9 of them."""
    rare = share_near("failed_share", 0.001, 1000, "why")
    assert (rare.op, rare.value) == ("<=", pytest.approx(0.009))
    assert count_at_most(0) == 4
