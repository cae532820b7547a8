"""Order saga, choreographed: the same steps, each started by an event through Kafka."""

from __future__ import annotations

from typing import Any

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.library.saga_orchestration import ASSUMPTIONS, Params, expectations


def derive(p: Params) -> dict[str, Any]:
    return {"choreography": True}


def scenario(p: Params) -> Scenario:
    return Scenario(
        story=f"{p.rps:g} orders/s; the payment provider declines {p.decline:.0%} of them "
              f"and shipping fails {p.shipping_errors:.0%} of its deliveries at first.",
        expect=(*expectations(p, "orders.place"),
                Expect("workloads.orders.latency_ms.p99", "<", 50,
                       "the client only waits for the first event to be published")),
        quick=("simulation.duration=10s", "simulation.warmup=1s"))


TEMPLATE = Template(
    id="saga-choreography", version=1, title="Saga, choreographed (order placement)",
    summary="The order saga of saga-orchestration without a coordinator: each service "
            "reacts to the previous one's event on a Kafka topic, and a declined payment's "
            "event makes the earlier services compensate in reverse.",
    patterns=("saga", "choreography", "compensating-transaction", "domain-event",
              "eventual-consistency"),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(*ASSUMPTIONS,
                 "Each event costs a publish to the broker (1 ms) and a delivery hop; a "
                 "failed delivery is delivered again after the policy's back-off."))
