"""Circuit breaker with fallback in front of a payment gateway that hangs."""

from __future__ import annotations

import math
from typing import Any

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param

PATH_MS = 2.0 + 2 * 0.25  # checkout's own work and the client's round trip
REPLICAS = 2  # checkout replicas, one breaker each
MIN_CALLS = 10  # the breaker's minimum window
PROBES = 3  # half-open calls per replica
WINDOW_S = 25  # the measured window, at least
WINDOW_CALLS = 200  # and at least this many checkouts in it
FAST_SHARE = 0.04  # probes at most this share of checkouts: p90 is the fallback's


class Params(TemplateParams):
    with_breaker: bool = param(True, "guard the payment call with a circuit breaker")
    rps: float = param(100, "checkouts per second", unit="req/s", ge=1, le=2000)
    timeout_ms: float = param(1000, "per payment attempt", unit="ms", ge=10, le=30_000)
    fallback_ms: float = param(5, "the fallback: queue the charge to retry later", unit="ms",
                               ge=0, le=1000)
    open_for_s: float = param(10, "how long the breaker stays open before probing", unit="s",
                              ge=1, le=600)


def opened_by_s(p: Params) -> float:
    """When every breaker has opened, at the latest: a replica's MIN_CALLS-th call arrives
    after a Gamma(MIN_CALLS) time at rps / REPLICAS (its mean + 4 standard deviations), and
    times out timeout_ms later."""
    calls = MIN_CALLS + 4 * math.sqrt(MIN_CALLS)
    return calls * REPLICAS / p.rps + p.timeout_ms / 1000.0


def warmup_s(p: Params) -> int:
    return max(5, math.ceil(opened_by_s(p)))


def window_s(p: Params) -> int:
    return max(WINDOW_S, math.ceil(WINDOW_CALLS / p.rps))


def probe_share(p: Params) -> float:
    """Checkouts that are half-open probes, at most: PROBES per replica wait out the timeout
    once per cycle, and a cycle lasts at least open_for + timeout."""
    return REPLICAS * PROBES / (p.rps * (p.open_for_s + p.timeout_ms / 1000.0))


def derive(p: Params) -> dict[str, Any]:
    return {"warmup": warmup_s(p), "duration": warmup_s(p) + window_s(p)}


def latency(p: Params) -> tuple[Expect, ...]:
    """p90 is the fallback path's when probes are rare; with few checkouts per cycle the
    probes (each waiting out the timeout) are a larger share, and p50 or nothing is."""
    share = probe_share(p)
    why = (f"while open, the failing path answers in the fallback's time (plus checkout's own "
           f"2 ms and the client's round trip); half-open probes, at most {share:.1%} of "
           f"checkouts = {REPLICAS} × {PROBES} / (rps × (open_for + timeout)), wait the timeout")
    if share <= FAST_SHARE:
        return (Expect("workloads.checkout.latency_ms.p90", "~", PATH_MS + p.fallback_ms,
                       why, tolerance=0.1),)
    if share <= 10 * FAST_SHARE:
        return (Expect("workloads.checkout.latency_ms.p50", "~", PATH_MS + p.fallback_ms,
                       why, tolerance=0.1),)
    return ()


def scenario(p: Params) -> Scenario:
    expect: tuple[Expect, ...]
    if p.with_breaker:
        expect = (
            *latency(p),
            Expect("calls[checkout.pay->payments.charge].circuit_breaker.not_permitted", ">",
                   0, "the breaker opened and refused calls"),
            Expect("workloads.checkout.goodput_share", ">=", 0.999,
                   "every checkout still succeeds, degraded to 'charge later'"),
        )
    else:
        expect = (Expect("workloads.checkout.latency_ms.p50", ">=", p.timeout_ms,
                         "without a breaker every checkout waits out the timeout"),)
    return Scenario(
        story=f"The payment gateway hangs (+30 s) for the whole run; {p.rps:g} checkouts/s. "
              f"Each replica's breaker opens once {MIN_CALLS} calls have timed out (by "
              f"{opened_by_s(p):.3g} s); the {warmup_s(p)} s warm-up covers that, so the "
              f"measured {derive(p)['duration']} s show the open state (and its half-open "
              "probes).",
        expect=expect,
        quick=(f"simulation.duration={warmup_s(p) + 5}s",))


TEMPLATE = Template(
    id="circuit-breaker", version=1, title="Circuit breaker with fallback (payment gateway)",
    summary="When the payment gateway hangs, the breaker opens after its minimum window and "
            "fails fast to a fallback ('accept the order, charge later'): checkout latency "
            "drops from the timeout to the fallback's few milliseconds.",
    patterns=("circuit-breaker", "fallback", "fail-fast", "graceful-degradation"),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        "Resilience4j semantics: count window 20, min 10 calls, opens at 50 % failures "
        "(a timeout is a failure), one breaker per checkout replica.",
        "Charging later is an acceptable fallback for the business (the order is kept and "
        "the charge queued); the answer is counted as degraded.",
        "The outage covers the whole run and the breaker opens during the warm-up: at least "
        "5 s, and long enough for 10 calls per replica (mean + 4 σ of their arrival) to time "
        "out; the measured duration is the warm-up's length plus 25 s, or plus the time of "
        "200 checkouts when longer (30 s at the defaults).",
        "Half-open probes (3 per replica every open_for) still wait out the timeout: at most "
        "6 / (rps × (open_for + timeout)) of the checkouts. The scenario expects p90 at the "
        "fallback's time when that is at most 4 %, p50 when at most 40 %, neither beyond.",
    ))
