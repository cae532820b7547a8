"""Requests that fail `crashed` at their entry component: the finding names the crash fault
and how long the balancer kept sending the dead replica its share (readiness probe period
× failures in a row), and sizes a readiness probe from those numbers that, applied, keeps
the failed share under the 1 % a finding is made from."""

from __future__ import annotations

from typing import Any

from scalesim.diagnosis import diagnose
from scalesim.sim import simulate
from scalesim.spec import System, load_spec_text
from scalesim.templates.registry import get_template


def _system(template: str, params: dict[str, Any], overrides: tuple[str, ...] = ()) -> System:
    return load_spec_text(get_template(template).build(params).text, f"{template}.yaml",
                          overrides)


def _failures(system: System) -> tuple[list[dict[str, Any]], float]:
    """The failures findings of a run, and its failed share."""
    result = simulate(system)
    found = [f for f in diagnose(system, result) if f["kind"] == "failures"]
    return found, result["requests"]["failed"] / result["requests"]["total"]


def test_a_crashed_replica_kept_in_rotation_by_a_slow_probe_gets_a_faster_one() -> None:
    """health-check: api[0] of 3 crashes at 7 s; its probe every 2 s fails at 8 and 10 s,
    and 2 failures in a row take it out at 10 s: 3 s of its share (about 300 requests,
    3.4 %). Under 1 % needs a mean detection (k − ½)·p under 0.89 s: every 1 s, out after 1
    failure. Applied, the failures finding is gone."""
    system = _system("health-check", {})
    [finding], before = _failures(system)
    assert "fault: crash on api[0], from 7 s to 22 s" in finding["evidence"]
    assert any("until its readiness probe took it out at 10 s" in e and "every 2 s" in e
               and "after 2 failures in a row" in e for e in finding["evidence"])
    assert finding["numbers"]["in_rotation_s"] == 3.0
    assert finding["fix"]["set"] == ["components.api.health.readiness.period=1s",
                                     "components.api.health.readiness.failure_threshold=1"]
    assert finding["numbers"]["expected_failed_share"] < 0.01
    after, share = _failures(_system("health-check", {}, tuple(finding["fix"]["set"])))
    assert after == [] and share < 0.01 < before


def test_the_probe_is_sized_no_faster_than_the_failures_need() -> None:
    """A probe every 4 s with 2 failures in a row fails at 8 and 12 s: 5 s in rotation dead,
    2.8 % of a 60 s run. Under 1 % needs a mean detection under 1.8 s; every 1 s with the
    same 2 failures (1.5 s) is the slowest that does, so only the period changes."""
    longer = ("simulation.duration=60s",)
    [finding], _ = _failures(_system("health-check", {"period_s": 4}, longer))
    assert finding["numbers"]["in_rotation_s"] == 5.0
    assert finding["fix"]["set"] == ["components.api.health.readiness.period=1s"]
    after, share = _failures(_system("health-check", {"period_s": 4},
                                     (*longer, *finding["fix"]["set"])))
    assert after == [] and share < 0.01


def test_the_probe_is_sized_for_an_error_rate_slo_stricter_than_one_percent() -> None:
    """The same 5 s in rotation (2.8 %) under an error-rate SLO of 0.5 %: every 1 s with 2
    failures in a row (0.85 % expected) no longer does; under 0.5 % needs a mean detection
    under about 0.9 s, so 1 failure in a row (0.5 s, about 0.28 %). Applied, the SLO holds."""
    strict = ("simulation.duration=60s", "slo.error_rate=0.5%")
    [finding], _ = _failures(_system("health-check", {"period_s": 4}, strict))
    assert "the error-rate SLO lets 0.5 % of the requests fail: the probe is sized for that" \
        in finding["evidence"]
    assert finding["fix"]["set"] == ["components.api.health.readiness.period=1s",
                                     "components.api.health.readiness.failure_threshold=1"]
    assert finding["numbers"]["expected_failed_share"] < 0.005
    after, share = _failures(_system("health-check", {"period_s": 4},
                                     (*strict, *finding["fix"]["set"])))
    assert after == [] and share < 0.005


def test_a_crashed_replica_without_a_readiness_probe_gets_one() -> None:
    """outbox: orders[0] of 3 crashes from 14 s to 17 s and orders has no readiness probe:
    the balancer sends it its share the whole 3 s (3.4 % of the requests). The fix adds a
    probe, both settings given (else Kubernetes' 10 s × 3 would apply)."""
    system = _system("outbox", {})
    [finding], before = _failures(system)
    assert "fault: crash on orders[0], from 14 s to 17 s" in finding["evidence"]
    assert any(e.startswith("orders has no readiness probe") for e in finding["evidence"])
    assert finding["numbers"]["in_rotation_s"] == 3.0
    assert finding["fix"]["set"] == ["components.orders.health.readiness.period=1s",
                                     "components.orders.health.readiness.failure_threshold=1"]
    after, share = _failures(_system("outbox", {}, tuple(finding["fix"]["set"])))
    assert after == [] and share < 0.01 < before
