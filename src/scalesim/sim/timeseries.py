"""Per-interval time series of a run, as rows ready for CSV (first replication only)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from scalesim.sim.kernel import Kernel

WORKLOAD_COLUMNS = ("t_s", "workload", "throughput_rps", "goodput_rps", "errors_rps",
                    "p50_ms", "p95_ms", "p99_ms")
COMPONENT_COLUMNS = ("t_s", "component", "utilization", "concurrency", "queue_mean",
                     "throughput_rps")


def _cell(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.6g}"


def workload_rows(kernel: Kernel) -> list[tuple[str, ...]]:
    rows = []
    for wl in kernel.plan.workloads:
        for t, ok, failed, p50, p95, p99 in wl.series:
            rows.append((_cell(t - kernel.t_start), wl.name, _cell(ok + failed), _cell(ok),
                         _cell(failed), _cell(p50), _cell(p95), _cell(p99)))
    return sorted(rows, key=lambda row: (float(row[0]), row[1]))


def component_rows(kernel: Kernel) -> list[tuple[str, ...]]:
    rows = []
    for comp in kernel.plan.comps:
        for t, level, queue, visits in comp.series:
            utilization = _cell(level) if comp.capacity else ""
            concurrency = _cell(level * comp.capacity if comp.capacity else level)
            rows.append((_cell(t - kernel.t_start), comp.name, utilization, concurrency,
                         _cell(queue), _cell(visits)))
    return sorted(rows, key=lambda row: (float(row[0]), row[1]))


def write_csv(path: Path, columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
