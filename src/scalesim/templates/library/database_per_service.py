"""Database per service: each service owns its store, so one store's trouble stays local."""

from __future__ import annotations

import math
from typing import Any, Literal

from scalesim.templates import sizing
from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param

Tech = Literal["postgres", "mysql", "mongodb"]


class Params(TemplateParams):
    user_db: Tech = param("postgres", "the user service's database engine")
    product_db: Tech = param("mongodb", "the product service's database engine")
    order_db: Tech = param("mysql", "the order service's database engine")
    rps: float = param(600, "requests per second, split evenly over the three services",
                       unit="req/s", ge=3, le=30_000)
    slowdown: float = param(10, "how much slower the product database gets in the incident",
                            unit="×", ge=1, le=100)


BASE_MS = 0.3 + 1.0 + 6 * 0.25  # the product path without its query: work and hops
QUERY_MS = 3.0  # the product database's mean query (exponential)
INCIDENT_SHARE = 10 / 30  # of the run (4 / 10 in the quick run)
SHOWN_MS = 50.0  # the p99 the claim is about


# Each path's service: (its work, its database's mean work) in ms
PATHS = {"user": (1.0, 3.0), "product": (1.0, QUERY_MS), "order": (2.0, 5.0)}
GATEWAY_MS, HOP_MS = 0.3, 0.25
BUSY = 0.5  # every pool at most this busy in normal times


def derive(p: Params) -> dict[str, Any]:
    """Pools for the load (their fixed sizes at least): the gateway's loops for its routing,
    each service's threads for its work and its query, each database's for the query; at
    most half busy in normal times, so only the incident slows a path."""
    rate = p.rps / 3
    pools = {"gateway_workers": sizing.threads(p.rps, GATEWAY_MS, 2, 4, BUSY)}
    for name, (work_ms, db_ms) in PATHS.items():
        pools[f"{name}_workers"] = sizing.threads(rate, work_ms + 2 * HOP_MS + db_ms, 2, 32,
                                                  BUSY)
        pools[f"{name}_db_workers"] = sizing.threads(rate, db_ms, 1, 32, BUSY)
    return pools


def incident_p99_ms(p: Params) -> float:
    """The products' p99 when the slow window holds INCIDENT_SHARE of their requests: the
    slow queries' (1 − 0.01 / share) quantile, exponential with mean slowdown × 3 ms."""
    return BASE_MS + QUERY_MS * p.slowdown * math.log(INCIDENT_SHARE / 0.01)


def slowed(p: Params) -> tuple[Expect, ...]:
    """The product path's p99 is claimed above 50 ms only when the slowdown puts it well
    above (25 % margin); a slight slowdown does not show there."""
    if incident_p99_ms(p) < 1.25 * SHOWN_MS:
        return ()
    return (Expect("workloads.products.latency_ms.p99", ">", SHOWN_MS,
                   "while the product path itself does slow down: its p99 is the slow "
                   "queries' (1 − 0.01 / 0.33) quantile, about "
                   f"{incident_p99_ms(p):.0f} ms"),)


def scenario(p: Params) -> Scenario:
    return Scenario(
        story=f"{p.rps:g} req/s over users, products and orders; the product database "
              f"becomes {p.slowdown:g}× slower from 8 s to 18 s.",
        expect=(
            Expect("workloads.users.latency_ms.p99", "<", 50,
                   "the user service does not share the slow store"),
            Expect("workloads.orders.latency_ms.p99", "<", 50,
                   "nor does the order service"),
            Expect("workloads.users.goodput_share", ">=", 0.999, "and neither loses requests"),
            Expect("workloads.orders.goodput_share", ">=", 0.999, "(orders)"),
            *slowed(p),
        ),
        quick=("simulation.duration=10s", "simulation.warmup=1s", "faults.0.at=4s",
               "faults.0.for=4s"))


TEMPLATE = Template(
    id="database-per-service", version=2, title="Database per service (polyglot)",
    summary="Users, products and orders each own their database (by default PostgreSQL, "
            "MongoDB and MySQL): a slow product store slows only the product path.",
    patterns=("database-per-service", "polyglot-persistence"),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        "tech: names the engine for generators and readers; ScaleSim does not model engine "
        "differences, so every store has the same query times whatever the engine.",
        "The gateway is event-driven, so a slow path does not take the other paths' "
        "workers there; each service has its own threads.",
        "Every pool keeps its size or gets enough for its path's load at most 50 % busy in "
        "normal times (the gateway's loops for 0.3 ms of routing, a service's threads for "
        "its work, the hops and its query, a database's for the query): at 30000 req/s the "
        "fixed ones saturated and the users' and orders' paths slowed (p99 1.4 and 2.5 s).",
        "The product path's p99 is claimed above 50 ms when 2.8 ms + 3 ms × slowdown × "
        "ln(33) is at least 62.5 ms (slowdown 5.7 and up): the incident holds a third of "
        "the run, so the p99 is its slow queries' 97th percentile.",
        "The incident is a 10× slowdown of the product database's queries (a bad plan, a "
        "noisy neighbour).",
    ))
