"""The terminal summary: readable at 80 columns with every name whole, degraded next to ok
and failed, SLOs per workload, and the diagnosis last."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.templates import get_template

EXAMPLES = Path(__file__).parents[2] / "examples"


def _simulate(*args: str, columns: int = 80) -> str:
    result = CliRunner().invoke(app, ["simulate", *args, "-q"], env={"COLUMNS": str(columns)})
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def test_at_80_columns_every_name_appears_whole(tmp_path: Path) -> None:
    spec = tmp_path / "shop.yaml"
    spec.write_text(get_template("e-commerce").build({"rps": 2000}).text)
    data = json.loads(CliRunner().invoke(app, ["simulate", str(spec), "--json", "--set",
                                               "simulation.duration=5s"]).stdout)
    text = _simulate(str(spec), "--set", "simulation.duration=5s")
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text
    words = set(re.findall(r"[\w.\->]+", text))
    names = {*data["workloads"], *data["components"], *data["queues"],
             *(c["from"] for c in data["calls"] if c["failed"] or c["timeouts"]),
             *(c["to"] for c in data["calls"] if c["failed"] or c["timeouts"])}
    assert names and names <= words, names - words


def test_degraded_answers_show_next_to_ok_and_failed_and_in_the_diagnosis(
        tmp_path: Path) -> None:
    spec = tmp_path / "breaker.yaml"
    spec.write_text(get_template("circuit-breaker").build().text)
    text = _simulate(str(spec), "--set", "simulation.duration=10s", columns=120)
    assert re.search(r"requests ([\d,]+): ok \1 \(degraded \1, 100\.0%\), failed 0", text)
    assert "┃ degraded ┃" in text.split("End-to-end latency")[1].splitlines()[2]  # a column
    # An external service's workers are unlimited: busy workers, no utilization share.
    assert re.search(r"│ payments\s+│ external\s+│\s+1 │\s+[\d.,]+ │\s+[\d.,]+ │\s+— │", text)
    diagnosis = text.split("Diagnosis")[1]
    assert "checkout: 100 % of requests answered degraded" in diagnosis
    assert "--set 'faults=[]'" in diagnosis


def test_a_workload_slo_is_checked_on_its_own_requests() -> None:
    # The shop's p99 over all traffic meets 400 ms; the shoppers' own p99 does not.
    shop = str(EXAMPLES / "shop.yaml")
    result = CliRunner().invoke(app, ["simulate", shop, "--json"])
    data = json.loads(result.stdout)
    checks = {(c["scope"], c["name"]): c for c in data["slo"]["checks"]}
    assert checks[("all", "p99")]["met"] is True
    assert checks[("shoppers", "p99")]["met"] is False
    assert checks[("shoppers", "p99")]["actual_ms"] > 400
    assert data["workloads"]["shoppers"]["slo"]["met"] is False
    assert data["workloads"]["browsers"]["slo"]["met"] is True
    assert data["slo"]["met"] is False
    assert CliRunner().invoke(app, ["simulate", shop, "-q", "--check-slo"]).exit_code == 1
    text = _simulate(shop, columns=120)
    assert re.search(r"│ shoppers\s+│ p99\s+│\s+400 ms │\s+[\d.,]+ ms │ FAIL", text)


def test_help_has_no_value_placeholder_on_flags_and_no_hard_line_breaks() -> None:
    text = CliRunner().invoke(app, ["report", "--help"], env={"COLUMNS": "200"}).stdout
    assert "<bool>" not in text
    assert ("Summary and diagnosis, charts over time, architecture, resilience dashboards and "
            "request waterfalls.") in text


def test_the_progress_bar_shows_simulated_time_event_rate_and_time_left() -> None:
    from scalesim.cli.run import _Progress
    from scalesim.sim.kernel import PROGRESS_EVERY

    progress = _Progress(enabled=True, simulated_s=60.0)
    progress.started -= 10.0  # ten seconds into the run, a quarter done
    progress(0.25)
    assert progress.bar is not None
    fields = progress.bar.tasks[0].fields
    progress.close()
    assert fields["at"] == "15/60 s simulated"
    rate = float(fields["speed"].removesuffix(" events/s").replace(",", ""))
    assert rate == pytest.approx(PROGRESS_EVERY / 10.0, rel=0.01)
    assert fields["left"] == "30 s"


def test_throughput_above_the_offered_load_is_explained(tmp_path: Path) -> None:
    """300/s for the 5 s warm-up on one worker serving 100/s leaves a backlog of 1,000;
    then 50/s are offered. The worker serves 100/s all through the 10 s window (the backlog
    drains at 50/s net), so the window's throughput is twice its offered load: said, with
    the reason, instead of a throughput nobody sent."""
    spec = tmp_path / "backlog.yaml"
    spec.write_text("""
scalesim: 1
name: backlog
components:
  s: {workers: 1, operations: {op: {work: 10ms}}}
workloads:
  - name: w
    to: s
    arrivals: constant
    rate: 300/s
    profile: [{at: 0s, rate: 300/s}, {at: 5s, rate: 50/s}]
simulation: {warmup: 5s, duration: 10s, seed: 1}
""")
    out = _simulate(str(spec), columns=200)
    assert "offered 50.0 rps · throughput 100.0 rps" in out
    assert "throughput above the offered load" in out and "warm-up drained" in out


def test_a_fix_line_goes_on_whole_past_a_narrow_terminal(tmp_path: Path) -> None:
    """A wrapped or cropped `--set` line does not paste (a bare `--set` at a line's end, a
    quoted value split in two): the line goes on past the width, once, whole."""
    spec = tmp_path / "breaker.yaml"
    spec.write_text(get_template("circuit-breaker").build().text)
    text = _simulate(str(spec), "--set", "simulation.duration=10s", columns=20)
    [line] = [line for line in text.splitlines() if "--set " in line]
    assert len(line) > 20
    words = shlex.split(line)
    assert words[0] == "--set" and "faults=[]" in words

