"""A replicated store: leader–follower (async, semi-sync, sync), a Raft log, or leaderless
N/R/W quorums, with what each read sees.

Per write, each replica's delays are drawn from the WARS model (Bailis et al., PBS, VLDB
2012): W (the write reaches the replica), A (its acknowledgement comes back), and for
quorum reads R (the request reaches it) and S (its answer comes back). The write step runs
after the operation's own work and waits for its commit:

- async: at once. semi_sync: the first follower's W + A, at most `semi_sync_timeout`; a
  timeout switches the leader to async when it expires, releasing the commits that waited
  meanwhile, until that acknowledgement arrives (MySQL).
  sync: the `acks`-th follower's W + A; with fewer followers up, the write waits for them
  (PostgreSQL blocks). raft: the (majority − 1)-th follower's W + A, the leader counting
  itself; without a majority up and reachable (a member cut off from the others by a
  partition reaches none) it fails `unavailable`. quorum: the `w`-th of the key's `n`
  replicas' W + A (the coordinator sends to all n); fewer than `w` up: `unavailable`.
- A follower sees a write W + `apply` after it started (raft: not before the commit). A
  quorum read waits for the `r`-th of the up replicas' R + S and returns the newest of those
  answers: it is stale when none of them had the key's latest committed write when the
  request reached it. A read at a follower is stale when the follower has not applied it; a
  read at the leader never is (raft: it first confirms leadership with a majority round,
  ReadIndex).
- t-visibility: for every write, one read drawn as the configured reads would go gives the
  smallest t after the commit at which that read would have seen the write; their
  distribution is P(consistent read t after a write) — the PBS Monte Carlo, run inline.
- A failover of async or semi-sync replication loses the writes the new leader had not
  received when the old one was lost (raft never does: a leader holds every committed entry).

Each step draws a few numbers and pushes at most one event: O(replicas) per request.
Replicas' own work for the copies is in W (it does not occupy their workers).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Final

from scalesim.sim.data.leadership import LeaderListener, Leadership
from scalesim.sim.metrics import Histogram
from scalesim.sim.plan import NEVER, OK, UNAVAILABLE, AreaStep, Comp, Frame, Replica
from scalesim.sim.random import Sampler

if TYPE_CHECKING:
    from scalesim.sim.kernel import Kernel

ASYNC: Final = 0
SEMI_SYNC: Final = 1
SYNC: Final = 2
QUORUM: Final = 3
RAFT: Final = 4
READS_LEADER: Final = 0
READS_FOLLOWERS: Final = 1
READS_ANY: Final = 2


class Version:
    """One committed write of a key: when each replica received and applied it."""

    __slots__ = ("commit", "done", "key", "received", "start", "visible")

    def __init__(self, key: int, start: float, received: list[float],
                 visible: list[float]) -> None:
        self.key = key
        self.start = start  # its timestamp: a later start is a newer value
        self.commit = start
        self.received = received  # per replica index (quorum: per replica of the key)
        self.visible = visible
        self.done = start  # every replica that was up has it by then

    def settle(self, commit: float) -> None:
        self.commit = commit
        self.done = max([commit, *(t for t in self.visible if t < NEVER)])


def _draw(sampler: Sampler | None) -> float:
    return sampler.draw() if sampler is not None else 0.0


def _kth(values: list[float], k: int) -> float:
    """The k-th smallest (1-based) of values; NEVER when there are fewer than k finite."""
    finite = sorted(v for v in values if v < NEVER)
    return finite[k - 1] if len(finite) >= k else NEVER


class ReplicatedStore(LeaderListener):
    def __init__(self, comp: Comp, mode: int, reads: int, n: int, w: int, r: int,
                 acks: int, semi_sync_timeout: float, write: Sampler | None,
                 ack: Sampler | None, read: Sampler | None, response: Sampler | None,
                 apply: Sampler | None, uniform: Sampler,
                 leadership: Leadership | None) -> None:
        self.comp = comp
        self.mode = mode
        self.reads = reads
        self.n = n  # quorum: replicas of a key
        self.w = w
        self.r = r
        self.acks = acks  # followers a commit waits for (sync, semi_sync 1, raft majority − 1)
        self.semi_sync_timeout = semi_sync_timeout
        self.write = write
        self.ack = ack
        self.read = read
        self.response = response
        self.apply = apply
        self.uniform = uniform
        self.leadership = leadership
        if leadership is not None:
            leadership.listeners.append(self)
        self.kernel: Kernel | None = None
        self.commit_kind = -1
        self.read_kind = -1
        self.latest: dict[int, Version] = {}  # key -> its newest write still propagating
        self.propagating: deque[Version] = deque()  # in commit order
        # semi_sync: a commit that waits past the timeout switches the leader to async when
        # its wait ends (`semi_sync_off`), releasing the commits waiting with it (MySQL's
        # switch_off wakes them all), until its late acknowledgement (`semi_sync_back`)
        self.semi_sync_off = 0.0
        self.semi_sync_back = 0.0
        self.waiting: list[tuple[Frame, float]] = []  # sync: writes short of followers
        self.at_risk: list[int] = []  # per replica: writes it would lose as the next leader
        # Measured in the window:
        self.writes = 0
        self.reads_seen = 0
        self.stale = 0
        self.unavailable = 0
        self.fallbacks = 0  # semi_sync: commits that gave up waiting
        self.lost = 0  # writes a failover lost
        self.commit_wait = Histogram()  # the replication part of a write's latency
        self.read_wait = Histogram()  # quorum / ReadIndex part of a read's latency
        self.lag = Histogram()  # commit -> a follower sees it
        self.visibility = Histogram()  # t after which the configured read sees the write
        self.backlog_max = 0  # writes still propagating, at most

    def attach(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.commit_kind = kernel.add_handler(self._committed)
        self.read_kind = kernel.add_handler(self._read_done)
        kernel.watch_replicas(self)

    def bound_buffers(self) -> None:
        for hist in (self.commit_wait, self.read_wait, self.lag, self.visibility):
            hist.maybe_flush()

    # -- writes ---------------------------------------------------------------------------------
    def commit(self, kernel: Kernel, frame: Frame) -> bool:
        """The write step: True when the visit waits for its commit."""
        return self._commit(kernel, frame, kernel.now)

    def _commit(self, kernel: Kernel, frame: Frame, started: float) -> bool:
        """Send the write of the step that began at `started` (earlier when a sync write
        waited for followers to come back), and wait for its commit."""
        now = kernel.now
        counted = started >= kernel.t_start
        if self.mode == QUORUM:
            members = self._members(frame.key)
            leader = -1
        else:
            members = self.comp.replicas
            leader = frame.rep.index
        received: list[float] = []
        visible: list[float] = []
        acked: list[float] = []
        for rep in members:
            w = _draw(self.write)
            a = _draw(self.ack)
            applied = _draw(self.apply) if self.mode != QUORUM else 0.0
            if rep.index == leader:
                received.append(now)
                visible.append(now)
                continue
            if self._reaches(leader, rep):
                received.append(now + w)
                visible.append(now + w + applied)
                acked.append(w + a)
            else:
                received.append(NEVER)
                visible.append(NEVER)
        wait = self._commit_wait(kernel, acked)
        if wait == NEVER and self.mode in (QUORUM, RAFT):
            if counted:
                self.unavailable += 1
            kernel.step_done(frame, UNAVAILABLE)
            return True
        version = Version(frame.key, now, received, visible)
        if wait == NEVER:  # sync, short of followers: wait until they are back
            self.waiting.append((frame, started))
            return True
        self._schedule(kernel, frame, version, wait, leader, started)
        return True

    def _reaches(self, leader: int, rep: Replica) -> bool:
        """The leader (or a quorum's coordinator, -1) reaches `rep`: it is up, and neither
        is cut off from the others (a partition fault from their own component)."""
        if not rep.up:
            return False
        if leader < 0 or self.leadership is None:
            return True
        cut = self.leadership.cut
        return not (cut[leader] or cut[rep.index])

    def _commit_wait(self, kernel: Kernel, acked: list[float]) -> float:
        mode = self.mode
        if mode == ASYNC:
            return 0.0
        if mode == QUORUM:
            return _kth(acked, self.w)
        if mode == RAFT:
            return _kth(acked, self.acks) if self.acks else 0.0
        if mode == SYNC:
            return _kth(acked, self.acks)
        now = kernel.now
        first = _kth(acked, 1)
        if now < self.semi_sync_back:  # a commit timed out, or is timing out
            return max(0.0, min(first, self.semi_sync_off - now))
        if first <= self.semi_sync_timeout:
            return first
        self.semi_sync_off = now + self.semi_sync_timeout
        self.semi_sync_back = now + first  # when that acknowledgement arrives
        if now >= kernel.t_start:
            self.fallbacks += 1
        return self.semi_sync_timeout

    def _schedule(self, kernel: Kernel, frame: Frame, version: Version, wait: float,
                  leader: int, started: float) -> None:
        """Commit `wait` from now; the commit wait counts from the step's start."""
        commit = kernel.now + wait
        if leader >= 0:
            version.visible[leader] = commit
            if self.mode == RAFT:  # a follower applies an entry once it knows it committed
                version.visible = [max(t, commit) if t < NEVER else t
                                   for t in version.visible]
        version.settle(commit)
        if started >= kernel.t_start:
            self.writes += 1
            self.commit_wait.add(commit - started)
            self._measure(version, leader)
        kernel.push(version.commit, self.commit_kind, (frame, version))

    def _measure(self, version: Version, leader: int) -> None:
        """Replication lag of the followers, and one read's t-visibility."""
        commit = version.commit
        if self.mode == QUORUM:
            self.visibility.add(self._quorum_visibility(version))
            return
        followers = [t for i, t in enumerate(version.visible) if i != leader]
        for t in followers:
            if t < NEVER:
                self.lag.add(max(0.0, t - commit))
        if self.reads == READS_LEADER:
            self.visibility.add(0.0)
            return
        among = followers if self.reads == READS_FOLLOWERS else version.visible
        seen = among[min(int(self.uniform.draw() * len(among)), len(among) - 1)]
        if seen < NEVER:
            self.visibility.add(max(0.0, seen - commit))

    def _quorum_visibility(self, version: Version) -> float:
        """The WARS condition for one read issued t after the commit: the replica answers
        with the write when the read request reaches it after the write did, i.e. for
        t ≥ visible − commit − R; the read takes the first r answers (by R + S)."""
        answers = []
        for visible in version.visible:
            rr = _draw(self.read)
            ss = _draw(self.response)
            if visible < NEVER:
                answers.append((rr + ss, visible - version.commit - rr))
        answers.sort()
        first = [needed for _, needed in answers[:self.r]]
        return max(0.0, min(first)) if first else 0.0

    def _committed(self, obj: object) -> None:
        kernel = self.kernel
        assert kernel is not None and isinstance(obj, tuple)
        frame, version = obj
        assert isinstance(frame, Frame) and isinstance(version, Version)
        key = version.key
        current = self.latest.get(key)
        if current is None or current.start < version.start:
            self.latest[key] = version
        self.propagating.append(version)
        self._purge(kernel.now)
        if not frame.dead:
            kernel.step_done(frame, OK)

    def _purge(self, now: float) -> None:
        propagating = self.propagating
        while propagating and propagating[0].done <= now:
            old = propagating.popleft()
            if self.latest.get(old.key) is old:
                del self.latest[old.key]
        if len(propagating) > self.backlog_max:
            self.backlog_max = len(propagating)

    # -- reads ----------------------------------------------------------------------------------
    def serve(self, kernel: Kernel, frame: Frame) -> bool:
        """The read step: judge what the read sees; True when it waits (quorum, ReadIndex)."""
        now = kernel.now
        counted = now >= kernel.t_start
        version = self.latest.get(frame.key)
        if version is not None and version.done <= now:
            version = None  # every replica has it
        if self.mode == QUORUM:
            return self._quorum_read(kernel, frame, version, counted)
        if counted:
            self.reads_seen += 1
        leader = self.leadership.rep if self.leadership is not None else None
        if frame.rep is leader:
            if self.mode == RAFT:
                wait = _kth([_draw(self.ack) + _draw(self.ack) for rep in self.comp.replicas
                             if rep is not leader and self._reaches(leader.index, rep)],
                            self.acks)
                if wait == NEVER:
                    if counted:
                        self.unavailable += 1
                    kernel.step_done(frame, UNAVAILABLE)
                    return True
                if counted:
                    self.read_wait.add(wait)
                kernel.push(now + wait, self.read_kind, frame)
                return True
            return False
        if version is not None and version.visible[frame.rep.index] > now and counted:
            self.stale += 1
        return False

    def _quorum_read(self, kernel: Kernel, frame: Frame, version: Version | None,
                     counted: bool) -> bool:
        now = kernel.now
        answers: list[tuple[float, int]] = []
        for slot, rep in enumerate(self._members(frame.key)):
            rr = _draw(self.read)
            ss = _draw(self.response)
            if rep.up:
                fresh = version is None or version.received[slot] <= now + rr
                answers.append((rr + ss, 1 if fresh else 0))
        if len(answers) < self.r:
            if counted:
                self.unavailable += 1
            kernel.step_done(frame, UNAVAILABLE)
            return True
        answers.sort()
        wait = answers[self.r - 1][0]
        if counted:
            self.reads_seen += 1
            self.read_wait.add(wait)
            if not any(fresh for _, fresh in answers[:self.r]):
                self.stale += 1
        kernel.push(now + wait, self.read_kind, frame)
        return True

    def _read_done(self, obj: object) -> None:
        kernel = self.kernel
        assert kernel is not None and isinstance(obj, Frame)
        if not obj.dead:
            kernel.step_done(obj, OK)

    def _members(self, key: int) -> list[Replica]:
        """The key's replicas: n in a row on the ring, from the key's position."""
        replicas = self.comp.replicas
        count = len(replicas)
        first = key % count
        return [replicas[(first + j) % count] for j in range(self.n)]

    # -- failures -------------------------------------------------------------------------------
    def replica_changed(self, kernel: Kernel, comp: Comp, rep: Replica) -> None:
        if comp is not self.comp or not rep.up:
            return
        if self.mode == SEMI_SYNC:
            self.semi_sync_back = min(self.semi_sync_back, kernel.now)  # a follower is back
        if self.mode == SYNC and self.waiting:
            waiting, self.waiting = self.waiting, []
            for frame, started in waiting:
                if not frame.dead:
                    self._commit(kernel, frame, started)

    def leader_lost(self, kernel: Kernel, rep: Replica) -> None:
        """Count, per replica, the committed writes it has not received: if it becomes the
        next leader (async, semi-sync, sync short of all followers) they are gone."""
        if self.mode == RAFT:
            return
        now = kernel.now
        self._purge(now)
        self.at_risk = [sum(1 for v in self.propagating
                            if v.commit <= now < v.received[index])
                        for index in range(len(self.comp.replicas))]

    def leader_changed(self, kernel: Kernel, old: Replica | None, new: Replica | None,
                       lost_at: float) -> None:
        if old is not None and new is not None and new is not old and self.at_risk \
                and lost_at >= kernel.t_start:
            self.lost += self.at_risk[new.index]
        self.at_risk = []


class CommitStep(AreaStep):
    def __init__(self, store: ReplicatedStore) -> None:
        self.store = store

    def start(self, kernel: Kernel, frame: Frame) -> bool:
        return self.store.commit(kernel, frame)


class ReadStep(AreaStep):
    def __init__(self, store: ReplicatedStore) -> None:
        self.store = store

    def start(self, kernel: Kernel, frame: Frame) -> bool:
        return self.store.serve(kernel, frame)
