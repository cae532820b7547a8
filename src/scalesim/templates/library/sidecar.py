"""Sidecar: a co-located proxy takes over cross-cutting work, for one extra local hop."""

from __future__ import annotations

from typing import Any

from scalesim.templates import sizing
from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param


class Params(TemplateParams):
    rps: float = param(500, "requests per second through each path", unit="req/s", ge=1,
                       le=20_000)
    proxy_ms: float = param(0.3, "the sidecar's work per request (TLS, metrics, policy)",
                            unit="ms", ge=0, le=20)
    hop_ms: float = param(0.1, "one-way latency of every hop", unit="ms", ge=0, le=10)
    app_ms: float = param(5, "the application's own work", unit="ms", ge=0.1, le=1000)


UTILIZATION = 0.5  # every pool: at most this busy, so neither path queues


def derive(p: Params) -> dict[str, Any]:
    """Threads for the load: the sidecar's for its work, the application's for both paths'
    requests (2 replicas each)."""
    return {"sidecar_workers": sizing.threads(p.rps, p.proxy_ms, 2, 2, UTILIZATION),
            "app_workers": sizing.threads(2 * p.rps, p.app_ms, 2, 16, UTILIZATION)}


def scenario(p: Params) -> Scenario:
    return Scenario(
        story=f"The same application answered {p.rps:g} req/s directly and {p.rps:g} req/s "
              "through its sidecar.",
        expect=(
            Expect("workloads.via-sidecar.latency_ms.mean", "~", 2 * p.hop_ms + p.proxy_ms,
                   "the sidecar costs one extra round trip plus its own work",
                   tolerance=0.15, minus="workloads.direct.latency_ms.mean"),
            Expect("workloads.via-sidecar.goodput_share", ">=", 0.999,
                   "the proxy itself never refuses"),
        ),
        quick=("simulation.duration=5s", "simulation.warmup=1s"))


TEMPLATE = Template(
    id="sidecar", version=2, title="Sidecar proxy and its cost",
    summary="A proxy deployed beside each instance handles TLS, telemetry and policy so the "
            "application does not; every request pays one more local hop and the proxy's "
            "work.",
    patterns=("sidecar",),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        "Every hop costs hop_ms each way (0.1 ms, a local or same-node hop); in ScaleSim the "
        "network latency is one value for all hops.",
        "The sidecar is event-driven with spare capacity, so it adds no queueing; under "
        "CPU limits it would. Both have 2 replicas: the sidecar 2 workers each, the "
        "application 16 threads, more when the load (both paths' requests, for the "
        "application) would keep them over 50 % busy — at 20000 req/s, a 20 ms proxy or a "
        "1 s application the fixed ones saturated.",
        "The application's work is constant so the comparison of the two paths is exact.",
    ))
