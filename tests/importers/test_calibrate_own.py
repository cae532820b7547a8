"""`scalesim calibrate`: an operation's own time when the export implies its calls' answers.

ScaleSim's exports record when a call was sent and its callee's span, not when the answer
came back: calibration puts that one hop (the way out) after the callee's end. The real way
back is as often longer as shorter, so each visit's own time carries the difference, and only
its mean is the operation's.
"""

from __future__ import annotations

import math
from pathlib import Path

from tests.importers.test_calibrate import run_calibrate, simulated_traces, within

SEQUENTIAL = """\
scalesim: 1
name: sequential
defaults: {network: {dist: exponential, mean: 0.5ms}}
components:
  api:
    workers: unlimited
    operations:
      get:
        work: {dist: exponential, mean: 0.5ms}
        calls: [{to: db.read}, {to: db.read}]
  db:
    workers: unlimited
    operations: {read: {work: {dist: exponential, mean: 1ms}}}
workloads: [{name: users, to: api.get, rate: 50/s}]
simulation: {duration: 20s, warmup: 0s, traces: 1000}
"""


def test_a_callers_own_time_is_not_biased_by_the_way_back(tmp_path: Path) -> None:
    """api.get works Exp(0.5 ms) before two calls in a row, with Exp(0.5 ms) hops. Its own
    time as the export lets it be seen is the work plus, per call, the way back less the
    way out: mean 0.5 ms, variance 0.25 + 2 · 2 · 0.25 ms². Cutting each implied answer at
    the next send and at the end kept only the longer ways back (0.25 ms more per call)."""
    traces = simulated_traces(tmp_path, SEQUENTIAL, "otlp")
    report, _ = run_calibrate(tmp_path, SEQUENTIAL, "--traces", str(traces))
    own = report["operations"]["api.get"]["own_time"]
    assert own["n"] > 900
    within(own["observed_mean_ms"], 0.5, math.sqrt(1.25) / math.sqrt(own["n"]), "api own ms")
    db = report["operations"]["db.read"]["own_time"]
    within(db["observed_mean_ms"], 1.0, 1.0 / math.sqrt(db["n"]), "db own ms")
