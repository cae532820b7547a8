"""`scalesim calibrate` on a cache: the calls to its backend on a miss are its own calls."""

from __future__ import annotations

import math
from pathlib import Path

from tests.importers.test_calibrate import run_calibrate, simulated_traces, within

CACHED = """\
scalesim: 1
name: cached
defaults: {network: {dist: lognormal, median: 0.3ms, p99: 2ms}}
components:
  api:
    workers: unlimited
    operations:
      get:
        work: {dist: exponential, mean: 1ms}
        calls: [{to: cache.get}]
  cache:
    kind: cache
    workers: unlimited
    hit_ratio: 60%
    backend: db.read
    operations: {get: {work: 0.3ms}}
  db:
    workers: unlimited
    operations: {read: {work: {dist: exponential, mean: 3ms}}}
workloads: [{name: users, to: api.get, rate: 100/s}]
simulation: {duration: 8s, warmup: 0s, traces: 1000}
"""


def test_a_caches_backend_is_its_call(tmp_path: Path) -> None:
    """On a miss the cache waits for db.read: its own time's mean stays the 0.3 ms of work
    (a miss's carries the difference of its two hops, sd √2 · 0.40 ms, in 40 % of the
    visits: sd 0.36 ms), its misses give back the hit ratio, and the backend is no call the
    spec lacks."""
    traces = simulated_traces(tmp_path, CACHED, "otlp")
    report, _ = run_calibrate(tmp_path, CACHED, "--traces", str(traces))
    cache = report["operations"]["cache.get"]
    n = cache["visits"]
    assert n > 600
    within(cache["own_time"]["observed_mean_ms"], 0.3, 0.4 / math.sqrt(n), "cache own ms")
    within(cache["calls"]["db.read"]["probability"], 0.4, math.sqrt(0.24 / n), "miss share")
    assert not [note for note in report["notes"] if "which its spec does not" in note]
    hit = [c for c in report["changes"] if c["path"] == "components.cache.hit_ratio"]
    assert hit and hit[0]["value"] == round(1.0 - cache["calls"]["db.read"]["probability"], 4)
