"""`scalesim validate`, `simulate` and `schema`, and what every command that simulates shares:
loading a spec or exiting 2, the run budget, the progress bar, the diagnosis.

Heavy modules (the engine and numpy, the report and jinja2) are imported where they are used,
so `validate` does not pay for them.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from scalesim.budget import human
from scalesim.cli.options import (
    Dask,
    Jobs,
    MaxReplications,
    PrecisionText,
    Replications,
    parse_precision,
    replication_override,
)
from scalesim.spec.errors import printable, shown_issues

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from scalesim.cli.outputs import OutputError
    from scalesim.spec import SpecError, System
    from scalesim.spec.loader import Locator
    from scalesim.spec.model import Component
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
MAX_SEED = 2**63 - 1  # simulation.seed's range


def seed_option(help_text: str) -> Any:
    """A --seed option, range-checked like simulation.seed."""
    return typer.Option(min=0, max=MAX_SEED, help=help_text)


def shown(value: object) -> str:
    """A file name or message inside rich markup: printable, and never read as markup."""
    return escape(printable(str(value)))


def exit_bad_output(error: OutputError) -> NoReturn:
    typer.echo(f"error: {printable(str(error))}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


Force = Annotated[bool, typer.Option(
    "--force", help="Run even when the run is estimated to exceed the budget "
    "(docs/engine.md, Run budget).")]


def _number(value: float) -> str:
    """Short and exact enough for a progress line: 0.00125, 42.5, 1,234, 357k, 2.5M."""
    if value >= 1e6:
        return f"{value / 1e6:,.3g}M"
    if value >= 1e4:
        return f"{value / 1e3:,.3g}k"
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


FORCE_HINT = "pass --force to run it anyway"


def elsewhere(spec: Path) -> str:
    """How to run `spec` anyway for a command without --force: simulate it apart."""
    return (f"simulate it apart (`scalesim simulate {spec} --force --out DIR`) and give "
            "DIR/result.json to this command")


def refuse_runaway(system: System, execution: Execution | None = None,
                   override: str = FORCE_HINT) -> None:
    """Exit 3 before running when the estimated events, wall time or time-series size pass
    the budget (`scalesim.budget`); the message states the estimate, how to get under it and
    how to run it anyway (`override`). Replications that run side by side (`execution`'s
    workers) share the wall time."""
    from scalesim.budget import estimate

    if execution is not None:
        system = execution.planned(system)
    workers = execution.workers_for(system) if execution is not None else 1
    found = estimate(system, workers)
    if not found.over:
        return
    err.print("[red]refused[/red]: " + found.refusal(override), highlight=False)
    raise typer.Exit(EXIT_SAFETY_STOP)


def simulate_or_exit(system: System, seed: int | None, with_series: bool,
                     progress: _Progress | None = None, force: bool = False,
                     execution: Execution | None = None,
                     override: str = FORCE_HINT) -> dict[str, Any]:
    """The result of simulating `system` (its replications on `execution`'s workers), with
    its diagnosis. A run over the budget is refused (unless `force`) and a safety stop is
    reported; both exit with 3. A Dask cluster that cannot be used exits with 2."""
    from scalesim.diagnosis import diagnose
    from scalesim.sim import SafetyStop
    from scalesim.sweep.executor import ClusterError
    from scalesim.sweep.replicate import Execution

    execution = execution or Execution(jobs=1)
    if not force:
        refuse_runaway(system, execution, override)
    if progress is not None:
        progress.workers = execution.workers_for(system)
    try:
        result = execution.simulate(system, seed, with_series, progress)
    except ClusterError as error:  # --dask without Dask installed, or unreachable
        err.print(f"[red]error[/red]: {shown(error)}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except SafetyStop as stop:
        err.print(f"[red]stopped[/red]: {shown(stop)}", highlight=False)
        raise typer.Exit(EXIT_SAFETY_STOP) from None
    finally:
        if progress is not None:
            progress.close()
    result["diagnosis"] = diagnose(system, result)
    return result


def exit_bad_spec(error: SpecError) -> NoReturn:
    """Print the spec's problems, each as one plain line (never wrapped: editors parse
    them), a repeated one only a few times (`shown_issues`); exit 2."""
    for line in shown_issues(error.issues):
        typer.echo(line, err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def load_or_exit(file: Path, overrides: list[str] | None = None) -> System:
    return load_located_or_exit(file, overrides)[0]


def load_located_or_exit(file: Path, overrides: list[str] | None = None
                         ) -> tuple[System, Locator]:
    """The spec, and where its paths are, for problems found after loading (generate's
    Kubernetes names) to be printed as FILE:LINE:COL: path: message like the spec's own."""
    from scalesim.spec import SpecError
    from scalesim.spec.loader import load_spec_located, read_spec_file

    try:
        return load_spec_located(read_spec_file(file), str(file), overrides or [])
    except SpecError as error:
        exit_bad_spec(error)


def warn_late_faults(system: System, locator: Locator) -> None:
    """A warning on stderr, placed like a spec's problem, at each fault the run ends
    before (`late_faults`), naming the overrides that make it (`Locator.found`)."""
    from scalesim.spec.checks import late_fault_reads, late_faults

    for issue in locator.found(system, late_faults, late_fault_reads):
        err.print(f"[yellow]warning[/yellow]: {escape(str(issue))}",
                  highlight=False,
                  soft_wrap=True)


def validate_command(file: SpecFile, overrides: Overrides = None) -> None:
    """Check a spec; print every error as FILE:LINE:COL: path: message (exit 2)."""
    system, locator = load_located_or_exit(file, overrides)  # errors go to stderr
    warn_late_faults(system, locator)
    stdout_console().print(f"[green]ok[/green] {shown(file)}: {len(system.components)} "
                           f"components, {len(system.workloads)} workloads")


def schema_command() -> None:
    """Print the JSON Schema of the spec (for editors: `# yaml-language-server: $schema=`)."""
    from scalesim.spec.schema import spec_json_schema

    sys.stdout.write(json.dumps(spec_json_schema(), indent=2, sort_keys=True) + "\n")


# ρ from which closed loops hold a component at its capacity: their throughput reaches it
# only to rounding (MVA's asymptote, 1 − 1e-13)
LOOPS_AT_CAPACITY = 1.0 - 1e-9


def _warn_overload(system: System, quiet: bool) -> None:
    """At the workloads' peak (closed loops at their MVA throughput), a component whose
    workers or cores cannot serve what it admits (what a rate limit lets through; an
    autoscaled one at its max replicas): an unbounded queue grows, a bounded one refuses;
    one whose bounded queue closed loops' users outnumber refuses them, and they send
    again."""
    from scalesim.analytic.overload import (
        closed_as_open,
        closed_estimate,
        closed_refusals,
        cpu_loads,
    )
    from scalesim.lint.load import admitted, open_part
    from scalesim.lint.rules.capacity import overload_fate

    if quiet:
        return
    users = sum(w.users for w in system.workloads if w.users is not None)
    opened = open_part(system)  # a closed loop takes a component to its capacity at most
    without = admitted(opened, peak=True) if opened is not None else {}
    found = closed_estimate(system)
    refusing = closed_refusals(found)
    spec = system
    system = closed_as_open(system, found=found)
    loads = admitted(system, peak=True)
    cpus = cpu_loads(system, {name: load.rate for name, load in loads.items()})
    for name in system.components:
        load, cpu = loads.get(name), cpus.get(name)
        if name in refusing:
            assert found is not None
            sent = sum(w.rate_rps for w in found.workloads.values() if w.closed)
            text = _refusing_text(spec, name, refusing[name], sent)
            err.print(f"[yellow]warning[/yellow]: {text}", highlight=False)
        elif cpu is not None and cpu.rho >= 1.0 and (load is None or cpu.rho > load.rho):
            cores = f"{cpu.cores:g} core{'s' if cpu.cores != 1 else ''}"
            err.print(f"[yellow]warning[/yellow]: '{name}' is offered more CPU than its cores "
                      f"can serve: ρ ≈ {cpu.rho:.2f} ({cpu.rate_rps:,.1f} rps admitted × "
                      f"{cpu.cpu_s * 1e3:.3g} ms of CPU per request over {cores} per "
                      f"replica); {overload_fate(system.components[name], cpu.rho, cpu.cores)}",
                      highlight=False)
        elif load is not None and load.rho >= LOOPS_AT_CAPACITY and users and \
                (name not in without or without[name].rho < 1.0):  # the loops' doing
            places = _places(system.components[name])
            err.print(f"[yellow]warning[/yellow]: '{name}' is at capacity: the closed loops' "
                      f"{users:,} users keep it busy (ρ ≈ {min(load.rho, 1.0):.2f}, "
                      f"{load.rate:,.1f} rps × {load.hold_s * 1e3:.3g} ms per request over "
                      "its workers); its queue holds at most what the users have in flight, "
                      "so more users add waiting there, not throughput"
                      + ("" if places is None else f", up to the {places:,} requests it holds "
                         "at once: past that, more users add refusals"), highlight=False)
        elif load is not None and load.rho >= 1.0:
            err.print(f"[yellow]warning[/yellow]: '{name}' is offered more than it can serve: "
                      f"ρ ≈ {load.rho:.2f} ({load.rate:,.1f} rps admitted × "
                      f"{load.hold_s * 1e3:.3g} ms per request over its workers); "
                      f"{overload_fate(system.components[name], load.rho)}", highlight=False)


def _places(component: Component) -> int | None:
    """The requests a component holds at once, waiting or served (its replicas' workers and
    queue places); None with an unbounded queue or unlimited workers."""
    workers = component.worker_limit
    if component.queue is None or workers is None:
        return None
    return component.most_replicas * (workers + component.queue)


def _refusing_text(system: System, name: str, loss: float, sent: float) -> str:
    """The warning for a component whose bounded queue closed loops' users outnumber: they
    are refused and send again (`closed.refused`), so more users add refusals."""
    loops = [w for w in system.workloads if w.users is not None]
    users = sum(w.users or 0 for w in loops)
    again = "at once" if all(w.think.mean_s == 0.0 for w in loops) else \
        "after their think time"
    return (f"'{name}' is full: the closed loops' {users:,} users outnumber the "
            f"{_places(system.components[name]) or 0:,} requests it holds at once (workers "
            f"and queue places of its replicas); the others are refused and send again "
            f"{again}, so more users add refusals, not throughput: the estimate has "
            f"{loss:.1%} of its visits refused and about {sent:,.0f} requests sent a second")


def _warn_short_run(system: System, execution: Execution, quiet: bool) -> None:
    """Before the run: when its simulated time pins the mean latency down only loosely
    (`analytic.precision`: a busy queue wanders for long stretches), how loosely, what time
    would do, and a warm-up that leaves out the empty start. With --precision: whether
    --max-replications leaves room for the replications that will likely take."""

    from scalesim.analytic.estimate import Model
    from scalesim.analytic.overload import POINTS
    from scalesim.analytic.precision import WARN_ABOVE, Z95, mean_latency_sd, short_run

    if quiet:
        return
    sim = system.simulation
    estimate = Model(system, POINTS).evaluate()
    wanted = execution.precision
    if wanted is not None:
        sd = mean_latency_sd(estimate, sim.duration)
        if sd is None:
            return
        runs = math.ceil((Z95 * sd / wanted.target) ** 2)
        if runs > wanted.max_replications:
            reached = Z95 * sd / math.sqrt(wanted.max_replications)
            err.print(f"[yellow]warning[/yellow]: ±{wanted.target:.2%} will likely take about "
                      f"{runs:,} replications of {sim.duration:g} s, past --max-replications "
                      f"{wanted.max_replications} (about ±{reached:.1%} there): raise it, or "
                      "simulation.duration", highlight=False)
        return
    short = short_run(estimate, sim.duration * sim.replications, WARN_ABOVE)
    if short is not None:
        advice = short.advice(sim, f"--precision {WARN_ABOVE:.0%} (about {{n}} replications)")
        err.print(f"[yellow]warning[/yellow]: {advice}", highlight=False)


class _Progress:
    """A progress bar that appears once a run has taken more than a second: simulated time,
    the event rate and the time left. The engine reports every PROGRESS_EVERY events."""

    def __init__(self, enabled: bool, simulated_s: float) -> None:
        self.enabled = enabled
        self.simulated_s = simulated_s  # all replications
        # Replications on other processes report only when each ends: no events/s then.
        self.workers = 1
        self.started = time.monotonic()
        self.reports = 0
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, fraction: float) -> None:
        from scalesim.sim.kernel import PROGRESS_EVERY

        self.reports += 1
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.started
        if self.bar is None:
            if elapsed < 1.0:
                return
            self._start()
        assert self.bar is not None and self.task is not None
        left = elapsed * (1.0 - fraction) / fraction if fraction > 0 else None
        self.bar.update(self.task, completed=fraction,
                        at=f"{_number(fraction * self.simulated_s)}/"
                        f"{_number(self.simulated_s)} s simulated",
                        speed=f"{_number(self.reports * PROGRESS_EVERY / elapsed)} events/s"
                        if self.workers == 1 else f"{self.workers} workers",
                        left="—" if left is None else human(left))

    def _start(self) -> None:
        from rich.progress import BarColumn, Progress, TextColumn

        self.bar = Progress(TextColumn("simulating"), BarColumn(bar_width=16),
                            TextColumn("{task.percentage:>3.0f}%"),
                            TextColumn("{task.fields[at]} · {task.fields[speed]} · "
                                       "{task.fields[left]} left"),
                            console=err, transient=True)
        self.bar.start()
        self.task = self.bar.add_task("run", total=1.0, at="", speed="", left="")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def progress_for(system: System, quiet: bool) -> _Progress:
    sim = system.simulation
    return _Progress(not quiet and err.is_terminal,
                     (sim.warmup + sim.duration) * sim.replications)


def _print_precision(result: dict[str, Any]) -> None:
    reached = result["precision"]
    target = f"target {reached['target']:.2%}"
    if reached["achieved"] is None:
        err.print(f"{result['replications']} replications: the 95 % CI of the mean latency "
                  f"cannot be told ({target}): a replication answered no request, or every "
                  "latency was 0", highlight=False)
        return
    err.print(f"{result['replications']} replications: the 95 % CI of the mean latency is "
              f"±{reached['achieved']:.2%} of it ({target}"
              + ("" if reached["met"] else ", not reached within --max-replications") + ")",
              highlight=False)


def simulate_command(
    file: SpecFile,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write result.json and the time series as CSV here.")] = None,
    seed: Annotated[int | None, seed_option("Override simulation.seed.")] = None,
    overrides: Overrides = None,
    check_slo: Annotated[bool, typer.Option(
        "--check-slo", help="Exit with code 1 when an SLO is missed.")] = False,
    report: Annotated[Path | None, typer.Option(
        "--report", help="Write a self-contained HTML report here.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No warnings or progress.")]
    = False,
    force: Force = False,
    replications: Replications = None,
    jobs: Jobs = None,
    dask: Dask = None,
    precision: PrecisionText = None,
    max_replications: MaxReplications = None,
) -> None:
    """Simulate a system and print what happened, what is wrong and what to change.

    Exits 3 if the run is over budget (see --force) or a safety limit stops it, 1 with
    --check-slo when an SLO is missed."""
    from scalesim.cli.outputs import (
        OutputError,
        check_html,
        check_run_folder,
        write_file,
        write_run,
    )
    from scalesim.diagnosis.components import reads_series
    from scalesim.sweep.replicate import Execution

    system, locator = load_located_or_exit(
        file, [*(overrides or []), *replication_override(replications)])
    execution = Execution(jobs, dask, parse_precision(precision, max_replications))
    try:  # before the run, which may be long
        if out_dir is not None:
            check_run_folder(out_dir)
        if report is not None:
            check_html(report)
    except OutputError as error:
        exit_bad_output(error)
    if not force:
        refuse_runaway(system, execution)
    if not quiet:
        warn_late_faults(system, locator)
    _warn_overload(system, quiet)
    _warn_short_run(system, execution, quiet)
    result = simulate_or_exit(system, seed, with_series=out_dir is not None
                              or report is not None or reads_series(system),
                              progress=progress_for(system, quiet),
                              force=True, execution=execution)
    try:
        if out_dir is not None:
            write_run(out_dir, result)
        if report is not None:
            from scalesim.render.report import render_report

            write_file(report, render_report(result, system))
            err.print(f"wrote {shown(report)}", highlight=False)
    except OutputError as error:  # it names the output
        exit_bad_output(error)
    tables = result.pop("timeseries", {})  # in result.json and the report; too long for --json
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2, sort_keys=True) + "\n")
    else:
        from scalesim.cli.templates import print_template_checks
        from scalesim.render.terminal import print_summary
        from scalesim.sim.timeseries import FILES

        print_summary(result, stdout_console())
        print_template_checks(file, result, overrides or ())
        if "precision" in result:
            _print_precision(result)
        if out_dir is not None:
            err.print(f"wrote {shown(out_dir)}/result.json, " + ", ".join(
                FILES.get(name, f"{name}.csv") for name in tables), highlight=False)
    if check_slo and "slo" in result and not result["slo"]["met"]:
        raise typer.Exit(EXIT_SLO_MISSED)
