"""`plan` and `sweep` options that said less than they should: a refusal just over the
budget, --max-replications below --replications."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from scalesim.cli import app

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


def test_max_replications_below_replications_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "mm4.yaml"
    spec.write_text(SPEC)
    done = CliRunner().invoke(app, ["plan", str(spec), "--rate", "300/s", "--vary",
                                    "components.s.workers=4..6", "-r", "5",
                                    "--max-replications", "3", "--jobs", "1"])
    assert done.exit_code == 2
    text = " ".join(done.stderr.replace("│", " ").split())
    assert "--max-replications: 3 is below --replications 5" in text
