"""The generated samplers draw the spec's distributions: each test states a quantile or mean
the family's definition gives (spec/dists.py), checked on many seeded draws."""

from __future__ import annotations

import random
import statistics
from types import ModuleType

import pytest
from tests.generate.code._support import PAIR_SPEC, generate, load_generated

from scalesim.spec.dists import Empirical as EmpiricalSpec

N = 40_000


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    code = generate(PAIR_SPEC, tmp_path_factory.mktemp("dists"))
    return load_generated(code / "back", "dists")


def draws(dist: object) -> list[float]:
    rng = random.Random(11)
    return [dist.sample(rng) for _ in range(N)]  # type: ignore[attr-defined]


def fraction_below(values: list[float], limit: float) -> float:
    return sum(value < limit for value in values) / len(values)


def test_lognormal_from_median_and_p99(dists: ModuleType) -> None:
    values = draws(dists.Lognormal(median=0.003, p99=0.02))
    assert fraction_below(values, 0.003) == pytest.approx(0.5, abs=0.01)
    assert fraction_below(values, 0.02) == pytest.approx(0.99, abs=0.003)


def test_lognormal_from_mean_and_p99(dists: ModuleType) -> None:
    values = draws(dists.Lognormal(mean=0.01, p99=0.04))
    assert statistics.fmean(values) == pytest.approx(0.01, rel=0.03)
    assert fraction_below(values, 0.04) == pytest.approx(0.99, abs=0.003)


def test_means_of_exponential_uniform_gamma_pareto(dists: ModuleType) -> None:
    assert statistics.fmean(draws(dists.Exponential(mean=0.004))) == \
        pytest.approx(0.004, rel=0.03)
    assert statistics.fmean(draws(dists.Uniform(min=0.001, max=0.003))) == \
        pytest.approx(0.002, rel=0.01)
    gamma = draws(dists.Gamma(mean=0.002, cv=0.5))
    assert statistics.fmean(gamma) == pytest.approx(0.002, rel=0.02)
    assert statistics.stdev(gamma) / statistics.fmean(gamma) == pytest.approx(0.5, rel=0.03)
    pareto = draws(dists.Pareto(min=0.005, alpha=3.0))
    assert min(pareto) >= 0.005
    assert statistics.fmean(pareto) == pytest.approx(0.0075, rel=0.05)  # α·min/(α−1)


def test_normal_is_truncated_at_zero_by_redrawing(dists: ModuleType) -> None:
    values = draws(dists.Normal(mean=0.0, sd=0.001))
    assert min(values) >= 0.0
    # A half-normal's median is 0.6745·sd; clipping would put half of the draws at 0.
    assert statistics.median(values) == pytest.approx(0.6745 * 0.001, rel=0.03)


def test_empirical_interpolates_between_percentiles(dists: ModuleType) -> None:
    values = draws(dists.Empirical(percentiles={"p50": 0.001, "p90": 0.005, "p100": 0.01}))
    assert fraction_below(values, 0.001) == pytest.approx(0.5, abs=0.01)
    assert fraction_below(values, 0.003) == pytest.approx(0.7, abs=0.01)  # halfway
    assert max(values) <= 0.01


def test_empirical_knots_are_the_specs(dists: ModuleType) -> None:
    # From 0 below the first percentile, the last slope continued above the last one.
    spec = EmpiricalSpec(dist="empirical", percentiles={"p50": "1ms", "p99": "5ms",
                                                        "p99.9": "6ms"})
    sampler = dists.Empirical(percentiles=spec.percentiles)
    quantiles, values = zip(*spec.knots(), strict=True)
    assert sampler.quantiles == pytest.approx(quantiles)
    assert sampler.values == pytest.approx(values)


def test_mixture_picks_parts_by_weight(dists: ModuleType) -> None:
    values = draws(dists.Mixture(parts=((0.25, dists.Constant(1.0)),
                                         (0.75, dists.Constant(2.0)))))
    assert set(values) == {1.0, 2.0}
    assert fraction_below(values, 1.5) == pytest.approx(0.25, abs=0.01)
