"""`scalesim generate` prints the unknown-tech warning at the spec line of the `tech`, and
still writes the files."""

from __future__ import annotations

from pathlib import Path

import typer
from tests.generate.test_unknown_tech import SPEC
from typer.testing import CliRunner

from scalesim.cli.generate import generate_command

app = typer.Typer()
app.command("generate")(generate_command)


@app.callback()
def _root() -> None:
    """Test app."""


def test_the_warning_is_placed_at_the_tech_line(tmp_path: Path) -> None:
    spec = tmp_path / "tsdata.yaml"
    spec.write_text(SPEC)
    line = SPEC.splitlines().index("    tech: timescaledb") + 1
    result = CliRunner().invoke(app, ["generate", str(spec), "--target", "k8s",
                                      "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (f"{spec}:{line}:5: components.tsdb.tech: warning: placeholder: "
            "tech 'timescaledb'") in result.stderr
    assert (tmp_path / "out" / "k8s" / "tsdb.yaml").exists()
