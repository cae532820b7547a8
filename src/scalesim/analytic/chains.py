"""Birth-death chains of a station whose servers (or cores) share the work, and the waiting
times an arrival sees in them.

- `served`: jobs arrive at rate λ and the station completes them at rate min(n, m)/S with n
  present and m servers, m a real number (m cores shared by processor sharing, each job at
  most one core: n jobs progress at min(n, m) cores in all). With an integer m this is the
  M/M/c chain; with m ≤ 1 an M/M/1 at speed m. A `capacity` bounds the jobs present (an
  arrival finding it full is refused: M/M/c/K). The chain's mean number present is
  insensitive to the service distribution when every job is served at once (processor
  sharing), so its mean response is exact there for any work distribution.
- `erlang_mixture`: zero with probability w₀, else Erlang(j, rate) with probability w_j. It
  is the exact FCFS wait at c exponential servers of an arrival that finds j − 1 jobs waiting
  ahead of it (the M/M/c/K wait, and a closed network's wait by the arrival theorem).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scalesim.analytic.lattice import LEAF_POINTS, TAIL, Lattice, from_cdf, zero

Array = npt.NDArray[np.float64]
NEGLIGIBLE = 1e-12  # a share of the mixture left out past its last term
BLOCK = 1 << 20  # Poisson terms `poisson_weighted` works out at once
# `full_again`: a chain whose probabilities move less than SETTLED in a step (checked every
# SETTLED_EVERY steps) is at its stationary law
SETTLED = 1e-15
SETTLED_EVERY = 8


@dataclass(frozen=True)
class Served:
    loss: float  # P(an arrival is refused): the chain at capacity (PASTA); 0 unbounded
    in_system: float  # L, mean jobs present; inf when an unbounded chain has a ≥ m
    busy: float  # P(an admitted arrival finds n ≥ m: every server taken)


def served(a: float, m: float, capacity: int | None = None) -> Served:
    """The chain offered a = λ·S erlangs on m servers (m > 0, any real), unbounded or with
    room for `capacity` jobs."""
    if m <= 0.0:
        raise ValueError(f"need a positive number of servers, got {m}")
    if a <= 0.0:
        return Served(0.0, 0.0, 0.0)
    k = math.ceil(m - 1e-12)  # states n ≥ k are served at the full m
    if capacity is None:
        if a >= m:
            return Served(0.0, math.inf, 1.0)
        n = np.arange(k + 1, dtype=np.float64)
        log_w = np.concatenate([[0.0], np.cumsum(np.log(a / np.minimum(n[1:], m)))])
        w = np.exp(log_w - log_w.max())  # w[k] starts the geometric tail of ratio r
        r = a / m
        head, tail = w[:k], w[k] / (1.0 - r)
        total = float(head.sum()) + tail
        mean = float((n[:k] * head).sum()) + w[k] * (k / (1.0 - r) + r / (1.0 - r) ** 2)
        return Served(0.0, mean / total, tail / total)
    n = np.arange(capacity + 1, dtype=np.float64)
    p = bounded(a, m, capacity)
    loss = float(p[capacity])
    busy = float(p[k:capacity].sum()) / (1.0 - loss) if loss < 1.0 else 1.0
    return Served(loss, float((n * p).sum()), busy)


def bounded(a: float, m: float, capacity: int) -> Array:
    """P(n jobs present), n = 0…capacity, of the chain offered a erlangs on m servers with
    room for `capacity` jobs: weights wₙ = wₙ₋₁ · a / min(n, m), normalised."""
    n = np.arange(1, capacity + 1, dtype=np.float64)
    log_w = np.concatenate([[0.0], np.cumsum(np.log(a / np.minimum(n, m)))])
    p = np.exp(log_w - log_w.max())
    return np.asarray(p / p.sum(), dtype=np.float64)


def erlang_mixture(weights: Array, rate: float, points: int = LEAF_POINTS) -> Lattice:
    """P(X = 0) = weights[0], and X ~ Erlang(j, rate) with probability weights[j] (the
    weights sum to 1). Its CDF is 1 − Σᵢ P(Poisson(rate·t) = i)·P(J > i)."""
    w = np.clip(np.asarray(weights, dtype=np.float64), 0.0, None)
    w = w / w.sum()
    above = 1.0 - np.cumsum(w)  # P(J > i)
    last = int(np.searchsorted(-above, -NEGLIGIBLE))  # first i with P(J > i) ≤ negligible
    if last == 0 or rate <= 0.0:
        return zero()
    j = np.arange(len(w), dtype=np.float64)
    mean = float((j * w).sum()) / rate
    second = float((j * (j + 1.0) * w).sum()) / rate**2
    # Erlang(last) has a tail below TAIL past the mean plus about five standard deviations
    span = last + 6.0 * math.sqrt(last) - math.log(TAIL)
    tail = above[:last].copy()
    window = _window(span)
    if last > 2 * window:
        return from_cdf(_windowed(tail, rate, window), span / rate, mean, second,
                        points=points)

    def cdf(t: Array) -> Array:
        x = rate * t
        survival = np.zeros_like(x)
        log_x = np.log(np.maximum(x, 1e-300))
        log_p = -x  # log P(Poisson(x) = i), i = 0
        for i in range(last):
            if i > 0:
                log_p = log_p + log_x - math.log(i)
            survival += np.exp(log_p) * tail[i]
        return np.asarray(1.0 - survival, dtype=np.float64)

    return from_cdf(cdf, span / rate, mean, second, points=points)


def _window(x: float) -> int:
    """Terms of Poisson(y), y ≤ x, either side of y that hold all but 1e-16 of it: 9
    standard deviations, and 40 more for the small means' skew."""
    return int(9.0 * math.sqrt(x)) + 40


def _windowed(tail: Array, rate: float, window: int) -> Callable[[Array], Array]:
    """1 − Σᵢ P(Poisson(rate·t) = i)·tail[i] over the terms within `window` of rate·t at
    every t: a mixture of many Erlangs (a full bounded queue of 100,000 places, whose last
    arrivals wait for 100,000 completions) costs twice the window per point instead of
    every term."""
    last = len(tail)

    def cdf(t: Array) -> Array:
        x = rate * t
        log_x = np.log(np.maximum(x, 1e-300))
        first = np.maximum(np.floor(x).astype(np.int64) - window, 0)  # each point's first term
        log_p = first * log_x - x - np.array([math.lgamma(i + 1.0) for i in first])
        survival = np.zeros_like(x)
        for offset in range(2 * window + 1):
            i = first + offset
            inside = i < last
            if not inside.any():
                break
            survival += np.where(inside, np.exp(log_p) * tail[np.minimum(i, last - 1)], 0.0)
            log_p = log_p + log_x - np.log(i + 1.0)  # on to term i + 1
        return np.asarray(1.0 - survival, dtype=np.float64)

    return cdf



def full_again(arrival_rate: float, m: int, service_mean_s: float, capacity: int,
               steps: int) -> tuple[float, Array]:
    """The chain of `served` with room for `capacity` jobs (arrivals at λ below the top,
    departures at min(n, m)/S), uniformized: it moves at the events of a Poisson stream of
    rate Λ = λ + m/S, by the jump matrix P = I + Q/Λ. Returns Λ and aₖ = P(full after k
    events | full), k = 0 … `steps`, so that P(full at t | full at 0) = Σₖ P(Poisson(Λt) =
    k)·aₖ (`poisson_weighted`) while Λt stays well below `steps`. Exact: only the states
    within steps/2 of the top can be left and come back in that many events; a whole chain
    that no longer moves by `SETTLED` keeps its last aₖ."""
    rate = arrival_rate + m / service_mean_s
    depth = min(capacity, steps // 2 + 1)
    n = capacity - np.arange(depth + 1, dtype=np.float64)  # the top first
    up = np.where(n < capacity, arrival_rate / rate, 0.0)
    down = np.minimum(n, m) / (service_mean_s * rate)
    stay = 1.0 - up - down
    x = np.zeros(depth + 1)
    x[0] = 1.0
    out = np.empty(steps + 1)
    out[0] = 1.0
    for k in range(1, steps + 1):
        moved = x * stay
        moved[:-1] += x[1:] * up[1:]  # one job more: a place nearer the top
        moved[1:] += x[:-1] * down[:-1]
        settled = depth == capacity and k % SETTLED_EVERY == 0 \
            and float(np.abs(moved - x).max()) < SETTLED
        x = moved
        out[k] = x[0]
        if settled:  # the whole chain at its stationary law: it stays there
            out[k + 1:] = x[0]
            break
    return rate, out


def poisson_pmf(terms: int, mean: float) -> Array:
    """P(Poisson(mean) = k) for k = 0 … terms − 1, from their logarithms (no overflow for
    large k or means)."""
    k = np.arange(terms, dtype=np.float64)
    return np.asarray(np.exp(k * math.log(max(mean, 1e-300)) - mean - _log_factorials(k)),
                      dtype=np.float64)


def _log_factorials(k: Array) -> Array:
    """log(k!) for k = 0, 1, 2, … (`k` is that range)."""
    return np.concatenate([[0.0], np.cumsum(np.log(k[1:]))])


def poisson_weighted(values: Array, x: Array) -> Array:
    """Σₖ P(Poisson(x) = k)·values[k] at each x, terms past the values taken as 0: the
    Poisson probabilities of every k at once, for blocks of x of at most `BLOCK` terms."""
    k = np.arange(len(values), dtype=np.float64)
    log_factorial = _log_factorials(k)
    rows = max(1, BLOCK // len(values))
    out = np.empty(len(x))
    for start in range(0, len(x), rows):
        at = x[start:start + rows, None]
        log_p = k * np.log(np.maximum(at, 1e-300)) - at - log_factorial
        out[start:start + rows] = np.exp(log_p) @ values
    return out
