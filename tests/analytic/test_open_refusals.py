"""An open workload past a bounded queue that refuses part of it: a refused visit does no
work and makes no calls (the kernel's `_refuse`), so only the admitted share goes on
downstream. The estimate fed the full offered rate on (a database at 10,000/s where 500/s
got through)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.engine.simstats import check, replicate

from scalesim.analytic.estimate import estimate
from scalesim.spec import load_spec_text

# M/M/1/5 (one exponential worker, 4 queue places) that does not hold its worker through
# its call, feeding a delay station: its refusals are M/M/1/K's, exactly.
CHAIN = """scalesim: 1
name: refused-chain
defaults: {network: 0ms}
components:
  api:
    workers: 1
    queue: 4
    io: nonblocking
    operations:
      get:
        work: {dist: exponential, mean: 10ms}
        calls: [{to: db.read}]
  db:
    workers: unlimited
    operations:
      read: {work: 5ms}
workloads:
  - {name: w, to: api.get, rate: 200/s}
simulation: {duration: 40s, warmup: 2s}
"""

# A blocking caller holds its worker through the call: its loss depends on the database's
# response, which depends on the load its loss lets through.
FEEDBACK = """scalesim: 1
name: refused-feedback
defaults: {network: 0ms}
components:
  api:
    workers: 4
    queue: 6
    operations:
      get:
        work: {dist: exponential, mean: 4ms}
        calls: [{to: db.read}]
  db:
    workers: 2
    operations:
      read: {work: {dist: exponential, mean: 1.5ms}}
workloads:
  - {name: w, to: api.get, rate: 1500/s}
"""


def mm1k_loss(rho: float, capacity: int) -> float:
    """P(an arrival finds M/M/1/K full): (1 − ρ)ρ^K / (1 − ρ^(K+1))."""
    return (1.0 - rho) * rho ** capacity / (1.0 - rho ** (capacity + 1))


def test_only_the_admitted_share_of_a_mm1k_reaches_its_callee() -> None:
    """λ = 200/s on μ = 100/s, K = 5: ρ^5 (ρ − 1)/(ρ^6 − 1) = 32/63 refused, so the delay
    station gets 200 × 31/63 = 98.41/s (it was given 200/s)."""
    found = estimate(load_spec_text(CHAIN, "chain.yaml"))
    loss = mm1k_loss(2.0, 5)
    assert loss == pytest.approx(32 / 63, rel=1e-12)
    assert found.components["api"].state.loss == pytest.approx(loss, rel=1e-9)
    assert found.components["db"].arrival_rate_rps == pytest.approx(200.0 * (1.0 - loss),
                                                                    rel=1e-9)
    assert found.converged


def test_the_admitted_rate_is_the_simulated_one() -> None:
    """10 replications (seed 1) of 40 s: the database's throughput and the share refused
    cover the estimate's in their 95 % intervals (simulated 98.9 ± 1.3/s, 50.1 ± 0.8 %)."""
    found = estimate(load_spec_text(CHAIN, "chain.yaml"))
    _, runs = replicate(CHAIN, runs=10, seed=1)
    check(runs, lambda r: r["components"]["db"]["throughput_rps"],
          found.components["db"].arrival_rate_rps, "db visits/s")

    def refused(result: dict[str, Any]) -> float:
        requests = result["components"]["api"]["operations"]["get"]["requests"]
        return float(requests["failed_by_cause"]["rejected"] / requests["total"])

    check(runs, refused, found.components["api"].state.loss, "api refused")


def test_a_blocking_callers_refusals_settle_with_its_callees_response() -> None:
    """The fixed point: the database gets what the api's loss lets through, and that loss
    is the api's at the service time the database's response at that load gives. Before,
    the database got all 1,500/s (112 % of its workers, an unbounded wait) and the api
    refused everything; simulated: 708/s reach it."""
    found = estimate(load_spec_text(FEEDBACK, "feedback.yaml"))
    api, db = found.components["api"], found.components["db"]
    assert found.converged
    assert 0.5 < api.state.loss < 0.6
    assert db.arrival_rate_rps == pytest.approx(1500.0 * (1.0 - api.state.loss), rel=1e-8)
    assert db.state.utilization < 1.0 and db.state.mean_wait_s < 1e-3
