"""The hit ratio a TTL cache reaches, from the request rate of each key.

Requests for one key arrive as a Poisson process of rate λ. A miss loads the key (L
seconds), the entry then lives T seconds, and the next request after it expired misses
again: a cycle holds on average 1 + λ(T + L) requests, λT of them hits, so the key's hit
ratio is λT / (1 + λ(T + L)) (1 − 1/(1 + λT) with instant loads). Without a TTL every request
after the first hits. A key that no workload repeats (requests without `keys`) never hits.
The rate of a key is its workloads' rates at the cache times the key's probability under
their `keys` (uniform or Zipf). With `stampede: coalesce` the λL requests that come while
a key loads wait for that load instead of loading it again: the backend sees one load a
cycle, 1 / (1 + λ(T + L)) of the key's requests, and the waiting ones are counted with the
hits (their wait for the load in flight is left out).

`refresh_ahead` f: the first read at an age in [fT, T) reloads the entry in the background,
and the reload stores it L later. It keeps the entry only when it starts in the band
B = (1 − f)T − L, which a Poisson stream hits with probability q = 1 − e^(−λB); then the
cycle is fT + (time to that read, given it lies in B) + L, its reads all hits and one
load. Otherwise (1 − q) the entry expires as without refresh, plus one late reload when a
read lands in the last min(L, (1 − f)T) of its life. The loads per read, over the cycles
(renewal reward, Wald: λ × the mean cycle reads), are what the backend sees; the share
of reads that waited for a load is smaller (a caveat says so). With f → 1 it is the TTL
formula. Writes, eviction (`max_keys`) and `xfetch` are left out: this is the load of a
cache with room for every key (`xfetch` has its caveat).
"""

from __future__ import annotations

import math

import numpy as np

from scalesim.spec.model import Keys

EXACT_KEYS = 20_000  # up to this many keys every key is counted; beyond, keys are binned
BINS = 2_000


def ttl_hit_ratio(rate: float, ttl: float, load_s: float = 0.0) -> float:
    """One key's hit ratio: λT / (1 + λ(T + L)); 1 without a TTL (ttl = inf)."""
    if rate <= 0.0:
        return 0.0
    if math.isinf(ttl):
        return 1.0
    return rate * ttl / (1.0 + rate * (ttl + load_s))


def stampede_loads(rate: float, load_s: float) -> float:
    """Loads of a key when it expires, with no protection: the miss, plus every request
    that arrives while its load runs (Poisson): 1 + λL."""
    return 1.0 + rate * load_s


def key_weights(keys: Keys) -> tuple[np.ndarray, np.ndarray]:
    """(probability of a key, number of such keys): every key up to EXACT_KEYS, else keys
    grouped in log-spaced ranks (a Zipf key's rate changes smoothly with its rank)."""
    count = keys.count
    if keys.skew == 0.0:
        return np.array([1.0 / count]), np.array([float(count)])
    if count <= EXACT_KEYS:
        weights = 1.0 / np.arange(1, count + 1, dtype=float) ** keys.skew
        return weights / weights.sum(), np.ones(count)
    edges = np.unique(np.geomspace(1, count + 1, BINS).astype(np.int64))
    ranks = (edges[:-1] + edges[1:] - 1) / 2.0  # the middle rank of each group
    sizes = np.diff(edges).astype(float)
    weights = 1.0 / ranks**keys.skew
    total = float((weights * sizes).sum())
    return weights / total, sizes


def refresh_ahead_loads(rate: np.ndarray, ttl: float, load_s: float, share: float,
                        coalesce: bool, waited: bool = False) -> np.ndarray:
    """Loads per read of keys read at `rate` (per key, > 0) by a cache that refreshes
    ahead from `share` of the TTL (see the module's docstring); with `coalesce` a miss's
    stampede waits instead of loading. `waited`: only the loads a read waits for (the
    misses of an entry that expired), not the background reloads."""
    band = max(0.0, (1.0 - share) * ttl - load_s)
    missed = np.exp(-rate * band)  # no read in the band: the entry expires
    kept = 1.0 - missed
    kept_wait = kept / rate - band * missed  # P(kept) × E[time to the read | kept]
    late = 1.0 - np.exp(-rate * min(load_s, (1.0 - share) * ttl))  # a reload too late
    stampede = 0.0 if coalesce else rate * load_s
    cycle = kept * (share * ttl + load_s) + kept_wait + \
        missed * (ttl + 1.0 / rate + load_s)
    loads = missed * (1.0 + stampede) if waited else kept + missed * (1.0 + stampede + late)
    return np.asarray(loads / (rate * cycle))


def hit_ratio(rates: list[tuple[float, Keys | None]], ttl: float, load_s: float,
              coalesce: bool = False, refresh_ahead: float | None = None,
              waited: bool = False) -> float:
    """The hit ratio of a cache reached by workloads at `rates` (requests/s at the cache)
    with their key spaces; keys are shared between workloads (key 7 is key 7). With
    `coalesce`, the share of reads that do not load (the requests that wait for a load in
    flight with the hits); with `refresh_ahead`, one minus the loads per read, background
    reloads included (what the backend sees), or not (`waited`: the reads' own hits)."""
    total = sum(rate for rate, _ in rates)
    if total <= 0.0 or not math.isfinite(total):
        return 0.0
    spaces = [(rate, keys) for rate, keys in rates if keys is not None and rate > 0.0]
    if not spaces:
        return 0.0
    largest = max(keys.count for _, keys in spaces)
    if len({(keys.count, keys.skew) for _, keys in spaces}) == 1:
        probability, sizes = key_weights(spaces[0][1])
        per_key = sum(rate for rate, _ in spaces) * probability
    else:  # different key spaces over the same keys: add the rates key by key
        per_key = np.zeros(min(largest, EXACT_KEYS * 10))
        for rate, keys in spaces:
            weights = 1.0 / np.arange(1, keys.count + 1, dtype=float) ** keys.skew
            weights = weights[:len(per_key)] / weights.sum()
            per_key[:len(weights)] += rate * weights
        sizes = np.ones(len(per_key))
    if math.isinf(ttl):
        ratio = (per_key > 0.0).astype(float)
    elif refresh_ahead is not None:
        read = per_key > 0.0
        ratio = np.zeros(len(per_key))
        ratio[read] = 1.0 - refresh_ahead_loads(per_key[read], ttl, load_s, refresh_ahead,
                                                coalesce, waited)
    elif coalesce:  # one load a cycle
        ratio = per_key * (ttl + load_s) / (1.0 + per_key * (ttl + load_s))
    else:
        ratio = per_key * ttl / (1.0 + per_key * (ttl + load_s))
    return float((sizes * per_key * ratio).sum()) / total
