"""The load each worker-limited component admits, from the analytic layer's offered load
(ρ = λ·E[hold] / (replicas·workers), no retries, no queueing; an autoscaled component's
replicas are its `autoscale.max`).

Lint asks for the load of a healthy system (`delivered`): each message published is
delivered once to each subscription, where the analytic layer also counts the deliveries
that failed ones bring back and the dead letters.

Two loads are kept. The sustained one has every workload at the rate it holds to the end (a
profile's last point); the peak one has every workload at its highest rate. A component's
`rate_limit` caps what it admits: refused requests cost no worker time and make no calls, so
ρ counts only the admitted ones, there and downstream (`let_in`: the analytic layer's
shares, a per-workload limit capping each workload's share separately, a limit behind
another seeing only what the first lets in)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from scalesim.analytic.load import offered_load, operation_rates, peak_rate
from scalesim.analytic.overload import timed_waits
from scalesim.analytic.runtime import admitted_shares
from scalesim.spec.data import Consumer
from scalesim.spec.model import Component, Kind, System, Workload


@dataclass(frozen=True)
class Load:
    """Admitted requests per second, worker time per request, busy workers, ρ."""

    rate: float
    hold_s: float
    busy: float
    rho: float
    leader: bool = False  # ρ is the leader's: only it serves the busy operations
    drained: bool = False  # a subscription feeds it at its drain rate, the queue holding
    # the rest (`delivered`)


def sustained(workload: Workload) -> Workload:
    """The workload at the rate it keeps to the end of the run."""
    if workload.profile is None:
        return workload
    return workload.model_copy(update={"profile": None, "rate": workload.profile[-1].rate})


def _peak(workload: Workload) -> Workload:
    """The workload held at its highest rate."""
    if workload.profile is None:
        return workload
    return workload.model_copy(update={"profile": None, "rate": peak_rate(workload)})


def open_part(system: System) -> System | None:
    """The system with its open workloads alone; None when it has no closed loop. A closed
    loop's users wait for their answers, so it takes what it visits to its capacity at
    most: a component only this part overloads is overloaded."""
    if all(w.users is None for w in system.workloads):
        return None
    return _with(system, [w for w in system.workloads if w.users is None])


def _with(system: System, workloads: list[Workload]) -> System:
    return system.model_copy(update={"workloads": workloads})


def _at(system: System, peak: bool) -> System:
    """The system with its workloads held at their peak, or at the rates they hold to the
    end."""
    return _with(system, [_peak(w) if peak else sustained(w) for w in system.workloads])


def let_in(system: System) -> dict[str, float]:
    """The share of each operation's visits its component's `rate_limit` lets in, where
    below 1, for workloads held at their rates: in the long run (`admitted_shares` over an
    endless span), so a token bucket's `burst` adds nothing."""
    return admitted_shares(system, (0.0, math.inf), {})


def admitted_rates(system: System, shares: Mapping[str, float] | None = None
                   ) -> dict[str, float]:
    """Visits per second of every operation (`operation_rates`), the calls made by the
    visits rate limits let in only (`shares`: `let_in`'s, worked out when not given)."""
    return operation_rates(system, admitted=let_in(system) if shares is None else shares)


def passed(rates: Mapping[str, float], shares: Mapping[str, float]) -> dict[str, float]:
    """Requests per second each operation admits: its visits (`rates`) times the share of
    them its component's rate limit lets in (`shares`, `let_in`'s). What a rate-limited
    queue passes on to its subscriptions, what a rate-limited component's cores work on."""
    return {ref: rate * shares.get(ref, 1.0) for ref, rate in rates.items()}


def subscriptions(component: Component) -> tuple[list[str], list[Consumer]]:
    """A queue's (or event store's) publishing operations and its subscriptions."""
    if component.event_store is not None:
        return [component.event_store.append], component.event_store.projections
    return list(component.effective_operations), component.consumers


def _unsubscribed(component: Component) -> Component:
    """The component with no subscription: what they take is given as workloads instead."""
    if component.event_store is not None:
        return component.model_copy(update={"event_store": component.event_store.model_copy(
            update={"projections": []})})
    return component.model_copy(update={"consumers": []})


Feed = tuple[str, int]  # a subscription: its queue (or event store) and consumer's place


def delivered(system: System, peak: bool, drains: Mapping[Feed, float] | None = None
              ) -> tuple[System, frozenset[str]]:
    """`system` (workloads at the peak or sustained rates) with each subscription of a queue
    or event store replaced by an open workload at its consumer, at the rate the operations
    it subscribes to admit (`passed`: a queue's own `rate_limit` refuses the rest, which
    no subscription gets): one delivery per message, none failed and brought back,
    no dead letters (docs/lint.md: retries and failures are left out); and at most its
    `drains` (deliveries per second it can take): the queue holds what it cannot, so the
    consumer is never offered more. Also the consumers' components a drain caps. Rates
    settle in as many passes as subscriptions lead into one another; when they do not
    (queues in a loop), the system is left as it is and the analytic layer's rates stand."""
    system = _at(system, peak)
    owners = {name: subscriptions(c) for name, c in system.components.items()
              if c.kind is Kind.QUEUE or c.event_store is not None}
    if not any(consumers for _, consumers in owners.values()):
        return system, frozenset()
    bare = system.model_copy(update={"components": {
        name: _unsubscribed(c) if name in owners else c
        for name, c in system.components.items()}})
    feeds: list[Workload] = []
    for _ in range(len(owners) + 1):
        fed = _with(bare, [*system.workloads, *feeds])
        shares = let_in(fed)
        admits = passed(admitted_rates(fed, shares), shares)
        found, capped = [], set()
        for owner, (ops, consumers) in owners.items():
            inflow = sum(admits[f"{owner}.{op}"] for op in ops)
            for place, consumer in enumerate(consumers):
                drain = (drains or {}).get((owner, place), math.inf)
                if inflow >= drain:
                    capped.add(system.resolve(consumer.to)[0])
                if min(inflow, drain) > 0.0:
                    found.append(Workload.model_construct(
                        name=f"{owner}-{place}", to=consumer.to, rate=min(inflow, drain)))
        if [(w.name, w.rate) for w in found] == [(w.name, w.rate) for w in feeds] and \
                all(math.isfinite(w.rate or 0.0) for w in found):
            return fed, frozenset(capped)
        feeds = found
    return system, frozenset()


def admitted(system: System, peak: bool, drained: frozenset[str] = frozenset()
             ) -> dict[str, Load]:
    """Each worker-limited component's admitted load, at the peak or the sustained rates;
    `drained`: the components a subscription feeds at its drain rate (`delivered`)."""
    system = _at(system, peak)
    total = offered_load(system, timed_waits(system), let_in(system))
    loads = {}
    for name, component in system.components.items():
        workers = component.worker_limit
        load = total[name]
        if workers is None or load.arrival_rate_rps == 0.0:
            continue
        spread = load.concurrency / (component.most_replicas * workers)
        on_leader = load.leader_busy / workers
        loads[name] = Load(load.arrival_rate_rps, load.hold_s, load.concurrency,
                           max(spread, on_leader), on_leader > spread, name in drained)
    return loads
