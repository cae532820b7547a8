"""Callers that hold a worker through each call bound their callee's queue: the
`held-callers` caveat says so when the station formulas put the callee past that bound."""

from __future__ import annotations

import pytest

from scalesim.analytic.capacity import saturation
from scalesim.analytic.caveats import caveats
from scalesim.analytic.estimate import Model, estimate
from scalesim.analytic.markovian import erlang_c
from scalesim.sim import simulate
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


HELD = """scalesim: 1
name: held
defaults: {network: 0ms}
components:
  a:
    workers: 4
    operations:
      op: {work: {dist: exponential, mean: 1ms}, calls: [{to: b.op}]}
  b:
    workers: 1
    operations:
      op: {work: {dist: exponential, mean: 10ms}}
workloads:
  - {name: w, to: a.op, rate: 85/s}
simulation: {duration: 60s, seed: 1}
"""


def test_a_held_callee_waits_for_at_most_the_requests_its_callers_hold() -> None:
    """a's 4 workers put at most 4 requests at b (1 worker, Exp 10 ms): an arrival finds at
    most 3 and waits at most 3 services, 30 ms on average, where M/M/1 at ρ 0.85 said 56.7
    ms and took a past saturation (144 %) at 85/s, a rate b serves (it saturates at 100/s)."""
    system = load_spec_text(HELD)
    found = estimate(system)
    assert found.components["b"].state.mean_wait_s == pytest.approx(0.030, rel=1e-9)
    a = found.components["a"].state
    assert a.utilization == pytest.approx(85 * (0.001 + 0.010 + 0.030) / 4, rel=1e-6)
    limit = saturation(Model(system), "w")
    assert 85.0 < limit.rate_rps < 100.0  # a lower bound of b's 100/s
    assert any(c.code == "held-callers" for c in caveats(system, found))


def test_the_capped_wait_is_still_an_upper_bound_of_the_simulation() -> None:
    """60 s at 85/s (~5,000 requests): a about 68 % busy and 65 ms, under the estimate's."""
    system = load_spec_text(HELD)
    found = estimate(system)
    result = simulate(system)
    assert result["components"]["a"]["utilization"] < found.components["a"].state.utilization
    assert result["latency_ms"]["mean"] < found.workloads["w"].mean_s * 1000
