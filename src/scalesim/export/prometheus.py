"""A result's final numbers in the Prometheus text exposition format (0.0.4) or OpenMetrics
1.0: HELP and TYPE per family, counters named `_total`, latency as a summary in seconds,
label values escaped. No timestamps: a simulated run has no wall-clock time of its own."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

PREFIX = "scalesim"
QUANTILES = (("p50", "0.5"), ("p90", "0.9"), ("p95", "0.95"), ("p99", "0.99"),
             ("p999", "0.999"))
Labels = tuple[tuple[str, str], ...]


@dataclass
class Family:
    name: str  # without _total for counters
    type: str  # counter, gauge, summary
    help: str
    samples: list[tuple[str, Labels, float]] = field(default_factory=list)

    def add(self, value: float | int | None, suffix: str = "", **labels: str) -> None:
        if value is not None:
            self.samples.append((suffix, tuple(labels.items()), float(value)))


def escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def families(result: dict[str, Any]) -> list[Family]:
    """What a run measured, by workload, component and call edge."""
    requests = Family("requests", "counter", "Requests sent in the window, by outcome.")
    degraded = Family("requests_degraded", "counter",
                      "Successful requests answered in part by a fallback.")
    latency = Family("request_duration_seconds", "summary",
                     "End-to-end latency of successful requests.")
    throughput = Family("throughput_rps", "gauge", "Requests answered per second of window.")
    goodput = Family("goodput_rps", "gauge", "Successful requests per second of window.")
    for name, wl in result["workloads"].items():
        requests.add(wl["requests"]["ok"], workload=name, outcome="ok")
        degraded.add(wl["requests"].get("degraded", 0), workload=name)
        for cause, n in wl["requests"]["failed_by_cause"].items():
            requests.add(n, workload=name, outcome=cause)
        for key, quantile in QUANTILES:
            value = wl["latency_ms"].get(key)
            latency.add(None if value is None else value / 1e3, workload=name,
                        quantile=quantile)
        mean = wl["latency_ms"].get("mean")
        ok = wl["requests"]["ok"]
        latency.add(mean * ok / 1e3 if mean is not None else 0.0, "_sum", workload=name)
        latency.add(ok, "_count", workload=name)
        throughput.add(wl["throughput_rps"], workload=name)
        goodput.add(wl["goodput_rps"], workload=name)
    util = Family("component_utilization_ratio", "gauge",
                  "Time-average share of a component's workers occupied.")
    queue = Family("component_queue_mean", "gauge", "Time-average requests waiting.")
    visits = Family("component_throughput_rps", "gauge", "Visits finished per second.")
    refused = Family("component_refused", "counter", "Visits refused at the door, by cause.")
    for name, comp in result["components"].items():
        util.add(comp["utilization"], component=name)
        queue.add(comp["queue_mean"], component=name)
        visits.add(comp["throughput_rps"], component=name)
        for cause, n in comp["refused_by_cause"].items():
            refused.add(n, component=name, cause=cause)
    attempts = Family("call_attempts", "counter", "Attempts sent on a call edge.")
    retries = Family("call_retries", "counter", "Retries sent on a call edge.")
    failed = Family("call_failures", "counter", "Calls that failed after all attempts.")
    not_permitted = Family("circuit_breaker_not_permitted", "counter",
                           "Calls a circuit breaker refused.")
    transitions = Family("circuit_breaker_transitions", "counter",
                         "Circuit breaker state transitions.")
    for call in result["calls"]:
        edge = {"caller": call["from"], "callee": call["to"]}
        attempts.add(call["attempts"], **edge)
        retries.add(call["retries"], **edge)
        failed.add(call["failed"], **edge)
        breaker = call.get("circuit_breaker")
        if breaker is not None:
            not_permitted.add(breaker["not_permitted"], **edge)
            counts: dict[tuple[str, str], int] = {}
            for t in breaker["transitions"]:
                counts[(t["from"], t["to"])] = counts.get((t["from"], t["to"]), 0) + 1
            for (source, target), n in sorted(counts.items()):
                transitions.add(n, **edge, from_state=source, to_state=target)
    slo = Family("slo_met", "gauge", "1 when an SLO check was met, else 0.")
    for check in result.get("slo", {}).get("checks", []):
        slo.add(1 if check["met"] else 0, scope=check.get("scope", "all"), check=check["name"])
    return [f for f in (requests, degraded, latency, throughput, goodput, util, queue, visits,
                        refused, attempts, retries, failed, not_permitted, transitions, slo)
            if f.samples]


def _lines(family: Family, system: str, openmetrics: bool) -> Iterator[str]:
    name = f"{PREFIX}_{family.name}"
    counter = family.type == "counter"
    head = name if openmetrics or not counter else f"{name}_total"
    yield f"# HELP {head} {escape_help(family.help)}"
    yield f"# TYPE {head} {family.type}"
    for suffix, labels, value in family.samples:
        labels = (("system", system), *labels)
        text = ",".join(f'{key}="{escape_label(val)}"' for key, val in labels)
        yield f"{name}{'_total' if counter else suffix}{{{text}}} {_number(value)}"


def exposition(result: dict[str, Any], openmetrics: bool = False) -> str:
    """The text a /metrics endpoint would serve after the run."""
    lines = [line for family in families(result)
             for line in _lines(family, result["system"], openmetrics)]
    if openmetrics:
        lines.append("# EOF")
    return "\n".join(lines) + "\n"
