"""The result sections of the data mechanisms (see docs/results.md): queues (one entry per
subscription), dead letters, sagas, outboxes and event stores, pooled over replications
(counts summed, histograms merged; traces and rebalances from the first replication)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from scalesim.sim.data.consistency_report import consistency_parts, consistency_results
from scalesim.sim.data.event_store import EventStore
from scalesim.sim.data.messages import GUARANTEES, OUTCOMES, Consumption
from scalesim.sim.data.messaging import MessagingArea
from scalesim.sim.data.outbox import OutboxArea, Relay
from scalesim.sim.data.partitions import PartitionedSubscription
from scalesim.sim.data.saga import OUTCOMES as SAGA_OUTCOMES
from scalesim.sim.data.saga import SagaArea, SagaPlan
from scalesim.sim.kernel import Kernel
from scalesim.sim.metrics import Histogram
from scalesim.sim.plan import CAUSE_NAMES

# A read issued this long after a write sees it with the probability reported (CQRS).
VISIBILITY_AFTER = (("1ms", 0.001), ("10ms", 0.01), ("100ms", 0.1), ("1s", 1.0),
                    ("10s", 10.0))
T = TypeVar("T")


def _clean(value: float | None) -> float | None:
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return round(value, 4)


def _latency(hists: list[Histogram]) -> dict[str, float | None]:
    pooled = Histogram()
    for hist in hists:
        pooled.merge(hist)
    return {k: _clean(v) for k, v in pooled.summary_ms().items()}


def _spread(values: list[float]) -> dict[str, float | None]:
    """mean, p50, p99 and max of values sampled once per interval."""
    if not values:
        return {}
    array = np.asarray(values, dtype=float)
    return {"mean": _clean(float(array.mean())),
            "p50": _clean(float(np.quantile(array, 0.5))),
            "p99": _clean(float(np.quantile(array, 0.99))),
            "max": _clean(float(array.max()))}


def _runs(kernels: list[Kernel], pick: Callable[[Kernel], list[T]]) -> list[list[T]]:
    """The same objects of every replication, side by side: [[run0, run1…], …]."""
    return [list(group) for group in zip(*(pick(k) for k in kernels), strict=True)]


def _areas(kernel: Kernel, kind: type[T]) -> list[T]:
    return [area for area in kernel.plan.areas if isinstance(area, kind)]


def _subs(kernel: Kernel) -> list[Consumption]:
    return [sub for area in _areas(kernel, MessagingArea) for sub in area.subs]


def data_results(kernels: list[Kernel], span: float) -> dict[str, Any]:
    """Every data section that the run has, keyed as in the result."""
    out: dict[str, Any] = {}
    queues = {f"{runs[0].queue.name}->{runs[0].target.comp.name}.{runs[0].target.name}":
              subscription(runs, span)
              for runs in _runs(kernels, _subs) if runs[0].queue.kind == "queue"}
    if queues:
        out["queues"] = queues
    dead = {}
    for area in _runs(kernels, lambda k: _areas(k, MessagingArea)):
        for index, queue in enumerate(area[0].dead_letters):
            dead[queue.name] = {"received": sum(a.dead_letters[index].received for a in area)}
    if dead:
        out["dead_letters"] = dead
    sagas = {runs[0].name: saga(runs) for runs in _runs(
        kernels, lambda k: [plan for area in _areas(k, SagaArea) for plan in area.plans])}
    if sagas:
        out["sagas"] = sagas
    outboxes = {runs[0].name: outbox(runs, span) for runs in _runs(
        kernels, lambda k: [relay for area in _areas(k, OutboxArea) for relay in area.relays])}
    if outboxes:
        out["outboxes"] = outboxes
    stores = {runs[0].name: event_store(runs, [r for r in _runs(kernels, _subs)
                                               if r[0].queue.name == runs[0].name], span)
              for runs in _runs(kernels, lambda k: _areas(k, EventStore))}
    if stores:
        out["event_stores"] = stores
    out.update(consistency_results([consistency_parts(k.plan.areas) for k in kernels], span))
    return out


def subscription(runs: list[Consumption], span: float) -> dict[str, Any]:
    first = runs[0]
    delivered = sum(s.delivered for s in runs)
    settled = sum(s.settled for s in runs)
    entry: dict[str, Any] = {
        "delivered": delivered,
        "failed": sum(s.failed for s in runs),
        "delivered_rps": _clean(delivered / span),
        "concurrency": first.concurrency,
        "published_rps": _clean(sum(s.published for s in runs) / span),
        "backlog_start": sum(s.backlog_start for s in runs),
        "backlog_end": sum(s.backlog_end for s in runs),
        "oldest_start_ms": _clean(max(s.oldest_start_s for s in runs) * 1e3),
        "oldest_end_ms": _clean(max(s.oldest_end_s for s in runs) * 1e3),
        "lag_ms": _latency([s.lag for s in runs]),
        "guarantee": GUARANTEES[first.guarantee],
        "idempotent": first.settings.idempotent,
        "published": sum(s.published for s in runs),
        "deliveries": sum(s.deliveries for s in runs),
        "redelivered": sum(s.redelivered for s in runs),
        "duplicates": sum(s.duplicates for s in runs),
        "deduplicated": sum(s.deduplicated for s in runs),
        "dead_lettered": sum(s.dead_lettered for s in runs),
        "dead_letter_share": _clean(sum(s.dead_lettered for s in runs) / settled)
        if settled else None,
        "lost": sum(s.lost for s in runs),
        "deliveries_per_message": _clean(sum(s.settled_deliveries for s in runs) / settled)
        if settled else None,
        "lag_messages": _spread([float(row[1]) for s in runs for row in s.series]),
        "lag_s": _spread([row[3] for s in runs for row in s.series]),
    }
    if isinstance(first, PartitionedSubscription):
        parts = [s for s in runs if isinstance(s, PartitionedSubscription)]
        entry["partitions"] = [
            {"partition": index,
             "delivered": sum(s.partitions[index].delivered for s in parts),
             "lag_end": sum(len(s.partitions[index].log) for s in parts),
             "lag_max": max(s.partitions[index].lag_max for s in parts)}
            for index in range(len(first.partitions))]
        entry["rebalances"] = [{"t_s": _clean(t), "cause": cause, "members": members,
                                "pause_s": _clean(pause), "moved": moved}
                               for t, cause, members, pause, moved in first.rebalances]
    entry["traces"] = [message_trace(msg) for msg in first.sampled]
    return entry


def message_trace(msg: Any) -> dict[str, Any]:
    trace = msg.trace
    assert trace is not None
    record: dict[str, Any] = {"message": msg.number, "published_s": _clean(msg.published),
                              "outcome": OUTCOMES[int(trace[0][0])]}
    if msg.partition >= 0:
        record["partition"], record["offset"] = msg.partition, msg.offset
    record["deliveries"] = [
        {"start_s": _clean(start), "end_s": _clean(end) if end >= 0 else None,
         "status": CAUSE_NAMES[int(cause)] if cause >= 0 else "unfinished"}
        for start, end, cause in trace[1:]]
    return record


def saga(runs: list[SagaPlan]) -> dict[str, Any]:
    first = runs[0]
    started = sum(p.started for p in runs)
    counts = {name: sum(p.outcomes[i] for p in runs) for i, name in enumerate(SAGA_OUTCOMES)}
    unfinished = started - sum(counts.values())

    def rate(count: int) -> float | None:
        return _clean(count / started) if started else None

    return {
        "coordination": "choreography" if first.choreography else "orchestration",
        "started": started, **counts, "unfinished": unfinished,
        "success_rate": rate(counts["succeeded"]),
        "compensated_rate": rate(counts["compensated"]),
        "aborted_rate": rate(counts["aborted"]),
        "stuck_rate": rate(counts["stuck"]),
        "duration_ms": _latency([p.duration for p in runs]),
        "compensation_ms": _latency([p.compensation for p in runs]),
        "inconsistency_ms": _latency([p.inconsistency for p in runs]),
        "steps": [{"name": step.label, "to": f"{step.target.comp.name}.{step.target.name}",
                   "pivot": index == first.pivot,
                   "failed": sum(p.steps[index].failed for p in runs),
                   "compensated": sum(p.steps[index].compensated for p in runs)}
                  for index, step in enumerate(first.steps)],
        "traces": [{"started_s": _clean(run.started),
                    "outcome": SAGA_OUTCOMES[run.outcome_of] if run.outcome_of >= 0
                    else "unfinished",
                    "events": [{"step": label, "kind": kind, "start_s": _clean(start),
                                "end_s": _clean(end), "status": CAUSE_NAMES[cause],
                                "attempts": attempts}
                               for label, kind, start, end, cause, attempts in run.trace or []]}
                   for run in first.traces],
    }


def outbox(runs: list[Relay], span: float) -> dict[str, Any]:
    written = sum(r.written for r in runs)
    publishes = sum(r.publishes for r in runs)
    duplicates = sum(r.duplicates for r in runs)
    return {"relay": "polling" if runs[0].polling else "log_tailing",
            "written": written, "published": publishes, "published_rps": _clean(publishes / span),
            "duplicates": duplicates,
            "duplicate_rate": _clean(duplicates / publishes) if publishes else None,
            "delay_ms": _latency([r.delay for r in runs]),
            "polls": sum(r.polls for r in runs),
            "backlog_end": sum(r.unpublished() for r in runs),
            "backlog_max": max(r.backlog_max for r in runs)}


def event_store(runs: list[EventStore], projections: list[list[Consumption]],
                span: float) -> dict[str, Any]:
    appends = sum(s.appends for s in runs)
    conflicts = sum(s.conflicts for s in runs)
    loads = sum(s.loads for s in runs)
    per_event = runs[0].read_per_event
    without = sum(s.replayed_without for s in runs) / loads if loads else None
    return {
        "appends": appends, "appends_rps": _clean(appends / span),
        "conflicts": conflicts,
        "conflict_rate": _clean(conflicts / (appends + conflicts)) if appends + conflicts
        else None,
        "snapshots": sum(s.snapshots for s in runs),
        "loads": loads,
        "load_ms": _latency([s.load_time for s in runs]),
        "events_per_load": _clean(sum(s.replayed for s in runs) / loads) if loads else None,
        "events_per_load_without_snapshots": _clean(without),
        "load_ms_without_snapshots": _clean(without * per_event * 1e3)
        if without is not None else None,
        "projections": {f"{r[0].target.comp.name}.{r[0].target.name}": projection(r, span)
                        for r in projections},
    }


def projection(runs: list[Consumption], span: float) -> dict[str, Any]:
    """A projection's subscription, with the chance that a read sees a write t after it."""
    entry = subscription(runs, span)
    pooled = Histogram()
    for sub in runs:
        pooled.merge(sub.lag)
    entry["p_visible"] = {label: _clean(pooled.fraction_at_most(t)) for label, t in
                          VISIBILITY_AFTER}
    return entry


def queue_rows(kernel: Kernel) -> list[list[str | float | int | None]]:
    """The `queues` time series of one run: one row per subscription and interval."""
    rows: list[list[str | float | int | None]] = []
    interval = kernel.interval
    for sub in _subs(kernel):
        name = f"{sub.queue.name}->{sub.target.comp.name}.{sub.target.name}"
        for t, backlog, inflight, oldest, delivered, redelivered, dead, published in sub.series:
            rows.append([round(t, 6), name, round(published / interval, 6),
                         round(delivered / interval, 6), backlog, inflight, round(oldest, 6),
                         round(redelivered / interval, 6), round(dead / interval, 6)])
    return rows
