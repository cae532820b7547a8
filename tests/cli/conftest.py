from __future__ import annotations

from pathlib import Path

import pytest
from tests.cli.specs import GOOD
from typer.testing import CliRunner

from scalesim.cli import app


@pytest.fixture
def run_cli():
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args))

    return run


@pytest.fixture
def spec_file(tmp_path: Path):
    def write(text: str = GOOD, name: str = "system.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
