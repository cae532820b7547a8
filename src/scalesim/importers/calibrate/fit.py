"""A sample of times as one of the spec's distributions, with its goodness of fit.

Each family is fitted to keep the sample's mean, which is all of the own times that is the
operation's (exponential: the mean; lognormal: the sd of the logs, and the median that gives
that mean; normal: the sd, and the centre that gives the mean once the spec's truncation at
0 lifts it), and judged by the Kolmogorov–Smirnov distance D
between the sample and the fitted CDF. The family with the smallest D is kept when D is
below the 5 % critical value 1.36/√n; otherwise the sample becomes an empirical
distribution through its percentiles. The parameters come from the same sample, so the
test is lenient (Lilliefors): a family it keeps may still be a little off, which the report
shows with D beside each candidate. A sample spread over no more than two neighbouring
values of its clock's grid is a constant (its mean): rounding alone spreads it so. Fewer
than MIN_SAMPLES times judge no shape: only their mean is fitted, the spec's distribution
scaled to it (FEW).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt

from scalesim.spec.dists import Empirical, Normal, percentile_of

Z99 = NormalDist().inv_cdf(0.99)
KS_95 = 1.358  # the Kolmogorov distribution's 95 % quantile, for D·√n
MIN_SAMPLES = 20  # fewer: only the mean is fitted, nothing to judge a shape by
FEW = "mean only"  # the family of such a fit: the spec's own, scaled to the sample's mean
Shape = tuple[Any, float]  # a distribution as the spec dumps it (seconds), and its mean (s)
GAP = 2.0  # a jump between neighbouring times by this ratio can split a tail off
PERCENTILES = (("p0", 0.0), ("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999))
FINER = (("p0", 0.0), ("p10", 0.1), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p90", 0.9),
         ("p95", 0.95), ("p99", 0.99), ("p999", 0.999))


@dataclass(frozen=True)
class Fit:
    """What a sample became: the spec's form, and how well each family fitted."""

    spec: Any  # a duration string or a distribution mapping, as the spec writes it
    family: str
    mean_s: float  # the sample's mean
    n: int
    ks: dict[str, float]  # family -> D
    p_value: float | None  # of the kept family (1.0 for empirical and constant; None: FEW)


def duration(seconds: float) -> str:
    """Seconds as the spec writes a duration, with 4 significant digits."""
    if seconds >= 1.0:
        return f"{seconds:.4g}s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.4g}ms"
    return f"{max(seconds, 0.0) * 1e6:.4g}us"


def scaled(value: Any, factor: float) -> Any:
    """A distribution (as the spec dumps it, seconds) with every time times `factor`, in the
    spec's own form."""
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if item is None:  # a form's other way of giving it (lognormal: median or mean)
            continue
        if key in ("mean", "median", "p99", "min", "max", "sd", "value"):
            out[key] = duration(float(item) * factor)
        elif key == "percentiles":
            out[key] = {k: duration(float(v) * factor) for k, v in item.items()}
        elif key == "of":
            out[key] = [{**part, "dist": scaled(part["dist"], factor)} for part in item]
        else:
            out[key] = item
    if out.get("dist") == "constant":
        return out["value"]
    return out


def resolution(sample: npt.NDArray[np.float64]) -> float:
    """The grid the times were rounded to (a trace format's clock), or 0 when they were
    not: the smallest step between distinct values, if every value is a multiple of it."""
    distinct = np.unique(sample)
    if len(distinct) < 2 or len(distinct) > len(sample) // 2:
        return 0.0
    step = float(np.diff(distinct).min())
    ratio = distinct / step
    return step if bool(np.allclose(ratio, np.round(ratio), rtol=0.0, atol=1e-6)) else 0.0


def ks_distance(sample: npt.NDArray[np.float64], cdf: Callable[[npt.NDArray[np.float64]],
                npt.NDArray[np.float64]]) -> float:
    """sup |F_n − F| for a sorted sample and the fitted CDF. Times rounded to a grid q are
    compared as grouped data: a value v stands for (v − q/2, v + q/2]."""
    n = len(sample)
    q = resolution(sample)
    if q == 0.0:
        at = cdf(sample)
        return float(max((np.arange(1, n + 1) / n - at).max(),
                         (at - np.arange(0, n) / n).max()))
    values, counts = np.unique(sample, return_counts=True)
    above = np.cumsum(counts) / n
    below = above - counts / n
    return float(max(np.abs(above - cdf(values + q / 2.0)).max(),
                     np.abs(below - cdf(values - q / 2.0)).max()))


def ks_p_value(d: float, n: int) -> float:
    """P(D ≥ d) for n points, by the Kolmogorov distribution with Stephens' correction."""
    root = math.sqrt(n)
    lam = (root + 0.12 + 0.11 / root) * d
    if lam < 0.2:
        return 1.0
    total = math.fsum((1.0 if k % 2 else -1.0) * math.exp(-2.0 * k * k * lam * lam)
                      for k in range(1, 101))
    return min(1.0, max(0.0, 2.0 * total))


Cdf = Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]


def _cdfs(x: npt.NDArray[np.float64]) -> dict[str, tuple[Cdf, Any]]:
    """Each family fitted to the sample: its CDF and its spec form."""
    out: dict[str, tuple[Cdf, Any]] = {}
    mean = float(x.mean())
    out["exponential"] = (lambda v: 1.0 - np.exp(-np.maximum(v, 0.0) / mean),
                          {"dist": "exponential", "mean": duration(mean)})
    sd = float(x.std())
    center = _untruncated(mean, sd) if sd > 0.0 else None
    if center is not None:
        below = float(_phi(np.array([-center / sd]))[0])  # the spec redraws what is below 0
        out["normal"] = (lambda v: np.maximum(_phi((v - center) / sd) - below, 0.0) / (1.0 - below),
                         {"dist": "normal", "mean": duration(center), "sd": duration(sd)})
    positive = x[x > 0.0]
    if len(positive) == len(x) or (resolution(x) > 0.0 and len(positive) >= 0.99 * len(x)):
        logs = np.log(positive)
        sigma = float(logs.std())  # by maximum likelihood; the median gives the sample's mean
        mu = math.log(mean) - sigma * sigma / 2.0
        if sigma > 0.0:
            out["lognormal"] = (
                lambda v: _phi((np.log(np.maximum(v, 1e-300)) - mu) / sigma),
                {"dist": "lognormal", "median": duration(math.exp(mu)),
                 "p99": duration(math.exp(mu + Z99 * sigma))})
    return out


def _untruncated(mean: float, sd: float) -> float | None:
    """The `mean` of the normal, truncated at 0 as the spec draws it, whose mean is `mean`
    (by bisection: the truncated mean rises with it); None when even 0 gives more."""
    def truncated(center: float) -> float:
        return Normal.model_construct(dist="normal", mean=center, sd=sd).mean_s
    if truncated(0.0) > mean:
        return None
    low, high = 0.0, mean
    for _ in range(60):
        mid = (low + high) / 2.0
        low, high = (mid, high) if truncated(mid) < mean else (low, mid)
    return (low + high) / 2.0


def _rounding_only(x: npt.NDArray[np.float64]) -> bool:
    """Whether the sample's spread is its clock's rounding alone: one time, or a difference
    of two times, each rounded to a grid, falls on at most two neighbouring grid values."""
    step = resolution(x)
    return step > 0.0 and float(x[-1] - x[0]) <= step * (1.0 + 1e-6)


def _phi(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The standard normal CDF."""
    return np.array([0.5 * (1.0 + math.erf(v / math.sqrt(2.0))) for v in z.tolist()])


def _empirical(x: npt.NDArray[np.float64], depth: int = 0) -> Any:
    """The percentiles the sample supports (p999 from 1,000 points on) and a p100 that gives
    them the sample's mean: the last segment's slope continued would over- or undershoot it.
    Lines between them that overshoot the mean (a convex body) get the FINER percentiles; a
    tail heavier than a line up to the longest time can carry (a rare slow path) is split off
    at the widest jump between neighbouring times, a mixture of body and tail; with neither,
    the percentiles are scaled to the mean."""
    mean = float(x.mean())
    if len(x) == 1 or float(x.std()) <= 1e-3 * mean or _rounding_only(x):
        return duration(mean)
    for levels in (PERCENTILES, FINER):  # finer where the lines between overshoot the mean
        points = {key: duration(float(np.quantile(x, q))) for key, q in levels
                  if q < 0.999 or len(x) >= 1000}
        top, last = _top(points, mean)
        if last <= top <= float(x[-1]) * (1.0 + 1e-3):
            return {"dist": "empirical", "percentiles": {**points, "p100": duration(top)}}
    cut = _widest_jump(x)
    if depth < 2 and cut is not None:
        parts = [(cut, _empirical(x[:cut], depth + 1)),
                 (len(x) - cut, _empirical(x[cut:], depth + 1))]
        return _mixture([(count / len(x) * weight, dist) for count, part in parts
                         for weight, dist in _weighted(part)])
    # no jump to split at (the body's segments overshoot): the percentiles scaled to the mean
    shape = Empirical.model_validate({"dist": "empirical", "percentiles": {
        **points, "p100": duration(min(max(top, last), float(x[-1])))}})
    return scaled(shape.model_dump(), mean / shape.mean_s)


def _top(points: dict[str, str], mean: float) -> tuple[float, float]:
    """The p100 that gives these percentiles `mean` as the spec reads them, and the value
    of the last of them."""
    last_q, last_key = max((percentile_of(key), key) for key in points)
    flat = Empirical.model_validate({"dist": "empirical",
                                     "percentiles": {**points, "p100": points[last_key]}})
    last = flat.percentiles[last_key]
    return 2.0 * (mean - (flat.mean_s - (1.0 - last_q) * last)) / (1.0 - last_q) - last, last


def _weighted(dist: Any) -> list[tuple[float, Any]]:
    """A mixture's parts, or the distribution as the one part of itself."""
    if isinstance(dist, dict) and dist.get("dist") == "mixture":
        return [(float(part["weight"]), part["dist"]) for part in dist["of"]]
    return [(1.0, dist)]


def _mixture(parts: list[tuple[float, Any]]) -> dict[str, Any]:
    """One flat mixture, weights to 6 decimals; the heaviest part takes their rounding so
    they sum to 1."""
    weights = [max(round(weight, 6), 1e-6) for weight, _ in parts]  # the spec's weights are > 0
    heaviest = max(range(len(parts)), key=lambda i: parts[i][0])
    weights[heaviest] = round(1.0 - math.fsum(weights) + weights[heaviest], 6)
    return {"dist": "mixture", "of": [{"weight": weight, "dist": dist}
                                      for weight, (_, dist) in zip(weights, parts, strict=True)]}


def _widest_jump(x: npt.NDArray[np.float64]) -> int | None:
    """The longest step between neighbouring sorted times, if by a ratio of GAP or more (from
    0, any rise) and long enough to move the mean (a tenth of it): the index of the first
    time above it. The percentiles' lines bridge such a step with time no visit took."""
    low, high = x[:-1], x[1:]
    step = np.where((high >= GAP * low) & (high > low), high - low, 0.0)
    at = int(np.argmax(step))
    return at + 1 if float(step[at]) >= 0.1 * float(x.mean()) else None


def fit(samples: list[float], shape: Shape | None = None) -> Fit:
    """The best of the spec's families for these times (seconds), or their percentiles;
    from fewer than MIN_SAMPLES, `shape` (the spec's distribution) scaled to their mean."""
    x = np.sort(np.asarray(samples, dtype=float))
    n = len(x)
    mean = float(x.mean()) if n else 0.0
    if 0 < n < MIN_SAMPLES and mean > 0.0:
        return _few(mean, n, shape)
    if n == 0 or mean <= 0.0 or float(x.std()) <= 1e-3 * mean or _rounding_only(x):
        return Fit(duration(mean), "constant", mean, n, {}, 1.0)
    candidates = _cdfs(x)
    distances = {name: ks_distance(x, cdf) for name, (cdf, _) in candidates.items()}
    best = min(distances, key=lambda name: distances[name])
    if distances[best] * math.sqrt(n) <= KS_95:
        return Fit(candidates[best][1], best, mean, n, distances,
                   ks_p_value(distances[best], n))
    return Fit(_empirical(x), "empirical", mean, n, distances, 1.0)


def _few(mean: float, n: int, shape: Shape | None) -> Fit:
    """Too few times to judge a shape by: the spec's distribution kept, scaled to their
    mean (a constant, its mean, where the spec gives none with a mean to scale)."""
    if shape is None or not 0.0 < shape[1] < math.inf:
        return Fit(duration(mean), FEW, mean, n, {}, None)
    return Fit(scaled(shape[0], mean / shape[1]), FEW, mean, n, {}, None)
