"""Confidence intervals across independent replications (Student t)."""

from __future__ import annotations

import math
from statistics import NormalDist, fmean, stdev

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
