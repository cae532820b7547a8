"""Thread pools sized from the load a template's parameters put on them.

A template whose rate can be dragged to the top of its range must not let a fixed pool
saturate there: its claims are about the pattern, not about a pool too small for the load."""

from __future__ import annotations

import math


def threads(rps: float, hold_ms: float, replicas: int, least: int, utilization: float) -> int:
    """Threads per replica so that rps requests holding one for hold_ms each keep the pool
    at most `utilization` busy on average (Little's law), and never fewer than `least`."""
    return max(least, math.ceil(rps * hold_ms / 1000.0 / replicas / utilization))
