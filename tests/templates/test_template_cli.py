"""`scalesim templates list|show` and `scalesim new`."""

from __future__ import annotations

import json

import pytest

from scalesim.spec import load_spec
from scalesim.templates import TEMPLATES, get_template


def test_list_shows_every_template(run_cli):
    result = run_cli("templates", "list", "--json")
    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    assert [t["id"] for t in listed] == [t.id for t in TEMPLATES]
    assert set(listed[0]) == {"id", "version", "title", "summary", "patterns"}


def test_list_by_pattern_accepts_an_alias(run_cli):
    result = run_cli("templates", "list", "--pattern", "breaker", "--json")
    assert result.exit_code == 0
    assert [t["id"] for t in json.loads(result.stdout)] == ["circuit-breaker", "e-commerce"]


def test_list_by_unknown_pattern_exits_2(run_cli):
    result = run_cli("templates", "list", "--pattern", "no-such-pattern")
    assert result.exit_code == 2


def test_list_table_for_people(run_cli):
    result = run_cli("templates", "list")
    assert result.exit_code == 0
    assert f"{len(TEMPLATES)} templates" in result.stdout
    assert "load-balanced-service" in result.stdout


def test_show_json_has_parameters_scenario_and_expectations(run_cli):
    result = run_cli("templates", "show", "gateway-aggregation", "--json")
    assert result.exit_code == 0
    shown = json.loads(result.stdout)
    assert shown["patterns"] == ["gateway-aggregation", "api-composition", "api-gateway"]
    assert [p["name"] for p in shown["parameters"]] == ["branches", "main_ms", "others_ms",
                                                         "rps"]
    assert shown["parameters"][0]["allowed"] == "an integer from 2 to 8 (calls)"
    assert shown["scenario"] and shown["assumptions"]
    assert [e["value"] for e in shown["expected"]] == pytest.approx([153.0, 582.5])


def test_show_for_people(run_cli):
    result = run_cli("templates", "show", "circuit-breaker")
    assert result.exit_code == 0
    for heading in ("Parameters", "Scenario:", "Expected at the defaults:", "Assumptions:"):
        assert heading in result.stdout


def test_show_unknown_template_suggests(run_cli):
    result = run_cli("templates", "show", "circuit-braker")
    assert result.exit_code == 2
    assert "did you mean 'circuit-breaker'?" in result.stderr


def test_new_writes_a_spec_load_spec_accepts(run_cli, tmp_path):
    target = tmp_path / "system.yaml"
    result = run_cli("new", "load-balanced-service", "--set", "replicas=4", "-o", str(target))
    assert result.exit_code == 0, result.output
    system = load_spec(target)
    assert system.components["web"].replicas == 4
    # Like the examples, the spec names its JSON Schema for editors, written beside it.
    assert target.read_text() == "# yaml-language-server: $schema=spec.schema.json\n" + \
        get_template("load-balanced-service").build({"replicas": 4}).text
    schema = json.loads((tmp_path / "spec.schema.json").read_text())
    assert schema["title"] == "ScaleSim system spec"
    # The next command is on a line of its own, whole, however narrow the terminal.
    assert f"next: scalesim simulate {target}\n" in result.stderr


def test_new_refuses_to_overwrite_without_force(run_cli, tmp_path):
    target = tmp_path / "system.yaml"
    target.write_text("mine\n")
    result = run_cli("new", "timeout", "-o", str(target))
    assert result.exit_code == 2
    assert "--force" in result.stderr
    assert target.read_text() == "mine\n"
    forced = run_cli("new", "timeout", "-o", str(target), "--force")
    assert forced.exit_code == 0
    load_spec(target)


def test_new_writes_nothing_when_the_schema_beside_cannot_be(run_cli, tmp_path):
    """The schema's place is a link into a folder that does not exist: the spec was written
    first and left behind, so a second try needed --force. A folder as -o said 'exists; use
    --force', then with --force 'is a folder'."""
    (tmp_path / "spec.schema.json").symlink_to(tmp_path / "missing" / "file")
    result = run_cli("new", "timeout", "-o", str(tmp_path / "system.yaml"))
    assert result.exit_code == 2 and "spec.schema.json: cannot write here" in result.stderr
    assert not (tmp_path / "system.yaml").exists()
    folder = run_cli("new", "timeout", "-o", str(tmp_path))
    assert folder.exit_code == 2 and "is a folder: give the spec's file name" in folder.stderr


def test_new_without_output_prints_the_spec(run_cli):
    result = run_cli("new", "sidecar")
    assert result.exit_code == 0
    assert result.stdout == "# yaml-language-server: $schema=spec.schema.json\n" + \
        get_template("sidecar").build().text


def test_new_with_bad_parameters_exits_2_with_the_allowed_values(run_cli, tmp_path):
    target = tmp_path / "system.yaml"
    result = run_cli("new", "database-per-service", "--set", "user_db=oracle", "--set",
                     "rps=0", "-o", str(target))
    assert result.exit_code == 2
    assert "user_db=oracle" in result.stderr
    assert "allowed: one of postgres, mysql, mongodb" in result.stderr
    assert "allowed: a number from 3 to 30000 (req/s)" in result.stderr
    assert not target.exists()


def test_new_with_malformed_set_exits_2(run_cli):
    result = run_cli("new", "sidecar", "--set", "rps")
    assert result.exit_code == 2
    assert "NAME=VALUE" in result.stderr


def test_new_unknown_template_exits_2(run_cli):
    result = run_cli("new", "nope")
    assert result.exit_code == 2
    assert "unknown template 'nope'" in result.stderr


def test_list_by_pattern_counts_in_the_singular_for_one(run_cli):
    result = run_cli("templates", "list", "--pattern", "sharding")
    assert result.exit_code == 0
    assert result.stdout.startswith("1 template (")


def test_list_by_pattern_without_templates_points_to_related_ones(run_cli):
    """No empty table: the answer names the templates of linked patterns instead."""
    result = run_cli("templates", "list", "--pattern", "lamport-clock")
    assert result.exit_code == 0
    assert "┏" not in result.stdout
    assert "No template demonstrates lamport-clock" in result.stdout
    assert "distributed-state-machine" in result.stdout


def test_list_by_pattern_without_templates_as_json_keeps_stdout_json(run_cli):
    """--json: stdout is the (empty) list a script parses; the pointer goes to stderr."""
    result = run_cli("templates", "list", "--pattern", "lamport-clock", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []
    assert "No template demonstrates lamport-clock" in result.stderr
    assert "distributed-state-machine" in result.stderr
