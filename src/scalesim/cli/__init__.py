"""The `scalesim` command line: thin commands over the package API."""

from __future__ import annotations

import typer

from scalesim import __version__
from scalesim.cli.estimate import estimate_command
from scalesim.cli.generate import generate_command
from scalesim.cli.lint import lint_command
from scalesim.cli.patterns import advise_command, patterns_app
from scalesim.cli.plan import plan_command
from scalesim.cli.render import compare_command, diagram_command, export_command, report_command
from scalesim.cli.run import schema_command, simulate_command, validate_command
from scalesim.cli.sweep import sweep_command
from scalesim.cli.templates import new_command, templates_app

app = typer.Typer(
    name="scalesim",
    help="Simulate distributed-systems designs before you deploy them.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
app.command("validate")(validate_command)
app.command("simulate")(simulate_command)
app.command("schema")(schema_command)
app.command("estimate")(estimate_command)
app.command("sweep")(sweep_command)
app.command("plan")(plan_command)
app.add_typer(templates_app, name="templates")
app.command("new")(new_command)
app.add_typer(patterns_app, name="patterns")
app.command("advise")(advise_command)
app.command("lint")(lint_command)
app.command("generate")(generate_command)
app.command("diagram")(diagram_command)
app.command("report")(report_command)
app.command("compare")(compare_command)
app.command("export")(export_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"scalesim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """Simulate distributed-systems designs before you deploy them."""


def main() -> None:
    app()
