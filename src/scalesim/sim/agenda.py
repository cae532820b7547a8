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
element by element, which was a fifth of the kernel's time. The heap and the spare events are
`vec`s (mypyc's packed arrays): reading or writing a slot is an inline C array access, where a
list's goes through a C-API call that checks bounds and sign.
"""

from __future__ import annotations

from typing import Final, final

from librt.vecs import append, vec
from mypy_extensions import i64

from scalesim.sim.ring import Ring


@final
class Event:
    __slots__ = ("kind", "obj", "seq", "t")

    def __init__(self, t: float, seq: i64, kind: i64, obj: object) -> None:
        self.t = t
        self.seq = seq
        self.kind = kind  # an index into the kernel's handlers
        self.obj = obj  # what the handler is called with


MAX_LANES: Final = 8  # `pop` looks at every lane's head: a few lanes, not one per component
NO_LANE: Final = -2  # what `lane_for` gives once MAX_LANES are taken: use `push`


@final
class Agenda:
    __slots__ = ("by_delay", "first_lane", "in_lanes", "items", "lane_head", "lanes", "pushed",
                 "size", "spare", "spares")

    def __init__(self) -> None:
        # A binary heap, items[:size] (items[i] precedes its children). The vec keeps its
        # length: the slots past `size` hold events already popped, which are recycled
        # (`recycle`) and refilled anyway, so a push and a pop only move the count.
        self.items: vec[Event] = vec[Event]()
        self.size: i64 = 0
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
        # Events read and given back, for `_event` to reuse: spare[:spares]. The vec keeps
        # its length, as popping and appending would shrink and regrow its array over and
        # over.
        self.spare: vec[Event] = vec[Event]()
        self.spares: i64 = 0

    def __len__(self) -> int:
        return self.size + self.in_lanes

    def clear(self) -> None:
        """Drop every pending event."""
        self.items = vec[Event]()
        self.size = 0
        for lane in self.lanes:
            lane.clear()
        self.in_lanes = 0
        self.first_lane = self.lane_head = None
        self.spare = vec[Event]()
        self.spares = 0

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
        pos = self.size
        self.size = pos + 1
        if pos == len(self.items):
            self.items = append(self.items, event)
        items = self.items
        while pos > 0:  # sift up: the new event has the largest sequence number yet
            up = (pos - 1) >> 1
            parent = items[up]
            if t < parent.t:
                items[pos] = parent
                pos = up
            else:
                break
        items[pos] = event

    def _event(self, t: float, kind: i64, obj: object) -> Event:
        """A new event with the next sequence number: a spare one refilled if there is one."""
        seq = self.pushed
        self.pushed = seq + 1
        if self.spares:
            self.spares -= 1
            event = self.spare[self.spares]
            event.t = t
            event.seq = seq
            event.kind = kind
            event.obj = obj
            return event
        return Event(t, seq, kind, obj)

    def recycle(self, event: Event) -> None:
        """Give back a popped event once its fields are read, for a later push to reuse
        instead of allocating one (and the one popped freed): 2 % of the compiled kernel's
        instructions."""
        event.obj = None
        if self.spares < len(self.spare):
            self.spare[self.spares] = event
        else:
            self.spare = append(self.spare, event)
        self.spares += 1

    def pop(self) -> Event:
        """The earliest event (the first pushed among equal times), from the heap or a lane's
        head; the agenda is not empty."""
        head = self.lane_head
        if head is not None:
            ring = self.first_lane
            assert ring is not None
            top = self.items[0] if self.size else None
            if top is None or head.t < top.t or (head.t == top.t and head.seq < top.seq):
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
        """The heap's top; the last event sifts down from the root. (Moving the root's hole
        down to a leaf first, as heapq does, was measured: fewer comparisons but more list
        writes, and more instructions here.)"""
        items = self.items
        n = self.size - 1
        self.size = n
        last = items[n]
        if n == 0:
            return last
        first = items[0]
        t, seq = last.t, last.seq
        pos: i64 = 0
        child: i64 = 1
        while child < n:  # sift `last` down from the root
            earlier = items[child]
            right = child + 1
            if right < n:
                other = items[right]
                if other.t < earlier.t or (other.t == earlier.t and other.seq < earlier.seq):
                    child, earlier = right, other
            if earlier.t < t or (earlier.t == t and earlier.seq < seq):
                items[pos] = earlier
                pos = child
                child = 2 * pos + 1
            else:
                break
        items[pos] = last
        return first
