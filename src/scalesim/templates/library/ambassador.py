"""Ambassador: a local proxy owns retries, timeouts and failover to a second provider."""

from __future__ import annotations

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param

WINDOW_SHARE = 15 / 30


class Params(TemplateParams):
    rps: float = param(100, "payment calls per second", unit="req/s", ge=1, le=5000)
    timeout_ms: float = param(2000, "per attempt, at the ambassador", unit="ms", ge=10,
                              le=30_000)
    provider_ms: float = param(120, "a provider's median answer time (lognormal)", unit="ms",
                               ge=1, le=10_000)
    failover: bool = param(True, "retry on the other provider and eject a failing one")


def scenario(p: Params) -> Scenario:
    expect: tuple[Expect, ...]
    if p.failover:
        expect = (
            Expect("workloads.payments.goodput_share", ">=", 0.999,
                   "provider A's outage is hidden: failed calls go to provider B"),
            Expect("calls[ambassador.call->providers.charge].amplification", "<", 1.05,
                   "A is ejected after 5 errors in a row, so few calls need a retry"),
        )
    else:
        expect = (Expect("workloads.payments.goodput_share", "~", 1 - WINDOW_SHARE / 2,
                         "without failover half the calls fail while A is down",
                         tolerance=0.03),)
    return Scenario(
        story=f"{p.rps:g} payments/s; provider A returns errors for half of the run "
              "(12 s to 27 s).",
        expect=expect,
        quick=("simulation.duration=8s", "simulation.warmup=1s", "faults.0.at=3s",
               "faults.0.for=4s"))


TEMPLATE = Template(
    id="ambassador", version=1, title="Ambassador with provider failover",
    summary="The application calls a local ambassador that owns the remote calls: timeouts, "
            "retries on the other provider and ejection of a failing one, so the "
            "application stays simple and a provider outage stays invisible.",
    patterns=("ambassador", "failover", "retry"),
    params=Params, scenario=scenario,
    assumptions=(
        "The two providers are interchangeable behind the ambassador's one API (it "
        "translates); they are modelled as two replicas of one external component, so "
        "'other replica' means 'other provider'.",
        "Provider A's outage returns errors at once (HTTP 5xx); a hanging provider would "
        "cost the timeout per failed attempt instead.",
        "Ejection follows Envoy's consecutive-5xx outlier detection (5 errors, 30 s base).",
    ))
