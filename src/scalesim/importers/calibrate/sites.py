"""Where a spec makes each call, and what it says about the caller's wait.

Calibration reads traces against the spec it calibrates: a call the spec makes synchronously
was waited for, and one it makes async was not, whatever the rounded times of a trace
suggest, and an attempt it bounds by a timeout or a deadline held the caller until then at
most.
The same sites are where the fitted probabilities and retries are written.
"""

from __future__ import annotations

from dataclasses import dataclass

from scalesim.importers.calibrate.traces import Capacity, Waiting
from scalesim.spec.model import Call, Kind, ParallelStep, SagaBlock, System

Path = tuple[str | int, ...]  # a place in the spec


@dataclass(frozen=True)
class Site:
    path: Path
    call: Call  # as written at `path`
    waiting: Waiting


def _waiting(system: System, call: Call, waits_for_all: bool) -> Waiting:
    """An async call (or a publish through an outbox) is not waited for; a hedged call, or a
    branch of a parallel step that waits for fewer than all, is waited for only until
    another answer wins, which the trace's times tell, not the spec."""
    effective = system.effective(call)
    if effective.as_seen().async_:
        return Waiting(False)
    timeout = None if effective.timeout is None else round(effective.timeout * 1e9)
    deadline = None if effective.deadline is None else round(effective.deadline * 1e9)
    return Waiting(True if waits_for_all and effective.hedge is None else None, timeout,
                   deadline, effective.propagate_deadline)


def call_sites(system: System, component: str, operation: str) -> dict[str, list[Site]]:
    """The operation's calls by target ('component.operation'), each where the spec makes
    it (a saga's steps are its coordinator's, not listed)."""
    base: Path = ("components", component, "operations", operation)
    op = system.components[component].effective_operations[operation]
    out: dict[str, list[Site]] = {}
    for index, step in enumerate(op.calls):
        if isinstance(step, ParallelStep):
            every = step.parallel.wait_for == "all"
            for branch, call in enumerate(step.parallel.calls):
                out.setdefault(".".join(system.resolve(call.to)), []).append(Site(
                    (*base, "calls", index, "parallel", "calls", branch), call,
                    _waiting(system, call, every)))
        elif isinstance(step, Call):
            out.setdefault(".".join(system.resolve(step.to)), []).append(
                Site((*base, "calls", index), step, _waiting(system, step, True)))
    return out


def cache_calls(system: System, component: str, operation: str) -> dict[str, Waiting]:
    """The calls a cache's operation makes on its own, by target: a read loads a miss from
    its `backend` and waits for it (unless `refresh_ahead` also reloads in the background,
    unwaited: then the times tell), a write waits for `write_to` unless written behind."""
    spec = system.components[component]
    if spec.kind is not Kind.CACHE or spec.backend is None:
        return {}
    caching = spec.caching
    if caching is None:
        return {".".join(system.resolve(spec.backend)): Waiting(True)}
    if operation not in caching.writes:
        return {".".join(system.resolve(spec.backend)):
                Waiting(None if caching.refresh_ahead else True)}
    if caching.write_to is None or caching.write_policy == "write_behind":
        return {}
    return {".".join(system.resolve(caching.write_to)): Waiting(True)}


def saga_calls(system: System, component: str, operation: str) -> dict[str, Waiting]:
    """The calls an orchestrated saga's coordinator makes on its own, by target: each
    step's and each compensation's, waited for with the saga's retry policy (a
    choreographed saga's are events through its queue, no calls of the visit). A target
    two of them wait on differently is left to the trace's times."""
    op = system.components[component].effective_operations[operation]
    ways: dict[str, set[Waiting]] = {}
    for step in op.calls:
        if isinstance(step, SagaBlock) and step.saga.coordination == "orchestration":
            for call in step.saga.calls(compensations=True):
                ways.setdefault(".".join(system.resolve(call.to)), set()).add(
                    _waiting(system, call, True))
    return {target: found.pop() if len(found) == 1 else Waiting(None)
            for target, found in ways.items()}


def waiting(system: System) -> dict[tuple[str, str], Waiting]:
    """(caller, target) -> how the spec's caller waits on that target. A target called from
    several places that wait differently is left to the trace's times."""
    out: dict[tuple[str, str], Waiting] = {}
    for component, spec in system.components.items():
        for operation in spec.effective_operations:
            own = cache_calls(system, component, operation) | \
                saga_calls(system, component, operation)
            for target, way in own.items():
                out[(f"{component}.{operation}", target)] = way
            for target, sites in call_sites(system, component, operation).items():
                ways = {site.waiting for site in sites}
                out[(f"{component}.{operation}", target)] = ways.pop() if len(ways) == 1 \
                    else Waiting(None, None)
    return out


def capacities(system: System) -> dict[str, Capacity]:
    """The workers of each component whose visits hold one until they end (blocking I/O, a
    bounded number): where a visit can wait for a worker. Replicas at the most an autoscaler
    reaches, so that a visit is taken as waiting only when it surely did."""
    return {name: Capacity(workers, spec.most_replicas)
            for name, spec in system.components.items()
            if spec.io == "blocking" and (workers := spec.worker_limit) is not None}
