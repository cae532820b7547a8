"""Who calls whom, with which settings: the call graph every generator reads.

Calls inherit `defaults.calls` field by field (a call's own setting wins; an async call
inherits nothing), so the numbers a generator writes are the ones the simulator uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from scalesim.spec.model import Call, ParallelStep, SagaBlock, System, plain_steps


@dataclass(frozen=True)
class Edge:
    """One call site: `caller.operation` calls `callee` with `call`'s effective settings.
    `event`: a step of a choreographed saga, an event through the saga's `via` queue that
    the participant reacts to, so the caller's own code makes no such call."""

    caller: str
    operation: str
    callee: str
    call: Call
    event: bool = False


def edges(system: System) -> Iterator[Edge]:
    """Every call site in spec order, parallel branches flattened."""
    for caller, component in system.components.items():
        for operation_name, operation in component.effective_operations.items():
            for written in operation.calls:
                event = (isinstance(written, SagaBlock)
                         and written.saga.coordination == "choreography")
                for step in plain_steps([written], compensations=True):
                    calls = step.parallel.calls if isinstance(step, ParallelStep) else [step]
                    for call in calls:
                        callee, _ = system.resolve(call.to)
                        yield Edge(caller, operation_name, callee, system.effective(call),
                                   event)


def callers_of(system: System, callee: str) -> list[Edge]:
    return [edge for edge in edges(system) if edge.callee == callee]


def first_edge_per_caller(system: System, callee: str) -> list[Edge]:
    """The first call site of each caller to `callee` (a mesh route is per caller)."""
    chosen: dict[str, Edge] = {}
    for edge in callers_of(system, callee):
        chosen.setdefault(edge.caller, edge)
    return list(chosen.values())


def consumed_queues(system: System, name: str) -> list[str]:
    """Queues whose subscriptions deliver to component `name`."""
    return [queue for queue, component in system.components.items()
            if any(system.resolve(c.to)[0] == name for c in component.consumers)]


def dependencies(system: System, name: str) -> list[str]:
    """What `name` must reach: components it calls, queues it consumes, the backend of any
    cache it calls (cache-aside: the application reads the backend on a miss and writes it
    on a write), and a queue's consumers (its stand-in delivers to them)."""
    found = [system.resolve(consumer.to)[0] for consumer in system.components[name].consumers]
    for edge in edges(system):
        if edge.caller == name:
            found.append(edge.callee)
            callee = system.components[edge.callee]
            for ref in (callee.backend, callee.caching and callee.caching.write_to):
                if ref:
                    found.append(system.resolve(ref)[0])
    found.extend(consumed_queues(system, name))
    return sorted({dep for dep in found if dep != name})
