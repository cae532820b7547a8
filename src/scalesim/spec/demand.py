"""An operation's own time per visit, as means: what it computes and what it waits.

The simulator charges each visit the component's per-request overhead, the operation's CPU
demand (`cpu` or `work`) and `post_work`, and the per-call overhead of each call it makes;
`wait` takes time without CPU. The static estimates (offered load, lint, generated CPU
requests) read these means instead of adding the fields up each on their own.
"""

from __future__ import annotations

from collections.abc import Mapping

from scalesim.spec.model import Call, Kind, ParallelStep, System


def calls_made(system: System, component: str, operation: str) -> float:
    """Mean calls a visit pays the per-call overhead for: each call by its probability, each
    branch of a parallel step, a cache's miss. Calls made by sagas and outbox relays are the
    coordinator's and relay's, not the operation's."""
    spec = system.components[component]
    total = 0.0
    for step in spec.effective_operations[operation].calls:
        if isinstance(step, ParallelStep):
            total += len(step.parallel.calls)
        elif isinstance(step, Call) and step.outbox is None:
            total += step.probability
    if spec.kind is Kind.CACHE and spec.backend is not None and spec.hit_ratio is not None:
        total += 1.0 - spec.hit_ratio
    return total


def overhead_s(system: System, component: str, operation: str) -> float:
    """Mean CPU seconds the runtime spends on one visit: per request and per call."""
    request, call = system.overhead(component)
    seconds = request.mean_s
    if call.mean_s > 0.0:
        seconds += call.mean_s * calls_made(system, component, operation)
    return seconds


def cpu_s(system: System, component: str, operation: str) -> float:
    """Mean CPU seconds of one visit: `cpu`/`work`, `post_work` and the overheads."""
    op = system.components[component].effective_operations[operation]
    return op.demand.mean_s + op.post_work.mean_s + overhead_s(system, component, operation)


def cpu_per_visit_s(system: System, component: str, visits: Mapping[str, float]) -> float:
    """Mean CPU seconds of a visit to `component`, its operations weighted by `visits`
    (a rate or a count per operation name); 0 when there are none."""
    total = sum(visits.values())
    if total <= 0.0:
        return 0.0
    return sum(n * cpu_s(system, component, op) for op, n in visits.items() if n > 0.0) / total


def extra_s(system: System, component: str, operation: str) -> float:
    """Mean seconds of one visit besides `cpu`/`work` and `post_work`: the overheads and
    `wait` (0 for a spec that sets neither, so adding it changes no estimate)."""
    op = system.components[component].effective_operations[operation]
    return overhead_s(system, component, operation) + op.wait.mean_s


def own_s(system: System, component: str, operation: str) -> float:
    """Mean seconds of one visit at the operation itself, its calls' waits excluded: its
    CPU (at full speed, no queueing) and its `wait`."""
    op = system.components[component].effective_operations[operation]
    return op.demand.mean_s + op.post_work.mean_s + extra_s(system, component, operation)
