"""The hash ring a `hash` balancer builds, and where a request key lands on it.

Part of what a spec means: the simulation routes on this ring (sim/mechanisms/balancer.py)
and the estimate takes each replica's share of the keys from it (analytic/hashing.py), so the
two agree on how unevenly a component's replicas are loaded.

A replica owns VIRTUAL_NODES points, each the crc32 of "{component}/{replica}/{v}"; a key's
point is the crc32 of its 8 bytes (little-endian), and it goes to the owner of the first
ring point after it (past the last, the first).

A partitioned topic's record goes to the partition `partition_of` its key: the simulation
appends it there (sim/data/partitions.py) and the estimate takes each partition's share of
the records from it (analytic/hashing.py).
"""

from __future__ import annotations

import zlib
from typing import Final

import numpy as np
import numpy.typing as npt

VIRTUAL_NODES: Final = 100  # points per replica on the hash ring. A replica's share of the
# keys deviates from the mean by about 18 % (one standard deviation over 300 component names,
# 3 or 10 replicas), not the sqrt(1/VIRTUAL_NODES) = 10 % of random points: crc32 is linear,
# and the labels hashed differ in a few bytes, so the points are not independent
# A virtual node's point is the crc32 of "{component}/{replica}/{v}"; these are the "{v}".
LABELS: Final = tuple(str(v).encode() for v in range(VIRTUAL_NODES))
LOW: Final = 0xFFFFFFFF  # a ring key's replica part
KEY_BYTES: Final = 8


def replica_points(component: str, ids: np.ndarray) -> np.ndarray:
    """The ring points of replicas `ids`, a row each. zlib carries a crc over from the bytes
    before, so the shared "{component}/{replica}/" is hashed once per replica and each point
    costs a call on one or two bytes, with no string to format."""
    points = np.empty((len(ids), VIRTUAL_NODES), np.uint64)
    for row, replica in enumerate(ids.tolist()):
        start = zlib.crc32(f"{component}/{replica}/".encode())
        points[row] = [zlib.crc32(label, start) for label in LABELS]
    return points


def ring_keys(component: str, ids: np.ndarray) -> np.ndarray:
    """The ring of replicas `ids` as sorted keys point << 32 | replica: sorting the keys sorts
    the (point, replica) pairs, which is the ring's order (equal points by replica index)."""
    keys = replica_points(component, ids)
    keys <<= np.uint64(32)
    keys |= ids.astype(np.uint64)[:, None]
    keys = keys.ravel()
    keys.sort()
    return keys


def owner_ids(keys: np.ndarray) -> np.ndarray:
    """The replica index in each ring key."""
    return (keys & np.uint64(LOW)).view(np.int64)


def _bit_crcs() -> tuple[int, npt.NDArray[np.uint32]]:
    """crc32 of eight zero bytes, and what setting each of the 64 bits changes in it: a
    crc of messages of one length is affine over GF(2), crc(a ^ b) = crc(a) ^ crc(b) ^
    crc(0), so a key's crc is the zeros' crc with the changes of its set bits xor-ed in."""
    zero = zlib.crc32(bytes(KEY_BYTES))
    changes = [zlib.crc32((1 << bit).to_bytes(KEY_BYTES, "little")) ^ zero
               for bit in range(8 * KEY_BYTES)]
    return zero, np.array(changes, np.uint32)


def key_points(keys: npt.NDArray[np.int64]) -> npt.NDArray[np.uint32]:
    """The ring point of each key (non-negative), as the balancer hashes one at a time,
    for arrays of millions of keys."""
    zero, changes = _bit_crcs()
    out = np.full(len(keys), zero, np.uint32)
    bits = keys.astype(np.uint64)
    for bit in range(8 * KEY_BYTES):
        if not (bits >> np.uint64(bit)).any():
            break  # no key has this bit or a higher one
        out ^= np.where((bits >> np.uint64(bit)) & np.uint64(1), changes[bit], np.uint32(0))
    return out


def owners(component: str, replicas: int, points: npt.NDArray[np.uint32]
           ) -> npt.NDArray[np.int64]:
    """The replica (0 … replicas − 1, all in rotation) each key of ring point `points`
    (`key_points`) goes to."""
    ring = ring_keys(component, np.arange(replicas, dtype=np.int64))
    after = np.searchsorted((ring >> np.uint64(32)).astype(np.int64), points.astype(np.int64),
                            side="right")
    return owner_ids(ring)[after % len(ring)]


_MASK: Final = (1 << 64) - 1


def partition_of(key: int, partitions: int) -> int:
    """A well-mixed hash of the key (the SplitMix64 finaliser; Kafka uses murmur2)."""
    z = (key + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return (z ^ (z >> 31)) % partitions
