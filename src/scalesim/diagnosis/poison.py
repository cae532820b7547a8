"""Messages that fail at every delivery (poison: a malformed payload) on a queue with no
`max_deliveries`: nothing ends their redelivery loop, so they stay forever, each delivery
wasted work, and the backlog grows by their rate. They wait out their visibility timeout
between deliveries, invisible, so the backlog rule (`queues`) leaves them out; the sign
is a message older than chance allows, with failed deliveries beyond what the messages that
settled account for. The fix is SQS's redrive policy: `max_deliveries` and a dead-letter
queue (docs/data.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from scalesim.diagnosis.context import NOTABLE, Run, flow
from scalesim.diagnosis.finding import Finding, Fix, count, duration, rate, share
from scalesim.diagnosis.subscriptions import Subscription, subscription_of
from scalesim.spec.data import Delivery
from scalesim.spec.model import Kind

# A message that settled failing independently at p would fail n times in a row with
# probability p^n: below CHANCE expected messages in the window, the oldest one's failures
# are not chance but a message that fails every time.
CHANCE = 0.01
GOOD_DEAD_LETTERED = NOTABLE / 10  # a fix's max_deliveries dead-letters a healthy message
# under this share (one failing only transiently, at the measured rate)
MOST_DELIVERIES = 1000  # the spec's (and SQS maxReceiveCount's) highest max_deliveries


@dataclass(frozen=True)
class Loop:
    """A subscription's endless redelivery loop as measured (counts over the window)."""

    fail_share: float  # p: a delivery of a message that settled fails
    wasted: float  # failed deliveries beyond the settled messages' own
    oldest_s: float  # the oldest unsettled message's wait at the end
    tries: int  # deliveries it had at least, one a cycle
    cycle_s: float  # a failed delivery and its wait before the next


def endless_redelivery(run: Run, name: str, queue: dict[str, Any]) -> Finding | None:
    """The finding for subscription `name` when messages that fail at every delivery loop
    forever on it (`_loop`) — on a queue redelivering them without a limit, with no fault on
    it or its consumer; None otherwise."""
    sub = subscription_of(run, name)
    delivery = sub.topic.delivery
    if delivery is None or delivery.guarantee == "at_most_once" or \
            delivery.max_deliveries is not None or sub.topic.partitions is not None or \
            run.faults_on(sub.consumer_name) or run.faults_on(sub.queue):
        return None  # a fault fails messages whatever they hold: its findings tell it
    loop = _loop(run, sub, delivery, queue)
    if loop is None:
        return None
    run.explained.add(sub.consumer_name)
    return _finding(run, sub, delivery, queue, loop)


def _loop(run: Run, sub: Subscription, delivery: Delivery, queue: dict[str, Any]
          ) -> Loop | None:
    """The loop when the backlog grew, some messages settled (p from their deliveries
    each: 1 − 1 / deliveries per message, a geometric count), the failed deliveries beyond
    theirs are NOTABLE of the deliveries or more, and the oldest unsettled message had
    more failed deliveries than `published` messages failing at p would have by CHANCE;
    else None."""
    per_message = queue.get("deliveries_per_message")
    deliveries = int(queue["deliveries"])
    if per_message is None or not deliveries or queue["backlog_end"] <= queue["backlog_start"]:
        return None
    fail_share = max(0.0, 1.0 - 1.0 / per_message)
    wasted = int(queue["failed"]) - int(queue["delivered"]) * (per_message - 1.0)
    if wasted < NOTABLE * deliveries:
        return None
    oldest_s = (queue.get("oldest_end_ms") or 0.0) / 1e3
    work_s = (run.latency_ms(sub.target).get("p50") or 0.0) / 1e3
    cycle_s = work_s + (delivery.visibility_timeout if delivery.redelivery ==
                        "visibility_timeout" else 0.0)
    tries = math.floor(oldest_s / cycle_s) if cycle_s > 0 else 0
    if tries < 2 or int(queue["published"]) * fail_share ** tries >= CHANCE:
        return None
    return Loop(fail_share, wasted, oldest_s, tries, cycle_s)


def _finding(run: Run, sub: Subscription, delivery: Delivery, queue: dict[str, Any],
             loop: Loop) -> Finding:
    start, end = int(queue["backlog_start"]), int(queue["backlog_end"])
    growth = (end - start) / float(run.result["simulated_s"])
    deliveries = int(queue["deliveries"])
    evidence = [
        f"{count(queue['failed'])} of {count(deliveries)} deliveries failed "
        f"({share(queue['failed'] / deliveries)}); the messages that settled took "
        f"{queue['deliveries_per_message']:.3g} deliveries each (a delivery failed "
        f"{share(loop.fail_share)} of the time), so about {count(loop.wasted)} "
        f"({share(loop.wasted / deliveries)}) were deliveries of messages that never "
        "settle: wasted work",
        f"the oldest unsettled message has waited {duration(loop.oldest_s)}: about "
        f"{loop.tries} deliveries {duration(loop.cycle_s)} apart "
        f"({_redelivery_text(delivery)}), every one failed; a message failing at "
        f"{share(loop.fail_share)} fails that many in a row with probability "
        f"{loop.fail_share ** loop.tries:.1g}: it fails at every delivery",
        f"the backlog went from {count(start)} to {count(end)} over the window "
        f"(+{rate(growth)}): the messages that fail every time stay"]
    if delivery.poison:
        evidence.append(f"{sub.queue}.delivery.poison is {share(delivery.poison)}: that share "
                        "of messages fails at every delivery")
    summary = (f"{sub.name}: messages that fail at every delivery come back forever (no "
               f"max_deliveries); the backlog grows {rate(growth)}, its oldest message "
               f"{duration(loop.oldest_s)} old")
    return Finding("backlog", "problem", sub.name, summary, "max_deliveries",
                   tuple(evidence), _redrive_fix(run, sub, delivery, loop),
                   {"published_rps": queue["published_rps"] or 0.0,
                    "backlog_growth_rps": growth, "backlog_end": float(end),
                    "wasted_deliveries": loop.wasted,
                    "wasted_share": loop.wasted / deliveries,
                    "oldest_s": loop.oldest_s, "delivery_fail_share": loop.fail_share})


def _redelivery_text(delivery: Delivery) -> str:
    if delivery.redelivery == "visibility_timeout":
        return f"visibility_timeout {duration(delivery.visibility_timeout)}"
    return "requeued at once"


def _redrive_fix(run: Run, sub: Subscription, delivery: Delivery, loop: Loop) -> Fix:
    """SQS's redrive policy: `max_deliveries` (maxReceiveCount) the fewest, from 2, that
    dead-letters a message failing only transiently (at p) under GOOD_DEAD_LETTERED of the
    time, p^m, and a dead-letter queue for the rest (a new queue component when the spec has
    no free one: an override may add a component)."""
    tries = 2
    while tries < MOST_DELIVERIES and loop.fail_share ** tries >= GOOD_DEAD_LETTERED:
        tries += 1
    target, new = _dead_letter_queue(run, sub)
    overrides = [] if new is None else [f"components.{target}={flow(new)}"]
    overrides += [f"components.{sub.queue}.delivery.max_deliveries={tries}",
                  f"components.{sub.queue}.delivery.dead_letter={target}"]
    wait = (tries - 1) * loop.cycle_s
    return Fix(f"end the loop with a redrive policy: {sub.queue}.delivery.max_deliveries "
               f"{tries} (SQS maxReceiveCount) and dead_letter {target}"
               f"{' (a new queue)' if new is not None else ''}: a message that fails "
               f"{tries} times goes there for someone to inspect and replay, after about "
               f"{duration(wait)}, instead of coming back forever; one failing only "
               f"transiently ({share(loop.fail_share)} a delivery) ends there "
               f"{share(loop.fail_share ** tries)} of the time, under "
               f"{share(GOOD_DEAD_LETTERED)}", tuple(overrides))


def _dead_letter_queue(run: Run, sub: Subscription) -> tuple[str, dict[str, Any] | None]:
    """The dead-letter queue for `sub`'s queue: `QUEUE-dlq` (numbered when that name is
    another component's), and the component to add (a queue of the same tech) unless a
    queue of that name without consumers is there already."""
    components = run.system.components
    name, number = f"{sub.queue}-dlq", 1
    while name in components and (components[name].kind is not Kind.QUEUE
                                  or components[name].consumers):
        number += 1
        name = f"{sub.queue}-dlq-{number}"
    if name in components:
        return name, None
    tech = sub.topic.tech
    return name, {"kind": "queue", **({"tech": tech} if tech is not None else {})}
