"""Components whose callers' workers bound the requests they can hold at once, so that they
never queue.

A blocking caller holds its worker while it waits for a synchronous call, so a component
reached only that way can have no more requests at once than its callers have workers
waiting on it: call that number N (each caller's workers × its replicas, at an autoscaler's
maximum, × the calls one visit has open at once). The station formulas cannot see this,
since they take each component's arrivals as independent of the others' state; in a chain
of services they put a wait at every level, each one lengthening every caller above it, so
a chain of 100 single-worker services came out unstable at 1 request a second, where only
its first service ever queues, and a chain of 999 services of 2 replicas × 8 workers at 10
requests a second, where nothing below the entry ever queues, unstable too.

What N rules out depends on where the balancer puts each arrival among the c workers of
each of the callee's R replicas. An arrival finds at most N − 1 other requests there, so:
- any balancer, N ≤ c: every replica has a free worker (`Bound.REPLICA`);
- least_requests, N ≤ R·c: if every replica had c requests there would be R·c > N − 1 of
  them, so the least loaded one has a free worker, and the balancer picks it (it counts in
  service + waiting at the moment the request arrives, sim/mechanisms/balancer.py): a
  join-the-shortest-queue system never queues while its population is no more than its
  servers (`Bound.LEAST`);
- p2c, N ≤ 2c: at most one replica can hold c of the N − 1, so of two distinct replicas
  one has a free worker, and p2c sends to the less loaded (`Bound.TWO`);
- round robin, N ≤ R·c (`Bound.TURNS`): when every request holds a worker for the same
  time and never waits, they leave in the order they came, so the others an arrival finds
  are the m ≤ N − 1 that came just before it, and round robin gave floor(m/R) ≤ c − 1 of
  them its replica; by induction over arrivals none ever waits. That is exact for a
  constant holding time (a chain of constant work). A holding time H that varies lets
  requests overtake each other and unbalances the replicas: in the infinite-server view a
  request that came u ago is still there with probability P(H > u), so a replica's
  occupancy has the mean a/R (a = λ·E[H]) and, round robin spreading the arrivals in turn,
  the variance (λ/R)·∫P(H ≤ u)P(H > u)du = (λ/R)·E|H₁ − H₂|/2 (the identity
  E|H₁ − H₂| = 2∫F(1 − F), with H₁, H₂ independent): 0 for a constant, half of random
  balancing's a/R for an exponential. The bound is taken while c − a/R is at least
  `SPREAD_MARGIN` = 1 of those standard deviations (`turns_stay_even`), the cut-off the
  simulated chains and tiers of docs/capacity.md put it at;
- random (and hash), N > c: c of the others can have been sent to the arrival's replica,
  so it can wait; left to the station formulas.

The pool bounds need the R replicas all in rotation all the time: no autoscaler, no
readiness or liveness probes, no outlier ejection, no versions or rollout, no replication
(a leader's operations are placed, not balanced) and no fault aimed at the component; no
retry steered to another replica (`other_replica`, the default: the balancer then chooses
among the others only, which may all be full); and a blocking component: a non-blocking
one frees its worker during the calls, so the balancer stops counting the request, which
then comes back for its post_work to the replica it was placed on, full by then.

Finite-population stations (Engset's M/M/c//N, M/M/c/N) were tried and rejected: in a
chain they still give every level a wait of its own, and between tiers they make callers fed
by an open workload send less the more of them are stuck. Under random balancing the waits
are real but coupled (every level is blocked by the same few older requests), so the station
formulas, per level, stay on the safe side. docs/capacity.md has the measurements.

The bound holds only when nothing can leave a request behind at the callee while the
caller's worker moves on: no timeout, deadline or hedge on the calls (an attempt given up on
keeps the callee's worker; a deadline passed down cuts the calls below short), no parallel
group that returns before all its branches, no saga, no crash, random failure or liveness
restart of a caller, and callers whose replicas cannot grow past what is counted (an
autoscaler's maximum; no rollout). A queue's subscription without partitions counts as a
caller of its consumer with its deliveries in flight (`most_in_flight`): a delivery keeps
its slot until the consumer answers (a visibility timeout lets the message go again, but
not the slot), so 32 deliveries over 4 replicas × 8 workers behind least_requests never
wait. Anything else that reaches the component (a workload, an async call, a partition's
member, which takes its replica's records with no balancer, a cache miss or write, a
projection) leaves it to the station formulas.
"""

from __future__ import annotations

import math
from collections import Counter
from enum import Enum

import numpy as np

from scalesim.analytic.lattice import Lattice
from scalesim.spec.checks import entry_refs, iter_calls
from scalesim.spec.data import most_in_flight
from scalesim.spec.model import (
    Balancer,
    Call,
    Component,
    Kind,
    ParallelStep,
    SagaBlock,
    System,
)


class Bound(Enum):
    """Why a component never waits; the value is the reason its model names."""

    REPLICA = "its callers' workers are no more than its own"
    LEAST = "its callers' workers are no more than its replicas', and least_requests " \
            "sends each to a free one"
    TWO = "its callers' workers are no more than two replicas', and one of p2c's two " \
          "picks is free"
    TURNS = "its callers' workers are no more than its replicas', and round robin keeps " \
            "them even"


SPREAD_MARGIN = 1.0  # standard deviations of a replica's occupancy its free workers must cover


def held_bounds(system: System) -> dict[str, Bound]:
    """The components whose callers' workers keep them from queueing, and the bound that
    does it (see the module's docstring; `Bound.TURNS` holds only while
    `turns_stay_even`, which the estimate checks with the holding time it finds)."""
    steered = {system.resolve(call.to)[0] for _, _, _, call in iter_calls(system)
               if call.retry is not None and call.retry.attempts > 1
               and call.retry.other_replica}
    out = {}
    for name, waiting in _population(system).items():
        bound = _bound(system, name, waiting, name in steered)
        if bound is not None:
            out[name] = bound
    return out


def populations(system: System) -> Counter[str]:
    """Callee -> N, the most requests its bounded callers' workers can hold there at once,
    for the components that only blocking callers reach (no queue's deliveries, whose
    backlog waits in the queue instead), by calls that cannot leave a request behind;
    bounded by `held_bounds` or not."""
    delivered = _deliveries_in_flight(system)
    return Counter({name: most for name, most in _population(system).items()
                    if name not in delivered})


def turns_stay_even(workers: int, rate: float, holding: Lattice) -> bool:
    """Whether round robin, sending `rate` requests a second to each replica, keeps a
    replica's occupancy (mean rate·E[H], variance rate·E|H₁ − H₂|/2) `SPREAD_MARGIN`
    standard deviations below its workers."""
    spread = rate * mean_difference(holding) / 2.0
    return workers - rate * holding.mean >= SPREAD_MARGIN * math.sqrt(spread)


def mean_difference(holding: Lattice) -> float:
    """E|H₁ − H₂| of two independent draws, 2·Σ P(H ≤ t)·P(H > t)·h over the grid (what is
    past the grid counts as above every point of it)."""
    if holding.h == 0.0:
        return 0.0
    below = np.cumsum(holding.mass)
    return 2.0 * holding.h * float((below * (1.0 - below)).clip(0.0).sum())


def _bound(system: System, name: str, waiting: int, steered: bool) -> Bound | None:
    """The bound that `waiting` callers' workers put on the component, if any. Beyond one
    replica the balancer must choose each request's replica once among all of them: not a
    retry `steered` away from the one that failed, not a non-blocking request coming back
    for its post_work to the replica it was placed on (filled while it was not counted)."""
    component = system.components[name]
    workers = component.worker_limit
    if component.core_limit is not None or workers is None:
        return None
    if waiting <= workers:
        return Bound.REPLICA
    if steered or component.io != "blocking" \
            or not _always_in_rotation(system, name, component):
        return None
    spread = {Balancer.LEAST_REQUESTS: (component.replicas, Bound.LEAST),
              Balancer.P2C: (min(component.replicas, 2), Bound.TWO),
              Balancer.ROUND_ROBIN: (component.replicas, Bound.TURNS)}.get(component.balancer)
    if spread is None or waiting > spread[0] * workers:
        return None
    return spread[1]


def _always_in_rotation(system: System, name: str, component: Component) -> bool:
    """Its replicas are a fixed set that the balancer always chooses among."""
    return component.autoscale is None and component.health is None \
        and component.outlier_detection is None and not component.versions \
        and component.rollout is None and component.replication is None \
        and component.leader_election is None \
        and not any(fault.component == name for fault in system.faults)


def _population(system: System) -> Counter[str]:
    """Callee -> N, the most callers' workers that can wait on it at once, for the
    components that only bounded callers reach, and only by calls that cannot leave a
    request behind: the most requests they can hold."""
    if any(call.propagate_deadline for _, _, _, call in iter_calls(system)):
        return Counter()  # a deadline passed down can cut any call below it short
    open_to_all = _entered_otherwise(system)
    waiting: Counter[str] = Counter()
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
    for callee, count in _deliveries_in_flight(system).items():
        waiting[callee] += count
    return Counter({name: count for name, count in waiting.items() if name not in open_to_all})


def _deliveries_in_flight(system: System) -> Counter[str]:
    """Consumer -> the most deliveries its queues' subscriptions without partitions hold
    at once (`most_in_flight`): a slot stays taken until the consumer answers, like a
    blocking caller's worker, and the delivery goes through the consumer's balancer."""
    out: Counter[str] = Counter()
    for component in system.components.values():
        if component.kind is not Kind.QUEUE or component.partitions is not None:
            continue
        for consumer in component.consumers:
            callee = system.resolve(consumer.to)[0]
            out[callee] += most_in_flight(consumer, None,
                                          system.components[callee].most_replicas)
    return out


def _entered_otherwise(system: System) -> set[str]:
    """Components reached by anything but a call or a delivery that `_deliveries_in_flight`
    counts."""
    return {system.resolve(ref)[0] for path, ref in entry_refs(system)
            if not (path[2] == "consumers" and _counted(system.components[str(path[1])]))}


def _counted(queue: Component) -> bool:
    """Its deliveries count as bounded callers (`_deliveries_in_flight`)."""
    return queue.kind is Kind.QUEUE and queue.partitions is None


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
