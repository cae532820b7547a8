"""`scalesim lint FILE`: thin command over `scalesim.lint`; the main app registers it with
`app.command("lint")(lint_command)`."""

import json
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from scalesim.cli.run import exit_bad_spec, stdout_console
from scalesim.lint import Finding, LintConfig, Severity, lint_file
from scalesim.lint.sarif import to_sarif
from scalesim.spec import SpecError
from scalesim.spec.errors import printable

COLOURS = {Severity.INFO: "cyan", Severity.WARNING: "yellow", Severity.ERROR: "red"}


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"


def lint_command(
    file: Annotated[Path, typer.Argument(help="The system spec (YAML) to check.")],
    output: Annotated[Format, typer.Option(
        "--format", help="table for people; json (sorted keys) or sarif (SARIF 2.1.0, for CI "
        "code scanning) for machines.")] = Format.TABLE,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Same as --format json.")] = False,
    fail_on: Annotated[Severity, typer.Option(
        help="Exit 1 when a finding is at least this severe.")] = Severity.ERROR,
    max_depth: Annotated[int, typer.Option(
        min=1, help="Synchronous hops a chain may have before SS101 reports it.")] = 3,
    max_calls: Annotated[int, typer.Option(
        min=1, help="Calls per request from one operation to one component at which "
        "SS104 reports.")] = 3,
    utilization: Annotated[float, typer.Option(
        min=0.01, max=1.0, help="Offered load ρ at which SS502 warns (SS501 is ρ ≥ 1).")]
    = 0.8,
    ignore: Annotated[list[str] | None, typer.Option(
        help="Skip a rule, by id (SS101) or name (deep-sync-chain); repeatable.")] = None,
) -> None:
    """Find distributed-systems anti-patterns in a spec, each with the patterns that fix it.

    Exit 0 when nothing reaches --fail-on, 1 when something does, 2 for a bad spec.
    """
    config = LintConfig(max_depth=max_depth, max_calls=max_calls, utilization=utilization,
                        ignore=frozenset(ignore or ()))
    try:
        findings = lint_file(file, config)
    except SpecError as error:
        exit_bad_spec(error)
    except ValueError as error:
        typer.echo(f"error: {printable(str(error))}", err=True)
        raise typer.Exit(2) from None
    if as_json or output is Format.JSON:
        typer.echo(json.dumps([f.to_json() for f in findings], sort_keys=True, indent=2))
    elif output is Format.SARIF:
        typer.echo(json.dumps(to_sarif(findings), sort_keys=True, indent=2))
    else:
        show(findings)
    if any(f.severity.rank >= fail_on.rank for f in findings):
        raise typer.Exit(1)


def show(findings: list[Finding]) -> None:
    """A table for people: one row per finding, severity in colour, then a count."""
    if not findings:
        stdout_console().print("[green]no findings[/]")
        return
    table = Table(show_lines=True, expand=True)
    table.add_column("rule", ratio=2, overflow="fold")
    table.add_column("severity")
    table.add_column("location", ratio=2, overflow="fold")
    table.add_column("finding", ratio=5)
    table.add_column("fix with", ratio=2, overflow="fold")
    for f in findings:
        colour = COLOURS[f.severity]
        table.add_row(f"{f.rule}\n{f.name}", f"[{colour}]{f.severity}[/]",
                      f"{escape(f.location)}\n[dim]{escape(f.path)}[/]",
                      f"{escape(f.message)}\n[dim]why: {escape(f.why)}[/]",
                      escape("\n".join(f.fixes)))
    out = stdout_console()
    out.print(table)
    counts = Counter(f.severity for f in findings)
    out.print(", ".join(f"[{COLOURS[s]}]{counts[s]} {s}[/]"
                        for s in reversed(Severity) if counts[s]))
