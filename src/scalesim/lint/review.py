"""A design review from the spec's own numbers: the load of each component as lint judges
it (`lint.load`: closed loops at their MVA throughput, rate limits, timeouts, subscriptions
at what they drain) and the lint findings, turned into the patterns to apply first.

Each finding votes for its fixes, weighted by severity (error 9, warning 3, info 1: one error
outweighs a few warnings), so the patterns that address the worst, then the most, findings
come first."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from scalesim.lint.config import LintConfig
from scalesim.lint.context import Context
from scalesim.lint.finding import Finding, Severity
from scalesim.lint.load import Load
from scalesim.lint.rules.capacity import (
    change_text,
    closed_replicas,
    cluster_settings,
    levelled,
    smallest_setting,
)
from scalesim.lint.rules.queues import drain_change
from scalesim.lint.rules.topology import waited_on
from scalesim.spec.model import Component, System

WEIGHT = {Severity.ERROR: 9, Severity.WARNING: 3, Severity.INFO: 1}
# The fewest replicas the review sizes a component SS105 watches down to: one would be a
# single point of failure, which lint reports (a spec at 1 already is told so by SS105).
REDUNDANT = 2
# Whether the spec validates with these `--set` overrides (a proposed change must).
Validates = Callable[[Sequence[str]], bool]


@dataclass(frozen=True)
class Change:
    """A pattern to apply, and the findings (rule and place) it answers."""

    id: str
    weight: int
    because: list[str]


@dataclass(frozen=True)
class Sized:
    """A component's load at one rate of the workloads, as lint judges it, and the smallest
    change that brings it to the utilization (None without a worker limit, unbounded, or
    when no value of the field the spec validates with does)."""

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


def review(system: System, findings: list[Finding], valid: Validates,
           config: LintConfig | None = None) -> Review:
    """The loads, findings and patterns; a smallest change is offered only as a value the
    spec `valid`ates with."""
    ctx = Context.of(system, config or LintConfig())
    watched = frozenset(waited_on(ctx))
    loads = {name: (_sized(ctx, name, ctx.sustained, ctx.rates, ctx.admits, valid, watched,
                           peak=False),
                    _sized(ctx, name, ctx.peak, ctx.peak_rates, ctx.peak_admits, valid,
                           watched, peak=True))
             for name in system.components}
    return Review(loads, findings, votes(findings, lambda finding: finding.fixes))


def votes(findings: Sequence[Finding],
          fixes: Callable[[Finding], Sequence[str]]) -> list[Change]:
    """The patterns `fixes` gives for each finding, each weighted by the severities of the
    findings that name it (most first, then by id), with those findings (rule and place)."""
    weights: dict[str, int] = {}
    because: dict[str, list[str]] = {}
    for finding in sorted(findings, key=lambda f: -WEIGHT[f.severity]):
        for fix in fixes(finding):
            weights[fix] = weights.get(fix, 0) + WEIGHT[finding.severity]
            because.setdefault(fix, []).append(f"{finding.rule} {finding.path}")
    order = sorted(weights, key=lambda pid: (-weights[pid], pid))
    return [Change(pid, weights[pid], because[pid]) for pid in order]


def _sized(ctx: Context, name: str, loads: Mapping[str, Load], rates: Mapping[str, float],
           admits: Mapping[str, float], valid: Validates, watched: Collection[str],
           peak: bool) -> Sized:
    """Component `name` at `loads` (lint's admitted loads), operation `rates` and what the
    operations admit (`admits`, of which queues feed their subscriptions): a
    subscription that feeds it at its drain rate is sized as SS402 sizes it (its deliveries
    in flight), anything else as SS501 (replicas, or the leader's workers; `peak`: the
    loads are at the workloads' peak), at the smallest value the spec `valid`ates with; a
    component SS105 `watched` keeps REDUNDANT replicas if it has them."""
    component = ctx.system.components[name]
    load = loads.get(name)
    if load is None:
        offered = sum(rates[f"{name}.{op}"] for op in component.effective_operations)
        return Sized(offered, None, None)
    change = drain_change(ctx, name, admits) if levelled(load) else None
    if change is None and math.isfinite(load.rho):
        field, needed = smallest_setting(load, component, ctx.config.utilization,
                                         closed_replicas(ctx, name, load, peak))

        def overrides(value: int) -> list[str]:
            """The setting at `value`, and the cluster grown to hold it."""
            return [f"components.{name}.{field}={value}",
                    *(f"{path}={nodes}" for path, nodes
                      in cluster_settings(ctx.system, name, field, value))]

        own = _spec_value(component, field)
        if field == "replicas" and name in watched:
            needed = max(needed, min(own, REDUNDANT))  # fewer would be SS105's finding
        value = _valid_value(overrides, needed, own, valid)
        change = None if value is None else \
            change_text(field, value, cluster_settings(ctx.system, name, field, value))
    return Sized(load.rate, load, change)


def _spec_value(component: Component, field: str) -> int:
    """The value the spec gives a `smallest_setting` field (a leader has a worker limit)."""
    if field == "workers":
        return component.worker_limit or 1
    autoscale = component.autoscale
    return autoscale.max if field == "autoscale.max" and autoscale is not None \
        else component.replicas


def _valid_value(overrides: Callable[[int], list[str]], needed: int, own: int,
                 valid: Validates) -> int | None:
    """The smallest value from `needed` whose `overrides` (the setting, and the cluster
    grown to hold it) the spec validates with (a lower value may break one of its rules:
    `autoscale.min` above `autoscale.max`, replication with one replica); below the spec's
    `own` value, which validates, it is bisected up to it (the rules bound these counts
    from below). None when `needed` is above `own` and the spec refuses it."""
    if valid(overrides(needed)):
        return needed
    if needed > own:
        return None
    low, high = needed, own  # low is refused, high validates
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if valid(overrides(middle)) else (middle, high)
    return high
