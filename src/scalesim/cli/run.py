"""`scalesim validate`, `simulate` and `schema`."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from scalesim.analytic.load import offered_load
from scalesim.cli.options import (
    Dask,
    Jobs,
    MaxReplications,
    PrecisionText,
    Replications,
    parse_precision,
    replication_override,
)
from scalesim.render.report import write_report
from scalesim.render.terminal import print_summary
from scalesim.sim import SafetyStop
from scalesim.sim.timeseries import FILES, write_csv
from scalesim.spec import SpecError, System, load_spec
from scalesim.spec.schema import spec_json_schema
from scalesim.sweep.replicate import Execution

EXIT_SLO_MISSED, EXIT_BAD_INPUT, EXIT_SAFETY_STOP = 1, 2, 3

err = Console(stderr=True)


def stdout_console() -> Console:
    """Rich output for people; piped or captured output gets a width that does not cut
    names. Made per command, so COLUMNS and redirections in effect then are honoured."""
    console = Console()
    return console if console.is_terminal or "COLUMNS" in os.environ else Console(width=140)

SpecFile = Annotated[Path, typer.Argument(help="The system spec (YAML).", show_default=False)]
Overrides = Annotated[list[str] | None, typer.Option(
    "--set", metavar="PATH=VALUE",
    help="Override a field by its dotted path, e.g. simulation.duration=30s (repeatable).")]


def simulate_or_exit(system: System, seed: int | None, with_series: bool,
                     progress: Callable[[float], None] | None = None,
                     execution: Execution | None = None) -> dict[str, Any]:
    """The result of simulating `system` (on `execution`'s workers); a safety stop is
    reported and exits with 3."""
    try:
        return (execution or Execution(jobs=1)).simulate(system, seed, with_series, progress)
    except RuntimeError as error:  # e.g. --dask without Dask installed, or unreachable
        err.print(f"[red]error[/red]: {error}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except SafetyStop as stop:
        err.print(f"[red]stopped[/red]: {stop}", highlight=False)
        raise typer.Exit(EXIT_SAFETY_STOP) from None


def exit_bad_spec(error: SpecError) -> NoReturn:
    """Print every spec problem as one plain line (never wrapped: editors parse them), exit 2."""
    for issue in error.issues:
        typer.echo(str(issue), err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def load_or_exit(file: Path, overrides: list[str] | None = None) -> System:
    try:
        return load_spec(file, overrides or [])
    except SpecError as error:
        exit_bad_spec(error)


def validate_command(file: SpecFile, overrides: Overrides = None) -> None:
    """Check a spec; print every error as FILE:LINE:COL: path: message (exit 2)."""
    system = load_or_exit(file, overrides)
    err.print(f"[green]ok[/green] {file}: {len(system.components)} components, "
              f"{len(system.workloads)} workloads")


def schema_command() -> None:
    """Print the JSON Schema of the spec (for editors: `# yaml-language-server: $schema=`)."""
    sys.stdout.write(json.dumps(spec_json_schema(), indent=2, sort_keys=True) + "\n")


def _warn_overload(system: System, quiet: bool) -> None:
    for name, load in offered_load(system).items():
        if load.rho >= 1.0 and not quiet:
            err.print(f"[yellow]warning[/yellow]: '{name}' is offered more than it can serve: "
                      f"ρ ≈ {load.rho:.2f} ({load.arrival_rate_rps:,.1f} rps × "
                      f"{load.hold_s * 1e3:.3g} ms per request over its workers); its queue "
                      "will grow for as long as that lasts", highlight=False)


class _LazyProgress:
    """A progress bar that appears only once a run has taken more than a second."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.monotonic()
        self.bar: Progress | None = None
        self.task: Any = None

    def __call__(self, fraction: float) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            if time.monotonic() - self.started < 1.0:
                return
            self.bar = Progress(TextColumn("simulating"), BarColumn(),
                                TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                                console=err, transient=True)
            self.bar.start()
            self.task = self.bar.add_task("run", total=1.0)
        self.bar.update(self.task, completed=fraction)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _write_outputs(directory: Path, result: dict[str, Any]) -> None:
    """Write result.json (with its time series) and the series as CSV into a temporary
    folder, then move them in place, so a failure never leaves half-written files."""
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".scalesim-") as tmp:
        staging = Path(tmp)
        (staging / "result.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n",
                                             encoding="utf-8")
        for name, filename in FILES.items():
            write_csv(staging / filename, result["timeseries"][name])
        for produced in staging.iterdir():
            shutil.move(str(produced), directory / produced.name)


def simulate_command(
    file: SpecFile,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="Write result.json and the time series as CSV here.")] = None,
    seed: Annotated[int | None, typer.Option(help="Override simulation.seed.")] = None,
    overrides: Overrides = None,
    check_slo: Annotated[bool, typer.Option(
        "--check-slo", help="Exit with code 1 when an SLO is missed.")] = False,
    report: Annotated[Path | None, typer.Option(
        "--report", help="Write a self-contained HTML report here.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No warnings or progress.")]
    = False,
    replications: Replications = None,
    jobs: Jobs = None,
    dask: Dask = None,
    precision: PrecisionText = None,
    max_replications: MaxReplications = 100,
) -> None:
    """Simulate a system and print what happened (exit 3 if a safety limit stops it)."""
    system = load_or_exit(file, [*(overrides or []), *replication_override(replications)])
    execution = Execution(jobs, dask, parse_precision(precision, max_replications))
    _warn_overload(system, quiet)
    progress = _LazyProgress(enabled=not quiet and err.is_terminal)
    try:
        result = simulate_or_exit(system, seed, with_series=out_dir is not None
                                  or report is not None, progress=progress,
                                  execution=execution)
    finally:
        progress.close()
    if out_dir is not None:
        _write_outputs(out_dir, result)
    if report is not None:
        write_report(result, system, report)
        err.print(f"wrote {report}")
    result.pop("timeseries", None)  # in result.json and the report; too long for --json
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2, sort_keys=True) + "\n")
    else:
        print_summary(result, stdout_console())
        if "precision" in result:
            reached = result["precision"]
            err.print(f"{result['replications']} replications: the 95 % CI of the mean latency "
                      f"is ±{reached['achieved']:.2%} of it (target {reached['target']:.2%}"
                      + ("" if reached["met"] else ", not reached within --max-replications")
                      + ")", highlight=False)
        if out_dir is not None:
            err.print(f"wrote {out_dir}/result.json, " + ", ".join(FILES.values()))
    if check_slo and "slo" in result and not result["slo"]["met"]:
        raise typer.Exit(EXIT_SLO_MISSED)
