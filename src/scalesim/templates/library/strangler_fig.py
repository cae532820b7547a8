"""Strangler fig: route a growing share of paths from the monolith to new services."""

from __future__ import annotations

import math
from typing import Any

from pydantic import model_validator

from scalesim.templates import sizing
from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import SIGMAS, Expect
from scalesim.templates.params import TemplateParams, param


class Params(TemplateParams):
    rps: float = param(1000, "all traffic at the edge", unit="req/s", ge=10, le=50_000)
    catalog_share: float = param(0.25, "share of traffic on paths moved to the catalog "
                                 "service", ge=0, le=1)
    orders_share: float = param(0.15, "share on paths moved to the orders service", ge=0,
                                le=1)

    @model_validator(mode="after")
    def _shares(self) -> Params:
        if self.catalog_share + self.orders_share > 1:
            raise ValueError("catalog_share + orders_share must be at most 1 (the rest stays "
                             f"on the monolith); got {self.catalog_share + self.orders_share:g}")
        return self


def legacy_share(p: Params) -> float:
    """The share left on the monolith. Rounded to 12 places: 1 - 0.7 - 0.3 is 5.6e-17 in
    floating point, which is no traffic, not a workload of 5.6e-15 req/s."""
    return round(1 - p.catalog_share - p.orders_share, 12)


# Each route's service: (replicas, its mean work, its database's mean work) in ms
TIERS = {"monolith": (3, 6.0, 3.0), "catalog": (2, 3.0, 2.0), "orders": (2, 4.0, 4.0)}
EDGE_MS, HOP_MS = 0.2, 0.25
UTILIZATION = 0.5  # every pool: at most this busy
QUICK_WINDOW_S = 4  # the quick run's measured seconds
MODEL_TOLERANCE = 0.1  # a route's throughput, at least


def shares(p: Params) -> dict[str, float]:
    return {"monolith": legacy_share(p), "catalog": p.catalog_share,
            "orders": p.orders_share}


def derive(p: Params) -> dict[str, Any]:
    """Threads for the load: the edge's loops for its routing, each service's threads for
    its work and its database call, each database's for its work (32 at least, 4 loops)."""
    threads: dict[str, int] = {"edge_workers": sizing.threads(p.rps, EDGE_MS, 2, 4,
                                                              UTILIZATION)}
    for name, share in shares(p).items():
        replicas, work_ms, db_ms = TIERS[name]
        rate = share * p.rps
        threads[f"{name}_workers"] = sizing.threads(rate, work_ms + 2 * HOP_MS + db_ms,
                                                    replicas, 32, UTILIZATION)
        threads[f"{name}_db_workers"] = sizing.threads(rate, db_ms, 1, 32, UTILIZATION)
    return {"legacy_share": legacy_share(p), **threads}


def throughput_tolerance(rate: float) -> float:
    """10 %, or 4 Poisson standard deviations of the quick run's requests when wider."""
    return max(MODEL_TOLERANCE, SIGMAS / math.sqrt(rate * QUICK_WINDOW_S))


def scenario(p: Params) -> Scenario:
    expect = []
    for component, share in shares(p).items():
        if share > 0:
            expect.append(Expect(f"components.{component}.throughput_rps", "~", share * p.rps,
                                 f"{component} serves {share:.0%} of the traffic",
                                 tolerance=throughput_tolerance(share * p.rps)))
    expect.append(Expect("goodput_share", ">=", 0.999,
                         "the split is invisible to clients: everything is served"))
    return Scenario(
        story=f"{p.rps:g} req/s at the edge: {legacy_share(p):.0%} on legacy paths, "
              f"{p.catalog_share:.0%} on catalog paths, {p.orders_share:.0%} on order paths.",
        expect=tuple(expect),
        quick=("simulation.duration=5s", "simulation.warmup=1s"))


TEMPLATE = Template(
    id="strangler-fig", version=2, title="Strangler fig migration (60/25/15)",
    summary="An edge router sends migrated paths to new services and the rest to the "
            "monolith; moving a path moves its share of the load (60/25/15 by default).",
    patterns=("strangler-fig", "gateway-routing"),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        "The split is by request path, so it is modelled as three workloads with the "
        "shares' rates, one per route (the edge's routing table), not as random "
        "probabilities (independent call probabilities would not be exclusive).",
        "New services own new databases; the monolith keeps its database for the paths it "
        "still serves (data migration is not modelled).",
        "Every pool is sized for its route's load at most 50 % busy: the edge's loops (4 at "
        "least) for 0.2 ms of routing, each service's threads (32 at least) for its work, "
        "the hops and its database call, each database's (32 at least) for its query; at "
        "50000 req/s the fixed pools saturated (41 % served). A route's throughput is "
        "held to 10 %, or 4 Poisson standard deviations of the quick run's requests when "
        "wider (a route under 400 req/s: catalog's and orders' at the defaults).",
    ))
