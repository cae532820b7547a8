"""The CPU model: the cores of a replica, shared by the requests computing on it.

A replica with `cores` c runs every CPU burst (an operation's CPU demand with the runtime's
overhead, a `post_work`, a call's client overhead) on a `Processor`:

- `SharedCores`: egalitarian processor sharing. With n bursts running, each progresses at
  rate min(1, c/n) (a burst is one thread: it never uses more than one core). Exact, with
  the virtual-time technique: V(t) grows at that rate, a burst arriving at t with demand d
  ends when V reaches V(t) + d, and the bursts sit in a heap by that tag. Only the earliest
  end is scheduled in the kernel; a change of n reschedules it (the superseded event is
  recognised by its time and skipped), so each arrival and departure costs O(log n), with no
  per-tick loop.
- `EventLoop`: one thread runs the bursts one at a time, each to its end, in the order they
  became ready (asyncio, Node.js), at speed min(1, c).

When a burst ends, the visit goes on as the kernel asked: after `wait` seconds that use no
CPU (an event then), or at once (the kernel's handler for `kind`). The `Cores` area registers
the processors' completion event with the kernel.
"""

from __future__ import annotations

from collections import deque
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Final

from scalesim.sim.area import Area

if TYPE_CHECKING:
    from scalesim.sim.kernel import Kernel

EPS: Final = 1e-12  # relative: bursts whose tags differ by less end together


class Cores(Area):
    """Registers the completion event of every processor of the run."""

    def __init__(self) -> None:
        self.kind = -1
        self.kernel: Kernel | None = None

    def attach(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.kind = kernel.add_handler(self._done)

    def _done(self, processor: object) -> None:
        assert isinstance(processor, Processor) and self.kernel is not None
        processor.complete(self.kernel)


class Processor:
    """The cores of one replica."""

    def __init__(self, area: Cores) -> None:
        self.area = area
        self.next_at = -1.0  # time of the completion event that counts; -1: none

    def run(self, kernel: Kernel, obj: object, demand: float, wait: float, kind: int) -> None:
        """Compute `demand` CPU seconds for `obj`; then, after `wait`, the kernel's handler
        for `kind` goes on with `obj`."""
        raise NotImplementedError

    def complete(self, kernel: Kernel) -> None:
        """The scheduled completion time has come."""
        raise NotImplementedError


def _resume(kernel: Kernel, obj: object, wait: float, kind: int) -> None:
    if wait > 0.0:
        kernel.push(kernel.now + wait, kind, obj)
    else:
        kernel.handlers[kind](obj)


class SharedCores(Processor):
    """Processor sharing on `cores` cores, each burst at most one core."""

    def __init__(self, area: Cores, cores: float) -> None:
        super().__init__(area)
        self.cores = cores
        self.vtime = 0.0  # service each burst has received since the busy period began
        self.last = 0.0  # when vtime was brought up to date
        self.count = 0  # breaks ties between equal tags in arrival order
        self.jobs: list[tuple[float, int, object, float, int]] = []  # (tag, n, obj, wait, kind)

    def _rate(self) -> float:
        n = len(self.jobs)
        return 1.0 if n <= self.cores else self.cores / n

    def _advance(self, now: float) -> None:
        if self.jobs:
            self.vtime += (now - self.last) * self._rate()
        self.last = now

    def _schedule(self, kernel: Kernel) -> None:
        jobs = self.jobs
        if not jobs:
            self.vtime = 0.0
            self.next_at = -1.0
            return
        at = kernel.now + (jobs[0][0] - self.vtime) / self._rate()
        self.next_at = at
        kernel.push(at, self.area.kind, self)

    def run(self, kernel: Kernel, obj: object, demand: float, wait: float, kind: int) -> None:
        self._advance(kernel.now)
        self.count += 1
        heappush(self.jobs, (self.vtime + demand, self.count, obj, wait, kind))
        self._schedule(kernel)

    def complete(self, kernel: Kernel) -> None:
        if kernel.now != self.next_at:
            return  # superseded: the number of bursts changed since it was scheduled
        self._advance(kernel.now)
        jobs = self.jobs
        first = heappop(jobs)
        vtime = self.vtime = max(self.vtime, first[0])
        ended = [first]
        limit = vtime + EPS * max(1.0, vtime)
        while jobs and jobs[0][0] <= limit:
            ended.append(heappop(jobs))
        self._schedule(kernel)
        for _, _, obj, wait, kind in ended:
            _resume(kernel, obj, wait, kind)


class EventLoop(Processor):
    """One thread: bursts run one at a time, to their end, first come first served."""

    def __init__(self, area: Cores, speed: float) -> None:
        super().__init__(area)
        self.speed = speed  # min(1, cores): a share of a core caps the thread
        self.ready: deque[tuple[float, object, float, int]] = deque()  # (demand, obj, wait, kind)

    def _start(self, kernel: Kernel, demand: float) -> None:
        at = kernel.now + demand / self.speed
        self.next_at = at
        kernel.push(at, self.area.kind, self)

    def run(self, kernel: Kernel, obj: object, demand: float, wait: float, kind: int) -> None:
        self.ready.append((demand, obj, wait, kind))
        if len(self.ready) == 1:
            self._start(kernel, demand)

    def complete(self, kernel: Kernel) -> None:
        if kernel.now != self.next_at:
            return
        _, obj, wait, kind = self.ready.popleft()
        if self.ready:
            self._start(kernel, self.ready[0][0])
        else:
            self.next_at = -1.0
        _resume(kernel, obj, wait, kind)


def processor(area: Cores, cores: float, event_loop: bool) -> Processor:
    """The processor of one replica of a component with `cores` (and maybe an event loop)."""
    if event_loop:
        return EventLoop(area, min(1.0, cores))
    return SharedCores(area, cores)
