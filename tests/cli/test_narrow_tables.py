"""At 80 columns, `lint` and `patterns` never split, fold or shorten the ids, paths and links a
reader copies: each appears whole, on one line, in the text output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalesim.catalog import load_catalog
from scalesim.catalog.loader import load_sources
from scalesim.cli import app
from scalesim.cli.lint import plural
from scalesim.lint import Severity

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(*args: str, columns: int = 80) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)})
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def whole(word: str, text: str) -> bool:
    """`word` appears with no id character glued to either side (so not cut mid-word)."""
    return re.search(rf"(?<![\w./-]){re.escape(word)}(?![\w/-])", text) is not None


def test_lint_keeps_rule_ids_locations_and_paths_whole() -> None:
    spec = str(EXAMPLES / "retry-storm.yaml")
    findings = json.loads(run("lint", spec, "--json", columns=200))
    text = run("lint", spec)
    assert findings and "…" not in text
    for finding in findings:
        for word in (finding["rule"], finding["name"], finding["path"], *finding["fixes"]):
            assert whole(word, text), word
    assert text.rstrip().endswith("1 error, 3 warnings")


def test_counts_are_pluralised() -> None:
    assert [plural(n, Severity.WARNING) for n in (1, 3)] == ["warning", "warnings"]
    assert plural(1, Severity.ERROR) == "error" and plural(2, Severity.ERROR) == "errors"
    assert plural(2, Severity.INFO) == "info"


def on_one_line(word: str, text: str) -> bool:
    return any(whole(word, line) for line in text.splitlines())


def test_sources_links_are_never_split_or_shortened() -> None:
    text = run("patterns", "sources")
    assert "…" not in text
    for key, source in load_sources().items():
        assert on_one_line(key, text) and on_one_line(source.url, text), source.url


def test_show_lists_every_source_link_whole() -> None:
    catalog = load_catalog()
    legend = load_sources()
    text = run("patterns", "show", "circuit-breaker")
    sources = text[text.index("\nSources"):]
    assert "…" not in sources
    for key in catalog["circuit-breaker"].sources:
        assert on_one_line(legend[key].url, sources), key


@pytest.mark.parametrize("args", [("patterns", "path", "beginner"),
                                  ("patterns", "path", "advanced", "--all"),
                                  ("patterns", "matrix"),
                                  ("patterns", "problems"),
                                  ("patterns", "show", "circuit-breaker")])
def test_pattern_views_keep_ids_whole(args: tuple[str, ...]) -> None:
    text, wide = run(*args), run(*args, columns=400)
    ids = [pid for pid in load_catalog().ids if whole(pid, wide)]
    assert ids
    for pid in ids:
        assert on_one_line(pid, text), pid
    assert max(len(line.rstrip()) for line in text.splitlines() if "://" not in line) <= 80


def test_the_matrix_lists_each_cell_in_lines_not_one_cell() -> None:
    text = run("patterns", "matrix")
    table = text[:text.index("Patterns in each cell")]
    assert not any(len(line) > 80 for line in table.splitlines())
    assert re.search(r"low complexity, beginner \(\d+\)", text)
