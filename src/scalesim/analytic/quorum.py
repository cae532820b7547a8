"""Replication latency and staleness by formula or direct Monte Carlo: the k-th order
statistic of exponential replica delays (commit latency of a majority or quorum), and the
WARS model of Bailis et al. ("Probabilistically Bounded Staleness", VLDB 2012) for the chance
that a read t after a write's commit sees it. The simulation computes the same things event
by event; these give the expected outcome of a spec before it runs (templates, docs)."""

from __future__ import annotations

import numpy as np

from scalesim.spec.consistency import Replication


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
