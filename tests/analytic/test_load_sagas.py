"""A saga's steps and compensations in the visit matrix (analytic/load.py `call_matrix`): a
step is visited by the sagas that reach it (every earlier step succeeded, after its
retries), a compensation by the sagas that run it (a later step up to the pivot failed and
the compensations after it succeeded), as `SagaRun` moves on (sim/data/saga.py). Known
answers, each missed by the matrix before (it counted every step on every saga and no
compensation)."""

from __future__ import annotations

import pytest

from scalesim.analytic.estimate import Model
from scalesim.analytic.load import call_matrix, operation_rates, saga_flow, sagas
from scalesim.spec import load_spec_text
from scalesim.spec.model import System

RATE = 100.0

SAGA = """scalesim: 1
name: sagas
defaults: {{network: 0.25ms}}
components:
  orders:
    workers: 64
    operations:
      place:
        work: 1ms
        calls:
          - saga:
              coordination: {coordination}
              policy: {policy}{via}
              steps:
{steps}
  a:
    workers: 32
    operations:
      do: {{work: 2ms, error_rate: {a}}}
      undo: {{work: 2ms, error_rate: {a_undo}}}
  b:
    workers: 32
    operations:
      do: {{work: 2ms, error_rate: {b}}}
      undo: {{work: 2ms, error_rate: {b_undo}}}
  c:
    workers: 32
    operations:
      do: {{work: 10ms, error_rate: {c}}}
      undo: {{work: 2ms}}
  d:
    workers: 32
    operations:
      do: {{work: 2ms}}{events}
workloads: [{{name: w, to: orders.place, rate: 100/s}}]
simulation: {{duration: 20s}}
"""

EVENTS = """
  events:
    kind: queue
    tech: kafka
    operations:
      publish: {work: 1ms}"""

THREE = """                - {to: a.do, compensate: a.undo}
                - {to: b.do, compensate: b.undo}
                - {to: c.do, compensate: c.undo}"""

PIVOTED = """                - {to: a.do, compensate: a.undo}
                - {to: b.do, pivot: true}
                - {to: c.do}
                - {to: d.do}"""


def _system(steps: str = THREE, coordination: str = "orchestration", policy: str = "none",
            a: str = "0%", a_undo: str = "0%", b: str = "0%", b_undo: str = "0%",
            c: str = "0%") -> System:
    choreography = coordination == "choreography"
    via = "\n              via: events" if choreography else ""
    return load_spec_text(SAGA.format(coordination=coordination, policy=policy, via=via,
                                      events=EVENTS if choreography else "",
                                      steps=steps, a=a, a_undo=a_undo, b=b, b_undo=b_undo,
                                      c=c), "sagas.yaml")


def _per_saga(system: System) -> dict[str, float]:
    """Visits of every operation per saga started."""
    return {name: rate / RATE for name, rate in operation_rates(system).items()}


def test_a_step_after_a_failing_one_is_reached_by_the_sagas_it_lets_through() -> None:
    """The second step's target fails 20 %, no retries: the third step is reached by 80 %
    of the sagas, and the first step's compensation runs on the other 20 %; the failed step
    itself is not compensated (it did not commit)."""
    visits = _per_saga(_system(b="20%"))
    assert visits["a.do"] == pytest.approx(1.0)
    assert visits["b.do"] == pytest.approx(1.0)
    assert visits["c.do"] == pytest.approx(0.8)
    assert visits["a.undo"] == pytest.approx(0.2)
    assert visits["b.undo"] == 0.0
    assert visits["c.undo"] == 0.0


def test_the_shares_come_from_saga_flow() -> None:
    system = _system(b="20%")
    (_, saga), = sagas(system)
    flow = saga_flow(system, saga)
    assert [share.reached for share in flow] == pytest.approx([1.0, 1.0, 0.8])
    assert [share.undone for share in flow] == pytest.approx([0.2, 0.0, 0.0])


def test_compensations_run_in_reverse_until_one_fails() -> None:
    """The last step fails 40 %: the second step's compensation runs on those sagas, and
    fails half the time (the saga is stuck), so the first step's runs on 20 %."""
    visits = _per_saga(_system(c="40%", b_undo="50%"))
    assert visits["c.do"] == pytest.approx(1.0)
    assert visits["b.undo"] == pytest.approx(0.4)
    assert visits["a.undo"] == pytest.approx(0.2)


def test_retries_let_more_sagas_through() -> None:
    """Step Functions' policy: four tries on every cause, the second step failing half of
    them, so it fails after its retries on 1/16 of the sagas."""
    visits = _per_saga(_system(b="50%", policy="step_functions"))
    assert visits["c.do"] == pytest.approx(15.0 / 16.0)
    assert visits["a.undo"] == pytest.approx(1.0 / 16.0)


def test_a_step_past_the_pivot_that_fails_leaves_the_saga_stuck_uncompensated() -> None:
    """The pivot fails 10 %: the first step is compensated on those sagas and the third
    step is reached by the rest; the third fails half of them, which are stuck, so the
    fourth is reached by 45 % and nothing more is compensated."""
    visits = _per_saga(_system(PIVOTED, b="10%", c="50%"))
    assert visits["c.do"] == pytest.approx(0.9)
    assert visits["d.do"] == pytest.approx(0.45)
    assert visits["a.undo"] == pytest.approx(0.1)


def test_a_choreographed_saga_s_compensations_are_events_through_its_queue() -> None:
    """Each step reached and each compensation run is an event through `via`:
    1 + 1 + 0.8 steps and 0.2 compensations a saga."""
    system = _system(coordination="choreography", b="20%")
    visits = _per_saga(system)
    assert visits["c.do"] == pytest.approx(0.8)
    assert visits["a.undo"] == pytest.approx(0.2)
    assert visits["events.publish"] == pytest.approx(1.0 + 1.0 + 0.8 + 0.2)


def test_a_choreographed_compensation_s_redeliveries_go_through_the_queue() -> None:
    """Step Functions' policy redelivers a failed event up to four deliveries: the last
    step fails each with 50 % (so 1 + ½ + ¼ + ⅛ deliveries, 1/16 failing them all) and the
    second step's compensation with 50 % too."""
    system = _system(coordination="choreography", policy="step_functions", c="50%",
                     b_undo="50%")
    visits = _per_saga(system)
    deliveries = 1.0 + 0.5 + 0.25 + 0.125
    assert visits["c.do"] == pytest.approx(deliveries)
    assert visits["b.undo"] == pytest.approx(deliveries / 16.0)
    assert visits["a.undo"] == pytest.approx((1.0 / 16.0) * (15.0 / 16.0))
    assert visits["events.publish"] == pytest.approx(
        2.0 + deliveries + deliveries / 16.0 + (1.0 / 16.0) * (15.0 / 16.0))


def test_the_estimate_sees_the_sagas_that_reach_a_step() -> None:
    """The third step's component: 80 visits/s of 10 ms on 32 workers."""
    estimate = Model(_system(b="20%")).evaluate()
    assert estimate.components["c"].state.utilization == pytest.approx(
        0.8 * RATE * 0.010 / 32.0)


def test_attempts_multiply_the_shares() -> None:
    """With the attempts of each call (the run estimate's), a saga's calls count that many
    times the share of the sagas that make them."""
    system = _system(b="20%")
    names, plain = call_matrix(system)
    paths = ("components", "orders", "operations", "place", "calls", 0, "saga", "steps")
    _, doubled = call_matrix(system, attempts={(*paths, 2): 2.0,
                                               (*paths, 0, "compensate"): 3.0})
    index = {name: i for i, name in enumerate(names)}
    place = index["orders.place"]
    assert doubled[place, index["c.do"]] == pytest.approx(2.0 * plain[place, index["c.do"]])
    assert doubled[place, index["a.undo"]] == pytest.approx(3.0 * 0.2)
