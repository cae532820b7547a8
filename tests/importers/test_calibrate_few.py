"""`scalesim calibrate` from fewer visits than a shape can be judged by (fit.MIN_SAMPLES)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.importers.test_calibrate import EPOCH, MS, Traces, run_calibrate

from scalesim.importers.calibrate.fit import FEW, MIN_SAMPLES, fit

FEW_SPEC = """\
scalesim: 1
name: few
components:
  api:
    workers: unlimited
    operations:
      get: {work: {dist: lognormal, median: 2ms, p99: 10ms}}
workloads: [{name: users, to: api.get, rate: 10/s}]
"""


def test_few_times_keep_the_specs_shape_at_their_mean() -> None:
    """18 times of mean 4 ms: the spec's lognormal (median 2 ms, p99 10 ms, mean m) scaled
    by 4 ms / m, every time in it alike; no goodness of fit is claimed."""
    times = [0.001 * (1 + i % 7) for i in range(MIN_SAMPLES - 2)]
    mean = sum(times) / len(times)
    spec_mean = 0.003  # any: only the ratio matters
    found = fit(times, ({"dist": "lognormal", "median": 0.002, "mean": None, "p99": 0.01},
                        spec_mean))
    factor = mean / spec_mean
    assert found.family == FEW and found.p_value is None and found.n == MIN_SAMPLES - 2
    assert found.spec["dist"] == "lognormal" and "mean" not in found.spec
    assert float(found.spec["median"].removesuffix("ms")) == pytest.approx(2 * factor, 1e-3)
    assert float(found.spec["p99"].removesuffix("ms")) == pytest.approx(10 * factor, 1e-3)
    assert fit(times).spec == f"{mean * 1e3:.4g}ms"  # no shape given: a constant, noted


def test_an_operation_seen_less_than_twenty_times_is_noted(tmp_path: Path) -> None:
    """12 visits of api.get: its lognormal is kept and scaled to their mean, with a note
    and no p-value; the written spec holds a lognormal, not a constant."""
    traces = Traces()
    for i in range(12):
        trace = traces._id(32)
        start = EPOCH + i * 100 * MS
        traces.span("api", "api.get", 2, trace, None, start, start + (2 + i % 4) * MS)
    path = tmp_path / "t.json"
    path.write_text(json.dumps(traces.document()))
    report, text = run_calibrate(tmp_path, FEW_SPEC, "--traces", str(path))
    own = report["operations"]["api.get"]["own_time"]
    assert own["family"] == FEW and own["p_value"] is None and own["n"] == 12
    assert own["fitted"]["dist"] == "lognormal"
    assert [note for note in report["notes"] if note.startswith(
        "api.get: only 12 successful visits, fewer than 20 to judge a shape by: the spec's "
        "distribution kept, scaled to their mean 3.5 ms")]
    assert "dist: lognormal" in text
