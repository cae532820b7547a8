"""The instant estimate of a whole system: per component load, utilization, queueing and
latency, per workload latency percentiles and error rate, from queueing formulas alone.

The model (docs/capacity.md says the same for users):
- Rates flow down the call graph (`load.call_matrix`): open workloads at their peak rate,
  closed loops at the throughput Mean Value Analysis gives them (exact MVA for single-server
  and delay stations, Seidmann's approximation for several servers; other traffic inflates
  the demands by 1/(1 − its utilization), the usual mixed-network treatment).
- Each component is a station (station.py): its workers serve jobs whose time is the
  operation's work, plus, with blocking io, the whole time its synchronous calls take (the
  caller holds the worker), so downstream queueing lengthens upstream service. Replicas
  behind a random, round-robin or hash balancer are separate queues at λ/replicas (a
  round-robin share of a Poisson stream has ca² = 1/replicas); least-requests and p2c
  balance so well that the replicas are taken as one pool of replicas × workers, a lower
  bound of their waits (never exact). A component whose leader serves every operation
  (leader_election, or replication with reads: leader) is one replica's station: its
  leader's workers take all of it; one that serves some (`_led`) is a leader station and
  the followers', the leader taking 1/replicas of the others, or behind least-requests and
  p2c what evens out the replicas (`quorum.steered_share`). With `cores`, the CPU is a
  station too (cpu.py).
- A closed loop's stations that serve only it take their waits from MVA (closed.py), not
  from the open formulas at its throughput.
- Times are distributions (lattice.py): a response is the station's waiting time, then the
  work, the calls (network hop there and back, the callee's response) and post_work, all
  independent; a parallel step takes the k-th fastest of its branches (k of wait_for);
  call probabilities and cache misses are mixtures. Percentiles come from these.
- Components that call each other in a circle are solved by fixed-point iteration.
- A visit a bounded queue refuses makes no calls: only the admitted share goes on, its loss
  and what it lets through iterated to their fixed point (`Model._evaluate`).
- Retried and hedged calls visit their callee once per attempt, and a queue's message its
  consumer once per delivery: the attempts depend on how attempts fail (`success.py`),
  hedges and deliveries that outlive their visibility timeout on the callee's response, all
  on the load, which they add to; they are iterated to their least fixed point
  (`Model.evaluate`), and the greatest one, when it is another, is a storm.
The estimate is of a healthy system at steady state: breakers, faults and the other
dynamics are not in the numbers (a retried call's time is: its attempts that time out or fail
with an error, and their back-offs); `caveats.py` says when that matters.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, TypeGuard

import numpy as np
import numpy.typing as npt

from scalesim.analytic import closed as closed_loop
from scalesim.analytic import hashing, lattice, memo, relay
from scalesim.analytic.again import Chain, backoff_bounds, still_full
from scalesim.analytic.cpu import CpuDemand, with_cores
from scalesim.analytic.cycles import weighted_rate
from scalesim.analytic.hashing import Split
from scalesim.analytic.held import Bound, held_bounds, populations, turns_stay_even
from scalesim.analytic.lattice import Lattice
from scalesim.analytic.load import (
    CallEdge,
    Pool,
    Subscription,
    admitted_share,
    bucket_start_share,
    call_edges,
    call_matrix,
    consumer_pool,
    drain_rps,
    expected_hedges,
    leader_served,
    miss_shares,
    peak_rate,
    poisson_stream,
    rate_cap,
    reachable,
    round_trip_s,
    serving_replicas,
    subscriptions,
    visit_extra_s,
    visits,
)
from scalesim.analytic.mva import MvaStation, mva
from scalesim.analytic.quorum import (
    POOLED,
    leader_share,
    replication_wait,
    steered,
    steered_share,
    to_followers,
)
from scalesim.analytic.station import (
    StationLoad,
    StationState,
    combined,
    partitioned,
    solve,
    uneven,
)
from scalesim.analytic.success import (
    Failures,
    Success,
    calls_of,
    needed,
    repeated_branches,
    step_calls,
)
from scalesim.spec.checks import cache_edges, iter_calls, sync_edges
from scalesim.spec.data import Consumer, Outbox, group_members, most_in_flight
from scalesim.spec.demand import cpu_s
from scalesim.spec.dists import Exponential
from scalesim.spec.model import (
    Balancer,
    Call,
    Component,
    Kind,
    Operation,
    ParallelStep,
    Slo,
    System,
    Workload,
    plain_steps,
    slo_target_label,
)
from scalesim.spec.resilience import Hedge, Retry

Waits = tuple[Lattice | None, Lattice | None]  # (whatever the outcome, when successful)
_UNSET = object()  # a callee not solved yet (the first pass over a circle of calls)
_Reads = tuple[memo.Inputs, ...]  # what an operation's calls read, call by call (`_calls_read`)
PERCENTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p999": 0.999}
MAX_PASSES = 200
TOLERANCE = 1e-9
# Attempts per call settled when a round changes none by more than this share.
ATTEMPTS_TOLERANCE = 1e-6
# Passes of the bounded queues' refusals (`Model._evaluate`) after which each moves halfway.
DAMP_AFTER = 20
# A storm's attempts (the greatest fixed point) apart from the calm's by more than this share.
STORM_TOLERANCE = 1e-2
# Attempts late less often than this (a tenth of the tail p999 reads) keep their retries past
# the grid (`lattice.mostly`): percentiles up to p999 stay exact and as fine as the call's.
RARELY_LATE = 1e-4
# the share of calls under which none is taken to succeed (what is left of 1 − late^n or
# of the attempts' successes when every attempt fails, but for rounding)
NEVER = 1e-12
# `Model.refused_again` kept for this many chains and retries at most
MEMO_AGAIN = 4096


START_SHARE = 0.01  # of the window a bucket's starting tokens may last in and stay "exact"
# how a rate limit's admitted share is worked out (`Model._admission`, `_admitted_how`);
# "exact" without one
Admission = Literal["exact", "dam", "smooth", "start"]


@dataclass(frozen=True)
class ComponentEstimate:
    arrival_rate_rps: float  # visits per second, all operations; a dead-letter queue's
    # dead letters too (`Model._dead_lettered`), which the broker publishes into it
    state: StationState
    replicas: int
    servers: int | None  # per queue (a replica, or the pool); None = unlimited
    queues: int  # separate queues: the replicas, or 1 when they are pooled
    service_mean_s: float  # mean worker time per job
    responses: dict[str, Lattice | None]  # per operation; None when it cannot keep up
    admitted: float = 1.0  # the share of the visits that come its rate limit lets in
    cores: float | None = None  # per replica (`cores`; an event loop's 1); None: no CPU model
    cpu_in_wait: bool = False  # the cores' contention is in the wait, not only in the load
    pooled: bool = False  # replicas behind least_requests/p2c taken as one shared queue
    cpu_offered: float = 0.0  # λ·E[cpu] / cores of a replica (0 without `cores`)
    variability: float = 1.0  # (c_a² + c_s²)/2 of its jobs: 1 for Poisson and exponential
    admission: Admission = "exact"

    @property
    def limited(self) -> bool:
        """Its workers or its cores can run out (it has a utilization)."""
        return self.servers is not None or self.cores is not None

    @property
    def incoming_rps(self) -> float:
        """Visits per second that come, before its rate limit admits `arrival_rate_rps` of
        them (the same without a limit, or when it admits none)."""
        return self.arrival_rate_rps / self.admitted if self.admitted > 0.0 else \
            self.arrival_rate_rps


@dataclass(frozen=True)
class SubscriptionEstimate:
    """A queue's subscription: `concurrency` deliveries in flight, each held until the
    consumer answers; messages wait in the buffer meanwhile."""

    rate_rps: float  # deliveries per second: each message's failed deliveries again, and
    # dead letters from the queues that send theirs here (`load.subscriptions`)
    state: StationState
    held: Lattice | None = None  # a delivery: the hop there, the consumer's answer, the hop back
    first: tuple[float, ...] = (1.0,)  # P(a message first succeeds on delivery k), k = 1, 2, …
    # from a failed delivery's start to the next one's: until the message is back (the
    # visibility timeout, or the failed delivery when it comes back at once), then its wait
    step: Lattice | None = None

    @property
    def lag_mean_s(self) -> float:
        """From publication until first processed, as the simulation's `lag_ms`: the wait in
        the buffer, a `step` per failed delivery before the one that succeeds, then that
        delivery held until its answer is back."""
        failed = 0.0 if self.step is None else \
            self.step.mean * sum(k * w for k, w in enumerate(self.first))
        return self.state.mean_wait_s + failed + (0.0 if self.held is None else self.held.mean)

    @property
    def lag(self) -> Lattice | None:
        """The lag's distribution (None when the subscription cannot keep up): a mixture over
        the delivery a message first succeeds on, on the first delivery's grid when the
        others are rarer than RARELY_LATE (a 30 s timeout would blur a 10 ms lag's p99)."""
        if self.state.wait is None or self.held is None:
            return None
        parts = [lattice.convolve(self.state.wait, self.held)]
        if self.step is None or len(self.first) <= 1:
            return parts[0]
        for _ in self.first[1:]:
            parts.append(lattice.convolve(parts[-1], self.step))
        mix = lattice.mostly if 1.0 - self.first[0] < RARELY_LATE else lattice.mixture
        return mix(self.first, parts)


@dataclass(frozen=True)
class WorkloadEstimate:
    rate_rps: float  # requests per second (a closed loop: its MVA throughput)
    closed: bool
    latency: Lattice | None  # None when a station it visits cannot keep up
    success: float  # P(a request succeeds): error rates, losses, timeouts, replica failures
    availability: float  # the same from replica failures alone (retries, fallbacks applied)
    visits: dict[str, float]  # visits per request of each component
    exact: bool  # product-form: the mean is exact (see `Model._exact`)
    percentiles_exact: bool = False  # the percentiles too (open product-form networks only)
    revisited: tuple[str, ...] = ()  # queueing components a request can meet twice or more
    degraded: float = 0.0  # P(a request is answered in part by a `degraded` fallback)
    # a closed loop's: P(a request is refused at a full bounded queue, its user sending
    # another), which `rate_rps` counts (`closed.refused`); 0 for an open workload
    refused: float = 0.0

    @property
    def mean_s(self) -> float:
        return math.inf if self.latency is None else self.latency.mean

    def quantile_s(self, q: float) -> float:
        return math.inf if self.latency is None else self.latency.quantile(q)


@dataclass(frozen=True)
class SloCheck:
    """One target of an SLO against the estimate (times in seconds)."""

    workload: str | None  # whose requests it is about (None: all of them)
    name: str  # 'mean', a percentile key ('p99') or 'error_rate'
    target: float
    value: float
    met: bool

    @property
    def label(self) -> str:
        """'p99' for the system-wide SLO, 'shoppers p99' for a workload's own."""
        return slo_target_label(self.workload, self.name)


def latency_at(latency: Lattice | None, name: str) -> float:
    """'mean' or a percentile key ('p99') of `latency`, in seconds; inf for None (requests
    that cannot keep up)."""
    if latency is None:
        return math.inf
    return latency.mean if name == "mean" else latency.quantile(PERCENTILES[name])


def slo_checks(slo: Slo, latency: Lattice | None, error_rate: float) -> \
        list[tuple[str, float, float, bool]]:
    """(name, target, estimate, met) for each target of `slo` on requests with `latency`
    (None: they cannot keep up, every latency target is missed) and `error_rate`."""
    checks = []
    for name in ("mean", *PERCENTILES):
        target = getattr(slo, name)
        if target is not None:
            value = latency_at(latency, name)
            checks.append((name, float(target), value, value <= target))
    if slo.error_rate is not None:
        checks.append(("error_rate", slo.error_rate, error_rate, error_rate <= slo.error_rate))
    return checks


@dataclass(frozen=True)
class FirstBranches:
    """A parallel step that waits for fewer than all its branches: the estimate takes the
    `need`-th fastest of its branches' times as independent (`Model._calls_time`)."""

    need: int
    # each branch's time in the requests that succeed, as the latency counts it: the call's
    # attempts with their waits, timeouts, retries and back-offs (`Model._call_waits`);
    # None when the callee cannot keep up or the call never succeeds
    branches: tuple[Lattice | None, ...]


@dataclass(frozen=True)
class Estimate:
    system: System
    workloads: dict[str, WorkloadEstimate]
    components: dict[str, ComponentEstimate]
    subscriptions: dict[str, SubscriptionEstimate]
    timeouts: dict[str, float]  # 'comp.op->comp.op': P(an attempt outlasts its timeout)
    converged: bool  # the fixed points over circular calls and retried attempts were reached
    latency: Lattice | None  # successful requests of all workloads, pooled
    # the other steady state retries can hold the system in (`Model.evaluate(storm=True)`)
    storm: Estimate | None = None
    # per operation ('comp.op'), its parallel steps that wait for fewer than all branches
    first_branches: dict[str, tuple[FirstBranches, ...]] = dataclasses.field(
        default_factory=dict)
    # per retried call with a retry budget ('comp.op->comp.op'): the most tries a call its
    # budget allows at this load (`Model._budget`)
    budgets: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def stable(self) -> bool:
        return all(c.state.stable for c in self.components.values()) and \
            all(s.state.stable for s in self.subscriptions.values())

    @property
    def throughput_rps(self) -> float:
        return sum(w.rate_rps for w in self.workloads.values())

    @property
    def error_rate(self) -> float:
        total = self.throughput_rps
        return sum(w.rate_rps * (1.0 - w.success) for w in self.workloads.values()) / total \
            if total > 0.0 else 0.0

    def latency_s(self, name: str) -> float:
        """'mean' or a percentile key ('p99') of the pooled latency; inf when unstable."""
        return latency_at(self.latency, name)

    def slo_checks(self, slo: Slo) -> list[tuple[str, float, float, bool]]:
        """(name, target, estimate, met) for each target of `slo` on all requests (times in
        seconds)."""
        return slo_checks(slo, self.latency, self.error_rate)

    def scoped_slo_checks(self, scopes: list[tuple[str | None, Slo]]) -> list[SloCheck]:
        """Each target of each SLO of `scopes` (`System.slo_scopes`) judged on the requests
        it is about: all of them (None) or one workload's."""
        checks = []
        for workload, slo in scopes:
            if workload is None:
                found = self.slo_checks(slo)
            else:
                own = self.workloads[workload]
                found = slo_checks(slo, own.latency, 1.0 - own.success)
            checks += [SloCheck(workload, *check) for check in found]
        return checks

    def storm_overloads(self) -> list[str]:
        """The components with limited workers or cores that the storm (`storm`) offers
        ρ ≥ 1 and this, the calm state, does not."""
        if self.storm is None:
            return []
        return [name for name, c in self.storm.components.items() if c.limited
                and c.state.offered >= 1.0 > self.components[name].state.offered]

    def bottleneck(self, workload: str | None = None) -> tuple[str, float] | None:
        """The most loaded component with limited workers or cores (of those `workload`
        visits), by offered load: its name and utilization (what it serves: below the
        offered load when a bounded queue refuses some)."""
        loads = [(c.state.offered, name, c.state.utilization)
                 for name, c in self.components.items()
                 if c.limited and c.arrival_rate_rps > 0.0
                 and (workload is None or self.workloads[workload].visits.get(name, 0.0) > 0)]
        if not loads:
            return None
        _, name, utilization = max(loads, key=lambda item: item[0])
        return name, utilization


@dataclass(frozen=True)
class _Op:
    ref: str
    cname: str
    component: Component
    operation: Operation
    work: Lattice
    post: Lattice
    # (share of visits that make it, callee) of a cache's synchronous backend calls: a read's
    # miss, a write-through or invalidating write to `write_to`
    cache_calls: tuple[tuple[float, str], ...]
    steps: tuple[Call | ParallelStep, ...]  # its calls as plain steps (`plain_steps`), once
    calls: tuple[Call, ...]  # every call of those steps (`step_calls`)
    # each of `calls` with the spec's defaults filled in (`System.effective`), and the
    # operation it goes to
    effective: tuple[Call, ...]
    targets: tuple[str, ...]
    repeats: tuple[bool, ...]  # of each of `calls`: the same branch as the one before it
    # what a visit waits on its replicas for (`quorum.replication_wait`): a write's commit,
    # a quorum read's answers, a Raft leader read's ReadIndex round
    replicated: Lattice | None = None

    @property
    def own(self) -> Lattice:
        """Its time with no queueing and no calls: its work, then its replicas' wait."""
        return self.work if self.replicated is None else \
            lattice.total([self.work, self.replicated])


@dataclass(frozen=True)
class _Flow:
    """How requests spread over the operations with the repeated calls' attempts counted."""

    attempts: tuple[float, ...]  # of each of `Model.repeated`, then deliveries of `timed`
    matrix: npt.NDArray[np.float64]  # M[i, j]: visits operation i makes to j per visit
    visits: dict[str, npt.NDArray[np.float64]]  # per workload: visits of each operation
    component_visits: dict[str, dict[str, float]]  # per workload: of each component
    # per queue subscription: its deliveries per visit of each operation (`Model.deliveries`)
    deliveries: dict[tuple[str, int], npt.NDArray[np.float64]]
    # per closed loop: the visits of each operation its user waits for (`Model.waited`)
    waited: dict[str, npt.NDArray[np.float64]]


@dataclass(frozen=True)
class _Loop:
    """A closed loop as MVA solves it (`Model._closed`)."""

    rate_rps: float  # requests sent a second (those refused and sent again included)
    mean_s: float  # mean response of the requests let in
    # the waits of the components only it visits, and of one that refuses it (`refusal`)
    views: dict[str, closed_loop.ClosedWait]
    exact: bool  # MVA's recursion, not Schweitzer's approximation (`mva`)
    refusal: closed_loop.Refusal | None = None  # a full bounded queue refuses its users

    @property
    def refused(self) -> float:
        return 0.0 if self.refusal is None else self.refusal.view.loss


# what one solution gives the next round of attempts: responses, how attempts fail, visits/s
_Solved = tuple[dict[str, Lattice | None], Success, npt.NDArray[np.float64]]


@dataclass(frozen=True)
class _Network:
    """One solution of the open network (`Model._solve`) and what its estimate is built
    from (`Model._estimate`): only the pass a fixed point ends on needs that built."""

    rates: Mapping[str, float]  # per workload, a closed loop's its MVA throughput
    loops: Mapping[str, _Loop]  # per closed loop, how MVA solved it
    flow: _Flow
    admitted: dict[str, dict[str, float]]  # rate-limited shares (`Model.op_rates`)
    components: dict[str, ComponentEstimate]
    timeouts: dict[str, float]
    converged: bool
    solved: _Solved


def _calls_per_visit(op: _Op) -> float:
    """Mean synchronous calls (and cache misses) one visit makes: network hops there and back
    for the MVA delay station."""
    return sum(c.probability for c in op.calls if not c.async_) \
        + sum(share for share, _ in op.cache_calls)


def _own_second(op: _Op) -> float:
    """E[(work + post_work)²] of a visit, the two independent."""
    return op.work.second + 2.0 * op.work.mean * op.post.mean + op.post.second


class Model:
    """What the estimate of a system needs that does not depend on the load, built once so
    that searches over the load (capacity.py) re-evaluate quickly."""

    def __init__(self, system: System, points: int = lattice.LEAF_POINTS,
                 held: dict[str, Bound] | None = None, repeats: bool = True,
                 hashed: dict[str, dict[str, Split]] | None = None) -> None:
        """`held`: the components their callers' workers keep from queueing, when not the
        spec's own (`held.held_bounds`): the run estimate's, with timeouts and retries left
        out (`attempts.HealthyEstimates`). `repeats=False` counts every call once, retried
        or hedged, for the run estimate, which counts the attempts itself. `hashed`: the
        shares of `hashing.uneven`, when worked out already."""
        self.system = system
        self.repeats = repeats
        self.points = points  # grid points per distribution: fewer is faster and coarser
        # share of each cache's reads that go to its backend (a TTL cache's estimated)
        self.misses = miss_shares(system)
        # every call counted once per visit that makes it; `_flow` adds the repeated attempts
        self.names, self.once = call_matrix(system, self.misses)
        self.index = {name: i for i, name in enumerate(self.names)}
        self.hop = lattice.of(system.defaults.network, points)
        self.round_trip = lattice.total([self.hop, self.hop])  # there and back at once
        self.ops = {ref: self._op(ref) for ref in self.names}
        self.external = np.zeros((len(self.names), max(1, len(system.workloads))))
        for column, workload in enumerate(system.workloads):
            self.external[self.index[self._entry(workload)], column] = 1.0
        # per queue subscription (queue, consumer's place): its deliveries per visit of each
        # operation, dead letters from other queues included (`load.subscriptions`)
        self.deliveries: dict[tuple[str, int], npt.NDArray[np.float64]] = {}
        subs = subscriptions(system, self.misses)
        # each queue subscription as its own queue delivers to it (dead letters come after)
        self.subscribed: dict[tuple[str, int], Subscription] = {}
        for sub in subs:
            if system.components[sub.owner].kind is Kind.QUEUE:
                self.subscribed.setdefault((sub.owner, sub.consumer), sub)
                row = self.deliveries.setdefault((sub.owner, sub.consumer),
                                                 np.zeros(len(self.names)))
                for ref in sub.publishers:
                    row[self.index[ref]] += sub.deliveries
        # per queue subscription whose consumer's workers bind first: the servers a message
        # waits for (`load.consumer_pool`); and that consumer -> its queue
        self.pools = {key: pool for key in self.subscribed
                      if (pool := consumer_pool(system, *key)) is not None}
        # per queue subscription: the deliveries a second it can take (`load.drain_rps`)
        self.drains = {key: drain for key in self.subscribed
                       if math.isfinite(drain := drain_rps(system, *key, self.pools.get(key)))}
        self.fed = {system.resolve(system.components[queue].consumers[place].to)[0]: queue
                    for queue, place in self.pools}
        # per queue: the calls its outbox relays publish (caller, share of its visits, outbox)
        self.relays: dict[str, list[tuple[int, float, Outbox]]] = {}
        for edge in call_edges(system):
            if edge.call.outbox is not None:
                self.relays.setdefault(edge.callee.split(".", 1)[0], []).append(
                    (self.index[edge.caller], edge.weight, edge.call.outbox))
        self.limited = {cname: [self.index[f"{cname}.{o}"] for o in c.effective_operations]
                        for cname, c in system.components.items() if c.rate_limit is not None}
        # per rate-limited component, how its admitted share is worked out (`_admission`)
        reach = self._reached_by() if self.limited else np.zeros((0, 0), dtype=bool)
        self.admission = {cname: self._admission(cname, ops, reach)
                          for cname, ops in self.limited.items()}
        self.order, self.cyclic = _component_order(system)
        self.sync_edges = sync_edges(system)  # what each operation waits on
        # 1 where operation i waits on j: a request's own visits, those a closed loop's user
        # waits for (an async call, a delivery or a projection loads j but holds no one)
        self.waited = np.zeros_like(self.once)
        for ref, callees in self.sync_edges.items():
            for callee in callees:
                self.waited[self.index[ref], self.index[callee]] = 1.0
        self.by_component = {cname: [f"{cname}.{o}" for o in c.effective_operations]
                             for cname, c in system.components.items()}
        # some call waited on retries (`_retried`), or only some visits wait on (`_succeeded`):
        # the latency counts how its attempts fail
        self.weighs_failures = any(
            not c.async_ and (c.probability < 1.0 or (c.retry is not None and c.retry.attempts > 1))
            for _, _, _, c in iter_calls(system)) or any(
            share < 1.0 for op in self.ops.values() for share, _ in op.cache_calls)
        # their callers' workers keep them from queueing
        self.held = held_bounds(system) if held is None else held
        # the most requests their callers' workers can hold at each callee (`_held_wait`)
        self.populations = populations(system)
        # how each workload's load falls on the replicas of hash-balanced components
        self.hashed = hashing.uneven(system) if hashed is None else hashed
        # how each workload's records fall on the partitions of partitioned topics
        self.partitioned = hashing.partition_shares(system)
        # a callee's response as callers see it (hops added), kept while the response is
        self._reached: dict[str, tuple[Lattice, Lattice]] = {}
        # the last solution of each component, of its station (a callee's new response
        # leaves a non-blocking caller's load as it was), of each operation's calls (`_held`)
        # and of each call (`_call_waits`), reused while what they read stays the same
        self._solved: memo.Last[str, ComponentEstimate] = memo.Last()
        self._stations: memo.Last[str, StationState] = memo.Last()
        self._holds: memo.Last[str, tuple[Waits, Lattice | None]] = memo.Last()
        self._commits: memo.Last[str, Lattice | None] = memo.Last()  # `_committed`
        self._waited: memo.Last[tuple[str, int], Waits] = memo.Last()
        # the bounded queues' refusals the last settled `_evaluate` ended on, with its inputs
        self._settled_refusals: tuple[memo.Inputs, dict[str, float]] | None = None
        self._coarse: dict[int, Model] = {}
        self._again: dict[str, tuple[str, ...]] = {}  # per entry: components met twice or more
        # `refused_again` by the chain and the retry it was worked out for
        self._still_full: dict[tuple[object, ...], tuple[float, ...]] = {}
        self._waits: npt.NDArray[np.float64] | None = None  # sync calls per visit, all made
        # calls waited on that can send more than one attempt: retried (2+ tries) or hedged
        self.repeated = [edge for edge in call_edges(system)
                         if repeats and not edge.call.async_ and edge.call.repeated]
        # calls waited on with a retry budget (`Estimate.budgets`)
        self.budgeted = [edge for edge in call_edges(system) if not edge.call.async_
                         and edge.call.retry is not None and edge.call.retry.budget is not None]
        # subscriptions whose deliveries can outlive their visibility timeout, bringing
        # the message again while they still run
        self.timed = [sub for sub in subs if repeats and sub.visibility is not None]
        # one attempt a call, and the deliveries of messages never late
        self.flow = self._flow((1.0,) * len(self.repeated)
                               + tuple(sub.deliveries for sub in self.timed))

    def coarse(self, points: int) -> Model:
        """The same system's model on `points` grid points, built once (the capacity
        searches of every workload share it)."""
        if points not in self._coarse:
            self._coarse[points] = Model(self.system, points, repeats=self.repeats,
                                         hashed=self.hashed)
        return self._coarse[points]

    def _entry(self, workload: Workload) -> str:
        return ".".join(self.system.resolve(workload.to))

    def _op(self, ref: str) -> _Op:
        cname, oname = ref.split(".", 1)
        component = self.system.components[cname]
        operation = component.effective_operations[oname]
        work = lattice.of(operation.demand, self.points)
        # the CPU model's overheads, `wait` and an event store's aggregate load
        extra = visit_extra_s(self.system, cname, oname)
        if extra > 0.0:
            work = lattice.total([work, lattice.point(extra, self.points)])
        cache_calls = tuple((self.misses[cname] if to == component.backend else 1.0, to)
                            for name, to in cache_edges(self.system, cname, sync_only=True)
                            if name == oname)
        steps = tuple(plain_steps(operation.calls))
        calls = tuple(step_calls(steps))
        return _Op(ref, cname, component, operation, work,
                   lattice.of(operation.post_work, self.points), cache_calls, steps, calls,
                   tuple(self.system.effective(call) for call in calls),
                   tuple(".".join(self.system.resolve(call.to)) for call in calls),
                   repeated_branches(steps),
                   replication_wait(self.system, cname, oname, self.points))

    def evaluate(self, scales: Mapping[str, float] | None = None,
                 storm: bool = False) -> Estimate:
        """The estimate with each open workload's rate multiplied by scales[name] (by 1 when
        absent). The attempts of retried and hedged calls (`_tries`), and the deliveries a
        message of subscriptions with a visibility timeout (`_deliveries`), depend on the
        load and add to it: they are iterated to their fixed point from one attempt a call
        and no late delivery, which reaches the least one, as they only grow with the load
        and the load with them (two rounds where they do not depend on it: retried errors).
        With `storm`, the estimate also carries the greatest fixed point when it is another
        (`Estimate.storm`): iterated down from every try and hedge sent, and every delivery
        late where a subscription can storm (`_can_storm`)."""
        scales = scales or {}
        estimate, flow, solved = self._settle(self.flow, scales)
        if not storm or not (self.repeated or self.timed):
            return estimate
        calm = flow.attempts[len(self.repeated):]
        top = self._flow(tuple(self._most(edge, solved[2]) for edge in self.repeated) + tuple(
            sub.late_deliveries(None) if self._can_storm(sub) else made
            for sub, made in zip(self.timed, calm, strict=True)))
        stormy, found, _ = self._settle(top, scales)
        if np.allclose(found.attempts, flow.attempts, rtol=STORM_TOLERANCE, atol=0.0):
            return estimate
        return dataclasses.replace(estimate, storm=stormy)

    def _settle(self, flow: _Flow, scales: Mapping[str, float]
                ) -> tuple[Estimate, _Flow, _Solved]:
        """The estimate where the attempts `_tries` gives agree with those of the flow it was
        solved with, iterated from `flow` (the estimate built from the last pass only)."""
        network = self._evaluate(flow, scales)
        if not (self.repeated or self.timed):
            return self._estimate(network), flow, network.solved
        calls = len(self.repeated)
        for _ in range(MAX_PASSES):
            solved = network.solved
            attempts = tuple(self._tries(edge, *solved) for edge in self.repeated) + tuple(
                self._deliveries(sub, solved[0], made)
                for sub, made in zip(self.timed, flow.attempts[calls:], strict=True))
            if np.allclose(attempts, flow.attempts, rtol=ATTEMPTS_TOLERANCE, atol=0.0):
                return self._estimate(network), flow, solved
            flow = self._flow(attempts)
            network = self._evaluate(flow, scales)
        return dataclasses.replace(self._estimate(network), converged=False), flow, \
            network.solved

    def _most(self, edge: CallEdge, op_rate: npt.NDArray[np.float64]) -> float:
        """The most attempts a call can send: every try (within its retry budget, at the
        rate of `op_rate`) and every hedge its delay lets go when no attempt answers (a
        percentile delay still only 1 − q of them, as `_tries` counts it at any load)."""
        call, retry = edge.call, edge.call.retry
        tries = 1.0 if retry is None else min(float(retry.attempts), self._budget(edge, op_rate))
        return tries + (0.0 if call.hedge is None
                        else expected_hedges(call.hedge, lambda _: 1.0))  # every attempt slow

    def _evaluate(self, flow: _Flow, scales: Mapping[str, float]) -> _Network:
        """The open network with the closed loops' rates, where a visit a bounded queue
        refuses makes no calls (nor publishes), as in the kernel: each station's loss thins
        what its operations send on (`_accepted`). The loss depends on what it thins (a
        blocking caller holds its worker through the calls, a refused call comes back
        sooner), so it is iterated from no refusal to where it settles (`_refusals`); for
        the flow and load evaluated last, from the refusals its last pass started from:
        that pass again, whose components are all kept (`memo`)."""
        rates = {w.name: peak_rate(w) * scales.get(w.name, 1.0)
                 for w in self.system.workloads if w.users is None}
        closed = [w for w in self.system.workloads if w.users is not None]
        inputs = (flow.attempts, tuple(rates.items()))
        kept = self._settled_refusals
        refused = kept[1] if kept is not None and memo.same(kept[0], inputs) else {}
        for passes in range(MAX_PASSES):
            thinned = self._accepted(flow, refused)
            loops = self._loops(closed, rates, thinned)
            by_loops = {loop.refusal.component: loop.refusal.view.loss
                        for loop in loops.values() if loop.refusal is not None}
            network = self._solve(rates, loops, self._accepted(thinned, by_loops))
            found = self._refusals(network, by_loops, refused, damped=passes >= DAMP_AFTER)
            if found is None:
                self._settled_refusals = (inputs, refused)
                return network
            refused = found
        return dataclasses.replace(network, converged=False)

    def _loops(self, closed: list[Workload], rates: dict[str, float], flow: _Flow
               ) -> dict[str, _Loop]:
        """Each closed loop as MVA solves it over `flow`, its throughput put in `rates`;
        several loops to a fixed point, each meeting the others' accepted requests."""
        loops: dict[str, _Loop] = {}
        for _ in range(10 if len(closed) > 1 else 1):
            for workload in closed:
                carried = {name: rate * (1.0 - loops[name].refused) if name in loops else rate
                           for name, rate in rates.items()}
                loops[workload.name] = self._closed(workload, carried, flow)
                rates[workload.name] = loops[workload.name].rate_rps
        return loops

    @staticmethod
    def _refusals(network: _Network, by_loops: Mapping[str, float],
                  before: Mapping[str, float], damped: bool) -> dict[str, float] | None:
        """The share each bounded queue refuses of the open network's visits (those a
        closed loop's refusal sets aside: its thinning is the loop's), or None when it is
        `before`'s to TOLERANCE. `damped`: halfway from `before`, for a loss that swings
        (more refused upstream, less load and fewer refusals downstream, and back)."""
        found = {cname: c.state.loss for cname, c in network.components.items()
                 if c.state.loss > 0.0 and cname not in by_loops}
        if all(math.isclose(found.get(c, 0.0), before.get(c, 0.0), rel_tol=TOLERANCE,
                            abs_tol=NEVER) for c in found.keys() | before.keys()):
            return None
        if damped:
            return {c: (found.get(c, 0.0) + before.get(c, 0.0)) / 2.0
                    for c in found.keys() | before.keys()}
        return found

    def _accepted(self, flow: _Flow, losses: Mapping[str, float]) -> _Flow:
        """`flow` with the visits each component of `losses` refuses (that share of them)
        making no calls (nor publishes): only the accepted ones go on."""
        if not any(losses.values()):
            return flow
        matrix = flow.matrix.copy()
        deliveries = {key: row.copy() for key, row in flow.deliveries.items()}
        for cname, loss in losses.items():
            rows = [self.index[ref] for ref in self.by_component[cname]]
            matrix[rows] *= 1.0 - loss
            for row in deliveries.values():
                row[rows] *= 1.0 - loss
        return self._flow_of(flow.attempts, matrix, deliveries)

    # -- attempts --------------------------------------------------------------------------
    def _tries(self, edge: CallEdge, responses: Mapping[str, Lattice | None],
               success: Success, op_rate: npt.NDArray[np.float64]) -> float:
        """The attempts of one call that reach its callee, as the kernel sends them. A try
        fails as `Success.attempt` has it (the callee's refusals, replicas down, errors and
        the failures its own calls pass up, or late past the call's timeout); the share
        that fails by a cause its retry is `on` is tried again, up to `attempts` tries in all
        (`Success.tried`: a queue that refused one is more often still full for the
        next); a retry budget allows at most 1 + ratio + replicas × min_per_s / (the call's
        rate) (each calling replica keeps its own, as the kernel does: `_budget`). Hedges
        add `load.expected_hedges` (of the first attempt: retries are not hedged); a hedge
        that loses the race counts in full, as one that has started runs to its end."""
        call = edge.call
        retry = call.retry
        tries = 1.0
        if retry is not None and retry.attempts > 1:
            tries = min(success.tried(edge.caller, call)[1], self._budget(edge, op_rate))
        if call.hedge is not None:
            attempt = self.call_time(call, responses)
            tries += expected_hedges(call.hedge, lambda t: 1.0 if attempt is None
                                     else max(0.0, 1.0 - attempt.cdf(t)))
        return tries

    def _budget(self, edge: CallEdge, op_rate: npt.NDArray[np.float64]) -> float:
        """The most tries a call's retry budget allows at its rate in `op_rate`: 1 + ratio +
        replicas × min_per_s / rate, each calling replica keeping its own budget as the
        kernel does (infinite without a budget)."""
        retry = edge.call.retry
        rate = float(op_rate[self.index[edge.caller]]) * edge.weight
        if retry is None or retry.budget is None or rate <= 0.0:
            return math.inf
        replicas = self.ops[edge.caller].component.most_replicas
        return 1.0 + retry.budget.ratio + replicas * retry.budget.min_per_s / rate

    def refused_again(self, call: Call, found: ComponentEstimate) -> tuple[float, ...]:
        """P(retry number j of `call` is refused | its callee's full queue refused the attempt
        before), j = 1 … attempts − 1 (`again.still_full`), at the callee's estimate
        `found`; () when its retry is not `on` rejected or forgets: a queue that refuses
        none (or less than `NEVER`, which no number shows), or a retry sent to another
        queue (another replica, `other_replica`; a hash ring split unevenly, whose replicas
        are solved apart, counts as one)."""
        retry = call.retry
        cname = self.system.resolve(call.to)[0]
        state, servers = found.state, found.servers
        if retry is None or retry.attempts < 2 or "rejected" not in retry.on \
                or state.loss <= NEVER or servers is None or found.service_mean_s <= 0.0 \
                or not math.isfinite(found.service_mean_s):
            return ()
        component = self.system.components[cname]
        if found.queues == 1:
            same = 1.0
        elif retry.other_replica or cname in self.hashed:
            return ()
        else:  # the balancer's pick again: a hash sends the key where it went
            same = 1.0 if component.balancer is Balancer.HASH else 1.0 / found.queues
        capacity = _queueing(component)[2]
        assert capacity is not None  # it refuses
        chain = Chain(state.offered * servers / found.service_mean_s, servers,
                      found.service_mean_s, capacity)
        key = (chain, state.loss, same, retry.attempts, retry.backoff, retry.jitter,
               retry.base, retry.max)
        if key not in self._still_full:
            if len(self._still_full) > MEMO_AGAIN:
                self._still_full.clear()
            self._still_full[key] = still_full(retry, chain, self.round_trip, state.loss, same)
        return self._still_full[key]

    def _can_storm(self, sub: Subscription) -> bool:
        """Whether redeliveries can hold a subscription's consumer overloaded: its
        deliveries are bounded (`max_deliveries`: without, a storm's count has no bound),
        and more of them can run at once than the consumer has workers, so they queue there
        and outlast the timeout (a subscription takes at most `concurrency` at once, which
        the visits of the flow do not bound)."""
        queue = self.system.components[sub.owner]
        consumer = self.ops[sub.target].component
        workers = consumer.worker_limit
        return queue.delivery is not None and queue.delivery.max_deliveries is not None \
            and workers is not None \
            and queue.consumers[sub.consumer].concurrency > workers * consumer.most_replicas

    def _deliveries(self, sub: Subscription, responses: Mapping[str, Lattice | None],
                    made: float) -> float:
        """Deliveries a message of a subscription with a visibility timeout: a delivery
        outlives it when the consumer's response (with the hops there and back, but on a
        partition's own replica) takes longer, and the message comes again while it runs
        (`Subscription.late_deliveries`). Never fewer than the `made` of the last round: a
        consumer that can no longer keep up (no response) keeps them, as its subscription
        falls behind rather than sending it more (it takes `concurrency` at once)."""
        response = responses.get(sub.target, lattice.zero())
        held = None if response is None else response if sub.partitioned \
            else self.call_time(Call(to=sub.target), responses)
        if held is None:
            return made
        return max(made, sub.late_deliveries(held))

    def _flow(self, attempts: tuple[float, ...]) -> _Flow:
        """Visits per request of every operation with the repeated calls making `attempts`
        (in the order of `repeated`), and the deliveries a message of each of `timed` after
        them."""
        matrix, deliveries = self.once, self.deliveries
        calls = len(self.repeated)
        extra = [(edge.caller, edge.callee, edge.weight * (tries - 1.0))
                 for edge, tries in zip(self.repeated, attempts[:calls], strict=True)]
        late = [(sub, made - sub.deliveries)
                for sub, made in zip(self.timed, attempts[calls:], strict=True)]
        if any(more != 0.0 for *_, more in extra) or any(more != 0.0 for _, more in late):
            matrix = matrix.copy()
            deliveries = {key: row.copy() for key, row in deliveries.items()}
            for caller, callee, more in extra:
                matrix[self.index[caller], self.index[callee]] += more
            for sub, more in late:
                for ref in sub.publishers:
                    matrix[self.index[ref], self.index[sub.target]] += more
                    if (sub.owner, sub.consumer) in deliveries:
                        deliveries[sub.owner, sub.consumer][self.index[ref]] += more
        return self._flow_of(attempts, matrix, deliveries)

    def _flow_of(self, attempts: tuple[float, ...], matrix: npt.NDArray[np.float64],
                 deliveries: dict[tuple[str, int], npt.NDArray[np.float64]]) -> _Flow:
        """The visits per request of every operation (per workload, and those a closed
        loop's user waits for) along `matrix`."""
        per_request = visits(self.names, matrix, self.external)  # one column per workload
        by_workload = {workload.name: per_request[:, column]
                       for column, workload in enumerate(self.system.workloads)}
        closed = [(w.name, column) for column, w in enumerate(self.system.workloads)
                  if w.users is not None]
        held = visits(self.names, matrix * self.waited,
                      self.external[:, [column for _, column in closed]]) if closed else None
        return _Flow(attempts, matrix, by_workload,
                     {name: self._component_visits(v) for name, v in by_workload.items()},
                     deliveries, {name: held[:, k] for k, (name, _) in enumerate(closed)}
                     if held is not None else {})

    def op_rates(self, rates: Mapping[str, float], flow: _Flow
                 ) -> tuple[npt.NDArray[np.float64], dict[str, dict[str, float]]]:
        """`drained_rates` without the flow."""
        total, shares, _ = self.drained_rates(rates, flow)
        return total, shares

    def drained_rates(self, rates: Mapping[str, float], flow: _Flow
                      ) -> tuple[npt.NDArray[np.float64], dict[str, dict[str, float]], _Flow]:
        """`_admitted_rates` with each queue subscription delivering at most what it drains
        (`load.drain_rps`): the queue holds (or refuses) the rest, so its consumer, and what
        that calls, get no more. Also the flow with those deliveries thinned. A drain that
        thins a subscription upstream can leave one downstream below its own: iterated
        until the thinning settles, once a level of queues."""
        drained, thinned = flow, dict[tuple[str, int], float]()
        for _ in range(len(self.drains) + 1):
            total, shares = self._admitted_rates(rates, drained)
            now = {key: drain / offered for key, drain in self.drains.items()
                   if (offered := weighted_rate(flow.deliveries[key], total)) > drain}
            if now == thinned:
                break
            thinned = now
            drained = flow if not now else self._thinned_deliveries(flow, now)
        return total, shares, drained

    def _thinned_deliveries(self, flow: _Flow, kept: Mapping[tuple[str, int], float]
                            ) -> _Flow:
        """`flow` with each subscription of `kept` delivering only that share of what is
        published to it."""
        matrix = flow.matrix.copy()
        for key, share in kept.items():
            target = self.index[self.subscribed[key].target]
            matrix[:, target] -= (1.0 - share) * flow.deliveries[key]
        return self._flow_of(flow.attempts, matrix, flow.deliveries)

    def _admitted_rates(self, rates: Mapping[str, float], flow: _Flow
                        ) -> tuple[npt.NDArray[np.float64], dict[str, dict[str, float]]]:
        """Visits per second each operation admits (the calls making the attempts of
        `flow`), and per workload the share each rate-limited component admits of its visits
        ("" for all workloads together)."""
        total = np.zeros(len(self.names))
        for name, rate in rates.items():
            if rate > 0.0:
                with np.errstate(over="ignore"):  # visits past the largest double: infinite
                    total += rate * flow.visits[name]
        if not self.limited or not np.isfinite(total).all():
            return total, {}
        return self._thinned(rates, flow)

    def _thinned(self, rates: Mapping[str, float], flow: _Flow
                 ) -> tuple[npt.NDArray[np.float64], dict[str, dict[str, float]]]:
        """Visits per second behind rate limits. A limited component admits a share of its
        visits (`load.admitted_share`; of each workload's, with `per_workload`) and only
        admitted visits make calls, so r = external + Mᵀ(a ⊙ r) per workload with a the
        admitted shares; a depends on r, so it is iterated to its fixed point (one round per
        level of limits)."""
        columns = [(w.name, column) for column, w in enumerate(self.system.workloads)
                   if rates.get(w.name, 0.0) > 0.0]
        n = len(self.names)
        share = np.ones((n, len(columns)))
        offered = np.zeros((n, len(columns)))
        for _ in range(len(self.limited) + 2):
            for k, (name, column) in enumerate(columns):
                offered[:, k] = rates[name] * visits(
                    self.names, flow.matrix * share[:, [k]], self.external[:, column])
            updated = np.ones_like(share)
            for cname, ops in self.limited.items():
                component = self.system.components[cname]
                cap, limit = rate_cap(component), component.rate_limit
                assert cap is not None and limit is not None
                poisson = self.admission[cname] != "smooth"
                arriving = offered[ops].sum(axis=0)  # per workload
                if limit.per_workload:
                    updated[ops] = [admitted_share(limit, cap, float(a), poisson)
                                    for a in arriving]
                else:
                    updated[ops] = admitted_share(limit, cap, float(arriving.sum()), poisson)
            if np.allclose(updated, share, rtol=1e-12, atol=0.0):
                break
            share = updated
        admitted = np.asarray((offered * share).sum(axis=1), dtype=np.float64)
        shares: dict[str, dict[str, float]] = {"": {}}
        for cname, ops in self.limited.items():
            came = float(offered[ops].sum())
            shares[""][cname] = float(admitted[ops].sum()) / came if came > 0.0 else 1.0
            for k, (name, _) in enumerate(columns):
                shares.setdefault(name, {})[cname] = float(share[ops[0], k])
        return admitted, shares

    # -- closed loops ----------------------------------------------------------------------
    def _closed(self, workload: Workload, rates: Mapping[str, float], flow: _Flow) -> _Loop:
        """Throughput and mean response of a closed loop by MVA over the components its
        requests visit and wait for (`waited`: not what its async calls, deliveries and
        projections reach; demand = visits × own work and post_work, a pool of replicas ×
        workers), the other traffic inflating the demands by 1/(1 − its utilization), and
        the network as a delay station; and the waits of the components only it visits. A
        bounded queue its users outnumber refuses them instead (`closed.refused`)."""
        background, _ = self.op_rates({n: r for n, r in rates.items() if n != workload.name},
                                      flow)
        per_request = flow.waited[workload.name]
        holding, absorbed = self._holding(flow)
        stations: list[MvaStation] = []
        visited: list[closed_loop.Visited | None] = []
        members: dict[str, int] = {}  # component -> its MVA station
        bounded: list[tuple[str, float, bool]] = []  # with a bounded queue
        hops = 2.0  # the request's own trip there and back
        for cname, component in self.system.components.items():
            demand = busy = second = count = 0.0
            alone = True
            for oname in component.effective_operations:
                ref = f"{cname}.{oname}"
                op, i = self.ops[ref], self.index[ref]
                own = float(holding[i])
                demand += float(per_request[i]) * own
                busy += float(background[i]) * own
                count += float(per_request[i])
                second += float(per_request[i]) * _own_second(op)
                hops += 2.0 * _calls_per_visit(op) * float(per_request[i])
                alone = alone and not any(float(v[i]) > 0.0 for n, v in flow.visits.items()
                                          if n != workload.name)
            if demand == 0.0 or cname in absorbed:
                continue
            workers = component.worker_limit
            members[cname] = len(stations)
            if workers is None:
                stations.append(MvaStation(demand, None))
                visited.append(None)
                continue
            pool = workers * serving_replicas(component)
            if busy >= pool:
                return _Loop(0.0, math.inf, {}, False)
            stations.append(MvaStation(demand / (1.0 - busy / pool), pool))
            mean = demand / count
            exponential = abs(lattice.over_square(second / count, mean) - 2.0) < 1e-9
            refuses = self._refuses(component, workload)
            visited.append(closed_loop.Visited(
                cname, count, demand / (1.0 - busy / pool), pool, exponential) if alone and
                not refuses and component.core_limit is None else None)
            if refuses:
                bounded.append((cname, count, exponential))
        stations.append(MvaStation(hops * self.hop.mean, None))
        assert workload.users is not None
        result = mva(workload.users, workload.think.mean_s, stations)
        views = closed_loop.waits(result, visited, self.points)
        refusal = closed_loop.refused(
            workload.users, workload.think.mean_s,
            workload.think.mean_s == 0.0 or isinstance(workload.think, Exponential),
            stations, result, [self._bounded(*found, members, stations, per_request, flow)
                     for found in bounded], self.points)
        if refusal is None:
            return _Loop(result.throughput_rps, result.response_s, views, result.exact)
        views[refusal.component] = refusal.view
        return _Loop(refusal.rate_rps, refusal.mean_s, views, False, refusal)

    @staticmethod
    def _refuses(component: Component, workload: Workload) -> bool:
        """Whether a closed loop's users outnumber what a replica queue of the component
        holds, each queue taking its share of them: a bounded queue that holds them all is
        no bound to the loop, and its station takes MVA's view like an unbounded one."""
        _, queues, capacity, _ = _queueing(component)
        assert workload.users is not None
        return capacity is not None and workload.users / queues > capacity

    def _bounded(self, cname: str, count: float, exponential: bool,
                 members: Mapping[str, int], stations: list[MvaStation],
                 per_request: npt.NDArray[np.float64], flow: _Flow) -> closed_loop.Bounded:
        """A component of a closed loop with a bounded queue (`members`: each component's
        MVA station), visited `count` times a request, with what its visits wait on while
        they hold their place: a blocking one's synchronous calls, as the loop's
        `per_request` visits reach them from its operations."""
        component = self.system.components[cname]
        servers, queues, capacity, _ = _queueing(component)
        assert servers is not None and capacity is not None
        start = np.zeros(len(self.names))
        for ref in self.by_component[cname]:
            start[self.index[ref]] = per_request[self.index[ref]]
        inside: dict[int, float] = {}
        hops_s = 0.0
        if component.io == "blocking":
            reached = visits(self.names, flow.matrix * self.waited, start)
            hops_s = sum(2.0 * _calls_per_visit(self.ops[ref]) * float(reached[i])
                         for ref, i in self.index.items()) * self.hop.mean
            for other, refs in self.by_component.items():
                made = sum(float(per_request[self.index[r]]) for r in refs)
                there = sum(float(reached[self.index[r]]) for r in refs)
                if other != cname and other in members and made > 0.0 and there > 0.0:
                    inside[members[other]] = min(1.0, there / made)
        station = members[cname]
        return closed_loop.Bounded(cname, station, count, stations[station].demand_s, servers,
                                   queues, capacity, inside, hops_s, exponential)

    def _holding(self, flow: _Flow) -> tuple[npt.NDArray[np.float64], set[str]]:
        """Per operation, the time a visit holds its worker in a closed loop's MVA: its own
        work and post_work, and the whole time of the synchronous calls it makes to
        components that never wait (`_absorbed`), theirs in turn included; and those
        components, whose time is thus inside their callers' stations."""
        absorbed = self._absorbed(flow)
        own = np.array([op.work.mean + op.post.mean for op in self.ops.values()])
        into = np.array([op.cname in absorbed for op in self.ops.values()])
        calls = flow.matrix * self.waited * into[np.newaxis, :]
        return np.linalg.solve(np.eye(len(own)) - calls, own), absorbed

    def _absorbed(self, flow: _Flow) -> set[str]:
        """The components a closed loop's MVA puts inside their callers' stations: those that
        never wait (unlimited workers and no cores, or bounded by their callers' workers,
        `held`, but for round robin's load-dependent bound), reached by synchronous calls
        only from operations that hold a worker through each whole call: of a blocking
        component of one worker in all (an exact MVA station; for a pool, Seidmann's
        approximation of the longer hold is further off than two stations are), or of one
        with unlimited workers, with no parallel step (its hold is the longest branch, not
        their sum)."""
        calls = flow.matrix * self.waited
        out = set()
        for cname, component in self.system.components.items():
            never = (component.worker_limit is None and component.core_limit is None) or \
                self.held.get(cname, Bound.TURNS) is not Bound.TURNS
            callers = {self.names[i] for ref in self.by_component[cname]
                       for i in np.flatnonzero(calls[:, self.index[ref]])}
            if never and callers and all(self._holds_through(self.ops[ref])
                                         for ref in callers):
                out.add(cname)
        return out

    def _reached_by(self) -> npt.NDArray[np.bool_]:
        """R[i, k]: whether workload k's requests can visit operation i (calls, deliveries
        and cache misses followed from its entry, `load.reachable`)."""
        columns = [reachable(self.once, self.external[:, k] != 0.0)
                   for k in range(self.external.shape[1])]
        return np.array(columns, dtype=bool).T.reshape(len(self.names), -1)

    def _admission(self, cname: str, ops: list[int], reach: npt.NDArray[np.bool_]
                   ) -> Admission:
        """How a rate-limited component's admitted share is worked out: "exact" for a token
        bucket for the component as a whole (or its one replica) that only workloads' own
        Poisson streams reach (no calls, no deliveries, no `profile`); "dam" for another
        token bucket that only Poisson workloads' visits reach, those visits taken as a
        Poisson stream; "smooth" otherwise (a sliding window, constant arrivals, a closed
        loop): min(1, cap / λ). `reach`: `_reached_by`."""
        component = self.system.components[cname]
        limit = component.rate_limit
        assert limit is not None
        fed = [w for k, w in enumerate(self.system.workloads) if reach[ops, k].any()]
        if limit.algorithm != "token_bucket" or not all(poisson_stream(w) for w in fed):
            return "smooth"
        direct = self._fed_directly(cname) and all(w.profile is None for w in fed)
        return "exact" if direct and (limit.scope == "component" or component.replicas == 1) \
            else "dam"

    @staticmethod
    def _holds_through(op: _Op) -> bool:
        """Whether a visit holds its worker through the whole of each synchronous call, and
        the pool it holds is one worker or unlimited."""
        component, workers = op.component, op.component.worker_limit
        single = component.io == "blocking" and workers is not None and \
            workers * serving_replicas(component) == 1
        return (single or workers is None) and \
            not any(isinstance(step, ParallelStep) for step in op.steps)

    # -- the open network ------------------------------------------------------------------
    def _solve(self, rates: Mapping[str, float], loops: Mapping[str, _Loop], flow: _Flow
               ) -> _Network:
        views = {name: view for loop in loops.values() for name, view in loop.views.items()}
        op_rate, admitted, flow = self.drained_rates(rates, flow)
        responses: dict[str, Lattice | None] = {}
        components: dict[str, ComponentEstimate] = {}
        converged = True
        waits: dict[str, float] = {}
        admits = admitted.get("", {})  # of all workloads together
        late: dict[str, float] = {}
        keyed = {cname: hashing.component_split(
            by_workload, {name: rate * flow.component_visits[name].get(cname, 0.0)
                          for name, rate in rates.items()})
            for cname, by_workload in self.hashed.items()}
        for first in itertools.chain([True], itertools.repeat(False, MAX_PASSES - 1)):
            # how the attempts of retried calls fail, from the callees solved before
            # (callees first; a circle of calls has them from its second pass)
            running = Success(self, components, late, admits) \
                if self.weighs_failures and not (first and self.cyclic) else None
            for cname in self.order:
                components[cname] = self._component(cname, op_rate, responses,
                                                    admits.get(cname, 1.0), running,
                                                    views.get(cname), keyed.get(cname))
                if running is not None:
                    late.update(self._timeouts(responses, self.by_component[cname]))
                    running.solved(self.by_component[cname])
            if not self.cyclic:
                break
            now = {n: c.state.mean_wait_s for n, c in components.items()}
            settled = all(now[n] == waits.get(n) or abs(now[n] - waits.get(n, 0.0))
                          <= TOLERANCE * max(1e-12, now[n]) for n in now)
            waits = now
            if settled:
                break
        else:
            converged = False
        if running is not None and not self.cyclic:
            # final as they were worked out: no circle of calls changes a response solved
            # before, so the running successes are every call's, late shares and all
            timeouts, overall = late, running
        else:
            timeouts = self._timeouts(responses, self.ops)
            overall = Success(self, components, timeouts, admits)
        return _Network(rates, loops, flow, admitted, components, timeouts, converged,
                        (responses, overall, op_rate))

    def _estimate(self, network: _Network) -> Estimate:
        """The estimate of a solution of the open network: per workload its latency and
        success, per queue subscription its consumers' station."""
        flow, rates, components, timeouts = network.flow, network.rates, network.components, \
            network.timeouts
        responses, _, op_rate = network.solved
        workloads = {}
        # Workloads that share an entry (and rate-limit shares) share what is computed from
        # it: once per entry, not once per workload (200 workloads on one fan-out).
        successes: dict[tuple[tuple[str, float], ...], Success] = {}
        latencies: dict[str, Lattice | None] = {}
        exacts: dict[tuple[str, bool], bool] = {}
        for workload in self.system.workloads:
            shares = network.admitted.get(workload.name, {})
            key = tuple(sorted(shares.items()))
            success = successes.get(key)
            if success is None:
                success = successes[key] = Success(self, components, timeouts, shares)
            entry = self._entry(workload)
            if entry not in latencies:
                response = responses[entry]
                latencies[entry] = None if response is None else \
                    lattice.total([self.hop, response, self.hop])
            latency = latencies[entry]
            loop = network.loops.get(workload.name)
            if latency is not None and loop is not None:
                mean = loop.mean_s  # MVA's; the shape from the open network
                latency = latency.scaled(mean / latency.mean) if latency.mean > 0.0 else latency
            closed = workload.users is not None
            if (entry, closed) not in exacts:
                exacts[entry, closed] = self._exact(flow.visits[workload.name], workload,
                                                    components)
            exact = exacts[entry, closed] and (loop is None or loop.exact)
            again = self._revisited(entry, components)
            workloads[workload.name] = WorkloadEstimate(
                rates[workload.name], closed, latency, success.of(entry),
                success.of(entry, structural=True), flow.component_visits[workload.name],
                exact, exact and not closed and not again, again, success.degraded(entry),
                0.0 if loop is None else loop.refused)
        return Estimate(self.system, workloads, self._dead_lettered(components, op_rate),
                        self._subscriptions(op_rate, responses, flow, rates), timeouts,
                        network.converged, _pooled(workloads.values()),
                        first_branches=self._first_branches(responses, network.solved[1]),
                        budgets={f"{edge.caller}->{edge.callee}": self._budget(edge, op_rate)
                                 for edge in self.budgeted})

    def _first_branches(self, responses: Mapping[str, Lattice | None], running: Success
                        ) -> dict[str, tuple[FirstBranches, ...]]:
        """Each parallel step that waits for fewer than all its branches, with each branch's
        time as `_calls_time` takes it (the same `_call_waits`, kept from the solution while
        what it reads is the same), for the `first-branches` caveat."""
        out: dict[str, tuple[FirstBranches, ...]] = {}
        for ref in itertools.chain.from_iterable(self.by_component.values()):
            op = self.ops[ref]
            if not any(map(_first_of, op.steps)):
                continue
            waited = iter(self._each_call(op, responses, running,
                                          self._calls_read(op, responses, running)))
            times = [tuple(next(waited)[1] for _ in step_calls([step])) for step in op.steps]
            out[ref] = tuple(FirstBranches(needed(step), branches) for step, branches
                             in zip(op.steps, times, strict=True) if _first_of(step))
        return out

    def _dead_lettered(self, components: Mapping[str, ComponentEstimate],
                       op_rate: npt.NDArray[np.float64]) -> dict[str, ComponentEstimate]:
        """The components with each dead-letter queue's rate raised by the messages it
        receives: each subscription's dead share of the messages published to its queue
        (`DeadLetterQueue.take` publishes them into it, counted at its first operation)."""
        received: dict[str, float] = {}
        for sub in self.subscribed.values():
            if sub.dead_letter is not None and sub.dead > 0.0:
                published = sum(float(op_rate[self.index[ref]]) for ref in sub.publishers)
                received[sub.dead_letter] = received.get(sub.dead_letter, 0.0) \
                    + sub.dead * published
        return {name: dataclasses.replace(c, arrival_rate_rps=c.arrival_rate_rps
                                          + received[name]) if name in received else c
                for name, c in components.items()}

    def _component_visits(self, per_request: npt.NDArray[np.float64]) -> dict[str, float]:
        out: dict[str, float] = {}
        for ref, i in self.index.items():
            count = float(per_request[i])
            if count > 0.0:
                cname = self.ops[ref].cname
                out[cname] = out.get(cname, 0.0) + count
        return out

    def _calls_read(self, op: _Op, responses: Mapping[str, Lattice | None],
                    running: Success | None) -> _Reads:
        """What the time `op` waits on its calls depends on, call by call (`op.calls`, what
        `_call_waits` reads), then its cache misses: the response each waits for and how
        the attempts of a retried one fail (`_attempt_failures`); nothing for an async
        call. A branch the same as the one before (`_Op.repeats`) reads what that one does,
        and is left out."""
        calls = (() if call.async_ else (responses.get(target, _UNSET),
                                         self._attempt_failures(call, running),
                                         self._failing(op.ref, call, call.probability, running))
                 for call, target, repeat in zip(op.effective, op.targets, op.repeats,
                                                 strict=True) if not repeat)
        return (*calls, *((responses.get(to, _UNSET),
                           self._failing(op.ref, Call(to=to), share, running))
                          for share, to in op.cache_calls))

    @staticmethod
    def _failing(ref: str, call: Call, made: float, running: Success | None) -> float:
        """P(a call that `ref` makes by a share `made` of its visits fails, once made
        (`Success.made_fails`): it weighs the call's way in the time of the visits that
        succeed. 0 for a call every visit makes (there it weighs nothing) or without
        `running` (a circle of calls' first pass)."""
        return 0.0 if running is None or made >= 1.0 else running.made_fails(ref, call)

    def _component(self, cname: str, op_rate: npt.NDArray[np.float64],
                   responses: dict[str, Lattice | None], admitted: float,
                   running: Success | None, view: closed_loop.ClosedWait | None = None,
                   keyed: Split | None = None) -> ComponentEstimate:
        """`_solve_component`, or its last solution when everything it reads is the same as
        then (`memo.Last`): the rates of its operations, the responses its calls wait on,
        how their retried attempts fail, its admitted share, a closed loop's wait, its
        replicas' split. Between passes of a fixed point and between the loads a capacity
        search tries, what the change does not reach keeps its solution."""
        refs = self.by_component[cname]
        reads = {ref: self._calls_read(self.ops[ref], responses, running) for ref in refs}
        inputs = (tuple(float(op_rate[self.index[ref]]) for ref in refs),
                  tuple(reads.values()), admitted, view, _split_inputs(keyed))
        found = self._solved.get(cname, inputs, lambda: self._solve_component(
            cname, op_rate, responses, admitted, running, view, keyed, reads))
        responses.update(found.responses)
        return found

    def _solve_component(self, cname: str, op_rate: npt.NDArray[np.float64],
                         responses: dict[str, Lattice | None], admitted: float,
                         running: Success | None, view: closed_loop.ClosedWait | None,
                         keyed: Split | None, reads: Mapping[str, _Reads]
                         ) -> ComponentEstimate:
        """Solve one component's station from the jobs its operations bring (those its rate
        limit admits), then the responses of its operations. `running`: how the attempts
        of its retried calls fail (`_attempt_failures`); `view`: the wait a closed loop
        that alone visits it sees there; `keyed`: how its load falls on its replicas, uneven
        on a hash ring (`station.uneven`); `reads`: what each operation's calls read
        (`_calls_read`), which keeps their time while it stays the same."""
        component = self.system.components[cname]
        refs = self.by_component[cname]
        blocking = component.io == "blocking"
        by_ref: dict[str, list[tuple[float, Lattice | None]]] = {}
        calls: dict[str, Lattice | None] = {}
        for ref in refs:
            rate = float(op_rate[self.index[ref]])
            op = self._committed(self.ops[ref], op_rate)
            (_, calls[ref]), job = self._holds.get(
                ref, (reads[ref], op.replicated), functools.partial(
                    self._held, op, responses, running, reads[ref]))
            by_ref[ref] = [(rate, job)] if blocking else \
                [(rate, op.work), *([(rate, op.post)] if op.post.mean > 0.0 else [])]
        jobs = [job for ref in refs for job in by_ref[ref]]
        servers, queues, capacity, turns = _queueing(component)
        lam, mean, scv = _service(jobs)
        busy = [(rate, job) for rate, job in jobs if rate > 0.0]
        load = StationLoad.in_turn(lam / queues, servers, capacity, mean, scv, turns)
        led = self._led(cname, by_ref) if servers is not None else None
        if led is not None:
            state, waits = led
        else:
            state = self._stations.get(
                cname, (load.arrival_rate, load.servers, load.capacity, load.service_mean_s,
                        load.service_scv, load.arrival_scv, load.turns,
                        _split_inputs(keyed)),
                functools.partial(solve, load, self.points) if keyed is None
                else functools.partial(uneven, load, keyed, self.points))
        bound = self._never_waits(cname, load, busy)
        pooled = queues == 1 and servers is not None and serving_replicas(component) > 1
        if pooled:  # a lower bound: each replica keeps its own queue
            state = dataclasses.replace(state, exact=False, model=f"{state.model} (pooled)")
        cpu_in_wait, cpu_offered = False, 0.0
        if component.core_limit is not None:
            state, cpu_in_wait, cpu_offered = with_cores(
                component, serving_replicas(component), state,
                self._cpu_demand(refs, op_rate), self.points)
        if view is not None:
            state = dataclasses.replace(
                state, p_wait=view.p_wait, mean_wait_s=view.mean_s, wait=view.wait,
                exact=view.exact and state.exact, model=state.model + view.suffix,
                loss=view.loss, utilization=state.utilization if view.utilization is None
                else view.utilization)
        if bound is not None and state.stable:
            state = dataclasses.replace(state, p_wait=0.0, mean_wait_s=0.0, loss=0.0,
                                        wait=lattice.zero(),
                                        model=f"{state.model} (never waits: {bound.value})")
            pooled = False  # no wait taken from the pool's lower bound
        if cname in self.fed and math.isfinite(state.offered):
            state = self._waits_in_queue(state, self.fed[cname])
        if led is None:
            state = self._held_wait(cname, state, servers, mean)
        if led is None or view is not None or cpu_in_wait or state.mean_wait_s == 0.0:
            waits = {ref: state.wait for ref in refs}  # one wait for every operation
        for ref in refs:
            op, waited, wait = self.ops[ref], calls[ref], waits[ref]
            if wait is None or waited is None:
                responses[ref] = None
            elif blocking:
                responses[ref] = lattice.total([wait, op.work, waited, op.post])
            else:
                again = [wait, op.post] if op.post.mean > 0.0 else []
                responses[ref] = lattice.total([wait, op.work, waited, *again])
        rate = float(sum(op_rate[self.index[r]] for r in refs))
        return ComponentEstimate(rate, state, serving_replicas(component), servers, queues,
                                 mean, {r: responses[r] for r in refs}, admitted,
                                 component.core_limit, cpu_in_wait, pooled, cpu_offered,
                                 (load.arrival_scv + scv) / 2.0,
                                 self._admitted_how(cname, rate, admitted))

    def _admitted_how(self, cname: str, rate: float, admitted: float) -> Admission:
        """`_admission`, or "start" for a token bucket whose starting tokens last into 1 %
        or more of the measured window (`bucket_start_share`): the long-run share it gives
        is not the run's."""
        how = self.admission.get(cname, "exact")
        sim = self.system.simulation
        incoming = rate / admitted if admitted > 0.0 else rate
        if how != "smooth" and bucket_start_share(self.system.components[cname], incoming,
                                                  sim.warmup, sim.duration) >= START_SHARE:
            return "start"
        return how

    def _led(self, cname: str, by_ref: Mapping[str, list[tuple[float, Lattice | None]]]
             ) -> tuple[StationState, dict[str, Lattice | None]] | None:
        """A component whose leader alone serves some of its operations but not all
        (`leader_served`) as its two stations: the leader replica, fed those at their whole
        rate and its share of the others (`_leader_share`), and its followers, fed the rest
        as the balancer (or `reads: followers`) spreads it; None for any other component.
        The component's state is the two `combined` (the busier sets its capacity); the
        wait of each operation is its own: the leader's for those only it serves, else the
        mixture by where the visits land."""
        component = self.system.components[cname]
        served = {f"{cname}.{op}" for op in leader_served(component)}
        replicas = component.most_replicas
        if not served or len(served) == len(by_ref) or replicas < 2:
            return None
        share = self._leader_share(component, served, by_ref)
        workers, queue = component.worker_limit, component.queue
        assert workers is not None
        others = [ref for ref in by_ref if ref not in served]
        on_leader = [(rate * (1.0 if ref in served else share), job)
                     for ref, jobs in by_ref.items() for rate, job in jobs]
        pooled = steered(component)
        queues = 1 if pooled else replicas - 1
        per_queue = (1.0 - share) / queues
        on_follower = [(rate * per_queue, job) for ref in others for rate, job in by_ref[ref]]
        # the balancer's turns (or `reads: followers`' turns among the followers)
        turns = to_followers(component) or component.balancer is Balancer.ROUND_ROBIN
        pool = replicas - 1 if pooled else 1
        places = None if queue is None else workers + queue
        loads = [_fed(on_leader, workers, places, 1),
                 _fed(on_follower, workers * pool, None if places is None else places * pool,
                      replicas - to_followers(component) if turns else 1)]
        leader, followers = (self._stations.get(
            f"{cname}#{part}", dataclasses.astuple(load),
            functools.partial(solve, load, self.points))
            for part, load in zip(("leader", "followers"), loads, strict=True))
        lam = loads[0].arrival_rate + loads[1].arrival_rate * queues
        fed = [loads[0].arrival_rate / lam, 1.0 - loads[0].arrival_rate / lam] if lam > 0.0 \
            else [1.0, 0.0]
        model = f"leader {leader.model}, {replicas - 1} followers {followers.model}"
        either = combined([leader, followers], [share, 1.0 - share], model).wait
        return (combined([leader, followers], fed, model),
                {ref: leader.wait if ref in served else either for ref in by_ref})

    def _committed(self, op: _Op, op_rate: npt.NDArray[np.float64]) -> _Op:
        """`op` with its commit wait at the load: a semi-sync write's depends on how often
        the writes come (`quorum.semi_sync_shares`), kept while that rate stays the same;
        any other operation as it is."""
        replication = op.component.replication
        cname, oname = op.ref.split(".", 1)
        if replication is None or replication.mode != "semi_sync" \
                or oname not in replication.writes:
            return op
        rate = sum(float(op_rate[self.index[f"{cname}.{write}"]])
                   for write in replication.writes if f"{cname}.{write}" in self.index)
        return dataclasses.replace(op, replicated=self._commits.get(
            op.ref, (rate,), lambda: replication_wait(self.system, cname, oname, self.points,
                                                      rate)))

    @staticmethod
    def _leader_share(component: Component, served: set[str],
                      by_ref: Mapping[str, list[tuple[float, Lattice | None]]]) -> float:
        """The share of the operations the leader does not alone serve that it takes: as
        `leader_share`, or under a `steered` balancer what evens out the replicas' busy
        workers (`steered_share`; a job that never ends counts as an average one)."""
        if not steered(component):
            return leader_share(component)
        busy = {ref: sum(rate * job.mean for rate, job in jobs if job is not None)
                for ref, jobs in by_ref.items()}
        own = sum(b for ref, b in busy.items() if ref in served)
        return steered_share(own, sum(busy.values()) - own, component.most_replicas)

    def _held(self, op: _Op, responses: Mapping[str, Lattice | None], running: Success | None,
              reads: _Reads) -> tuple[Waits, Lattice | None]:
        """`_calls_time` of `op`, and the time a blocking worker is held for a visit: its
        work, its calls whatever their outcome, its post_work (None when a call never
        answers)."""
        held, ok = self._calls_time(op, responses, running, reads)
        job = None if held is None or op.component.io != "blocking" else \
            lattice.total([op.work, held, op.post])
        return (held, ok), job

    def healthy_waits(self, refs: Iterable[str]) -> dict[str, float]:
        """Mean time each operation of `refs` waits on its synchronous calls with nothing
        queueing anywhere, whatever their outcome: an attempt ends at its call's timeout and
        a retry waits its back-off (`_calls_time` on no-queueing responses), where the
        offered load's mean response counts a hang in full. Infinite for an operation whose
        call never answers; only the operations a timeout cuts short (`_cut_short`); empty
        when components call each other in a circle."""
        if self.cyclic:
            return {}
        responses: dict[str, Lattice | None] = {}
        waits: dict[str, float] = {}
        for cname in self.order:
            for ref in self.by_component[cname]:
                op = self.ops[ref]
                held, _ = self._calls_time(op, responses, None,
                                           self._calls_read(op, responses, None))
                waits[ref] = math.inf if held is None else held.mean
                responses[ref] = None if held is None else \
                    lattice.total([op.work, held, op.post])
        return {ref: waits[ref] for ref in refs if self._cut_short(self.ops[ref], responses)}

    def _cut_short(self, op: _Op, responses: Mapping[str, Lattice | None]) -> bool:
        """Some timed call of `op` outlasts its timeout as `_timed` counts it (or never
        answers): otherwise the timeout changes nothing, and the mean stands exactly."""
        for call in op.effective:
            if call.async_ or call.timeout is None:
                continue
            attempt = self.call_time(call, responses)
            if attempt is None or 1.0 - attempt.cdf(call.timeout) >= 1e-9:
                return True
        return False

    def _never_waits(self, cname: str, load: StationLoad,
                     jobs: list[tuple[float, Lattice | None]]) -> Bound | None:
        """The bound its callers' workers put on it, if it rules out waiting at this load
        (round robin's only while its replicas stay even: `held.turns_stay_even`)."""
        bound = self.held.get(cname)
        if bound is not Bound.TURNS or any(job is None for _, job in jobs) or \
                sum(rate for rate, _ in jobs) <= 0.0:
            return bound  # (no load at all: nothing to wait for either)
        assert load.servers is not None  # a bounded component has limited workers
        return bound if turns_stay_even(load.servers, load.arrival_rate, _holding(jobs)) \
            else None

    @staticmethod
    def _waits_in_queue(state: StationState, queue: str) -> StationState:
        """The station of a consumer that only `queue`'s subscription feeds, with more
        deliveries in flight than its workers (`load.consumer_pool`): the wait of a delivery
        past its workers is part of the message's wait for one of them, which the
        subscription's station counts (in its lag), so none here; and it gets no more than
        its workers take (the queue holds the rest): at most all busy."""
        busy = min(state.offered, 1.0)
        return dataclasses.replace(
            state, utilization=busy, offered=busy, p_wait=0.0, mean_wait_s=0.0, loss=0.0,
            wait=lattice.zero(), model=f"{state.model} (its wait in the lag of {queue})")

    def _held_wait(self, cname: str, state: StationState, servers: int | None,
                   service_s: float) -> StationState:
        """A stable station whose callers' workers hold at most N requests there
        (`held.populations`): an arrival finds at most N − 1 others, so it waits for at most
        N − c departures, (N − c)·S/c on average with c workers of mean S each (exact for
        exponential work, FIFO). Where the formulas, whose queue has no such bound, wait
        longer, the wait is scaled down to that (an upper bound still: `held-callers`)."""
        most = self.populations.get(cname)
        if most is None or servers is None or state.wait is None:
            return state
        cap = max(0, most - servers) * service_s / servers
        if state.mean_wait_s <= cap:
            return state
        return dataclasses.replace(
            state, mean_wait_s=cap, exact=False, model=f"{state.model}, wait at most "
            f"{most - servers} services ({most} held by its callers)",
            wait=state.wait.scaled(cap / state.mean_wait_s) if cap > 0.0 else lattice.zero())

    def _cpu_demand(self, refs: list[str], op_rate: npt.NDArray[np.float64]) -> CpuDemand:
        """The CPU seconds of a visit to a component (its operations weighted by rate)."""
        rate = mean = second = 0.0
        pure = True
        for ref in refs:
            op, r = self.ops[ref], float(op_rate[self.index[ref]])
            own = cpu_s(self.system, op.cname, ref.split(".", 1)[1])
            pure = pure and op.operation.wait.mean_s == 0.0 and _calls_per_visit(op) == 0.0
            if r > 0.0:
                rate += r
                mean += r * own
                second += r * _own_second(op)
        if rate <= 0.0:
            return CpuDemand(0.0, 0.0, 0.0, pure)
        return CpuDemand(rate, mean / rate, second / rate, pure)

    def call_time(self, call: Call, responses: Mapping[str, Lattice | None]) -> Lattice | None:
        """One attempt of a call as its caller waits for it: the hop there, the callee's
        response, the hop back (None when the callee cannot keep up). A callee not solved
        yet (first pass of a circle of calls) answers at once."""
        target = ".".join(self.system.resolve(call.to))
        response = responses.get(target, lattice.zero())
        if response is None:
            return None
        cached = self._reached.get(target)
        if cached is None or cached[0] is not response:
            cached = self._reached[target] = (response,
                                              lattice.total([self.hop, response, self.hop]))
        return cached[1]

    def _calls_time(self, op: _Op, responses: Mapping[str, Lattice | None],
                    running: Success | None, reads: _Reads) -> Waits:
        """The time an operation waits on its synchronous calls and cache misses: whatever
        their outcome (what a blocking caller's worker is held for), and in the requests
        that succeed (what their latency includes), from each call's own (`_each_call`)."""
        waited = iter(self._each_call(op, responses, running, reads))
        held: list[Lattice] = []
        ok: list[Lattice | None] = []
        for step in op.steps:
            if isinstance(step, ParallelStep):
                branches = [next(waited) for _ in step.parallel.calls]
                need = needed(step)
                for out, which in ((held, 0), (ok, 1)):
                    finite = [b[which] for b in branches if b[which] is not None]
                    if len(finite) < need:  # a branch that never answers never counts
                        return None, None
                    if which and all(b[0] is b[1] for b in branches):
                        out.append(held[-1])  # the same branches: the same time
                    else:
                        out.append(lattice.order_statistic(need, finite))  # type: ignore[arg-type]
            else:
                waits = next(waited)
                if waits[0] is None:
                    return None, None
                held.append(waits[0])
                ok.append(waits[1])
        for share, ref in op.cache_calls:
            miss = self.call_time(Call(to=ref), responses)
            if miss is None:
                return None, None
            cached = lattice.mixture([1.0 - share, share], [lattice.zero(), miss]) \
                if share < 1.0 else miss
            held.append(cached)
            failing = self._failing(op.ref, Call(to=ref), share, running)
            ok.append(cached if failing == 0.0 else
                      _succeeded(share, failing, lattice.zero(), miss))
        if op.replicated is not None:  # a step the visit waits on, as on a call
            held.append(op.replicated)
            ok.append(op.replicated)
        together = lattice.total(held)
        if all(a is b for a, b in zip(held, ok, strict=True)):
            return together, together
        succeeded = [part for part in ok if part is not None]
        return together, lattice.total(succeeded) if len(succeeded) == len(ok) else None

    def _each_call(self, op: _Op, responses: Mapping[str, Lattice | None],
                   running: Success | None, reads: _Reads) -> list[Waits]:
        """Each call's own time (`_call_waits`, `op.calls` in order), the last one worked
        out while what it reads (`reads`, `_calls_read`) stays the same; a branch the same
        as the one before (`_Op.repeats`) waits as that one does."""
        each: list[Waits] = []
        read = iter(reads)
        for i, (call, repeat) in enumerate(zip(op.calls, op.repeats, strict=True)):
            each.append(each[-1] if repeat else self._waited.get(
                (op.ref, i), next(read), functools.partial(self._call_waits, op.ref, call,
                                                           responses, running)))
        return each

    def _call_waits(self, ref: str, call: Call, responses: Mapping[str, Lattice | None],
                    running: Success | None) -> Waits:
        """One call step of `ref`: (time whatever the outcome, time when it succeeds);
        attempts end at a timeout, are turned away or fail at the callee, and retries wait
        their back-offs (`_timed`, `_retried`). A call only some visits make counts, in the
        time of those that succeed, as often as it succeeds."""
        call = self.system.effective(call)
        if call.async_:
            return lattice.zero(), lattice.zero()
        attempt = self.call_time(call, responses)
        if call.hedge is not None and call.timeout is None and attempt is not None:
            attempt = self._hedged(call.hedge, attempt)
        failures = self._attempt_failures(call, running)
        if failures is not None and attempt is not None:
            held, ok = self._retried(call, attempt, *failures)
        elif call.timeout is None:
            held, ok = attempt, attempt
        else:
            held, ok = self._timed(call, attempt, call.timeout)
        if call.probability >= 1.0:
            return held, ok
        skip = lattice.zero()
        made = None if held is None else \
            lattice.mixture([1.0 - call.probability, call.probability], [skip, held])
        failing = self._failing(ref, call, call.probability, running)
        if made is None or (ok is held and failing == 0.0):
            return made, made
        return made, skip if ok is None else _succeeded(call.probability, failing, skip, ok)

    def _hedged(self, hedge: Hedge, attempt: Lattice) -> Lattice:
        """A hedged call's time: the first answer of independent attempts, the k-th sent k
        delays after the first (k ≤ `max`), so P(T > t) = Π_k P(X > t − k·d). A percentile
        `after` is that of the unhedged attempt (what the kernel's tracked percentile
        converges to, docs/resilience.md). With a `budget` b below P(X > d), only b of the
        calls are hedged: those are the hedged time, the rest the plain one."""
        quantile = hedge.percentile
        delay = attempt.quantile(quantile) if quantile is not None else float(hedge.after)
        late = max(0.0, 1.0 - attempt.cdf(delay))
        if not math.isfinite(delay) or late <= 0.0:
            return attempt
        hedged = lattice.order_statistic(1, [attempt, *(
            lattice.convolve(lattice.point(k * delay, self.points), attempt)
            for k in range(1, hedge.max + 1))])
        if hedge.budget is None or hedge.budget >= late:
            return hedged
        share = hedge.budget / late
        return lattice.mixture([1.0 - share, share], [attempt, hedged])

    def _timed(self, call: Call, attempt: Lattice | None, timeout: float) -> Waits:
        """A call whose attempts give up after `timeout`: the k-th attempt is the first in
        time with probability late^(k−1)·(1 − late), after k−1 timeouts and back-offs
        (`backoff_wait`); when all attempts are late the call fails (or falls back)."""
        late = 1.0 if attempt is None else max(0.0, 1.0 - attempt.cdf(timeout))
        if late < 1e-9:
            return attempt, attempt
        retry = call.retry
        tries = retry.attempts if retry is not None and "timeout" in retry.on else 1
        in_time = None if attempt is None else lattice.below(attempt, timeout)
        late_by = lattice.point(timeout, self.points)
        spent = [lattice.zero()]  # the late attempts and back-offs before the k-th
        for k in range(1, tries):
            assert retry is not None  # more than one try only with a retry
            spent.append(lattice.total([spent[-1], late_by, backoff_wait(retry, k, self.points)]))
        weights, parts = [], []
        if in_time is not None:
            for k in range(tries):
                weights.append(late**k * (1.0 - late))
                parts.append(lattice.convolve(spent[k], in_time))
        give_up = lattice.convolve(spent[-1], late_by)
        if not isinstance(call.on_failure, str):
            give_up = lattice.convolve(give_up, lattice.of(call.on_failure.fallback,
                                                           self.points))
        failed = late**tries
        # Rarely late: the retries and the give-up stay past the in-time attempt's grid.
        mix = lattice.mostly if late < RARELY_LATE else lattice.mixture
        held = mix([*weights, failed], [*parts, give_up]) if weights else give_up
        if call.on_failure != "fail":
            return held, held
        if not weights or failed >= 1.0 - NEVER:
            return held, None
        return held, mix([w / (1.0 - failed) for w in weights], parts)

    def _attempt_failures(self, call: Call, running: Success | None
                          ) -> tuple[Failures, Failures, tuple[Failures, ...]] | None:
        """How an attempt of a retried call fails at its callee, by cause: turned away
        (`Success.refusals`) and failing once served (`Success.served`: its own error and
        what its calls pass up), then how retry number j is turned away after its callee's
        full queue refused the attempt before (`Model.refused_again`; none when it forgets);
        None when the call retries none of those (no retry, or none of the causes in its
        `on` happens). Without `running` (the first pass over a circle of calls, whose
        callees are not solved yet) the callee's own error alone."""
        retry = call.retry
        if retry is None or retry.attempts < 2:
            return None
        cname, oname = self.system.resolve(call.to)
        again: tuple[Failures, ...] = ()
        if running is None:
            refused: Failures = {}
            served = {"error": self.system.components[cname].effective_operations[oname]
                      .error_rate}
        else:
            refused, served = running.refusals(cname), running.served(f"{cname}.{oname}")
            again = tuple(running.refusals(cname, full=q) for q in
                          self.refused_again(call, running.components[cname]))
        if not any(p > 0.0 and cause in retry.on
                   for cause, p in itertools.chain(refused.items(), served.items())):
            return None
        return refused, served, again

    def _retried(self, call: Call, attempt: Lattice, refused: Failures, served: Failures,
                 again: tuple[Failures, ...] = ()) -> Waits:
        """A retried call whose attempts can fail before its timeout. An attempt is turned
        away with P(refused) (the callee's refusals: the answer comes one hop after the hop
        there), else it is late with P(late) (it outlasts the call's timeout, if any), else
        it fails with P(served) after its whole time (an error, or a failure the callee's
        own calls pass up) or succeeds. A failure by a cause the retry is `on` waits a
        back-off (`backoff_wait`) and tries again, up to `attempts`; retry number j after a
        refusal of the callee's full queue is turned away as again[j − 1] has it (a queue
        still full: `Model.refused_again`), any other as the first. Each try is reached
        after such a refusal or not, with its share and the time spent before it (the failed
        attempts and back-offs), as `success.tried` counts them; a failure the retry is not
        `on` ends the call, as do the last try's. `_timed` when every attempt is late."""
        retry = call.retry
        assert retry is not None
        timeout = math.inf if call.timeout is None else call.timeout
        late = 0.0 if call.timeout is None else max(0.0, 1.0 - attempt.cdf(timeout))
        if late < 1e-9:
            late, in_time = 0.0, attempt
        else:
            below = lattice.below(attempt, timeout)
            if below is None:
                return self._timed(call, attempt, timeout)
            in_time = below
        first = self._tried(retry, refused, served, late, in_time, timeout, bool(again))
        if first is None:  # what is retried never happens: late = 1 − 1e-300 rounds to 1
            return self._timed(call, attempt, timeout)
        after = [self._tried(retry, turned, served, late, in_time, timeout, True)
                 for turned in again]
        fallback = None if isinstance(call.on_failure, str) else \
            lattice.of(call.on_failure.fallback, self.points)

        def failed(spent: Lattice, last: Lattice) -> Lattice:
            return lattice.total([spent, last] if fallback is None else [spent, last, fallback])

        # the tries reached after a full queue's refusal, and otherwise: (share, time spent)
        other, full = (1.0, lattice.zero()), (0.0, lattice.zero())
        succeeded: list[tuple[float, Lattice]] = []
        ended: list[tuple[float, Lattice]] = []  # calls that fail: (share, time)
        for k in range(retry.attempts):
            reached = [(*other, first)]
            if full[0] > 0.0:
                tries = after[k - 1]
                assert tries is not None  # a refusal is retried
                reached.append((*full, tries))
            # the failed tries retried, by what comes next: (share, time spent, its failure)
            to_full: list[tuple[float, Lattice, Lattice]] = []
            to_other: list[tuple[float, Lattice, Lattice]] = []
            for share, spent, outcome in reached:
                succeeded.append((share * outcome.success, lattice.convolve(spent, in_time)))
                ended += [(share * p, failed(spent, time)) for p, time in outcome.ending]
                if outcome.full > 0.0:
                    to_full.append((share * outcome.full, spent, self.round_trip))
                if outcome.again > 0.0:
                    to_other.append((share * outcome.again, spent, outcome.failure))
            if k + 1 == retry.attempts:
                ended += [(p, failed(spent, last)) for p, spent, last in to_full + to_other]
                break
            wait = backoff_wait(retry, k + 1, self.points)
            other, full = _joined(to_other, wait), _joined(to_full, wait)
        every = [*succeeded, *ended]
        mix = lattice.mostly if 1.0 - every[0][0] < RARELY_LATE else lattice.mixture
        held = mix([w for w, _ in every], [t for _, t in every])
        if call.on_failure != "fail":
            return held, held
        ok = sum(w for w, _ in succeeded)
        if ok <= NEVER:  # every attempt fails
            return held, None
        return held, mix([w / ok for w, _ in succeeded], [t for _, t in succeeded])

    def _tried(self, retry: Retry, refused: Failures, served: Failures, late: float,
               in_time: Lattice, timeout: float, remembered: bool) -> _Tried | None:
        """One try's outcomes (`_Tried`), turned away as `refused` has it; with
        `remembered`, a refusal of the full queue apart from the other retried failures.
        None when none is retried."""
        turned_away = self.round_trip
        reached = 1.0 - sum(refused.values())
        # what an attempt ends in other than success: (share, time, retried)
        outcomes = [(p, turned_away, cause in retry.on) for cause, p in refused.items()
                    if not (remembered and cause == "rejected")]
        outcomes += [(reached * (1.0 - late) * p, in_time, cause in retry.on)
                     for cause, p in served.items()]
        if late > 0.0:
            outcomes.append((reached * late, lattice.point(timeout, self.points),
                             "timeout" in retry.on))
        outcomes = [outcome for outcome in outcomes if outcome[0] > 0.0]
        full = refused.get("rejected", 0.0) if remembered and "rejected" in retry.on else 0.0
        again = [(p, time) for p, time, retried in outcomes if retried]
        if not again and full <= 0.0:
            return None
        retried = sum(p for p, _ in again)
        return _Tried(reached * (1.0 - late) * (1.0 - sum(served.values())),
                      [(p, time) for p, time, retried in outcomes if not retried], full,
                      retried, lattice.mixture([p / retried for p, _ in again],
                                               [t for _, t in again]) if again
                      else lattice.zero())

    def _timeouts(self, responses: Mapping[str, Lattice | None], refs: Iterable[str]
                  ) -> dict[str, float]:
        """P(one attempt takes longer than its timeout), for every call with a timeout that
        the operations `refs` make."""
        out = {}
        for ref in refs:
            for call in self.ops[ref].calls:
                call = self.system.effective(call)
                if call.timeout is None or call.async_:
                    continue
                time = self.call_time(call, responses)
                late = 1.0 if time is None else max(0.0, 1.0 - time.cdf(call.timeout))
                out[f"{ref}->{'.'.join(self.system.resolve(call.to))}"] = late
        return out

    def _subscriptions(self, op_rate: npt.NDArray[np.float64],
                       responses: Mapping[str, Lattice | None], flow: _Flow,
                       rates: Mapping[str, float]) -> dict[str, SubscriptionEstimate]:
        out = {}
        for cname, component in self.system.components.items():
            if component.kind is not Kind.QUEUE:
                continue
            for place, consumer in enumerate(component.consumers):
                target = ".".join(self.system.resolve(consumer.to))
                row = flow.deliveries.get((cname, place))
                rate = 0.0 if row is None else weighted_rate(row, op_rate)
                response = responses.get(target)
                in_flight = most_in_flight(consumer, component.partitions, self.system.components[
                    target.split(".", 1)[0]].most_replicas)  # one queue: pooled
                pool = self.pools.get((cname, place))
                capacity = None if component.capacity is None \
                    else in_flight + component.capacity
                held = None if response is None else \
                    lattice.total([self.hop, response, self.hop])
                sub = self.subscribed[cname, place]
                if response is None or held is None:
                    state = self._swamped(rate, in_flight, capacity, target, pool)
                else:
                    visits = {name: each * flow.component_visits[name].get(cname, 0.0)
                              for name, each in rates.items()}
                    slots = StationLoad(rate, in_flight, capacity, held.mean, held.scv)
                    state, servers, service = self._slots(cname, consumer, slots, held,
                                                          visits, response, pool)
                    state = relay.batched(
                        state, [(float(op_rate[i]) * share, outbox)
                                for i, share, outbox in self.relays.get(cname, [])],
                        sum(float(op_rate[self.index[p]]) for p in sub.publishers),
                        servers, service.mean, self.points)
                out[f"{cname}->{target}"] = SubscriptionEstimate(
                    rate, state, held, tuple(sub.first_success()) or (1.0,),
                    None if held is None or state.wait is None
                    else self._step(sub, held, state.wait))
        return out

    def _consumed(self, cname: str, consumer: Consumer, load: StationLoad,
                  visits: Mapping[str, float]) -> StationState:
        """A subscription's deliveries waiting for its consumers: one queue of `load`'s
        servers, or on a partitioned topic each member a queue of its own partitions'
        records (`station.partitioned`), the partitions' shares those of the workloads'
        keys, each workload weighted by the `visits` a second it brings to the topic."""
        topic = self.system.components[cname]
        if topic.partitions is None:
            return solve(load, self.points)
        members = group_members(consumer, self.system.components[
            self.system.resolve(consumer.to)[0]].most_replicas)
        one = dataclasses.replace(load, servers=1, capacity=None if topic.capacity is None
                                  else 1 + topic.capacity)
        return partitioned(one, self._partition_shares(cname, topic.partitions, visits),
                           members, self.points)

    def _partition_shares(self, cname: str, partitions: int, visits: Mapping[str, float]
                          ) -> npt.NDArray[np.float64]:
        """The share of topic `cname`'s records on each of its `partitions`: its
        workloads', weighted by their `visits` there (evenly when none comes)."""
        total = sum(visits.values())
        shares = np.full(partitions, 1.0 / partitions)
        if total > 0.0:
            shares = sum((visits.get(name, 0.0) / total * split
                          for name, split in self.partitioned[cname].items()),
                         np.zeros(partitions))
        return shares

    def _slots(self, cname: str, consumer: Consumer, slots: StationLoad, held: Lattice,
               visits: Mapping[str, float], response: Lattice, pool: Pool | None
               ) -> tuple[StationState, int, Lattice]:
        """A subscription's station, its servers and what each holds a message for: its
        deliveries in flight (`slots`), each held for `held` (`_consumed`); with a `pool`
        (`load.consumer_pool`), its consumer's workers too, each held for its `response`, the
        hops a delay apart: one queue of them all, or a replica's c fed its share of the
        deliveries (every R-th in turn, or a Poisson thinning), all alike. Each leaves the
        other's limit out, so each waits less than both at once: the one that waits longer
        (or cannot keep up, the more offered) stands, which falls as either grows."""
        assert slots.servers is not None  # deliveries in flight: always a number
        found = [(self._consumed(cname, consumer, slots, visits), slots.servers, held)]
        if pool is not None:
            workers = StationLoad.in_turn(
                slots.arrival_rate / pool.queues, pool.servers // pool.queues,
                None if slots.capacity is None else math.ceil(slots.capacity / pool.queues),
                response.mean, response.scv, pool.turns)
            found.append((solve(workers, self.points), pool.servers, response))
        return max(found, key=lambda way: (way[0].mean_wait_s, way[0].offered))

    def _swamped(self, rate: float, in_flight: int, capacity: int | None, target: str,
                 pool: Pool | None) -> StationState:
        """A subscription whose consumer cannot keep up: its deliveries are held without
        end, so its lag has no steady state, but its offered load is finite: each delivery
        held at least the hops and the consumer's response with no queueing (with a `pool`,
        each of its workers at least its work, whichever binds first)."""
        state = solve(StationLoad(rate, in_flight, capacity, math.inf, 1.0), self.points)
        offered = rate * round_trip_s(self.system, target) / in_flight
        if pool is not None:
            offered = max(offered, rate * pool.work_s / pool.servers)
        return dataclasses.replace(state, utilization=offered, offered=offered)

    def _step(self, sub: Subscription, held: Lattice, wait: Lattice) -> Lattice:
        """From a failed delivery's start to the next one's (`SubscriptionEstimate.step`):
        the visibility timeout (or the failed delivery itself when it comes back at once),
        then the wait in the buffer, as a new message's (it goes back near the head, so
        that is an upper bound); a partition delivers its head again with no wait."""
        if sub.requeue or sub.visibility is None:
            back = held
        else:
            back = lattice.point(sub.visibility, self.points)
        return back if sub.partitioned else lattice.convolve(back, wait)

    def _revisited(self, entry: str, components: Mapping[str, ComponentEstimate]
                   ) -> tuple[str, ...]:
        """The components with limited workers a request entering at `entry` can wait at
        more than once (through what it waits on, every call counted as made). The sojourns
        at a queue met again are correlated (the queue a request left is still there when it
        comes back), so the convolution of independent ones is not their law: the mean stays
        exact, the percentiles do not (the tail is heavier)."""
        if entry not in self._again:
            if self._waits is None:
                self._waits = np.zeros((len(self.names), len(self.names)))
                for ref, callees in self.sync_edges.items():
                    for callee in callees:
                        self._waits[self.index[ref], self.index[callee]] += 1.0
            external = np.zeros(len(self.names))
            external[self.index[entry]] = 1.0
            reached = visits(self.names, self._waits, external)
            count: dict[str, float] = {}
            for ref, i in self.index.items():
                cname = self.ops[ref].cname
                count[cname] = count.get(cname, 0.0) + float(reached[i])
            self._again[entry] = tuple(c for c, n in count.items() if not n <= 1.0 + 1e-9)
        return tuple(c for c in self._again[entry] if components[c].limited)

    def _exact(self, per_request: npt.NDArray[np.float64], workload: Workload,
               components: Mapping[str, ComponentEstimate]) -> bool:
        """Whether the workload's mean latency is exact: every operation it visits sits at an
        M/M/c or infinite-server station, fed as a Poisson stream (random balancing, one
        queue per replica: not a least_requests or p2c pool), behind no rate limit but one
        solved exactly (`_admission`), with no CPU model (`cores`), no fork-join, no worker
        held across a call and no second queueing for post_work; a closed loop also needs
        single-server stations (exact MVA). An open workload's one station with a wait may
        be an M/D/1 that only workloads reach (Erlang's formula)."""
        queued, constant = set(), set()  # the components it can wait at; those of M/D/1
        for ref, i in self.index.items():
            if per_request[i] <= 0.0:
                continue
            op = self.ops[ref]
            estimate = components[op.cname]
            model = estimate.state.model.removesuffix(closed_loop.SUFFIX)
            if estimate.servers is not None:
                queued.add(op.cname)
            if model == "M/D/1" and self._fed_directly(op.cname) and workload.users is None:
                constant.add(op.cname)
            markovian = estimate.cores is None and \
                ((model.startswith("M/M/") and "(" not in model) or model.endswith("/∞")
                 or op.cname in constant)
            waits_on_calls = any(not c.async_ for c in op.calls) or \
                op.component.backend is not None or op.replicated is not None
            steps = op.steps
            if not markovian or estimate.admission != "exact" \
                    or any(isinstance(s, ParallelStep) for s in steps) \
                    or (waits_on_calls and op.component.io == "blocking"
                        and estimate.servers is not None) \
                    or (op.component.io == "nonblocking" and op.post.mean > 0.0) \
                    or (workload.users is not None and estimate.servers is not None
                        and estimate.servers * estimate.queues > 1):
                return False
        return not constant or len(queued) == 1

    def _fed_directly(self, cname: str) -> bool:
        """Whether only the workloads' own streams reach a component: no calls, deliveries
        or cache misses."""
        return not any(self.once[:, self.index[f"{cname}.{o}"]].any()
                       for o in self.system.components[cname].effective_operations)


@dataclass(frozen=True)
class _Tried:
    """One try of a retried call (`Model._tried`): the share that succeeds, the failures
    that end the call (share, time), the share its callee's full queue refuses when a
    retry remembers it, and the other retried failures' share and time."""

    success: float
    ending: list[tuple[float, Lattice]]
    full: float
    again: float
    failure: Lattice


def _succeeded(made: float, failing: float, skip: Lattice, ok: Lattice) -> Lattice:
    """The time of a step that a share `made` of the visits take (`ok`, the others `skip`),
    in the visits that succeed, when it fails a share `failing` of those that take it: each
    way weighed by the visits it leaves successful (Bayes)."""
    kept = made * (1.0 - failing)
    if kept <= 0.0:
        return skip
    return lattice.mixture([(1.0 - made) / (1.0 - made + kept), kept / (1.0 - made + kept)],
                           [skip, ok])


def _joined(parts: list[tuple[float, Lattice, Lattice]], wait: Lattice
            ) -> tuple[float, Lattice]:
    """The share of tries reached by `parts` (share, time spent, the failure that ends
    it), and the time spent before them: the parts mixed, then the back-off `wait`."""
    share = sum(p for p, _, _ in parts)
    if share <= 0.0:
        return 0.0, lattice.zero()
    if len(parts) == 1:
        return share, lattice.total([parts[0][1], parts[0][2], wait])
    spent = lattice.mixture([p / share for p, _, _ in parts],
                            [lattice.total([spent, last]) for _, spent, last in parts])
    return share, lattice.total([spent, wait])


def backoff_wait(retry: Retry, attempt: int, points: int) -> Lattice:
    """The back-off before retry number `attempt` as the kernel draws it
    (`again.backoff_bounds`). A decorrelated wait is drawn from the last one, so its mean
    (`backoff_mean`) stands for it."""
    bounds = backoff_bounds(retry, attempt)
    if bounds is None:
        return lattice.point(backoff_mean(retry, attempt), points)
    return lattice.zero() if bounds[1] <= 0.0 else lattice.uniform(*bounds, points)


def backoff_mean(retry: Retry, attempt: int) -> float:
    """The mean back-off after the `attempt`-th try (1-based), i.e. before retry number
    `attempt`, as the kernel draws it (sim/mechanisms/backoff.py): the longest wait
    (`Retry.longest_wait`) under its jitter (full, and Envoy's: half of it; equal: three
    quarters; none: all of it); decorrelated jitter's mean grows as (base + 3·previous)/2
    from base, capped."""
    if retry.backoff == "none":
        return 0.0
    if retry.jitter == "decorrelated":
        mean = retry.base
        for _ in range(attempt):
            mean = min(retry.max, (retry.base + 3.0 * mean) / 2.0)
        return mean
    return retry.longest_wait(attempt) * {"full": 0.5, "equal": 0.75}.get(retry.jitter, 1.0)


def _first_of(step: Call | ParallelStep) -> TypeGuard[ParallelStep]:
    """A parallel step that waits for fewer than all its branches."""
    return isinstance(step, ParallelStep) and needed(step) < len(step.parallel.calls)


def _queueing(component: Component) -> tuple[int | None, int, int | None, int]:
    """(servers per queue, number of queues, capacity per queue, turns: each queue takes
    every turns-th arrival, `StationLoad.turns`)."""
    workers = component.worker_limit
    replicas = serving_replicas(component)
    if workers is None:
        return None, replicas, None, 1
    pooled = component.balancer in POOLED and replicas > 1
    queues = 1 if pooled else replicas
    servers = workers * (replicas if pooled else 1)
    capacity = None if component.queue is None else \
        (workers + component.queue) * (replicas if pooled else 1)
    turns = replicas if component.balancer is Balancer.ROUND_ROBIN else 1
    return servers, queues, capacity, turns


def _service(jobs: list[tuple[float, Lattice | None]]) -> tuple[float, float, float]:
    """(λ, mean, scv) of a station's service time over its jobs at their rates; an
    infinite mean when a job that comes never ends."""
    lam = sum(rate for rate, _ in jobs)
    busy = [(rate, job) for rate, job in jobs if rate > 0.0]
    if any(job is None for _, job in busy):
        return lam, math.inf, 1.0
    if lam <= 0.0:
        return lam, 0.0, 1.0
    mean = sum(r * j.mean for r, j in busy if j is not None) / lam
    second = sum(r * j.second for r, j in busy if j is not None) / lam
    return lam, mean, max(0.0, lattice.over_square(second, mean) - 1.0) if mean > 0.0 else 0.0


def _fed(jobs: list[tuple[float, Lattice | None]], servers: int, capacity: int | None,
         turns: int) -> StationLoad:
    """The station that serves `jobs` (at their rates) alone, taking every `turns`-th of
    them."""
    lam, mean, scv = _service(jobs)
    return StationLoad.in_turn(lam, servers, capacity, mean, scv, turns)


def _split_inputs(keyed: Split | None) -> memo.Inputs | None:
    """A hash split as an input of a component's solution (`memo.same` compares arrays)."""
    return None if keyed is None else (keyed.shares, keyed.scales, keyed.dispersion)


def _holding(jobs: list[tuple[float, Lattice | None]]) -> Lattice:
    """The time a job holds a worker, over the jobs at their rates (all finite, some rate
    positive)."""
    total = sum(rate for rate, _ in jobs)
    return lattice.mixture([rate / total for rate, _ in jobs],
                           [job for _, job in jobs if job is not None])


def _component_order(system: System) -> tuple[list[str], bool]:
    """Components with callees before callers (synchronous calls and cache backends), and
    whether some of them call each other in a circle (then the estimate iterates)."""
    calls: dict[str, set[str]] = {name: set() for name in system.components}
    for cname, component in system.components.items():
        for operation in component.effective_operations.values():
            for call in calls_of(operation):
                if not system.effective(call).async_:
                    calls[cname].add(system.resolve(call.to)[0])
        if component.backend is not None:
            calls[cname].add(system.resolve(component.backend)[0])
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    cyclic = False
    for start in system.components:  # depth first, without recursion: chains can be long
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(sorted(calls[start])))]
        while stack:
            name, callees = stack[-1]
            callee = next(callees, None)
            if callee is None:
                state[name] = 2
                order.append(name)
                stack.pop()
            elif state.get(callee) == 1:
                cyclic = True
            elif callee not in state:
                state[callee] = 1
                stack.append((callee, iter(sorted(calls[callee]))))
    return order, cyclic


def _pooled(workloads: Iterable[WorkloadEstimate]) -> Lattice | None:
    """The latency of successful requests of all workloads together (weights: goodput)."""
    parts = [(w.rate_rps * w.success, w.latency) for w in workloads]
    if any(latency is None for _, latency in parts):
        return None
    weights = [weight for weight, _ in parts]
    if math.inf in weights:  # a closed loop of zero-time requests: it alone counts
        weights = [1.0 if weight == math.inf else 0.0 for weight in weights]
    total = sum(weights)
    if total <= 0.0:
        return lattice.zero()
    return lattice.mixture([w / total for w in weights],
                           [latency for _, latency in parts if latency is not None])


def estimate(system: System) -> Estimate:
    """The estimate of `system` at its own load."""
    return Model(system).evaluate()
