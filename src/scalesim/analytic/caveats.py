"""Where the estimate is known to be off, so a user knows when to simulate instead.

Each rule looks at the spec and at the estimate and returns caveats that name the place,
say what the formulas leave out and which way the numbers move. They are not errors: the
estimate is still the right first number; the simulation is the answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from scalesim.analytic import closed as closed_loop
from scalesim.analytic import lattice
from scalesim.analytic.caching import characteristic_time, hit_ratio
from scalesim.analytic.conflicts import conflict_share, stream_rates
from scalesim.analytic.cycles import divergent_loops
from scalesim.analytic.estimate import Estimate
from scalesim.analytic.hashing import fixed_ring
from scalesim.analytic.held import populations as held_populations
from scalesim.analytic.load import (
    aggregate_load_s,
    appends,
    bucket_start_share,
    cache_reads,
    call_edges,
    call_matrix,
    consumer_pool,
    hold_s,
    leader_served,
    operation_rates,
    rate_cap,
)
from scalesim.analytic.quorum import commit_wait, replication_wait, semi_sync_shares
from scalesim.spec.consistency import Caching
from scalesim.spec.data import group_members, most_in_flight
from scalesim.spec.dists import AnyDistribution, Empirical, Gamma, Lognormal, Mixture, Pareto
from scalesim.spec.model import (
    Call,
    Component,
    ParallelStep,
    SagaBlock,
    Simulation,
    System,
    plain_steps,
)
from scalesim.spec.resilience import Fallback

HELD_PAST = 0.01  # the open formulas' share of time past a held callee's bound worth a caveat
BUSY = 0.9  # offered load above which the estimate is sensitive to every approximation
LATE = 0.01  # share of attempts past their timeout that changes the picture
TIMED_OUT = 1e-4  # semi-sync writes that time out, from which the replication caveat says so
NEAR_CAP = 0.8  # offered / rate limit from which a bucket refuses some of a random stream
DAM_REFUSED = 0.01  # refused share from which a bucket taken as met by Poisson is flagged
LOSS = 0.01  # share of arrivals a bounded queue refuses
STORMY = 0.1  # how much more a storm loads a component, at least, to be named
COARSE = 2.0  # grid cells below a time's median under which its percentiles are coarse
COALESCED = 0.01  # share of a cache's reads waiting for a load in flight that is named
CONFLICTING = 0.01  # share of an event store's appends failing their version check named
XFETCH_LOADS = 10.0  # XFetch's cycle holds within a few % from a TTL this many loads long


@dataclass(frozen=True)
class Caveat:
    code: str  # a stable name, e.g. "retries-under-load"
    where: str  # the component, call or workload it is about
    message: str  # what the estimate leaves out and which way the numbers move


Rule = Callable[[System, Estimate], Iterator[Caveat]]


def _calls(system: System) -> Iterator[tuple[str, Call]]:
    for cname, component in system.components.items():
        for oname, operation in component.effective_operations.items():
            for step in plain_steps(operation.calls):
                branches = step.parallel.calls if isinstance(step, ParallelStep) else [step]
                for call in branches:
                    yield f"{cname}.{oname}", system.effective(call)


def _times(factor: float) -> str:
    """'1.50×'; a factor past a million in three digits and an exponent, not 300 digits."""
    return f"{factor:.2f}×" if factor < 1e6 else f"{factor:.3g}×"


def _edge(system: System, source: str, call: Call) -> str:
    return f"{source}->{'.'.join(system.resolve(call.to))}"


def unstable(system: System, estimate: Estimate) -> Iterator[Caveat]:
    for name, component in estimate.components.items():
        state = component.state
        by_cores = component.cpu_offered >= state.offered
        # a closed loop's own station is never overloaded: its users bound its load
        if state.offered >= 1.0 and component.limited and not closed_loop.in_loop(state.model):
            servers = "cores" if by_cores else "workers"
            offered = f"{_times(state.offered)} what its {servers} can serve" \
                if math.isfinite(state.offered) else \
                f"an unbounded load, past what its {servers} can serve (it waits on " \
                "something that cannot keep up, or for a time with an infinite mean)"
            yield Caveat("overloaded", name, f"offered {offered}: "
                         + ("its queue grows without bound, so latency has no "
                                          "steady state" if state.loss == 0.0 else
                                          f"it refuses {state.loss:.1%} of arrivals")
                         + "; simulate to see how fast it degrades and what it takes down")
        elif state.offered > BUSY and component.limited \
                and not state.model.endswith(closed_loop.REFUSING):  # the loop's caveat says
            yield Caveat("near-saturation", name, f"ρ = {state.offered:.2f}: near saturation a "
                         "small error in a service time moves waits a lot; simulate with "
                         "long runs and several replications")


def unbounded_loops(system: System, estimate: Estimate) -> Iterator[Caveat]:
    """A loop of async calls or deliveries whose expected visits per request diverge: it,
    and what it calls, are infinite; the rest of the numbers are finite (`cycles`)."""
    for loop in divergent_loops(*call_matrix(system)):
        ring = " → ".join((*loop.operations, loop.operations[0]))
        yield Caveat("unbounded-loop", ring, "every visit of this loop makes at least one "
                     "more around it on average (its calls per visit have spectral radius "
                     f"{loop.repetitions:.3g}: a cycle whose expected repetitions are 1 or "
                     "more), so the expected visits per request diverge and it has no steady "
                     "state: its operations, and what they call, get an infinite rate; the "
                     "rest of the system keeps its own numbers. Give the loop an end (a call "
                     "made with a probability below 1)")


def behind(system: System, estimate: Estimate) -> Iterator[Caveat]:
    """A queue's subscription offered more deliveries than it has in flight can take: the
    queue, not its consumer, holds (or refuses) the rest; the consumer gets what it drains."""
    for name, sub in estimate.subscriptions.items():
        state = sub.state
        if state.offered < 1.0:
            continue
        drained = sub.rate_rps / state.offered if math.isfinite(state.offered) else 0.0
        yield Caveat("overloaded", name, f"its deliveries in flight are offered "
                     f"{_times(state.offered)} what they can take: its consumer gets what "
                     f"they drain ({drained:.4g}/s of {sub.rate_rps:.4g}/s) and "
                     + ("the queue's backlog grows without bound, so its lag has no steady "
                        "state" if state.loss == 0.0 else
                        f"the queue, full, refuses {state.loss:.1%} of the messages")
                     + "; simulate to see how far it falls behind")


def retries(system: System, estimate: Estimate) -> Iterator[Caveat]:
    for source, call in _calls(system):
        if call.retry is None or call.retry.attempts < 2 or call.async_:
            continue
        target = system.resolve(call.to)
        edge = _edge(system, source, call)
        late = estimate.timeouts.get(edge, 0.0)
        state = estimate.components[target[0]].state
        load = state.offered
        # refused attempts and their back-offs are in the latency (`Model._retried`), a retry
        # to the queue that refused refused again as its chain is still full (`again.py`)
        refused = state.loss if "rejected" in call.retry.on else 0.0
        if refused > LATE and load <= 0.7 and late <= LATE:
            shape = "" if state.model.startswith("M/M/") else \
                ", its service taken as exponential at its mean"
            yield Caveat("retried-latency", edge, f"{refused:.1%} of attempts are refused "
                         "(a full queue) and retried after a back-off; a retry that comes "
                         "back to the queue that refused it is refused again as often as "
                         f"that queue's M/M/c/K chain is still full then{shape}, but the "
                         "others refused in the same full spell come back in the same "
                         "window, which the chain leaves out: failures and the tail are "
                         "optimistic, the more so the more of the queue's traffic retries "
                         "and the narrower its back-off")
        if late > LATE or load > 0.7:
            yield Caveat("retries-under-load", edge, f"up to {call.retry.attempts} attempts per "
                         f"call at a callee {load:.0%} busy"
                         + (f" with {late:.1%} of attempts timing out" if late > LATE else "")
                         + ": the estimate counts the attempts of this steady state, but "
                         "retries add load when it is least affordable, so a burst or a slow "
                         "spell can start a retry storm that outlasts its cause: optimistic "
                         f"here ({_budgeted(call.retry.attempts, estimate.budgets.get(edge))})")


def _budgeted(attempts: int, bound: float | None) -> str:
    """What a call's retry budget makes of a storm: its bound on the tries a call at this
    load (`Estimate.budgets`), when it has one."""
    if bound is None:
        return "a retry budget would bound the storm"
    if bound >= attempts:
        return f"its retry budget allows all {attempts} at this load"
    return f"its retry budget bounds the storm to {bound:.3g} attempts a call"


def storms(system: System, estimate: Estimate) -> Iterator[Caveat]:
    """A second steady state the retries can hold the system in (`Estimate.storm`): the
    components it overloads that the calm one does not (or, if none, that it loads more)."""
    storm = estimate.storm
    if storm is None:
        return
    calm = estimate.components
    changed = [name for name, c in storm.components.items()
               if c.arrival_rate_rps > (1.0 + STORMY) * calm[name].arrival_rate_rps]
    overloads = estimate.storm_overloads()
    hit = [name for name in changed if name in overloads]
    failing = f"{storm.error_rate:.1%} of requests fail" if storm.error_rate > 0.0 else \
        "no request fails yet"
    for name in hit or changed:
        stormy = storm.components[name]
        load = f"{stormy.state.offered:.2f}× its capacity" \
            if math.isfinite(stormy.state.offered) else "an unbounded load"
        yield Caveat("metastable", name, f"two steady states: from calm it gets "
                     f"{calm[name].arrival_rate_rps:,.1f} visits/s; once a burst or a slow spell "
                     "makes attempts (or deliveries) into it late or refused, the retries (or "
                     f"redeliveries) keep it at {stormy.arrival_rate_rps:,.1f}/s ({load}) after "
                     f"the burst is gone, and {failing}. The estimate's numbers are the calm "
                     "state's; a run shows either, by its history. A retry budget, fewer tries "
                     "or a longer timeout can remove the storm")


def timeouts(system: System, estimate: Estimate) -> Iterator[Caveat]:
    fallbacks = {_edge(system, source, call): call.on_failure for source, call in _calls(system)
                 if isinstance(call.on_failure, Fallback)}
    for edge, late in sorted(estimate.timeouts.items()):
        if late > LATE:
            what = "fails or retries them" if edge not in fallbacks else \
                "answers them with the call's fallback after any retries" + (
                    ", counted in the workloads' `degraded` share" if fallbacks[edge].degraded
                    else "")
            yield Caveat("timeouts-fire", edge, f"{late:.1%} of attempts outlast the timeout; "
                         f"the estimate {what} (their time and the retries' load counted), "
                         "each attempt late independently of the last, where a congested "
                         "callee makes the retry late too")


def breakers(system: System, estimate: Estimate) -> Iterator[Caveat]:
    for source, call in _calls(system):
        if call.circuit_breaker is not None:
            yield Caveat("circuit-breaker", _edge(system, source, call), "a circuit breaker "
                         "sheds calls while open; the estimate sees the closed state only")


def _heavy(dist: AnyDistribution) -> str | None:
    if isinstance(dist, Pareto) and dist.alpha <= 2.5:
        return f"Pareto α = {dist.alpha:g}" + (
            "" if dist.alpha <= 1 else " (infinite variance)" if dist.alpha <= 2 else "")
    if isinstance(dist, Lognormal) and dist.sigma > 1.2:
        return f"lognormal σ = {dist.sigma:.2f}"
    if isinstance(dist, Gamma) and dist.cv > 2.0:
        return f"gamma cv = {dist.cv:g}"
    if isinstance(dist, Empirical):
        knots = dist.knots()
        median = next((v for q, v in knots if q >= 0.5), 0.0)
        tail = next((v for q, v in knots if q >= 0.99), knots[-1][1])
        if median > 0.0 and tail / median > 20.0:
            return f"empirical p99/p50 = {tail / median:.0f}"
    if isinstance(dist, Mixture):
        return next((found for item in dist.of if (found := _heavy(item.dist))), None)
    return None


def heavy_tails(system: System, estimate: Estimate) -> Iterator[Caveat]:
    for cname, component in system.components.items():
        for oname, operation in component.effective_operations.items():
            for which in ("work", "cpu", "wait", "post_work"):
                dist = getattr(operation, which)
                if dist is None:
                    continue
                if not math.isfinite(dist.mean_s):
                    yield Caveat("heavy-tail", f"{cname}.{oname}", _infinite_mean(which, dist))
                    continue
                coarse = _coarse(dist)
                if coarse:
                    yield Caveat("coarse-grid", f"{cname}.{oname}", f"{which} {coarse}")
                found = _heavy(dist) if which in ("work", "post_work") else None
                if found and component.worker_limit is not None:
                    yield Caveat("heavy-tail", f"{cname}.{oname}", f"{which} is heavy-tailed "
                                 f"({found}): queueing formulas give the mean wait from two "
                                 "moments and an exponential tail; the real tail is heavier "
                                 "and converges slowly in simulation too")


def _coarse(dist: AnyDistribution) -> str | None:
    """What the grid of a time spanning more orders of magnitude than it resolves does to
    its percentiles: its median within fewer than COARSE cells (`lattice.of` gives a wide
    time up to 8,192 cells and cuts it at its 1 − 1e-4 quantile first)."""
    found = lattice.of(dist)
    if found.h == 0.0 or found.quantile(0.5) >= COARSE * found.h:
        return None
    cell = f"{found.h * 1e3:.3g} ms"
    return (f"spans more than the estimate's grid resolves: its median lies within two cells "
            f"of {cell} (its p999 is {found.quantile(0.999) * 1e3:,.4g} ms), so its "
            f"percentiles, and those of the latencies it is part of, are good to about "
            f"{cell} only; the means are exact")


def _infinite_mean(which: str, dist: AnyDistribution) -> str:
    """A time whose mean is infinite (a Pareto tail with α ≤ 1): what the estimate does."""
    kept = lattice.of(dist).mean
    return (f"{which} has an infinite mean ({_heavy(dist) or 'a Pareto tail with α ≤ 1'}): "
            "the estimate takes it below its tail's 99.99th percentile (grid cut-off), a mean "
            f"of {kept * 1e3:,.4g} ms, and the utilization, waits, latency and saturation rate "
            "follow from that; the real means are infinite (no load is sustainable on "
            "limited workers), and a simulation's means keep growing with its length")


def closed_loops(system: System, estimate: Estimate) -> Iterator[Caveat]:
    timed = any(call.timeout is not None or call.deadline is not None
                for _, call in _calls(system))
    for workload in system.workloads:
        if workload.users is None:
            continue
        shared = sorted(name for name, c in estimate.components.items()
                        if c.limited and estimate.workloads[workload.name].visits.get(name, 0.0)
                        and c.state.p_wait > 0.0 and not closed_loop.in_loop(c.state.model))
        yield Caveat("closed-loop", workload.name, "a closed loop: throughput and mean from "
                     "MVA (Seidmann's approximation for several workers); the waits at the "
                     "stations only it visits from MVA's arrival view, taken as independent "
                     "from station to station, so the percentiles are approximate"
                     + (f"; {', '.join(shared)} (shared with other traffic, or with cores) "
                        "keep the open formulas at its throughput"
                        if shared else "")
                     + _refusals(system, estimate, workload.name)
                     + ("; timeouts end requests early and free users, which MVA does not see"
                        if timed else ""))


def _refusals(system: System, estimate: Estimate, name: str) -> str:
    """What the closed-loop caveat says of a loop whose users a bounded queue refuses
    (`closed.refused`), or ''."""
    found = estimate.workloads[name]
    if found.refused <= 0.0:
        return ""
    workload = next(w for w in system.workloads if w.name == name)
    where = sorted(cname for cname, c in estimate.components.items()
                   if found.visits.get(cname, 0.0) and c.state.loss > 0.0
                   and system.components[cname].queue is not None)
    again = "at once" if workload.think.mean_s == 0.0 else "after their think time"
    exact = all(estimate.components[cname].state.exact for cname in where) and where
    return (f"; {' and '.join(where) or 'a bounded queue'} cannot hold all {workload.users:,} "
            f"users' requests (workers + queue places per replica): {found.refused:.1%} are "
            f"refused and their users send again {again}, so the loop sends "
            f"{found.rate_rps:,.0f} requests a second: the finite-source queue M/M/c/K/N "
            "with the users shared among the replicas' queues, "
            + ("exact here (one queue, exponential work and think time, nothing else in the "
               "loop)" if exact else "approximate (exact for one queue with exponential work "
               "and think time and nothing else in the loop; the other stations are taken at "
               "their MVA residence)"))


def pooled(system: System, estimate: Estimate) -> Iterator[Caveat]:
    """least_requests and p2c over several replicas taken as one shared queue."""
    for name, component in estimate.components.items():
        if component.pooled and component.arrival_rate_rps > 0.0:
            balancer = system.components[name].balancer
            yield Caveat("pooled-balancer", name, f"{balancer} over {component.replicas} "
                         "replicas is taken as one shared queue of "
                         f"{component.servers} workers: a lower bound of the waits, since "
                         "each replica keeps its own queue (optimistic, more so for p2c "
                         "and near saturation)")


# Deliveries in flight, over a consumer pool's workers, below which the pool's lag is
# noticeably low: at 1.5 times, 2 replicas of 4 workers behind random lagged 94 ± 17 ms
# simulated (80.9 ms by the exact chain) against 43 ms; at 3 times, 46 ± 3 against 43 ms.
CLOSE_SLOTS = 2.0


def slot_bound(system: System, estimate: Estimate) -> Iterator[Caveat]:
    """A consumer pool (`load.consumer_pool`) whose delivery slots are within CLOSE_SLOTS
    of its workers: each way of solving it leaves the other limit out, and a delivery held
    at a busy replica keeps its slot while another replica idles, so its lag is a lower
    bound, well below where both limits meet."""
    for name, component in system.components.items():
        for place, consumer in enumerate(component.consumers):
            pool = consumer_pool(system, name, place)
            if pool is None:
                continue
            target = system.resolve(consumer.to)[0]
            slots = most_in_flight(consumer, component.partitions,
                                   system.components[target].most_replicas)
            if slots < CLOSE_SLOTS * pool.servers:
                yield Caveat("slots-near-workers", name, f"{slots} deliveries in flight over "
                             f"{target}'s {pool.servers} workers: the lag is a lower bound "
                             "(a delivery waiting at a busy replica holds its slot, which "
                             "neither limit alone counts); at 1.5 times the workers it can "
                             "be half the simulated lag. More slots, or a simulation, tell")


def cores(system: System, estimate: Estimate) -> Iterator[Caveat]:
    """The CPU model: counted in the load always, in the latency where a closed form holds."""
    modelled = [n for n, c in estimate.components.items() if c.cores is not None
                and c.cpu_in_wait]
    loaded = [n for n, c in estimate.components.items() if c.cores is not None
              and not c.cpu_in_wait]
    if modelled:
        yield Caveat("cores", ", ".join(modelled), "the CPU is processor sharing on the "
                     "cores (an event loop: first come first served): utilization, saturation "
                     "and the mean wait count it; the wait's shape is exponential, so the "
                     "percentiles are approximate")
    if loaded:
        yield Caveat("not-modelled", ", ".join(loaded), "cores count in the utilization and "
                     "saturation, but their contention is not in the latency (work that "
                     "waits or calls with limited workers, or on an event loop): optimistic")


def dynamics(system: System, estimate: Estimate) -> Iterator[Caveat]:
    """Mechanisms with state over time that steady-state formulas do not represent."""
    found: dict[str, dict[str, None]] = {}  # the places of each, in order, once each
    hedged: dict[str, None] = {}
    for source, call in _calls(system):
        if call.hedge is not None and call.timeout is None:
            hedged[_edge(system, source, call)] = None
        for name in ("hedge", "bulkhead", "deadline"):
            if getattr(call, name) is not None and (name != "hedge" or call.timeout is not None):
                found.setdefault(name, {})[_edge(system, source, call)] = None
    if hedged:
        yield Caveat("hedge", ", ".join(hedged), "a hedged call takes the first answer of "
                     "independent attempts, the k-th sent k delays after the first (a "
                     "percentile delay at the unhedged call's), and loads the callee with "
                     "the hedges that slow first attempts send")
    for cname, component in system.components.items():
        for name in ("load_shedding", "connection_pool", "outlier_detection"):
            if getattr(component, name) is not None:
                found.setdefault(name, {})[cname] = None
        if component.balancer == "hash" and component.most_replicas > 1 \
                and not fixed_ring(component) and any(
                w.key_space is not None and w.key_space.skew > 0 for w in system.workloads):
            found.setdefault("skewed hash keys on a changing ring", {})[cname] = None
    for name, places in found.items():
        yield Caveat("not-modelled", ", ".join(places), f"{name.replace('_', ' ')} is not in "
                     "the formulas (they assume every request is served as it comes)")
    yield from _changing(system)
    scheduled = [f.target for f in system.faults if f.random_failures is None]
    if scheduled:
        yield Caveat("faults", ", ".join(scheduled), "scheduled faults are not in the estimate: "
                     "it is the healthy system (random failures count in availability)")
    for workload in system.workloads:
        if workload.profile is not None:
            yield Caveat("load-profile", workload.name, "the estimate holds the profile's peak "
                         "rate as if it lasted; a short peak drains in simulation")
        if workload.arrivals == "constant" and workload.users is None:
            yield Caveat("constant-arrivals", workload.name, "arrivals are taken as Poisson: "
                         "evenly spaced arrivals queue less, so the waits are pessimistic")


def _changing(system: System) -> Iterator[Caveat]:
    """Replica sets that change during the run, and data mechanisms with work of their own."""
    scaled = [name for name, c in system.components.items() if c.autoscale is not None]
    if scaled:
        yield Caveat("autoscaling", ", ".join(scaled), "the estimate serves with the "
                     "autoscaler's maximum replicas; it gets there only after scale-up delays "
                     "and settles lower where its target allows, so waits are longer than "
                     "estimated")
    rolled = [name for name, c in system.components.items() if c.rollout is not None]
    if rolled:
        yield Caveat("rollout", ", ".join(rolled), "the estimate is the first version; a "
                     "rollout shifts traffic to another version during the run")
    redelivered = [name for name, c in system.components.items() if c.delivery is not None]
    if redelivered:
        yield Caveat("delivery", ", ".join(redelivered), "failed deliveries come again and "
                     "dead letters reach their queue in the load (from error_rate and poison), "
                     "and so do the deliveries that outlive their visibility timeout (from the "
                     "consumer's response), each late independently of the last; a consumer "
                     "past its capacity keeps the deliveries it had, its subscription falling "
                     "behind")
    stores = [name for name, c in system.components.items() if c.event_store is not None]
    if stores:
        yield Caveat("event-store", ", ".join(stores), "loading an aggregate reads its snapshot "
                     "and the events after it: the estimate adds the mean load of the streams "
                     "as they start to every append and load (the events the run appends left "
                     "out), a constant, so its spread is narrower; append conflicts "
                     "(WrongExpectedVersion) and their retries are not counted (named with "
                     "their share by `append-conflicts`)")
    sagas = sorted({f"{cname}.{oname}" for cname, component in system.components.items()
                    for oname, operation in component.effective_operations.items()
                    for step in operation.calls if isinstance(step, SagaBlock)})
    if sagas:
        yield Caveat("saga", ", ".join(sagas), "a saga's latency is its forward steps in "
                     "turn; its steps and compensations count in the load for the sagas that "
                     "reach them, but the time compensations take after a failed step is not "
                     "in the latency")


def _round_trip_ms(system: System, *legs: AnyDistribution | None) -> float:
    """Mean of a replica's legs in ms; an unset leg is one network hop (the spec's default)."""
    hop = system.defaults.network.mean_s
    return 1e3 * sum(hop if leg is None else leg.mean_s for leg in legs)


def coordination(system: System, estimate: Estimate) -> Iterator[Caveat]:
    """Replication and leader elections: the estimate counts the waits on replicas of a
    healthy run (`quorum.replication_wait`), not what a lost leader or replica does, nor
    what the reads see."""
    for name, component in system.components.items():
        replication = component.replication
        if replication is not None and replication.mode != "async":
            yield Caveat("replication", name, f"{_replica_waits(system, name)}, in the "
                         "latency and the callers' hold; stale reads and writes lost on "
                         "failover are not estimated (simulate counts them)")
        election = component.leader_election
        if election is not None:
            yield Caveat("leader-election", name, f"while a new leader is elected "
                         f"({election.type}) after the leader is lost, visits to "
                         f"{_listed(leader_served(component))} fail unavailable, which the "
                         "healthy estimate does not see")


def _listed(names: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _replica_waits(system: System, name: str) -> str:
    """What a write (and a read, when it waits) waits for on the replicas, in words."""
    replication = system.components[name].replication
    assert replication is not None
    replicas = system.components[name].replicas
    wars = _round_trip_ms(system, replication.write, replication.ack)
    write = f"({', '.join(replication.writes)})"
    if replication.mode == "quorum":
        reads = _round_trip_ms(system, replication.read, replication.response)
        return (f"quorum: a write {write} waits for the fastest {replication.w} of "
                f"{replication.n or replicas} replicas' W + A (each {wars:.2g} ms on average) "
                f"and a read for the fastest {replication.r} R + S ({reads:.2g} ms)")
    text = (f"each write {write} waits for its commit ({replication.mode}: followers' W + A, "
            f"each {wars:.2g} ms on average{_timed_out(system, name)})")
    read = next((op for op in system.components[name].effective_operations
                 if op not in replication.writes), None)
    if read is not None and replication_wait(system, name, read) is not None:  # raft
        text += " and a read at the leader for its ReadIndex round (A + A to a majority)"
    return text


def _timed_out(system: System, name: str) -> str:
    """A semi-sync store's writes that give up waiting at the offered load, and those that
    wait with them or then find the leader asynchronous (`quorum.semi_sync_shares`), when
    there are any."""
    replication = system.components[name].replication
    assert replication is not None
    first = commit_wait(system, name)
    if replication.mode != "semi_sync" or first is None:
        return ""
    rates = operation_rates(system)
    rate = sum(rates.get(f"{name}.{write}", 0.0) for write in replication.writes)
    semi = semi_sync_shares(first, replication.semi_sync_timeout, rate)
    if semi.timed_out < TIMED_OUT:
        return ""
    return (f"; at {rate:,.4g} writes/s {semi.timed_out:.1%} of them stop waiting after "
            f"semi_sync_timeout, {semi.switching:.1%} wait with one that does, and "
            f"{semi.asynchronous:.1%} come while the leader is asynchronous, committing "
            "at once")


def losses(system: System, estimate: Estimate) -> Iterator[Caveat]:
    for name, component in estimate.components.items():
        state = component.state
        if state.loss > LOSS and state.offered < 1.0 and "scaled" in state.model:
            yield Caveat("bounded-queue", name, f"refuses {state.loss:.1%}: M/M/c/K with "
                         "non-exponential work is an approximation")
    if not estimate.converged:
        yield Caveat("no-fixed-point", system.name, "calls in a circle, or the attempts of "
                     "retried calls and the load they add, did not settle; the numbers are "
                     "from the last iteration")


def rate_limits(system: System, estimate: Estimate) -> Iterator[Caveat]:
    """A rate limit solved approximately (`Model._admission`): a token bucket whose visits
    are taken as a Poisson stream, refusing 1 % or more; or min(λ, cap) of a smooth stream
    that the load comes near."""
    for cname, component in system.components.items():
        cap = rate_cap(component)
        state = estimate.components.get(cname)
        if cap is None or state is None or state.admitted <= 0.0 or state.admission == "exact":
            continue
        offered = state.incoming_rps
        assert component.rate_limit is not None
        each = " per workload" if component.rate_limit.per_workload else ""
        head = f"{offered:,.0f}/s come to a limit of {cap:,.0f}/s{each}: "
        if state.admission == "start":
            yield Caveat("rate-limit", cname, head + _start_text(component, offered,
                                                                 system.simulation))
        elif state.admission == "dam" and state.admitted <= 1.0 - DAM_REFUSED:
            yield Caveat("rate-limit", cname, head + "the estimate takes them as a Poisson "
                         "stream at the bucket (a finite dam), which visits through calls, "
                         "a queue or a load profile, or a replica's share, are not")
        elif state.admission == "smooth" and (offered >= NEAR_CAP * cap or state.admitted < 1.0):
            yield Caveat("rate-limit", cname, head + "the estimate admits min(λ, limit) of a "
                         "smooth stream; a bucket also refuses some of a random stream below "
                         "its rate, and lets bursts above it through while it has tokens")


def _start_text(component: Component, offered: float, sim: Simulation) -> str:
    """Why the long-run share misleads for a bucket whose starting tokens last long."""
    share = bucket_start_share(component, offered, sim.warmup, sim.duration)
    return (f"the bucket starts full and its tokens last about {share * 100:.0f} % of the "
            "run after warm-up, refusing nothing meanwhile; the estimate gives the long-run "
            "share, which the run reaches only after that (a longer run, or a smaller "
            "burst, brings them together)")


def _ttl_caches(system: System) -> Iterator[tuple[str, Caching, float]]:
    """The components that cache with a TTL in front of a backend: name, settings, TTL."""
    for name, component in system.components.items():
        caching = component.caching
        if caching is not None and caching.ttl is not None and component.backend is not None:
            yield name, caching, caching.ttl


def coalesced(system: System, estimate: Estimate) -> Iterator[Caveat]:
    """A TTL cache that coalesces a key's misses while it loads: the waiting reads load
    nothing (counted right), but the estimate serves them as hits, without their wait."""
    for name, caching, ttl in _ttl_caches(system):
        if caching.stampede != "coalesce":
            continue
        rates, load_s, deletes = cache_reads(system, name)
        kept = caching.kept_keys
        share = hit_ratio(rates, ttl, load_s, True, caching.refresh_ahead,
                          invalidations=deletes, capacity=kept) - \
            hit_ratio(rates, ttl, load_s, False, caching.refresh_ahead, invalidations=deletes,
                      capacity=kept)
        if share >= COALESCED:
            yield Caveat("coalesced-reads", name, f"{share:.1%} of its reads come while their "
                         "key loads and wait for that load (stampede: coalesce): they load "
                         "nothing, as counted, but are served as hits, without their wait of "
                         f"about half a load ({load_s / 2 * 1e3:.3g} ms): the mean latency of "
                         f"its reads is optimistic by about {share * load_s / 2 * 1e3:.2g} ms")


def refreshed_ahead(system: System, estimate: Estimate) -> Iterator[Caveat]:
    """A cache that refreshes ahead: its background reloads are counted at the backend, as
    the simulator makes them, but as misses its reads wait for."""
    for name, caching, ttl in _ttl_caches(system):
        if caching.refresh_ahead is None:
            continue
        rates, load_s, _ = cache_reads(system, name)  # refresh-ahead's cycle: no deletes
        coalesce = caching.stampede == "coalesce"
        share = hit_ratio(rates, ttl, load_s, coalesce, caching.refresh_ahead, True) \
            - hit_ratio(rates, ttl, load_s, coalesce, caching.refresh_ahead)
        if share >= COALESCED:
            yield Caveat("refresh-ahead", name, f"{share:.1%} of its reads start a reload in "
                         "the background (refresh_ahead): its backend's load counts them, but "
                         "the estimate has the reads wait for them (and fail with them): the "
                         "mean latency of its reads is pessimistic by about "
                         f"{share * load_s * 1e3:.2g} ms")


def xfetched(system: System, estimate: Estimate) -> Iterator[Caveat]:
    """A cache with XFetch whose TTL is under XFETCH_LOADS loads: the stores of the loads
    that overlap the first early one, which the cycle leaves out, shorten it."""
    for name, caching, ttl in _ttl_caches(system):
        if caching.stampede != "xfetch":
            continue
        _, load_s, _ = cache_reads(system, name)
        if ttl < XFETCH_LOADS * load_s:
            yield Caveat("xfetch", name, f"its TTL ({ttl:g} s) is under "
                         f"{XFETCH_LOADS:g} loads ({load_s * 1e3:.3g} ms each): the loads "
                         "that overlap an early recomputation store the key again later, "
                         "which the estimate's cycle leaves out: its backend load is "
                         "pessimistic (TTL 2 loads: 39 % above the simulation)")


def evicted(system: System, estimate: Estimate) -> Iterator[Caveat]:
    """A cache whose refresh-ahead or XFetch cycle the estimate counts while its `max_keys`
    evicts: those cycles leave eviction out; sized by what eviction does without them."""
    for name, caching, ttl in _ttl_caches(system):
        if caching.refresh_ahead is None and caching.stampede != "xfetch":
            continue
        rates, load_s, deletes = cache_reads(system, name)
        kept = caching.kept_keys
        window = characteristic_time(rates, ttl, load_s, kept, deletes)
        if math.isinf(window):
            continue
        ahead = "refresh_ahead" if caching.refresh_ahead is not None else "xfetch"
        roomy = hit_ratio(rates, ttl, load_s, invalidations=deletes)
        evicting = hit_ratio(rates, ttl, load_s, invalidations=deletes, capacity=kept)
        yield Caveat("evicted", name, f"max_keys {kept:,.0f} cannot hold its keys: LRU evicts "
                     f"an entry about {window * 1e3:.3g} ms after its last read (Che's "
                     f"approximation), which the {ahead} cycle leaves out: its hit ratio "
                     f"is optimistic (without {ahead}, eviction takes it from {roomy:.1%} "
                     f"to {evicting:.1%})")


def conflicting(system: System, estimate: Estimate) -> Iterator[Caveat]:
    """An event store's appends that fail their expected-version check over the run, which
    the estimate's errors and load leave out (`conflicts.conflict_share`)."""
    window = (system.simulation.warmup, system.simulation.warmup + system.simulation.duration)
    for name, component in system.components.items():
        store = component.event_store
        found = estimate.components.get(name)
        if store is None or found is None or not math.isfinite(found.state.mean_wait_s):
            continue
        rates, round_robin = stream_rates(appends(system, name), store.streams)
        own = hold_s(system, f"{name}.{store.append}") - aggregate_load_s(store) + \
            found.state.mean_wait_s
        share = conflict_share(store, rates, round_robin, own, *window)
        if share >= CONFLICTING:
            busiest = float(rates.max())
            yield Caveat("append-conflicts", name, f"about {share:.1%} of its appends fail "
                         "their expected-version check (WrongExpectedVersion: another append "
                         "to the stream committed while they loaded it; the busiest stream "
                         f"takes {busiest:,.3g}/s), counted neither in its errors nor, "
                         "retried, in its load: the estimate is optimistic (each commit "
                         "costs 1 + the appends within its duration, which grows with its "
                         "stream until a snapshot)")


def partitioned(system: System, estimate: Estimate) -> Iterator[Caveat]:
    """A partitioned topic whose members own several partitions each, each member taken as
    one FIFO server of its partitions' records where it takes them in turn; or fed by an
    outbox relay, whose batches are taken to the members as one pool."""
    relayed = {edge.callee.split(".", 1)[0] for edge in call_edges(system)
               if edge.call.outbox is not None}
    for name, component in system.components.items():
        if component.partitions is None:
            continue
        for consumer in component.consumers:
            target = ".".join(system.resolve(consumer.to))
            found = estimate.subscriptions.get(f"{name}->{target}")
            members = group_members(consumer, system.components[
                system.resolve(consumer.to)[0]].most_replicas)
            if found is None or found.state.offered <= 0.0:
                continue
            if name in relayed:
                yield Caveat("partitioned", f"{name}->{target}", "its outbox relay's batches "
                             f"are taken to min({component.partitions} partitions, {members} "
                             "members) slots as one pool, where each record waits behind "
                             "its own partition's: the lag optimistic")
            elif members < component.partitions:
                yield Caveat("partitioned", f"{name}->{target}", f"{component.partitions} "
                             f"partitions on {members} members: a member takes its "
                             "partitions' records in turn, taken as one FIFO queue of them "
                             "(M/G/1): the mean lag holds (the conservation law), the "
                             "percentiles are optimistic (8 partitions on 3 members at 90 % "
                             "busy: p99 221 ms estimated, 245 ms simulated)")


def revisits(system: System, estimate: Estimate) -> Iterator[Caveat]:
    """A queue a request meets more than once: its sojourns there are correlated, which the
    convolution of the estimate's percentiles leaves out (the mean is exact regardless)."""
    for name, workload in estimate.workloads.items():
        for cname in workload.revisited:
            times = workload.visits.get(cname, 0.0)
            yield Caveat("repeat-visits", f"{name}->{cname}", f"a request can wait at {cname}'s "
                         f"queue more than once ({times:.3g} visits on average): the waits "
                         "are correlated (the queue it left is still there when it returns), "
                         "not independent as the percentiles take them, so the estimate's "
                         "tail is too light (p99 low); the mean is exact")


def held_callers(system: System, estimate: Estimate) -> Iterator[Caveat]:
    """A callee that can wait, all of whose callers hold a worker through each call: its
    queue is bounded by their workers, the station formulas' is not."""
    for name, most in held_populations(system).items():
        component = estimate.components[name]
        state, servers = component.state, component.servers
        if servers is None or state.p_wait <= 0.0 or not math.isfinite(state.offered):
            continue
        past = state.p_wait * min(1.0, state.offered) ** max(
            0, most - servers * component.queues + 1)
        if past < HELD_PAST:
            continue
        callers = sorted({source.split(".", 1)[0] for source, call in _calls(system)
                          if system.resolve(call.to)[0] == name})
        yield Caveat("held-callers", name, f"{', '.join(callers)} "
                     f"{'holds' if len(callers) == 1 else 'hold'} a worker through each "
                     f"call to {name}, so at most {most} requests can be there at once, where "
                     f"the station formulas put more there {past:.1%} of the time: {name}'s "
                     "wait, the callers' latency and utilization are an upper bound here, "
                     "the saturation rate a lower bound")


def first_branches(system: System, estimate: Estimate) -> Iterator[Caveat]:
    """A parallel step that returns before all its branches: the k-th fastest of branches
    taken as independent, where a shared stream of arrivals makes their waits move
    together. Each branch's time is the estimate's own (`Estimate.first_branches`): its
    waits, timeouts, retries and back-offs."""
    for ref, steps in estimate.first_branches.items():
        for step in steps:
            found = [branch for branch in step.branches if branch is not None]
            if len(found) < len(step.branches):  # a callee that cannot keep up, or a call
                continue  # that never succeeds
            apart = lattice.order_statistic(step.need, found)
            moving = lattice.together(step.need, found)
            yield Caveat("first-branches", ref, f"waits for {step.need} of "
                         f"{len(found)} parallel branches, taken as independent; they "
                         "share the caller's arrivals, so their waits move together and "
                         "the step takes longer: optimistic (independent: mean "
                         f"{apart.mean * 1e3:.3g} ms, p99 {apart.quantile(0.99) * 1e3:.3g} "
                         "ms; branches in lockstep"
                         + (", the longest any dependence gives" if step.need == 1 else "")
                         + f": mean {moving.mean * 1e3:.3g} ms, p99 "
                         f"{moving.quantile(0.99) * 1e3:.3g} ms)")


RULES: tuple[Rule, ...] = (unbounded_loops, unstable, behind, retries, storms, timeouts,
                           breakers, heavy_tails, closed_loops, pooled, slot_bound, cores,
                           dynamics, rate_limits, coordination, losses, revisits, coalesced,
                           refreshed_ahead, xfetched, evicted, conflicting, partitioned,
                           first_branches, held_callers)


def caveats(system: System, estimate: Estimate) -> list[Caveat]:
    return [caveat for rule in RULES for caveat in rule(system, estimate)]
