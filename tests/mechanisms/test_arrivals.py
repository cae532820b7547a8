"""Open-loop arrivals: Poisson counts, even spacing, steps, ramps and silent segments.

Counts of a Poisson process over disjoint intervals are independent Poisson variables with
mean ∫rate, so the checks are chi-square tests of binned counts against ∫rate per bin, and
mean / index-of-dispersion checks with tolerances from their standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from tests.mechanisms._support import exponential, uniform

from scalesim.sim.mechanisms.arrivals import Arrivals, Segment, segments

CHI2_P = 1e-3  # fixed seeds: a correct process fails a given seed with probability 0.001
Z = 5.0


def arrival_times(segs: list[Segment], until: float, seed: int,
                  poisson: bool = True) -> np.ndarray:
    arrivals = Arrivals(segs, poisson, exponential(seed), uniform(seed + 1))
    out, t = [], 0.0
    while True:
        t = arrivals.next_after(t)
        if t >= until:
            return np.array(out)
        out.append(t)


def binned(times: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.histogram(times, bins=edges)[0]


def assert_poisson_counts(counts: np.ndarray, expected: np.ndarray) -> None:
    """Independent Poisson counts against their means: Pearson's chi-square."""
    statistic = float(np.sum((counts - expected) ** 2 / expected))
    assert stats.chi2.sf(statistic, len(counts)) > CHI2_P, (statistic, counts, expected)


# --- constant rate ---------------------------------------------------------------------------


def test_poisson_counts_have_mean_and_variance_of_the_rate() -> None:
    """Rate 50/s over 2000 one-second bins. The bin-count mean has standard error
    sqrt(50/2000) ≈ 0.16; the index of dispersion var/mean of Poisson counts is 1 with
    standard error about sqrt((2 + 1/λ)/m) ≈ 0.032 (the sample variance of Poisson(λ) has
    variance (λ + 2λ²)/m)."""
    rate, bins = 50.0, 2000
    times = arrival_times(segments(rate, []), bins, seed=1)
    counts = binned(times, np.arange(bins + 1.0))
    assert abs(counts.mean() - rate) < Z * math.sqrt(rate / bins)
    dispersion = counts.var(ddof=1) / counts.mean()
    assert abs(dispersion - 1.0) < Z * math.sqrt((2 + 1 / rate) / bins)


def test_poisson_gaps_are_exponential() -> None:
    rate = 20.0
    times = arrival_times(segments(rate, []), 1000.0, seed=2)
    gaps = np.diff(np.concatenate([[0.0], times]))
    assert stats.kstest(gaps, "expon", args=(0, 1 / rate)).pvalue > CHI2_P


def test_multi_segment_path_equals_steady_path_at_equal_rates() -> None:
    """Two segments of the same rate take the general path, one segment the fast path; with
    the same random stream both must give the very same arrival times."""
    steady = arrival_times(segments(7.0, []), 200.0, seed=3)
    general = arrival_times(segments(7.0, [(1e6, 7.0, False)]), 200.0, seed=3)
    np.testing.assert_allclose(general, steady, rtol=1e-12)


def test_constant_arrivals_are_evenly_spaced() -> None:
    rate = 8.0
    times = arrival_times(segments(rate, []), 100.0, seed=4, poisson=False)
    assert len(times) == pytest.approx(rate * 100, abs=1)
    np.testing.assert_allclose(np.diff(times), 1 / rate, rtol=1e-9)
    assert times[0] == pytest.approx(1 / rate)


def test_constant_arrivals_follow_a_step_in_rate() -> None:
    segs = segments(4.0, [(10.0, 20.0, False)])
    times = arrival_times(segs, 20.0, seed=5, poisson=False)
    first, second = times[times < 10.0], times[times >= 10.0]
    np.testing.assert_allclose(np.diff(first), 1 / 4.0, rtol=1e-9)
    np.testing.assert_allclose(np.diff(second), 1 / 20.0, rtol=1e-9)
    assert len(first) == pytest.approx(40, abs=1)
    assert len(second) == pytest.approx(200, abs=1)


# --- changing rates --------------------------------------------------------------------------


def test_segments_from_profile_points() -> None:
    segs = segments(5.0, [(10.0, 20.0, False), (30.0, 0.0, True)])
    assert [(s.start, s.end, s.rate0, s.rate1) for s in segs] == [
        (0.0, 10.0, 5.0, 5.0), (10.0, 30.0, 20.0, 0.0), (30.0, math.inf, 0.0, 0.0)]
    assert segs[1].rate(20.0) == pytest.approx(10.0)


def test_poisson_step_changes_rate_at_the_step() -> None:
    """Rate 20/s for 100 s, then 80/s for 100 s, in 10-second bins: each bin's count is
    Poisson with mean rate·10."""
    segs = segments(20.0, [(100.0, 80.0, False)])
    times = arrival_times(segs, 200.0, seed=6)
    edges = np.arange(0.0, 201.0, 10.0)
    expected = np.where(edges[:-1] < 100.0, 200.0, 800.0)
    assert_poisson_counts(binned(times, edges), expected)


@pytest.mark.parametrize(("rate0", "rate1", "seed"), [(0.0, 2000.0, 7), (2000.0, 100.0, 8)])
def test_poisson_linear_ramp_follows_the_integral_of_the_rate(rate0: float, rate1: float,
                                                              seed: int) -> None:
    """A ramp from rate0 to rate1 over [0, 100): the mean count in [a, b) is the integral of
    the linear rate, (b - a)·(rate(a) + rate(b))/2."""
    segs = segments(rate0, [(100.0, rate1, True)])
    times = arrival_times(segs, 100.0, seed=seed)
    edges = np.linspace(0.0, 100.0, 21)
    rate = rate0 + (rate1 - rate0) * edges / 100.0
    expected = np.diff(edges) * (rate[:-1] + rate[1:]) / 2
    assert_poisson_counts(binned(times, edges), expected)


def test_zero_rate_segment_is_silent_and_arrivals_resume_after() -> None:
    segs = segments(100.0, [(10.0, 0.0, False), (20.0, 100.0, False)])
    for poisson in (True, False):
        times = arrival_times(segs, 30.0, seed=9, poisson=poisson)
        assert not np.any((times >= 10.0) & (times < 20.0))
        # 1000 expected in each live stretch; Poisson sd ≈ 32, so ±5 sd ≈ ±160
        for lo in (0.0, 20.0):
            live = np.count_nonzero((times >= lo) & (times < lo + 10.0))
            assert abs(live - 1000) < Z * math.sqrt(1000)
    # from inside the silent segment, the next arrival comes after it
    arrivals = Arrivals(segs, True, exponential(10), uniform(11))
    assert arrivals.next_after(12.0) >= 20.0


@pytest.mark.parametrize("poisson", [True, False])
def test_rate_zero_forever_never_arrives(poisson: bool) -> None:
    ramp_down = Arrivals(segments(50.0, [(10.0, 0.0, True)]), poisson, exponential(12),
                         uniform(13))
    assert ramp_down.next_after(10.0) == math.inf
    silent = Arrivals(segments(0.0, []), poisson, exponential(14), uniform(15))
    assert silent.next_after(0.0) == math.inf
