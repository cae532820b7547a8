"""The result of a run, as the JSON document described in SPEC.md.

It is built from a `Partial` (see partial.py): replications pooled (counts summed, histograms
merged) in one process or in many; with more than one, `ci95` gives Student-t intervals
computed from the per-replication values. Times (`t_s`, `start_s`) are simulated seconds
since the start of the run, warm-up included.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from scalesim import __version__
from scalesim.sim.control import results as control
from scalesim.sim.data.report import data_results
from scalesim.sim.mechanisms.circuit_breaker import STATE_NAMES
from scalesim.sim.metrics import PERCENTILES, Histogram, combined
from scalesim.sim.partial import CI_METRICS, Partial, Sample, pooled_latency
from scalesim.sim.plan import CAUSE_NAMES, OK
from scalesim.sim.rounded import clean, latency_summary
from scalesim.sim.stats import ci95, possible, quantile_ci95
from scalesim.spec.model import FAULT_EFFECTS, Slo, System

FAILURE_CAUSES = CAUSE_NAMES[1:]
SLO_PERCENTILES = ("mean", "p50", "p90", "p95", "p99", "p999")
REFUSALS = ("rejected", "rate_limited", "shed", "overflow", "unavailable", "crashed")


def _requests(by_cause: list[int]) -> dict[str, Any]:
    failed = sum(by_cause) - by_cause[OK]
    return {"total": sum(by_cause), "ok": by_cause[OK], "failed": failed,
            "failed_by_cause": {name: by_cause[i + 1] for i, name in enumerate(FAILURE_CAUSES)}}


def _rates(sent: int, answered: int, answered_ok: int, span: float) -> dict[str, float | None]:
    """Requests sent, answered and answered ok per second of window. Answers count when they
    arrive in the window (whenever sent), so a backlog answered during the drain does not
    pass for throughput: offered above throughput is an overload."""
    return {"offered_rps": clean(sent / span), "throughput_rps": clean(answered / span),
            "goodput_rps": clean(answered_ok / span)}


def build_result(system: System, seed: int, partial: Partial) -> dict[str, Any]:
    """The result document of the pooled replications in `partial`; it has the first
    replication's time series when they were kept (see `partial_of`)."""
    duration = system.simulation.duration
    runs = partial.replications
    span = duration * runs  # pooled observation time

    workloads: dict[str, Any] = {}
    total_causes = [0] * len(CAUSE_NAMES)
    totals = {"degraded": 0, "drained": 0, "answered": 0, "answered_ok": 0}
    for wl in partial.workloads:
        causes = wl.by_cause
        total_causes = [a + b for a, b in zip(total_causes, causes, strict=True)]
        counts = {"degraded": wl.degraded, "drained": wl.drained, "answered": wl.answered,
                  "answered_ok": wl.answered_ok}
        for key, value in counts.items():
            totals[key] += value
        workloads[wl.name] = {
            "requests": {**_requests(causes), "degraded": wl.degraded, "drained": wl.drained},
            **_rates(sum(causes), wl.answered, wl.answered_ok, span),
            "latency_ms": latency_summary(wl.hist)}
    pooled = pooled_latency(partial)
    latency = latency_summary(pooled)
    requests = {**_requests(total_causes), "degraded": totals["degraded"],
                "drained": totals["drained"]}
    result: dict[str, Any] = {
        "scalesim": __version__,
        "system": system.name,
        "seed": seed,
        "replications": runs,
        "simulated_s": duration,
        "requests": requests,
        **_rates(requests["total"], totals["answered"], totals["answered_ok"], span),
        "error_rate": clean(requests["failed"] / requests["total"]) if requests["total"]
        else None,
        "latency_ms": latency,
        "workloads": workloads,
        "components": _components(system, partial, span),
        "calls": _calls(partial),
        "events": [{"t_s": clean(t), "component": comp, "replica": replica, "event": what}
                   for t, comp, replica, what in partial.events.value],
        "faults": _faults(system),
    }
    result.update(data_results(partial.data, span, runs, _staleness_budgets(system)))
    rollouts = control.rollouts(partial.control)
    if rollouts:
        result["rollouts"] = rollouts
    nodes = control.cluster(system, partial.control, runs)
    if nodes is not None:
        result["cluster"] = nodes
    slo = _slos(system, result)
    if slo is not None:
        result["slo"] = slo
    if runs > 1:
        result["ci95"] = _ci95(partial, pooled)
    traces = _traces(partial, seed, system.simulation.traces)
    if traces:
        result["traces"] = traces
    if partial.series.value is not None:
        result["timeseries"] = partial.series.value
    return result


def _staleness_budgets(system: System) -> dict[str, float]:
    """Each cache's `max_staleness`, which its section counts the reads beyond."""
    return {name: c.caching.max_staleness for name, c in system.components.items()
            if c.caching is not None and c.caching.max_staleness is not None}


def _components(system: System, partial: Partial, span: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for comp in partial.components:
        ops = {op.name: {"requests": _requests(op.by_cause), "latency_ms": latency_summary(op.hist)}
               for op in comp.ops}
        spec = system.components[comp.name]
        workers = spec.worker_limit
        worker_seconds = control.capacity_seconds(partial.control, comp.name)
        if worker_seconds is None:
            worker_seconds = span * spec.replicas * workers if workers else 0.0
        entry: dict[str, Any] = {
            "kind": comp.kind,
            "replicas": spec.replicas,
            "throughput_rps": clean(comp.visits / span),
            "utilization": clean(comp.area / worker_seconds) if worker_seconds else None,
            "cpu": clean(comp.cpu / worker_seconds) if worker_seconds else None,
            "concurrency_mean": clean(comp.area / span),
            "queue_mean": clean(comp.qarea / span),
            "queue_max": comp.queue_max.value,
            "rejected": comp.rejected,
            "queue_start": comp.queue_start,
            "queue_end": comp.queue_end,
            "refused_by_cause": {name: comp.refusals[CAUSE_NAMES.index(name)]
                                 for name in REFUSALS},
            "latency_ms": latency_summary(combined([op.hist for op in comp.ops])),
            "operations": ops,
        }
        scaling = control.scaling(system, partial.control, partial.replications, comp.name)
        cores = spec.core_limit
        if cores is not None:  # the CPU model: cpu is the share of the cores in use
            serving = control.replica_seconds(partial.control, comp.name)
            core_seconds = cores * (span * spec.replicas if serving is None else serving)
            entry["cpu"] = clean(comp.cpu / core_seconds) if core_seconds else None
            entry["cores_used"] = clean(comp.cpu / span)
        if workers and (spec.replicas > 1 or scaling is not None):
            entry["busiest_replica"] = {  # where one replica carries more than its share
                "replica": comp.busiest_replica.value,
                "utilization": clean(comp.busiest / (span * workers))}
        if comp.has_outlier:
            entry["ejections"] = comp.ejections
        if comp.has_pools:
            entry["connection_pool"] = {"overflow": comp.pool_overflow,
                                        "max_active": comp.pool_max_active.value}
        if scaling is not None:
            entry["scaling"] = scaling
        by_version = control.versions(partial.control, comp.name)
        if by_version is not None:
            entry["versions"] = by_version
        out[comp.name] = entry
    return out


def _calls(partial: Partial) -> list[dict[str, Any]]:
    out = []
    for call in partial.calls:
        causes = call.by_cause
        entry: dict[str, Any] = {
            "from": call.name, "to": call.to,
            "async": call.async_,
            "attempts": call.sent, "retries": call.retries,
            "hedges": call.hedges,
            "failed": call.failed,
            "timeouts": causes[CAUSE_NAMES.index("timeout")],
            "attempt_failures_by_cause": {name: causes[i + 1]
                                          for i, name in enumerate(FAILURE_CAUSES[:-1])},
            "fallbacks": call.fallbacks,
            "amplification": clean(call.sent / call.first) if call.first else None,
        }
        if call.hedge_max:
            entry["hedge_wins"] = call.hedge_wins
        if call.has_budget:
            entry["retry_budget_exhausted"] = call.budget_exhausted
        if call.retry_cap >= 0:
            entry["retry_overflow"] = call.retry_overflow
        if call.degraded:
            entry["degraded"] = call.degraded_count
        if call.bulkhead_limit:
            entry["bulkhead"] = {"rejected": call.bulkhead_rejected,
                                 "max_active": call.bulkhead_max_active.value,
                                 "limit": call.bulkhead_limit}
        if call.breaker:
            entry["circuit_breaker"] = {
                "not_permitted": call.not_permitted,
                "transitions": [{"t_s": clean(t), "replica": owner if owner >= 0 else None,
                                 "from": STATE_NAMES[a], "to": STATE_NAMES[b]}
                                for t, owner, a, b in call.transitions.value],
            }
        out.append(entry)
    return out


def _faults(system: System) -> list[dict[str, Any]]:
    return [{"target": fault.target, "start_s": fault.at,
             "end_s": None if fault.for_ is None else fault.at + fault.for_,
             "effects": [name for name in FAULT_EFFECTS if getattr(fault, name)]}
            for fault in system.faults]


def _slo_checks(slo: Slo, scope: str, latency: dict[str, float | None],
                error_rate: float | None) -> list[dict[str, Any]]:
    checks = []
    for name in SLO_PERCENTILES:
        target = getattr(slo, name)
        if target is not None:
            actual = latency.get(name)
            checks.append({"scope": scope, "name": name, "target_ms": clean(target * 1e3),
                           "actual_ms": actual,
                           "met": actual is not None and actual <= target * 1e3})
    if slo.error_rate is not None:
        checks.append({"scope": scope, "name": "error_rate", "target": slo.error_rate,
                       "actual": error_rate,
                       "met": error_rate is not None and error_rate <= slo.error_rate})
    return checks


def _slos(system: System, result: dict[str, Any]) -> dict[str, Any] | None:
    """The system-wide SLO on all requests (scope "all") and each workload's own SLO on its
    requests (scope: the workload), also recorded under `workloads.NAME.slo`."""
    checks = []
    for workload, slo in system.slo_scopes():
        if workload is None:
            checks += _slo_checks(slo, "all", result["latency_ms"], result["error_rate"])
            continue
        entry = result["workloads"][workload]
        total = entry["requests"]["total"]
        error_rate = clean(entry["requests"]["failed"] / total) if total else None
        own = _slo_checks(slo, workload, entry["latency_ms"], error_rate)
        entry["slo"] = {"met": all(c["met"] for c in own), "checks": own}
        checks += own
    if system.slo is None and not checks:
        return None
    return {"met": all(c["met"] for c in checks), "checks": checks}


def _ci95(partial: Partial, pooled: Histogram) -> dict[str, Any]:
    """Means by Student t over the replications, percentiles by inverting the CDF around the
    pooled percentile (stats.quantile_ci95); none below 0 (nor an error rate above 1),
    which no run can give."""
    runs = partial.summaries

    def interval(bounds: tuple[float, float], top: float = math.inf,
                 scale: float = 1.0) -> list[float | None]:
        if math.isnan(bounds[0]) or math.isnan(bounds[1]):  # nothing measured: no interval
            return [None, None]
        low, high = possible(bounds, top)
        return [clean(low * scale), clean(high * scale)]

    hists = [run.latency for run in runs]
    latency = {key: interval(ci95([run.latency_ms[key] for run in runs])) if key == "mean"
               else interval(quantile_ci95(pooled, hists, PERCENTILES[key]), scale=1e3)
               for key in CI_METRICS}
    return {"latency_ms": latency,
            "throughput_rps": interval(ci95([run.throughput_rps for run in runs])),
            "goodput_rps": interval(ci95([run.goodput_rps for run in runs])),
            "error_rate": interval(ci95([run.error_rate for run in runs]), 1.0)}


def _hex(text: str, size: int) -> str:
    return hashlib.blake2b(text.encode(), digest_size=size).hexdigest()


def _traces(partial: Partial, seed: int, keep: int) -> list[dict[str, Any]]:
    """Sampled requests per workload of the first replication: the `keep` slowest, `keep`
    typical (nearest the median) and the first `keep` failed, with one span per visit."""
    out: list[dict[str, Any]] = []
    for wl in partial.workloads:
        sampled: list[Sample] = wl.sampled.value
        ok = sorted((s for s in sampled if s[2] == OK), key=lambda s: (s[0], s[1]))
        failed = [s for s in sampled if s[2] != OK][:keep]
        slowest = ok[-keep:][::-1] if keep else []
        chosen = {s[1] for s in slowest}
        median = ok[len(ok) // 2][0] if ok else 0.0
        typical = sorted((s for s in ok if s[1] not in chosen),
                         key=lambda s: (abs(s[0] - median), s[1]))[:keep]
        for kind, group in (("typical", typical), ("slowest", slowest), ("failed", failed)):
            for latency, number, cause, spans in group:
                trace_id = _hex(f"{seed}/{wl.name}/{number}", 16)
                span_ids = [_hex(f"{trace_id}/{record[0]}", 8) for record in spans]
                out.append({
                    "trace_id": trace_id, "workload": wl.name, "kind": kind,
                    "status": CAUSE_NAMES[cause], "start_s": clean(_time(spans[0][5])),
                    "duration_ms": clean(latency * 1e3),
                    "spans": [_span(record, span_ids) for record in spans]})
    return out


def _time(value: object) -> float:
    assert isinstance(value, float)
    return value


def _span(record: list[object], span_ids: list[str]) -> dict[str, Any]:
    (index, parent, component, operation, replica, sent, start, end, cause, attempt,
     kind) = record[:11]
    assert isinstance(index, int) and isinstance(parent, int) and isinstance(cause, int)
    assert isinstance(sent, float) and isinstance(start, float) and isinstance(end, float)
    return {"span_id": span_ids[index],
            "parent_span_id": span_ids[parent] if parent >= 0 else None,
            "component": component, "operation": operation,
            "replica": replica if isinstance(replica, int) and replica >= 0 else None,
            "sent_s": clean(sent), "start_s": clean(start) if start >= 0 else None,
            "end_s": clean(end) if end >= 0 else None,
            "status": CAUSE_NAMES[cause] if cause >= 0 else "unfinished",
            "attempt": attempt, "kind": kind}
