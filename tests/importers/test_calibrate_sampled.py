"""`scalesim calibrate` on ScaleSim's chosen samples: the note says when they left requests
out, and how to export a run that keeps them all (README's example does)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from tests.importers.test_calibrate import EPOCH, MS, Traces, run_calibrate, within
from typer.testing import CliRunner

from scalesim.cli import app

SPEC = """\
scalesim: 1
name: sampled
components:
  api:
    workers: unlimited
    operations:
      get: {work: {dist: exponential, mean: 2ms}}
workloads: [{name: users, to: api.get, rate: 100/s}]
"""
CHOSEN = "are ScaleSim's chosen samples"


def exported(tmp_path: Path, kinds: dict[str, int]) -> Path:
    """A trace file of api.get visits, as ScaleSim's export marks them: `kinds` counts
    the traces of each sample (slowest, typical, failed)."""
    traces = Traces()
    at = EPOCH
    for sample, count in kinds.items():
        for _ in range(count):
            trace = traces._id(32)
            traces.span("api", "api.get", 2, trace, None, at, at + 2 * MS, sample == "failed",
                        **{"scalesim.workload": "users", "scalesim.sample": sample})
            at += 10 * MS
    path = tmp_path / "t.json"
    path.write_text(json.dumps(traces.document()))
    return path


@pytest.mark.parametrize(("kinds", "cut"), [
    ({"slowest": 20, "typical": 20}, True),  # more were traced than kept
    ({"slowest": 20, "typical": 13}, False),  # 33 traced, all kept
    ({"slowest": 12}, False),  # fewer than simulation.traces: all slowest
    ({"slowest": 20, "typical": 5, "failed": 20}, True),  # failed capped at 20
    ({"slowest": 20, "failed": 30}, False),  # 20 ok, 30 failed: all kept
])
def test_the_note_comes_only_when_requests_were_left_out(tmp_path: Path,
                                                         kinds: dict[str, int],
                                                         cut: bool) -> None:
    report, _ = run_calibrate(tmp_path, SPEC, "--traces", str(exported(tmp_path, kinds)))
    notes = [note for note in report["notes"] if CHOSEN in note]
    assert bool(notes) == cut
    if cut:  # 90 % of 2,000 requests at 100/s
        assert notes[0].endswith("--set simulation.traces=1000 --set simulation.duration=18s "
                                 "(the busiest workload sends 100/s at its peak)")


def test_the_remedy_drops_the_warmup(tmp_path: Path) -> None:
    """The export spreads its traces over the warm-up's requests and the window's alike: a
    2 s warm-up before 0.035 s of load-balanced-service's 51,200/s left 608 of the window's
    1,790 requests traced (1,765 without it), so the remedy sets no warm-up."""
    warm = SPEC.replace("workloads:", "simulation: {warmup: 2s}\nworkloads:")
    report, _ = run_calibrate(tmp_path, warm, "--traces",
                              str(exported(tmp_path, {"slowest": 20, "typical": 20})))
    (note,) = [note for note in report["notes"] if CHOSEN in note]
    assert note.endswith("--set simulation.traces=1000 --set simulation.warmup=0s "
                         "--set simulation.duration=18s (the busiest workload sends 100/s "
                         "at its peak)")


def test_the_readme_example_gives_back_the_spec(tmp_path: Path) -> None:
    """README's pair: shop.yaml exported for 3 s with the most traces keeps every request,
    so payments.charge comes back near its lognormal (median 120 ms, p99 600 ms: mean
    152.4 ms, sd 118.7 ms), with no note of chosen samples."""
    traces = tmp_path / "traces.json"
    runner = CliRunner()
    assert runner.invoke(app, ["export", "examples/shop.yaml", "--traces", "otlp", "-o",
                               str(traces), "--set", "simulation.duration=3s", "--set",
                               "simulation.traces=1000"]).exit_code == 0
    spec = Path("examples/shop.yaml").read_text()
    report, _ = run_calibrate(tmp_path, spec, "--traces", str(traces))
    assert not [note for note in report["notes"] if CHOSEN in note]
    charge = report["operations"]["payments.charge"]["own_time"]
    within(charge["observed_mean_ms"], 152.4, 118.7 / math.sqrt(charge["n"]), "charge ms")
    assert charge["family"] == "lognormal"
