"""Rules about capacity: what each component is offered against what its workers can serve
(`lint.load`). A sustained ρ ≥ 1 cannot last (SS501); a sustained ρ near 1, or a peak above
the warning level that a queue absorbs only while it lasts, is a warning (SS502)."""

from __future__ import annotations

import math
from collections.abc import Iterator

from scalesim.lint.context import Context
from scalesim.lint.estimates import ms, per_s
from scalesim.lint.finding import Hit
from scalesim.lint.load import Load, fleet
from scalesim.spec.model import Component, Kind

# What adds capacity, by what the component is: a database is not fixed by load balancing.
CAPACITY_FIXES: dict[Kind, tuple[str, ...]] = {
    Kind.SERVICE: ("auto-scaling", "load-balancing", "load-shedding", "queue-based-load-leveling"),
    Kind.GATEWAY: ("auto-scaling", "load-balancing", "rate-limiting", "load-shedding"),
    Kind.DATABASE: ("read-replicas", "cache-aside", "sharding", "cqrs"),
    Kind.CACHE: ("sharding", "consistent-hashing", "replicated-load-balanced-service"),
}


def replicas_for(load: Load, workers: int, target: float) -> int:
    """Replicas that bring ρ to `target` or below at this load."""
    return max(1, math.ceil(load.busy / (target * workers)))


def _where(name: str, component: Component) -> tuple[str, ...]:
    """The field that sets the replicas the load meets: `autoscale.max` when autoscaled."""
    if component.autoscale is not None:
        return ("components", name, "autoscale", "max")
    return ("components", name, "replicas")


def _numbers(name: str, component: Component, load: Load) -> str:
    if math.isinf(load.rho):
        return f"'{name}' is offered an unbounded rate (its calls loop back on it)"
    replicas = f"autoscale.max {fleet(component)}" if component.autoscale is not None \
        else str(component.replicas)
    return (f"'{name}' is offered {per_s(load.rate)} × {ms(load.hold_s)} held per request = "
            f"{load.busy:.3g} busy workers against {replicas} replica(s) × "
            f"{component.worker_limit} workers: ρ ≈ {load.rho:.2f}")


def _fix(load: Load, component: Component, target: float) -> str:
    if math.isinf(load.rho):
        return "break the loop or give it an exit"
    replicas = replicas_for(load, component.worker_limit or 1, target)
    change = f"autoscale.max {replicas}" if component.autoscale is not None \
        else f"{replicas} replicas"
    return f"the smallest change is {change} (ρ ≤ {target:g}), or less work per request"


def overloaded(ctx: Context) -> Iterator[Hit]:
    """SS501: sustained ρ ≥ 1 — more offered than the workers can serve, for good."""
    target = ctx.config.utilization
    for name, load in ctx.sustained.items():
        component = ctx.system.components[name]
        if load.rho >= 1.0:
            yield Hit(_where(name, component),
                      f"{_numbers(name, component, load)}: its queue grows for as long as "
                      f"this load lasts; {_fix(load, component, target)}",
                      CAPACITY_FIXES.get(component.kind))


def near_capacity(ctx: Context) -> Iterator[Hit]:
    """SS502: sustained ρ in (utilization, 1), or a peak above `utilization` that the
    sustained load stays below 1 of (at exactly `utilization` the load is where the fix
    would put it)."""
    target = ctx.config.utilization
    steady = ctx.sustained
    for name, peak in ctx.peak.items():
        component = ctx.system.components[name]
        base = steady.get(name)
        if base is not None and base.rho >= 1.0:
            continue  # SS501
        if base is not None and target < base.rho:
            yield Hit(_where(name, component),
                      f"{_numbers(name, component, base)} (warning from {target:g}): waits "
                      "grow steeply as ρ nears 1 and a small spike or a slow dependency tips "
                      f"it over; {_fix(base, component, target)}",
                      CAPACITY_FIXES.get(component.kind))
        elif peak.rho > target:
            after = f"ρ ≈ {base.rho:.2f} after it" if base is not None else "nothing after it"
            yield Hit(_where(name, component),
                      f"at the peak of the workload profile, {_numbers(name, component, peak)} "
                      f"({after}): requests queue for the length of the peak and time out if "
                      "it lasts; a queue in front absorbs a burst only while it fits; "
                      f"{_fix(peak, component, target)}",
                      CAPACITY_FIXES.get(component.kind))
