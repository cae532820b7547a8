"""Service mesh: sidecars on every hop carry retries, timeouts and outlier ejection."""

from __future__ import annotations

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param


class Params(TemplateParams):
    rps: float = param(400, "requests per second", unit="req/s", ge=1, le=20_000)
    backends: int = param(4, "backend replicas", unit="replicas", ge=2, le=32)
    proxy_ms: float = param(0.25, "work of the two sidecars on one hop (outbound + inbound)",
                            unit="ms", ge=0, le=20)
    attempts: int = param(3, "tries per call in all (Istio attempts + 1)", unit="tries",
                          ge=1, le=6)


def scenario(p: Params) -> Scenario:
    return Scenario(
        story=f"{p.rps:g} req/s; from 4 s on, one of {p.backends} backend replicas answers "
              "every request with an error (a bad pod).",
        expect=(
            Expect("workloads.users.goodput_share", ">=", 0.999, "retries on another "
                   "replica hide the bad pod from users") if p.attempts > 1 else
            Expect("workloads.users.goodput_share", ">=", 0.99, "without retries, users see "
                   "the errors before each ejection, and only those"),
            Expect("components.backends.ejections", ">=", 1,
                   "outlier detection ejects the bad pod after 5 errors in a row"),
            Expect("calls[mesh.route->backends.get].amplification", "<", 1.05,
                   "once ejected, the bad pod costs no more retries"),
            Expect("components.mesh.latency_ms.mean", "<", p.proxy_ms + 1.0,
                   "the sidecars add their work plus one round trip per hop",
                   minus="components.backends.latency_ms.mean"),
        ),
        quick=("simulation.duration=8s", "simulation.warmup=1s", "faults.0.at=2s"))


TEMPLATE = Template(
    id="service-mesh", version=1, title="Service mesh: retries and outlier ejection",
    summary="Sidecar proxies on every hop apply the platform's retry, timeout and ejection "
            "policy, so a bad pod is routed around without any application code.",
    patterns=("service-mesh", "sidecar", "retry", "timeout"),
    params=Params, scenario=scenario,
    assumptions=(
        "The client's outbound and the server's inbound sidecar on one hop are modelled as "
        "one event-driven component ('mesh') doing both proxies' work; their extra "
        "localhost hop is folded into that work.",
        "Retry and ejection follow Istio/Envoy: retry on another host, consecutive-5xx "
        "ejection (5 errors, 30 s base ejection time).",
        "The bad pod fails fast (HTTP 5xx); a hanging pod would cost the per-try timeout.",
    ))
