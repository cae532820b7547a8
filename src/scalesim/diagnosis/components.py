"""Components at their limit: workers saturated (a queue that grows, refusals of a full
queue), rate limits and connection pools that refuse, bulkheads that fill."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from scalesim.analytic import hashing
from scalesim.analytic.chains import served
from scalesim.analytic.dam import bucket_refused
from scalesim.analytic.load import (
    ComponentLoad,
    bucket_size,
    buckets,
    call_matrix,
    leader_served,
    offered_load,
    operation_rates,
    peak_rate,
    poisson_stream,
    reachable,
    round_trip_s,
    visits,
)
from scalesim.diagnosis.autoscaled import cpu_at_full, cpu_blind_fix, short_load
from scalesim.diagnosis.context import (
    BACKLOG_S,
    HOT,
    MIN_BACKLOG,
    NOTABLE,
    SATURATED,
    TARGET_UTILIZATION,
    Run,
    Slowed,
    dotted,
    fault_text,
    slowed_replica,
    unbounded_text,
    uneven,
    whole,
)
from scalesim.diagnosis.finding import (
    Finding,
    Fix,
    Limit,
    amount,
    count,
    duration,
    rate,
    share,
)
from scalesim.lint.load import let_in
from scalesim.spec import bounds
from scalesim.spec.checks import sync_edges
from scalesim.spec.control import whole_percent
from scalesim.spec.demand import cpu_per_visit_s
from scalesim.spec.errors import counted
from scalesim.spec.hashring import VIRTUAL_NODES
from scalesim.spec.model import Balancer, Component, Kind, System
from scalesim.spec.overrides import changed
from scalesim.spec.resilience import RetryBudget

HELD_LONGER = 1.5  # measured hold / healthy hold above which slow calls hold the workers
AMPLIFIED = 1.1  # arrivals / arrivals without retries from which retries are named
SLOTS_REFUSED = NOTABLE / 10  # a bulkhead or connection pool refusing this share of its
# calls makes a finding, and one is sized to refuse less
BURST_TARGET = NOTABLE / 2  # the refused share a rate limit's fix aims a token bucket at
MAX_BURST_S = 10.0  # seconds of its rate a raised burst may hold before the rate is raised
LOW_HIT_RATIO = 0.5  # a cache hitting less than this is named in front of a loaded backend


@dataclass(frozen=True)
class Pressure:
    """A component's workers as measured: what arrived, what was refused, what queued."""

    busy: float  # utilization
    arrival: float  # visits per second, refused and still queued ones included
    refused: float  # refused by a full queue, per second
    growth: float  # queue growth per second
    end: float  # waiting at the window's end, per replication

    @property
    def growing(self) -> bool:
        return self.growth > 0.0 and self.end >= max(MIN_BACKLOG, self.arrival * BACKLOG_S)

    @property
    def refusing(self) -> bool:
        return self.arrival > 0 and self.refused / self.arrival >= NOTABLE / 10


def _pressure(run: Run, measured: dict[str, Any]) -> Pressure:
    growth = (measured["queue_end"] - measured["queue_start"]) / run.span_s
    return Pressure(measured["utilization"] or 0.0,
                    measured["throughput_rps"] + max(growth, 0.0),
                    measured["refused_by_cause"]["rejected"] / run.span_s, growth,
                    measured["queue_end"] / int(run.result["replications"]))


def saturated(run: Run) -> Iterator[Finding]:
    """Components whose workers are all busy, whose queue grows, or that refuse for lack of
    room; sized from the analytic hold time per visit (no queueing downstream) and the load
    without the retries the overload provoked. Callees are diagnosed before their callers,
    so a caller held by a callee at its limit takes that callee's fix (`relief`); the
    findings come in the result's order."""
    made: dict[str, list[Finding]] = {}
    for name in sorted(run.result["components"], key=lambda n: -len(callers_of(run, n))):
        made[name] = list(_saturation(run, name, [f for fs in made.values() for f in fs]))
    for name in run.result["components"]:
        yield from made[name]


def _saturation(run: Run, name: str, before: list[Finding]) -> Iterator[Finding]:
    """The saturated finding of component `name`, if any; `before`: the findings of its
    callees, made first."""
    component = run.system.components[name]
    measured = run.result["components"][name]
    if component.worker_limit is None or component.kind is Kind.QUEUE \
            or name in run.explained or _cpu_binds(component, measured):
        return  # a busy CPU is `cpu_bound`'s finding: it holds the workers
    found = _pressure(run, measured)
    load = run.loads[name]
    faulted = _under_fault(run, name, found, load)
    on_one = [faulted] if faulted is not None else \
        list(_one_replica(run, name, measured, found.busy, load))
    if on_one:  # more replicas would not help: that finding says what would
        yield from on_one
    elif found.busy >= HOT or found.growing or found.refusing:
        yield _saturated(run, name, measured, found, load, before)


def _saturated(run: Run, name: str, measured: dict[str, Any], found: Pressure,
               load: ComponentLoad, before: list[Finding]) -> Finding:
    component = run.system.components[name]
    workers = component.worker_limit
    assert workers is not None
    problem = found.busy >= SATURATED or found.growing or found.refusing
    held = _held(measured, found)
    healthy = load.hold_s
    fleet = (measured.get("scaling") or {}).get("replicas")
    evidence = _pressure_texts(run, name, found) + cache_texts(run, name)
    fix = None
    limit: Limit = "workers"
    if _calls_hold(run, name, held, healthy):
        limit = "downstream"
        fix = _downstream_fix(run, name, held, healthy, evidence, before)
    elif component.autoscale is not None and fleet is not None:
        fix = _scaled_fix(run, name, workers, healthy if healthy > 0 else held, fleet,
                          load.arrival_rate_rps, found.refused / found.arrival, evidence)
    else:
        fix = _replicas_fix(run, name, found, healthy if healthy > 0 else held, load,
                            evidence)
    if found.growing:
        what = f"falls behind: its queue grows {rate(found.growth)}"
    elif found.refusing:
        what = (f"turns requests away: its full queue refuses {rate(found.refused)} "
                f"({share(found.refused / found.arrival)})")
    else:
        what = f"{'is saturated' if problem else 'runs hot'}: {share(found.busy)} of its " \
            "workers busy"
    return Finding("saturated", "problem" if problem else "warning", name, f"{name} {what}",
                   limit, tuple(evidence), fix,
                   {"utilization": found.busy, "arrival_rps": found.arrival,
                    "queue_growth_rps": found.growth, "refused_rps": found.refused,
                    "hold_ms": held * 1e3, "healthy_hold_ms": healthy * 1e3})


def _pressure_texts(run: Run, name: str, found: Pressure) -> list[str]:
    """The evidence of a saturated finding's `found`: the workers' load, the queue's growth
    and refusals."""
    component = run.system.components[name]
    fleet = (run.result["components"][name].get("scaling") or {}).get("replicas")
    size = str(component.replicas) if fleet is None or fleet["min"] == fleet["max"] \
        else f"{fleet['min']}–{fleet['max']} replicas (mean {fleet['mean']:.1f})"
    evidence = [f"{size} × {component.worker_limit} workers are {share(found.busy)} busy"
                f"{' on average' if fleet is not None else ''}, {rate(found.arrival)} arriving"]
    if found.growing:
        evidence.append(f"its queue grows {rate(found.growth)} ({count(found.end)} waiting at "
                        "the end)")
    if found.refusing:
        evidence.append(f"its full queue refuses {rate(found.refused)}")
    return evidence


def _under_fault(run: Run, name: str, found: Pressure, load: ComponentLoad
                 ) -> Finding | None:
    """Refusals of a component with room as a whole (under HOT busy, its queue not growing)
    that a healthy one would not make at the load it got (M/M/c/K per replica, under 0.1 %)
    while latency faults slowed it: they came with the faults. On a replica of its own, a
    fault's slow replica refuses while the others idle: what keeps traffic off it is the
    fix (a problem); on the whole component, the fault alone is to blame (a warning). None
    when slow calls hold its workers (`downstream`), no latency fault struck it, or it is
    autoscaled (its fleet is not its spec's `replicas`)."""
    component = run.system.components[name]
    workers = component.worker_limit
    faults = [f for f in run.faults_on(name) if f.latency is not None]
    held = _held(run.result["components"][name], found)
    if not found.refusing or found.growing or found.busy >= HOT or not faults \
            or workers is None or component.queue is None or component.autoscale is not None \
            or not component.replicas or _calls_hold(run, name, held, load.hold_s):
        return None
    base, amplified = _without_retries(run, name, found.arrival)
    healthy = refused_share(base * load.hold_s / component.replicas, workers,
                            workers + component.queue)
    if healthy >= NOTABLE / 10:
        return None
    evidence = _pressure_texts(run, name, found)
    evidence.append(f"at the {rate(base)} it got{' without retries' if amplified else ''} a "
                    f"healthy {name} would refuse {_least(healthy)} (M/M/c/K per replica): the "
                    "refusals came with the fault: "
                    + "; ".join(fault_text(f, run.end_s) for f in faults))
    slowed = slowed_replica(run, name)
    numbers: dict[str, float | None] = {
        "utilization": found.busy, "arrival_rps": found.arrival,
        "refused_rps": found.refused, "healthy_refused_share": healthy}
    what = f"{name} turns requests away under a fault"
    fix = None
    if slowed is not None and all(f.replica is not None for f in faults):
        evidence.append(_slowed_text(run, name, slowed))
        numbers.update(replica=slowed.replica, replica_utilization=slowed.utilization)
        what = f"{slowed.fault.target}, slowed by a fault, turns requests away"
        fix = _spread_fix(run, name, base * load.hold_s,
                          len({f.replica for f in faults}))
    return Finding("saturated", "warning" if fix is None else "problem", name,
                   f"{what}: its full queue refuses {rate(found.refused)} "
                   f"({share(found.refused / found.arrival)}), {name} {share(found.busy)} "
                   "busy", "fault", tuple(evidence), fix, numbers)


def _least(value: float) -> str:
    """A share too small to matter, as 'under 0.01 %' rather than in powers of ten."""
    return share(value) if value >= 1e-4 else "under 0.01 %"


def _slowed_text(run: Run, name: str, slowed: Slowed) -> str:
    """Evidence: how busy the fault kept the slowed replica."""
    workers = run.system.components[name].worker_limit
    assert workers is not None
    about = "" if slowed.measured else "about "
    return (f"{slowed.fault.target} held a visit about {duration(slowed.hold_s)} under the "
            f"fault: its {rate(slowed.arrival)} offered it {amount(slowed.offered)} erlangs "
            f"for {counted(workers, 'worker')}, "
            f"{share(min(1.0, slowed.offered / workers))} busy while "
            f"the fault lasted, {about}{share(slowed.utilization)} over the window")


def _spread_fix(run: Run, name: str, offered: float, slowed: int) -> Fix | None:
    """Least-requests balancing for a component whose round-robin or random balancer sends
    a fault's slow replicas (`slowed` of them) their even share: each visit goes to the
    replica with the fewest in flight, so a slow one gets what it serves and the others
    the rest. None for other balancers, or when the others could not carry the `offered`
    erlangs (M/M/c/K refusing 0.1 % or more; an unbounded queue, falling behind)."""
    component = run.system.components[name]
    workers, queue = component.worker_limit, component.queue
    others = component.replicas - slowed
    if component.balancer not in (Balancer.ROUND_ROBIN, Balancer.RANDOM) or others < 1 \
            or workers is None:
        return None
    each = offered / others
    loss = (0.0 if each < workers else 1.0) if queue is None \
        else refused_share(each, workers, workers + queue)
    if loss >= NOTABLE / 10:
        return None
    return Fix(f"keep traffic off the slow replica: {name}.balancer from "
               f"{component.balancer.value} to least_requests, which sends each visit to the "
               f"replica with the fewest in flight, so a slow one gets only what it serves "
               f"and the other {others} the rest (about {share(each / workers)} of their "
               f"workers busy{'' if queue is None else f', M/M/c/K refusing {_least(loss)}'}"
               f"); more workers would not help: {name} has room",
               (f"components.{name}.balancer=least_requests",))


def _downstream_fix(run: Run, name: str, held: float, healthy: float,
                    evidence: list[str], before: list[Finding]) -> Fix:
    """Slow calls hold the workers: name the slow callees; relieve them when they are at
    their own limit (with their findings' fixes, in `before`), else bound the wait on them."""
    evidence.append(f"a visit holds a worker {duration(held)}, not the {duration(healthy)} of "
                    "a healthy system: slow calls hold the workers")
    slow = slow_calls(run, name)
    evidence += [text for _, text in slow]
    edges = ", ".join(edge for edge, _ in slow) or "the calls it waits on"
    busy = busy_callees(run, slow)
    if busy:
        return relief(run, busy, f"its queue is what holds {name}'s workers; bounding the "
                      f"wait on {edges} (a timeout, a fallback) would turn the waits into "
                      "failures instead", before)
    return Fix(f"bound the wait on {edges} (a timeout, a bulkhead, a fallback) so a slow "
               "dependency cannot hold every worker; more replicas only buy time")


def busy_callees(run: Run, slow: list[tuple[str, str]]) -> list[str]:
    """The callees of the slow calls `slow` (`slow_calls`) that are at their own limit
    (`at_limit`): their queue is the wait, which a timeout would only turn into failures."""
    return sorted({edge.split("→")[1].split(".")[0] for edge, _ in slow} & at_limit(run))


def relief(run: Run, names: list[str], why: str, found: list[Finding] | None = None) -> Fix:
    """The fix for calls that wait on components at their own limit (`names`): relieve them,
    with what their own `saturated` findings set (made before the caller's finding, in
    `run.found`, or `found`), so the findings agree; `why` says why bounding the wait would
    not do. A component that waits in turn on one at its limit is relieved by relieving
    that one (`_roots`): the fix points at the end of the chain, one level, with its set."""
    roots = _roots(run, names)
    fixes = [f.fix for f in (run.found if found is None else found)
             if f.kind == "saturated" and f.subject in roots and f.fix is not None]
    said = "; ".join(fix.summary for fix in fixes) or "see its finding"
    via = "" if roots == sorted(names) else \
        f", which {', '.join(names)} {'waits' if len(names) == 1 else 'wait'} on"
    return Fix(f"relieve {', '.join(roots)} first ({said}){via}: {why}",
               tuple(override for fix in fixes for override in fix.set))


def kept_off(run: Run, names: list[str], why: str) -> Fix | None:
    """`relief` for components a fault slowed one replica of, when their saturated findings
    (made before) keep traffic off it with a `set` (`_spread_fix`): that fix answers the
    requests the slow replica failed or held too, so the other findings point at it rather
    than propose a fix of their own for the one cause. None unless all of `names` have one."""
    kept = {f.subject for f in run.found if f.kind == "saturated" and f.fix is not None
            and f.fix.set and _slowed_named(run, f)}
    return relief(run, names, why) if names and kept.issuperset(names) else None


def _slowed_named(run: Run, finding: Finding) -> bool:
    """Whether a finding is about its component's slowed replica (`slowed_replica`)."""
    slowed = slowed_replica(run, finding.subject)
    return slowed is not None and finding.numbers.get("replica") == slowed.replica


def _roots(run: Run, names: list[str]) -> list[str]:
    """The components at the end of the waits of `names`: one whose workers slow calls to
    callees at their limit hold (`held_by_calls`, `busy_callees`) is relieved by relieving
    those, so it is passed through. `names` themselves when the waits go round in a cycle."""
    todo = list(names)
    seen: set[str] = set()
    roots: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        busy = busy_callees(run, slow_calls(run, name)) if held_by_calls(run, name) else []
        todo += busy
        if not busy:
            roots.add(name)
    return sorted(roots or names)


def _held(measured: dict[str, Any], found: Pressure) -> float:
    """How long a visit holds a worker (Little's law over the visits served)."""
    served = found.arrival - found.refused - max(found.growth, 0.0)
    return measured["concurrency_mean"] / served if served > 0 else math.inf


def _calls_hold(run: Run, name: str, held: float, healthy: float) -> bool:
    """Slow calls hold the workers of `name`: it blocks a worker across its calls, and a
    visit holds one HELD_LONGER times what it does in a healthy system."""
    return healthy > 0 and held > HELD_LONGER * healthy and \
        run.system.components[name].io == "blocking" and _waits_on_calls(run, name)


def held_by_calls(run: Run, name: str) -> bool:
    """`_calls_hold` from the run's measures: what the saturated finding calls `downstream`
    (the SLO finding defers to it)."""
    measured = run.result["components"][name]
    return _calls_hold(run, name, _held(measured, _pressure(run, measured)),
                       run.loads[name].hold_s)


def _waits_on_calls(run: Run, name: str) -> bool:
    """Whether an operation of `name` waits on a call (or a cache's miss)."""
    return any(ref.split(".", 1)[0] == name for ref in sync_edges(run.system))


def _replicas_fix(run: Run, name: str, found: Pressure, hold: float, load: ComponentLoad,
                  evidence: list[str]) -> Fix | None:
    """More replicas (and a longer queue if a bounded one would still refuse), sized for the
    load the fixed component will get."""
    component = run.system.components[name]
    workers = component.worker_limit
    assert workers is not None
    base, why, bound = _fixed_load(run, name, found.arrival, load, evidence)
    needed = whole(base * hold / (workers * TARGET_UTILIZATION))
    if needed is None:  # an infinite mean hold: no count to give, the finding stands
        return Fix(unbounded_text(run.system, name))
    replicas = max(component.replicas, needed)
    changes = []
    if replicas > component.replicas:
        capacity = component.replicas * workers
        evidence.append(f"a visit holds a worker {duration(hold)}: {capacity} workers serve at "
                        f"most {rate(capacity / hold)}")
        changes.append((f"{name}.replicas from {component.replicas} to {replicas}",
                        f"components.{name}.replicas={replicas}"))
    queue = component.queue
    offered = base * hold / replicas  # erlangs per replica
    longer = _queue_needed(offered, workers, queue) if found.refusing else None
    if queue is not None and longer is not None:
        changes.append((f"{name}.queue from {queue} to {longer}",
                        f"components.{name}.queue={longer}"))
        loss = refused_share(offered, workers, workers + queue)
        evidence.append(f"at {share(offered / workers)} busy a queue of {queue} per replica "
                        f"would still refuse {share(loss)} of the visits (M/M/c/K, random "
                        "balancing)")
    if not changes:  # a budget only for a component that retries saturate as a whole
        return _retry_budget(run, name, found.arrival, base, offered / workers) \
            if found.busy >= HOT and _without_retries(run, name, found.arrival)[1] else None
    return Fix(f"raise {' and '.join(text for text, _ in changes)}, sized for the "
               f"{rate(base)} {why}: expect {'at most' if bound else 'about'} "
               f"{share(offered / workers)} of its workers busy",
               tuple(override for _, override in changes))


def _without_retries(run: Run, name: str, arrival: float) -> tuple[float, bool]:
    """The visits per second of the `arrival` at component `name` that are not retries or
    hedges, and whether those multiplied the load AMPLIFIED-fold or more."""
    base = max(arrival - _retried_to(run, name), 0.0)
    return base, base > 0 and arrival >= AMPLIFIED * base


def retry_budget_percent(run: Run, name: str) -> int | None:
    """The retry budget, in whole percent of the calls, for retries that overload component
    `name`: the largest that keeps it TARGET_UTILIZATION busy at most (its analytic
    utilization without retries ρ × (1 + ratio)), so it drains what a burst of failures
    left, and at most the spec's default ratio. None when that is under 1 %: the component
    is that busy without retries, which a budget cannot help."""
    load = run.loads.get(name)
    most = whole_percent(RetryBudget().ratio)
    if load is None or load.rho <= 0.0:
        return most
    ratio = min(most, math.floor(100.0 * (TARGET_UTILIZATION / load.rho - 1.0)))
    return ratio if ratio >= 1 else None


def _retry_budget(run: Run, name: str, arrival: float, base: float, busy: float
                  ) -> Fix | None:
    """Retries multiplied the load of `name` into saturation, though its workers serve the
    `base` visits a second that come without them at `busy` utilization: a retry budget on
    the calls to it that retried caps their retries at a share of their calls, whatever
    fails (backoff only spreads them out). The share is `retry_budget_percent`'s, with no
    `min_per_s`, which would pass retries at any call rate. None when that share is under
    1 % or no call's own (or default) retry policy can take it."""
    ratio = retry_budget_percent(run, name)
    if ratio is None:
        return None
    value = f"{{ratio: {ratio}%, min_per_s: 0}}"
    edges, overrides = [], []
    for call in run.result["calls"]:
        found = run.call_at(call["from"], call["to"])
        if call["to"].split(".", 1)[0] != name or not call["retries"] or found is None \
                or found[1].retry is None:
            continue
        budget = found[1].retry.budget
        if budget is not None and budget.ratio <= ratio / 100 and not budget.min_per_s:
            continue  # a budget this tight already
        where = dotted(found[0]) if _spec_node(run, found[0]).get("retry") is not None \
            else "defaults.calls"
        edges.append(f"{call['from']}→{call['to']}")
        if f"{where}.retry.budget={value}" not in overrides:
            overrides.append(f"{where}.retry.budget={value}")
    if not overrides:
        return None
    return Fix(f"cap the retries of {', '.join(edges)} with a retry budget of {ratio} % "
               f"(min_per_s 0): {rate(base)} of the {rate(arrival)} arrive without retries, "
               f"which keep its workers about {share(busy)} busy, and the budget lets at most "
               f"{ratio} % more through whatever fails; a backoff would only spread the "
               "retries out", tuple(overrides))


def _fixed_load(run: Run, name: str, arrival: float, load: ComponentLoad,
                evidence: list[str]) -> tuple[float, str, bool]:
    """The visits per second a component that keeps up will get, how it was found, and
    whether it is an upper bound: what arrived, less the retries and hedges the overload
    provoked; in a closed loop, the most its users reach once answers come sooner."""
    base, amplified = _without_retries(run, name, arrival)
    why = "arriving"
    if amplified:
        evidence.append(f"retries multiply the load ×{arrival / base:.3g}: "
                        f"{rate(arrival - base)} of "
                        f"the {rate(arrival)} are retries (and hedges) of attempts that failed "
                        f"or were slow, which a component that keeps up does not provoke; "
                        f"{rate(base)} arrive without them")
        why = "that arrive without retries"
    if any(w.users is not None for w in run.system.workloads) \
            and load.arrival_rate_rps > base:
        return load.arrival_rate_rps, ("its closed-loop users can reach once answers come "
                                       "sooner"), True
    offered = offered_rate(run, name, run.system.simulation.warmup, run.end_s)
    if offered <= AMPLIFIED * base:
        return base, why, False
    callers = sorted(callers_of(run, name) & at_limit(run))
    if callers:
        evidence.append(f"its callers ({', '.join(callers)}) are at their limit, so only "
                        f"{rate(base)} reached it: the workloads offer {rate(offered)} "
                        "through the call graph (the analytic offered load), which it gets "
                        "once they keep up")
        return offered, "the workloads offer", False
    coalesced = _coalescing(run, name)
    if coalesced:
        evidence.append(f"{'; '.join(coalesced)}: while its loads are slow, the misses that "
                        f"wait on them never reach it, so only {rate(base)} did; the "
                        f"workloads offer {rate(offered)} through the call graph (the "
                        "analytic offered load), which it gets once its loads are quick")
        return offered, "the workloads offer", False
    return base, why, False


def _coalescing(run: Run, name: str) -> list[str]:
    """The caches in front of `name` that coalesce misses (`stampede: coalesce`) on loads
    that took HELD_LONGER × the healthy round trip to its operation or more: each miss of a
    key already loading waits for that load instead of reaching `name`, so a slow `name`
    gets fewer visits than it will once relieved. Evidence, one per cache."""
    out = []
    for cache, measured in run.result.get("caches", {}).items():
        component = run.system.components[cache]
        caching, backend = component.caching, component.backend
        load_ms = (measured.get("load_ms") or {}).get("mean")
        if caching is None or backend is None or caching.stampede != "coalesce" \
                or not measured.get("coalesced") or load_ms is None:
            continue
        target = ".".join(run.system.resolve(backend))
        healthy = round_trip_s(run.system, target)
        if target.split(".", 1)[0] == name and load_ms / 1e3 >= HELD_LONGER * healthy:
            out.append(f"{cache} coalesced {count(measured['coalesced'])} misses onto loads "
                       f"from {target} in flight, which took {duration(load_ms / 1e3)} on "
                       f"average, {duration(healthy)} when healthy")
    return out


def offered_rate(run: Run, name: str, start: float, end: float) -> float:
    """Visits per second the workloads bring component `name` from `start` to `end`, through
    the call graph (the analytic offered load: no retries, no throttling by busy callers)."""
    rates = operation_rates(run.system, over=(start, end))
    return sum(rates[f"{name}.{op}"]
               for op in run.system.components[name].effective_operations)


def callers_of(run: Run, name: str) -> set[str]:
    """The other components whose visits lead to `name`, directly or through others: those
    whose busy workers can hold back its arrivals."""
    names, matrix = call_matrix(run.system)
    mine = np.array([ref.split(".", 1)[0] == name for ref in names])
    upstream = reachable(matrix.T, mine)
    return {ref.split(".", 1)[0] for ref, hit in zip(names, upstream, strict=True)
            if hit} - {name}


def cache_texts(run: Run, name: str) -> list[str]:
    """The caches in front of `name` whose measured hit ratio is low: their misses are what
    loads it, so a longer TTL can relieve it more cheaply than replicas."""
    out = []
    for cache, measured in run.result.get("caches", {}).items():
        component = run.system.components[cache]
        hit = measured.get("hit_ratio")
        if component.backend is None or hit is None or hit >= LOW_HIT_RATIO \
                or run.system.resolve(component.backend)[0] != name:
            continue
        caching = component.caching
        ttl = f" (TTL {duration(caching.ttl)})" if caching is not None and \
            caching.ttl is not None else ""
        out.append(f"{name} is the backend of {cache}, whose hit ratio is {share(hit)}"
                   f"{ttl}: most reads miss and load {name}; a longer "
                   f"{cache}.caching.ttl would take that load off it")
    return out


def _queue_needed(offered: float, workers: int, queue: int | None) -> int | None:
    """The shortest queue per replica that refuses less than the share a finding is made
    from, for a replica offered `offered` erlangs (an M/M/c/K chain: exponential work, Poisson
    arrivals, as random balancing sends them); None when `queue` already does (or none can)."""
    if queue is None or offered >= workers:
        return None
    if refused_share(offered, workers, workers + queue) < NOTABLE / 10:
        return None
    longer = queue
    while longer < bounds.MAX_QUEUE:
        longer = min(bounds.MAX_QUEUE, max(longer + 1, math.ceil(longer * 1.1)))
        if refused_share(offered, workers, workers + longer) < NOTABLE / 10:
            return longer
    return None


def refused_share(offered: float, workers: int, room: int) -> float:
    """The M/M/c/K loss: the share of arrivals that find all `room` places (workers and
    queue) taken, for `offered` erlangs on `workers` servers."""
    return served(offered, float(workers), room).loss


def _retried_to(run: Run, name: str) -> float:
    """Retries and hedges sent to component `name` per second."""
    return float(sum(call["retries"] + call["hedges"] for call in run.result["calls"]
                     if call["to"].split(".", 1)[0] == name)) / run.span_s


def _cpu_binds(component: Component, measured: dict[str, Any]) -> bool:
    """A component with `cores` whose CPU is (nearly) all busy: the CPU binds."""
    return component.core_limit is not None and (measured.get("cpu") or 0.0) >= HOT


def _scaled_fix(run: Run, name: str, workers: int, hold: float, fleet: dict[str, Any],
                peak: float, refused: float, evidence: list[str]) -> Fix | None:
    """An autoscaled component that refused or queued: its spec `replicas` is only where the
    autoscaler starts, so the fix is the autoscaler's bounds, sized for the spec's peak load.
    At its `max`, with the refusals there, the bound binds; refusals while it scaled up (or a
    fleet that never reached max) are a fleet too small when the load came, which grew only
    as fast as the syncs and start-ups allow. `peak`: the spec's peak arrivals; `refused`:
    the share of the visits refused."""
    autoscale = run.system.components[name].autoscale
    assert autoscale is not None
    needed = whole(peak * hold / (workers * TARGET_UTILIZATION))
    if needed is None:  # an infinite mean hold: no count to give, the finding stands
        return Fix(unbounded_text(run.system, name))
    out_of_reach = autoscale.cpu_out_of_reach
    start = max(run.system.components[name].replicas, autoscale.min)
    reachable = autoscale.highest_reachable_cpu
    lowered = min(80, reachable - 1)
    full = cpu_at_full(run, name)
    if out_of_reach is not None and fleet["max"] <= start and \
            (full is None or full > lowered / 100 * (1.0 + autoscale.tolerance)):
        index, target = out_of_reach
        evidence.append(f"the autoscaler never scaled up: at a CPU target of "
                        f"{whole_percent(target)}%, a saturated replica's 100% is within its "
                        f"{whole_percent(autoscale.tolerance)}% tolerance (lint SS703)")
        return Fix(f"lower {name}'s CPU target from {whole_percent(target)}% to {lowered}%, "
                   f"below the {reachable}% from which a saturated fleet scales up",
                   (f"components.{name}.autoscale.metrics.{index}.cpu={lowered}%",))
    blind = cpu_blind_fix(run, name, workers, hold, peak, evidence) \
        if fleet["max"] < autoscale.max else None
    if blind is not None:
        return blind
    if fleet["max"] < autoscale.max:
        evidence.append(f"the autoscaler never reached its max of {autoscale.max}: the fleet "
                        "was too small when the load came, and grew only sync by sync")
        return _cold_start_fix(run, name, needed, workers, hold, peak)
    evidence.append(f"the autoscaler reached its max of {autoscale.max} replicas")
    if _while_scaling(run, name, peak * hold / autoscale.max, workers, refused, evidence):
        return _cold_start_fix(run, name, needed, workers, hold, peak)
    if needed <= autoscale.max:
        return None
    return Fix(f"raise {name}.autoscale.max from {autoscale.max} to {needed}, sized for "
               f"the peak {rate(peak)}: expect about {share(peak * hold / (needed * workers))} "
               "of its workers busy at the peak", (f"components.{name}.autoscale.max={needed}",))


def _while_scaling(run: Run, name: str, offered: float, workers: int, refused: float,
                   evidence: list[str]) -> bool:
    """Whether an autoscaled component that reached its max refused while it scaled up too,
    not only at max: from the run's time series when it has one (the refusals while fewer
    than max replicas were ready, `refused` × their share of the refusals, are 0.1 % of the
    visits or more, as many as make a saturated finding: a higher max alone leaves them,
    the fleet climbing further sync by sync), else from its max fleet at the peak load,
    `offered` erlangs a replica, which would refuse (M/M/c/K) or fall behind."""
    component = run.system.components[name]
    autoscale = component.autoscale
    assert autoscale is not None
    split = _refusals_below(run, name, autoscale.max)
    if split is not None:
        below, total, until = split
        lagged = refused * below / total >= NOTABLE / 10
        when = "while it scaled up, not at its max" if 2 * below >= total else \
            ("while it scaled up as well as at its max, and a higher max alone would leave those "
             "refusals, the fleet having further to climb, sync by sync")
        evidence.append(f"{share(below / total)} of its refusals ({share(refused * below / total)}"
                        f" of its visits) came while fewer than {autoscale.max} replicas were "
                        f"ready (until {until:g} s, the first replication's time series)"
                        + (f": {when}" if lagged else ""))
        return lagged
    queue = component.queue
    loss = (0.0 if offered < workers else 1.0) if queue is None \
        else refused_share(offered, workers, workers + queue)
    if loss >= NOTABLE / 10:
        return False
    evidence.append(f"at its max of {autoscale.max} replicas the peak load keeps "
                    f"{share(offered / workers)} of the workers busy and "
                    + ("the queue would not grow" if queue is None else
                       f"would be refused {share(loss)} of the time (M/M/c/K)")
                    + ": the refusals came while it scaled up, not at its max")
    return True


def reads_series(system: System) -> bool:
    """Whether the diagnosis reads the run's time series (`_refusals_below`): an autoscaled
    component's refusals are split by the replicas ready when they came, which the result's
    totals cannot tell; `simulate` keeps the series for it even when it writes none."""
    return any(component.autoscale is not None for component in system.components.values())


def _refusals_below(run: Run, name: str, most: int) -> tuple[float, float, float] | None:
    """From the time series (first replication): the refusals of `name` in intervals that
    began or ended with fewer than `most` replicas ready, all of its refusals, and the end
    of the last such interval; None without a time series or refusals in it."""
    tables = run.result.get("timeseries") or {}
    if "replicas" not in tables or "components" not in tables:
        return None
    ready: dict[float, int] = {}
    for t_s, component, _, _, up, *_ in tables["replicas"]["rows"]:
        if component == name:
            ready[t_s] = ready.get(t_s, 0) + up
    below = total = until = 0.0
    before = run.system.components[name].replicas  # ready when the first interval began
    for t_s, component, *_, refused in tables["components"]["rows"]:
        if component != name or t_s not in ready:
            continue
        total += refused or 0.0
        if refused and min(before, ready[t_s]) < most:
            below, until = below + refused, t_s
        before = ready[t_s]
    return (below, total, until) if total > 0 else None


def _cold_start_fix(run: Run, name: str, needed: int, workers: int, hold: float,
                    peak: float) -> Fix | None:
    """A fleet too small when the load came: when the load is there from the run's start,
    start with the replicas it needs (the replicas the autoscaler adds serve only once
    started); else keep them as the autoscaler's min. Max follows when it is below."""
    component = run.system.components[name]
    autoscale = component.autoscale
    assert autoscale is not None
    first = offered_rate(run, name, 0.0, run.system.simulation.interval)  # the first interval
    start = whole(first * hold / (workers * TARGET_UTILIZATION)) or 0
    if start > component.replicas:
        count, load = start, first
        changes = [(f"{name}.replicas (where the autoscaler starts) from {component.replicas} "
                    f"to {start}", f"components.{name}.replicas={start}")]
        what = f"the {rate(first)} of the run's start"
        why = ("from the start: the load is there from the run's start, and a replica the "
               "autoscaler adds serves only once it has started")
    else:
        load, what = _met_load(run, name, peak)
        count = whole(load * hold / (workers * TARGET_UTILIZATION)) or needed
        if count <= autoscale.min:
            return None
        changes = [(f"{name}.autoscale.min from {autoscale.min} to {count}",
                    f"components.{name}.autoscale.min={count}")]
        why = ("when that load comes, before the autoscaler acts (or let it scale up sooner: "
               "autoscale.scale_up); more spec replicas would be scaled back down to min")
    if count > autoscale.max:
        changes.append((f"{name}.autoscale.max from {autoscale.max} to {count}",
                        f"components.{name}.autoscale.max={count}"))
    return Fix(f"raise {' and '.join(text for text, _ in changes)}, sized for {what}: "
               f"expect about {share(load * hold / (count * workers))} of its workers busy "
               f"{why}", tuple(override for _, override in changes))


def _met_load(run: Run, name: str, peak: float) -> tuple[float, str]:
    """The load a fleet too small when it came must be ready for, and how it was found: the
    most the workloads offered while it fell short (`short_load`, from the time series), so
    a fleet that followed a slow ramp to a higher peak is not sized for that peak; the
    spec's `peak` without a time series."""
    short = short_load(run, name)
    if short is None:
        return peak, f"the peak {rate(peak)}"
    start = max(run.system.simulation.warmup, short.first_s - run.system.simulation.interval)
    followed = "" if short.rate >= peak else \
        f"; the autoscaler followed the rest of the load, up to the peak {rate(peak)}"
    return short.rate, (f"the {rate(short.rate)} offered while it fell short (from {start:g} s "
                        f"to {short.last_s:g} s, the first replication's time series"
                        f"{followed})")


def at_limit(run: Run) -> set[str]:
    """Components whose workers, or their busiest replica's, are all but all busy: relieved,
    not waited on for less (`busy_callees`, and the SLO and failures findings)."""
    return {name for name, measured in run.result["components"].items()
            if (measured["utilization"] or 0.0) >= HOT or uneven(measured, HOT) is not None}


def _one_replica(run: Run, name: str, measured: dict[str, Any], busy: float,
                 load: ComponentLoad) -> Iterator[Finding]:
    """A component with room on average whose busiest replica is at its limit: the load does
    not spread (only the leader serves, a hashed key is hot), so replicas add nothing."""
    found = uneven(measured, HOT)
    if found is None:
        return
    index, hot = found
    component = run.system.components[name]
    workers = component.worker_limit
    assert workers is not None
    slowed = slowed_replica(run, name)
    slow = slowed is not None and slowed.replica == index
    evidence = [f"replica {index} has {share(hot)} of its {counted(workers, 'worker')} busy"
                f"{' (slowed by a fault)' if slow else ''}, the {component.replicas} replicas "
                f"together {share(busy)}"]
    fix = None
    numbers: dict[str, float | None] = {"utilization": busy, "replica_utilization": hot,
                                        "replica": index}
    if slowed is not None and slow:
        evidence.append(_slowed_text(run, name, slowed))
        base = _without_retries(run, name, measured["throughput_rps"])[0]
        fix = _spread_fix(run, name, base * load.hold_s, len(
            {f.replica for f in run.faults_on(name) if f.latency is not None}))
    elif leader_served(component):
        evidence.append("only the leader serves its operations, so more replicas add no "
                        "capacity: the leader's workers are the limit")
        # At its limit the leader's utilization stops at 100 %: size it from the demand
        # (the spec's offered load on the leader, λ·hold, when that is more).
        demand = max(hot * workers, load.leader_busy)
        needed = whole(demand / TARGET_UTILIZATION)
        if needed is None:
            fix = Fix(unbounded_text(run.system, name))
        elif needed > workers:
            fix = Fix(f"raise {name}.workers (the leader's) from {workers} to {needed}: expect "
                      f"the leader about {share(demand / needed)} busy; or serve reads from "
                      "the followers", (f"components.{name}.workers={needed}",))
    elif component.balancer == "hash":
        keys = hot_keys(run, name)
        evidence += [text for text, _ in keys]
        numbers["hot_key_share"] = max((top for _, top in keys), default=None)
        if keys:
            evidence.append("the balancer hashes each request's key, and the keys are skewed: "
                            "a hot key's replica works while the others wait")
            fix = Fix(f"if requests need not stick to their key's replica, {name}.balancer "
                      "from hash to least_requests, which sends each to the replica with the "
                      "fewest in flight; else spread the hot keys: more keys (partitions), or "
                      "cache the hottest", (f"components.{name}.balancer=least_requests",))
        else:
            evidence += ring_shares(run, name, index)
            fix = Fix(f"if requests need not stick to a replica, {name}.balancer from hash "
                      "to least_requests; else more replicas, which cut the ring into more "
                      "arcs (`scalesim estimate` gives the busiest replica's share for each "
                      "count)", (f"components.{name}.balancer=least_requests",))
        fix = _whole_too(run, name, measured, load, fix, evidence)
    run.explained.add(name)
    yield Finding("saturated", "problem" if hot >= SATURATED else "warning", name,
                  f"{name} {'is saturated' if hot >= SATURATED else 'runs hot'} on one "
                  f"replica: replica {index} {share(hot)} busy, the component "
                  f"{share(busy)}", "workers", tuple(evidence), fix, numbers)


def _whole_too(run: Run, name: str, measured: dict[str, Any], load: ComponentLoad,
               fix: Fix, evidence: list[str]) -> Fix:
    """`fix` (spreading the load over the replicas), with the replicas a saturated
    component's fix gives (`_replicas_fix`) when the component as a whole is offered
    TARGET_UTILIZATION of its workers or more: spread evenly, the load would still
    saturate every replica."""
    found = _pressure(run, measured)
    told: list[str] = []
    more = _replicas_fix(run, name, found, load.hold_s if load.hold_s > 0 else
                         _held(measured, found), load, told)
    if more is None or f"components.{name}.replicas" not in \
            {override.split("=", 1)[0] for override in more.set}:
        return fix
    evidence += told
    return Fix(f"{fix.summary}; either way {name} as a whole has too few workers: "
               f"{more.summary}", (*fix.set, *more.set))


def hot_keys(run: Run, name: str) -> list[tuple[str, float]]:
    """The hottest keys of each workload with `keys` that reaches `name`, from the Zipf law
    the keys are drawn with (key k, from 0, has weight 1/(k+1)^skew): a key is hot when it
    alone carries half a replica's fair share or more (at least the hottest is named, at
    most three). (text, the hottest key's share) per workload."""
    system = run.system
    replicas = system.components[name].replicas
    found = []
    for workload in system.workloads:
        keys = workload.key_space
        if keys is None or not reaches(run, ".".join(system.resolve(workload.to)), name):
            continue
        shares = key_shares(keys.count, keys.skew)
        hot = [k for k in range(min(3, keys.count)) if k == 0 or shares[k] >= 0.5 / replicas]
        law = f"Zipf exponent {keys.skew:g}" if keys.skew else "uniform"
        found.append((f"{workload.name}'s keys ({count(keys.count)}, {law}): "
                      + ", ".join(f"key {k} carries {share(shares[k])}" for k in hot)
                      + f" of its requests, and each lands on one of the {replicas} replicas",
                      float(shares[0])))
    return found


def ring_shares(run: Run, name: str, replica: int) -> list[str]:
    """What the hash ring gives `replica` of the unique keys the workloads send (the
    analytic estimate's split, spec/hashring.py), beside an even split."""
    by_workload = hashing.uneven(run.system).get(name, {})
    brought = _visits_of(run, name)  # a workload that never reaches `name` weighs nothing
    split = hashing.component_split(by_workload, {
        w.name: (peak_rate(w) or 1.0) * brought[w.name] for w in run.system.workloads})
    if split is None:
        return []
    replicas = len(split.shares)
    return [f"each request's key is unique, and the hash ring ({VIRTUAL_NODES} points a "
            f"replica) gives replica {replica} {share(float(split.shares[replica]))} of them "
            f"where an even split is {share(1.0 / replicas)}: its arcs are uneven"]


def key_shares(keys: int, skew: float) -> npt.NDArray[np.float64]:
    """The share of requests of each key, hottest first, as the engine draws them."""
    weights = 1.0 / np.arange(1, keys + 1, dtype=float) ** skew
    return np.asarray(weights / weights.sum())


def _visits_of(run: Run, name: str) -> dict[str, float]:
    """Visits to component `name` per request of each workload, as the estimate counts them
    (calls and their repeats left out)."""
    system = run.system
    names, matrix = call_matrix(system)
    external = np.zeros((len(names), len(system.workloads)))
    for column, workload in enumerate(system.workloads):
        external[names.index(".".join(system.resolve(workload.to))), column] = 1.0
    per_op = visits(names, matrix, external)
    mine = [row for row, ref in enumerate(names) if ref.split(".", 1)[0] == name]
    return {w.name: float(per_op[mine, column].sum())
            for column, w in enumerate(system.workloads)}


def reaches(run: Run, entry: str, name: str) -> bool:
    """Whether requests entering at operation `entry` visit component `name`."""
    return any(ref.split(".", 1)[0] == name for ref in visited(run, entry))


def visited(run: Run, entry: str) -> set[str]:
    """The operations ('component.operation') requests entering at `entry` can visit."""
    names, matrix = call_matrix(run.system)
    seen = reachable(matrix, np.array([ref == entry for ref in names]))
    return {ref for ref, hit in zip(names, seen, strict=True) if hit}


def cpu_bound(run: Run) -> Iterator[Finding]:
    """Components with `cores` whose cores are (nearly) all busy: CPU, not workers, binds.
    Sized from the CPU demand offered (arrivals × CPU per visit), not the CPU served, which
    stops at the cores."""
    system, result = run.system, run.result
    for name, measured in result["components"].items():
        component = system.components[name]
        cores = component.core_limit
        busy = measured.get("cpu")
        if cores is None or busy is None or busy < HOT or name in run.explained:
            continue
        used = measured["cores_used"]
        found = _pressure(run, measured)
        per_visit = _cpu_per_visit(run, name, measured)
        demand = max(used, found.arrival * per_visit)
        evidence = [f"{component.replicas} × {cores:g} cores are {share(busy)} busy: "
                    f"{amount(demand)} cores of CPU demand offered ({rate(found.arrival)} × "
                    f"{duration(per_visit)} of CPU a visit), {used:.3g} served"]
        if found.growing:
            evidence.append(f"its queue grows {rate(found.growth)} ({count(found.end)} "
                            "waiting at the end): the visits share the busy cores, so each "
                            "holds its worker longer")
        replicas = whole(demand / (cores * TARGET_UTILIZATION))
        fix = None
        if replicas is None:
            fix = Fix(unbounded_text(system, name))
        elif replicas > component.replicas:
            fix = Fix(f"raise {name}.replicas from {component.replicas} to {replicas}, or its "
                      f"cores: expect about {share(demand / (replicas * cores))} of its CPU "
                      "busy", (f"components.{name}.replicas={replicas}",))
        yield Finding("saturated", "problem" if busy >= SATURATED or found.growing
                      else "warning", name,
                      f"{name} is CPU-bound: {share(busy)} of its cores busy", "cores",
                      tuple(evidence), fix,
                      {"cpu": busy, "cores_used": used, "cores_offered": demand})


def _cpu_per_visit(run: Run, name: str, measured: dict[str, Any]) -> float:
    """Mean CPU seconds of a visit to `name` (the spec's, with its operations weighted by
    the visits they had)."""
    return cpu_per_visit_s(run.system, name, {op: entry["requests"]["total"]
                                             for op, entry in measured["operations"].items()})


def slow_calls(run: Run, component: str) -> list[tuple[str, str]]:
    """The synchronous calls of `component` whose callee answered much slower than a healthy
    system would: (edge, evidence), slowest first, with the faults on the callee."""
    out = []
    for call in run.result["calls"]:
        if call["from"].split(".", 1)[0] != component or call["async"]:
            continue
        found = _slower(run, call["to"])
        if found is None:
            continue
        target = call["to"].split(".", 1)[0]
        faults = "; ".join(f"fault: {fault_text(f, run.end_s)}" for f in run.faults_on(target))
        edge = f"{call['from']}→{call['to']}"
        out.append((found[0] / found[1], edge,
                    _answered(call["to"], *found) + (f" ({faults})" if faults else "")))
    return [(edge, text) for _, edge, text in sorted(out, reverse=True)]


def _slower(run: Run, ref: str) -> tuple[float, float] | None:
    """(measured mean, healthy response) of 'comp.op' in seconds when it answered much
    slower than a healthy system would (its mean against the no-queueing response, network
    left out); None when it did not."""
    mean_ms = run.latency_ms(ref).get("mean")
    healthy_s = round_trip_s(run.system, ref) - 2.0 * run.system.defaults.network.mean_s
    if mean_ms is None or healthy_s <= 0 or mean_ms / 1e3 <= HELD_LONGER * healthy_s:
        return None
    return mean_ms / 1e3, healthy_s


def _answered(ref: str, mean_s: float, healthy_s: float) -> str:
    return f"{ref} answered in {duration(mean_s)} on average, {duration(healthy_s)} when healthy"


def rate_limits(run: Run) -> Iterator[Finding]:
    for name, measured in run.result["components"].items():
        limited = measured["refused_by_cause"]["rate_limited"]
        arrival = measured["throughput_rps"]
        if not limited or not arrival:
            continue
        refused = limited / run.span_s
        if refused / arrival < NOTABLE:
            continue
        setting = run.system.components[name].rate_limit
        assert setting is not None
        shared = buckets(run.system.components[name])
        per = " per replica" if shared > 1 else ""
        if setting.per_workload:
            over = workloads_over(run, name)
            evidence = tuple(f"{w.name} sends {rate(w.arrival)} for its own limit of "
                             f"{setting.rate:g}/s{per} ({share(w.refused)} of its requests "
                             "rate-limited)" for w in over)
            fix = per_workload_fix(run, name, over[0]) if over else None
        else:
            evidence = (f"{rate(arrival)} arrive for a limit of {setting.rate:g}/s{per}",)
            fix = _let_in(run, name, arrival / shared, "that traffic", "")
        yield Finding("limit", "warning", name,
                      f"{name}'s rate limit refuses {share(refused / arrival)} of its visits "
                      f"({count(limited)})", "rate_limit", evidence, fix,
                      {"refused_rps": refused, "arrival_rps": arrival, "limit_rps": setting.rate})


@dataclass(frozen=True)
class Client:
    """A workload at a per-workload rate limit: what it sends there, and the share of its
    requests rate-limited."""

    name: str
    arrival: float
    refused: float


def workloads_over(run: Run, name: str) -> list[Client]:
    """The workloads that component `name`'s per-workload rate limit refuses (1 % of their
    requests or more), least refused first: each sends its spec's peak rate times the visits
    a request of it makes to `name` (the measured rate is a sample of that, below it half
    the time)."""
    brought = _visits_of(run, name)
    found = []
    for workload in run.system.workloads:
        requests = run.result["workloads"][workload.name]["requests"]
        limited = requests["failed_by_cause"].get("rate_limited", 0)
        arrival = peak_rate(workload) * brought[workload.name]
        if requests["total"] and arrival and limited / requests["total"] >= NOTABLE:
            found.append(Client(workload.name, arrival, limited / requests["total"]))
    return sorted(found, key=lambda client: client.refused)


def per_workload_fix(run: Run, name: str, client: Client) -> Fix:
    """The per-workload limit that admits `client`: every workload gets that limit."""
    return _let_in(run, name, client.arrival / buckets(run.system.components[name]),
                   f"{client.name}'s traffic", ": the limit is per workload, so every "
                   "workload may then send that much")


def _let_in(run: Run, name: str, arrival: float, traffic: str, why: str) -> Fix:
    """The smallest change to `name`'s rate limit that lets `arrival`/s (a bucket's) in.
    A token bucket met by random (Poisson) streams refuses some even under its rate (the finite dam,
    `dam.bucket_refused`): raising the rate to the arrivals left it refusing, and under
    the rate the fix used to "raise" it to a lower value. So the rate goes up to the
    arrivals when they are over it, and the burst up until a Poisson stream's refusals are
    under BURST_TARGET (tokens add no sustained load); when that takes more than
    MAX_BURST_S of the rate in tokens, the rate rises instead, the burst kept. A sliding
    window, or a bucket that a smoother stream meets too, gets the arrivals' rate, or the
    next whole one."""
    limit = run.system.components[name].rate_limit
    assert limit is not None
    wanted = math.ceil(arrival)
    if limit.algorithm != "token_bucket" or \
            not all(poisson_stream(w) for w in run.system.workloads):
        return _raised(run, name, max(wanted, math.floor(limit.rate) + 1), traffic, why)
    burst = bucket_size(limit)
    kept = float(wanted) if arrival > limit.rate else limit.rate  # the rate to set or keep
    rho = arrival / kept
    if kept > limit.rate and bucket_refused(rho, burst) <= BURST_TARGET:
        return _raised(run, name, wanted, traffic, why)  # the rate alone is enough
    most = max(burst + 1.0, math.ceil(kept * MAX_BURST_S))
    if bucket_refused(rho, most) > BURST_TARGET:
        faster = _smallest(math.floor(kept) + 1, math.ceil(arrival / BURST_TARGET),
                           lambda r: bucket_refused(arrival / r, burst) <= BURST_TARGET)
        return _raised(run, name, faster, traffic, why)
    needed = _smallest(math.floor(burst) + 1, int(most),
                       lambda b: bucket_refused(rho, b) <= BURST_TARGET)
    per = " per replica" if buckets(run.system.components[name]) > 1 else ""
    tokens = (f"{name}.rate_limit.burst from {burst:g} to {needed}{per} (a random stream "
              f"at {rate(arrival)} comes in bursts, which {needed} tokens let through: about "
              f"{share(bucket_refused(rho, needed))} refused, by the finite-dam estimate)")
    setting = f"components.{name}.rate_limit.burst={needed}"
    if kept == limit.rate:
        return Fix(f"if {traffic} is wanted, raise {tokens}{why}", (setting,))
    raised = _raised(run, name, wanted, traffic, why)
    return Fix(f"{raised.summary}, and {tokens}", (*raised.set, setting))


def _smallest(low: int, high: int, enough: Callable[[int], bool]) -> int:
    """The smallest n in [low, high] that is `enough`, which holds at `high` and for every
    n past one that does."""
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle + 1, high)
    return high


def _raised(run: Run, name: str, wanted: int, traffic: str, why: str) -> Fix:
    """`name`'s rate limit raised to `wanted`/s (a bucket's), with the replicas that the
    components it then lets more load through to need for it (`_let_through`): a raise
    alone would move the refusals from the limit to their full queues."""
    component = run.system.components[name]
    assert component.rate_limit is not None
    per = " per replica" if buckets(component) > 1 else ""
    more = _let_through(run, name, wanted)
    return Fix(f"if {traffic} is wanted, raise {name}.rate_limit.rate from "
               f"{component.rate_limit.rate:g}/s to {wanted}/s{per}"
               + "".join(f", and {text}" for text, _ in more) + why,
               (f"components.{name}.rate_limit.rate={wanted}/s",
                *(override for _, override in more)))


def _let_through(run: Run, name: str, wanted: int) -> list[tuple[str, str]]:
    """The replicas each component needs once `name`'s rate limit is `wanted`/s, sized as
    a saturated one's for TARGET_UTILIZATION (workers or cores, `ComponentLoad.rho`) from
    the analytic load with the limits' admitted shares (`let_in`), where the raise brings
    it more load and that needs more replicas: (text, override) each. An autoscaled or a
    leader-served component is left out (its fleet, or the leader's workers, bind)."""
    system = run.system
    fixed = changed(system, ("components", name, "rate_limit", "rate"), float(wanted))
    now = offered_load(system, admitted=let_in(system))
    out = []
    for cname, load in offered_load(fixed, admitted=let_in(fixed)).items():
        component = system.components[cname]
        needed = whole(load.rho * component.replicas / TARGET_UTILIZATION)
        if needed is None or needed <= component.replicas or component.autoscale is not None \
                or leader_served(component) \
                or load.arrival_rate_rps <= now[cname].arrival_rate_rps:
            continue
        out.append((f"{cname}.replicas from {component.replicas} to {needed} for the "
                    f"{rate(load.arrival_rate_rps)} it then gets (expect about "
                    f"{share(load.rho * component.replicas / needed)} busy, "
                    f"{share(load.rho)} with {component.replicas})",
                    f"components.{cname}.replicas={needed}"))
    return out


def connection_pools(run: Run) -> Iterator[Finding]:
    """A caller's proxy refuses SLOTS_REFUSED or more of the calls to a component beyond its
    `connection_pool` limits (Envoy overflow), as a bulkhead's finding is made."""
    for name, measured in run.result["components"].items():
        pool = measured.get("connection_pool")
        incoming = [c for c in run.result["calls"] if c["to"].split(".", 1)[0] == name]
        attempts = sum(c["attempts"] for c in incoming)
        if pool and pool["overflow"] >= SLOTS_REFUSED * max(1, attempts):
            yield _connection_pool(run, name, incoming, pool["overflow"] / max(1, attempts))


def _connection_pool(run: Run, name: str, incoming: list[dict[str, Any]],
                     refused: float) -> Finding:
    """A connection pool that overflowed: its slots (connections, or HTTP/2 requests) and
    pending places per calling replica against the calls healthy traffic keeps in flight
    there (Little's law on healthy round trips), sized as a bulkhead is (`_slots_needed`)."""
    system = run.system
    setting = system.components[name].connection_pool
    assert setting is not None
    per_replica = max((_in_flight(c["attempts"] / run.span_s
                                  / system.components[c["from"].split(".", 1)[0]].replicas,
                                  round_trip_s(system, c["to"])) for c in incoming),
                      default=0.0)
    limit = setting.max_requests if setting.http2 else min(setting.max_connections,
                                                           setting.max_requests)
    waiting = 0 if setting.http2 else setting.max_pending_requests
    pool = Pool(per_replica, limit, waiting)
    overflow = run.result["components"][name]["connection_pool"]["overflow"]
    return Finding("limit", "problem", name,
                   f"callers' connection pools to {name} overflowed {count(overflow)}× "
                   f"({share(refused)} of the calls)", "connection_pool",
                   (f"each calling replica may have {limit} requests in flight to {name} and "
                    f"{waiting} pending; healthy traffic keeps about {amount(per_replica)} in "
                    f"flight, of which it would refuse {share(pool.loss)} (M/M/c/K)",),
                   _pool_fix(run, name, pool),
                   {"overflow": overflow, "limit": limit, "needed_in_flight": per_replica,
                    "predicted_refused_share": pool.loss})


def _pool_fix(run: Run, name: str, pool: Pool) -> Fix | None:
    """The connections (HTTP/2: requests) `pool.resized()` gives; None when the pool has
    as many."""
    if not math.isfinite(pool.offered):
        return Fix(unbounded_text(run.system, name))
    resized = pool.resized()
    setting = run.system.components[name].connection_pool
    assert setting is not None
    if resized is None or resized[0] <= pool.limit:
        return None
    needed, predicted = resized
    field = "max_requests" if setting.http2 else "max_connections"
    overrides = [f"components.{name}.connection_pool.{field}={needed}"]
    if not setting.http2 and setting.max_requests < needed:
        overrides.append(f"components.{name}.connection_pool.max_requests={needed}")
    return Fix(f"raise {name}.connection_pool.{field} from {pool.limit} to {needed}: "
               f"{predicted}", tuple(overrides))


def bulkheads(run: Run) -> Iterator[Finding]:
    """Bulkheads that refused: too small for healthy traffic and its bursts (M/M/c/K), or
    filled because answers were slow."""
    for call in run.result["calls"]:
        bulkhead = call.get("bulkhead")
        if not bulkhead or not bulkhead["rejected"]:
            continue
        refused = bulkhead["rejected"] / max(1, call["attempts"])
        if refused >= SLOTS_REFUSED:
            yield _bulkhead(run, call, refused)


@dataclass(frozen=True)
class Pool:
    """A bulkhead or a connection pool as healthy traffic meets it: `offered` erlangs on
    `limit` slots with `waiting` places more."""

    offered: float
    limit: int
    waiting: int

    @cached_property
    def loss(self) -> float:
        """The share M/M/c/K refuses; all for an infinite load."""
        return refused_share(self.offered, self.limit, self.limit + self.waiting) \
            if math.isfinite(self.offered) else 1.0

    def resized(self) -> tuple[int, str] | None:
        """The fewest slots, with the same waiting places, that M/M/c/K says refuse under
        SLOTS_REFUSED of the healthy traffic, and what it says they refuse; None when no
        count allowed does (or the load is infinite)."""
        needed = _slots_needed(self.offered, self.waiting) \
            if math.isfinite(self.offered) else None
        if needed is None:
            return None
        loss = refused_share(self.offered, needed, needed + self.waiting)
        return needed, (f"M/M/c/K puts the calls it refuses at {share(loss)}, under "
                        f"{share(SLOTS_REFUSED)}")


def _bulkhead(run: Run, call: dict[str, Any], refused: float) -> Finding:
    edge = f"{call['from']}→{call['to']}"
    target = call["to"].split(".", 1)[0]
    path = run.call_path(call["from"], call["to"])
    spec_call = _spec_call(run, path)
    healthy = _healthy_calls(run, call["from"], call["to"], spec_call,
                             call["attempts"] / run.span_s)
    pool = Pool(healthy.in_flight, int(call["bulkhead"]["limit"]), _waiting(spec_call))
    rejected = call["bulkhead"]["rejected"]
    summary = f"the bulkhead of {edge} refused {share(refused)} of its calls ({count(rejected)})"
    numbers: dict[str, float | None] = {"rejected": rejected, "limit": pool.limit,
                                        "needed_in_flight": pool.offered,
                                        "predicted_refused_share": pool.loss}
    fits = (f"limit {pool.limit} at once, {pool.waiting} waiting; healthy traffic "
            f"({healthy.text}) keeps about {amount(pool.offered)} in flight, which it would "
            f"refuse {share(pool.loss)} of (M/M/c/K)")
    slow = _slow_answers(run, call["to"])
    faults = [f"fault: {fault_text(f, run.end_s)}" for f in run.faults_on(target)]
    if pool.loss < SLOTS_REFUSED:
        if slow or faults:
            # Healthy traffic fits: the bulkhead filled because answers were slow (a fault,
            # a saturated callee) and refused as designed, keeping the caller's workers free.
            return Finding("limit", "warning", edge, f"{summary} while {target} answered "
                           "slowly", "bulkhead",
                           (f"{fits}, so it filled only while answers were slow", *slow,
                            *faults), None, numbers)
        return Finding("limit", "warning", edge, summary, "bulkhead",
                       (fits, f"{call['to']} answered as fast as when healthy, with no fault: "
                        "bursts of calls beyond what M/M/c/K predicts filled it"), None,
                       numbers)
    return Finding("limit", "problem", edge, summary, "bulkhead", (fits, *slow, *faults),
                   _bulkhead_fix(run, edge, target, path, pool, bool(slow or faults)),
                   numbers)


@dataclass(frozen=True)
class HealthyCalls:
    """A call's healthy traffic at a bulkhead: calls a second per owner (a calling replica,
    or the service with `scope: service`), the callee's healthy round trip, and how the
    rate was found."""

    per_owner: float
    trip_s: float
    owners: int
    source: str

    @property
    def in_flight(self) -> float:
        """Little's law: the calls in flight per owner."""
        return _in_flight(self.per_owner, self.trip_s)

    @property
    def text(self) -> str:
        return (f"{rate(self.per_owner)} {self.source} × the {duration(self.trip_s)} healthy "
                "round trip")


def _healthy_calls(run: Run, source: str, target: str, spec_call: dict[str, Any] | None,
                   measured_rps: float) -> HealthyCalls:
    """The healthy traffic of the call `source` → `target` at its bulkhead (`spec_call`): the
    spec's peak call rate (the workloads through the call graph), per owner — not the
    attempts measured, which count the calls an open breaker refused and the retries of
    failed attempts, and swing with the seed — × the callee's healthy round trip; the
    `measured_rps` attempts when the spec has no such call."""
    system = run.system
    found = run.call_at(source, target)
    replicas = system.components[source.split(".", 1)[0]].replicas
    owners = 1 if spec_call is not None and spec_call.get("scope") == "service" else replicas
    owner = "for the service" if owners == 1 and replicas > 1 else "a calling replica"
    trip = round_trip_s(system, target)
    if found is None:
        return HealthyCalls(measured_rps / owners, trip, owners, f"{owner} measured")
    calls = operation_rates(system)[source] * found[1].probability
    return HealthyCalls(calls / owners, trip, owners, f"{owner} at the spec's peak")


def _threadpool(spec_call: dict[str, Any] | None) -> bool:
    """Whether the bulkhead in effect is a thread pool (which has waiting places)."""
    return spec_call is not None and spec_call.get("type") == "threadpool"


def _waiting(spec_call: dict[str, Any] | None) -> int:
    """The waiting places of the bulkhead in effect: a thread pool's queue, else none."""
    return int(spec_call.get("queue", 0)) if spec_call is not None and \
        spec_call.get("type") == "threadpool" else 0


def _bulkhead_fix(run: Run, edge: str, target: str, path: tuple[str | int, ...] | None,
                  pool: Pool, slowed: bool) -> Fix | None:
    """The bulkhead `pool.resized()` gives. `slowed`: the callee answered slowly or had a
    fault in the run, when the bulkhead refuses more than healthy traffic makes it, as it
    should: what the fix predicts is the healthy calls' share."""
    if not math.isfinite(pool.offered):
        return Fix(unbounded_text(run.system, target))
    resized = pool.resized()
    if path is None or resized is None:
        return None
    needed, predicted = resized
    field = "size" if _threadpool(_spec_call(run, path)) else "max_concurrent"
    while_slow = (f"; while {target} answers slowly it refuses more, as it should (the "
                  "calls then hold their slots longer), and a run's refused share counts "
                  "those too") if slowed else ""
    return Fix(f"raise the bulkhead of {edge} from {pool.limit} to {needed}: of the healthy "
               f"calls, {predicted}{while_slow}; or make the calls behind it faster",
               (f"{dotted(path)}.bulkhead.{field}={needed}",))


@dataclass(frozen=True)
class Guard:
    """A bulkhead that keeps a caller's workers from all waiting on one slow callee: the
    advice, its `--set` overrides, and the numbers behind it."""

    text: str
    set: tuple[str, ...]
    numbers: dict[str, float | None]


def guarding_bulkhead(run: Run, caller: str, callee: str) -> Guard | None:
    """A bulkhead on the call `caller` → `callee` that passes its healthy calls and keeps
    those waiting on a slow callee from holding every worker of the caller: sized as a
    bulkhead's own finding sizes one (`_slots_needed`), for the calls in flight that
    Little's law gives, the spec's peak call rate per owner (a calling replica, or the
    service) × the callee's healthy round trip, with M/M/c/K's headroom for their bursts.
    None when the call cannot be found or its caller has no worker limit."""
    found = run.call_at(caller, callee)
    name = caller.split(".", 1)[0]
    component = run.system.components[name]
    workers = component.worker_limit
    if found is None or workers is None:
        return None
    path, _ = found
    spec_call = _spec_call(run, path)
    field = "size" if _threadpool(spec_call) else "max_concurrent"
    waiting = _waiting(spec_call)
    healthy = _healthy_calls(run, caller, callee, spec_call, 0.0)
    calls, trip, offered = healthy.per_owner, healthy.trip_s, healthy.in_flight
    owners = healthy.owners
    slots = _slots_needed(offered, waiting) if math.isfinite(offered) else None
    # What the caller's other work keeps busy of a replica's workers, healthy.
    rest = max(0.0, run.loads[name].concurrency / component.replicas
               - offered * owners / component.replicas)
    numbers: dict[str, float | None] = {"bulkhead_in_flight": offered,
                                        "bulkhead_slots": slots}
    if slots is None or slots + rest / TARGET_UTILIZATION > workers:
        return Guard(f"no bulkhead on it passes its healthy calls ({amount(offered)} in "
                     f"flight) and leaves the rest of {name}'s work its {workers} workers: "
                     f"raise {name}.workers first", (), numbers)
    limit = None if spec_call is None else int(spec_call[field])
    if limit is not None and limit <= slots:
        return Guard(f"its bulkhead of {limit} keeps the calls waiting out the timeout from "
                     f"holding every worker of {name}", (), numbers)
    change = f"a bulkhead of {slots} on it" if limit is None \
        else f"its bulkhead lowered from {limit} to {slots}"
    loss = refused_share(offered, slots, slots + waiting)
    return Guard(f"{change}, so the calls waiting out the timeout hold at most {slots} of the "
                 f"{workers} workers of {name}: the healthy calls keep {amount(offered)} in "
                 f"flight ({rate(calls)} × the {duration(trip)} healthy round trip, Little's "
                 f"law), of which M/M/c/K refuses {share(loss)} with {slots} slots, under "
                 f"{share(SLOTS_REFUSED)}", (f"{dotted(path)}.bulkhead.{field}={slots}",),
                 numbers)


def _slots_needed(offered: float, waiting: int) -> int | None:
    """The fewest slots that refuse under SLOTS_REFUSED of `offered` erlangs with
    `waiting` places more (M/M/c/K); None when no count allowed does."""
    def fits(slots: int) -> bool:
        return refused_share(offered, slots, slots + waiting) < SLOTS_REFUSED

    low, high = 0, bounds.MAX_CONCURRENCY  # the loss falls as slots are added
    if not fits(high):
        return None
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if fits(middle) else (middle, high)
    return high


def _slow_answers(run: Run, ref: str) -> list[str]:
    """Evidence that 'comp.op' answered much slower than healthy (`_slower`); empty when it
    did not."""
    found = _slower(run, ref)
    return [] if found is None else [_answered(ref, *found)]


def _in_flight(rate_rps: float, seconds: float) -> float:
    """Little's law, λ·T: requests in flight; none when none arrive (even if T is infinite)."""
    return rate_rps * seconds if rate_rps > 0.0 else 0.0


def _spec_call(run: Run, path: tuple[str | int, ...] | None) -> dict[str, Any] | None:
    """The bulkhead settings in effect on the call at `path` (its own or the defaults')."""
    if path is None:
        return None
    bulkhead = _spec_node(run, path).get("bulkhead")
    if bulkhead is None and run.system.defaults.calls is not None \
            and run.system.defaults.calls.bulkhead is not None:
        bulkhead = run.system.defaults.calls.bulkhead.model_dump()
    return bulkhead if isinstance(bulkhead, dict) else None


def _spec_node(run: Run, path: tuple[str | int, ...]) -> dict[str, Any]:
    """The spec as written (its defaults not filled in) at `path`, as a mapping."""
    node: Any = run.system.model_dump(by_alias=True)
    for part in path:
        node = node[part]
    assert isinstance(node, dict)
    return node
