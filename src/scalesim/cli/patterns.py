"""`scalesim patterns ...` and `scalesim advise`: thin commands over `scalesim.catalog`."""

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from scalesim.catalog import Catalog, CatalogError, Pattern, UnknownPatternError, load_catalog
from scalesim.catalog.advisor import AdviceError, advise, pick_tree
from scalesim.catalog.collection import did_you_mean
from scalesim.catalog.decision import Choice, DecisionTree, Question, load_trees
from scalesim.catalog.diagram import FORMATS, GraphvizMissingError, subgraph
from scalesim.catalog.graph import related, relation_graph
from scalesim.catalog.model import Category, Layer, LearningLevel, Problem
from scalesim.catalog.search import search
from scalesim.catalog.views import (
    complexity_matrix,
    learning_path,
    select,
    selection_matrix,
)
from scalesim.cli import MARKUP
from scalesim.templates import templates_for_pattern

patterns_app = typer.Typer(
    help="Browse, search and relate the distributed-systems pattern catalog.",
    no_args_is_help=True, rich_markup_mode=MARKUP,
)
out = Console()
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON (sorted keys) for machines.")]
PatternArg = Annotated[str, typer.Argument(help="Pattern id or alias, e.g. circuit-breaker.")]


def fail(message: str, code: int = 2) -> NoReturn:
    """Exit 2 for a bad request from the user, 1 for a problem on our side."""
    err.print(f"[red]error:[/] {escape(message)}")
    raise typer.Exit(code)


def emit_json(data: object) -> None:
    typer.echo(json.dumps(data, sort_keys=True, indent=2))


def get_catalog() -> Catalog:
    try:
        return load_catalog()
    except CatalogError as error:
        fail(str(error), code=1)


def lookup(catalog: Catalog, key: str) -> Pattern:
    try:
        return catalog[key]
    except UnknownPatternError as error:
        fail(str(error))


def table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    grid = Table(title=title, title_justify="left")
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*(escape(cell) for cell in row))
    out.print(grid)


def grid(rows: list[list[str]]) -> Table:
    """Borderless columns, so wrapped text stays indented under its own column."""
    layout = Table.grid(padding=(0, 1))
    for row in rows:
        layout.add_row(*(escape(cell) for cell in row))
    return layout


def brief(pattern: Pattern) -> dict[str, Any]:
    return {
        "id": pattern.id,
        "name": pattern.name,
        "category": pattern.category.value,
        "layers": [layer.value for layer in pattern.layers],
        "problems": [problem.value for problem in pattern.problems],
        "level": pattern.level.value,
        "summary": pattern.summary,
    }


@patterns_app.command("list")
def list_patterns(
    category: Annotated[Category | None, typer.Option(help="Primary category or also_in.")] = None,
    layer: Annotated[Layer | None, typer.Option(help="Layer the pattern lives in.")] = None,
    problem: Annotated[Problem | None, typer.Option(help="Problem it addresses.")] = None,
    level: Annotated[LearningLevel | None, typer.Option(help="Learning level.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List patterns, optionally filtered; every filter given must match."""
    found = select(get_catalog(), category=category, layer=layer, problem=problem, level=level)
    if as_json:
        emit_json([brief(p) for p in found])
        return
    rows = [[p.id, p.name, p.category.value, p.level.value, p.summary] for p in found]
    table(f"{len(found)} patterns", ["id", "name", "category", "level", "summary"], rows)


@patterns_app.command()
def show(pattern: PatternArg, as_json: JsonFlag = False) -> None:
    """Show every section of one pattern, with its relations in both directions."""
    catalog = get_catalog()
    found = lookup(catalog, pattern)
    edges = relation_graph(catalog)[found.id]
    templates = templates_for_pattern(found.id)
    if as_json:
        links = [{"kind": e.kind, "id": e.target, "name": catalog[e.target].name} for e in edges]
        emit_json({"pattern": found.model_dump(mode="json"), "relations": links,
                   "templates": templates})
        return
    print_pattern(found, [[e.kind, e.target, catalog[e.target].name] for e in edges], templates)


def print_pattern(p: Pattern, relations: list[list[str]], templates: list[str]) -> None:
    out.print(f"[bold]{escape(p.name)}[/] ({p.id}) — {p.category.value}, {p.level.value}, "
              f"{p.maturity.value}")
    out.print(escape(p.summary))
    facts = {
        "aliases": ", ".join(p.aliases) or "—",
        "also in": ", ".join(c.value for c in p.also_in) or "—",
        "layers": ", ".join(layer.value for layer in p.layers),
        "problems": ", ".join(problem.value for problem in p.problems),
        "effort": f"implement in {p.effort.implement.value}, "
        f"maintenance {p.effort.maintenance.value}",
        "sources": ", ".join(p.sources),
    }
    out.print(grid([[f"{k}:", v] for k, v in facts.items()]))
    for title, text in [("Problem", p.problem), ("Solution", p.solution)]:
        out.print(f"\n[bold]{title}[/]\n{escape(text)}")
    sections = [
        ("Use when", p.use_when),
        ("Avoid when", p.avoid_when),
        ("Failure modes", [f"{m.mode} → {m.mitigation}" for m in p.failure_modes]),
        ("Monitor", p.monitor),
        ("Metrics", [f"{m.name}: {m.healthy}" for m in p.metrics]),
        ("Implementations", [f"{i.tech}: {i.notes}" for i in p.implementations]),
        ("Known uses", p.known_uses),
    ]
    if p.anti_pattern is not None:
        sections += [("Symptoms", p.anti_pattern.symptoms), ("Causes", p.anti_pattern.causes),
                     ("Fixed by", p.anti_pattern.fixed_by)]
    for title, items in sections:
        if items:
            out.print(f"\n[bold]{title}[/]")
            out.print(grid([[" •", item] for item in items]))
    forces = p.forces.model_dump(mode="json", exclude={"notes"})
    table("\nForces", list(forces), [list(forces.values())])
    if p.forces.notes:
        out.print(escape(p.forces.notes))
    table("\nRelations (both directions)", ["kind", "id", "name"], relations)
    if templates:
        out.print("\n[bold]Templates[/] (scalesim new ID -o system.yaml): "
                  + ", ".join(templates))


@patterns_app.command("search")
def search_command(
    text: Annotated[str, typer.Argument(help="Words, a name, an alias, typos allowed.")],
    limit: Annotated[int, typer.Option(min=1, help="Most hits to show.")] = 10,
    as_json: JsonFlag = False,
) -> None:
    """Search ids, names, aliases and summaries; exact names first, near misses last."""
    hits = search(get_catalog(), text, limit)
    if as_json:
        emit_json([asdict(hit) for hit in hits])
        return
    rows = [[h.id, h.name, f"{h.score:.2f}", h.matched] for h in hits]
    table(f"{len(hits)} matches for {text!r}", ["id", "name", "score", "matched"], rows)


@patterns_app.command("related")
def related_command(
    pattern: PatternArg,
    depth: Annotated[int, typer.Option(min=1, help="How many links away to look.")] = 1,
    as_json: JsonFlag = False,
) -> None:
    """Patterns within --depth links of a pattern, in either direction, nearest first."""
    catalog = get_catalog()
    found = related(catalog, lookup(catalog, pattern).id, depth)
    if as_json:
        emit_json([{"id": r.id, "distance": r.distance, "via": asdict(r.via)} for r in found])
        return
    rows = [[r.id, catalog[r.id].name, str(r.distance), f"{r.via.source} {r.via.kind}"]
            for r in found]
    table(f"Related to {pattern}", ["id", "name", "distance", "via"], rows)


@patterns_app.command()
def path(
    level: Annotated[LearningLevel, typer.Argument(help="beginner, intermediate or advanced.")],
    as_json: JsonFlag = False,
) -> None:
    """A learning path for one level: prerequisites first, lower-level ones marked."""
    steps = learning_path(get_catalog(), level)
    if as_json:
        emit_json([asdict(step) for step in steps])
        return
    rows = [[str(n), s.id, s.name, s.level.value, "prerequisite" if s.prerequisite else ""]
            for n, s in enumerate(steps, 1)]
    table(f"{level.value} path", ["#", "id", "name", "level", ""], rows)


@patterns_app.command()
def matrix(
    category: Annotated[Category | None, typer.Option(help="Only this category.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Complexity by learning level, and the selection matrix of trade-offs."""
    catalog = Catalog(select(get_catalog(), category=category))
    cells = complexity_matrix(catalog)
    rows = selection_matrix(catalog)
    if as_json:
        emit_json({"complexity": cells, "selection": [asdict(row) for row in rows]})
        return
    levels = [lvl.value for lvl in LearningLevel]
    table("Complexity × learning level (pattern counts)", ["complexity", *levels],
          [[c, *(str(len(by_level[lvl])) for lvl in levels)] for c, by_level in cells.items()])
    table("Selection matrix", ["id", "consistency", "latency", "complexity", "use when"],
          [[r.id, r.consistency, r.latency, r.complexity, r.use_when] for r in rows])


@patterns_app.command()
def graph(
    output: Annotated[Path, typer.Option("-o", "--out", "--output",
                                         help="File: .dot, .svg or .mmd.")],
    pattern: Annotated[str | None, typer.Argument(help="Centre on this pattern.")] = None,
    depth: Annotated[int, typer.Option(min=1, help="Links from the centre.")] = 1,
    as_json: JsonFlag = False,
) -> None:
    """Draw the relation graph (all of it, or around one pattern) as DOT, SVG or Mermaid."""
    render = FORMATS.get(output.suffix.lower())
    if render is None:
        fail(f"cannot tell the format of {output.name!r}; use one of {', '.join(FORMATS)}")
    catalog = get_catalog()
    focus = None if pattern is None else lookup(catalog, pattern).id
    drawn = subgraph(catalog, focus, depth)
    try:
        output.write_text(render(drawn), encoding="utf-8")
    except GraphvizMissingError as error:
        fail(str(error), code=1)
    except subprocess.CalledProcessError as error:
        fail(f"dot failed: {error.stderr}", code=1)
    summary = {"file": str(output), "format": output.suffix.lower().lstrip("."),
               "nodes": len(drawn.nodes), "edges": len(drawn.edges)}
    if as_json:
        emit_json(summary)
    else:
        out.print(f"wrote {escape(str(output))}: {len(drawn.nodes)} patterns, "
                  f"{len(drawn.edges)} relations")


def _shortcut(key: str) -> Any:
    return typer.Option(help=f"Same as --answer {key}=VALUE.")


def advise_command(
    tree: Annotated[str | None, typer.Option(help="Tree to walk; omit to pick one.")] = None,
    answer: Annotated[
        list[str] | None, typer.Option("--answer", "-a", help="KEY=VALUE; repeat as needed.")
    ] = None,
    consistency: Annotated[str | None, _shortcut("consistency")] = None,
    transactions: Annotated[str | None, _shortcut("transactions")] = None,
    audience: Annotated[str | None, _shortcut("audience")] = None,
    ordering: Annotated[str | None, _shortcut("ordering")] = None,
    delivery: Annotated[str | None, _shortcut("delivery")] = None,
    dependency: Annotated[str | None, _shortcut("dependency")] = None,
    workload: Annotated[str | None, _shortcut("workload")] = None,
    risk: Annotated[str | None, _shortcut("risk")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Recommend patterns by walking a decision tree; unanswered questions are asked on a TTY."""
    shortcuts = {"consistency": consistency, "transactions": transactions, "audience": audience,
                 "ordering": ordering, "delivery": delivery, "dependency": dependency,
                 "workload": workload, "risk": risk}
    answers = parse_answers(answer or [])
    for key, value in shortcuts.items():
        if value is not None and answers.setdefault(key, value) != value:
            fail(f"--{key} {value} contradicts --answer {key}={answers[key]}")
    interactive = stdin_is_terminal()
    chosen = choose_tree(tree, answers, interactive)
    if tree is not None and not answers and not interactive:
        show_tree(chosen, as_json)  # nobody to ask: show every question and where it leads
        return
    try:
        advice = advise(chosen, answers, ask_on_terminal if interactive else None)
    except AdviceError as error:
        fail(str(error))
    if as_json:
        emit_json(advice.to_dict())
        return
    for step in advice.steps:
        out.print(f"[dim]{escape(step.question)}[/] {escape(step.label)} ({step.answer})")
    table(f"Recommended ({chosen.title})", ["id", "why"],
          [[rec.id, rec.reason] for rec in advice.recommendations])
    out.print("Details: scalesim patterns show ID")


def show_tree(tree: DecisionTree, as_json: bool) -> None:
    """The whole decision tree: each question, its answers and what each recommends."""
    if as_json:
        emit_json(tree.model_dump(mode="json", exclude_none=True))
        return
    out.print(f"[bold]{escape(tree.title)}[/] ({tree.id}): {escape(tree.summary)}",
              highlight=False)

    def walk(question: Question, depth: int) -> None:
        pad = "  " * depth
        out.print(f"{pad}[bold]{escape(question.text)}[/] [dim](--answer "
                  f"{question.key}=VALUE)[/]", highlight=False)
        for value, choice in question.choices.items():
            recommends = ", ".join(rec.id for rec in choice.recommend)
            out.print(f"{pad}  {value}: {escape(choice.label)}"
                      + (f" → {escape(recommends)}" if recommends else ""), highlight=False)
            if choice.then is not None:
                walk(choice.then, depth + 2)

    walk(tree.question, 0)
    out.print(f"Answer with e.g. scalesim advise --tree {tree.id} --answer "
              f"{tree.question.key}={next(iter(tree.question.choices))}", highlight=False)


def stdin_is_terminal() -> bool:
    """Prompt only when a person can answer; scripts get exit 2 and a list of what is missing."""
    return sys.stdin.isatty()


def parse_answers(pairs: list[str]) -> dict[str, str]:
    answers: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            fail(f"--answer takes KEY=VALUE, got {pair!r}")
        answers[key.strip()] = value.strip()
    return answers


def choose_tree(name: str | None, answers: dict[str, str], interactive: bool) -> DecisionTree:
    """The named tree, else the one tree the answers fit, else ask (or explain and exit 2)."""
    try:
        trees = load_trees()
    except CatalogError as error:
        fail(str(error), code=1)
    if name is not None:
        if name not in trees:
            suggestion = did_you_mean(name, trees)
            hint = f"; did you mean {suggestion!r}?" if suggestion else ""
            fail(f"unknown tree {name!r}{hint} (trees: {', '.join(trees)})")
        return trees[name]
    picked = pick_tree(trees, answers)
    if picked is not None:
        return picked
    menu = Question(key="tree", text="Which decision do you need help with?",
                    choices={t.id: Choice(label=t.title) for t in trees.values()})
    if not interactive:
        listing = "".join(f"\n  {t.id}: {t.title}" for t in trees.values())
        fail(f"pick a tree with --tree TREE (the answers given fit no single tree):{listing}")
    return trees[ask_on_terminal(menu)]


def ask_on_terminal(question: Question) -> str:
    """Prompt on stderr (stdout may carry --json) until one of the choices is given."""
    values = list(question.choices)
    err.print(f"\n[bold]{escape(question.text)}[/]")
    if question.help:
        err.print(f"[dim]{escape(question.help)}[/]")
    for n, (value, choice) in enumerate(question.choices.items(), 1):
        err.print(f"  {n}. {value} — {escape(choice.label)}")
    while True:
        reply = str(typer.prompt(question.key, err=True)).strip().lower()
        if reply.isdigit() and 1 <= int(reply) <= len(values):
            return values[int(reply) - 1]
        if reply in question.choices:
            return reply
        err.print(f"answer one of: {', '.join(values)} (or its number)")
