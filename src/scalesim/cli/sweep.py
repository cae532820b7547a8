"""`scalesim sweep`: one spec, a grid of overrides, many simulations."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from scalesim.budget import BUDGET_S, Estimate, estimate_runs, human
from scalesim.cli.options import Dask, Jobs, Replications, replication_override
from scalesim.cli.outputs import (
    OutputError,
    check_folder,
    check_html,
    removed_if_left_empty,
    write_file,
    write_into,
)
from scalesim.cli.run import (
    EXIT_BAD_INPUT,
    EXIT_SAFETY_STOP,
    Force,
    Overrides,
    SpecFile,
    err,
    exit_bad_output,
    load_or_exit,
    seed_option,
    shown,
    stdout_console,
)
from scalesim.render.sweep import render_sweep_report
from scalesim.spec import SpecError, System, load_spec
from scalesim.spec.errors import shown_issues
from scalesim.spec.loader import set_sources
from scalesim.sweep.cache import PointCache, point_key
from scalesim.sweep.executor import ClusterError, executing
from scalesim.sweep.grid import Axis, GridError, Point, grid, parse_axis, set_where_varied
from scalesim.sweep.runner import PointResult, PointRun, run_points
from scalesim.sweep.table import KNEE_LABEL, document, write_tables

Vary = Annotated[list[str], typer.Option(
    "--vary", metavar="PATH=VALUES", help="A field to vary: a list (a,b,c), an integer range "
    "(1..8), N values from LO to HI (100/s..2000/s:10) or on a log scale (1ms..1000ms:7:log). "
    "Repeat for a grid.", show_default=False)]


def parse_axes(texts: list[str], sets: Sequence[str]) -> list[Axis]:
    """The `--vary` axes, checked as a grid and against the `--set` overrides `sets`; exit 2
    on a problem."""
    try:
        axes = [parse_axis(text) for text in texts]
        grid(axes)
        set_where_varied(sets, axes)
    except GridError as error:
        err.print(f"[red]error[/red]: {shown(error)}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    return axes


def check_out_folder(directory: Path) -> None:
    """`--out DIR` can hold the sweep's files and its point cache (DIR/points/)."""
    check_folder(directory)
    if (directory / "points").exists() and not (directory / "points").is_dir():
        raise OutputError(f"--out {directory}: points exists and is not a folder")


def batch_cost(systems: list[System], workers: int, names: list[str] | None = None) -> Estimate:
    """What simulating several specs is estimated to take (`scalesim.budget.estimate_runs`;
    see `refuse_over_budget`); `names` name them in a refusal of runs without a bound."""
    return estimate_runs(systems, workers, names or ())


def refuse_over_budget(what: str, cost: Estimate, remedy: str) -> None:
    """Exit 3 when `cost` is over the run budget, saying `what` (e.g. "simulating 4 points")
    costs and how to get under it (a run that runs away stops at its own safety limits)."""
    if not cost.over:
        return
    err.print("[red]refused[/red]: " + cost.batch_refusal(what, remedy,
                                                          "pass --force to run it anyway")
              + _in_seconds(cost), highlight=False)
    raise typer.Exit(EXIT_SAFETY_STOP)


def _in_seconds(cost: Estimate) -> str:
    """The wall time against the budget in seconds, when the refusal's rounded units show
    them alike ('about 10 min … over the 10 min budget' does not say by how much)."""
    if cost.wall_s <= BUDGET_S or human(cost.wall_s) != human(BUDGET_S):
        return ""
    return f" Its wall time is estimated at {cost.wall_s:,.0f} s, against {BUDGET_S:,.0f} s."


def point_runs(file: Path, overrides: list[str], points: list[Point]) -> list[PointRun]:
    """Every point's validated spec; any invalid point is reported (all of them) before
    anything runs, and the command exits 2."""
    runs, bad = [], False
    for point in points:
        try:
            runs.append(PointRun(point, load_spec(
                file, [*overrides, *point.overrides],
                [*set_sources(len(overrides)), *["--vary"] * len(point.values)])))
        except SpecError as error:
            bad = True
            for line in shown_issues(error.issues):
                typer.echo(f"{point.name}: {line}", err=True)
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)
    return runs


class SweepProgress:
    """A progress bar of replications done, with the points finished so far."""

    def __init__(self, enabled: bool, points: int) -> None:
        self.points = points
        self.finished = 0
        self.bar: Progress | None = None
        if enabled:
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                MofNCompleteColumn(), TextColumn("replications"),
                                TimeElapsedColumn(), console=err, transient=True)
            self.task = self.bar.add_task("sweep", total=None)

    def __call__(self, done: int, total: int, point: PointResult | None) -> None:
        if point is not None:
            self.finished += 1
        if self.bar is not None:
            self.bar.update(self.task, completed=done, total=total,
                            description=f"points {self.finished}/{self.points}")

    def __enter__(self) -> SweepProgress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _number(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _with_ci(r: dict[str, Any], column: str, digits: int = 2) -> str:
    """The value and its 95 % interval: '97.4 ±0.4' when the interval is symmetric about it
    at the digits shown, else its bounds, '238.11 [0.00–1,323.10]' (a half-width would hide
    how lopsided a percentile's interval is, and put its low end below zero)."""
    value, low, high = r[column], r.get(f"{column}_low"), r.get(f"{column}_high")
    if value is None:
        return "—"
    if low is None or high is None:
        return _number(value, digits)
    below, above = f"{value - low:,.{digits}f}", f"{high - value:,.{digits}f}"
    if below == above:
        return f"{value:,.{digits}f} ±{above}"
    return f"{value:,.{digits}f} [{low:,.{digits}f}–{high:,.{digits}f}]"


def _missed_legend(points: list[dict[str, Any]]) -> dict[str, int]:
    """A number for each distinct set of missed targets, in the order the points show them:
    the table's SLO cell stays narrow ('missed [1]') and a line under it says which targets
    each number stands for, so a reader need not open each point's result."""
    legend: dict[str, int] = {}
    for r in points:
        if r.get("slo_missed"):
            legend.setdefault(r["slo_missed"], len(legend) + 1)
    return legend


def _slo_cell(r: dict[str, Any], legend: dict[str, int]) -> str:
    """'met', 'missed [1]' (see `_missed_legend`) or '—' without an SLO."""
    if r["slo_met"] is None:
        return "—"
    if r["slo_met"]:
        return "met"
    return f"missed [{legend[r['slo_missed']]}]" if r.get("slo_missed") else "missed"


def print_sweep(doc: dict[str, Any], console: Console) -> None:
    paths = [a["path"] for a in doc["axes"]]
    knee_notes = {k["point"]: f"◀ {KNEE_LABEL[k['bend']]}" for k in doc["knees"]}
    table = Table(title=f"{doc['system']}: {len(doc['points'])} points × "
                  f"{doc['replications']} replication(s), seed {doc['seed']}",
                  title_justify="left")
    for path in paths:
        table.add_column(path.rsplit(".", 2)[-1] if len(paths) == 1 else path)
    for name in ("offered", "rps", "goodput", "errors", "p50 ms", "p99 ms", "busiest", "SLO",
                 ""):
        table.add_column(name, justify="left" if name in ("busiest", "") else "right")
    legend = _missed_legend(doc["points"])
    for r in doc["points"]:
        busiest = "—" if r["bottleneck"] is None else \
            f"{r['bottleneck']} {r['bottleneck_utilization']:.0%}"
        slo = _slo_cell(r, legend)
        note = knee_notes.get(r["point"], "" if r["status"] == "ok" else r["status"])
        table.add_row(*(r[p] for p in paths), _number(r["offered_rps"], 1),
                      _with_ci(r, "throughput_rps", 1),
                      _with_ci(r, "goodput_rps", 1),
                      "—" if r["error_rate"] is None else f"{r['error_rate']:.2%}",
                      _with_ci(r, "latency_p50_ms"), _with_ci(r, "latency_p99_ms"), busiest,
                      Text(slo, style="green" if slo == "met" else "red"
                           if slo.startswith("missed") else ""), Text(note, style="yellow"))
    console.print(table)
    if legend:
        console.print("SLO targets missed: " + "; ".join(
            f"[{number}] {targets}" for targets, number in legend.items()), markup=False)
    if doc["cached_points"]:
        console.print(f"[dim]{doc['cached_points']} point(s) from the cache, "
                      f"{doc['simulated_points']} simulated.[/dim]")


def sweep_command(
    file: SpecFile,
    vary: Vary,
    overrides: Overrides = None,
    replications: Replications = None,
    seed: Annotated[int | None, seed_option("Override simulation.seed (every point uses it: "
                                            "common random numbers).")] = None,
    jobs: Jobs = None,
    dask: Dask = None,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write sweep.csv, sweep.json, sweep.parquet here, and keep each "
        "point's result in DIR/points/ so that a rerun resumes.")] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", help="Write an HTML report with the curves and the knee here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the sweep as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    force: Force = False,
) -> None:
    """Simulate a grid of variants of one spec (e.g. the rate from 100/s to 2000/s) and
    show how latency, goodput and errors change; the knee is marked."""
    axes = parse_axes(vary, overrides or [])
    base = [*(overrides or []), *replication_override(replications)]
    system = load_or_exit(file, base)
    runs = point_runs(file, base, grid(axes))
    made = out_dir is not None and not out_dir.exists()
    with removed_if_left_empty(out_dir if made else None):
        try:  # before the run, which may be long
            if out_dir is not None:  # created now, so that --report can go inside it
                check_out_folder(out_dir)
                out_dir.mkdir(exist_ok=True)
            if report is not None:
                check_html(report)
        except OSError as error:
            exit_bad_output(OutputError(f"--out {out_dir}: {error.strerror or error}"))
        except OutputError as error:
            exit_bad_output(error)
        chosen_seed = system.simulation.seed if seed is None else seed
        cache = PointCache(out_dir / "points" if out_dir is not None else None)
        todo = [r for r in runs if cache.get(point_key(r.system, chosen_seed)) is None]
        tasks = sum(r.system.simulation.replications for r in todo)
        try:
            with executing(jobs, dask, tasks) as executor:
                if not force:
                    refuse_over_budget(f"simulating the {len(todo)} point(s) left",
                                       batch_cost([r.system for r in todo], executor.workers,
                                                  [r.point.name for r in todo]),
                                       "Use fewer points or replications or a shorter "
                                       "simulation.duration")
                with SweepProgress(not quiet and err.is_terminal, len(runs)) as progress:
                    results = run_points(runs, chosen_seed, executor, cache, progress)
        except ClusterError as error:
            err.print(f"[red]error[/red]: {shown(error)}", highlight=False)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        if cache.failure is not None:
            err.print(f"[yellow]warning[/yellow]: finished points could not be kept for resuming "
                      f"({shown(cache.failure)})", highlight=False, soft_wrap=True)
        doc = document(system.name, chosen_seed, system.simulation.replications, axes, results)
        try:
            if out_dir is not None:
                written = write_into(out_dir, lambda staging: write_tables(staging, doc))
                err.print("wrote " + ", ".join(f"{shown(out_dir)}/{path.name}" for path in written),
                          highlight=False)
            if report is not None:
                write_file(report, render_sweep_report(doc))
                err.print(f"wrote {shown(report)}", highlight=False)
        except OutputError as error:  # it names the output
            exit_bad_output(error)
        if as_json:
            sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        else:
            print_sweep(doc, stdout_console())
        stopped = [r for r in results if r.stopped is not None]
        if stopped:  # every point is in the outputs; the exit code says some did not finish
            err.print(f"[red]stopped[/red]: {len(stopped)} of {len(results)} point(s) ended at "
                      "a safety limit (their status says which)", highlight=False)
            raise typer.Exit(EXIT_SAFETY_STOP)
