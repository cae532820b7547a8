"""Callers that hold a worker through each call bound their callee's queue: the
`held-callers` caveat says so when the station formulas put the callee past that bound."""

from __future__ import annotations

import pytest

from scalesim.analytic.caveats import caveats
from scalesim.analytic.estimate import estimate
from scalesim.analytic.markovian import erlang_c
from scalesim.spec import load_spec_text

SPEC = """scalesim: 1
name: t
components:
  web:
    workers: {workers}
    operations:
      get:
        work: {{dist: exponential, mean: 2ms}}
        calls: [{{to: db.q}}]
  db:
    workers: 2
    operations: {{q: {{work: {{dist: exponential, mean: 10ms}}}}}}
workloads:
  - {{name: r, to: web.get, rate: 150/s}}
"""


def _held(workers: int) -> list[str]:
    system = load_spec_text(SPEC.format(workers=workers))
    return [c.message for c in caveats(system, estimate(system)) if c.code == "held-callers"
            and c.where == "db"]


def test_four_callers_workers_on_two_db_workers() -> None:
    """The QA tier (simulated 25.2 ms, estimated 92.6): web's 4 workers bound db's M/M/2 at
    ρ 0.75 to 4 requests, past which the formulas put it C(2, 1.5)·0.75³ = 27.1 % of the
    time."""
    past = erlang_c(2, 1.5) * 0.75**3
    assert past == pytest.approx(0.2712, abs=1e-4)
    (message,) = _held(4)
    assert message.startswith("web holds a worker through each call to db, so at most 4 ")
    assert f"{past:.1%} of the time" in message and "upper bound" in message


@pytest.mark.parametrize("workers", [2, 16])
def test_no_caveat_when_the_bound_is_exact_or_never_reached(workers: int) -> None:
    """2 callers' workers: db never waits (its model says so); 16: the formulas put db past
    16 requests C(2, 1.5)·0.75¹⁵ = 0.86 % of the time, under 1 %."""
    assert _held(workers) == []
