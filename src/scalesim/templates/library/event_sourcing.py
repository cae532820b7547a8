"""Event sourcing: commands append to per-aggregate streams; projections feed read models."""

from __future__ import annotations

from typing import Any

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param


class Params(TemplateParams):
    writes_rps: float = param(10_000, "commands per second, one event appended each",
                              unit="events/s", ge=10, le=50_000)
    reads_rps: float = param(100_000, "queries per second on the read model", unit="req/s",
                             ge=10, le=500_000)
    aggregates: int = param(100_000, "aggregates, one stream each", unit="streams", ge=1,
                            le=10_000_000)
    snapshot_every: int = param(50, "events between snapshots of an aggregate",
                                unit="events", ge=1, le=10_000)
    history: int = param(500, "events a stream already holds, on average", unit="events", ge=0,
                         le=100_000)


def derive(p: Params) -> dict[str, Any]:
    # Enough read-model replicas for the queries at about 60 % busy (1 ms each, 32 workers).
    replicas = max(1, round(p.reads_rps * 0.001 / 32 / 0.6 + 0.5))
    return {"read_replicas": replicas}


def scenario(p: Params) -> Scenario:
    return Scenario(
        story=f"{p.writes_rps:g} commands/s appended to {p.aggregates} streams (snapshots "
              f"every {p.snapshot_every} events) and {p.reads_rps:g} queries/s on the read "
              "model that a projection keeps up to date.",
        expect=(
            Expect("event_stores.event-store.appends_rps", ">=", 0.99 * p.writes_rps,
                   "every command's event is written (conflicts retried)"),
            Expect("workloads.queries.goodput_rps", ">=", 0.99 * p.reads_rps,
                   "the read model serves every query"),
            Expect("workloads.commands.latency_ms.p99", "<", 50,
                   "snapshots keep a command's load short"),
            Expect("event_stores.event-store.events_per_load", "<", p.snapshot_every,
                   "a load replays at most the events since the last snapshot"),
            Expect("event_stores.event-store.projections[read-model.apply].lag_ms.p99", "<",
                   1000, "the read model is less than a second behind"),
        ),
        quick=("simulation.duration=3s", "simulation.warmup=1s"))


TEMPLATE = Template(
    id="event-sourcing", version=1, title="Event sourcing with snapshots and projections",
    summary="Commands load their aggregate (snapshot plus the events since), append one "
            "event with optimistic concurrency, and a projection turns the event log into a "
            "read model that serves the queries: 10 000+ events/s written, 100 000+ reads/s.",
    patterns=("event-sourcing", "cqrs", "materialized-view", "domain-event"),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        "One event per command; a command's stream is its key (uniform over the aggregates), "
        "so a conflict needs two commands on one aggregate within a few milliseconds.",
        "Loading reads 20 µs per event after a 0.5 ms snapshot read; without snapshots a "
        "stream of 500 events would take 10 ms to load, and grow.",
        "The projection applies events 8 at a time (at least once, idempotent upserts) to a "
        "read model with 1 ms queries; the event store is a cluster with 256 workers.",
    ))
