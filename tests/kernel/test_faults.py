"""Faults: crash, latency and error rate, on a component or one replica, in a window."""

from __future__ import annotations

import pytest
from tests.kernel.helpers import binomial_bound, run

SVC = {"replicas": 2, "workers": "unlimited", "operations": {"op": {"work": "1ms"}}}
LOAD = [{"name": "w", "to": "s", "rate": "1k/s", "arrivals": "constant"}]


def test_a_crashed_replica_fails_its_share_of_requests_during_the_window() -> None:
    # Round robin over 2 replicas, replica 1 down for 4 s of 10 s: half the requests of those
    # 4 seconds fail at once, nothing else fails.
    r = run({"s": SVC}, LOAD, faults=[{"target": "s[1]", "at": "3s", "for": "4s",
                                       "crash": True}], duration="10s")
    crashed = r["requests"]["failed_by_cause"]["crashed"]
    assert crashed == pytest.approx(4 * 1000 / 2, abs=2)
    assert r["requests"]["failed"] == crashed


def test_a_crash_fails_requests_in_service_at_once() -> None:
    # Requests every 0.125 s (exact in binary) each take 1 s. At the crash (5.05 s) the 8
    # requests sent in (4.05, 5.05] are in service and fail at once; the 39 sent from
    # 5.125 s to 9.875 s fail on arrival; those sent earlier finished.
    slow = {"workers": "unlimited", "operations": {"op": {"work": "1s"}}}
    r = run({"s": slow}, [{"name": "w", "to": "s", "rate": "8/s", "arrivals": "constant"}],
            faults=[{"target": "s", "at": "5.05s", "crash": True}], duration="10s")
    assert r["requests"]["failed_by_cause"]["crashed"] == 8 + 39
    assert r["requests"]["ok"] == 32
    assert r["latency_ms"]["max"] == pytest.approx(1000, rel=0.006)


def test_added_latency_applies_only_inside_the_window() -> None:
    r = run({"s": SVC}, LOAD, faults=[{"target": "s", "at": "0s", "for": "5s",
                                       "latency": "+9ms"}], duration="10s")
    assert r["latency_ms"]["mean"] == pytest.approx((5 * 10 + 5 * 1) / 10, rel=0.01)
    mult = run({"s": SVC}, LOAD, faults=[{"target": "s", "at": "0s", "latency": "x4"}],
               duration="10s")
    assert mult["latency_ms"]["mean"] == pytest.approx(4.0, rel=1e-6)


def test_overlapping_faults_add_their_latencies_and_their_network_delays() -> None:
    """docs/spec.md: faults may overlap and their effects combine. Two +9 ms faults over the
    first 5 s of 10, one of them to the end: 1 + 9 + 9 ms, then 1 + 9 ms. Network faults on
    the callee of a 1 ms front: each adds 5 ms per hop, there and back; when the shorter one
    ends the longer one still holds (before, it reset the hop to the base delay)."""
    adds = run({"s": SVC}, LOAD, faults=[
        {"target": "s", "at": "0s", "for": "5s", "latency": "+9ms"},
        {"target": "s", "at": "0s", "latency": "+9ms"}], duration="10s")
    assert adds["latency_ms"]["mean"] == pytest.approx((5 * 19 + 5 * 10) / 10, rel=0.01)
    front = {"workers": "unlimited", "operations": {"op": {"work": "1ms", "calls": [
        {"to": "s"}]}}}
    load = [{"name": "w", "to": "front", "rate": "1k/s", "arrivals": "constant"}]
    nets = run({"front": front, "s": SVC}, load, faults=[
        {"target": "s", "at": "0s", "network": "5ms"},
        {"target": "s", "at": "2s", "for": "3s", "network": "5ms"}], duration="10s")
    # 2 s and 5 s at 1 + 1 + 10 ms, 3 s at 1 + 1 + 20 ms
    assert nets["latency_ms"]["mean"] == pytest.approx((7 * 12 + 3 * 22) / 10, rel=0.01)


def test_fault_error_rate_fails_that_share() -> None:
    r = run({"s": SVC}, LOAD, faults=[{"target": "s", "at": "0s", "error_rate": "30%"}],
            duration="20s")
    total = r["requests"]["total"]
    share = r["requests"]["failed_by_cause"]["error"] / total
    assert share == pytest.approx(0.3, abs=binomial_bound(total, 0.3))
