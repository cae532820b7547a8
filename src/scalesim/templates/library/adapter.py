"""Adapter: a co-located container translates an application's interface for others."""

from __future__ import annotations

from typing import Any

from scalesim.templates import sizing
from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param


class Params(TemplateParams):
    scrape_rps: float = param(10, "monitoring scrapes per second", unit="req/s", ge=0.1,
                              le=1000)
    rps: float = param(500, "user requests per second to the application", unit="req/s",
                       ge=1, le=20_000)
    stats_ms: float = param(2, "the application producing its native status", unit="ms",
                            ge=0.1, le=100)
    convert_ms: float = param(1, "the adapter translating it (e.g. to Prometheus text)",
                              unit="ms", ge=0, le=100)
    hop_ms: float = param(0.1, "one-way latency of every hop", unit="ms", ge=0, le=10)


SERVE_MS = 4.0  # a user request's work at the application
UTILIZATION = 0.5  # every pool: at most this busy, so a scrape does not queue


def derive(p: Params) -> dict[str, Any]:
    """Threads for the load: the adapter's for its translations, the application's for the
    users' requests and the scrapes' status (2 replicas each)."""
    calls = p.rps + p.scrape_rps
    hold_ms = (p.rps * SERVE_MS + p.scrape_rps * p.stats_ms) / calls
    return {"adapter_workers": sizing.threads(p.scrape_rps, p.convert_ms, 2, 2, UTILIZATION),
            "app_workers": sizing.threads(calls, hold_ms, 2, 16, UTILIZATION)}


def scenario(p: Params) -> Scenario:
    return Scenario(
        story=f"A monitoring system scrapes the adapter {p.scrape_rps:g} times a second while "
              f"users send {p.rps:g} req/s to the application itself.",
        expect=(
            Expect("workloads.scrapes.latency_ms.mean", "~",
                   4 * p.hop_ms + p.stats_ms + p.convert_ms,
                   "a scrape costs two round trips (monitor → adapter → app) plus the app's "
                   "and the adapter's work", tolerance=0.1),
            Expect("workloads.users.goodput_share", ">=", 0.999,
                   "user traffic is untouched by the adapter"),
        ),
        quick=("simulation.duration=10s", "simulation.warmup=1s"))


TEMPLATE = Template(
    id="adapter", version=2, title="Adapter container and its cost",
    summary="A container beside the application translates its native interface (status, "
            "logs, metrics) into the one the platform expects; callers pay an extra hop and "
            "the translation.",
    patterns=("adapter-container",),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        "Every hop costs hop_ms each way (0.1 ms, same pod); translation is CPU work in "
        "the adapter.",
        "Application and adapter work are constant so the scrape cost is exact.",
        "Both have 2 replicas: the adapter 2 workers each, the application 16 threads, more "
        "when the load (users' 4 ms requests and the scrapes' status) would keep them over "
        "50 % busy — at 20000 req/s the fixed 16 saturated and every scrape timed out.",
    ))
