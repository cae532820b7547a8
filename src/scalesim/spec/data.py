"""Messaging and data settings of a spec: delivery semantics of a queue, Kafka consumer
groups, the transactional outbox and event stores.

Each follows a real system's definition and defaults, named in its docstring; the facts are
in shared/reference/data-semantics.md and docs/data.md explains each field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from scalesim.spec import bounds
from scalesim.spec.dists import ZERO, Distribution
from scalesim.spec.types import (
    Count,
    Duration,
    Fraction,
    Name,
    PositiveDuration,
    Strict,
    refuse_unused,
)

MAX_VISIBILITY_TIMEOUT = 12 * 3600.0  # SQS VisibilityTimeout's maximum, 12 hours

OperationRef = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*(\.[A-Za-z0-9][A-Za-z0-9-]*)?$",
          description="a component, or component.operation"),
]


class Consumer(Strict):
    """A subscription of a queue (a consumer group, or one bound queue): every message is
    delivered to `to`, at most `concurrency` deliveries in flight at once (with `partitions`:
    `concurrency` consumers per replica of `to`, each taking one message at a time)."""

    to: OperationRef
    concurrency: Count = Field(1, ge=1, le=bounds.MAX_CONCURRENCY)
    prefetch: Count | None = Field(
        None, ge=1, description="deliveries each replica of the consumer takes at once "
        "(RabbitMQ prefetch); the subscription's concurrency is then prefetch × the "
        "consumer's replicas in rotation, following scaling and rollouts")
    idempotent: bool = Field(
        False, description="processing a message twice has the effect of once (an upsert, a "
        "natural key): duplicates cost time but do no harm")

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        return {"to": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _one_limit(self) -> Consumer:
        if self.prefetch is not None and "concurrency" in self.model_fields_set:
            raise ValueError("give either 'concurrency' (for the whole subscription) or "
                             "'prefetch' (per consumer replica), not both")
        return self


def group_members(consumer: Consumer, replicas: int) -> int:
    """A partitioned topic's consumer group: `concurrency` members a replica."""
    return replicas * consumer.concurrency


def most_in_flight(consumer: Consumer, partitions: int | None, replicas: int) -> int:
    """Deliveries a subscription has in flight at most, with `replicas` of its consumer: a
    partitioned topic's members (`concurrency` a replica) take one record at a time and
    share the partitions, so min(partitions, members); else prefetch × replicas, or
    `concurrency` for the whole subscription (the simulator's rule, sim/data/build.py)."""
    if partitions is not None:
        return min(partitions, group_members(consumer, replicas))
    if consumer.prefetch is not None:
        return consumer.prefetch * replicas
    return consumer.concurrency


# When a message counts as handled (Delivery.guarantee); a result's queues name theirs.
Guarantee = Literal["at_most_once", "at_least_once", "effectively_once"]


class Delivery(Strict):
    """When a message counts as handled, and what happens when its consumer fails.

    at_most_once: acknowledged on delivery (Kafka: offset committed before processing), so a
    failed delivery loses the message. at_least_once: acknowledged after processing; a failed
    or timed-out delivery comes back (SQS visibility timeout, RabbitMQ nack with requeue,
    Kafka: retried in place) up to `max_deliveries`, then goes to `dead_letter`.
    effectively_once: at_least_once with an idempotent consumer that skips a message it
    processed within `dedup_window` (a processed-messages table; the default is as long as
    SQS FIFO's 5-minute deduplication interval, though SQS drops repeated sends there, not
    redeliveries)."""

    guarantee: Guarantee = "at_most_once"
    redelivery: Literal["visibility_timeout", "requeue"] = Field(
        "visibility_timeout", description="visibility_timeout: a failed message reappears when "
        "its visibility timeout ends (SQS); requeue: it goes back at once, near the head "
        "(RabbitMQ basic.reject with requeue)")
    visibility_timeout: PositiveDuration = Field(
        30.0, description="how long a delivery may stay unacknowledged before the message "
        "is delivered again (SQS VisibilityTimeout, default 30 s)")
    max_deliveries: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        None, description="deliveries of one message at most, then it is dead-lettered (SQS "
        "maxReceiveCount, 1–1000; RabbitMQ quorum queues count returns: x-delivery-limit = "
        "this − 1); omitted = unlimited")
    dead_letter: Name | None = Field(
        None, description="the queue component that receives messages past max_deliveries; "
        "omitted = they are dropped")
    poison: Fraction = Field(0.0, description="share of messages that fail at every delivery")
    dedup_window: PositiveDuration = Field(
        300.0, description="effectively_once: how long the consumer remembers a processed "
        "message")
    commit_interval: Duration = Field(
        5.0, description="with partitions: how often processed offsets are committed "
        "(Kafka auto.commit.interval.ms, 5 s); 0 = after every message")

    @model_validator(mode="after")
    def _dedup_of_effectively_once(self) -> Delivery:
        if self.guarantee != "effectively_once":
            refuse_unused(self, {"dedup_window"}, f"to {self.guarantee} delivery: only an "
                          "effectively-once consumer skips what it processed",
                          "with guarantee: effectively_once")
        return self

    @field_validator("visibility_timeout")
    @classmethod
    def _visibility_within_sqs(cls, value: float) -> float:
        """The spec follows SQS's limits (as max_deliveries does): SQS refuses a longer one."""
        if value > MAX_VISIBILITY_TIMEOUT:
            raise ValueError(f"'visibility_timeout' is at most {MAX_VISIBILITY_TIMEOUT / 3600:g}h "
                             "(SQS's maximum VisibilityTimeout)")
        return value


class ConsumerGroup(Strict):
    """How a Kafka consumer group reacts when a member crashes, comes back or is added.

    A crashed member is noticed after `session_timeout` (Kafka ≥ 3.0: 45 s); then the group
    rebalances. eager (Range/RoundRobin/Sticky assignors, the classic default): every member
    gives up all its partitions and the whole group stops for `rebalance_time`. cooperative
    (CooperativeStickyAssignor, KIP-429): only the partitions that move stop, for two
    rounds."""

    session_timeout: PositiveDuration = 45.0
    rebalance: Literal["eager", "cooperative"] = "eager"
    rebalance_time: PositiveDuration = Field(
        1.0, description="one JoinGroup/SyncGroup round: until every member has rejoined "
        "on its next poll (not a Kafka setting; an assumption to tune)")


class Outbox(Strict):
    """Transactional outbox: the message is written to an outbox table in the caller's local
    transaction and a relay publishes it later (microservices.io).

    polling: every `interval` the relay selects up to `batch` unpublished rows, publishes
    them and marks them; a crash of the relay between publishing and marking publishes the
    batch again. log_tailing: a CDC connector reads the transaction log (Debezium:
    poll.interval.ms 500 ms, max.batch.size 2048) after `lag`; after a crash it resumes from
    its last flushed offset (Kafka Connect offset.flush.interval.ms, 60 s), so the events
    since then are published again."""

    relay: Literal["polling", "log_tailing"] = "polling"
    interval: PositiveDuration | None = Field(
        None, description="time between polls; default 1 s (polling), 500 ms (log_tailing)")
    batch: Annotated[int, Field(ge=1)] | None = Field(
        None, description="rows per poll; default 100 (polling), 2048 (log_tailing)")
    lag: Distribution = Field(ZERO, description="log_tailing: extra delay before a committed "
                              "row is readable from the log")
    offset_flush: PositiveDuration = Field(
        60.0, description="log_tailing: how often the connector's position is saved")

    @property
    def poll_interval(self) -> float:
        if self.interval is not None:
            return self.interval
        return 1.0 if self.relay == "polling" else 0.5

    @property
    def poll_batch(self) -> int:
        if self.batch is not None:
            return self.batch
        return 100 if self.relay == "polling" else 2048


class EventStore(Strict):
    """An event store with one stream per aggregate (EventStoreDB, Axon Server, Marten).

    Each visit of `load` or `append` loads the aggregate: its latest snapshot, if any, then
    every event after it. `append` then commits one event with optimistic concurrency: when
    another append to the same stream committed since this one arrived, it fails with
    `rejected` (WrongExpectedVersion), which a caller's retry reloads and tries again. Every
    `snapshot_every` events a snapshot is taken (Axon's EventCountSnapshotTriggerDefinition).
    Committed events feed the `projections`, which keep read models up to date."""

    streams: int = Field(1000, ge=1, description="aggregates; a request's key picks its "
                         "stream (key mod streams)")
    initial_events: int = Field(0, ge=0, description="events already in a stream when the "
                                "run starts, on average (spread evenly from 0 to twice this)")
    append: Name = Field("append", description="the operation that appends")
    load: Name | None = Field(None, description="an operation that only loads an aggregate")
    read_per_event: Duration = Field(2e-5, description="time to read and apply one event "
                                     "while loading")
    snapshot_every: Annotated[int, Field(ge=1)] | None = Field(
        None, description="events between snapshots; omitted = no snapshots")
    snapshot_read: Duration = Field(5e-4, description="time to read the latest snapshot")
    projections: list[Consumer] = Field(
        default_factory=list, description="subscribers to the committed events, in order")
