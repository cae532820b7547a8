"""Leader election among a component's replicas: a Kubernetes Lease, Raft, or a fixed leader.

Lease (client-go `tools/leaderelection`, Lease lock). One record: holder, a version that
changes on every write, and the lease duration. The leader renews every RetryPeriod. A
candidate polls every RetryPeriod × (1 + U·1.2) (`wait.JitterUntil`, sliding); when the
record changed since its last poll it notes the time (`observedTime`, its own clock); it
takes the lease when the holder is empty or `observedTime + LeaseDuration` has passed. A
crashed leader stops renewing, so a candidate takes over between LeaseDuration − RetryPeriod
and LeaseDuration + 2 × RetryPeriod × 2.2 after the crash; a leader that leaves gracefully
with ReleaseOnCancel clears the holder, and the next poll takes it. A restarted process has
a new identity, so it waits like any candidate.

A stop-the-world pause (a `pause` fault) freezes a process's loops: a paused leader does not
renew, and its timers fire when it runs again. If a candidate took the lease meanwhile, the
old leader's renewals fail from then on (PollImmediateUntil every RetryPeriod, within a
context of RenewDeadline), and it leads on in its own eyes until RenewDeadline has passed:
two replicas act as leader for that long (`split_brain_s`), the hazard fencing tokens guard
against. Then it stops leading and goes back to the acquire loop. A member cut off from the
others (a `partition` fault from its own component) cannot reach the API server they reach:
as leader its renewals fail from the cut and it stops RenewDeadline after the first failure,
while the others take the lease as after a crash; as candidate its polls fail. The API
server is not modelled otherwise: renewals of a reachable leader never fail.

Raft (Ongaro & Ousterhout §5.2; etcd). Each member keeps a term, a vote and an election
timer drawn uniformly in [election_timeout, election_timeout_max), drawn again when its term
changes or it stands. The leader sends heartbeats every `heartbeat`; a follower resets its
timer on each one (and on granting a vote). A follower whose timer fires stands: new term,
votes for itself, asks every member; a member grants one vote per term, to the first
candidate that asks; a candidate with a majority leads and sends heartbeats at once. A
candidate whose timer fires before it wins stands again (a split vote). A member that sees a
higher term steps down. Messages take one network hop each (`defaults.network`, its own
random stream). A member that sees a stale leader's heartbeat answers with its term and the
leader steps down. A paused member does nothing until it runs again: its timers and the
messages to it wait for then. A leader deposed meanwhile beats again with its old term, and
leads in its own eyes until the first answer tells it the new one (`split_brain_s`). Logs
are taken as equally up to date.

etcd's additions, both on unless the spec turns them off. CheckQuorum: every shortest
election timeout of its term the leader checks that a majority took its heartbeats since
the last check, and steps down if not; a leader, or a member that heard from its leader
within that timeout, ignores requests to vote in a later term (go.etcd.io/raft `Step`'s
lease). Pre-vote (Raft thesis §9.6): a member whose timer fires asks for votes for the next
term without taking it, and stands only with a majority of yeses. A member cut off from the
others (a `partition` fault from its own component) sends and gets no message; a cut-off
leader leads on in its own eyes beside the one the others elect, until its quorum check
(or, without CheckQuorum, the end of the cut) tells it.

Fixed leader: replica 0 leads whenever it is up (leader–follower replication without an
election: a crashed leader stops writes until it comes back).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from scalesim.sim.area import Area
from scalesim.sim.data.leadership import Leadership
from scalesim.sim.plan import Comp, Replica
from scalesim.sim.random import Sampler

if TYPE_CHECKING:
    from scalesim.sim.kernel import Kernel

FOLLOWER: Final = 0
CANDIDATE: Final = 1
LEADER: Final = 2
PRE_CANDIDATE: Final = 3
EMPTY: Final = -1
DEAD: Final = -2  # lease holder: nobody, or a process that crashed without releasing


class Election(Area):
    """What every election shares: its leadership and the window."""

    def __init__(self, leadership: Leadership, kind: str) -> None:
        self.leadership = leadership
        self.kind = kind  # "lease", "raft" or "fixed"
        self.kernel: Kernel | None = None
        # raft, in the window: elections (terms some member stood in; several candidates
        # of one term are one election) and those that ended with no winner
        self.elections = 0
        self.split_votes = 0
        self.stood_terms: set[int] = set()
        self.split_terms: set[int] = set()
        self.split_brains = 0  # deposed leaders that led on in their own eyes, in the window
        self.split_brain_s = 0.0  # how long, inside the window
        # By member, the events a pause holds (its timers, messages to it), in order, for
        # when it runs again.
        self.frozen: list[list[tuple[int, object]]] = [
            [] for _ in range(len(leadership.comp.replicas))]
        # By member: partition faults cutting it off from the others (shared with replication
        # through the leadership), and since when.
        self.cut = leadership.cut
        self.cut_since = [0.0] * len(leadership.comp.replicas)

    def start(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.leadership.start = kernel.t_start
        self.leadership.end = kernel.t_end
        kernel.watch_replicas(self)

    def window_end(self, kernel: Kernel) -> None:
        self.leadership.settle(kernel.now)

    def counted(self) -> bool:
        kernel = self.kernel
        assert kernel is not None
        return kernel.now >= kernel.t_start

    def _held(self, member: int, kind: int, obj: object) -> bool:
        """The member is paused: the event waits for it to run again (`replica_resumed`)."""
        if not self.leadership.comp.replicas[member].paused:
            return False
        self.frozen[member].append((kind, obj))
        return True

    def replica_resumed(self, kernel: Kernel, comp: Comp, rep: Replica) -> None:
        if comp is not self.leadership.comp:
            return
        member = rep.index
        self._resuming(kernel, member)
        for kind, obj in self.frozen[member]:
            kernel.push(kernel.now, kind, obj)
        self.frozen[member].clear()

    def _resuming(self, kernel: Kernel, member: int) -> None:
        """The member runs again: what it must note before its held events run."""

    def peers_cut(self, kernel: Kernel, comp: Comp, rep: Replica, start: bool) -> None:
        if comp is not self.leadership.comp:
            return
        member = rep.index
        if start and not self.cut[member]:
            self.cut_since[member] = kernel.now
        self.cut[member] += 1 if start else -1

    def _lost_since(self, member: int) -> float:
        """When the others lost a leader they replace: the start of its cut, if it is cut
        off (-1: now)."""
        return self.cut_since[member] if self.cut[member] else -1.0

    def _replace_frozen(self, kernel: Kernel, term: int) -> None:
        """A new leader while the old one is frozen by a pause: the old one is lost since
        the pause began (a failover counted from then)."""
        old = self.leadership.rep
        if old is not None and old.paused:
            self.leadership.lose(kernel, old, "paused", term, old.pause_started)

    def _led_on(self, kernel: Kernel, member: int, term: int, since: float) -> None:
        """A deposed leader that acted as one from `since` (when it ran again after a pause,
        or another was elected while it was cut off) until now, beside the real one: count
        it, inside the window, and note when it began (`second_leader`)."""
        if kernel.now <= since:
            return  # it learnt of the new leader as it ran again: it never acted as one
        self.leadership.note_before(since, "second_leader", member, term)
        low, high = max(since, kernel.t_start), min(kernel.now, kernel.t_end)
        if high > low:
            self.split_brain_s += high - low
        if kernel.now >= kernel.t_start:
            self.split_brains += 1


class FixedLeader(Election):
    def __init__(self, leadership: Leadership) -> None:
        super().__init__(leadership, "fixed")

    def attach(self, kernel: Kernel) -> None:
        self.start(kernel)
        self.leadership.gain(kernel, self.leadership.comp.replicas[0], 0, initial=True)

    def replica_changed(self, kernel: Kernel, comp: Comp, rep: Replica) -> None:
        if comp is not self.leadership.comp or rep.index != 0:
            return
        if rep.up and self.leadership.rep is None:
            self.leadership.gain(kernel, rep, 0)
        elif not rep.up:
            self.leadership.lose(kernel, rep, "crashed", 0)


class LeaseElection(Election):
    def __init__(self, leadership: Leadership, lease_duration: float, renew_deadline: float,
                 retry_period: float, jitter: float, release_on_cancel: bool,
                 uniform: Sampler) -> None:
        super().__init__(leadership, "lease")
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.jitter = jitter
        self.release_on_cancel = release_on_cancel
        self.uniform = uniform
        members = len(leadership.comp.replicas)
        self.holder = EMPTY
        self.version = 0  # changes with every write of the record (renewal, takeover)
        self.transitions = 0  # leaderTransitions: takeovers, the lease's "term"
        self.duration = lease_duration  # leaseDurationSeconds of the record
        self.seen = [0] * members  # the record version each candidate last saw
        self.seen_at = [0.0] * members  # observedTime: when it saw that version change
        self.generation = [0] * members  # a crash or restart cancels the loops it had
        self.leading = [False] * members  # leads in its own eyes (OnStartedLeading ran)
        self.failing_since = [-1.0] * members  # its renewals fail since then; -1: they do not
        # A leader that leads on while another holds the lease, since then; -1: none.
        self.second_since = [-1.0] * members
        self.poll_kind = -1
        self.renew_kind = -1

    def attach(self, kernel: Kernel) -> None:
        self.start(kernel)
        self.poll_kind = kernel.add_handler(self._poll)
        self.renew_kind = kernel.add_handler(self._renew)
        replicas = self.leadership.comp.replicas
        self._acquire(kernel, 0, initial=True)
        first = self.uniform.draw() * self.retry_period  # the renew loop's phase
        kernel.push(first, self.renew_kind, (0, self.generation[0]))
        for member in range(1, len(replicas)):  # candidates already watching, at any phase
            kernel.push(self.uniform.draw() * self._gap(), self.poll_kind,
                        (member, self.generation[member]))

    def _gap(self) -> float:
        """wait.Jitter(RetryPeriod, 1.2): the period plus up to 1.2 periods more."""
        return self.retry_period * (1.0 + self.uniform.draw() * self.jitter)

    def _acquire(self, kernel: Kernel, member: int, initial: bool = False) -> None:
        self._replace_frozen(kernel, self.transitions)
        old = self.holder
        if old >= 0 and old != member and self.leading[old] and \
                not self.leadership.comp.replicas[old].paused:
            # Cut off from the API server, the holder leads on until its RenewDeadline: it is
            # lost to the others since its cut, and a second leader from now.
            self.leadership.lose(kernel, self.leadership.comp.replicas[old], "partitioned",
                                 self.transitions, self._lost_since(old))
            self.second_since[old] = kernel.now
        if not initial:
            self.transitions += 1
        self.holder = member
        self.leading[member] = True
        self.failing_since[member] = -1.0
        self.duration = self.lease_duration
        self._write(kernel, member)
        self.leadership.gain(kernel, self.leadership.comp.replicas[member], self.transitions,
                             initial)

    def _write(self, kernel: Kernel, member: int) -> None:
        self.version += 1
        self.seen[member] = self.version
        self.seen_at[member] = kernel.now

    def _poll(self, obj: object) -> None:
        """tryAcquireOrRenew of a candidate."""
        kernel = self.kernel
        assert kernel is not None and isinstance(obj, tuple)
        member, generation = obj
        assert isinstance(member, int) and isinstance(generation, int)
        if generation != self.generation[member] or self._held(member, self.poll_kind, obj):
            return
        now = kernel.now
        if self.cut[member] or not self._may_take(member, now):  # cut off: its read fails
            kernel.push(now + self._gap(), self.poll_kind, (member, generation))
            return
        self._acquire(kernel, member)
        kernel.push(now + self.retry_period, self.renew_kind, (member, generation))

    def _may_take(self, member: int, now: float) -> bool:
        """tryAcquireOrRenew's check for a non-holder: note a changed record, then take it
        if it is empty or has not changed for a lease duration."""
        if self.seen[member] != self.version:
            self.seen[member] = self.version
            self.seen_at[member] = now
        return self.holder == EMPTY or self.seen_at[member] + self.duration <= now

    def _renew(self, obj: object) -> None:
        """The leader's renew loop: a write every RetryPeriod; when the writes fail (another
        took the lease during a pause, or it is cut off from the API server), tries every
        RetryPeriod until RenewDeadline has passed since the first failure, then it stops."""
        kernel = self.kernel
        assert kernel is not None and isinstance(obj, tuple)
        member, generation = obj
        assert isinstance(member, int) and isinstance(generation, int)
        if generation != self.generation[member] or not self.leading[member] or \
                self._held(member, self.renew_kind, obj):
            return
        now = kernel.now
        if self.holder == member and not self.cut[member]:
            self._write(kernel, member)
            self.failing_since[member] = -1.0  # a cut that healed in time
            kernel.push(now + self.retry_period, self.renew_kind, (member, generation))
            return
        if not self.cut[member] and self._may_take(member, now):
            self._acquire(kernel, member)  # the lease ran out meanwhile: taken back
            kernel.push(now + self.retry_period, self.renew_kind, (member, generation))
            return
        if self.failing_since[member] < 0.0:
            self.failing_since[member] = now
        if self.holder != member and self.second_since[member] < 0.0:
            self.second_since[member] = now  # another holds it: a second leader from now
        give_up = self.failing_since[member] + self.renew_deadline
        if now < give_up:
            kernel.push(min(now + self.retry_period, give_up), self.renew_kind,
                        (member, generation))
            return
        self._stop_leading(kernel, member, generation)

    def _stop_leading(self, kernel: Kernel, member: int, generation: int) -> None:
        """RenewDeadline passed since the first failed renewal: it stops and tries to acquire
        again; if another held the lease meanwhile, it was a second leader until now."""
        now = kernel.now
        if self.second_since[member] >= 0.0:
            self._led_on(kernel, member, self.transitions, self.second_since[member])
        self.leading[member] = False
        self.failing_since[member] = -1.0
        self.second_since[member] = -1.0
        self.leadership.lose(kernel, self.leadership.comp.replicas[member], "lease_lost",
                             self.transitions, self._lost_since(member))
        kernel.push(now + self._gap(), self.poll_kind, (member, generation))

    def replica_changed(self, kernel: Kernel, comp: Comp, rep: Replica) -> None:
        if comp is not self.leadership.comp:
            return
        member = rep.index
        self.generation[member] += 1
        self.frozen[member].clear()  # loops of the process that was
        if not rep.up or rep.retired:
            self.leading[member] = False
            self.failing_since[member] = -1.0
            self.second_since[member] = -1.0
            if self.holder == member:
                graceful = kernel.stopped_gracefully(rep)
                if graceful and self.release_on_cancel and not self.cut[member]:
                    self.holder = EMPTY  # release(): no holder, leaseDurationSeconds 1
                    self.duration = 1.0
                    self._write(kernel, member)
                    self.leadership.lose(kernel, rep, "released", self.transitions)
                else:
                    self.holder = DEAD
                    self.leadership.lose(kernel, rep, "stopped" if graceful else "crashed",
                                         self.transitions)
            self.seen[member] = -1  # the next process starts with no observation
            return
        # Back up: a new process, a new identity; its acquire loop starts with a try.
        kernel.push(kernel.now, self.poll_kind, (member, self.generation[member]))


class Message:
    """A Raft message in flight: a vote request or grant, or a heartbeat."""

    __slots__ = ("sender", "target", "term")

    def __init__(self, sender: int, target: int, term: int) -> None:
        self.sender = sender
        self.target = target
        self.term = term


class RaftElection(Election):
    def __init__(self, leadership: Leadership, heartbeat: float, timeout_min: float,
                 timeout_max: float, hop: Sampler | None, uniform: Sampler,
                 check_quorum: bool = True, pre_vote: bool = True) -> None:
        super().__init__(leadership, "raft")
        self.heartbeat = heartbeat
        self.timeout_min = timeout_min
        self.timeout_span = timeout_max - timeout_min
        self.hop = hop
        self.uniform = uniform
        self.check_quorum = check_quorum
        self.pre_vote = pre_vote
        members = len(leadership.comp.replicas)
        self.members = members
        self.majority = members // 2 + 1
        self.role = [FOLLOWER] * members
        self.term = [1] * members
        self.voted = [-1] * members  # whom each member voted for in its term
        self.votes = [0] * members  # votes a candidate (or pre-votes a pre-candidate) has
        self.timeout = [0.0] * members  # its randomized timeout in this term
        self.deadline = [0.0] * members  # its election timer fires then
        self.armed = [-1.0] * members  # the timer event already in the heap, or -1
        self.up = [True] * members
        self.lead = [-1] * members  # the leader each member last heard from in its term
        self.heard_at = [0.0] * members  # when it last did
        # By leader: the members that took its heartbeats since its last quorum check.
        self.acked: list[set[int]] = [set() for _ in range(members)]
        # A deposed leader that still leads in its own eyes, since then (it ran again after
        # a pause, or another was elected while it was cut off); -1: none.
        self.stale_since = [-1.0] * members
        self.timer_kind = self.request_kind = self.grant_kind = -1
        self.beat_kind = self.append_kind = self.reject_kind = -1
        self.check_kind = self.pre_request_kind = self.pre_grant_kind = -1

    def attach(self, kernel: Kernel) -> None:
        self.start(kernel)
        self.timer_kind = kernel.add_handler(self._timer)
        self.request_kind = kernel.add_handler(self._request)
        self.grant_kind = kernel.add_handler(self._grant)
        self.beat_kind = kernel.add_handler(self._beat)
        self.append_kind = kernel.add_handler(self._append)
        self.reject_kind = kernel.add_handler(self._reject)
        self.check_kind = kernel.add_handler(self._check)
        self.pre_request_kind = kernel.add_handler(self._pre_request)
        self.pre_grant_kind = kernel.add_handler(self._pre_grant)
        for member in range(self.members):
            self._new_timeout(member)
            self._reset(kernel, member)
        self.voted[0] = 0
        self._lead(kernel, 0, self.uniform.draw() * self.heartbeat, initial=True)

    def _new_timeout(self, member: int) -> None:
        self.timeout[member] = self.timeout_min + self.uniform.draw() * self.timeout_span

    def _send(self, kernel: Kernel, kind: int, sender: int, target: int, term: int) -> None:
        """A message one network hop away; lost if a partition cuts either end off."""
        if self.cut[sender] or self.cut[target]:
            return
        delay = self.hop.draw() if self.hop is not None else 0.0
        kernel.push(kernel.now + delay, kind, Message(sender, target, term))

    def _message(self, obj: object) -> tuple[Kernel, Message]:
        kernel = self.kernel
        assert kernel is not None and isinstance(obj, Message)
        return kernel, obj

    def _runs(self, member: int, kind: int, obj: object) -> bool:
        """The member is up and not paused (a paused member's event waits for it)."""
        return self.up[member] and not self._held(member, kind, obj)

    def _leads_in(self, msg: Message, kind: int) -> bool:
        """A leader's own timer (heartbeat, quorum check) is for the term it still leads."""
        member = msg.sender
        return self._runs(member, kind, msg) and self.role[member] == LEADER and \
            self.term[member] == msg.term

    def _reset(self, kernel: Kernel, member: int) -> None:
        """(Re)start the member's election timer."""
        deadline = kernel.now + self.timeout[member]
        self.deadline[member] = deadline
        armed = self.armed[member]
        if armed < 0.0 or armed > deadline:
            self.armed[member] = deadline
            kernel.push(deadline, self.timer_kind, member)

    def _timer(self, obj: object) -> None:
        kernel = self.kernel
        assert kernel is not None and isinstance(obj, int)
        member = obj
        if kernel.now != self.armed[member]:
            return  # a stale timer: a later one is armed
        if self._held(member, self.timer_kind, member):
            return
        self.armed[member] = -1.0
        if not self.up[member] or self.role[member] == LEADER:
            return
        if kernel.now < self.deadline[member]:
            self.armed[member] = self.deadline[member]
            kernel.push(self.deadline[member], self.timer_kind, member)
            return
        term = self.term[member]
        if self.role[member] == CANDIDATE and self.counted() and term not in self.split_terms:
            self.split_terms.add(term)  # the election of its term ended with no winner
            self.split_votes += 1
        if self.pre_vote:
            self._pre_stand(kernel, member)
        else:
            self._stand(kernel, member)

    def _pre_stand(self, kernel: Kernel, member: int) -> None:
        """Pre-vote (Ongaro's thesis §9.6, etcd): ask for votes for the next term without
        taking it; stand only with a majority of yeses. A member cut off gets none, so its
        term does not grow while it is away."""
        self.role[member] = PRE_CANDIDATE
        self.lead[member] = -1
        self.votes[member] = 1
        self._new_timeout(member)
        self._reset(kernel, member)
        if self.votes[member] >= self.majority:
            self._stand(kernel, member)
            return
        for other in range(self.members):
            if other != member:
                self._send(kernel, self.pre_request_kind, member, other, self.term[member] + 1)

    def _stand(self, kernel: Kernel, member: int) -> None:
        self.role[member] = CANDIDATE
        self.lead[member] = -1
        self.term[member] += 1
        term = self.term[member]
        self.voted[member] = member
        self.votes[member] = 1
        if self.counted() and term not in self.stood_terms:
            self.stood_terms.add(term)
            self.elections += 1
        self.leadership.note(kernel.now, "election", member, term)
        self._new_timeout(member)
        self._reset(kernel, member)
        if self.votes[member] >= self.majority:
            self._lead(kernel, member, 0.0)
            return
        for other in range(self.members):
            if other != member:
                self._send(kernel, self.request_kind, member, other, term)

    def _in_lease(self, member: int, now: float) -> bool:
        """CheckQuorum's leader lease: a leader, or a member that heard from its leader
        within the (shortest) election timeout, ignores requests to vote in a later term."""
        if not self.check_quorum:
            return False
        if self.role[member] == LEADER:
            return True
        return self.lead[member] >= 0 and now - self.heard_at[member] < self.timeout_min

    def _resuming(self, kernel: Kernel, member: int) -> None:
        if self.role[member] == LEADER and \
                self.leadership.rep is not self.leadership.comp.replicas[member]:
            self.stale_since[member] = kernel.now  # deposed while frozen, still leading
        if any(kind == self.timer_kind for kind, _ in self.frozen[member]):
            self.armed[member] = kernel.now  # its timer came due during the pause

    def _observe(self, kernel: Kernel, member: int, term: int) -> None:
        """A higher term: the member becomes a follower of it (a leader steps down)."""
        if term <= self.term[member]:
            return
        if self.role[member] == LEADER:
            self._step_down(kernel, member, "stepped_down")
        self.term[member] = term
        self.role[member] = FOLLOWER
        self.lead[member] = -1
        self.voted[member] = -1
        self._new_timeout(member)

    def _step_down(self, kernel: Kernel, member: int, why: str) -> None:
        """A leader stops leading; if another was elected meanwhile, it acted as a second
        leader until now."""
        rep = self.leadership.comp.replicas[member]
        self.leadership.lose(kernel, rep, why, self.term[member], self._lost_since(member))
        if self.stale_since[member] >= 0.0:
            self._led_on(kernel, member, self.term[member], self.stale_since[member])
            self.stale_since[member] = -1.0
        self.role[member] = FOLLOWER
        self.lead[member] = -1

    def _request(self, obj: object) -> None:
        kernel, msg = self._message(obj)
        member = msg.target
        if not self._runs(member, self.request_kind, msg):
            return
        if msg.term > self.term[member] and self._in_lease(member, kernel.now):
            return
        self._observe(kernel, member, msg.term)
        if msg.term == self.term[member] and self.voted[member] in (-1, msg.sender):
            self.voted[member] = msg.sender
            self._reset(kernel, member)
            self._send(kernel, self.grant_kind, member, msg.sender, msg.term)

    def _grant(self, obj: object) -> None:
        kernel, msg = self._message(obj)
        member = msg.target
        if not self._runs(member, self.grant_kind, msg) or self.role[member] != CANDIDATE or \
                self.term[member] != msg.term:
            return
        self.votes[member] += 1
        if self.votes[member] >= self.majority:
            self._lead(kernel, member, 0.0)

    def _pre_request(self, obj: object) -> None:
        """A pre-vote request for term `msg.term`: yes if that term is ahead of the member's
        and no leader holds its lease; its own term and vote do not change."""
        kernel, msg = self._message(obj)
        member = msg.target
        if not self._runs(member, self.pre_request_kind, msg):
            return
        if msg.term > self.term[member] and not self._in_lease(member, kernel.now):
            self._send(kernel, self.pre_grant_kind, member, msg.sender, msg.term)

    def _pre_grant(self, obj: object) -> None:
        kernel, msg = self._message(obj)
        member = msg.target
        if not self._runs(member, self.pre_grant_kind, msg) or \
                self.role[member] != PRE_CANDIDATE or self.term[member] + 1 != msg.term:
            return
        self.votes[member] += 1
        if self.votes[member] >= self.majority:
            self._stand(kernel, member)

    def _lead(self, kernel: Kernel, member: int, first_beat: float,
              initial: bool = False) -> None:
        self._replace_frozen(kernel, self.term[member])
        old = self.leadership.rep
        if old is not None and old.index != member and not old.paused:
            # The old leader leads on in its own eyes: cut off from the majority (lost to the
            # others since the partition began), or not told yet.
            if self.cut[old.index]:
                self.leadership.lose(kernel, old, "partitioned", self.term[old.index],
                                     self._lost_since(old.index))
            self.stale_since[old.index] = kernel.now
        self.role[member] = LEADER
        self.lead[member] = member
        self.acked[member].clear()
        if initial:  # answered until now
            self.acked[member].update(m for m in range(self.members) if m != member)
        self.leadership.gain(kernel, self.leadership.comp.replicas[member], self.term[member],
                             initial)
        term = self.term[member]
        kernel.push(kernel.now + first_beat, self.beat_kind, Message(member, member, term))
        if self.check_quorum:  # the run's first leader has led for a while: any phase
            check = self.uniform.draw() if initial else 1.0
            kernel.push(kernel.now + check * self.timeout_min, self.check_kind,
                        Message(member, member, term))

    def _beat(self, obj: object) -> None:
        kernel, msg = self._message(obj)
        member = msg.sender
        if not self._leads_in(msg, self.beat_kind):
            return
        for other in range(self.members):
            if other != member:
                self._send(kernel, self.append_kind, member, other, msg.term)
        kernel.push(kernel.now + self.heartbeat, self.beat_kind, msg)

    def _check(self, obj: object) -> None:
        """CheckQuorum, every shortest election timeout of a term led: a leader that no
        majority (itself included) answered since the last check steps down."""
        kernel, msg = self._message(obj)
        member = msg.sender
        if not self._leads_in(msg, self.check_kind):
            return
        if 1 + len(self.acked[member]) < self.majority:
            self._step_down(kernel, member, "quorum_lost")
            self._new_timeout(member)
            self._reset(kernel, member)
            return
        self.acked[member].clear()
        kernel.push(kernel.now + self.timeout_min, self.check_kind, msg)

    def _append(self, obj: object) -> None:
        kernel, msg = self._message(obj)
        member = msg.target
        if not self._runs(member, self.append_kind, msg):
            return
        if msg.term < self.term[member]:
            if self.role[msg.sender] == LEADER:  # a stale leader: the reply tells it the term
                self._send(kernel, self.reject_kind, member, msg.sender, self.term[member])
            return
        self._observe(kernel, member, msg.term)
        self.role[member] = FOLLOWER  # a candidate of the same term steps down too
        self.lead[member] = msg.sender
        self.heard_at[member] = kernel.now
        self.acked[msg.sender].add(member)  # its answer (a hop later) counts for the check
        self._reset(kernel, member)

    def _reject(self, obj: object) -> None:
        """A follower's answer to a stale leader's heartbeat, with its newer term (Raft
        §5.1): the old leader steps down."""
        kernel, msg = self._message(obj)
        member = msg.target
        if not self._runs(member, self.reject_kind, msg):
            return
        self._observe(kernel, member, msg.term)

    def replica_changed(self, kernel: Kernel, comp: Comp, rep: Replica) -> None:
        if comp is not self.leadership.comp:
            return
        member = rep.index
        up = rep.up and not rep.retired
        if up == self.up[member]:
            return
        self.up[member] = up
        self.frozen[member].clear()  # what waited for a process that is gone
        self.stale_since[member] = -1.0
        self.lead[member] = -1
        if not up:
            if self.role[member] == LEADER:
                self.leadership.lose(kernel, rep, "crashed", self.term[member])
            self.role[member] = FOLLOWER
            return
        # Restarted: term and vote were persisted; it rejoins as a follower.
        self.role[member] = FOLLOWER
        self._new_timeout(member)
        self._reset(kernel, member)
