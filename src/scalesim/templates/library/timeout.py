"""Timeout: bound how long a caller waits on a dependency with a heavy tail."""

from __future__ import annotations

import math

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param

OVERHEAD_MS = 1.0 + 4 * 0.25 + 3.0  # the caller's work, two round trips, a margin


class Params(TemplateParams):
    rps: float = param(500, "calls per second", unit="req/s", ge=1, le=10_000)
    timeout_ms: float = param(100, "how long the caller waits per call", unit="ms", ge=1,
                              le=60_000)
    slow_share: float = param(0.02, "share of answers that hang", ge=0, le=0.5)
    slow_ms: float = param(3000, "how long a hanging answer takes", unit="ms", ge=1,
                           le=600_000)


def hold_ms(p: Params) -> float:
    """Mean time a caller thread is held: its work, the round trip, then the fast answer
    (lognormal mean 8·e^(σ²/2) ≈ 9.4 ms) or the timeout."""
    fast = 8.0 * math.exp((math.log(30 / 8) / 2.3263) ** 2 / 2)
    return 1.0 + 2 * 0.25 + (1 - p.slow_share) * fast + p.slow_share * min(p.timeout_ms,
                                                                          p.slow_ms)


def scenario(p: Params) -> Scenario:
    return Scenario(
        story=f"{p.rps:g} calls/s to a dependency that answers in ~10 ms but hangs for "
              f"{p.slow_ms:g} ms on {p.slow_share:.1%} of requests.",
        expect=(
            Expect("latency_ms.max", "<", p.timeout_ms + OVERHEAD_MS,
                   "no caller waits longer than the timeout"),
            Expect("workloads.calls.failed_share", "~", p.slow_share,
                   "the hanging answers become fast failures instead", tolerance=0.25),
            Expect("components.caller.concurrency_mean", "~", p.rps * hold_ms(p) / 1000,
                   "Little's law: threads are held for the fast answer or the timeout, never "
                   "for the hang", tolerance=0.1),
        ),
        quick=("simulation.duration=15s", "simulation.warmup=1s"))


TEMPLATE = Template(
    id="timeout", version=1, title="Timeout on a dependency with a heavy tail",
    summary="A dependency sometimes hangs; a per-call timeout turns each hang into a quick "
            "failure, bounding the caller's latency and the threads it holds.",
    patterns=("timeout", "fail-fast"),
    params=Params, scenario=scenario,
    assumptions=(
        "The dependency's answer time is a mixture: lognormal (median 8 ms, p99 30 ms) "
        "with probability 1 − slow_share, a hang of slow_ms otherwise.",
        "The callee keeps working on a timed-out request (its late answer is dropped), as "
        "real servers do.",
        "The caller returns the failure (no retry, no fallback) so the failed share equals "
        "the hanging share; add a retry or fallback to hide it.",
    ))
