"""The cascade's SLO finding: the share of calls its timeout cuts off is what fails once the
timeout is applied, and the bulkhead it names is sized (Little's law, M/M/c/K headroom)
and, applied with the timeout, keeps the caller's other workload within its SLO."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from scalesim.diagnosis import diagnose
from scalesim.sim import simulate
from scalesim.spec import System, load_spec, load_spec_text

CASCADE = Path(__file__).resolve().parents[2] / "examples" / "cascade.yaml"
Z = 3.0  # standard errors a simulated share may stray from the diagnosis's


def _slo_finding(system: System, result: dict[str, Any]) -> dict[str, Any]:
    [finding] = [f for f in diagnose(system, result) if f["kind"] == "slo"
                 and f["subject"] == "all"]
    return finding


def _within(predicted: float, hits: int, trials: int) -> None:
    """`hits` of `trials` agree with the share `predicted`, within Z binomial standard errors
    (the calls are not independent draws, their fault window is fixed: this leans wide)."""
    error = Z * math.sqrt(predicted * (1.0 - predicted) / trials)
    assert abs(hits / trials - predicted) <= error, (predicted, hits, trials, error)


def test_the_share_cut_off_is_what_fails_with_the_proposed_timeout() -> None:
    """examples/cascade.yaml: recs answers 2 s late from 20 s to 40 s of the 60 s. Measured,
    4.9 % of its answers are slower than the 190 ms timeout: the gateway's held workers let
    few calls through while it was slow. With the timeout they are no longer held, every call
    in the fault's third of the run outlasts it, and a third fail; browse is 100/s of the
    150/s requests, so 22 % of the requests fail."""
    system = load_spec(CASCADE)
    result = simulate(system)
    finding = _slo_finding(system, result)
    assert "cuts off about 33 % of the calls" in finding["fix"]["summary"]
    timeout = [s for s in finding["fix"]["set"] if s.endswith(".timeout=190ms")]
    assert timeout, finding["fix"]
    cut = finding["numbers"]["timeout_cut_share"]
    fixed = simulate(load_spec(CASCADE, tuple(timeout)))
    [call] = [c for c in fixed["calls"] if c["to"] == "recs.get"]
    _within(cut, call["timeouts"], call["attempts"])
    requests = finding["numbers"]["timeout_cut_request_share"]
    sent = {name: w["requests"]["total"] for name, w in result["workloads"].items()}
    assert requests == pytest.approx(cut * sent["browsing"] / sum(sent.values()), abs=1e-4)
    failed = sum(w["requests"]["failed"] for w in fixed["workloads"].values())
    total = sum(w["requests"]["total"] for w in fixed["workloads"].values())
    _within(requests, failed, total)


def _erlang_loss(offered: float, slots: int) -> float:
    """Erlang B by its recursion: the share of calls a bulkhead of `slots` refuses."""
    loss = 1.0
    for k in range(1, slots + 1):
        loss = offered * loss / (k + offered * loss)
    return loss


SMALL = {
    "scalesim": 1, "name": "small-cascade", "defaults": {"network": "0.5ms"},
    "components": {
        "gateway": {"kind": "gateway", "workers": 16, "queue": 50, "operations": {
            "browse": {"work": "1ms", "calls": [{"to": "recs.get"}]},
            "checkout": {"work": "1ms", "calls": [{"to": "orders.create"}]}}},
        "recs": {"workers": "unlimited", "operations": {"get": {"work": "39ms"}}},
        "orders": {"workers": 32, "operations": {"create": {"work": "10ms"}}}},
    "workloads": [
        {"name": "browsing", "to": "gateway.browse", "rate": "50/s"},
        {"name": "buying", "to": "gateway.checkout", "rate": "50/s",
         "slo": {"p99": "200ms", "error_rate": "1%"}}],
    "faults": [{"target": "recs", "at": "10s", "for": "10s", "latency": "+2s"}],
    "slo": {"p99": "200ms"},
    "simulation": {"duration": "30s", "seed": 3},
}


def _small(overrides: tuple[str, ...] = ()) -> System:
    return load_spec_text(yaml.safe_dump(SMALL, sort_keys=False), "small.yaml", overrides)


def _checks(result: dict[str, Any], scope: str) -> dict[str, bool]:
    return {c["name"]: c["met"] for c in result["slo"]["checks"] if c["scope"] == scope}


def test_the_bulkhead_named_is_sized_by_littles_law_and_removes_the_cascade() -> None:
    """50 browse calls a second to recs, 39 ms of work and 0.5 ms each way: 2.0 calls in
    flight (Little's law). A bulkhead of c slots refuses Erlang B(2.0, c) of them: 0.34 %
    with 7, 0.086 % with 8, the first under the 0.1 % a bulkhead finding is made from. Eight
    leaves eight of gateway's 16 workers to checkout while recs is 2 s slow; without it the
    browse calls (100 erlangs then) take all 16 and checkout misses its SLO."""
    offered = 50 * (0.039 + 2 * 0.0005)
    slots = next(c for c in range(1, 100) if _erlang_loss(offered, c) < 0.001)
    assert slots == 8
    system = _small()
    result = simulate(system)
    assert _checks(result, "buying") == {"p99": False, "error_rate": False}  # the cascade
    finding = _slo_finding(system, result)
    path = "components.gateway.operations.browse.calls.0"
    assert finding["fix"]["set"] == [f"{path}.timeout=190ms",
                                     f"{path}.bulkhead.max_concurrent={slots}"]
    assert finding["numbers"]["bulkhead_in_flight"] == round(offered, 4)
    assert finding["numbers"]["bulkhead_slots"] == slots
    assert f"a bulkhead of {slots} on it" in finding["fix"]["summary"]
    assert "2 in flight (50/s × the 40 ms healthy round trip" in finding["fix"]["summary"]
    fixed = simulate(_small(tuple(finding["fix"]["set"])))
    assert _checks(fixed, "buying") == {"p99": True, "error_rate": True}
    assert _checks(fixed, "all") == {"p99": True}
    # Healthy, the bulkhead passes browse's calls: about 0.086 % of 1,500 refused (1.3);
    # more than 6 would happen less than once in a thousand runs (Poisson).
    healthy = simulate(_small((*finding["fix"]["set"], "faults=[]")))
    [call] = [c for c in healthy["calls"] if c["to"] == "recs.get"]
    assert call["bulkhead"]["rejected"] <= 6
