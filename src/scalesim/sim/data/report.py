"""The result sections of the data mechanisms (see docs/results.md): queues (one entry per
subscription), dead letters, sagas, outboxes and event stores, from their parts pooled over
replications (parts.py: counts summed, histograms merged; traces and rebalances from the
first replication)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from scalesim.sim.data.consistency_report import consistency_results
from scalesim.sim.data.messages import OUTCOMES
from scalesim.sim.data.parts import (
    DataPart,
    MessageTrace,
    RelayPart,
    SagaPart,
    StorePart,
    SubscriptionPart,
    subscriptions,
)
from scalesim.sim.data.saga import OUTCOMES as SAGA_OUTCOMES
from scalesim.sim.plan import CAUSE_NAMES
from scalesim.sim.rounded import clean, latency_summary

if TYPE_CHECKING:
    from scalesim.sim.kernel import Kernel

# A read issued this long after a write sees it with the probability reported (CQRS).
VISIBILITY_AFTER = (("1ms", 0.001), ("10ms", 0.01), ("100ms", 0.1), ("1s", 1.0),
                    ("10s", 10.0))


def _spread(values: list[float]) -> dict[str, float | None]:
    """mean, p50, p99 and max of values sampled once per interval."""
    if not values:
        return dict.fromkeys(("mean", "p50", "p99", "max"))
    array = np.asarray(values, dtype=float)
    return {"mean": clean(float(array.mean())),
            "p50": clean(float(np.quantile(array, 0.5))),
            "p99": clean(float(np.quantile(array, 0.99))),
            "max": clean(float(array.max()))}


def data_results(part: DataPart, span: float, replications: int = 1,
                 budgets: Mapping[str, float] | None = None) -> dict[str, Any]:
    """Every data section that the run has, keyed as in the result (`replications`: how many
    runs `part` pools, for the levels reported per replication; `budgets`: the caches'
    staleness budgets, by name)."""
    out: dict[str, Any] = {}
    queues = {sub.name: subscription(sub, span, replications) for sub in part.subscriptions
              if sub.queue_kind == "queue"}
    if queues:
        out["queues"] = queues
    dead = {queue.name: {"received": queue.received} for queue in part.dead_letters}
    if dead:
        out["dead_letters"] = dead
    sagas = {plan.name: saga(plan) for plan in part.sagas}
    if sagas:
        out["sagas"] = sagas
    outboxes = {relay.name: outbox(relay, span, replications) for relay in part.relays}
    if outboxes:
        out["outboxes"] = outboxes
    stores = {store.name: event_store(store, [sub for sub in part.subscriptions
                                              if sub.queue == store.name], span)
              for store in part.stores}
    if stores:
        out["event_stores"] = stores
    out.update(consistency_results(part.consistency, span, budgets))
    return out


def per_replication(level: int, replications: int) -> int:
    """A level (a backlog) pooled by adding it up over `replications` runs, as one run's:
    the mean over the runs, to the nearest message."""
    return int(level / max(1, replications) + 0.5)


def subscription(sub: SubscriptionPart, span: float, replications: int = 1) -> dict[str, Any]:
    settled = sub.settled
    entry: dict[str, Any] = {
        "delivered": sub.delivered,
        "failed": sub.failed,
        "delivered_rps": clean(sub.delivered / span),
        "concurrency": sub.concurrency,
        "published_rps": clean(sub.published / span),
        # levels, not counts: one replication's (the mean over them)
        "backlog_start": per_replication(sub.backlog_start, replications),
        "backlog_end": per_replication(sub.backlog_end, replications),
        "oldest_start_ms": clean(sub.oldest_start_s.value * 1e3),
        "oldest_end_ms": clean(sub.oldest_end_s.value * 1e3),
        "lag_ms": latency_summary(sub.lag),
        "guarantee": sub.guarantee,
        "idempotent": sub.idempotent,
        "dead_letter": sub.dead_letter,
        "max_deliveries": sub.max_deliveries,
        "published": sub.published,
        "deliveries": sub.deliveries,
        "redelivered": sub.redelivered,
        "duplicates": sub.duplicates,
        "deduplicated": sub.deduplicated,
        "dead_lettered": sub.dead_lettered,
        "dead_letter_share": clean(sub.dead_lettered / settled) if settled else None,
        "lost": sub.lost,
        "deliveries_per_message": clean(sub.settled_deliveries / settled)
        if settled else None,
        "lag_messages": _spread(sub.backlog_samples),
        "lag_s": _spread(sub.oldest_samples),
    }
    if sub.partitions is not None:
        entry["partitions"] = [
            {"partition": index, "delivered": p.delivered,
             "lag_end": per_replication(p.lag_end, replications),
             "lag_max": p.lag_max.value}
            for index, p in enumerate(sub.partitions)]
        entry["rebalances"] = [{"t_s": clean(t), "cause": cause, "members": members,
                                "pause_s": clean(pause), "moved": moved}
                               for t, cause, members, pause, moved in sub.rebalances.value]
    entry["traces"] = [message_trace(msg) for msg in sub.traces.value]
    return entry


def message_trace(msg: MessageTrace) -> dict[str, Any]:
    number, published, partition, offset, trace = msg
    record: dict[str, Any] = {"message": number, "published_s": clean(published),
                              "outcome": OUTCOMES[int(trace[0][0])]}
    if partition >= 0:
        record["partition"], record["offset"] = partition, offset
    record["deliveries"] = [
        {"start_s": clean(start), "end_s": clean(end) if end >= 0 else None,
         "status": CAUSE_NAMES[int(cause)] if cause >= 0 else "unfinished"}
        for start, end, cause in trace[1:]]
    return record


def saga(plan: SagaPart) -> dict[str, Any]:
    started = plan.started
    counts = {name: plan.outcomes[i] for i, name in enumerate(SAGA_OUTCOMES)}
    unfinished = started - sum(counts.values())

    def rate(count: int) -> float | None:
        return clean(count / started) if started else None

    return {
        "coordination": "choreography" if plan.choreography else "orchestration",
        "started": started, **counts, "unfinished": unfinished,
        "success_rate": rate(counts["succeeded"]),
        "compensated_rate": rate(counts["compensated"]),
        "aborted_rate": rate(counts["aborted"]),
        "stuck_rate": rate(counts["stuck"]),
        "duration_ms": latency_summary(plan.duration),
        "compensation_ms": latency_summary(plan.compensation),
        "inconsistency_ms": latency_summary(plan.inconsistency),
        "steps": [{"name": step.label, "to": step.to, "pivot": step.pivot,
                   "failed": step.failed, "compensated": step.compensated}
                  for step in plan.steps],
        "traces": [{"started_s": clean(started_at),
                    "outcome": SAGA_OUTCOMES[outcome] if outcome >= 0 else "unfinished",
                    "events": [{"step": label, "kind": kind, "start_s": clean(start),
                                "end_s": clean(end), "status": CAUSE_NAMES[cause],
                                "attempts": attempts}
                               for label, kind, start, end, cause, attempts in trace]}
                   for started_at, outcome, trace in plan.traces.value],
    }


def outbox(relay: RelayPart, span: float, replications: int = 1) -> dict[str, Any]:
    publishes = relay.publishes
    duplicates = relay.duplicates
    return {"relay": "polling" if relay.polling else "log_tailing",
            "written": relay.written, "published": publishes,
            "published_rps": clean(publishes / span),
            "duplicates": duplicates,
            "duplicate_rate": clean(duplicates / publishes) if publishes else None,
            "delay_ms": latency_summary(relay.delay),
            "polls": relay.polls,
            "backlog_end": per_replication(relay.backlog_end, replications),
            "backlog_max": relay.backlog_max.value}


def event_store(store: StorePart, projections: list[SubscriptionPart],
                span: float) -> dict[str, Any]:
    appends = store.appends
    conflicts = store.conflicts
    loads = store.loads
    without = store.replayed_without / loads if loads else None
    return {
        "appends": appends, "appends_rps": clean(appends / span),
        "conflicts": conflicts,
        "conflict_rate": clean(conflicts / (appends + conflicts)) if appends + conflicts
        else None,
        "snapshots": store.snapshots,
        "loads": loads,
        "load_ms": latency_summary(store.load_time),
        "events_per_load": clean(store.replayed / loads) if loads else None,
        "events_per_load_without_snapshots": clean(without),
        "load_ms_without_snapshots": clean(without * store.read_per_event * 1e3)
        if without is not None else None,
        "projections": {sub.to: projection(sub, span) for sub in projections},
    }


def projection(sub: SubscriptionPart, span: float) -> dict[str, Any]:
    """A projection's subscription, with the chance that a read sees a write t after it."""
    entry = subscription(sub, span)
    entry["p_visible"] = {label: clean(sub.lag.fraction_at_most(t)) for label, t in
                          VISIBILITY_AFTER}
    return entry


def queue_rows(kernel: Kernel) -> list[list[str | float | int | None]]:
    """The `queues` time series of one run: one row per subscription and interval."""
    rows: list[list[str | float | int | None]] = []
    for sub in subscriptions(kernel):
        name = f"{sub.queue.name}->{sub.target.comp.name}.{sub.target.name}"
        start = kernel.t_start
        for t, backlog, inflight, oldest, delivered, redelivered, dead, published in sub.series:
            # every interval is `interval` long but the last, which the window end cuts short
            span = kernel.interval if t - start > kernel.interval - 1e-9 else t - start
            start = t
            rows.append([round(t, 6), name, round(published / span, 6),
                         round(delivered / span, 6), backlog, inflight, round(oldest, 6),
                         round(redelivered / span, 6), round(dead / span, 6)])
    return rows
