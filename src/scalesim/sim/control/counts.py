"""How many replicas of the old and the new version a rollout wants next: the Kubernetes
Deployment controller's rolling update (deployment/rolling.go) and Argo Rollouts' canary
counts (utils/replicaset/canary.go), as pure functions of the replica sets' spec and
available counts."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scalesim.spec.control import resolve_count


@dataclass(frozen=True)
class Sets:
    """Spec (desired) and available replicas of the new and the old (stable) set."""

    new: int
    old: int
    new_available: int
    old_available: int


def fenceposts(replicas: int, max_surge: int | str, max_unavailable: int | str) -> tuple[int, int]:
    """maxSurge rounded up, maxUnavailable rounded down; if both come to 0, one replica may
    be unavailable so the rollout can proceed."""
    surge = resolve_count(max_surge, replicas, round_up=True)
    unavailable = resolve_count(max_unavailable, replicas, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def rolling_update(replicas: int, sets: Sets, surge: int, unavailable: int) -> tuple[int, int]:
    """One reconcile of a Deployment's RollingUpdate: scale the new set up within maxSurge,
    then the old set down while at least replicas − maxUnavailable stay available."""
    new = sets.new
    if new > replicas:
        new = replicas
    elif new < replicas:
        room = replicas + surge - (new + sets.old)
        if room > 0:
            new += min(room, replicas - new)
    old = sets.old
    min_available = replicas - unavailable
    new_unavailable = new - sets.new_available
    max_scaled_down = new + old - min_available - new_unavailable
    if max_scaled_down > 0:
        old -= min(max_scaled_down, max(0, old - sets.old_available))  # unhealthy ones first
        available = sets.new_available + min(sets.old_available, old)
        if available > min_available:
            old -= min(old, available - min_available)
    return new, old


def approximate_weight(replicas: int, weight: int, surge: int) -> tuple[int, int]:
    """Canary and stable counts closest to `weight` percent; both at least one for a weight
    strictly between 0 and 100, a tie goes to the larger canary, and with surge allowed the
    total may be replicas + 1 when that is closer."""
    if replicas == 0:
        return 0, 0
    ceil = math.ceil(replicas * weight / 100.0)
    floor = math.floor(replicas * weight / 100.0)
    zero_allowed = weight in (0, 100) or (replicas == 1 and surge == 0)
    options: list[tuple[int, int]] = []
    if ceil < replicas or zero_allowed:
        options.append((ceil, replicas))
    if not _tied(weight, replicas) and (floor != 0 or zero_allowed):
        options.append((floor, replicas))
    if surge > 0:
        options.append((ceil, replicas + 1))
        if not _tied(weight, replicas + 1) and (floor != 0 or zero_allowed):
            options.append((floor, replicas + 1))
    if not options:
        return 0, replicas
    best = options[0]
    for option in options[1:]:
        if _delta(weight, *option) < _delta(weight, *best):
            best = option
    return best[0], best[1] - best[0]


def _tied(weight: int, total: int) -> bool:
    return math.modf(total * weight / 100.0)[0] == 0.5


def _delta(weight: int, canary: int, total: int) -> float:
    return abs(canary * 100.0 / total - weight)


def basic_canary(replicas: int, weight: int, sets: Sets, surge: int,
                 unavailable: int) -> tuple[int, int]:
    """Argo's counts for a canary without traffic routing (the weight is a replica share):
    scale up the stable, then the canary, within maxSurge; then scale down the set that is
    shrinking while replicas − maxUnavailable stay available."""
    want_new, want_old = approximate_weight(replicas, weight, surge)
    new, old = sets.new, sets.old
    most = replicas + surge
    up = most - (sets.new + sets.old)
    if sets.old < want_old and up > 0:
        if sets.old + up < want_old:
            old, up = sets.old + up, 0
        else:
            old, up = want_old, up - (want_old - sets.old)
    if sets.new < want_new and up > 0:
        new = min(sets.new + up, want_new)
    min_available = replicas - unavailable
    increasing = want_new >= sets.new
    to_scale = _for_scale_down(sets.new, sets.new_available, not increasing) + \
        _for_scale_down(sets.old, sets.old_available, increasing)
    if to_scale <= min_available:
        return new, old
    down = to_scale - min_available
    if not increasing:
        if sets.new > want_new:
            new = max(want_new, sets.new - down)
        old, new = _within_limits(sets.old_available, sets.new_available, old, new, most,
                                  min_available)
    else:
        if sets.old > want_old:
            old = max(want_old, sets.old - down)
        new, old = _within_limits(sets.new_available, sets.old_available, new, old, most,
                                  min_available)
    return new, old


def _for_scale_down(spec: int, available: int, ignore_availability: bool) -> int:
    if spec < available or ignore_availability:
        return spec
    return available


def _within_limits(adjust_available: int, drain_available: int, adjust: int, drain: int,
                   most: int, min_available: int) -> tuple[int, int]:
    """Argo's adjustReplicaWithinLimits: keep the total within maxSurge by taking from the
    set being adjusted, but not below what availability needs; the rest from the drained."""
    over = max(0, adjust + drain - most)
    total_available = min(drain_available, drain)
    adjust -= over
    total_available += min(adjust_available, adjust)
    extra = max(0, adjust_available - adjust)
    need = max(0, min_available - total_available)
    adjust += min(extra, need)
    over = max(0, adjust + drain - most)
    return adjust, drain - over


def traffic_routed_canary(replicas: int, weight: int) -> tuple[int, int]:
    """With a mesh splitting traffic: the canary runs ceil(weight × replicas) replicas and the
    stable stays fully scaled until the rollout completes."""
    return math.ceil(weight * replicas / 100.0), replicas
