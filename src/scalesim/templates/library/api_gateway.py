"""API gateway: routing, per-client rate limiting and token checks, for a few ms added."""

from __future__ import annotations

import math
from typing import Any

from scalesim.templates import sizing
from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import SIGMAS, Expect
from scalesim.templates.params import TemplateParams, param


class Params(TemplateParams):
    rps: float = param(2000, "well-behaved traffic (60 % web to orders, 40 % mobile to "
                       "catalog)", unit="req/s", ge=10, le=50_000)
    client_limit_rps: float = param(1500, "rate limit per client (token bucket)", unit="req/s",
                                    ge=1, le=100_000)
    abuse_factor: float = param(3, "the scraper sends this many times its limit", unit="×",
                                ge=0.1, le=20)
    auth_ms: float = param(1.0, "verifying the client's token (JWT signature)", unit="ms",
                           ge=0, le=20)
    route_ms: float = param(0.2, "matching the route and rewriting the request", unit="ms",
                            ge=0, le=20)
    replicas: int = param(2, "gateway instances", unit="instances", ge=1, le=32)


WEB, MOBILE = 0.6, 0.4  # the well-behaved traffic's shares
LOOPS = 4  # event loops per gateway instance
POST_MS = 0.1  # the gateway's work on the way back
ORDERS_MS, CATALOG_MS = 8.0, 5.0  # the backends' mean work
QUICK_WINDOW_S = 5  # the quick run's measured seconds
BUSY = 0.7  # the gateway's loops: at most this busy for the latency claims
ADDED_MS = 10.0  # what the gateway adds, at most (the headline)


def admitted(p: Params, share: float) -> float:
    """A client's requests the limiter lets through: its rate, at most the limit."""
    return min(share * p.rps, p.client_limit_rps)


def scraper_rps(p: Params) -> float:
    return min(p.abuse_factor, 1.0) * p.client_limit_rps


def gateway_busy(p: Params) -> float:
    """The gateway's loops' busy share: every admitted request's token check, routing and
    reply work, over replicas × 4 loops."""
    calls = admitted(p, WEB) + admitted(p, MOBILE) + scraper_rps(p)
    return calls * (p.auth_ms + p.route_ms + POST_MS) / 1000.0 / (p.replicas * LOOPS)


def derive(p: Params) -> dict[str, Any]:
    """The backends' threads (3 replicas): 32, or enough for what the limiter admits at
    most 70 % busy."""
    catalog = admitted(p, MOBILE) + scraper_rps(p)
    return {"orders_workers": sizing.threads(admitted(p, WEB), ORDERS_MS, 3, 32, 0.7),
            "catalog_workers": sizing.threads(catalog, CATALOG_MS, 3, 32, 0.7)}


def added_expect(p: Params) -> tuple[Expect, ...]:
    """The gateway adds < 10 ms when its own work and hops take at most half of it and its
    loops are at most 70 % busy (the other half is for queueing)."""
    if p.auth_ms + p.route_ms + POST_MS + 4 * 0.25 > ADDED_MS / 2 or gateway_busy(p) > BUSY:
        return ()
    return (Expect("workloads.web.latency_ms.mean", "<", ADDED_MS,
                   "the gateway (hops, token check, routing, queueing) adds < 10 ms on average",
                   minus="components.orders.latency_ms.mean"),
            Expect("workloads.web.latency_ms.p99", "<", ADDED_MS,
                   "and < 10 ms at p99 (difference of the p99s)",
                   minus="components.orders.latency_ms.p99"))


def limited_expect(metric: str, limit: float, why: str) -> Expect:
    """A client held to its limit: ± 5 %, or ± 2 requests over the quick run's 5 s (a
    bucket admits whole requests)."""
    return Expect(metric, "~", limit, why,
                  tolerance=max(0.05, 2 / (limit * QUICK_WINDOW_S)))


def web_expect(p: Params) -> Expect:
    """Web clients are well behaved while a second's requests stay under the limit by 4
    Poisson σ; past it they are held to the limit like the scraper."""
    web = WEB * p.rps
    if web + SIGMAS * math.sqrt(web) <= p.client_limit_rps:
        return Expect("workloads.web.goodput_share", ">=", 0.999,
                      "well-behaved clients are never limited")
    return limited_expect("workloads.web.goodput_rps", p.client_limit_rps,
                          "the web clients send more than the per-client limit: they are "
                          "held to it too")


def scenario(p: Params) -> Scenario:
    scraper = scraper_rps(p)
    return Scenario(
        story=f"Web and mobile clients send {p.rps:g} req/s through the gateway while a "
              f"scraper sends {p.abuse_factor:g}× its limit of {p.client_limit_rps:g} req/s.",
        expect=(
            *added_expect(p),
            *((web_expect(p), limited_expect(
                "workloads.scraper.goodput_rps", scraper,
                "the scraper is held to its limit; the rest get 429"))
              if gateway_busy(p) <= BUSY else ()),
        ),
        quick=("simulation.duration=6s", "simulation.warmup=1s"))


TEMPLATE = Template(
    id="api-gateway", version=2, title="API gateway: routing, rate limits, auth",
    summary="One entry point routes to backends, checks tokens and limits each client; it "
            "costs a hop and a little CPU (< 10 ms added) and holds an abusive client to "
            "its limit without touching the others.",
    patterns=("api-gateway", "gateway-routing", "gateway-offloading", "rate-limiting"),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        "Token verification is local CPU work (a JWT signature check, 1 ms), not a call to "
        "an identity service; an introspection call would add its round trip.",
        "The gateway is event-driven (io: nonblocking, 4 event loops per instance), as "
        "Envoy, Kong and NGINX are.",
        "Rate limiting is a token bucket per client (per workload), one limit shared by all "
        "gateway instances (a global limiter).",
        "'Added latency' = client-seen latency minus the backend's own visit latency.",
        "The claims need the gateway's loops at most 70 % busy with what the limiter admits "
        "(replicas × 4 loops over the token check, routing and 0.1 ms reply work); past "
        "that nothing is claimed (replicas=1, auth_ms=20, route_ms=20 or rps=50000 at the "
        "defaults). 'Adds < 10 ms' is claimed when the gateway's own work and hops take at "
        "most 5 ms, half of it. Web clients sending more than the per-client limit (by 4 "
        "Poisson σ) are held to it like the scraper (± 5 %, or ± 2 requests over the quick "
        "run's 5 s). The backends have 32 threads per replica, more when what the limiter "
        "admits would keep them over 70 % busy.",
    ))
