"""CQRS: commands go to the write side, queries to a read model a projection keeps current."""

from __future__ import annotations

from typing import Any

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param

WINDOW_S, INCIDENT_S = 30.0, 5.0


class Params(TemplateParams):
    writes_rps: float = param(1000, "commands per second", unit="req/s", ge=1, le=20_000)
    reads_rps: float = param(10_000, "queries per second", unit="req/s", ge=1, le=200_000)
    projectors: int = param(8, "events the projection applies at once", unit="workers",
                            ge=1, le=256)
    apply_ms: float = param(2, "time to apply one event to the read model", unit="ms",
                            ge=0.1, le=1000)
    slowdown: float = param(5, "how much slower the read model applies events during the "
                            "incident", unit="×", ge=1, le=100)


def capacity(p: Params) -> float:
    return p.projectors * 1000.0 / (p.apply_ms + 0.8)  # its work plus the upsert and hops


def derive(p: Params) -> dict[str, Any]:
    replicas = max(1, round(p.reads_rps * 0.001 / 32 / 0.6 + 0.5))
    return {"read_replicas": replicas}


def scenario(p: Params) -> Scenario:
    return Scenario(
        story=f"{p.writes_rps:g} commands/s and {p.reads_rps:g} queries/s; the projection "
              f"applies up to {capacity(p):g} events/s, and for {INCIDENT_S:g} s of the "
              f"{WINDOW_S:g} s window it is {p.slowdown:g}× slower (a reindex of the rows it "
              "writes).",
        expect=(
            Expect("event_stores.orders-log.projections[projector.apply].p_visible.1ms",
                   "<", 0.05, "a read right after a write misses it: the read model is "
                   "eventually consistent, a few milliseconds behind at best"),
            Expect("event_stores.orders-log.projections[projector.apply].p_visible.100ms",
                   ">=", 0.7, "most reads 100 ms after a write see it, incident included"),
            Expect("event_stores.orders-log.projections[projector.apply].p_visible.10s",
                   ">=", 0.999, "and every read 10 s after it does: the backlog drains"),
            Expect("workloads.queries.latency_ms.p99", "<", 20,
                   "queries never wait for the write side"),
            Expect("workloads.commands.latency_ms.p99", "<", 50,
                   "commands never wait for the projection"),
        ),
        quick=("simulation.duration=12s", "simulation.warmup=1s", "faults.0.at=4s",
               "faults.0.for=3s"))


TEMPLATE = Template(
    id="cqrs", version=1, title="CQRS read model and its staleness",
    summary="Commands append to the write side; a projection applies each event to a "
            "read model that serves the queries. The result shows how stale a read can be: "
            "the chance that a read t after a write sees it.",
    patterns=("cqrs", "materialized-view", "event-sourcing", "eventual-consistency"),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        "The projection is at least once with idempotent upserts; it applies "
        "`projectors` events at once, so a slow read store makes a backlog, not errors.",
        "A read sees a write when the projection has applied it: P(visible t after the "
        "write) is the share of events applied within t of their commit.",
        "Queries are 1 ms on a replicated read store sized for about 60 % utilization.",
    ))
