"""Timeout: bound how long a caller waits on a dependency with a heavy tail."""

from __future__ import annotations

import math

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import SIGMAS, Expect, share_near
from scalesim.templates.params import TemplateParams, param

OVERHEAD_MS = 1.0 + 4 * 0.25 + 3.0  # the caller's work, two round trips, a margin
WORK_MS = 1.0  # the caller's own work
HOP_MS = 2 * 0.25  # the round trip to the dependency, inside the timeout
MEDIAN_MS, P99_MS = 8.0, 30.0  # the dependency's usual answer (lognormal)
SIGMA = math.log(P99_MS / MEDIAN_MS) / 2.3263
QUICK_S = 14  # the quick run's measured seconds (the fewest calls the tolerances allow for)
REPLICAS = 2
UTILIZATION = 0.5  # the caller's threads: at most this busy on average
MIN_WORKERS = 64


class Params(TemplateParams):
    rps: float = param(500, "calls per second", unit="req/s", ge=1, le=10_000)
    timeout_ms: float = param(100, "how long the caller waits per call", unit="ms", ge=1,
                              le=60_000)
    slow_share: float = param(0.02, "share of answers that hang", ge=0, le=0.5)
    slow_ms: float = param(3000, "how long a hanging answer takes", unit="ms", ge=1,
                           le=600_000)


def _normal_tail(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2))


def _fast_above(ms: float) -> float:
    """P(a usual answer takes longer than ms)."""
    return 1.0 if ms <= 0 else _normal_tail((math.log(ms) - math.log(MEDIAN_MS)) / SIGMA)


def _fast_held(ms: float) -> float:
    """E[min(usual answer, ms)] of the lognormal: its partial mean below ms, plus ms times
    the share above."""
    if ms <= 0:
        return 0.0
    mu = math.log(MEDIAN_MS)
    below = math.exp(mu + SIGMA ** 2 / 2) * (1 - _normal_tail(
        (math.log(ms) - mu - SIGMA ** 2) / SIGMA))
    return below + ms * _fast_above(ms)


def timed_out(p: Params) -> float:
    """The share of calls that time out: the answer (work plus the round trip) is later than
    the timeout — every hang longer than it, and the usual answer's tail beyond it."""
    wait = p.timeout_ms - HOP_MS
    slow = 1.0 if p.slow_ms > wait else 0.0
    return p.slow_share * slow + (1 - p.slow_share) * _fast_above(wait)


def hold_ms(p: Params) -> float:
    """Mean time a caller thread is held: its work, then the answer or the timeout,
    whichever comes first."""
    if p.timeout_ms <= HOP_MS:
        return WORK_MS + p.timeout_ms
    wait = p.timeout_ms - HOP_MS
    return WORK_MS + HOP_MS + (1 - p.slow_share) * _fast_held(wait) + \
        p.slow_share * min(wait, p.slow_ms)


def held_tolerance(p: Params, calls: float) -> float:
    """The relative error of the mean threads held over `calls` Poisson arrivals is
    sqrt(E[H²] / (calls · E[H]²)); E[H²] ≤ E[H] · (work + timeout), since no hold is longer."""
    noise = math.sqrt((WORK_MS + p.timeout_ms) / (calls * hold_ms(p)))
    return max(0.1, SIGMAS * noise)


def workers(p: Params) -> int:
    """Threads per caller replica: enough for the held threads (Little's law) at most
    UTILIZATION busy, so the caller never queues because of the hangs it bounds."""
    held = p.rps * hold_ms(p) / 1000.0
    return max(MIN_WORKERS, math.ceil(held / REPLICAS / UTILIZATION))


def derive(p: Params) -> dict[str, object]:
    return {"workers": workers(p)}


def scenario(p: Params) -> Scenario:
    share = timed_out(p)
    calls = p.rps * QUICK_S
    bound = (Expect("latency_ms.max", "<", p.timeout_ms + OVERHEAD_MS,
                    "no answer comes later than the timeout (latency_ms is over the "
                    "answered calls only)"),
             ) if calls * (1 - share) >= 10 else ()
    return Scenario(
        story=f"{p.rps:g} calls/s to a dependency that answers in ~10 ms but hangs for "
              f"{p.slow_ms:g} ms on {p.slow_share:.1%} of requests; {share:.3g} of the calls "
              f"outlast the {p.timeout_ms:g} ms timeout.",
        expect=(
            *bound,
            Expect("workloads.calls.requests.failed", "<=", 0,
                   "every caller not answered in time is let go by the timeout: each "
                   "failure is a timeout (none left waiting, none refused for want of a "
                   "thread the hangs hold)",
                   minus="workloads.calls.requests.failed_by_cause.timeout"),
            share_near("workloads.calls.failed_share", share, calls,
                       "the answers later than the timeout — hangs longer than it and the "
                       "usual answer's tail beyond it — become fast failures instead "
                       "(within 4 binomial standard errors)"),
            Expect("components.caller.concurrency_mean", "~", p.rps * hold_ms(p) / 1000,
                   "Little's law: threads are held for the answer or the timeout, whichever "
                   "comes first, never for the hang (within 10 %, or 4 standard errors of "
                   "the calls' total hold when fewer calls make it noisier)",
                   tolerance=held_tolerance(p, calls)),
        ),
        quick=("simulation.duration=15s", "simulation.warmup=1s"))


TEMPLATE = Template(
    id="timeout", version=1, title="Timeout on a dependency with a heavy tail",
    summary="A dependency sometimes hangs; a per-call timeout turns each hang into a quick "
            "failure, bounding the caller's latency and the threads it holds.",
    patterns=("timeout", "fail-fast"),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        "The dependency's answer time is a mixture: lognormal (median 8 ms, p99 30 ms) "
        "with probability 1 − slow_share, a hang of slow_ms otherwise.",
        "The callee keeps working on a timed-out request (its late answer is dropped), as "
        "real servers do.",
        "The caller returns the failure (no retry, no fallback), so the failed share is the "
        "share of answers later than the timeout: the hangs longer than it, and the usual "
        "answer's tail beyond it (all of them below its 8 ms median); add a retry or "
        "fallback to hide it.",
        "The caller has 64 threads per replica, more when the held threads (Little's law) "
        "would keep them over half busy; the latency bound is claimed when at least 10 "
        "calls succeed.",
    ))
