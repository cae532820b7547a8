"""The messaging area: the subscriptions of every queue and event store, their timers
(visibility timeouts, offset commits, session timeouts, rebalances), their time series and
their dead-letter queues. Publishing and delivery are the kernel's named points; this area
owns what happens between them.

`backlog(sub)` and `oldest_age(sub, now)` are what an autoscaler reads (KEDA's queue-length
and lag triggers): messages not yet settled, and the age of the oldest of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scalesim.sim.area import Area
from scalesim.sim.data.delivery import FifoSubscription
from scalesim.sim.data.messages import AT_MOST_ONCE, Attempt, Consumption, DeadLetterQueue
from scalesim.sim.data.partitions import PartitionedSubscription
from scalesim.sim.plan import Comp, Replica

if TYPE_CHECKING:
    from scalesim.sim.kernel import Kernel


def backlog(sub: Consumption) -> int:
    """Messages of a subscription published and not yet settled (waiting or in flight)."""
    return sub.backlog()


def oldest_age(sub: Consumption, now: float) -> float:
    """Seconds the oldest unsettled message of a subscription has waited (0 when none)."""
    return sub.oldest_age(now)


class MessagingArea(Area):
    def __init__(self, subs: list[Consumption], dead_letters: list[DeadLetterQueue]) -> None:
        self.subs = subs
        self.dead_letters = dead_letters
        self.kernel: Kernel | None = None
        self.visibility_kind = -1
        self.session_kind = -1
        self.resume_kind = -1
        self.commit_kind = -1
        for sub in subs:
            sub.area = self

    def attach(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.visibility_kind = kernel.add_handler(self._visibility)
        self.session_kind = kernel.add_handler(self._session)
        self.resume_kind = kernel.add_handler(self._resume)
        self.commit_kind = kernel.add_handler(self._commit)
        if self.subs:
            kernel.watch_replicas(self)
        for sub in self.subs:
            if isinstance(sub, PartitionedSubscription) and sub.guarantee != AT_MOST_ONCE \
                    and sub.settings.commit_interval > 0.0:
                kernel.push(sub.settings.commit_interval, self.commit_kind, sub)

    def _visibility(self, obj: object) -> None:
        assert isinstance(obj, Attempt) and self.kernel is not None
        sub = obj.sub
        assert isinstance(sub, FifoSubscription)
        sub.visibility_ended(self.kernel, obj)

    def _session(self, obj: object) -> None:
        assert isinstance(obj, tuple) and self.kernel is not None
        sub, replica = obj
        assert isinstance(sub, PartitionedSubscription) and isinstance(replica, int)
        sub.session_expired(self.kernel, replica)

    def _resume(self, obj: object) -> None:
        assert isinstance(obj, PartitionedSubscription) and self.kernel is not None
        obj.resume(self.kernel)

    def _commit(self, obj: object) -> None:
        assert isinstance(obj, PartitionedSubscription) and self.kernel is not None
        obj.commit_all()
        self.kernel.push(self.kernel.now + obj.settings.commit_interval, self.commit_kind, obj)

    def bound_buffers(self) -> None:
        for sub in self.subs:
            sub.lag.maybe_flush()

    def replica_changed(self, kernel: Kernel, comp: Comp, rep: Replica) -> None:
        serving = rep.up and not rep.retired and rep in comp.live  # rare: O(replicas) is fine
        for sub in self.subs:
            if sub.target.comp is not comp:
                continue
            if isinstance(sub, PartitionedSubscription):
                sub.replica_changed(kernel, rep.index, serving,
                                    not serving and kernel.stopped_gracefully(rep))
            elif isinstance(sub, FifoSubscription):
                sub.consumers_changed(kernel)

    def interval_end(self, kernel: Kernel) -> None:
        for sub in self.subs:
            sub.sample(kernel.now)

    def window_end(self, kernel: Kernel) -> None:
        for sub in self.subs:
            sub.window_end(kernel.now)
        for dead in self.dead_letters:
            dead.window_received = dead.received

    def warmup_end(self, kernel: Kernel) -> None:
        for sub in self.subs:
            sub.reset(kernel.now)
        for dead in self.dead_letters:
            dead.received = 0
