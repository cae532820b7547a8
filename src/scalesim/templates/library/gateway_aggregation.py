"""Gateway aggregation: one client call, several backend calls, parallel vs sequential."""

from __future__ import annotations

from typing import Any

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param

NETWORK_MS = 0.25


class Params(TemplateParams):
    branches: int = param(4, "backend calls one page needs", unit="calls", ge=2, le=8)
    main_ms: float = param(152, "the main backend's answer time (the slowest, by default)",
                           unit="ms", ge=1, le=5000)
    others_ms: float = param(428, "the other backends' answer times added up (shared "
                             "equally)", unit="ms", ge=1, le=20_000)
    rps: float = param(50, "pages per second, for each of the two variants", unit="req/s",
                       ge=1, le=2000)


def latencies(p: Params) -> list[float]:
    """The main backend, then the others sharing `others_ms` equally."""
    return [p.main_ms] + [p.others_ms / (p.branches - 1)] * (p.branches - 1)


def derive(p: Params) -> dict[str, Any]:
    return {"latencies": latencies(p)}


def scenario(p: Params) -> Scenario:
    hop = 2 * NETWORK_MS
    return Scenario(
        story=f"The same page built two ways, {p.rps:g}/s each: fetching {p.branches} "
              "backends in parallel, and one after another.",
        expect=(
            Expect("workloads.parallel.latency_ms.mean", "~", max(latencies(p)) + 2 * hop,
                   "in parallel a page costs its slowest backend (plus two round trips)",
                   tolerance=0.03),
            Expect("workloads.sequential.latency_ms.mean", "~",
                   sum(latencies(p)) + (p.branches + 1) * hop,
                   "one after another it costs the sum of the backends (plus a round trip "
                   "each)", tolerance=0.03),
        ),
        quick=("simulation.duration=6s", "simulation.warmup=1s"))


TEMPLATE = Template(
    id="gateway-aggregation", version=1, title="Gateway aggregation, parallel vs sequential",
    summary="A gateway turns one client request into several backend calls; made in parallel "
            "the page costs the slowest backend (152 ms), made one after another the sum "
            "(580 ms).",
    patterns=("gateway-aggregation", "api-composition", "api-gateway"),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        "Backend answer times are constant (the main one 152 ms, three others sharing "
        "428 ms, 142.7 ms each), so the comparison is exact; with variable times the "
        "parallel page costs the expected maximum, a little more than the slowest mean.",
        "Backends have spare capacity (unlimited workers), so the two variants do not "
        "slow each other down; the gateway is event-driven (nonblocking).",
    ))
