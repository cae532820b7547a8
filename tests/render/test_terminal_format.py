"""Moments of simulated time in the summary read as a person would write them."""

from __future__ import annotations

import pytest

from scalesim.render.terminal import instant


@pytest.mark.parametrize(("seconds", "says"), [
    (1.2026, "1.2 s"), (0.05, "0.05 s"), (40.5, "40.5 s"), (12.3456, "12.3 s"),
    (1234.5, "1,234 s")])
def test_an_instant_is_rounded_to_what_a_reader_needs(seconds: float, says: str) -> None:
    assert instant(seconds) == says
