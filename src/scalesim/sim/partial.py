"""What a replication leaves behind, as plain data that pickles and merges.

A result is built from a `Partial`, never from a kernel: `partial_of` reads a finished kernel
into counts, histograms and the first replication's details, and `merge` pools partials in
replication order. One process running replications in turn and many processes (or a Dask
cluster) sending their partials back therefore take the same path and give byte-identical
results. The merge rule of a value follows from its type: numbers and lists of numbers add
up, histograms merge, a `Peak` keeps the maximum, a `First` keeps the first replication's,
lists of parts merge item by item and `summaries` (one per replication) concatenate.
Floats are added left to right in replication order, as a loop over replications would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Generic, TypeVar, cast

from scalesim.sim.kernel import Kernel
from scalesim.sim.metrics import Histogram
from scalesim.sim.plan import OK, UNFINISHED, CallPlan
from scalesim.sim.plan import Workload as PlanWorkload
from scalesim.sim.timeseries import Table, tables

T = TypeVar("T")
Sample = tuple[float, int, int, list[list[object]]]  # latency, sequence, cause, spans


# Merge rules that the type alone does not tell, given as field metadata.
FIXED = {"merge": "fixed"}  # describes the plan (a name, a limit): the same in every replication
APPENDED = {"merge": "append"}  # one item per replication: merging concatenates


@dataclass
class Peak:
    """A maximum over replications."""

    value: int


@dataclass
class First(Generic[T]):
    """A detail of the first replication only (events, traces, transitions, time series)."""

    value: T


@dataclass
class WorkloadPart:
    name: str = field(metadata=FIXED)
    by_cause: list[int]  # requests by outcome; in flight at the end counts as unfinished
    degraded: int
    hist: Histogram
    sampled: First[list[Sample]]


@dataclass
class OpPart:
    name: str = field(metadata=FIXED)
    by_cause: list[int]
    hist: Histogram


@dataclass
class ComponentPart:
    name: str = field(metadata=FIXED)
    kind: str = field(metadata=FIXED)
    replicas: int = field(metadata=FIXED)
    capacity: int = field(metadata=FIXED)  # workers over all replicas; 0 = unlimited
    area: float  # ∫ busy workers dt over the window
    qarea: float  # ∫ queue length dt
    cpu: float  # worker-seconds of work
    visits: int
    rejected: int
    queue_max: Peak
    refusals: list[int]  # refusals at the door, by cause
    ops: list[OpPart]
    has_outlier: bool = field(metadata=FIXED)
    ejections: int
    has_pools: bool
    pool_overflow: int
    pool_max_active: Peak


@dataclass
class CallPart:
    name: str = field(metadata=FIXED)  # the calling operation
    to: str = field(metadata=FIXED)
    async_: bool = field(metadata=FIXED)
    sent: int
    first: int
    retries: int
    hedges: int
    failed: int
    by_cause: list[int]  # attempt outcomes
    fallbacks: int
    hedge_max: int = field(metadata=FIXED)
    hedge_wins: int
    has_budget: bool = field(metadata=FIXED)
    budget_exhausted: int
    retry_cap: int = field(metadata=FIXED)
    retry_overflow: int
    degraded: bool = field(metadata=FIXED)
    degraded_count: int
    bulkhead_limit: int = field(metadata=FIXED)
    bulkhead_rejected: int
    bulkhead_max_active: Peak
    breaker: bool = field(metadata=FIXED)
    not_permitted: int
    transitions: First[list[tuple[float, int, int, int]]]  # t, owner replica, from, to


@dataclass
class QueuePart:
    name: str = field(metadata=FIXED)  # queue->component.operation
    delivered: int
    failed: int
    backlog: int
    lag: Histogram


@dataclass
class ReplicationSummary:
    """One replication's headline numbers, for confidence intervals across replications."""

    latency_ms: dict[str, float]
    throughput_rps: float
    goodput_rps: float
    error_rate: float


@dataclass
class Partial:
    replications: int
    workloads: list[WorkloadPart]
    components: list[ComponentPart]
    calls: list[CallPart]
    queues: list[QueuePart]
    summaries: list[ReplicationSummary] = field(metadata=APPENDED)
    events: First[list[tuple[float, str, int, str]]]
    series: First[dict[str, Table] | None]


def _workload_causes(kernel: Kernel, wl: PlanWorkload) -> list[int]:
    causes = list(wl.by_cause)
    if kernel.unfinished:
        causes[UNFINISHED] += wl.inflight
    return causes


def _pooled(hists: list[Histogram]) -> Histogram:
    pooled = Histogram()
    for hist in hists:
        pooled.merge(hist)
    return pooled


def partial_of(kernel: Kernel, duration: float, with_series: bool = False) -> Partial:
    """The partial result of one finished replication (`with_series` keeps its time series)."""
    plan = kernel.plan
    workloads = []
    for wl in plan.workloads:
        wl.hist.flush()
        workloads.append(WorkloadPart(wl.name, _workload_causes(kernel, wl), wl.degraded,
                                      wl.hist, First(wl.sampled)))
    return Partial(
        replications=1,
        workloads=workloads,
        components=[_component(kernel, index) for index in range(len(plan.comps))],
        calls=[_call(call) for call in plan.calls],
        queues=[QueuePart(f"{s.queue.name}->{s.target.comp.name}.{s.target.name}",
                          s.delivered, s.failed, len(s.buffer), s.lag)
                for s in plan.subscriptions],
        summaries=[_summary(workloads, duration)],
        events=First(list(kernel.health_events)),
        series=First(tables(kernel) if with_series else None))


def _component(kernel: Kernel, index: int) -> ComponentPart:
    comp = kernel.plan.comps[index]
    area, qarea, cpu, ok, failed, rejected = kernel.window_snapshot[index]
    pools = list(comp.pools.values())
    return ComponentPart(
        name=comp.name, kind=comp.kind, replicas=len(comp.replicas), capacity=comp.capacity,
        area=area, qarea=qarea, cpu=cpu, visits=ok + failed, rejected=rejected,
        queue_max=Peak(comp.qmax), refusals=list(comp.by_cause),
        ops=[OpPart(name, list(op.by_cause), op.hist) for name, op in comp.ops.items()],
        has_outlier=comp.outlier is not None,
        ejections=comp.outlier.ejections if comp.outlier is not None else 0,
        has_pools=bool(pools), pool_overflow=sum(p.rejected for p in pools),
        pool_max_active=Peak(max((p.max_active for p in pools), default=0)))


def _call(call: CallPlan) -> CallPart:
    gates = list(call.gates.values())
    target = call.target
    return CallPart(
        name=call.name, to=f"{target.comp.name}.{target.name}", async_=call.async_,
        sent=call.sent, first=call.first, retries=call.retries, hedges=call.hedges,
        failed=call.failed, by_cause=list(call.by_cause), fallbacks=call.fallbacks,
        hedge_max=call.hedge_max, hedge_wins=call.hedge_wins,
        has_budget=call.budget is not None,
        budget_exhausted=call.budget.exhausted if call.budget is not None else 0,
        retry_cap=call.retry_cap, retry_overflow=call.retry_overflow,
        degraded=call.degraded, degraded_count=call.degraded_count,
        bulkhead_limit=call.bulkhead_limit, bulkhead_rejected=sum(g.rejected for g in gates),
        bulkhead_max_active=Peak(max((g.max_active for g in gates), default=0)),
        breaker=call.breaker,
        not_permitted=sum(b.not_permitted for b in call.breakers.values()),
        transitions=First(sorted((t, owner, a, b) for owner, breaker in call.breakers.items()
                                 for t, a, b in breaker.transitions)))


def _summary(workloads: list[WorkloadPart], duration: float) -> ReplicationSummary:
    summary = _pooled([wl.hist for wl in workloads]).summary_ms()
    causes = [sum(column) for column in zip(*(wl.by_cause for wl in workloads), strict=True)]
    total = sum(causes)
    return ReplicationSummary(
        {key: summary.get(key, math.nan) for key in ("mean", "p50", "p90", "p95", "p99", "p999")},
        total / duration, causes[OK] / duration,
        (total - causes[OK]) / total if total else math.nan)


def merge(partials: list[Partial]) -> Partial:
    """Pool partials in the order given (replication order, for reproducible floats)."""
    if not partials:
        raise ValueError("nothing to merge")
    pooled = partials[0]
    for other in partials[1:]:
        pooled = _merged(pooled, other)
    return pooled


def _merged(a: T, b: T) -> T:
    """`a` and `b` pooled by the rules in the module docstring; neither is changed."""
    if isinstance(a, Histogram):
        assert isinstance(b, Histogram)
        pooled = Histogram()
        pooled.merge(a)
        pooled.merge(b)
        return cast(T, pooled)
    if isinstance(a, Peak):
        assert isinstance(b, Peak)
        return cast(T, Peak(max(a.value, b.value)))
    if isinstance(a, First):
        return a
    if isinstance(a, bool):
        return a or b
    if isinstance(a, int | float):
        return cast(T, a + cast(float, b))
    if isinstance(a, str):
        return a
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        return cast(T, [_merged(x, y) for x, y in zip(a, b, strict=True)])
    assert type(a) is type(b), (a, b)
    values = {}
    for item in fields(cast(Any, a)):
        x, y = getattr(a, item.name), getattr(b, item.name)
        rule = item.metadata.get("merge")
        values[item.name] = x if rule == "fixed" else x + y if rule == "append" \
            else _merged(x, y)
    return type(a)(**values)
