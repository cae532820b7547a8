"""Circuit breaker with fallback in front of a payment gateway that hangs."""

from __future__ import annotations

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param

PATH_MS = 2.0 + 2 * 0.25  # checkout's own work and the client's round trip


class Params(TemplateParams):
    with_breaker: bool = param(True, "guard the payment call with a circuit breaker")
    rps: float = param(100, "checkouts per second", unit="req/s", ge=1, le=2000)
    timeout_ms: float = param(1000, "per payment attempt", unit="ms", ge=10, le=30_000)
    fallback_ms: float = param(5, "the fallback: queue the charge to retry later", unit="ms",
                               ge=0, le=1000)
    open_for_s: float = param(10, "how long the breaker stays open before probing", unit="s",
                              ge=1, le=600)


def scenario(p: Params) -> Scenario:
    expect: tuple[Expect, ...]
    if p.with_breaker:
        expect = (
            Expect("workloads.checkout.latency_ms.p90", "~", PATH_MS + p.fallback_ms,
                   "while open, the failing path answers in the fallback's time (plus "
                   "checkout's own 2 ms and the client's round trip)", tolerance=0.1),
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
              "The breaker opens during the warm-up, so the measured window shows the "
              "open state (and its half-open probes).",
        expect=expect,
        quick=("simulation.duration=10s",))


TEMPLATE = Template(
    id="circuit-breaker", version=1, title="Circuit breaker with fallback (payment gateway)",
    summary="When the payment gateway hangs, the breaker opens after its minimum window and "
            "fails fast to a fallback ('accept the order, charge later'): checkout latency "
            "drops from the timeout to the fallback's few milliseconds.",
    patterns=("circuit-breaker", "fallback", "fail-fast", "graceful-degradation"),
    params=Params, scenario=scenario,
    assumptions=(
        "Resilience4j semantics: count window 20, min 10 calls, opens at 50 % failures "
        "(a timeout is a failure), one breaker per checkout replica.",
        "Charging later is an acceptable fallback for the business (the order is kept and "
        "the charge queued); the answer is counted as degraded.",
        "The outage covers the whole run and the breaker opens during the 5 s warm-up; "
        "half-open probes (3 per replica every open_for) still wait out the timeout, which "
        "shows above p99 only.",
    ))
