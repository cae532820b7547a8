"""Offered load: how busy each component would be, from the spec alone, before simulating.

Workload rates flow down the call graph (call probabilities, every parallel branch, cache
misses to the backend, every delivery of a queue's or event store's subscriptions, a
choreographed saga's events through its queue: `call_matrix`). A component's hold time per
visit is its own time (CPU demand, `post_work`, `wait` and the runtime's overheads) and, when its io
is blocking, the no-queueing response time of the synchronous calls it waits on.
ρ = λ·E[hold] / (replicas·workers) is then a lower bound of the simulated utilization of a
blocking component (queueing downstream lengthens its holds) and an estimate of it otherwise;
with `cores`, ρ is the larger of that and the CPU's λ·E[cpu] / (replicas·cores) (the
utilization law). ρ ≥ 1 means the component cannot keep up. An autoscaled
component is counted at its `autoscale.max` replicas (what it can reach). Retries, timeouts
and failures are ignored (this is the load of a healthy system), except where the data
areas deliver again what failed at an operation's `error_rate`: a queue's or projection's
failed deliveries and dead letters, a choreographed saga's events (`subscriptions`,
`saga_events`), and a saga's steps and compensations, visited by the sagas that reach them
(`saga_flow`).
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scalesim.analytic import lattice
from scalesim.analytic.caching import KeyRates, hit_ratio
from scalesim.analytic.cycles import solve_loops
from scalesim.analytic.dam import bucket_refused
from scalesim.analytic.lattice import Lattice
from scalesim.analytic.quorum import POOLED, leader_share, replication_wait
from scalesim.spec.checks import cache_edges, entry_refs, iter_calls, sync_edges
from scalesim.spec.data import Delivery, EventStore, most_in_flight
from scalesim.spec.demand import cpu_s, extra_s
from scalesim.spec.errors import Path
from scalesim.spec.model import (
    Balancer,
    Call,
    Component,
    Kind,
    ParallelStep,
    Saga,
    SagaBlock,
    System,
    Workload,
    plain_steps,
)
from scalesim.spec.resilience import Hedge, RateLimit

Misses = dict[str, float]  # cache -> share of its reads that load from the backend


@dataclass(frozen=True)
class ComponentLoad:
    arrival_rate_rps: float  # visits per second, all operations together
    hold_s: float  # mean worker time per visit, weighted by each operation's rate
    rho: float  # λ·hold / (replicas·workers); 0 with unlimited workers (see concurrency);
    # with cores, at least the CPU's utilization λ·cpu / (replicas·cores)
    # (replicas: autoscale.max for an autoscaled component)
    concurrency: float  # λ·hold: mean workers busy (Little's law), with any worker limit
    leader_busy: float = 0.0  # of those, the workers busy on the leader replica: all of
    # the operations only it serves (`leader_served`) and its `leader_share` of the others;
    # ρ is at least leader_busy / workers, one replica's


def offered_load(system: System, timed: Mapping[str, float] | None = None,
                 admitted: Mapping[str, float] | None = None) -> dict[str, ComponentLoad]:
    """Each component's offered load; workloads at their peak rate, closed loops at the upper
    bound users / (think + no-queueing response). `timed`: the time some operations wait on
    their calls, when not the calls' mean responses (`overload.timed_waits`: a timeout cuts
    an attempt short). `admitted`: the share of each operation's visits its rate limit lets
    in, where below 1 (`runtime.admitted_shares`); the load is then that of the visits let
    in, the only ones that hold a worker and make calls."""
    misses = miss_shares(system)
    response = _response_times(system, misses, timed)
    shares = admitted or {}
    rates = {ref: rate * shares.get(ref, 1.0) for ref, rate in
             _operation_rates(system, response, misses, admitted=shares).items()}
    loads = {}
    for cname, component in system.components.items():
        holds = {op: _hold(system, cname, op, response, misses, timed)
                 for op in component.effective_operations}
        rate = sum(rates[f"{cname}.{op}"] for op in holds)
        busy = sum(_times(rates[f"{cname}.{op}"], hold) for op, hold in holds.items())
        # An unused (or unboundedly loaded) component reports its default operation's hold.
        hold = busy / rate if 0.0 < rate < math.inf else next(iter(holds.values()))
        workers = component.worker_limit
        replicas = component.most_replicas
        served = leader_served(component)
        leader = sum(_times(rates[f"{cname}.{op}"] * (
            1.0 if op in served else leader_share(component)), hold)
            for op, hold in holds.items()) if served else 0.0
        rho = max(busy / (replicas * workers), leader / workers) if workers is not None else 0.0
        cores = component.core_limit
        if cores is not None:
            cpu = sum(_times(rates[f"{cname}.{op}"], cpu_s(system, cname, op))
                      for op in component.effective_operations)
            rho = max(rho, cpu / (replicas * cores))
        loads[cname] = ComponentLoad(rate, hold, rho, busy, leader)
    return loads


def leader_served(component: Component) -> list[str]:
    """The operations only the leader serves: with leader-based replication its `writes`,
    and the reads too when they go to the leader; else `leader_election`'s `operations`
    (all by default)."""
    ops = list(component.effective_operations)
    replication = component.replication
    if replication is not None and replication.mode != "quorum":
        return ops if replication.reads == "leader" else \
            [op for op in ops if op in replication.writes]
    election = component.leader_election
    if election is None:
        return []
    return ops if election.operations is None else [op for op in ops
                                                    if op in election.operations]


def serving_replicas(component: Component) -> int:
    """The replicas that serve a component's requests: 1 when the leader serves every
    operation (`leader_served`: leader_election, or replication with reads: leader), else
    all of them (an autoscaled component's `autoscale.max`)."""
    ops = component.effective_operations
    if ops and len(leader_served(component)) == len(ops):
        return 1
    return component.most_replicas


def rate_cap(component: Component) -> float | None:
    """What a component's `rate_limit` admits per second, all its replicas together (per
    workload when `per_workload`); None without one."""
    limit = component.rate_limit
    if limit is None:
        return None
    return limit.rate * buckets(component)


def buckets(component: Component) -> int:
    """The buckets (or windows) of a component's `rate_limit`: one a replica with `scope:
    replica`, else one."""
    limit = component.rate_limit
    return component.replicas if limit is not None and limit.scope == "replica" else 1


def bucket_size(limit: RateLimit) -> float:
    """A token bucket's tokens: its `burst`, by default one second of `rate` (at least one),
    as the simulator fills it."""
    return float(limit.burst) if limit.burst is not None else max(1.0, limit.rate)


def bucket_start_share(component: Component, incoming: float, warmup: float,
                       duration: float) -> float:
    """The share of the measured window (the run after `warmup`) in which a token bucket
    still spends the tokens it started with (the simulator fills it at the start): they
    drain at what comes over the rate, so for long after a large `burst`, and meanwhile it
    refuses nothing; the long-run share then says too many refused. 0 at or below the
    rate (the bucket's long-run state is near full anyway), for another limit, and with
    `per_workload` (a bucket a workload)."""
    limit, cap = component.rate_limit, rate_cap(component)
    if limit is None or cap is None or limit.algorithm != "token_bucket" \
            or limit.per_workload or incoming <= cap or duration <= 0.0:
        return 0.0
    tokens = bucket_size(limit) * buckets(component)
    return min(1.0, max(0.0, tokens / (incoming - cap) - warmup) / duration)


def admitted_share(limit: RateLimit, cap: float, arriving: float, poisson: bool) -> float:
    """The share of `arriving` visits/s that a rate limit of `cap`/s lets in over a long run:
    a token bucket met by a Poisson stream refuses some even below its rate, as a finite dam
    (`dam.bucket_refused`, each replica's bucket its share of the stream with `scope:
    replica`); otherwise min(1, cap / λ), a smooth stream's."""
    if limit.algorithm == "token_bucket" and poisson:
        return 1.0 - bucket_refused(arriving / cap, bucket_size(limit))
    return min(1.0, cap / max(arriving, 1e-300))


def poisson_stream(workload: Workload) -> bool:
    """Whether a workload's requests come as a Poisson stream: open, `arrivals: poisson`."""
    return workload.users is None and workload.arrivals == "poisson"


def round_trip_s(system: System, ref: str) -> float:
    """A healthy call to 'component.operation' (or a component's default operation): the
    network there and back and its no-queueing response time."""
    misses = miss_shares(system)
    return _hop(system) + _response_times(system, misses)(".".join(system.resolve(ref)))


def drain_rps(system: System, queue: str, place: int, pool: Pool | None) -> float:
    """Deliveries per second the subscription `place` of `queue` can take when its
    deliveries in flight (`most_in_flight`) bind: those over the consumer's no-queueing
    round trip (as lint's SS402 counts it), or for a consumer it alone feeds, whichever of
    that and its workers over their hold (`pool`, its `consumer_pool`) binds first. The
    queue holds or refuses what comes faster, so the consumer is never fed more. Infinite
    when the workers of a consumer that others reach too bind first: its own station then
    says it is overloaded."""
    owner = system.components[queue]
    consumer = owner.consumers[place]
    target = system.components[system.resolve(consumer.to)[0]]
    count = most_in_flight(consumer, owner.partitions, target.most_replicas)
    seconds = round_trip_s(system, consumer.to)
    slots = count / seconds if seconds > 0.0 else math.inf
    if pool is not None:
        return min(slots, pool.servers / pool.work_s if pool.work_s > 0.0 else math.inf)
    workers = target.worker_limit
    if workers is not None and count >= target.most_replicas * workers:
        return math.inf
    return slots


@dataclass(frozen=True)
class Pool:
    """A consumer's workers as servers a queue subscription's messages wait for
    (`consumer_pool`): one queue of them all, or one a replica."""

    servers: int  # workers × replicas
    work_s: float  # what a worker holds a delivery for with no queueing
    queues: int = 1  # 1: one shared queue (one replica, least_requests, p2c); else replicas
    turns: int = 1  # each queue takes every turns-th delivery (round robin), else a Poisson share


# Balancers whose replicas each keep a queue the estimate can feed a share of the deliveries:
# every R-th (round robin) or a Poisson thinning (random); a hash ring's shares of the
# deliveries' keys are left out (the consumer keeps its own station then).
SPLIT = (Balancer.ROUND_ROBIN, Balancer.RANDOM)


def consumer_pool(system: System, queue: str, place: int) -> Pool | None:
    """The consumer's workers when the subscription `place` of `queue` has more deliveries
    in flight than they are and nothing else reaches that consumer: a delivery past its
    workers waits at the consumer instead of in the queue, so a message waits for one of
    the workers as well as for a delivery slot. None otherwise. It needs one replica, a
    balancer that sends each delivery to a free worker (least_requests, p2c: one queue) or
    one that splits them evenly (round robin, random: a queue a replica); a `prefetch`
    counts as prefetch × replicas in flight placed by the balancer, as the simulator places
    them; a blocking consumer with unbounded own queue and no cores (its workers alone hold
    a delivery); and no visibility timeout (at most once), whose clock runs while a
    delivery waits there."""
    owner = system.components[queue]
    consumer = owner.consumers[place]
    name = system.resolve(consumer.to)[0]
    target = system.components[name]
    workers, replicas = target.worker_limit, serving_replicas(target)
    timed = owner.delivery is not None and owner.delivery.guarantee != "at_most_once"
    split = replicas > 1 and target.balancer not in POOLED
    if owner.partitions is not None or timed or workers is None \
            or target.core_limit is not None or target.io != "blocking" \
            or target.queue is not None or target.autoscale is not None \
            or (split and target.balancer not in SPLIT):
        return None
    if most_in_flight(consumer, None, target.most_replicas) <= workers * replicas:
        return None
    reached = [path for path, ref in entry_refs(system) if system.resolve(ref)[0] == name]
    called = any(system.resolve(call.to)[0] == name for _, _, _, call in iter_calls(system))
    if called or reached != [("components", queue, "consumers", place, "to")]:
        return None
    turns = replicas if split and target.balancer is Balancer.ROUND_ROBIN else 1
    return Pool(workers * replicas, hold_s(system, consumer.to), replicas if split else 1,
                turns)


def hold_s(system: System, ref: str) -> float:
    """Mean worker time of one visit to 'component.operation' with no queueing anywhere."""
    cname, oname = system.resolve(ref)
    misses = miss_shares(system)
    return _hold(system, cname, oname, _response_times(system, misses), misses)


def miss_shares(system: System, over: tuple[float, float] | None = None) -> Misses:
    """The share of each cache's reads that load from its backend: 1 − `hit_ratio`, or for a
    cache with `caching` the Poisson-per-key estimate of `scalesim.analytic.caching`
    from the rates its workloads reach it with (a coalesced stampede's waiting reads do not
    load; `max_keys` evicts by Che's approximation). A cache behind another settles in as
    many rounds."""
    misses: Misses = {name: 1.0 - c.hit_ratio if c.hit_ratio is not None else 1.0
                      for name, c in system.components.items()
                      if c.kind is Kind.CACHE and c.backend is not None}
    timed = [name for name, c in system.components.items() if c.caching is not None]
    for _ in range(len(timed) + 1 if timed else 0):
        response = _response_times(system, misses)
        index, columns = _rate_columns(system, response, misses, over)
        updated = dict(misses)
        for name in timed:
            component = system.components[name]
            caching = component.caching
            assert caching is not None and component.backend is not None
            load = _hop(system) + response(".".join(system.resolve(component.backend)))
            ttl = caching.ttl if caching.ttl is not None else math.inf
            updated[name] = 1.0 - hit_ratio(
                _key_rates(system, name, index, columns), ttl, load,
                caching.stampede == "coalesce", caching.refresh_ahead,
                xfetch=caching.beta if caching.stampede == "xfetch" else None,
                invalidations=_key_rates(system, name, index, columns, True),
                capacity=caching.kept_keys)
        if updated == misses:
            break
        misses = updated
    return misses


def cache_reads(system: System, name: str) -> tuple[KeyRates, float, KeyRates]:
    """How cache `name` is read, loaded and invalidated: the rate at which each workload
    reads it (requests/s, with its keys), a load from its backend (a healthy round trip)
    and the rate at which each deletes its entries (`_key_rates`), from one pass of the miss
    shares."""
    misses = miss_shares(system)
    response = _response_times(system, misses)
    index, columns = _rate_columns(system, response, misses)
    backend = system.components[name].backend
    assert backend is not None
    return _key_rates(system, name, index, columns), \
        _hop(system) + response(".".join(system.resolve(backend))), \
        _key_rates(system, name, index, columns, True)


def appends(system: System, name: str) -> KeyRates:
    """The rate at which each workload appends to event store `name`, with its keys."""
    store = system.components[name].event_store
    assert store is not None
    misses = miss_shares(system)
    index, columns = _rate_columns(system, _response_times(system, misses), misses)
    per_workload = columns[index[f"{name}.{store.append}"]]
    return [(float(rate), workload.key_space)
            for rate, workload in zip(per_workload, system.workloads, strict=True)]


def _key_rates(system: System, name: str, index: dict[str, int],
               columns: npt.NDArray[np.float64], writes: bool = False) -> KeyRates:
    """The rate at which each workload reads cache `name` (or, with `writes`, deletes its
    entries: the writes of `write_policy: invalidate`), with its keys."""
    component = system.components[name]
    caching = component.caching
    written = set(caching.writes) if caching is not None else set()
    if writes and (caching is None or caching.write_policy != "invalidate"):
        written = set()
    ops = [index[f"{name}.{op}"] for op in component.effective_operations
           if (op in written) == writes]
    per_workload = columns[ops].sum(axis=0)
    return [(float(rate), workload.key_space)
            for rate, workload in zip(per_workload, system.workloads, strict=True)]


def visit_extra_s(system: System, cname: str, oname: str) -> float:
    """`extra_s` (the overheads and `wait`) plus, for an event store's `append` and `load`,
    the aggregate's load (`aggregate_load_s`), which holds the worker too."""
    store = system.components[cname].event_store
    if store is None or oname not in (store.append, store.load):
        return extra_s(system, cname, oname)
    return extra_s(system, cname, oname) + aggregate_load_s(store)


def aggregate_load_s(store: EventStore) -> float:
    """Mean seconds a visit of an event store's `append` or `load` spends loading its
    aggregate (docs/data.md), its worker held: stream i starts with (2i + 1)·initial_events
    // streams events; with a snapshot every N events, a stream of e ≥ N reads the latest
    and replays e mod N events, else all e. The events appended in the run are left out."""
    events = (2 * np.arange(store.streams) + 1) * store.initial_events // store.streams
    snapshots = 0.0
    if store.snapshot_every is not None:
        snapshots = float((events >= store.snapshot_every).mean())
        events = events % store.snapshot_every
    return snapshots * store.snapshot_read + store.read_per_event * float(events.mean())


def _times(rate: float, hold: float) -> float:
    """rate · hold, where an unused operation adds nothing even if its hold is unbounded."""
    return 0.0 if rate == 0.0 or hold == 0.0 else rate * hold


def _hop(system: System) -> float:
    """Network time of a call there and back (one draw each way)."""
    return 2.0 * system.defaults.network.mean_s


def _response_times(system: System, misses: Misses, timed: Mapping[str, float] | None = None
                    ) -> Callable[[str], float]:
    """'comp.op' -> its response time with no queueing anywhere (network to reach it excluded).
    The synchronous call graph is acyclic (checked when the spec loads); an operation's time
    is computed after those of everything it waits on, without recursion, so a chain of
    thousands of calls is fine. `timed`: as `offered_load`."""
    edges = sync_edges(system)
    known: dict[str, float] = {}

    def response(ref: str) -> float:
        stack, opened = [ref], set()
        while stack:
            top = stack[-1]
            if top in known:
                stack.pop()
                continue
            missing = [callee for callee in edges.get(top, []) if callee not in known]
            if missing and top not in opened:
                opened.add(top)
                stack += missing
                continue
            if missing:
                raise ValueError(f"synchronous call cycle through {top}")
            cname, oname = top.split(".", 1)
            operation = system.components[cname].effective_operations[oname]
            known[top] = operation.demand.mean_s + operation.post_work.mean_s \
                + visit_extra_s(system, cname, oname) \
                + _waits(system, cname, oname, response, misses, timed)
            stack.pop()
        return known[ref]

    return response


def _waits(system: System, cname: str, oname: str, response: Callable[[str], float],
           misses: Misses, timed: Mapping[str, float] | None = None) -> float:
    """Time an operation waits on its synchronous calls, cache misses included (`timed`'s,
    when it has the operation). A parallel step takes the j-th smallest branch mean: for
    wait_for all that is the largest, a lower bound of the mean of the maximum (Jensen);
    for any or k it is an estimate."""
    if timed is not None and f"{cname}.{oname}" in timed:
        return timed[f"{cname}.{oname}"]
    component = system.components[cname]

    def call_time(call: Call) -> float:
        if call.async_:
            return 0.0
        return call.probability * (_hop(system) + response(".".join(system.resolve(call.to))))

    total = 0.0
    for step in plain_steps(component.effective_operations[oname].calls):
        if isinstance(step, ParallelStep):
            times = sorted(call_time(call) for call in step.parallel.calls)
            wait_for = step.parallel.wait_for
            need = len(times) if wait_for == "all" else 1 if wait_for == "any" else wait_for
            total += times[need - 1]
        else:
            total += call_time(step)
    for op, ref in cache_edges(system, cname, sync_only=True):
        if op == oname:
            share = misses[cname] if ref == component.backend else 1.0
            total += share * (_hop(system) + response(".".join(system.resolve(ref))))
    replicated = replication_wait(system, cname, oname)
    return total + (0.0 if replicated is None else replicated.mean)


def _hold(system: System, cname: str, oname: str, response: Callable[[str], float],
          misses: Misses, timed: Mapping[str, float] | None = None) -> float:
    """Worker time per visit: its own time, plus the calls' waits when the io is blocking."""
    component = system.components[cname]
    operation = component.effective_operations[oname]
    hold = operation.demand.mean_s + operation.post_work.mean_s \
        + visit_extra_s(system, cname, oname)
    if component.io == "blocking":
        hold += _waits(system, cname, oname, response, misses, timed)
    return hold


def peak_rate(workload: Workload) -> float:
    """An open-loop workload's peak rate (a profile counts with its highest point)."""
    return max([workload.rate or 0.0, *(p.rate for p in workload.profile or [])])


def mean_rate(workload: Workload, start: float, end: float) -> float:
    """An open-loop workload's mean rate over [start, end): its profile integrated (steps
    hold, linear ramps go from the previous point's rate), as the engine draws it; with no
    end, the rate it holds to the end (the long run's mean)."""
    if math.isinf(end):
        return workload.profile[-1].rate if workload.profile else workload.rate or 0.0
    rate, at, area = workload.rate or 0.0, 0.0, 0.0
    pieces = []
    for point in workload.profile or []:
        pieces.append((at, point.at, rate, point.rate if point.ramp == "linear" else rate))
        at, rate = point.at, point.rate
    pieces.append((at, math.inf, rate, rate))
    for left, right, rate0, rate1 in pieces:
        a, b = max(left, start), min(right, end)
        if b <= a:
            continue
        slope = 0.0 if math.isinf(right) or right == left else (rate1 - rate0) / (right - left)
        area += (b - a) * (rate0 + slope * ((a + b) / 2 - left))
    return area / (end - start) if end > start else rate


def _entry_rate(system: System, workload: Workload, response: Callable[[str], float],
                over: tuple[float, float] | None = None) -> float:
    if workload.users is None:
        return mean_rate(workload, *over) if over is not None else peak_rate(workload)
    cycle = workload.think.mean_s + _hop(system) + response(".".join(system.resolve(workload.to)))
    return workload.users / cycle if cycle > 0.0 else math.inf


def operation_rates(system: System, over: tuple[float, float] | None = None,
                    attempts: Mapping[Path, float] | None = None,
                    admitted: Mapping[str, float] | None = None) -> dict[str, float]:
    """Visits per second of every 'component.operation': workloads at their peak rate, or
    at their mean rate over the simulated span `over` (start, end). `attempts`: the
    attempts of each call (by its path) that reach its callee, where retries or hedges
    make it more than one (see `call_matrix`). `admitted`: the share of each operation's
    visits its rate limit lets in, where below 1: only those make calls."""
    misses = miss_shares(system, over)
    return _operation_rates(system, _response_times(system, misses), misses, over, attempts,
                            admitted)


def _operation_rates(system: System, response: Callable[[str], float], misses: Misses,
                     over: tuple[float, float] | None = None,
                     attempts: Mapping[Path, float] | None = None,
                     admitted: Mapping[str, float] | None = None) -> dict[str, float]:
    """Visits per second of every operation, all workloads together."""
    index, columns = _rate_columns(system, response, misses, over, attempts, admitted)
    totals = columns.sum(axis=1)
    return {name: float(totals[i]) for name, i in index.items()}


def served_rates(system: System, over: tuple[float, float],
                 attempts: Mapping[Path, float],
                 serve: Callable[[str, float], float] | None = None
                 ) -> tuple[dict[str, float], dict[str, float]]:
    """Visits per second of every operation over `over`, its calls making `attempts` (as
    `operation_rates`), and the share of its visits each operation's capacity serves: a
    component loaded past its capacity (ρ ≥ 1, as `offered_load` counts it) serves 1/ρ of
    its visits, and only those make calls; `serve(operation, that share)`, when given, says
    what share of its visits make calls instead (a rate limit's, a backlog worked off later:
    `runtime._served`). Operations are taken callers first, a component's ρ from the visits
    of its operations taken so far (a share that leans high when its operations sit at
    several depths of the call graph), so every share is settled in one pass; with a loop of
    async calls or queues, rates are not capped and the shares come from every visit."""
    misses = miss_shares(system, over)
    response = _response_times(system, misses)
    names, matrix = call_matrix(system, misses, attempts)
    index = {name: i for i, name in enumerate(names)}
    external = np.zeros(len(names))
    for workload in system.workloads:
        external[index[".".join(system.resolve(workload.to))]] += \
            _entry_rate(system, workload, response, over)
    forms = _capacity_forms(system, response, misses)
    order = _topological(matrix) if np.isfinite(external).all() else None
    share = np.ones(len(names))
    if order is None:
        rates = visits(names, matrix, external)
        for parts in forms.values():
            rho = max(sum(_times(float(rates[index[ref]]), coefficient)
                          for ref, coefficient in form.items()) for form in parts)
            for ref in parts[0]:
                share[index[ref]] = 1.0 / rho if rho > 1.0 else 1.0
        if serve is not None:
            for name, i in index.items():
                serve(name, float(share[i]))
    else:
        taken = {cname: [0.0] * len(parts) for cname, parts in forms.items()}

        def serves(i: int, rate: float) -> float:
            """The share of operation i's visits its component serves, from the visits of
            its operations taken so far."""
            cname = names[i].split(".", 1)[0]
            if cname in forms:
                known = taken[cname]
                for k, form in enumerate(forms[cname]):
                    known[k] += _times(rate, form[names[i]])
                rho = max(known)
                share[i] = 1.0 / rho if rho > 1.0 else 1.0
            return float(share[i]) if serve is None else serve(names[i], float(share[i]))

        rates = _forward(matrix, external, order, serves)
    return ({name: float(rates[i]) for name, i in index.items()},
            {name: float(share[i]) for name, i in index.items()})


def _capacity_forms(system: System, response: Callable[[str], float], misses: Misses
                    ) -> dict[str, list[dict[str, float]]]:
    """Per component with limited workers or cores, ρ as linear forms of its operations'
    visits per second (ρ is the largest): workers busy over all of them, the leader's
    (`leader_served`), the cores' (as `offered_load`)."""
    out: dict[str, list[dict[str, float]]] = {}
    for cname, component in system.components.items():
        ops = list(component.effective_operations)
        replicas = component.most_replicas
        parts = []
        workers = component.worker_limit
        if workers is not None:
            holds = {op: _hold(system, cname, op, response, misses) for op in ops}
            parts.append({f"{cname}.{op}": holds[op] / (replicas * workers) for op in ops})
            leader = set(leader_served(component))
            if leader:
                share = leader_share(component)
                parts.append({f"{cname}.{op}": holds[op] / workers * (
                    1.0 if op in leader else share) for op in ops})
        cores = component.core_limit
        if cores is not None:
            parts.append({f"{cname}.{op}": cpu_s(system, cname, op) / (replicas * cores)
                          for op in ops})
        if parts:
            out[cname] = parts
    return out


def _rate_columns(system: System, response: Callable[[str], float], misses: Misses,
                  over: tuple[float, float] | None = None,
                  attempts: Mapping[Path, float] | None = None,
                  admitted: Mapping[str, float] | None = None
                  ) -> tuple[dict[str, int], npt.NDArray[np.float64]]:
    """Visits per second of every operation from each workload (a column each), every
    workload at its peak rate (or at its mean rate over `over`); an operation's calls made
    by the share of its visits it `admitted`, where given."""
    names, matrix = call_matrix(system, misses, attempts)
    if admitted:
        matrix = matrix * np.array([[admitted.get(name, 1.0)] for name in names])
    index = {name: i for i, name in enumerate(names)}
    external = np.zeros((len(names), max(1, len(system.workloads))))
    for column, workload in enumerate(system.workloads):
        external[index[".".join(system.resolve(workload.to))], column] += \
            _entry_rate(system, workload, response, over)
    return index, visits(names, matrix, external)


def call_matrix(system: System, misses: Misses | None = None,
                attempts: Mapping[Path, float] | None = None
                ) -> tuple[list[str], npt.NDArray[np.float64]]:
    """Every operation ('comp.op') and M, where M[i, j] is the mean number of calls (or
    deliveries) operation i makes to j per visit: sync and async calls, cache misses to the
    backend (at the `misses` shares, by default `miss_shares`), cache writes, the expected
    deliveries of each message to every subscription of a queue or event store, failed
    deliveries again and dead letters included (`subscriptions`), and a choreographed
    saga's events: a visit of its `via` queue's operation per delivery of each step's event,
    and the deliveries sent again to the step's target (`saga_events`). A saga's step counts
    for the share of the sagas that reach it, a compensation for the share that run it
    (`saga_flow`), its events in choreography too (`saga_undo_events`). A call counts once
    per visit it makes, or, with `attempts`, that many times (its path's, 1 when absent):
    its tries that reach the callee."""
    if misses is None:
        misses = miss_shares(system)
    names = [f"{c}.{o}" for c, comp in system.components.items()
             for o in comp.effective_operations]
    index = {name: i for i, name in enumerate(names)}
    matrix = np.zeros((len(names), len(names)))
    for edge in call_edges(system):
        matrix[index[edge.caller], index[edge.callee]] \
            += edge.weight if attempts is None else edge.weight * attempts.get(edge.path, 1.0)
    for cname, component in system.components.items():
        for oname, ref in cache_edges(system, cname):
            share = misses[cname] if ref == component.backend else 1.0
            matrix[index[f"{cname}.{oname}"], index[".".join(system.resolve(ref))]] += share
    for sub in subscriptions(system, misses):
        for ref in sub.publishers:
            matrix[index[ref], index[sub.target]] += sub.deliveries
    for holder, saga in sagas(system):
        if saga.coordination != "choreography" or saga.via is None:
            continue
        via = index[".".join(system.resolve(saga.via))]
        for event, share in saga_sent(system, saga):
            matrix[index[holder], via] += share * event.tries
            # `iter_calls` lists each delivery once (an async call, weighted by `share`):
            # the rest here
            matrix[index[holder], index[event.target]] += share * (event.tries - 1.0)
    return names, matrix


@dataclass(frozen=True)
class CallEdge:
    """One call of the system (`iter_calls`) as the visit matrix counts it."""

    path: Path
    caller: str  # 'comp.op'
    callee: str  # 'comp.op'
    weight: float  # the share of the caller's visits that make it (a saga's: of its sagas)
    call: Call  # with the defaults filled in


def call_edges(system: System) -> Iterator[CallEdge]:
    """Every call with the share of its caller's visits that make it: its `probability`,
    or for a saga's step or compensation the share of the sagas that run it (`saga_flow`)."""
    shares = _saga_call_shares(system)
    for cname, oname, path, call in iter_calls(system):
        yield CallEdge(path, f"{cname}.{oname}", ".".join(system.resolve(call.to)),
                       shares.get(path, call.probability), call)


def expected_hedges(hedge: Hedge, slower: Callable[[float], float]) -> float:
    """Hedges a hedged call sends on average: the k-th (k ≤ `max`) when no answer came
    after k delays, so with P(an attempt is slower than t) = `slower(t)`, Σ slower(k·after)
    for a fixed delay; a percentile delay is passed by 1 − q of the attempts (all `max`
    counted at that share); a `budget` caps the share of calls hedged."""
    quantile = hedge.percentile
    if quantile is not None:
        count = hedge.max * (1.0 - quantile)
    else:
        after = float(hedge.after)
        count = sum(slower(k * after) for k in range(1, hedge.max + 1))
    return count if hedge.budget is None else min(count, hedge.budget)


# -- what the data areas deliver (sim/data) ---------------------------------------------------

def expected_attempts(p: float, n: float) -> float:
    """Mean tries of something tried again up to `n` tries in all (the first included), when
    each try fails, retryably and independently, with probability `p`: try k happens with
    p^(k−1), so 1 + p + … + p^(n−1) = (1 − p^n)/(1 − p); n when p = 1. A call's retries
    (analytic/attempts.py), a message's deliveries, a saga step's events."""
    if p >= 1.0:
        return float(n)
    if p <= 0.0:
        return 1.0
    return (1.0 - math.pow(p, n)) / (1.0 - p)


def _error_rate(system: System, ref: str) -> float:
    cname, oname = ref.split(".", 1)
    return system.components[cname].effective_operations[oname].error_rate


SUCCESS_TAIL = 1e-9  # the share of messages still failing past which `first_success` stops


@dataclass(frozen=True)
class Subscription:
    """A queue's consumer or an event store's projection, as the kernel delivers to it
    (sim/data/build.py, `subscriptions`), or a dead-letter queue's consumer as reached from
    the queue whose messages it receives."""

    publishers: tuple[str, ...]  # the operations whose visits publish to it
    target: str  # the consumer's operation
    owner: str  # the queue (or event store) whose subscription it is
    consumer: int  # its place among the owner's consumers (or projections)
    deliveries: float  # expected deliveries to `target` of each message published
    visibility: float | None  # a visibility timer per delivery (FifoSubscription), or None
    partitioned: bool  # Kafka partitions: delivered on the consumer's replica, no hop there
    # what the deliveries are made of (`late_deliveries`): the share of the messages that
    # reach it (a dead-letter queue's), the consumer's failures, the deliveries a message
    # may have, the poison share, and whether a copy of a processed message is skipped
    # (`effectively_once`)
    share: float = 1.0
    fails: float = 0.0
    limit: float = 1.0
    poison: float = 0.0
    dedup: bool = False
    # a failed delivery comes back at once (RabbitMQ's requeue, a Kafka partition's head),
    # not when its visibility timeout ends
    requeue: bool = False
    dead: float = 0.0  # the share of the messages dead-lettered after their last delivery
    dead_letter: str | None = None  # the queue they go to (None: dropped)

    def late_deliveries(self, held: Lattice | None) -> float:
        """`deliveries` when each delivery is held for `held` (None: past every timeout),
        the message coming back when a delivery outlives the visibility timeout V (its
        delivery still running). At least once, a delivery brings another with
        late + (1 − late)·fails, late = P(held > V). Effectively once, a copy is skipped
        once any delivery has succeeded (`FifoSubscription._dispatch`): deliveries go out V
        apart (buffer waits left out), so delivery k + 1 goes when none of the first k ended
        well by k·V, with Π_{m=1..k} (1 − (1 − fails)·P(held ≤ m·V))."""
        if not self.dedup or self.visibility is None:
            again = self._again(held, 1.0 if self.visibility is None else self.visibility)
            healthy = expected_attempts(again, self.limit)
        else:
            healthy = self._deduplicated(held, self.visibility)
        return self.share * ((1.0 - self.poison) * healthy + self.poison * self.limit)

    def first_success(self) -> list[float]:
        """P(a message first succeeds on delivery k) for k = 1, 2, …, given that it does
        (poison never does): fails^(k−1)·(1 − fails) up to `limit` deliveries, normalized,
        the tail past a share of SUCCESS_TAIL left out. Empty when no message succeeds."""
        if self.fails >= 1.0 or self.poison >= 1.0:
            return []
        weights: list[float] = []
        reached = 1.0
        while len(weights) < self.limit and reached > SUCCESS_TAIL:
            weights.append(reached * (1.0 - self.fails))
            reached *= self.fails
        return [w / sum(weights) for w in weights]

    def _again(self, held: Lattice | None, after: float) -> float:
        """P(a delivery is not processed within `after` of its start: late or failed)."""
        late = 1.0 if held is None else max(0.0, 1.0 - held.cdf(after))
        return late + (1.0 - late) * self.fails

    def _deduplicated(self, held: Lattice | None, visibility: float) -> float:
        """Expected deliveries of a healthy effectively-once message (`late_deliveries`):
        term by term until the factors stop changing (past `held`'s grid), then the
        geometric rest in closed form."""
        end = 0.0 if held is None else held.h * len(held.mass)
        total, reached, k = 0.0, 1.0, 0  # reached: P(delivery k + 1 goes)
        while True:
            again = self._again(held, (k + 1) * visibility)
            if (k + 1) * visibility >= end or k + 1 >= self.limit:
                return total + reached * expected_attempts(again, self.limit - k)
            total += reached
            reached *= again
            k += 1

def subscriptions(system: System, misses: Misses | None = None) -> list[Subscription]:
    """Every subscription of a queue or event store with its expected deliveries a message:
    at most once, one; otherwise a failed delivery comes back (`FifoSubscription.again`,
    `PartitionedSubscription.attempt_over`) up to `max_deliveries` in all, the consumer's
    operation failing at its `error_rate` and a `poison` share of the messages at every
    delivery. Without `max_deliveries`, a message that always fails comes back for the
    rest of the run: on average half of it, at its visibility timeout (or the consumer's
    round trip with no queueing when it comes back at once; caches missing at `misses`). With
    `max_deliveries` and a `dead_letter` queue, the messages whose every delivery failed
    go to that queue's subscriptions (`DeadLetterQueue.take`): each of them is listed again
    with this queue's operations as publishers, its deliveries that share of its own (one
    level: what its consumers fail is not followed to a dead-letter queue of its own)."""
    response = _response_times(system, miss_shares(system) if misses is None else misses)
    sim = system.simulation
    length = sim.warmup + sim.duration
    out: list[Subscription] = []
    own: dict[str, list[Subscription]] = {}  # queue -> its subscriptions
    for cname, component in system.components.items():
        if component.kind is Kind.QUEUE:
            delivery, publishers = component.delivery, tuple(
                f"{cname}.{oname}" for oname in component.effective_operations)
            consumers = component.consumers
        elif component.event_store is not None:  # build.subscriptions: projections
            delivery = Delivery(guarantee="at_least_once", redelivery="requeue")
            publishers = (f"{cname}.{component.event_store.append}",)
            consumers = component.event_store.projections
        else:
            continue
        partitioned = component.kind is Kind.QUEUE and component.partitions is not None
        for place, consumer in enumerate(consumers):
            target = ".".join(system.resolve(consumer.to))
            sub = Subscription(publishers, target, cname, place, 1.0, None, partitioned)
            if delivery is not None and delivery.guarantee != "at_most_once":
                fifo = not partitioned
                fails = _error_rate(system, target)
                if delivery.max_deliveries is not None:
                    limit = float(delivery.max_deliveries)
                    sub = dataclasses.replace(
                        sub, dead_letter=delivery.dead_letter,
                        dead=(1.0 - delivery.poison) * math.pow(fails, limit) + delivery.poison)
                else:  # back after the visibility timeout, or at once (the consumer's turn)
                    again = delivery.visibility_timeout \
                        if fifo and delivery.redelivery == "visibility_timeout" \
                        else max(_hop(system) + response(target), 1e-3)
                    limit = 1.0 + 0.5 * length / again
                sub = dataclasses.replace(
                    sub, visibility=delivery.visibility_timeout if fifo else None,
                    fails=fails, limit=limit, poison=delivery.poison,
                    dedup=delivery.guarantee == "effectively_once",
                    requeue=not fifo or delivery.redelivery == "requeue")
                sub = dataclasses.replace(sub, deliveries=sub.late_deliveries(lattice.zero()))
            out.append(sub)
            if component.kind is Kind.QUEUE:
                own.setdefault(cname, []).append(sub)
    for source in [sub for subs in own.values() for sub in subs]:
        if source.dead_letter is None or source.dead <= 0.0:
            continue
        for sub in own.get(source.dead_letter, []):
            out.append(dataclasses.replace(sub, publishers=source.publishers,
                                           deliveries=source.dead * sub.deliveries,
                                           share=source.dead * sub.share))
    return out


def sagas(system: System) -> list[tuple[str, Saga]]:
    """Every saga, with the operation that holds it."""
    return [(f"{cname}.{oname}", step.saga)
            for cname, component in system.components.items()
            for oname, operation in component.effective_operations.items()
            for step in operation.calls if isinstance(step, SagaBlock)]


@dataclass(frozen=True)
class SagaEvent:
    """A saga's step (or compensation), as its events reach the step's target in
    choreography; in orchestration, its tries as the kernel retries the call."""

    target: str  # the step's operation
    tries: float  # expected deliveries of its event
    timed: bool  # whether each delivery has a timer (the step's `timeout`)


def saga_events(system: System, saga: Saga) -> list[SagaEvent]:
    """A choreographed saga's steps: the target, the expected deliveries of its event (sent
    again after the policy's back-off while the delivery fails on a cause the retry covers:
    `SagaRun.retry`; at the target's `error_rate`; a delivery late past the step's timeout
    is tried again too, which depends on the target's response under load and is not
    counted) and whether each delivery has a timer (`SagaRun.published` pushes the step's
    `timeout`). Each event goes through `via` first (`SagaRun.send`: a visit of the queue's
    operation, `kernel.enter_message`), once per delivery."""
    return [_saga_event(system, saga, step.as_call()) for step in saga.steps]


def saga_undo_events(system: System, saga: Saga) -> list[SagaEvent | None]:
    """Each step's compensation as `saga_events` counts a step (None for a step without
    one): its target, the expected deliveries of its event (`SagaRun.retry` with the
    compensation's own retries: `undo_attempts`, `undo_retry_on`) and whether it has a
    timer (never: `SagaRun.published` pushes a timer for forward steps only)."""
    return [None if step.compensate is None
            else _saga_event(system, saga, step.compensate, timed=False)
            for step in saga.steps]


def _saga_event(system: System, saga: Saga, found: Call, timed: bool = True) -> SagaEvent:
    call = system.effective(saga.with_policy(found))
    target = ".".join(system.resolve(call.to))
    retry = call.retry
    count = 1.0 if retry is None or "error" not in retry.on \
        else expected_attempts(_error_rate(system, target), retry.attempts)
    return SagaEvent(target, count, timed and call.timeout is not None)


@dataclass(frozen=True)
class SagaShare:
    """How often one saga step, and its compensation, run per saga started."""

    reached: float  # share of the sagas that reach the step
    undone: float  # share of the sagas that run its compensation (0 without one)


def _succeeds(system: System, event: SagaEvent) -> float:
    """P(a step or compensation ends well after its tries), each try failing at its
    target's `error_rate` p: try k is the one that succeeds with p^(k−1)·(1 − p), so the
    sum is (1 − p) times the expected tries (`tries`; a single try when its retry does not
    cover `error`)."""
    return (1.0 - _error_rate(system, event.target)) * event.tries


def saga_flow(system: System, saga: Saga) -> list[SagaShare]:
    """Each step's share of the sagas that reach it, and of those that run its
    compensation, from the targets' `error_rate` and the tries their retries allow
    (`saga_events`; in orchestration the kernel retries the calls with the same policy).
    A step is reached when every earlier one succeeded (`SagaRun.forward`); a step up to
    the pivot that fails after its tries starts the compensations of the steps before it in
    reverse order, each run only if the compensations after it succeeded (a failed one
    leaves the saga stuck: `SagaRun.outcome`); a step past the pivot that fails leaves the
    saga stuck, uncompensated. Timeouts and crashes are not counted (a healthy system)."""
    steps = saga_events(system, saga)
    undos = saga_undo_events(system, saga)
    reached, share = [], 1.0
    for event in steps:
        reached.append(share)
        share *= _succeeds(system, event)
    undone = [0.0] * len(steps)
    for failed in range(min(saga.pivot + 1, len(steps))):
        share = reached[failed] * (1.0 - _succeeds(system, steps[failed]))
        for below in range(failed - 1, -1, -1):
            undo = undos[below]
            if undo is None or share <= 0.0:
                continue
            undone[below] += share
            share *= _succeeds(system, undo)
    return [SagaShare(r, u) for r, u in zip(reached, undone, strict=True)]


def saga_sent(system: System, saga: Saga) -> list[tuple[SagaEvent, float]]:
    """Each event a choreographed saga sends, its steps' then its compensations', with the
    share of the sagas that send it (`saga_flow`): what the visit matrix and the run
    estimate weigh its deliveries by."""
    flow = saga_flow(system, saga)
    sent = [(event, share.reached)
            for event, share in zip(saga_events(system, saga), flow, strict=True)]
    return sent + [(undo, share.undone)
                   for undo, share in zip(saga_undo_events(system, saga), flow, strict=True)
                   if undo is not None]


def _saga_call_shares(system: System) -> dict[Path, float]:
    """The share of its holder's visits that make each saga call (by its `iter_calls`
    path): a step's, the sagas that reach it; a compensation's, those that run it
    (`saga_flow`)."""
    out: dict[Path, float] = {}
    for cname, component in system.components.items():
        for oname, operation in component.effective_operations.items():
            for index, step in enumerate(operation.calls):
                if not isinstance(step, SagaBlock):
                    continue
                base: Path = ("components", cname, "operations", oname, "calls", index,
                              "saga", "steps")
                for number, share in enumerate(saga_flow(system, step.saga)):
                    out[(*base, number)] = share.reached
                    out[(*base, number, "compensate")] = share.undone
    return out


def visits(names: list[str], matrix: npt.NDArray[np.float64],
           external: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Visits per second of every operation: solve r = external + Mᵀ r, for one vector of
    external rates or for a column of them per source. M is acyclic except through async
    calls and queues. An acyclic M is solved in one pass in topological order (`_forward`);
    a cyclic one loop by loop (`cycles.solve_loops`), where a loop that regenerates at
    least one call per call has no steady state: its operations, and what they call, get an
    infinite rate; the rest keep their finite ones."""
    order = _topological(matrix) if np.isfinite(external).all() else None
    if order is not None:
        return _forward(matrix, external, order)
    return solve_loops(matrix, external)


def _topological(matrix: npt.NDArray[np.float64]) -> list[int] | None:
    """The operations in an order where every caller comes before what it calls, or None
    when M has a cycle."""
    callers, callees = np.nonzero(matrix)
    return callers_first(len(matrix), zip(callers.tolist(), callees.tolist(), strict=True))


def callers_first(size: int, edges: Iterable[tuple[int, int]]) -> list[int] | None:
    """Nodes 0 to size − 1 in an order where every edge's source comes before its target
    (Kahn's, the lowest index first among those ready, so that nodes listed callers first
    keep their order), or None when the edges have a cycle. Iterative: a chain of thousands
    of calls is one pass."""
    waiting = [0] * size
    out: list[list[int]] = [[] for _ in range(size)]
    for i, j in edges:
        out[i].append(j)
        waiting[j] += 1
    ready = [i for i, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for j in out[i]:
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(ready, j)
    return order if len(order) == size else None


def _forward(matrix: npt.NDArray[np.float64], external: npt.NDArray[np.float64],
             order: list[int], serves: Callable[[int, float], float] | None = None
             ) -> npt.NDArray[np.float64]:
    """r = external + Mᵀ r for an acyclic M, by forward substitution in topological
    `order`: an operation's rate is final once its callers' are, and each call adds
    M[i, j]·r[i] to its callee, callers in `order`. Every term is non-negative, so the sums
    are as exact as floating point allows, and an operation no source reaches gets exactly
    0 (the dense solve's rounding could leave ±1e-16 there). `serves(i, r[i])` (one vector
    of rates only): the share of operation i's visits that make its calls. Retries at every
    level of a long chain can multiply past the largest double: those rates are infinite."""
    rates = np.array(external, dtype=np.float64)
    with np.errstate(over="ignore"):
        for i in order:
            share = 1.0 if serves is None else serves(i, float(rates[i]))
            callees = np.flatnonzero(matrix[i])
            if len(callees):
                rates[callees] += np.multiply.outer(matrix[i, callees], rates[i]) \
                    if rates.ndim > 1 else matrix[i, callees] * (rates[i] * share)
    return rates


def reachable(matrix: npt.NDArray[np.float64],
               start: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Every operation that a request entering at `start` can reach."""
    seen = start.copy()
    while True:
        grown = seen | (matrix[seen].sum(axis=0) > 0.0)
        if (grown == seen).all():
            return seen
        seen = grown
