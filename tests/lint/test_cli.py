"""`scalesim lint`, mounted as the main app mounts it: output, JSON shape and exit codes."""

from __future__ import annotations

import json
from typing import Any

import pytest
import typer
from tests.lint.helpers import WriteSpec
from tests.lint.specs import CLEAN, CYCLE, WARNINGS_ONLY
from typer.testing import CliRunner

from scalesim.cli.lint import lint_command

app = typer.Typer()
app.command("lint")(lint_command)


@app.command("other")
def _other() -> None:
    """A second command, so `lint` is a subcommand as in the real app."""


def run(*args: str, code: int) -> Any:
    result = CliRunner().invoke(app, ["lint", *args])
    assert result.exit_code == code, result.output
    return result


FINDING_KEYS = {"rule", "name", "severity", "file", "line", "column", "path", "message",
                "why", "fixes", "see"}


def test_json_is_a_sorted_deterministic_list_of_findings(write_spec: WriteSpec) -> None:
    path = write_spec(WARNINGS_ONLY)
    first = run(str(path), "--json", code=0).stdout
    assert first == run(str(path), "--json", code=0).stdout
    findings = json.loads(first)
    assert [f["rule"] for f in findings] == ["SS201", "SS105"]  # by line in the file
    for finding in findings:
        assert set(finding) == FINDING_KEYS
        assert list(finding) == sorted(finding)
        assert finding["file"] == str(path)
        assert finding["severity"] == "warning"
        assert isinstance(finding["line"], int) and finding["line"] > 0
        assert finding["fixes"] and all(isinstance(fix, str) for fix in finding["fixes"])


def test_clean_spec_exits_0(write_spec: WriteSpec) -> None:
    path = str(write_spec(CLEAN))
    assert "no findings" in run(path, code=0).stdout
    assert json.loads(run(path, "--json", code=0).stdout) == []


@pytest.mark.parametrize(("spec", "fail_on", "code"), [
    (WARNINGS_ONLY, None, 0),
    (WARNINGS_ONLY, "error", 0),
    (WARNINGS_ONLY, "warning", 1),
    (WARNINGS_ONLY, "info", 1),
    (CYCLE, None, 1),
    (CLEAN, "info", 0),
])
def test_fail_on_sets_the_exit_code(write_spec: WriteSpec, spec: str, fail_on: str | None,
                                    code: int) -> None:
    args = [str(write_spec(spec))] + (["--fail-on", fail_on] if fail_on else [])
    run(*args, code=code)


def test_table_shows_rule_severity_location_and_fixes(
        write_spec: WriteSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_spec(CYCLE)
    monkeypatch.chdir(path.parent)
    result = CliRunner().invoke(app, ["lint", path.name], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    for text in ("SS102", "distributed-monolith", "error", f"{path.name}:5",
                 "decompose-by-subdomain", "1 error"):
        assert text in result.stdout, text


def test_bad_spec_exits_2_with_file_line_col(write_spec: WriteSpec) -> None:
    path = write_spec(CLEAN.replace("to: api.read", "to: api.reed"))
    result = run(str(path), code=2)
    assert f"{path}:14:13: components.web.operations.get.calls[0].to:" in result.stderr
    assert "no operation 'reed'" in result.stderr


def test_missing_file_and_unknown_rule_exit_2(write_spec: WriteSpec) -> None:
    assert "cannot read" in run("/nonexistent/spec.yaml", code=2).stderr
    assert "SS999" in run(str(write_spec(CLEAN)), "--ignore", "SS999", code=2).stderr


def test_options_reach_the_rules(write_spec: WriteSpec) -> None:
    path = str(write_spec(CYCLE))
    run(path, "--ignore", "SS102", code=0)
    run(path, "--ignore", "distributed-monolith", "--max-depth", "1", "--max-calls", "2",
        code=0)
