"""Two runs side by side: metric deltas with a direction (better, worse, same), overlaid
time series, and both architectures.

Variants should be run with the same seed: ScaleSim's random streams are keyed by the seed
and the names of what draws, so the parts the two designs share draw the same numbers
(common random numbers) and a difference comes from the change, not from luck.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from markupsafe import Markup

from scalesim.render.charts import Series, line_chart
from scalesim.render.graph import ColorBy
from scalesim.render.html import render_page
from scalesim.render.report import base_architecture, diagram
from scalesim.render.series import split, time_span
from scalesim.render.timecharts import Chart, fault_windows
from scalesim.spec import System

Better = Literal["higher", "lower"] | None
SAME_WITHIN = 0.01  # relative change below which two numbers count as the same
A_COLOUR, B_COLOUR = "#8a8f98", "#3366cc"


@dataclass(frozen=True)
class Delta:
    scope: str
    metric: str
    a: float | None
    b: float | None
    better: Better

    @property
    def change(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a

    @property
    def relative(self) -> float | None:
        change = self.change
        if change is None or self.a is None:
            return None
        return change / abs(self.a) if self.a else (0.0 if change == 0 else None)

    @property
    def verdict(self) -> str:
        """better / worse / same, or changed (no preferred direction) / n/a."""
        change, relative = self.change, self.relative
        if change is None:
            return "n/a"
        if abs(change) < 1e-12 or (relative is not None and abs(relative) < SAME_WITHIN):
            return "same"
        if self.better is None:
            return "changed"
        return "better" if (change > 0) == (self.better == "higher") else "worse"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "change": self.change, "relative": self.relative,
                "verdict": self.verdict}


LATENCY = ("p50", "p95", "p99", "p999")


def _refused(component: dict[str, Any]) -> float:
    return float(sum(component["refused_by_cause"].values()))


def deltas(a: dict[str, Any], b: dict[str, Any]) -> list[Delta]:
    """System-wide numbers first, then per workload, component and call present in both."""
    out = [Delta("system", "throughput_rps", a["throughput_rps"], b["throughput_rps"], None),
           Delta("system", "goodput_rps", a["goodput_rps"], b["goodput_rps"], "higher"),
           Delta("system", "error_rate", a["error_rate"], b["error_rate"], "lower")]
    out += [Delta("system", f"latency_{p}_ms", a["latency_ms"].get(p), b["latency_ms"].get(p),
                  "lower") for p in (*LATENCY, "mean")]
    for name in a["workloads"].keys() & b["workloads"].keys():
        wa, wb = a["workloads"][name], b["workloads"][name]
        out.append(Delta(f"workload {name}", "goodput_rps", wa["goodput_rps"],
                         wb["goodput_rps"], "higher"))
        out.append(Delta(f"workload {name}", "failed", wa["requests"]["failed"],
                         wb["requests"]["failed"], "lower"))
        out += [Delta(f"workload {name}", f"latency_{p}_ms", wa["latency_ms"].get(p),
                      wb["latency_ms"].get(p), "lower") for p in ("p50", "p99")]
    for name in a["components"].keys() & b["components"].keys():
        ca, cb = a["components"][name], b["components"][name]
        scope = f"component {name}"
        out += [Delta(scope, "utilization", ca["utilization"], cb["utilization"], None),
                Delta(scope, "queue_mean", ca["queue_mean"], cb["queue_mean"], "lower"),
                Delta(scope, "refused", _refused(ca), _refused(cb), "lower"),
                Delta(scope, "latency_p99_ms", ca["latency_ms"].get("p99"),
                      cb["latency_ms"].get("p99"), "lower")]
    calls_b = {(c["from"], c["to"]): c for c in b["calls"]}
    for call in a["calls"]:
        other = calls_b.get((call["from"], call["to"]))
        if other is not None:
            scope = f"call {call['from']} → {call['to']}"
            out += [Delta(scope, "amplification", call["amplification"],
                          other["amplification"], "lower"),
                    Delta(scope, "failed", call["failed"], other["failed"], "lower")]
    order = ("system", "workload", "component", "call")
    return sorted(out, key=lambda d: (order.index(d.scope.split(" ", 1)[0]), d.scope))


def comparison(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The machine-readable comparison (`scalesim compare --json`)."""
    return {"a": {"system": a["system"], "seed": a["seed"]},
            "b": {"system": b["system"], "seed": b["seed"]},
            "common_random_numbers": a["seed"] == b["seed"],
            "slo_met": {"a": a.get("slo", {}).get("met"), "b": b.get("slo", {}).get("met")},
            "deltas": [d.to_json() for d in deltas(a, b)]}


def overlaid(a: dict[str, Any], b: dict[str, Any], labels: tuple[str, str]) -> list[Chart]:
    """Per workload both runs' goodput and p99 on one chart each (A grey, B blue)."""
    spans = [s for s in (time_span(a), time_span(b)) if s is not None]
    if len(spans) < 2:
        return []
    span = (min(s[0] for s in spans), max(s[1] for s in spans))
    wa = split(a["timeseries"]["workloads"], "workload")
    wb = split(b["timeseries"]["workloads"], "workload")
    windows = fault_windows(a, span[1]) + fault_windows(b, span[1])
    charts = []
    for name in [n for n in wa if n in wb]:
        for column, unit, title in (("goodput_rps", "rps", "goodput"),
                                    ("p99_ms", "ms", "p99 latency")):
            series = [Series(labels[0], wa[name]["t_s"], wa[name][column], A_COLOUR),
                      Series(labels[1], wb[name]["t_s"], wb[name][column], B_COLOUR)]
            text = f"{name}: {title}"
            charts.append(Chart(text, line_chart(text, unit, series, span, windows)))
    return charts


def render_compare(a: dict[str, Any], b: dict[str, Any], systems: tuple[System | None,
                   System | None], labels: tuple[str, str]) -> str:
    diagrams: list[Markup | None] = [
        diagram(base_architecture(result, system), result, ColorBy.UTILIZATION)
        for result, system in zip((a, b), systems, strict=True)]
    return render_page("compare.html.j2", a=a, b=b, labels=labels, deltas=deltas(a, b),
                       crn=a["seed"] == b["seed"], charts=overlaid(a, b, labels),
                       diagrams=diagrams)


def write_compare(a: dict[str, Any], b: dict[str, Any], path: Path,
                  systems: tuple[System | None, System | None] = (None, None),
                  labels: tuple[str, str] = ("A", "B")) -> None:
    path.write_text(render_compare(a, b, systems, labels), encoding="utf-8")
