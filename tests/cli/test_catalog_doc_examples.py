"""docs/catalog.md's decision-tree examples run as shown in a script (no terminal to ask
on): `advise --tree deployment --risk low` exited 2 there, needing `capacity`."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

DOC = (Path(__file__).parents[2] / "docs" / "catalog.md").read_text(encoding="utf-8")


def _tree_examples() -> list[list[str]]:
    """The `$ scalesim advise …` lines of the Decision trees section, continuations joined."""
    section = DOC.split("### Decision trees", 1)[1].split("\n### ", 1)[0]
    block = section.split("```console\n", 1)[1].split("```", 1)[0]
    commands = re.split(r"^\$ ", block.replace("\\\n", " "), flags=re.M)
    return [shlex.split(command)[1:] for command in commands if command.strip()]


def test_the_section_has_examples() -> None:
    assert len(_tree_examples()) >= 3


@pytest.mark.parametrize("args", _tree_examples(), ids=" ".join)
def test_each_tree_example_recommends_without_a_terminal(run_cli, args: list[str]) -> None:
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    assert "Recommended (" in result.output or "\"recommendations\": [" in result.output
