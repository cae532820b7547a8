"""A database of several replicas is a StatefulSet of independent servers: `generate` says
what nothing copies between them (docs/generate.md, Technologies), as it notes other things
it does not map; without `replication` it also warns, at the spec's `replicas`."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml
from typer.testing import CliRunner

from scalesim.cli.generate import generate_command

app = typer.Typer()
app.command("generate")(generate_command)


@app.callback()
def _root() -> None:
    """Test app."""


SPEC = """scalesim: 1
name: copies
components:
  app:
    replicas: 2
    health: {readiness: {}}
    operations: {x: {calls: [{to: db.q, timeout: 1s}, {to: ledger.q, timeout: 1s}]}}
  db:
    kind: database
    replicas: 3
    health: {readiness: {}}
    operations: {q: {}}
  ledger:
    kind: database
    replicas: 2
    health: {readiness: {}}
    replication: {mode: sync, writes: [u]}
    operations: {q: {}, u: {}}
  single:
    kind: database
    replicas: 1
    operations: {q: {}}
workloads: [{name: w, to: app.x, rate: 10/s}]
"""


def _generate(tmp_path: Path, target: str) -> tuple[str, Path]:
    spec = tmp_path / "copies.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["generate", str(spec), "--target", target, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return result.stderr, out


def _note(path: Path) -> str | None:
    workload = next(doc for doc in yaml.safe_load_all(path.read_text())
                    if doc["kind"] == "StatefulSet")
    return workload["metadata"].get("annotations", {}).get("scalesim.io/note")


def test_unreplicated_database_servers_are_noted_and_warned_of(tmp_path: Path) -> None:
    stderr, out = _generate(tmp_path, "k8s")
    line = SPEC.splitlines().index("    replicas: 3") + 1
    spec = tmp_path / "copies.yaml"
    assert (f"{spec}:{line}:5: components.db.replicas: warning: 'db' runs 3 independent "
            "postgres servers: the spec sets no replication") in stderr
    assert "components.ledger" not in stderr and "components.single" not in stderr
    note = _note(out / "k8s" / "db.yaml")
    assert note is not None and "their data diverge (lint SS107)" in note
    ledger = _note(out / "k8s" / "ledger.yaml")
    assert ledger is not None and "the spec's sync replication is not generated" in ledger
    assert _note(out / "k8s" / "single.yaml") is None
    readme = " ".join((out / "README.md").read_text().split())
    assert "nothing copies data between the pods of `db`, `ledger`" in readme


def test_compose_runs_stand_ins_and_warns_of_nothing(tmp_path: Path) -> None:
    """Compose runs an HTTP stand-in per data component, not database servers."""
    stderr, _ = _generate(tmp_path, "compose")
    assert "independent postgres servers" not in stderr
