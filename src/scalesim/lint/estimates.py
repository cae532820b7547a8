"""Back-of-the-envelope numbers the messages quote: means, no-queueing latencies, what a
subscription drains. Deliberately simple (no queueing, no retries); the simulator gives the
real answer. The rates operations receive are the load model's (`Context.rates`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from scalesim.analytic import lattice
from scalesim.budget import amount
from scalesim.lint.load import Feed, subscriptions
from scalesim.spec.checks import callees_first
from scalesim.spec.data import Consumer, most_in_flight
from scalesim.spec.demand import extra_s
from scalesim.spec.model import Component, Kind, ParallelStep, plain_steps

if TYPE_CHECKING:  # the context imports this module for the subscriptions' drains
    from scalesim.lint.context import Context


def ms(seconds: float) -> str:
    """A duration for a message: '2.5 ms', '1.5 s'."""
    if math.isinf(seconds):
        return "unbounded"
    return f"{seconds:.4g} s" if seconds >= 1.0 else f"{seconds * 1000:.4g} ms"


def pct(fraction: float) -> str:
    """A share for a message: '97.02%', '99.9999%', '100%'."""
    return f"{fraction * 100:.6g}%"


def per_s(rate: float) -> str:
    """A rate for a message, never in scientific notation: '100,000/s', '42.5/s'."""
    return f"{amount(rate)}/s"


def own_time_s(ctx: Context, op: str) -> float:
    """Mean local time of one operation: its CPU demand, `post_work`, `wait` and overheads."""
    operation = ctx.operation(op)
    component, name = op.split(".", 1)
    return operation.demand.mean_s + operation.post_work.mean_s \
        + extra_s(ctx.system, component, name)


def round_trip_s(ctx: Context) -> float:
    """Mean network time of one hop, there and back."""
    return 2.0 * ctx.system.defaults.network.mean_s


def latency_s(ctx: Context, op: str) -> float:
    """Mean latency of `op` with no queueing anywhere: own work, plus what it waits on
    (weighted by call probability and cache miss ratio; a fan-out waits for its k-th branch).
    Computed callees first, so a long chain needs no recursion, and once per lint."""
    known = ctx.latencies
    if op not in known:
        for name in callees_first(ctx.system, [op]):
            if name not in known:
                known[name] = _latency_given(ctx, name, known)
    return known[op]


def share_beyond_s(ctx: Context, op: str, limit: float) -> float:
    """P(a delivery to `op`, with no queueing, takes longer than `limit`): its CPU demand
    by the spec's distribution (as a lattice), the rest (its calls, `post_work`, the hops
    there and back) at their means. A constant 5 s of work is late for a 1 s limit every
    time, which no single mean-based formula would say."""
    demand = ctx.operation(op).demand
    rest = latency_s(ctx, op) + round_trip_s(ctx) - demand.mean_s
    return 1.0 - lattice.of(demand).cdf(limit - rest)


def _latency_given(ctx: Context, op: str, known: dict[str, float]) -> float:
    """The latency of `op` from those of the operations it waits on, in `known`."""
    system = ctx.system
    total = own_time_s(ctx, op)

    def wait(ref: str, probability: float) -> float:
        return probability * (round_trip_s(ctx) + known[".".join(system.resolve(ref))])

    for step in plain_steps(ctx.operation(op).calls):
        if isinstance(step, ParallelStep):
            branches = sorted(0.0 if call.async_ else wait(call.to, call.probability)
                              for call in step.parallel.calls)
            wait_for = step.parallel.wait_for
            k = len(branches) if wait_for == "all" else 1 if wait_for == "any" else wait_for
            total += branches[int(k) - 1]
        elif not step.async_:
            total += wait(step.to, step.probability)
    for edge in ctx.graph.sync_out.get(op, []):
        if edge.call is None:  # a cache's miss or write
            total += edge.probability * (round_trip_s(ctx) + known[edge.target])
    return total


def in_flight(ctx: Context, owner: Component, consumer: Consumer) -> int:
    """Deliveries a subscription has in flight at most (`most_in_flight`, as the simulator
    runs it); at most the consumer's workers when they block on its calls. An autoscaled
    consumer counts at autoscale.max, as the load does."""
    served_by = ctx.component(consumer.to)
    replicas = served_by.most_replicas
    count = most_in_flight(consumer, owner.partitions, replicas)
    workers = served_by.worker_limit
    if workers is not None and served_by.io == "blocking":
        count = min(count, replicas * workers)
    return count


def drain_rps(ctx: Context, owner: Component, consumer: Consumer) -> float:
    """Deliveries per second a subscription can take: those in flight over the consumer's
    no-queueing latency. The queue holds what comes faster, so its consumer is never
    offered more (and SS402 says the queue falls behind)."""
    seconds = latency_s(ctx, ".".join(ctx.system.resolve(consumer.to)))
    return math.inf if seconds == 0.0 else in_flight(ctx, owner, consumer) / seconds


def drain_rates(ctx: Context) -> dict[Feed, float]:
    """`drain_rps` of every subscription of a queue or event store."""
    return {(name, place): drain_rps(ctx, component, consumer)
            for name, component in ctx.system.components.items()
            for place, consumer in enumerate(subscriptions(component)[1])
            if component.kind is Kind.QUEUE or component.event_store is not None}
