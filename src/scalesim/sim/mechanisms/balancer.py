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

import zlib
from typing import TYPE_CHECKING

import numpy as np
from librt.vecs import vec
from mypy_extensions import i32, i64

from scalesim.sim.random import Sampler
from scalesim.spec.hashring import KEY_BYTES, owner_ids, ring_keys

if TYPE_CHECKING:
    # plan.py imports this module. Typed with the real class, the compiled balancers read a
    # replica's fields directly; through a protocol they looked each one up by name.
    from scalesim.sim.plan import Replica


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
    """Fewest requests in the replica (in service + waiting), ties taken in turn: each pick
    scans from the replica after the last pick's starting one, as NGINX's least_conn and
    HAProxy's leastconn go round robin among the equally loaded (ties to the lowest index
    sent every request of a steady, lightly loaded stream to replica 0). A full scan: exact,
    and cheap for the replica counts one caller sees."""

    __slots__ = ("next", "replicas")

    def __init__(self, replicas: list[Replica]) -> None:
        self.replicas = replicas
        self.next = 0  # where the next scan starts

    def pick(self, key: int) -> int:
        replicas = self.replicas  # a list, not any sequence: compiled, indexing it is direct
        n = len(replicas)
        start = self.next
        self.next = start + 1 if start + 1 < n else 0
        best, best_load = start, load(replicas[start])
        index = start
        for _ in range(1, n):
            index = index + 1 if index + 1 < n else 0
            here = load(replicas[index])
            if here < best_load:
                best, best_load = index, here
        return best

    def update(self, replicas: list[Replica]) -> None:
        self.replicas = replicas
        if self.next >= len(replicas):
            self.next = 0

    def repick(self, replicas: list[Replica], key: int, avoid: int) -> int:
        """The least loaded eligible one, ties taken in turn as `pick` takes them."""
        positions = eligible_positions(replicas, avoid)
        if not positions:
            return -1
        start = self.next
        self.next = start + 1 if start + 1 < len(replicas) else 0
        first = next((i for i, at in enumerate(positions) if at >= start), 0)
        best, best_load = -1, 0
        for i in range(len(positions)):
            at = positions[(first + i) % len(positions)]
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
    a replica come from its index, so adding or removing one moves only its own keys.

    The ring is two packed arrays (8 bytes a point, 4 an owner) rather than lists of Python
    ints (about 180 bytes a point with the tuples they were sorted from): 99,000 replicas are
    9.9 million points. Compiled, the lookup is a binary search over C integers."""

    __slots__ = ("component", "members", "owners", "points")

    def __init__(self, n: int, component: str) -> None:
        self.component = component
        self.members = np.arange(n, dtype=np.int64)  # replica index by position
        self._set(ring_keys(component, self.members))

    def _set(self, keys: np.ndarray) -> None:
        """Unpacks sorted ring keys into the arrays the lookup reads: each point and the
        position of its owner among `members`."""
        members = self.members
        position = np.zeros(int(members.max()) + 1 if len(members) else 0, np.int32)
        position[members] = np.arange(len(members), dtype=np.int32)
        self.points = vec[i64]((keys >> np.uint64(32)).view(np.int64))
        self.owners = vec[i32](position[owner_ids(keys)])

    def _keys(self) -> np.ndarray:
        """The ring as sorted keys again, read from the packed arrays in place."""
        points = np.frombuffer(memoryview(self.points), np.uint64)
        owners = np.frombuffer(memoryview(self.owners), np.int32)
        keys = points << np.uint64(32)
        keys |= self.members[owners].view(np.uint64)
        return keys

    def update(self, replicas: list[Replica]) -> None:
        """The ring of the new members from the old one: the points of those that left are
        dropped and those of the ones that joined merged in, so only newcomers' points are
        hashed. The result is the ring built from scratch for these members."""
        ids = np.fromiter((replica.index for replica in replicas), np.int64, len(replicas))
        if np.array_equal(ids, self.members):
            return
        keys = self._keys()
        keys = keys[np.isin(owner_ids(keys), ids, kind="table")]
        joined = ring_keys(self.component, ids[~np.isin(ids, self.members, kind="table")])
        self.members = ids
        self._set(np.insert(keys, np.searchsorted(keys, joined), joined))

    def _after(self, key: int) -> i64:
        """The position on the ring of the first point after the key's hash (bisect_right,
        written out: compiled, it reads the packed points without making an int of each)."""
        point: i64 = zlib.crc32(key.to_bytes(KEY_BYTES, "little"))
        points = self.points
        low: i64 = 0
        high: i64 = len(points)
        while low < high:
            middle = (low + high) >> 1
            if point < points[middle]:
                high = middle
            else:
                low = middle + 1
        return low

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
