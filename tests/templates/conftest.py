from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from scalesim.cli.templates import new_command, templates_app


@pytest.fixture
def run_cli():
    """The template commands mounted as the main CLI mounts them."""
    app = typer.Typer()
    app.add_typer(templates_app, name="templates")
    app.command("new")(new_command)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args))

    return run
