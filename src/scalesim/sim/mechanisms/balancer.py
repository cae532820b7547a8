"""How a caller picks a replica: round robin, random, least requests, power of two choices,
and consistent hashing on the request key.

`pick` returns a position in the list of replicas in rotation. When that list changes
(autoscaling, rollouts), the owner calls `update` with it, off the request path. A replica
can be in the list but out of rotation for a while (not ready, ejected by outlier
detection) or be the one a retry avoids; when `pick` chose such a one, `repick` chooses again
among the others by the same policy, as Envoy balances over the healthy hosts only and
Kubernetes drops a NotReady pod from the endpoints: the load of the one left out is spread
over the rest, not handed to its neighbour."""

from __future__ import annotations

import bisect
import zlib
from typing import TYPE_CHECKING, Final

from scalesim.sim.random import Sampler

if TYPE_CHECKING:
    # plan.py imports this module. Typed with the real class, the compiled balancers read a
    # replica's fields directly; through a protocol they looked each one up by name.
    from scalesim.sim.plan import Replica

VIRTUAL_NODES: Final = 100  # points per replica on the hash ring: each replica's share of keys
# deviates from the mean by about sqrt(1/VIRTUAL_NODES) ≈ 10 % (one standard deviation)


class Balancer:
    """What every policy does. A base class rather than a protocol: compiled, the kernel's
    `balancer.pick(key)` is then a call through the class's method table, not a method
    looked up by name on every request."""

    __slots__ = ()

    def pick(self, key: int) -> int:
        raise NotImplementedError

    def update(self, replicas: list[Replica]) -> None:
        raise NotImplementedError

    def repick(self, replicas: list[Replica], key: int, avoid: int) -> int:
        """A position among the replicas that are in rotation and not `avoid` (a replica
        index), or -1 if there is none."""
        raise NotImplementedError


def eligible(replica: Replica, avoid: int) -> bool:
    return replica.routable and replica.index != avoid


def eligible_positions(replicas: list[Replica], avoid: int) -> list[int]:
    return [at for at in range(len(replicas)) if eligible(replicas[at], avoid)]


class RoundRobin(Balancer):
    __slots__ = ("n", "next")

    def __init__(self, n: int) -> None:
        self.n = n
        self.next = 0

    def pick(self, key: int) -> int:
        index = self.next
        self.next = index + 1 if index + 1 < self.n else 0
        return index

    def update(self, replicas: list[Replica]) -> None:
        self.n = len(replicas)
        if self.next >= self.n:
            self.next = 0

    def repick(self, replicas: list[Replica], key: int, avoid: int) -> int:
        """The next eligible one in turn: the cycle skips those out of rotation."""
        for _ in range(self.n):
            at = self.pick(key)
            if eligible(replicas[at], avoid):
                return at
        return -1


class Random(Balancer):
    __slots__ = ("n", "uniform")

    def __init__(self, n: int, uniform: Sampler) -> None:
        self.n = n
        self.uniform = uniform

    def pick(self, key: int) -> int:
        return int(self.uniform.draw() * self.n)

    def update(self, replicas: list[Replica]) -> None:
        self.n = len(replicas)

    def repick(self, replicas: list[Replica], key: int, avoid: int) -> int:
        """Uniform over the eligible ones."""
        positions = eligible_positions(replicas, avoid)
        if not positions:
            return -1
        return positions[int(self.uniform.draw() * len(positions))]


class LeastRequests(Balancer):
    """Fewest requests in the replica (in service + waiting); ties go to the lowest index.
    A full scan: exact, and cheap for the replica counts one caller sees."""

    __slots__ = ("replicas",)

    def __init__(self, replicas: list[Replica]) -> None:
        self.replicas = replicas

    def pick(self, key: int) -> int:
        replicas = self.replicas  # a list, not any sequence: compiled, indexing it is direct
        first = replicas[0]
        best, best_load = 0, first.busy + first.queue.size
        for index in range(1, len(replicas)):
            replica = replicas[index]
            load = replica.busy + replica.queue.size
            if load < best_load:
                best, best_load = index, load
        return best

    def update(self, replicas: list[Replica]) -> None:
        self.replicas = replicas

    def repick(self, replicas: list[Replica], key: int, avoid: int) -> int:
        """The least loaded eligible one."""
        best, best_load = -1, 0
        for at in eligible_positions(replicas, avoid):
            replica = replicas[at]
            load = replica.busy + replica.queue.size
            if best < 0 or load < best_load:
                best, best_load = at, load
        return best


class PowerOfTwo(Balancer):
    """Two distinct replicas at random, the less loaded wins (Envoy's least_request default)."""

    __slots__ = ("n", "replicas", "uniform")

    def __init__(self, replicas: list[Replica], uniform: Sampler) -> None:
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
        return first if a.busy + a.queue.size <= b.busy + b.queue.size else second

    def update(self, replicas: list[Replica]) -> None:
        self.replicas = replicas
        self.n = len(replicas)

    def repick(self, replicas: list[Replica], key: int, avoid: int) -> int:
        """Two distinct eligible ones at random, the less loaded wins."""
        positions = eligible_positions(replicas, avoid)
        n = len(positions)
        if n <= 1:
            return positions[0] if n else -1
        first = int(self.uniform.draw() * n)
        second = int(self.uniform.draw() * (n - 1))
        if second >= first:
            second += 1
        a, b = replicas[positions[first]], replicas[positions[second]]
        return positions[first] if a.busy + a.queue.size <= b.busy + b.queue.size \
            else positions[second]


class ConsistentHash(Balancer):
    """A hash ring with virtual nodes: a key always lands on the same replica. The points of
    a replica come from its index, so adding or removing one moves only its own keys."""

    __slots__ = ("component", "owners", "points")

    def __init__(self, n: int, component: str) -> None:
        self.component = component
        self.points: list[int] = []
        self.owners: list[int] = []
        self._build(list(range(n)))

    def _build(self, ids: list[int]) -> None:
        position = {replica: at for at, replica in enumerate(ids)}
        ring = sorted((zlib.crc32(f"{self.component}/{r}/{v}".encode()), r)
                      for r in ids for v in range(VIRTUAL_NODES))
        self.points = [point for point, _ in ring]
        self.owners = [position[owner] for _, owner in ring]

    def update(self, replicas: list[Replica]) -> None:
        self._build([replica.index for replica in replicas])

    def pick(self, key: int) -> int:
        index = bisect.bisect(self.points, zlib.crc32(key.to_bytes(8, "little")))
        return self.owners[index if index < len(self.owners) else 0]

    def repick(self, replicas: list[Replica], key: int, avoid: int) -> int:
        """The owner of the next point on the ring that is eligible: a key of a replica out
        of rotation moves to the replica after it on the ring, as if its points were gone."""
        owners = self.owners
        count = len(owners)
        start = bisect.bisect(self.points, zlib.crc32(key.to_bytes(8, "little")))
        for step in range(count):
            owner = owners[(start + step) % count]
            if eligible(replicas[owner], avoid):
                return owner
        return -1
