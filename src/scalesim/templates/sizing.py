"""Pools sized from the load a template's parameters put on them, and what a pool the user
sizes leaves behind.

A template whose rate can be dragged to the top of its range must not let a fixed pool
saturate there: its claims are about the pattern, not about a pool too small for the load.
A pool the user sizes may be too small, and then the template claims the backlog instead."""

from __future__ import annotations

import math


def threads(rps: float, hold_ms: float, replicas: int, least: int, utilization: float) -> int:
    """Threads per replica so that rps requests holding one for hold_ms each keep the pool
    at most `utilization` busy on average (Little's law), and never fewer than `least`."""
    return max(least, math.ceil(rps * hold_ms / 1000.0 / replicas / utilization))


def left_behind(rate: float, burst_rate: float, capacity: float,
                run: tuple[float, float, float]) -> float:
    """Work still queued at the end of a run (measured seconds, a burst's seconds, seconds
    after it), as a fluid: the pool falls behind while the rate is above its capacity and
    works the backlog off at the difference afterwards."""
    measured, burst, after = run
    before = max(0.0, rate - capacity) * (measured - burst - after)
    backlog = before + max(0.0, burst_rate - capacity) * burst
    return max(0.0, backlog - (capacity - rate) * after)
