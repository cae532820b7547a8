"""P(success) of requests in the estimate: replica availability under random failures,
refusals, error rates, timeouts, and what retries and fallbacks make of them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from scalesim.analytic.load import capacity_replicas
from scalesim.spec.model import Call, Operation, ParallelStep, System, plain_steps

if TYPE_CHECKING:
    from scalesim.analytic.estimate import ComponentEstimate, Model


class Success:
    """P(success) of operations: the component's replica availability, its refusals and
    error rate, and the success of each synchronous call it must wait for, with retries as
    independent attempts and fallbacks (`on_failure`) turning a failed call into a success.
    `structural` keeps only replica availability (the path's availability)."""

    def __init__(self, model: Model, components: Mapping[str, ComponentEstimate],
                 timeouts: Mapping[str, float]) -> None:
        self.model = model
        self.components = components
        self.timeouts = timeouts
        self.memo: dict[tuple[str, bool], float] = {}

    def of(self, ref: str, structural: bool = False) -> float:
        key = (ref, structural)
        if key not in self.memo:
            self.memo[key] = 1.0  # a circle of calls counts its own success once
            self.memo[key] = self._compute(ref, structural)
        return self.memo[key]

    def _compute(self, ref: str, structural: bool) -> float:
        model = self.model
        op = model.ops[ref]
        ok = _replica_availability(model.system, op.cname)
        if not structural:
            ok *= (1.0 - self.components[op.cname].state.loss) * \
                (1.0 - op.operation.error_rate)
        for step in plain_steps(op.operation.calls):
            if isinstance(step, ParallelStep):
                ok *= _at_least(needed(step), [self._call(ref, c, structural)
                                                for c in step.parallel.calls])
            else:
                ok *= self._call(ref, step, structural)
        component = op.component
        if component.backend is not None and component.hit_ratio is not None:
            miss = 1.0 - component.hit_ratio
            ok *= 1.0 - miss * (1.0 - self._call(ref, Call(to=component.backend), structural))
        return ok

    def _call(self, ref: str, call: Call, structural: bool) -> float:
        call = self.model.system.effective(call)
        if call.async_:
            return 1.0
        target = ".".join(self.model.system.resolve(call.to))
        attempt = self.of(target, structural)
        if not structural:
            attempt *= 1.0 - self.timeouts.get(f"{ref}->{target}", 0.0)
        attempts = call.retry.attempts if call.retry is not None else 1
        ok = 1.0 if call.on_failure != "fail" else 1.0 - (1.0 - attempt) ** attempts
        return 1.0 - call.probability * (1.0 - ok)


def _replica_availability(system: System, cname: str) -> float:
    """P(a request finds a working replica) under `random_failures` faults: a replica is up
    mtbf / (mtbf + mttr) of the time. With readiness probes or outlier detection the
    balancer steers around down replicas (all must be down to fail); without, a request
    routed to a down replica fails."""
    component = system.components[cname]
    up = [1.0] * capacity_replicas(component)
    for fault in system.faults:
        failures = fault.random_failures
        if fault.component != cname or failures is None:
            continue
        share = failures.mtbf / (failures.mtbf + failures.mttr)
        for i in [fault.replica] if fault.replica is not None else range(len(up)):
            if i < len(up):
                up[i] *= share
    steered = component.outlier_detection is not None or (
        component.health is not None and component.health.readiness is not None)
    if steered:
        return 1.0 - math.prod(1.0 - u for u in up)
    return sum(up) / len(up)


def _at_least(need: int, probabilities: list[float]) -> float:
    """P(at least `need` of independent events happen) (Poisson binomial)."""
    exactly = [1.0]
    for p in probabilities:
        nxt = [0.0] * (len(exactly) + 1)
        for k, q in enumerate(exactly):
            nxt[k] += q * (1.0 - p)
            nxt[k + 1] += q * p
        exactly = nxt
    return sum(exactly[need:])


def needed(step: ParallelStep) -> int:
    wait_for = step.parallel.wait_for
    return len(step.parallel.calls) if wait_for == "all" else 1 if wait_for == "any" \
        else int(wait_for)


def calls_of(operation: Operation) -> list[Call]:
    return [c for step in plain_steps(operation.calls)
            for c in (step.parallel.calls if isinstance(step, ParallelStep) else [step])]


