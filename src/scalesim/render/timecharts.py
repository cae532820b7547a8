"""The report's charts over simulated time: per workload throughput, errors, degraded answers
and latency, the error rate and requests in flight; per component utilization, queue and
refusals; per queue subscription its backlog and lag.

Every chart marks, and labels on the chart itself, the fault windows and the spans when a
circuit breaker was open; latency charts also mark the intervals with no full answer (every
request failed or fell back), where a low latency is that of fallbacks or of nothing."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Any

from markupsafe import Markup

from scalesim.render.charts import ERROR_RATE_SPAN_PCT, Series, Window, colour, line_chart
from scalesim.render.series import Columns, split, time_span


@dataclass(frozen=True)
class Chart:
    title: str
    svg: Markup


def fault_windows(result: dict[str, Any], end_s: float) -> list[Window]:
    out = []
    for f in result.get("faults", []):
        end = f["end_s"] if f["end_s"] is not None else end_s
        out.append(Window(f["start_s"], end,
                          f"fault on {f['target']}: {', '.join(f['effects'])} "
                          f"({f['start_s']:g}–{end:g} s)", "fault",
                          f"fault: {f['target']} {'/'.join(f['effects'])}"))
    return out


def _runs(times: list[float], flags: list[bool], interval: float) -> list[tuple[float, float]]:
    """[start, end] of each run of consecutive flagged intervals (rows carry interval ends)."""
    spans = []
    index = 0
    for flagged, group in groupby(flags):
        length = len(list(group))
        if flagged:
            spans.append((times[index] - interval, times[index + length - 1]))
        index += length
    return spans


def _interval(times: list[float]) -> float:
    return times[1] - times[0] if len(times) > 1 else times[0] if times else 1.0


def breaker_windows(result: dict[str, Any]) -> list[Window]:
    """Spans when some breaker of a call was open or half-open at an interval's end."""
    out = []
    for call, columns in split(result.get("timeseries", {}).get("breakers"), "call").items():
        times = columns["t_s"]
        flags = [(o or 0) + (h or 0) > 0 for o, h in zip(columns["open_share"],
                                                         columns["half_open_share"],
                                                         strict=True)]
        source, target = call.split("->", 1)
        for start, end in _runs(times, flags, _interval(times)):
            out.append(Window(start, end, f"breaker of {source} → {target} open (or half-open) "
                              f"{start:g}–{end:g} s", "breaker",
                              f"breaker open: {source}→{target}"))
    return out


def empty_windows(columns: Columns) -> list[Window]:
    """Intervals of one workload in which no request was answered in full: all failed, fell
    back (degraded) or none was answered at all."""
    times = columns["t_s"]
    degraded = columns.get("degraded_rps") or [0.0] * len(times)
    flags = [(g or 0) - (d or 0) <= 1e-9 for g, d in zip(columns["goodput_rps"], degraded,
                                                        strict=True)]
    return [Window(start, end, f"no request answered in full {start:g}–{end:g} s: every "
                   "answer failed or came from a fallback", "empty", "no full answer")
            for start, end in _runs(times, flags, _interval(times))]


def _series(columns: dict[str, Columns], column: str,
            names: list[str] | None = None, scale: float = 1.0) -> list[Series]:
    chosen = names if names is not None else list(columns)
    return [Series(name, columns[name]["t_s"],
                   [None if v is None else v * scale for v in columns[name][column]],
                   colour(index))
            for index, name in enumerate(chosen) if column in columns[name] and any(
                v is not None for v in columns[name][column])]


def marks(result: dict[str, Any], end_s: float) -> list[Window]:
    """What every chart of a run marks: its faults and its open breakers."""
    return fault_windows(result, end_s) + breaker_windows(result)


def workload_charts(result: dict[str, Any]) -> list[Chart]:
    span = time_span(result)
    if span is None:
        return []
    windows = marks(result, span[1])
    charts: list[Chart] = []
    workloads = split(result["timeseries"]["workloads"], "workload")
    for name, columns in workloads.items():
        t = columns["t_s"]
        traffic = [Series("throughput", t, columns["throughput_rps"], colour(0)),
                   Series("goodput", t, columns["goodput_rps"], colour(2)),
                   Series("errors", t, columns["errors_rps"], "#d9534f")]
        if any(columns.get("degraded_rps") or []):
            traffic.append(Series("degraded", t, columns["degraded_rps"], "#d4a72c"))
        latency = [Series(p, t, columns[f"{p}_ms"], colour(i))
                   for i, p in enumerate(("p50", "p95", "p99"))]
        charts.append(Chart(f"{name}: requests answered per second",
                            line_chart(f"{name}: throughput, goodput, errors and degraded",
                                       "rps", traffic, span, windows)))
        charts.append(Chart(f"{name}: latency of the successful answers in each interval "
                            "(hatched: no request answered in full)",
                            line_chart(f"{name}: latency percentiles", "ms", latency, span,
                                       windows + empty_windows(columns))))
    rates = [Series(name, columns["t_s"], [
        None if not total else (errors or 0.0) / total * 100.0
        for errors, total in zip(columns["errors_rps"], columns["throughput_rps"], strict=True)],
        colour(index)) for index, (name, columns) in enumerate(workloads.items())]
    charts.append(Chart("error rate: failed answers / answers in each interval",
                        line_chart("error rate", "% of answers", rates, span, windows,
                                   y_span=ERROR_RATE_SPAN_PCT)))
    inflight = _series(workloads, "in_flight")
    if inflight:
        charts.append(Chart("requests in flight at the end of each interval",
                            line_chart("requests in flight", "requests", inflight, span,
                                       windows)))
    return charts


def _per_name(result: dict[str, Any], table: str, key: str
              ) -> tuple[tuple[float, float], dict[str, Columns], list[Window]] | None:
    """A series table split by the name in its `key` column, with the measured window and
    the marks (faults, breakers) its charts draw; None without rows or series."""
    span = time_span(result)
    found = split(result.get("timeseries", {}).get(table), key)
    if span is None or not found:
        return None
    return span, found, marks(result, span[1])


def component_charts(result: dict[str, Any]) -> list[Chart]:
    found = _per_name(result, "components", "component")
    if found is None:
        return []
    span, components, windows = found
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


def queue_charts(result: dict[str, Any]) -> list[Chart]:
    """Per subscription: messages waiting (backlog) and how long the oldest has waited."""
    found = _per_name(result, "queues", "subscription")
    if found is None:
        return []
    span, queues, windows = found
    charts = []
    for column, title, unit, scale in (
            ("backlog", "queue backlog: messages not yet settled at the end of each interval",
             "messages", 1.0),
            ("oldest_age_s", "queue lag: how long the oldest unsettled message has waited",
             "s", 1.0),
            ("published_rps", "messages published and delivered per second", "rps", 1.0)):
        series = _series(queues, column, scale=scale)
        if column == "published_rps":
            series = [Series(f"{s.name} published", s.xs, s.ys, s.colour) for s in series] + [
                Series(f"{s.name} delivered", s.xs, s.ys, colour(i + len(series)))
                for i, s in enumerate(_series(queues, "delivered_rps"))]
        if series:
            charts.append(Chart(title, line_chart(title, unit, series, span, windows)))
    return charts


# A call's series (docs/results.md, `calls.csv`): what each line of its chart shows.
CALL_LINES = (("attempts_rps", "attempts", 0), ("retries_rps", "retries", 1),
              ("refused_here_rps", "refused in the caller", 3),
              ("timeouts_rps", "timed out", 4), ("fallbacks_rps", "fell back", 5))


def call_charts(result: dict[str, Any]) -> list[Chart]:
    """Per call edge that retried, hedged, refused in the caller, timed out or fell back:
    its attempts over time with those parts of them, so a retry storm or a breaker's
    openings show when they happened, not only as the run's totals."""
    found = _per_name(result, "calls", "call")
    if found is None:
        return []
    span, calls, windows = found
    charts = []
    for name, columns in calls.items():
        parts = [Series(label, columns["t_s"], columns[column], colour(index))
                 for column, label, index in CALL_LINES
                 if column == "attempts_rps" or any(columns[column])]
        if len(parts) == 1:
            continue  # attempts alone: the edge did nothing but call, as the totals say
        title = f"{name.replace('->', ' → ')}: attempts per second"
        charts.append(Chart(title, line_chart(title, "rps", parts, span, windows)))
    return charts
