"""The result of a run, as the JSON document described in SPEC.md.

Replications are pooled (counts summed, histograms merged); with more than one, `ci95` gives
Student-t intervals computed from the per-replication values. Times (`t_s`, `start_s`) are
simulated seconds since the start of the run, warm-up included.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from scalesim import __version__
from scalesim.sim.control import results as control
from scalesim.sim.data.report import data_results
from scalesim.sim.kernel import Kernel
from scalesim.sim.mechanisms.circuit_breaker import STATE_NAMES
from scalesim.sim.metrics import Histogram
from scalesim.sim.plan import CAUSE_NAMES, OK, UNFINISHED, Comp, Op, Workload
from scalesim.sim.stats import ci95
from scalesim.sim.timeseries import tables
from scalesim.spec.model import FAULT_EFFECTS, Slo, System

FAILURE_CAUSES = CAUSE_NAMES[1:]
SLO_PERCENTILES = ("mean", "p50", "p90", "p95", "p99", "p999")
REFUSALS = ("rejected", "rate_limited", "shed", "overflow", "unavailable", "crashed")


def clean(value: float | None) -> float | None:
    """Rounded for stable, readable JSON; NaN and infinity become null."""
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return round(value, 4)


def _latency(hist: Histogram) -> dict[str, float | None]:
    return {k: clean(v) for k, v in hist.summary_ms().items()}


def _requests(by_cause: list[int]) -> dict[str, Any]:
    failed = sum(by_cause) - by_cause[OK]
    return {"total": sum(by_cause), "ok": by_cause[OK], "failed": failed,
            "failed_by_cause": {name: by_cause[i + 1] for i, name in enumerate(FAILURE_CAUSES)}}


def _sum_lists(lists: list[list[int]]) -> list[int]:
    return [sum(column) for column in zip(*lists, strict=True)]


def _merged(hists: list[Histogram]) -> Histogram:
    pooled = Histogram()
    for hist in hists:
        pooled.merge(hist)
    return pooled


def _workload_causes(kernel: Kernel, wl: Workload) -> list[int]:
    causes = list(wl.by_cause)
    if kernel.unfinished:
        causes[UNFINISHED] += wl.inflight
    return causes


def _answered(wl: Workload) -> int:
    """Answers received in the window, whenever their request was sent."""
    return sum(wl.by_cause) - wl.drained + wl.early


def _answered_ok(wl: Workload) -> int:
    return wl.by_cause[OK] - wl.drained_ok + wl.early_ok


def _rates(sent: int, answered: int, answered_ok: int, span: float) -> dict[str, float | None]:
    """Requests sent, answered and answered ok per second of window. Answers count when they
    arrive in the window (whenever sent), so a backlog answered during the drain does not
    pass for throughput: offered above throughput is an overload."""
    return {"offered_rps": clean(sent / span), "throughput_rps": clean(answered / span),
            "goodput_rps": clean(answered_ok / span)}


def build_result(system: System, seed: int, kernels: list[Kernel],
                 with_series: bool = False) -> dict[str, Any]:
    """The result document; `with_series` adds the first replication's time series."""
    duration = system.simulation.duration
    runs = len(kernels)
    first = kernels[0]
    span = duration * runs  # pooled observation time

    wl_causes = [[_workload_causes(k, wl) for wl in k.plan.workloads] for k in kernels]
    workloads: dict[str, Any] = {}
    all_hists: list[Histogram] = []
    total_causes = [0] * len(CAUSE_NAMES)
    totals = {"degraded": 0, "drained": 0, "answered": 0, "answered_ok": 0}
    for index, wl in enumerate(first.plan.workloads):
        causes = _sum_lists([per_run[index] for per_run in wl_causes])
        hist = _merged([k.plan.workloads[index].hist for k in kernels])
        all_hists.append(hist)
        total_causes = [a + b for a, b in zip(total_causes, causes, strict=True)]
        copies = [k.plan.workloads[index] for k in kernels]  # one per replication
        counts = {"degraded": sum(w.degraded for w in copies),
                  "drained": sum(w.drained for w in copies),
                  "answered": sum(_answered(w) for w in copies),
                  "answered_ok": sum(_answered_ok(w) for w in copies)}
        for key, value in counts.items():
            totals[key] += value
        workloads[wl.name] = {
            "requests": {**_requests(causes), "degraded": counts["degraded"],
                         "drained": counts["drained"]},
            **_rates(sum(causes), counts["answered"], counts["answered_ok"], span),
            "latency_ms": _latency(hist)}
    latency = _latency(_merged(all_hists))
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
        "components": _components(system, kernels, span),
        "calls": _calls(kernels),
        "events": [{"t_s": clean(t), "component": comp, "replica": replica, "event": what}
                   for t, comp, replica, what in first.health_events],
        "faults": _faults(system),
    }
    result.update(data_results(kernels, span))
    rollouts = control.rollouts(kernels)
    if rollouts:
        result["rollouts"] = rollouts
    nodes = control.cluster(system, kernels)
    if nodes is not None:
        result["cluster"] = nodes
    slo = _slos(system, result)
    if slo is not None:
        result["slo"] = slo
    if runs > 1:
        result["ci95"] = _ci95(kernels, duration)
    traces = _traces(first, seed, system.simulation.traces)
    if traces:
        result["traces"] = traces
    if with_series:
        result["timeseries"] = tables(first)
    return result


def _components(system: System, kernels: list[Kernel], span: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    first = kernels[0]
    for index, comp in enumerate(first.plan.comps):
        snaps = [k.window_snapshot[index] for k in kernels]
        area = sum(s[0] for s in snaps)
        qarea = sum(s[1] for s in snaps)
        cpu = sum(s[2] for s in snaps)
        visits = sum(s[3] + s[4] for s in snaps)
        ops: dict[str, Any] = {}
        op_hists = []
        for oname in comp.ops:
            versions = [op for k in kernels for op in _with_variants(k.plan.comps[index], oname)]
            causes = _sum_lists([op.by_cause for op in versions])
            hist = _merged([op.hist for op in versions])
            op_hists.append(hist)
            ops[oname] = {"requests": _requests(causes), "latency_ms": _latency(hist)}
        refusals = _sum_lists([k.plan.comps[index].by_cause for k in kernels])
        spec = system.components[comp.name]
        workers = spec.worker_limit
        worker_seconds = control.capacity_seconds(kernels, comp.name)
        if worker_seconds is None:
            worker_seconds = span * spec.replicas * workers if workers else 0.0
        entry: dict[str, Any] = {
            "kind": comp.kind,
            "replicas": spec.replicas,
            "throughput_rps": clean(visits / span),
            "utilization": clean(area / worker_seconds) if worker_seconds else None,
            "cpu": clean(cpu / worker_seconds) if worker_seconds else None,
            "concurrency_mean": clean(area / span),
            "queue_mean": clean(qarea / span),
            "queue_max": max(k.plan.comps[index].qmax for k in kernels),
            "rejected": sum(s[5] for s in snaps),
            "queue_start": sum(k.plan.comps[index].qstart for k in kernels),
            "queue_end": sum(s[6] for s in snaps),
            "refused_by_cause": {name: refusals[CAUSE_NAMES.index(name)] for name in REFUSALS},
            "latency_ms": _latency(_merged(op_hists)),
            "operations": ops,
        }
        cores = spec.core_limit
        if cores is not None:  # the CPU model: cpu is the share of the cores in use
            serving = control.replica_seconds(kernels, comp.name)
            core_seconds = cores * (span * spec.replicas if serving is None else serving)
            entry["cpu"] = clean(cpu / core_seconds) if core_seconds else None
            entry["cores_used"] = clean(cpu / span)
        detectors = [k.plan.comps[index].outlier for k in kernels]
        if comp.outlier is not None:
            entry["ejections"] = sum(d.ejections for d in detectors if d is not None)
        if comp.pools:
            entry["connection_pool"] = {
                "overflow": sum(p.rejected for k in kernels
                                for p in k.plan.comps[index].pools.values()),
                "max_active": max(p.max_active for k in kernels
                                  for p in k.plan.comps[index].pools.values())}
        scaling = control.scaling(system, kernels, comp.name)
        if scaling is not None:
            entry["scaling"] = scaling
        by_version = control.versions(kernels, comp.name)
        if by_version is not None:
            entry["versions"] = by_version
        out[comp.name] = entry
    return out


def _with_variants(comp: Comp, oname: str) -> list[Op]:
    """An operation as every version of the component ran it."""
    op = comp.ops[oname]
    return [op, *op.variants]


def _calls(kernels: list[Kernel]) -> list[dict[str, Any]]:
    out = []
    first = kernels[0]
    for index, call in enumerate(first.plan.calls):
        runs = [k.plan.calls[index] for k in kernels]
        attempts = sum(c.sent for c in runs)
        originals = sum(c.first for c in runs)
        causes = _sum_lists([c.by_cause for c in runs])
        target = call.target
        entry: dict[str, Any] = {
            "from": call.name, "to": f"{target.comp.name}.{target.name}",
            "async": call.async_,
            "attempts": attempts, "retries": sum(c.retries for c in runs),
            "hedges": sum(c.hedges for c in runs),
            "failed": sum(c.failed for c in runs),
            "timeouts": causes[CAUSE_NAMES.index("timeout")],
            "attempt_failures_by_cause": {name: causes[i + 1]
                                          for i, name in enumerate(FAILURE_CAUSES[:-1])},
            "fallbacks": sum(c.fallbacks for c in runs),
            "amplification": clean(attempts / originals) if originals else None,
        }
        if call.hedge_max:
            entry["hedge_wins"] = sum(c.hedge_wins for c in runs)
        budgets = [c.budget for c in runs]
        if call.budget is not None:
            entry["retry_budget_exhausted"] = sum(b.exhausted for b in budgets if b is not None)
        if call.retry_cap >= 0:
            entry["retry_overflow"] = sum(c.retry_overflow for c in runs)
        if call.degraded:
            entry["degraded"] = sum(c.degraded_count for c in runs)
        if call.bulkhead_limit:
            gates = [g for c in runs for g in c.gates.values()]
            entry["bulkhead"] = {"rejected": sum(g.rejected for g in gates),
                                 "max_active": max((g.max_active for g in gates), default=0),
                                 "limit": call.bulkhead_limit}
        if call.breaker:
            transitions = sorted(
                (t, owner, a, b) for owner, breaker in call.breakers.items()
                for t, a, b in breaker.transitions)
            entry["circuit_breaker"] = {
                "not_permitted": sum(b.not_permitted for c in runs for b in c.breakers.values()),
                "transitions": [{"t_s": clean(t), "replica": owner if owner >= 0 else None,
                                 "from": STATE_NAMES[a], "to": STATE_NAMES[b]}
                                for t, owner, a, b in transitions],
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
    if system.slo is not None:
        checks += _slo_checks(system.slo, "all", result["latency_ms"], result["error_rate"])
    for workload in system.workloads:
        if workload.slo is None:
            continue
        entry = result["workloads"][workload.name]
        total = entry["requests"]["total"]
        error_rate = clean(entry["requests"]["failed"] / total) if total else None
        own = _slo_checks(workload.slo, workload.name, entry["latency_ms"], error_rate)
        entry["slo"] = {"met": all(c["met"] for c in own), "checks": own}
        checks += own
    if system.slo is None and not checks:
        return None
    return {"met": all(c["met"] for c in checks), "checks": checks}


def _ci95(kernels: list[Kernel], duration: float) -> dict[str, Any]:
    per_run: dict[str, list[float]] = {"mean": [], "p50": [], "p90": [], "p99": []}
    throughput, goodput, errors = [], [], []
    for kernel in kernels:
        hist = _merged([wl.hist for wl in kernel.plan.workloads])
        summary = hist.summary_ms()
        for key in per_run:
            per_run[key].append(summary.get(key, math.nan))
        causes = _sum_lists([_workload_causes(kernel, wl) for wl in kernel.plan.workloads])
        total = sum(causes)
        throughput.append(sum(_answered(wl) for wl in kernel.plan.workloads) / duration)
        goodput.append(sum(_answered_ok(wl) for wl in kernel.plan.workloads) / duration)
        errors.append((total - causes[OK]) / total if total else math.nan)

    def interval(values: list[float]) -> list[float | None]:
        low, high = ci95(values)
        return [clean(low), clean(high)]

    return {"latency_ms": {k: interval(v) for k, v in per_run.items()},
            "throughput_rps": interval(throughput), "goodput_rps": interval(goodput),
            "error_rate": interval(errors)}


def _hex(text: str, size: int) -> str:
    return hashlib.blake2b(text.encode(), digest_size=size).hexdigest()


def _traces(kernel: Kernel, seed: int, keep: int) -> list[dict[str, Any]]:
    """Sampled requests per workload: the `keep` slowest, `keep` typical (nearest the median)
    and the first `keep` failed, with one span per visit."""
    out: list[dict[str, Any]] = []
    for wl in kernel.plan.workloads:
        ok = sorted((s for s in wl.sampled if s[2] == OK), key=lambda s: (s[0], s[1]))
        failed = [s for s in wl.sampled if s[2] != OK][:keep]
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
