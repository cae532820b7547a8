"""The run estimate of a deep chain past its capacity settles every level's share in one
pass, callers first (`load.served_rates` with `runtime._served`'s `serve`)."""

from __future__ import annotations

import pytest
from tests.studio.test_contracts import _chain

from scalesim.analytic.runtime import run_cost
from scalesim.spec import load_spec_text


def test_a_999_deep_chain_past_capacity_is_counted_at_every_level() -> None:
    """10 requests/s for 10 s into 999 services of 8 workers, each visit holding its worker
    for the rest of the chain: the entry is offered ρ = 1.25, its unbounded queue is worked
    off in the drain, and every request visits all 999 levels, one event each for its
    work, plus its arrival: 100 × 999 + 100 events. Settled a level per round (50 rounds),
    the estimate stopped at 85,016."""
    system = load_spec_text(_chain(999), "chain.yaml")
    assert run_cost(system).events == pytest.approx(100 * 999 + 100, rel=1e-9)
