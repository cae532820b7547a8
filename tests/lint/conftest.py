"""Fixtures: write a spec to a temp dir, and lint it."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from tests.lint.helpers import LintYaml, WriteSpec

from scalesim.lint import Finding, LintConfig, lint_file

HEADER = "scalesim: 1\nname: t\n"


@pytest.fixture
def write_spec(tmp_path: Path) -> WriteSpec:
    """Write a spec (dedented; `scalesim` and `name` added when missing) and return its path."""
    count = 0

    def write(text: str) -> Path:
        nonlocal count
        count += 1
        body = textwrap.dedent(text).lstrip("\n")
        path = tmp_path / f"spec{count}.yaml"
        path.write_text(body if body.startswith("scalesim:") else HEADER + body,
                        encoding="utf-8")
        return path

    return write


@pytest.fixture
def lint_yaml(write_spec: WriteSpec) -> LintYaml:
    """Lint spec text; keyword arguments become the LintConfig."""

    def run(text: str, **config: Any) -> list[Finding]:
        return lint_file(write_spec(text), LintConfig(**config))

    return run
