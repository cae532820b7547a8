"""A retry to the full queue that refused the attempt before it: refused again as the queue's
birth-death chain is still full after the gap (`again.py`), not independently."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from scipy import integrate, linalg, stats

from scalesim.analytic import lattice
from scalesim.analytic.again import Chain, still_full
from scalesim.analytic.chains import full_again, poisson_weighted
from scalesim.analytic.estimate import estimate
from scalesim.sim.run import simulate
from scalesim.spec import load_spec_text
from scalesim.spec.model import System
from scalesim.spec.resilience import Retry


def _transient(rate: float, full: np.ndarray, t: float) -> float:
    return float(poisson_weighted(full, np.array([rate * t]))[0])


def test_a_one_place_queue_forgets_at_the_sum_of_its_rates() -> None:
    """M/M/1/1: two states, full (1) and empty (0). P₁₁(t) solves p' = −μ·p + λ·(1 − p)
    from p(0) = 1: P₁₁(t) = λ/(λ+μ) + μ/(λ+μ)·e^(−(λ+μ)t). Averaged over a back-off
    U(0, w): λ/(λ+μ) + μ/(λ+μ)·(1 − e^(−(λ+μ)w))/((λ+μ)w); at a fixed w, P₁₁(w)."""
    lam, mu = 120.0, 200.0
    rate, full = full_again(lam, 1, 1.0 / mu, 1, steps=400)  # Λ·0.3 s = 96 events
    s = lam + mu

    def exact(t: float) -> float:
        return lam / s + mu / s * math.exp(-s * t)

    for t in (0.0, 0.001, 0.005, 0.02, 0.3):
        assert _transient(rate, full, t) == pytest.approx(exact(t), abs=1e-12)
    chain = Chain(lam, 1, 1.0 / mu, 1)
    loss = lam / s
    full = still_full(Retry(attempts=3), chain, lattice.zero(), loss, 1.0)
    for j, found in enumerate(full, start=1):
        w = Retry().longest_wait(j)  # the default: full jitter below 25 ms·2^j
        assert found == pytest.approx(lam / s + mu / s * -math.expm1(-s * w) / (s * w),
                                      rel=1e-12)
    fixed = still_full(Retry(attempts=2, jitter="none"), chain, lattice.zero(), loss, 1.0)
    assert fixed[0] == pytest.approx(exact(0.05), rel=1e-12)
    # a retry sent to another queue half of the time: refused there with the loss
    half = still_full(Retry(attempts=2, jitter="none"), chain, lattice.zero(), loss, 0.5)
    assert half[0] == pytest.approx(0.5 * exact(0.05) + 0.5 * loss, rel=1e-12)


def test_a_long_queue_keeps_only_the_states_a_retry_can_reach() -> None:
    """M/M/2/300 at ρ = 1: the top states that 100 ms of events reach (Λ·0.1 s = 40
    events, 160 steps: the top 81 states) give the whole chain's P(full at t | full)
    (scipy's matrix exponential of the whole generator)."""
    lam, mu, capacity, m = 200.0, 100.0, 300, 2
    horizon = 0.1
    rate, full = full_again(lam, m, 1.0 / mu, capacity, steps=160)
    n = np.arange(capacity + 1)
    generator = np.diag(np.full(capacity, lam), 1) \
        + np.diag(np.minimum(n[1:], m) * mu, -1)
    generator -= np.diag(generator.sum(axis=1))
    for t in (0.005, 0.05, horizon):
        exact = linalg.expm(generator * t)[-1, -1]
        assert _transient(rate, full, t) == pytest.approx(exact, rel=1e-9)


def test_decorrelated_back_offs_are_averaged_as_the_kernel_draws_them() -> None:
    """B₁ = min(max, U(base, 3·base)), B₂ = min(max, base + U·(3·B₁ − base)): the transient
    of an M/M/1/1 averaged over them by nested quadrature."""
    lam, mu = 120.0, 200.0
    s = lam + mu
    retry = Retry(attempts=3, jitter="decorrelated", base="10ms", max="50ms")

    def p(t: float) -> float:
        return lam / s + mu / s * math.exp(-s * t)

    def drawn(previous: float, u: float) -> float:
        return min(retry.max, retry.base + u * (3.0 * previous - retry.base))

    first = integrate.quad(lambda u: p(drawn(retry.base, u)), 0.0, 1.0)[0]
    second = integrate.dblquad(lambda v, u: p(drawn(drawn(retry.base, u), v)),
                               0.0, 1.0, 0.0, 1.0, epsabs=1e-10)[0]
    found = still_full(retry, Chain(lam, 1, 1.0 / mu, 1), lattice.zero(), lam / s, 1.0)
    assert found[0] == pytest.approx(first, abs=2e-5)
    assert found[1] == pytest.approx(second, abs=2e-5)


THIN = """
scalesim: 1
name: thin-retries
defaults: {{network: 0ms}}
components:
  a:
    workers: unlimited
    operations: {{x: {{calls: [{{to: b.y, retry: {retry}}}]}}}}
  b:
    workers: {workers}
    queue: {queue}
    operations: {{y: {{work: {{dist: exponential, mean: {work}}}}}}}
workloads:
  - {{name: w, to: a.x, rate: 5/s}}
  - {{name: bulk, to: b.y, rate: {bulk}}}
simulation: {{duration: 500s}}
"""


def _failed_share(system: System, workload: str, replications: int) -> tuple[float, float]:
    """The simulated share of `workload`'s requests that fail: the mean of `replications`
    runs (seeds 100, 101, …) and its 95 % t-interval's half-width."""
    shares = []
    for seed in range(100, 100 + replications):
        run = system.model_copy(update={"simulation": system.simulation.model_copy(
            update={"seed": seed})})
        requests = simulate(run)["workloads"][workload]["requests"]
        shares.append(requests["failed"] / requests["total"])
    spread = statistics.stdev(shares) / math.sqrt(replications)
    return statistics.mean(shares), float(stats.t.ppf(0.975, replications - 1)) * spread


@pytest.mark.parametrize(("workers", "queue", "work", "bulk", "retry"), [
    (1, 1, "5ms", "120/s", "{attempts: 3, on: [rejected]}"),  # U(0, 50 ms), U(0, 100 ms)
    (2, 2, "10ms", "180/s",
     "{attempts: 4, base: 10ms, max: 100ms, jitter: equal, on: [rejected]}"),
])
def test_retries_refused_by_a_full_queue_fail_as_simulated(
        workers: int, queue: int, work: str, bulk: str, retry: str) -> None:
    """A few retried calls (5/s) into a bounded queue that a stream of other requests keeps
    busy (M/M/1/2 and M/M/2/4, about a fifth refused), so that their own retries hardly
    feed back: the share of calls that fail every try is within the 95 % t-interval of 20
    runs of 500 s (about 2,500 calls each), and refusals taken as independent (loss^tries,
    the estimate before) are not. Measured: 1.28 % estimated, 1.30 ± 0.10 % simulated,
    0.76 % independent; 0.272 %, 0.290 ± 0.041 %, 0.145 %."""
    system = load_spec_text(THIN.format(workers=workers, queue=queue, work=work, bulk=bulk,
                                        retry=retry))
    found = estimate(system)
    simulated, half = _failed_share(system, "w", 20)
    failed = 1.0 - found.workloads["w"].success
    assert abs(failed - simulated) <= half
    tries = system.components["a"].operations["x"].calls[0].retry.attempts  # type: ignore[union-attr]
    assert abs(found.components["b"].state.loss ** tries - simulated) > half


def test_a_retry_steered_to_another_replica_forgets() -> None:
    """Two replicas of the M/M/1/2 behind a random balancer. A retry sent to the other
    (`other_replica`, the default) is refused independently, with the loss: loss³ of the
    calls fail. One the balancer picks again goes back to the replica that refused half of
    the time: retry j is refused with ½·(its chain's transient from full) + ½·loss."""
    spec = THIN.format(workers=1, queue=1, work="5ms", bulk="240/s",
                       retry="{attempts: 3, on: [rejected]}").replace(
        "  b:\n", "  b:\n    replicas: 2\n    balancer: random\n")
    found = estimate(load_spec_text(spec))
    loss = found.components["b"].state.loss
    assert 1.0 - found.workloads["w"].success == pytest.approx(loss**3, rel=1e-9)
    back = estimate(load_spec_text(spec.replace("on: [rejected]",
                                                "on: [rejected], other_replica: false")))
    b = back.components["b"]
    loss = b.state.loss
    chain = Chain(b.arrival_rate_rps / 2, 1, b.service_mean_s, 2)
    full = still_full(Retry(attempts=3), chain, lattice.zero(), loss, 1.0)
    again = [(f + loss) / 2 for f in full]
    assert again[0] > 1.2 * loss  # the replica that refused is still full more often
    assert 1.0 - back.workloads["w"].success == pytest.approx(loss * again[0] * again[1],
                                                              rel=1e-9)
