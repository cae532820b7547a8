"""Confidence intervals across independent replications: Student t for means, CDF inversion
for quantiles."""

from __future__ import annotations

import math
from statistics import NormalDist, fmean, stdev

from scalesim.sim.metrics import ALPHA, Histogram

# t(0.975, df) for df = 1..30; beyond, a Cornish–Fisher expansion around the normal quantile.
_T975 = (12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
         2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
         2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423)


def t975(df: int) -> float:
    if df <= len(_T975):
        return _T975[df - 1]
    z = NormalDist().inv_cdf(0.975)
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def ci95(values: list[float]) -> tuple[float, float]:
    """The 95 % confidence interval of the mean of independent replication results."""
    finite = [v for v in values if not math.isnan(v)]
    if len(finite) < 2:
        return (math.nan, math.nan)
    center = fmean(finite)
    half = t975(len(finite) - 1) * stdev(finite) / math.sqrt(len(finite))
    return (center - half, center + half)


def possible(bounds: tuple[float, float], top: float = math.inf) -> tuple[float, float]:
    """An interval cut to what a run can give: nothing below 0 (a latency, a rate, a share)
    nor above `top` (1 for an error rate)."""
    low, high = bounds
    return max(0.0, low), min(top, high)


def quantile_ci95(pooled: Histogram, runs: list[Histogram], q: float) -> tuple[float, float]:
    """The 95 % confidence interval of the q-quantile of all `runs` pooled (seconds), by
    inverting a confidence interval of the CDF: each replication's share of values at or
    below the pooled quantile is an independent ratio, whose mean has a Student t interval
    [q − h, q + h]; the pooled histogram's quantiles at those levels bound the quantile. An
    interval around the mean of the replications' own quantiles is biased when runs are short
    against the system's relaxation time (a short run's p99 near saturation is low), and one
    by sectioning under-covers when those quantiles are skewed; the shares are bounded means,
    which behave. Widened by the histogram's relative accuracy: values in one bucket cannot
    be told apart."""
    runs = [run for run in runs if run.count]
    if len(runs) < 2 or pooled.count == 0:
        return (math.nan, math.nan)
    value = pooled.quantile(q)
    counts = [float(run.count) for run in runs]
    below = [run.fraction_at_most(value) * n for run, n in zip(runs, counts, strict=True)]
    share = sum(below) / sum(counts)
    size = len(runs)
    spread = math.sqrt(sum((c - share * n) ** 2 for c, n in zip(below, counts, strict=True))
                       / (size * (size - 1)))
    half = t975(size - 1) * spread / fmean(counts)
    # Inverted at the level q, not at `share`: where many values are equal (a constant
    # fallback), the share at or below the quantile is the top of that atom (0.999 for a
    # p50), and inverting there put the interval's top at the slowest value.
    low = pooled.quantile(max(0.0, q - half))
    high = pooled.quantile(min(1.0, q + half))
    return (low * (1.0 - ALPHA), high * (1.0 + ALPHA))
