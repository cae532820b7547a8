"""A design review from the spec's own numbers: the load of each component as lint judges
it (`lint.load`: closed loops at their MVA throughput, rate limits, timeouts, subscriptions
at what they drain) and the lint findings, turned into the patterns to apply first.

Each finding votes for its fixes, weighted by severity (error 9, warning 3, info 1: one error
outweighs a few warnings), so the patterns that address the worst, then the most, findings
come first."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from scalesim.lint.config import LintConfig
from scalesim.lint.context import Context
from scalesim.lint.finding import Finding, Severity
from scalesim.lint.load import Load
from scalesim.lint.rules.capacity import closed_replicas, levelled, smallest_change
from scalesim.lint.rules.queues import drain_change
from scalesim.spec.model import System

WEIGHT = {Severity.ERROR: 9, Severity.WARNING: 3, Severity.INFO: 1}


@dataclass(frozen=True)
class Change:
    """A pattern to apply, and the findings (rule and place) it answers."""

    id: str
    weight: int
    because: list[str]


@dataclass(frozen=True)
class Sized:
    """A component's load at one rate of the workloads, as lint judges it, and the smallest
    change that brings it to the utilization (None without a worker limit, or unbounded)."""

    rate_rps: float  # what it admits (a worker-limited one) or is offered
    load: Load | None  # None: no worker limit, or nothing reaches it
    change: str | None


@dataclass(frozen=True)
class Review:
    loads: dict[str, tuple[Sized, Sized]]  # (sustained, peak)
    findings: list[Finding]
    changes: list[Change]

    def to_json(self) -> dict[str, object]:
        return {
            "components": {name: _sized_json(steady, peak)
                           for name, (steady, peak) in self.loads.items()},
            "findings": [f.to_json() for f in self.findings],
            "changes": [{"id": c.id, "weight": c.weight, "because": c.because}
                        for c in self.changes],
        }


def _sized_json(steady: Sized, peak: Sized) -> dict[str, object]:
    """A component at the peak, with its sustained rate and ρ beside."""
    load = peak.load
    return {"arrival_rate_rps": peak.rate_rps,
            "hold_ms": None if load is None else load.hold_s * 1000.0,
            "rho": None if load is None else load.rho,
            "busy_workers": None if load is None else load.busy,
            "change": peak.change, "load": "peak",
            "sustained_arrival_rate_rps": steady.rate_rps,
            "sustained_rho": None if steady.load is None else steady.load.rho,
            "sustained_change": steady.change}


def review(system: System, findings: list[Finding],
           config: LintConfig | None = None) -> Review:
    weights: dict[str, int] = {}
    because: dict[str, list[str]] = {}
    for finding in sorted(findings, key=lambda f: -WEIGHT[f.severity]):
        for fix in finding.fixes:
            weights[fix] = weights.get(fix, 0) + WEIGHT[finding.severity]
            because.setdefault(fix, []).append(f"{finding.rule} {finding.path}")
    order = sorted(weights, key=lambda pid: (-weights[pid], pid))
    ctx = Context.of(system, config or LintConfig())
    loads = {name: (_sized(ctx, name, ctx.sustained, ctx.rates, ctx.admits, peak=False),
                    _sized(ctx, name, ctx.peak, ctx.peak_rates, ctx.peak_admits, peak=True))
             for name in system.components}
    return Review(loads, findings, [Change(pid, weights[pid], because[pid]) for pid in order])


def _sized(ctx: Context, name: str, loads: Mapping[str, Load], rates: Mapping[str, float],
           admits: Mapping[str, float], peak: bool) -> Sized:
    """Component `name` at `loads` (lint's admitted loads), operation `rates` and what the
    operations admit (`admits`, of which queues feed their subscriptions): a
    subscription that feeds it at its drain rate is sized as SS402 sizes it (its deliveries
    in flight), anything else as SS501 (replicas, or the leader's workers; `peak`: the
    loads are at the workloads' peak)."""
    component = ctx.system.components[name]
    load = loads.get(name)
    if load is None:
        offered = sum(rates[f"{name}.{op}"] for op in component.effective_operations)
        return Sized(offered, None, None)
    change = drain_change(ctx, name, admits) if levelled(load) else None
    if change is None and math.isfinite(load.rho):
        change = smallest_change(load, component, ctx.config.utilization,
                                 closed_replicas(ctx, name, load, peak))
    return Sized(load.rate, load, change)
