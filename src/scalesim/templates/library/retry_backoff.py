"""Retry with exponential back-off and jitter against transient, independent errors."""

from __future__ import annotations

from typing import Literal

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
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


def scenario(p: Params) -> Scenario:
    failing = p.error_rate ** p.attempts
    attempts = sum(p.error_rate ** k for k in range(p.attempts))
    return Scenario(
        story=f"{p.rps:g} calls/s to a dependency whose every attempt fails with chance "
              f"{p.error_rate:g}; up to {p.attempts} tries each.",
        expect=(
            Expect("workloads.calls.goodput_share", "~", 1 - failing,
                   f"a call fails only if all {p.attempts} tries fail: 1 − p^attempts",
                   tolerance=0.005),
            Expect("calls[client.fetch->dependency.get].amplification", "~", attempts,
                   "attempts per call: 1 + p + p² + … (the extra load retries cost)",
                   tolerance=0.03),
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
