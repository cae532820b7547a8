"""A replica's queue (FrameQueue) takes frames out in the order they came, as a deque would,
through any mix of appends, takes and clears (the list under it is cut as it goes)."""

from __future__ import annotations

from collections import deque

from hypothesis import given, settings
from hypothesis import strategies as st

from scalesim.sim.compile import compile_system
from scalesim.sim.plan import Frame, FrameQueue
from scalesim.spec import load_spec_text

SPEC = """
scalesim: 1
name: q
components:
  a: {operations: {x: {work: 1ms}}}
workloads: [{name: w, to: a.x, rate: 1/s}]
"""

# A step: append (True), take the head (False) or clear (None).
STEPS = st.lists(st.one_of(st.booleans(), st.just(None)), max_size=400)


@settings(max_examples=200, deadline=None)
@given(STEPS)
def test_first_in_first_out_like_a_deque(steps: list[bool | None]) -> None:
    op = compile_system(load_spec_text(SPEC, "q.yaml"), 1, 0).workloads[0].target
    queue, reference = FrameQueue(), deque[Frame]()
    for n, step in enumerate(steps):
        if step is None:
            queue.clear()
            reference.clear()
        elif step:
            frame = Frame(op, None, None, None, 0, n, 0.0)
            queue.append(frame)
            reference.append(frame)
        elif reference:
            assert queue.popleft() is reference.popleft()
        assert len(queue) == len(reference)
        assert list(queue) == list(reference)
    # Whatever was taken is no longer held beyond the cut: at most half of the list (or 32).
    assert len(queue.items) <= max(32, 2 * len(reference))
