"""Database per service: each service owns its store, so one store's trouble stays local."""

from __future__ import annotations

from typing import Literal

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
            Expect("workloads.products.latency_ms.p99", ">", 50,
                   "while the product path itself does slow down"),
        ),
        quick=("simulation.duration=10s", "simulation.warmup=1s", "faults.0.at=4s",
               "faults.0.for=4s"))


TEMPLATE = Template(
    id="database-per-service", version=1, title="Database per service (polyglot)",
    summary="Users, products and orders each own their database (by default PostgreSQL, "
            "MongoDB and MySQL): a slow product store slows only the product path.",
    patterns=("database-per-service", "polyglot-persistence"),
    params=Params, scenario=scenario,
    assumptions=(
        "tech: names the engine for generators and readers; ScaleSim does not model engine "
        "differences, so every store has the same query times whatever the engine.",
        "The gateway is event-driven, so a slow path does not take the other paths' "
        "workers there; each service has its own threads.",
        "The incident is a 10× slowdown of the product database's queries (a bad plan, a "
        "noisy neighbour).",
    ))
