"""The control loops' part of a result: scaling per component, versions (the blast radius of a
rollout), the rollouts themselves, the cluster's nodes, and the replicas time series.

They are read from the pooled control parts (parts.py). Events, rollouts and series come from
the first replication, like the other events and traces; replica-seconds and cost are the
mean over replications (one run's fleet), and per-version request counts are pooled like
every other count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scalesim.sim.control.autoscaler import Autoscalers
from scalesim.sim.control.fleet import Fleet
from scalesim.sim.control.parts import ControlPart, FleetPart, VersionPart, replica_sets
from scalesim.sim.plan import OK
from scalesim.sim.rounded import clean, latency_summary
from scalesim.spec.model import System

if TYPE_CHECKING:
    from scalesim.sim.kernel import Kernel

REPLICA_COLUMNS = ["t_s", "component", "version", "desired", "ready", "starting", "pending",
                   "terminating"]
NODE_COLUMNS = ["t_s", "nodes", "pending"]
LATENCY_METRICS = ("mean", "p50", "p90", "p95", "p99", "p999")


def fleet(kernel: Kernel, name: str) -> Fleet | None:
    sets = replica_sets(kernel)
    return sets.fleet(name) if sets is not None else None


def has_autoscaler(kernel: Kernel, name: str) -> bool:
    area = next((a for a in kernel.plan.areas if isinstance(a, Autoscalers)), None)
    return area is not None and any(s.fleet.comp.name == name for s in area.scalers)


def fleet_of(part: ControlPart, name: str) -> FleetPart | None:
    return next((f for f in part.fleets if f.component == name), None)


def capacity_seconds(part: ControlPart, name: str) -> float | None:
    """Worker-seconds the component had in the window, all replications; None when its
    replica count never changes (then it is replicas × workers × the window)."""
    found = fleet_of(part, name)
    return found.worker_seconds if found is not None else None


def replica_seconds(part: ControlPart, name: str) -> float | None:
    """Seconds its replicas served in the window, all replications; None when its replica
    count never changes (then it is replicas × the window)."""
    found = fleet_of(part, name)
    return found.serving_seconds if found is not None else None


def scaling(system: System, part: ControlPart, runs: int, name: str) -> dict[str, Any] | None:
    """`components.NAME.scaling`: scale events, ready replicas over the window, and cost."""
    component = system.components[name]
    duration = system.simulation.duration
    found = fleet_of(part, name)
    if found is None:
        if component.cost_per_replica_hour is None:
            return None
        seconds = component.replicas * duration
        return {"events": [], "replicas": {"min": component.replicas,
                                           "max": component.replicas,
                                           "mean": float(component.replicas),
                                           "final": component.replicas},
                "replica_seconds": clean(seconds),
                "cost_usd": clean(seconds / 3600.0 * component.cost_per_replica_hour)}
    seconds = found.scheduled_seconds / runs
    ready = found.ready.value
    out: dict[str, Any] = {
        "events": [{"t_s": clean(t), "from": a, "to": b, "reason": why}
                   for t, a, b, why in found.events.value],
        "replicas": {"min": ready.least, "max": ready.most,
                     "mean": clean(ready.seconds / duration), "final": ready.final},
        "replica_seconds": clean(seconds),
    }
    if component.cost_per_replica_hour is not None:
        out["cost_usd"] = clean(seconds / 3600.0 * component.cost_per_replica_hour)
    return out


def _version_stats(served: VersionPart) -> dict[str, Any]:
    causes = served.by_cause
    total = sum(causes)
    failed = total - causes[OK]
    return {"requests": total, "ok": causes[OK], "failed": failed,
            "error_rate": clean(failed / total) if total else None,
            "latency_ms": latency_summary(served.hist)}


def versions(part: ControlPart, name: str) -> dict[str, Any] | None:
    """`components.NAME.versions`: what each version served — the new one's share is the
    blast radius of a bad rollout."""
    found = fleet_of(part, name)
    if found is None or not found.versions:
        return None
    return {served.name: _version_stats(served) for served in found.versions}


def rollouts(part: ControlPart) -> list[dict[str, Any]]:
    """`rollouts`: each rollout's course and outcome (first replication)."""
    return [{
        "component": run.component, "to": run.to, "strategy": run.strategy,
        "started_s": clean(run.started_s), "outcome": run.outcome,
        "ended_s": clean(run.ended_s), "reason": run.reason or None,
        "steps": [{"t_s": clean(t), "weight": w} for t, w in run.weights],
        "final_weight": run.weights[-1][1] if run.weights else 0,
        "analysis": [{"t_s": clean(entry.t_s), "run": entry.run, "metric": entry.metric,
                      "value": clean(entry.value * 1e3 if entry.value is not None
                                      and entry.metric in LATENCY_METRICS else entry.value),
                      "unit": "ms" if entry.metric in LATENCY_METRICS else "share",
                      "phase": entry.phase, "passed": entry.phase == "successful"}
                     for entry in run.analysis],
        "new_version": {"requests": run.new_version[0], "failed": run.new_version[1]}
        if run.new_version is not None else None,
    } for run in part.rollouts.value]


def cluster(system: System, part: ControlPart, runs: int) -> dict[str, Any] | None:
    nodes = part.cluster
    if system.cluster is None or nodes is None:
        return None
    return {"nodes": {"start": system.cluster.nodes, "max": nodes.most.value,
                      "final": nodes.final.value},
            "node_seconds": clean(nodes.node_seconds / runs),
            "events": [{"t_s": clean(t), "from": a, "to": b, "reason": why}
                       for t, a, b, why in nodes.events.value]}


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
