"""The Kubernetes Horizontal Pod Autoscaler's arithmetic, as its controller computes it.

Two parts, both pure and checked against hand-computed cases (tests/control/test_hpa.py):
the replica calculator (`replica_calculator.go`: a usage ratio over the pods that have
metrics, the tolerance band, missing and not-ready pods) and the behavior normalisation
(`horizontal.go`: stabilization over the recommendation history, rate policies over the
scale-event history, the min/max clamp). Times are simulated seconds; a record counts in a
window of w seconds when it is younger than w (strictly, as Go's `After(cutoff)`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

COUNTED, IGNORED, MISSING = range(3)  # how the calculator sees a pod (groupPods)
PODS, PERCENT = "pods", "percent"
EPS = 1e-9


@dataclass(frozen=True)
class Sample:
    """One pod as the calculator sees it: COUNTED with its metric value, IGNORED (Pending,
    or not yet ready for CPU), or MISSING (running, but no metric yet)."""

    state: int
    value: float = 0.0


def cpu_unready(now: float, started: float, ready: bool, transition: float, window: float,
                initialization: float, readiness_delay: float) -> bool:
    """Whether a running pod's CPU sample is set aside as not ready (groupPods): within the
    CPU initialization period after it started, when it is not ready or its last readiness
    change is less than one metrics window old; after it, only when it is not ready and its
    last change came within the initial readiness delay after the start (it never became
    ready)."""
    if now - started < initialization:
        return not ready or now < transition + window - EPS
    return not ready and transition < started + readiness_delay


def _whole_below(x: float) -> int:
    """x truncated, as Go's integer conversion does, the float's rounding error just below a
    whole number (3 × 0.1 × 10) not taken for a real shortfall."""
    return math.floor(x * (1.0 + EPS))


def _whole_above(x: float) -> int:
    """x rounded up, a rounding error just above a whole number not counted."""
    return math.ceil(x * (1.0 - EPS))


def _ratio(values: Sequence[float], target: float, resource: bool) -> float:
    """Usage over target, in the controller's integers. A resource's utilization is a whole
    percentage, truncated (GetResourceUtilizationRatio: int32(metrics × 100 / requests)), so
    a load at exactly twice the target is twice, not a hair above it. A Pods metric's values
    and target are milli-units (`_milli_pods`), their average truncated (GetMetricUsageRatio:
    total / pods, in int64)."""
    if resource:
        return _whole_below(sum(values) / len(values) * 100.0) / (target * 100.0)
    return (int(sum(values)) // len(values)) / target


def _milli_pods(values: list[float], target: float) -> tuple[list[float], float]:
    """A Pods metric as the HPA receives it: each pod's value in milli-units, truncated (the
    Prometheus adapter's int64(value × 1000)), the AverageValue target's milli-value rounded
    up (Quantity.MilliValue)."""
    return [float(_whole_below(v * 1000.0)) for v in values], float(_whole_above(target * 1000.0))


def pod_metric_replicas(current: int, samples: Sequence[Sample], target: float,
                        tolerance: float, resource: bool) -> int | None:
    """Desired replicas for a per-pod metric (a resource utilization when `resource`, else a
    Pods metric), or None when no pod has a metric (the HPA reports an error).

    `target` and the values are in the same unit (a utilization share, or requests per second
    per pod). Pods have equal requests, so the request-weighted ratio is a plain average.
    """
    values = [s.value for s in samples if s.state == COUNTED]
    if not values:
        return None
    if not resource:
        values, target = _milli_pods(values, target)
    ready = len(values)
    ignored = sum(1 for s in samples if s.state == IGNORED)
    missing = sum(1 for s in samples if s.state == MISSING)
    usage = _ratio(values, target, resource)
    rebalance_ignored = ignored > 0 and usage > 1.0
    if not rebalance_ignored and missing == 0:
        if abs(1.0 - usage) <= tolerance:
            return current
        return math.ceil(usage * ready)
    filled = list(values)
    if missing:
        if usage < 1.0:  # on a scale-down a missing pod counts as 100 % of its request
            filled += [1.0 if resource else target] * missing
        elif usage > 1.0 or not resource:  # on a scale-up, as using nothing
            filled += [0.0] * missing
    if rebalance_ignored:  # on a scale-up a not-ready pod counts as using nothing
        filled += [0.0] * ignored
    new_usage = _ratio(filled, target, resource)
    if abs(1.0 - new_usage) <= tolerance or (usage < 1.0 < new_usage) or \
            (new_usage < 1.0 < usage):
        return current  # too small a change, or the direction flipped
    replicas = math.ceil(new_usage * len(filled))
    if resource and ((new_usage < 1.0 and replicas > current) or
                     (new_usage > 1.0 and replicas < current)):
        return current
    return replicas


def external_replicas(status_replicas: int, total: float, target_per_pod: float,
                      tolerance: float) -> int:
    """An External metric with an AverageValue target (what KEDA gives the HPA): the total
    divided by the per-pod target, unless within tolerance of the current replicas."""
    if status_replicas <= 0:
        return math.ceil(total / target_per_pod)
    usage = total / (target_per_pod * status_replicas)
    if abs(1.0 - usage) > tolerance:
        return math.ceil(total / target_per_pod)
    return status_replicas


def combine(current: int, proposals: Sequence[int | None]) -> int | None:
    """Several metrics: the largest proposal. If some metric failed and the others would
    scale down, the HPA does not scale at all (None)."""
    valid = [p for p in proposals if p is not None]
    if not valid:
        return None
    best = max(valid)
    if len(valid) < len(proposals) and best < current:
        return None
    return best


@dataclass(frozen=True)
class Policy:
    kind: str  # PODS or PERCENT
    value: float  # pods, or a share (1.0 = 100 %)
    period: float


@dataclass(frozen=True)
class Rules:
    """HPAScalingRules of one direction."""

    stabilization: float
    select: str  # "max", "min" or "disabled"
    policies: tuple[Policy, ...]


@dataclass
class Behavior:
    """The HPA's memory for one target: recommendations and scale events with their times."""

    up: Rules
    down: Rules
    recommendations: list[tuple[float, int]] = field(default_factory=list)
    up_events: list[tuple[float, int]] = field(default_factory=list)
    down_events: list[tuple[float, int]] = field(default_factory=list)

    def record_initial(self, now: float, current: int) -> None:
        """The first reconcile remembers the current replicas as a recommendation."""
        if not self.recommendations:
            self.recommendations.append((now, current))

    def stabilize(self, now: float, current: int, desired: int) -> int:
        """Clamp `current` between the lowest recommendation of the scale-up window and the
        highest of the scale-down window (both including `desired`), then remember `desired`."""
        up_cut = now - self.up.stabilization
        down_cut = now - self.down.stabilization
        up_rec = desired
        down_rec = desired
        for t, rec in self.recommendations:
            if t > up_cut:
                up_rec = min(up_rec, rec)
            if t > down_cut:
                down_rec = max(down_rec, rec)
        recommendation = max(current, up_rec)
        recommendation = min(recommendation, down_rec)
        oldest = min(up_cut, down_cut)
        self.recommendations = [(t, r) for t, r in self.recommendations if t > oldest]
        self.recommendations.append((now, desired))
        return recommendation

    def limit(self, now: float, current: int, desired: int, low: int, high: int) \
            -> tuple[int, str]:
        """The rate policies and the min/max clamp; returns the replicas and why they are
        what they are (Kubernetes' ScalingLimited reasons)."""
        if desired > current:
            limit = max(current, self._up_limit(now, current))
            if high > limit:
                return (limit, "ScaleUpLimit") if desired > limit else (desired, "")
            return (high, "TooManyReplicas") if desired > high else (desired, "")
        if desired < current:
            limit = min(current, self._down_limit(now, current))
            if low < limit:
                return (limit, "ScaleDownLimit") if desired < limit else (desired, "")
            return (low, "TooFewReplicas") if desired < low else (desired, "")
        return desired, ""

    def record_scale(self, now: float, previous: int, new: int) -> None:
        """A rescale happened: keep it for the policies of the longest period."""
        if new > previous:
            events, rules, change = self.up_events, self.up, new - previous
        else:
            events, rules, change = self.down_events, self.down, previous - new
        longest = max(p.period for p in rules.policies)
        events[:] = [(t, c) for t, c in events if t > now - longest]
        events.append((now, change))

    def _period_start(self, now: float, current: int, period: float) -> int:
        added = sum(c for t, c in self.up_events if t > now - period)
        removed = sum(c for t, c in self.down_events if t > now - period)
        return current - added + removed

    def _up_limit(self, now: float, current: int) -> int:
        rules = self.up
        if rules.select == "disabled":
            return current
        proposals = []
        for policy in rules.policies:
            start = self._period_start(now, current, policy.period)
            if policy.kind == PODS:
                proposals.append(start + int(policy.value))
            else:
                proposals.append(math.ceil(start * (1.0 + policy.value)))
        return min(proposals) if rules.select == "min" else max(proposals)

    def _down_limit(self, now: float, current: int) -> int:
        rules = self.down
        if rules.select == "disabled":
            return current
        proposals = []
        for policy in rules.policies:
            start = self._period_start(now, current, policy.period)
            if policy.kind == PODS:
                proposals.append(start - int(policy.value))
            else:
                proposals.append(int(start * (1.0 - policy.value)))  # Go's int32(): toward 0
        return max(proposals) if rules.select == "min" else min(proposals)
