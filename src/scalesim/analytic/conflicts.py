"""The share of an event store's appends that fail their expected-version check
(WrongExpectedVersion, docs/data.md), which the estimate's load and errors leave out.

An append commits when it ends unless another append to its stream committed since it
arrived; it lasts D = its own time (its wait, work and calls) plus its aggregate's load, r
per event since the latest snapshot (plus the snapshot's read). Every append to the stream
that arrives while a committing one runs (within D of its arrival) fails, and the first
after that commits: a non-paralysable dead time, so each commit costs 1 + M(D) appends,
M(D) the arrivals within D of an arrival. Poisson arrivals (keys drawn from a key space)
give M = λD; unique keys 0, 1, 2, … go round robin over the k streams, every k-th arrival
a stream's, so M = E[⌊X/k⌋] with X Poisson(λ·D), λ all the appends. A stream's commits
grow its events, and so D, until the next snapshot: the commits of the run are counted one
by one, the c-th taking the appends from Σ_{j<c}(1 + M(D_j)) on, and the share failing in
the window [start, end] is 1 − (commits in it) / (appends in it). The wait at the store is
the estimate's (the longer loads' queueing left out). Of many streams, the busiest STREAMS
/ 2 are counted alone and the others in runs of similar rate, each at its middle stream.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from scalesim.analytic.caching import KeyRates
from scalesim.analytic.chains import poisson_pmf
from scalesim.spec.data import EventStore

Array = npt.NDArray[np.float64]

STREAMS = 64  # streams counted at most: the busiest half alone, the rest in runs by rate
MOST_COMMITS = 1 << 20  # commits counted one by one per stream; later ones cost the last's
FOLDED = 1 << 20  # keys of a key space put on their stream one by one; the rest evenly
GRID = 256  # points of M(D) between 0 and the longest D, interpolated between
NEGLIGIBLE = 1e-9  # M(D) below it at the longest D: none within any D


def conflict_share(store: EventStore, rates: Array, round_robin: bool, own_s: float,
                   start_s: float, end_s: float) -> float:
    """The share of the appends arriving between `start_s` and `end_s` of a run that fail:
    `rates` appends a second of each stream, round robin (unique keys) or at random, each
    lasting `own_s` besides its aggregate's load."""
    total = float(rates.sum())
    if total <= 0.0 or end_s <= start_s:
        return 0.0
    failed = sum(weight * _stream_share(store, index, float(rates[index]),
                                        total if round_robin else float(rates[index]),
                                        store.streams if round_robin else 1, own_s,
                                        start_s, end_s)
                 for index, weight in _representatives(rates))
    return failed / total


def stream_rates(rates: KeyRates, streams: int) -> tuple[Array, bool]:
    """Appends a second of each stream (key mod `streams`) from the workloads' `rates`
    with their keys (a key space's first FOLDED keys one by one, the rest evenly), and
    whether they go round robin (unique keys alone)."""
    out = np.zeros(streams)
    for rate, keys in rates:
        if keys is None:
            out += rate / streams
            continue
        with np.errstate(over="ignore"):  # a huge skew: the far keys' weights are 0
            weights = 1.0 / np.arange(1, keys.count + 1, dtype=np.float64) ** keys.skew
        weights /= weights.sum()
        kept = min(keys.count, FOLDED)
        out += rate * (np.bincount(np.arange(kept) % streams, weights=weights[:kept],
                                   minlength=streams) + weights[kept:].sum() / streams)
    return out, all(keys is None for rate, keys in rates if rate > 0.0)


def _representatives(rates: Array) -> list[tuple[int, float]]:
    """(stream, the appends a second it stands for): the STREAMS // 2 busiest alone, the
    others in STREAMS // 2 runs by rate, each counted at its middle stream."""
    order = np.argsort(-rates, kind="stable")
    order = order[rates[order] > 0.0]
    alone = STREAMS // 2
    out = [(int(i), float(rates[i])) for i in order[:alone]]
    for run in np.array_split(order[alone:], alone):
        if len(run):
            out.append((int(run[len(run) // 2]), float(rates[run].sum())))
    return out


def _stream_share(store: EventStore, index: int, each: float, phase_rate: float,
                  every: int, own_s: float, start_s: float, end_s: float) -> float:
    """`conflict_share` of stream `index`, fed `each` appends a second (every `every`-th
    of a stream of `phase_rate`)."""
    last = each * end_s
    count = min(4096, MOST_COMMITS)
    while True:  # as many commits as the appends reach (each costs one or more)
        cost = 1.0 + _arrivals_within(_durations(store, index, own_s, count), phase_rate,
                                      every)
        taken = np.concatenate([[0.0], np.cumsum(cost)])  # appends before commit c
        if taken[-1] >= last or count >= MOST_COMMITS:
            break
        count *= 2
    commits = np.arange(len(taken), dtype=np.float64)
    first = each * start_s
    committed = _commits_by(taken, commits, cost[-1], last) - \
        _commits_by(taken, commits, cost[-1], first)
    return max(0.0, 1.0 - committed / (last - first))


def _commits_by(taken: Array, commits: Array, last_cost: float, appends: float) -> float:
    """Commits made by the time `appends` arrived (the last cost past those counted)."""
    if appends <= taken[-1]:
        return float(np.interp(appends, taken, commits))
    return float(commits[-1] + (appends - taken[-1]) / last_cost)


def _durations(store: EventStore, index: int, own_s: float, count: int) -> Array:
    """D of the stream's first `count` commits: its own time, the events since the latest
    snapshot and the snapshot's read."""
    version = (2 * index + 1) * store.initial_events // store.streams
    versions = version + np.arange(count, dtype=np.float64)
    events, snapshot = versions, np.zeros(count)
    if store.snapshot_every is not None:
        events = versions % store.snapshot_every
        snapshot = np.where(versions >= store.snapshot_every, store.snapshot_read, 0.0)
    return np.asarray(own_s + snapshot + store.read_per_event * events, dtype=np.float64)


def _arrivals_within(durations: Array, phase_rate: float, every: int) -> Array:
    """M(D): the mean arrivals within each D of an arrival, every `every`-th of a Poisson
    stream of `phase_rate` (E[⌊X/every⌋], X Poisson(rate·D); rate·D when every = 1)."""
    means = phase_rate * durations
    if every == 1:
        return means
    if _floor_mean(float(means.max()), every) < NEGLIGIBLE:  # a stream's turn never comes
        return np.zeros(len(means))
    grid = np.linspace(0.0, float(means.max()), GRID)
    values = np.array([_floor_mean(mean, every) for mean in grid])
    return np.asarray(np.interp(means, grid, values), dtype=np.float64)


def _floor_mean(mean: float, every: int) -> float:
    """E[⌊X/every⌋] for X Poisson(mean): Σ_{m ≥ 1} P(X ≥ m·every)."""
    terms = int(mean + 12.0 * math.sqrt(mean) + 12.0)
    pmf = poisson_pmf(terms, mean)
    return float((np.floor(np.arange(terms) / every) * pmf).sum())
