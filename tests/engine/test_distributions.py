"""Every distribution of SPEC.md against its known mean and percentiles.

The samplers are tested directly with n = 400k draws. Tolerances come from the sampling
distribution of each statistic: the mean within z·s/√n (CLT), and the empirical CDF at a known
quantile x_q within z·√(q(1−q)/n) (binomial). z = 3.29 is a 99.9 % two-sided level rather
than 95 %: this file makes ~60 such checks, and Bonferroni keeps the chance that a correct
sampler trips any of them on a fresh seed near 5 %. At this n the bands are still tight
(about 0.1 % of the mean for light tails).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from pydantic import TypeAdapter
from scipy import stats
from tests.engine.simstats import check, replicate

from scalesim.sim.metrics import ALPHA
from scalesim.sim.random import sampler
from scalesim.spec.dists import Distribution

N = 400_000
Z = float(stats.norm.ppf(0.9995))
QS = (0.1, 0.5, 0.9, 0.99)
MS = 1e-3
Z99 = float(stats.norm.ppf(0.99))


def _lognormal_from_mean_p99(mean: float, p99: float) -> Any:
    # mean = e^{μ+σ²/2}, p99 = e^{μ+z σ}: ln(p99/mean) = zσ − σ²/2, the smaller root.
    sigma = Z99 - math.sqrt(Z99**2 - 2 * math.log(p99 / mean))
    return stats.lognorm(s=sigma, scale=mean * math.exp(-sigma**2 / 2))


def _empirical_quantile(u: np.ndarray) -> np.ndarray:
    """The spec's empirical: linear between (0, 0), the given percentiles and p100, which
    continues the last slope: 90 + (90 − 30)/(0.999 − 0.99) × 0.001 ms."""
    knots_q = [0.0, 0.5, 0.9, 0.99, 0.999, 1.0]
    knots_v = [0.0, 3.0, 8.0, 30.0, 90.0, 90.0 + 60.0 / 0.009 * 0.001]
    return np.interp(u, knots_q, knots_v) * MS


_U = np.linspace(0.0, 1.0, 2_000_001)
EMPIRICAL_MEAN = float(np.trapezoid(_empirical_quantile(_U), _U))  # exact: Q is piecewise linear


def _mixture_cdf(x: float) -> float:
    return 0.9 * stats.expon.cdf(x, scale=1 * MS) + 0.1 * stats.expon.cdf(x, scale=10 * MS)


# (spec, mean, [(x, F(x))]) — the truth is computed here, independently of scalesim.
CASES: dict[str, tuple[Any, float, list[tuple[float, float]]]] = {}


def _frozen(name: str, spec: Any, dist: Any) -> None:
    CASES[name] = (spec, float(dist.mean()), [(float(dist.ppf(q)), q) for q in QS])


_frozen("exponential", {"dist": "exponential", "mean": "4ms"}, stats.expon(scale=4 * MS))
_frozen("lognormal-median-p99", {"dist": "lognormal", "median": "4ms", "p99": "40ms"},
        stats.lognorm(s=math.log(10) / Z99, scale=4 * MS))
_frozen("lognormal-mean-p99", {"dist": "lognormal", "mean": "4ms", "p99": "20ms"},
        _lognormal_from_mean_p99(4 * MS, 20 * MS))
_frozen("uniform", {"dist": "uniform", "min": "1ms", "max": "3ms"},
        stats.uniform(loc=1 * MS, scale=2 * MS))
_frozen("normal", {"dist": "normal", "mean": "5ms", "sd": "2ms"},
        stats.truncnorm(-2.5, math.inf, loc=5 * MS, scale=2 * MS))
_frozen("normal-heavily-truncated", {"dist": "normal", "mean": "1ms", "sd": "2ms"},
        stats.truncnorm(-0.5, math.inf, loc=1 * MS, scale=2 * MS))
_frozen("gamma", {"dist": "gamma", "mean": "2ms", "cv": 0.5},
        stats.gamma(a=4.0, scale=0.5 * MS))
_frozen("gamma-high-cv", {"dist": "gamma", "mean": "2ms", "cv": 2.0},
        stats.gamma(a=0.25, scale=8 * MS))
_frozen("pareto", {"dist": "pareto", "min": "1ms", "alpha": 4.5},
        stats.pareto(b=4.5, scale=1 * MS))
CASES["constant"] = ("4ms", 4 * MS, [(3.999 * MS, 0.0), (4 * MS, 1.0)])
CASES["empirical"] = (
    {"dist": "empirical", "percentiles": {"p50": "3ms", "p90": "8ms", "p99": "30ms",
                                          "p999": "90ms"}},
    EMPIRICAL_MEAN, [(3 * MS, 0.5), (8 * MS, 0.9), (30 * MS, 0.99), (90 * MS, 0.999),
                     (1.5 * MS, 0.25)])
CASES["mixture-spec-example"] = (
    {"dist": "mixture", "of": [{"weight": 0.99, "dist": "2ms"}, {"weight": 0.01, "dist": "1s"}]},
    0.99 * 2 * MS + 0.01 * 1.0, [(1.999 * MS, 0.0), (2 * MS, 0.99), (0.999, 0.99), (1.0, 1.0)])
CASES["mixture-of-exponentials"] = (
    {"dist": "mixture", "of": [{"weight": 0.9, "dist": {"dist": "exponential", "mean": "1ms"}},
                               {"weight": 0.1, "dist": {"dist": "exponential", "mean": "10ms"}}]},
    1.9 * MS, [(x * MS, _mixture_cdf(x * MS)) for x in (0.5, 1.0, 3.0, 10.0, 30.0)])


@pytest.mark.parametrize("name", sorted(CASES))
def test_sampler_mean_and_percentiles(name: str) -> None:
    spec, mean, points = CASES[name]
    dist = TypeAdapter(Distribution).validate_python(spec)
    assert dist.mean_s == pytest.approx(mean, rel=1e-6), "the model's own mean (used by ρ)"
    draw = sampler(dist, np.random.default_rng(2024)).draw
    x = np.array([draw() for _ in range(N)])
    assert (x >= 0.0).all(), "times are never negative"
    sd = float(x.std(ddof=1))
    assert abs(float(x.mean()) - mean) <= Z * sd / math.sqrt(N) + 1e-15, \
        f"{name}: mean {x.mean():.6g} vs {mean:.6g} ± {Z * sd / math.sqrt(N):.3g}"
    for point, q in points:
        ecdf = float(np.count_nonzero(x <= point)) / N
        band = Z * math.sqrt(q * (1 - q) / N)
        assert abs(ecdf - q) <= band, f"{name}: F({point:.6g}) = {ecdf:.5f}, expected {q:.5f}"


def test_empirical_percentiles_through_a_simulation() -> None:
    """Latency of a no-queueing component (unlimited workers) is the work itself: its
    simulated percentiles are the spec's, to the histogram's 0.5 % bucket accuracy."""
    spec = """
scalesim: 1
name: empirical
components:
  s:
    workers: unlimited
    operations:
      op:
        work: {dist: empirical, percentiles: {p50: 3ms, p90: 8ms, p99: 30ms, p999: 90ms}}
workloads: [{name: w, to: s, rate: 1k/s}]
simulation: {duration: 20s, seed: 19}
"""
    _, runs = replicate(spec, runs=10)
    check(runs, lambda r: r["latency_ms"]["mean"], EMPIRICAL_MEAN / MS, "empirical mean ms")
    for name, truth in (("p50", 3.0), ("p90", 8.0), ("p99", 30.0)):
        check(runs, lambda r, n=name: r["latency_ms"][n], truth, f"empirical {name} ms",
              slack=ALPHA * truth)
