"""Capacity from the estimate: how far each workload can grow before a component saturates,
and the highest load that still meets the SLO.

Both are searches over a load multiplier on the estimate (`estimate.Model`): bracketing and
bisection on a coarse grid first, then bisection on the full grid near the boundary, to a
relative precision of 0.2 %. Utilizations only grow with load (a blocking
caller's hold time grows with the waits below it, so ρ(f) ≥ f·ρ(1) for f ≥ 1), which gives
the bracket: saturation lies between the last stable multiplier and 1/ρ of the busiest
component.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from scalesim.analytic.estimate import Estimate, Model, SloCheck, latency_at
from scalesim.analytic.load import peak_rate
from scalesim.spec.checks import sync_edges
from scalesim.spec.model import Slo, System

PRECISION = 2e-3
COARSE_POINTS = 256  # grid points per distribution while bracketing
MAX_FACTOR = 1e9
SMALLEST_FACTOR = 1e-9  # a workload saturated at this share of its rate is at any rate


@dataclass(frozen=True)
class Saturation:
    rate_rps: float  # the workload's rate at which a component reaches ρ = 1
    factor: float  # that rate over the workload's own rate
    bottleneck: str | None  # the component that saturates first


@dataclass(frozen=True)
class SloCapacity:
    factor: float  # the largest multiplier of every open workload's rate meeting the SLO
    rate_rps: float  # the total open rate there
    limit: str | None  # the SLO target that binds there (None: saturation binds first)
    met_now: bool  # the SLO is met at the spec's own load
    # a target missed even at a trickle of load (factor 0 without saturation): no load
    # meets the SLO, as the target is missed by the service times themselves
    unloaded: SloCheck | None = None
    # the visited operation whose own time is the longest at that target's percentile:
    # (name, its own time in s), what the advice should start with
    set_by: tuple[str, float] | None = None


def overloaded(estimate: Estimate, workload: str | None = None) -> list[tuple[str, float]]:
    """What is offered ρ ≥ 1, the most loaded first, as (name, offered load): components with
    limited workers or cores, and queue subscriptions (`QUEUE->COMP.OP`: its consumers); with
    `workload`, only those it visits (a subscription through its queue)."""
    visits = None if workload is None else estimate.workloads[workload].visits
    found = [(name, c.state.offered) for name, c in estimate.components.items()
             if c.limited and c.state.offered >= 1.0
             and (visits is None or visits.get(name, 0.0) > 0.0)]
    found += [(name, s.state.offered) for name, s in estimate.subscriptions.items()
              if s.state.offered >= 1.0
              and (visits is None or visits.get(name.split("->", 1)[0], 0.0) > 0.0)]
    return sorted(found, key=lambda item: -item[1])


def saturated(estimate: Estimate, workload: str | None = None) -> bool:
    """Some component with limited workers or cores (or a subscription) is offered ρ ≥ 1 (of
    those `workload` visits, with `workload`)."""
    return bool(overloaded(estimate, workload))


def answering(system: System) -> set[str]:
    """The components a request waits for: its entry and what it reaches along what its
    operations wait on (`sync_edges`: synchronous calls, cache misses and writes; an async
    call or a queue's delivery does not hold it)."""
    waits: dict[str, set[str]] = {}
    for ref, callees in sync_edges(system).items():
        waits.setdefault(ref.split(".", 1)[0], set()).update(
            callee.split(".", 1)[0] for callee in callees)
    found: set[str] = set()
    todo = [system.resolve(w.to)[0] for w in system.workloads]
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo += waits.get(name, ())
    return found


def behind(estimate: Estimate) -> list[tuple[str, float]]:
    """What is past saturation that no request waits for, as `overloaded` has it: a queue's
    consumers, or a component only async calls and deliveries reach. The SLO's targets do
    not see them; their backlog grows without bound."""
    waited = answering(estimate.system)
    return [(name, load) for name, load in overloaded(estimate)
            if "->" in name or name not in waited]


def requests_saturated(estimate: Estimate, waited: set[str] | None = None) -> bool:
    """A component some request waits for (`answering`) is offered ρ ≥ 1."""
    waited = answering(estimate.system) if waited is None else waited
    return any("->" not in name and name in waited for name, _ in overloaded(estimate))


def _boundary(ok: Callable[[float], bool], low: float, high: float, precision: float) -> float:
    """Bisection for the largest f in [low, high] with ok(f), given ok(low) and not ok(high)
    (0 when nothing above 1e-9 of `high` is ok)."""
    floor = high * 1e-9
    while high - low > precision * high and high > floor:
        middle = (low + high) / 2.0
        if ok(middle):
            low = middle
        else:
            high = middle
    return low


def _largest(ok: Callable[[Model, float], bool], model: Model, hint: float,
             refine: bool) -> float:
    """The largest f with ok(model, f), for ok true below some point and false above, found
    on a coarse model (fewer grid points, faster); with `refine` (percentiles matter), found
    to 1 % there, then on `model` within that bracket. `hint` guesses the boundary: when it
    is right, ok just below it and not just above it settle the search in three tries (a
    saturation where loads grow in proportion to the rate, for every one of 200 workloads)."""
    coarse = model.coarse(COARSE_POINTS)
    precision = 0.01 if refine else PRECISION  # on the coarse grid
    low, high = 0.0, 1.0
    if ok(coarse, 1.0):
        low, high = 1.0, max(hint * (1.0 + precision / 2.0), 1.01)
        while ok(coarse, high):
            low, high = high, high * 2.0
            if high > MAX_FACTOR:
                return math.inf
        near = hint * (1.0 - precision / 2.0)
        if low < near < high:
            if ok(coarse, near):
                low = near
            else:
                high = near
    elif not refine and not ok(coarse, SMALLEST_FACTOR):  # not even a trickle: retries of
        return 0.0  # calls late at any load multiply past any capacity
    guess = _boundary(lambda f: ok(coarse, f), low, high, precision)
    if not refine:
        return guess
    low, high = guess * 0.97, guess * 1.03 if guess > 0.0 else 1.0
    while not ok(model, low):  # the full grid puts the boundary lower
        high, low = low, low / 2.0
        if low < 1e-9:
            return 0.0
    while ok(model, high):  # or higher
        low, high = high, high * 2.0
        if high > MAX_FACTOR:
            return math.inf
    return _boundary(lambda f: ok(model, f), low, high, PRECISION)


def _growth_room(calm: Estimate, workload: str) -> float:
    """A guess of how far `workload` can grow: each component's spare capacity over the
    share of its load that `workload` brings, in proportion to the visits it makes there
    (exact when the component's operations take the same time and hold times do not grow
    with load; above when they do)."""
    visits, rate = calm.workloads[workload].visits, calm.workloads[workload].rate_rps
    room = math.inf
    for name, component in calm.components.items():
        offered = component.state.offered
        if not component.limited or component.arrival_rate_rps <= 0.0 or \
                not math.isfinite(offered):
            continue
        own = offered * rate * visits.get(name, 0.0) / component.arrival_rate_rps
        if own > 0.0:
            room = min(room, (1.0 - offered + own) / own)
    return room if math.isfinite(room) and room > 1.0 else 2.0


def saturations(model: Model) -> dict[str, Saturation]:
    """`saturation` of every open workload. Workloads that enter at the same operation at
    the same rate are interchangeable (growing one loads the system as growing the other
    does: the same visits, the same rates), so each such group is searched once: 200
    workloads on one entry cost one search, not 200."""
    found: dict[tuple[str, float], Saturation] = {}
    out = {}
    calm = model.coarse(COARSE_POINTS).evaluate()
    for workload in model.system.workloads:
        if workload.users is not None:
            continue
        key = (".".join(model.system.resolve(workload.to)), peak_rate(workload))
        if key not in found:
            found[key] = saturation(model, workload.name, calm)
        out[workload.name] = found[key]
    return out


def saturation(model: Model, workload: str, calm: Estimate | None = None) -> Saturation:
    """How far `workload` alone can grow (the others at their rate) before something it
    visits saturates: a factor below 1 when that is past saturation already. `calm`: the
    coarse model's estimate at the spec's rates, when the caller has it (`saturations`: one
    for every workload)."""
    rate = next(peak_rate(w) for w in model.system.workloads if w.name == workload)
    if rate <= 0.0:
        return Saturation(math.inf, math.inf, None)
    coarse = model.coarse(COARSE_POINTS)
    at_rate = coarse.evaluate() if calm is None else calm

    def below(m: Model, f: float) -> bool:
        return not saturated(at_rate if m is coarse and f == 1.0 else m.evaluate({workload: f}),
                             workload)

    factor = _largest(below, model, _growth_room(at_rate, workload), refine=False)
    if not math.isfinite(factor):
        return Saturation(math.inf, math.inf, None)
    scales = {workload: factor * (1.0 + 2.0 * PRECISION) if factor > 0.0 else SMALLEST_FACTOR}
    # named on the coarse grid the search ran on: the full grid can put the boundary higher
    # (social-feed's reads named no component there), far higher where retries of calls
    # late on the coarser tails multiply
    first = overloaded(coarse.evaluate(scales), workload)
    return Saturation(rate * factor, factor, first[0][0] if first else None)


def slo_capacity(model: Model, scopes: list[tuple[str | None, Slo]],
                 base: Estimate) -> SloCapacity | None:
    """The highest common multiplier of the open workloads at which every SLO of `scopes`
    (`System.slo_scopes`: the system's and the workloads' own) still holds (None without
    open workloads). The SLO is about requests: saturation binds when a component a request
    waits for saturates, not a queue's consumers (see `behind`). A target missed even at a
    trickle of load is told apart from saturation: no load meets it."""
    names = [w.name for w in model.system.workloads if w.users is None]
    total = sum(peak_rate(w) for w in model.system.workloads if w.users is None)
    if not names or total <= 0.0:
        return None
    waited = answering(model.system)

    def holds(estimate: Estimate) -> bool:
        return not requests_saturated(estimate, waited) and \
            all(check.met for check in estimate.scoped_slo_checks(scopes))

    found = base.bottleneck()
    hint = 1.0 / found[1] if found is not None and found[1] > 0.0 else 2.0
    factor = _largest(lambda m, f: holds(m.evaluate(dict.fromkeys(names, f))), model, hint,
                      refine=True)
    if not math.isfinite(factor):
        return SloCapacity(math.inf, math.inf, None, True)
    if factor == 0.0:
        unloaded = _missed_unloaded(model, scopes, names, waited)
        if unloaded is not None:
            return SloCapacity(0.0, 0.0, unloaded[0].label, False, *unloaded)
    beyond = model.evaluate(dict.fromkeys(names, factor * (1.0 + 2.0 * PRECISION)))
    limit = None if requests_saturated(beyond, waited) else next(
        (check.label for check in beyond.scoped_slo_checks(scopes) if not check.met), None)
    return SloCapacity(factor, total * factor, limit, holds(base))


def _missed_unloaded(model: Model, scopes: list[tuple[str | None, Slo]], names: list[str],
                     waited: set[str]) -> tuple[SloCheck, tuple[str, float] | None] | None:
    """The first target missed at a trickle of load (`SMALLEST_FACTOR` of every open rate)
    with nothing saturated, and the operation that sets it (`_slowest_operation`); None when
    saturation binds even there (retries of late calls multiply past any capacity)."""
    light = model.evaluate(dict.fromkeys(names, SMALLEST_FACTOR))
    if requests_saturated(light, waited):
        return None
    missed = next((c for c in light.scoped_slo_checks(scopes) if not c.met), None)
    return None if missed is None else (missed, _slowest_operation(model, light, missed))


def _slowest_operation(model: Model, estimate: Estimate,
                       check: SloCheck) -> tuple[str, float] | None:
    """Of the operations the check's requests visit, the one whose own time (`_Op.own`: its
    work and its replicas' wait) is the longest at the check's percentile (its mean for
    `mean`), with that time: at no load there is no waiting, so the latency is made of such
    times and the longest is where to start. None for an error-rate target."""
    if check.name == "error_rate":
        return None
    workloads = [estimate.workloads[check.workload]] if check.workload is not None else \
        list(estimate.workloads.values())
    visited = {name for w in workloads for name, visits in w.visits.items() if visits > 0.0}

    times = [(latency_at(model.ops[ref].own, check.name), ref) for ref in model.names
             if ref.split(".", 1)[0] in visited]
    if not times:
        return None
    time, ref = max(times)
    return ref, time
