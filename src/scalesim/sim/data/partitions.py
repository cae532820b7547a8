"""A Kafka consumer group on a partitioned topic.

A message goes to partition hash(key) mod P. Each partition belongs to one member of the
group; a member is one consumer (`concurrency` of them per replica of the consumer) that
processes one record at a time, in offset order, from the partitions it owns — so a slow
record holds up its partition, and other partitions of the same member wait their turn.

Offsets: at most once, a record's offset is committed when it is taken, so a failure loses
it. At least once, processed offsets are committed every `commit_interval` (auto-commit) or
after each record (0); a failed record is retried in place (it blocks its partition, as
Spring Kafka's DefaultErrorHandler does) up to `max_deliveries` failures, then dead-lettered;
the failures are counted in the memory of the consumer retrying the record, so a delivery a
crash cut short is no failure, and a restarted or new owner counts from 0. When a
member's replica crashes, the group notices after `session_timeout` and rebalances; the
crashed member's partitions resume from their last committed offset, so records processed
since then are processed again (duplicates) — also when the member restarts before the
session timeout, since its position was in the dead process's memory. Eager rebalancing
stops every partition for `rebalance_time`; cooperative rebalancing stops only those that
move (two rounds when they are taken from a live member).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from scalesim.sim.data.messages import (
    AT_MOST_ONCE,
    LOST,
    PROCESSED,
    Attempt,
    Consumption,
    Message,
    Settings,
)
from scalesim.sim.plan import OK, Replica
from scalesim.spec.hashring import partition_of

if TYPE_CHECKING:
    from scalesim.sim.kernel import Kernel

class Partition:
    __slots__ = ("busy", "delivered", "fails", "index", "lag_max", "log", "next_offset",
                 "owner", "paused_until", "pos")

    def __init__(self, index: int) -> None:
        self.index = index
        self.log: deque[Message] = deque()  # from the committed offset on
        self.pos = 0  # index in `log` of the next record to process
        # Failures of the record at `pos` (retried in place) counted toward max_deliveries
        # by the consumer retrying it: Spring Kafka's error handler keeps them in that
        # consumer thread's memory, so a crash, a restart or a new owner starts again at 0.
        self.fails = 0
        self.next_offset = 0
        self.busy = False  # one of its records is being processed
        self.owner = -1  # member index; -1 = nobody
        self.paused_until = 0.0
        self.delivered = 0
        self.lag_max = 0


class Member:
    __slots__ = ("busy", "cursor", "index", "partitions", "replica")

    def __init__(self, index: int, replica: int) -> None:
        self.index = index
        self.replica = replica
        self.partitions: list[Partition] = []
        self.busy = False
        self.cursor = 0


class GroupSettings:
    __slots__ = ("cooperative", "rebalance_time", "session_timeout")

    def __init__(self, session_timeout: float, cooperative: bool,
                 rebalance_time: float) -> None:
        self.session_timeout = session_timeout
        self.cooperative = cooperative
        self.rebalance_time = rebalance_time


class PartitionedSubscription(Consumption):
    def __init__(self, settings: Settings, partitions: int, group: GroupSettings) -> None:
        super().__init__(settings)
        self.group = group
        self.partitions = [Partition(i) for i in range(partitions)]
        self.replicas: list[Replica] = settings.target.comp.replicas
        self.members: list[Member] = []
        self.waking: deque[Member] = deque()  # members to look for work (see `wake`)
        self.pumping = False
        # replicas whose members take records: up and in the consumer's replica set
        self.alive = [True] * len(self.replicas)
        for replica in range(len(self.replicas)):
            self._add_members(replica)
        # (time, cause, members after, pause in seconds, partitions moved)
        self.rebalances: list[tuple[float, str, int, float, int]] = []
        # records in flight at most at the start: one a partition, one a member
        self.first_limit = min(partitions, len(self.members))
        self._assign(self._eager_assignment())
        # per partition as the window ended: delivered, lag (records), most lag (`window_end`)
        self.window_partitions: list[tuple[int, int, int]] = []

    def _add_members(self, replica: int) -> None:
        for _ in range(self.concurrency):
            self.members.append(Member(len(self.members), replica))

    # -- publishing and consuming --------------------------------------------------------------
    def full(self) -> bool:
        return 0 <= self.capacity <= len(self.pending)

    def enqueue(self, kernel: Kernel, msg: Message) -> None:
        part = self.partitions[partition_of(msg.key, len(self.partitions))]
        msg.partition = part.index
        msg.offset = part.next_offset
        part.next_offset += 1
        part.log.append(msg)
        if part.owner >= 0:
            self.wake(kernel, self.members[part.owner])

    def wake(self, kernel: Kernel, member: Member) -> None:
        """Let the member take its next record; a record that ends at once wakes members
        again from inside this loop, which then goes on instead of nesting."""
        self.waking.append(member)
        if self.pumping:
            return
        self.pumping = True
        while self.waking:
            self._next(kernel, self.waking.popleft())
        self.pumping = False

    def _alive(self, member: Member) -> bool:
        """The member's process runs. Its replica is down before the group hears of it (the
        kernel fails a crashed replica's visits first): such a member takes no record and
        counts no failure."""
        return self.alive[member.replica] and self.replicas[member.replica].up

    def _next(self, kernel: Kernel, member: Member) -> None:
        """An idle, live member takes the next record of its partitions, round robin."""
        if member.busy or not self._alive(member):
            return
        parts = member.partitions
        count = len(parts)
        now = kernel.now
        for step in range(count):
            part = parts[(member.cursor + step) % count]
            if part.busy or part.paused_until > now or part.pos >= len(part.log):
                continue
            msg = part.log[part.pos]
            if self.recently_processed(now, msg):
                self.skipped(msg)
                part.pos += 1
                continue
            member.cursor = (member.cursor + step + 1) % count
            self._take(kernel, member, part, msg)
            return

    def _take(self, kernel: Kernel, member: Member, part: Partition, msg: Message) -> None:
        member.busy = part.busy = True
        self.inflight += 1
        if self.guarantee == AT_MOST_ONCE:  # committed before it is processed
            part.log.popleft()
        frame = self.start(kernel, msg, member.index)[1]
        kernel.deliver_on(frame, self.replicas[member.replica])

    def attempt_over(self, kernel: Kernel, attempt: Attempt, cause: int) -> None:
        self.inflight -= 1
        msg = attempt.msg
        member = self.members[attempt.member]
        part = self.partitions[msg.partition]
        member.busy = part.busy = False
        now = kernel.now
        if cause == OK:
            self.processed(now, msg)
            part.delivered += 1
        else:
            self.failed += 1
        if self.guarantee == AT_MOST_ONCE:
            self.settle(msg, PROCESSED if cause == OK else LOST)
        elif not self._alive(member):
            pass  # the consumer died with it: the record stays uncommitted
        elif part.pos < len(part.log) and part.log[part.pos] is msg:
            limit = self.settings.max_deliveries
            if cause != OK:
                part.fails += 1
            if cause == OK or (limit and part.fails >= limit):
                # Done with: processed, or dead-lettered and skipped past (Spring Kafka
                # commits a recovered record's offset too, `ackAfterHandle`).
                part.pos += 1
                part.fails = 0
                if cause != OK:
                    self.dead_letter_it(kernel, msg)
                if self.settings.commit_interval <= 0.0:
                    self._commit(part)
        self.wake(kernel, member)
        if part.owner >= 0 and part.owner != member.index:
            self.wake(kernel, self.members[part.owner])

    # -- offsets ---------------------------------------------------------------------------------
    def _commit(self, part: Partition) -> None:
        """Commit the processed records' offsets: they leave the log for good."""
        log = part.log
        for _ in range(part.pos):
            self.settle(log.popleft(), PROCESSED)
        part.pos = 0

    def commit_all(self) -> None:
        """Auto-commit: each live member commits the processed offsets of its partitions."""
        for part in self.partitions:
            if part.owner >= 0 and self._alive(self.members[part.owner]):
                self._commit(part)

    # -- membership ------------------------------------------------------------------------------
    def replica_changed(self, kernel: Kernel, replica: int, up: bool, graceful: bool) -> None:
        """A member's process stopped, (re)started, joined or left the replica set. A crash
        is noticed after the session timeout; a start joins the group at once, and a
        graceful leave (scale-down, rollout, SIGTERM) commits and sends LeaveGroup, so the
        group rebalances at once."""
        while replica >= len(self.members) // max(1, self.concurrency):
            self._add_members(len(self.members) // self.concurrency)
        while len(self.alive) <= replica:
            self.alive.append(False)
        if self.alive[replica] == up:
            return
        self.alive[replica] = up
        if not up:
            self._stop_member(replica, graceful)
        area = self.area
        assert area is not None
        if up:
            self.rebalance(kernel, "member joined")
        elif graceful:
            self.rebalance(kernel, "member left")
        else:
            kernel.push(kernel.now + self.group.session_timeout, area.session_kind,
                        (self, replica))

    def _stop_member(self, replica: int, graceful: bool) -> None:
        """A stopped process's positions were in its memory: whoever consumes its partitions
        next, even the same member restarted within the session timeout, starts from the
        committed offset (Kafka's OffsetFetch). A graceful stop commits what it processed
        first, as a consumer's close() does before it leaves the group."""
        for member in self.members:
            if member.replica == replica:
                for part in member.partitions:
                    if graceful:
                        self._commit_on_revoke(part)
                    part.pos = part.fails = 0

    def session_expired(self, kernel: Kernel, replica: int) -> None:
        if not self.alive[replica]:
            self.rebalance(kernel, "session timeout")

    def rebalance(self, kernel: Kernel, cause: str) -> None:
        now = kernel.now
        rounds = 1
        if self.group.cooperative:
            target = self._sticky_assignment()
            taken_from_live = any(
                part.owner >= 0 and target[part.index] != part.owner
                and self._alive(self.members[part.owner]) for part in self.partitions)
            rounds = 2 if taken_from_live else 1
        else:
            target = self._eager_assignment()
        pause = rounds * self.group.rebalance_time
        moved = 0
        for part in self.partitions:
            changes = target[part.index] != part.owner
            moved += changes
            if changes:  # its next owner's consumer has counted no failure of it
                part.fails = 0
            if changes or not self.group.cooperative:
                self._commit_on_revoke(part)
                part.paused_until = max(part.paused_until, now + pause)
        self._assign(target)
        live = sum(1 for member in self.members if self._alive(member))
        self.rebalances.append((now, cause, live, pause, moved))
        area = self.area
        assert area is not None
        kernel.push(now + pause, area.resume_kind, self)

    def _commit_on_revoke(self, part: Partition) -> None:
        """A member commits what it processed before it gives a partition up (a crashed
        member's position is already gone: it commits nothing)."""
        if self.guarantee != AT_MOST_ONCE:
            self._commit(part)

    def resume(self, kernel: Kernel) -> None:
        for member in self.members:
            self.wake(kernel, member)

    def _live_members(self) -> list[Member]:
        return [member for member in self.members if self._alive(member)]

    def _eager_assignment(self) -> list[int]:
        """Kafka's RangeAssignor: consecutive ranges, the first P mod n members one more."""
        live = self._live_members()
        if not live:
            return [-1] * len(self.partitions)
        count, extra = divmod(len(self.partitions), len(live))
        owners: list[int] = []
        for position, member in enumerate(live):
            owners += [member.index] * (count + (1 if position < extra else 0))
        return owners

    def _sticky_assignment(self) -> list[int]:
        """CooperativeStickyAssignor's aim: balanced, and as few partitions moved as can be."""
        live = self._live_members()
        if not live:
            return [-1] * len(self.partitions)
        floor, extra = divmod(len(self.partitions), len(live))
        alive = {member.index for member in live}
        load = {member.index: 0 for member in live}
        owners = [-1] * len(self.partitions)
        keep_extra = extra
        for part in self.partitions:
            owner = part.owner
            if owner not in alive:
                continue
            if load[owner] < floor:
                owners[part.index] = owner
                load[owner] += 1
            elif load[owner] == floor and keep_extra:
                owners[part.index] = owner
                load[owner] += 1
                keep_extra -= 1
        for part in self.partitions:
            if owners[part.index] < 0:
                member = min(live, key=lambda m: (load[m.index], m.index))
                owners[part.index] = member.index
                load[member.index] += 1
        return owners

    def _assign(self, owners: list[int]) -> None:
        for member in self.members:
            member.partitions = []
            member.cursor = 0
        for part in self.partitions:
            part.owner = owners[part.index]
            if part.owner >= 0:
                self.members[part.owner].partitions.append(part)

    # -- measurement ------------------------------------------------------------------------------
    def sample(self, now: float) -> None:
        super().sample(now)
        for part in self.partitions:
            part.lag_max = max(part.lag_max, len(part.log))

    def window_end(self, now: float) -> None:
        """The partitions' counts too: the drain goes on delivering, and the lag at the end
        is the window's, like `backlog_end`."""
        super().window_end(now)
        self.window_partitions = [(part.delivered, len(part.log), part.lag_max)
                                  for part in self.partitions]

    def reset(self, now: float) -> None:
        super().reset(now)
        self.rebalances.clear()
        for part in self.partitions:
            part.delivered = 0
            part.lag_max = len(part.log)
