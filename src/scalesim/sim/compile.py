"""System -> runtime plan: numbered plain objects, samplers with their own random streams."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from scalesim.sim.area import Area
from scalesim.sim.control.build import build_control
from scalesim.sim.cpu import Cores, Processor, processor
from scalesim.sim.data.build import DataBuilder
from scalesim.sim.data.consistency_build import build_consistency
from scalesim.sim.mechanisms.arrivals import Arrivals, segments
from scalesim.sim.mechanisms.backoff import Backoff
from scalesim.sim.mechanisms.balancer import (
    Balancer,
    ConsistentHash,
    LeastRequests,
    PowerOfTwo,
    Random,
    RoundRobin,
)
from scalesim.sim.mechanisms.circuit_breaker import BreakerSettings
from scalesim.sim.mechanisms.latency_tracker import LatencyTracker
from scalesim.sim.mechanisms.outlier import OutlierDetector
from scalesim.sim.mechanisms.rate_limit import SlidingWindow, TokenBucket
from scalesim.sim.mechanisms.retry_budget import BudgetSettings
from scalesim.sim.mechanisms.shedding import CoDel, MaxWait
from scalesim.sim.plan import (
    CAUSE_NAMES,
    CONTINUE,
    FALLBACK,
    UNLIMITED,
    CallPlan,
    Comp,
    FaultAction,
    HealthPlan,
    Limiter,
    Op,
    ParPlan,
    Replica,
    Subscription,
    Workload,
)
from scalesim.sim.random import Sampler, batch_function, sampler, stream, summed, uniforms
from scalesim.spec.dists import AnyDistribution, Constant
from scalesim.spec.model import Call, Component, Kind, ParallelStep, SagaBlock, System
from scalesim.spec.model import Workload as WlSpec
from scalesim.spec.resilience import Fallback, LoadShedding, RateLimit

TRACE_CANDIDATES = 50  # sampled requests per kept trace, to choose typical/slowest/failed from


@dataclass
class Plan:
    comps: list[Comp]
    ops: dict[str, Op]  # "component.operation"
    calls: list[CallPlan]
    workloads: list[Workload]
    subscriptions: list[Subscription]
    faults: list[tuple[float, FaultAction]]  # (time, start or end of a fault)
    traces: int  # traces to keep per workload and kind
    areas: list[Area] = field(default_factory=list)  # controllers and data mechanisms
    # One sampler for overlapping faults on one target (`_Builder.summed_faults`).
    summed_faults: Callable[[str, tuple[int, ...]], Sampler] | None = None


class _Builder:
    def __init__(self, system: System, seed: int, replication: int) -> None:
        self.system = system
        self.seed = seed
        self.rep = f"replication-{replication}"

    def rng(self, *names: str) -> np.random.Generator:
        return stream(self.seed, self.rep, *names)

    def dist(self, dist: AnyDistribution, *names: str) -> Sampler | None:
        """None for a constant zero: the kernel then skips the event entirely."""
        if isinstance(dist, Constant) and dist.value == 0.0:
            return None
        return sampler(dist, self.rng(*names))

    def balancer(self, name: str, component: Component, replicas: list[Replica]) -> Balancer:
        kind = component.balancer.value
        n = len(replicas)
        if kind == "round_robin":
            return RoundRobin(n)
        if kind == "random":
            return Random(n, uniforms(self.rng(name, "balancer")))
        if kind == "least_requests":
            return LeastRequests(replicas)
        if kind == "p2c":
            return PowerOfTwo(replicas, uniforms(self.rng(name, "balancer")))
        return ConsistentHash(n, name)

    def build(self) -> Plan:
        system = self.system
        crash_targets = {fault.component for fault in system.faults
                         if fault.crash or fault.random_failures}
        crash_targets |= {name for name, c in system.components.items()
                          if c.health is not None and c.health.liveness is not None}
        self.crash_targets = crash_targets
        self.cores = Cores()
        comps: list[Comp] = []
        ops: dict[str, Op] = {}
        for index, (name, component) in enumerate(system.components.items()):
            replicas = [Replica(i, name in crash_targets) for i in range(component.replicas)]
            workers = component.worker_limit
            comp = Comp(name, component.kind.value, replicas,
                        UNLIMITED if workers is None else workers,
                        -1 if component.queue is None else component.queue,
                        self.balancer(name, component, replicas),
                        self.dist(system.defaults.network, name, "network"),
                        uniforms(self.rng(name, "errors")), component.io == "blocking")
            comp.index = index
            self.component_policies(comp, component)
            for replica in replicas:
                replica.processor = self.processor(component)
            comps.append(comp)
            for oname, operation in component.effective_operations.items():
                op = Op(comp, oname, self.dist(operation.demand, name, oname, "work"),
                        self.dist(operation.post_work, name, oname, "post_work"),
                        operation.error_rate)
                self.timing(op, component, operation.wait, name, oname)
                comp.ops[oname] = op
                ops[f"{name}.{oname}"] = op
            request, _ = system.overhead(name)
            comp.mean_work = sum(o.demand.mean_s + o.wait.mean_s + request.mean_s
                                 for o in component.effective_operations.values()
                                 ) / max(1, len(component.effective_operations))
        calls: list[CallPlan] = []
        data = DataBuilder(system, self.rng)
        for name, component in system.components.items():
            for oname, operation in component.effective_operations.items():
                op = ops[f"{name}.{oname}"]
                caller = f"{name}.{oname}"
                for index, step in enumerate(operation.calls):
                    if isinstance(step, SagaBlock):
                        op.steps.append(data.saga(ops, caller, index, step.saga,
                                                  partial(self.added_call, ops, calls, caller)))
                    elif not isinstance(step, ParallelStep) and step.outbox is not None:
                        op.steps.append(data.outbox(ops, op.comp, caller, index, step))
                    elif isinstance(step, ParallelStep):
                        branch_plans = [self.call(ops, f"{name}.{oname}", (index, b), call)
                                        for b, call in enumerate(step.parallel.calls)]
                        calls += branch_plans
                        wait_for = step.parallel.wait_for
                        need = (len(branch_plans) if wait_for == "all"
                                else 1 if wait_for == "any" else int(wait_for))
                        op.steps.append(ParPlan(branch_plans, need))
                    else:
                        plan = self.call(ops, f"{name}.{oname}", (index,), step)
                        calls.append(plan)
                        op.steps.append(plan)
                if component.kind is Kind.CACHE and component.backend and component.hit_ratio \
                        is not None:
                    miss = CallPlan(f"{name}.{oname}", ops[".".join(system.resolve(
                        component.backend))])
                    miss.prob = 1.0 - component.hit_ratio
                    miss.coin = uniforms(self.rng(name, oname, "cache-miss"))
                    calls.append(miss)
                    op.steps.insert(0, miss)
        data.event_stores(ops)
        consistency = build_consistency(system, self.rng, comps, ops, calls.append)
        for index, plan in enumerate(calls):
            plan.index = index
            target = plan.target.comp
            plan.extras = (plan.breaker or plan.bulkhead_limit > 0 or plan.retry_cap >= 0
                           or target.outlier is not None or target.pool_limit > 0)
        consumptions = data.subscriptions(ops)
        subscriptions: list[Subscription] = list(consumptions)
        workloads = [self.workload(ops, w_index) for w_index in range(len(system.workloads))]
        faults = self.faults(comps)
        areas = build_control(system, self, comps, consumptions, self.replica)
        cores: list[Area] = [self.cores] if any(
            c.core_limit is not None for c in system.components.values()) else []
        return Plan(comps, ops, calls, workloads, subscriptions, faults,
                    system.simulation.traces, data.areas() + consistency + areas + cores,
                    self.summed_faults)

    def summed_faults(self, effect: str, indices: tuple[int, ...]) -> Sampler:
        """The draws of several faults active at once on one target added up: their added
        latency (`effect` "latency"), or the hop's own delay plus each fault's extra network
        delay ("network"). Its stream is named after the faults, so it is the same whichever
        started first."""
        faults = [self.system.faults[i] for i in indices]
        if effect == "network":
            dists: list[AnyDistribution] = [self.system.defaults.network]
            dists += [f.network for f in faults if f.network is not None]
        else:
            dists = [f.latency.add for f in faults if f.latency and f.latency.add is not None]
        fn = batch_function(dists[0])
        for dist in dists[1:]:
            fn = summed(fn, batch_function(dist))
        return Sampler(fn, self.rng("fault", "+".join(map(str, indices)), effect),
                       sum(d.mean_s for d in dists))

    def replica(self, comp: Comp, index: int) -> Replica:
        """A replica added during the run (autoscaling, rollouts), set up as the first ones."""
        rep = Replica(index, comp.name in self.crash_targets)
        component = self.system.components[comp.name]
        if component.load_shedding is not None:
            rep.shedder = _shedder(component.load_shedding)
        rep.processor = self.processor(component)
        return rep

    def processor(self, component: Component) -> Processor | None:
        """A replica's cores, when the component models them."""
        cores = component.core_limit
        return None if cores is None else processor(self.cores, cores, component.event_loop)

    def timing(self, op: Op, component: Component, wait: AnyDistribution, *names: str) -> None:
        """What the CPU model adds to an operation: `wait`, the runtime's overheads, and
        whether the kernel must take its CPU-model path (also for cores alone)."""
        request, call = self.system.overhead(names[0])
        op.wait = self.dist(wait, *names, "wait")
        op.overhead = self.dist(request, *names, "overhead")
        op.call_overhead = self.dist(call, *names, "call-overhead")
        op.modelled = (op.wait is not None or op.overhead is not None
                       or component.core_limit is not None)

    def component_policies(self, comp: Comp, component: Component) -> None:
        """Admission, shedding, connection pools, outlier detection and probes."""
        if component.rate_limit is not None:
            comp.limiter_factory = _limiter_factory(component.rate_limit)
            comp.limit_mode = ((1 if component.rate_limit.scope == "replica" else 0)
                               | (2 if component.rate_limit.per_workload else 0))
        shedding = component.load_shedding
        if shedding is not None:
            for replica in comp.replicas:
                replica.shedder = _shedder(shedding)
        pool = component.connection_pool
        if pool is not None:
            comp.pool_limit = (pool.max_requests if pool.http2
                               else min(pool.max_connections, pool.max_requests))
            comp.pool_queue = 0 if pool.http2 else pool.max_pending_requests
        outlier = component.outlier_detection
        if outlier is not None:
            comp.outlier = OutlierDetector(len(comp.replicas), outlier.consecutive_5xx,
                                           outlier.interval, outlier.base_ejection_time,
                                           outlier.max_ejection_time,
                                           outlier.max_ejection_percent)
        health = component.health
        if health is not None:
            plan = HealthPlan()
            plan.restart_delay = health.restart_delay
            if health.readiness is not None:
                probe = health.readiness
                plan.ready_period, plan.ready_timeout = probe.period, probe.timeout
                plan.ready_threshold, plan.ready_success = (probe.failure_threshold,
                                                            probe.success_threshold)
                plan.ready_delay = probe.initial_delay
            if health.liveness is not None:
                probe = health.liveness
                plan.live_period, plan.live_timeout = probe.period, probe.timeout
                plan.live_threshold, plan.live_delay = probe.failure_threshold, \
                    probe.initial_delay
            comp.health = plan

    def added_call(self, ops: dict[str, Op], calls: list[CallPlan], caller: str,
                   where: tuple[int | str, ...], call: Call) -> CallPlan:
        """A call an area makes (a saga's step), listed with the others."""
        plan = self.call(ops, caller, where, call)
        calls.append(plan)
        return plan

    def call(self, ops: dict[str, Op], caller: str, where: tuple[int | str, ...], call: Call) \
            -> CallPlan:
        call = self.system.effective(call)
        timeout, retry, breaker, bulkhead = (call.timeout, call.retry, call.circuit_breaker,
                                             call.bulkhead)
        target = ops[".".join(self.system.resolve(call.to))]
        plan = CallPlan(caller, target)
        names = (caller, "call", *map(str, where))
        plan.timeout = timeout or 0.0
        plan.deadline = call.deadline or 0.0
        plan.propagate = call.propagate_deadline
        plan.async_ = call.async_
        if call.probability < 1.0:
            plan.prob = call.probability
            plan.coin = uniforms(self.rng(*names, "probability"))
        if retry is not None:
            plan.attempts = retry.attempts
            plan.retry_on = sum(1 << CAUSE_NAMES.index(cause) for cause in retry.on)
            plan.backoff = Backoff(retry.backoff, retry.jitter, retry.base, retry.max,
                                   uniforms(self.rng(*names, "backoff")))
            if retry.budget is not None:
                plan.budget = BudgetSettings(retry.budget.ratio, retry.budget.min_per_s,
                                             retry.budget.window)
            plan.retry_cap = -1 if retry.max_concurrent is None else retry.max_concurrent
            plan.other_replica = retry.other_replica
        if breaker is not None:
            plan.breaker = True
            plan.breaker_settings = BreakerSettings(
                breaker.window_type, breaker.window, breaker.min_calls, breaker.failure_rate,
                breaker.slow_call_rate, breaker.slow_call_duration, breaker.open_for,
                breaker.half_open_calls, shared=breaker.scope == "service",
                open_for_multiplier=breaker.open_for_multiplier,
                open_for_max=breaker.open_for_max or 0.0,
                automatic_half_open=breaker.automatic_half_open,
                max_wait_in_half_open=breaker.max_wait_in_half_open)
        if bulkhead is not None:
            if bulkhead.type == "semaphore":
                plan.bulkhead_limit = bulkhead.max_concurrent
                plan.bulkhead_queue = -1 if bulkhead.max_wait > 0 else 0
                plan.bulkhead_wait = bulkhead.max_wait
            else:
                plan.bulkhead_limit, plan.bulkhead_queue = bulkhead.size, bulkhead.queue
            plan.bulkhead_shared = bulkhead.scope == "service"
        if call.hedge is not None:
            hedge = call.hedge
            plan.hedge_max = hedge.max
            plan.hedge_budget = -1.0 if hedge.budget is None else hedge.budget
            if isinstance(hedge.after, str):
                digits = hedge.after[1:]
                quantile = 0.999 if digits == "999" else int(digits) / 100.0
                plan.hedge_tracker = LatencyTracker(quantile)
            else:
                plan.hedge_after = hedge.after
        if call.on_failure == "continue":
            plan.on_failure = CONTINUE
        elif isinstance(call.on_failure, Fallback):
            plan.on_failure = FALLBACK
            plan.fallback = self.dist(call.on_failure.fallback, *names, "fallback")
            plan.degraded = call.on_failure.degraded
        return plan

    def workload(self, ops: dict[str, Op], index: int) -> Workload:
        spec = self.system.workloads[index]
        names = ("workload", spec.name)
        points = [(p.at, p.rate, p.ramp == "linear") for p in spec.profile or []]
        initial = spec.rate if spec.rate is not None else 0.0
        arrivals = Arrivals(segments(initial, points), spec.arrivals == "poisson",
                            Sampler(lambda g, n: g.exponential(1.0, n),
                                    self.rng(*names, "arrivals"), 1.0),
                            uniforms(self.rng(*names, "thinning")))
        wl = Workload(spec.name, ops[".".join(self.system.resolve(spec.to))], arrivals)
        wl.index = index
        wl.preview = spec.preview
        if spec.users is not None:
            wl.users = spec.users
            wl.think = sampler(spec.think, self.rng(*names, "think"))
        keys = spec.key_space
        if keys is not None:
            wl.keys = _key_sampler(keys.count, keys.skew, self.rng(*names, "keys"))
        traces = self.system.simulation.traces
        if traces:
            expected = _expected_requests(spec, self.system.simulation.warmup
                                          + self.system.simulation.duration)
            wl.trace_every = max(1, math.ceil(expected / (traces * TRACE_CANDIDATES)))
        return wl

    def faults(self, comps: list[Comp]) -> list[tuple[float, FaultAction]]:
        by_name = {comp.name: comp for comp in comps}
        actions: list[tuple[float, FaultAction]] = []
        network = self.system.defaults.network
        for index, fault in enumerate(self.system.faults):
            comp = by_name[fault.component]
            replicas = comp.replicas if fault.replica is None else [comp.replicas[fault.replica]]
            latency = fault.latency
            work_mul = latency.multiply if latency and latency.multiply else 1.0
            work_add = (sampler(latency.add, self.rng("fault", str(index), "latency"))
                        if latency and latency.add is not None else None)
            until = fault.at + fault.for_ if fault.for_ is not None else math.inf
            for start in (True, False):
                if not start and math.isinf(until):
                    continue
                action = FaultAction(index, comp, replicas, start, fault.crash,
                                     fault.error_rate or 0.0, work_mul, work_add)
                action.until = until
                action.graceful = fault.graceful
                if fault.network is not None:
                    action.net = Sampler(summed(batch_function(network),
                                                batch_function(fault.network)),
                                         self.rng("fault", str(index), "network"),
                                         network.mean_s + fault.network.mean_s)
                if fault.partition is not None:
                    action.partition = by_name[fault.partition.with_].index
                    action.partition_fast = fault.partition.mode == "fail_fast"
                if fault.pause is not None:
                    action.pause_every, action.pause_for = fault.pause.every, fault.pause.for_
                if fault.random_failures is not None:
                    action.mtbf = fault.random_failures.mtbf
                    action.mttr = fault.random_failures.mttr
                    action.random_draws = Sampler(lambda g, n: g.exponential(1.0, n),
                                                  self.rng("fault", str(index), "random"), 1.0)
                actions.append((fault.at if start else until, action))
        return actions


def _shedder(shedding: LoadShedding) -> MaxWait | CoDel:
    if shedding.max_queue_wait is not None:
        return MaxWait(shedding.max_queue_wait)
    return CoDel(shedding.codel_target or 0.0, shedding.codel_interval)


def _limiter_factory(limit: RateLimit) -> Callable[[], Limiter]:
    if limit.algorithm == "token_bucket":
        burst = float(limit.burst) if limit.burst is not None else max(1.0, limit.rate)

        def bucket() -> Limiter:
            return TokenBucket(limit.rate, burst)
        return bucket
    size = max(1, round(limit.rate * limit.window))

    def window() -> Limiter:
        return SlidingWindow(size, limit.window)
    return window


def _expected_requests(spec: WlSpec, horizon: float) -> float:
    """A generous estimate of a workload's requests, to spread trace sampling over a run."""
    if spec.users is not None:
        return spec.users * horizon / max(spec.think.mean_s, 1e-3)
    rates = [spec.rate or 0.0] + [p.rate for p in spec.profile or []]
    return max(rates) * horizon


def _key_sampler(count: int, skew: float, rng: np.random.Generator) -> Sampler:
    """Keys 0..count-1, Zipf-distributed with exponent `skew` (uniform at 0)."""
    with np.errstate(over="ignore"):  # a huge skew: the far keys' weights are 0
        weights = 1.0 / np.arange(1, count + 1, dtype=float) ** skew
    cdf = np.cumsum(weights / weights.sum())
    cdf[-1] = 1.0
    return Sampler(lambda g, n: np.searchsorted(cdf, g.random(n), side="right").astype(float),
                   rng, float(np.dot(np.arange(count), weights / weights.sum())))


def compile_system(system: System, seed: int, replication: int = 0) -> Plan:
    return _Builder(system, seed, replication).build()
