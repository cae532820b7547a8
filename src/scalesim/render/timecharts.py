"""The report's charts over simulated time: per workload throughput, errors, latency and
requests in flight; per component utilization, queue and refusals. Fault windows are shaded
on every chart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from scalesim.render.charts import Series, Window, colour, line_chart
from scalesim.render.series import split, time_span


@dataclass(frozen=True)
class Chart:
    title: str
    svg: Markup


def fault_windows(result: dict[str, Any], end_s: float) -> list[Window]:
    return [Window(f["start_s"], f["end_s"] if f["end_s"] is not None else end_s,
                   f"fault on {f['target']}: {', '.join(f['effects'])} "
                   f"({f['start_s']:g}–{f['end_s'] if f['end_s'] is not None else end_s:g} s)")
            for f in result.get("faults", [])]


def _series(columns: dict[str, dict[str, list[Any]]], column: str,
            names: list[str] | None = None) -> list[Series]:
    chosen = names if names is not None else list(columns)
    return [Series(name, columns[name]["t_s"], columns[name][column], colour(index))
            for index, name in enumerate(chosen) if any(
                v is not None for v in columns[name][column])]


def workload_charts(result: dict[str, Any]) -> list[Chart]:
    span = time_span(result)
    if span is None:
        return []
    windows = fault_windows(result, span[1])
    charts: list[Chart] = []
    workloads = split(result["timeseries"]["workloads"], "workload")
    for name, columns in workloads.items():
        t = columns["t_s"]
        traffic = [Series("throughput", t, columns["throughput_rps"], colour(0)),
                   Series("goodput", t, columns["goodput_rps"], colour(2)),
                   Series("errors", t, columns["errors_rps"], "#d9534f")]
        latency = [Series(p, t, columns[f"{p}_ms"], colour(i))
                   for i, p in enumerate(("p50", "p95", "p99"))]
        charts.append(Chart(f"{name}: requests answered per second",
                            line_chart(f"{name}: throughput, goodput and errors", "rps",
                                       traffic, span, windows)))
        charts.append(Chart(f"{name}: latency of the answers in each interval",
                            line_chart(f"{name}: latency percentiles", "ms", latency, span,
                                       windows)))
    inflight = _series(workloads, "in_flight")
    if inflight:
        charts.append(Chart("requests in flight at the end of each interval",
                            line_chart("requests in flight", "requests", inflight, span,
                                       windows)))
    return charts


def component_charts(result: dict[str, Any]) -> list[Chart]:
    span = time_span(result)
    components = split(result.get("timeseries", {}).get("components"), "component")
    if span is None or not components:
        return []
    windows = fault_windows(result, span[1])
    wanted = [("utilization", "share of workers busy", "share", 1.0),
              ("concurrency", "busy workers (all replicas)", "workers", None),
              ("queue_mean", "requests waiting for a worker (mean)", "requests", None),
              ("throughput_rps", "visits finished per second", "rps", None),
              ("refused_rps", "visits refused per second", "rps", None)]
    charts: list[Chart] = []
    for column, title, unit, top in wanted:
        series = _series(components, column)
        if column in ("queue_mean", "refused_rps") and not any(
                y for s in series for y in s.ys):
            continue  # nothing waited or was refused: an empty chart says less than nothing
        if series:
            charts.append(Chart(title, line_chart(title, unit, series, span, windows, top)))
    return charts
