"""E-commerce platform: browse from a cache, checkout through a guarded payment call."""

from __future__ import annotations

import math

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import SIGMAS, Expect
from scalesim.templates.params import TemplateParams, param


class Params(TemplateParams):
    rps: float = param(1000, "all traffic; 80 % browse, 20 % checkout", unit="req/s", ge=10,
                       le=20_000)
    hit_ratio: float = param(0.9, "product cache hit ratio", ge=0, le=0.999)
    payment_error_rate: float = param(0.6, "payment provider errors during the incident",
                                      ge=0.01, le=1)


CHECKOUT = 0.2  # the checkout's share of the traffic
MIN_CALLS, FAILURE_RATE = 20, 0.5  # the breaker's: calls before it judges, the rate it opens at
QUICK_INCIDENT_S = 4


def breaker_opens(p: Params) -> bool:
    """The incident fails at least the breaker's rate, and the quick run's incident has its
    minimum of calls (by 4 Poisson σ)."""
    calls = CHECKOUT * p.rps * QUICK_INCIDENT_S
    return (p.payment_error_rate >= FAILURE_RATE and
            calls - SIGMAS * math.sqrt(calls) >= MIN_CALLS)


def scenario(p: Params) -> Scenario:
    return Scenario(
        story=f"{p.rps:g} req/s of browsing and checkout; the payment provider fails "
              f"{p.payment_error_rate:.0%} of charges from 10 s to 20 s.",
        expect=(
            Expect("workloads.browse.goodput_share", ">=", 0.999,
                   "browsing does not depend on payments"),
            Expect("workloads.browse.latency_ms.p99", "<", 50, "and stays fast"),
            Expect("workloads.checkout.goodput_share", ">=", 0.999,
                   "checkout keeps working: failed charges fall back to 'charge later'"),
            *((Expect("calls[orders.create->payments.charge].circuit_breaker.not_permitted",
                      ">", 0, "the breaker opens during the incident and stops calling the "
                      "provider"),) if breaker_opens(p) else ()),
            Expect("workloads.checkout.latency_ms.p99", "<", 1000,
                   "checkout never waits longer than the provider's normal tail"),
            Expect("queues[order-events->email.send].failed", "<=", 0,
                   "every order event reaches the e-mail service"),
            Expect("outboxes[orders.create->order-events.publish].delay_ms.p99", "<", 600,
                   "through the outbox within one poll interval (500 ms)"),
        ),
        quick=("simulation.duration=10s", "simulation.warmup=1s", "faults.0.at=4s",
               f"faults.0.for={QUICK_INCIDENT_S}s"))


TEMPLATE = Template(
    id="e-commerce", version=3, title="E-commerce platform (composite)",
    summary="Gateway, cached product catalogue, cart, orders and inventory each with its own "
            "database, a payment provider behind a timeout, breaker and fallback, and order "
            "events published through an outbox: a payment incident degrades checkout "
            "without failing it, and browsing never notices.",
    patterns=("microservice-architecture", "api-gateway", "cache-aside", "circuit-breaker",
              "fallback", "database-per-service", "publish-subscribe", "transactional-outbox"),
    params=Params, scenario=scenario,
    assumptions=(
        "Accepting an order and charging later is acceptable (the fallback is degraded, "
        "not failed).",
        "Service times are typical orders of magnitude (cache 0.3 ms, queries 2–5 ms, "
        "payment median 120 ms, p99 600 ms), not measurements of a real shop.",
        "The gateway is event-driven; services are thread-per-request.",
        "Order events go through a transactional outbox with a polling relay (every 500 ms); "
        "the relay's queries are not charged to the order database.",
        "The breaker (50-call window, 20 calls at least, opens at 50 % failures) is claimed "
        "to open when the incident fails at least half the charges and the quick run's 4 s "
        "incident has 20 checkouts by 4 Poisson σ (from 60 req/s in all): not at "
        "rps=10 (8 charges) or payment_error_rate=0.01.",
    ))
