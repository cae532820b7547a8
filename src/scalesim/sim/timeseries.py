"""Per-interval time series of a run (first replication): tables for CSV, JSON and reports.

Every table is a list of columns and rows; `t_s` is the end of the interval in simulated
seconds since the start of the run (warm-up included), like every time in a result.
"""

from __future__ import annotations

import math
from typing import Any

from scalesim.sim.control.results import series_tables
from scalesim.sim.data.report import queue_rows
from scalesim.sim.kernel import Kernel
from scalesim.sim.plan import CallPlan

Cell = str | float | int | None
Table = dict[str, Any]  # {"columns": [...], "rows": [[...], ...]}

WORKLOAD_COLUMNS = ["t_s", "workload", "throughput_rps", "goodput_rps", "errors_rps",
                    "p50_ms", "p95_ms", "p99_ms", "in_flight", "degraded_rps"]
COMPONENT_COLUMNS = ["t_s", "component", "utilization", "concurrency", "queue_mean",
                     "throughput_rps", "refused_rps"]
BREAKER_COLUMNS = ["t_s", "call", "open_share", "half_open_share", "not_permitted"]
CALL_COLUMNS = ["t_s", "call", "attempts_rps", "refused_here_rps", "retries_rps",
                "attempt_failures_rps", "timeouts_rps", "failed_rps", "fallbacks_rps"]
QUEUE_COLUMNS = ["t_s", "subscription", "published_rps", "delivered_rps", "backlog", "in_flight",
                 "oldest_age_s", "redelivered_rps", "dead_lettered_rps"]
FILES = {"workloads": "timeseries.csv", "components": "components.csv", "calls": "calls.csv",
         "breakers": "breakers.csv", "queues": "queues.csv", "replicas": "replicas.csv",
         "nodes": "nodes.csv"}


def _num(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 6)


def _sorted(rows: list[list[Cell]]) -> list[list[Cell]]:
    return sorted(rows, key=lambda row: (float(row[0] or 0.0), str(row[1])))


def call_key(call: CallPlan) -> str:
    """A call's name in the tables: 'caller.op->callee.op'."""
    return f"{call.name}->{call.target.comp.name}.{call.target.name}"


def tables(kernel: Kernel) -> dict[str, Table]:
    workloads: list[list[Cell]] = [
        [_num(t), wl.name, _num(ok + failed), _num(ok), _num(failed), _num(p50),
         _num(p95), _num(p99), int(in_flight), _num(degraded)]
        for wl in kernel.plan.workloads
        for t, ok, failed, p50, p95, p99, in_flight, degraded in wl.series]
    components: list[list[Cell]] = [
        [_num(t), comp.name, _num(level) if comp.capacity else None,
         _num(level * comp.capacity if comp.capacity else level), _num(queue), _num(visits),
         _num(refused)]
        for comp in kernel.plan.comps
        for t, level, queue, visits, refused in comp.series]
    breakers: list[list[Cell]] = [
        [_num(t), call_key(call), _num(open_share), _num(half_open), int(not_permitted)]
        for call in kernel.plan.calls
        for t, open_share, half_open, not_permitted in call.breaker_series]
    calls: list[list[Cell]] = [[_num(t), call_key(call), *map(_num, rates)]
                               for call in kernel.plan.calls
                               for t, *rates in call.traffic]
    return {"workloads": {"columns": WORKLOAD_COLUMNS, "rows": _sorted(workloads)},
            "components": {"columns": COMPONENT_COLUMNS, "rows": _sorted(components)},
            "breakers": {"columns": BREAKER_COLUMNS, "rows": _sorted(breakers)},
            "calls": {"columns": CALL_COLUMNS, "rows": _sorted(calls)},
            "queues": {"columns": QUEUE_COLUMNS, "rows": _sorted(queue_rows(kernel))},
            **series_tables(kernel)}
