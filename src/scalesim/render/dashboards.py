"""The report's resilience dashboards: what breakers, retries, hedges, bulkheads, limiters and
health checks did, from the result's calls, components, events and breaker series."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from scalesim.render.charts import Bar, bar_chart, colour, state_strip
from scalesim.render.downsample import means
from scalesim.render.series import split, time_span

FAILED, WARN, OK = "#d9534f", "#e0a030", "#2a9d58"


@dataclass(frozen=True)
class Breaker:
    call: str
    strip: Markup | None
    transitions: list[tuple[str, int]]  # ("closed → open", count)
    not_permitted: int
    attempts: int
    failure_share: float | None
    failures: list[tuple[str, int]]
    fallbacks: int
    degraded: int


def edge(call: dict[str, Any]) -> str:
    return f"{call['from']} → {call['to']}"


def breakers(result: dict[str, Any]) -> list[Breaker]:
    """One dashboard per call with a breaker. Failure share counts attempts the breaker let
    through that failed; refusals (not permitted) are shown apart, as Resilience4j does."""
    series = split(result.get("timeseries", {}).get("breakers"), "call")
    span = time_span(result)
    out: list[Breaker] = []
    for call in result["calls"]:
        breaker = call.get("circuit_breaker")
        if breaker is None:
            continue
        key = f"{call['from']}->{call['to']}"
        strip = None
        if span is not None and key in series:
            columns = series[key]
            times = columns["t_s"]
            interval = times[1] - times[0] if len(times) > 1 else 1.0
            xs, (opened, half) = means(times, [columns["open_share"],
                                               columns["half_open_share"]])
            strip = state_strip(f"breaker state of {edge(call)}", xs, opened, half, span,
                                [(t["t_s"], t["to"]) for t in breaker["transitions"]],
                                interval)
        failures = {cause: n for cause, n in call["attempt_failures_by_cause"].items()
                    if n and cause != "circuit_open"}
        admitted = call["attempts"] - breaker["not_permitted"]
        counts = Counter(f"{t['from']} → {t['to']}".replace("_", "-")
                         for t in breaker["transitions"])
        out.append(Breaker(edge(call), strip, sorted(counts.items()), breaker["not_permitted"],
                           admitted, sum(failures.values()) / admitted if admitted else None,
                           sorted(failures.items()), call["fallbacks"], call.get("degraded", 0)))
    return out


def amplification(result: dict[str, Any]) -> Markup | None:
    """Attempts per original call on every edge that retried or hedged."""
    bars = [Bar(edge(c), c["amplification"] or 1.0,
                f"×{c['amplification'] or 1.0:.2f} ({c['retries']:,} retries, "
                f"{c['hedges']:,} hedges)",
                FAILED if (c["amplification"] or 1) >= 2 else WARN if (
                    c["amplification"] or 1) > 1.1 else OK)
            for c in result["calls"] if c["retries"] or c["hedges"]]
    return bar_chart("attempts per original call", bars) if bars else None


def bulkheads(result: dict[str, Any]) -> Markup | None:
    bars = [Bar(edge(c), c["bulkhead"]["max_active"] / c["bulkhead"]["limit"],
                f"peak {c['bulkhead']['max_active']} of {c['bulkhead']['limit']}, "
                f"{c['bulkhead']['rejected']:,} rejected",
                FAILED if c["bulkhead"]["rejected"] else OK)
            for c in result["calls"] if "bulkhead" in c and c["bulkhead"]["limit"]]
    return bar_chart("peak bulkhead occupancy", bars) if bars else None


def refusals(result: dict[str, Any]) -> Markup | None:
    """Visits turned away at a component's door, by cause (limiter, shedding, pool, …)."""
    bars = [Bar(f"{name}: {cause.replace('_', ' ')}", n, f"{n:,}", colour(index))
            for name, comp in result["components"].items()
            for index, (cause, n) in enumerate(comp["refused_by_cause"].items()) if n]
    return bar_chart("visits refused", bars) if bars else None


def causes(result: dict[str, Any]) -> Markup | None:
    """Failed requests by cause, system-wide."""
    total = result["requests"]["total"] or 1
    bars = [Bar(cause.replace("_", " "), n, f"{n:,} ({n / total * 100:.2f}%)", FAILED)
            for cause, n in result["requests"]["failed_by_cause"].items() if n]
    return bar_chart("failed requests by cause", bars) if bars else None


@dataclass(frozen=True)
class EventSummary:
    component: str
    event: str
    count: int
    first_s: float
    last_s: float


def events(result: dict[str, Any]) -> list[EventSummary]:
    """Ejections, restarts and readiness changes per component, counted."""
    grouped: dict[tuple[str, str], list[float]] = {}
    for item in result.get("events", []):
        grouped.setdefault((item["component"], item["event"]), []).append(item["t_s"])
    return [EventSummary(comp, what.replace("_", " "), len(times), min(times), max(times))
            for (comp, what), times in sorted(grouped.items())]
