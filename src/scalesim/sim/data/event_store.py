"""An event store: one stream of events per aggregate, snapshots, optimistic concurrency.

Each visit of the store's `append` or `load` operation, after its own work, loads the
aggregate of its stream (the request's key mod `streams`): the latest snapshot, if any,
then every event after it, `read_per_event` each; the visit holds its worker meanwhile. An
append then commits one event with its expected version: when another append to the same
stream committed after this visit arrived, the version it read is stale and it fails with
`rejected` (WrongExpectedVersion); the caller's retry loads again. Every `snapshot_every`
events of a stream a snapshot is taken, so later loads replay fewer events. Committed events
are published to the store's projections (subscriptions) when the visit ends.

Measured: appends, conflicts, snapshots, the load time and the events replayed per load —
with the events a load would replay without snapshots, to show what they save.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scalesim.sim.area import Area
from scalesim.sim.metrics import Histogram
from scalesim.sim.plan import OK, REJECTED, AreaStep, Frame

if TYPE_CHECKING:
    from scalesim.sim.kernel import Kernel


class EventStore(Area):
    def __init__(self, name: str, streams: int, initial_events: int, read_per_event: float,
                 snapshot_every: int, snapshot_read: float) -> None:
        self.name = name
        self.read_per_event = read_per_event
        self.snapshot_every = snapshot_every  # 0 = no snapshots
        self.snapshot_read = snapshot_read
        # Stream lengths spread evenly over 0 … 2 × initial_events (mean initial_events).
        self.version = [(2 * i + 1) * initial_events // streams for i in range(streams)]
        self.since_snapshot = [n % snapshot_every if snapshot_every else n
                               for n in self.version]
        self.last_commit = [-1.0] * streams
        self.kernel: Kernel | None = None
        self.loaded_kind = -1
        self.appends = 0
        self.conflicts = 0
        self.snapshots = 0
        self.loads = 0
        self.replayed = 0  # events read while loading
        self.replayed_without = 0  # what the same loads would have read with no snapshots
        self.load_time = Histogram()

    def bound_buffers(self) -> None:
        self.load_time.maybe_flush()

    def attach(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.loaded_kind = kernel.add_handler(self._loaded)

    def load(self, kernel: Kernel, frame: Frame, append: bool) -> bool:
        """Load the aggregate of the visit's stream; True when the visit must wait for it."""
        stream = frame.key % len(self.version)
        events = self.since_snapshot[stream]
        snapshot = self.snapshot_every > 0 and self.version[stream] >= self.snapshot_every
        seconds = events * self.read_per_event + (self.snapshot_read if snapshot else 0.0)
        if kernel.now >= kernel.t_start:
            self.loads += 1
            self.replayed += events
            self.replayed_without += self.version[stream]
            self.load_time.add(seconds)
        if seconds > 0.0:
            kernel.push(kernel.now + seconds, self.loaded_kind, (frame, stream, append))
            return True
        if not append:
            return False
        cause = self.commit(kernel, frame, stream)
        if cause == OK:
            return False
        kernel.step_done(frame, cause)
        return True

    def commit(self, kernel: Kernel, frame: Frame, stream: int) -> int:
        """Append one event unless the stream moved since the visit read it."""
        now = kernel.now
        counted = now >= kernel.t_start
        if self.last_commit[stream] > frame.t0:
            if counted:
                self.conflicts += 1
            return REJECTED
        self.last_commit[stream] = now
        self.version[stream] += 1
        self.since_snapshot[stream] += 1
        if counted:
            self.appends += 1
        if self.snapshot_every and self.since_snapshot[stream] >= self.snapshot_every:
            self.since_snapshot[stream] = 0  # taken asynchronously, off the request path
            if counted:
                self.snapshots += 1
        return OK

    def _loaded(self, obj: object) -> None:
        kernel = self.kernel
        assert isinstance(obj, tuple) and kernel is not None
        frame, stream, append = obj
        assert isinstance(frame, Frame) and isinstance(stream, int)
        if frame.dead:
            return
        kernel.step_done(frame, self.commit(kernel, frame, stream) if append else OK)

    def warmup_end(self, kernel: Kernel) -> None:
        self.appends = self.conflicts = self.snapshots = self.loads = 0
        self.replayed = self.replayed_without = 0
        self.load_time.reset()


class StoreStep(AreaStep):
    """The first step of the store's `append` and `load` operations."""

    def __init__(self, store: EventStore, append: bool) -> None:
        self.store = store
        self.append = append

    def start(self, kernel: Kernel, frame: Frame) -> bool:
        return self.store.load(kernel, frame, self.append)
