"""The control loops' part of a result: scaling per component, versions (the blast radius of a
rollout), the rollouts themselves, the cluster's nodes, and the replicas time series.

Events, rollouts and series come from the first replication, like the other events and
traces; replica-seconds and cost are the mean over replications (one run's fleet), and
per-version request counts are pooled like every other count.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from scalesim.sim.control.autoscaler import Autoscalers
from scalesim.sim.control.fleet import Fleet
from scalesim.sim.control.replicasets import ReplicaSets
from scalesim.sim.control.rollout import PAUSED, PROGRESSING, WAITING, RolloutRun, Rollouts
from scalesim.sim.metrics import Histogram
from scalesim.sim.plan import OK, Op
from scalesim.spec.model import System

if TYPE_CHECKING:
    from scalesim.sim.kernel import Kernel

REPLICA_COLUMNS = ["t_s", "component", "version", "desired", "ready", "starting", "pending",
                   "terminating"]
NODE_COLUMNS = ["t_s", "nodes", "pending"]
LATENCY_METRICS = ("mean", "p50", "p90", "p95", "p99", "p999")


def _round(value: float | None) -> float | None:
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return round(value, 4)


def replica_sets(kernel: Kernel) -> ReplicaSets | None:
    return next((a for a in kernel.plan.areas if isinstance(a, ReplicaSets)), None)


def _rollouts(kernel: Kernel) -> list[RolloutRun]:
    area = next((a for a in kernel.plan.areas if isinstance(a, Rollouts)), None)
    return area.runs if area is not None else []


def fleet(kernel: Kernel, name: str) -> Fleet | None:
    sets = replica_sets(kernel)
    return sets.fleet(name) if sets is not None else None


def has_autoscaler(kernel: Kernel, name: str) -> bool:
    area = next((a for a in kernel.plan.areas if isinstance(a, Autoscalers)), None)
    return area is not None and any(s.fleet.comp.name == name for s in area.scalers)


def capacity_seconds(kernels: list[Kernel], name: str) -> float | None:
    """Worker-seconds the component had in the window, all replications; None when its
    replica count never changes (then it is replicas × workers × the window)."""
    fleets = [fleet(k, name) for k in kernels]
    if any(f is None for f in fleets):
        return None
    return sum(f.workers * f.serving_seconds for f in fleets if f is not None)


def replica_seconds(kernels: list[Kernel], name: str) -> float | None:
    """Seconds its replicas served in the window, all replications; None when its replica
    count never changes (then it is replicas × the window)."""
    fleets = [fleet(k, name) for k in kernels]
    if any(f is None for f in fleets):
        return None
    return sum(f.serving_seconds for f in fleets if f is not None)


def scaling(system: System, kernels: list[Kernel], name: str) -> dict[str, Any] | None:
    """`components.NAME.scaling`: scale events, ready replicas over the window, and cost."""
    component = system.components[name]
    runs = len(kernels)
    duration = system.simulation.duration
    first = fleet(kernels[0], name)
    if first is None:
        if component.cost_per_replica_hour is None:
            return None
        seconds = component.replicas * duration
        return {"events": [], "replicas": {"min": component.replicas,
                                           "max": component.replicas,
                                           "mean": float(component.replicas),
                                           "final": component.replicas},
                "replica_seconds": _round(seconds),
                "cost_usd": _round(seconds / 3600.0 * component.cost_per_replica_hour)}
    fleets = [f for k in kernels if (f := fleet(k, name)) is not None]
    seconds = sum(f.scheduled_seconds for f in fleets) / runs
    out: dict[str, Any] = {
        "events": [{"t_s": _round(t), "from": a, "to": b, "reason": why}
                   for t, a, b, why in first.events],
        "replicas": {"min": first.ready_min if first.ready_min != math.inf else 0,
                     "max": first.ready_max,
                     "mean": _round(first.ready_seconds / duration),
                     "final": first.ready_final},
        "replica_seconds": _round(seconds),
    }
    if component.cost_per_replica_hour is not None:
        out["cost_usd"] = _round(seconds / 3600.0 * component.cost_per_replica_hour)
    return out


def _latency(hist: Histogram) -> dict[str, float | None]:
    return {k: _round(v) for k, v in hist.summary_ms().items()}


def _version_stats(ops: list[list[Op]]) -> dict[str, Any]:
    """Pooled counts and latency of one version's operations (one list per replication)."""
    causes = [0] * len(ops[0][0].by_cause)
    hist = Histogram()
    for run in ops:
        for op in run:
            causes = [a + b for a, b in zip(causes, op.by_cause, strict=True)]
            hist.merge(op.hist)
    total = sum(causes)
    failed = total - causes[OK]
    return {"requests": total, "ok": causes[OK], "failed": failed,
            "error_rate": _round(failed / total) if total else None,
            "latency_ms": _latency(hist)}


def versions(kernels: list[Kernel], name: str) -> dict[str, Any] | None:
    """`components.NAME.versions`: what each version served — the new one's share is the
    blast radius of a bad rollout."""
    first = fleet(kernels[0], name)
    if first is None or len(first.versions) < 2:
        return None
    out: dict[str, Any] = {}
    for version in first.versions:
        runs = []
        for kernel in kernels:
            f = fleet(kernel, name)
            assert f is not None
            plan = f.versions[version.index]
            runs.append(list(plan.ops.values()) if plan.ops is not None
                        else list(f.comp.ops.values()))
        out[version.name] = _version_stats(runs)
    return out


def rollouts(kernels: list[Kernel]) -> list[dict[str, Any]]:
    """`rollouts`: each rollout's course and outcome (first replication)."""
    out = []
    for run in _rollouts(kernels[0]):
        spec = run.spec
        outcome = "in_progress" if run.phase in (WAITING, PROGRESSING, PAUSED) else run.phase
        new_ops = run.fleet.versions[run.new].ops or {}
        served = _version_stats([list(new_ops.values())]) if new_ops else None
        out.append({
            "component": run.fleet.comp.name, "to": spec.to, "strategy": spec.strategy,
            "started_s": _round(spec.at) if run.phase != WAITING else None,
            "outcome": outcome, "ended_s": _round(run.ended) if run.ended >= 0 else None,
            "reason": run.reason or None,
            "steps": [{"t_s": _round(t), "weight": w} for t, w in run.weights],
            "final_weight": run.weights[-1][1] if run.weights else 0,
            "analysis": [{"t_s": _round(t), "run": analysis.kind, "metric": metric,
                          "value": _round(value * 1e3 if value is not None and metric
                                          in LATENCY_METRICS else value),
                          "unit": "ms" if metric in LATENCY_METRICS else "share",
                          "phase": phase, "passed": phase == "successful"}
                         for analysis in run.runs
                         for t, metric, value, phase in analysis.log],
            "new_version": {"requests": served["requests"], "failed": served["failed"]}
            if served else None,
        })
    return out


def cluster(system: System, kernels: list[Kernel]) -> dict[str, Any] | None:
    if system.cluster is None:
        return None
    pools = [s.nodes for k in kernels if (s := replica_sets(k)) is not None]
    first = pools[0] if pools else None
    if first is None:
        return None
    return {"nodes": {"start": system.cluster.nodes, "max": first.most, "final": first.nodes},
            "node_seconds": _round(sum(p.node_seconds for p in pools if p) / len(kernels)),
            "events": [{"t_s": _round(t), "from": a, "to": b, "reason": why}
                       for t, a, b, why in first.events]}


def series_tables(kernel: Kernel) -> dict[str, dict[str, Any]]:
    """The `replicas` (and `nodes`) time-series tables of the first replication."""
    sets = replica_sets(kernel)
    if sets is None:
        return {}
    tables = {"replicas": {"columns": REPLICA_COLUMNS,
                           "rows": sorted([list(row) for row in sets.series],
                                          key=lambda r: (r[0], r[1], r[2]))}}
    if sets.nodes is not None:
        tables["nodes"] = {"columns": NODE_COLUMNS,
                           "rows": [list(row) for row in sets.node_series]}
    return tables
