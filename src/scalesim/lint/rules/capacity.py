"""Rules about capacity: what each component is offered against what its workers can serve,
from the analytic layer's offered load (ρ = λ·E[hold] / (replicas·workers), workloads at
their peak, no retries). ρ ≥ 1 cannot last; near 1, queueing makes every request wait."""

from __future__ import annotations

import math
from collections.abc import Iterator

from scalesim.analytic.load import ComponentLoad
from scalesim.lint.context import Context
from scalesim.lint.estimates import ms, per_s
from scalesim.lint.finding import Hit
from scalesim.spec.model import Component, Kind

# What adds capacity, by what the component is: a database is not fixed by load balancing.
CAPACITY_FIXES: dict[Kind, tuple[str, ...]] = {
    Kind.SERVICE: ("auto-scaling", "load-balancing", "load-shedding", "queue-based-load-leveling"),
    Kind.GATEWAY: ("auto-scaling", "load-balancing", "rate-limiting", "load-shedding"),
    Kind.DATABASE: ("read-replicas", "cache-aside", "sharding", "cqrs"),
    Kind.CACHE: ("sharding", "consistent-hashing", "replicated-load-balanced-service"),
}


def _busy(ctx: Context) -> Iterator[tuple[str, Component, ComponentLoad, int]]:
    """Components with a worker limit and their load, with workers per replica."""
    for name, component in ctx.system.components.items():
        workers = component.worker_limit
        load = ctx.loads.get(name)
        if workers is not None and load is not None and load.arrival_rate_rps > 0.0:
            yield name, component, load, workers


def _numbers(name: str, component: Component, load: ComponentLoad, workers: int) -> str:
    if math.isinf(load.rho):
        return f"'{name}' is offered an unbounded rate (its calls loop back on it)"
    return (f"'{name}' is offered {per_s(load.arrival_rate_rps)} × {ms(load.hold_s)} held per "
            f"request = {load.concurrency:.3g} busy workers against {component.replicas} "
            f"replica(s) × {workers} workers: ρ ≈ {load.rho:.2f}")


def replicas_for(load: ComponentLoad, workers: int, target: float) -> int:
    """Replicas that bring ρ to `target` or below at this load."""
    return max(1, math.ceil(load.concurrency / (target * workers)))


def _fix(name: str, load: ComponentLoad, workers: int, target: float) -> str:
    if math.isinf(load.rho):
        return "break the loop or give it an exit"
    return (f"the smallest change is {replicas_for(load, workers, target)} replicas "
            f"(ρ ≤ {target:g}), or less work per request")


def overloaded(ctx: Context) -> Iterator[Hit]:
    """SS501: ρ ≥ 1 — more offered than the workers can serve."""
    target = ctx.config.utilization
    for name, component, load, workers in _busy(ctx):
        if load.rho >= 1.0:
            yield Hit(("components", name, "replicas"),
                      f"{_numbers(name, component, load, workers)}: its queue grows for as "
                      f"long as this load lasts; {_fix(name, load, workers, target)}",
                      CAPACITY_FIXES.get(component.kind))


def near_capacity(ctx: Context) -> Iterator[Hit]:
    """SS502: utilization ≤ ρ < 1 — it keeps up, but requests queue."""
    target = ctx.config.utilization
    for name, component, load, workers in _busy(ctx):
        if target <= load.rho < 1.0:
            yield Hit(("components", name, "replicas"),
                      f"{_numbers(name, component, load, workers)} (warning from "
                      f"{target:g}): waits grow steeply as ρ nears 1 and a small spike or a "
                      f"slow dependency tips it over; {_fix(name, load, workers, target)}",
                      CAPACITY_FIXES.get(component.kind))
