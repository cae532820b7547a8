"""The steady-state measures of one queueing station, shared by every formula.

Units are seconds and requests per second. An unstable station (ρ ≥ 1) is not an error: its
means are infinite, so an estimate can say "unstable" instead of failing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class QueueMeasures:
    """Means of a station in equilibrium; Little's law ties L = λW and Lq = λWq."""

    arrival_rate: float
    utilization: float  # ρ = λ E[S] / c, the share of busy servers
    wait_probability: float  # P(an arrival waits); 1.0 when unstable
    mean_wait_s: float  # Wq, time in the queue before service
    mean_sojourn_s: float  # W = Wq + E[S]
    mean_queue_length: float  # Lq = λ Wq
    mean_in_system: float  # L = λ W

    @property
    def stable(self) -> bool:
        return self.utilization < 1.0


def measures(arrival_rate: float, mean_service_s: float, servers: int,
             wait_probability: float, mean_wait_s: float) -> QueueMeasures:
    """Complete the measures from the two that a formula computes (P(wait) and Wq)."""
    utilization = arrival_rate * mean_service_s / servers
    if utilization >= 1.0:
        return QueueMeasures(arrival_rate, utilization, 1.0, math.inf, math.inf, math.inf,
                             math.inf)
    sojourn = mean_wait_s + mean_service_s
    return QueueMeasures(arrival_rate, utilization, wait_probability, mean_wait_s, sojourn,
                         arrival_rate * mean_wait_s, arrival_rate * sojourn)


def check_inputs(arrival_rate: float, **positive: float) -> None:
    """Reject inputs without a queueing meaning: a negative rate, a non-positive service."""
    if arrival_rate < 0.0 or not math.isfinite(arrival_rate):
        raise ValueError(f"the arrival rate must be finite and >= 0, got {arrival_rate}")
    for name, value in positive.items():
        if not value > 0.0:
            raise ValueError(f"{name} must be > 0, got {value}")
