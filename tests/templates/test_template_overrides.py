"""`simulate --set` changes the spec as much as an edit of the file does: the template's
expectations are then for the template's design, and the output says so (the QA pass read a
red miss after `--set components.web.replicas=1`, with no caveat)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.templates import get_template, origin

CAVEAT = "this spec differs from it, so a miss may be your change at work"


def test_overrides_that_change_the_spec_make_it_edited():
    text = get_template("load-balanced-service").build({}).text
    assert origin(text, ["components.web.replicas=1"]).edited is True
    assert origin(text, ["simulation.duration=10s"]).edited is True
    assert origin(text, ["components.web.replicas=8"]).edited is False  # what it says
    assert origin(text, ["components.nowhere.replicas=1"]).edited is True  # not applicable


def test_simulate_with_set_says_the_spec_differs(tmp_path: Path):
    spec = tmp_path / "lb.yaml"
    runner = CliRunner()
    assert runner.invoke(app, ["new", "load-balanced-service", "-o", str(spec)]).exit_code == 0
    result = runner.invoke(app, ["simulate", str(spec), "--set", "components.web.replicas=1",
                                 "--set", "simulation.duration=2s"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    printed = " ".join(result.stdout.split())  # the console may wrap it at its width
    assert "Expected by template load-balanced-service — for the template's own" in printed
    assert CAVEAT in printed
    checks = printed[printed.index("Expected by template"):]  # the SLO table has its FAIL
    assert "miss workloads.clients.goodput_rps >=" in checks and "FAIL" not in checks
