"""The agenda pops events in (time, push order) order, as a heap of (time, sequence) tuples
would (the kernel's determinism rests on it); the constants the compiled kernel inlines keep
their numbers."""

from __future__ import annotations

import heapq
import random

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from scalesim.sim.agenda import MAX_LANES, NO_LANE, TO_CALENDAR, TO_HEAP, Agenda
from scalesim.sim.compile import compile_system
from scalesim.sim.kernel import Kernel
from scalesim.spec import load_spec_text

# Few distinct times, so that ties (broken by push order) are common.
TIMES = st.sampled_from([0.0, 0.5, 1.0, 1.0 + 1e-12, 2.0, 7.25, 1e9])
STEPS = st.lists(st.one_of(TIMES, st.just(None)), max_size=300)  # None = pop


@settings(max_examples=300, deadline=None)
@given(STEPS)
def test_pops_in_the_order_of_a_heap_of_time_and_sequence(steps: list[float | None]) -> None:
    agenda, reference = Agenda(), []
    popped, expected = [], []
    for n, step in enumerate(steps):
        if step is not None:
            agenda.push(step, n % 7, n)
            heapq.heappush(reference, (step, n))
        elif reference:
            event = agenda.pop()
            popped.append((event.t, event.obj, event.kind))
            t, m = heapq.heappop(reference)
            expected.append((t, m, m % 7))
        assert len(agenda) == len(reference)
    while reference:
        event = agenda.pop()
        popped.append((event.t, event.obj, event.kind))
        t, m = heapq.heappop(reference)
        expected.append((t, m, m % 7))
    assert popped == expected and len(agenda) == 0


# A step: pop (None), push to the heap at a time (a float), or push to a lane (an int) its
# constant delay after the current time, as the kernel does for a fixed network hop.
LANE_DELAYS = (0.0, 0.5)
LANE_STEPS = st.lists(st.one_of(st.just(None), TIMES, st.sampled_from([0, 1])), max_size=300)


@settings(max_examples=300, deadline=None)
@given(LANE_STEPS)
def test_lanes_and_heap_pop_in_one_time_and_sequence_order(
        steps: list[float | int | None]) -> None:
    """Events in lanes and in the heap pop exactly as one heap of (time, sequence) would,
    when every popped event is given back for reuse once read, as the kernel does."""
    agenda, reference = Agenda(), []
    lanes = [agenda.lane_for(delay) for delay in LANE_DELAYS]
    now, popped, expected = 0.0, [], []
    for n, step in enumerate(steps):
        if step is None:
            if reference:
                event = agenda.pop()
                now = event.t
                popped.append((event.t, event.obj))
                agenda.recycle(event)
                expected.append(heapq.heappop(reference))
            continue
        if isinstance(step, float):
            t = max(step, now)  # the kernel never schedules in the past
            agenda.push(t, 0, n)
        else:
            t = now + LANE_DELAYS[step]
            agenda.push_in_order(lanes[step], t, 0, n)
        heapq.heappush(reference, (t, n))
        assert len(agenda) == len(reference)
    while reference:
        event = agenda.pop()
        popped.append((event.t, event.obj))
        agenda.recycle(event)
        expected.append(heapq.heappop(reference))
    assert popped == expected and len(agenda) == 0


def test_the_order_holds_as_events_move_to_a_calendar_and_back() -> None:
    """Thousands pending move the heap's events to a calendar, a few move them back; pops
    interleave with pushes and lane pushes throughout, as in a run that grows and drains."""
    rng = random.Random(3)
    agenda, reference = Agenda(), list[tuple[float, int]]()
    lane = agenda.lane_for(0.25)
    now, n, modes = 0.0, 0, set()
    for push_share, steps in ((0.8, 3000), (0.3, 3000), (0.5, 200)):
        for _ in range(steps):
            if rng.random() < push_share or not reference:
                if rng.random() < 0.1:
                    agenda.push_in_order(lane, now + 0.25, 0, n)
                    heapq.heappush(reference, (now + 0.25, n))
                else:
                    t = now + rng.choice([0.0, rng.expovariate(100.0), rng.expovariate(1.0)])
                    agenda.push(t, 0, n)
                    heapq.heappush(reference, (t, n))
                n += 1
            else:
                event = agenda.pop()
                assert (event.t, event.obj) == heapq.heappop(reference)
                now = event.t
                agenda.recycle(event)
            modes.add(agenda.calendar is not None)
            assert len(agenda) == len(reference)
    assert modes == {True, False}  # both were used
    while reference:
        event = agenda.pop()
        assert (event.t, event.obj) == heapq.heappop(reference)
        agenda.recycle(event)
    assert agenda.calendar is None and TO_HEAP < TO_CALENDAR


def test_a_recycled_event_is_reused_and_lets_go_of_its_object() -> None:
    agenda = Agenda()
    agenda.push(1.0, 3, "first")
    event = agenda.pop()
    agenda.recycle(event)
    assert event.obj is None  # a recycled event does not keep its frame alive
    agenda.push(2.0, 4, "second")
    again = agenda.pop()
    assert again is event and (again.t, again.seq, again.kind, again.obj) == (2.0, 1, 4,
                                                                              "second")


def test_a_few_lanes_one_per_delay_then_the_heap() -> None:
    """`pop` looks at every lane's head, so there are at most MAX_LANES, one per delay."""
    agenda = Agenda()
    lanes = [agenda.lane_for(0.001 * (n + 1)) for n in range(MAX_LANES)]
    assert lanes == list(range(MAX_LANES)) and agenda.lane_for(0.002) == 1
    assert agenda.lane_for(1.0) == NO_LANE
    agenda.push_in_order(NO_LANE, 3.0, 0, "late")  # no lane: the heap orders it
    agenda.push_in_order(NO_LANE, 1.0, 0, "early")
    assert [agenda.pop().obj, agenda.pop().obj] == ["early", "late"]


def test_clear_drops_every_pending_event() -> None:
    agenda = Agenda()
    lane = agenda.lane_for(0.5)
    for t in (3.0, 1.0, 2.0):
        agenda.push(t, 0, None)
    agenda.push_in_order(lane, 0.5, 0, None)
    agenda.recycle(agenda.pop())
    agenda.clear()
    assert len(agenda) == 0
    agenda.push(5.0, 1, "x")
    assert len(agenda) == 1 and agenda.pop().seq == 4  # sequence numbers keep counting



def test_the_spelled_out_constants_keep_their_numbers() -> None:
    """plan.py and kernel.py write their constants one by one (Final, so that mypyc inlines
    them): a cause's number is still its place in CAUSE_NAMES, and an event kind's number
    still picks its own handler."""
    from scalesim.sim import kernel, plan
    from scalesim.sim.compile import compile_system
    from scalesim.spec import load_spec_text

    for number, name in enumerate(plan.CAUSE_NAMES):
        assert getattr(plan, name.upper()) == number, name
    system = load_spec_text(
        "scalesim: 1\nname: k\ncomponents:\n  a: {operations: {x: {work: 1ms}}}\n"
        "workloads:\n  - {name: w, to: a.x, rate: 1/s}\n", "k.yaml")
    sim = system.simulation
    built = kernel.Kernel(compile_system(system, 1, 0), sim.warmup, sim.duration, sim.interval,
                          sim.limits)
    kinds = [name for name in dir(kernel) if name.isupper() and name not in dir(plan)
             and f"_{name.lower().removesuffix('_ev')}" in dir(kernel.Kernel)]
    assert len(kinds) == len(built.handlers) == 27
    for name in kinds:
        handler = built.handlers[getattr(kernel, name)]
        assert handler.__name__ == f"_{name.lower().removesuffix('_ev')}", name


def test_closed_loop_users_with_a_constant_think_time_send_from_a_lane() -> None:
    """A closed-loop user sends again its constant think time after its answer, so its sends
    come in time order: they wait in the agenda lane of that delay, not in the heap or the
    calendar, whose one bucket for t = 0 held every user's first send (300,000 users: each
    hop then walked past them, and the run reached its first progress check after minutes).
    A drawn think time is no order, so it goes to the heap."""
    spec = {"scalesim": 1, "name": "t",
            "components": {"a": {"workers": 4, "queue": 4,
                                 "operations": {"op": {"work": "1ms"}}}},
            "workloads": [{"name": "eager", "to": "a", "users": 2000},
                          {"name": "steady", "to": "a", "users": 10, "think": "5ms"},
                          {"name": "random", "to": "a", "users": 10,
                           "think": {"dist": "exponential", "mean": "5ms"}}],
            "defaults": {"network": "0.1ms"},
            "simulation": {"duration": "0.2s"}}
    system = load_spec_text(yaml.safe_dump(spec))
    sim = system.simulation
    kernel = Kernel(compile_system(system, sim.seed, 0), sim.warmup, sim.duration,
                    sim.interval, sim.limits)
    kernel.run()
    assert set(kernel.heap.by_delay) == {0.0, 0.005, 0.0001}  # no think, 5 ms, the hop
