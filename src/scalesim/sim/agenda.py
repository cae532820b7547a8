"""The kernel's agenda: the events still to happen, in (time, sequence number) order.

The sequence number is given at push and breaks ties first-in-first-out, so the order of
events is a total order fixed by the run alone: any correct priority queue pops them in the
same order, and runs are deterministic. Events that arrive in time order anyway (a constant
network delay or timeout after the current time) can wait in a lane, a plain queue per
constant, instead: `pop` takes the earliest of the other events' first and the lanes' heads by
the same (time, sequence) order.

The other events wait in a binary heap while they are few and in a calendar queue
(`sim/calendar.py`) while they are many: a heap's push and pop cost grows with the logarithm
of the events pending (a pop sifted through 12 levels at 2,048 busy replicas, 4,500 events),
a calendar's does not, but at a handful of events the heap's one or two levels are cheaper
than any calendar. The agenda moves its events to a calendar past TO_CALENDAR and back to the
heap under TO_HEAP (apart, so that it does not go back and forth).

Compiled with mypyc, an event is a native struct whose time is an unboxed double, and the heap
is a packed array of them (a mypyc `vec`). The event objects are made once per slot of a table
and refilled: a popped event's slot is given back (`recycle`) for the next push. The calendar
holds slots, times and sequence numbers in packed arrays, so ordering many events never
touches an event object (at thousands pending, a heap of objects read two scattered objects
per level of every sift; a heap of packed arrays did not, but cost twice the instructions of
the heap of objects at two to four events pending, as in a single queue).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Final, final

from librt.vecs import append, vec
from mypy_extensions import i64

from scalesim.sim.calendar import GAPS, MIN_BUCKETS, Calendar, day_width
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


MAX_LANES: Final = 8  # `pop` looks at every lane's head: a few lanes, not one per component
NO_LANE: Final = -2  # what `lane_for` gives once MAX_LANES are taken: use `push`
TO_CALENDAR: Final = 256  # events in the heap past which they move to a calendar
TO_HEAP: Final = 64  # events in the calendar under which they move back to the heap


@final
class Agenda:
    __slots__ = ("by_delay", "calendar", "events", "first_lane", "free", "frees", "in_lanes",
                 "items", "lane_head", "lanes", "pushed", "size")

    def __init__(self) -> None:
        # A binary heap, items[:size] (items[i] precedes its children). The vec keeps its
        # length: the slots past `size` hold events already popped, which are recycled
        # (`recycle`) and refilled anyway, so a push and a pop only move the count.
        self.items: vec[Event] = vec[Event]()
        self.size: i64 = 0
        # Holds the events instead of the heap, when many; never empty (under TO_HEAP
        # events they go back to the heap).
        self.calendar: Calendar | None = None
        self.events: vec[Event] = vec[Event]()  # every event made, by slot
        # Slots of events read and given back, for `_event` to reuse: free[:frees].
        self.free: vec[i64] = vec[i64]()
        self.frees: i64 = 0
        self.pushed: i64 = 0  # events pushed so far: the next sequence number
        self.lanes: list[Ring[Event]] = []
        self.by_delay: dict[float, int] = {}  # constant delay -> its lane
        self.in_lanes: i64 = 0  # events pending in the lanes
        # The lane whose head comes first and that head (None when the lanes are empty):
        # kept as lanes fill and empty, so a pop compares one head with the heap's or
        # calendar's first. The head is first_lane.first(), kept too: reading it through
        # the ring on every pop cost 2.5 % of load-balanced-service's instructions.
        self.first_lane: Ring[Event] | None = None
        self.lane_head: Event | None = None

    def __len__(self) -> int:
        calendar = self.calendar
        return self.size + self.in_lanes + (calendar.size if calendar is not None else 0)

    def clear(self) -> None:
        """Drop every pending event (and the objects they would have been called with)."""
        self.items = vec[Event]()
        self.size = 0
        self.calendar = None
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
        calendar = self.calendar
        if calendar is not None:
            calendar.push(event.slot, t, event.seq)
            return
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
        if self.size > TO_CALENDAR:
            self._to_calendar()

    def _to_calendar(self) -> None:
        """Move the heap's events to a calendar with about one bucket per event and days
        three times the typical gap between the earliest of them (Brown's rule)."""
        pending = list(self.items[:self.size])
        times = sorted(event.t for event in pending)
        width = day_width([later - earlier for earlier, later in pairwise(times[:GAPS + 1])],
                          1e-3)
        buckets: i64 = MIN_BUCKETS
        while buckets < len(pending):
            buckets *= 2
        calendar = Calendar(width, buckets)
        for event in pending:
            calendar.push(event.slot, event.t, event.seq)
        self.size = 0
        self.calendar = calendar

    def _to_heap(self, calendar: Calendar) -> None:
        """Move the calendar's events back to the heap, in order (a sorted array is a heap)."""
        self.calendar = None
        n: i64 = 0
        for slot in calendar.in_order():
            if n == len(self.items):
                self.items = append(self.items, self.events[slot])
            else:
                self.items[n] = self.events[slot]
            n += 1
        self.size = n

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
        """The earliest event (the first pushed among equal times), from the heap or the
        calendar, or a lane's head; the agenda is not empty."""
        calendar = self.calendar
        if calendar is not None:
            return self._pop_calendar(calendar)
        head = self.lane_head
        if head is not None:
            ring = self.first_lane
            assert ring is not None
            top = self.items[0] if self.size else None
            if top is None or head.t < top.t or (head.t == top.t and head.seq < top.seq):
                return self._take_lane_head(ring, head)
        return self._pop_heap()

    def _pop_calendar(self, calendar: Calendar) -> Event:
        head = self.lane_head
        slot: i64 = -1
        if calendar.size:
            slot = calendar.first()
        if head is not None and (slot < 0 or head.t < calendar.at[slot] or (
                head.t == calendar.at[slot] and head.seq < calendar.order[slot])):
            ring = self.first_lane
            assert ring is not None
            return self._take_lane_head(ring, head)
        calendar.take_first(slot)
        if calendar.size < TO_HEAP:
            self._to_heap(calendar)
        return self.events[slot]

    def _take_lane_head(self, ring: Ring[Event], head: Event) -> Event:
        """Pop `head`, the first lane's head, and find the next first lane."""
        ring.popleft()
        self.in_lanes -= 1
        self._find_first_lane()
        return head

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
