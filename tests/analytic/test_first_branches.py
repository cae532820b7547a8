"""A parallel step that waits for fewer than all its branches: the `first-branches` caveat
bounds what taking the branches as independent can miss."""

from __future__ import annotations

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
