"""Event-driven batch: bursts of work land on a queue and a consumer pool drains each one."""

from __future__ import annotations

import math
from typing import Any

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param

PERIOD_S, BURST_S = 20.0, 4.0
VISIBILITY_S, MAX_DELIVERIES = 5.0, 5
SHAPE = 4  # the items' gamma work: cv 0.5


class Params(TemplateParams):
    burst_rps: float = param(10_000, "items per second while a batch is being dropped",
                             unit="items/s", ge=10, le=200_000)
    workers: int = param(8, "consumer instances", unit="instances", ge=1, le=256)
    threads: int = param(8, "items one instance processes at once", unit="threads", ge=1,
                         le=256)
    item_ms: float = param(15, "mean time to process one item", unit="ms", ge=0.1, le=60_000)
    failures: float = param(0.01, "share of attempts that fail and are retried", ge=0, le=0.5)


def capacity(p: Params) -> float:
    return p.workers * p.threads * 1000.0 / (p.item_ms + 0.5)


def overrun(p: Params) -> float:
    """P(an item's work outlasts the visibility timeout): the gamma's tail past it (shape 4,
    a sum of four exponentials)."""
    y = SHAPE * VISIBILITY_S * 1000.0 / p.item_ms
    return math.exp(-y) * sum(y ** k / math.factorial(k) for k in range(SHAPE))


def redelivered(p: Params) -> float:
    """P(a delivery comes back): it fails, or it is still running when the item becomes
    visible again."""
    return p.failures + (1 - p.failures) * overrun(p)


def drain_s(p: Params) -> float:
    """A batch's items, each delivered 1 / (1 − redelivered) times on average, at the pool's
    capacity."""
    return p.burst_rps * BURST_S / (1 - min(redelivered(p), 0.99)) / capacity(p)


def lag_expect(p: Params) -> tuple[Expect, ...]:
    """Drained before the next batch when the pool works it off, with a visibility timeout
    to spare for the last retries, within the period."""
    if drain_s(p) + (VISIBILITY_S if redelivered(p) > 0 else 0.0) > PERIOD_S:
        return ()
    return (Expect("queues[batch-items->processor.handle].lag_s.max", "<", PERIOD_S,
                   "each batch is drained before the next one lands"),)


def derive(p: Params) -> dict[str, Any]:
    return {"concurrency": p.workers * p.threads,
            "bursts": [PERIOD_S * i for i in range(3)]}


def scenario(p: Params) -> Scenario:
    batch = p.burst_rps * BURST_S
    drain = batch / capacity(p)
    return Scenario(
        story=f"Every {PERIOD_S:g} s a batch of {batch:g} items arrives within {BURST_S:g} s; "
              f"the pool processes about {capacity(p):.0f} items/s, so a batch takes about "
              f"{drain:.1f} s to drain.",
        expect=(
            *lag_expect(p),
            Expect("queues[batch-items->processor.handle].lag_messages.max", ">",
                   0.5 * batch * max(0.0, 1 - capacity(p) / p.burst_rps),
                   "the queue absorbs the burst the pool cannot take at once"),
            Expect("queues[batch-items->processor.handle].dead_lettered", "<=",
                   batch * 3 * redelivered(p) ** MAX_DELIVERIES + 1,
                   "failed items are retried; almost none run out of deliveries (an item "
                   "still running when it is visible again is delivered again too)"),
            Expect("workloads.producer.goodput_share", ">=", 0.9999,
                   "dropping a batch never fails: the queue takes it all"),
        ),
        quick=())


TEMPLATE = Template(
    id="event-driven-batch", version=1, title="Event-driven batch processing",
    summary="A producer drops work in bursts (a nightly export, a partner's file, a flash "
            "sale); a queue absorbs each burst and a pool of competing consumers drains it "
            "at its own pace, retrying failed items and dead-lettering the hopeless ones.",
    patterns=("event-driven-batch-processing", "queue-based-load-leveling",
              "competing-consumers", "dead-letter-channel"),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        f"A batch is {BURST_S:g} s of items at burst_rps every {PERIOD_S:g} s; the pool's "
        "capacity is instances × threads / (item time + hops) ≈ 4100 items/s at the "
        "defaults, so a 40 000-item batch drains in about 10 s.",
        "SQS semantics: a failed item is visible again after a 5 s visibility timeout and "
        "goes to the dead-letter queue after 5 deliveries.",
        "Each batch is claimed drained before the next when the pool works it off (each "
        "item delivered 1 / (1 − r) times, r the share of deliveries that fail or outlast "
        "the 5 s visibility timeout) with a visibility timeout to spare within the 20 s; "
        "not at workers=1, threads=1 (a batch takes 77 s), item_ms=60000 or failures=0.5 "
        "(19.4 s). Dead letters are expected at 3 batches × r^5.",
        "The pool is fixed (no autoscaling): the backlog and the drain time show what an "
        "autoscaler on the queue's backlog would have to absorb.",
    ))
