"""A closed loop's users against a station with a bounded queue: the finite-source queue
M/M/c/K/N (the machine-repairman model with blocking).

N users each spend a mean Z away from the station (thinking, on the network, elsewhere),
then arrive; an arrival that finds K requests there (c in service, K − c queued) is refused
and its user goes away again for another Z, as the kernel's users send again after any
answer. With n there, arrivals come at (N − n)/Z and leave at min(n, c)/S: a birth-death
chain on n = 0…min(K, N). Its stationary law is exact for exponential away and service
times; the loss an arrival sees is (N − K)·p_K / Σ (N − n)·p_n (arrivals come from the
users away, not at a constant rate, so not p_K itself), and an accepted arrival finding
n ≥ c waits for n − c + 1 completions at rate c/S. Once N outnumbers the places, the
station stays nearly full and the refusals make the load: (N − K)/Z attempts a second,
however few get in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scalesim.analytic import lattice
from scalesim.analytic.chains import erlang_mixture
from scalesim.analytic.lattice import Lattice


@dataclass(frozen=True)
class FiniteSource:
    """The chain's measures (rates per second; counts on average)."""

    attempts_rps: float  # arrivals, accepted or refused
    served_rps: float  # accepted arrivals, = completions
    loss: float  # P(an arrival finds the station full)
    busy: float  # servers busy
    queued: float  # requests waiting for a server
    servers: int
    service_s: float
    # P(an accepted arrival finds n requests there), n = 0…K − 1
    seen: npt.NDArray[np.float64]

    @property
    def in_station(self) -> float:
        return self.busy + self.queued

    @property
    def wait_s(self) -> float:
        """Mean wait of an accepted arrival (Little's law on the queue)."""
        return self.queued / self.served_rps if self.served_rps > 0.0 else 0.0

    @property
    def p_wait(self) -> float:
        return float(self.seen[self.servers:].sum())

    def wait(self, points: int = lattice.LEAF_POINTS) -> Lattice:
        """An accepted arrival's wait: Erlang(n − c + 1, c/S) when it finds n ≥ c."""
        c = self.servers
        weights = np.concatenate([[self.seen[:c].sum()], self.seen[c:]])
        return erlang_mixture(weights, c / self.service_s, points)


def finite_source(users: float, away_s: float, servers: int, capacity: int,
                  service_s: float) -> FiniteSource:
    """M/M/c/K/N with N = `users` (real: a share of a loop's users per replica queue), mean
    time away Z = `away_s`, c = `servers`, K = `capacity` ≥ c and mean service S; with no
    time away (Z = 0) the station holds min(N, K) at once and, when N > K, the others are
    refused without end: infinitely many attempts a second."""
    top = min(capacity, math.ceil(users))  # the most there at once
    n = np.arange(top + 1, dtype=np.float64)
    departures = np.minimum(n, servers) / service_s
    if away_s <= 0.0:
        p = np.zeros(top + 1)
        p[top] = 1.0
        served = float(departures[top])
        refused = users > capacity
        seen = np.zeros(max(capacity, 1))
        seen[min(top, capacity - 1)] = 1.0
        return FiniteSource(math.inf if refused else served, served, 1.0 if refused else 0.0,
                            float(min(top, servers)), float(max(0, top - servers)), servers,
                            service_s, seen)
    arrivals = (users - n) / away_s  # > 0 below `top`
    log_p = np.concatenate([[0.0], np.cumsum(np.log(arrivals[:-1] / departures[1:]))])
    p = np.exp(log_p - log_p.max())
    p /= p.sum()
    flow = arrivals.clip(0.0) * p  # arrivals a second in each state
    attempts = float(flow.sum())
    full = float(flow[capacity]) if top == capacity else 0.0
    accepted = flow[:capacity] if top == capacity else flow
    seen = np.zeros(capacity)
    seen[:len(accepted)] = accepted / accepted.sum()
    return FiniteSource(attempts, attempts - full, full / attempts,
                        float((np.minimum(n, servers) * p).sum()),
                        float(((n - servers).clip(0.0) * p).sum()), servers, service_s, seen)
