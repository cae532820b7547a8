"""Messages that fail at every delivery on a queue without `max_deliveries` loop forever:
the backlog grows by their rate and every one of their deliveries is wasted. They wait out
their visibility timeout between deliveries, so the backlog rule left them out and the QA
pass got "nothing stands out" for the dead-letter-queue template with with_dlq=false. The
finding names the loop with the run's numbers, and its fix (SQS's redrive policy,
docs/data.md) ends it when applied."""

from __future__ import annotations

import pytest
from tests.diagnosis.advice import findings, from_template, one, run

SUBSCRIPTION = "orders->fulfilment.process"
# p = 5 % transient failures a delivery: p² = 0.25 % ≥ 0.1 %, p³ = 0.0125 % < 0.1 %.
REDRIVE = ["components.orders-dlq={kind: queue, tech: sqs}",
           "components.orders.delivery.max_deliveries=3",
           "components.orders.delivery.dead_letter=orders-dlq"]


@pytest.mark.parametrize("poison", [0.03, 0.005])
def test_poison_messages_without_a_dead_letter_queue_are_a_growing_backlog(
        poison: float) -> None:
    """500 messages/s, `poison` of them failing every delivery, 5 % of deliveries failing
    transiently, a 2 s visibility timeout: the backlog grows by the poison rate."""
    system = from_template("dead-letter-queue", {"with_dlq": False, "poison": poison})
    result, found = run(system)
    loop = one(found, "backlog", SUBSCRIPTION)
    assert (loop["severity"], loop["limit"]) == ("problem", "max_deliveries")
    numbers = loop["numbers"]
    published = result["queues"][SUBSCRIPTION]["published_rps"]
    assert numbers["backlog_growth_rps"] == pytest.approx(poison * published, rel=0.15)
    # The messages that settled failed at the transient rate: 1 − 1 / (1 / (1 − 0.05)).
    assert numbers["delivery_fail_share"] == pytest.approx(0.05, rel=0.1)
    # The oldest message was published in the warm-up (10 s) and never settled.
    assert numbers["oldest_s"] > result["simulated_s"]
    assert loop["fix"]["set"] == REDRIVE
    assert f"orders.delivery.poison is {poison * 100:g} %" in loop["evidence"][-1]
    for seed in (1, 2):
        fixed = from_template("dead-letter-queue", {"with_dlq": False, "poison": poison},
                              *REDRIVE, f"simulation.seed={seed}")
        after_result, after = run(fixed)
        assert not findings(after, "backlog")
        queue = after_result["queues"][SUBSCRIPTION]
        # Poison messages now leave for the DLQ, with the few transient ones p³ sends there.
        assert queue["dead_letter_share"] == pytest.approx(poison + 0.05 ** 3, rel=0.2)


@pytest.mark.parametrize("params", [{}, {"with_dlq": False, "poison": 0.0}])
def test_no_loop_is_found_where_every_message_settles(params: dict[str, object]) -> None:
    """With the template's DLQ the poison messages leave; without poison, a transient
    failure comes back and settles: neither is a loop."""
    _, found = run(from_template("dead-letter-queue", params))
    assert not findings(found, "backlog")
