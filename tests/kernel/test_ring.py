"""The kernel's FIFO queues (sim/ring.py: a replica's waiting requests, the agenda's lanes)
take items out in the order they came, as a deque would, through any mix of appends, takes
and clears, across the ring's wrap-around and growth, and hold nothing already taken."""

from __future__ import annotations

from collections import deque

from hypothesis import given, settings
from hypothesis import strategies as st

from scalesim.sim.ring import Ring

# A step: append (True), take the first item (False) or clear (None). Appends outnumber
# takes, so the ring wraps around and grows.
STEPS = st.lists(st.one_of(st.booleans(), st.booleans(), st.just(None)), max_size=400)


@settings(max_examples=200, deadline=None)
@given(STEPS)
def test_first_in_first_out_like_a_deque(steps: list[bool | None]) -> None:
    ring: Ring[int] = Ring()
    reference: deque[int] = deque()
    for n, step in enumerate(steps):
        if step is None:
            ring.clear()
            reference.clear()
        elif step:
            ring.append(n)
            reference.append(n)
        elif reference:
            assert ring.first() == reference[0]
            assert ring.popleft() == reference.popleft()
        assert len(ring) == len(reference)
        assert list(ring) == list(reference)
        # Only what is still queued is held, and the list is a power of two long.
        assert sorted(item for item in ring.items if item is not None) == sorted(reference)
        assert len(ring.items) & (len(ring.items) - 1) == 0
