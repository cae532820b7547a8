"""How much work a run is, before running it: requests, visits, events and time-series
intervals, from the offered load (workloads at their mean rate over the run).

Events per visit follow the kernel (sim/kernel.py): a network hop there and one back are an
event each, the work before the calls (CPU demand, `wait`, overhead) and `post_work` an
event each when they take time, a call's overhead one more, a replica with `cores` one more
per CPU burst (the processor's completion, `wait` after it), a timed-out call schedules its
timeout, and every request or message arrives as one event.

Retries and hedges multiply the attempts of a call when attempts fail or are slow: with
them, each call's expected attempts (`attempts.py`: error rates, timeouts against the
callee's latency in the analytic estimate, fault windows, retry attempts, capped by retry
budgets and breakers that open) flow down the call graph as more visits, and each attempt
adds its timeout timer, a retry its back-off, a hedge its timer, a fallback its answer.
The run is cut where faults start and end, and each stretch counted with its own attempts.
When the retries' load takes a component past its capacity, it serves only that much (the
work of 1/ρ of its visits; the hops of all of them) and attempts into it are taken as late.
This leans high where exactness is impossible (see `attempts.py`); without retries or hedges
it is the work of a healthy run, as before, a lower bound when calls fail.

Work on timers comes whatever the load, and counts too (`timer_events_per_s`): each
readiness and liveness probe of each replica is an event; a `pause` fault is two per
replica and pause; an autoscaler's sync reads every replica's counters in one event, so it
counts the time it takes in events' worth (SYNC_FIXED + SYNC_PER_REPLICA × replicas, at
`autoscale.max`). Without it, 99,000 replicas synced every millisecond ran for hours
unrefused.

So does the work on `balancer: hash` rings, however few requests there are (`ring_work`):
a ring has 100 points a replica, built at the start and rebuilt whenever a replica joins or
leaves, which at 99,000 replicas takes up to a second each time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scalesim.analytic.attempts import Attempts, CallAttempts, active, amplifies, phases
from scalesim.analytic.load import mean_rate, operation_rates, served_rates
from scalesim.spec.checks import iter_calls
from scalesim.spec.demand import calls_made, extra_s
from scalesim.spec.errors import Path
from scalesim.spec.model import Balancer, Component, System

# An autoscaler's sync in events' worth of time (at about 1 µs an event): a fixed part and
# a part per replica, measured with 200 to 20,000 replicas (1.1 ms a sync at 200, 2.5–2.8 µs
# a replica beyond).
SYNC_FIXED = 600.0
SYNC_PER_REPLICA = 2.5

# A hash ring (sim/mechanisms/balancer.py) has RING_POINTS per replica (its VIRTUAL_NODES).
# Its work in events' worth, measured compiled from 1,000 to 99,000 replicas: building it,
# per point (140–250 ns); rebuilding it when a replica joins or leaves, per point of the
# ring (20–100 ns, more the larger the ring).
RING_POINTS = 100
RING_BUILD_PER_POINT = 0.25
RING_UPDATE_PER_POINT = 0.05


@dataclass(frozen=True)
class RunCost:
    requests: float  # requests and messages sent, all replications
    events: float  # events the kernel handles (max_events counts them), all replications
    intervals: int  # time-series rows per component and workload, per replication
    rate_rps: float  # requests per second entering the system, on average
    timer_events: float = 0.0  # of `events`, those of probes and pauses
    sync_work: float = 0.0  # autoscalers' syncs, in events' worth of time (one event each)
    ring_work: float = 0.0  # hash rings' building and rebuilding, in events' worth of time
    retry_events: float = 0.0  # of `events`, those retries, hedges and fallbacks add

    @property
    def work(self) -> float:
        """What the run takes, in events' worth of time."""
        return self.events + self.sync_work + self.ring_work

    def wall_s(self, events_per_s: float) -> float:
        return self.work / events_per_s

    def plus(self, other: RunCost) -> RunCost:
        """Two runs' costs together (the time-series intervals: the larger)."""
        return RunCost(self.requests + other.requests, self.events + other.events,
                       max(self.intervals, other.intervals), self.rate_rps + other.rate_rps,
                       self.timer_events + other.timer_events, self.sync_work + other.sync_work,
                       self.ring_work + other.ring_work, self.retry_events + other.retry_events)


@dataclass(frozen=True)
class Stretch:
    """A stretch of the run with the same faults acting, and what its calls' attempts make
    of its visits."""

    start: float
    end: float
    rates: dict[str, float]  # visits per second of every operation, attempts included
    calls: dict[Path, CallAttempts]  # the attempts of every call waited on
    served: dict[str, float]  # the share of its visits an operation past capacity serves
    healthy: float  # events per second without retries and hedges


def run_cost(system: System) -> RunCost:
    sim = system.simulation
    span = (0.0, sim.warmup + sim.duration)
    seconds = (span[1] - span[0]) * sim.replications
    rates = operation_rates(system, span)
    if not all(math.isfinite(rate) for rate in rates.values()):
        return RunCost(math.inf, math.inf, 0, math.inf)
    per_second = retried = 0.0
    if not amplifies(system):
        per_second = _load_events(system, rates, {})
    else:
        length = span[1] - span[0]
        for stretch in stretches(system, span):
            if not all(math.isfinite(rate) for rate in stretch.rates.values()):
                return RunCost(math.inf, math.inf, 0, math.inf)
            weight = (stretch.end - stretch.start) / length
            part = _load_events(system, stretch.rates, stretch.calls, stretch.served)
            per_second += weight * part
            retried += weight * max(0.0, part - stretch.healthy)
    entering = 0.0
    for workload in system.workloads:
        if workload.users is None:
            entering += mean_rate(workload, *span)
        else:
            entering += rates[".".join(system.resolve(workload.to))]
    per_second += entering
    timers = timer_events_per_s(system, span)
    syncs = sum((SYNC_FIXED + SYNC_PER_REPLICA * c.most_replicas) / c.autoscale.sync_period
                for c in system.components.values() if c.autoscale is not None)
    rings = sum(ring_work(c) for c in system.components.values() if c.balancer == Balancer.HASH)
    return RunCost(entering * seconds, (per_second + timers) * seconds,
                   math.ceil(sim.duration / sim.interval), entering, timers * seconds,
                   syncs * seconds, rings * sim.replications, retried * seconds)


def stretches(system: System, span: tuple[float, float]) -> list[Stretch]:
    """`span` cut where faults start and end (`attempts.phases`), each stretch with its
    calls' attempts (`attempts.Attempts`, from the analytic estimate of the healthy system)
    and the visit rates they make. When the retries' load takes a component past its
    capacity (ρ ≥ 1), it serves 1/ρ of its visits (`load.served_rates`: their work and the
    calls they make), attempts into it are taken as late and its bounded queue as refusing
    1 − 1/ρ, and the attempts are counted again, until no more components pass it."""
    from scalesim.analytic.estimate import Model

    model = Model(system)  # the grid `scalesim estimate` uses: P(late) is read off it
    estimate = model.evaluate()
    out = []
    for start, end in phases(system, span):
        healthy = operation_rates(system, (start, end))
        saturated: dict[str, float] = {}
        while True:
            found = Attempts(system, model, estimate, active(system.faults, start, end),
                             healthy, saturated)
            rates, served = served_rates(system, (start, end), {
                path: call.visits for path, call in found.calls.items()})
            more: dict[str, float] = {}
            for ref, share in served.items():
                cname = ref.split(".", 1)[0]
                if share < 1.0 and cname not in saturated:
                    more[cname] = max(more.get(cname, 1.0), 1.0 / share)
            if not more or not all(math.isfinite(rate) for rate in rates.values()):
                break
            saturated.update(more)
        out.append(Stretch(start, end, rates, found.calls,
                           {ref: share for ref, share in served.items() if share < 1.0},
                           _load_events(system, healthy, {})))
    return out


def _load_events(system: System, rates: dict[str, float], calls: dict[Path, CallAttempts],
                 served: dict[str, float] | None = None) -> float:
    """Events per second of simulated time that visits at `rates` make: the kernel's per
    visit (see the module's docstring), and on the caller's side per call a timeout timer
    per timed attempt, a back-off per retry, hedge timers and a fallback's answer
    (`calls`; without them, one timer per timed call). An operation that serves only a
    share of its visits (`served`, past its component's capacity) has that share's events
    of work and calls, and the hops of all of them."""
    hop = 1 if system.defaults.network.mean_s > 0 else 0
    per_second = 0.0
    served = served or {}
    for cname, component in system.components.items():
        for oname, operation in component.effective_operations.items():
            share = served.get(f"{cname}.{oname}")
            before = operation.demand.mean_s + extra_s(system, cname, oname)
            per_visit = 2 * hop + (before > 0) + (operation.post_work.mean_s > 0)
            if component.core_limit is not None:
                per_visit += (operation.wait.mean_s > 0) + (operation.post_work.mean_s > 0)
            if system.overhead(cname)[1].mean_s > 0:
                per_visit += round(calls_made(system, cname, oname))
            if share is None:
                per_second += rates[f"{cname}.{oname}"] * max(1, per_visit)
            else:
                work = max(1, per_visit) - 2 * hop
                per_second += rates[f"{cname}.{oname}"] * (2 * hop + share * work)
    for cname, oname, path, call in iter_calls(system):
        if call.async_:
            continue
        found = calls.get(path)
        if found is not None:
            per_second += rates[f"{cname}.{oname}"] * served.get(f"{cname}.{oname}", 1.0) \
                * call.probability * found.events
        elif call.timeout is not None:
            per_second += rates[f"{cname}.{oname}"] * call.probability
    return per_second


def ring_work(component: Component) -> float:
    """A hash ring's work in one replication, in events' worth. It is built at the start
    and rebuilt, in time proportional to its points, whenever a replica joins or leaves:
    an autoscaler may take it through every size between its replicas at the start,
    `autoscale.min` and `autoscale.max` (counted once each), and a rollout replaces each
    replica (a join and a leave, each rebuilding the component's ring and a lane's)."""
    most = max(component.replicas, component.most_replicas)
    rebuilt = 0.0  # replicas of the rings rebuilt, summed
    if component.autoscale is not None:
        least = min(component.replicas, component.autoscale.min)
        rebuilt += (most * (most + 1) - least * (least + 1)) / 2
    if component.rollout is not None:
        rebuilt += 4 * most * most
    return RING_POINTS * (RING_BUILD_PER_POINT * most + RING_UPDATE_PER_POINT * rebuilt)


def timer_events_per_s(system: System, span: tuple[float, float]) -> float:
    """Events per second of simulated time that probes and pauses cause whatever the load,
    averaged over `span`."""
    per_second = 0.0
    for component in system.components.values():
        replicas = component.most_replicas
        health = component.health
        if health is not None:
            per_second += sum(replicas / probe.period for probe in
                              (health.readiness, health.liveness) if probe is not None)
    length = span[1] - span[0]
    for fault in system.faults:
        if fault.pause is None or length <= 0.0:
            continue
        end = span[1] if fault.for_ is None else min(span[1], fault.at + fault.for_)
        share = max(0.0, end - max(span[0], fault.at)) / length
        replicas = 1 if fault.replica is not None else \
            system.components[fault.component].most_replicas
        per_second += 2.0 * replicas / fault.pause.every * share
    return per_second
