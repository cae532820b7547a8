"""Spec -> data mechanisms: subscriptions with their delivery settings, sagas, outbox relays
and event stores, each with its own random streams, and the areas that run them."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from scalesim.sim.area import Area
from scalesim.sim.data.delivery import FifoSubscription
from scalesim.sim.data.event_store import EventStore, StoreStep
from scalesim.sim.data.messages import GUARANTEES, Consumption, DeadLetterQueue, Settings
from scalesim.sim.data.messaging import MessagingArea
from scalesim.sim.data.outbox import OutboxArea, OutboxWrite, Relay
from scalesim.sim.data.partitions import GroupSettings, PartitionedSubscription
from scalesim.sim.data.saga import SagaArea, SagaPlan, StepPlan
from scalesim.sim.mechanisms.backoff import Backoff
from scalesim.sim.plan import CAUSE_NAMES, CallPlan, Comp, Op
from scalesim.sim.random import sampler, uniforms
from scalesim.spec.data import Consumer, ConsumerGroup, Delivery, most_in_flight
from scalesim.spec.dists import Constant
from scalesim.spec.model import Call, Kind, Saga, System
from scalesim.spec.resilience import Retry

Rng = Callable[..., np.random.Generator]
MakeCall = Callable[[tuple[int | str, ...], Call], CallPlan]


class DataBuilder:
    def __init__(self, system: System, rng: Rng) -> None:
        self.system = system
        self.rng = rng
        self.traces = system.simulation.traces
        self.sagas: list[SagaPlan] = []
        self.relays: list[Relay] = []
        self.stores: list[EventStore] = []
        self.subs: list[Consumption] = []
        self.dead_letters: list[DeadLetterQueue] = []

    def op(self, ops: dict[str, Op], ref: str) -> Op:
        return ops[".".join(self.system.resolve(ref))]

    # -- steps ----------------------------------------------------------------------------------
    def saga(self, ops: dict[str, Op], caller: str, index: int, saga: Saga,
             make_call: MakeCall) -> SagaPlan:
        system = self.system
        steps = []
        for number, step in enumerate(saga.steps):
            step_plan = StepPlan(step.label, self.op(ops, step.to))
            forward = saga.with_policy(step.as_call())
            undo = None if step.compensate is None else saga.with_policy(step.compensate)
            where: tuple[int | str, ...] = (index, "saga", number)
            if saga.coordination == "orchestration":
                step_plan.call = make_call(where, forward)
                if undo is not None:
                    step_plan.compensation = make_call((*where, "compensate"), undo)
            else:
                effective = system.effective(forward)
                step_plan.timeout = effective.timeout or 0.0
                step_plan.attempts, step_plan.backoff, step_plan.retry_on = self._redelivery(
                    effective.retry, caller, "saga", str(index), str(number))
                if undo is not None:
                    step_plan.undo_target = self.op(ops, undo.to)
                    (step_plan.undo_attempts, step_plan.undo_backoff,
                     step_plan.undo_retry_on) = self._redelivery(
                        system.effective(undo).retry, caller, "saga", str(index), str(number),
                        "compensate")
            steps.append(step_plan)
        name = caller if not any(s.name == caller for s in self.sagas) else f"{caller}#{index}"
        transition = saga.transition
        instant = isinstance(transition, Constant) and transition.value == 0.0
        sampled = None if instant else sampler(transition,
                                               self.rng(caller, "saga", str(index), "transition"))
        via = None if saga.via is None else self.op(ops, saga.via)
        plan = SagaPlan(name, steps, saga.pivot, saga.coordination == "choreography",
                        sampled, via, self.traces)
        self.sagas.append(plan)
        return plan

    def _redelivery(self, retry: Retry | None,
                    *names: str) -> tuple[int, Backoff | None, int]:
        """Attempts, back-off and the causes delivered again (as the kernel's retry mask)."""
        if retry is None:
            return 1, None, 0
        mask = sum(1 << CAUSE_NAMES.index(cause) for cause in retry.on)
        return retry.attempts, Backoff(retry.backoff, retry.jitter, retry.base, retry.max,
                                       uniforms(self.rng(*names, "backoff"))), mask

    def outbox(self, ops: dict[str, Op], host: Comp, caller: str, index: int,
               call: Call) -> OutboxWrite:
        spec = call.outbox
        assert spec is not None
        target = self.op(ops, call.to)
        no_lag = isinstance(spec.lag, Constant) and spec.lag.value == 0.0
        lag = None if no_lag else sampler(spec.lag, self.rng(caller, "outbox", str(index), "lag"))
        relay = Relay(f"{caller}->{target.comp.name}.{target.name}", target, host,
                      spec.relay == "polling", spec.poll_interval, spec.poll_batch, lag,
                      spec.offset_flush)
        self.relays.append(relay)
        return OutboxWrite(relay)

    # -- components -----------------------------------------------------------------------------
    def event_stores(self, ops: dict[str, Op]) -> None:
        """Every event store's load step goes first in its `append` and `load` operations."""
        for name, component in self.system.components.items():
            spec = component.event_store
            if spec is None:
                continue
            store = EventStore(name, spec.streams, spec.initial_events, spec.read_per_event,
                               spec.snapshot_every or 0, spec.snapshot_read)
            self.stores.append(store)
            ops[f"{name}.{spec.append}"].steps.insert(0, StoreStep(store, True))
            if spec.load is not None:
                ops[f"{name}.{spec.load}"].steps.insert(0, StoreStep(store, False))

    def subscriptions(self, ops: dict[str, Op]) -> list[Consumption]:
        """The subscriptions of every queue and event store, published to by their
        operations; dead-letter queues are wired once all exist."""
        system = self.system
        by_queue: dict[str, list[Consumption]] = {}
        for name, component in system.components.items():
            if component.kind is Kind.QUEUE:
                publish_ops = _operations_of(ops, name)
                subs = [self._subscription(ops, name, publish_ops[0].comp, consumer,
                                           component.delivery, component.partitions)
                        for consumer in component.consumers]
                for op in publish_ops:
                    op.subs += subs
                by_queue[name] = subs
            elif component.event_store is not None:
                append = ops[f"{name}.{component.event_store.append}"]
                projection = Delivery(guarantee="at_least_once", redelivery="requeue")
                append.subs += [self._subscription(ops, name, append.comp, consumer,
                                                   projection, None)
                                for consumer in component.event_store.projections]
        for name, component in system.components.items():
            delivery = component.delivery
            if delivery is None or delivery.dead_letter is None:
                continue
            target = next((d for d in self.dead_letters if d.name == delivery.dead_letter),
                          None)
            if target is None:
                target = DeadLetterQueue(delivery.dead_letter,
                                         _operations_of(ops, delivery.dead_letter)[0])
                target.subs = by_queue.get(delivery.dead_letter, [])
                self.dead_letters.append(target)
            for sub in by_queue[name]:
                sub.dead_letter = target
        return self.subs

    def _subscription(self, ops: dict[str, Op], owner: str, comp: Comp, consumer: Consumer,
                      delivery: Delivery | None, partitions: int | None) -> Consumption:
        target = self.op(ops, consumer.to)
        capacity = self.system.components[owner].capacity
        # a topic's is members per replica; otherwise the subscription's in flight, prefetch
        # following the replicas (spec.data.most_in_flight, as the estimate and lint count it)
        concurrency = consumer.concurrency if partitions is not None \
            else most_in_flight(consumer, None, len(target.comp.replicas))
        settings = Settings(len(self.subs), comp, target, concurrency,
                            -1 if capacity is None else capacity)
        settings.idempotent = consumer.idempotent
        settings.trace_quota = self.traces
        if delivery is not None:
            settings.guarantee = GUARANTEES.index(delivery.guarantee)
            settings.requeue = delivery.redelivery == "requeue"
            settings.visibility = delivery.visibility_timeout
            settings.max_deliveries = delivery.max_deliveries or 0
            settings.dedup_window = delivery.dedup_window
            settings.commit_interval = delivery.commit_interval
            if delivery.poison > 0.0:
                settings.poison = delivery.poison
                settings.poison_coin = uniforms(self.rng(owner, consumer.to, "poison"))
        sub: Consumption
        if partitions is None:
            sub = FifoSubscription(settings)
        else:
            group = self.system.components[owner].group or ConsumerGroup()
            sub = PartitionedSubscription(settings, partitions, GroupSettings(
                group.session_timeout, group.rebalance == "cooperative",
                group.rebalance_time))
        self.subs.append(sub)
        return sub

    def areas(self) -> list[Area]:
        areas: list[Area] = []
        if self.subs:
            areas.append(MessagingArea(self.subs, self.dead_letters))
        if self.sagas:
            areas.append(SagaArea(self.sagas))
        if self.relays:
            areas.append(OutboxArea(self.relays))
        areas += self.stores
        return areas


def _operations_of(ops: dict[str, Op], component: str) -> list[Op]:
    """A component's operations (a queue's publish operations), in the spec's order."""
    return [op for key, op in ops.items() if key.split(".", 1)[0] == component]
