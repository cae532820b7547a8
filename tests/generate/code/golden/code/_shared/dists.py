"""Samplers for the spec's latency distributions, with the spec's parameters as literals.

Each family draws seconds with the simulator's definition, so a running service has the
latency shape that was simulated. `RNG` is seeded from SCALESIM_SEED when it is set.
"""

from __future__ import annotations

import math
import os
import random
from bisect import bisect_right
from collections.abc import Mapping
from statistics import NormalDist
from typing import Protocol

Z99 = NormalDist().inv_cdf(0.99)  # a lognormal's p99 sits Z99 sigmas above its median
RNG = random.Random(os.environ.get("SCALESIM_SEED"))


class Distribution(Protocol):
    def sample(self, rng: random.Random) -> float: ...


class Constant:
    def __init__(self, value: float) -> None:
        self.value = value

    def sample(self, rng: random.Random) -> float:
        return self.value


class Exponential:
    def __init__(self, mean: float) -> None:
        self.mean = mean

    def sample(self, rng: random.Random) -> float:
        return rng.expovariate(1.0 / self.mean)


class Lognormal:
    """Given by its median (or mean) and p99, the two numbers people know about a latency."""

    def __init__(self, p99: float, median: float | None = None, mean: float | None = None) -> None:
        if median is not None:
            self.sigma = math.log(p99 / median) / Z99
            self.mu = math.log(median)
        elif mean is not None:
            self.sigma = Z99 - math.sqrt(Z99 * Z99 - 2.0 * math.log(p99 / mean))
            self.mu = math.log(mean) - self.sigma**2 / 2.0
        else:
            raise ValueError("give the median or the mean")

    def sample(self, rng: random.Random) -> float:
        return rng.lognormvariate(self.mu, self.sigma)


class Uniform:
    def __init__(self, min: float, max: float) -> None:
        self.min = min
        self.max = max

    def sample(self, rng: random.Random) -> float:
        return rng.uniform(self.min, self.max)


class Normal:
    """Truncated at 0: a negative draw is drawn again (not clipped), as the simulator does."""

    def __init__(self, mean: float, sd: float) -> None:
        self.mean = mean
        self.sd = sd

    def sample(self, rng: random.Random) -> float:
        while True:
            value = rng.gauss(self.mean, self.sd)
            if value >= 0.0:
                return value


class Gamma:
    """Given by its mean and coefficient of variation: shape 1/cv², scale mean·cv²."""

    def __init__(self, mean: float, cv: float) -> None:
        self.shape = 1.0 / (cv * cv)
        self.scale = mean / self.shape

    def sample(self, rng: random.Random) -> float:
        return rng.gammavariate(self.shape, self.scale)


class Pareto:
    def __init__(self, min: float, alpha: float) -> None:
        self.min = min
        self.alpha = alpha

    def sample(self, rng: random.Random) -> float:
        return self.min * rng.paretovariate(self.alpha)


class Empirical:
    """A latency known by its percentiles ({"p50": 0.001, "p99": 0.005}, seconds): the
    quantile function is linear between them, starts at p0 (0 unless given) and continues
    the slope of the last segment up to p100 (unless given)."""

    def __init__(self, percentiles: Mapping[str, float]) -> None:
        points = sorted((percentile_of(key), value) for key, value in percentiles.items())
        if points[0][0] > 0.0:
            points.insert(0, (0.0, min(0.0, points[0][1])))
        if points[-1][0] < 1.0:
            (q1, v1), (q2, v2) = points[-2], points[-1]
            slope = (v2 - v1) / (q2 - q1) if q2 > q1 else 0.0
            points.append((1.0, v2 + slope * (1.0 - q2)))
        self.quantiles = [q for q, _ in points]
        self.values = [v for _, v in points]

    def sample(self, rng: random.Random) -> float:
        u = rng.random()
        right = min(bisect_right(self.quantiles, u), len(self.quantiles) - 1)
        q1, q2 = self.quantiles[right - 1], self.quantiles[right]
        v1, v2 = self.values[right - 1], self.values[right]
        return v1 if q2 <= q1 else v1 + (v2 - v1) * (u - q1) / (q2 - q1)


def percentile_of(key: str) -> float:
    """'p50' -> 0.5, 'p999' -> 0.999, 'p99.5' -> 0.995, as the spec reads them."""
    digits = key[1:]
    if len(digits) >= 3 and set(digits) == {"9"}:
        return float("0." + digits)
    return float(digits) / 100.0


class Mixture:
    """Each draw picks one part with its weight (the weights sum to 1)."""

    def __init__(self, parts: tuple[tuple[float, Distribution], ...]) -> None:
        self.parts = parts

    def sample(self, rng: random.Random) -> float:
        u = rng.random()
        for weight, dist in self.parts:
            if u < weight:
                return dist.sample(rng)
            u -= weight
        return self.parts[-1][1].sample(rng)
