"""API gateway: routing, per-client rate limiting and token checks, for a few ms added."""

from __future__ import annotations

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
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


def scenario(p: Params) -> Scenario:
    scraper = min(p.abuse_factor, 1.0) * p.client_limit_rps
    return Scenario(
        story=f"Web and mobile clients send {p.rps:g} req/s through the gateway while a "
              f"scraper sends {p.abuse_factor:g}× its limit of {p.client_limit_rps:g} req/s.",
        expect=(
            Expect("workloads.web.latency_ms.mean", "<", 10.0,
                   "the gateway (hops, token check, routing, queueing) adds < 10 ms on average",
                   minus="components.orders.latency_ms.mean"),
            Expect("workloads.web.latency_ms.p99", "<", 10.0,
                   "and < 10 ms at p99 (difference of the p99s)",
                   minus="components.orders.latency_ms.p99"),
            Expect("workloads.web.goodput_share", ">=", 0.999,
                   "well-behaved clients are never limited"),
            Expect("workloads.scraper.goodput_rps", "~", scraper,
                   "the scraper is held to its limit; the rest get 429", tolerance=0.05),
        ),
        quick=("simulation.duration=6s", "simulation.warmup=1s"))


TEMPLATE = Template(
    id="api-gateway", version=1, title="API gateway: routing, rate limits, auth",
    summary="One entry point routes to backends, checks tokens and limits each client; it "
            "costs a hop and a little CPU (< 10 ms added) and holds an abusive client to "
            "its limit without touching the others.",
    patterns=("api-gateway", "gateway-routing", "gateway-offloading", "rate-limiting"),
    params=Params, scenario=scenario,
    assumptions=(
        "Token verification is local CPU work (a JWT signature check, 1 ms), not a call to "
        "an identity service; an introspection call would add its round trip.",
        "The gateway is event-driven (io: nonblocking, 4 event loops per instance), as "
        "Envoy, Kong and NGINX are.",
        "Rate limiting is a token bucket per client (per workload), one limit shared by all "
        "gateway instances (a global limiter).",
        "'Added latency' = client-seen latency minus the backend's own visit latency.",
    ))
