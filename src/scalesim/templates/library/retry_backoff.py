"""Retry with exponential back-off and jitter against transient, independent errors."""

from __future__ import annotations

import math
from typing import Literal

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import SIGMAS, Expect
from scalesim.templates.params import TemplateParams, param


class Params(TemplateParams):
    rps: float = param(500, "calls per second", unit="req/s", ge=1, le=20_000)
    error_rate: float = param(0.1, "chance one attempt fails, independently of the others",
                              ge=0, le=0.9)
    attempts: int = param(3, "tries in all, the first included", unit="tries", ge=1, le=8)
    base_ms: float = param(25, "back-off base", unit="ms", ge=1, le=10_000)
    cap_factor: float = param(10, "back-off cap as a multiple of base (Envoy: 10)",
                              unit="×", ge=1, le=100)
    jitter: Literal["full", "equal", "decorrelated", "none"] = param(
        "full", "AWS jitter: spreads retries so they do not arrive in waves")


QUICK_CALLS_S = 9  # the quick run's measured seconds: the fewest calls the tolerances allow


def attempt_moments(p: Params) -> tuple[float, float]:
    """Mean and variance of the tries per call: P(tries ≥ j) = p^(j − 1), j = 1 … attempts."""
    mean = sum(p.error_rate ** k for k in range(p.attempts))
    square = sum((2 * k + 1) * p.error_rate ** k for k in range(p.attempts))
    return mean, square - mean ** 2


def scenario(p: Params) -> Scenario:
    failing = p.error_rate ** p.attempts
    calls = p.rps * QUICK_CALLS_S
    attempts, variance = attempt_moments(p)
    # 4 binomial standard errors of the failed share (and 4 / calls for few failures), and
    # 4 standard errors of the mean tries, relative; never tighter than 0.5 % and 3 %.
    spread = SIGMAS * math.sqrt(failing * (1 - failing) / calls) + SIGMAS / calls
    goodput_tolerance = max(0.005, spread / (1 - failing))
    tries_tolerance = max(0.03, SIGMAS * math.sqrt(variance / calls) / attempts)
    return Scenario(
        story=f"{p.rps:g} calls/s to a dependency whose every attempt fails with chance "
              f"{p.error_rate:g}; up to {p.attempts} tries each.",
        expect=(
            Expect("workloads.calls.goodput_share", "~", 1 - failing,
                   f"a call fails only if all {p.attempts} tries fail: 1 − p^attempts "
                   "(within 4 binomial standard errors, at least 0.5 %)",
                   tolerance=goodput_tolerance),
            Expect("calls[client.fetch->dependency.get].amplification", "~", attempts,
                   "attempts per call: 1 + p + p² + … (the extra load retries cost; within "
                   "4 standard errors of the mean, at least 3 %)", tolerance=tries_tolerance),
        ),
        quick=("simulation.duration=10s", "simulation.warmup=1s"))


TEMPLATE = Template(
    id="retry-backoff", version=1, title="Retry with exponential back-off and jitter",
    summary="Transient errors are retried after exponentially growing, jittered waits: with "
            "a 10 % error rate three tries turn 90 % success into 99.9 % for 11 % more load.",
    patterns=("retry",),
    params=Params, scenario=scenario,
    assumptions=(
        "Errors are transient and independent per attempt (a retry is as likely to succeed "
        "as the first try); correlated failures (an outage) need a breaker or a budget, "
        "not more retries.",
        "The dependency has spare capacity, so the retries' extra load does not slow it; "
        "near saturation retries amplify overload (see the retry-storm anti-pattern).",
        "The operation is idempotent, so retrying it is safe.",
    ))
