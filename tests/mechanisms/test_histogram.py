"""The streaming latency histogram: relative accuracy, exact merging, bounded memory.

The contract (metrics.py): quantile(q) reports the bucket of the smallest value with at least
a fraction q of the values at or below it, i.e. the order statistic of rank ceil(q·n), and
every reported value is within a relative error ALPHA of that value.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from librt.vecs import vec
from tests.mechanisms._support import PROPERTY

from scalesim.sim.metrics import (
    ALPHA,
    MAX_VALUE,
    MIN_VALUE,
    N_BUCKETS,
    PERCENTILES,
    Histogram,
    linear_quantiles,
)

# ALPHA is exact in real arithmetic; the log/ceil bucketing and GAMMA**i add rounding of
# order 1e-13 relative, far below this slack.
TOLERANCE = ALPHA + 1e-9

positive = st.one_of(
    st.floats(min_value=MIN_VALUE, max_value=MAX_VALUE),
    st.floats(min_value=-9.0, max_value=7.0).map(lambda e: 10.0**e),  # log-uniform seconds
)
value = st.one_of(positive, st.just(0.0))
data_sets = st.lists(value, min_size=1, max_size=400)


def exact_quantile(values: list[float], k: int, per: int) -> float:
    """The order statistic of rank ceil(q·n) for q = k/per, computed in integers."""
    n = len(values)
    rank = max(1, -(-k * n // per))
    return sorted(values)[rank - 1]


def filled(values: list[float]) -> Histogram:
    h = Histogram()
    for v in values:
        h.add(v)
    return h


def within_alpha(reported: float, exact: float) -> bool:
    return abs(reported - exact) <= TOLERANCE * exact


@given(values=data_sets)
@PROPERTY
def test_reported_percentiles_are_within_alpha_of_exact_quantiles(values: list[float]) -> None:
    h = filled(values)
    summary = h.summary_ms()
    for name, q in PERCENTILES.items():
        per = 1000
        k = round(q * per)
        exact = exact_quantile(values, k, per)
        assert within_alpha(h.quantile(q), exact), (name, h.quantile(q), exact)
        assert within_alpha(summary[name] / 1e3, exact), name
    assert h.count == len(values)
    assert summary["max"] == pytest.approx(max(values) * 1e3, rel=1e-12)
    assert h.mean == pytest.approx(math.fsum(values) / len(values), rel=1e-9, abs=1e-300)


@given(values=data_sets)
@PROPERTY
def test_no_percentile_is_above_the_largest_value(values: list[float]) -> None:
    """The top bucket's value lies up to α above the values in it: reported as is, a p999
    could exceed the max printed beside it (504.08 against 502.50 ms in the bulkhead
    template). Clamped, the percentiles are ordered up to the max and still within α."""
    summary = filled(values).summary_ms()
    ordered = [summary[name] for name in PERCENTILES] + [summary["max"]]
    assert ordered == sorted(ordered)
    assert min(ordered) >= min(values) * 1e3  # nor below the smallest


@pytest.mark.parametrize("value", [0.0021763979, 0.8660800, 1.0, 3e-6])
def test_a_single_value_is_every_percentile_exactly(value: float) -> None:
    """One failover of 2,176.40 ms printed p50 = p90 = p99 = 2,170.58 beside a max and mean
    of 2,176.40 (the bucket's value): with the values seen bounding the percentiles, one
    value is all of them."""
    summary = filled([value]).summary_ms()
    assert {summary[name] for name in PERCENTILES} == {summary["max"]} == {value * 1e3}


@given(values=data_sets, k=st.integers(0, 100))
@PROPERTY
def test_any_whole_percent_quantile_is_within_alpha(values: list[float], k: int) -> None:
    """q = k %, including q = 0 (the minimum) and q = 1 (the maximum)."""
    # this includes n where ceil(q·n) in floating point misses the rank, e.g. 0.14·50
    h = filled(values)
    assert within_alpha(h.quantile(k / 100), exact_quantile(values, k, 100))


@pytest.mark.parametrize(("q", "n"), [(0.07, 100), (0.14, 50), (0.28, 25)])
def test_quantile_rank_is_exact_for_decimal_q(q: float, n: int) -> None:
    values = [float(i) for i in range(1, n + 1)]  # 1 .. n seconds
    h = filled(values)
    # exactly q·n of the values are <= q·n seconds: that value is the q quantile. In floating
    # point 0.07·100 = 7.000000000000001, and a plain ceil would report 8 s (14 % off).
    assert within_alpha(h.quantile(q), round(q * n))


@given(a=st.lists(value, max_size=200), b=st.lists(value, max_size=200))
@PROPERTY
def test_merge_equals_adding_all_values_to_one(a: list[float], b: list[float]) -> None:
    left, right, both = filled(a), filled(b), filled(a + b)
    left.merge(right)
    both.flush()
    np.testing.assert_array_equal(left.counts, both.counts)
    assert left.count == both.count
    assert left.max == both.max
    assert left.total == pytest.approx(both.total, rel=1e-12)
    if a + b:
        for q in PERCENTILES.values():
            assert left.quantile(q) == both.quantile(q)


def test_memory_is_independent_of_the_number_of_values() -> None:
    small, large = Histogram(), Histogram()
    small.add(0.01)
    rng = np.random.default_rng(1)
    for v in rng.lognormal(-4.0, 2.0, 200_000).tolist():
        large.add(v)
        large.maybe_flush()
    assert len(large.buffer) < 1 << 15  # the buffer is folded in before it grows past 32768
    small.flush()
    large.flush()
    assert small.counts.shape == large.counts.shape == (N_BUCKETS,)
    assert len(large.buffer) == 0 and large.count == 200_000
    assert int(large.counts.sum()) == 200_000


def test_zeros() -> None:
    h = filled([0.0] * 30 + [1.0] * 70)
    assert h.quantile(0.3) == 0.0  # the 30th value is still a zero
    assert within_alpha(h.quantile(0.31), 1.0)
    assert h.quantile(0.0) == 0.0
    only_zeros = filled([0.0] * 5)
    assert only_zeros.summary_ms() == {"mean": 0.0, **dict.fromkeys(PERCENTILES, 0.0),
                                       "max": 0.0}


def test_empty_and_reset() -> None:
    h = Histogram()
    assert math.isnan(h.quantile(0.5))
    assert math.isnan(h.mean)
    assert h.summary_ms() == {}
    h.add(2.0)
    assert within_alpha(h.quantile(0.5), 2.0)
    h.reset()
    assert h.count == 0 and int(h.counts.sum()) == 0
    assert h.summary_ms() == {}


def test_values_of_one_bucket_report_one_value_within_alpha_of_all() -> None:
    # The bucket (γ^(i-1), γ^i] reports 2γ^i/(γ+1): within ALPHA of both of its ends.
    gamma = (1 + ALPHA) / (1 - ALPHA)
    top = gamma**100
    low_end = top / gamma * (1 + 1e-12)
    h = filled([low_end, top])
    assert h.quantile(0.5) == h.quantile(1.0)
    assert within_alpha(h.quantile(0.5), low_end)
    assert within_alpha(h.quantile(1.0), top)


@PROPERTY
@given(st.lists(value, min_size=1, max_size=300),
       st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=5))
def test_linear_quantiles_are_numpys_to_the_last_bit(values: list[float],
                                                     qs: list[float]) -> None:
    """The kernel's interval percentiles: np.quantile's default method, bit for bit."""
    expected = [float(v) for v in np.quantile(values, qs)]
    assert linear_quantiles(vec[float](values), tuple(qs)) == expected
