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


def load(replica: Replica) -> int:
    """Requests at a replica: in service and waiting (what least requests compares)."""
    return replica.busy + replica.queue.size


def two_distinct(uniform: Sampler, n: int) -> tuple[int, int]:
    """Two different positions of n (n ≥ 2), uniformly at random."""
    first = int(uniform.draw() * n)
    second = int(uniform.draw() * (n - 1))
    return first, second + 1 if second >= first else second


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
        best, best_load = 0, load(replicas[0])
        for index in range(1, len(replicas)):
            here = load(replicas[index])
            if here < best_load:
                best, best_load = index, here
        return best

    def update(self, replicas: list[Replica]) -> None:
        self.replicas = replicas

    def repick(self, replicas: list[Replica], key: int, avoid: int) -> int:
        """The least loaded eligible one."""
        best, best_load = -1, 0
        for at in eligible_positions(replicas, avoid):
            here = load(replicas[at])
            if best < 0 or here < best_load:
                best, best_load = at, here
        return best


class PowerOfTwo(Balancer):
    """Two distinct replicas at random, the less loaded wins (Envoy's least_request default)."""

    __slots__ = ("n", "replicas", "uniform")

    def __init__(self, replicas: list[Replica], uniform: Sampler) -> None:
        self.replicas = replicas
        self.n = len(replicas)
        self.uniform = uniform

    def pick(self, key: int) -> int:
        if self.n == 1:
            return 0
        first, second = two_distinct(self.uniform, self.n)
        replicas = self.replicas
        return first if load(replicas[first]) <= load(replicas[second]) else second

    def update(self, replicas: list[Replica]) -> None:
        self.replicas = replicas
        self.n = len(replicas)

    def repick(self, replicas: list[Replica], key: int, avoid: int) -> int:
        """Two distinct eligible ones at random, the less loaded wins."""
        positions = eligible_positions(replicas, avoid)
        if len(positions) <= 1:
            return positions[0] if positions else -1
        first, second = two_distinct(self.uniform, len(positions))
        a, b = positions[first], positions[second]
        return a if load(replicas[a]) <= load(replicas[b]) else b


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

    def _after(self, key: int) -> int:
        """The position on the ring of the first point after the key's hash."""
        return bisect.bisect(self.points, zlib.crc32(key.to_bytes(8, "little")))

    def pick(self, key: int) -> int:
        index = self._after(key)
        return self.owners[index if index < len(self.owners) else 0]

    def repick(self, replicas: list[Replica], key: int, avoid: int) -> int:
        """The owner of the next point on the ring that is eligible: a key of a replica out
        of rotation moves to the replica after it on the ring, as if its points were gone."""
        owners = self.owners
        count = len(owners)
        start = self._after(key)
        for step in range(count):
            owner = owners[(start + step) % count]
            if eligible(replicas[owner], avoid):
                return owner
        return -1
