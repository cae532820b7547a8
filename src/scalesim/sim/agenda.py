"""The kernel's agenda: the events still to happen, on a binary min-heap ordered by (time,
sequence number).

The sequence number is given at push and breaks ties first-in-first-out, so the order of
events is a total order fixed by the run alone: any correct heap pops them in the same order,
and runs are deterministic. Compiled with mypyc, an event is a native struct whose time is an
unboxed double, so ordering two events compares two C doubles (and, on a tie, two integers)
instead of two Python tuples element by element, which was a fifth of the kernel's time.
"""

from __future__ import annotations

from typing import final


@final
class Event:
    __slots__ = ("kind", "obj", "seq", "t")

    def __init__(self, t: float, seq: int, kind: int, obj: object) -> None:
        self.t = t
        self.seq = seq
        self.kind = kind  # an index into the kernel's handlers
        self.obj = obj  # what the handler is called with


@final
class Agenda:
    __slots__ = ("items", "pushed")

    def __init__(self) -> None:
        self.items: list[Event] = []  # a binary heap: items[i] comes before its children
        self.pushed = 0  # events pushed so far: the next sequence number

    def __len__(self) -> int:
        return len(self.items)

    def clear(self) -> None:
        """Drop every pending event (the list object stays the same)."""
        self.items.clear()

    def push(self, t: float, kind: int, obj: object) -> None:
        seq = self.pushed
        self.pushed = seq + 1
        event = Event(t, seq, kind, obj)
        items = self.items
        items.append(event)
        pos = len(items) - 1
        while pos > 0:  # sift up: the new event has the largest sequence number yet
            up = (pos - 1) >> 1
            parent = items[up]
            if t < parent.t:
                items[pos] = parent
                pos = up
            else:
                break
        items[pos] = event

    def pop(self) -> Event:
        """The earliest event (the first pushed among equal times); the agenda is not empty.
        (Moving the root's hole down to a leaf first, as heapq does, was measured: it takes
        fewer comparisons but more list writes, and more instructions here.)"""
        items = self.items
        last = items.pop()
        n = len(items)
        if n == 0:
            return last
        first = items[0]
        t, seq = last.t, last.seq
        pos = 0
        child = 1
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
