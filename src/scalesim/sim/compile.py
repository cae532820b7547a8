"""System -> runtime plan: numbered plain objects, samplers with their own random streams."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
from scalesim.sim.plan import (
    CONTINUE,
    FALLBACK,
    UNLIMITED,
    CallPlan,
    Comp,
    FaultAction,
    Op,
    ParPlan,
    Replica,
    Subscription,
    Workload,
)
from scalesim.sim.random import Sampler, sampler, stream, uniforms
from scalesim.spec.dists import AnyDistribution, Constant
from scalesim.spec.model import Call, Component, Fallback, Kind, ParallelStep, System

CAUSE_BITS = {"timeout": 1, "rejected": 2, "error": 3, "circuit_open": 4, "crashed": 5}


@dataclass
class Plan:
    comps: list[Comp]
    ops: dict[str, Op]  # "component.operation"
    calls: list[CallPlan]
    workloads: list[Workload]
    subscriptions: list[Subscription]
    faults: list[tuple[float, FaultAction]]  # (time, start or end of a fault)


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
        crash_targets = {fault.component for fault in system.faults if fault.crash}
        comps: list[Comp] = []
        ops: dict[str, Op] = {}
        for name, component in system.components.items():
            replicas = [Replica(i, name in crash_targets) for i in range(component.replicas)]
            workers = component.worker_limit
            comp = Comp(name, component.kind.value, replicas,
                        UNLIMITED if workers is None else workers,
                        -1 if component.queue is None else component.queue,
                        self.balancer(name, component, replicas),
                        self.dist(system.defaults.network, name, "network"),
                        uniforms(self.rng(name, "errors")), component.io == "blocking")
            comps.append(comp)
            for oname, operation in component.effective_operations.items():
                op = Op(comp, oname, self.dist(operation.work, name, oname, "work"),
                        self.dist(operation.post_work, name, oname, "post_work"),
                        operation.error_rate)
                comp.ops[oname] = op
                ops[f"{name}.{oname}"] = op
        calls: list[CallPlan] = []
        for name, component in system.components.items():
            for oname, operation in component.effective_operations.items():
                op = ops[f"{name}.{oname}"]
                for index, step in enumerate(operation.calls):
                    if isinstance(step, ParallelStep):
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
        subscriptions = self.subscriptions(ops)
        workloads = [self.workload(ops, w_index) for w_index in range(len(system.workloads))]
        return Plan(comps, ops, calls, workloads, subscriptions, self.faults(comps))

    def faults(self, comps: list[Comp]) -> list[tuple[float, FaultAction]]:
        by_name = {comp.name: comp for comp in comps}
        actions: list[tuple[float, FaultAction]] = []
        for index, fault in enumerate(self.system.faults):
            comp = by_name[fault.component]
            replicas = comp.replicas if fault.replica is None else [comp.replicas[fault.replica]]
            latency = fault.latency
            work_mul = latency.multiply if latency and latency.multiply else 1.0
            work_add = (sampler(latency.add, self.rng("fault", str(index), "latency"))
                        if latency and latency.add is not None else None)
            error_rate = fault.error_rate or 0.0
            actions.append((fault.at, FaultAction(index, comp, replicas, True, fault.crash,
                                                  error_rate, work_mul, work_add)))
            if fault.for_ is not None:
                actions.append((fault.at + fault.for_, FaultAction(
                    index, comp, replicas, False, fault.crash, error_rate, work_mul, work_add)))
        return actions

    def call(self, ops: dict[str, Op], caller: str, where: tuple[int, ...], call: Call) \
            -> CallPlan:
        target = ops[".".join(self.system.resolve(call.to))]
        plan = CallPlan(caller, target)
        names = (caller, "call", *map(str, where))
        plan.timeout = call.timeout or 0.0
        plan.async_ = call.async_
        if call.probability < 1.0:
            plan.prob = call.probability
            plan.coin = uniforms(self.rng(*names, "probability"))
        if call.retry is not None:
            retry = call.retry
            plan.attempts = retry.attempts
            plan.retry_on = sum(1 << CAUSE_BITS[cause] for cause in retry.on)
            plan.backoff = Backoff(retry.backoff, retry.jitter, retry.base, retry.max,
                                   uniforms(self.rng(*names, "backoff")))
        if call.circuit_breaker is not None:
            breaker = call.circuit_breaker
            plan.breaker = True
            plan.breaker_settings = BreakerSettings(
                breaker.window_type, breaker.window, breaker.min_calls, breaker.failure_rate,
                breaker.slow_call_rate, breaker.slow_call_duration, breaker.open_for,
                breaker.half_open_calls, shared=breaker.scope == "service")
        if call.on_failure == "continue":
            plan.on_failure = CONTINUE
        elif isinstance(call.on_failure, Fallback):
            plan.on_failure = FALLBACK
            plan.fallback = self.dist(call.on_failure.fallback, *names, "fallback")
        return plan

    def subscriptions(self, ops: dict[str, Op]) -> list[Subscription]:
        result = []
        for name, component in self.system.components.items():
            if component.kind is not Kind.QUEUE:
                continue
            comp_ops = [op for key, op in ops.items() if key.split(".", 1)[0] == name]
            for consumer in component.consumers:
                sub = Subscription(comp_ops[0].comp, ops[".".join(self.system.resolve(
                    consumer.to))], consumer.concurrency,
                    -1 if component.capacity is None else component.capacity)
                for op in comp_ops:
                    op.subs.append(sub)
                result.append(sub)
        return result

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
        if spec.users is not None:
            wl.users = spec.users
            wl.think = sampler(spec.think, self.rng(*names, "think"))
        keys = spec.key_space
        if keys is not None:
            wl.keys = _key_sampler(keys.count, keys.skew, self.rng(*names, "keys"))
        return wl


def _key_sampler(count: int, skew: float, rng: np.random.Generator) -> Sampler:
    """Keys 0..count-1, Zipf-distributed with exponent `skew` (uniform at 0)."""
    weights = 1.0 / np.arange(1, count + 1, dtype=float) ** skew
    cdf = np.cumsum(weights / weights.sum())
    cdf[-1] = 1.0
    return Sampler(lambda g, n: np.searchsorted(cdf, g.random(n), side="right").astype(float),
                   rng, float(np.dot(np.arange(count), weights / weights.sum())))


def compile_system(system: System, seed: int, replication: int = 0) -> Plan:
    return _Builder(system, seed, replication).build()
