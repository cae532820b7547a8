"""Compile the control blocks of a spec into areas: replica sets for every component an
autoscaler or a rollout changes, its versions' operations, the autoscalers, the rollouts and
the cluster's nodes. Each random draw has a stream of its own (component, version, purpose),
so adding a controller reshuffles nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from scalesim.sim.area import Area
from scalesim.sim.control.autoscaler import Autoscalers, Scaler
from scalesim.sim.control.cluster import NodePool
from scalesim.sim.control.fleet import Fleet, VersionPlan
from scalesim.sim.control.replicasets import ReplicaSets
from scalesim.sim.control.rollout import RolloutRun, Rollouts
from scalesim.sim.data.delivery import FifoSubscription
from scalesim.sim.data.messages import Consumption
from scalesim.sim.mechanisms.balancer import Balancer
from scalesim.sim.plan import UNLIMITED, Comp, Op, Replica
from scalesim.sim.random import Sampler, uniforms
from scalesim.spec.data import Consumer
from scalesim.spec.dists import AnyDistribution
from scalesim.spec.model import BASE_VERSION, Component, Kind, System


class Builder(Protocol):
    def rng(self, *names: str) -> np.random.Generator: ...

    def dist(self, dist: AnyDistribution, *names: str) -> Sampler | None: ...

    def balancer(self, name: str, component: Component, replicas: list[Replica]) -> Balancer: ...

    def timing(self, op: Op, component: Component, wait: AnyDistribution, *names: str) -> None: ...


def controlled(component: Component) -> bool:
    return component.autoscale is not None or component.rollout is not None


def build_control(system: System, builder: Builder, comps: list[Comp],
                  subscriptions: list[Consumption],
                  make_replica: Callable[[Comp, int], Replica]) -> list[Area]:
    """The areas of the spec's control loops (none when it has none)."""
    fleets: dict[str, Fleet] = {}
    for comp in comps:
        component = system.components[comp.name]
        if controlled(component):
            fleets[comp.name] = _fleet(system, builder, comp, component, make_replica)
    for sub in subscriptions:
        fleet = fleets.get(sub.target.comp.name)
        consumer = _prefetching(system, sub)
        if fleet is not None and consumer is not None:
            fleet.prefetch.append((sub, consumer))
    if not fleets and system.cluster is None:
        return []
    fixed = sum(c.replicas for n, c in system.components.items()
                if n not in fleets and c.kind is not Kind.EXTERNAL)
    nodes = NodePool(system.cluster) if system.cluster is not None else None
    areas: list[Area] = [ReplicaSets(list(fleets.values()), nodes, fixed)]
    scalers = []
    for name, fleet in fleets.items():
        spec = system.components[name].autoscale
        if spec is not None:
            queues = {m.of: [s for s in subscriptions
                             if s.queue.name == m.of and s.target.comp is fleet.comp]
                      for m in spec.queue_metrics}
            scalers.append(Scaler(fleet, spec, queues))
    if scalers:
        areas.append(Autoscalers(scalers))
    previewed = system.preview_targets()
    runs = [RolloutRun(fleet, rollout, system.components[name].versions, name in previewed)
            for name, fleet in fleets.items()
            if (rollout := system.components[name].rollout) is not None]
    if runs:
        areas.append(Rollouts(runs))
    return areas


def _prefetching(system: System, sub: Consumption) -> Consumer | None:
    """The consumer of `sub` whose deliveries in flight follow its replicas (a prefetch per
    replica), or None."""
    if not isinstance(sub, FifoSubscription):
        return None  # a partitioned topic has one consumer per partition, not a prefetch
    queue = system.components[sub.queue.name]
    target = f"{sub.target.comp.name}.{sub.target.name}"
    for consumer in queue.consumers:
        if ".".join(system.resolve(consumer.to)) == target and consumer.prefetch is not None:
            return consumer
    return None


def _fleet(system: System, builder: Builder, comp: Comp, component: Component,
           make_replica: Callable[[Comp, int], Replica]) -> Fleet:
    name = comp.name
    comp.live = list(comp.replicas)  # its own list: `replicas` keeps every replica it had
    comp.balancer.update(comp.live)
    versions = [VersionPlan(0, BASE_VERSION, None,
                            builder.dist(component.startup, name, "startup"))]
    for vname, version in component.versions.items():
        ops: dict[str, Op] = {}
        for oname, base in comp.ops.items():
            spec = component.effective_operations[oname]
            change = version.operations.get(oname)
            demand = change.cpu or change.work if change else None
            work = demand if demand is not None else spec.demand
            wait = change.wait if change and change.wait is not None else spec.wait
            post = change.post_work if change and change.post_work is not None \
                else spec.post_work
            error = change.error_rate if change and change.error_rate is not None \
                else spec.error_rate
            op = Op(comp, oname, builder.dist(work, name, vname, oname, "work"),
                    builder.dist(post, name, vname, oname, "post_work"), error)
            builder.timing(op, component, wait, name, vname, oname)
            op.steps = base.steps  # the same calls: a version changes work and errors only
            op.subs = base.subs
            base.variants.append(op)
            ops[oname] = op
        startup = version.startup if version.startup is not None else component.startup
        versions.append(VersionPlan(len(versions), vname, ops,
                                    builder.dist(startup, name, vname, "startup")))
    if component.rollout is not None:
        comp.lane_coin = uniforms(builder.rng(name, "versions"))
    workers = component.worker_limit
    fleet = Fleet(comp, versions, lambda index: make_replica(comp, index),
                  lambda version, live: builder.balancer(f"{name}/{version}", component, live),
                  0 if workers is None or workers >= UNLIMITED else workers, component.replicas)
    fleet.cores = component.core_limit
    return fleet
