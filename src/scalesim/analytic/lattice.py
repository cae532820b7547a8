"""Distributions of time on a grid, for percentiles of sums, mixtures and fork-joins.

A `Lattice` holds the probabilities of the values 0, h, 2h, … (each value stands for the
interval of width h around it, so a sum of two lattices is the convolution of their mass
vectors with no shift), the probability `beyond` its end (a tail cut off), and the exact mean
and second moment where they are known in closed form (they are what queueing formulas
need; the grid only has to be good enough for percentiles). Grids of different steps are
brought to the coarser one by splitting each mass between its two neighbours so that the mean
is kept. Sizes stay bounded: a result longer than `MAX_POINTS` is coarsened.
"""

from __future__ import annotations

import functools
import itertools
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from scalesim.spec.dists import (
    AnyDistribution,
    Constant,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
    Mixture,
    Normal,
    Pareto,
    Uniform,
)

Array = npt.NDArray[np.float64]
LEAF_POINTS = 2048  # grid points of a distribution read from the spec
MAX_POINTS = 8192
TAIL = 1e-7  # probability past the grid that a light tail may leave out
HEAVY_TAIL = 1e-4  # the same for a Pareto tail, which would stretch the grid too far
CUT_MOST = 1e300  # seconds: the furthest a grid reaches (a Pareto tail of α ≤ 0.01)
# A leaf's grid puts at least points / MEDIAN_SHARE cells below its median (on up to
# WIDE_FACTOR times its points), so that a distribution spanning orders of magnitude keeps
# its body: a lognormal of median 1 ms and p99 100 ms, cut at its 1 − 1e-7 quantile (30 s)
# on 2,048 points, put its median in the first cell (a p50 of 1.36 ms).
MEDIAN_SHARE = 64
WIDE_FACTOR = 4
_erf = np.frompyfunc(math.erf, 1, 1)


@dataclass(frozen=True)
class Lattice:
    h: float  # grid step in seconds; 0 for a distribution that is exactly 0
    mass: Array  # P(value = i·h), i = 0…len-1
    beyond: float  # P(value past the grid)
    mean: float  # exact where known, else from the grid
    second: float  # E[X²], likewise
    exponential: bool = False  # exactly exponential (for product-form bookkeeping)
    # its mass on other grids, by step (`on_step`), each worked out once: the network hop,
    # an operation's work or a callee's response goes onto the same coarser grids again
    # and again as the estimate sums it with others
    steps: dict[float, Array] = field(default_factory=dict, init=False, repr=False,
                                      compare=False)

    @property
    def variance(self) -> float:
        return max(0.0, self.second - self.mean * self.mean)

    @property
    def scv(self) -> float:
        """Squared coefficient of variation, Var/mean² (0 for a point at 0)."""
        return over_square(self.variance, self.mean) if self.mean > 0.0 else 0.0

    def quantile(self, q: float) -> float:
        """The q-quantile, linear within the grid cell it falls in; inf when it lies past the
        grid (in the cut-off tail)."""
        if self.h == 0.0:
            return 0.0
        cumulative = np.cumsum(self.mass)
        index = int(np.searchsorted(cumulative, q - 1e-12))
        if index >= len(self.mass):
            return math.inf
        below = float(cumulative[index - 1]) if index > 0 else 0.0
        inside = float(self.mass[index])
        share = (q - below) / inside if inside > 0.0 else 0.5
        return max(0.0, (index - 0.5 + min(1.0, max(0.0, share))) * self.h)

    def cdf(self, x: float) -> float:
        """P(value ≤ x), to the grid's resolution."""
        if self.h == 0.0:
            return 1.0 if x >= 0.0 else 0.0
        cells = x / self.h + 0.5
        whole = math.floor(cells)
        if whole <= 0:
            return float(self.mass[0]) * max(0.0, cells) if len(self.mass) else 0.0
        done = float(self.mass[:whole].sum())
        part = float(self.mass[whole]) * (cells - whole) if whole < len(self.mass) else 0.0
        return min(1.0, done + part)

    def scaled(self, factor: float) -> Lattice:
        """The distribution of factor·X."""
        return Lattice(self.h * factor, self.mass, self.beyond, self.mean * factor,
                       self.second * factor * factor, self.exponential)


def over_square(value: float, mean: float) -> float:
    """value / mean² for mean > 0, where mean² would underflow (a mean below about 1e-154 s,
    which a spec may give: `work: 1e-300s`) divided twice instead of by a 0 or an imprecise
    subnormal square; the same number as value / mean² otherwise."""
    square = mean * mean
    return value / square if square >= sys.float_info.min else value / mean / mean


def _read_only(mass: Array) -> Array:
    mass.flags.writeable = False
    return mass


# One lattice for every 0: sums start from it and calls that are not made take it, hundreds
# of thousands of times in a capacity search. Its mass cannot be written, so no one can
# change it for the others.
_ZERO = Lattice(0.0, _read_only(np.ones(1)), 0.0, 0.0, 0.0)


def zero() -> Lattice:
    """The distribution that is exactly 0."""
    return _ZERO


def point(value: float, points: int = LEAF_POINTS) -> Lattice:
    if value <= 0.0:
        return zero()
    mass = np.zeros(points // 8 + 1)
    mass[-1] = 1.0
    return Lattice(value / (len(mass) - 1), mass, 0.0, value, value * value)


@functools.lru_cache(maxsize=1024)
def uniform(low: float, high: float, points: int = LEAF_POINTS) -> Lattice:
    """U(low, high), kept: a retry's back-offs are the same at every load the estimate
    tries (its mass cannot be written)."""
    found = point(low, points) if high == low else from_cdf(
        lambda x: np.clip((x - low) / (high - low), 0.0, 1.0), high, (low + high) / 2.0,
        (low * low + low * high + high * high) / 3.0, points=points)
    _read_only(found.mass)
    return found


def from_cdf(cdf: Callable[[Array], Array], upper: float, mean: float, second: float,
             exponential: bool = False, points: int = LEAF_POINTS) -> Lattice:
    """Discretize a CDF on [0, upper] with `points` cells (each value takes the probability
    of the cell around it)."""
    h = upper / (points - 1)
    edges: Array = (np.arange(points, dtype=np.float64) + 0.5) * h
    at = np.clip(cdf(edges), 0.0, 1.0)
    at = np.maximum.accumulate(at)
    mass = np.empty(points)  # np.diff(at, prepend=0.0), without building [0.0, *at]
    mass[0] = at[0] - 0.0
    np.subtract(at[1:], at[:-1], out=mass[1:])
    if not math.isfinite(mean):
        mean = float((np.arange(points) * h * mass).sum())
    if not math.isfinite(second):
        with np.errstate(over="ignore"):  # a grid out to 1e300 s has an infinite E[X²]
            second = float(((np.arange(points) * h) ** 2 * mass).sum())
    return Lattice(h, mass, max(0.0, 1.0 - float(at[-1])), mean, second, exponential)


def _grid_moments(h: float, mass: Array) -> tuple[float, float]:
    values = np.arange(len(mass)) * h
    return float((values * mass).sum()), float((values * values * mass).sum())


def on_step(lattice: Lattice, h: float) -> Array:
    """The mass vector on a grid of step h, the mean kept exactly: each cell's mass split
    between the two cells of the new grid around its value (for h < lattice.h, a finer grid
    with the same cells' values and gaps between them). Kept with the lattice (`steps`,
    not to be written to)."""
    if lattice.h == h:
        return lattice.mass
    if lattice.h == 0.0:
        return np.ones(1)
    found = lattice.steps.get(h)
    if found is None:
        found = lattice.steps[h] = _read_only(_moved(lattice, h))
    return found


def _moved(lattice: Lattice, h: float) -> Array:
    """`on_step` worked out: each cell's mass split between the cells of step h around it."""
    position = np.arange(len(lattice.mass)) * (lattice.h / h)
    low = np.floor(position).astype(np.int64)
    upper_share = position - low
    out = np.zeros(int(low[-1]) + 2)
    np.add.at(out, low, lattice.mass * (1.0 - upper_share))
    np.add.at(out, low + 1, lattice.mass * upper_share)
    return _trimmed(out)


def _trimmed(mass: Array) -> Array:
    """Without trailing cells that hold (next to) nothing."""
    held = mass > 1e-15
    end = len(mass) - int(held[::-1].argmax())  # past the last cell held (len when none is)
    return mass[:end] if held[end - 1] else mass[:1]


def _bounded(h: float, mass: Array) -> tuple[float, Array]:
    """Coarsen by whole factors until the grid has at most MAX_POINTS cells."""
    while len(mass) > MAX_POINTS:
        pad = np.zeros(len(mass) + (len(mass) % 2))
        pad[: len(mass)] = mass
        # cell i of the coarse grid is value 2i·h: cells 2i (whole) and 2i±1 (half each)
        pairs = pad.reshape(-1, 2)
        coarse = pairs[:, 0].copy()
        coarse += 0.5 * pairs[:, 1]
        coarse[1:] += 0.5 * pairs[:-1, 1]
        if pairs[-1, 1] > 0.0:
            coarse = np.append(coarse, 0.5 * pairs[-1, 1])
        h, mass = 2.0 * h, coarse
    return h, mass


def convolve(a: Lattice, b: Lattice) -> Lattice:
    """The distribution of the sum of independent a and b."""
    if a.h == 0.0:
        return b
    if b.h == 0.0:
        return a
    h = max(a.h, b.h)
    x, y = on_step(a, h), on_step(b, h)
    size = len(x) + len(y) - 1
    if min(len(x), len(y)) <= 64:
        mass = np.convolve(x, y)
    else:
        n = 1 << (size - 1).bit_length()
        mass = np.fft.irfft(np.fft.rfft(x, n) * np.fft.rfft(y, n), n)[:size]
    mass = _trimmed(np.maximum(mass, 0.0))  # (np.clip's own way to clip below alone)
    h, mass = _bounded(h, mass)
    return Lattice(h, mass, 1.0 - (1.0 - a.beyond) * (1.0 - b.beyond), a.mean + b.mean,
                   a.second + 2.0 * a.mean * b.mean + b.second)


def total(parts: Sequence[Lattice]) -> Lattice:
    out = zero()
    for part in parts:
        out = convolve(out, part)
    return out


def mixture(weights: Sequence[float], parts: Sequence[Lattice]) -> Lattice:
    """With probability weights[i], a draw from parts[i] (weights sum to 1)."""
    kept = [(w, p) for w, p in zip(weights, parts, strict=True) if w > 0.0]
    if len(kept) == 1:
        return kept[0][1]
    h = max(p.h for _, p in kept)
    if h == 0.0:
        return zero()
    vectors = [on_step(p, h) for _, p in kept]
    mass = np.zeros(max(len(v) for v in vectors))
    for (w, _), vector in zip(kept, vectors, strict=True):
        mass[: len(vector)] += w * vector
    return Lattice(h, mass, sum(w * p.beyond for w, p in kept),
                   sum(w * p.mean for w, p in kept), sum(w * p.second for w, p in kept),
                   all(p.exponential for _, p in kept) and
                   len({round(p.mean, 15) for _, p in kept}) == 1)


def mostly(weights: Sequence[float], parts: Sequence[Lattice]) -> Lattice:
    """A mixture whose first part carries all but a sliver of the weight (the other parts
    lie past its grid): on the first part's grid, the others' weight kept as mass past it
    (`beyond`), the mean and second moment exact. Every quantile below 1 − (that weight) is
    the same as the plain mixture's, where a plain mixture would stretch the grid out to the
    rare parts (a retry after a 1 s timeout) and blur every percentile of a millisecond call."""
    first = parts[0]
    share = weights[0] / sum(weights)
    return Lattice(first.h, first.mass * share, share * first.beyond + (1.0 - share),
                   sum(w * p.mean for w, p in zip(weights, parts, strict=True)) / sum(weights),
                   sum(w * p.second for w, p in zip(weights, parts, strict=True)) / sum(weights))


def order_statistic(need: int, parts: Sequence[Lattice]) -> Lattice:
    """The time until `need` of the independent `parts` are done: the need-th smallest
    (the largest when need = len(parts): a fork-join waiting for all)."""
    if need == 1 and len(parts) == 1:
        return parts[0]
    h = max(p.h for p in parts)
    if h == 0.0:
        return zero()
    cdfs = _cdfs(parts, h)
    return _of_cdf(h, _at_least(need, cdfs, len(cdfs[0])))


def together(need: int, parts: Sequence[Lattice]) -> Lattice:
    """The need-th smallest of `parts` that move together (comonotone: each part at the
    same quantile of its own law): P(T ≤ x) is the need-th largest of the parts' CDFs at x.
    Of positively associated parts the need-th smallest lies between this and the
    independent parts' (`order_statistic`)."""
    h = max(p.h for p in parts)
    if h == 0.0:
        return zero()
    return _of_cdf(h, np.sort(np.vstack(_cdfs(parts, h)), axis=0)[-need])


def _cdfs(parts: Sequence[Lattice], h: float) -> list[Array]:
    """The parts' CDFs on one grid of step h, all of one length."""
    vectors = [on_step(p, h) for p in parts]
    length = max(len(v) for v in vectors)
    cdfs = []
    for vector in vectors:
        cdf = np.cumsum(vector)
        cdfs.append(np.concatenate([cdf, np.full(length - len(cdf), cdf[-1])]))
    return cdfs


def _of_cdf(h: float, cdf: Array) -> Lattice:
    """The lattice of a CDF on the grid of step h (what it leaves below 1 is past the grid)."""
    mass = np.diff(np.maximum.accumulate(cdf), prepend=0.0)
    mean, second = _grid_moments(h, mass)
    return Lattice(h, mass, max(0.0, 1.0 - float(cdf[-1])), mean, second)


def _at_least(need: int, cdfs: Sequence[Array], length: int) -> Array:
    """P(at least `need` of the parts are done by x), x on the grid (Poisson binomial, built
    up one part at a time). Only the counts that decide it are tracked, so k parts cost
    k·min(need + 1, k − need + 1) grid passes, not k²: a fork-join over 1,000 branches
    waiting for all (or any) is 1,000 (2,000) passes, not a million.

    With need > k/2 it tracks how many are still running, up to k − need (more running means
    fewer than need done), and adds those counts' probabilities in the order the full table
    of done counts would (need, need + 1, …, k): the same numbers to the last bit. Otherwise
    it tracks how many are done below need, and need or more as one absorbing count."""
    count = len(cdfs)
    late = count - need  # at most this many may still run
    if late <= need:
        running = np.zeros((late + 1, length))
        running[0] = 1.0
        for cdf in cdfs:
            running[1:] = running[1:] * cdf + running[:-1] * (1.0 - cdf)
            running[0] = running[0] * cdf
        # done = count − running: need…count done is running late…0
        return np.asarray(np.ascontiguousarray(running[::-1]).sum(axis=0), dtype=np.float64)
    done = np.zeros((need + 1, length))
    done[0] = 1.0
    for cdf in cdfs:
        done[need] += done[need - 1] * cdf
        done[1:need] = done[1:need] * (1.0 - cdf) + done[: need - 1] * cdf
        done[0] = done[0] * (1.0 - cdf)
    return np.asarray(done[need], dtype=np.float64)


def below(lattice: Lattice, upper: float) -> Lattice | None:
    """The distribution conditioned on a value of at most `upper` (None if it never is)."""
    if lattice.h == 0.0:
        return lattice if upper >= 0.0 else None
    keep = lattice.mass[: math.floor(upper / lattice.h) + 1]
    share = float(keep.sum())
    if share <= 0.0:
        return None
    mass = keep / share
    mean, second = _grid_moments(lattice.h, mass)
    return Lattice(lattice.h, mass, 0.0, mean, second)


def capped(lattice: Lattice, upper: float) -> tuple[Lattice, float]:
    """min(X, upper) and P(X > upper): the mass of the cells past `upper` (and past the
    grid) moved to `upper`, split between the two cells around it so that the mean stays
    E[min(X, upper)] (a wait that gives up at a timeout). An `upper` at or past the grid's
    last cell changes nothing (the grid leaves out a sliver of the tail at most)."""
    if lattice.h == 0.0:
        return lattice, 0.0
    cells = upper / lattice.h
    whole = math.floor(cells)
    if whole >= len(lattice.mass) - 1:
        return lattice, 0.0
    keep = lattice.mass[: whole + 1]
    late = max(0.0, 1.0 - float(keep.sum()))
    mass = np.zeros(whole + 2)
    mass[: len(keep)] = keep
    mass[whole] += late * (1.0 + whole - cells)
    mass[whole + 1] += late * (cells - whole)
    mean, second = _grid_moments(lattice.h, mass)
    return Lattice(lattice.h, _trimmed(mass), 0.0, mean, second), late


def exponential_wait(p_wait: float, mean_wait_s: float, points: int = LEAF_POINTS) -> Lattice:
    """Zero with probability 1 − p_wait, else exponential with mean mean_wait_s / p_wait: the
    M/M/c waiting time exactly, and the usual shape for approximations of others."""
    if p_wait <= 0.0 or mean_wait_s <= 0.0:
        return zero()
    tail = exponential(mean_wait_s / p_wait, points)
    return mixture([1.0 - p_wait, p_wait], [zero(), tail]) if p_wait < 1.0 else tail


def exponential(mean: float, points: int = LEAF_POINTS) -> Lattice:
    return from_cdf(lambda x: -np.expm1(-x / mean), -math.log(TAIL) * mean, mean,
                    2.0 * mean * mean, exponential=True, points=points)


def _phi(z: Array) -> Array:
    """The standard normal CDF, element by element."""
    return 0.5 * (1.0 + np.asarray(_erf(z / math.sqrt(2.0)), dtype=np.float64))


def _gamma_cdf(shape: float, x: Array) -> Array:
    """The regularized lower incomplete gamma function P(shape, x): its series below
    shape + 1, its continued fraction (modified Lentz) above."""
    out = np.zeros_like(x)
    log_norm = math.lgamma(shape)
    low = (x > 0.0) & (x < shape + 1.0)
    if low.any():
        v = x[low]
        term = np.full_like(v, 1.0 / shape)
        acc = term.copy()
        for n in range(1, 500):
            term = term * v / (shape + n)
            acc += term
            if float((term / acc).max()) < 1e-15:  # (np.max's reduction, without its wrapper)
                break
        out[low] = acc * np.exp(shape * np.log(v) - v - log_norm)
    high = x >= shape + 1.0
    if high.any():
        v = x[high]
        tiny = 1e-300
        b = v + 1.0 - shape
        c = np.full_like(v, 1.0 / tiny)
        d = 1.0 / b
        frac = d.copy()
        for n in range(1, 500):
            an = -n * (n - shape)
            b = b + 2.0
            d = an * d + b
            d = np.where(np.abs(d) < tiny, tiny, d)
            c = b + an / c
            c = np.where(np.abs(c) < tiny, tiny, c)
            d = 1.0 / d
            step = d * c
            frac *= step
            if float(np.abs(step - 1.0).max()) < 1e-15:
                break
        out[high] = 1.0 - np.exp(shape * np.log(v) - v - log_norm) * frac
    return out


def _spanning(median: float, upper: float, heavy_upper: float, points: int
              ) -> tuple[float, int]:
    """The end and the number of points of a leaf's grid: [0, upper] (its 1 − TAIL
    quantile) on `points`, unless that leaves fewer than points / MEDIAN_SHARE cells below
    its `median`; then on more points, up to WIDE_FACTOR times as many, and cut at its
    1 − HEAVY_TAIL quantile (`heavy_upper`) when even those are too few (the tail past it is
    kept as mass beyond the grid, its mean exact)."""
    cells = points / MEDIAN_SHARE
    if median <= 0.0 or (points - 1) * median / upper >= cells:
        return upper, points
    most = WIDE_FACTOR * points
    for end in (upper, heavy_upper):
        needed = math.ceil(cells * end / median) + 1
        if needed <= most:
            return end, max(points, needed)
    return heavy_upper, most


def _lognormal(mu: float, sigma: float, points: int) -> Lattice:
    # the 1 − 1e-7 and 1 − 1e-4 quantiles
    upper, points = _spanning(math.exp(mu), math.exp(mu + 5.2 * sigma),
                              math.exp(mu + 3.719 * sigma), points)

    def cdf(x: Array) -> Array:
        with np.errstate(divide="ignore"):
            return _phi((np.log(np.maximum(x, 1e-300)) - mu) / sigma)

    return from_cdf(cdf, upper, math.exp(mu + sigma**2 / 2.0),
                    math.exp(2.0 * mu + 2.0 * sigma**2), points=points)


def _truncated_normal(mean: float, sd: float, points: int) -> Lattice:
    if sd == 0.0:
        return point(mean, points)
    alpha = -mean / sd
    std = float(_phi(np.array([alpha]))[0])
    lam = math.exp(-alpha * alpha / 2.0) / math.sqrt(2.0 * math.pi) / (1.0 - std)
    m = mean + sd * lam
    var = sd * sd * (1.0 + alpha * lam - lam * lam)
    return from_cdf(lambda x: (_phi((x - mean) / sd) - std) / (1.0 - std),
                    max(mean, 0.0) + 5.5 * sd, m, var + m * m, points=points)


def _gamma(mean: float, cv: float, points: int) -> Lattice:
    shape = 1.0 / (cv * cv)
    scale = mean / shape
    upper = mean + 16.0 * cv * mean + 20.0 * scale  # past the 1 − 1e-7 quantile
    median, heavy_upper = _gamma_quantiles(shape, scale, upper)
    upper, points = _spanning(median, upper, heavy_upper, points)
    return from_cdf(functools.partial(_scaled_gamma_cdf, shape, scale), upper, mean,
                    mean * mean * (1.0 + cv * cv), exponential=abs(cv - 1.0) < 1e-12,
                    points=points)


def _scaled_gamma_cdf(shape: float, scale: float, x: Array) -> Array:
    """The CDF of the gamma distribution of `shape` and `scale`."""
    return _gamma_cdf(shape, x / scale)


@functools.lru_cache(maxsize=4096)
def _gamma_quantiles(shape: float, scale: float, upper: float) -> tuple[float, float]:
    """The median and the 1 − HEAVY_TAIL quantile of a gamma distribution (searched up to
    `upper`), kept: they do not depend on the grid, and a model's coarse copy (the
    capacity searches') asks again for every gamma of the spec, at 60 evaluations of the
    CDF each."""
    median, heavy = _inverse(functools.partial(_scaled_gamma_cdf, shape, scale),
                             np.array([0.5, 1.0 - HEAVY_TAIL]), upper)
    return float(median), float(heavy)


def _inverse(cdf: Callable[[Array], Array], qs: Array, upper: float) -> Array:
    """The `qs`-quantiles of a continuous CDF on [0, upper], by bisection (to 2⁻⁶⁰ of
    upper), all at once."""
    low, high = np.zeros_like(qs), np.full_like(qs, upper)
    for _ in range(60):
        middle = (low + high) / 2.0
        below = cdf(middle) < qs
        low = np.where(below, middle, low)
        high = np.where(below, high, middle)
    return high


def _pareto(low: float, alpha: float, points: int) -> Lattice:
    mean = alpha * low / (alpha - 1.0) if alpha > 1.0 else math.inf
    second = alpha * low * low / (alpha - 2.0) if alpha > 2.0 else math.inf
    return from_cdf(lambda x: np.where(x >= low, 1.0 - (low / np.maximum(x, low)) ** alpha, 0.0),
                    _pareto_cut(low, alpha), mean, second, points=points)


def _pareto_cut(low: float, alpha: float) -> float:
    """A Pareto tail's 1 − HEAVY_TAIL quantile, low · HEAVY_TAIL^(−1/α), no larger than
    CUT_MOST: at α = 0.01 it is 1e400 times `low`, past the largest double."""
    return math.exp(min(math.log(CUT_MOST), math.log(low) - math.log(HEAVY_TAIL) / alpha))


def _empirical(dist: Empirical, points: int) -> Lattice:
    knots = dist.knots()
    qs = np.array([q for q, _ in knots])
    vs = np.array([v for _, v in knots])
    values = np.unique(vs)
    last_q = np.array([qs[vs == v].max() for v in values])
    second = sum((q2 - q1) * (v1 * v1 + v1 * v2 + v2 * v2) / 3.0
                 for (q1, v1), (q2, v2) in itertools.pairwise(knots))
    if len(values) == 1:
        return point(float(values[0]), points)
    return from_cdf(lambda x: np.interp(x, values, last_q, left=0.0, right=1.0),
                    float(values[-1]) * (1.0 + 1.0 / points), dist.mean_s, second, points=points)


def of(dist: AnyDistribution, points: int = LEAF_POINTS) -> Lattice:
    """The lattice of a spec distribution, on about `points` grid points."""
    if isinstance(dist, Constant):
        return point(dist.value, points)
    if isinstance(dist, Exponential):
        return exponential(dist.mean, points)
    if isinstance(dist, Lognormal):
        return _lognormal(dist.mu, dist.sigma, points)
    if isinstance(dist, Uniform):
        return uniform(dist.min, dist.max, points)
    if isinstance(dist, Normal):
        return _truncated_normal(dist.mean, dist.sd, points)
    if isinstance(dist, Gamma):
        return _gamma(dist.mean, dist.cv, points)
    if isinstance(dist, Pareto):
        return _pareto(dist.min, dist.alpha, points)
    if isinstance(dist, Empirical):
        return _empirical(dist, points)
    assert isinstance(dist, Mixture)
    atoms = [item.dist.value for item in dist.of
             if isinstance(item.dist, Constant) and item.weight > 0.0 and item.dist.value > 0.0]
    return _spec_mixture([item.weight for item in dist.of],
                         [of(item.dist, points) for item in dist.of], min(atoms, default=0.0))


def _spec_mixture(weights: list[float], parts: list[Lattice], atom: float = 0.0) -> Lattice:
    """A mixture the spec writes: on the finest grid that spans every part in MAX_POINTS
    cells, not the coarsest part's (`mixture`'s, for what the estimate mixes), so that a
    millisecond part beside a one-second one keeps its place (on the one-second part's grid
    of 257 cells, 1 ms fell in the first cell: a p50 of 4 ms where it is 1 ms). The step is
    widened to a whole fraction of its smallest constant part (`atom`), which then lies on
    one cell instead of being split between two (2 ms beside 1 s: a p90 of 2.107 ms, with
    the step aligned 2.051 ms)."""
    kept = [(w, p) for w, p in zip(weights, parts, strict=True) if w > 0.0 and p.h > 0.0]
    if len(kept) < 2:
        return mixture(weights, parts)
    upper = max((len(p.mass) - 1) * p.h for _, p in kept)
    h = max(upper / (MAX_POINTS - 1), min(p.h for _, p in kept))
    if atom >= h:
        h = atom / math.floor(atom / h)
    fine = [Lattice(h, on_step(p, h), p.beyond, p.mean, p.second, p.exponential)
            if p.h > 0.0 else p for p in parts]
    return mixture(weights, fine)
