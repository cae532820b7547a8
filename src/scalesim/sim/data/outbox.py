"""The transactional outbox: a message written in the caller's local transaction, published
later by a relay.

The caller does not wait: its step appends a row to the outbox table and goes on. The relay
keeps a position in the table. Each poll it publishes up to `batch` rows that are readable
(at once for a polling publisher; after the CDC `lag` for log tailing), each as a visit to
the queue's publish operation, so the broker's load and refusals are real. A polling
publisher then marks the batch as published and polls again at once if the batch was full,
else at its next `interval`; a log-tailing connector polls again at once while rows are
waiting, else after `interval`, and saves its position every `offset_flush`.

The relay runs on the caller's first replica. When that replica goes down, the relay stops;
when it comes back it resumes from the last position it saved — the rows it published but
had not marked (polling: the batch in flight; log tailing: everything since the last flush)
are published again, and consumers see them twice (same message, so an effectively-once
consumer drops the copy).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from scalesim.sim.area import Area
from scalesim.sim.data.messages import Logical, Publisher
from scalesim.sim.metrics import Histogram
from scalesim.sim.plan import OK, AreaStep, Comp, Frame, Op, Replica
from scalesim.sim.random import Sampler

if TYPE_CHECKING:
    from scalesim.sim.kernel import Kernel


class Row:
    __slots__ = ("committed", "key", "logical", "published", "ready")

    def __init__(self, key: int, committed: float, ready: float) -> None:
        self.key = key
        self.committed = committed
        self.ready = ready
        self.logical = Logical()
        self.published = 0  # successful publications


class Relay(Publisher):
    def __init__(self, name: str, target: Op, host: Comp, polling: bool, interval: float,
                 batch: int, lag: Sampler | None, offset_flush: float) -> None:
        self.name = name
        self.target = target  # the queue's publish operation
        self.host = host
        self.polling = polling
        self.interval = interval
        self.batch = batch
        self.lag = lag
        self.offset_flush = offset_flush
        self.area: OutboxArea | None = None
        self.log: deque[Row] = deque()  # rows after the saved position
        self.pos = 0  # next row of `log` to publish
        self.outstanding: dict[Frame, tuple[Row, int]] = {}  # publications in flight
        self.generation = 0  # a restart starts a new one: older publications are not waited on
        self.batch_left = 0  # publications of the current poll still in flight
        self.dispatching = False  # inside a poll: a publication ending at once waits for it
        self.batch_started = 0.0
        self.batch_full = False
        self.poll_at = -1.0  # the next poll already scheduled, or -1
        self.up = True
        self.written = 0
        self.publishes = 0
        self.duplicates = 0
        self.polls = 0
        self.backlog_max = 0
        self.delay = Histogram()  # commit -> first publication acknowledged by the broker
        self.window_counts: list[int] = []  # `counts` as the window ended

    @property
    def host_replica(self) -> Replica:
        return self.host.replicas[0]

    def write(self, kernel: Kernel, key: int) -> None:
        """A row is committed with the caller's local transaction."""
        now = kernel.now
        lag = self.lag
        self.log.append(Row(key, now, now + (lag.draw() if lag is not None else 0.0)))
        self.written += 1
        waiting = len(self.log) - self.pos
        if waiting > self.backlog_max:
            self.backlog_max = waiting

    def schedule(self, kernel: Kernel, at: float) -> None:
        area = self.area
        assert area is not None
        self.poll_at = at
        kernel.push(at, area.poll_kind, self)

    def poll(self, kernel: Kernel) -> None:
        self.poll_at = -1.0
        if not self.up or self.batch_left:
            return
        now = kernel.now
        self.polls += 1
        self.batch_started = now
        log = self.log
        taken = 0
        self.dispatching = True
        while taken < self.batch and self.pos < len(log) and log[self.pos].ready <= now:
            row = log[self.pos]
            self.pos += 1
            taken += 1
            frame = Frame(self.target, None, None, None, 1, row.key, now)
            frame.root = self
            self.outstanding[frame] = (row, self.generation)
            self.batch_left += 1
            kernel.enter_message(frame)
        self.dispatching = False
        self.batch_full = taken == self.batch
        if not self.batch_left:
            self.batch_done(kernel)

    def batch_done(self, kernel: Kernel) -> None:
        if self.polling:
            self.mark()
        self.next_poll(kernel)

    def next_poll(self, kernel: Kernel) -> None:
        """Polling: at once after a full batch, else at the next interval. Log tailing: at
        once while rows are readable, else after the poll interval."""
        now = kernel.now
        if self.batch_full:
            at = now
        elif self.polling:
            at = max(now, self.batch_started + self.interval)
        elif self.pos < len(self.log) and self.log[self.pos].ready <= now:
            at = now
        else:
            at = now + self.interval
        self.schedule(kernel, at)

    def message_of(self, frame: Frame) -> Logical | None:
        entry = self.outstanding.get(frame)
        return None if entry is None else entry[0].logical

    def finished(self, kernel: Kernel, frame: Frame, cause: int) -> None:
        row, generation = self.outstanding.pop(frame)
        if cause == OK:
            row.published += 1
            self.publishes += 1
            if row.published == 1:
                self.delay.add(kernel.now - row.committed)
            else:
                self.duplicates += 1
        if generation != self.generation or not self.up:
            return
        self.batch_left -= 1
        if not self.batch_left and not self.dispatching:
            self.batch_done(kernel)

    def mark(self) -> None:
        """Save the position: the published rows before it leave the table for good; a row
        the broker refused stays and is published at the next poll."""
        log = self.log
        kept: deque[Row] = deque()
        for _ in range(self.pos):
            row = log.popleft()
            if row.published == 0:
                kept.append(row)
        log.extendleft(reversed(kept))
        self.pos = 0

    def flush(self, kernel: Kernel) -> None:
        """Log tailing: the connector saves its position every `offset_flush`."""
        if self.up and not self.batch_left:
            self.mark()
        area = self.area
        assert area is not None
        kernel.push(kernel.now + self.offset_flush, area.flush_kind, self)

    def host_changed(self, kernel: Kernel, up: bool) -> None:
        if up == self.up:
            return
        self.up = up
        if up:
            self.pos = 0  # back from the last saved position: published rows go out again
            self.generation += 1
            self.batch_left = 0
            self.batch_full = False
            self.schedule(kernel, kernel.now)

    def unpublished(self) -> int:
        """Rows written and not yet published (the outbox table's backlog)."""
        return sum(1 for row in self.log if row.published == 0)

    def counts(self) -> list[int]:
        """written, publishes, duplicates, polls, unpublished rows, most waiting: kept as the
        window ends, since the drain goes on writing and publishing (the window's requests
        still answered)."""
        return [self.written, self.publishes, self.duplicates, self.polls, self.unpublished(),
                self.backlog_max]

    def reset(self) -> None:
        self.written = self.publishes = self.duplicates = self.polls = 0
        self.backlog_max = len(self.log) - self.pos
        self.delay.reset()


class OutboxWrite(AreaStep):
    """The caller's step: write the row and go on."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay

    def start(self, kernel: Kernel, frame: Frame) -> bool:
        self.relay.write(kernel, frame.key)
        return False


class OutboxArea(Area):
    def __init__(self, relays: list[Relay]) -> None:
        self.relays = relays
        self.kernel: Kernel | None = None
        self.poll_kind = -1
        self.flush_kind = -1
        for relay in relays:
            relay.area = self

    def bound_buffers(self) -> None:
        for relay in self.relays:
            relay.delay.maybe_flush()

    def attach(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.poll_kind = kernel.add_handler(self._poll)
        self.flush_kind = kernel.add_handler(self._flush)
        kernel.watch_replicas(self)
        for relay in self.relays:
            relay.schedule(kernel, relay.interval)
            if not relay.polling:
                kernel.push(relay.offset_flush, self.flush_kind, relay)
        if kernel.t_start > 0.0:
            kernel.push(kernel.t_start, kernel.add_handler(self._warmup), None)

    def window_end(self, kernel: Kernel) -> None:
        for relay in self.relays:
            relay.window_counts = relay.counts()

    def _poll(self, obj: object) -> None:
        assert isinstance(obj, Relay) and self.kernel is not None
        if obj.poll_at == self.kernel.now:
            obj.poll(self.kernel)

    def _flush(self, obj: object) -> None:
        assert isinstance(obj, Relay) and self.kernel is not None
        obj.flush(self.kernel)

    def replica_changed(self, kernel: Kernel, comp: Comp, rep: Replica) -> None:
        for relay in self.relays:
            if relay.host is comp and rep.index == 0:
                relay.host_changed(kernel, rep.up)

    def _warmup(self, _: object) -> None:
        for relay in self.relays:
            relay.reset()
