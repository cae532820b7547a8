"""`scalesim patterns ...` and `scalesim advise`: thin commands over `scalesim.catalog`."""

import functools
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from scalesim.catalog import Catalog, CatalogError, Pattern, UnknownPatternError, load_catalog
from scalesim.catalog.advisor import AdviceError, advise, pick_tree
from scalesim.catalog.cards import load_cards
from scalesim.catalog.collection import did_you_mean
from scalesim.catalog.curriculum import curricula
from scalesim.catalog.decision import Choice, DecisionTree, Question, load_trees
from scalesim.catalog.diagram import FORMATS, subgraph
from scalesim.catalog.freetext import TextAdvice, advise_text
from scalesim.catalog.graph import as_read, related, relation_graph
from scalesim.catalog.in_spec import implemented, to_reconfigure
from scalesim.catalog.loader import load_sources
from scalesim.catalog.model import Category, Layer, LearningLevel, Problem
from scalesim.catalog.search import search
from scalesim.catalog.text import terms
from scalesim.catalog.views import (
    FAMILIES,
    combinations_to_avoid,
    complexity_matrix,
    effort_matrix,
    learning_path,
    problem_matrix,
    select,
    selection_matrix,
)
from scalesim.cli import MARKUP
from scalesim.cli.outputs import OutputError, check_file, write_file
from scalesim.cli.run import exit_bad_spec
from scalesim.lint import LintConfig, RuleError, Severity, load_and_lint
from scalesim.lint.review import Change, Sized, Validates, review
from scalesim.render import graphviz
from scalesim.render.layout import Column, fitted
from scalesim.spec import SpecError, load_spec_text
from scalesim.spec.errors import printable
from scalesim.spec.loader import read_spec_file
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
    """A table when it fits the terminal, else one block per row (`render.layout`): ids and
    links are never cut, folded or shortened."""
    out.print(fitted(title, [Column(c, right=False) for c in columns],
                     [[Text(cell) for cell in row] for row in rows], out.width), crop=False)


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
    edges = as_read(catalog, relation_graph(catalog)[found.id])
    templates = templates_for_pattern(found.id)
    legend = sources_legend()
    sources = [{"key": key, **legend[key].model_dump(exclude_none=True)} for key in found.sources]
    if as_json:
        links = [{"kind": e.kind, "id": e.target, "name": catalog[e.target].name,
                  "reason": e.reason} for e in edges]
        emit_json({"pattern": found.model_dump(mode="json"), "relations": links,
                   "sources": sources, "templates": templates})
        return
    rows = [[e.target, e.kind, catalog[e.target].name, e.reason or ""] for e in edges]
    print_pattern(found, rows, templates)
    out.print("\n[bold]Sources[/]")
    for source in sources:  # the link on a line of its own, left to the terminal to fold
        out.print(Padding(Text(f"{source['key']}: {source['name']}"), (0, 0, 0, 1)))
        out.print(f"   {source['url']}", soft_wrap=True, markup=False, highlight=False)


def sources_legend() -> dict[str, Any]:
    try:
        return load_sources()
    except CatalogError as error:
        fail(str(error), code=1)


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
        ("Figures", [f"{f.value}: {f.measures} (per {f.source})" for f in p.figures]),
    ]
    if p.anti_pattern is not None:
        sections += [("Symptoms", p.anti_pattern.symptoms), ("Causes", p.anti_pattern.causes),
                     ("Fixed by", p.anti_pattern.fixed_by)]
    for title, items in sections:
        if items:
            out.print(f"\n[bold]{title}[/]")
            out.print(grid([[" •", item] for item in items]))
    # One row per force: a row's first cell names its block on a narrow terminal, so a
    # single wide row lost the first force's name there ("medium" alone).
    forces = p.forces.model_dump(mode="json", exclude={"notes"})
    table("\nForces", ["force", "level"], [[name, level] for name, level in forces.items()])
    if p.forces.notes:
        out.print(escape(p.forces.notes))
    table("\nRelations (both directions)", ["id", "kind", "name", "why"], relations)
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
    if not text.strip():
        fail('the search text is empty; give words, a name or an alias, e.g. "breaker"')
    hits = search(get_catalog(), text, limit)
    if not hits and not terms(text):
        fail(f"the search text {text!r} has only common words; give words, a name or an "
             'alias, e.g. "breaker"')
    if as_json:
        emit_json([asdict(hit) for hit in hits])
        return
    matches = [h for h in hits if not h.related]
    related = [h for h in hits if h.related]
    columns = ["id", "name", "score", "matched"]
    table(f"{len(matches)} matches for {text!r}",
          columns, [[h.id, h.name, f"{h.score:.2f}", h.matched] for h in matches])
    if related:  # as the studio lists them: after the matches, not counted among them
        table(f"\n{len(related)} related: they fix an anti-pattern that matches",
              columns, [[h.id, h.name, f"{h.score:.2f}", h.matched] for h in related])


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
    every: Annotated[bool, typer.Option(
        "--all", help="Every pattern of the level in prerequisite order, not the curriculum.")]
    = False,
    as_json: JsonFlag = False,
) -> None:
    """A learning path: the level's core patterns, prerequisites first, and its pitfalls."""
    catalog = get_catalog()
    if every:
        steps = learning_path(catalog, level)
        if as_json:
            emit_json([asdict(step) for step in steps])
            return
        rows = [[f"{n}. {s.id}", s.name, s.level.value, "prerequisite" if s.prerequisite else ""]
                for n, s in enumerate(steps, 1)]
        table(f"every {level.value} pattern", ["#. id", "name", "level", "role"], rows)
        return
    course = curricula(catalog)[level]
    if as_json:
        emit_json(asdict(course))
        return
    if course.builds_on:
        out.print(f"Builds on (taught by an easier path): {escape(', '.join(course.builds_on))}")
    rows = [[f"{n}. {s.id}", s.family, s.why, ", ".join(s.requires) or "—"]
            for n, s in enumerate(course.lessons, 1)]
    table(f"{level.value} path: {len(course.lessons)} patterns in order",
          ["#. id", "family", "why here", "after"], rows)
    if course.anti_patterns:
        table("Anti-patterns to recognise at this level", ["id", "name", "fixed by (taught)"],
              [[a.id, a.name, ", ".join(a.fixed_by) or "—"] for a in course.anti_patterns])
    out.print(f"More: scalesim patterns path {level.value} --all; "
              "scalesim patterns show ID")


@patterns_app.command()
def problems(
    family: Annotated[str | None, typer.Argument(
        help=f"One family: {', '.join(FAMILIES)}.", show_default=False)] = None,
    limit: Annotated[int, typer.Option(min=1, help="Patterns per cell in the table.")] = 8,
    as_json: JsonFlag = False,
) -> None:
    """The problem–solution matrix: for each problem family, the patterns whose main problem
    it is (primary) and those that also help (supporting), most central first."""
    matrix = problem_matrix(get_catalog())
    if family is not None:
        if family not in matrix:
            hint = did_you_mean(family, matrix)
            fail(f"unknown family {family!r}" + (f"; did you mean {hint!r}?" if hint else "")
                 + f" (families: {', '.join(matrix)})")
        matrix = {family: matrix[family]}
    if as_json:
        emit_json({f: asdict(group) for f, group in matrix.items()})
        return

    def cell(ids: list[str]) -> str:
        more = f" … +{len(ids) - limit}" if len(ids) > limit else ""
        return ", ".join(ids[:limit]) + more

    rows = [[f, ", ".join(p.value for p in FAMILIES[f]), cell(g.primary), cell(g.supporting)]
            for f, g in matrix.items()]
    table("Problem–solution matrix", ["family", "problems", "primary", "supporting"], rows)
    out.print("All of a family: scalesim patterns problems FAMILY --json")


@patterns_app.command()
def cards(
    goal: Annotated[str | None, typer.Argument(
        help="high-availability, scalability, consistency, low-latency or migration.",
        show_default=False)] = None,
    as_json: JsonFlag = False,
) -> None:
    """Quick reference cards: for a goal, the patterns to apply in order, one line each."""
    try:
        deck = load_cards()
    except CatalogError as error:
        fail(str(error), code=1)
    if goal is not None:
        if goal not in deck:
            hint = did_you_mean(goal, deck)
            fail(f"no card {goal!r}" + (f"; did you mean {hint!r}?" if hint else "")
                 + f" (cards: {', '.join(deck)})")
        deck = {goal: deck[goal]}
    if as_json:
        emit_json({g: card.model_dump(mode="json") for g, card in deck.items()})
        return
    for g, card in deck.items():
        out.print(f"\n[bold]{escape(card.title)}[/] ({g}) — {escape(card.summary)}")
        out.print(grid([[f" {n}.", step.id, step.line] for n, step in enumerate(card.steps, 1)]))


@patterns_app.command()
def conflicts(
    pattern: Annotated[str | None, typer.Argument(help="Only those involving this pattern.",
                                                  show_default=False)] = None,
    anti: Annotated[bool, typer.Option(
        "--anti-patterns", help="Also anti-patterns against the patterns that cure them.")]
    = False,
    as_json: JsonFlag = False,
) -> None:
    """Combinations to avoid: patterns that work against each other, and why."""
    catalog = get_catalog()
    edges = combinations_to_avoid(catalog, anti_patterns=anti or pattern is not None)
    if pattern is not None:
        pid = lookup(catalog, pattern).id
        edges = [e for e in edges if pid in (e.source, e.target)]
    if as_json:
        emit_json([{"a": e.source, "b": e.target, "reason": e.reason} for e in edges])
        return
    table(f"{len(edges)} combinations to avoid", ["pattern", "with", "why"],
          [[e.source, e.target, e.reason or ""] for e in edges])


@patterns_app.command("sources")
def sources_command(as_json: JsonFlag = False) -> None:
    """The legend of source keys: each public catalog, with a link."""
    legend = sources_legend()
    counts: dict[str, int] = {}
    for p in get_catalog():
        for key in p.sources:
            counts[key] = counts.get(key, 0) + 1
    if as_json:
        emit_json({key: {**src.model_dump(exclude_none=True), "patterns": counts.get(key, 0)}
                   for key, src in legend.items()})
        return
    table("Sources", ["key", "name", "link", "patterns"],
          [[key, src.name, src.url, str(counts.get(key, 0))] for key, src in legend.items()])


@patterns_app.command()
def matrix(
    category: Annotated[Category | None, typer.Option(help="Only this category.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Complexity by learning level, effort by maintenance, and the selection matrix."""
    catalog = Catalog(select(get_catalog(), category=category))
    cells = complexity_matrix(catalog)
    effort = effort_matrix(catalog)
    rows = selection_matrix(catalog)
    if as_json:
        emit_json({"complexity": cells, "effort": effort,
                   "selection": [asdict(row) for row in rows]})
        return

    levels = [lvl.value for lvl in LearningLevel]
    table("Complexity × learning level (pattern counts)", ["complexity", *levels],
          [[c, *(str(len(by_level[lvl])) for lvl in levels)] for c, by_level in cells.items()])
    out.print("\n[bold]Patterns in each cell[/], by effort to implement / maintenance")
    for c, by_level in cells.items():
        for lvl in levels:
            if by_level[lvl]:
                out.print(f"[bold]{c} complexity, {lvl}[/] ({len(by_level[lvl])})")
                by_effort: dict[str, list[str]] = {}
                for pid in by_level[lvl]:
                    effort_of = catalog[pid].effort
                    key = f"{effort_of.implement.value}/{effort_of.maintenance.value}"
                    by_effort.setdefault(key, []).append(pid)
                for key, ids in by_effort.items():
                    line = Text(f"{key}: ", style="dim")
                    line.append(", ".join(ids), style="")
                    out.print(Padding(line, (0, 0, 0, 2)))
    burdens = list(next(iter(effort.values())))
    table("Effort to implement × maintenance (pattern counts)", ["implement", *burdens],
          [[e, *(str(len(ids)) for ids in by.values())] for e, by in effort.items()])
    table("Selection matrix",
          ["id", "consistency", "latency", "complexity", "effort", "maintenance", "use when"],
          [[r.id, r.consistency, r.latency, r.complexity, r.effort, r.maintenance, r.use_when]
           for r in rows])


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
    try:
        check_file(output)
    except OutputError as error:
        fail(str(error))
    catalog = get_catalog()
    focus = None if pattern is None else lookup(catalog, pattern).id
    drawn = subgraph(catalog, focus, depth)
    try:
        write_file(output, render(drawn))
    except graphviz.GraphvizError as error:
        fail(str(error), code=1)
    except OutputError as error:  # it names the path
        fail(str(error))
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
    text: Annotated[str | None, typer.Argument(
        help="Describe the problem in your own words, e.g. \"my service times out under "
        "load\".", show_default=False)] = None,
    spec: Annotated[Path | None, typer.Option(
        "--spec", help="Review this system spec: its offered load and lint findings, and "
        "the patterns that answer them.", show_default=False)] = None,
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
    scale: Annotated[str | None, _shortcut("scale")] = None,
    team: Annotated[str | None, _shortcut("team")] = None,
    pain: Annotated[str | None, _shortcut("pain")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Recommend patterns: from a description in your own words, from a spec's own numbers
    (--spec), or by walking a decision tree (unanswered questions are asked on a TTY)."""
    shortcuts = {"consistency": consistency, "transactions": transactions, "audience": audience,
                 "ordering": ordering, "delivery": delivery, "dependency": dependency,
                 "workload": workload, "risk": risk, "scale": scale, "team": team,
                 "pain": pain}
    answers = parse_answers(answer or [])
    for key, value in shortcuts.items():
        if value is not None and answers.setdefault(key, value) != value:
            fail(f"--{key} {value} contradicts --answer {key}={answers[key]}")
    if (text is not None) + (spec is not None) + bool(tree or answers) > 1:
        fail("give one of: a description, --spec FILE, or --tree/--answer")
    if text is not None:
        advise_from_text(text, as_json)
        return
    if spec is not None:
        advise_from_spec(spec, as_json)
        return
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


def advise_from_text(text: str, as_json: bool) -> None:
    if not text.strip():
        fail("the description is empty; say what goes wrong, e.g. \"checkout is slow\"")
    try:
        trees = load_trees()
    except CatalogError as error:
        fail(str(error), code=1)
    advice = advise_text(get_catalog(), trees, text)
    if as_json:
        emit_json(advice.to_dict())
        return
    print_text_advice(advice)


def print_text_advice(advice: TextAdvice) -> None:
    searched = ", ".join(
        t + (f" (for '{advice.synonyms[t]}')" if t in advice.synonyms else "")
        + ("" if w == 1.0 else f" ×{w:g}") for t, w in advice.terms.items())
    out.print(f"[dim]Searched for: {escape(searched) or 'nothing (only common words)'}[/]")
    if advice.ruled_out:
        out.print(f"[dim]Ruled out by the description's own words: "
                  f"{escape(', '.join(advice.ruled_out))}[/]")
    if not advice.suggestions:
        out.print(("Nothing else in the catalog matches" if advice.ruled_out else
                   "Nothing in the catalog matches")
                  + "; try other words, or scalesim advise --tree existing-system")
        return
    if advice.families:
        out.print("Problem families: " + ", ".join(
            f"{f} {share:.0%}" for f, share in advice.families.items()))
    if advice.diagnoses:
        out.print("\n[bold]This sounds like[/]")
        out.print(grid([[f" {d.id}", f"{d.symptom} (fixed by {', '.join(d.fixed_by)})"]
                        for d in advice.diagnoses]))
    table("\nRecommended", ["#", "id", "why", "summary"],
          [[str(n), s.id, "; ".join(s.why), s.summary]
           for n, s in enumerate(advice.suggestions, 1)])
    if advice.questions:
        out.print("\n[bold]Questions that would sharpen this[/]")
        layout = Table.grid(padding=(0, 1))  # wrapped lines stay under their own text
        for q in advice.questions:
            choices = ", ".join(f"{v} ({label})" for v, label in q.choices.items())
            layout.add_row(" •", Text(f"{q.question} {choices}"))
            layout.add_row("", Text(q.command, style="dim"))
        out.print(layout)
    out.print("Details: scalesim patterns show ID")


def advise_from_spec(file: Path, as_json: bool) -> None:
    try:
        system, findings = load_and_lint(file)
    except SpecError as error:
        exit_bad_spec(error)
    except RuleError as error:  # exit 2 as `scalesim lint` (docs/cli.md)
        fail(printable(str(error)))
    result = review(system, findings, validates(file))
    present = implemented(system)
    changes = [c for c in result.changes if c.id not in present]
    reconfigure = to_reconfigure(findings, present)
    if as_json:
        emit_json(spec_advice_json(result.to_json(), changes, reconfigure, present))
        return
    table(f"Load of {system.name} as lint judges it (no queueing): sustained = each "
          "workload's last rate, peak = its highest",
          ["component", "req/s sustained", "req/s peak", "hold ms", "ρ sustained", "ρ peak",
           f"smallest change for ρ ≤ {LintConfig().utilization:g} (sustained / peak)"],
          [load_row(name, pair) for name, pair in result.loads.items()])
    if not findings:
        out.print("[green]lint finds nothing to change[/]; simulate it to see the tails: "
                  f"scalesim simulate {escape(str(file))}")
        return
    out.print("\n[bold]What to change[/] [dim](lint judges capacity at the sustained load)[/]")
    for f in findings:
        out.print(f" • [{'red' if f.severity is Severity.ERROR else 'yellow'}]{f.rule}[/] "
                  f"{escape(f.location)}: {escape(f.message)}")
    if changes:
        change_table("\nPatterns that answer the most findings", "because", changes[:8])
    else:
        out.print("\nNo pattern to add: every pattern the findings name is in the design")
    if reconfigure:
        change_table("\nIn the design, to change where the findings point", "change",
                     reconfigure)
    done = present - {c.id for c in reconfigure}
    if done:
        out.print(f"[dim]Already in the design, so not recommended: "
                  f"{escape(', '.join(sorted(done)))}[/]")
    out.print("Details: scalesim patterns show ID; every rule: scalesim lint --help, "
              "docs/lint.md")


def change_table(title: str, column: str, changes: list[Change]) -> None:
    """Patterns with their weight and the findings (rule and path) behind each."""
    catalog = get_catalog()
    table(title, ["id", "name", "weight", column],
          [[c.id, catalog[c.id].name if c.id in catalog else c.id, str(c.weight),
            ", ".join(c.because[:4]) + (" …" if len(c.because) > 4 else "")]
           for c in changes])


def validates(file: Path) -> Validates:
    """Whether the spec in `file` validates with `--set` overrides, as `validate --set`
    judges it: a change the review proposes must. Read once; each answer is kept."""
    text = read_spec_file(file)

    @functools.cache
    def check(overrides: tuple[str, ...]) -> bool:
        try:
            load_spec_text(text, str(file), overrides)
        except SpecError:
            return False
        return True

    return lambda overrides: check(tuple(overrides))


def load_row(name: str, pair: tuple[Sized, Sized]) -> list[str]:
    """A component's rates, hold, ρ and smallest changes, sustained and at the peak."""
    steady, peak = pair
    held = peak.load or steady.load
    return [name, *(f"{sized.rate_rps:,.4g}" for sized in pair),
            "—" if held is None else f"{held.hold_s * 1000:.3g}",
            *("—" if sized.load is None else f"{sized.load.rho:.2f}" for sized in pair),
            "—" if steady.change is None and peak.change is None
            else f"{steady.change or '—'} / {peak.change or '—'}"]


def spec_advice_json(data: dict[str, Any], changes: list[Change], reconfigure: list[Change],
                     present: set[str]) -> dict[str, Any]:
    """The review as JSON: components at the peak with their sustained load beside, the
    changes without the patterns the spec already implements, those of them the findings
    point into (to change), and the patterns the spec implements."""
    data["changes"] = [{"id": c.id, "weight": c.weight, "because": c.because}
                       for c in changes]
    data["reconfigure"] = [{"id": c.id, "weight": c.weight, "because": c.because}
                           for c in reconfigure]
    data["implemented"] = sorted(present)
    return data


def show_tree(tree: DecisionTree, as_json: bool) -> None:
    """The whole decision tree: each question, its answers and what each recommends."""
    if as_json:
        emit_json(tree.model_dump(mode="json", exclude_none=True))
        return
    out.print(f"[bold]{escape(tree.title)}[/] ({tree.id}): {escape(tree.summary)}",
              highlight=False)

    def walk(question: Question, depth: int) -> None:
        # Padding, not leading spaces, so a wrapped line keeps the indent of its first
        pad = 2 * depth
        out.print(Padding(Text.from_markup(f"[bold]{escape(question.text)}[/] [dim](--answer "
                                           f"{question.key}=VALUE)[/]"), (0, 0, 0, pad)))
        for value, choice in question.choices.items():
            recommends = ", ".join(rec.id for rec in choice.recommend)
            out.print(Padding(Text(f"{value}: {choice.label}"
                                   + (f" → {recommends}" if recommends else "")),
                              (0, 0, 0, pad + 2)))
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
