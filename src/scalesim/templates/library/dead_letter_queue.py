"""Dead-letter queue: poison messages are set aside after a few deliveries."""

from __future__ import annotations

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param

VISIBILITY_S = 2.0


class Params(TemplateParams):
    rps: float = param(500, "messages per second", unit="msg/s", ge=1, le=50_000)
    poison: float = param(0.005, "share of messages that can never be processed", ge=0,
                          le=0.2)
    transient: float = param(0.05, "share of deliveries that fail but would work again",
                             ge=0, le=0.5)
    max_deliveries: int = param(5, "deliveries before a message is dead-lettered (SQS "
                                "maxReceiveCount)", unit="deliveries", ge=1, le=100)
    with_dlq: bool = param(True, "set poison messages aside (false: they come back forever)")


def dead_share(p: Params) -> float:
    """Poison messages, and good ones unlucky every time."""
    return p.poison + (1 - p.poison) * p.transient ** p.max_deliveries


def scenario(p: Params) -> Scenario:
    queue = "queues[orders->fulfilment.process]"
    # Waiting messages in steady state: poison ones for all their visibility timeouts,
    # failed ones for one, plus those in flight.
    steady = p.rps * VISIBILITY_S * (p.poison * p.max_deliveries + p.transient) + 64
    if p.with_dlq:
        outcome: tuple[Expect, ...] = (
            Expect(f"{queue}.dead_letter_share", "~", dead_share(p),
                   f"poison messages end in the DLQ after {p.max_deliveries} deliveries, and "
                   "(nearly) nothing else: transient failures succeed on a redelivery",
                   tolerance=0.4),
            Expect(f"{queue}.lag_messages.max", "<", 2 * steady,
                   "nothing piles up: poison messages leave the queue"),
        )
    else:
        outcome = (
            Expect(f"{queue}.backlog_end", ">=", 0.5 * p.poison * p.rps * 30,
                   "without a DLQ the poison messages stay, delivered again and again"),
            Expect(f"{queue}.redelivered", ">", 2 * p.poison * p.rps * 20,
                   "and every one of their deliveries is wasted work"),
        )
    return Scenario(
        story=f"{p.rps:g} messages/s; {p.poison:.1%} are poison (a malformed payload) and "
              f"{p.transient:.0%} of deliveries fail transiently.",
        expect=(*outcome,
                Expect(f"{queue}.lag_ms.p50", "<", 50,
                       "the other messages are not blocked: most go through at once")),
        quick=("simulation.duration=20s",))


TEMPLATE = Template(
    id="dead-letter-queue", version=1, title="Dead-letter queue for poison messages",
    summary="An SQS-style queue redelivers a failed message after its visibility timeout "
            "and, after maxReceiveCount deliveries, moves it to a dead-letter queue: poison "
            "messages are set aside without blocking the rest, transient failures still "
            "succeed.",
    patterns=("dead-letter-channel", "invalid-message-channel", "competing-consumers"),
    params=Params, scenario=scenario,
    assumptions=(
        "Poison messages fail at every delivery, after the consumer did its work; other "
        "failures are independent per delivery.",
        "Visibility timeout 2 s: a failed message is invisible that long before it is "
        "delivered again (SQS does not requeue at once).",
        "The DLQ has no consumer here: it only keeps the messages for someone to inspect.",
    ))
