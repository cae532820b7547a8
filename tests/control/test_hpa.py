"""The HPA's arithmetic against hand-computed cases, each citing the rule of
shared/reference/resilience-semantics.md §5 (and replica_calculator.go / horizontal.go) it
checks."""

from __future__ import annotations

import pytest

from scalesim.sim.control.hpa import (
    COUNTED,
    IGNORED,
    MISSING,
    PERCENT,
    PODS,
    Behavior,
    Policy,
    Rules,
    Sample,
    combine,
    cpu_unready,
    external_replicas,
    pod_metric_replicas,
)

TOL = 0.1


def pods(*values: float) -> list[Sample]:
    return [Sample(COUNTED, v) for v in values]


# -- the replica calculator ----------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [(0.54, 4), (0.46, 4), (0.56, 5), (0.44, 4)])
def test_within_the_tolerance_band_the_replicas_stay(value: float, expected: int) -> None:
    """§5: |usageRatio − 1| ≤ tolerance keeps currentReplicas. 4 pods at 54 % of a 50 % target:
    ratio 1.08 → 4; at 56 %: ratio 1.12 → ceil(1.12 × 4) = 5; at 44 %: ratio 0.88 → ceil(3.52)
    = 4 as well (outside the band, but the ceiling lands on 4)."""
    assert pod_metric_replicas(4, pods(value, value, value, value), 0.5, TOL, True) == expected


def test_desired_is_the_ratio_times_the_pods_with_metrics_not_the_spec() -> None:
    """§5: desired = ceil(usageRatio × readyPodCount). Spec says 5 but only 3 pods report, at
    90 % of a 50 % target: ratio 1.8 → ceil(1.8 × 3) = ceil(5.4) = 6."""
    assert pod_metric_replicas(5, pods(0.9, 0.9, 0.9), 0.5, TOL, True) == 6


def test_utilization_is_request_weighted_so_an_average() -> None:
    """§5: for resource Utilization the ratio is Σusage / Σrequests / target; equal requests
    make it the average: (0.2 + 0.8) / 2 = 0.5 at a 50 % target → no change."""
    assert pod_metric_replicas(2, pods(0.2, 0.8), 0.5, TOL, True) == 2


def test_a_resource_utilization_is_a_whole_percentage() -> None:
    """replica_calculator's GetResourceUtilizationRatio: currentUtilization =
    int32(metrics × 100 / requests), a truncated percentage. Two pods a hair above 60 % of
    their request (one more request in the window than 60 % exactly) against a 30 % target:
    60 % / 30 % = 2 → 4 pods, not ceil(2.0002 × 2) = 5 (resilience audit 8). A Pods metric
    (requests per second) is truncated to the milli-unit, not the percent: 0.60006 rps is
    600 m, twice a 300 m target → 4; 0.6099 rps is 609 m → ceil(2.03 × 2) = 5."""
    assert pod_metric_replicas(2, pods(0.60006, 0.60006), 0.3, TOL, True) == 4
    assert pod_metric_replicas(2, pods(0.60006, 0.60006), 0.3, TOL, False) == 4
    assert pod_metric_replicas(2, pods(0.6099, 0.6099), 0.3, TOL, True) == 4  # 60 %, truncated
    assert pod_metric_replicas(2, pods(0.6099, 0.6099), 0.3, TOL, False) == 5


def test_a_pods_metric_is_averaged_in_milli_units() -> None:
    """GetMetricUsageRatio works in int64 milli-units: each pod's value as the Prometheus
    adapter gives it (int64(value × 1000)), the total over the pods truncated, over the
    target's milli-value. 6 pods sharing 1500 requests over 15 s, exactly 100 rps (251, 250,
    250, 249, 250, 250, in that order: a float sum depends on it), target 10: 16733 + 16600
    + 4 × 16666 = 99997 m, 16666 m each → ratio 1.6666 → ceil(9.9996) = 10 (the float
    average gives ceil(10.000000000000004) = 11). 11 pods sharing 450 requests over 15 s
    (ten 41, one 40): 29996 m / 11 = 2726 m → ceil(2.9986) = 3 (the float average, 30/11
    rps, gives 4)."""
    counts = [251, 250, 250, 249, 250, 250]
    assert pod_metric_replicas(6, pods(*(c / 15 for c in counts)), 10.0, TOL, False) == 10
    counts = [41] * 10 + [40]
    assert pod_metric_replicas(11, pods(*(c / 15 for c in counts)), 10.0, TOL, False) == 3


def test_a_pods_target_is_its_milli_value_rounded_up() -> None:
    """The AverageValue target is Quantity.MilliValue(), rounded up: 100/min = 1.6667 rps is
    1667 m. 3 pods at 5 rps: 5000 / 1667 = 2.9994 → ceil(8.998) = 9 (a truncated 1666 m
    would give ceil(9.0036) = 10)."""
    assert pod_metric_replicas(3, pods(5.0, 5.0, 5.0), 100 / 60, TOL, False) == 9


def test_missing_pods_count_as_zero_on_a_scale_up() -> None:
    """§5: missing pods count as 0 % on scale-up. 3 pods at 100 % and 1 missing, target 50 %:
    ratio 2 → recomputed (1+1+1+0)/(4 × 0.5) = 1.5 → ceil(1.5 × 4) = 6 (not 8)."""
    samples = [*pods(1.0, 1.0, 1.0), Sample(MISSING)]
    assert pod_metric_replicas(4, samples, 0.5, TOL, True) == 6


def test_missing_pods_can_cancel_a_scale_up() -> None:
    """§5: the recomputed ratio within tolerance means no change: 2 at 100 %, 2 missing →
    (1+1+0+0)/(4 × 0.5) = 1.0."""
    samples = [*pods(1.0, 1.0), Sample(MISSING), Sample(MISSING)]
    assert pod_metric_replicas(4, samples, 0.5, TOL, True) == 4


def test_missing_pods_count_as_full_on_a_scale_down_and_may_flip_it() -> None:
    """§5: missing pods count as 100 % of request on scale-down; if the recomputed ratio
    flips direction there is no change: 2 at 10 %, 2 missing, target 50 % → ratio 0.2 →
    (0.1+0.1+1+1)/(4 × 0.5) = 1.1 > 1 → keep 4."""
    samples = [*pods(0.1, 0.1), Sample(MISSING), Sample(MISSING)]
    assert pod_metric_replicas(4, samples, 0.5, TOL, True) == 4


def test_missing_pods_of_a_pods_metric_count_as_the_target_on_a_scale_down() -> None:
    """§5 (GetMetricReplicas): a plain metric fills missing pods with the target value on
    scale-down: 2 at 10 rps, 2 missing, target 100 → (10+10+100+100)/(4 × 100) = 0.55 →
    ceil(0.55 × 4) = 3."""
    samples = [*pods(10.0, 10.0), Sample(MISSING), Sample(MISSING)]
    assert pod_metric_replicas(4, samples, 100.0, TOL, False) == 3


def test_not_ready_pods_count_as_zero_on_a_scale_up() -> None:
    """§5: not-yet-ready pods count as 0 % on scale-up: 3 at 100 %, 1 not ready, target 50 %
    → (3 + 0)/(4 × 0.5) = 1.5 → 6."""
    samples = [*pods(1.0, 1.0, 1.0), Sample(IGNORED)]
    assert pod_metric_replicas(4, samples, 0.5, TOL, True) == 6


def test_not_ready_pods_are_left_out_of_a_scale_down() -> None:
    """§5: ignored pods are rebalanced only when scaling up; on a scale-down the ratio uses
    the ready pods alone: 2 at 10 %, 2 not ready, target 50 % → ceil(0.2 × 2) = 1."""
    samples = [*pods(0.1, 0.1), Sample(IGNORED), Sample(IGNORED)]
    assert pod_metric_replicas(4, samples, 0.5, TOL, True) == 1


# (now, ready, last readiness change) of a pod started at 0 s; window 30 s, CPU
# initialization period 300 s, initial readiness delay 30 s (the kube-controller-manager
# defaults for the last two).
@pytest.mark.parametrize(("now", "ready", "transition", "unready"), [
    (100.0, False, 10.0, True),   # within the period: not ready → set aside
    (100.0, True, 80.0, True),    # ready 20 s ago, less than a window → set aside
    (100.0, True, 70.0, False),   # ready exactly one window → counted
    (100.0, True, 60.0, False),   # ready for more than a window → counted
])
def test_within_cpu_initialization_an_unready_or_newly_ready_pod_is_set_aside(
        now: float, ready: bool, transition: float, unready: bool) -> None:
    """§5 / groupPods: while the pod is within cpu-initialization-period of its start, its
    CPU sample is ignored if it is not ready or its readiness changed less than one metrics
    window before the sample."""
    assert cpu_unready(now, 0.0, ready, transition, 30.0, 300.0, 30.0) is unready


@pytest.mark.parametrize(("ready", "transition", "unready"), [
    (False, 10.0, True),    # never ready: its last change came within the 30 s delay
    (False, 350.0, False),  # was ready, turned unready later: its CPU is counted
    (True, 390.0, False),   # ready 10 s ago: after the period a window is not needed
])
def test_after_cpu_initialization_only_a_never_ready_pod_is_set_aside(
        ready: bool, transition: float, unready: bool) -> None:
    """§5 / groupPods: after the period (now 400 s > 300 s), a pod is set aside only when it
    is not ready and its last readiness change is before start + initial readiness delay."""
    assert cpu_unready(400.0, 0.0, ready, transition, 30.0, 300.0, 30.0) is unready


def test_a_resource_count_that_moves_against_the_ratio_keeps_the_current() -> None:
    """§5: if the new count would move opposite to the ratio, keep current. 3 at 80 %, 1
    missing, target 50 %, spec 10: ratio 1.6 → (2.4 + 0)/2 = 1.2 → ceil(4.8) = 5 < 10 while
    the ratio says up → keep 10. (A plain metric has no such check.)"""
    samples = [*pods(0.8, 0.8, 0.8), Sample(MISSING)]
    assert pod_metric_replicas(10, samples, 0.5, TOL, True) == 10
    assert pod_metric_replicas(10, samples, 0.5, TOL, False) == 5


def test_no_pod_with_a_metric_is_an_error() -> None:
    """'did not receive metrics for any ready pods': no proposal."""
    assert pod_metric_replicas(3, [Sample(MISSING), Sample(IGNORED)], 0.5, TOL, True) is None


@pytest.mark.parametrize(("total", "current", "expected"),
                         [(450, 2, 5), (205, 2, 2), (0, 3, 0), (1, 0, 1)])
def test_an_external_average_value_target(total: int, current: int, expected: int) -> None:
    """GetExternalPerPodMetricReplicas (what KEDA gives the HPA): ratio = total / (target ×
    replicas); outside tolerance desired = ceil(total / target). 450 / (100 × 2) = 2.25 → 5;
    205 → 1.025, within 10 % → 2; 0 → 0 (the min clamp applies later)."""
    assert external_replicas(current, total, 100.0, TOL) == expected


def test_several_metrics_take_the_largest_unless_a_failed_one_hides_a_scale_up() -> None:
    """§5: the max of the proposals; if some metrics fail and the others suggest scaling
    down, scaling is skipped."""
    assert combine(5, [3, 6]) == 6
    assert combine(5, [7, None]) == 7
    assert combine(5, [3, None]) is None
    assert combine(5, [None, None]) is None


# -- behavior ------------------------------------------------------------------------------

UP = Rules(0.0, "max", (Policy(PODS, 4, 15.0), Policy(PERCENT, 1.0, 15.0)))
DOWN = Rules(300.0, "max", (Policy(PERCENT, 1.0, 15.0),))


def test_scale_down_is_stabilized_over_the_window_maximum() -> None:
    """§5: downRec = max(recs within the scale-down window, desired); a record exactly as old
    as the window no longer counts (Go's After(cutoff))."""
    b = Behavior(UP, DOWN)
    for t, rec in ((0.0, 10), (100.0, 8), (200.0, 6)):
        b.recommendations.append((t, rec))
    assert b.stabilize(250.0, 10, 4) == 10
    assert b.stabilize(300.0, 10, 4) == 8  # the t=0 record is exactly 300 s old: out
    assert b.stabilize(401.0, 10, 4) == 6


def test_scale_up_is_stabilized_over_the_window_minimum() -> None:
    """§5: upRec = min(recs within the scale-up window, desired); rec = clamp(current,
    upRec, downRec)."""
    b = Behavior(Rules(60.0, "max", UP.policies), DOWN)
    b.recommendations += [(0.0, 2), (30.0, 5)]
    assert b.stabilize(45.0, 2, 6) == 2  # the 2 at t=0 still holds it
    assert b.stabilize(61.0, 2, 6) == 5  # now the lowest recent one is 5


def test_the_first_reconcile_records_the_current_replicas() -> None:
    """horizontal.go recordInitialRecommendation: the spec's replicas become the first
    recommendation, so no scale-down happens in the first downscale window."""
    b = Behavior(UP, DOWN)
    b.record_initial(0.0, 10)
    b.record_initial(15.0, 7)
    assert b.recommendations == [(0.0, 10)]
    assert b.stabilize(15.0, 10, 2) == 10


def test_a_pods_policy_counts_from_the_replicas_at_the_period_start() -> None:
    """§5: periodStart = current − added in the period; Pods policy: periodStart + value.
    5 replicas, 3 added 40 s ago, 4 pods per 60 s → 2 + 4 = 6; once that event is 60 s old,
    5 + 4 = 9."""
    b = Behavior(Rules(0.0, "max", (Policy(PODS, 4, 60.0),)), DOWN)
    b.up_events.append((10.0, 3))
    assert b.limit(50.0, 5, 10, 1, 100) == (6, "ScaleUpLimit")
    assert b.limit(70.0, 5, 10, 1, 100) == (9, "ScaleUpLimit")


def test_a_percent_policy_rounds_up_from_the_period_start() -> None:
    """§5: Percent policy on scale-up: ceil(periodStart × (1 + value)). 6 replicas, 3 added
    30 s ago, 100 % per 60 s: ceil(3 × 2) = 6 = current, so no growth this period."""
    b = Behavior(Rules(0.0, "max", (Policy(PERCENT, 1.0, 60.0),)), DOWN)
    b.up_events.append((0.0, 3))
    assert b.limit(30.0, 6, 10, 1, 100) == (6, "ScaleUpLimit")
    # From 3 with those 3 added: periodStart 0 → ceil(0) = 0, and a limit below the current
    # replicas holds them where they are (horizontal.go: scaleUpLimit < current → current).
    assert b.limit(30.0, 3, 10, 1, 100) == (3, "ScaleUpLimit")


@pytest.mark.parametrize(("select", "expected"), [("max", 20), ("min", 14), ("disabled", 10)])
def test_select_policy_on_scale_up(select: str, expected: int) -> None:
    """§5: selectPolicy Max takes the largest change (100 % → 20), Min the smallest (4 pods →
    14), Disabled freezes the direction."""
    b = Behavior(Rules(0.0, select, UP.policies), DOWN)
    assert b.limit(0.0, 10, 50, 1, 100)[0] == expected


@pytest.mark.parametrize(("select", "expected"), [("max", 5), ("min", 7), ("disabled", 10)])
def test_select_policy_on_scale_down(select: str, expected: int) -> None:
    """§5: scale-down Percent floor(periodStart × (1 − value)) = floor(10 × 0.5) = 5, Pods
    periodStart − value = 7; Max (largest change) → 5, Min → 7."""
    rules = Rules(300.0, select, (Policy(PERCENT, 0.5, 60.0), Policy(PODS, 3, 60.0)))
    b = Behavior(UP, rules)
    assert b.limit(0.0, 10, 1, 1, 100)[0] == expected


def test_scale_down_period_start_adds_back_what_was_removed() -> None:
    """§5: periodStart = current − added + removed: 6 now, 4 removed 30 s ago → 10; 50 % per
    60 s → floor(10 × 0.5) = 5."""
    b = Behavior(UP, Rules(0.0, "max", (Policy(PERCENT, 0.5, 60.0),)))
    b.down_events.append((0.0, 4))
    assert b.limit(30.0, 6, 2, 1, 100) == (5, "ScaleDownLimit")


def test_the_default_scale_up_from_one_replica_is_five() -> None:
    """§5 defaults: scaleUp = max(4 pods, 100 %) per 15 s: from 1, max(1 + 4, 2) = 5."""
    assert Behavior(UP, DOWN).limit(0.0, 1, 100, 1, 100) == (5, "ScaleUpLimit")


def test_min_and_max_clamp_last() -> None:
    """§5: finally clamp to [minReplicas, maxReplicas] (TooManyReplicas / TooFewReplicas)."""
    b = Behavior(Rules(0.0, "max", (Policy(PERCENT, 9.0, 15.0),)), DOWN)
    assert b.limit(0.0, 10, 50, 2, 20) == (20, "TooManyReplicas")
    assert b.limit(0.0, 10, 0, 2, 20) == (2, "TooFewReplicas")


def test_scale_events_older_than_the_longest_period_are_forgotten() -> None:
    b = Behavior(UP, DOWN)
    b.record_scale(0.0, 2, 4)
    b.record_scale(20.0, 4, 8)
    assert b.up_events == [(20.0, 4)]
    b.record_scale(25.0, 8, 5)
    assert b.down_events == [(25.0, 3)]
