"""`scalesim import`: all or nothing, exit 2 on bad input, the report on stderr or as JSON."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.importers import ImportFailed, sources
from scalesim.spec import load_spec
from scalesim.spec.bounds import MAX_INPUT_MIB

COMPOSE = ("services:\n  web_app:\n    image: acme/web\n    ports: ['8080:8080']\n"
           "    environment: {DB_URL: 'postgres://db:5432/app'}\n"
           "  db:\n    image: postgres:16\n")
DEPLOYMENT = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n"
              "  replicas: 2\n  template:\n    spec:\n"
              "      containers: [{name: api, image: acme/api}]\n")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_writes_a_spec_that_validates_and_reports_renames(runner: CliRunner,
                                                        tmp_path: Path) -> None:
    source = tmp_path / "compose.yaml"
    source.write_text(COMPOSE)
    output = tmp_path / "system.yaml"
    result = runner.invoke(app, ["import", "compose", str(source), "-o", str(output)])
    assert result.exit_code == 0, result.output
    system = load_spec(output)
    assert list(system.components) == ["web-app", "db"]
    assert "renamed web_app -> web-app" in result.stderr
    assert "values marked PLACEHOLDER" in result.stderr


def test_without_output_the_spec_goes_to_stdout(runner: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "compose.yaml"
    source.write_text(COMPOSE)
    result = runner.invoke(app, ["import", "compose", str(tmp_path)])
    assert result.exit_code == 0
    assert result.stdout.startswith("# Imported by `scalesim import`")
    assert "web-app:" in result.stdout


def test_json_report(runner: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "compose.yaml"
    source.write_text(COMPOSE)
    result = runner.invoke(app, ["import", "compose", str(source), "--json"])
    report = json.loads(result.stdout)
    assert report["components"] == {"web-app": "service", "db": "database"}
    assert report["renamed"] == {"web_app": "web-app"}
    assert report["workloads"] == ["web-app"]
    assert report["placeholders"] > 0 and report["spec"].startswith("# Imported")


def test_standard_input(runner: CliRunner) -> None:
    result = runner.invoke(app, ["import", "k8s", "-", "--name", "piped"], input=DEPLOYMENT)
    assert result.exit_code == 0, result.output
    assert "name: piped" in result.stdout and "replicas: 2" in result.stdout


def test_bad_input_exits_2_and_writes_nothing(runner: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "app.yaml"
    source.write_text(DEPLOYMENT + "---\napiVersion: example.com/v1\nkind: Widget\n"
                      "metadata: {name: w}\n")
    output = tmp_path / "system.yaml"
    result = runner.invoke(app, ["import", "k8s", str(source), "-o", str(output)])
    assert result.exit_code == 2
    assert f"{source}:10: unknown kind Widget" in result.stderr
    assert not output.exists()
    assert list(tmp_path.iterdir()) == [source]


def test_an_existing_output_needs_force(runner: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "app.yaml"
    source.write_text(DEPLOYMENT)
    output = tmp_path / "system.yaml"
    output.write_text("mine\n")
    result = runner.invoke(app, ["import", "k8s", str(source), "-o", str(output)])
    assert result.exit_code == 2 and output.read_text() == "mine\n"
    assert "use --force" in result.stderr
    result = runner.invoke(app, ["import", "k8s", str(source), "-o", str(output), "--force"])
    assert result.exit_code == 0 and load_spec(output).components["api"].replicas == 2


def test_missing_input_is_a_located_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", "k8s", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert f"{tmp_path / 'nope.yaml'}: no such file or folder" in result.stderr


@pytest.mark.parametrize("command", ["compose", "k8s"])
def test_an_endless_input_is_refused_at_the_cap(runner: CliRunner, tmp_path: Path,
                                                command: str) -> None:
    output = tmp_path / "system.yaml"
    result = runner.invoke(app, ["import", command, "/dev/zero", "-o", str(output)])
    assert result.exit_code == 2
    assert result.stderr == (f"/dev/zero: larger than {MAX_INPUT_MIB} MiB, the most scalesim "
                             "reads from one input file\n")
    assert not output.exists()


def test_standard_input_is_read_up_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_INPUT_MIB", 1)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"#" * (1024**2 + 1))))
    with pytest.raises(ImportFailed, match=r"^-: larger than 1 MiB"):
        sources.read_text("-")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"#" * 1024**2)))
    assert len(sources.read_text("-")) == 1024**2


def test_a_name_clash_is_reported_as_a_clash(runner: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "compose.yaml"
    source.write_text("services:\n  web_app: {image: acme/web}\n  Web-App: {image: acme/web}\n")
    result = runner.invoke(app, ["import", "compose", str(source), "-o",
                                 str(tmp_path / "s.yaml")])
    assert result.exit_code == 0, result.output
    assert "renamed web_app -> web-app (not a valid spec name)" in result.stderr
    assert "renamed Web-App -> Web-App-2 (same name as another once lower-cased)" in \
        result.stderr
