"""`scalesim templates check` runs scenarios and reports each expectation with its measured
value; `simulate` on a spec written by `scalesim new` reports its template's expectations;
and templates do not advertise a pattern that lint then reports them as violating."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.cli import templates as cli_templates
from scalesim.lint import lint_system
from scalesim.templates import TEMPLATES, get_template, load_built, origin


def test_check_prints_every_expectation_with_its_measured_value(run_cli):
    result = run_cli("templates", "check", "timeout", "--quick", "--json")
    assert result.exit_code == 0, result.output
    [report] = json.loads(result.stdout)
    expected = get_template("timeout").scenario(get_template("timeout").validate({})).expect
    assert report["template"] == "timeout" and report["met"] is True
    assert [c["text"] for c in report["checks"]] == [str(e) for e in expected]
    assert all(isinstance(c["actual"], float) and c["met"] for c in report["checks"])
    text = run_cli("templates", "check", "timeout", "--quick").stdout
    assert "timeout v1 (quick): 4/4 met" in text
    assert text.count("pass ") == 4 and "measured" in text


def test_a_failing_expectation_exits_1(run_cli, monkeypatch: pytest.MonkeyPatch):
    template = get_template("timeout")
    scenario = template.scenario

    def impossible(params):
        shown = scenario(params)
        wrong = shown.expect[0].__class__("latency_ms.max", "<", 0.001, "cannot hold")
        return shown.__class__(shown.story, (wrong,), shown.quick)

    broken = dataclasses.replace(template, scenario=impossible)
    monkeypatch.setattr(cli_templates, "lookup", lambda _: broken)
    result = run_cli("templates", "check", "timeout", "--quick")
    assert result.exit_code == 1
    assert "FAIL latency_ms.max < 0.001" in result.stdout and "0/1 met" in result.stdout
    monkeypatch.undo()
    assert run_cli("templates", "check", "no-such-template").exit_code == 2


def test_simulate_reports_the_template_expectations(tmp_path: Path):
    spec = tmp_path / "cb.yaml"
    runner = CliRunner()
    made = runner.invoke(app, ["new", "timeout", "-o", str(spec)])
    assert made.exit_code == 0, made.output
    result = runner.invoke(app, ["simulate", str(spec), "--set", "simulation.duration=6s"],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    printed = " ".join(result.stdout.split())  # the console may wrap it at its width
    # the run is shorter than the template's: --set changed the spec it simulates
    assert "Expected by template timeout — for the template's own design: this" in printed
    assert "measured" in result.stdout
    plain = tmp_path / "plain.yaml"
    plain.write_text("\n".join(line for line in spec.read_text().splitlines()
                               if not line.startswith("#")), encoding="utf-8")
    result = runner.invoke(app, ["simulate", str(plain), "--set", "simulation.duration=6s"])
    assert "Expected by template" not in result.stdout
    as_json = runner.invoke(app, ["simulate", str(spec), "--json", "--set",
                                  "simulation.duration=2s"])
    assert "Expected by template" not in as_json.stdout
    json.loads(as_json.stdout)


def test_the_header_names_the_template_and_its_parameters():
    built = get_template("retry-backoff").build({"attempts": 1})
    found = origin(built.text)
    assert found is not None and found.template.id == "retry-backoff" and found.current
    assert found.expect == built.scenario.expect
    assert origin("scalesim: 1\n") is None
    older = built.text.replace("(template v1)", "(template v0)")
    assert origin(older) is not None and not origin(older).current
    assert origin(built.text.replace("attempts=1", "attempts=999")) is None


@pytest.mark.parametrize("template", [t for t in TEMPLATES if "database-per-service"
                                      in t.patterns], ids=lambda t: t.id)
def test_a_template_advertising_database_per_service_shares_no_database(template):
    findings = lint_system(load_built(template.build()))
    assert [f.message for f in findings if f.rule == "SS103"] == []


def test_an_edited_spec_is_told_its_expectations_are_the_templates():
    """A spec whose content (not its comments) differs from what the template wrote for its
    parameters: the expectations describe the template's design, so a miss may be the edit
    at work, and the output says so (the audit read red misses after a harmless fix)."""
    built = get_template("retry-backoff").build({})
    assert origin(built.text).edited is False
    commented = built.text.replace("\nscalesim: 1", "\n# a note of mine\nscalesim: 1", 1)
    assert commented != built.text and origin(commented).edited is False
    edited = built.text.replace("replicas: 3", "replicas: 4", 1)
    assert edited != built.text and origin(edited).edited is True


def test_simulate_says_an_edited_spec_differs_from_its_template(tmp_path: Path):
    spec = tmp_path / "rb.yaml"
    runner = CliRunner()
    assert runner.invoke(app, ["new", "retry-backoff", "-o", str(spec)]).exit_code == 0
    spec.write_text(spec.read_text().replace("replicas: 3", "replicas: 4", 1), encoding="utf-8")
    result = runner.invoke(app, ["simulate", str(spec), "--set", "simulation.duration=4s"],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    printed = " ".join(result.stdout.split())  # the console may wrap it at its width
    assert "this spec differs from it, so a miss may be your change at work" in printed
