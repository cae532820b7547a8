"""`patterns search` refuses empty text, and `patterns show` names every force at 80
columns."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from scalesim.catalog import load_catalog
from scalesim.cli import app


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_search_is_refused_like_an_empty_advice(text: str) -> None:
    """It printed an empty table and exit 0, where `advise ""` says the text is empty."""
    for args in (["patterns", "search", text], ["patterns", "search", text, "--json"]):
        done = CliRunner().invoke(app, args)
        assert done.exit_code == 2
        assert "the search text is empty" in done.output


@pytest.mark.parametrize("columns", [80, 200])
def test_every_force_is_named_beside_its_level(columns: int) -> None:
    """At 80 columns the one wide row became a block headed by its first cell, so the first
    force showed as 'medium' with no name."""
    pattern = load_catalog()["circuit-breaker"]
    done = CliRunner().invoke(app, ["patterns", "show", pattern.id],
                              env={"COLUMNS": str(columns)})
    assert done.exit_code == 0, done.output
    block = done.stdout.split("\nForces", 1)[1].split("Relations", 1)[0]
    for force, level in pattern.forces.model_dump(mode="json", exclude={"notes"}).items():
        assert re.search(rf"\b{force}\b\W+{level}\b", block), (force, level)
