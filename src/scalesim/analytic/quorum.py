"""Replication latency and staleness by formula or direct Monte Carlo: the k-th order
statistic of exponential replica delays (commit latency of a majority or quorum), and the
WARS model of Bailis et al. ("Probabilistically Bounded Staleness", VLDB 2012) for the chance
that a read t after a write's commit sees it. The simulation computes the same things event
by event; these give the expected outcome of a spec before it runs (templates, docs), and
the waits a visit spends on its replicas (`replication_wait`) to the estimate and the
offered load."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from scalesim.analytic.lattice import (
    LEAF_POINTS,
    Lattice,
    capped,
    mixture,
    of,
    order_statistic,
    total,
    uniform,
    zero,
)
from scalesim.spec.consistency import Replication
from scalesim.spec.dists import AnyDistribution
from scalesim.spec.model import Balancer, Component, System

# Balancers that pick a replica by its requests: least_requests and p2c.
POOLED = (Balancer.LEAST_REQUESTS, Balancer.P2C)


class SemiSync(NamedTuple):
    """A semi-sync store's commits at a write rate (`semi_sync_shares`): the wait of a write
    that finds semi-sync on, min(F, T), and of one sent while another times out; the shares
    of the writes that time out, wait for that switch, or find the leader asynchronous."""

    waited: Lattice
    with_switch: Lattice
    timed_out: float
    switching: float
    asynchronous: float


def quorum_sizes(replication: Replication, replicas: int) -> tuple[int, int, int]:
    """(N, W, R) of a leaderless quorum: `n` defaults to the component's replicas."""
    return replication.n or replicas, replication.w, replication.r


def quorums_overlap(replication: Replication, replicas: int) -> bool:
    """R + W > N: every read's replicas include one that acknowledged the last write (a
    majority quorum's guarantee); otherwise a read can miss it (lint SS608)."""
    n, w, r = quorum_sizes(replication, replicas)
    return r + w > n


def order_statistic_mean(mean: float, count: int, k: int) -> float:
    """E[k-th smallest of `count` independent Exp(mean)]: mean · Σ_{i<k} 1/(count − i)."""
    return mean * sum(1.0 / (count - i) for i in range(k))


def majority_commit_mean(mean: float, members: int) -> float:
    """Raft: the leader holds the entry; it commits when ⌊n/2⌋ of the n − 1 followers have
    acknowledged (each after Exp(mean))."""
    return order_statistic_mean(mean, members - 1, members // 2)


def wars_needed(write_mean: float, ars_mean: float, n: int, w: int, r: int,
                samples: int = 200_000, seed: int = 2012) -> np.ndarray:
    """For each sampled write, the smallest t after its commit at which a read sees it,
    with W exponential of mean `write_mean` and A, R, S exponential of mean `ars_mean`: the
    write commits at the w-th smallest W + A; the read takes the first r answers by R + S,
    and an answer is fresh when its replica had the write as the request arrived
    (W ≤ commit + R + t)."""
    rng = np.random.default_rng(seed)
    write, ack, request, answer = (rng.exponential(mean, (samples, n))
                                   for mean in (write_mean, ars_mean, ars_mean, ars_mean))
    commit = np.sort(write + ack, axis=1)[:, w - 1][:, None]
    first = np.argsort(request + answer, axis=1)[:, :r]
    late = np.take_along_axis(write - request, first, axis=1) - commit
    needed: np.ndarray = np.clip(late.min(axis=1), 0.0, None)
    return needed


def to_followers(component: Component) -> bool:
    """Leader-based replication's `reads: followers`: the reads go to the followers in
    turn, never to the leader."""
    replication = component.replication
    return replication is not None and replication.mode != "quorum" \
        and replication.reads == "followers"


def steered(component: Component) -> bool:
    """The balancer picks among every replica, the leader one of them, by their requests
    (least_requests, p2c): it sends the other operations away from a leader busier than
    the rest (`steered_share`)."""
    return component.balancer in POOLED and not to_followers(component)


def leader_share(component: Component) -> float:
    """The share of the operations the leader does not alone serve that the leader must
    take: 1/replicas of a balancer that picks regardless of load; none for `reads:
    followers`, nor under a `steered` balancer (the leader's load is then the larger of
    its own operations' and an even split of everything, `steered_share`)."""
    if to_followers(component) or steered(component):
        return 0.0
    return 1.0 / component.most_replicas


def steered_share(own: float, others: float, replicas: int) -> float:
    """The share of the other operations' busy workers (`others`) a `steered` balancer
    gives the leader, whose own operations keep `own` busy: what evens the replicas out
    (each (own + others) / replicas), none when its own operations alone pass that. The
    fluid limit: the kernel's least_requests gives the leader a little more (it wins the
    ties), so this is the low side, as pooling the followers is."""
    if others <= 0.0:
        return 0.0
    return min(1.0, max(0.0, ((own + others) / replicas - own) / others))


def semi_sync_shares(first: Lattice, timeout: float, rate: float) -> SemiSync:
    """Semi-sync as `ReplicatedStore` runs it: a write's commit waits for the first
    follower's W + A, F, at most `timeout` T; when one times out, the writes sent during its
    T (Poisson, `rate` a second) wait with it, each until T runs out or its own F comes, and
    those after, until that late acknowledgement (F after it), commit at once (the leader is
    asynchronous). Per write that waits afresh, λ·T·P(F > T) others wait for the switch and
    λ·E[F − T; F > T] find the leader asynchronous (renewal reward)."""
    waited, late = capped(first, timeout)
    switching = rate * timeout * late
    asynchronous = rate * (first.mean - waited.mean)  # λ·E[F − T; F > T]
    fresh = 1.0 + switching + asynchronous
    with_switch = order_statistic(1, [first, uniform(0.0, timeout)]) if switching else zero()
    return SemiSync(waited, with_switch, late / fresh, switching / fresh,
                    asynchronous / fresh)


def commit_wait(system: System, cname: str, points: int = LEAF_POINTS) -> Lattice | None:
    """The k-th of a write's replicas' W + A (docs/data.md), `semi_sync`'s uncapped; None
    for `async`."""
    component = system.components[cname]
    replication = component.replication
    assert replication is not None
    replicas = component.replicas
    k, count = {"quorum": (replication.w, replication.n or replicas),
                "raft": (replicas // 2, replicas - 1),
                "sync": (replication.acks or replicas - 1, replicas - 1),
                "semi_sync": (1, replicas - 1)}.get(replication.mode, (0, 0))
    if k == 0:
        return None
    return order_statistic(k, [_leg(system, points, replication.write, replication.ack)]
                           * count)


def _leg(system: System, points: int, *dists: AnyDistribution | None) -> Lattice:
    """A replica's legs one after the other; an unset leg is one network hop."""
    hop = system.defaults.network
    return total([of(hop if d is None else d, points) for d in dists])


def replication_wait(system: System, cname: str, oname: str, points: int = LEAF_POINTS,
                     rate: float = 0.0) -> Lattice | None:
    """What a visit of `cname.oname` waits for besides its work, as `ReplicatedStore` draws
    it (docs/data.md): a write's commit, the k-th of its replicas' W + A (`quorum`: w of n;
    `raft`: ⌊n/2⌋ of the followers; `sync`: `acks` of them; `semi_sync`: the first, at most
    its timeout, and none for the share of the writes that find the leader asynchronous at
    `rate` writes a second, `semi_sync_shares`); a
    quorum read's r-th answer R + S; a Raft read at the leader its ReadIndex round, the
    ⌊n/2⌋-th follower's A + A (the leader taken to serve 1/replicas of the reads with
    `reads: any`, the balancer's even split). None when it waits for nothing (`async`,
    reads elsewhere)."""
    component = system.components[cname]
    replication = component.replication
    if replication is None:
        return None
    replicas = component.replicas
    if oname in replication.writes:
        commit = commit_wait(system, cname, points)
        if commit is None or replication.mode != "semi_sync":
            return commit
        semi = semi_sync_shares(commit, replication.semi_sync_timeout, rate)
        fresh = 1.0 - semi.switching - semi.asynchronous
        return mixture([semi.asynchronous, semi.switching, fresh],
                       [zero(), semi.with_switch, semi.waited])
    if replication.mode == "quorum":
        answer = _leg(system, points, replication.read, replication.response)
        return order_statistic(replication.r, [answer] * (replication.n or replicas))
    at_leader = {"leader": 1.0, "followers": 0.0}.get(replication.reads,
                                                      1.0 / component.most_replicas)
    if replication.mode != "raft" or at_leader == 0.0 or replicas < 2:
        return None
    round_trip = order_statistic(replicas // 2, [_leg(system, points, replication.ack,
                                                      replication.ack)] * (replicas - 1))
    return round_trip if at_leader == 1.0 else mixture([1.0 - at_leader, at_leader],
                                                       [zero(), round_trip])
