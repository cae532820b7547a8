"""Open Jackson networks: Poisson arrivals, exponential FCFS stations, random routing.

By Jackson's theorem each station behaves as an independent M/M/c queue fed at its total
arrival rate, so the mean end-to-end time is the visit-weighted sum of the station sojourns.
A station may be several identical replicas picked uniformly at random: a random split of a
Poisson stream is Poisson, so each replica is its own M/M/c at λ/replicas (which is slower
than one shared queue of replicas·servers workers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scalesim.analytic.markovian import mmc
from scalesim.analytic.measures import QueueMeasures


@dataclass(frozen=True)
class Station:
    mean_service_s: float
    servers: int = 1  # workers per replica
    replicas: int = 1  # independent queues behind a uniform random balancer
    visits: float = 1.0  # mean visits per request (1 in a tandem)


@dataclass(frozen=True)
class NetworkMeasures:
    mean_sojourn_s: float  # end to end: Σ visits · W of each station
    stations: tuple[QueueMeasures, ...]  # per replica of each station


def open_network(arrival_rate: float, stations: Sequence[Station]) -> NetworkMeasures:
    """Mean end-to-end time of requests that visit `stations` (a tandem when visits = 1)."""
    per_replica = tuple(
        mmc(arrival_rate * s.visits / s.replicas, 1.0 / s.mean_service_s, s.servers)
        for s in stations)
    total = sum(s.visits * m.mean_sojourn_s for s, m in zip(stations, per_replica, strict=True))
    return NetworkMeasures(total, per_replica)
