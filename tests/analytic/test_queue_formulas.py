"""Single-station formulas against published figures and textbook identities."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from scalesim.analytic import (
    erlang_b,
    erlang_c,
    md1,
    mg1,
    mg1_cv,
    mm1,
    mm1_sojourn_quantile,
    mmc,
)

# Stable single-station parameters: λ > 0, ρ in (0, 0.99).
loads = st.floats(min_value=0.01, max_value=0.99)
service_rates = st.floats(min_value=0.1, max_value=1e4)
servers = st.integers(min_value=1, max_value=300)


def test_mm1_reference_model_a() -> None:
    """performance.md (a): λ = 0.9, μ = 1 -> W = 1/(μ−λ) = 10."""
    m = mm1(0.9, 1.0)
    assert m.mean_sojourn_s == pytest.approx(10.0, rel=1e-12)
    assert m.mean_wait_s == pytest.approx(9.0, rel=1e-12)
    assert m.mean_in_system == pytest.approx(9.0, rel=1e-12)  # L = ρ/(1−ρ)
    assert m.mean_queue_length == pytest.approx(8.1, rel=1e-12)  # Lq = ρ²/(1−ρ)
    assert m.wait_probability == pytest.approx(0.9)


def test_mmc_reference_model_b() -> None:
    """performance.md (b): M/M/8, λ = 7.2, μ = 1 -> P(wait) = 0.701533, W = 1.876916."""
    m = mmc(7.2, 1.0, 8)
    assert m.wait_probability == pytest.approx(0.701533, abs=5e-7)
    assert m.mean_sojourn_s == pytest.approx(1.876916, abs=5e-7)
    assert m.utilization == pytest.approx(0.9)


def test_erlang_b_textbook() -> None:
    """Erlang B tables: 10 erlangs on 10 trunks block 21.46 %; 1 erlang on 1 trunk, 50 %."""
    assert erlang_b(10, 10.0) == pytest.approx(0.2146, abs=5e-5)
    assert erlang_b(1, 1.0) == pytest.approx(0.5)


@pytest.mark.parametrize(("c", "rho"), [(1000, 0.95), (5000, 0.99), (20_000, 0.999)])
def test_erlang_c_is_stable_for_large_c(c: int, rho: float) -> None:
    """Against the closed form in log space (a^c/c! overflows a float at c ≈ 170):
    Erlang B = Poisson pmf(c; a) / cdf(c; a), and C = B / (1 − ρ (1 − B))."""
    a = rho * c
    blocking = math.exp(stats.poisson.logpmf(c, a) - stats.poisson.logcdf(c, a))
    expected = blocking / (1.0 - rho * (1.0 - blocking))
    assert erlang_b(c, a) == pytest.approx(blocking, rel=1e-9)
    assert erlang_c(c, a) == pytest.approx(expected, rel=1e-9)
    assert 0.0 < erlang_c(c, a) < 1.0


def test_erlang_c_small_c_closed_form() -> None:
    """M/M/2 with a = 1: C = a²/(2!(1−ρ)) / (1 + a + a²/(2!(1−ρ))) = 1/3."""
    assert erlang_c(2, 1.0) == pytest.approx(1.0 / 3.0, rel=1e-12)


@given(loads, service_rates)
def test_mmc_with_one_server_is_mm1(rho: float, mu: float) -> None:
    a, b = mm1(rho * mu, mu), mmc(rho * mu, mu, 1)
    assert b.mean_sojourn_s == pytest.approx(a.mean_sojourn_s, rel=1e-9)
    assert b.wait_probability == pytest.approx(a.wait_probability, rel=1e-9)


@given(loads, service_rates, servers)
def test_littles_law_and_sojourn_decomposition(rho: float, mu: float, c: int) -> None:
    lam = rho * mu * c
    m = mmc(lam, mu, c)
    assert m.mean_in_system == pytest.approx(lam * m.mean_sojourn_s, rel=1e-9)
    assert m.mean_queue_length == pytest.approx(lam * m.mean_wait_s, rel=1e-9)
    assert m.mean_sojourn_s == pytest.approx(m.mean_wait_s + 1.0 / mu, rel=1e-9)
    # L − Lq = mean busy servers = a = λ/μ
    assert m.mean_in_system - m.mean_queue_length == pytest.approx(lam / mu, rel=1e-6)
    assert 0.0 <= m.wait_probability <= 1.0


@given(loads, service_rates)
def test_pollaczek_khinchine_with_cv_one_is_mm1(rho: float, mu: float) -> None:
    assert mg1_cv(rho * mu, 1.0 / mu, 1.0).mean_sojourn_s == \
        pytest.approx(mm1(rho * mu, mu).mean_sojourn_s, rel=1e-9)


@given(loads, service_rates)
def test_md1_waits_half_of_mm1(rho: float, mu: float) -> None:
    """P-K: Wq is proportional to (1 + cv²)/2, so cv = 0 halves the M/M/1 wait."""
    assert md1(rho * mu, 1.0 / mu).mean_wait_s == \
        pytest.approx(mm1(rho * mu, mu).mean_wait_s / 2.0, rel=1e-9)


def test_md1_textbook_value() -> None:
    """M/D/1 at ρ = 0.5, S = 1: Wq = ρS/(2(1−ρ)) = 0.5, Lq = ρ²/(2(1−ρ)) = 0.25."""
    m = md1(0.5, 1.0)
    assert m.mean_wait_s == pytest.approx(0.5)
    assert m.mean_queue_length == pytest.approx(0.25)


def test_mg1_moments_and_cv_agree() -> None:
    """Gamma(mean 2 ms, cv 0.5): E[S²] = mean²(1 + cv²)."""
    lam, mean, cv = 300.0, 0.002, 0.5
    assert mg1(lam, mean, mean**2 * (1 + cv**2)) == mg1_cv(lam, mean, cv)


@given(loads, service_rates, st.floats(min_value=0.0, max_value=0.999))
def test_mm1_quantile_is_exponential(rho: float, mu: float, q: float) -> None:
    lam = rho * mu
    assert mm1_sojourn_quantile(lam, mu, q) == \
        pytest.approx(stats.expon(scale=1.0 / (mu - lam)).ppf(q), rel=1e-9, abs=1e-15)


def test_mm1_quantile_reference_points() -> None:
    assert mm1_sojourn_quantile(0.9, 1.0, 0.5) == pytest.approx(10.0 * math.log(2))
    assert mm1_sojourn_quantile(0.9, 1.0, 0.99) == pytest.approx(10.0 * math.log(100))


def test_unstable_queues_report_infinity() -> None:
    for m in (mm1(1.0, 1.0), mmc(9.0, 1.0, 8), md1(2.0, 1.0)):
        assert not m.stable
        assert math.isinf(m.mean_sojourn_s) and math.isinf(m.mean_in_system)
        assert m.wait_probability == 1.0
    assert math.isinf(mm1_sojourn_quantile(2.0, 1.0, 0.5))


@pytest.mark.parametrize("call", [
    lambda: mm1(-1.0, 1.0),
    lambda: mmc(1.0, 0.0, 2),
    lambda: mmc(1.0, 1.0, 0),
    lambda: mg1(1.0, 0.1, 0.001),  # E[S²] < E[S]²
    lambda: mg1_cv(1.0, 0.1, -0.5),
    lambda: mm1_sojourn_quantile(0.5, 1.0, 1.0),
])
def test_meaningless_inputs_are_refused(call: object) -> None:
    with pytest.raises(ValueError):
        call()  # type: ignore[operator]
