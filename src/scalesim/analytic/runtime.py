"""How much work a run is, before running it: requests, visits, events and time-series
intervals, from the offered load (workloads at their mean rate over the run).

Events per visit follow the kernel (sim/kernel.py): a network hop there and one back are an
event each, the work before the calls (CPU demand, `wait`, overhead) and `post_work` an
event each when they take time, a call's overhead one more, a replica with `cores` one more
per CPU burst (the processor's completion, `wait` after it), a timed-out call schedules its
timeout, and every request or message arrives as one event.

A component past its capacity (ρ ≥ 1 at the offered load) serves only that much: the work
of 1/ρ of its visits and the calls they make, the hops of all of them; so does one behind a
rate limit, the share its limit admits (the other visits are answered 429 at once), the
smaller of the two where both cap it.

Retries and hedges multiply the attempts of a call when attempts fail or are slow, and a
circuit breaker that opens lets few of them through: with them, each call's expected
attempts (`attempts.py`: error rates, timeouts against the callee's latency in the analytic
estimate, fault windows, retry attempts, capped by retry budgets, and the share an open
breaker lets through) flow down the call graph as visits, and each attempt that leaves adds
its timeout timer, a retry its back-off, a hedge its timer, a fallback its answer. The run
is cut where faults start and end, and each stretch counted with its own attempts. When the
retries' load takes a component past its capacity, attempts into it are taken as late.
This leans high where exactness is impossible (see `attempts.py`); without retries, hedges
or breakers it is the work of a healthy run at the capacity served, a lower bound when calls
fail.

The visits the data areas (sim/data) make are in the offered load (`load.call_matrix`): a
choreographed saga's events through its queue and their deliveries sent again, the
deliveries failed messages get again (and dead letters' to a dead-letter queue's
consumers), an event store's projections. They add events of their own per visit or
message too, counted from their handlers (`_area_events`): a saga's delivery timers and
sends, an orchestrated saga's transitions, the visibility timer of each delivery of a queue
that acknowledges after processing, an event store's aggregate loads, a replicated store's
commits and waited reads; a Kafka consumer's delivery has no hop there.

Work on timers comes whatever the load, and counts too (`timer_events_per_s`): each
readiness and liveness probe of each replica is an event; a `pause` fault is two per
replica and pause; an autoscaler's sync reads every replica's counters in one event, so it
counts the time it takes in events' worth (SYNC_FIXED + SYNC_PER_REPLICA × replicas, at
`autoscale.max`). Without it, 99,000 replicas synced every millisecond ran for hours
unrefused.

So does the work on `balancer: hash` rings, however few requests there are (`ring_work`):
a ring has 100 points a replica, built at the start and rebuilt whenever a replica joins or
leaves, which at 99,000 replicas takes up to a second each time.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from scalesim.analytic.attempts import (
    Attempts,
    CallAttempts,
    HealthyEstimates,
    active,
    phases,
    shapes,
)
from scalesim.analytic.load import (
    call_matrix,
    mean_rate,
    miss_shares,
    operation_rates,
    rate_cap,
    round_trip_s,
    saga_flow,
    saga_sent,
    sagas,
    served_rates,
    subscriptions,
    visits,
)
from scalesim.analytic.overload import closed_as_open
from scalesim.spec.checks import cache_edges, iter_calls, reached
from scalesim.spec.data import EventStore
from scalesim.spec.demand import calls_made, extra_s
from scalesim.spec.errors import Path
from scalesim.spec.hashring import VIRTUAL_NODES
from scalesim.spec.model import Balancer, Component, Fault, System

if TYPE_CHECKING:
    from scalesim.analytic.estimate import Estimate, Model

# An autoscaler's sync in events' worth of time (at about 1 µs an event): a fixed part and
# a part per replica, measured with 200 to 20,000 replicas (1.1 ms a sync at 200, 2.5–2.8 µs
# a replica beyond).
SYNC_FIXED = 600.0
SYNC_PER_REPLICA = 2.5

# A hash ring (spec/hashring.py) has VIRTUAL_NODES points per replica.
# Its work in events' worth, measured compiled from 1,000 to 99,000 replicas: building it,
# per point (140–250 ns); rebuilding it when a replica joins or leaves, per point of the
# ring (20–100 ns, more the larger the ring).
RING_BUILD_PER_POINT = 0.25
RING_UPDATE_PER_POINT = 0.05

# Rounds of `_settled` at most: the attempts counted again with the components their load
# takes past capacity saturated and the rate limits' shares at the retries' load, until
# neither changes.
SETTLE_ROUNDS = 50


@dataclass(frozen=True)
class RunCost:
    requests: float  # requests and messages sent, all replications
    events: float  # events the kernel handles (max_events counts them), all replications
    intervals: int  # time-series rows per component and workload, per replication
    rate_rps: float  # requests per second entering the system, on average
    timer_events: float = 0.0  # of `events`, those of probes and pauses
    sync_work: float = 0.0  # autoscalers' syncs, in events' worth of time (one event each)
    ring_work: float = 0.0  # hash rings' building and rebuilding, in events' worth of time
    retry_events: float = 0.0  # of `events`, those retries, hedges and fallbacks add

    @property
    def work(self) -> float:
        """What the run takes, in events' worth of time."""
        return self.events + self.sync_work + self.ring_work

    def wall_s(self, events_per_s: float) -> float:
        return self.work / events_per_s

    def plus(self, other: RunCost) -> RunCost:
        """Two runs' costs together (the time-series intervals: the larger)."""
        return RunCost(self.requests + other.requests, self.events + other.events,
                       max(self.intervals, other.intervals), self.rate_rps + other.rate_rps,
                       self.timer_events + other.timer_events, self.sync_work + other.sync_work,
                       self.ring_work + other.ring_work, self.retry_events + other.retry_events)


@dataclass(frozen=True)
class Stretch:
    """A stretch of the run with the same faults acting, and what its calls' attempts make
    of its visits."""

    start: float
    end: float
    rates: dict[str, float]  # visits per second of every operation, attempts included
    calls: dict[Path, CallAttempts]  # the attempts of every call waited on
    served: dict[str, float]  # the share of its visits an operation serves, where below 1
    # (past its component's capacity, or behind a rate limit)
    healthy: float  # events per second without retries and hedges


def run_cost(system: System) -> RunCost:
    """What simulating `system` costs, its closed loops at the throughput MVA gives them
    (`overload.closed_as_open`): 1,000 users without think time on 4 workers of 1 ms run at
    4,000/s, not at users / (think + response), which counted a million a second. A loop
    whose users a bounded queue refuses counts every request they send (`sent`): refused
    ones come back after a round trip and their think time, so 20,000 users without think
    time against 232 places send about 40 million a second, not the 16,000 served."""
    system = closed_as_open(system, sent=True)
    sim = system.simulation
    span = (0.0, sim.warmup + sim.duration)
    seconds = (span[1] - span[0]) * sim.replications
    rates = operation_rates(system, span)
    if not all(math.isfinite(rate) for rate in rates.values()):
        return RunCost(math.inf, math.inf, 0, math.inf)
    per_second = retried = 0.0
    length = span[1] - span[0]
    for stretch in stretches(system, span):
        if not all(math.isfinite(rate) for rate in stretch.rates.values()):
            return RunCost(math.inf, math.inf, 0, math.inf)
        weight = (stretch.end - stretch.start) / length
        part = _load_events(system, stretch.rates, stretch.calls, stretch.served)
        per_second += weight * part
        retried += weight * max(0.0, part - stretch.healthy)
    entering = 0.0
    for workload in system.workloads:
        if workload.users is None:
            entering += mean_rate(workload, *span)
        else:
            entering += rates[".".join(system.resolve(workload.to))]
    per_second += entering
    timers = timer_events_per_s(system, span)
    syncs = sum((SYNC_FIXED + SYNC_PER_REPLICA * c.most_replicas) / c.autoscale.sync_period
                for c in system.components.values() if c.autoscale is not None)
    rings = sum(ring_work(c) for c in system.components.values() if c.balancer == Balancer.HASH)
    return RunCost(entering * seconds, (per_second + timers) * seconds,
                   math.ceil(sim.duration / sim.interval), entering, timers * seconds,
                   syncs * seconds, rings * sim.replications, retried * seconds)


def stretches(system: System, span: tuple[float, float]) -> list[Stretch]:
    """`span` cut where faults start and end (`attempts.phases`), each stretch with its
    calls' attempts (`attempts.Attempts`, from the analytic estimate of the healthy system)
    and the visit rates they make; a spec whose calls make one attempt each (no retry,
    hedge or circuit breaker: `attempts.shapes`) is one stretch of single attempts, without
    the analytic estimate. A component past its capacity (ρ ≥ 1) serves what its capacity
    gets through by the end of the run and a rate limit lets in what it admits (`served`:
    their work and the calls they make; `_served`). When the retries' load takes a component
    past its capacity, attempts into it are taken as late and its bounded queue as refusing
    1 − 1/ρ, and the attempts are counted again, until no more components pass it
    (`_settled`). The estimate with the bounds blocking callers put on their callees is
    taken where it finds attempts into them never late nor retried
    (`attempts.HealthyEstimates`), the plain one elsewhere."""
    if not shapes(system):  # no retries to tell apart: `healthy` is what it serves
        rates, served, _, _ = _served(system, span, {})
        return [Stretch(span[0], span[1], rates, {}, served,
                        _load_events(system, rates, {}, served))]
    estimates = HealthyEstimates(system)
    out = []
    for start, end in phases(system, span):
        healthy = operation_rates(system, (start, end))
        faults = active(system.faults, start, end)
        bounded = estimates.bounded
        found, rates, served = _settled(system, bounded or estimates.plain, faults,
                                        healthy, (start, end))
        if bounded is not None and not estimates.holds(found):
            found, rates, served = _settled(system, estimates.plain, faults, healthy,
                                            (start, end))
        out.append(Stretch(start, end, rates, found.calls, served,
                           _load_events(system, healthy, {})))
    return out


def _settled(system: System, healthy: tuple[Model, Estimate], faults: tuple[Fault, ...],
             rates: dict[str, float], span: tuple[float, float]
             ) -> tuple[Attempts, dict[str, float], dict[str, float]]:
    """The attempts of one stretch from the estimate `healthy` (at the healthy `rates`),
    counted again with every component their load takes past its capacity saturated, and
    with what rate limits admit of it (retries of refused attempts meet them again, so
    fewer are let in), until no more components pass their capacity (each serving 1/ρ of
    its visits) and the limits' shares settle (to a thousandth, in at most
    `SETTLE_ROUNDS`); with the visit rates they make and the shares served, a backlog
    worked off after the window included (`_served`)."""
    saturated: dict[str, float] = {}
    limited: dict[str, float] = {}
    for _ in range(SETTLE_ROUNDS):
        found = Attempts(system, *healthy, faults, rates, saturated, span[1] - span[0],
                         limited)
        reach = {path: call.visits for path, call in found.calls.items()}
        made, served, capacity, admitted = _served(system, span, reach, drain=False)
        more: dict[str, float] = {}
        for ref, share in capacity.items():
            cname = ref.split(".", 1)[0]
            if cname not in saturated:
                more[cname] = max(more.get(cname, 1.0), 1.0 / share)
        fewer = {ref: share for ref, share in admitted.items()
                 if share < limited.get(ref, 1.0) * (1.0 - 1e-3)}
        if not (more or fewer) or not all(math.isfinite(rate) for rate in made.values()):
            break
        saturated.update(more)
        limited.update(fewer)
    if capacity:
        made, served, _, _ = _served(system, span, reach, saturated)
    return found, made, served


def _served(system: System, span: tuple[float, float], attempts: Mapping[Path, float],
            saturated: Collection[str] = (), drain: bool = True
            ) -> tuple[dict[str, float], dict[str, float], dict[str, float], dict[str, float]]:
    """Visits per second of every operation over `span` (a stretch of the run), its calls
    making `attempts`; the share of its visits each operation serves, where below 1; the
    share its capacity serves in `span` (1/ρ, `load.served_rates`), where below 1; and the
    share its rate limit admits (`admitted_shares`), where below 1.

    What an operation serves is the smaller of what its rate limit admits (a visit the
    limit refuses holds no worker, so the two do not multiply) and what its capacity serves
    by the end of the run. The excess of an unbounded queue is worked off later, in the
    rest of the run and after the window, for up to `limits.drain`, as the kernel runs on
    until every request is answered (with `drain`; an upper bound: the capacity counts no
    queueing, and the run may end sooner). That of a bounded or load-shedding queue is
    refused; so, in effect, is that of a component in a retry storm (`saturated`: attempts
    into it are taken as late) that no request waits on without a timeout (`waited_on`):
    once the requests are answered, failed, the run ends with its backlog undone. Only the
    visits served make calls (`load.served_rates` takes each operation's share, callers
    first, from `serve`)."""
    sim = system.simulation
    length = span[1] - span[0]
    drained = (sim.warmup + sim.duration + sim.limits.drain - span[0]) / length \
        if drain and length > 0.0 else 1.0  # the capacity left to the end, over its own
    waited = waited_on(system)
    admitted = admitted_shares(system, span, attempts)
    shares: dict[str, float] = {}

    def serve(ref: str, capacity: float) -> float:
        """The share of `ref`'s visits served, from the share its capacity serves."""
        let_in = admitted.get(ref, 1.0)
        if capacity >= 1.0 and let_in >= 1.0:
            return 1.0
        cname = ref.split(".", 1)[0]
        component = system.components[cname]
        refuses = component.queue is not None or component.load_shedding is not None \
            or (cname in saturated and cname not in waited)
        shares[ref] = min(let_in, capacity * (1.0 if refuses else drained), 1.0)
        return shares[ref]

    rates, capacity = served_rates(system, span, attempts, serve)
    return (rates, {ref: share for ref, share in shares.items() if share < 1.0},
            {ref: share for ref, share in capacity.items() if share < 1.0}, admitted)


def waited_on(system: System) -> set[str]:
    """The components some request waits on for as long as they take: reached from a
    workload's entry by calls waited on with no timeout or deadline (and cache misses and
    writes waited on) only."""
    edges: dict[str, list[str]] = {}
    for cname, oname, _, call in iter_calls(system):
        if not call.async_ and call.timeout is None and call.deadline is None:
            edges.setdefault(f"{cname}.{oname}", []).append(".".join(system.resolve(call.to)))
    for cname in system.components:
        for oname, ref in cache_edges(system, cname, sync_only=True):
            edges.setdefault(f"{cname}.{oname}", []).append(".".join(system.resolve(ref)))
    starts = [".".join(system.resolve(workload.to)) for workload in system.workloads]
    return {ref.split(".", 1)[0] for ref in reached(edges, starts)}


def admitted_shares(system: System, span: tuple[float, float],
                    attempts: Mapping[Path, float]) -> dict[str, float]:
    """The share of each rate-limited operation's visits its component's `rate_limit` lets
    in over `span` (those below 1): min(1, cap / arrivals), of each workload's arrivals with
    `per_workload`, the cap raised by what a limit lets in at once when the run starts (a
    token bucket's `burst`, a sliding window's `window` of `rate`); only visits let in make
    calls, so a limit behind another sees fewer, settled as the analytic estimate does
    (`Model.op_rates`), a round per level of limits. The workloads at their mean rate over
    `span` (a closed loop at users / (think + its round trip)), calls making `attempts`."""
    limited = {cname: component for cname, component in system.components.items()
               if component.rate_limit is not None}
    if not limited or not system.workloads:  # (lint's open part of a closed-loop system)
        return {}
    names, matrix = call_matrix(system, miss_shares(system, span), attempts)
    index = {name: i for i, name in enumerate(names)}
    external = np.zeros((len(names), len(system.workloads)))
    for column, workload in enumerate(system.workloads):
        if workload.users is None:
            rate = mean_rate(workload, *span)
        else:
            cycle = workload.think.mean_s + round_trip_s(system, workload.to)
            rate = workload.users / cycle if cycle > 0.0 else math.inf
        external[index[".".join(system.resolve(workload.to))], column] += rate
    if not np.isfinite(external).all():
        return {}
    ops = {cname: [index[f"{cname}.{o}"] for o in component.effective_operations]
           for cname, component in limited.items()}
    share = np.ones_like(external)
    offered = external
    for _ in range(len(limited) + 2):
        offered = np.stack([visits(names, matrix * share[:, [k]], external[:, k])
                            for k in range(external.shape[1])], axis=1)
        updated = np.ones_like(share)
        for cname, component in limited.items():
            cap, limit = rate_cap(component), component.rate_limit
            assert cap is not None and limit is not None
            ahead = limit.window if limit.algorithm == "sliding_window" else \
                (limit.burst or limit.rate) / limit.rate  # seconds of `rate` at the start
            cap *= 1.0 + (ahead / (span[1] - span[0]) if span[1] > span[0] else 0.0)
            arriving = offered[ops[cname]].sum(axis=0)  # per workload
            if limit.per_workload:
                updated[ops[cname]] = np.minimum(1.0, cap / np.maximum(arriving, 1e-300))
            else:
                updated[ops[cname]] = min(1.0, cap / max(float(arriving.sum()), 1e-300))
        if np.allclose(updated, share, rtol=1e-12, atol=0.0):
            break
        share = updated
    out = {}
    for cname in limited:
        for i in ops[cname]:
            came = float(offered[i].sum())
            let_in = float((offered[i] * share[i]).sum()) / came if came > 0.0 else 1.0
            if let_in < 1.0:
                out[names[i]] = let_in
    return out


def _load_events(system: System, rates: dict[str, float], calls: dict[Path, CallAttempts],
                 served: dict[str, float] | None = None) -> float:
    """Events per second of simulated time that visits at `rates` make: the kernel's per
    visit (see the module's docstring), and on the caller's side per call a timeout timer
    per timed attempt, a back-off per retry, hedge timers and a fallback's answer
    (`calls`; without them, one timer per timed call). An operation that serves only a
    share of its visits (`served`, past its component's capacity) has that share's events
    of work and calls, and the hops of all of them. With them, the events the data areas
    push per visit or delivery (`_area_events`); the visits they make (a choreographed
    saga's events, projections, redeliveries) are in `rates`, as `load.call_matrix` counts
    them."""
    served = served or {}
    return _visit_events(system, rates, calls, served) + _area_events(system, rates, served)


def _per_visit(system: System, cname: str, oname: str, hop: int) -> int:
    """The kernel's events of one visit of `cname.oname` (see the module's docstring)."""
    component = system.components[cname]
    operation = component.effective_operations[oname]
    before = operation.demand.mean_s + extra_s(system, cname, oname)
    per_visit = 2 * hop + (before > 0) + (operation.post_work.mean_s > 0)
    if component.core_limit is not None:
        per_visit += (operation.wait.mean_s > 0) + (operation.post_work.mean_s > 0)
    if system.overhead(cname)[1].mean_s > 0:
        per_visit += round(calls_made(system, cname, oname))
    return max(1, per_visit)


def _visit_events(system: System, rates: Mapping[str, float],
                  calls: dict[Path, CallAttempts], served: dict[str, float]) -> float:
    """`_load_events` of the visits at `rates` and their calls, without the data areas'."""
    hop = 1 if system.defaults.network.mean_s > 0 else 0
    per_second = 0.0
    for cname, component in system.components.items():
        for oname in component.effective_operations:
            share = served.get(f"{cname}.{oname}")
            per_visit = _per_visit(system, cname, oname, hop)
            if share is None:
                per_second += rates[f"{cname}.{oname}"] * per_visit
            else:
                work = per_visit - 2 * hop
                per_second += rates[f"{cname}.{oname}"] * (2 * hop + share * work)
    for cname, oname, path, call in iter_calls(system):
        if call.async_:
            continue
        found = calls.get(path)
        made = rates[f"{cname}.{oname}"] * served.get(f"{cname}.{oname}", 1.0) \
            * call.probability  # calls a second: the visits served make them
        if found is not None:
            per_second += made * found.events
        elif call.timeout is not None:
            per_second += made
    return per_second


# -- what the data areas add (sim/data) -------------------------------------------------------

def _fired_share(system: System, refs: Collection[str], seconds: float) -> float:
    """The share of the visits of `refs` in the run that come at least `seconds` before it
    ends: the timers they set that fire (the kernel clears its agenda once the window's
    requests are answered). From the workloads' mean rates up to then (`profile`s
    included)."""
    sim = system.simulation
    end = sim.warmup + sim.duration
    if seconds >= end:
        return 0.0
    whole = operation_rates(system, (0.0, end))
    early = operation_rates(system, (0.0, end - seconds))
    total = sum(whole[ref] for ref in refs) * end
    if total <= 0.0 or not math.isfinite(total):
        return 1.0
    return min(1.0, sum(early[ref] for ref in refs) * (end - seconds) / total)


def _loading_share(store: EventStore, visits_in_run: float) -> float:
    """The share of an event store's `append` and `load` visits whose load takes time, so
    that `EventStore.load` pushes its `_loaded` event: those to a stream with events to read
    (with `read_per_event`; else with a snapshot to read, `snapshot_every` events or more).
    Stream i starts with (2i + 1) × initial_events // streams events; a visit past the first
    `streams` of the run may find one appended in the run (keys that follow each other, as
    a workload's without `keys` do, come back to a stream after `streams` visits)."""
    if store.read_per_event > 0.0:
        least = 1
    elif store.snapshot_every is not None and store.snapshot_read > 0.0:
        least = store.snapshot_every
    else:
        return 0.0
    streams, initial = store.streams, store.initial_events
    first = streams if initial == 0 else \
        min(streams, max(0, -(-(least * streams - initial) // (2 * initial))))
    having = (streams - first) / streams  # (2i + 1)·initial ≥ least·streams from i = first
    again = max(0.0, 1.0 - streams / visits_in_run) if visits_in_run > 0.0 else 0.0
    return having + (1.0 - having) * again


def _area_events(system: System, rates: Mapping[str, float], served: dict[str, float]
                 ) -> float:
    """Events per second the data areas (sim/data) push for the visits at `rates`, besides
    the visits' own:

    - a choreographed saga's delivery timer per delivery of a step with a `timeout`
      (`SagaRun.published`) and a send per delivery of a step or compensation sent again
      (`SagaRun.retry`); an orchestrated saga with a `transition`, a send per step or
      compensation begun (`SagaRun.begin`); each for the sagas that reach the step or run
      the compensation (`load.saga_flow`, as the visits in `rates` count them);
    - a visibility timer per delivery of a queue without partitions (or a projection) that
      acknowledges after processing (`FifoSubscription._dispatch`), those that fire before
      the run ends; a Kafka consumer's deliveries start on its replica with no hop there
      (`PartitionedSubscription._take`, `kernel.deliver_on`), one event fewer each;
    - an event store's `_loaded` per `append` or `load` visit whose load takes time
      (`EventStore.load`, `_loading_share`);
    - a replicated store's commit per visit of a write operation (`ReplicatedStore.commit`
      pushes it, async mode too), and a read's wait per visit of a read operation in quorum
      mode, or at a raft leader (ReadIndex; `ReplicatedStore.serve`)."""
    def at(ref: str) -> float:  # visits a second that do their work
        return rates[ref] * served.get(ref, 1.0)

    hop = 1 if system.defaults.network.mean_s > 0 else 0
    sim = system.simulation
    length = sim.warmup + sim.duration
    per_second = 0.0
    for holder, saga in sagas(system):
        if saga.coordination == "choreography":
            for event, share in saga_sent(system, saga):
                per_second += at(holder) * share * (event.tries * event.timed + event.tries - 1.0)
        elif saga.transition.mean_s > 0:  # a transition per step reached or undone
            per_second += at(holder) * sum(share.reached + share.undone
                                           for share in saga_flow(system, saga))
    shares: dict[float, float] = {}
    for sub in subscriptions(system):
        deliveries = sum(at(ref) for ref in sub.publishers) * sub.deliveries
        if sub.visibility is not None:
            if sub.visibility not in shares:
                shares[sub.visibility] = _fired_share(system, sub.publishers, sub.visibility)
            per_second += deliveries * shares[sub.visibility]
        if sub.partitioned:
            per_second -= deliveries * hop
    for cname, component in system.components.items():
        store = component.event_store
        if store is not None:
            for oname in (store.append, store.load):
                if oname is not None:
                    ref = f"{cname}.{oname}"
                    per_second += at(ref) * _loading_share(store, at(ref) * length)
        replication = component.replication
        if replication is None:
            continue
        at_leader = {"leader": 1.0, "any": 1.0 / component.replicas, "followers": 0.0}
        for oname in component.effective_operations:
            ref = f"{cname}.{oname}"
            if oname in replication.writes or replication.mode == "quorum":
                per_second += at(ref)
            elif replication.mode == "raft":
                per_second += at(ref) * at_leader[replication.reads]
    return per_second


def ring_work(component: Component) -> float:
    """A hash ring's work in one replication, in events' worth. It is built at the start
    and rebuilt, in time proportional to its points, whenever a replica joins or leaves:
    an autoscaler may take it through every size between its replicas at the start,
    `autoscale.min` and `autoscale.max` (counted once each), and a rollout replaces each
    replica (a join and a leave, each rebuilding the component's ring and a lane's)."""
    most = max(component.replicas, component.most_replicas)
    rebuilt = 0.0  # replicas of the rings rebuilt, summed
    if component.autoscale is not None:
        least = min(component.replicas, component.autoscale.min)
        rebuilt += (most * (most + 1) - least * (least + 1)) / 2
    if component.rollout is not None:
        rebuilt += 4 * most * most
    return VIRTUAL_NODES * (RING_BUILD_PER_POINT * most + RING_UPDATE_PER_POINT * rebuilt)


def timer_events_per_s(system: System, span: tuple[float, float]) -> float:
    """Events per second of simulated time that probes and pauses cause whatever the load,
    averaged over `span`."""
    per_second = 0.0
    for component in system.components.values():
        replicas = component.most_replicas
        health = component.health
        if health is not None:
            per_second += sum(replicas / probe.period for probe in
                              (health.readiness, health.liveness) if probe is not None)
    length = span[1] - span[0]
    for fault in system.faults:
        if fault.pause is None or length <= 0.0:
            continue
        end = span[1] if fault.for_ is None else min(span[1], fault.at + fault.for_)
        share = max(0.0, end - max(span[0], fault.at)) / length
        replicas = 1 if fault.replica is not None else \
            system.components[fault.component].most_replicas
        per_second += 2.0 * replicas / fault.pause.every * share
    return per_second
