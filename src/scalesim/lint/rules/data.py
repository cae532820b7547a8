"""Rules about delivery guarantees and sagas: somewhere for poison messages, idempotent
consumers where messages can come twice, a compensation for every step that a later
failure would leave half done, and partitions only on a queue whose broker has them."""

from __future__ import annotations

from collections.abc import Iterator

from scalesim.lint.context import Context
from scalesim.lint.estimates import latency_s, ms, round_trip_s, share_beyond_s
from scalesim.lint.finding import Hit
from scalesim.lint.rules import queues
from scalesim.spec.checks import dead_letter_queues, iter_calls
from scalesim.spec.errors import counted
from scalesim.spec.model import SagaBlock


def _outbox_fed(ctx: Context) -> set[str]:
    """Queues that an outbox relay publishes to (at least once, whatever the queue does)."""
    return {call.to.partition(".")[0] for _, _, _, call in iter_calls(ctx.system)
            if call.outbox is not None}


def no_dead_letter(ctx: Context) -> Iterator[Hit]:
    """SS403: a queue whose failed messages have nowhere to go (dead-letter queues
    themselves excepted), including one whose `dead_letter` nothing can reach: only a
    message past `max_deliveries`, delivered at least once, is dead-lettered."""
    dead_letters = dead_letter_queues(ctx.system)
    for name, component in queues.queues(ctx):
        if name in dead_letters or not component.consumers:
            continue
        delivery = component.delivery
        target = delivery.dead_letter if delivery is not None else None
        if delivery is None or delivery.guarantee == "at_most_once":
            unused = f" (its dead_letter '{target}' receives nothing)" if target else ""
            yield Hit(("components", name),
                      f"queue '{name}' acknowledges on delivery (at most once): a message its "
                      f"consumer fails on is lost, and nobody sees it{unused}; deliver at "
                      f"least once with {_missing_limits(target is not None)}")
        elif delivery.max_deliveries is None:
            unused = f", so its dead_letter '{target}' never receives one" if target else ""
            yield Hit(("components", name, "delivery"),
                      f"queue '{name}' redelivers a failed message without limit{unused}: a "
                      "poison message comes back forever, wasting a delivery each time; set "
                      f"{_missing_limits(target is not None, 'SQS maxReceiveCount')}")
        elif delivery.dead_letter is None:
            yield Hit(("components", name, "delivery"),
                      f"queue '{name}' drops a message after {delivery.max_deliveries} "
                      "deliveries: it is lost without a trace; name a 'dead_letter' queue")


def _missing_limits(has_dead_letter: bool, source: str = "") -> str:
    """What SS403 asks for: 'max_deliveries', and a 'dead_letter' queue unless one is set."""
    limit = f"'max_deliveries' ({source})" if source else "'max_deliveries'"
    return limit if has_dead_letter else f"{limit} and a 'dead_letter' queue"


def duplicates_without_idempotency(ctx: Context) -> Iterator[Hit]:
    """SS404: a consumer that can receive a message twice and is not idempotent."""
    fed = _outbox_fed(ctx)
    for name, component in queues.queues(ctx):
        delivery = component.delivery
        guarantee = delivery.guarantee if delivery is not None else "at_most_once"
        if guarantee == "effectively_once":
            continue
        reasons = []
        if guarantee == "at_least_once":
            reasons.append("it delivers at least once (a failed, slow or crashed delivery "
                           "comes back)")
        if name in fed:
            reasons.append("an outbox relay publishes to it at least once (a relay crash "
                           "publishes again)")
        if not reasons:
            continue
        for index, consumer in enumerate(component.consumers):
            if not consumer.idempotent:
                yield Hit(("components", name, "consumers", index),
                          f"consumer '{consumer.to}' of queue '{name}' can receive a message "
                          f"twice: {' and '.join(reasons)}, and it is not idempotent, so a "
                          "duplicate is processed twice (a double charge, a second e-mail); "
                          "make it idempotent (an upsert, a dedup table: 'idempotent: true') "
                          "or use 'guarantee: effectively_once'")


# A delivery taking this share of its visibility timeout or more, with no queueing, outlives
# it often: e^(−3) ≈ 5 % of exponential times are past three times their mean.
OUTLIVES = 1.0 / 3.0


def deliveries_outlive_visibility(ctx: Context) -> Iterator[Hit]:
    """SS407: a queue (no partitions, acknowledging after processing) whose consumer takes,
    with no queueing, a third of the visibility timeout or more: a share of its deliveries is
    still running when the message becomes visible again, and is delivered a second time."""
    for name, component in queues.queues(ctx):
        delivery = component.delivery
        if delivery is None or delivery.guarantee == "at_most_once" or \
                component.partitions is not None or not component.consumers:
            continue
        visible = delivery.visibility_timeout
        took, slowest = max((latency_s(ctx, ".".join(ctx.system.resolve(c.to)))
                             + round_trip_s(ctx), c.to) for c in component.consumers)
        if took < OUTLIVES * visible:
            continue
        late = share_beyond_s(ctx, ".".join(ctx.system.resolve(slowest)), visible)
        more = ", more once the consumer queues" if late < 1.0 else ""
        yield Hit(("components", name, "delivery", "visibility_timeout"),
                  f"a delivery of '{name}' to '{slowest}' takes about {ms(took)} with no "
                  f"queueing, against a visibility_timeout of {ms(visible)}: a delivery "
                  "still running when it ends makes the message visible again, and a second "
                  f"delivery processes it too (about {late:.0%} of them by the work's "
                  f"distribution{more}), adding load as it slows; "
                  "make the timeout several times the processing time (AWS asks six times a "
                  "Lambda consumer's timeout)")


def saga_steps_without_compensation(ctx: Context) -> Iterator[Hit]:
    """SS405: a saga step that a later step's failure would leave committed."""
    for cname, component in ctx.system.components.items():
        for oname, operation in component.effective_operations.items():
            for index, step in enumerate(operation.calls):
                if not isinstance(step, SagaBlock):
                    continue
                saga = step.saga
                # Steps after the pivot are retriable and never undone; the last step
                # before the end has nothing after it that could fail.
                last_undone = min(saga.pivot, len(saga.steps) - 1)
                for number, saga_step in enumerate(saga.steps[:last_undone]):
                    if saga_step.compensate is None:
                        after = saga.steps[number + 1:last_undone + 1]
                        yield Hit(("components", cname, "operations", oname, "calls", index,
                                   "saga", "steps", number),
                                  f"saga step '{saga_step.label}' of {cname}.{oname} has no "
                                  "compensation: if "
                                  f"{', '.join(repr(s.label) for s in after)} then fails, "
                                  "its effect stays while the saga reports itself undone; "
                                  "add 'compensate', or make it the pivot if nothing after "
                                  "it can fail for a business reason")


def partitions_without_kafka(ctx: Context) -> Iterator[Hit]:
    """SS406: `partitions` (and `group`) on a queue that is not Kafka: the simulation runs it
    as a partitioned topic with consumer groups, which only Kafka has, so `generate` writes
    none of it (a queue without `tech` runs RabbitMQ)."""
    for name, component in queues.queues(ctx):
        tech = (component.tech or "").lower()
        if component.partitions is None or tech == "kafka":
            continue
        fields = "'partitions' and 'group'" if component.group is not None else "'partitions'"
        runs = f"its tech is {component.tech}" if component.tech else \
            "it has no tech (generate runs RabbitMQ)"
        yield Hit(("components", name, "partitions"),
                  f"queue '{name}' sets {fields} but {runs}: the simulation treats it as a "
                  f"Kafka topic of {counted(component.partitions, 'partition')} (in order per "
                  "partition, one group member each, rebalances), while the generated "
                  "broker settings have no partitions or consumer groups, so the deployed "
                  "queue behaves otherwise; set 'tech: kafka', or drop "
                  f"{fields} to simulate competing consumers")
