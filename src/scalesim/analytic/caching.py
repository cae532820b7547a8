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
formula.

`xfetch` (β, loads of δ = L): a hit with r seconds left recomputes with probability
e^(−r/(βL)), so the first recomputation comes r = R before the expiry where the hazard
λ·e^(−r/(βL)) adds up to an Exp(1) draw E: k·(e^(−R/(βL)) − e^(−T/(βL))) = E, k = λβL
(Gumbel-like, R ≈ βL·(ln k + γ) for a hot key); none with probability e^(−k(1 − e^(−T/(βL)))),
and the entry expires as without protection. The reads during that load recompute too,
(E + k·e^(−T/(βL)))·(e^(1/β) − 1) of them on average when the load ends before the expiry;
otherwise those until the expiry, and every read after it misses and loads. The cycle runs
T − R + L, from one store to the first load's store (the stores of the loads overlapping it
come later: left out, within 3 % of the simulation where checked from a TTL of 10 loads up,
pessimistic below; a caveat says so). Every such load is one a read waits for.

A write that invalidates deletes the entry: with writes of the key a Poisson stream of
rate w, an entry lives E[min(T, Exp(w))] = (1 − e^(−wT))/w instead of T (left out of the
refresh-ahead and xfetch cycles). Other writes are left out. With both `refresh_ahead` and
`xfetch`, refresh-ahead's alone is counted.

Eviction (`max_keys` C, least recently used first) by Che's approximation (H. Che, Y. Tung,
Z. Wang, IEEE JSAC 2002; justified by C. Fricker, P. Robert, J. Roberts, ITC 2012): an
entry is evicted once c seconds pass without a read of it, one characteristic time c for
all keys, the c at which the keys' mean occupancy adds up to C. The kernel's TTL runs from
the store (a hit moves the entry to the recent end but does not extend it) and an expired
entry frees its slot, so an entry lives until the first of: its TTL, a deleting write, a gap
of c without reads. That gap ends a life τ = c + X after the store, X the reads' gaps
shorter than c before it: none with probability e^(−λc), else taken as exponential with
E[τ] = (e^(λc) − 1)/λ (exact mean). The occupancy is the cycle's share stored,
λ·life / (1 + λ(life + L)), by PASTA also the key's hit ratio: without a TTL and with
instant loads, Che's 1 − e^(−λc). A read without keys stores a key nobody reads again: it
takes room for min(c, T). Refresh-ahead's and xfetch's cycles leave eviction out (the
`evicted` caveat sizes it).
"""

from __future__ import annotations

import math

import numpy as np

from scalesim.spec.model import Keys

EXACT_KEYS = 20_000  # up to this many keys every key is counted; beyond, keys are binned
BINS = 2_000
NODES = 32  # Gauss–Legendre nodes for each part of XFetch's expectation over E
WINDOW_STEPS = 60  # bisections of LRU's characteristic time: a factor 2 to 2^(−60)


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


def xfetch_loads(rate: np.ndarray, ttl: float, load_s: float, beta: float) -> np.ndarray:
    """Loads per read of keys read at `rate` (per key, > 0) with XFetch's early
    recomputation (see the module's docstring): the mean over E of a cycle's loads over
    the mean of its reads."""
    if load_s <= 0.0:  # δ = 0: never early, and a miss loads at once
        return np.asarray(1.0 / (1.0 + rate * ttl))
    scale = beta * load_s
    k = rate * scale
    tail = math.exp(-ttl / scale)
    top = k * (1.0 - tail)  # E beyond it: no early recomputation
    in_time = max(0.0, math.exp(-1.0 / beta) - tail)
    split = k * in_time  # E beyond it: the load ends after the expiry
    overlap = math.expm1(min(1.0 / beta, 700.0))
    loads = np.zeros(len(rate))
    cycle = np.zeros(len(rate))
    parts = [(split, top, False)]
    if in_time > 0.0:
        parts.append((np.zeros(len(rate)), split, True))
    for low, high, early in parts:
        draws, weights = _exponential_nodes(low, high)
        left = -scale * np.log(draws / k[:, None] + tail)  # R
        if early:
            each = 1.0 + (draws + k[:, None] * tail) * overlap
        else:
            each = 1.0 + (k[:, None] * (1.0 - tail) - draws) + \
                rate[:, None] * np.maximum(0.0, load_s - left)
        loads += (weights * each).sum(axis=1)
        cycle += (weights * (ttl - left + load_s)).sum(axis=1)
    none = np.exp(-top)
    loads += none * (1.0 + rate * load_s)
    cycle += none * (ttl + 1.0 / rate + load_s)
    return np.asarray(loads / (rate * cycle))


def _exponential_nodes(low: np.ndarray | float, high: np.ndarray | float
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Points E and weights w with Σ w·f(E) ≈ ∫ f(E)·e^(−E) dE from `low` to `high` (per
    row): Gauss–Legendre in v = e^(−E), where the weight is flat (E kept finite where v
    underflows, with no weight there)."""
    nodes, weights = np.polynomial.legendre.leggauss(NODES)
    start = np.exp(-np.asarray(high, dtype=float))[:, None]
    width = np.exp(-np.asarray(low, dtype=float))[:, None] - start
    v = np.maximum(start + width * (nodes + 1.0) / 2.0, np.finfo(float).tiny)
    return -np.log(v), width * weights / 2.0


KeyRates = list[tuple[float, Keys | None]]  # (requests/s, their key space) per workload


def entry_life(ttl: float, invalidations: np.ndarray, rate: np.ndarray | float = 0.0,
               window: float = math.inf) -> np.ndarray:
    """Mean seconds a stored entry lives: until the first of its TTL T, a write that deletes
    it (Poisson at w) and, under LRU with characteristic time c (`window`), a gap of c with
    no read (reads Poisson at `rate`); see the module's docstring."""
    w = np.asarray(invalidations, dtype=np.float64)
    life = _within(min(window, ttl), w)
    if window >= ttl:
        return life
    x = np.minimum(np.asarray(rate, dtype=np.float64) * window, 700.0)  # λc
    missed = -np.expm1(-x)  # some read comes within c: the gap ahead is not yet the last
    extra = np.maximum(np.expm1(x) / rate - window, 0.0)  # E[τ] − c
    with np.errstate(divide="ignore"):
        hazard = np.where(extra > 0.0, missed / np.maximum(extra, 1e-300), math.inf)
    return np.asarray(life + missed * np.exp(-w * window) * _within(ttl - window, w + hazard))


def _within(span: float, hazard: np.ndarray) -> np.ndarray:
    """∫ e^(−k·t) dt from 0 to `span` (may be inf) per hazard k (may be 0 or inf)."""
    k = np.asarray(hazard, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return np.asarray(np.where(k > 0.0, -np.expm1(-k * span) / k, span))


def _occupancy(rate: np.ndarray, life: np.ndarray, load_s: float) -> np.ndarray:
    """Share of time a key's entry is stored (renewal cycle: a miss, its load, the entry's
    life; reads Poisson at `rate` > 0): λ·life / (1 + λ(life + L)), 1 for an endless life;
    by PASTA also the share of its reads that hit."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isinf(life), 1.0, rate * life / (1.0 + rate * (life + load_s)))


def lru_window(rate: np.ndarray, writes: np.ndarray, sizes: np.ndarray, ttl: float,
               load_s: float, capacity: float, once: float = 0.0) -> float:
    """Che's characteristic time c of an LRU cache holding `capacity` entries: the c at which
    the keys' mean occupancy adds up to the capacity (inf when every key fits). Keys read at
    `rate` > 0, deleted at `writes`, `sizes` keys each; `once`: reads a second of keys never
    read again (workloads without `keys`), each stored for min(c, TTL)."""
    def held(window: float) -> float:
        life = entry_life(ttl, writes, rate, window)
        stored = once * min(window, ttl) if once > 0.0 else 0.0
        return float((sizes * _occupancy(rate, life, load_s)).sum()) + stored

    if held(math.inf) <= capacity:
        return math.inf
    low, high = 1.0, 1.0
    while held(low) >= capacity:
        low /= 2.0
    while held(high) < capacity:
        high *= 2.0
    for _ in range(WINDOW_STEPS):  # bisection in log c: occupancy grows with c
        middle = math.sqrt(low * high)
        low, high = (middle, high) if held(middle) < capacity else (low, middle)
    return math.sqrt(low * high)


def _per_key(reads: KeyRates, writes: KeyRates) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reads and writes a second of each key (or group of keys) and the group sizes; keys
    are shared between workloads (key 7 is key 7)."""
    spaces = [(rate, keys, True) for rate, keys in reads if keys is not None and rate > 0.0] \
        + [(rate, keys, False) for rate, keys in writes if keys is not None and rate > 0.0]
    if len({(keys.count, keys.skew) for _, keys, _ in spaces}) == 1:
        probability, sizes = key_weights(spaces[0][1])
        return (sum(rate for rate, _, read in spaces if read) * probability,
                sum(rate for rate, _, read in spaces if not read) * probability, sizes)
    # different key spaces over the same keys: add the rates key by key
    length = min(max(keys.count for _, keys, _ in spaces), EXACT_KEYS * 10)
    per_read, per_write = np.zeros(length), np.zeros(length)
    for rate, keys, read in spaces:
        weights = 1.0 / np.arange(1, keys.count + 1, dtype=float) ** keys.skew
        weights = weights[:length] / weights.sum()
        (per_read if read else per_write)[:len(weights)] += rate * weights
    return per_read, per_write, np.ones(length)


def _read_keys(reads: KeyRates, writes: KeyRates | None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`_per_key` of the keys somebody reads (the others never hit nor take room)."""
    per_key, deletes, sizes = _per_key(reads, writes or [])
    read = per_key > 0.0
    return per_key[read], deletes[read], sizes[read]


def characteristic_time(rates: KeyRates, ttl: float, load_s: float, capacity: float,
                        invalidations: KeyRates | None = None) -> float:
    """`lru_window` of a cache reached at `rates`: inf when every key read fits (also when
    no read repeats a key: such reads take no room for long)."""
    if not any(keys is not None and rate > 0.0 for rate, keys in rates):
        return math.inf
    return lru_window(*_read_keys(rates, invalidations), ttl, load_s, capacity,
                      _once(rates))


def _once(rates: KeyRates) -> float:
    """Reads a second of keys never read again: those of workloads without `keys`."""
    return sum(rate for rate, keys in rates if keys is None)


def hit_ratio(rates: KeyRates, ttl: float, load_s: float, coalesce: bool = False,
              refresh_ahead: float | None = None, waited: bool = False,
              xfetch: float | None = None, invalidations: KeyRates | None = None,
              capacity: float = math.inf) -> float:
    """The hit ratio of a cache reached by workloads at `rates` (requests/s at the cache)
    with their key spaces; keys are shared between workloads (key 7 is key 7). With
    `coalesce`, the share of reads that do not load (the requests that wait for a load in
    flight with the hits); with `refresh_ahead`, one minus the loads per read, background
    reloads included (what the backend sees), or not (`waited`: the reads' own hits); with
    `xfetch` (its β), one minus the loads per read. `invalidations`: the writes that delete
    entries, each ending an entry's life early (`entry_life`); `capacity`: the entries kept
    at most, least recently used evicted (`lru_window`); refresh-ahead's and xfetch's
    cycles leave both out."""
    total = sum(rate for rate, _ in rates)
    if total <= 0.0 or not math.isfinite(total) \
            or not any(keys is not None and rate > 0.0 for rate, keys in rates):
        return 0.0
    per_key, writes, sizes = _read_keys(rates, invalidations)
    if refresh_ahead is not None and not math.isinf(ttl):
        ratio = 1.0 - refresh_ahead_loads(per_key, ttl, load_s, refresh_ahead, coalesce,
                                          waited)
    elif xfetch is not None and not math.isinf(ttl):
        ratio = 1.0 - xfetch_loads(per_key, ttl, load_s, xfetch)
    else:
        window = lru_window(per_key, writes, sizes, ttl, load_s, capacity, _once(rates))
        life = entry_life(ttl, writes, per_key, window)
        ratio = _occupancy(per_key, life, load_s)
        if coalesce:  # the reads during a load wait for it: with the hits
            ratio = np.where(np.isinf(life), 1.0, ratio * (1.0 + load_s / life))
    return float((sizes * per_key * ratio).sum()) / total
