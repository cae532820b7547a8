"""Checks that need the whole system: references resolve, kinds get only their fields,
and no operation calls itself through a chain of synchronous calls (it would never finish)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

from scalesim.spec.bounds import MAX_REPLICAS_TOTAL, MAX_SERIES_POINTS
from scalesim.spec.errors import Path, did_you_mean
from scalesim.spec.model import Call, Kind, ParallelStep, System

Problem = tuple[Path, str]


def check_system(system: System) -> list[Problem]:
    problems: list[Problem] = []
    problems += _check_kinds(system)
    problems += _check_references(system)
    if not problems:
        problems += _check_sync_cycles(system)
        problems += _check_instant_loops(system)
        problems += _check_sizes(system)
    return problems


def iter_calls(system: System) -> Iterator[tuple[str, str, Path, Call]]:
    """Every call in the system: (component, operation, path of the call, call), with the
    call's `defaults.calls` settings filled in."""
    for cname, component in system.components.items():
        for oname, operation in component.effective_operations.items():
            base: Path = ("components", cname, "operations", oname, "calls")
            for index, step in enumerate(operation.calls):
                if isinstance(step, ParallelStep):
                    for branch, call in enumerate(step.parallel.calls):
                        yield (cname, oname, (*base, index, "parallel", "calls", branch),
                               system.effective(call))
                else:
                    yield cname, oname, (*base, index), system.effective(step)


def _check_kinds(system: System) -> list[Problem]:
    problems: list[Problem] = []
    for name, component in system.components.items():
        path: Path = ("components", name)
        if component.kind is not Kind.CACHE:
            for field in ("hit_ratio", "backend"):
                if getattr(component, field) is not None:
                    problems.append(((*path, field), f"only a cache has '{field}'"))
        elif (component.hit_ratio is None) != (component.backend is None) or \
                component.hit_ratio is None:
            problems.append((path, "a cache needs both 'hit_ratio' and 'backend'"))
        if component.kind is not Kind.QUEUE:
            if component.capacity is not None:
                problems.append(((*path, "capacity"), "only a queue has 'capacity'"))
            if component.consumers:
                problems.append(((*path, "consumers"), "only a queue has 'consumers'"))
            if not component.operations:
                problems.append((path, "a component needs at least one operation "
                                 "under 'operations'"))
        elif not component.consumers:
            problems.append((path, "a queue needs at least one entry in 'consumers'"))
    return problems


def _reference_problem(system: System, ref: str) -> str | None:
    component_name, _, operation = ref.partition(".")
    component = system.components.get(component_name)
    if component is None:
        return (f"no component '{component_name}'"
                f"{did_you_mean(component_name, system.components)}")
    if operation and operation not in component.effective_operations:
        return (f"component '{component_name}' has no operation '{operation}'"
                f"{did_you_mean(operation, component.effective_operations)}")
    return None


def _check_references(system: System) -> list[Problem]:
    problems: list[Problem] = []
    refs: list[tuple[Path, str]] = [((*path, "to"), call.to)
                                    for _, _, path, call in iter_calls(system)]
    refs += [(("workloads", i, "to"), w.to) for i, w in enumerate(system.workloads)]
    for name, component in system.components.items():
        if component.backend is not None:
            refs.append((("components", name, "backend"), component.backend))
        refs += [(("components", name, "consumers", i, "to"), c.to)
                 for i, c in enumerate(component.consumers)]
    for path, ref in refs:
        problem = _reference_problem(system, ref)
        if problem:
            problems.append((path, problem))
    for i, fault in enumerate(system.faults):
        target = system.components.get(fault.component)
        if target is None:
            problems.append((("faults", i, "target"), f"no component '{fault.component}'"
                             f"{did_you_mean(fault.component, system.components)}"))
        elif fault.replica is not None and fault.replica >= target.replicas:
            problems.append((("faults", i, "target"),
                             f"'{fault.component}' has {target.replicas} replica(s), "
                             f"numbered from 0; there is no [{fault.replica}]"))
    for i, fault in enumerate(system.faults):
        if fault.partition is not None and fault.partition.with_ not in system.components:
            other = fault.partition.with_
            problems.append((("faults", i, "partition", "with"), f"no component '{other}'"
                             f"{did_you_mean(other, system.components)}"))
    for _, _, path, call in iter_calls(system):
        if call.async_:
            waiting = [name for name in ("timeout", "deadline", "retry", "hedge",
                                         "circuit_breaker") if getattr(call, name) is not None]
            if waiting:
                problems.append((path, f"an async call does not wait for an answer, so "
                                 f"{', '.join(waiting)} cannot apply"))
    names = [w.name for w in system.workloads]
    for i, name in enumerate(names):
        if name in names[:i]:
            problems.append((("workloads", i, "name"), f"duplicate workload name '{name}'"))
    return problems


def sync_edges(system: System) -> dict[str, list[str]]:
    """Operation -> operations it waits on ('comp.op' strings), cache misses included."""
    edges: dict[str, list[str]] = {}
    for cname, oname, _, call in iter_calls(system):
        if not call.async_:
            edges.setdefault(f"{cname}.{oname}", []).append(".".join(system.resolve(call.to)))
    for cname, component in system.components.items():
        if component.backend is not None:
            target = ".".join(system.resolve(component.backend))
            for oname in component.effective_operations:
                edges.setdefault(f"{cname}.{oname}", []).append(target)
    return edges


def callees_first(system: System, starts: Iterable[str] | None = None) -> list[str]:
    """Operations ('comp.op') ordered so that everything one waits on synchronously comes
    before it: all of them, or those the `starts` reach. Computing a per-operation value in this
    order (latency, longest chain) needs no recursion, however long the chains are. Assumes
    the synchronous graph is acyclic, as loading checks."""
    edges = sync_edges(system)
    roots = list(starts) if starts is not None else [
        f"{c}.{o}" for c, comp in system.components.items() for o in comp.effective_operations]
    order: list[str] = []
    placed: set[str] = set()
    for root in roots:
        if root in placed:
            continue
        placed.add(root)
        stack = [(root, iter(edges.get(root, [])))]
        while stack:
            node, todo = stack[-1]
            nxt = next(todo, None)
            if nxt is None:
                order.append(node)
                stack.pop()
            elif nxt not in placed:
                placed.add(nxt)
                stack.append((nxt, iter(edges.get(nxt, []))))
    return order


def _check_sync_cycles(system: System) -> list[Problem]:
    """The first synchronous cycle found by a depth-first search (iterative: a chain of
    thousands of calls must not exhaust Python's stack)."""
    edges = sync_edges(system)
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in sorted(edges):
        if start in state:
            continue
        path = [start]
        pending = [iter(edges.get(start, []))]
        state[start] = 1
        while pending:
            nxt = next(pending[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                pending.pop()
            elif state.get(nxt) == 1:
                cycle = [*path[path.index(nxt):], nxt]
                component, operation = cycle[0].split(".", 1)
                return [(("components", component, "operations", operation),
                         "synchronous call cycle: " + " -> ".join(cycle)
                         + " (a request would wait on itself forever)")]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                pending.append(iter(edges.get(nxt, [])))
    return []


def _check_instant_loops(system: System) -> list[Problem]:
    """A loop of calls or queue deliveries, each certain to happen, through operations that
    take no time over a network that takes none: the kernel would repeat it forever at one
    instant of simulated time."""
    if system.defaults.network.mean_s > 0.0:
        return []
    instant = {f"{c}.{o}" for c, comp in system.components.items()
               for o, op in comp.effective_operations.items()
               if op.work.mean_s == 0.0 and op.post_work.mean_s == 0.0}
    edges: dict[str, list[str]] = {}
    for cname, oname, _, call in iter_calls(system):
        if call.probability == 1.0:
            edges.setdefault(f"{cname}.{oname}", []).append(".".join(system.resolve(call.to)))
    for cname, component in system.components.items():
        for oname in component.effective_operations:
            for consumer in component.consumers:
                edges.setdefault(f"{cname}.{oname}", []).append(
                    ".".join(system.resolve(consumer.to)))
    state: dict[str, int] = {}
    for start in sorted(instant):
        if start in state:
            continue
        path, pending = [start], [iter(edges.get(start, []))]
        state[start] = 1
        while pending:
            nxt = next(pending[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                pending.pop()
            elif nxt in instant and state.get(nxt) == 1:
                loop = [*path[path.index(nxt):], nxt]
                first, operation = loop[0].split(".", 1)
                return [(("components", first, "operations", operation),
                         "a loop that takes no time: " + " -> ".join(loop) + " would repeat "
                         "forever at one instant; give an operation on it some work, the "
                         "network a latency, or a call a probability below 1")]
            elif nxt in instant and nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                pending.append(iter(edges.get(nxt, [])))
    return []


def _check_sizes(system: System) -> list[Problem]:
    """Bounds that concern the whole system (docs/spec.md, "Bounds")."""
    problems: list[Problem] = []
    replicas = sum(c.replicas for c in system.components.values())
    if replicas > MAX_REPLICAS_TOTAL:
        problems.append((("components",), f"{replicas:,} replicas in all; a system may have "
                         f"at most {MAX_REPLICAS_TOTAL:,}"))
    sim = system.simulation
    breakers = sum(1 for _, _, _, call in iter_calls(system) if call.circuit_breaker)
    series = len(system.components) + len(system.workloads) + breakers
    intervals = math.ceil(sim.duration / sim.interval)
    if intervals * series > MAX_SERIES_POINTS:
        wider = sim.duration * series / MAX_SERIES_POINTS
        at_least = f"{math.ceil(wider)}s" if wider >= 1.0 else f"{math.ceil(wider * 1e3)}ms"
        problems.append((("simulation", "interval"),
                         f"the time series would have {intervals:,} intervals × {series:,} "
                         f"series, more than the {MAX_SERIES_POINTS:,} points a run keeps; "
                         f"use an interval of at least {at_least}"))
    return problems
