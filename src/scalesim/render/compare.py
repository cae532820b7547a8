"""Two runs side by side: a verdict, metric deltas with a direction (better, worse, same),
overlaid time series, and both architectures.

Variants should be run with the same seed: ScaleSim's random streams are keyed by the seed
and the names of what draws, so the parts the two designs share draw the same numbers
(common random numbers) and a difference comes from the change, not from luck.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

from markupsafe import Markup
from rich.console import Console
from rich.text import Text

from scalesim.render.charts import Series, line_chart
from scalesim.render.graph import ColorBy
from scalesim.render.html import render_page
from scalesim.render.layout import Cell, Column, fitted
from scalesim.render.report import base_architecture, diagram
from scalesim.render.series import split, time_span
from scalesim.render.timecharts import Chart, marks
from scalesim.spec import System

Better = Literal["higher", "lower"] | None
Interval = tuple[float, float]
SAME_WITHIN = 0.01  # relative change below which two numbers count as the same
A_COLOUR, B_COLOUR = "#8a8f98", "#3366cc"


@dataclass(frozen=True)
class Delta:
    scope: str
    metric: str
    a: float | None
    b: float | None
    better: Better
    # the 95 % intervals of both sides, where both runs had several replications
    a_ci: Interval | None = None
    b_ci: Interval | None = None

    @property
    def has_intervals(self) -> bool:
        """Both sides have 95 % intervals: they, not the 1 % rule, judge the difference."""
        return self.a_ci is not None and self.b_ci is not None

    @property
    def within_noise(self) -> bool:
        """Both sides have intervals and they overlap: the difference may be chance."""
        if self.a_ci is None or self.b_ci is None:
            return False
        return self.a_ci[0] <= self.b_ci[1] and self.b_ci[0] <= self.a_ci[1]

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
        """better / worse / same, or changed (no preferred direction) / n/a. With intervals
        on both sides, disjoint ones are a difference and overlapping ones are not; without,
        a change under SAME_WITHIN is the same."""
        change, relative = self.change, self.relative
        if change is None:
            return "n/a"
        if abs(change) < 1e-12 or self.within_noise or (
                not self.has_intervals and relative is not None
                and abs(relative) < SAME_WITHIN):
            return "same"
        if self.better is None:
            return "changed"
        return "better" if (change > 0) == (self.better == "higher") else "worse"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "change": self.change, "relative": self.relative,
                "within_noise": self.within_noise, "verdict": self.verdict}


LATENCY = ("p50", "p95", "p99", "p999")


def _refused(component: dict[str, Any]) -> float:
    return float(sum(component["refused_by_cause"].values()))


def _ci(result: dict[str, Any], metric: str) -> Interval | None:
    """A system metric's 95 % interval (`ci95`, with several replications), if it has one."""
    ci = result.get("ci95")
    if ci is None:
        return None
    bounds = ci["latency_ms"].get(metric[len("latency_"):-len("_ms")]) \
        if metric.startswith("latency_") else ci.get(metric)
    if not bounds or bounds[0] is None or bounds[1] is None:
        return None
    return (float(bounds[0]), float(bounds[1]))


def window_s(result: dict[str, Any]) -> float:
    """Seconds of measured window the result's counts pool: the window times replications."""
    return float(result["simulated_s"]) * int(result.get("replications", 1))


@dataclass(frozen=True)
class Counts:
    """How two runs' counts are compared: as they are when both pooled the same window,
    else per second of window (a run twice as long fails twice as often at the same rate)."""

    a_s: float
    b_s: float

    @property
    def as_rates(self) -> bool:
        return self.a_s != self.b_s

    def delta(self, scope: str, metric: str, a: float, b: float, better: Better) -> Delta:
        if not self.as_rates:
            return Delta(scope, metric, a, b, better)
        return Delta(scope, f"{metric}_per_s", a / self.a_s, b / self.b_s, better)


def _system(a: dict[str, Any], b: dict[str, Any], metric: str, value_a: float | None,
            value_b: float | None, better: Better) -> Delta:
    return Delta("system", metric, value_a, value_b, better, _ci(a, metric), _ci(b, metric))


def deltas(a: dict[str, Any], b: dict[str, Any]) -> list[Delta]:
    """System-wide numbers first, then per workload, component, call and queue subscription
    present in both. A system number whose 95 % intervals overlap (both runs replicated) is
    the same. Counts are compared per second of window when the windows differ."""
    counts = Counts(window_s(a), window_s(b))
    out = [_system(a, b, "throughput_rps", a["throughput_rps"], b["throughput_rps"], None),
           _system(a, b, "goodput_rps", a["goodput_rps"], b["goodput_rps"], "higher"),
           _system(a, b, "error_rate", a["error_rate"], b["error_rate"], "lower")]
    out += [_system(a, b, f"latency_{p}_ms", a["latency_ms"].get(p), b["latency_ms"].get(p),
                    "lower") for p in (*LATENCY, "mean")]
    for name in a["workloads"].keys() & b["workloads"].keys():
        wa, wb = a["workloads"][name], b["workloads"][name]
        out.append(Delta(f"workload {name}", "goodput_rps", wa["goodput_rps"],
                         wb["goodput_rps"], "higher"))
        out.append(counts.delta(f"workload {name}", "failed", wa["requests"]["failed"],
                                wb["requests"]["failed"], "lower"))
        # Degraded is a trade-off, not a loss: a fallback's answer instead of a failure or a
        # wait (better), or instead of a full answer (worse). No direction is assumed.
        out.append(counts.delta(f"workload {name}", "degraded",
                                wa["requests"].get("degraded", 0),
                                wb["requests"].get("degraded", 0), None))
        out += [Delta(f"workload {name}", f"latency_{p}_ms", wa["latency_ms"].get(p),
                      wb["latency_ms"].get(p), "lower") for p in ("p50", "p99")]
    for name in a["components"].keys() & b["components"].keys():
        ca, cb = a["components"][name], b["components"][name]
        scope = f"component {name}"
        out += [Delta(scope, "utilization", ca["utilization"], cb["utilization"], None),
                Delta(scope, "queue_mean", ca["queue_mean"], cb["queue_mean"], "lower"),
                counts.delta(scope, "refused", _refused(ca), _refused(cb), "lower"),
                Delta(scope, "latency_p99_ms", ca["latency_ms"].get("p99"),
                      cb["latency_ms"].get("p99"), "lower")]
    calls_b = {(c["from"], c["to"]): c for c in b["calls"]}
    for call in a["calls"]:
        other = calls_b.get((call["from"], call["to"]))
        if other is not None:
            scope = f"call {call['from']} → {call['to']}"
            # A failed call its fallback answered is the design working: only calls that
            # stayed failed count against it; fallbacks are shown without a direction.
            out += [Delta(scope, "amplification", call["amplification"],
                          other["amplification"], "lower"),
                    counts.delta(scope, "failed_unrecovered", call["failed"] - call["fallbacks"],
                                 other["failed"] - other["fallbacks"], "lower"),
                    counts.delta(scope, "fallbacks", call["fallbacks"], other["fallbacks"],
                                 None)]
    out += _queue_lags(a, b)
    order = ("system", "workload", "component", "call", "queue")
    return _shared_intervals(sorted(out, key=lambda d: (order.index(d.scope.split(" ", 1)[0]),
                                                        d.scope)))


def _shared_intervals(rows: list[Delta]) -> list[Delta]:
    """A row without intervals that shows the same metric with the same numbers as a system
    row with them (one workload's p99 is the system's) takes those intervals: one
    measurement, judged one way wherever it appears."""
    known = {(d.metric, d.a, d.b): (d.a_ci, d.b_ci) for d in rows
             if d.scope == "system" and d.has_intervals}
    return [replace(d, a_ci=known[key][0], b_ci=known[key][1])
            if not d.has_intervals and (key := (d.metric, d.a, d.b)) in known else d
            for d in rows]


def _queue_lags(a: dict[str, Any], b: dict[str, Any]) -> list[Delta]:
    """Per queue subscription in both, the lag from publication to processing (p50, p99)."""
    queues_a, queues_b = a.get("queues", {}), b.get("queues", {})
    return [Delta(f"queue {name}", f"lag_{p}_ms", queues_a[name]["lag_ms"].get(p),
                  queues_b[name]["lag_ms"].get(p), "lower")
            for name in queues_a.keys() & queues_b.keys() for p in ("p50", "p99")]


# What decides which design is better, in order of weight: the SLO, then these.
# (latency by the numbers `ci95` gives intervals for, so replicated runs judge each by them)
DECIDING = (("goodput_rps", "goodput"), ("error_rate", "error rate"),
            ("latency_p99_ms", "p99 latency"), ("latency_p50_ms", "p50 latency"),
            ("latency_mean_ms", "mean latency"))


@dataclass(frozen=True)
class Verdict:
    better: Literal["a", "b"] | None  # None: mixed, or no meaningful difference
    summary: str
    reasons: tuple[str, ...]


SHARES = ("error_rate", "utilization")  # shown in %, their changes in percentage points


def shown(metric: str, value: float | None, signed: bool = False) -> str:
    """A compared number as the rest of the output shows it: shares in %, counts with
    thousands separators, the metric's unit; `signed` for a change (shares in points)."""
    if value is None:
        return "—"
    if metric in SHARES:
        return f"{value * 100:{'+' if signed else ''}.2f} {'pp' if signed else '%'}"
    return _figure(value, signed) + (" ms" if metric.endswith("_ms") else " rps"
                                     if metric.endswith("_rps") else "/s"
                                     if metric.endswith("_per_s") else "")


def _figure(value: float, signed: bool) -> str:
    """About four significant digits, never in scientific notation: 89,650, 37.44, 0.3985."""
    sign = "+" if signed else ""
    if value == 0 or abs(value) >= 1000:
        return f"{value:{sign},.0f}"
    decimals = min(6, 3 - math.floor(math.log10(abs(value))))
    return f"{value:{sign}.{decimals}f}".rstrip("0").rstrip(".")


def verdict(a: dict[str, Any], b: dict[str, Any],
            labels: tuple[str, str] = ("A", "B")) -> Verdict:
    """Which design does better where it matters: the SLO if only one meets it, else
    goodput, error rate and latency (B better if none is worse and one is better). Runs of
    different seeds share no random numbers, so a number there decides only by intervals
    on both sides; without them its difference is what the seeds alone may give. Degraded
    answers are reported as the trade-off they are, never as a loss."""
    system = {d.metric: d for d in deltas(a, b) if d.scope == "system"}
    crn = a["seed"] == b["seed"]
    deciding = [(text, system[metric]) for metric, text in DECIDING]
    reasons = [_reason(text, d, crn) for text, d in deciding if d.verdict in ("better", "worse")]
    verdicts = {d.verdict for _, d in deciding if crn or d.has_intervals}
    seeds_only = any(d.verdict in ("better", "worse") and not d.has_intervals and not crn
                     for _, d in deciding)
    slo_a, slo_b = a.get("slo", {}).get("met"), b.get("slo", {}).get("met")
    better: Literal["a", "b"] | None
    if slo_a is not None and slo_b is not None and slo_a != slo_b:
        better = "b" if slo_b else "a"
        reasons.insert(0, f"only {labels[0] if better == 'a' else labels[1]} meets its SLO")
    elif "better" in verdicts and "worse" not in verdicts:
        better = "b"
    elif "worse" in verdicts and "better" not in verdicts:
        better = "a"
    else:
        better = None
    for label, result in zip(labels, (a, b), strict=True):
        requests = result["requests"]
        degraded = requests.get("degraded", 0)
        if degraded and requests["total"]:
            reasons.append(f"trade-off: {label} answers {degraded / requests['total']:.1%} of "
                           "requests degraded, from a fallback (by design: an answer instead "
                           "of a failure or a wait)")
    return Verdict(better, _summary(better, verdicts, seeds_only, labels), tuple(reasons))


def _summary(better: Literal["a", "b"] | None, verdicts: set[str], seeds_only: bool,
             labels: tuple[str, str]) -> str:
    """The verdict's headline, from the deciding numbers that count."""
    if better is not None:
        winner, loser = (labels[1], labels[0]) if better == "b" else (labels[0], labels[1])
        return f"{winner} is better than {loser}"
    if not verdicts <= {"same", "n/a", "changed"}:
        return f"mixed: neither {labels[0]} nor {labels[1]} is better on everything"
    if seeds_only:
        return ("no difference beyond what different seeds alone can give: rerun both with "
                "one seed, or both with replications (-r) for intervals")
    return "no meaningful difference"


def _reason(text: str, d: Delta, crn: bool) -> str:
    """A deciding number that differs: 'mean latency 22.63 ms → 26.87 ms (worse, 95 %
    intervals disjoint)'; without intervals and with different seeds, not a difference the
    verdict counts."""
    basis = ", 95 % intervals disjoint" if d.has_intervals else "" if crn else \
        "; the seeds differ and there are no intervals on both sides: the seeds alone can " \
        "give this"
    return f"{text} {shown(d.metric, d.a)} → {shown(d.metric, d.b)} ({d.verdict}{basis})"


def cautions(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """What makes the two runs less comparable than they look: different seeds (the change
    is mixed with sampling noise) and different windows (counts compared per second)."""
    out = []
    if a["seed"] != b["seed"]:
        out.append(f"The runs used different seeds ({a['seed']} and {b['seed']}): differences "
                   "mix the change with sampling noise. Compare with the same seed, or with "
                   "replications.")
    if window_s(a) != window_s(b):
        out.append(f"The runs measured different windows ({window_s(a):g} s and "
                   f"{window_s(b):g} s, replications included): counts (failed, degraded, "
                   "refused, failed_unrecovered, fallbacks) are compared per second of window, "
                   "as *_per_s.")
    return out


def print_comparison(a: dict[str, Any], b: dict[str, Any], labels: tuple[str, str],
                     console: Console | None = None) -> None:
    """The verdict, its reasons and every number that differs, for the terminal."""
    console = console or Console()
    judged = verdict(a, b, labels)
    for caution in cautions(a, b):
        console.print(Text(f"warning: {caution}", style="yellow"))
    console.print(Text(judged.summary, style="bold green" if judged.better else "bold"))
    for reason in judged.reasons:
        console.print(f"  - {reason}", highlight=False)
    replicated = "ci95" in a and "ci95" in b
    compared = deltas(a, b)
    rows: list[list[Cell]] = []
    for d in compared:
        if d.verdict in ("same", "n/a"):
            continue
        style = "green" if d.verdict == "better" else "red" if d.verdict == "worse" else ""
        unsure = " (no CI)" if replicated and not d.has_intervals else ""
        rows.append([d.scope, d.metric, shown(d.metric, d.a), shown(d.metric, d.b),
                     _change(d), Text(d.verdict + unsure, style=style)])
    noise = noise_text(a, b)
    if rows:
        console.print(fitted(f"What differs ({noise})", [
            Column("scope", right=False), Column("metric", right=False), Column(labels[0]),
            Column(labels[1]), Column("change"), Column("verdict", right=False)], rows,
            console.width))
    else:
        console.print(f"Nothing differs by {SAME_WITHIN:.0%} or more ({noise}).")
    noisy = [f"{d.scope} {d.metric} {shown(d.metric, d.a)} → {shown(d.metric, d.b)}"
             for d in compared if d.within_noise and d.change]
    if noisy:
        console.print(f"Within noise (95 % intervals overlap): {'; '.join(noisy)}.",
                      highlight=False)


def noise_text(a: dict[str, Any], b: dict[str, Any]) -> str:
    """How the rows are judged: by their 95 % intervals where both runs have them, else by a
    change of 1 % or more."""
    if a.get("replications", 1) == 1 and b.get("replications", 1) == 1:
        return ("one replication each: a difference of a few per cent can be chance; -r 5 "
                "gives intervals, and numbers whose intervals overlap count as the same")
    return ("numbers whose 95 % intervals overlap count as the same, disjoint ones differ; "
            "a row marked no CI has none and differs by 1 % or more")


def _change(d: Delta) -> str:
    """A row's change as the page shows it: a share's in percentage points (86.86 % ->
    69.52 % is -17.34 pp, not -20.0 %), any other number's relative to A."""
    if d.metric in SHARES:
        return shown(d.metric, d.change, signed=True)
    return "—" if d.relative is None else f"{d.relative * 100:+.1f}%"


def comparison(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The machine-readable comparison (`scalesim compare --json`)."""
    judged = verdict(a, b)
    return {"a": {"system": a["system"], "seed": a["seed"],
                  "replications": a.get("replications", 1), "window_s": window_s(a)},
            "b": {"system": b["system"], "seed": b["seed"],
                  "replications": b.get("replications", 1), "window_s": window_s(b)},
            "common_random_numbers": a["seed"] == b["seed"],
            "counts_per_s": window_s(a) != window_s(b),
            "cautions": cautions(a, b),
            "slo_met": {"a": a.get("slo", {}).get("met"), "b": b.get("slo", {}).get("met")},
            "verdict": {"better": judged.better, "summary": judged.summary,
                        "reasons": list(judged.reasons)},
            "deltas": [d.to_json() for d in deltas(a, b)]}


def overlaid(a: dict[str, Any], b: dict[str, Any], labels: tuple[str, str]) -> list[Chart]:
    """Per workload both runs' goodput and p99 on one chart each (A grey, B blue)."""
    spans = [s for s in (time_span(a), time_span(b)) if s is not None]
    if len(spans) < 2:
        return []
    span = (min(s[0] for s in spans), max(s[1] for s in spans))
    wa = split(a["timeseries"]["workloads"], "workload")
    wb = split(b["timeseries"]["workloads"], "workload")
    windows = marks(a, span[1]) + marks(b, span[1])
    charts = []
    for name in [n for n in wa if n in wb]:
        for column, unit, title in (("goodput_rps", "rps", "goodput"),
                                    ("p99_ms", "ms", "p99 latency")):
            # "A · " first: a legend short of room elides the middle of a long label
            series = [Series(f"A · {labels[0]}", wa[name]["t_s"], wa[name][column], A_COLOUR),
                      Series(f"B · {labels[1]}", wb[name]["t_s"], wb[name][column], B_COLOUR)]
            text = f"{name}: {title}"
            charts.append(Chart(text, line_chart(text, unit, series, span, windows)))
    return charts


def render_compare(a: dict[str, Any], b: dict[str, Any], systems: tuple[System | None,
                   System | None], labels: tuple[str, str]) -> str:
    diagrams: list[Markup | None] = [
        diagram(base_architecture(result, system), result, ColorBy.UTILIZATION)
        for result, system in zip((a, b), systems, strict=True)]
    return render_page("compare.html.j2", a=a, b=b, labels=labels, deltas=deltas(a, b),
                       shown=shown,
                       crn=a["seed"] == b["seed"], cautions=cautions(a, b),
                       noise=noise_text(a, b), replicated="ci95" in a and "ci95" in b,
                       deciding=", ".join(label for _, label in DECIDING),
                       charts=overlaid(a, b, labels),
                       diagrams=diagrams, verdict=verdict(a, b, labels))


def write_compare(a: dict[str, Any], b: dict[str, Any], path: Path,
                  systems: tuple[System | None, System | None] = (None, None),
                  labels: tuple[str, str] = ("A", "B")) -> None:
    path.write_text(render_compare(a, b, systems, labels), encoding="utf-8")
