"""Ambassador: a local proxy owns retries, timeouts and failover to a second provider."""

from __future__ import annotations

import math
from typing import Any

from scalesim.templates import sizing
from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import SIGMAS, Expect, count_at_most
from scalesim.templates.params import TemplateParams, param

WINDOW_SHARE = 15 / 30
QUICK_WINDOW_S = 7  # the quick run's measured seconds
EJECT_AFTER = 5  # consecutive errors before Envoy ejects a provider
Z99 = 2.3263  # the standard normal's 99th percentile
HOP_MS, APP_MS = 0.25, 2.0  # a network hop; the application's work
LATE = 1e-4  # attempts past the timeout below which an outage stays hidden


class Params(TemplateParams):
    rps: float = param(100, "payment calls per second", unit="req/s", ge=1, le=5000)
    timeout_ms: float = param(2000, "per attempt, at the ambassador", unit="ms", ge=10,
                              le=30_000)
    provider_ms: float = param(120, "a provider's median answer time (lognormal)", unit="ms",
                               ge=1, le=10_000)
    failover: bool = param(True, "retry on the other provider and eject a failing one")


def late(p: Params) -> float:
    """P(an attempt misses the timeout): the round trip and the provider's lognormal answer
    (p99 four times the median) together longer than it."""
    budget = p.timeout_ms - 2 * HOP_MS
    if budget <= 0:
        return 1.0
    sigma = math.log(4) / Z99
    return 0.5 * math.erfc(math.log(budget / p.provider_ms) / sigma / math.sqrt(2))


def derive(p: Params) -> dict[str, Any]:
    """The application's threads: a checkout holds one for its work, the hops and its
    attempts (each at most the timeout), at most 70 % busy; 32 at least."""
    attempt_ms = min(p.timeout_ms, mean_answer_ms(p)) + 4 * HOP_MS
    hold_ms = APP_MS + (2 if p.failover else 1) * attempt_ms
    return {"app_workers": sizing.threads(p.rps, hold_ms, 2, 32, 0.7)}


def mean_answer_ms(p: Params) -> float:
    """A provider's mean answer time: the lognormal's median × exp(σ² / 2)."""
    return p.provider_ms * math.exp((math.log(4) / Z99) ** 2 / 2)


def retries_expect(p: Params) -> Expect:
    """The 5 errors that eject A, and the calls A holds at that moment (half the rate for
    an answer time, at most their Poisson bound), fail and are retried."""
    held = p.rps / 2 * mean_answer_ms(p) / 1000.0
    return Expect("calls[ambassador.call->providers.charge].retries", "<=",
                  EJECT_AFTER + count_at_most(held),
                  "A is ejected after 5 errors in a row, so only those and the calls it "
                  "held then need a retry")


def failover_expect(p: Params) -> tuple[Expect, ...]:
    """The outage is hidden when the providers answer within the timeout; the 5 retries
    before the ejection are under 5 % of the calls when the quick run has 100 or more (by
    4 Poisson σ), else they are counted (with the calls A held when it was ejected)."""
    if late(p) > LATE:
        return ()
    calls = p.rps * QUICK_WINDOW_S
    few = calls - SIGMAS * math.sqrt(calls) < EJECT_AFTER / 0.05
    return (Expect("workloads.payments.goodput_share", ">=", 0.999,
                   "provider A's outage is hidden: failed calls go to provider B"),
            retries_expect(p) if few else
            Expect("calls[ambassador.call->providers.charge].amplification", "<", 1.05,
                   "A is ejected after 5 errors in a row, so few calls need a retry"))


def scenario(p: Params) -> Scenario:
    expect: tuple[Expect, ...] = ()
    if p.failover:
        expect = failover_expect(p)
    elif late(p) <= LATE:
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
    id="ambassador", version=2, title="Ambassador with provider failover",
    summary="The application calls a local ambassador that owns the remote calls: timeouts, "
            "retries on the other provider and ejection of a failing one, so the "
            "application stays simple and a provider outage stays invisible.",
    patterns=("ambassador", "failover", "retry"),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        "The two providers are interchangeable behind the ambassador's one API (it "
        "translates); they are modelled as two replicas of one external component, so "
        "'other replica' means 'other provider'.",
        "Provider A's outage returns errors at once (HTTP 5xx); a hanging provider would "
        "cost the timeout per failed attempt instead.",
        "Ejection follows Envoy's consecutive-5xx outlier detection (5 errors, 30 s base): "
        "those 5 and the calls A holds then are retried, under 5 % of the calls when the "
        "quick run has 100 or more (by 4 Poisson σ); with fewer the retries are claimed at "
        "most 5 and the Poisson bound of the held calls (half the rate × the mean answer).",
        "Provider answers are lognormal with a p99 four times the median. The outage is "
        "claimed hidden when under 0.01 % of attempts miss the timeout (a timeout above "
        "about 9 × provider_ms); with a shorter one attempts time out on both providers "
        "and no outcome is claimed (timeout_ms=10, provider_ms=10000).",
        "The application has 2 replicas of 32 threads, more when checkouts (its 2 ms, the "
        "hops and its attempts, each at most the timeout) would keep them over 70 % busy.",
    ))
