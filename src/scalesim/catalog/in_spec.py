"""Patterns a system spec already implements, read from its own fields, so `advise --spec`
does not recommend what the design already does (a work queue is queue-based load
levelling; a queue consumed by a pool is competing consumers)."""

from __future__ import annotations

from scalesim.spec.checks import iter_calls
from scalesim.spec.model import Component, Kind, System

# Call settings -> the pattern each one is.
CALL_PATTERNS = {"timeout": "timeout", "retry": "retry", "circuit_breaker": "circuit-breaker",
                 "bulkhead": "bulkhead"}


def implemented(system: System) -> set[str]:
    """Catalog ids of the patterns the spec's components and calls already use."""
    found: set[str] = set()
    for component in system.components.values():
        found |= _component_patterns(system, component)
    for _, _, _, call in iter_calls(system):
        found |= {pid for field, pid in CALL_PATTERNS.items()
                  if getattr(call, field) is not None}
    return found


def _component_patterns(system: System, component: Component) -> set[str]:
    found: set[str] = set()
    if component.kind is Kind.QUEUE and component.consumers:
        found.add("queue-based-load-leveling")
        for consumer in component.consumers:
            target = system.components[consumer.to.partition(".")[0]]
            if consumer.concurrency > 1 or target.replicas > 1 or target.autoscale is not None:
                found.add("competing-consumers")
    if component.autoscale is not None:
        found.add("auto-scaling")
    if component.rate_limit is not None:
        found.add("rate-limiting")
    if component.load_shedding is not None:
        found.add("load-shedding")
    if component.health is not None:
        found.add("health-check")
    return found
