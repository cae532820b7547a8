"""The commands, mounted as the main CLI mounts them, against a small catalog."""

from __future__ import annotations

import inspect
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from scalesim.catalog import load_catalog
from scalesim.catalog.decision import load_trees
from scalesim.cli import patterns as cli

AddPattern = Callable[..., Path]
Run = Callable[..., Any]

app = typer.Typer()
app.add_typer(cli.patterns_app, name="patterns")
app.command("advise")(cli.advise_command)


@pytest.fixture
def run(
    catalog_dir: Path, add_pattern: AddPattern, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Any]:
    """Invoke the CLI on the fixture catalog plus one pattern that requires circuit-breaker."""
    add_pattern("needs-breaker", name="Needs Breaker", level="beginner",
                relations={"requires": ["circuit-breaker"]})
    catalog = load_catalog(catalog_dir)
    monkeypatch.setattr(cli, "load_catalog", lambda: catalog)

    def invoke(*args: str, code: int = 0) -> Any:
        result = CliRunner().invoke(app, list(args))
        assert result.exit_code == code, result.output
        return result

    return invoke


def as_json(result: Any) -> Any:
    return json.loads(result.stdout)


def test_list_filters_and_prints_json(run: Run) -> None:
    everything = as_json(run("patterns", "list", "--json"))
    assert [p["id"] for p in everything] == sorted(p["id"] for p in everything)
    beginners = as_json(run("patterns", "list", "--level", "beginner", "--json"))
    assert "needs-breaker" in [p["id"] for p in beginners]
    assert all(p["level"] == "beginner" for p in beginners)
    assert "Needs Breaker" in run("patterns", "list").stdout
    run("patterns", "list", "--category", "nonsense", code=2)


def test_show_by_alias_lists_relations_both_ways(run: Run) -> None:
    shown = as_json(run("patterns", "show", "BREAKER", "--json"))
    assert shown["pattern"]["id"] == "circuit-breaker"
    assert {"kind": "required_by", "id": "needs-breaker", "name": "Needs Breaker",
            "reason": None} in shown["relations"]
    text = run("patterns", "show", "circuit-breaker").stdout
    for heading in ["Problem", "Solution", "Use when", "Avoid when", "Failure modes", "Forces",
                    "Relations (both directions)", "required_by"]:
        assert heading in text


@pytest.mark.parametrize(
    "args",
    [["show", "circuit-braker"], ["related", "circuit-braker"], ["graph", "circuit-braker",
                                                                 "-o", "g.dot"]],
)
def test_unknown_ids_exit_2_with_a_hint(run: Run, args: list[str]) -> None:
    result = run("patterns", *args, code=2)
    assert "did you mean 'circuit-breaker'?" in result.output


def test_an_unrelated_id_gets_no_hint() -> None:
    """'nope' shares three letters with 'finops' (difflib ratio 0.6): no slip of the keys."""
    result = CliRunner().invoke(app, ["patterns", "show", "nope"])
    assert result.exit_code == 2
    assert "unknown pattern 'nope'" in result.output and "did you mean" not in result.output


def test_search_related_path_matrix_json(run: Run) -> None:
    hits = as_json(run("patterns", "search", "circuit braker", "--json"))
    assert hits[0]["id"] == "circuit-breaker"
    near = as_json(run("patterns", "related", "needs-breaker", "--json"))
    assert near[0] == {"id": "circuit-breaker", "distance": 1, "via": {
        "source": "needs-breaker", "kind": "requires", "target": "circuit-breaker",
        "reason": None}}
    steps = as_json(run("patterns", "path", "beginner", "--all", "--json"))
    assert {"id": "needs-breaker", "name": "Needs Breaker", "level": "beginner",
            "prerequisite": False} in steps
    course = as_json(run("patterns", "path", "beginner", "--json"))
    assert course["level"] == "beginner" and course["lessons"]
    tables = as_json(run("patterns", "matrix", "--json"))
    assert "needs-breaker" in tables["complexity"][_complexity(run)]["beginner"]
    assert "needs-breaker" in [row["id"] for row in tables["selection"]]
    run("patterns", "path", "expert", code=2)


def _complexity(run: Run) -> str:
    shown = as_json(run("patterns", "show", "needs-breaker", "--json"))
    return str(shown["pattern"]["forces"]["complexity"])


@pytest.mark.parametrize(("suffix", "marker"), [(".dot", "digraph"), (".mmd", "graph LR")])
def test_graph_format_follows_the_extension(
    run: Run, tmp_path: Path, suffix: str, marker: str
) -> None:
    out = tmp_path / f"g{suffix}"
    summary = as_json(run("patterns", "graph", "needs-breaker", "-o", str(out), "--json"))
    assert summary["nodes"] == 2 and summary["format"] == suffix[1:]
    assert out.read_text(encoding="utf-8").startswith(marker)


def test_graph_errors(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert ".mmd" in run("patterns", "graph", "-o", str(tmp_path / "g.png"), code=2).output
    monkeypatch.setattr("shutil.which", lambda _: None)
    missing = run("patterns", "graph", "-o", str(tmp_path / "g.svg"), code=1)
    assert "install" in missing.output and "graphviz" in missing.output


def test_advise_with_flags_and_answers(run: Run) -> None:
    advice = as_json(run("advise", "--consistency", "strong", "--transactions", "distributed",
                         "--answer", "participants=can-lock", "--json"))
    assert advice["tree"] == "consistency"
    assert [r["id"] for r in advice["recommendations"]] == ["two-phase-commit"]
    text = run("advise", "--tree", "deployment", "--risk", "medium", "-a", "release=together")
    assert "canary-release" in text.stdout


def test_advise_without_a_terminal_lists_what_is_missing(run: Run) -> None:
    result = run("advise", "--consistency", "strong", code=2)
    assert "transactions (local|distributed)" in result.output
    assert "consistency" in run("advise", code=2).output  # no tree: lists the trees
    assert "did you mean 'scaling'" in run("advise", "--tree", "scalling", code=2).output
    assert "KEY=VALUE" in run("advise", "--answer", "risk", code=2).output
    assert "allowed: low, medium, high" in run("advise", "--risk", "none", code=2).output
    run("advise", "--risk", "low", "--answer", "risk=high", code=2)


def test_shortcut_flags_are_real_question_keys() -> None:
    keys = {key for tree in load_trees().values() for key in tree.questions()}
    flags = set(inspect.signature(cli.advise_command).parameters) - {
        "text", "spec", "tree", "answer", "as_json"}
    assert flags <= keys


def test_advise_asks_on_a_terminal_until_answered(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "stdin_is_terminal", lambda: True)
    result = CliRunner().invoke(
        app, ["advise", "--json"], input="consistency\nmaybe\nstrong\n1\n"
    )
    assert result.exit_code == 0, result.output
    assert "answer one of: strong, eventual" in result.stderr
    advice = json.loads(result.stdout[result.stdout.index("{"):])  # the runner echoes input
    assert [s["answer"] for s in advice["steps"]] == ["strong", "local"]
    assert [r["id"] for r in advice["recommendations"]] == ["optimistic-concurrency-control"]


def test_advise_a_tree_without_answers_off_a_terminal_prints_the_tree(run: Run) -> None:
    # The README's `scalesim advise --tree deployment`, piped: nobody to ask, so show it all.
    text = " ".join(run("advise", "--tree", "deployment").output.split())
    assert "(--answer risk=VALUE)" in text and "(--answer release=VALUE)" in text
    assert "→ blue-green-deployment" in text and "→ canary-release" in text



def narrow_output(monkeypatch: pytest.MonkeyPatch, *args: str) -> list[str]:
    """What the command prints on a 60-column terminal, line by line."""
    narrow = Console(width=60, record=True, file=io.StringIO())
    monkeypatch.setattr(cli, "out", narrow)
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return narrow.export_text().splitlines()


def test_a_trees_wrapped_lines_keep_their_indent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leading spaces wrapped to column 0 on a narrow terminal: every line under the
    first question's answers stays indented."""
    lines = narrow_output(monkeypatch, "advise", "--tree", "existing-system")
    first = next(n for n, line in enumerate(lines) if line.startswith("  outages:"))
    last = next(n for n, line in enumerate(lines) if line.startswith("Answer with"))
    body = lines[first:last]
    assert len(body) > 20 and all(line.startswith("  ") for line in body), body


def test_the_refining_questions_wrap_under_their_text(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = narrow_output(monkeypatch, "advise", "we never want to lose a write")
    first = next(n for n, line in enumerate(lines) if line.startswith("Questions that"))
    body = lines[first + 1:-1]  # the last line points to patterns show
    assert len(body) > 4 and all(line.startswith(("   ", " • ")) for line in body), body
