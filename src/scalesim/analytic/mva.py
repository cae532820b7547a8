"""Exact Mean Value Analysis of a closed network: N users who think, then send a request
that visits queueing stations once each (service demands D_k), then think again.

The recursion over n = 1..N users is exact for product-form networks: FCFS single-server
stations with exponential service, and delay (infinite-server) stations of any service.
A station with c > 1 servers uses Seidmann's approximation: a single server of demand D/c in
series with a delay of D·(c−1)/c. It is exact at c = 1, close at light and heavy load, and
pessimistic near the knee (for a 4-server station, throughput up to 5 % low and response
time up to 12 % high against the exact Markov chain; see tests/analytic). A station with at
least as many servers as there are users is a delay station, exactly: nobody waits there.

Alongside, the marginal recursion P_k(j | n) = U_k(n)·P_k(j − 1 | n − 1) (exact for
single-server stations) gives the queue an arrival finds at each station: by the arrival
theorem, what N − 1 users leave there. With exponential service an arrival finding j jobs
waits Erlang(j, 1/S) (Seidmann: j at the queueing part, Erlang(j, c/S)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

MARGINAL_USERS = 5000  # the arrival's view costs O(users²) per station: not past this


@dataclass(frozen=True)
class MvaStation:
    demand_s: float  # total service time a request needs here (visits × mean service)
    servers: int | None = 1  # None: a delay station (no queueing)


@dataclass(frozen=True)
class MvaResult:
    throughput_rps: float  # X(N)
    response_s: float  # R(N), the time from send to response, think time excluded
    residence_s: tuple[float, ...]  # per station, summing to R(N)
    queue_lengths: tuple[float, ...]  # mean requests at each station (Little: X · residence)
    utilizations: tuple[float, ...]  # X · D / c; 0 at a delay station (see queue_lengths)
    # per station, P(an arrival finds j requests at its queueing part), j = 0…N − 1 (None at
    # a delay station, and for every station past MARGINAL_USERS users)
    seen: tuple[npt.NDArray[np.float64] | None, ...] = field(default=())


def mva(users: int, think_s: float, stations: Sequence[MvaStation]) -> MvaResult:
    """X(N) and R(N) by the MVA recursion R_k(n) = D_k (1 + Q_k(n−1)), X(n) = n / (Z + ΣR)."""
    if users < 1:
        raise ValueError(f"need at least one user, got {users}")
    if think_s < 0.0 or any(s.demand_s < 0.0 for s in stations):
        raise ValueError("think time and demands must be >= 0")
    # no request ever waits at a station with a server for every user: a delay there, exactly
    queueing = [s.demand_s / s.servers if s.servers and s.servers < users else 0.0
                for s in stations]
    delay = [s.demand_s - q for s, q in zip(stations, queueing, strict=True)]
    backlog = [0.0] * len(stations)  # Q_k(n − 1) at the queueing part
    throughput = 0.0
    residence = list(delay)
    marginal = users <= MARGINAL_USERS
    # P_k(j | n − 1) at each queueing part, for the arrival's view at n = users
    seen = [np.ones(1) if s.servers and marginal else None for s in stations]
    for n in range(1, users + 1):
        residence = [q * (1.0 + b) + d for q, b, d in zip(queueing, backlog, delay, strict=True)]
        cycle = think_s + sum(residence)
        throughput = n / cycle if cycle > 0.0 else float("inf")
        backlog = [throughput * q * (1.0 + b) for q, b in zip(queueing, backlog, strict=True)]
        if n < users:
            seen = [None if p is None else _grown(p, throughput * q)
                    for p, q in zip(seen, queueing, strict=True)]
    return MvaResult(
        throughput, sum(residence), tuple(residence),
        tuple(throughput * r for r in residence),
        tuple(throughput * s.demand_s / s.servers if s.servers else 0.0 for s in stations),
        tuple(seen))


def _grown(previous: npt.NDArray[np.float64], busy: float) -> npt.NDArray[np.float64]:
    """P(j | n) from P(j | n − 1) at a single server busy `busy` of the time with n users:
    P(j | n) = busy·P(j − 1 | n − 1) for j ≥ 1, and P(0 | n) the rest."""
    out = np.empty(len(previous) + 1)
    out[1:] = busy * previous
    out[0] = max(0.0, 1.0 - float(out[1:].sum()))
    return out
