"""Round robin over k single-worker replicas of a Poisson stream: each replica sees
Erlang-k interarrivals, an E_k/M/1 queue solved exactly by the G/M/1 equation."""

from __future__ import annotations

import math

import pytest
from scipy import optimize

from scalesim.analytic.estimate import estimate
from scalesim.analytic.markovian import erlang_arrivals_wait
from scalesim.analytic.station import StationLoad, solve
from scalesim.spec import load_spec_text


@pytest.mark.parametrize("rate", [10.0, 50.0, 80.0, 99.0])
def test_two_phases_match_the_quadratic(rate: float) -> None:
    """E2/M/1: with x = 1 − σ and a = 2λ, (1 − x)(a + μx)² = a² leaves
    μ²x² + (2aμ − μ²)x + a² − 2aμ = 0 (λ = 50, μ = 100: x² + x − 1 = 0, σ = (3 − √5)/2)."""
    mu, a = 100.0, 2.0 * rate
    b, c = 2.0 * a * mu - mu**2, a**2 - 2.0 * a * mu
    x = (-b + math.sqrt(b * b - 4.0 * mu**2 * c)) / (2.0 * mu**2)
    assert erlang_arrivals_wait(2, rate, mu) == pytest.approx(1.0 - x, rel=1e-12)


@pytest.mark.parametrize(("phases", "rate"), [(3, 30.0), (4, 80.0), (8, 95.0)])
def test_the_root_of_the_g_m_1_equation(phases: int, rate: float) -> None:
    mu, a = 100.0, phases * rate

    def gap(s: float) -> float:
        return float((a / (a + mu * (1.0 - s))) ** phases - s)

    root = optimize.brentq(gap, 1e-12, rate / mu + (1.0 - rate / mu) * 0.999, xtol=1e-15)
    assert erlang_arrivals_wait(phases, rate, mu) == pytest.approx(root, rel=1e-10)


def test_one_phase_is_m_m_1() -> None:
    assert erlang_arrivals_wait(1, 80.0, 100.0) == pytest.approx(0.8, rel=1e-12)


def test_a_round_robin_pool_is_e4_m_1() -> None:
    """4 × M/M/1 at ρ 0.8 behind round robin (the QA spec): σ = 0.69394, W = 1/(μ(1 − σ)) =
    32.674 ms (simulated 32.76); Allen–Cunneen had 35.0 ms."""
    found = estimate(load_spec_text("""scalesim: 1
name: t
components:
  pool:
    replicas: 4
    workers: 1
    balancer: round_robin
    operations: {get: {work: {dist: exponential, mean: 10ms}}}
workloads:
  - {name: p, to: pool.get, rate: 320/s}
"""))
    sigma = erlang_arrivals_wait(4, 80.0, 100.0)
    assert sigma == pytest.approx(0.69394, abs=1e-5)
    pool = found.components["pool"].state
    assert pool.model == "E4/M/1" and pool.exact
    assert pool.p_wait == pytest.approx(sigma, rel=1e-12)
    assert found.workloads["p"].mean_s == pytest.approx(1.0 / (100.0 * (1.0 - sigma)), rel=1e-9)
    assert found.workloads["p"].mean_s == pytest.approx(0.032674, abs=1e-6)


def test_several_workers_per_replica_keep_allen_cunneen() -> None:
    state = solve(StationLoad(80.0, 2, None, 0.02, 1.0, 0.25))
    assert state.model == "G/M/2 (Allen–Cunneen)"


def test_turns_of_a_poisson_stream_are_e4_m_1() -> None:
    """A replica's share of round robin over 4 (`StationLoad.in_turn`): E4/M/1, exact."""
    state = solve(StationLoad.in_turn(80.0, 1, None, 0.01, 1.0, 4))
    sigma = erlang_arrivals_wait(4, 80.0, 100.0)
    assert state.model == "E4/M/1" and state.exact
    assert state.p_wait == pytest.approx(sigma, rel=1e-12)
    assert state.mean_wait_s == pytest.approx(sigma * 0.01 / (1.0 - sigma), rel=1e-12)


def test_other_arrivals_of_scv_one_quarter_keep_allen_cunneen() -> None:
    """Arrivals of ca² = 1/4 that are not every 4th of a Poisson stream (a hash ring's
    dispersion, any other process) have no exact result: G/M/1 by Allen–Cunneen, Wq =
    ρ/(μ − λ)·(ca² + cs²)/2 = 0.8/20 · 0.625 = 25 ms, not E4/M/1's 22.7 ms."""
    state = solve(StationLoad(80.0, 1, None, 0.01, 1.0, 0.25))
    assert state.model == "G/M/1 (Allen–Cunneen)" and not state.exact
    assert state.p_wait == pytest.approx(0.8, rel=1e-12)
    assert state.mean_wait_s == pytest.approx(0.025, rel=1e-12)
