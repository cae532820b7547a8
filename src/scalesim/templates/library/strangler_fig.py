"""Strangler fig: route a growing share of paths from the monolith to new services."""

from __future__ import annotations

from typing import Any

from pydantic import model_validator

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
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


def derive(p: Params) -> dict[str, Any]:
    return {"legacy_share": legacy_share(p)}


def scenario(p: Params) -> Scenario:
    expect = []
    for component, share in (("monolith", legacy_share(p)), ("catalog", p.catalog_share),
                             ("orders", p.orders_share)):
        if share > 0:
            expect.append(Expect(f"components.{component}.throughput_rps", "~", share * p.rps,
                                 f"{component} serves {share:.0%} of the traffic", tolerance=0.1))
    expect.append(Expect("goodput_share", ">=", 0.999,
                         "the split is invisible to clients: everything is served"))
    return Scenario(
        story=f"{p.rps:g} req/s at the edge: {legacy_share(p):.0%} on legacy paths, "
              f"{p.catalog_share:.0%} on catalog paths, {p.orders_share:.0%} on order paths.",
        expect=tuple(expect),
        quick=("simulation.duration=5s", "simulation.warmup=1s"))


TEMPLATE = Template(
    id="strangler-fig", version=1, title="Strangler fig migration (60/25/15)",
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
    ))
