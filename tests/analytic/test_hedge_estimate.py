"""A hedged call's time in the analytic estimate: the first answer of independent attempts,
the k-th sent k delays after the first (The Tail at Scale; docs/resilience.md `hedge`):
P(T > t) = Π_k P(X > t − k·d)."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from scalesim.analytic import lattice
from scalesim.analytic.caveats import caveats
from scalesim.analytic.estimate import Model
from scalesim.spec import load_spec_text
from scalesim.spec.dists import Distribution

SPEC = """\
scalesim: 1
name: hedged
components:
  api:
    workers: unlimited
    operations:
      get:
        calls: [{{to: store.read, hedge: {hedge}}}]
  store:
    replicas: 4
    workers: unlimited
    operations:
      read:
        work: {{dist: mixture, of: [{{weight: 0.8, dist: 1ms}}, {{weight: 0.2, dist: 100ms}}]}}
workloads:
  - {{name: reads, to: api.get, rate: 10/s}}
simulation: {{duration: 10s}}
"""
UNHEDGED_MS = 0.8 * 1 + 0.2 * 100


def mean_ms(hedge: str) -> float:
    system = load_spec_text(SPEC.format(hedge=hedge), "hedged.yaml")
    return Model(system).evaluate().workloads["reads"].latency.mean * 1e3


def test_a_fixed_delay_takes_the_first_of_the_attempts() -> None:
    """After 10 ms a second attempt: 1 ms (0.8), 11 ms (0.2 × 0.8), 100 ms (0.2 × 0.2:
    min(100, 110))."""
    assert mean_ms("{after: 10ms}") == pytest.approx(0.8 + 0.16 * 11 + 0.04 * 100, abs=0.5)


def test_each_extra_attempt_goes_a_delay_later() -> None:
    """max 2, after 10 ms: 1 ms (0.8), 11 ms (0.16), 21 ms (0.2 · 0.2 · 0.8), 100 ms
    (0.2³)."""
    expected = 0.8 + 0.16 * 11 + 0.032 * 21 + 0.008 * 100
    assert mean_ms("{after: 10ms, max: 2}") == pytest.approx(expected, abs=0.5)


def test_a_percentile_delay_is_the_unhedged_attempts() -> None:
    """p75 of the unhedged attempt is 1 ms: 1 ms (0.8), 2 ms (0.16), 100 ms (0.04)."""
    assert mean_ms("{after: p75}") == pytest.approx(0.8 + 0.16 * 2 + 0.04 * 100, abs=0.5)


def test_a_budget_hedges_only_its_share_of_the_calls() -> None:
    """20 % of attempts pass 10 ms, a budget of 5 % hedges a quarter of them."""
    hedged = 0.8 + 0.16 * 11 + 0.04 * 100
    expected = 0.75 * UNHEDGED_MS + 0.25 * hedged
    assert mean_ms("{after: 10ms, budget: 5%}") == pytest.approx(expected, abs=0.5)


def test_a_hedge_that_never_fires_changes_nothing() -> None:
    assert mean_ms("{after: 200ms}") == pytest.approx(UNHEDGED_MS, abs=0.5)


def test_the_caveat_says_how_hedges_are_counted_once_per_call() -> None:
    system = load_spec_text(SPEC.format(hedge="{after: 10ms}"), "hedged.yaml")
    found = [c for c in caveats(system, Model(system).evaluate()) if "hedge" in c.message]
    assert [(c.code, c.where) for c in found] == [("hedge", "api.get->store.read")]
    timed = load_spec_text(SPEC.format(hedge="{after: 10ms}, timeout: 1s"), "hedged.yaml")
    found = [c for c in caveats(timed, Model(timed).evaluate()) if "hedge" in c.message]
    assert [c.code for c in found] == ["not-modelled"], "with a timeout: not in the formulas"


def test_a_spec_mixture_keeps_its_fast_part_in_place() -> None:
    """1 ms (99 %) beside 1 s (1 %): the median is 1 ms and the p99.5 1 s. On the one-second
    part's grid (3.9 ms steps) the median came out 0.7 ms and the hedged example's p50 4 ms."""
    parts = [{"weight": 0.99, "dist": "1ms"}, {"weight": 0.01, "dist": "1s"}]
    mixed = lattice.of(TypeAdapter(Distribution).validate_python(
        {"dist": "mixture", "of": parts}))
    assert mixed.h <= 1.0 / 8000
    assert mixed.quantile(0.5) == pytest.approx(1e-3, abs=mixed.h)
    assert mixed.quantile(0.995) == pytest.approx(1.0, abs=mixed.h)
    assert mixed.mean == pytest.approx(0.99e-3 + 0.01, rel=1e-12)
