"""Transactional outbox: the order and its event commit together; a relay publishes later."""

from __future__ import annotations

from typing import Literal

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param


class Params(TemplateParams):
    rps: float = param(300, "orders per second", unit="orders/s", ge=1, le=20_000)
    relay: Literal["polling", "log_tailing"] = param(
        "polling", "polling publisher (SELECT every interval) or log tailing (Debezium CDC)")
    interval_ms: float = param(500, "time between the relay's polls", unit="ms", ge=10,
                               le=60_000)
    batch: int = param(500, "rows the relay publishes per poll", unit="rows", ge=1,
                       le=100_000)


def publish_ms() -> float:
    return 0.25 + 1.0  # the hop to the broker and its append


def scenario(p: Params) -> Scenario:
    expected = p.interval_ms / 2 + publish_ms()
    box = "outboxes[orders.place->order-events.publish]"
    duplicates = (
        Expect(f"{box}.duplicates", "<=", p.batch,
               "a polling relay publishes again at most the batch it had not marked when it "
               "crashed (usually none: the window is a few milliseconds)")
        if p.relay == "polling" else
        Expect(f"{box}.duplicates", ">", 0, "the connector publishes again everything since "
               "its last saved position"))
    return Scenario(
        story=f"{p.rps:g} orders/s; the relay ({p.relay}) polls every {p.interval_ms:g} ms; "
              "the order service's first instance, which runs the relay, crashes for 3 s.",
        expect=(
            Expect(f"{box}.delay_ms.p50", "~", expected,
                   "an event waits half a poll interval (median), then the publish; those "
                   "written while the relay is down wait for it", tolerance=0.15),
            duplicates,
            Expect("queues[order-events->billing.record].duplicates", "<=", 0,
                   "the effectively-once consumer drops the copies"),
            Expect("workloads.orders.latency_ms.p99", "<", 50,
                   "placing an order never waits for the broker"),
        ),
        quick=("simulation.duration=12s", "simulation.warmup=1s", "faults.0.at=5s",
               "faults.0.for=1s"))


TEMPLATE = Template(
    id="outbox", version=1, title="Transactional outbox with a relay",
    summary="An order and its event are committed in one local transaction (the event in an "
            "outbox table); a relay — a polling publisher or a log-tailing CDC connector — "
            "publishes it to Kafka later: no lost events, some delay, and duplicates after "
            "a relay crash that an idempotent consumer absorbs.",
    patterns=("transactional-outbox", "polling-publisher", "transaction-log-tailing",
              "idempotent-receiver", "change-data-capture"),
    params=Params, scenario=scenario,
    assumptions=(
        "The relay runs in the order service's first instance; when it crashes, requests "
        "routed to it fail and the relay stops until it is back.",
        "Polling marks a batch after publishing it; log tailing saves its position every "
        "10 s here (Kafka Connect's default is 60 s), so a crash re-publishes up to that much.",
        "Billing deduplicates by message id for 5 minutes (effectively once); the broker "
        "accepts an event in 1 ms.",
    ))
