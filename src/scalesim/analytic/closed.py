"""A closed loop's view of the stations it visits, from Mean Value Analysis.

A closed loop's load is bounded by its users: the open formulas at its throughput (an M/M/1
at λ = X) describe a queue that can grow without bound and overstate its waits many times
near saturation. For each component whose traffic is the loop's alone, the wait comes from
MVA instead: per visit, the residence time less the service (exact for single-server
stations), distributed as the arrival theorem gives it — an arrival finds j requests with the
probability that N − 1 users leave there (`MvaResult.seen`), and then waits Erlang(j, c/S)
(exact for one exponential server; Seidmann's queueing part for c > 1). Past
`mva.MARGINAL_USERS` users the wait is exponential with MVA's mean.
"""

from __future__ import annotations

from dataclasses import dataclass

from scalesim.analytic import lattice
from scalesim.analytic.chains import erlang_mixture
from scalesim.analytic.lattice import Lattice
from scalesim.analytic.mva import MvaResult

SUFFIX = " in a closed loop (MVA)"  # added to a station's model


@dataclass(frozen=True)
class Visited:
    component: str
    visits: float  # visits per request
    demand_s: float  # service time per request (visits × per visit), as MVA took it
    pool: int  # servers (replicas × workers)
    exponential: bool  # the service time per visit is exponential


@dataclass(frozen=True)
class ClosedWait:
    """The wait of one visit to a component, as the loop's requests see it."""

    mean_s: float
    p_wait: float
    wait: Lattice
    exact: bool  # one exponential server: MVA's marginal is exact


def waits(result: MvaResult, visited: list[Visited | None],
          points: int = lattice.LEAF_POINTS) -> dict[str, ClosedWait]:
    """Per component (`visited[k]` is MVA station k; None: not wanted), the wait of one
    visit."""
    out = {}
    for k, station in enumerate(visited):
        if station is None or station.visits <= 0.0:
            continue
        service = station.demand_s / station.visits  # per visit
        mean_wait = max(0.0, result.residence_s[k] / station.visits - service)
        seen = result.seen[k] if k < len(result.seen) else None
        if seen is not None and service > 0.0:
            wait = erlang_mixture(seen, station.pool / service, points)
            p_wait = 1.0 - float(seen[0])
        else:
            p_wait = min(1.0, result.utilizations[k])
            wait = lattice.exponential_wait(p_wait, mean_wait, points)
        out[station.component] = ClosedWait(mean_wait, p_wait, wait,
                                            station.pool == 1 and station.exponential
                                            and seen is not None)
    return out
