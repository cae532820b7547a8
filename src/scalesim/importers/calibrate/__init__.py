"""Calibration: a spec's parameters fitted to what the real system did.

From traces (`traces.py`): each operation's own time, the network per hop, call
probabilities, retries, fan-out, fallback times and error rates. From a load test
(`loadtest.py`): the CPU each request costs and the runtime's overhead. `apply.py` writes
them into the spec, its comments kept; `run.py` reports what was fitted against what was
observed.
"""

from __future__ import annotations


class CalibrationError(Exception):
    """Input that cannot be calibrated from: the message names the file and what is wrong."""
