"""Fork-join: a parallel step waits for j of its k branches, so its time is the j-th smallest
of k branch times (wait_for: all is j = k, the maximum; any is j = 1, the minimum).

For i.i.d. exponential branches the order statistics have a closed form (the gaps between
them are exponential with rates kμ, (k−1)μ, …), which is why fan-out to k services costs
H_k times one call. Other distributions go through E[X] = ∫ P(X > x) dx.
"""

from __future__ import annotations

from collections.abc import Callable
from math import comb

import numpy as np
import numpy.typing as npt

Cdf = Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]


def harmonic(k: int) -> float:
    """H_k = 1 + 1/2 + … + 1/k."""
    return sum(1.0 / i for i in range(1, k + 1))


def _check(k: int, j: int) -> None:
    if not 1 <= j <= k:
        raise ValueError(f"need 1 <= j <= k, got j={j}, k={k}")


def exponential_order_statistic(k: int, j: int, mean_s: float) -> float:
    """E[j-th smallest of k i.i.d. exponentials] = mean · Σ_{i=k−j+1}^{k} 1/i."""
    _check(k, j)
    return mean_s * sum(1.0 / i for i in range(k - j + 1, k + 1))


def exponential_max(k: int, mean_s: float) -> float:
    """E[max of k i.i.d. exponentials] = H_k · mean (wait_for: all)."""
    return exponential_order_statistic(k, k, mean_s)


def order_statistic(cdf: Cdf, k: int, j: int, upper_s: float, points: int = 20_001) -> float:
    """E[j-th smallest of k i.i.d. non-negative variables with `cdf`], integrating the
    survival function P(X_(j) > x) = P(fewer than j of k are ≤ x) over [0, upper_s] by the
    trapezoid rule. `upper_s` must reach where the cdf is ~1 (the tail beyond is dropped)."""
    _check(k, j)
    x = np.linspace(0.0, upper_s, points)
    f = np.clip(cdf(x), 0.0, 1.0)
    survival = sum(comb(k, i) * f**i * (1.0 - f) ** (k - i) for i in range(j))
    return float(np.trapezoid(survival, x))
