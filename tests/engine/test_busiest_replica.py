"""The result's `busiest_replica` is measured per replica (docs/results.md): the worker-time
its own visits held, not the component's busy time shared out by visits."""

from __future__ import annotations

from typing import Any

import pytest
from tests.kernel.helpers import run

WORK_S = 0.004
RATE = 100.0  # requests per second, evenly spaced
WINDOW_S = 20.0


def _two_replicas(faults: list[dict[str, Any]]) -> dict[str, Any]:
    api = {"replicas": 2, "workers": 1, "balancer": "round_robin",
           "operations": {"get": {"work": f"{WORK_S * 1e3:g}ms"}}}
    workloads = [{"name": "w", "to": "api.get", "rate": f"{RATE:g}/s", "arrivals": "constant"}]
    return run({"api": api}, workloads, faults=faults, duration=f"{WINDOW_S:g}s",
               warmup="1s")["components"]["api"]


def test_a_replica_slowed_by_a_fault_is_named_with_its_own_busy_time() -> None:
    # Round robin sends each replica every other request, 50/s; api[0]'s work is ×3 for the
    # whole run: 50/s × 12 ms = 60 % busy, api[1] 50/s × 4 ms = 20 %, the component 40 %.
    # Shared out by visits, the component's busy time gave api[0] 40 %.
    api = _two_replicas([{"target": "api[0]", "at": "0s", "latency": "x3"}])
    edge = 3 * WORK_S / WINDOW_S  # a visit cut by the window's opening or close
    assert api["busiest_replica"]["replica"] == 0
    assert api["busiest_replica"]["utilization"] == pytest.approx(
        RATE / 2 * 3 * WORK_S, abs=edge)
    assert api["utilization"] == pytest.approx(RATE / 2 * 4 * WORK_S / 2, abs=edge)


def test_a_crash_gives_back_the_worker_its_visit_in_service_held() -> None:
    # api[0], slowed ×3 (60 % busy, as above), crashes 15.011 s into the run, inside one of
    # its 12 ms visits whichever phase the arrivals have (one every 20 ms): the visit fails
    # and its worker is given back then. Its busy time is 60 % of the 14.011 s of the window
    # before the crash (not given back, the worker-time would lose the 15 s at which that
    # visit began).
    slowed = {"target": "api[0]", "at": "0s", "latency": "x3"}
    api = _two_replicas([slowed, {"target": "api[0]", "at": "15.011s", "crash": True}])
    assert api["busiest_replica"]["replica"] == 0
    assert api["busiest_replica"]["utilization"] == pytest.approx(
        RATE / 2 * 3 * WORK_S * (15.011 - 1.0) / WINDOW_S, abs=2 * 3 * WORK_S / WINDOW_S)


def test_least_requests_takes_ties_in_turn() -> None:
    # Evenly spaced requests of 4 ms, 10 ms apart: each finds every replica idle. NGINX's
    # least_conn and HAProxy's leastconn take such ties round robin, so each replica gets
    # every other request (20 % busy); ties to the lowest index gave api[0] all of them.
    api = {"replicas": 2, "workers": 1, "balancer": "least_requests",
           "operations": {"get": {"work": f"{WORK_S * 1e3:g}ms"}}}
    workloads = [{"name": "w", "to": "api.get", "rate": f"{RATE:g}/s", "arrivals": "constant"}]
    measured = run({"api": api}, workloads, duration=f"{WINDOW_S:g}s",
                   warmup="1s")["components"]["api"]
    assert measured["busiest_replica"]["utilization"] == pytest.approx(
        RATE / 2 * WORK_S, abs=WORK_S / WINDOW_S)
