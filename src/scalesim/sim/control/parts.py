"""What the control loops leave behind after one replication, as plain data that pickles and
pools (merge rules in sim/merge.py): each controlled component's fleet (replica-seconds,
scale events, what each version served), the rollouts and the cluster's nodes.
`control_part` reads them off a finished kernel; results.py turns the pooled parts into the
result's sections.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scalesim.sim.control.fleet import Fleet
from scalesim.sim.control.replicasets import ReplicaSets
from scalesim.sim.control.rollout import PAUSED, PROGRESSING, WAITING, RolloutRun, Rollouts
from scalesim.sim.merge import FIXED, First
from scalesim.sim.metrics import Histogram
from scalesim.sim.plan import OK, Op

if TYPE_CHECKING:
    from scalesim.sim.kernel import Kernel

ScaleEvent = tuple[float, int, int, str]  # t, from, to, reason


@dataclass
class VersionPart:
    """What one version of a component served: its operations pooled."""

    name: str = field(metadata=FIXED)
    by_cause: list[int]
    hist: Histogram


@dataclass
class Ready:
    """Ready replicas over the window (first replication)."""

    least: int
    most: int
    seconds: float  # ∫ ready replicas dt
    final: int


@dataclass
class FleetPart:
    component: str = field(metadata=FIXED)
    worker_seconds: float  # worker-seconds of serving replicas in the window
    serving_seconds: float  # replica-seconds of serving replicas in the window
    scheduled_seconds: float  # replica-seconds on a node (what is paid for)
    events: First[list[ScaleEvent]]
    ready: First[Ready]
    versions: list[VersionPart]


@dataclass
class AnalysisEntry:
    t_s: float
    run: str  # background, step, pre- or post-promotion
    metric: str
    value: float | None
    phase: str


@dataclass
class RolloutPart:
    """One rollout's course and outcome (kept from the first replication)."""

    component: str
    to: str
    strategy: str
    started_s: float | None  # None while it waits for its start
    outcome: str
    ended_s: float | None
    reason: str
    weights: list[tuple[float, int]]
    analysis: list[AnalysisEntry]
    new_version: tuple[int, int] | None  # requests and failures the new version served


@dataclass
class ClusterPart:
    node_seconds: float
    most: First[int]
    final: First[int]
    events: First[list[ScaleEvent]]


@dataclass
class ControlPart:
    fleets: list[FleetPart]
    rollouts: First[list[RolloutPart]]
    cluster: ClusterPart | None  # with a cluster autoscaler's node pool


def replica_sets(kernel: Kernel) -> ReplicaSets | None:
    return next((a for a in kernel.plan.areas if isinstance(a, ReplicaSets)), None)


def control_part(kernel: Kernel) -> ControlPart:
    sets = replica_sets(kernel)
    area = next((a for a in kernel.plan.areas if isinstance(a, Rollouts)), None)
    nodes = sets.nodes if sets is not None else None
    return ControlPart(
        fleets=[fleet_part(fleet) for fleet in sets.fleets] if sets is not None else [],
        rollouts=First([rollout_part(run) for run in area.runs] if area is not None else []),
        cluster=None if nodes is None else ClusterPart(
            nodes.node_seconds, First(nodes.most), First(nodes.nodes), First(list(nodes.events))))


def pooled_ops(ops: list[Op]) -> VersionPart:
    """Requests by outcome and latency of a list of operations, pooled (name left empty)."""
    causes = [0] * len(ops[0].by_cause)
    hist = Histogram()
    for op in ops:
        causes = [a + b for a, b in zip(causes, op.by_cause, strict=True)]
        hist.merge(op.hist)
    return VersionPart("", causes, hist)


def fleet_part(fleet: Fleet) -> FleetPart:
    versions = []
    if len(fleet.versions) > 1:
        for version in fleet.versions:
            ops = version.ops if version.ops is not None else fleet.comp.ops
            served = pooled_ops(list(ops.values()))
            served.name = version.name
            versions.append(served)
    least = fleet.ready_min if fleet.ready_min != math.inf else 0
    return FleetPart(
        component=fleet.comp.name, worker_seconds=fleet.workers * fleet.serving_seconds,
        serving_seconds=fleet.serving_seconds,
        scheduled_seconds=fleet.scheduled_seconds, events=First(list(fleet.events)),
        ready=First(Ready(int(least), fleet.ready_max, fleet.ready_seconds, fleet.ready_final)),
        versions=versions)


def rollout_part(run: RolloutRun) -> RolloutPart:
    spec = run.spec
    new_ops = run.fleet.versions[run.new].ops or {}
    served = pooled_ops(list(new_ops.values())) if new_ops else None
    return RolloutPart(
        component=run.fleet.comp.name, to=spec.to, strategy=spec.strategy,
        started_s=spec.at if run.phase != WAITING else None,
        outcome="in_progress" if run.phase in (WAITING, PROGRESSING, PAUSED) else run.phase,
        ended_s=run.ended if run.ended >= 0 else None, reason=run.reason,
        weights=list(run.weights),
        analysis=[AnalysisEntry(t, analysis.kind, metric, value, phase)
                  for analysis in run.runs for t, metric, value, phase in analysis.log],
        new_version=(sum(served.by_cause), sum(served.by_cause) - served.by_cause[OK])
        if served is not None else None)
