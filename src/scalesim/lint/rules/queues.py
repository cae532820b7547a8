"""Rules about queues: bounded and drained fast enough (dead letters: see data.py)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

from scalesim.lint.context import Context
from scalesim.lint.estimates import in_flight, latency_s, ms, per_s
from scalesim.lint.finding import Hit
from scalesim.spec.checks import dead_letter_queues
from scalesim.spec.data import Consumer, most_in_flight
from scalesim.spec.model import Component, Kind


def queues(ctx: Context) -> Iterator[tuple[str, Component]]:
    """Every `kind: queue` component, by name."""
    for name, component in ctx.system.components.items():
        if component.kind is Kind.QUEUE:
            yield name, component


def unbounded_queues(ctx: Context) -> Iterator[Hit]:
    """SS401: a queue with no `capacity`, dead-letter queues excepted (rules about consuming
    or bounding a queue skip them): a capacity there
    drops exactly the messages it is there to keep, and it has no consumers to fall
    behind."""
    dead_letters = dead_letter_queues(ctx.system)
    for name, component in queues(ctx):
        if component.capacity is None and name not in dead_letters:
            yield Hit(("components", name),
                      f"queue '{name}' has no capacity: when its consumers fall behind, the "
                      "backlog and the wait of every message grow without limit instead of "
                      "pushing back on the publishers")


def slow_consumers(ctx: Context) -> Iterator[Hit]:
    """SS402: the workloads publish faster than a consumer can take messages off. The
    publish rate is the load model's (`Context.admits`): a queue behind another's consumer
    receives what that consumer drains, not what the workloads send the first, and a queue's
    own rate limit admits no more than its rate. Publish rates that never settle (calls
    looping back) are infinite and not judged."""
    system = ctx.system
    for name, component in queues(ctx):
        inflow = _inflow(component, name, ctx.admits)
        if not math.isfinite(inflow):
            continue
        for index, consumer in enumerate(component.consumers):
            target = ".".join(system.resolve(consumer.to))
            capacity = ctx.drains[(name, index)]
            concurrency, seconds = in_flight(ctx, component, consumer), latency_s(ctx, target)
            if inflow > 0.0 and inflow >= capacity:
                needed = _needed(ctx, inflow, target)
                yield Hit(("components", name, "consumers", index),
                          f"queue '{name}' {_receives(ctx, component, name, inflow)} but "
                          f"consumer '{target}' "
                          f"{_takes(ctx, consumer, capacity, concurrency, seconds)}: the "
                          f"backlog grows by {per_s(inflow - capacity)}; {needed} at once "
                          "keep it "
                          f"{ctx.config.utilization:.0%} busy: "
                          f"{_more_in_flight(ctx, component, index, needed)}")


def _takes(ctx: Context, consumer: Consumer, capacity: float, concurrency: int,
           seconds: float) -> str:
    """What a subscription takes off its queue at most, and how. An autoscaled consumer's
    is at the most replicas its autoscaler gives it (`in_flight` counts autoscale.max), so
    no scaling within its range keeps up: the message says so rather than quote a count."""
    how = f"{concurrency} at once, {ms(seconds)} each with no queueing"
    autoscale = ctx.component(consumer.to).autoscale
    if autoscale is None:
        return f"takes at most {per_s(capacity)} ({how})"
    most = f"{autoscale.max} replica{'' if autoscale.max == 1 else 's'}"
    return (f"takes at most {per_s(capacity)} even with '{_component(consumer)}' scaled to "
            f"its autoscale.max of {most} (autoscaled from {autoscale.min}; {how})")


def _component(consumer: Consumer) -> str:
    """The name of the component a subscription delivers to."""
    return consumer.to.split(".", 1)[0]


def _inflow(component: Component, name: str, rates: Mapping[str, float]) -> float:
    """Messages per second published to queue `name` at the operation `rates`."""
    return sum(rates[f"{name}.{op}"] for op in component.effective_operations)


def _receives(ctx: Context, component: Component, name: str, admitted: float) -> str:
    """What queue `name` takes in: the `admitted` messages per second, and what its rate
    limit refused of the publishes when it refuses some."""
    published = _inflow(component, name, ctx.rates)
    if admitted >= published:
        return f"receives {per_s(admitted)}"
    return f"admits {per_s(admitted)} of the {per_s(published)} published (its rate_limit)"


def _needed(ctx: Context, inflow: float, target: str) -> int:
    """Deliveries in flight that keep consumer operation `target` at the utilization."""
    return math.ceil(inflow * latency_s(ctx, target) / ctx.config.utilization - 1e-9)


def drain_change(ctx: Context, name: str, rates: Mapping[str, float]) -> str | None:
    """SS402's smallest change for the queue subscriptions that cannot take what is
    published to them at what the operations admit (`rates`: `Context.admits`) and feed
    component `name` at their drain rate: the deliveries in flight that keep it at the
    utilization, and what must grow for them (more replicas alone take no more off the
    queue). None when none does."""
    changes = []
    for queue, component in queues(ctx):
        inflow = _inflow(component, queue, rates)
        for index, consumer in enumerate(component.consumers):
            target = ".".join(ctx.system.resolve(consumer.to))
            if target.split(".", 1)[0] == name and math.isfinite(inflow) \
                    and inflow >= ctx.drains[(queue, index)] > 0.0:
                needed = _needed(ctx, inflow, target)
                changes.append(f"{needed} at once off '{queue}': "
                               f"{_more_in_flight(ctx, component, index, needed)}")
    return "; ".join(changes) or None


def _more_in_flight(ctx: Context, queue: Component, index: int, needed: int) -> str:
    """The smallest change that lets a subscription have `needed` deliveries in flight:
    what caps it now (the consumer's blocking workers, the partitions, prefetch or
    concurrency), raised."""
    consumer = queue.consumers[index]
    served_by = ctx.component(consumer.to)
    replicas = served_by.most_replicas
    changes = []
    workers = served_by.worker_limit
    if workers is not None and served_by.io == "blocking" and replicas * workers < needed:
        replicas = math.ceil(needed / workers)
        changes.append(f"'{_component(consumer)}' autoscale.max {replicas}"
                       if served_by.autoscale is not None
                       else f"'{_component(consumer)}' {replicas} replicas")
    partitions = queue.partitions
    if partitions is not None and partitions < needed:
        partitions = needed
        changes.append(f"{needed} partitions")
    if most_in_flight(consumer, partitions, replicas) < needed:
        if queue.partitions is not None:  # members take one record each: no prefetch
            changes.append(f"concurrency {math.ceil(needed / replicas)} a replica")
        elif consumer.prefetch is not None:
            changes.append(f"prefetch {math.ceil(needed / replicas)}")
        else:
            changes.append(f"concurrency {needed}")
    return " and ".join(changes) if changes else "the consumer's own limit"

