"""Calibration: a spec's parameters fitted to what the real system did.

From traces (`traces.py`): each operation's own time, the network per hop, call
probabilities, retries, fan-out, fallback times and error rates. From a load test
(`loadtest.py`): the CPU each request costs and the runtime's overhead. `apply.py` writes
them into the spec, its comments kept; `run.py` reports what was fitted against what was
observed.
"""

from __future__ import annotations

from pathlib import Path

from scalesim.importers.sources import Unreadable, read_input

BOM = "\ufeff"  # UTF-8's byte order mark, as Excel's "CSV UTF-8" and some exporters begin


class CalibrationError(Exception):
    """Input that cannot be calibrated from: the message names the file and what is wrong."""


def read_file(path: Path) -> str:
    """The text of a trace or load-test file, a leading byte order mark dropped (it is no
    part of the first column's name or of the JSON); an unreadable file is a
    CalibrationError naming it."""
    try:
        return read_input(str(path)).removeprefix(BOM)
    except Unreadable as error:
        raise CalibrationError(f"{path}: {error}") from None
