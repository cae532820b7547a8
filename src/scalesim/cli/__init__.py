"""The `scalesim` command line: thin commands over the package API.

Each command's module is imported only when that command runs (numpy, pydantic models,
jinja2 and the catalog cost most of a second to import), so `scalesim --help` and quick
commands start at once; the listing below carries each command's one-line help.
"""

from __future__ import annotations

import errno
import importlib
import os
import re
import sys
from typing import Any, Literal

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from scalesim import __version__

# Help text is re-flowed (no hard line breaks from the docstrings); `code` shows as code.
MARKUP: Literal["markdown"] = "markdown"

# name: (module under scalesim.cli, attribute: a command function or a Typer group, help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "validate": ("run", "validate_command",
                 "Check a spec; print every error as FILE:LINE:COL: path: message (exit 2)."),
    "simulate": ("run", "simulate_command",
                 "Simulate a system and print what happened, what is wrong and what to change."),
    "estimate": ("estimate", "estimate_command",
                 "Estimate load, latency, saturation and SLO headroom instantly with queueing "
                 "formulas, and say where a simulation is needed."),
    "sweep": ("sweep", "sweep_command",
              "Simulate a grid of variants of one spec (e.g. the rate from 100/s to 2000/s) and "
              "show how latency, goodput and errors change; the knee is marked."),
    "plan": ("plan", "plan_command",
             "Find the cheapest configuration of the varied fields (replicas, workers…) that "
             "meets the SLO at the given load: estimated first, confirmed by simulation."),
    "schema": ("run", "schema_command",
               "Print the JSON Schema of the spec (for editors: `# yaml-language-server: "
               "$schema=`)."),
    "templates": ("templates", "templates_app",
                  "Browse the templates `scalesim new` builds specs from."),
    "new": ("templates", "new_command",
            "Write a commented, valid system spec from a template; it is yours to edit."),
    "patterns": ("patterns", "patterns_app",
                 "Browse, search and relate the distributed-systems pattern catalog."),
    "advise": ("patterns", "advise_command",
              "Recommend patterns: from a description in your own words, from a spec's own "
              "numbers (--spec), or by walking a decision tree (unanswered questions are asked "
              "on a TTY)."),
    "lint": ("lint", "lint_command",
            "Find distributed-systems anti-patterns in a spec, each with the patterns that "
            "fix it."),
    "generate": ("generate", "generate_command",
                 "Generate deployment files into DIR; refuse to overwrite files ScaleSim did not "
                 "write."),
    "import": ("importing", "import_app",
              "Make a spec from a Compose file, Kubernetes manifests or a Helm chart "
              "(docs/import.md)."),
    "diagram": ("render", "diagram_command",
                "Draw the architecture, a sampled request's sequence, or the circuit breakers' "
                "state machines."),
    "report": ("render", "report_command",
               "Write one self-contained HTML report (works offline)."),
    "compare": ("render", "compare_command",
                "Compare two designs side by side, with a verdict."),
    "calibrate": ("calibrate", "calibrate_command",
                  "Fit a spec to the real system: traces (OTLP, Jaeger) and load-test results "
                  "(docs/cli.md)."),
    "export": ("render", "export_command",
               "Export traces (OTLP, Jaeger) or metrics (Prometheus, OpenMetrics, Parquet, CSV)."),
    "studio": ("studio", "studio_command",
              "Start ScaleSim Studio: gallery, canvas editor, simulation with replay, compare, "
              "generate and history in the browser."),
}


def load_command(name: str) -> Any:
    """The command function or Typer group registered as `name` (imports its module)."""
    module, attribute, _ = COMMANDS[name]
    return getattr(importlib.import_module(f"scalesim.cli.{module}"), attribute)


def click_command(name: str) -> Any:
    target = load_command(name)
    if isinstance(target, typer.Typer):
        group = typer.main.get_group(target)
        group.name = name
        return group
    single = typer.Typer(rich_markup_mode=MARKUP, add_completion=False)
    single.command(name)(target)
    return typer.main.get_command(single)


class LazyGroup(TyperGroup):
    """Lists every command from COMMANDS without importing it; imports one to run it."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.listing = False
        for name, (_, _, help_text) in COMMANDS.items():
            self.commands[name] = TyperCommand(name=name, help=help_text)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        stub = self.commands.get(cmd_name)
        if stub is None or self.listing:
            return stub
        command = click_command(cmd_name)
        self.commands[cmd_name] = command
        return command


def _flags_take_no_value(option: TyperOption, ctx: Any) -> str | None:
    """No `<bool>` after a flag in help: a flag takes no value."""
    if option.is_flag:
        return None
    return _value_type(option, ctx)


def _value_type(parameter: TyperOption | TyperArgument, ctx: Any) -> str:
    """The type of one value, `<path>` not Typer's `<list[Path]>`: a repeatable option or
    an argument of several values takes them one at a time (its help says it repeats)."""
    shown = parameter.display_type(ctx)
    one = re.fullmatch(r"<list\[(.*)\]>", shown)
    return shown if one is None else f"<{one.group(1)}>".replace("<Path>", "<path>")


def _usage_name(argument: TyperArgument) -> str:
    """An argument in the usage line as click writes it (`FILE`, `[TEXT]`,
    `[TEMPLATE_IDS]...`), not Typer's `{file}`."""
    name = argument.metavar or argument.name.upper()
    name = name if argument.required else f"[{name}]"
    return name if argument.nargs == 1 else f"{name}..."


TyperOption.display_type_rich = _flags_take_no_value  # type: ignore[method-assign,assignment]
TyperArgument.display_type_rich = _value_type  # type: ignore[method-assign,assignment]
TyperArgument._usage_display_name = _usage_name  # type: ignore[method-assign,assignment]

app = typer.Typer(
    name="scalesim",
    cls=LazyGroup,
    help="Simulate distributed-systems designs before you deploy them.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=MARKUP,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"scalesim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """Simulate distributed-systems designs before you deploy them."""


def main() -> None:
    """Run the command; an output that cannot be written (a full disk, a closed terminal)
    ends it with one line and exit 1, not a traceback; Ctrl-C or SIGTERM with one line and
    exit 130 or 143."""
    from scalesim.interrupt import Interrupted, install

    install()
    try:
        try:
            app()
        finally:
            sys.stdout.flush()  # here, where a failure can still be reported
    except Interrupted as interrupt:
        from scalesim.cli.outputs import written_so_far

        sys.stderr.write(f"scalesim: interrupted ({interrupt}): {written_so_far()}\n")
        raise SystemExit(128 + interrupt.signum) from None
    except OSError as error:
        if error.errno == errno.EPIPE:  # the reader went away (`| head`): nothing to say
            raise SystemExit(0) from None
        # Python flushes stdout again at exit: give it somewhere to go.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.stderr.write(f"scalesim: cannot write the output: {error.strerror or error}\n")
        raise SystemExit(1) from None
