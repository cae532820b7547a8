"""The architecture as a plain graph: what every diagram format draws.

DOT and Mermaid writers read this one model, so they show the same nodes, edges and badges;
a result only adds colours and traffic (`overlay`). Built from a `System`, or — when only a
result is at hand — from the components and calls the result lists.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from scalesim.diagnosis.context import SHOWN_UNEVEN, uneven
from scalesim.spec.data import Consumer
from scalesim.spec.model import Call, Kind, ParallelStep, System, Workload, plain_steps

WORKLOAD = "workload"


class ColorBy(StrEnum):
    UTILIZATION = "utilization"
    ERRORS = "errors"


class Cluster(StrEnum):
    GROUP = "group"
    KIND = "kind"
    NONE = "none"


class Route(StrEnum):
    """What an edge carries, so every format can draw it apart: a call or a queue's delivery;
    an event store's projection (committed events delivered to a read model's updater: the
    link between a CQRS system's write and read sides); a queue's dead-letter route (where
    messages go past their last delivery: the failure path)."""

    CALL = "call"
    PROJECTION = "projection"
    DEAD_LETTER = "dead_letter"


# The colour of an edge's line and label, the same in every format (a call's is the default).
ROUTE_COLOURS = {Route.PROJECTION: "#2b6cb0", Route.DEAD_LETTER: "#c0392b"}


@dataclass(frozen=True)
class Node:
    id: str
    name: str
    kind: str  # a component Kind, or "workload"
    detail: str
    group: str | None = None
    fill: str | None = None
    metric: str | None = None


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    caller: str  # component.operation (or workload name)
    callee: str  # component.operation
    lines: tuple[str, ...]
    is_async: bool = False
    route: Route = Route.CALL
    rps: float | None = None
    width: float = 1.0


@dataclass(frozen=True)
class Architecture:
    name: str
    description: str | None
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def _seconds(value: float) -> str:
    return f"{value * 1e3:g}ms" if value < 1 else f"{value:g}s"


def _rate(workload: Workload) -> str:
    if workload.users is not None:
        return f"{workload.users} users"
    if workload.profile is not None:
        return "rate profile"
    assert workload.rate is not None
    return f"{workload.rate:g}/s"


def badges(call: Call) -> list[str]:
    """Short words for each policy a call carries, in the order they wrap the call."""
    out: list[str] = []
    if call.timeout is not None:
        out.append(f"timeout {_seconds(call.timeout)}")
    if call.deadline is not None:
        out.append(f"deadline {_seconds(call.deadline)}")
    if call.retry is not None and call.retry.attempts > 1:
        out.append(f"retry ×{call.retry.attempts}")
    if call.circuit_breaker is not None:
        out.append("breaker")
    if call.bulkhead is not None:
        limit = (call.bulkhead.max_concurrent if call.bulkhead.type == "semaphore"
                 else call.bulkhead.size)
        out.append(f"bulkhead {limit}")
    if call.hedge is not None:
        after = call.hedge.after
        out.append(f"hedge {after if isinstance(after, str) else _seconds(after)}")
    if call.on_failure != "fail":
        out.append("continue" if call.on_failure == "continue" else "fallback")
    return out


def _mode(call: Call, parallel: str | None) -> str:
    parts = [f"outbox ({call.outbox.relay})" if call.outbox is not None
             else "async" if call.async_ else "sync"]
    if parallel:
        parts.append(parallel)
    if call.probability < 1:
        parts.append(f"p={percent(call.probability)}")
    return " · ".join(parts)


def _parallel_label(step: ParallelStep) -> str:
    wait = step.parallel.wait_for
    branches = len(step.parallel.calls)
    return f"parallel, wait {wait}" if isinstance(wait, str) else (
        f"parallel, wait {wait} of {branches}")


def derive_groups(names: list[str]) -> dict[str, str]:
    """A component's group is the part of its name before the first '-' when at least two
    components share it (orders-api and orders-db form 'orders'); others have none."""
    prefixes = {name: name.split("-", 1)[0] for name in names if "-" in name}
    shared = Counter(prefixes.values())
    return {name: prefix for name, prefix in prefixes.items() if shared[prefix] >= 2}


def _component_detail(kind: str, replicas: int, workers: int | None, tech: str | None) -> str:
    parts = [f"{kind}{f' ({tech})' if tech else ''}", f"×{replicas}"]
    if workers is not None:
        parts.append(f"{workers} workers")
    return " · ".join(parts)


def architecture(system: System, cluster: Cluster = Cluster.GROUP) -> Architecture:
    """Components, workload entry points and one edge per call of the spec, in spec order."""
    groups = _groups(list(system.components), {n: c.kind.value
                                               for n, c in system.components.items()}, cluster)
    nodes = [Node(f"workload:{wl.name}", wl.name, WORKLOAD, _rate(wl)) for wl in system.workloads]
    nodes += [Node(name, name, comp.kind.value,
                   _component_detail(comp.kind.value, comp.replicas, comp.worker_limit,
                                     comp.tech), groups.get(name))
              for name, comp in system.components.items()]
    edges: list[Edge] = []
    for wl in system.workloads:
        target, operation = system.resolve(wl.to)
        edges.append(Edge(f"workload:{wl.name}", target, wl.name, f"{target}.{operation}",
                          (operation,)))
    for name, comp in system.components.items():
        for op_name, op in comp.effective_operations.items():
            for step in plain_steps(op.calls, compensations=True):
                calls, parallel = ((step.parallel.calls, _parallel_label(step))
                                   if isinstance(step, ParallelStep) else ([step], None))
                for call in calls:
                    edges.append(_call_edge(system, f"{name}.{op_name}",
                                            system.effective(call), parallel))
            if comp.kind is Kind.CACHE and comp.backend is not None:
                edges.append(_cache_edge(system, name, op_name))
        edges += [_delivery_edge(system, name, consumer) for consumer in comp.consumers]
        if comp.event_store is not None:
            edges += [_delivery_edge(system, name, projection, Route.PROJECTION)
                      for projection in comp.event_store.projections]
        delivery = comp.delivery
        if delivery is not None and delivery.dead_letter is not None:
            edges.append(_dead_letter_edge(name, delivery.dead_letter, delivery.guarantee,
                                           delivery.max_deliveries))
    return Architecture(system.name, system.description, tuple(nodes), tuple(edges))


# The first words of a delivery's label: a queue delivers, an event store projects.
_DELIVERY = {Route.CALL: ("deliver", "async"), Route.PROJECTION: ("project", "projection · async")}


def _delivery(source: str, target: str, operation: str, route: Route, extra: str = "") -> Edge:
    """A queue's delivery to a consumer, or an event store's to a projection: asynchronous."""
    verb, mode = _DELIVERY[route]
    return Edge(source, target, source, f"{target}.{operation}",
                (f"{verb} → {operation}", mode + extra), is_async=True, route=route)


def _operation(ref: str) -> tuple[str, str]:
    """'projector.apply' -> ('projector', 'apply')."""
    component, _, operation = ref.partition(".")
    return component, operation


def _delivery_edge(system: System, source: str, consumer: Consumer,
                   route: Route = Route.CALL) -> Edge:
    target, operation = system.resolve(consumer.to)
    return _delivery(source, target, operation, route, f" · concurrency {consumer.concurrency}")


def _dead_letter_edge(queue: str, dead_letter: str, guarantee: str | None,
                      max_deliveries: int | None) -> Edge:
    """A queue's failure path to its dead-letter queue, saying when a message takes it (from
    its `delivery`, or from a result's subscriptions of the queue, which repeat it)."""
    if guarantee == "at_most_once":
        when = "never: at most once drops a failed message"
    elif max_deliveries is None:
        when = "never: no max_deliveries"
    else:
        when = f"failure path · after {max_deliveries} deliveries"
    return Edge(queue, dead_letter, queue, dead_letter, ("dead letter", when), is_async=True,
                route=Route.DEAD_LETTER)


def _cache_edge(system: System, name: str, op_name: str) -> Edge:
    """A cache's miss to its backend, or a write operation's write to `caching.write_to`."""
    comp = system.components[name]
    caching = comp.caching
    assert comp.backend is not None
    if caching is None:
        mode = f"sync · miss {percent(1 - (comp.hit_ratio or 0.0))}"
        ref = comp.backend
    elif op_name in caching.writes:
        assert caching.write_to is not None
        ref = caching.write_to
        mode = caching.write_policy.replace("_", "-")
        if caching.write_policy == "write_behind":
            mode += f" · every {_seconds(caching.flush_interval)}"
    else:
        ref = comp.backend
        mode = "sync · miss" + (f" · TTL {_seconds(caching.ttl)}" if caching.ttl else "")
    target, operation = system.resolve(ref)
    return Edge(name, target, f"{name}.{op_name}", f"{target}.{operation}",
                (f"{op_name} → {operation}", mode),
                is_async=caching is not None and op_name in caching.writes
                and caching.write_policy == "write_behind")


def _call_edge(system: System, caller: str, call: Call, parallel: str | None) -> Edge:
    target, operation = system.resolve(call.to)
    lines = [f"{caller.split('.', 1)[1]} → {operation}", _mode(call, parallel)]
    policy = badges(call)
    if policy:
        lines.append(" · ".join(policy))
    return Edge(caller.split(".", 1)[0], target, caller, f"{target}.{operation}", tuple(lines),
                is_async=call.async_)


def _groups(names: list[str], kinds: dict[str, str], cluster: Cluster) -> dict[str, str]:
    if cluster is Cluster.KIND:
        return kinds
    return derive_groups(names) if cluster is Cluster.GROUP else {}


def architecture_from_result(result: dict[str, Any],
                             cluster: Cluster = Cluster.GROUP) -> Architecture:
    """What a result alone tells: components with kind and replicas, its call edges, its
    queues' deliveries and dead-letter routes, and its event stores' projections. Workload
    entry points and call policies are in the spec only."""
    components: dict[str, Any] = result["components"]
    groups = _groups(list(components), {n: c["kind"] for n, c in components.items()}, cluster)
    nodes = tuple(Node(name, name, comp["kind"],
                       _component_detail(comp["kind"], comp["replicas"], None, None),
                       groups.get(name)) for name, comp in components.items())
    edges = tuple(Edge(call["from"].split(".", 1)[0], call["to"].split(".", 1)[0], call["from"],
                       call["to"], (f"{call['from'].split('.', 1)[1]} → "
                                    f"{call['to'].split('.', 1)[1]}",
                                    "async" if call["async"] else "sync"),
                       is_async=call["async"]) for call in result["calls"])
    deliveries = [(*name.split("->", 1), Route.CALL) for name in result.get("queues") or {}]
    deliveries += [(store, target, Route.PROJECTION)
                   for store, found in (result.get("event_stores") or {}).items()
                   for target in found["projections"]]
    edges += tuple(_delivery(source, *_operation(target), route)
                   for source, target, route in deliveries)
    return Architecture(result["system"], None, nodes, edges + _dead_letter_routes(result))


def _dead_letter_routes(result: dict[str, Any]) -> tuple[Edge, ...]:
    """One route per queue whose subscriptions name a dead-letter queue (every subscription
    of a queue names the same one: the queue's `delivery`)."""
    routes: dict[str, Edge] = {}
    for name, found in (result.get("queues") or {}).items():
        queue = name.split("->", 1)[0]
        if found.get("dead_letter") is not None and queue not in routes:
            routes[queue] = _dead_letter_edge(queue, found["dead_letter"],
                                              found.get("guarantee"),
                                              found.get("max_deliveries"))
    return tuple(routes.values())


def heat(value: float, good: float, bad: float) -> str:
    """Green at or below `good`, amber halfway, red at or above `bad` (hex colour)."""
    share = min(1.0, max(0.0, (value - good) / (bad - good)))
    stops = [(0xd9, 0xf2, 0xd9), (0xff, 0xe0, 0x8a), (0xf4, 0x9a, 0x8f)]
    low, high = (stops[0], stops[1]) if share < 0.5 else (stops[1], stops[2])
    local = share * 2 if share < 0.5 else share * 2 - 1
    return "#" + "".join(f"{round(a + (b - a) * local):02x}" for a, b in zip(low, high,
                                                                             strict=True))


UNKNOWN_FILL = "#e8e8e8"


def percent(share: float) -> str:
    """A share as a percentage to three significant digits, never in exponent form and
    never rounded onto 0 % or 100 % unless it is: 1 -> '100%', 0.125 -> '12.5%',
    0.0004 -> '0.04%', 0.9996 -> '99.9%'."""
    value = share * 100
    if value <= 0 or value >= 100:
        return f"{value:.0f}%"
    decimals = max(0, 2 - math.floor(math.log10(value)))
    if round(value, decimals) >= 100:  # 99.96 would print as 100: not everything failed
        value = math.floor(value * 10) / 10
    return f"{value:.{decimals}f}".rstrip("0").rstrip(".") + "%"


def component_error_rate(component: dict[str, Any]) -> float | None:
    total = sum(op["requests"]["total"] for op in component["operations"].values())
    failed = sum(op["requests"]["failed"] for op in component["operations"].values())
    return failed / total if total else None


def own_latency(component: dict[str, Any]) -> dict[str, float | None]:
    """A component's visit latency; none for a queue whose visits took no time (a publish
    acknowledged at once has no latency of its own: "0.00 ms" would read as a fast one)."""
    latency: dict[str, float | None] = component["latency_ms"]
    return {} if component["kind"] == "queue" and not latency.get("max") else latency


# Causes an attempt fails with inside the caller, before it is sent (docs/results.md).
LOCAL = ("circuit_open", "bulkhead_full", "overflow")


def _node_colour(node: Node, component: dict[str, Any], color_by: ColorBy) -> Node:
    errors = component_error_rate(component)
    util = component["utilization"]
    util_text = (f"util {util * 100:.0f}%" if util is not None
                 else f"{component['concurrency_mean']:.1f} busy")
    hottest = uneven(component, SHOWN_UNEVEN)
    if hottest is not None:  # coloured by the replica at its limit, not the average
        util_text += f" (r{hottest[0]} {hottest[1] * 100:.0f}%)"
        util = hottest[1]
    metric = f"{util_text} · err {percent(errors)}" if errors is not None else util_text
    if color_by is ColorBy.UTILIZATION:
        fill = heat(util, 0.5, 0.95) if util is not None else UNKNOWN_FILL
    else:
        fill = heat(errors, 0.001, 0.1) if errors is not None else UNKNOWN_FILL
    return replace(node, fill=fill, metric=metric)


def overlay(arch: Architecture, result: dict[str, Any], color_by: ColorBy) -> Architecture:
    """Colour components by what happened and weight edges by their traffic: attempts per
    second that left the caller (an open breaker's, a full bulkhead's or connection pool's
    refusals never reach the callee: they are named on the edge instead)."""
    runs = result["simulated_s"] * result["replications"]
    traffic: dict[tuple[str, str], list[float]] = defaultdict(list)
    refused: dict[tuple[str, str], list[float]] = defaultdict(list)
    for call in result["calls"]:
        local = sum(call["attempt_failures_by_cause"].get(cause, 0) for cause in LOCAL)
        traffic[(call["from"], call["to"])].append((call["attempts"] - local) / runs)
        refused[(call["from"], call["to"])].append(local / runs)
    dead_lettered: Counter[str] = Counter()
    for name, queue in (result.get("queues") or {}).items():
        source, target = name.split("->", 1)
        traffic[(source, target)].append(queue["delivered_rps"])
        dead_lettered[source] += queue["dead_lettered"]
    for store, found in (result.get("event_stores") or {}).items():
        for target, projection in found["projections"].items():
            traffic[(store, target)].append(projection["delivered_rps"])
    for edge in arch.edges:
        if edge.route is Route.DEAD_LETTER:
            traffic[(edge.caller, edge.callee)].append(dead_lettered[edge.caller] / runs)
    for name, workload in result["workloads"].items():
        traffic[(name, "")].append(workload["throughput_rps"])
    rates: list[float | None] = []
    held: list[float] = []
    for edge in arch.edges:
        key = (edge.caller, "" if edge.source.startswith("workload:") else edge.callee)
        rates.append(traffic[key].pop(0) if traffic.get(key) else None)
        held.append(refused[key].pop(0) if refused.get(key) else 0.0)
    top = max((r for r in rates if r), default=0.0)
    edges = tuple(replace(edge, rps=rate, lines=(
                              *edge.lines, f"{rate:,.1f} rps",
                              *([f"{kept:,.1f}/s refused in the caller"] if kept else [])),
                          width=1.0 + 4.0 * math.log1p(rate) / math.log1p(top) if top else 1.0)
                  if rate is not None else edge
                  for edge, rate, kept in zip(arch.edges, rates, held, strict=True))
    components = result["components"]
    nodes = tuple(_node_colour(node, components[node.name], color_by)
                  if node.kind != WORKLOAD and node.name in components else node
                  for node in arch.nodes)
    return replace(arch, nodes=nodes, edges=edges)
