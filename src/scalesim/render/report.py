"""The HTML report of a run: one self-contained file (inline CSS and SVG, no scripts, nothing
fetched) that opens offline and stays small however long the run: series are downsampled
and only a few sampled traces per kind are drawn."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

from scalesim.diagnosis.context import SHOWN_UNEVEN, uneven
from scalesim.render import control, dashboards, graphviz
from scalesim.render.data_tables import data_views
from scalesim.render.dot import to_dot
from scalesim.render.graph import (
    Architecture,
    ColorBy,
    architecture,
    architecture_from_result,
    component_error_rate,
    overlay,
    own_latency,
)
from scalesim.render.html import render_page
from scalesim.render.timecharts import (
    call_charts,
    component_charts,
    queue_charts,
    workload_charts,
)
from scalesim.render.waterfall import Overlap, overlap, waterfall
from scalesim.spec import System

TRACES_PER_KIND = 3
TRACE_KINDS = ("typical", "slowest", "failed")


@dataclass(frozen=True)
class TraceView:
    trace: dict[str, Any]
    overlap: Overlap
    svg: Markup


def base_architecture(result: dict[str, Any], system: System | None) -> Architecture:
    return architecture(system) if system is not None else architecture_from_result(result)


def diagram(arch: Architecture, result: dict[str, Any], color_by: ColorBy) -> Markup | None:
    """The architecture coloured by what happened, as inline SVG that shrinks to the page
    no further than its text stays legible; None without Graphviz, or when its layout
    fails or takes too long."""
    if not graphviz.available():
        return None
    try:
        return Markup(graphviz.legible(graphviz.inline_svg(to_dot(overlay(arch, result,
                                                                          color_by)))))
    except graphviz.GraphvizError:
        return None


def traces(result: dict[str, Any], per_kind: int = TRACES_PER_KIND) -> dict[str, list[TraceView]]:
    """Per workload, up to `per_kind` traces of each kind (typical, slowest, failed)."""
    out: dict[str, list[TraceView]] = {}
    for kind in TRACE_KINDS:
        for workload in result["workloads"]:
            chosen = [t for t in result.get("traces", [])
                      if t["workload"] == workload and t["kind"] == kind][:per_kind]
            out.setdefault(workload, []).extend(TraceView(t, overlap(t), waterfall(t))
                                                for t in chosen)
    return {name: views for name, views in out.items() if views}


def data(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The data tables (queues, sagas, outboxes, event stores; replication, elections,
    caches) as the terminal draws them: a title, (header, right-aligned) pairs, and rows of
    (text, right-aligned) cells."""
    return [{"title": title,
             "headers": [(column.header, column.right) for column in columns],
             "rows": [[(cell if isinstance(cell, str) else cell.plain, column.right)
                       for cell, column in zip(row, columns, strict=True)] for row in rows]}
            for title, columns, rows in data_views(result)]


def context(result: dict[str, Any], system: System | None) -> dict[str, Any]:
    """Everything the report template shows, computed once here."""
    arch = base_architecture(result, system)
    errors = {name: component_error_rate(comp) for name, comp in result["components"].items()}
    return {
        "r": result,
        "description": system.description if system is not None else None,
        "spec_known": system is not None,
        "warmup_s": system.simulation.warmup if system is not None else None,
        "causes": dashboards.causes(result),
        "workload_charts": workload_charts(result),
        "component_charts": component_charts(result),
        "queue_charts": queue_charts(result),
        "call_charts": call_charts(result),
        "has_series": "timeseries" in result,
        "diagram": diagram(arch, result, ColorBy.UTILIZATION),
        "error_diagram": (diagram(arch, result, ColorBy.ERRORS)
                          if any(errors.values()) else None),
        "component_errors": errors,
        "own_latency": {name: own_latency(comp) for name, comp in result["components"].items()},
        "busiest": {name: found for name, comp in result["components"].items()
                    if (found := uneven(comp, SHOWN_UNEVEN)) is not None},
        "breakers": dashboards.breakers(result),
        "amplification": dashboards.amplification(result),
        "bulkheads": dashboards.bulkheads(result),
        "refusals": dashboards.refusals(result),
        "events": dashboards.events(result),
        "scaling": control.scaling(result),
        "rollouts": control.rollouts(result),
        "data": data(result),
        "election_events": {name: entry["events"]
                            for name, entry in result.get("elections", {}).items()
                            if entry.get("events")},
        "traces": traces(result),
    }


def render_report(result: dict[str, Any], system: System | None) -> str:
    return render_page("report.html.j2", **context(result, system))


def write_report(result: dict[str, Any], system: System | None, path: Path) -> None:
    """Write the report of `result` (with `timeseries` for the charts over time); `system`
    adds the spec's view of the architecture (entry points, policies) and the description."""
    path.write_text(render_report(result, system), encoding="utf-8")
