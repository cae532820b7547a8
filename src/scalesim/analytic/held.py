"""Components whose callers' workers bound the requests they can hold at once, so that they
never queue.

A blocking caller holds its worker while it waits for a synchronous call, so a component
reached only that way can have no more requests at once than its callers have workers
waiting on it. When that number is no more than one replica's workers, every arrival finds a
free worker, whatever the balancer does: its wait is exactly zero. The station formulas
cannot see this, since they take each component's arrivals as independent of the others'
state; in a chain of single-worker services they put a wait at every level, each one
lengthening every caller above it, so a chain of 100 such calls came out unstable at 1
request a second, where only its first service ever queues.

The bound holds only when nothing can leave a request behind at the callee while the
caller's worker moves on: no timeout, deadline or hedge on the calls (an attempt given up on
keeps the callee's worker; a deadline passed down cuts the calls below short), no parallel
group that returns before all its branches, no saga, no crash, random failure or liveness
restart of a caller, and callers whose replicas cannot grow past what is counted (an
autoscaler's maximum; no rollout). Anything else that reaches
the component (a workload, an async call, a queue's consumer, a cache miss or write, a
projection) leaves it to the station formulas.
"""

from __future__ import annotations

from collections import Counter

from scalesim.spec.checks import entry_refs, iter_calls
from scalesim.spec.model import Call, Component, ParallelStep, SagaBlock, System


def unqueued_components(system: System) -> set[str]:
    """The components that never wait for a worker (see the module's docstring)."""
    if any(call.propagate_deadline for _, _, _, call in iter_calls(system)):
        return set()  # a deadline passed down can cut any call below it short
    open_to_all = _entered_otherwise(system)
    waiting: Counter[str] = Counter()  # callee -> callers' workers that can wait on it at once
    for cname, component in system.components.items():
        counted = _waiting_workers(system, cname, component)
        per_worker: Counter[str] = Counter()  # callee -> calls one visit has open at once
        for operation in component.effective_operations.values():
            for step in operation.calls:
                at_once, unbounded = _step_calls(system, step)
                open_to_all |= unbounded
                for callee, count in at_once.items():
                    per_worker[callee] = max(per_worker[callee], count)
        for callee, count in per_worker.items():
            if counted is None:
                open_to_all.add(callee)
            else:
                waiting[callee] += counted * count
    return {name for name, component in system.components.items()
            if name not in open_to_all and name in waiting and component.core_limit is None
            and component.worker_limit is not None and waiting[name] <= component.worker_limit}


def _entered_otherwise(system: System) -> set[str]:
    """Components reached by anything but a call."""
    return {system.resolve(ref)[0] for _, ref in entry_refs(system)}


def _waiting_workers(system: System, name: str, component: Component) -> int | None:
    """The most workers of this component that can be waiting on calls at once, or None when
    it is not bounded (unlimited or non-blocking workers, replicas that can outgrow the
    count, or callers' requests that a crash or restart could orphan)."""
    workers = component.worker_limit
    if workers is None or component.io != "blocking" or component.rollout is not None \
            or component.versions or component.health is not None:
        return None
    if any(fault.component == name and (fault.crash or fault.random_failures is not None)
           for fault in system.faults):
        return None
    return workers * component.most_replicas


def _step_calls(system: System, step: Call | ParallelStep | SagaBlock
                ) -> tuple[Counter[str], set[str]]:
    """(callee -> calls of this step open at once, callees this step can leave requests at
    while the caller moves on)."""
    if isinstance(step, SagaBlock):
        calls = [system.effective(call) for call in step.saga.calls(compensations=True)]
        return Counter(), {system.resolve(call.to)[0] for call in calls}
    if isinstance(step, ParallelStep):
        calls = [system.effective(call).as_seen() for call in step.parallel.calls]
        if step.parallel.wait_for not in ("all", len(calls)):
            return Counter(), {system.resolve(call.to)[0] for call in calls}
    else:
        calls = [system.effective(step).as_seen()]
    at_once: Counter[str] = Counter()
    unbounded: set[str] = set()
    for call in calls:
        callee = system.resolve(call.to)[0]
        if call.async_ or call.timeout is not None or call.deadline is not None \
                or call.hedge is not None:
            unbounded.add(callee)
        else:
            at_once[callee] += 1
    return at_once, unbounded
