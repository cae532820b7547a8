"""Packed time-series rows give back exactly the rows added, in order (integers too)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scalesim.sim.rows import Rows

CELL = st.one_of(st.floats(allow_nan=False), st.integers(-2**53, 2**53).map(float))


@given(st.integers(1, 8).flatmap(lambda width: st.tuples(
    st.just(width), st.lists(st.lists(CELL, min_size=width, max_size=width), max_size=50))))
def test_rows_come_back_as_added(case: tuple[int, list[list[float]]]) -> None:
    width, added = case
    rows = Rows(width)
    for row in added:
        rows.add(*row)
    assert len(rows) == len(added)
    assert [list(row) for row in rows] == added
    rows.clear()
    assert len(rows) == 0 and list(rows) == []


def test_a_count_in_flight_comes_back_as_the_same_integer() -> None:
    rows = Rows(2)
    rows.add(1.0, float(2**53 - 1))
    (t, count), = rows
    assert int(count) == 2**53 - 1 and t == 1.0


def test_a_row_of_the_wrong_width_is_refused() -> None:
    with pytest.raises(ValueError, match="a row of 2 values in rows of 3"):
        Rows(3).add(1.0, 2.0)
