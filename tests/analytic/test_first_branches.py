"""A parallel step that waits for fewer than all its branches: the `first-branches` caveat
bounds what taking the branches as independent can miss."""

from __future__ import annotations

import itertools
import math

import pytest

from scalesim.analytic import lattice
from scalesim.analytic.caveats import caveats
from scalesim.analytic.estimate import estimate
from scalesim.spec import load_spec_text


@pytest.mark.parametrize("need", [1, 2])
def test_branches_in_lockstep_take_the_quantiles_order(need: int) -> None:
    """Exponentials of means 25 and 7 ms at the same quantile: the faster is always the 7 ms
    one, the slower the 25 ms one; independent, the first is Exp(1/25 + 1/7)."""
    parts = [lattice.exponential(0.025), lattice.exponential(0.007)]
    assert lattice.together(need, parts).mean == pytest.approx((0.007, 0.025)[need - 1],
                                                               rel=2e-3)
    if need == 1:
        assert lattice.order_statistic(1, parts).mean == pytest.approx(
            1.0 / (1.0 / 0.025 + 1.0 / 0.007), rel=2e-3)


SPEC = """scalesim: 1
name: t
components:
  front:
    workers: unlimited
    operations:
      agg:
        calls:
          - parallel:
              wait_for: {wait_for}
              calls: [{{to: a.get}}, {{to: b.get}}]
  a:
    workers: 1
    operations: {{get: {{work: {{dist: exponential, mean: 10ms}}}}}}
  b:
    workers: 1
    operations: {{get: {{work: {{dist: exponential, mean: 5ms}}}}}}
workloads:
  - {{name: w, to: front.agg, rate: 60/s}}
"""


def test_the_caveat_gives_both_ends_for_any() -> None:
    """M/M/1 sojourns Exp(100 − 60) and Exp(200 − 60): independent, the first mean is
    1/180 s = 5.56 ms; in lockstep, the faster one's, 1/140 s = 7.14 ms."""
    system = load_spec_text(SPEC.format(wait_for="any"))
    notes = [c for c in caveats(system, estimate(system)) if c.code == "first-branches"]
    assert len(notes) == 1 and notes[0].where == "front.agg"
    assert "mean 5.56 ms" in notes[0].message and "mean 7.14 ms" in notes[0].message


def test_no_caveat_when_the_step_waits_for_all() -> None:
    system = load_spec_text(SPEC.format(wait_for="all"))
    assert "first-branches" not in {c.code for c in caveats(system, estimate(system))}


RETRIED = """scalesim: 1
name: t
components:
  front:
    workers: unlimited
    operations:
      agg:
        calls:
          - parallel:
              wait_for: any
              calls:
                - {to: a.get, retry: {attempts: 3, backoff: constant, base: 100ms, jitter: none}}
                - {to: b.get, retry: {attempts: 3, backoff: constant, base: 100ms, jitter: none}}
  a:
    workers: unlimited
    operations: {get: {work: 10ms, error_rate: 0.5}}
  b:
    workers: unlimited
    operations: {get: {work: 20ms, error_rate: 0.2}}
workloads:
  - {name: w, to: front.agg, rate: 10/s}
"""


def _retried(work: float, error: float) -> list[tuple[float, float]]:
    """docs/capacity.md (Errors): the k-th of 3 tries is the one that succeeds with
    r^(k−1)·(1 − r), after k − 1 failed tries and back-offs (100 ms); the requests that
    succeed: (time, probability)."""
    made = 1.0 - error**3
    return [(k * work + (k - 1) * 0.1, error ** (k - 1) * (1.0 - error) / made)
            for k in (1, 2, 3)]


def _first_mean(*branches: list[tuple[float, float]]) -> float:
    """E[min] of independent discrete times: ∫ Π P(X_i > t) dt."""
    edges = sorted({0.0, *(t for b in branches for t, _ in b)})
    return sum((high - low) * math.prod(sum(p for t, p in b if t > low) for b in branches)
               for low, high in itertools.pairwise(edges))


def _lockstep_mean(*branches: list[tuple[float, float]]) -> float:
    """E[min] of discrete times at one quantile: ∫₀¹ min_i Q_i(q) dq."""
    cuts = sorted({0.0, *(sum(p for _, p in b[:k + 1]) for b in branches for k in range(len(b)))})
    return sum((high - low) * min(next(t for k, (t, _) in enumerate(b)
                                       if sum(p for _, p in b[:k + 1]) > low + 1e-12)
                                  for b in branches)
               for low, high in itertools.pairwise(cuts) if high - low > 1e-12)


def _message_ms(message: str, before: str) -> float:
    return float(message.split(before)[1].split(" ms")[0]) / 1e3


def test_the_branches_times_count_their_retries() -> None:
    """Two branches retried on errors (no network time, no queueing): each branch's time is
    its successful try's, after the failed tries and back-offs before it. Independent, the
    first of the two has mean ∫ S_a·S_b = 23.55 ms (the hop, response and hop back alone
    gave 10 ms, the faster branch's first try), the step the estimate's latency takes; in
    lockstep ∫ min(Q_a, Q_b) = 39.40 ms."""
    system = load_spec_text(RETRIED)
    found = estimate(system)
    [note] = [c for c in caveats(system, found) if c.code == "first-branches"]
    a, b = _retried(0.010, 0.5), _retried(0.020, 0.2)
    assert _first_mean(a, b) == pytest.approx(0.02355, abs=1e-5)
    assert _lockstep_mean(a, b) == pytest.approx(0.03940, abs=1e-5)
    # three digits in the message
    assert _message_ms(note.message, "independent: mean ") == pytest.approx(
        _first_mean(a, b), rel=5e-3)
    assert _message_ms(note.message, "dependence gives: mean ") == pytest.approx(
        _lockstep_mean(a, b), rel=5e-3)
    assert found.workloads["w"].mean_s == pytest.approx(_first_mean(a, b), rel=1e-3)
