"""`patterns search` refuses empty text, and `patterns show` names every force at 80
columns."""

from __future__ import annotations

import json
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


@pytest.mark.parametrize("text", ["the pattern", "patterns", "a the of"])
def test_a_search_of_filler_words_only_is_refused(text: str) -> None:
    """'the pattern' listed six titles that merely resembled it, with exit 0."""
    for args in (["patterns", "search", text], ["patterns", "search", text, "--json"]):
        done = CliRunner().invoke(app, args)
        assert done.exit_code == 2
        assert "only common words" in done.output


def test_search_json_numbers_the_tiers_as_the_docs_do() -> None:
    """docs/catalog.md numbers the tiers 1 exact, 2 ranked, 3 near misses."""
    def tiers(text: str) -> list[int]:
        done = CliRunner().invoke(app, ["patterns", "search", text, "--json"])
        return [hit["tier"] for hit in json.loads(done.stdout)]

    assert tiers("breaker")[:2] == [1, 2]  # the alias, then the word in other patterns
    assert tiers("circuit braker")[0] == 3


def test_search_counts_only_matches_and_lists_related_after_them() -> None:
    """docs/catalog.md: a hit that matched no word itself, only as a fix of a matching
    anti-pattern, is related, not a match; the studio's count and the CLI's agree."""
    done = CliRunner().invoke(app, ["patterns", "search", "saga", "--json"])
    hits = json.loads(done.stdout)
    related = [hit["id"] for hit in hits if hit["related"]]
    matches = len(hits) - len(related)
    assert related and matches
    text = CliRunner().invoke(app, ["patterns", "search", "saga"]).output
    assert f"{matches} matches for 'saga'" in text
    assert f"{len(related)} related" in text
    assert text.index(f"{len(related)} related") < text.index(related[0])
