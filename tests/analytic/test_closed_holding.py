"""A closed loop whose single-worker caller holds its worker through its calls: one MVA
station of the whole hold, the callee's time inside it."""

from __future__ import annotations

import math

import pytest

from scalesim.analytic.caveats import caveats
from scalesim.analytic.estimate import estimate
from scalesim.analytic.mva import MvaStation, mva
from scalesim.spec import load_spec_text

USERS, THINK = 10, 0.100


def _spec(app_workers: int, db_workers: int, db_operation: str) -> str:
    return f"""scalesim: 1
name: t
components:
  app:
    workers: {app_workers}
    operations:
      get:
        work: {{dist: exponential, mean: 5ms}}
        calls: [{{to: db.q}}]
  db:
    workers: {db_workers}
    operations: {{q: {db_operation}}}
workloads:
  - {{name: u, to: app.get, users: {USERS}, think: {{dist: exponential, mean: 100ms}}}}
"""


EXPONENTIAL_DB = "{work: {dist: exponential, mean: 8ms}}"


def _machine_repair(users: int, think_s: float, service_s: float) -> tuple[float, float]:
    """X and R of N users thinking Z (exponential) on one exponential server: the
    finite-source M/M/1//N, P0 = 1 / Σ N!/(N − n)! (S/Z)^n, X = (1 − P0)/S, R = N/X − Z."""
    terms = [math.factorial(users) / math.factorial(users - n) * (service_s / think_s) ** n
             for n in range(users + 1)]
    throughput = (1.0 - 1.0 / sum(terms)) / service_s
    return throughput, users / throughput - think_s


@pytest.mark.parametrize("db_workers", [1, 4])
def test_a_single_worker_caller_is_one_station_of_its_hold(db_workers: int) -> None:
    """app's one worker is held 5 + 8 = 13 ms a visit and db never sees two of its calls at
    once: the loop is one 13 ms station (the QA spec: 45.7 ms and 68.6/s; simulated 44.15 ms,
    CI 42.5–45.8, and 69.9/s). Before, app and db were two MVA stations (24.7 ms, 80.2/s)
    and app's open utilization came out 1.04 with an `overloaded` caveat."""
    system = load_spec_text(_spec(1, db_workers, EXPONENTIAL_DB))
    found = estimate(system)
    throughput, response = _machine_repair(USERS, THINK, 0.013)
    loop = found.workloads["u"]
    assert loop.rate_rps == pytest.approx(throughput, rel=1e-9)
    assert loop.mean_s == pytest.approx(response, rel=1e-9)
    assert found.components["app"].state.offered == pytest.approx(throughput * 0.013, rel=1e-9)
    assert found.components["db"].state.mean_wait_s == 0.0
    assert "overloaded" not in {c.code for c in caveats(system, found)}


def test_a_callee_with_unlimited_workers_is_inside_its_callers_hold() -> None:
    """A constant 20 ms callee with a worker for every call: app's worker is held 25 ms,
    one station of MVA (not a 5 ms station and a 20 ms delay)."""
    found = estimate(load_spec_text(_spec(1, 1, "{work: 20ms}").replace(
        "    workers: 1\n    operations: {q:", "    workers: unlimited\n    operations: {q:")))
    expected = mva(USERS, THINK, [MvaStation(0.025)])
    assert found.workloads["u"].rate_rps == pytest.approx(expected.throughput_rps, rel=1e-9)
    assert found.workloads["u"].mean_s == pytest.approx(expected.response_s, rel=1e-9)


def test_a_pool_of_callers_keeps_two_stations() -> None:
    """app with 2 workers (db 1 worker: it can queue there) stays two stations, Seidmann's
    for app, as before (within 5 % of simulation)."""
    found = estimate(load_spec_text(_spec(2, 1, EXPONENTIAL_DB)))
    expected = mva(USERS, THINK, [MvaStation(0.005, 2), MvaStation(0.008, 1)])
    assert found.workloads["u"].rate_rps == pytest.approx(expected.throughput_rps, rel=1e-9)
    assert found.workloads["u"].mean_s == pytest.approx(expected.response_s, rel=1e-9)


def test_the_caveat_does_not_call_a_callee_that_never_waits_shared() -> None:
    system = load_spec_text(_spec(1, 1, EXPONENTIAL_DB))
    notes = [c for c in caveats(system, estimate(system)) if c.code == "closed-loop"]
    assert len(notes) == 1 and "db" not in notes[0].message
