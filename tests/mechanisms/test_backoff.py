"""Retry back-off against the AWS Architecture Blog definitions.

Reference: ../shared/reference/resilience-semantics.md §8, with expo(n) = min(cap, base·2^n)
and n the retry number from 1. Bounds are checked on every draw; means are checked against
the analytic mean of each definition with a tolerance of Z standard errors of the sample mean.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.mechanisms._support import uniform

from scalesim.sim.mechanisms.backoff import Backoff

BASE, CAP = 0.1, 2.0  # expo(n) = 0.2, 0.4, 0.8, 1.6, then capped at 2.0 for n = 5, 6
RETRIES = range(1, 7)
SAMPLES = 20_000
# 24 means are checked per jitter kind; with |z| <= 5 a correct implementation fails one with
# probability < 24 · 6e-7. The seeds are fixed, so the outcome is deterministic anyway.
Z = 5.0


def expo(n: int) -> float:
    return min(CAP, BASE * 2.0**n)


def draws(jitter: str, retry: int, seed: int, kind: str = "exponential") -> np.ndarray:
    b = Backoff(kind, jitter, BASE, CAP, uniform(seed))
    return np.array([b.delay(retry, 0.0) for _ in range(SAMPLES)])


def test_kind_none_never_waits() -> None:
    for jitter in ("none", "full", "equal", "decorrelated"):
        b = Backoff("none", jitter, BASE, CAP, uniform(1))
        assert all(b.delay(n, 0.3) == 0.0 for n in RETRIES)


@pytest.mark.parametrize("retry", RETRIES)
def test_exponential_without_jitter_is_expo(retry: int) -> None:
    b = Backoff("exponential", "none", BASE, CAP, uniform(1))
    assert b.delay(retry, 0.0) == pytest.approx(expo(retry), rel=1e-12)


def test_exponential_is_capped() -> None:
    b = Backoff("exponential", "none", BASE, CAP, uniform(1))
    assert b.delay(30, 0.0) == CAP


@pytest.mark.parametrize("retry", RETRIES)
def test_full_jitter_is_uniform_on_zero_to_expo(retry: int) -> None:
    v = expo(retry)
    x = draws("full", retry, seed=100 + retry)
    assert x.min() >= 0.0
    assert x.max() < v
    # U(0, v): mean v/2, sd v/sqrt(12)
    assert abs(x.mean() - v / 2) < Z * v / math.sqrt(12 * SAMPLES)
    # and it spreads over the whole range (a U(0, v) sample of 20k reaches within 0.1 % of both
    # ends with probability 1 - 2·(0.999)^20000 ≈ 1 - 4e-9)
    assert x.min() < 0.001 * v
    assert x.max() > 0.999 * v


@pytest.mark.parametrize("retry", RETRIES)
def test_equal_jitter_is_half_plus_uniform_half(retry: int) -> None:
    v = expo(retry)
    x = draws("equal", retry, seed=200 + retry)
    assert x.min() >= v / 2
    assert x.max() < v
    # v/2 + U(0, v/2): mean 3v/4, sd (v/2)/sqrt(12)
    assert abs(x.mean() - 0.75 * v) < Z * (v / 2) / math.sqrt(12 * SAMPLES)
    assert x.min() < v / 2 + 0.001 * v / 2
    assert x.max() > v - 0.001 * v / 2


def decorrelated_chains(seed: int, cap: float) -> np.ndarray:
    """SAMPLES independent calls, each retried 6 times: delays[call, retry - 1]."""
    b = Backoff("exponential", "decorrelated", BASE, cap, uniform(seed))
    out = np.empty((SAMPLES, len(RETRIES)))
    for call in range(SAMPLES):
        previous = 0.0  # "pass 0 before the first retry"
        for n in RETRIES:
            previous = b.delay(n, previous)
            out[call, n - 1] = previous
    return out


def test_decorrelated_jitter_bounds_per_step() -> None:
    x = decorrelated_chains(seed=300, cap=CAP)
    previous = np.full(SAMPLES, BASE)  # sleep starts at base
    for n in RETRIES:
        step = x[:, n - 1]
        assert (step >= BASE).all()
        assert (step <= np.minimum(CAP, 3.0 * previous)).all()
        previous = step
    assert (x[:, -1] == CAP).any()  # the cap is reached and returned exactly


def test_decorrelated_jitter_mean_without_cap() -> None:
    """Without a cap, E[sleep_n] = (base + 3·E[sleep_{n-1}]) / 2 from sleep_0 = base, because
    U(base, 3·s) has mean (base + 3s)/2 and is linear in s."""
    x = decorrelated_chains(seed=301, cap=1e9)
    expected = BASE
    for n in RETRIES:
        expected = (BASE + 3.0 * expected) / 2.0
        col = x[:, n - 1]
        # standard error from the sample itself: the chain's variance grows with n
        assert abs(col.mean() - expected) < Z * col.std(ddof=1) / math.sqrt(SAMPLES), n


def test_decorrelated_jitter_mean_with_cap_matches_aws_simulator() -> None:
    """With a cap, compare with an independent vectorised run of the AWS simulator formula
    sleep = min(cap, uniform(base, 3·sleep)); two-sample tolerance from both standard errors."""
    x = decorrelated_chains(seed=302, cap=CAP)
    rng = np.random.default_rng(9302)
    sleep = np.full(SAMPLES, BASE)
    for n in RETRIES:
        sleep = np.minimum(CAP, rng.uniform(BASE, 3.0 * sleep))
        col = x[:, n - 1]
        se = math.sqrt(col.var(ddof=1) / SAMPLES + sleep.var(ddof=1) / SAMPLES)
        assert abs(col.mean() - sleep.mean()) < Z * se, n


def test_decorrelated_carries_the_previous_delay() -> None:
    # A previous delay above base widens the range to U(base, 3·previous).
    b = Backoff("exponential", "decorrelated", BASE, 100.0, uniform(7))
    x = np.array([b.delay(3, 1.0) for _ in range(SAMPLES)])
    assert x.min() >= BASE
    assert x.max() <= 3.0
    assert abs(x.mean() - (BASE + 3.0) / 2) < Z * (3.0 - BASE) / math.sqrt(12 * SAMPLES)


@pytest.mark.parametrize(("jitter", "low", "high", "mean"), [
    ("none", BASE, BASE, BASE),
    ("full", 0.0, BASE, BASE / 2),
    ("equal", BASE / 2, BASE, 0.75 * BASE),
])
def test_constant_backoff_is_base_whatever_the_retry(jitter: str, low: float, high: float,
                                                     mean: float) -> None:
    for n in (1, 6):
        x = draws(jitter, n, seed=400 + n, kind="constant")
        assert x.min() >= low
        assert x.max() <= high
        width = high - low
        # + 1e-12: the mean of 20k equal floats is only equal to within rounding
        assert abs(x.mean() - mean) <= Z * width / math.sqrt(12 * SAMPLES) + 1e-12


@pytest.mark.parametrize("retry", RETRIES)
def test_envoy_waits_uniformly_below_base_doubled_per_retry(retry: int) -> None:
    # Envoy's JitteredExponentialBackOffStrategy (source/common/common/backoff_strategy.cc):
    # the interval starts at base and doubles after each draw, capped at max, and a wait is
    # uniform below it: retry n waits U[0, base·2^(n-1)). Its docs' (2^n - 1)·base is an
    # older form; the first retry waits up to one base either way, where expo(1) allows two.
    v = min(CAP, BASE * 2.0 ** (retry - 1))
    x = draws("full", retry, seed=300 + retry, kind="envoy")
    assert x.min() >= 0.0
    assert x.max() < v
    assert abs(x.mean() - v / 2) < Z * v / math.sqrt(12 * SAMPLES)
    assert x.max() > 0.999 * v
