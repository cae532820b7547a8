"""A calendar queue (R. Brown, CACM 31(10), 1988): the agenda's priority queue of event slots
ordered by (time, sequence number), whose push and pop cost the same however many events are
pending.

Time is cut into days of `width` seconds and the days are dealt round-robin to `buckets`
buckets, as the days of a year to the pages of a desk calendar: an event of day d waits in
bucket d mod buckets, in a list kept in (time, sequence) order. A pop looks at the current
day's bucket; if its first event is of that day, that is the earliest event of all (every
pending event is of this day or later, and a later day's events in the same bucket come after
it in the list); if not, it goes on to the next day. After a whole year of empty days it looks
at every bucket's first event and jumps to the earliest. With about one to two events per
bucket and days about three times the typical gap between events, a pop looks at one or two
days and a push walks one or two entries. Events at one time (a parallel step's calls of
constant work) share a bucket however the days are cut: a walk for an event at the time of
the one the last walk put in, and after it, starts from that one, so a batch of them costs a
step each, not a walk past all those before it.

The bucket count doubles when the events pending are more than twice the buckets and halves
when they are fewer than half, and the day's width is set again then, and whenever pops or
pushes have been doing too many steps on average (the mix of events changed since), so the
cost stays flat as a run's load and topology change. The width is three times the typical gap
between the last GAPS events popped, leaving out gaps over twice their mean (Brown's rule on
the events just dequeued; his sample of the earliest pending events misleads when only two
or three are pending, as in a single queue). A binary heap costs O(log n) per pop instead:
at 4,500 events pending (2,048 busy replicas) each pop sifted through 12 levels.

Everything lives in packed arrays: by slot (the agenda's slot of each event), its time,
sequence number, day and the next slot in its bucket, so walking a bucket never touches an
event object; by bucket, its first and last slot side by side (one cache line for both).
"""

from __future__ import annotations

import math
from typing import Final, final

from librt.vecs import append, vec
from mypy_extensions import i64

NONE: Final = -1  # no slot: an empty bucket's head, a list's end
MIN_BUCKETS: Final = 16
DAY_CAP: Final = 4.0e18  # days are clamped below 2**62, so a time of 1e300 still has one
GAPS: Final = 64  # the last pops whose gaps set the day's width (a power of two)
# Operations between looks at the average steps per operation (and at least as many as
# events pending, so that measuring again costs O(1) per operation over time).
CHECK_EVERY: Final = 1024
STEPS_LIMIT: Final = 6  # average steps per operation above which the width is measured again


@final
class Calendar:
    __slots__ = ("at", "buckets", "day", "ends", "first_day", "gaps", "hint", "hint_t",
                 "inv_width", "last", "link", "mask", "ops", "order", "popped", "size", "steps",
                 "width")

    def __init__(self, width: float, buckets: i64 = MIN_BUCKETS) -> None:
        """Empty, with days of `width` seconds dealt to `buckets` buckets (a power of two)."""
        self.size: i64 = 0  # events pending
        # By slot: time, sequence number, day, and the next slot in the same bucket. The day
        # follows from the time and the width, but computing it on every look at a bucket's
        # head cost 4 % more instructions at 2,048 replicas than storing it.
        self.at: vec[float] = vec[float]()
        self.order: vec[i64] = vec[i64]()
        self.day: vec[i64] = vec[i64]()
        self.link: vec[i64] = vec[i64]()
        self.buckets = buckets
        self.mask = buckets - 1
        # Bucket b's first slot is ends[2b], its last ends[2b + 1].
        self.ends: vec[i64] = vec[i64]([NONE] * (2 * buckets))
        self.width = width
        self.inv_width = 1.0 / width
        self.first_day: i64 = 0  # no pending event is of an earlier day
        self.ops: i64 = 0  # pops and pushes since the last look at `steps`
        self.steps: i64 = 0  # days looked at by pops and entries walked by pushes since then
        # The gaps between the last GAPS pops' times, a ring: gaps[popped % GAPS] is next.
        self.gaps: vec[float] = vec[float]([0.0] * GAPS)
        self.popped: i64 = 0
        self.last = 0.0  # the time of the last pop
        # The slot the last walk put in and its time (NaN: none, or popped since), where the
        # next walk for an event at that time starts.
        self.hint: i64 = NONE
        self.hint_t = math.nan

    def push(self, slot: i64, t: float, seq: i64) -> None:
        """Add the event in `slot`, at time `t` with sequence number `seq`."""
        while slot >= len(self.at):
            self.at = append(self.at, 0.0)
            self.order = append(self.order, 0)
            self.day = append(self.day, 0)
            self.link = append(self.link, NONE)
        self.at[slot] = t
        self.order[slot] = seq
        day = self._day_of(t)
        self.day[slot] = day
        if self.size == 0 or day < self.first_day:  # (earlier: only a test does this)
            self.first_day = day
        self._insert(slot, day)
        self.size += 1
        self.ops += 1
        if self.size > 2 * self.buckets:
            self._rebuild(2 * self.buckets)
        elif self.ops >= CHECK_EVERY and self.ops >= self.size:
            self._check()

    def _day_of(self, t: float) -> i64:
        days = t * self.inv_width
        return i64(days) if days < DAY_CAP else i64(DAY_CAP)

    def _insert(self, slot: i64, day: i64) -> None:
        """Put `slot` in its day's bucket, in (time, sequence) order."""
        ends = self.ends
        pair = 2 * (day & self.mask)
        tail = ends[pair + 1]
        if tail == NONE:
            ends[pair] = ends[pair + 1] = slot
            self.link[slot] = NONE
            return
        at, order, link = self.at, self.order, self.link
        t, seq = at[slot], order[slot]
        if at[tail] < t or (at[tail] == t and order[tail] < seq):  # the usual case: last
            link[tail] = slot
            link[slot] = NONE
            ends[pair + 1] = slot
            return
        before: i64 = NONE
        after = ends[pair]
        hint = self.hint
        if t == self.hint_t and order[hint] < seq:  # a batch at one time: on from its last
            before = hint
            after = link[hint]
        walked: i64 = 1
        while at[after] < t or (at[after] == t and order[after] < seq):
            before = after
            after = link[after]  # never runs off the end: the tail comes after `slot`
            walked += 1
        self.steps += walked
        link[slot] = after
        if before == NONE:
            ends[pair] = slot
        else:
            link[before] = slot
        self.hint = slot
        self.hint_t = t

    def first(self) -> i64:
        """The slot of the earliest pending event; the calendar is not empty."""
        ends, day = self.ends, self.day
        today = self.first_day
        mask = self.mask
        end = today + self.buckets
        while today < end:
            head = ends[2 * (today & mask)]
            if head != NONE and day[head] == today:
                self.steps += today - self.first_day
                self.first_day = today
                return head
            today += 1
        return self._earliest()

    def _earliest(self) -> i64:
        """A whole year of empty days: the earliest of the buckets' first events."""
        at, order = self.at, self.order
        best: i64 = NONE
        bucket: i64 = 0
        for bucket in range(self.buckets):
            head = self.ends[2 * bucket]
            if head != NONE and (best == NONE or at[head] < at[best] or (
                    at[head] == at[best] and order[head] < order[best])):
                best = head
        self.steps += self.buckets
        self.first_day = self.day[best]
        return best

    def take_first(self, slot: i64) -> None:
        """Remove `slot`, which `first` has just given."""
        t = self.at[slot]
        if slot == self.hint:
            self.hint_t = math.nan
        self.gaps[self.popped & (GAPS - 1)] = t - self.last
        self.popped += 1
        self.last = t
        pair = 2 * (self.day[slot] & self.mask)
        after = self.link[slot]
        self.ends[pair] = after
        if after == NONE:
            self.ends[pair + 1] = NONE
        self.size -= 1
        self.ops += 1
        if self.buckets > MIN_BUCKETS and 2 * self.size < self.buckets:
            self._rebuild(self.buckets // 2)
        elif self.ops >= CHECK_EVERY and self.ops >= self.size:
            self._check()

    def _check(self) -> None:
        """Measure the day again if operations have been taking too many steps."""
        if self.steps > STEPS_LIMIT * self.ops:
            self._rebuild(self.buckets)
        self.ops = self.steps = 0

    def in_order(self) -> list[i64]:
        """The pending slots in (time, sequence) order."""
        pending: list[i64] = []
        bucket: i64 = 0
        for bucket in range(self.buckets):
            slot = self.ends[2 * bucket]
            while slot != NONE:
                pending.append(slot)
                slot = self.link[slot]
        at, order = self.at, self.order
        pending.sort(key=lambda s: (at[s], order[s]))
        return pending

    def _rebuild(self, buckets: i64) -> None:
        """Deal every pending event again, to `buckets` buckets and days of the width the
        last pops' gaps give."""
        pending = self.in_order()
        at = self.at
        self._measure_width()
        self.buckets = buckets
        self.mask = buckets - 1
        self.ends = vec[i64]([NONE] * (2 * buckets))
        self.hint_t = math.nan  # its day may be another now
        first_day: i64 = 0
        for n, slot in enumerate(pending):
            day = self._day_of(at[slot])
            self.day[slot] = day
            if n == 0:
                first_day = day
            self._insert(slot, day)  # in order: each goes last in its bucket
        self.first_day = first_day
        self.ops = self.steps = 0

    def _measure_width(self) -> None:
        """The width the gaps between the last pops give (kept before two pops)."""
        self.width = day_width(list(self.gaps)[:min(self.popped, GAPS)], self.width)
        self.inv_width = 1.0 / self.width


def day_width(gaps: list[float], otherwise: float) -> float:
    """Three times the mean gap between events, leaving out gaps over twice the mean (Brown's
    rule); `otherwise` when there are none, or all are zero (events at one time)."""
    if not gaps:
        return otherwise
    mean = sum(gaps) / len(gaps)
    usual = [gap for gap in gaps if gap <= 2.0 * mean]
    typical = sum(usual) / len(usual) if usual else mean
    return 3.0 * typical if typical > 0.0 else otherwise
