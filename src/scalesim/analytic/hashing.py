"""Each replica's share of a hash-balanced component's load, from the ring the simulation
routes on (spec/hashring.py) and the keys the workloads send.

A ring of 100 points per replica gives replicas unequal arcs, and the keys a run sends
(0, 1, 2, … for unique keys; 0 … count − 1 by their Zipf weights for `keys`) land on them
unevenly: two replicas of one component take 61 % and 39 %. Equal shares would have the
busier one at ρ 0.8 where it runs at 0.98. Every request of a workload carries its key to
every component it reaches, so a component's shares are its workloads', each weighted by
the visits it brings.

How bursty each replica's arrivals are follows from the keys too. Keys drawn at random
from a key space split a Poisson stream at random: Poisson again. Unique keys 0, 1, 2, …
do not: their crc32s spread so evenly that over thousands of keys a replica's count varies
by a few, as under round robin (a replica with 61 % of the keys got 0.0015 of the variance
per key of a random split's 0.24 over blocks of 16,384). Near saturation the queue follows
that long-run variability: the index of dispersion of a replica's arrivals, (s² + v)/s for
a share s whose counts vary by v per key over long blocks, is 1 for a random split and s
for a perfectly even one (round robin's 1/n); the station takes it as the arrivals' c_a²
(Allen–Cunneen). A replica at ρ 0.98 with 61 % of the keys waits 0.81 times what Poisson
arrivals would make it wait.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scalesim.analytic.load import peak_rate
from scalesim.spec import hashring
from scalesim.spec.model import Balancer, Component, System, Workload

# The most keys hashed per workload: unique keys past it (a run of over a million
# requests) and the rarest of a key space larger than that are left out.
MAX_KEYS = 1 << 20

# The longest blocks of keys over which a replica's count is measured are a 64th of the
# keys sent (so that the variance comes from 64 blocks or more).
BLOCKS = 64
# Replicas × blocks counted at once at most: with many replicas the shortest blocks are
# left out (between one key, a Bernoulli draw, and the shortest measured, interpolated).
MAX_CELLS = 1 << 22
# Keys of a key space hashed to their partition one by one (the simulator's hash, a call
# each); the rest, the rarest, are spread evenly over the partitions.
HASHED_KEYS = 1 << 14
# Replicas past which a ring is taken as even (its 100 points a replica hashed one by one
# would take seconds: 99,000 replicas are 9.9 million points).
MAX_RING_REPLICAS = 4096


@dataclass(frozen=True)
class Split:
    """How a component's load falls on its replicas, by replica index."""

    shares: npt.NDArray[np.float64]  # of the visits
    scales: npt.NDArray[np.float64]  # blocks of 1, 2, 4, … consecutive visits
    # the index of dispersion of each replica's arrivals counted over each scale (replicas ×
    # scales): 1 for Poisson, its share for a perfectly even split
    dispersion: npt.NDArray[np.float64]

    def dispersion_over(self, replicas: npt.NDArray[np.int64], visits: float
                        ) -> npt.NDArray[np.float64]:
        """The dispersion of `replicas`' arrivals over `visits` consecutive visits (a
        queue's relaxation time's worth), between the scales measured (log-linear)."""
        at = np.log2(np.clip(visits, 1.0, self.scales[-1]))
        return np.array([np.interp(at, np.log2(self.scales), self.dispersion[r])
                         for r in replicas])


def fixed_ring(component: Component) -> bool:
    """Whether `component` hashes keys onto a ring of two or more replicas (up to
    MAX_RING_REPLICAS) that stays as it is through a run (no autoscaler, versions or
    rollout)."""
    return component.balancer is Balancer.HASH and 1 < component.replicas <= MAX_RING_REPLICAS \
        and component.autoscale is None and not component.versions


def uneven(system: System) -> dict[str, dict[str, Split]]:
    """Per hash-balanced component of two or more fixed replicas (no autoscaler, versions or
    rollout, which change the ring during a run), each workload's split of its visits.
    The keys are hashed once for all (a workload's unique keys are a prefix of the longest
    run of them), and how evenly unique keys fall is measured once per component, on the
    longest run."""
    hashed = {cname: c.replicas for cname, c in system.components.items() if fixed_ring(c)}
    if not hashed:
        return {}
    keys = {w.name: _keys(system, w) for w in system.workloads}
    points = hashring.key_points(np.arange(max(count for count, _ in keys.values()),
                                           dtype=np.int64))
    out: dict[str, dict[str, Split]] = {}
    for cname, replicas in hashed.items():
        owners = hashring.owners(cname, replicas, points)
        scales, variance = _variances(owners, replicas)
        out[cname] = {}
        for name, (count, weights) in keys.items():
            counts = np.bincount(owners[:count], weights=weights, minlength=replicas)
            shares = counts.astype(np.float64) / float(counts.sum())
            if weights is not None:  # a random split of a Poisson stream is Poisson
                dispersion = np.ones((replicas, len(scales)))
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    dispersion = np.where(shares[:, None] > 0.0,
                                          (shares[:, None] ** 2 + variance) / shares[:, None],
                                          1.0)
            out[cname][name] = Split(shares, scales, dispersion)
    return out


def _variances(owners: npt.NDArray[np.int64], replicas: int
               ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Over blocks of m = 1, 2, 4, … consecutive keys, the variance per key of each
    replica's count in a block (replicas × scales): a random split's is s(1 − s), and so is
    any split's over one key."""
    shares = np.bincount(owners, minlength=replicas) / len(owners)
    scales, variance = [1.0], [shares * (1.0 - shares)]
    block = 2
    while block * BLOCKS <= len(owners):
        blocks = len(owners) // block
        if replicas * blocks <= MAX_CELLS:
            kept = owners[: blocks * block]
            per_block = np.bincount(kept * blocks + np.arange(len(kept)) // block,
                                    minlength=replicas * blocks).reshape(replicas, blocks)
            scales.append(float(block))
            variance.append(per_block.var(axis=1) / block)
        block *= 2
    return np.array(scales), np.stack(variance, axis=1)


def _keys(system: System, workload: Workload) -> tuple[int, npt.NDArray[np.float64] | None]:
    """How many keys a workload sends (its first MAX_KEYS), and their weights (None: one
    each): unique keys one per request from 0, over the run's expected requests; a key
    space's Zipf weights, as the simulation draws them (sim/compile.py)."""
    space = workload.key_space
    if space is None:
        simulation = system.simulation
        horizon = simulation.warmup + simulation.duration
        expected = horizon * peak_rate(workload) if workload.users is None else math.inf
        return (MAX_KEYS if not expected < MAX_KEYS else max(1, math.ceil(expected))), None
    count = min(space.count, MAX_KEYS)
    with np.errstate(over="ignore"):  # a huge skew: the far keys' weights are 0
        return count, 1.0 / np.arange(1, count + 1, dtype=np.float64) ** space.skew


def partition_shares(system: System) -> dict[str, dict[str, npt.NDArray[np.float64]]]:
    """Per partitioned topic, each workload's share of its records on each partition, as the
    simulation routes them (spec.hashring.partition_of): a key space's first
    HASHED_KEYS keys one by one, the rarer rest of its weight spread evenly; unique keys
    evenly (well mixed, they split a stream at random)."""
    out: dict[str, dict[str, npt.NDArray[np.float64]]] = {}
    for cname, component in system.components.items():
        count = component.partitions
        if count is None:
            continue
        out[cname] = {w.name: _partition_weights(w, count) for w in system.workloads}
    return out


def _partition_weights(workload: Workload, partitions: int) -> npt.NDArray[np.float64]:
    """One workload's share of its records on each of `partitions` (`partition_shares`)."""
    space = workload.key_space
    if space is None:
        return np.full(partitions, 1.0 / partitions)
    with np.errstate(over="ignore"):  # a huge skew: the far keys' weights are 0
        weights = 1.0 / np.arange(1, space.count + 1, dtype=np.float64) ** space.skew
    weights /= weights.sum()
    hashed = min(space.count, HASHED_KEYS)
    owners = np.fromiter(map(hashring.partition_of, range(hashed), itertools.repeat(partitions)),
                         dtype=np.int64, count=hashed)
    rest = float(weights[hashed:].sum())
    spread = np.bincount(owners, weights=weights[:hashed], minlength=partitions)
    return np.asarray(spread + rest / partitions, dtype=np.float64)


def component_split(by_workload: dict[str, Split], weights: dict[str, float]) -> Split | None:
    """A component's split: its workloads', each weighted by the visits it brings there
    (`weights`); the dispersion of a replica's arrivals is its streams', each weighted by
    its rate there (independent streams superposed). None when no workload comes."""
    total = sum(weights.get(name, 0.0) for name in by_workload)
    if not total > 0.0:
        return None
    first = next(iter(by_workload.values()))
    shares, spread = np.zeros(len(first.shares)), np.zeros(first.dispersion.shape)
    for name, split in by_workload.items():
        rate = weights.get(name, 0.0) / total * split.shares
        shares += rate
        spread += rate[:, None] * split.dispersion
    with np.errstate(divide="ignore", invalid="ignore"):
        return Split(shares, first.scales,
                     np.where(shares[:, None] > 0.0, spread / shares[:, None], 1.0))
