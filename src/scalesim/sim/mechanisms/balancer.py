"""How a caller picks a replica: round robin, random, least requests, power of two choices,
and consistent hashing on the request key."""

from __future__ import annotations

import bisect
import zlib
from collections.abc import Sequence
from typing import Protocol

from scalesim.sim.random import Sampler

VIRTUAL_NODES = 100  # points per replica on the hash ring: each replica's share of keys
# deviates from the mean by about sqrt(1/VIRTUAL_NODES) ≈ 10 % (one standard deviation)


class Replica(Protocol):
    busy: int
    queued: int


class Balancer(Protocol):
    def pick(self, key: int) -> int: ...


class RoundRobin:
    __slots__ = ("n", "next")

    def __init__(self, n: int) -> None:
        self.n = n
        self.next = 0

    def pick(self, key: int) -> int:
        index = self.next
        self.next = index + 1 if index + 1 < self.n else 0
        return index


class Random:
    __slots__ = ("n", "uniform")

    def __init__(self, n: int, uniform: Sampler) -> None:
        self.n = n
        self.uniform = uniform

    def pick(self, key: int) -> int:
        return int(self.uniform.draw() * self.n)


class LeastRequests:
    """Fewest requests in the replica (in service + waiting); ties go to the lowest index.
    A full scan: exact, and cheap for the replica counts one caller sees."""

    __slots__ = ("replicas",)

    def __init__(self, replicas: Sequence[Replica]) -> None:
        self.replicas = replicas

    def pick(self, key: int) -> int:
        best, best_load = 0, -1
        for index, replica in enumerate(self.replicas):
            load = replica.busy + replica.queued
            if best_load < 0 or load < best_load:
                best, best_load = index, load
        return best


class PowerOfTwo:
    """Two distinct replicas at random, the less loaded wins (Envoy's least_request default)."""

    __slots__ = ("n", "replicas", "uniform")

    def __init__(self, replicas: Sequence[Replica], uniform: Sampler) -> None:
        self.replicas = replicas
        self.n = len(replicas)
        self.uniform = uniform

    def pick(self, key: int) -> int:
        n = self.n
        if n == 1:
            return 0
        first = int(self.uniform.draw() * n)
        second = int(self.uniform.draw() * (n - 1))
        if second >= first:
            second += 1
        a, b = self.replicas[first], self.replicas[second]
        return first if a.busy + a.queued <= b.busy + b.queued else second


class ConsistentHash:
    """A hash ring with virtual nodes: a key always lands on the same replica."""

    __slots__ = ("owners", "points")

    def __init__(self, n: int, component: str) -> None:
        ring = sorted((zlib.crc32(f"{component}/{r}/{v}".encode()), r)
                      for r in range(n) for v in range(VIRTUAL_NODES))
        self.points = [point for point, _ in ring]
        self.owners = [owner for _, owner in ring]

    def pick(self, key: int) -> int:
        index = bisect.bisect(self.points, zlib.crc32(key.to_bytes(8, "little")))
        return self.owners[index if index < len(self.owners) else 0]
