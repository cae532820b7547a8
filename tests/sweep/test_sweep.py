"""`scalesim sweep`: the M/M/1 curve within its confidence intervals, the same numbers on
every executor, the files it writes, and resuming a killed sweep from its cache."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.sweep.specs import MM1
from typer.testing import CliRunner

from scalesim.analytic import mm1
from scalesim.cli import app
from scalesim.spec import load_spec_text
from scalesim.sweep.cache import PointCache
from scalesim.sweep.executor import DaskCluster, Processes, Serial
from scalesim.sweep.grid import grid, parse_axis, quantity
from scalesim.sweep.runner import PointRun, run_points

RATES = "workloads.0.rate=20/s..80/s:4"


def runs(replications: int = 10) -> list[PointRun]:
    points = grid([parse_axis(RATES)])
    return [PointRun(p, load_spec_text(MM1, overrides=[
        *p.overrides, f"simulation.replications={replications}"])) for p in points]


def test_mm1_sweep_follows_the_analytic_curve_within_its_cis() -> None:
    """At every rate the analytic W = 1/(μ − λ) lies in the 95 % CI of the simulated mean."""
    results = run_points(runs(), 3, Serial(), PointCache(None))
    for found in results:
        rate = quantity(found.point.values[0][1])
        assert rate is not None and found.result is not None
        truth = mm1(rate, 100.0).mean_sojourn_s * 1e3
        low, high = found.result["ci95"]["latency_ms"]["mean"]
        print(f"λ = {rate:g}: W = {truth:.3f} ms, CI [{low:.3f}, {high:.3f}]")
        assert low <= truth <= high


@pytest.mark.slow
def test_jobs_and_dask_give_the_same_sweep() -> None:
    pytest.importorskip("distributed")
    expected = [r.result for r in run_points(runs(3), 3, Serial(), PointCache(None))]
    pool = Processes(2)
    try:
        assert [r.result for r in run_points(runs(3), 3, pool, PointCache(None))] == expected
    finally:
        pool.close()
    cluster = DaskCluster("local", 2)
    try:
        assert [r.result for r in run_points(runs(3), 3, cluster, PointCache(None))] == expected
    finally:
        cluster.close()


def test_cli_writes_table_files_and_report(tmp_path: Path) -> None:
    spec = tmp_path / "mm1.yaml"
    spec.write_text(MM1.replace("duration: 100s", "duration: 20s"))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(spec), "--vary", RATES, "-r", "2",
                                      "--jobs", "1", "--out", str(out), "--report",
                                      str(tmp_path / "sweep.html"), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [p["workloads.0.rate"] for p in doc["points"]] == ["20/s", "40/s", "60/s", "80/s"]
    assert doc["simulated_points"] == 4 and doc["cached_points"] == 0
    assert all(p["latency_p99_ms_low"] is not None for p in doc["points"])
    assert {"sweep.json", "sweep.csv", "sweep.parquet"} <= {p.name for p in out.iterdir()}
    assert len(list((out / "points").glob("*.json"))) == 4
    with (out / "sweep.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["workloads.0.rate"] for r in rows] == ["20/s", "40/s", "60/s", "80/s"]
    pq = pytest.importorskip("pyarrow.parquet")
    assert pq.read_table(out / "sweep.parquet").num_rows == 4
    html = (tmp_path / "sweep.html").read_text()
    assert "<svg" in html and "latency percentiles" in html
    again = CliRunner().invoke(app, ["sweep", str(spec), "--vary", RATES, "-r", "2", "--jobs",
                                     "1", "--out", str(out), "--json"])
    assert json.loads(again.stdout)["cached_points"] == 4
    assert json.loads(again.stdout)["points"][0]["throughput_rps"] == \
        doc["points"][0]["throughput_rps"]


def test_bad_axes_and_bad_points_exit_2(tmp_path: Path) -> None:
    spec = tmp_path / "mm1.yaml"
    spec.write_text(MM1)
    runner = CliRunner()
    bad_axis = runner.invoke(app, ["sweep", str(spec), "--vary", "workloads.0.rate=1..2ms:3"])
    assert bad_axis.exit_code == 2 and "same unit" in bad_axis.output
    huge_end = runner.invoke(app, ["sweep", str(spec), "--vary",
                                   "workloads.0.rate=1/s..1e400/s:5"])
    assert huge_end.exit_code == 2 and "'1e400/s' is more than" in huge_end.output
    assert "nan" not in huge_end.output and "point" not in huge_end.output
    bad_point = runner.invoke(app, ["sweep", str(spec), "--vary",
                                    "components.s.replicas=1,0"])
    assert bad_point.exit_code == 2
    assert "point 1 (replicas=0)" in bad_point.output


def test_a_bad_point_names_the_vary_that_made_it_not_a_set(tmp_path: Path) -> None:
    """A point's invalid value was reported as '--set #2', after the one --set given."""
    spec = tmp_path / "mm1.yaml"
    spec.write_text(MM1)
    result = CliRunner().invoke(app, ["sweep", str(spec), "--set", "simulation.seed=3",
                                      "--vary", "components.s.replicas=1,0"])
    lines = result.output.splitlines()
    assert result.exit_code == 2 and lines, result.output
    assert all(line.startswith("point 1 (replicas=0): --vary: components.s.replicas: ")
               for line in lines), result.output


def test_a_killed_sweep_resumes_without_recomputing(tmp_path: Path) -> None:
    spec = tmp_path / "mm1.yaml"
    # Points of 40,000 to 320,000 requests: each takes tens to hundreds of milliseconds, so
    # the six left cannot all finish between two looks 50 ms apart (at 400 s they could).
    spec.write_text(MM1.replace("duration: 100s", "duration: 4000s"))
    out = tmp_path / "out"
    args = [str(spec), "--vary", "workloads.0.rate=10/s..80/s:8", "--jobs", "1", "--out",
            str(out), "-q"]
    child = subprocess.Popen([sys.executable, "-c", "from scalesim.cli import main; main()",
                              "sweep", *args], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    try:
        while len(list((out / "points").glob("*.json"))) < 2:
            assert child.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    finished = {p.name: p.read_text() for p in (out / "points").glob("*.json")}
    assert 2 <= len(finished) < 8
    result = CliRunner().invoke(app, ["sweep", *args[:-1], "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["cached_points"] == len(finished)
    assert doc["simulated_points"] == 8 - len(finished)
    for name, content in finished.items():  # untouched: read, not simulated again
        assert (out / "points" / name).read_text() == content


def test_outputs_are_checked_and_a_long_sweep_is_refused_before_it_runs(tmp_path: Path
                                                                         ) -> None:
    spec = tmp_path / "mm1.yaml"
    spec.write_text(MM1)
    runner = CliRunner()
    missing = runner.invoke(app, ["sweep", str(spec), "--vary", RATES, "--jobs", "1",
                                  "--report", str(tmp_path / "no" / "sweep.html")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    (tmp_path / "file").write_text("")
    not_a_folder = runner.invoke(app, ["sweep", str(spec), "--vary", RATES, "--jobs", "1",
                                       "--out", str(tmp_path / "file")])
    assert not_a_folder.exit_code == 2 and "not a folder" in not_a_folder.output
    out = tmp_path / "out"
    # each point is about 6 minutes of events (under the budget), the four together are not
    long = runner.invoke(app, ["sweep", str(spec), "--vary", "workloads.0.rate=20/s..50/s:4",
                               "--set", "simulation.duration=36000s", "-r", "100",
                               "--jobs", "1", "--out", str(out)])
    assert long.exit_code == 3 and "refused" in long.output and "--force" in long.output
    assert not out.exists()  # nothing ran, and the folder made for it is gone


def test_a_bad_report_leaves_no_out_folder_behind(tmp_path: Path) -> None:
    """The --out folder was made before --report was checked, and left empty."""
    spec = tmp_path / "mm1.yaml"
    spec.write_text(MM1)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(spec), "--vary", RATES, "--jobs", "1",
                                      "--out", str(out), "--report", str(out / "sweep.pdf")])
    assert result.exit_code == 2 and "give a name ending in .html" in result.output
    assert not out.exists()


def test_a_refused_sweep_keeps_an_out_folder_that_was_there(tmp_path: Path) -> None:
    spec = tmp_path / "mm1.yaml"
    spec.write_text(MM1)
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(app, ["sweep", str(spec), "--vary", RATES, "--jobs", "1",
                                      "--out", str(out), "--report", str(out / "sweep.pdf")])
    assert result.exit_code == 2
    assert out.is_dir()


def test_a_point_stopped_at_a_safety_limit_makes_the_sweep_exit_3(tmp_path: Path) -> None:
    """Every point is in the table and the files, the stopped one marked; the exit code is
    a safety stop's (3), as for a single run, not 0."""
    spec = tmp_path / "mm1.yaml"
    spec.write_text(MM1)
    result = CliRunner().invoke(app, [
        "sweep", str(spec), "--vary", "workloads.0.rate=20/s,1e6/s", "--set",
        "simulation.limits.max_events=100000", "--force", "--jobs", "1", "--out",
        str(tmp_path / "out")])
    assert result.exit_code == 3, result.output
    assert "stopped: 1 of 2 point(s) ended at a safety limit" in " ".join(
        result.stderr.split())
    rows = json.loads((tmp_path / "out" / "sweep.json").read_text())["points"]
    assert [row["status"].split(":")[0] for row in rows] == ["ok", "stopped"]


def test_the_report_can_go_inside_the_out_folder_it_creates(tmp_path: Path) -> None:
    spec = tmp_path / "mm1.yaml"
    spec.write_text(MM1)
    out = tmp_path / "sw"  # its folder must exist: a typo must not create a tree
    result = CliRunner().invoke(app, ["sweep", str(spec), "--vary", "workloads.0.rate=20/s,40/s",
                                      "--set", "simulation.duration=2s", "--jobs", "1",
                                      "--out", str(out), "--report", str(out / "sweep.html")])
    assert result.exit_code == 0, result.output
    assert {"sweep.csv", "sweep.json", "sweep.html"} <= {p.name for p in out.iterdir()}


def test_points_that_cannot_be_kept_only_warn(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A point cache that could not be written (a full disk) ended the sweep with 'cannot
    write the output', exit 1, after every point had run."""
    from scalesim.sweep import cache

    def full(*_: object, **__: object) -> tuple[int, str]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache.tempfile, "mkstemp", full)
    spec = tmp_path / "mm1.yaml"
    spec.write_text(MM1)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(spec), "--vary",
                                      "components.s.replicas=1,2", "--out", str(out), "-q",
                                      "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert f"could not be kept for resuming ({out / 'points'}: No space left on device)" \
        in result.output
    assert {"sweep.json", "sweep.csv"} <= {p.name for p in out.iterdir()}


def test_each_missed_point_says_which_targets_it_missed(tmp_path: Path) -> None:
    """M/M/1, μ = 100, system p99 ≤ 30 ms and the workload's own p50 ≤ 20 ms: at 20/s the
    p99 is ln(100)/80 = 58 ms (missed) and the p50 ln(2)/80 = 8.7 ms (met); at 80/s both are
    missed (p50 ln(2)/20 = 35 ms). The table numbers each set of missed targets."""
    spec = tmp_path / "mm1.yaml"
    spec.write_text(MM1.replace("duration: 100s", "duration: 20s")
                    .replace("rate: 50/s}", "rate: 50/s, slo: {p50: 20ms}}")
                    .replace("slo: {p99: 200ms}", "slo: {p99: 30ms}"))
    args = ["sweep", str(spec), "--vary", "workloads.0.rate=20/s,80/s", "-r", "1", "--jobs",
            "1", "-q"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})  # no column cut short
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split("│")[-3].strip() for line in lines if "/s " in line] == \
        ["missed [1]", "missed [2]"]
    assert "SLO targets missed: [1] p99; [2] p99, w p50" in lines
    doc = json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)
    assert [p["slo_missed"] for p in doc["points"]] == ["p99", "p99, w p50"]


def test_a_lopsided_interval_is_shown_by_its_bounds() -> None:
    """The QA's 98/s row: p50 238.11 with [0.0024, 1323.1] read '238.11 ±661.55', a half-width
    that put the low end at -423; it reads as its bounds. A t-interval about its mean (the
    throughput's) keeps its ±."""
    from scalesim.cli.sweep import _with_ci

    row = {"latency_p50_ms": 238.1095, "latency_p50_ms_low": 0.0024,
           "latency_p50_ms_high": 1323.0998, "throughput_rps": 97.38,
           "throughput_rps_low": 96.9988, "throughput_rps_high": 97.7612}
    assert _with_ci(row, "latency_p50_ms") == "238.11 [0.00–1,323.10]"
    assert _with_ci(row, "throughput_rps", 1) == "97.4 ±0.4"
    assert _with_ci({**row, "latency_p50_ms_low": None}, "latency_p50_ms") == "238.11"


def test_the_table_shows_each_interval_as_sweep_json_has_it(tmp_path: Path) -> None:
    """Every cell with an interval: '±' exactly when its two arms round alike, else the
    bounds; at 3 replications the percentiles' intervals are lopsided, the throughput's not."""
    spec = tmp_path / "mm1.yaml"
    spec.write_text(MM1.replace("duration: 100s", "duration: 20s"))
    result = CliRunner().invoke(app, [
        "sweep", str(spec), "--vary", "workloads.0.rate=20/s,80/s", "-r", "3", "--jobs", "1",
        "-q", "--out", str(tmp_path / "out")], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    rows = [[cell.strip() for cell in line.split("│")[1:-1]]
            for line in result.output.splitlines() if "/s " in line]
    doc = json.loads((tmp_path / "out" / "sweep.json").read_text())
    lopsided = 0
    for cells, point in zip(rows, doc["points"], strict=True):
        for cell, column, digits in ((cells[2], "throughput_rps", 1),
                                     (cells[5], "latency_p50_ms", 2),
                                     (cells[6], "latency_p99_ms", 2)):
            value, low, high = (point[column + end] for end in ("", "_low", "_high"))
            below, above = f"{value - low:,.{digits}f}", f"{high - value:,.{digits}f}"
            shown = f"{value:,.{digits}f} ±{above}" if below == above else \
                f"{value:,.{digits}f} [{low:,.{digits}f}–{high:,.{digits}f}]"
            assert cell == shown
            lopsided += below != above
        assert "±" in cells[2]
    assert lopsided >= 2


def test_a_set_of_a_varied_path_exits_2_before_anything_runs(tmp_path: Path) -> None:
    """The --set would be overridden at every point without a word: refused, as a path
    varied twice is, and no --out folder is made."""
    spec = tmp_path / "mm1.yaml"
    spec.write_text(MM1)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(spec), "--vary", "components.s.workers=4,5",
                                      "--set", "components.s.workers=2", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert " ".join(result.output.split()) == (
        "error: --set components.s.workers=2: components.s.workers is varied (--vary), which "
        "sets it at every point, so this --set would change nothing; give one or the other")
    assert not out.exists()


def test_repeated_values_run_once_and_a_one_value_range_exits_2(tmp_path: Path) -> None:
    """`20/s,20/s,40/s` is two points, each simulated once; `100/s..100/s:3` was three
    identical points and is refused as `5..5` is."""
    spec = tmp_path / "mm1.yaml"
    spec.write_text(MM1.replace("duration: 100s", "duration: 2s"))
    done = CliRunner().invoke(app, ["sweep", str(spec), "--vary",
                                    "workloads.0.rate=20/s,20/s,40/s", "-r", "1", "--jobs", "1",
                                    "--json", "-q"])
    assert done.exit_code == 0, done.output
    assert [p["workloads.0.rate"] for p in json.loads(done.stdout)["points"]] == ["20/s", "40/s"]
    refused = CliRunner().invoke(app, ["sweep", str(spec), "--vary",
                                       "workloads.0.rate=100/s..100/s:3"])
    assert refused.exit_code == 2
    assert "a range needs at least 2 values, and '100/s..100/s:3' gives only 100/s" in \
        " ".join(refused.output.split())
