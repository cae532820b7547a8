"""`scalesim lint FILE`: thin command over `scalesim.lint`; the main app registers it with
`app.command("lint")(lint_command)`."""

import json
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from scalesim.cli.run import exit_bad_spec, stdout_console
from scalesim.lint import Finding, LintConfig, RuleError, Severity, lint_file
from scalesim.lint.sarif import to_sarif
from scalesim.render.layout import indented
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

    Exit 0 when nothing reaches --fail-on, 1 when something does, 2 for a bad spec or a
    rule that fails on it (an internal error, named by the rule).
    """
    config = LintConfig(max_depth=max_depth, max_calls=max_calls, utilization=utilization,
                        ignore=frozenset(ignore or ()))
    try:
        findings = lint_file(file, config)
    except SpecError as error:
        exit_bad_spec(error)
    except (ValueError, RuleError) as error:
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
    """For people: one block per finding, the rule, severity and location on its first line,
    then the field path, what is wrong, why, and the patterns that fix it, each on its own
    lines. Rule ids and paths are never cut (`render.layout.indented`); then a count."""
    out = stdout_console()
    if not findings:
        out.print("[green]no findings[/]")
        return
    for f in findings:
        head = Text(f"{f.rule} {f.name}", style="bold")
        head.append(f"  {f.severity}", style=COLOURS[f.severity])
        head.append(f"  {f.location}")
        out.print(indented(head, 0, out.width), crop=False)
        for label, text, style in (("path", f.path, "dim"), ("", f.message, ""),
                                   ("why", f.why, "dim"), ("fix with", ", ".join(f.fixes), "")):
            line = Text(f"{label} ", style="dim") if label else Text()
            line.append(text, style=style)
            out.print(indented(line, 4, out.width), crop=False)
    counts = Counter(f.severity for f in findings)
    out.print(", ".join(f"[{COLOURS[s]}]{counts[s]} {plural(counts[s], s)}[/]"
                        for s in reversed(Severity) if counts[s]))


def plural(count: int, noun: str) -> str:
    """'1 error', '3 warnings'; 'info' is a mass noun and stays as it is."""
    return noun if count == 1 or noun == Severity.INFO else f"{noun}s"
