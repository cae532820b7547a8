"""`scalesim compare`'s verdict follows its rows: disjoint 95 % intervals on a deciding
number are a difference, a number is judged one way wherever it appears, and the rows
within noise are named."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.render.compare import comparison, deltas, print_comparison

# M/M/4 at 350/s: 10 ms of work against 10.3 ms takes ρ from 0.875 to 0.90 and the
# theoretical p99 from 99.8 to 127.0 ms, a real regression.
MMC4 = """
scalesim: 1
name: mmc
components:
  s:
    workers: 4
    operations: {{get: {{work: {{dist: exponential, mean: {work}}}}}}}
workloads: [{{name: w, rate: 350/s, to: s.get}}]
slo: {{p99: 100ms}}
simulation: {{duration: 60s, warmup: 5s, seed: 1}}
"""


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The JSON comparison of the two designs with 3 replications each."""
    tmp = tmp_path_factory.mktemp("compare")
    paths = []
    for name, work in (("fast", "10ms"), ("slow", "10.3ms")):
        path = tmp / f"{name}.yaml"
        path.write_text(MMC4.format(work=work))
        paths.append(str(path))
    done = CliRunner().invoke(app, ["compare", *paths, "-r", "3", "--json"])
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_disjoint_intervals_on_a_deciding_number_decide(data: dict[str, Any]) -> None:
    system = {d["metric"]: d for d in data["deltas"] if d["scope"] == "system"}
    mean = system["latency_mean_ms"]
    assert mean["a_ci"][1] < mean["b_ci"][0] and mean["verdict"] == "worse"
    assert data["verdict"]["better"] == "a"
    assert any(r.startswith("mean latency") and "intervals disjoint" in r
               for r in data["verdict"]["reasons"])


def test_a_number_is_judged_the_same_wherever_it_appears(data: dict[str, Any]) -> None:
    """One workload: its p99 is the system's, with the same intervals and verdict."""
    system = {d["metric"]: d for d in data["deltas"] if d["scope"] == "system"}
    for row in data["deltas"]:
        twin = system.get(row["metric"])
        if twin is not None and twin["a_ci"] and (row["a"], row["b"]) == (twin["a"], twin["b"]):
            assert (row["a_ci"], row["b_ci"], row["verdict"]) == \
                (twin["a_ci"], twin["b_ci"], twin["verdict"]), row


def _result(tmp: Path) -> dict[str, Any]:
    path = tmp / "a.yaml"
    path.write_text(MMC4.format(work="10ms").replace("60s", "10s"))
    out = tmp / "run"
    done = CliRunner().invoke(app, ["simulate", str(path), "-r", "2", "--out", str(out)])
    assert done.exit_code == 0, done.output
    return json.loads((out / "result.json").read_text())  # type: ignore[no-any-return]


def test_the_terminal_names_the_rows_within_noise(tmp_path: Path) -> None:
    a = _result(tmp_path)
    b = copy.deepcopy(a)
    b["latency_ms"]["p99"] = a["latency_ms"]["p99"] * 1.05  # inside both intervals
    b["workloads"]["w"]["latency_ms"]["p99"] = b["latency_ms"]["p99"]  # its one workload
    low, high = a["latency_ms"]["p99"] * 0.9, a["latency_ms"]["p99"] * 1.1
    a["ci95"]["latency_ms"]["p99"] = [low, high]
    b["ci95"]["latency_ms"]["p99"] = [low * 1.05, high * 1.05]
    row = next(d for d in deltas(a, b) if d.scope == "system" and d.metric == "latency_p99_ms")
    assert row.within_noise and row.verdict == "same"
    out = io.StringIO()
    print_comparison(a, b, ("A", "B"), Console(file=out, width=300))
    noisy = next(line for line in out.getvalue().splitlines() if line.startswith("Within noise"))
    assert "system latency_p99_ms" in noisy and "workload w latency_p99_ms" in noisy


def test_a_share_changes_in_percentage_points(tmp_path: Path) -> None:
    """86.86 % -> 69.52 % utilization is -17.34 pp, as the page and report.md say, not the
    relative -20.0 %."""
    a = _result(tmp_path)
    b = copy.deepcopy(a)
    a["components"]["s"]["utilization"], b["components"]["s"]["utilization"] = 0.8686, 0.6952
    out = io.StringIO()
    print_comparison(a, b, ("A", "B"), Console(file=out, width=300))
    row = next(line for line in out.getvalue().splitlines() if "utilization" in line)
    assert "-17.34 pp" in row and "-20.0%" not in row


def test_different_seeds_without_intervals_name_no_winner(tmp_path: Path) -> None:
    """Two runs of one design with different seeds differ by chance: 2.4 % more goodput in a
    run without intervals is no win; with one seed (common random numbers) or with disjoint
    intervals on both sides it is."""
    a = _result(tmp_path)
    b = copy.deepcopy(a)
    b["goodput_rps"] = a["goodput_rps"] * 1.024
    b["seed"] = a["seed"] + 1
    del b["ci95"], b["replications"]
    judged = comparison(a, b)["verdict"]
    assert judged["better"] is None
    assert judged["summary"].startswith("no difference beyond what different seeds alone")
    assert any(r.startswith("goodput") and "the seeds alone can give this" in r
               for r in judged["reasons"])
    b["seed"] = a["seed"]
    assert comparison(a, b)["verdict"]["better"] == "b"
    b["seed"], b["ci95"] = a["seed"] + 1, copy.deepcopy(a["ci95"])
    b["ci95"]["goodput_rps"] = [a["ci95"]["goodput_rps"][1] + 1, b["goodput_rps"] + 1]
    assert comparison(a, b)["verdict"]["better"] == "b"
