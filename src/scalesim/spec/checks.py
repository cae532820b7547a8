"""Checks that need the whole system: references resolve, kinds get only their fields,
and no operation calls itself through a chain of synchronous calls (it would never finish)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from scalesim.spec.bounds import MAX_REPLICAS_TOTAL, MAX_SERIES_POINTS
from scalesim.spec.consistency_checks import check_consistency
from scalesim.spec.control_checks import check_control
from scalesim.spec.data import EventStore
from scalesim.spec.demand import own_s
from scalesim.spec.errors import Path, counted, did_you_mean
from scalesim.spec.model import (
    Call,
    Component,
    Fault,
    Kind,
    Operation,
    ParallelStep,
    Saga,
    SagaBlock,
    System,
)

Problem = tuple[Path, str]


def check_system(system: System) -> list[Problem]:
    problems: list[Problem] = []
    problems += _check_kinds(system)
    problems += _check_references(system)
    problems += check_control(system)
    problems += check_consistency(system)
    if not problems:
        problems += _check_sync_cycles(system)
        problems += _check_instant_loops(system)
        problems += _check_sizes(system)
    return problems


def late_faults(system: System) -> list[Problem]:
    """A warning at each fault that starts when the run is over (at or after its warm-up
    and duration): the file is valid, but the fault it describes is silently not run."""
    sim = system.simulation
    end = sim.warmup + sim.duration
    return [(("faults", i, "at"),
             f"the fault on '{fault.target}' starts at {fault.at:g} s, at or after the run's "
             f"end at {end:g} s (warm-up {sim.warmup:g} s + duration {sim.duration:g} s), so "
             "no request arrives while it is on: start it earlier or run longer")
            for i, fault in enumerate(system.faults) if fault.at >= end]


def late_fault_reads(path: Path) -> tuple[Path, ...]:
    """The fields a late-fault warning at `path` (a fault's `at`) reads: that start and
    the run's end, warm-up and duration."""
    return path, ("simulation", "warmup"), ("simulation", "duration")


def iter_calls(system: System) -> Iterator[tuple[str, str, Path, Call]]:
    """Every call in the system: (component, operation, path of the call, call), with the
    call's `defaults.calls` settings filled in (and a saga's retry policy).

    A saga's steps are calls of the operation that holds it; in a choreographed saga nobody
    waits on them, so they come as async calls, as do publishes through an outbox.
    Compensations come with probability 0: they run only when a later step fails, which a
    static estimate cannot know."""
    for cname, component in system.components.items():
        for oname, operation in component.effective_operations.items():
            base: Path = ("components", cname, "operations", oname, "calls")
            for index, step in enumerate(operation.calls):
                if isinstance(step, ParallelStep):
                    for branch, call in enumerate(step.parallel.calls):
                        yield (cname, oname, (*base, index, "parallel", "calls", branch),
                               system.effective(call).as_seen())
                elif isinstance(step, SagaBlock):
                    for path, call in saga_calls(system, step.saga, (*base, index, "saga")):
                        yield cname, oname, path, call
                else:
                    yield cname, oname, (*base, index), system.effective(step).as_seen()


def saga_calls(system: System, saga: Saga, base: Path, written: bool = False
               ) -> Iterator[tuple[Path, Call]]:
    """A saga's steps and compensations as the calls they are (see `iter_calls`), or with
    `written` as the spec writes them (`Saga.written_calls`)."""
    calls = iter(saga.written_calls(True) if written else saga.calls(compensations=True))
    for index, step in enumerate(saga.steps):
        path: Path = (*base, "steps", index)
        yield path, system.effective(next(calls))
        if step.compensate is not None:
            yield (*path, "compensate"), system.effective(next(calls)).model_copy(
                update={"probability": 0.0})


def _check_kinds(system: System) -> list[Problem]:
    problems: list[Problem] = []
    for name, component in system.components.items():
        path: Path = ("components", name)
        if component.kind is not Kind.CACHE:
            for field in ("hit_ratio", "backend"):
                if getattr(component, field) is not None:
                    problems.append(((*path, field), f"only a cache has '{field}'"))
        elif component.backend is None or (component.hit_ratio is None
                                           and component.caching is None):
            problems.append((path, "a cache needs 'backend' and either 'hit_ratio' or "
                             "'caching'"))
        if component.kind is not Kind.QUEUE:
            for field in ("capacity", "consumers", "partitions", "delivery", "group"):
                if getattr(component, field):
                    problems.append(((*path, field), f"only a queue has '{field}'"))
            if not component.operations:
                problems.append((path, "a component needs at least one operation "
                                 "under 'operations'"))
        else:
            if not component.consumers and name not in _fed_queues(system):
                problems.append((path, "a queue needs at least one entry in 'consumers' "
                                 "(only a dead-letter queue or a saga's event queue may "
                                 "have none)"))
            if component.group is not None and component.partitions is None:
                problems.append(((*path, "group"), "a consumer group needs 'partitions' "
                                 "(a Kafka topic)"))
            problems += _prefetch_on_partitions(component, path)
            if component.event_store is not None:
                problems.append(((*path, "event_store"), "a queue cannot be an event store"))
        problems += _check_event_store(name, component.event_store, path,
                                       component.effective_operations)
    return problems


def _prefetch_on_partitions(queue: Component, path: Path) -> list[Problem]:
    """A partitioned topic's group members each take one record at a time (Kafka), so a
    subscription's `prefetch` would change nothing: its parallelism is partitions × members."""
    if queue.partitions is None:
        return []
    return [((*path, "consumers", index, "prefetch"),
             "'prefetch' does not apply on a partitioned topic: each group member takes one "
             "record at a time, so at most min(partitions, replicas × concurrency) are in "
             "flight; raise 'partitions' or the subscription's 'concurrency' (members a "
             "replica) instead")
            for index, consumer in enumerate(queue.consumers) if consumer.prefetch is not None]


def dead_letter_queues(system: System) -> set[str]:
    """The queues some queue's `delivery.dead_letter` names: they keep the messages that
    failed every delivery."""
    return {c.delivery.dead_letter for c in system.components.values()
            if c.delivery is not None and c.delivery.dead_letter is not None}


def _fed_queues(system: System) -> set[str]:
    """Queues that receive messages other than by subscription: dead-letter targets and the
    event queues of choreographed sagas."""
    fed = dead_letter_queues(system)
    for component in system.components.values():
        for operation in component.effective_operations.values():
            for step in operation.calls:
                if isinstance(step, SagaBlock) and step.saga.via is not None:
                    fed.add(step.saga.via)
    return fed


def _check_event_store(name: str, store: EventStore | None, path: Path,
                       operations: Mapping[str, Operation]) -> list[Problem]:
    if store is None:
        return []
    problems: list[Problem] = []
    for field in ("append", "load"):
        op = getattr(store, field)
        if op is not None and op not in operations:
            problems.append(((*path, "event_store", field),
                             f"'{name}' has no operation '{op}'{did_you_mean(op, operations)}"))
    if store.load is not None and store.load == store.append:
        problems.append(((*path, "event_store", "load"), "'load' and 'append' must be "
                         "different operations"))
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


def entry_refs(system: System) -> list[tuple[Path, str]]:
    """Every reference to an operation that is not a call, with its path: workloads, cache
    backends and writes, queue consumers and event-store projections."""
    refs: list[tuple[Path, str]] = [(("workloads", i, "to"), w.to)
                                    for i, w in enumerate(system.workloads)]
    for name, component in system.components.items():
        if component.backend is not None:
            refs.append((("components", name, "backend"), component.backend))
        if component.caching is not None and component.caching.write_to is not None:
            refs.append((("components", name, "caching", "write_to"),
                         component.caching.write_to))
        refs += [(("components", name, "consumers", i, "to"), c.to)
                 for i, c in enumerate(component.consumers)]
        if component.event_store is not None:
            refs += [(("components", name, "event_store", "projections", i, "to"), c.to)
                     for i, c in enumerate(component.event_store.projections)]
    return refs


def _check_references(system: System) -> list[Problem]:
    problems: list[Problem] = []
    refs: list[tuple[Path, str]] = [((*path, "to"), call.to)
                                    for _, _, path, call in iter_calls(system)]
    for path, ref in refs + entry_refs(system):
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
                             f"'{fault.component}' has {counted(target.replicas, 'replica')}, "
                             f"numbered from 0; there is no [{fault.replica}]"))
    for i, fault in enumerate(system.faults):
        if fault.partition is not None and fault.partition.with_ not in system.components:
            other = fault.partition.with_
            problems.append((("faults", i, "partition", "with"), f"no component '{other}'"
                             f"{did_you_mean(other, system.components)}"))
        elif fault.partition is not None and fault.partition.with_ == fault.component:
            problems.extend(_peer_partition(system, i, fault))
    for _, _, path, call in iter_calls(system):
        if call.async_:
            waiting = [name for name in ("timeout", "deadline", "retry", "hedge",
                                         "circuit_breaker") if getattr(call, name) is not None]
            if waiting:
                problems.append((path, f"an async call does not wait for an answer, so "
                                 f"{', '.join(waiting)} cannot apply"))
    problems += _check_data_references(system)
    names = [w.name for w in system.workloads]
    for i, name in enumerate(names):
        if name in names[:i]:
            problems.append((("workloads", i, "name"), f"duplicate workload name '{name}'"))
    return problems


def _queue_problem(system: System, name: str) -> str | None:
    component = system.components.get(name)
    if component is None:
        return f"no component '{name}'{did_you_mean(name, system.components)}"
    if component.kind is not Kind.QUEUE:
        return f"'{name}' is a {component.kind.value}, not a queue"
    return None


def _check_data_references(system: System) -> list[Problem]:
    """Dead-letter queues, saga event queues and outbox targets name queues."""
    problems: list[Problem] = []
    for name, component in system.components.items():
        delivery = component.delivery
        if delivery is not None and delivery.dead_letter is not None:
            path: Path = ("components", name, "delivery", "dead_letter")
            problem = _queue_problem(system, delivery.dead_letter)
            if delivery.dead_letter == name:
                problem = "a queue cannot be its own dead-letter queue"
            if problem:
                problems.append((path, problem))
        for oname, operation in component.effective_operations.items():
            for index, step in enumerate(operation.calls):
                if isinstance(step, SagaBlock) and step.saga.via is not None:
                    problem = _queue_problem(system, step.saga.via)
                    if problem:
                        problems.append((("components", name, "operations", oname, "calls",
                                          index, "saga", "via"), problem))
    for cname, _, path, call in _written_calls(system):
        if call.outbox is None or _reference_problem(system, call.to):
            continue
        target = call.to.partition(".")[0]
        if system.components[target].kind is not Kind.QUEUE:
            problems.append(((*path, "outbox"), f"an outbox publishes to a queue; '{target}' "
                             f"is a {system.components[target].kind.value}"))
        elif call.async_ or any(getattr(call, f) is not None for f in (
                "timeout", "deadline", "retry", "hedge", "circuit_breaker", "bulkhead")):
            problems.append(((*path, "outbox"), "the relay publishes later, so the caller "
                             "waits for nothing: no 'async', 'timeout', 'deadline', 'retry', "
                             "'hedge', 'circuit_breaker' or 'bulkhead' with 'outbox'"))
        if target == cname:
            problems.append(((*path, "outbox"), "a queue cannot publish through an outbox"))
    return problems


def _written_calls(system: System) -> Iterator[tuple[str, str, Path, Call]]:
    """Plain and parallel calls as written (no defaults, no reinterpretation)."""
    for cname, component in system.components.items():
        for oname, operation in component.effective_operations.items():
            base: Path = ("components", cname, "operations", oname, "calls")
            for index, step in enumerate(operation.calls):
                if isinstance(step, ParallelStep):
                    for branch, call in enumerate(step.parallel.calls):
                        yield cname, oname, (*base, index, "parallel", "calls", branch), call
                elif isinstance(step, Call):
                    yield cname, oname, (*base, index), step


def sync_edges(system: System) -> dict[str, list[str]]:
    """Operation -> operations it waits on ('comp.op' strings), cache misses included."""
    edges: dict[str, list[str]] = {}
    for cname, oname, _, call in iter_calls(system):
        if not call.async_:
            edges.setdefault(f"{cname}.{oname}", []).append(".".join(system.resolve(call.to)))
    for cname in system.components:
        for oname, ref in cache_edges(system, cname, sync_only=True):
            edges.setdefault(f"{cname}.{oname}", []).append(".".join(system.resolve(ref)))
    return edges


def reached(edges: Mapping[str, list[str]], starts: Iterable[str]) -> set[str]:
    """The operations reached from `starts` along `edges` ('comp.op' -> callees), the starts
    included."""
    seen = set(starts)
    todo = list(seen)
    while todo:
        for callee in edges.get(todo.pop(), []):
            if callee not in seen:
                seen.add(callee)
                todo.append(callee)
    return seen


def cache_edges(system: System, name: str, sync_only: bool = False) -> list[tuple[str, str]]:
    """(operation, backend reference) of a cache: each read operation's miss to `backend`,
    each write operation's write to `caching.write_to` (waited on, except write-behind,
    whose flushes come later)."""
    component = system.components[name]
    if component.backend is None:
        return []
    caching = component.caching
    writes = set(caching.writes) if caching is not None else set()
    edges = [(oname, component.backend) for oname in component.effective_operations
             if oname not in writes]
    if caching is not None and caching.write_to is not None and not (
            sync_only and caching.write_policy == "write_behind"):
        edges += [(oname, caching.write_to) for oname in caching.writes]
    return edges


def cached_data_writes(system: System, name: str) -> list[str]:
    """The operations ('comp.op') that write what the cache `name` holds: its `write_to`,
    and the writes its backend's component declares (`replication.writes`). A write of one
    of them that does not come through the cache leaves its entry stale (docs/data.md)."""
    component = system.components[name]
    caching = component.caching
    if component.backend is None or caching is None:
        return []
    owner, _ = system.resolve(component.backend)
    replication = system.components[owner].replication
    names = [f"{owner}.{oname}" for oname in (replication.writes if replication else [])]
    if caching.write_to is not None:
        names.append(".".join(system.resolve(caching.write_to)))
    return list(dict.fromkeys(names))


def callees_first(system: System, starts: Iterable[str] | None = None,
                  edges: Mapping[str, list[str]] | None = None) -> list[str]:
    """Operations ('comp.op') ordered so that everything one waits on synchronously comes
    before it: all of them, or those the `starts` reach. Computing a per-operation value in this
    order (latency, longest chain) needs no recursion, however long the chains are. Assumes
    the synchronous graph is acyclic, as loading checks. `edges`: the system's `sync_edges`,
    when the caller keeps them (asking often, for few operations each time)."""
    edges = sync_edges(system) if edges is None else edges
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
               if own_s(system, c, o) == 0.0}
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


@dataclass(frozen=True)
class SeriesSize:
    """The time-series rows a run keeps: intervals × series (components, workloads, calls and
    the calls' breakers)."""

    intervals: int
    series: int
    duration_s: float

    @property
    def points(self) -> int:
        return self.intervals * self.series

    def interval_to_fit(self, points: int) -> str:
        """The smallest interval ('2s', '500ms') that keeps the series within `points`."""
        wider = self.duration_s * self.series / points
        return f"{math.ceil(wider)}s" if wider >= 1.0 else f"{math.ceil(wider * 1e3)}ms"


def series_size(system: System) -> SeriesSize:
    sim = system.simulation
    calls = [call for _, _, _, call in iter_calls(system)]
    series = (len(system.components) + len(system.workloads) + len(calls)
              + sum(1 for call in calls if call.circuit_breaker))
    return SeriesSize(math.ceil(sim.duration / sim.interval), series, sim.duration)


def _check_sizes(system: System) -> list[Problem]:
    """Bounds that concern the whole system (docs/spec.md, "Bounds")."""
    problems: list[Problem] = []
    replicas = sum(c.replicas for c in system.components.values())
    if replicas > MAX_REPLICAS_TOTAL:
        problems.append((("components",), f"{replicas:,} replicas in all; a system may have "
                         f"at most {MAX_REPLICAS_TOTAL:,}"))
    size = series_size(system)
    if size.points > MAX_SERIES_POINTS:
        problems.append((("simulation", "interval"),
                         f"the time series would have {size.intervals:,} intervals × "
                         f"{size.series:,} series, more than the {MAX_SERIES_POINTS:,} points a "
                         f"run keeps; use an interval of at least "
                         f"{size.interval_to_fit(MAX_SERIES_POINTS)}"))
    return problems


def _peer_partition(system: System, index: int, fault: Fault) -> list[Problem]:
    """A partition of a replica from its own component's other replicas cuts what is
    modelled between them: a Raft member's messages, or a Lease member's reach to the API
    server the others share. One replica, of an elected component."""
    component = system.components[fault.component]
    replication = component.replication
    if component.leader_election is None and (replication is None or
                                              replication.mode != "raft"):
        return [(("faults", index, "partition", "with"), f"'{fault.component}' is cut off "
                 "from itself, but only the members of a leader election reach each other "
                 "(Raft) or a shared lease: give it leader_election, or partition it from "
                 "another component")]
    if fault.replica is None:
        return [(("faults", index, "target"), f"a partition from '{fault.component}' itself "
                 f"cuts one member off from the others: target '{fault.component}[i]'")]
    return []
