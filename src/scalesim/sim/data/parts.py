"""What the data mechanisms leave behind after one replication, as plain data that pickles
and pools (merge rules in sim/merge.py): one part per subscription, dead-letter queue, saga,
outbox relay and event store. `data_part` reads them off a finished kernel; report.py turns
the pooled parts into the result's sections.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from scalesim.sim.data.consistency_report import ConsistencyParts, consistency_parts
from scalesim.sim.data.event_store import EventStore
from scalesim.sim.data.messages import GUARANTEES, Consumption
from scalesim.sim.data.messaging import MessagingArea
from scalesim.sim.data.outbox import OutboxArea, Relay
from scalesim.sim.data.partitions import PartitionedSubscription
from scalesim.sim.data.saga import SagaArea, SagaPlan
from scalesim.sim.merge import APPENDED, FIXED, First, Peak
from scalesim.sim.metrics import Histogram

if TYPE_CHECKING:
    from scalesim.sim.kernel import Kernel

T = TypeVar("T")
# a sampled message: number, published at, partition, offset, [outcome], [start, end, cause]…
MessageTrace = tuple[int, float, int, int, list[list[float]]]
# a sampled saga: started at, outcome (-1: unfinished), (step, kind, start, end, cause, attempts)…
SagaTrace = tuple[float, int, list[tuple[str, str, float, float, int, int]]]


@dataclass
class PartitionPart:
    delivered: int
    lag_end: int  # records not yet committed at the end
    lag_max: Peak[int]


@dataclass
class SubscriptionPart:
    """One subscription of a queue (or of an event store: a projection)."""

    queue: str = field(metadata=FIXED)
    to: str = field(metadata=FIXED)  # the consumer, "component.operation"
    queue_kind: str = field(metadata=FIXED)
    concurrency: int = field(metadata=FIXED)
    guarantee: str = field(metadata=FIXED)
    idempotent: bool = field(metadata=FIXED)
    dead_letter: str | None = field(metadata=FIXED)  # the dead-letter queue's name
    max_deliveries: int | None = field(metadata=FIXED)  # None: unlimited
    published: int
    delivered: int
    failed: int
    deliveries: int
    redelivered: int
    duplicates: int
    deduplicated: int
    dead_lettered: int
    lost: int
    settled: int
    settled_deliveries: int
    backlog_start: int
    backlog_end: int
    oldest_start_s: Peak[float]
    oldest_end_s: Peak[float]
    lag: Histogram
    backlog_samples: list[float] = field(metadata=APPENDED)  # once per interval
    oldest_samples: list[float] = field(metadata=APPENDED)  # age of the oldest, s
    partitions: list[PartitionPart] | None  # a Kafka-style subscription's
    rebalances: First[list[tuple[float, str, int, float, int]]]
    traces: First[list[MessageTrace]]

    @property
    def name(self) -> str:
        return f"{self.queue}->{self.to}"


@dataclass
class DeadLetterPart:
    name: str = field(metadata=FIXED)
    received: int


@dataclass
class SagaStepPart:
    label: str = field(metadata=FIXED)
    to: str = field(metadata=FIXED)
    pivot: bool = field(metadata=FIXED)
    failed: int
    compensated: int


@dataclass
class SagaPart:
    name: str = field(metadata=FIXED)
    choreography: bool = field(metadata=FIXED)
    started: int
    outcomes: list[int]
    duration: Histogram
    compensation: Histogram
    inconsistency: Histogram
    steps: list[SagaStepPart]
    traces: First[list[SagaTrace]]


@dataclass
class RelayPart:
    """An outbox and its relay."""

    name: str = field(metadata=FIXED)
    polling: bool = field(metadata=FIXED)
    written: int
    publishes: int
    duplicates: int
    delay: Histogram
    polls: int
    backlog_end: int
    backlog_max: Peak[int]


@dataclass
class StorePart:
    """An event store; its projections are the subscriptions whose queue it is."""

    name: str = field(metadata=FIXED)
    read_per_event: float = field(metadata=FIXED)
    appends: int
    conflicts: int
    snapshots: int
    loads: int
    load_time: Histogram
    replayed: int
    replayed_without: int


@dataclass
class DataPart:
    subscriptions: list[SubscriptionPart]
    dead_letters: list[DeadLetterPart]
    sagas: list[SagaPart]
    relays: list[RelayPart]
    stores: list[StorePart]
    # replication, elections and caches: pooled by consistency_report, one item per replication
    consistency: list[ConsistencyParts] = field(metadata=APPENDED)


def _areas(kernel: Kernel, kind: type[T]) -> list[T]:
    return [area for area in kernel.plan.areas if isinstance(area, kind)]


def subscriptions(kernel: Kernel) -> list[Consumption]:
    """Every subscription with delivery semantics, in plan order."""
    return [sub for area in _areas(kernel, MessagingArea) for sub in area.subs]


def data_part(kernel: Kernel) -> DataPart:
    return DataPart(
        subscriptions=[subscription_part(sub) for sub in subscriptions(kernel)],
        dead_letters=[DeadLetterPart(queue.name, queue.window_received)
                      for area in _areas(kernel, MessagingArea)
                      for queue in area.dead_letters],
        sagas=[saga_part(plan) for area in _areas(kernel, SagaArea) for plan in area.plans],
        relays=[relay_part(relay) for area in _areas(kernel, OutboxArea)
                for relay in area.relays],
        stores=[store_part(store) for store in _areas(kernel, EventStore)],
        consistency=[consistency_parts(kernel.plan.areas)])


def subscription_part(sub: Consumption) -> SubscriptionPart:
    sub.lag.flush()
    partitions = None
    rebalances: list[tuple[float, str, int, float, int]] = []
    in_flight = sub.concurrency
    if isinstance(sub, PartitionedSubscription):
        in_flight = sub.first_limit
        partitions = [PartitionPart(delivered, lag_end, Peak(lag_max))
                      for delivered, lag_end, lag_max in sub.window_partitions]
        rebalances = list(sub.rebalances)
    traces: list[MessageTrace] = []
    for msg in sub.sampled:
        assert msg.trace is not None
        traces.append((msg.number, msg.published, msg.partition, msg.offset, msg.trace))
    # the window's counts: a run's parts are taken once its window ended
    (published, delivered, failed, deliveries, redelivered, duplicates, deduplicated,
     dead_lettered, lost, settled, settled_deliveries) = sub.window_counts
    return SubscriptionPart(
        queue=sub.queue.name, to=f"{sub.target.comp.name}.{sub.target.name}",
        queue_kind=sub.queue.kind, concurrency=in_flight,
        guarantee=GUARANTEES[sub.guarantee], idempotent=sub.settings.idempotent,
        dead_letter=sub.dead_letter.name if sub.dead_letter is not None else None,
        max_deliveries=sub.settings.max_deliveries or None,
        published=published, delivered=delivered, failed=failed, deliveries=deliveries,
        redelivered=redelivered, duplicates=duplicates, deduplicated=deduplicated,
        dead_lettered=dead_lettered, lost=lost, settled=settled,
        settled_deliveries=settled_deliveries,
        backlog_start=sub.backlog_start, backlog_end=sub.backlog_end,
        oldest_start_s=Peak(sub.oldest_start_s), oldest_end_s=Peak(sub.oldest_end_s),
        lag=sub.lag,
        backlog_samples=[float(row[1]) for row in sub.series],
        oldest_samples=[row[3] for row in sub.series],
        partitions=partitions, rebalances=First(rebalances), traces=First(traces))


def saga_part(plan: SagaPlan) -> SagaPart:
    for hist in (plan.duration, plan.compensation, plan.inconsistency):
        hist.flush()
    return SagaPart(
        name=plan.name, choreography=plan.choreography, started=plan.started,
        outcomes=list(plan.outcomes), duration=plan.duration, compensation=plan.compensation,
        inconsistency=plan.inconsistency,
        steps=[SagaStepPart(step.label, f"{step.target.comp.name}.{step.target.name}",
                            index == plan.pivot, step.failed, step.compensated)
               for index, step in enumerate(plan.steps)],
        traces=First([(run.started, run.outcome_of, list(run.trace or []))
                      for run in plan.traces]))


def relay_part(relay: Relay) -> RelayPart:
    relay.delay.flush()
    # the window's counts, as for a subscription
    written, publishes, duplicates, polls, backlog_end, backlog_max = relay.window_counts
    return RelayPart(
        name=relay.name, polling=relay.polling, written=written, publishes=publishes,
        duplicates=duplicates, delay=relay.delay, polls=polls, backlog_end=backlog_end,
        backlog_max=Peak(backlog_max))


def store_part(store: EventStore) -> StorePart:
    store.load_time.flush()
    return StorePart(
        name=store.name, read_per_event=store.read_per_event, appends=store.appends,
        conflicts=store.conflicts, snapshots=store.snapshots, loads=store.loads,
        load_time=store.load_time, replayed=store.replayed,
        replayed_without=store.replayed_without)
