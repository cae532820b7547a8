"""Service mesh: sidecars on every hop carry retries, timeouts and outlier ejection."""

from __future__ import annotations

import math
from typing import Any

from scalesim.templates import sizing
from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import SIGMAS, Expect, count_at_most
from scalesim.templates.params import TemplateParams, param


class Params(TemplateParams):
    rps: float = param(400, "requests per second", unit="req/s", ge=1, le=20_000)
    backends: int = param(4, "backend replicas", unit="replicas", ge=2, le=32)
    proxy_ms: float = param(0.25, "work of the two sidecars on one hop (outbound + inbound)",
                            unit="ms", ge=0, le=20)
    attempts: int = param(3, "tries per call in all (Istio attempts + 1)", unit="tries",
                          ge=1, le=6)


QUICK_WINDOW_S = 7  # the quick run's measured seconds
EJECT_AFTER = 5  # consecutive errors before the bad pod is ejected
HOP_MS = 0.25


def derive(p: Params) -> dict[str, Any]:
    """The sidecars' workers: their work per request at most half busy (2 replicas)."""
    return {"mesh_workers": sizing.threads(p.rps, p.proxy_ms, 2, 2, 0.5)}


def retried_at_most(p: Params) -> float:
    """The errors before the ejection, and the calls the bad pod holds then (it fails fast:
    a round trip each), at most their Poisson bound."""
    return EJECT_AFTER + count_at_most(p.rps / p.backends * 2 * HOP_MS / 1000.0)


def retry_expect(p: Params) -> tuple[Expect, ...]:
    """The retries: under 5 % of the calls when the quick run has enough (by 4 Poisson σ),
    else counted; the sidecars' cost when they are at most 1 % (adding at most a 13 ms
    back-off and round trip each, 0.13 ms on average, within the claim's room)."""
    calls = p.rps * QUICK_WINDOW_S
    fewest = calls - SIGMAS * math.sqrt(calls)
    amplification = (
        Expect("calls[mesh.route->backends.get].amplification", "<", 1.05,
               "once ejected, the bad pod costs no more retries")
        if fewest * 0.05 >= retried_at_most(p) else
        Expect("calls[mesh.route->backends.get].retries", "<=", retried_at_most(p),
               "once ejected, the bad pod costs no more retries: only the errors before"))
    if fewest * 0.01 < retried_at_most(p):
        return (amplification,)
    return (amplification,
            Expect("components.mesh.latency_ms.mean", "<", p.proxy_ms + 1.0,
                   "the sidecars add their work plus one round trip per hop",
                   minus="components.backends.latency_ms.mean"))


def ejection_expect(p: Params) -> tuple[Expect, ...]:
    """The ejection, when the quick run's fault sends the bad pod enough calls to fail 5 in
    a row (by 4 Poisson σ; least requests spreads light load evenly, ties in turn): from
    about 15 req/s with 4 backends."""
    calls = p.rps / p.backends * QUICK_WINDOW_S
    if calls - SIGMAS * math.sqrt(calls) < EJECT_AFTER:
        return ()
    return (Expect("components.backends.ejections", ">=", 1,
                   "outlier detection ejects the bad pod after 5 errors in a row"),)


def scenario(p: Params) -> Scenario:
    return Scenario(
        story=f"{p.rps:g} req/s; from 4 s on, one of {p.backends} backend replicas answers "
              "every request with an error (a bad pod).",
        expect=(
            Expect("workloads.users.goodput_share", ">=", 0.999, "retries on another "
                   "replica hide the bad pod from users") if p.attempts > 1 else
            Expect("workloads.users.goodput_share", ">=", 0.99, "without retries, users see "
                   "the errors before each ejection, and only those"),
            *ejection_expect(p),
            *retry_expect(p),
        ),
        quick=("simulation.duration=8s", "simulation.warmup=1s", "faults.0.at=2s"))


TEMPLATE = Template(
    id="service-mesh", version=2, title="Service mesh: retries and outlier ejection",
    summary="Sidecar proxies on every hop apply the platform's retry, timeout and ejection "
            "policy, so a bad pod is routed around without any application code.",
    patterns=("service-mesh", "sidecar", "retry", "timeout"),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        "The client's outbound and the server's inbound sidecar on one hop are modelled as "
        "one event-driven component ('mesh') doing both proxies' work; their extra "
        "localhost hop is folded into that work.",
        "Retry and ejection follow Istio/Envoy: retry on another host, consecutive-5xx "
        "ejection (5 errors, 30 s base ejection time).",
        "The bad pod fails fast (HTTP 5xx); a hanging pod would cost the per-try timeout.",
        "The ejection is claimed when the quick run sends the bad pod enough calls to fail "
        "5 in a row (by 4 Poisson σ: from about 15 req/s with 4 backends).",
        "The 5 errors before the ejection (and the calls the pod holds then) are retried: "
        "under 5 % of the calls when the quick run has enough (by 4 Poisson σ: from about "
        "50 req/s), else their count is claimed; the sidecars' cost is claimed when they are "
        "at most 1 % (from about 200 req/s), since each adds a back-off to the mean.",
        "The mesh has 2 replicas of 2 workers, more when the sidecars' work would keep them "
        "over 50 % busy (a fixed 2 saturated at proxy_ms=20).",
    ))
