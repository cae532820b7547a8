"""What a replication leaves behind, as plain data that pickles and merges.

A result is built from a `Partial`, never from a kernel: `partial_of` reads a finished kernel
into counts, histograms and the first replication's details, and `merge` pools partials in
replication order (the rules are in merge.py). One process running replications in turn and
many processes (or a Dask cluster) sending their partials back therefore take the same path
and give byte-identical results.

Each area reads its own state into its own part: the request path here (workloads,
components, calls), the control loops in sim/control/parts.py, the data mechanisms in
sim/data/parts.py; result.py and the areas' report modules read only parts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from scalesim.sim.control.parts import ControlPart, control_part
from scalesim.sim.data.parts import DataPart, data_part
from scalesim.sim.kernel import Kernel
from scalesim.sim.merge import APPENDED, FIXED, First, Peak, merged
from scalesim.sim.metrics import Histogram, combined
from scalesim.sim.plan import OK, UNFINISHED, CallPlan, Comp
from scalesim.sim.plan import Workload as PlanWorkload
from scalesim.sim.timeseries import Table, tables

Sample = tuple[float, int, int, list[list[object]]]  # latency, sequence, cause, spans
SUMMARY_METRICS = ("mean", "p50", "p90", "p95", "p99", "p999")  # a replication's latencies
# Those `ci95` gives intervals of. Not the p999: a few runs hold too few values past it to
# bound it above (the interval's top would be the slowest latency measured, which fell short
# of the exact p999 in 11 of 11 experiments of 3 runs of 20 s at ρ = 0.8).
CI_METRICS = ("mean", "p50", "p90", "p95", "p99")


@dataclass
class WorkloadPart:
    name: str = field(metadata=FIXED)
    by_cause: list[int]  # requests sent in the window, by outcome (in flight: unfinished)
    degraded: int
    drained: int  # answered after the window closed
    answered: int  # answers received in the window, whenever their request was sent
    answered_ok: int
    hist: Histogram
    sampled: First[list[Sample]]


@dataclass
class OpPart:
    name: str = field(metadata=FIXED)
    by_cause: list[int]  # every version of the operation
    hist: Histogram


@dataclass
class ComponentPart:
    name: str = field(metadata=FIXED)
    kind: str = field(metadata=FIXED)
    area: float  # ∫ busy workers dt over the window
    busiest: float  # the part of it held on its busiest replica (added up)
    busiest_replica: First[int]  # which one that was, in the first replication
    qarea: float  # ∫ queue length dt
    cpu: float  # worker-seconds of work
    visits: int
    rejected: int
    queue_max: Peak[int]
    queue_start: int  # waiting when the window opened
    queue_end: int  # and when it closed
    refusals: list[int]  # refusals at the door, by cause
    ops: list[OpPart]
    has_outlier: bool = field(metadata=FIXED)
    ejections: int
    has_pools: bool = field(metadata=FIXED)
    pool_overflow: int
    pool_max_active: Peak[int]


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
    bulkhead_max_active: Peak[int]
    breaker: bool = field(metadata=FIXED)
    not_permitted: int
    transitions: First[list[tuple[float, int, int, int]]]  # t, owner replica, from, to


@dataclass
class ReplicationSummary:
    """One replication's headline numbers, for confidence intervals across replications."""

    latency_ms: dict[str, float]
    throughput_rps: float
    goodput_rps: float
    error_rate: float
    latency: Histogram  # its requests' latencies, for the quantiles' intervals


@dataclass
class Partial:
    replications: int
    workloads: list[WorkloadPart]
    components: list[ComponentPart]
    calls: list[CallPart]
    control: ControlPart
    data: DataPart
    summaries: list[ReplicationSummary] = field(metadata=APPENDED)
    events: First[list[tuple[float, str, int, str]]]  # health events: t, component, replica
    series: First[dict[str, Table] | None]


def _workload(kernel: Kernel, wl: PlanWorkload) -> WorkloadPart:
    causes = list(wl.by_cause)
    if kernel.unfinished:
        causes[UNFINISHED] += wl.window_inflight  # not those sent in the warm-up
    wl.hist.flush()
    return WorkloadPart(
        wl.name, causes, wl.degraded, wl.drained,
        answered=sum(wl.by_cause) - wl.drained + wl.early,
        answered_ok=wl.by_cause[OK] - wl.drained_ok + wl.early_ok,
        hist=wl.hist, sampled=First(wl.sampled))


def partial_of(kernel: Kernel, duration: float, with_series: bool = False) -> Partial:
    """The partial result of one finished replication (`with_series` keeps its time series)."""
    plan = kernel.plan
    workloads = [_workload(kernel, wl) for wl in plan.workloads]
    return Partial(
        replications=1,
        workloads=workloads,
        components=[_component(comp, kernel.window_snapshot[index])
                    for index, comp in enumerate(plan.comps)],
        calls=[_call(call) for call in plan.calls],
        control=control_part(kernel),
        data=data_part(kernel),
        summaries=[replication_summary(workloads, duration)],
        events=First(list(kernel.health_events)),
        series=First(tables(kernel) if with_series else None))


def pooled_latency(partial: Partial) -> Histogram:
    """The latencies of every replication's requests together."""
    return combined([wl.hist for wl in partial.workloads])


def _component(comp: Comp, snapshot: tuple[float, float, float, int, int, int, int,
                                           list[float], list[int]]) -> ComponentPart:
    """The component in the window (`Kernel.window_snapshot`: refusals in the drain are not
    the window's, as its visits are not), with its busiest replica: the one whose visits held
    its workers longest, measured per replica."""
    area, qarea, cpu, ok, failed, rejected, queue_end, held, refusals = snapshot
    busiest = max(range(len(held)), key=held.__getitem__, default=0)
    pools = list(comp.pools.values())
    ops = []
    for name, op in comp.ops.items():
        versions = [op, *op.variants]  # as every version of the component ran it
        causes = [sum(column) for column in zip(*(v.by_cause for v in versions), strict=True)]
        ops.append(OpPart(name, causes, combined([v.hist for v in versions])))
    return ComponentPart(
        name=comp.name, kind=comp.kind, area=area,
        busiest=held[busiest] if held else 0.0,
        busiest_replica=First(busiest), qarea=qarea, cpu=cpu, visits=ok + failed,
        rejected=rejected, queue_max=Peak(comp.qmax), queue_start=comp.qstart,
        queue_end=queue_end, refusals=refusals, ops=ops,
        has_outlier=comp.outlier is not None,
        ejections=comp.outlier.ejections if comp.outlier is not None else 0,
        has_pools=bool(pools), pool_overflow=sum(p.rejected for p in pools),
        pool_max_active=Peak(max((p.max_active for p in pools), default=0)))


def _call(call: CallPlan) -> CallPart:
    """The call's counts for the window's requests (`CallTally`), with its breakers',
    budgets' and bulkheads' (those from the warm-up's end on)."""
    gates = list(call.gates.values())
    target = call.target
    tally = call.tally
    return CallPart(
        name=call.name, to=f"{target.comp.name}.{target.name}", async_=call.async_,
        sent=tally.sent, first=tally.first, retries=tally.retries, hedges=tally.hedges,
        failed=tally.failed, by_cause=list(tally.by_cause), fallbacks=tally.fallbacks,
        hedge_max=call.hedge_max, hedge_wins=tally.hedge_wins,
        has_budget=call.budget is not None,
        budget_exhausted=sum(budget.exhausted for budget in call.budgets.values()),
        retry_cap=call.retry_cap, retry_overflow=tally.retry_overflow,
        degraded=call.degraded, degraded_count=tally.degraded_count,
        bulkhead_limit=call.bulkhead_limit, bulkhead_rejected=sum(g.rejected for g in gates),
        bulkhead_max_active=Peak(max((g.max_active for g in gates), default=0)),
        breaker=call.breaker,
        not_permitted=sum(b.not_permitted for b in call.breakers.values()),
        transitions=First(sorted((t, owner, a, b) for owner, breaker in call.breakers.items()
                                 for t, a, b in breaker.transitions)))


def replication_summary(workloads: list[WorkloadPart], duration: float) -> ReplicationSummary:
    latency = combined([wl.hist for wl in workloads])
    summary = latency.summary_ms()
    causes = [sum(column) for column in zip(*(wl.by_cause for wl in workloads), strict=True)]
    total = sum(causes)
    return ReplicationSummary(
        {key: summary.get(key, math.nan) for key in SUMMARY_METRICS},
        sum(wl.answered for wl in workloads) / duration,
        sum(wl.answered_ok for wl in workloads) / duration,
        (total - causes[OK]) / total if total else math.nan, latency)


def merge(partials: list[Partial]) -> Partial:
    """Pool partials in the order given (replication order, for reproducible floats)."""
    if not partials:
        raise ValueError("nothing to merge")
    pooled = partials[0]
    for other in partials[1:]:
        pooled = merged(pooled, other)
    return pooled
