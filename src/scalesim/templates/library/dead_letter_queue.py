"""Dead-letter queue: poison messages are set aside after a few deliveries."""

from __future__ import annotations

import math
from typing import Any

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import FEW, SIGMAS, Expect, count_at_most
from scalesim.templates.params import TemplateParams, param

VISIBILITY_S = 2.0
WORK_MS = 20.0  # fulfilment's mean work per delivery
REPLICAS = 4  # fulfilment replicas
MIN_WORKERS = 16  # threads per replica, at least
UTILIZATION = 0.7  # the consumers' threads: at most this busy on average
WINDOW_S = 50  # the measured window
QUICK_WINDOW_S = 10  # ... and the quick run's
HOPS_MS = 2 * 0.25  # publication to the queue, delivery to the consumer
PROMPT_MS = 50.0  # "at once": the lag the median message stays under when it can


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


def deliveries_per_message(p: Params) -> float:
    """With a DLQ: a poison message is delivered max_deliveries times, a good one until it
    succeeds (geometric, at most max_deliveries)."""
    good = sum(p.transient ** k for k in range(p.max_deliveries))
    return p.poison * p.max_deliveries + (1 - p.poison) * good


def workers(p: Params) -> int:
    """Fulfilment threads per replica: the deliveries' work at most UTILIZATION busy."""
    busy = p.rps * deliveries_per_message(p) * WORK_MS / 1000.0
    return max(MIN_WORKERS, math.ceil(busy / REPLICAS / UTILIZATION))


def warmup_s(p: Params) -> int:
    """Until the first poison messages have used their deliveries ((max − 1) visibility
    timeouts, plus 2 s for the work and the hops), so the window sees them leave as fast as
    they arrive; 10 s without a DLQ."""
    if not p.with_dlq:
        return 10
    return max(10, math.ceil((p.max_deliveries - 1) * VISIBILITY_S + 2))


def first_time_share(p: Params) -> float:
    """Of the messages processed, those processed at their first delivery: a good message
    fails each delivery at `transient`; it is processed unless all its deliveries fail
    (without a DLQ it is delivered until it works)."""
    if not p.with_dlq or p.transient == 0:
        return 1 - p.transient
    return (1 - p.transient) / (1 - p.transient ** p.max_deliveries)


def median_lag_expect(p: Params, queue: str) -> tuple[Expect, ...]:
    """The median processed message went through at its first delivery when more than half
    did (by 4 binomial standard errors over the quick run's messages): its lag is then the
    hops and the work's (0.5 / share)-quantile. Otherwise it may have waited a visibility
    timeout, and nothing is claimed."""
    share = first_time_share(p)
    processed = p.rps * QUICK_WINDOW_S * (1 - (dead_share(p) if p.with_dlq else p.poison))
    low = share - SIGMAS * math.sqrt(share * (1 - share) / processed)
    if low <= 0.5:
        return ()
    bound = HOPS_MS - WORK_MS * math.log(1 - 0.5 / low)
    return (Expect(f"{queue}.lag_ms.p50", "<", max(PROMPT_MS, math.ceil(bound)),
                   "the other messages are not blocked: most go through at once (the median "
                   "one at its first delivery, within the work's (0.5 / share)-quantile)"),)


def dead_letter_expect(p: Params, queue: str) -> Expect:
    """The dead-lettered share within 40 %; with fewer than 25 expected in the quick run
    (1 message a second), at most their Poisson bound."""
    why = (f"poison messages end in the DLQ after {p.max_deliveries} deliveries, and "
           "(nearly) nothing else: transient failures succeed on a redelivery")
    metric = f"{queue}.dead_letter_share"
    published = p.rps * QUICK_WINDOW_S
    if published * dead_share(p) < FEW:
        return Expect(metric, "<=", count_at_most(published * dead_share(p)) / published, why)
    return Expect(metric, "~", dead_share(p), why, tolerance=0.4)


def derive(p: Params) -> dict[str, Any]:
    return {"workers": workers(p), "concurrency": REPLICAS * workers(p),
            "warmup": warmup_s(p), "duration": warmup_s(p) + WINDOW_S}


def scenario(p: Params) -> Scenario:
    queue = "queues[orders->fulfilment.process]"
    # Waiting messages in steady state: poison ones for all their visibility timeouts,
    # failed ones for one, plus those in flight.
    steady = p.rps * VISIBILITY_S * (p.poison * p.max_deliveries + p.transient) + \
        REPLICAS * workers(p)
    if p.with_dlq:
        outcome: tuple[Expect, ...] = (
            dead_letter_expect(p, queue),
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
        expect=(*outcome, *median_lag_expect(p, queue)),
        quick=(f"simulation.duration={warmup_s(p) + QUICK_WINDOW_S}s",))


TEMPLATE = Template(
    id="dead-letter-queue", version=1, title="Dead-letter queue for poison messages",
    summary="An SQS-style queue redelivers a failed message after its visibility timeout "
            "and, after maxReceiveCount deliveries, moves it to a dead-letter queue: poison "
            "messages are set aside without blocking the rest, transient failures still "
            "succeed.",
    patterns=("dead-letter-channel", "invalid-message-channel", "competing-consumers"),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        "Poison messages fail at every delivery, after the consumer did its work; other "
        "failures are independent per delivery.",
        "Visibility timeout 2 s: a failed message is invisible that long before it is "
        "delivered again (SQS does not requeue at once).",
        "The DLQ has no consumer here: it only keeps the messages for someone to inspect.",
        "Fulfilment has 4 replicas of at least 16 threads, more when the deliveries (poison "
        "ones max_deliveries times) would keep them over 70 % busy; the warm-up lasts until "
        "the first poison messages are dead-lettered ((max_deliveries − 1) × 2 s + 2 s, at "
        "least 10 s), then the warm-up's length plus 50 s are measured (60 s at the "
        "defaults).",
        "The dead-lettered share is expected within 40 %, or below its Poisson bound when "
        "the quick run's 10 s should see fewer than 25 (at 1 message a second).",
        "The median lag is claimed under 50 ms (or the work's (0.5 / share)-quantile, when "
        "that is longer) when more than half the processed messages go through at their "
        "first delivery — share (1 − transient) / (1 − transient^max_deliveries), "
        "1 − transient without a DLQ — by 4 binomial standard errors over the quick run's "
        "messages: not at transient 0.5 (share 0.516 at 5 deliveries), where the median "
        "message may have waited a 2 s visibility timeout.",
    ))
