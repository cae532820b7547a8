"""`scalesim templates list|show` and `scalesim new`: thin commands over `scalesim.templates`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from scalesim.cli import MARKUP
from scalesim.cli.outputs import OutputError, check_file, write_file
from scalesim.cli.run import seed_option

if TYPE_CHECKING:
    from collections.abc import Sequence

    from scalesim.templates import Check, Template

EXIT_BAD_INPUT = 2
SCHEMA_FILE = "spec.schema.json"
SCHEMA_LINE = f"# yaml-language-server: $schema={SCHEMA_FILE}\n"

templates_app = typer.Typer(
    help="Browse the templates `scalesim new` builds specs from.", no_args_is_help=True,
    rich_markup_mode=MARKUP)
out = Console()
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON (sorted keys) for machines.")]
TemplateArg = Annotated[str, typer.Argument(help="Template id, e.g. circuit-breaker.",
                                            show_default=False)]


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    err.print(f"[red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def lookup(template_id: str) -> Template[Any]:
    from scalesim.templates import UnknownTemplateError, get_template

    try:
        return get_template(template_id)
    except UnknownTemplateError as error:
        fail(str(error))


def emit_json(data: object) -> None:
    typer.echo(json.dumps(data, sort_keys=True, indent=2))


def canonical_pattern(key: str) -> str:
    """A pattern id or alias as the catalog's id (exit 2 when the catalog has no such one)."""
    from scalesim.catalog import CatalogError, UnknownPatternError, load_catalog

    try:
        return load_catalog()[key].id
    except UnknownPatternError as error:
        fail(str(error))
    except CatalogError as error:
        fail(str(error), code=1)


@templates_app.command("list")
def list_templates(
    pattern: Annotated[str | None, typer.Option(
        help="Only templates demonstrating this catalog pattern (id or alias).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List the templates, optionally those for one catalog pattern."""
    from scalesim.templates import TEMPLATES, get_template, templates_for_pattern
    from scalesim.templates.describe import brief

    pattern_id = None if pattern is None else canonical_pattern(pattern)
    chosen = (TEMPLATES if pattern_id is None else
              tuple(get_template(i) for i in templates_for_pattern(pattern_id)))
    if pattern_id is not None and not chosen:  # on stderr with --json: stdout stays `[]`
        (err if as_json else out).print(no_template_hint(pattern_id), highlight=False,
                                        soft_wrap=True)
    if as_json:
        emit_json([brief(t) for t in chosen])
        return
    if not chosen:
        return
    from scalesim.cli.run import stdout_console
    from scalesim.render.layout import Column, fitted

    console = stdout_console()
    count = f"{len(chosen)} template{'' if len(chosen) == 1 else 's'}"
    console.print(fitted(f"{count} (scalesim templates show ID; scalesim new ID -o FILE)",
                         [Column("id", right=False), Column("title", right=False),
                          Column("patterns", right=False)],
                         [[t.id, t.title, ", ".join(t.patterns)] for t in chosen],
                         console.width))


def no_template_hint(pattern_id: str) -> str:
    """Where to go when no template demonstrates a pattern: the templates of the patterns
    linked to it, else the whole list, so an empty answer is never a dead end."""
    from scalesim.catalog import load_catalog
    from scalesim.catalog.graph import related
    from scalesim.templates import TEMPLATES, templates_for_pattern

    near = sorted({t for r in related(load_catalog(), pattern_id)
                   for t in templates_for_pattern(r.id)})
    where = (f"templates for related patterns: {', '.join(near)}" if near else
             f"`scalesim templates list` shows all {len(TEMPLATES)}")
    return f"No template demonstrates {pattern_id}; {where}."


@templates_app.command()
def show(template_id: TemplateArg, as_json: JsonFlag = False) -> None:
    """Show a template: parameters, what it demonstrates, its scenario and expected outcome."""
    from scalesim.templates.base import _show as value_text  # as the spec's header writes it
    from scalesim.templates.describe import details

    shown = details(lookup(template_id))
    if as_json:
        emit_json(shown)
        return
    out.print(f"[bold]{escape(shown['title'])}[/] ({shown['id']}, v{shown['version']})")
    out.print(escape(shown["summary"]), highlight=False)
    out.print(f"[bold]Patterns:[/] {escape(', '.join(shown['patterns']))}")
    params = Table(title="Parameters (scalesim new ID --set NAME=VALUE)", title_justify="left")
    for column in ("name", "default", "allowed", "help"):
        params.add_column(column)
    for p in shown["parameters"]:
        params.add_row(escape(p["name"]), escape(value_text(p["default"])),
                       escape(p["allowed"]), escape(p["help"]))
    out.print(params)
    out.print(f"[bold]Scenario:[/] {escape(shown['scenario'])}", highlight=False)
    out.print("[bold]Expected at the defaults:[/]")
    for expected in shown["expected"]:
        out.print(f"  • {escape(expected['text'])} — {escape(expected['why'])}",
                  highlight=False)
    out.print("[bold]Assumptions:[/]")
    for assumption in shown["assumptions"]:
        out.print(f"  • {escape(assumption)}", highlight=False)


def new_command(
    template_id: TemplateArg,
    settings: Annotated[list[str] | None, typer.Option(
        "--set", metavar="NAME=VALUE",
        help="Set a template parameter, e.g. replicas=4 (repeatable); "
             "`scalesim templates show ID` lists them.")] = None,
    output: Annotated[Path | None, typer.Option(
        "-o", "--out", "--output", help="Write the spec here (default: print it), with the "
        f"spec's JSON Schema beside it as {SCHEMA_FILE} for editors.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")]
    = False,
) -> None:
    """Write a commented, valid system spec from a template; it is yours to edit."""
    from scalesim.spec import SpecError, load_spec_text
    from scalesim.templates import ParamError
    from scalesim.templates.params import parse_assignments

    template = lookup(template_id)
    try:
        built = template.build(parse_assignments(settings or []))
    except ParamError as error:
        fail("\n".join(f"{template.id}: {problem}" for problem in error.problems))
    except ValueError as error:  # a malformed --set
        fail(str(error))
    try:
        load_spec_text(built.text, f"{template.id}.yaml")
    except SpecError as error:  # a template bug, not the user's
        fail(f"template {template.id} built an invalid spec:\n{error}", code=1)
    text = SCHEMA_LINE + built.text
    if output is None:
        typer.echo(text, nl=False)
        return
    if output.is_dir():
        fail(f"{output} is a folder: give the spec's file name, e.g. {output / 'system.yaml'}")
    if output.exists() and not force:
        fail(f"{output} exists; use --force to overwrite it")
    schema = output.parent / SCHEMA_FILE
    try:
        check_file(output)
        # the schema beside it first: when it cannot be written, no spec is left behind
        # that a second try would then need --force for
        if not schema.exists():
            from scalesim.spec.schema import spec_json_schema

            check_file(schema)
            write_file(schema, json.dumps(spec_json_schema(), indent=2, sort_keys=True) + "\n")
        write_file(output, text)
    except OutputError as error:  # it names the path
        fail(str(error))
    # One message per line, never wrapped: the command must stay copyable.
    err.print(f"[green]wrote[/] {escape(str(output))} from {template.id} "
              f"(template v{template.version})", highlight=False, soft_wrap=True)
    err.print(f"next: scalesim simulate {escape(str(output))}", highlight=False,
              soft_wrap=True)


def measured_text(value: float) -> str:
    """Up to 4 significant digits, and the whole number from 10,000 up: 3.171, 2968, 51210
    (.4g printed 5.121e+04 beside an expectation written 50176)."""
    return f"{value:.0f}" if abs(value) >= 1e4 else f"{value:.4g}"


def print_checks(checks: list[Check], edited: bool = False) -> None:
    """Each check as pass or FAIL; on a spec `edited` away from the template's design a
    miss may be the change at work, so it reads `miss`, not a red FAIL (as in the Studio)."""
    missed = "[yellow]miss[/]" if edited else "[red]FAIL[/]"
    for check in checks:
        verdict = "[green]pass[/]" if check.met else missed
        actual = "missing" if check.actual is None else measured_text(check.actual)
        out.print(f"  {verdict} {escape(str(check.expect))}: measured {actual} — "
                  f"{escape(check.expect.why)}", highlight=False)


@templates_app.command()
def check(
    template_ids: Annotated[list[str] | None, typer.Argument(
        help="Templates to check (default: all).", show_default=False)] = None,
    quick: Annotated[bool, typer.Option(
        "--quick", help="Shortened runs (the scenario's own overrides; faults move with "
        "the duration), as the test suite runs them.")] = False,
    seed: Annotated[int | None, seed_option("Override simulation.seed.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Run each template's scenario and show every expectation as pass or fail with the
    measured value. Exit 1 when one fails."""
    from scalesim.templates import TEMPLATES, run_scenario

    chosen = [lookup(t) for t in template_ids] if template_ids else list(TEMPLATES)
    report = []
    for template in chosen:
        run = run_scenario(template, quick=quick, seed=seed)
        report.append({"template": template.id, "version": template.version,
                       "met": run.met, "checks": [c.to_json() for c in run.checks]})
        if not as_json:
            met = sum(c.met for c in run.checks)
            colour = "green" if run.met else "red"
            out.print(f"[bold]{template.id}[/] v{template.version}"
                      f"{' (quick)' if quick else ''}: [{colour}]{met}/{len(run.checks)} "
                      "met[/]", highlight=False)
            print_checks(run.checks)
    if as_json:
        emit_json(report)
    if not all(entry["met"] for entry in report):
        raise typer.Exit(1)


def print_template_checks(file: Path, result: dict[str, Any],
                          overrides: Sequence[str] = ()) -> None:
    """After `simulate`: when the spec was built by `scalesim new`, its template's
    expectations for the parameters in its header, each as pass or fail; the spec is
    compared with the template's as simulated (`--set` overrides applied)."""
    from scalesim.templates.check import check_against

    try:
        found = check_against(file.read_text(encoding="utf-8"), result, overrides)
    except OSError:
        return
    if found is None:
        return
    origin, checks = found
    note = ("" if origin.current else f" (the spec says v{origin.version}; the template is "
            f"now v{origin.template.version})")
    if origin.edited:
        note += (" — for the template's own design: this spec differs from it, so a miss may "
                 "be your change at work")
    out.print(f"\n[bold]Expected by template {origin.template.id}[/]{note}: "
              f"{sum(c.met for c in checks)}/{len(checks)} met", highlight=False)
    print_checks(checks, origin.edited)
