"""A component reached only by synchronous calls from blocking callers whose workers are no
more than its own never waits (analytic/held.py), nor, beyond one replica, when its balancer
spreads the callers' workers over replicas that have room for them (least_requests, p2c,
round robin while requests leave about in order); and deep call chains are estimated
without recursion: a chain of single-worker services is then an M/D/1 queue at its entry
and nothing below."""

from __future__ import annotations

import pytest
from tests.spec.test_bounds import chain

from scalesim.analytic import lattice
from scalesim.analytic.caveats import caveats
from scalesim.analytic.estimate import Model, estimate
from scalesim.analytic.held import (
    Bound,
    held_bounds,
    mean_difference,
    turns_stay_even,
)
from scalesim.spec import load_spec_text
from scalesim.spec.dists import Uniform

TWO_TIERS = """
scalesim: 1
name: t
components:
  api:
    replicas: 2
    workers: 4
    operations:
      get: {{work: 1ms, calls: [{{to: db.query{call}}}]}}
  db:
    workers: {db_workers}
    operations:
      query: {{work: 2ms}}
workloads:
  - {{name: w, to: api.get, rate: 100/s}}
{extra}
"""


def two_tiers(db_workers: int = 8, call: str = "", extra: str = "",
              overrides: tuple[str, ...] = ()) -> set[str]:
    text = TWO_TIERS.format(db_workers=db_workers, call=call, extra=extra)
    return set(held_bounds(load_spec_text(text, overrides=list(overrides))))


def test_md1_at_the_entry_of_a_single_worker_chain() -> None:
    """100 services of one worker each, 1 ms of work: c0 holds its worker for 100 ms, so it
    is an M/D/1 queue at ρ = 0.1 (wait ρS/2(1−ρ)) and the 99 below it never queue, since only
    c0's one worker can wait on c1, c1's on c2, and so on. The simulation gives
    105.49 ms (95 % CI 105.24–105.75, 4 × 2,000 s); each level's own wait made it unstable."""
    estimate = Model(load_spec_text(chain(100))).evaluate()
    latency = estimate.workloads["w"].latency
    assert latency is not None
    service, rho = 0.1, 0.1
    assert latency.mean == pytest.approx(service + rho * service / (2 * (1 - rho)), rel=1e-6)
    assert all(estimate.components[f"c{i}"].state.mean_wait_s == 0.0 for i in range(1, 100))


def test_a_thousand_deep_chain_is_estimated_without_recursion() -> None:
    """Half a request a second into a 1 s chain: M/D/1 at ρ = 0.5 at c0, 1.5 s in all, and
    every request succeeds (the success of each call is known before its caller's)."""
    estimate = Model(load_spec_text(chain(1000).replace("rate: 1/s", "rate: 0.5/s"))).evaluate()
    workload = estimate.workloads["w"]
    assert workload.latency is not None and workload.latency.mean == pytest.approx(1.5, rel=1e-6)
    assert workload.success == 1.0


def test_callers_workers_bound_the_callee() -> None:
    """api's 2 × 4 = 8 workers can wait on db at once: no more than db's 8, so db never
    queues; with 7 it can."""
    assert two_tiers(db_workers=8) == {"db"}
    assert two_tiers(db_workers=7) == set()


@pytest.mark.parametrize(("call", "extra"), [
    (", timeout: 50ms", ""),  # an attempt given up on keeps db's worker
    (", hedge: {after: 5ms}", ""),
    (", async: true", ""),
    ("", "  - {name: direct, to: db.query, rate: 1/s}"),  # arrivals that no worker holds
    ("", "faults:\n  - {target: api, at: 1s, crash: true}"),  # orphans a crash leaves
])
def test_what_lets_requests_outnumber_the_callers_workers(call: str, extra: str) -> None:
    assert two_tiers(call=call, extra=extra) == set()


def test_a_parallel_group_counts_its_branches_and_must_wait_for_all() -> None:
    both = "components.api.operations.get.calls=[{parallel: {calls: [{to: db.query}, " \
           "{to: db.query}]%s}}]"
    assert two_tiers(db_workers=16, overrides=(both % "",)) == {"db"}
    assert two_tiers(db_workers=15, overrides=(both % "",)) == set()
    assert two_tiers(db_workers=16, overrides=(both % ", wait_for: any",)) == set()


POOLS = ("components.db.replicas=2", "components.db.workers=4")  # api's 8 against 2 × 4


@pytest.mark.parametrize(("balancer", "bound"), [
    ("least_requests", Bound.LEAST), ("p2c", Bound.TWO), ("round_robin", Bound.TURNS),
    ("random", None), ("hash", None),  # either can put 5 of the 8 on one replica
])
def test_a_balancer_that_spreads_evenly_bounds_the_replicas_together(
        balancer: str, bound: Bound | None) -> None:
    system = load_spec_text(TWO_TIERS.format(db_workers=8, call="", extra=""),
                            overrides=[*POOLS, f"components.db.balancer={balancer}"])
    assert held_bounds(system).get("db") is bound


@pytest.mark.parametrize(("replicas", "workers", "balancer", "bounded"), [
    (2, 3, "least_requests", False),  # 6 workers for 8 callers' workers
    (3, 4, "p2c", True),  # 8 ≤ 2 × 4: one of any two replicas has a free worker
    (4, 3, "p2c", False),  # 8 > 2 × 3: both picks can be full
    (4, 2, "least_requests", True),
])
def test_the_replicas_a_balancer_can_count_on(replicas: int, workers: int, balancer: str,
                                              bounded: bool) -> None:
    system = load_spec_text(TWO_TIERS.format(db_workers=8, call="", extra=""), overrides=[
        f"components.db.replicas={replicas}", f"components.db.workers={workers}",
        f"components.db.balancer={balancer}"])
    assert ("db" in held_bounds(system)) is bounded


@pytest.mark.parametrize("change", [
    "components.db.autoscale={min: 2, max: 4, metrics: [{cpu: 60%}]}",
    "components.db.health={readiness: {period: 5s}}",
    "components.db.outlier_detection={consecutive_5xx: 5}",
    "faults=[{target: 'db[0]', at: 1s, latency: +5ms}]",
    # post_work waits again on the replica it started on, filled while it was away
    "components.db.io=nonblocking",
    # a retry steered away from the replica that failed chooses among the others only
    "components.api.operations.get.calls=[{to: db.query, retry: {attempts: 2}}]",
])
def test_replicas_out_of_rotation_lose_the_pool_bound(change: str) -> None:
    """A replica the balancer cannot choose leaves the others more than their share."""
    assert "db" in held_bounds(load_spec_text(TWO_TIERS.format(db_workers=8, call="", extra=""),
        overrides=[*POOLS, "components.db.balancer=least_requests"]))
    system = load_spec_text(TWO_TIERS.format(db_workers=8, call="", extra=""),
                            overrides=[*POOLS, "components.db.balancer=least_requests", change])
    assert "db" not in held_bounds(system)


@pytest.mark.parametrize(("holding", "difference"), [
    (lattice.exponential(0.01), 0.01),  # E|H₁ − H₂| of an exponential is its mean
    (lattice.of(Uniform(dist="uniform", min="0s", max="30ms")), 0.01),  # uniform [0, b]: b/3
    (lattice.point(0.01), 0.0),
])
def test_themean_difference_of_two_holding_times(holding: lattice.Lattice,
                                                   difference: float) -> None:
    assert mean_difference(holding) == pytest.approx(difference, rel=2e-3, abs=1e-12)


def test_round_robin_stays_even_with_workers_to_spare_for_the_spread() -> None:
    """A replica's occupancy: mean λE[H], variance λE|H₁ − H₂|/2. Exponential 10 ms at
    640/s a replica: mean 6.4, sd √3.2 = 1.79, so 8 workers leave 0.9 sd and 10 leave 2.0;
    a constant holding time has no spread, so 7 workers cover a mean of 6.4."""
    exponential, constant = lattice.exponential(0.01), lattice.point(0.01)
    assert not turns_stay_even(8, 640.0, exponential)
    assert turns_stay_even(10, 640.0, exponential)
    assert turns_stay_even(7, 640.0, constant) and not turns_stay_even(6, 640.0, constant)


def test_a_retry_to_the_same_replica_keeps_the_pool_bound() -> None:
    system = load_spec_text(TWO_TIERS.format(db_workers=8, call="", extra=""), overrides=[
        *POOLS, "components.db.balancer=least_requests",
        "components.api.operations.get.calls=[{to: db.query, retry: {attempts: 2, "
        "other_replica: false}}]"])
    assert held_bounds(system)["db"] is Bound.LEAST


DELIVERED = """scalesim: 1
name: delivered
defaults: {{network: 0.25ms}}
components:
  jobs:
    kind: queue
    tech: rabbitmq
    consumers: [{{to: worker.process, concurrency: {slots}}}]
  worker:
    replicas: 4
    workers: 8
    balancer: least_requests
    operations:
      process: {{work: {{dist: gamma, mean: 20ms, cv: 0.5}}}}
workloads:
  - {{name: submit, to: jobs.publish, rate: 1200/s}}
"""


@pytest.mark.parametrize(("slots", "pooled"), [(32, False), (33, True)])
def test_a_subscriptions_deliveries_in_flight_bound_its_consumer(slots: int,
                                                                pooled: bool) -> None:
    """32 deliveries in flight over 4 replicas × 8 workers behind least_requests: a free
    worker for each (the work-queue template's worker: the estimate gave it a 0.13 ms wait,
    P(wait) 8.3 %, and the pooled-balancer caveat; simulated, its queue never formed).
    With 33 the one past the workers waits at the worker, but that wait is in the queue's
    lag (one station of the 32 workers, `load.consumer_pool`), taken as pooled."""
    system = load_spec_text(DELIVERED.format(slots=slots))
    found = estimate(system)
    worker = found.components["worker"].state
    assert worker.p_wait == 0.0 and worker.mean_wait_s == 0.0
    assert ("lag of jobs" in worker.model) is pooled
    assert any(c.code == "pooled-balancer" for c in caveats(system, found)) is pooled
