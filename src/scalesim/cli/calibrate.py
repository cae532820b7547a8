"""`scalesim calibrate SPEC`: fit the spec to traces and load-test results of the real
system (docs/cli.md#scalesim-calibrate)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from scalesim.cli.render import checked_output, write_output
from scalesim.cli.run import EXIT_BAD_INPUT, load_or_exit


def calibrate_command(
    spec: Annotated[Path, typer.Argument(help="The system spec (YAML).", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Write the calibrated spec here.",
                                      show_default=False)],
    traces: Annotated[list[Path] | None, typer.Option(
        "--traces", help="Trace files: OTLP JSON (one document or one per line) or Jaeger "
        "JSON; repeatable.", show_default=False)] = None,
    load_test: Annotated[Path | None, typer.Option(
        "--load-test", help="A CSV of load levels: rate_rps, throughput_rps, mean_ms "
        "[, p50_ms, p99_ms, cpu_COMPONENT…].", show_default=False)] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", help="Also write the report (fitted against observed) as JSON here.",
        show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Overwrite OUT if it exists (the spec itself included).")] = False,
) -> None:
    """Fit a spec to the real system: traces (OTLP, Jaeger) and load-test results (docs/cli.md).

    From traces: each operation's own time, the network per hop, call probabilities,
    retries, fan-out, fallback times and error rates; from a load test: CPU demand and the
    runtime's overhead. Writes the calibrated spec (comments kept) and prints what was fitted
    against what was observed."""
    from scalesim.importers.calibrate import CalibrationError
    from scalesim.importers.calibrate.run import calibrate, report_text

    if out.exists() and not force:
        typer.echo(f"{out}: exists; use --force to overwrite it", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    for path in (out, report):
        if path is not None:
            checked_output(path)
    system = load_or_exit(spec)
    try:
        text = spec.read_text(encoding="utf-8")
        done = calibrate(spec, text, system, list(traces or []), load_test)
    except CalibrationError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    for warning in done.warnings:
        typer.echo(f"warning: {warning}", err=True)
    document = json.dumps(done.report, indent=2, sort_keys=True) + "\n"
    if report is not None:
        write_output(report, document)
    write_output(out, done.text)
    typer.echo(document if as_json else report_text(done.report), nl=False)
