"""The report's control-loop charts: per scaled component its replicas over time against the
load it served and the latency users saw, and per rollout a timeline of the new version's
traffic share with its analysis measurements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from scalesim.render.charts import Series, Window, colour, line_chart
from scalesim.render.series import split, time_span

STATE_COLUMNS = ("ready", "starting", "pending", "terminating")


@dataclass(frozen=True)
class ScalingView:
    component: str
    charts: list[tuple[str, Markup]]  # (caption, svg): replicas, load, latency


@dataclass(frozen=True)
class RolloutView:
    rollout: dict[str, Any]
    chart: Markup | None
    failures: int


def _steps(points: list[tuple[float, float]], end: float) -> tuple[list[float], list[float | None]]:
    """A step function (the value holds until the next change) as line points."""
    xs: list[float] = []
    ys: list[float | None] = []
    for index, (t, value) in enumerate(points):
        nxt = points[index + 1][0] if index + 1 < len(points) else end
        xs += [t, nxt]
        ys += [value, value]
    return xs, ys


def scaling(result: dict[str, Any]) -> list[ScalingView]:
    span = time_span(result)
    table = result.get("timeseries", {}).get("replicas")
    if span is None or not table:
        return []
    per_component: dict[str, dict[str, dict[str, list[Any]]]] = {}
    for row in table["rows"]:
        columns = table["columns"]
        record = dict(zip(columns, row, strict=True))
        versions = per_component.setdefault(record["component"], {})
        entry = versions.setdefault(record["version"], {c: [] for c in columns})
        for column in columns:
            entry[column].append(record[column])
    components = split(result["timeseries"].get("components"), "component")
    workloads = split(result["timeseries"].get("workloads"), "workload")
    windows = _rollout_windows(result, span[1])
    views = []
    for name, versions in per_component.items():
        replicas: list[Series] = []
        for v_index, (version, columns) in enumerate(versions.items()):
            label = "" if len(versions) == 1 else f"{version} "
            for s_index, state in enumerate(STATE_COLUMNS):
                if any(columns[state]):
                    replicas.append(Series(f"{label}{state}", columns["t_s"], columns[state],
                                           colour(v_index * len(STATE_COLUMNS) + s_index)))
        charts = [(f"{name}: replicas ready, starting, pending and terminating",
                   line_chart(f"{name}: replicas", "replicas", replicas, span, windows))]
        if name in components:
            columns = components[name]
            load = [Series("visits finished", columns["t_s"], columns["throughput_rps"],
                           colour(0))]
            charts.append((f"{name}: load it served",
                           line_chart(f"{name}: load", "rps", load, span, windows)))
        latency = [Series(f"{w} p99", columns["t_s"], columns["p99_ms"], colour(i))
                   for i, (w, columns) in enumerate(workloads.items())]
        if latency:
            charts.append(("p99 latency users saw",
                           line_chart("end-to-end p99", "ms", latency, span, windows)))
        views.append(ScalingView(name, charts))
    return views


def _rollout_window(rollout: dict[str, Any], end: float) -> list[Window]:
    """The span a rollout ran (to the end of the run if it never ended), shaded blue."""
    if rollout["started_s"] is None:
        return []
    return [Window(rollout["started_s"], rollout["ended_s"] if rollout["ended_s"] is not None
                   else end, f"rollout of {rollout['component']} to {rollout['to']}: "
                   f"{rollout['outcome']}", "rollout", "rollout")]


def _rollout_windows(result: dict[str, Any], end: float) -> list[Window]:
    return [w for r in result.get("rollouts", []) for w in _rollout_window(r, end)]


def rollouts(result: dict[str, Any]) -> list[RolloutView]:
    span = time_span(result)
    views = []
    for rollout in result.get("rollouts", []):
        failures = sum(1 for a in rollout["analysis"] if a["phase"] in ("failed", "error"))
        chart = None
        if span is not None and rollout["steps"]:
            xs, ys = _steps([(s["t_s"], s["weight"]) for s in rollout["steps"]], span[1])
            series = [Series(f"{rollout['to']} share of traffic", xs, ys, colour(1))]
            marks = _rollout_window(rollout, span[1]) + [
                Window(a["t_s"] - 0.25, a["t_s"] + 0.25,
                       f"{a['run']} analysis at {a['t_s']:g} s: {a['metric']} = "
                       f"{a['value']} {a['unit']} → {a['phase']}", "check", "failed analysis")
                for a in rollout["analysis"] if a["phase"] in ("failed", "error")]
            chart = line_chart(f"rollout of {rollout['component']} to {rollout['to']}",
                               "% traffic", series, span, marks, 100.0)
        views.append(RolloutView(rollout, chart, failures))
    return views
