"""The calendar queue pops slots in exactly the (time, sequence) order of a binary heap, through
growing, shrinking and re-measured days, ties, far-future and out-of-order times; and its
steps per operation stay bounded as the number of pending events grows (the reason it
replaced the heap)."""

from __future__ import annotations

import heapq
import random

import pytest

from scalesim.sim.calendar import MIN_BUCKETS, STEPS_LIMIT, Calendar


def pop(calendar: Calendar) -> tuple[float, int]:
    slot = calendar.first()
    calendar.take_first(slot)
    return calendar.at[slot], calendar.order[slot]


def gap(rng: random.Random, kind: str) -> float:
    """How far ahead of now an event is pushed, by the kind of model."""
    if kind == "exponential":
        return rng.expovariate(1000.0)
    if kind == "ties":  # a few fixed delays: many events share a time
        return rng.choice([0.0, 0.001, 0.002, 0.01])
    if kind == "mixed":  # milliseconds, seconds and a far end of run, as a kernel's events
        return rng.choice([rng.expovariate(1000.0), rng.expovariate(1.0), 1e6, 1e300])
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["exponential", "ties", "mixed"])
@pytest.mark.parametrize("seed", [1, 2])
def test_pops_in_the_order_of_a_heap_through_growth_and_shrinkage(kind: str, seed: int) -> None:
    """Pending events rise to about 2,000 and fall back to none (the buckets double, then
    halve), pushes and pops interleaved, each push at or after the current time as in the
    kernel."""
    rng = random.Random(seed)
    calendar, reference = Calendar(1e-3), list[tuple[float, int, int]]()
    now, seq, free = 0.0, 0, list(range(4000))
    for push_share in (0.75, 0.25):  # mostly pushes, then mostly pops
        for _ in range(4000):
            if rng.random() < push_share:
                slot = free.pop()
                t = now + gap(rng, kind)
                calendar.push(slot, t, seq)
                heapq.heappush(reference, (t, seq, slot))
                seq += 1
            elif reference:
                t, s, slot = heapq.heappop(reference)
                assert pop(calendar) == (t, s)
                now = t
                free.append(slot)
            assert calendar.size == len(reference)
        assert calendar.buckets & (calendar.buckets - 1) == 0  # a power of two
        assert calendar.buckets >= min(MIN_BUCKETS, len(reference) // 2)
    while reference:
        t, s, _ = heapq.heappop(reference)
        assert pop(calendar) == (t, s)
    assert calendar.size == 0 and calendar.buckets == MIN_BUCKETS


def test_an_event_earlier_than_every_pending_one_pops_first() -> None:
    """The kernel never schedules in the past, but the queue stays a priority queue if asked."""
    calendar = Calendar(1.0)
    for slot, t in enumerate([5.0, 6.0, 7.0]):
        calendar.push(slot, t, slot)
    assert pop(calendar) == (5.0, 0)
    calendar.push(3, 0.5, 3)
    assert [pop(calendar) for _ in range(3)] == [(0.5, 3), (6.0, 1), (7.0, 2)]


def test_steps_per_operation_stay_bounded_as_pending_events_grow() -> None:
    """The hold model (pop one, push one a random time later) at 100 and 10,000 pending
    events: the days looked at and entries walked per operation, over the last window, stay
    under the limit that makes the calendar measure its days again."""
    for pending in (100, 10_000):
        rng = random.Random(7)
        calendar, now = Calendar(1e-3), 0.0
        for slot in range(pending):
            calendar.push(slot, rng.expovariate(1.0), slot)
        for seq in range(pending, pending + 20 * pending):
            slot = calendar.first()
            calendar.take_first(slot)
            now = calendar.at[slot]
            calendar.push(slot, now + rng.expovariate(1.0 / pending), seq)
        assert calendar.ops > 0 and calendar.steps <= STEPS_LIMIT * calendar.ops
        assert pending // 2 <= calendar.buckets <= 2 * pending


def test_a_batch_at_one_time_before_a_later_event_of_its_bucket_walks_once() -> None:
    """A parallel step of 3,000 calls of constant work pushes 3,000 events at one time, each
    after the last: with a later event waiting in their bucket, each push steps on from the
    one before it, not past every one (quadratic: 4.5 M steps), so the steps per push stay
    under the limit the calendar holds itself to; and they pop in order."""
    calendar, batch = Calendar(10.0), 3000
    calendar.push(0, 9.0, 0)  # later, and of the same day as the batch
    walked = 0
    for seq in range(1, batch + 1):
        steps, ops = calendar.steps, calendar.ops
        calendar.push(seq, 5.0, seq)
        if calendar.ops == ops + 1:  # not measured again (that starts the count afresh)
            walked += calendar.steps - steps
    assert walked <= STEPS_LIMIT * batch
    assert [pop(calendar) for _ in range(batch + 1)] == [
        *((5.0, seq) for seq in range(1, batch + 1)), (9.0, 0)]
