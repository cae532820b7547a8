"""Replica counts of rollouts against the published examples: the Deployment controller's
rolling update (§6) and Argo Rollouts' canary (§7; the examples in the comment of
utils/replicaset/canary.go CalculateReplicaCountsForBasicCanary)."""

from __future__ import annotations

import pytest

from scalesim.sim.control.counts import (
    Sets,
    approximate_weight,
    basic_canary,
    fenceposts,
    rolling_update,
    traffic_routed_canary,
)


def test_fenceposts_round_surge_up_and_unavailable_down() -> None:
    """§6: maxSurge 25 % rounded up, maxUnavailable 25 % rounded down; 10 → (3, 2)."""
    assert fenceposts(10, "25%", "25%") == (3, 2)
    assert fenceposts(3, "25%", "25%") == (1, 0)


def test_fenceposts_never_both_zero() -> None:
    """Both resolving to 0 would stall the rollout: one replica may be unavailable."""
    assert fenceposts(5, "0%", "10%") == (0, 1)


def test_a_rolling_update_starts_with_surge_and_unavailable() -> None:
    """10 replicas, 25 %/25 %: the new set goes to 3 (surge) and the old to 8 (2 may be
    unavailable while the 3 new ones start)."""
    assert rolling_update(10, Sets(0, 10, 0, 10), 3, 2) == (3, 8)


def test_max_unavailable_zero_replaces_one_at_a_time_once_ready() -> None:
    """maxUnavailable 0, maxSurge 1: a new replica first; the old set shrinks only once it is
    available, so capacity never drops below the spec."""
    assert rolling_update(10, Sets(0, 10, 0, 10), 1, 0) == (1, 10)
    assert rolling_update(10, Sets(1, 10, 0, 10), 1, 0) == (1, 10)  # not ready yet: wait
    assert rolling_update(10, Sets(1, 10, 1, 10), 1, 0) == (1, 9)


def test_a_rolling_update_finishes() -> None:
    assert rolling_update(10, Sets(10, 0, 10, 0), 3, 2) == (10, 0)


# Argo's own test table (TestCalculateReplicaCountsForCanary): spec replicas, set weight,
# maxSurge, maxUnavailable, stable (spec, available), canary (spec, available) → expected
# (stable, canary). Cases with older ReplicaSets or setCanaryScale are left out (not modelled).
ARGO_CASES = [
    (10, 100, 3, 0, (7, 8), (6, 3), (7, 6)),
    (10, 20, 2, 0, (10, 10), (0, 0), (10, 2)),
    (10, 20, 2, 0, (10, 10), (2, 2), (8, 2)),
    (10, 30, 2, 0, (10, 10), (0, 0), (10, 2)),
    (10, 20, 0, 2, (10, 10), (0, 0), (8, 0)),
    (10, 50, 2, 1, (10, 10), (0, 0), (9, 2)),
    (10, 0, 1, 1, (10, 10), (1, 1), (10, 0)),
    (10, 100, 1, 1, (1, 1), (10, 10), (0, 10)),
    (1, 20, 1, 0, (1, 1), (0, 0), (1, 1)),
    (1, 90, 1, 0, (1, 1), (0, 0), (1, 1)),
    (10, 30, 0, 3, (8, 5), (4, 4), (7, 3)),
    (10, 100, 1, 0, (10, 2), (10, 8), (2, 9)),
    (10, 5, 0, 1, (10, 10), (0, 0), (9, 0)),
    (10, 5, 0, 1, (9, 9), (0, 0), (9, 1)),
    (4, 100, 1, 0, (4, 1), (0, 0), (4, 1)),
    (3, 99, 0, 2, (3, 3), (0, 0), (1, 0)),
    (3, 99, 0, 2, (1, 1), (0, 0), (1, 2)),
    (4, 100, 1, 0, (4, 1), (1, 1), (3, 1)),
    (4, 0, 1, 0, (0, 0), (4, 4), (1, 4)),
]


@pytest.mark.parametrize(("replicas", "weight", "surge", "unavailable", "stable", "canary",
                          "expected"), ARGO_CASES)
def test_basic_canary_matches_argos_test_table(
        replicas: int, weight: int, surge: int, unavailable: int, stable: tuple[int, int],
        canary: tuple[int, int], expected: tuple[int, int]) -> None:
    new, old = basic_canary(replicas, weight, Sets(canary[0], stable[0], canary[1], stable[1]),
                            surge, unavailable)
    assert (old, new) == expected


def test_zero_percent_surge_and_unavailable_still_move() -> None:
    """Argo's case 'use maxUnavailable of 1 when percentages give 0': 10 replicas at 10 % →
    stable 9, canary 0 first."""
    assert basic_canary(10, 10, Sets(0, 10, 0, 10), *fenceposts(10, "0%", "0%")) == (0, 9)


@pytest.mark.parametrize(("replicas", "weight", "surge", "expected"), [
    (10, 41, 3, (4, 6)),   # §7: the smallest delta to 4.1 replicas
    (10, 10, 3, (1, 9)),
    (3, 50, 0, (2, 1)),    # a tie rounds the canary up
    (10, 0, 3, (0, 10)),
    (10, 100, 3, (10, 0)),
    (2, 10, 0, (1, 1)),    # a weight in 1–99 keeps both sets at one replica at least
])
def test_weights_become_the_closest_replica_counts(replicas: int, weight: int, surge: int,
                                                   expected: tuple[int, int]) -> None:
    assert approximate_weight(replicas, weight, surge) == expected


def test_a_traffic_routed_canary_keeps_the_stable_fully_scaled() -> None:
    """§7: with trafficRouting the stable stays at 100 %; the canary runs
    ceil(weight × replicas)."""
    assert traffic_routed_canary(10, 10) == (1, 10)
    assert traffic_routed_canary(10, 41) == (5, 10)
