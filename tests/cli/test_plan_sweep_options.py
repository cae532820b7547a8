"""`plan` and `sweep` options that said less than they should: a refusal just over the
budget, --max-replications below --replications."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from scalesim.budget import BUDGET_S, estimate_runs, human
from scalesim.cli import app
from scalesim.spec import load_spec

SPEC = """
scalesim: 1
name: mm4
components:
  s:
    workers: 4
    operations: {op: {work: {dist: exponential, mean: 10ms}}}
workloads: [{name: w, to: s, rate: 300/s}]
slo: {p99: 100ms}
simulation: {duration: 10s, interval: 1000s, seed: 1}
"""


def _just_over(spec: Path) -> str:
    """A simulation.duration whose run is estimated a few per cent over the budget."""
    duration = 1e4
    for _ in range(3):  # the work is about linear in the duration
        wall = estimate_runs([load_spec(spec, [f"simulation.duration={duration}s"])], 1).wall_s
        duration *= 1.04 * BUDGET_S / wall
    return f"simulation.duration={duration:.0f}s"


def test_a_refusal_just_over_the_budget_says_by_how_much(tmp_path: Path) -> None:
    spec = tmp_path / "mm4.yaml"
    spec.write_text(SPEC)
    duration = _just_over(spec)
    found = estimate_runs([load_spec(spec, [duration])], 1)
    assert found.wall_s > BUDGET_S and human(found.wall_s) == human(BUDGET_S)
    done = CliRunner().invoke(app, ["sweep", str(spec), "--vary", "workloads.0.rate=300/s",
                                    "--set", duration, "-r", "1", "--jobs", "1"])
    assert done.exit_code == 3, done.output
    text = " ".join(done.stderr.split())
    assert f"over the {human(BUDGET_S)} budget" in text
    assert f"Its wall time is estimated at {found.wall_s:,.0f} s, against " \
        f"{BUDGET_S:,.0f} s." in text


def test_max_replications_below_replications_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "mm4.yaml"
    spec.write_text(SPEC)
    done = CliRunner().invoke(app, ["plan", str(spec), "--rate", "300/s", "--vary",
                                    "components.s.workers=4..6", "-r", "5",
                                    "--max-replications", "3", "--jobs", "1"])
    assert done.exit_code == 2
    text = " ".join(done.stderr.replace("│", " ").split())
    assert "--max-replications: 3 is below --replications 5" in text
