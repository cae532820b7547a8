"""A closed loop against a bounded queue it outnumbers (analytic/finite_source.py,
closed.refused): the users refused send again, so the loop's requests, its errors, its
latency and the run's events are those of the finite-source queue M/M/c/K/N, not MVA's
throughput with the open M/M/c/K's loss on top."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.analytic.counting import counted

from scalesim.analytic.estimate import estimate
from scalesim.analytic.finite_source import finite_source
from scalesim.analytic.runtime import run_cost
from scalesim.budget import estimate as budget
from scalesim.spec import load_spec_text

# The QA spec: 2 replicas × 16 workers with 100 queue places each (232 requests held at
# once), 2 ms of work, 0.25 ms hops, users without think time.
QA = """scalesim: 1
name: closed-loop
defaults:
  network: 0.25ms
components:
  api:
    replicas: 2
    workers: 16
    queue: 100
    operations:
      get: {{work: 2ms}}
workloads:
  - {{name: vu, to: api.get, users: {users}, think: {think}}}
simulation:
  duration: {duration}s
  warmup: 0s
"""

# One exponential server with 3 queue places, exponential think time, no network: the
# finite-source chain is exact.
EXACT = """scalesim: 1
name: fs
defaults: {network: 0ms}
components:
  api:
    workers: 1
    queue: 3
    operations:
      get: {work: {dist: exponential, mean: 10ms}}
workloads:
  - {name: vu, to: api.get, users: 20, think: {dist: exponential, mean: 50ms}}
"""


def qa(users: int, think: str = "0s", duration: float = 2.0) -> str:
    return QA.format(users=users, think=think, duration=duration)


def chain(users: int, away: float, servers: int, capacity: int, service: float
          ) -> tuple[float, float, float]:
    """(attempts/s, P(an arrival is refused), mean time there of the accepted) of
    M/M/c/K/N from its generator matrix, solved directly (not as a birth-death product)."""
    size = capacity + 1
    q = np.zeros((size, size))
    for n in range(size):
        if n < capacity:
            q[n, n + 1] = (users - n) / away
        if n > 0:
            q[n, n - 1] = min(n, servers) / service
        q[n, n] = -q[n].sum()
    a = np.vstack([q.T, np.ones(size)])
    b = np.zeros(size + 1)
    b[-1] = 1.0
    p = np.linalg.lstsq(a, b, rcond=None)[0]
    arrivals = np.array([(users - n) / away for n in range(size)]) * p
    served = arrivals[:capacity].sum()
    return float(arrivals.sum()), float(arrivals[capacity] / arrivals.sum()), \
        float((np.arange(size) * p).sum() / served)


def test_the_chain_matches_its_generator_and_engset() -> None:
    """M/M/2/6/15 against its generator; with no queue (K = c) the loss is Engset's call
    congestion: C(N−1, c)·aᶜ / Σᵢ≤c C(N−1, i)·aⁱ, a = S/Z (10 sources offering 0.25 erlang
    each while idle, on 3 servers: 84·¼³ / (1 + 9/4 + 36/16 + 84/64) = 1.3125 / 6.8125)."""
    found = finite_source(15, 0.1, 2, 6, 0.03)
    attempts, loss, held = chain(15, 0.1, 2, 6, 0.03)
    assert found.attempts_rps == pytest.approx(attempts, rel=1e-12)
    assert found.loss == pytest.approx(loss, rel=1e-12)
    assert found.in_station / found.served_rps == pytest.approx(held, rel=1e-12)
    a = 0.25
    engset = math.comb(9, 3) * a**3 / sum(math.comb(9, i) * a**i for i in range(4))
    assert finite_source(10, 0.4, 3, 3, 0.1).loss == pytest.approx(engset, rel=1e-12)
    assert engset == 1.3125 / 6.8125
    assert finite_source(3, 0.4, 3, 3, 0.1).loss == 0.0  # the places hold every user


def test_the_estimate_is_the_exact_chain_where_it_is_exact() -> None:
    """20 users (think exponential 50 ms) against one exponential 10 ms server holding 4:
    the loop sends the chain's attempts a second, loses its share and answers the others
    in its mean time; the station says it is exact."""
    found = estimate(load_spec_text(EXACT))
    attempts, loss, held = chain(20, 0.05, 1, 4, 0.01)
    loop, api = found.workloads["vu"], found.components["api"]
    assert loop.rate_rps == pytest.approx(attempts, rel=1e-9)
    assert loop.refused == pytest.approx(loss, rel=1e-9)
    assert 1.0 - loop.success == pytest.approx(loss, rel=1e-9)
    assert loop.mean_s == pytest.approx(held, rel=1e-9)
    assert api.state.loss == pytest.approx(loss, rel=1e-9) and api.state.exact
    assert api.state.model == "M/M/1/4 in a closed loop (M/M/c/K/N)"


def test_the_qa_loop_sends_what_its_refused_users_send_again() -> None:
    """2,000 users, 232 places: the queues stay full, so 1,768 users are away, each for
    the 0.5 ms round trip of a refusal: (2,000 − 232) / 0.5 ms = 3,536,000 requests a
    second, of which the 32 workers serve 16,000 (99.55 % refused), each after waiting for
    the 100 ahead of it on 16 workers of 2 ms (12.5 ms): 15 ms with its work and hops. It
    said 16,000/s, 0.95 % errors and 125 ms; simulated: 3,542,116/s, 99.5 %, 14.8 ms."""
    loop = estimate(load_spec_text(qa(2000))).workloads["vu"]
    assert loop.rate_rps == pytest.approx((2000 - 232) / 0.0005, rel=1e-4)
    assert loop.rate_rps * loop.success == pytest.approx(16_000.0, rel=1e-6)
    assert 1.0 - loop.success == pytest.approx(1.0 - 16_000 / 3_536_000, rel=1e-4)
    assert loop.mean_s == pytest.approx(0.015, rel=1e-3)


def test_a_bounded_queue_that_holds_every_user_refuses_none() -> None:
    """200 users on 2 queues of 116 places: each queue's share fits, so nobody is refused
    (the open M/M/c/K at MVA's throughput said 0.95 %); 32 workers of 2 ms run at
    16,000/s."""
    loop = estimate(load_spec_text(qa(200))).workloads["vu"]
    assert loop.success == 1.0 and loop.refused == 0.0
    assert loop.rate_rps == pytest.approx(16_000.0, rel=1e-9)


@pytest.mark.parametrize(("users", "duration", "think", "within"), [
    (100, 0.5, "0s", 0.01),  # no refusals: MVA's throughput
    (300, 0.5, "0s", 0.06),  # the transition: the chain with exponential work, here 2 ms fixed
    (2000, 0.2, "0s", 0.01),
    (20000, 0.05, "0s", 0.01),
    (20000, 0.2, "5ms", 0.01),  # refused users think before they send again
])
def test_the_run_estimate_counts_the_kernel_s_events(users: int, duration: float,
                                                     think: str, within: float) -> None:
    """The run estimate against the kernel's count (seed 1): before, every user count
    was costed at 4 events a served request, 32,000 requests a second of events, where
    20,000 users sent 39.5 million a second."""
    system = load_spec_text(qa(users, think, duration))
    assert run_cost(system).events == pytest.approx(counted(system, seed=1), rel=within)


def test_the_budget_refuses_the_runaway_loop() -> None:
    """20,000 users for 2 s send about 79 million requests (the kernel: 79,084,232), 3
    events each; 200,000 send ten times that, past max_events: refused up front, where it
    ran until max_events stopped it."""
    twenty = budget(load_spec_text(qa(20000)))
    assert twenty.cost.requests == pytest.approx(79_084_232, rel=0.01)
    assert twenty.cost.events == pytest.approx(3 * 79_084_232, rel=0.01)
    hundreds = budget(load_spec_text(qa(200000)))
    assert hundreds.over
    assert "max_events" in {over.limit for over in hundreds.reasons}
