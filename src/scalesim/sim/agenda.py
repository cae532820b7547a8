"""The kernel's agenda: the events still to happen, on a binary min-heap ordered by (time,
sequence number).

The sequence number is given at push and breaks ties first-in-first-out, so the order of
events is a total order fixed by the run alone: any correct heap pops them in the same order,
and runs are deterministic. Events that arrive in time order anyway (a constant network delay
or timeout after the current time) can wait in a lane, a plain queue per constant, instead:
`pop` takes the earliest of the heap's top and the lanes' heads by the same (time, sequence)
order.

Compiled with mypyc, an event is a native struct whose time is an unboxed double, so ordering
two events compares two C doubles (and, on a tie, two integers) instead of two Python tuples
element by element, which was a fifth of the kernel's time.

The heap holds no objects: it is three packed arrays (mypyc `vec`s) side by side, each
pending event's time, sequence number and the number of its slot in a table of event
objects. Sifting an event up or down then reads and moves doubles and integers in a few
contiguous kilobytes and never touches an event object (nor its reference count). With
thousands of events pending (thousands of replicas busy at once) the objects are scattered
over megabytes; a heap of objects read two of them per level of every sift, which was most of
the kernel's cache misses at 2,048 replicas. The event objects are made once per slot and
refilled: a popped event's slot is given back (`recycle`) for the next push.
"""

from __future__ import annotations

from typing import Final, final

from librt.vecs import append, vec
from mypy_extensions import i64

from scalesim.sim.ring import Ring


@final
class Event:
    __slots__ = ("kind", "obj", "seq", "slot", "t")

    def __init__(self, t: float, seq: i64, kind: i64, obj: object, slot: i64) -> None:
        self.t = t
        self.seq = seq
        self.kind = kind  # an index into the kernel's handlers
        self.obj = obj  # what the handler is called with
        self.slot = slot  # its place in the agenda's table of events, for good


INF: Final = float("inf")
MAX_LANES: Final = 8  # `pop` looks at every lane's head: a few lanes, not one per component
NO_LANE: Final = -2  # what `lane_for` gives once MAX_LANES are taken: use `push`


@final
class Agenda:
    __slots__ = ("by_delay", "events", "first_lane", "free", "frees", "in_lanes", "lane_head",
                 "lanes", "pushed", "seqs", "size", "slots", "times")

    def __init__(self) -> None:
        # A binary heap of size entries, entry i before its children 2i+1 and 2i+2, kept in
        # three parallel arrays: times[i], seqs[i] and slots[i] (events[slots[i]] is the
        # event). The arrays keep their length: entries past `size` are stale and are
        # overwritten, so a push and a pop only move the count.
        self.times: vec[float] = vec[float]()
        self.seqs: vec[i64] = vec[i64]()
        self.slots: vec[i64] = vec[i64]()
        self.size: i64 = 0
        self.events: vec[Event] = vec[Event]()  # every event made, by slot
        # Slots of events read and given back, for `_event` to reuse: free[:frees].
        self.free: vec[i64] = vec[i64]()
        self.frees: i64 = 0
        self.pushed: i64 = 0  # events pushed so far: the next sequence number
        self.lanes: list[Ring[Event]] = []
        self.by_delay: dict[float, int] = {}  # constant delay -> its lane
        self.in_lanes: i64 = 0  # events pending in the lanes
        # The lane whose head comes first and that head (None when the lanes are empty):
        # kept as lanes fill and empty, so a pop compares one head with the heap's top. The
        # head is first_lane.first(), kept too: reading it through the ring on every pop
        # cost 2.5 % of load-balanced-service's instructions.
        self.first_lane: Ring[Event] | None = None
        self.lane_head: Event | None = None

    def __len__(self) -> int:
        return self.size + self.in_lanes

    def clear(self) -> None:
        """Drop every pending event (and the objects they would have been called with)."""
        self.times = vec[float]()
        self.seqs = vec[i64]()
        self.slots = vec[i64]()
        self.size = 0
        self.events = vec[Event]()
        self.free = vec[i64]()
        self.frees = 0
        for lane in self.lanes:
            lane.clear()
        self.in_lanes = 0
        self.first_lane = self.lane_head = None

    def lane_for(self, delay: float) -> int:
        """The lane for events scheduled `delay` after the current time (they come in time
        order, as the clock never goes back), or NO_LANE when every lane is taken."""
        lane = self.by_delay.get(delay, NO_LANE)
        if lane == NO_LANE and len(self.lanes) < MAX_LANES:
            lane = self.by_delay[delay] = len(self.lanes)
            self.lanes.append(Ring())
        return lane

    def push_in_order(self, lane: int, t: float, kind: i64, obj: object) -> None:
        """`push` for an event no earlier than every event pushed to `lane` before it (a lane
        from `lane_for`; with NO_LANE, an ordinary `push`)."""
        if lane < 0:
            self.push(t, kind, obj)
            return
        ring = self.lanes[lane]
        event = self._event(t, kind, obj)
        ring.append(event)
        self.in_lanes += 1
        if ring.size == 1:  # it heads its lane; on a tie in time the older head stays first
            head = self.lane_head
            if head is None or t < head.t:
                self.first_lane, self.lane_head = ring, event

    def push(self, t: float, kind: i64, obj: object) -> None:
        event = self._event(t, kind, obj)
        seq = event.seq
        slot = event.slot
        pos = self.size
        self.size = pos + 1
        if pos == len(self.times):
            self.times = append(self.times, t)
            self.seqs = append(self.seqs, seq)
            self.slots = append(self.slots, slot)
        times, seqs, slots = self.times, self.seqs, self.slots
        while pos > 0:  # sift up: the new event has the largest sequence number yet
            up = (pos - 1) >> 1
            if t < times[up]:
                times[pos] = times[up]
                seqs[pos] = seqs[up]
                slots[pos] = slots[up]
                pos = up
            else:
                break
        times[pos] = t
        seqs[pos] = seq
        slots[pos] = slot

    def _event(self, t: float, kind: i64, obj: object) -> Event:
        """A new event with the next sequence number: a given-back one refilled if there is
        one."""
        seq = self.pushed
        self.pushed = seq + 1
        if self.frees:
            self.frees -= 1
            event = self.events[self.free[self.frees]]
            event.t = t
            event.seq = seq
            event.kind = kind
            event.obj = obj
            return event
        event = Event(t, seq, kind, obj, len(self.events))
        self.events = append(self.events, event)
        return event

    def recycle(self, event: Event) -> None:
        """Give back a popped event once its fields are read, for a later push to reuse
        instead of allocating one (and the one popped freed): 2 % of the compiled kernel's
        instructions."""
        event.obj = None
        if self.frees < len(self.free):
            self.free[self.frees] = event.slot
        else:
            self.free = append(self.free, event.slot)
        self.frees += 1

    def pop(self) -> Event:
        """The earliest event (the first pushed among equal times), from the heap or a lane's
        head; the agenda is not empty."""
        head = self.lane_head
        if head is not None:
            ring = self.first_lane
            assert ring is not None
            if self.size == 0 or head.t < self.times[0] or (head.t == self.times[0]
                                                             and head.seq < self.seqs[0]):
                ring.popleft()
                self.in_lanes -= 1
                self._find_first_lane()
                return head
        return self._pop_heap()

    def _find_first_lane(self) -> None:
        """Look at every lane's head for the first (after one was taken)."""
        best: Event | None = None
        source: Ring[Event] | None = None
        for ring in self.lanes:
            if ring.size:
                event = ring.first()
                if best is None or event.t < best.t or (event.t == best.t
                                                        and event.seq < best.seq):
                    best, source = event, ring
        self.first_lane, self.lane_head = source, best

    def _pop_heap(self) -> Event:
        """The heap's top. The hole it leaves at the root moves down to a leaf, each time to
        its earlier child, and the heap's last entry sifts up from there, as heapq does:
        about half the comparisons of sifting the last entry down from the root, since it
        belongs near the bottom anyway, and the earlier child is picked by adding a
        comparison's 0 or 1 to the index, not by a branch that guesses wrong half the time.
        The slot past the heap holds +inf while it sifts, so a right child there never wins."""
        times, seqs, slots = self.times, self.seqs, self.slots
        first = self.events[slots[0]]
        n = self.size - 1
        self.size = n
        if n == 0:
            return first
        t, seq, slot = times[n], seqs[n], slots[n]
        times[n] = INF
        pos: i64 = 0
        child: i64 = 1
        while child < n:  # the hole goes down to a leaf
            later, left = times[child + 1], times[child]
            if later == left:  # a tie: the first pushed wins (never the +inf past the heap)
                child += i64(child + 1 < n and seqs[child + 1] < seqs[child])
            else:
                child += i64(later < left)
            times[pos] = times[child]
            seqs[pos] = seqs[child]
            slots[pos] = slots[child]
            pos = child
            child = 2 * pos + 1
        while pos > 0:  # the last entry sifts up from the leaf
            up = (pos - 1) >> 1
            if t < times[up] or (t == times[up] and seq < seqs[up]):
                times[pos] = times[up]
                seqs[pos] = seqs[up]
                slots[pos] = slots[up]
                pos = up
            else:
                break
        times[pos] = t
        seqs[pos] = seq
        slots[pos] = slot
        return first
