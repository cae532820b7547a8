"""Who leads a component now, and the placements that send visits to the leader or to its
followers.

An election (sim/data/election.py) or a fixed leader sets `Leadership.rep`; replication
(sim/data/replication.py) listens for changes. A visit of a leader-only operation while
there is no leader is refused as `unavailable` (Raft's "no leader", a controller that is
not leading): a client that retries on `unavailable` waits out the failover instead.

Measured here, over the window: leader changes, failovers (from losing a leader to the next
one leading), time without a leader, and the visits refused meanwhile.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Final

from scalesim.sim.area import Area
from scalesim.sim.metrics import Histogram
from scalesim.sim.plan import Comp, Frame, Placement, Replica

if TYPE_CHECKING:
    from scalesim.sim.kernel import Kernel

MAX_EVENTS: Final = 1000  # leadership events kept for the result (first replication)


class LeaderListener(Area):
    """An area told when the leader is lost and when the next one leads (replication counts
    the writes a failover loses)."""

    def leader_lost(self, kernel: Kernel, rep: Replica) -> None:
        raise NotImplementedError

    def leader_changed(self, kernel: Kernel, old: Replica | None, new: Replica | None,
                       lost_at: float) -> None:
        raise NotImplementedError


class Leadership:
    __slots__ = (
        "changes",
        "comp",
        "cut",
        "end",
        "events",
        "failover",
        "last",
        "leaderless",
        "listeners",
        "lost_at",
        "lost_from",
        "refused",
        "rep",
        "start",
    )

    def __init__(self, comp: Comp) -> None:
        self.comp = comp
        self.rep: Replica | None = None
        # By replica: partition faults cutting it off from the others, kept by the election;
        # replication neither sends to nor hears from a member cut off.
        self.cut = [0] * len(comp.replicas)
        self.listeners: list[LeaderListener] = []
        self.lost_at = -1.0  # when the last leader was lost; -1 while one leads
        self.lost_from: Replica | None = None
        self.start = 0.0  # the measurement window (counts before it are not kept)
        self.end = 0.0
        self.changes = 0  # a replica started leading, in the window
        self.refused = 0  # visits refused for want of a leader, in the window
        self.failover = Histogram()  # leader lost -> next one leading
        self.leaderless = 0.0  # seconds without a leader inside the window
        self.last = 0.0  # time the leaderless total was brought up to
        # (t, event, replica, term) for the result: elected, lost, election, stepped_down…
        self.events: list[tuple[float, str, int, int]] = []

    def note(self, now: float, event: str, replica: int, term: int) -> None:
        if len(self.events) < MAX_EVENTS:
            self.events.append((now, event, replica, term))

    def note_before(self, at: float, event: str, replica: int, term: int) -> None:
        """An event known only later (when a second leader began): put in time order, after
        the events of the same time."""
        if len(self.events) < MAX_EVENTS:
            bisect.insort(self.events, (at, event, replica, term), key=lambda e: e[0])

    def settle(self, now: float) -> None:
        """Bring the leaderless time up to `now`, counting only the window."""
        if self.rep is None:
            low = max(self.last, self.start)
            high = min(now, self.end)
            if high > low:
                self.leaderless += high - low
        self.last = now

    def gain(self, kernel: Kernel, rep: Replica, term: int, initial: bool = False) -> None:
        """`rep` leads from now on (`initial`: the leader the run starts with)."""
        now = kernel.now
        self.settle(now)
        old = self.lost_from
        self.rep = rep
        if now >= kernel.t_start and not initial:
            self.changes += 1
            if self.lost_at >= kernel.t_start:
                self.failover.add(now - self.lost_at)
        self.note(now, "elected", rep.index, term)
        lost_at = self.lost_at
        self.lost_at = -1.0
        self.lost_from = None
        for listener in self.listeners:
            listener.leader_changed(kernel, old, rep, lost_at)

    def lose(self, kernel: Kernel, rep: Replica, why: str, term: int,
             since: float = -1.0) -> None:
        """`rep` stops leading (crashed, stepped down, released; `since` then, when it
        stopped serving before: a pause); nothing changes when another replica already
        leads."""
        now = kernel.now
        if self.rep is not rep:
            self.note(now, why, rep.index, term)
            return
        self.settle(now)
        self.rep = None
        self.lost_at = since if since >= 0.0 else now
        self.lost_from = rep
        self.note(now, why, rep.index, term)
        for listener in self.listeners:
            listener.leader_lost(kernel, rep)


class LeaderPlacement(Placement):
    """Visits go to the leader; none while there is no leader."""

    def __init__(self, leadership: Leadership) -> None:
        self.leadership = leadership

    def place(self, kernel: Kernel, frame: Frame) -> Replica | None:
        rep = self.leadership.rep
        if rep is not None and rep.up:
            return rep
        if kernel.now >= kernel.t_start:
            self.leadership.refused += 1
        return None


class FollowerPlacement(Placement):
    """Visits go to the followers that are up, in turn (a read-replica endpoint)."""

    def __init__(self, leadership: Leadership) -> None:
        self.leadership = leadership
        self.next = 0

    def place(self, kernel: Kernel, frame: Frame) -> Replica | None:
        replicas = self.leadership.comp.replicas
        leader = self.leadership.rep
        count = len(replicas)
        for step in range(count):
            rep = replicas[(self.next + step) % count]
            if rep is not leader and rep.up and rep.routable:
                self.next = (rep.index + 1) % count
                return rep
        return None
