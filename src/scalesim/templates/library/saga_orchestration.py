"""Order saga, orchestrated: a coordinator runs the steps and undoes them on a decline."""

from __future__ import annotations

from typing import Any, Literal

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param


class Params(TemplateParams):
    rps: float = param(200, "orders placed per second", unit="orders/s", ge=1, le=5000)
    decline: float = param(0.1, "share of payments the provider declines (the pivot fails)",
                           ge=0, le=0.9)
    shipping_errors: float = param(0.05, "transient failures of the shipping service, "
                                   "retried", ge=0, le=0.5)
    policy: Literal["step_functions", "temporal"] = param(
        "step_functions", "retry defaults of the steps (AWS Step Functions: 3 retries after "
        "1, 2, 4 s; Temporal: 1 s doubling, unlimited)")
    deadline_s: float = param(5, "the end-to-end objective of one saga", unit="s", ge=0.5,
                              le=60)


def derive(p: Params) -> dict[str, Any]:
    return {"choreography": False}


def expectations(p: Params, prefix: str) -> tuple[Expect, ...]:
    saga = f"sagas[{prefix}]"
    return (
        Expect(f"{saga}.duration_ms.p99", "<", p.deadline_s * 1000,
               f"a saga ends, committed or compensated, within {p.deadline_s:g} s"),
        Expect(f"{saga}.compensated_rate", "~", p.decline,
               "a declined payment (the pivot) undoes the order and the stock reservation",
               tolerance=0.25),
        Expect(f"{saga}.stuck_rate", "<=", 0.001,
               "shipping's transient failures are retried until it schedules (retriable "
               "step)"),
        Expect(f"{saga}.compensation_ms.p99", "<", 1000,
               "compensations are quick local transactions"),
        Expect(f"{saga}.inconsistency_ms.p99", "<", p.deadline_s * 1000,
               "others may see a half-done order for less than the objective"),
    )


def scenario(p: Params) -> Scenario:
    return Scenario(
        story=f"{p.rps:g} orders/s; the payment provider declines {p.decline:.0%} of them "
              f"and shipping fails {p.shipping_errors:.0%} of its calls at first.",
        expect=(*expectations(p, "orders.place"),
                Expect("workloads.orders.latency_ms.p99", "<", p.deadline_s * 1000,
                       "the client waits for the coordinator's answer")),
        quick=("simulation.duration=10s", "simulation.warmup=1s"))


ASSUMPTIONS = (
    "Steps: create the order (pending), reserve stock, authorize the payment (the pivot: "
    "a decline is a business answer, not retried), schedule shipping and approve the order "
    "(retriable: they must succeed, so they are retried and never compensated).",
    "A decline fails the authorization step with `error`; the step retries only timeouts, "
    "as a Step Functions Retrier on States.Timeout or a Temporal activity with the decline "
    "as a non-retryable error would.",
    "The payment provider answers in 150 ms (median), 800 ms at p99; the other steps are "
    "local services and databases with a few milliseconds of work.",
)

TEMPLATE = Template(
    id="saga-orchestration", version=1, title="Saga, orchestrated (order placement)",
    summary="A coordinator places an order as a saga of local transactions — order, stock, "
            "payment (the pivot), shipping — with Step Functions (or Temporal) retries, and "
            "undoes the committed steps in reverse when the payment is declined.",
    patterns=("saga", "orchestration", "compensating-transaction", "eventual-consistency"),
    params=Params, scenario=scenario, derive=derive, assumptions=ASSUMPTIONS)
