"""What every subscription shares: messages, delivery attempts, acknowledgement, duplicate
detection, dead letters and the measurements (delivered, redelivered, duplicates, lag).

A message is published once per subscription and lives until it is settled: processed and
acknowledged, lost (at-most-once) or dead-lettered. Each delivery is an `Attempt`, the root
of the consumer's visit, so the kernel tells the subscription when the visit ends. The
delivery policies themselves (which message goes next, when a failed one comes back) are
the subclasses': `FifoSubscription` (SQS, RabbitMQ) and `PartitionedSubscription` (Kafka).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from scalesim.sim.metrics import Histogram
from scalesim.sim.plan import ERROR, OK, Comp, Frame, Op, Root, Subscription
from scalesim.sim.random import Sampler

if TYPE_CHECKING:
    from scalesim.sim.data.messaging import MessagingArea
    from scalesim.sim.kernel import Kernel

AT_MOST_ONCE: Final = 0
AT_LEAST_ONCE: Final = 1
EFFECTIVELY_ONCE: Final = 2
GUARANTEES = ("at_most_once", "at_least_once", "effectively_once")
# How a sampled message ended: still pending at the end, processed, lost, dead-lettered.
PENDING: Final = 0
PROCESSED: Final = 1
LOST: Final = 2
DEAD: Final = 3
OUTCOMES = ("pending", "processed", "lost", "dead_lettered")


class Logical:
    """A message as its publisher knows it. Copies published again (an outbox relay after a
    crash) share it, so an idempotent consumer recognises them as one message."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done: dict[int, float] = {}  # subscription id -> when it was first processed


class Publisher(Root):
    """A root that publishes messages it already knows (an outbox relay): it names the
    logical message of each of its visits."""

    def message_of(self, frame: Frame) -> Logical | None:
        raise NotImplementedError


class Message:
    """One subscription's copy of a published message."""

    __slots__ = ("deliveries", "done_at", "key", "logical", "number", "offset", "partition",
                 "poison", "published", "trace")

    def __init__(self, number: int, key: int, published: float, logical: Logical | None,
                 poison: bool) -> None:
        self.number = number
        self.key = key
        self.published = published
        self.logical = logical
        self.poison = poison
        self.deliveries = 0
        self.done_at = -1.0  # first successful processing (when there is no logical message)
        self.partition = -1
        self.offset = -1
        # sampled messages: [start, end, cause] per delivery, and the outcome at index 0
        self.trace: list[list[float]] | None = None


class Attempt(Root):
    """One delivery of a message: the root of the consumer's visit."""

    __slots__ = ("member", "msg", "ok", "over", "record", "returned", "sub")

    def __init__(self, sub: Consumption, msg: Message, member: int) -> None:
        self.sub = sub
        self.msg = msg
        self.member = member  # the Kafka group member that took it; -1 for a plain queue
        self.over = False
        self.ok = False
        self.returned = False  # the message went back to the queue (or elsewhere) already
        self.record: list[float] | None = None  # its [start, end, cause] in a sampled trace

    def finished(self, kernel: Kernel, frame: Frame, cause: int) -> None:
        self.over = True
        self.ok = cause == OK
        record = self.record
        if record is not None:
            record[1] = kernel.now
            record[2] = float(cause)
        self.sub.attempt_over(kernel, self, cause)

    def pulled(self) -> bool:
        return True


class Settings:
    """How a subscription is built: its place, its consumer and its delivery settings (from
    the queue's `delivery`, see spec/data.py)."""

    __slots__ = ("capacity", "commit_interval", "concurrency", "dedup_window", "guarantee",
                 "idempotent", "ident", "max_deliveries", "poison", "poison_coin", "queue",
                 "requeue", "target", "trace_quota", "visibility")

    def __init__(self, ident: int, queue: Comp, target: Op, concurrency: int,
                 capacity: int) -> None:
        self.ident = ident
        self.queue = queue
        self.target = target
        self.concurrency = concurrency
        self.capacity = capacity  # -1 = unbounded
        self.guarantee = AT_MOST_ONCE
        self.requeue = False
        self.visibility = 30.0
        self.max_deliveries = 0  # 0 = unlimited
        self.poison = 0.0
        self.poison_coin: Sampler | None = None
        self.dedup_window = 300.0
        self.commit_interval = 5.0
        self.idempotent = False
        self.trace_quota = 0


class DeadLetterQueue:
    """Where messages go after their last delivery: a queue component's subscriptions (none
    when nobody consumes it, then it only keeps them)."""

    __slots__ = ("name", "publish", "received", "subs", "window_received")

    def __init__(self, name: str, publish: Op) -> None:
        self.name = name
        self.publish = publish  # the queue's publish operation, which counts what arrives
        self.subs: list[Consumption] = []
        self.received = 0
        self.window_received = 0  # `received` as the window ended

    def take(self, kernel: Kernel, msg: Message) -> bool:
        """Publish a dead-lettered message into this queue; False when a buffer is full.
        The broker republishes it (RabbitMQ's dead-letter exchange; SQS's redrive moves it),
        so it counts as a publish of the queue that took no time, like a client's."""
        if any(sub.full() for sub in self.subs):
            return False
        self.received += 1
        publish = self.publish
        publish.comp.ok += 1
        publish.count(OK)
        publish.hist.add(0.0)
        for sub in self.subs:
            sub.accept(kernel, msg.key, msg.logical)
        return True


class Consumption(Subscription):
    """The common part of a subscription with delivery semantics."""

    def __init__(self, settings: Settings) -> None:
        self.ident = settings.ident
        self.queue = settings.queue
        self.target = settings.target
        self.concurrency = settings.concurrency
        self.capacity = settings.capacity
        self.settings = settings
        self.guarantee = settings.guarantee
        self.area: MessagingArea | None = None
        self.dead_letter: DeadLetterQueue | None = None
        self.pending: dict[Message, None] = {}  # published, not yet settled, oldest first
        self.inflight = 0
        self.sequence = 0  # numbers the messages
        self.published = 0
        self.delivered = 0  # deliveries that ended well (duplicates included)
        self.failed = 0  # deliveries that ended badly
        self.deliveries = 0
        self.redelivered = 0
        self.duplicates = 0
        self.deduplicated = 0
        self.dead_lettered = 0
        self.lost = 0
        self.settled = 0  # messages settled in the window
        self.settled_deliveries = 0  # and their deliveries, for deliveries per message
        self.lag = Histogram()  # publication -> first successful processing
        # the backlog and the age of its oldest message when the window starts and ends
        self.backlog_start = 0
        self.backlog_end = 0
        self.oldest_start_s = 0.0
        self.oldest_end_s = 0.0
        # per interval: end, backlog, in flight, oldest age (s), delivered, redelivered, dead,
        # published
        self.series: list[tuple[float, int, int, float, int, int, int, int]] = []
        self.snap = (0, 0, 0, 0)
        self.sampled: list[Message] = []
        self.window_counts: list[int] = []  # the counts above as the window ended (`counts`)

    # -- what the kernel calls -----------------------------------------------------------------
    def publish(self, kernel: Kernel, frame: Frame) -> None:
        origin = frame.root
        logical = origin.message_of(frame) if isinstance(origin, Publisher) else None
        self.accept(kernel, frame.key, logical)

    def accept(self, kernel: Kernel, key: int, logical: Logical | None) -> None:
        """A message arrives (published, or dead-lettered here from another queue)."""
        now = kernel.now
        coin = self.settings.poison_coin
        poison = coin is not None and coin.draw() < self.settings.poison
        msg = Message(self.sequence, key, now, logical, poison)
        self.sequence += 1
        self.published += 1
        if len(self.sampled) < self.settings.trace_quota and now >= kernel.t_start:
            msg.trace = [[float(PENDING), 0.0, 0.0]]
            self.sampled.append(msg)
        self.pending[msg] = None
        self.enqueue(kernel, msg)

    def enqueue(self, kernel: Kernel, msg: Message) -> None:
        raise NotImplementedError

    def attempt_over(self, kernel: Kernel, attempt: Attempt, cause: int) -> None:
        raise NotImplementedError

    def concurrency_changed(self, kernel: Kernel) -> None:
        """`concurrency` was changed (prefetch following the consumer's replicas)."""

    # -- shared steps ---------------------------------------------------------------------------
    def backlog(self) -> int:
        """Messages published and not yet settled: waiting or in flight (the lag KEDA
        scales on: Kafka's committed-offset lag, SQS visible + in flight)."""
        return len(self.pending)

    def oldest_age(self, now: float) -> float:
        """Seconds since the oldest unsettled message was published (0 when none)."""
        for msg in self.pending:
            return now - msg.published
        return 0.0

    def first_processed(self, msg: Message) -> float:
        """When this subscription first processed the message, or -1."""
        logical = msg.logical
        if logical is None:
            return msg.done_at
        return logical.done.get(self.ident, -1.0)

    def recently_processed(self, now: float, msg: Message) -> bool:
        """An effectively-once consumer finds the message in its deduplication window."""
        if self.guarantee != EFFECTIVELY_ONCE:
            return False
        first = self.first_processed(msg)
        return first >= 0.0 and now - first <= self.settings.dedup_window

    def start(self, kernel: Kernel, msg: Message, member: int) -> tuple[Attempt, Frame]:
        """A new delivery of `msg`: the attempt and the consumer's visit (not yet sent)."""
        now = kernel.now
        self._delivered_once_more(msg)
        attempt = Attempt(self, msg, member)
        if msg.trace is not None:
            attempt.record = [now, -1.0, -1.0]
            msg.trace.append(attempt.record)
        frame = Frame(self.target, None, None, None, 1,
                      self.delivered + self.failed + self.inflight, msg.published)
        frame.root = attempt
        if msg.poison:
            frame.cause = ERROR  # it fails after the consumer's work, at every delivery
        return attempt, frame

    def _delivered_once_more(self, msg: Message) -> None:
        msg.deliveries += 1
        self.deliveries += 1
        if msg.deliveries > 1:
            self.redelivered += 1

    def skipped(self, msg: Message) -> None:
        """An effectively-once consumer received a copy it processed recently and skipped
        it: a delivery like any other (so `deduplicated` never exceeds `redelivered`)."""
        self._delivered_once_more(msg)
        self.deduplicated += 1

    def processed(self, now: float, msg: Message) -> None:
        """A delivery ended well: count it, and a duplicate when it was processed before."""
        self.delivered += 1
        first = self.first_processed(msg)
        if first < 0.0:
            if msg.logical is None:
                msg.done_at = now
            else:
                msg.logical.done[self.ident] = now
            self.lag.add(now - msg.published)
        elif self.recently_processed(now, msg):
            self.deduplicated += 1  # the dedup record's insert fails: nothing happens twice
        else:
            self.duplicates += 1

    def settle(self, msg: Message, outcome: int) -> None:
        """The message is done with here: acknowledged, lost or dead-lettered (once)."""
        if msg not in self.pending:
            return
        del self.pending[msg]
        self.settled += 1
        self.settled_deliveries += msg.deliveries
        if outcome == LOST:
            self.lost += 1
        if msg.trace is not None:
            msg.trace[0][0] = float(outcome)

    def dead_letter_it(self, kernel: Kernel, msg: Message) -> None:
        """Past its last delivery: to the dead-letter queue, or dropped without one."""
        target = self.dead_letter
        if target is not None and target.take(kernel, msg):
            self.dead_lettered += 1
            self.settle(msg, DEAD)
        else:
            self.settle(msg, LOST)

    # -- measurement ----------------------------------------------------------------------------
    def sample(self, now: float) -> None:
        """Close one time-series interval."""
        done = (self.delivered, self.redelivered, self.dead_lettered, self.published)
        self.series.append((now, self.backlog(), self.inflight, self.oldest_age(now),
                            done[0] - self.snap[0], done[1] - self.snap[1],
                            done[2] - self.snap[2], done[3] - self.snap[3]))
        self.snap = done

    def window_end(self, now: float) -> None:
        self.backlog_end = self.backlog()
        self.oldest_end_s = self.oldest_age(now)
        self.window_counts = self.counts()

    def counts(self) -> list[int]:
        """published, delivered, failed, deliveries, redelivered, duplicates, deduplicated,
        dead_lettered, lost, settled, settled_deliveries: kept as the window ends, since the
        drain goes on publishing and delivering (the window's requests still answered)."""
        return [self.published, self.delivered, self.failed, self.deliveries, self.redelivered,
                self.duplicates, self.deduplicated, self.dead_lettered, self.lost, self.settled,
                self.settled_deliveries]

    def reset(self, now: float) -> None:
        """The warm-up ended: counting starts now."""
        self.backlog_start = self.backlog()
        self.oldest_start_s = self.oldest_age(now)
        self.delivered = self.failed = self.deliveries = self.redelivered = 0
        self.duplicates = self.deduplicated = self.dead_lettered = self.lost = 0
        self.published = self.settled = self.settled_deliveries = 0
        self.lag.reset()
        self.series.clear()
        self.snap = (0, 0, 0, 0)
