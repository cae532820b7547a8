"""A closed loop's view of the stations it visits, from Mean Value Analysis.

A closed loop's load is bounded by its users: the open formulas at its throughput (an M/M/1
at λ = X) describe a queue that can grow without bound and overstate its waits many times
near saturation. For each component whose traffic is the loop's alone, the wait comes from
MVA instead: per visit, the residence time less the service (exact for single-server
stations), distributed as the arrival theorem gives it — an arrival finds j requests with the
probability that N − 1 users leave there (`MvaResult.seen`), and then waits Erlang(j, c/S)
(exact for one exponential server; Seidmann's queueing part for c > 1). Past
`mva.MARGINAL_USERS` users the wait is exponential with MVA's mean.

A component of the loop with a bounded `queue` holds at most K requests per queue (workers
+ queue places); when the loop's users outnumber that, the others are refused and send
again after their think time, which MVA (every user waits its turn) cannot see. Such a
component is taken as the finite-source queue M/M/c/K/N (`finite_source`): each queue with
its share N/q of the users, its service the time a visit holds its place: its own work and,
when it blocks, what its synchronous calls wait for, with all its workers busy (as they are
while it refuses: MVA of what its visits wait on, its workers for users); and the rest of
the loop (think time, network, the other stations at MVA's residences) as the users' time
away from it. Exact for one queue, exponential work and exponential think time with
nothing else in the loop; approximate otherwise (several replica queues each given N/q
users, other stations at their residences without refusals, non-exponential times). With
several such components, the one that refuses the most binds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scalesim.analytic import lattice
from scalesim.analytic.chains import erlang_mixture
from scalesim.analytic.finite_source import finite_source
from scalesim.analytic.lattice import Lattice
from scalesim.analytic.mva import MvaResult, MvaStation, mva

SUFFIX = " in a closed loop (MVA)"  # added to a station's model
REFUSING = " in a closed loop (M/M/c/K/N)"  # added to a bounded one's that refuses


def in_loop(model: str) -> bool:
    """Whether a station's wait is a closed loop's view (its users bound its load)."""
    return model.endswith((SUFFIX, REFUSING))


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
    loss: float = 0.0  # P(a visit is refused): a bounded queue full (`refused`)
    utilization: float | None = None  # servers busy / servers, when not the open formula's
    suffix: str = SUFFIX  # added to the station's model


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


@dataclass(frozen=True)
class Bounded:
    """A component of the loop with a bounded queue, as the loop's requests visit it."""

    component: str
    station: int  # its MVA station
    visits: float  # per request
    demand_s: float  # its own service per request, as MVA took it
    servers: int  # per queue
    queues: int
    capacity: int  # places per queue: servers + queue
    # per other MVA station, the share of its residence spent inside these visits (what a
    # blocking component's visits wait on while they hold their place)
    inside: Mapping[int, float]
    inside_hops_s: float  # network time inside these visits, per request
    exponential: bool  # its own service time is exponential


@dataclass(frozen=True)
class Refusal:
    """The loop with its users refused at a full bounded queue and sending again."""

    component: str
    rate_rps: float  # requests sent a second, those refused included
    mean_s: float  # mean response of the requests let in
    view: ClosedWait  # the component's wait and loss, as the loop sees them


def _held_s(bounded: Bounded, stations: Sequence[MvaStation]) -> float:
    """The time a request holds its places at a bounded component (its visits' own work
    and what they wait on inside), all its workers busy: MVA of the stations inside (their
    share of each), its workers for users and its own work as their think time."""
    if not bounded.inside:
        return bounded.demand_s
    inside = [MvaStation(part * stations[k].demand_s, stations[k].servers)
              for k, part in bounded.inside.items()]
    inside.append(MvaStation(bounded.inside_hops_s, None))
    return bounded.demand_s + mva(bounded.servers * bounded.queues, bounded.demand_s,
                                  inside).response_s


def refused(users: int, think_s: float, exponential_think: bool,
            stations: Sequence[MvaStation], result: MvaResult, bounded_ones: Sequence[Bounded],
            points: int = lattice.LEAF_POINTS) -> Refusal | None:
    """The binding bounded component's finite-source queue (see the module's docstring),
    from MVA's `result` for the loop over `stations`; None when none of `bounded_ones` can
    refuse (a queue holds its share of the users)."""
    best: tuple[float, Refusal] | None = None
    for bounded in bounded_ones:
        share = users / bounded.queues
        if share <= bounded.capacity or bounded.visits <= 0.0:
            continue
        inside = bounded.inside_hops_s + sum(part * result.residence_s[k]
                                             for k, part in bounded.inside.items())
        outside = think_s + result.response_s - result.residence_s[bounded.station] - inside
        found = finite_source(share, max(0.0, outside) / bounded.visits, bounded.servers,
                              bounded.capacity, _held_s(bounded, stations) / bounded.visits)
        if found.loss <= 0.0 or (best is not None and found.loss <= best[0]):
            continue
        alone = abs(outside - think_s) <= 1e-12 * max(1.0, think_s)  # nothing but thinking
        exact = bounded.queues == 1 and bounded.exponential and exponential_think \
            and not bounded.inside and alone and bounded.visits == 1.0
        held = found.in_station / found.served_rps if found.served_rps > 0.0 else math.inf
        view = ClosedWait(found.wait_s, found.p_wait, found.wait(points), exact, found.loss,
                          found.busy / found.servers, REFUSING)
        best = found.loss, Refusal(
            bounded.component, found.attempts_rps * bounded.queues / bounded.visits,
            outside - think_s + bounded.visits * held, view)
    return None if best is None else best[1]
