"""M/G/1 and M/D/1 by the Pollaczek–Khinchine formula: Wq = λ E[S²] / (2 (1 − ρ)).

Only the first two moments of service matter for the mean wait, which is why a constant
service time halves the M/M/1 wait at the same load.
"""

from __future__ import annotations

import math

from scalesim.analytic.measures import QueueMeasures, check_inputs, measures


def mg1(arrival_rate: float, mean_service_s: float, second_moment_s2: float) -> QueueMeasures:
    """M/G/1 FCFS from E[S] and E[S²]; P(wait) = ρ (PASTA: an arrival waits iff busy)."""
    check_inputs(arrival_rate, mean_service_s=mean_service_s)
    if second_moment_s2 < mean_service_s**2:
        raise ValueError("E[S²] cannot be below E[S]² (a variance is never negative)")
    rho = arrival_rate * mean_service_s
    wait = arrival_rate * second_moment_s2 / (2.0 * (1.0 - rho)) if rho < 1.0 else math.inf
    return measures(arrival_rate, mean_service_s, 1, rho, wait)


def mg1_cv(arrival_rate: float, mean_service_s: float, cv: float) -> QueueMeasures:
    """M/G/1 from the mean and coefficient of variation: E[S²] = E[S]² (1 + cv²)."""
    if cv < 0.0:
        raise ValueError(f"the coefficient of variation must be >= 0, got {cv}")
    return mg1(arrival_rate, mean_service_s, mean_service_s**2 * (1.0 + cv * cv))


def md1(arrival_rate: float, service_s: float) -> QueueMeasures:
    """M/D/1: constant service, Wq = ρ S / (2 (1 − ρ))."""
    return mg1_cv(arrival_rate, service_s, 0.0)
