"""Load-balancer policies: exact cycles, exact minima, and distributions with derived bounds."""

from __future__ import annotations

import bisect
import math
import zlib
from collections import Counter
from typing import cast

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats
from tests.mechanisms._support import PROPERTY, uniform

from scalesim.sim.mechanisms.balancer import (
    ConsistentHash,
    LeastRequests,
    PowerOfTwo,
    Random,
    RoundRobin,
)
from scalesim.sim.plan import Frame, Replica
from scalesim.spec.hashring import VIRTUAL_NODES

# A fixed-seed chi-square test fails a correct sampler with probability 0.001 per seed; the
# seeds are fixed, so this is a deterministic check that the counts look uniform.
CHI2_P = 1e-3


def queue_up(replica: Replica, count: int) -> None:
    """`count` more requests waiting at `replica` (a balancer only counts them)."""
    for _ in range(count):
        replica.queue.append(cast(Frame, object()))


def replicas(loads: list[tuple[int, int]]) -> list[Replica]:
    out = []
    for index, (busy, queued) in enumerate(loads):
        r = Replica(index, False)
        r.busy = busy
        queue_up(r, queued)
        out.append(r)
    return out


# --- round robin and random ------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_round_robin_cycles_exactly(n: int) -> None:
    rr = RoundRobin(n)
    assert [rr.pick(key) for key in range(4 * n)] == list(range(n)) * 4


def test_random_is_uniform_over_replicas() -> None:
    n, picks = 8, 80_000
    bal = Random(n, uniform(11))
    counts = np.bincount([bal.pick(k) for k in range(picks)], minlength=n)
    assert len(counts) == n  # never out of range
    assert stats.chisquare(counts).pvalue > CHI2_P


# --- least requests --------------------------------------------------------------------------


loads = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=1, max_size=10)


@given(loads=loads)
@PROPERTY
def test_least_requests_picks_minimum_busy_plus_queued_lowest_index_on_ties(
        loads: list[tuple[int, int]]) -> None:
    totals = [busy + queued for busy, queued in loads]
    bal = LeastRequests(replicas(loads))
    assert bal.pick(0) == totals.index(min(totals))


def test_least_requests_follows_load_changes() -> None:
    reps = replicas([(1, 0), (0, 0), (0, 0)])
    bal = LeastRequests(reps)
    assert bal.pick(0) == 1  # scanned from 0: 1 and 2 tie at load 0, 1 comes first
    queue_up(reps[1], 2)
    assert bal.pick(0) == 2
    reps[0].busy = 0
    assert bal.pick(0) == 2  # 0 and 2 tie at load 0: scanned from 2 this time


def test_least_requests_takes_ties_in_turn() -> None:
    """Equally loaded replicas are taken round robin (NGINX least_conn, HAProxy leastconn),
    not the lowest index every time; a less loaded one still wins wherever the scan starts."""
    reps = replicas([(0, 0), (0, 0), (0, 0)])
    bal = LeastRequests(reps)
    assert [bal.pick(0) for _ in range(6)] == [0, 1, 2, 0, 1, 2]
    reps[1].busy = 1
    assert [bal.pick(0) for _ in range(3)] == [0, 2, 2]


# --- power of two choices --------------------------------------------------------------------


@given(loads=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=2,
                      max_size=8), seed=st.integers(0, 2**32 - 1))
@PROPERTY
def test_p2c_never_picks_a_replica_more_loaded_than_all_others(
        loads: list[tuple[int, int]], seed: int) -> None:
    totals = [busy + queued for busy, queued in loads]
    bal = PowerOfTwo(replicas(loads), uniform(seed))
    for _ in range(50):
        pick = bal.pick(0)
        others = totals[:pick] + totals[pick + 1:]
        assert totals[pick] <= max(others)


def test_p2c_with_two_distinct_loads_always_picks_the_lighter() -> None:
    # Only possible if the two candidates are always distinct replicas.
    for loads in ([(0, 0), (1, 0)], [(2, 3), (0, 1)]):
        bal = PowerOfTwo(replicas(loads), uniform(5))
        lighter = 0 if sum(loads[0]) < sum(loads[1]) else 1
        assert {bal.pick(0) for _ in range(1000)} == {lighter}


def test_p2c_pick_distribution_is_that_of_distinct_pairs() -> None:
    """With n replicas of distinct loads, the k-th lightest (k = 0, 1, ...) wins exactly when
    it is drawn with a heavier one: probability (n - 1 - k) / C(n, 2) for two distinct uniform
    candidates. Sampling with replacement would give (2(n-k) - 1) / n^2 instead, and the
    heaviest would win sometimes."""
    n, picks = 5, 50_000
    reps = replicas([(3, 0), (0, 0), (4, 1), (1, 0), (2, 0)])  # loads 3 0 5 1 2
    rank = {index: k for k, index in enumerate(sorted(range(n),
                                                      key=lambda i: reps[i].busy + reps[i].queued))}
    bal = PowerOfTwo(reps, uniform(21))
    by_rank = Counter(rank[bal.pick(0)] for _ in range(picks))
    assert by_rank[n - 1] == 0  # the heaviest never wins
    observed = np.array([by_rank[k] for k in range(n - 1)])
    expected = np.array([(n - 1 - k) / math.comb(n, 2) for k in range(n - 1)]) * picks
    assert stats.chisquare(observed, expected).pvalue > CHI2_P


def test_p2c_single_replica() -> None:
    assert PowerOfTwo(replicas([(9, 9)]), uniform(1)).pick(0) == 0


# --- consistent hashing ----------------------------------------------------------------------


def arc_shares(ring: ConsistentHash, n: int) -> np.ndarray:
    """The exact fraction of the 32-bit hash space each replica owns: a key hashing into
    [points[i-1], points[i]) goes to owners[i] (wrapping around at the end)."""
    points = np.array(ring.points, dtype=np.int64)
    arcs = np.diff(np.concatenate([[points[-1] - 2**32], points]))
    return np.bincount(np.array(ring.owners), weights=arcs, minlength=n) / 2**32


def relative_spread_sd(n: int, v: int = VIRTUAL_NODES) -> float:
    """The relative sd of one replica's share of a ring of n·v random points: the share is a
    Beta(v, (n-1)·v) variable, whose variance over its squared mean is (n-1)/(n·v+1)."""
    return math.sqrt((n - 1) / (n * v + 1))


def test_same_key_always_maps_to_same_replica() -> None:
    a, b = ConsistentHash(8, "svc"), ConsistentHash(8, "svc")
    keys = range(0, 10_000_000, 997)
    first = [a.pick(k) for k in keys]
    assert first == [a.pick(k) for k in keys]  # stable over time
    assert first == [b.pick(k) for k in keys]  # and across instances (no hidden randomness)


def test_keys_land_in_proportion_to_the_ring_arcs() -> None:
    """Picks follow the ring geometry: each replica's key fraction equals its exact arc share
    up to binomial noise (5 standard errors)."""
    n, count = 8, 100_000
    ring = ConsistentHash(n, "svc")
    share = arc_shares(ring, n)
    keys = np.random.default_rng(3).integers(0, 2**62, count)
    frac = np.bincount([ring.pick(int(k)) for k in keys], minlength=n) / count
    assert np.all(np.abs(frac - share) < 5 * np.sqrt(share * (1 - share) / count))


def test_keys_spread_evenly_within_the_virtual_node_bound() -> None:
    """100k sequential keys over 8 replicas. With 100 virtual nodes per replica, a replica's
    share has a relative sd of sqrt(7/801) ≈ 9.3 % (plus ≈ 0.8 % key noise), so a ±10 % bound
    would be only about 1 sd: the derived bound is 4 sd ≈ ±38 % for every replica."""
    n, count = 8, 100_000
    ring = ConsistentHash(n, "api")
    counts = np.bincount([ring.pick(k) for k in range(count)], minlength=n)
    sd = math.sqrt(relative_spread_sd(n) ** 2 + (n - 1) / count)
    assert np.all(np.abs(counts / (count / n) - 1) < 4 * sd)


def test_spread_over_many_rings_matches_virtual_node_theory() -> None:
    """Pooled over 40 rings of 8 replicas, the sd of the relative shares is sqrt(7/801). Its
    estimate from 320 shares (280 degrees of freedom) has a relative standard error of about
    1/sqrt(2·280) ≈ 4.2 %; ±20 % is about 5 standard errors. A ring whose virtual nodes were
    clustered, or too few, would fail."""
    n = 8
    rel = np.concatenate([arc_shares(ConsistentHash(n, f"component-{c}"), n) * n
                          for c in range(40)])
    sd = math.sqrt(np.mean((rel - 1.0) ** 2))  # the mean share is exactly 1/n
    assert abs(sd / relative_spread_sd(n) - 1) < 0.20


@pytest.mark.parametrize("n", [3, 8])
def test_adding_a_replica_moves_only_keys_to_the_new_one(n: int) -> None:
    """The ring with n+1 replicas contains the ring with n plus the new replica's points, so a
    key either stays or moves to the new replica; the moved fraction is the new replica's arc
    share, which is 1/(n+1) up to the virtual-node spread (4 sd)."""
    old, new = ConsistentHash(n, "db"), ConsistentHash(n + 1, "db")
    keys = range(50_000)
    before = np.array([old.pick(k) for k in keys])
    after = np.array([new.pick(k) for k in keys])
    moved = before != after
    assert set(after[moved].tolist()) <= {n}
    share = arc_shares(new, n + 1)[n]
    assert abs(moved.mean() - share) < 5 * math.sqrt(share * (1 - share) / len(keys))
    assert abs(moved.mean() * (n + 1) - 1) < 4 * relative_spread_sd(n + 1)


def reference_ring(component: str, ids: list[int]) -> tuple[list[int], list[int]]:
    """The ring as first written, from scratch: every (crc32, replica index) pair sorted, and
    each point's owner as the position of its replica in `ids`."""
    position = {replica: at for at, replica in enumerate(ids)}
    ring = sorted((zlib.crc32(f"{component}/{r}/{v}".encode()), r)
                  for r in ids for v in range(VIRTUAL_NODES))
    return [point for point, _ in ring], [position[owner] for _, owner in ring]


def reference_pick(ring: tuple[list[int], list[int]], key: int) -> int:
    points, owners = ring
    index = bisect.bisect(points, zlib.crc32(key.to_bytes(8, "little")))
    return owners[index if index < len(owners) else 0]


@pytest.mark.parametrize(("n", "component"), [(1, "a"), (8, "svc"), (250, "api/v2"),
                                              (1_000, "shard")])
def test_the_packed_ring_holds_the_sorted_pairs(n: int, component: str) -> None:
    ring = ConsistentHash(n, component)
    assert (list(ring.points), list(ring.owners)) == reference_ring(component, list(range(n)))


@given(first=st.lists(st.integers(0, 19), unique=True, max_size=8),
       changes=st.lists(st.integers(-1, 7), max_size=6))
@example(first=[4, 2, 0, 1, 3], changes=[])  # the same replicas in another order
@settings(PROPERTY, max_examples=60)
def test_after_joins_and_leaves_the_ring_is_the_one_built_for_the_members(
        first: list[int], changes: list[int]) -> None:
    """The ring starts over replicas 0..4 and is then given members in any order (a lane's
    ring is made over positions, then updated with its replicas); then each change is a
    join of a new replica (-1) or the leave of the one at a position, as autoscaling and
    rollouts do. After every update the ring, and so every pick, is the one built from
    scratch for the members: the points of those that stay are reused, not reordered."""
    reps = [Replica(index, False) for index in range(20 + len(changes))]
    ring = ConsistentHash(5, "db")
    live = [reps[index] for index in first]
    newest = 20
    for change in [None, *changes]:
        if change == -1:
            live.append(reps[newest])
            newest += 1
        elif change is not None and live:
            live.pop(change % len(live))
        ring.update(live)
        expected = reference_ring("db", [replica.index for replica in live])
        assert (list(ring.points), list(ring.owners)) == expected
        if live:
            assert [ring.pick(k) for k in range(50)] == [reference_pick(expected, k)
                                                         for k in range(50)]


# --- choosing again when the choice is out of rotation ------------------------------------------


def out_of_rotation(replicas_: list[Replica], *indices: int) -> list[Replica]:
    for index in indices:
        replicas_[index].routable = False
    return replicas_


def place(balancer: RoundRobin | Random | PowerOfTwo | LeastRequests | ConsistentHash,
          reps: list[Replica], key: int, avoid: int = -1) -> int:
    """What the kernel's _place does: the policy's choice, or its choice among the others."""
    at = balancer.pick(key)
    if reps[at].routable and reps[at].index != avoid:
        return at
    return balancer.repick(reps, key, avoid)


def test_round_robin_skips_a_replica_out_of_rotation_and_cycles_over_the_rest() -> None:
    # Envoy balances over the healthy hosts only: with replica 0 ejected, the other four take
    # a quarter each, in turn; none takes replica 0's share on top of its own.
    reps = out_of_rotation(replicas([(0, 0)] * 5), 0)
    rr = RoundRobin(5)
    picks = [place(rr, reps, key) for key in range(400)]
    assert Counter(picks) == {1: 100, 2: 100, 3: 100, 4: 100}


def test_random_is_uniform_over_the_replicas_in_rotation() -> None:
    reps = out_of_rotation(replicas([(0, 0)] * 6), 0, 3)
    bal = Random(6, uniform(5))
    picks = [place(bal, reps, key) for key in range(60_000)]
    counts = np.bincount(picks, minlength=6)
    assert counts[0] == counts[3] == 0
    assert stats.chisquare(counts[[1, 2, 4, 5]]).pvalue > CHI2_P


def test_a_retry_avoiding_a_replica_goes_to_any_other_at_random() -> None:
    reps = replicas([(0, 0)] * 4)
    bal = Random(4, uniform(9))
    picks = [place(bal, reps, key, avoid=2) for key in range(40_000)]
    counts = np.bincount(picks, minlength=4)
    assert counts[2] == 0
    assert stats.chisquare(counts[[0, 1, 3]]).pvalue > CHI2_P


def test_least_requests_takes_the_least_loaded_replica_in_rotation() -> None:
    reps = out_of_rotation(replicas([(0, 0), (2, 1), (1, 0), (3, 0)]), 0)
    assert place(LeastRequests(reps), reps, 0) == 2


def test_power_of_two_never_picks_a_replica_out_of_rotation() -> None:
    reps = out_of_rotation(replicas([(0, 0)] * 5), 1, 4)
    bal = PowerOfTwo(reps, uniform(3))
    assert {place(bal, reps, key) for key in range(2_000)} == {0, 2, 3}


def test_a_hash_key_of_a_replica_out_of_rotation_moves_to_others_and_the_rest_stay() -> None:
    # As if the replica's points left the ring: its keys go to the next points' owners (more
    # than one replica, thanks to the virtual nodes); no other key moves.
    reps = replicas([(0, 0)] * 4)
    ring = ConsistentHash(4, "db")
    before = {key: place(ring, reps, key) for key in range(4_000)}
    out_of_rotation(reps, 1)
    after = {key: place(ring, reps, key) for key in range(4_000)}
    moved = {key for key in before if before[key] != after[key]}
    assert moved == {key for key, owner in before.items() if owner == 1}
    assert {after[key] for key in moved} == {0, 2, 3}


@pytest.mark.parametrize("make", [lambda r: RoundRobin(3), lambda r: Random(3, uniform(1)),
                                  LeastRequests, lambda r: PowerOfTwo(r, uniform(2)),
                                  lambda r: ConsistentHash(3, "x")])
def test_none_in_rotation_is_minus_one(make: object) -> None:
    reps = out_of_rotation(replicas([(0, 0)] * 3), 0, 1, 2)
    balancer = make(reps)  # type: ignore[operator]
    assert balancer.repick(reps, 7, -1) == -1
