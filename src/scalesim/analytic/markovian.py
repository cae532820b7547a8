"""M/M/1 and M/M/c: Poisson arrivals, exponential service, FCFS.

Erlang C is computed from the Erlang B recursion B(n) = a·B(n−1) / (n + a·B(n−1)), which
never forms a^c or c! and so stays accurate for thousands of servers.
"""

from __future__ import annotations

import math

from scalesim.analytic.measures import QueueMeasures, check_inputs, measures


def mm1(arrival_rate: float, service_rate: float) -> QueueMeasures:
    """M/M/1: W = 1/(μ−λ), Wq = ρ/(μ−λ), P(wait) = ρ."""
    check_inputs(arrival_rate, service_rate=service_rate)
    rho = arrival_rate / service_rate
    wait = rho / (service_rate - arrival_rate) if rho < 1.0 else math.inf
    return measures(arrival_rate, 1.0 / service_rate, 1, rho, wait)


def mm1_sojourn_quantile(arrival_rate: float, service_rate: float, q: float) -> float:
    """The q-quantile of the M/M/1 FCFS sojourn time, which is exponential with rate μ−λ."""
    if not 0.0 <= q < 1.0:
        raise ValueError(f"the quantile must be in [0, 1), got {q}")
    if arrival_rate >= service_rate:
        return math.inf
    return -math.log1p(-q) / (service_rate - arrival_rate)


def erlang_b(servers: int, offered_load: float) -> float:
    """Erlang B blocking probability of c servers offered a = λ/μ erlangs."""
    if servers < 1:
        raise ValueError(f"need at least one server, got {servers}")
    blocking = 1.0
    for n in range(1, servers + 1):
        blocking = offered_load * blocking / (n + offered_load * blocking)
    return blocking


def erlang_c(servers: int, offered_load: float) -> float:
    """Erlang C: the probability that an arrival waits at an M/M/c queue (1 when a ≥ c)."""
    if offered_load >= servers:
        return 1.0
    blocking = erlang_b(servers, offered_load)
    return servers * blocking / (servers - offered_load * (1.0 - blocking))


def mmc(arrival_rate: float, service_rate: float, servers: int) -> QueueMeasures:
    """M/M/c: P(wait) = Erlang C, Wq = C / (cμ − λ), W = Wq + 1/μ."""
    check_inputs(arrival_rate, service_rate=service_rate, servers=servers)
    offered = arrival_rate / service_rate
    p_wait = erlang_c(servers, offered)
    wait = p_wait / (servers * service_rate - arrival_rate) if offered < servers else math.inf
    return measures(arrival_rate, 1.0 / service_rate, servers, p_wait, wait)


def erlang_arrivals_wait(phases: int, arrival_rate: float, service_rate: float) -> float:
    """σ of the E_k/M/1 queue (interarrival times Erlang of k phases, mean 1/λ; as round
    robin over k queues makes of a Poisson stream): the root in (0, 1) of the G/M/1
    equation σ = A*(μ(1 − σ)), A*(s) = (kλ/(kλ + s))^k. An arrival waits with probability
    σ, then Exp(μ(1 − σ)): Wq = σ/(μ(1 − σ)). Newton's method from 0 (σ − A*(μ(1 − σ)) is
    concave, so it climbs to the smaller root and never past it); 1 when ρ ≥ 1."""
    if phases < 1 or arrival_rate < 0.0 or service_rate <= 0.0:
        raise ValueError("need phases >= 1, arrival rate >= 0, service rate > 0")
    if arrival_rate >= service_rate:
        return 1.0
    phase = phases * arrival_rate
    sigma = 0.0
    for _ in range(200):
        base = phase / (phase + service_rate * (1.0 - sigma))
        gap = base**phases - sigma
        slope = service_rate * phases * base**phases / (phase + service_rate * (1.0 - sigma)) - 1.0
        step = gap / -slope
        sigma += step
        if abs(step) <= 1e-15 * max(sigma, 1e-300):
            break
    return sigma
