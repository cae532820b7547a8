"""Order saga, orchestrated: a coordinator runs the steps and undoes them on a decline."""

from __future__ import annotations

import math
from typing import Any, Literal

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import FEW, SIGMAS, Expect, count_at_most
from scalesim.templates.params import TemplateParams, param

QUICK_WINDOW_S = 9  # the quick run's measured seconds
# a step's attempts under each policy's default retries (Step Functions: 3 retries)
ATTEMPTS = {"step_functions": 4, "temporal": 100}


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


def quick_sagas(p: Params) -> float:
    """Sagas started in the quick run's measured window."""
    return p.rps * QUICK_WINDOW_S


def compensated_expect(p: Params, saga: str) -> Expect:
    """Compensations at the decline rate (± 25 %), or at most their Poisson bound when the
    quick run expects fewer than 25."""
    why = "a declined payment (the pivot) undoes the order and the stock reservation"
    metric = f"{saga}.compensated_rate"
    expected = quick_sagas(p) * p.decline
    if 0 < expected < FEW:
        return Expect(metric, "<=", count_at_most(expected) / quick_sagas(p), why)
    return Expect(metric, "~", p.decline, why, tolerance=0.25)


def compensation_time_expect(p: Params, saga: str) -> tuple[Expect, ...]:
    """Their p99, when at least one compensation is sure (by 4 σ): else it may not exist."""
    expected = quick_sagas(p) * p.decline
    if expected - SIGMAS * math.sqrt(expected) < 1:
        return ()
    return (Expect(f"{saga}.compensation_ms.p99", "<", 1000,
                   "compensations are quick local transactions"),)


def stuck_expect(p: Params, saga: str) -> Expect:
    """A saga past the pivot is stuck when every shipping attempt fails: at most their
    Poisson bound when the quick run expects one or more, else at most 0.1 %."""
    stuck = quick_sagas(p) * (1 - p.decline) * p.shipping_errors ** ATTEMPTS[p.policy]
    bound = count_at_most(stuck) / quick_sagas(p) if stuck >= 1 else 0.001
    return Expect(f"{saga}.stuck_rate", "<=", bound,
                  "shipping's transient failures are retried until it schedules (retriable "
                  f"step), unless all {ATTEMPTS[p.policy]} attempts fail")


def expectations(p: Params, prefix: str) -> tuple[Expect, ...]:
    saga = f"sagas[{prefix}]"
    return (
        Expect(f"{saga}.duration_ms.p99", "<", p.deadline_s * 1000,
               f"a saga ends, committed or compensated, within {p.deadline_s:g} s"),
        compensated_expect(p, saga),
        stuck_expect(p, saga),
        *compensation_time_expect(p, saga),
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
        quick=(f"simulation.duration={QUICK_WINDOW_S + 1}s", "simulation.warmup=1s"))


ASSUMPTIONS = (
    "Steps: create the order (pending), reserve stock, authorize the payment (the pivot: "
    "a decline is a business answer, not retried), schedule shipping and approve the order "
    "(retriable: they must succeed, so they are retried and never compensated).",
    "A decline fails the authorization step with `error`; the step retries only timeouts, "
    "as a Step Functions Retrier on States.Timeout or a Temporal activity with the decline "
    "as a non-retryable error would.",
    "Shipping is retried with the policy's defaults: a saga is stuck when all its attempts "
    "fail (4 with Step Functions: 5.6 % of the sagas at shipping_errors 0.5), so the stuck "
    "share is claimed at most 0.1 %, or the Poisson bound of those when the quick run "
    "expects one or more. Compensations are expected at the decline rate (± 25 %), or "
    "below their Poisson bound when fewer than 25 are expected; their p99 when at least "
    "one is sure.",
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
