"""`scalesim diagram`, `report`, `compare` and `export`: thin commands over
`scalesim.render` and `scalesim.export`. The main app registers each with
`app.command("diagram")(diagram_command)` and so on.

Where a command takes FILE, a `.json` file is a result (`scalesim simulate --out DIR` writes
DIR/result.json, with the time series) and anything else a spec, simulated first.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from scalesim.cli.options import Replications, replication_override
from scalesim.cli.outputs import (
    OutputError,
    check_file,
    check_folder,
    check_html,
    write_file,
    write_into,
)
from scalesim.cli.run import (
    EXIT_BAD_INPUT,
    Overrides,
    elsewhere,
    err,
    load_or_exit,
    seed_option,
    shown,
    simulate_or_exit,
)
from scalesim.export import jaeger, otlp, prometheus, tables
from scalesim.export.spans import spans
from scalesim.render import graphviz
from scalesim.render.compare import comparison, print_comparison, render_compare
from scalesim.render.dot import to_dot
from scalesim.render.graph import (
    Cluster,
    ColorBy,
    architecture,
    architecture_from_result,
    overlay,
)
from scalesim.render.mermaid import breaker_states, flowchart, sequence
from scalesim.render.report import render_report
from scalesim.sim.result_schema import check_result
from scalesim.spec import System
from scalesim.spec.bounds import MAX_SPEC_BYTES, TooLarge, read_at_most
from scalesim.spec.errors import dotted, printable
from scalesim.spec.text import unencodable

RESULT_KEYS = {"system", "seed", "components", "calls", "workloads", "requests"}
MAX_RESULT_BYTES = 64 * MAX_SPEC_BYTES  # a result with its time series at the series bound
Seed = Annotated[int | None, seed_option("Override simulation.seed when simulating.")]


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    typer.echo(f"error: {printable(message)}", err=True)
    return typer.Exit(code)


def read_result(path: Path) -> dict[str, Any]:
    """A result.json, checked against the result's shape, or exit 2 saying why it is not one."""
    try:
        data = json.loads(read_at_most(path, MAX_RESULT_BYTES).decode("utf-8"))
    except TooLarge:
        raise fail(f"{path}: larger than {MAX_RESULT_BYTES:,} bytes, more than a result "
                   "has") from None
    # ValueError: undecodable bytes, malformed JSON, an integer of over 4,300 digits
    except (OSError, ValueError, RecursionError) as error:
        reason = ("nested too deeply" if isinstance(error, RecursionError) else
                  error.strerror if isinstance(error, OSError) and error.strerror else error)
        raise fail(f"{path}: cannot read a result: {reason}") from None
    if not isinstance(data, dict) or not data.keys() >= RESULT_KEYS:
        raise fail(f"{path}: not a ScaleSim result (expected the JSON of `scalesim simulate "
                   "--json` or --out DIR/result.json)")
    problems = [f"{dotted(where)}: {problem}" for where, problem in unencodable(data)] \
        or check_result(data)  # JSON spells a lone surrogate "\\ud800": no page can hold it
    if problems:
        for problem in problems[:20]:
            typer.echo(printable(f"{path}: {problem}"), err=True)
        more = f" ({len(problems) - 20} more)" if len(problems) > 20 else ""
        raise fail(f"{path}: not a valid ScaleSim result{more}; was it edited by hand?")
    return data


def check_run_of(result: dict[str, Any], result_path: Path, system: System,
                 spec_path: Path) -> None:
    """A result drawn or reported over a spec must be a run of that spec: another system's
    colours nothing and its numbers would be shown under the wrong names, so it is bad
    input. A run of the same system whose components differ (the spec was edited since) is
    used where it matches, with a warning naming what it does not cover."""
    if result["system"] != system.name:
        raise fail(f"{result_path}: a result of system '{result['system']}', not of "
                   f"'{system.name}' ({spec_path}); give a result of this spec (scalesim "
                   f"simulate {spec_path} --out DIR writes DIR/result.json)")
    unrun = [name for name in system.components if name not in result["components"]]
    gone = [name for name in result["components"] if name not in system.components]
    if unrun or gone:
        parts = ([f"not in the result: {', '.join(unrun)}"] if unrun else []) + (
            [f"not in the spec: {', '.join(gone)}"] if gone else [])
        err.print(f"[yellow]warning[/yellow]: {escape(printable(str(result_path)))} is a run "
                  f"of another version of {escape(printable(system.name))}; components "
                  f"{escape(printable('; '.join(parts)))}", highlight=False, soft_wrap=True)


def checked_output(path: Path, check: Callable[[Path], None] = check_file) -> Path:
    """`path` if a file can be written there (`check`, e.g. `check_html`), else exit 2
    (checked before any work)."""
    try:
        check(path)
    except OutputError as error:
        raise fail(str(error)) from None
    return path


def write_output(path: Path, content: str | bytes) -> None:
    try:
        write_file(path, content)
    except OutputError as error:  # it names the path
        raise fail(str(error)) from None
    err.print(f"wrote {shown(path)}", highlight=False)


def is_result(file: Path) -> bool:
    return file.suffix == ".json"


def refuse_spec_options(results: list[Path], given: dict[str, bool]) -> None:
    """Options given (`given[name]`) that only a spec uses, when every file is a result:
    nothing is simulated, so they would be ignored in silence; exit 2 instead."""
    unused = [name for name, used in given.items() if used]
    if not unused:
        return
    files = " and ".join(str(path) for path in results)
    many = len(unused) > 1
    what = "are results, not specs" if len(results) > 1 else "is a result, not a spec"
    raise fail(f"{files} {what}: {' and '.join(unused)} {'apply' if many else 'applies'} "
               f"to a spec, which is simulated; give the spec, or leave "
               f"{'them' if many else 'it'} out")


def refuse_for_a_result(file: Path, seed: int | None, overrides: list[str] | None) -> None:
    """--seed and --set given with a result FILE are bad input."""
    if is_result(file):
        refuse_spec_options([file], {"--seed": seed is not None, "--set": bool(overrides)})


def load(file: Path, seed: int | None, overrides: list[str] | None
         ) -> tuple[dict[str, Any], System | None]:
    """The result FILE holds, or the result of simulating the spec FILE (and the spec)."""
    refuse_for_a_result(file, seed, overrides)
    if is_result(file):
        return read_result(file), None
    system = load_or_exit(file, overrides)
    return simulate_or_exit(system, seed, with_series=True, override=elsewhere(file)), system


TRACE_KINDS = ("typical", "slowest", "failed")


def find_trace(result: dict[str, Any], wanted: str) -> dict[str, Any]:
    """A trace by id, or the first of a kind (typical, slowest, failed)."""
    traces: list[dict[str, Any]] = result.get("traces", [])
    for trace in traces:
        if wanted in (trace["trace_id"], trace["kind"]):
            return trace
    if wanted in TRACE_KINDS:
        raise fail(untraced(wanted, result["requests"]["failed"]))
    known = ", ".join(t["trace_id"] for t in traces[:5])
    raise fail(f"no trace {wanted!r} in the result (give a trace_id, or typical, slowest or "
               f"failed){'; e.g. ' + known if known else ''}")


def untraced(kind: str, failed: int) -> str:
    """Why a result has no trace of `kind`: only sampled requests are traced."""
    from scalesim.sim.compile import TRACE_CANDIDATES
    from scalesim.sim.kernel import MAX_SAMPLED

    if kind == "failed" and failed == 0:
        return "no trace 'failed' in the result: no request of the run failed"
    had = (f"the run had {failed:,} failed request{'' if failed == 1 else 's'}, but "
           if kind == "failed" else "")
    return (f"no {kind} trace in the result: {had}only sampled requests have traces (about "
            f"{TRACE_CANDIDATES} × simulation.traces of each workload, spread over the first "
            f"replication's window, at most {MAX_SAMPLED:,} kept); simulate the spec with a "
            "higher simulation.traces to sample more, e.g. --set simulation.traces=100")


DIAGRAM_SUFFIXES = (".dot", ".gv", ".svg", ".png", ".mmd")


def diagram_command(
    file: Annotated[Path, typer.Argument(help="A spec (YAML) or a result (.json).",
                                         show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write: .svg, .png (both "
                                      "need Graphviz), .dot (or .gv) or .mmd (Mermaid).",
                                      show_default=False)],
    result_file: Annotated[Path | None, typer.Option(
        "--result", help="Colour the diagram by this result.json.")] = None,
    color_by: Annotated[ColorBy | None, typer.Option(
        help="Colour components by what happened (simulates the spec unless --result).")]
    = None,
    cluster: Annotated[Cluster, typer.Option(
        help="Box components by derived name group (orders-api, orders-db → orders), by kind, "
        "or not at all.")] = Cluster.GROUP,
    trace: Annotated[str | None, typer.Option(
        help="Instead: a Mermaid sequence diagram of this trace id (or typical, slowest, "
        "failed).")] = None,
    breakers: Annotated[bool, typer.Option(
        "--breakers", help="Instead: Mermaid state diagrams of the circuit breakers, with "
        "observed transition counts.")] = False,
    seed: Seed = None,
    overrides: Overrides = None,
) -> None:
    """Draw the architecture, a sampled request's sequence, or the circuit breakers' state
    machines.

    The architecture shows components, workloads and calls with their policies."""
    checked_output(out)  # first: a folder is named as one, whatever its name
    suffix = out.suffix.lower()
    if suffix not in DIAGRAM_SUFFIXES:
        raise fail(f"{out}: write .svg, .png, .dot (or .gv) or .mmd")
    if trace and breakers:
        raise fail("--trace and --breakers each write their own diagram: give one of them")
    if (trace or breakers) and suffix != ".mmd":
        raise fail("--trace and --breakers write Mermaid: give -o FILE.mmd")
    refuse_for_a_result(file, seed, overrides)
    system = None if is_result(file) else load_or_exit(file, overrides)
    if system is None and result_file is not None:
        raise fail(f"{file} is a result already: --result colours a spec's diagram (give the "
                   "spec as FILE), or draw the result alone")
    result = read_result(file) if system is None else None
    if result_file is not None:
        assert system is not None
        result = read_result(result_file)
        check_run_of(result, result_file, system, file)
    simulated = result is None and system is not None and bool(trace or breakers or color_by)
    if seed is not None and system is not None and not simulated:
        raise fail("--seed applies when the spec is simulated (--color-by, --trace or "
                   "--breakers, without --result); this diagram simulates nothing: leave it "
                   "out")
    if simulated:
        assert system is not None
        result = simulate_or_exit(system, seed, with_series=True, override=elsewhere(file))
    if trace is not None:
        assert result is not None
        text = sequence(find_trace(result, trace))
    elif breakers:
        assert result is not None
        text = breaker_states(result["calls"])
    else:
        arch = (architecture(system, cluster) if system is not None
                else architecture_from_result(result or {}, cluster))
        if result is not None:
            arch = overlay(arch, result, color_by or ColorBy.UTILIZATION)
        text = flowchart(arch) if suffix == ".mmd" else to_dot(arch)
    if suffix in (".svg", ".png"):
        try:
            write_output(out, graphviz.render(text, "svg" if suffix == ".svg" else "png"))
        except graphviz.GraphvizError as error:
            raise fail(str(error)) from None
    else:
        write_output(out, text)


def report_command(
    file: Annotated[Path, typer.Argument(help="A result.json (from simulate --out), or a "
                                         "spec to simulate.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.",
                                      show_default=False)],
    spec: Annotated[Path | None, typer.Option(
        help="The spec of the result: adds entry points, call policies and the "
        "description to the report.")] = None,
    seed: Seed = None,
    overrides: Overrides = None,
) -> None:
    """Write one self-contained HTML report (works offline).

    Summary and diagnosis, charts over time, architecture, resilience dashboards and request
    waterfalls."""
    checked_output(out, check_html)
    if spec is not None:
        load_or_exit(spec, overrides)  # a bad spec fails before a long run
    spec_set = spec is not None and is_result(file)  # then --set is for --spec alone
    result, system = load(file, seed, None if spec_set else overrides)
    if spec is not None:
        system = load_or_exit(spec, overrides)
        check_run_of(result, file, system, spec)
    if "diagnosis" not in result and system is not None:  # a result.json of an older run
        from scalesim.diagnosis import diagnose

        result["diagnosis"] = diagnose(system, result)
    write_output(out, render_report(result, system))


def compare_command(
    a: Annotated[Path, typer.Argument(help="Design A: a spec or a result.json.",
                                      show_default=False)],
    b: Annotated[Path, typer.Argument(help="Design B: a spec or a result.json.",
                                      show_default=False)],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="The HTML file to write.")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the deltas as JSON.")] = False,
    seed: Annotated[int | None, seed_option(
        "Seed for both specs (default: A's simulation.seed), so they share random "
        "numbers.")] = None,
    replications: Replications = None,
) -> None:
    """Compare two designs side by side, with a verdict.

    Specs run with the same seed (common random numbers), so differences come from the
    change. With several replications a number whose 95 % intervals overlap counts as the
    same and one whose intervals are disjoint as a difference. Prints the verdict and what
    changed; -o writes the HTML page too."""
    if out is not None:
        checked_output(out, check_html)
    if is_result(a) and is_result(b):
        refuse_spec_options([a, b], {"--seed": seed is not None,
                                     "--replications": replications is not None})
    systems: list[System | None] = [
        None if is_result(p) else load_or_exit(p, replication_override(replications))
        for p in (a, b)]
    if seed is None:
        seed = next((s.simulation.seed for s in systems if s is not None), None)
    results = [read_result(path) if system is None
               else simulate_or_exit(system, seed, with_series=True, override=elsewhere(path))
               for path, system in zip((a, b), systems, strict=True)]
    labels = (a.name, b.name) if a.name != b.name else (str(a), str(b))
    if out is not None:
        write_output(out, render_compare(results[0], results[1], (systems[0], systems[1]),
                                         labels))
    if as_json:
        sys.stdout.write(json.dumps(comparison(results[0], results[1]), indent=2,
                                    sort_keys=True) + "\n")
    else:
        print_comparison(results[0], results[1], labels)


class TraceFormat(StrEnum):
    OTLP = "otlp"
    JAEGER = "jaeger"


class MetricsFormat(StrEnum):
    PROMETHEUS = "prometheus"
    OPENMETRICS = "openmetrics"
    PARQUET = "parquet"
    CSV = "csv"


def refuse_table_suffix(out: Path, metrics: MetricsFormat) -> None:
    """`-o m.parquet` made a folder named m.parquet holding one file per table, which no
    reader takes for the one file (or one dataset) its name promises: a folder named like
    the files it holds is bad input."""
    if out.suffix.lower() == f".{metrics.value}":
        raise fail(f"{out}: --metrics {metrics.value} writes a folder, one .{metrics.value} "
                   f"file per table (timeseries.{metrics.value}, components.{metrics.value}, "
                   f"…), not one file: name the folder without .{metrics.value}, e.g. "
                   "-o metrics")


def export_command(
    file: Annotated[Path, typer.Argument(help="A result.json (from simulate --out), or a "
                                         "spec to simulate.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="A file (traces, prometheus, "
                                      "openmetrics; - for stdout) or a directory (parquet, "
                                      "csv).", show_default=False)],
    traces: Annotated[TraceFormat | None, typer.Option(
        help="Export the sampled traces.")] = None,
    metrics: Annotated[MetricsFormat | None, typer.Option(
        help="Export the final metrics (prometheus, openmetrics) or the time series "
        "(parquet, csv).")] = None,
    seed: Seed = None,
    overrides: Overrides = None,
) -> None:
    """Export traces (OTLP, Jaeger) or metrics (Prometheus, OpenMetrics, Parquet, CSV).

    Timestamps start at 2024-01-01T00:00:00Z (simulated second 0)."""
    if (traces is None) == (metrics is None):
        raise fail("give exactly one of --traces or --metrics")
    folder = metrics in (MetricsFormat.PARQUET, MetricsFormat.CSV)
    if folder and str(out) == "-":
        raise fail("the parquet and csv exports write a folder of files: give -o DIR")
    if folder:
        assert metrics is not None
        refuse_table_suffix(out, metrics)
        try:
            check_folder(out, "-o")
        except OutputError as error:
            raise fail(str(error)) from None
    elif str(out) != "-":
        checked_output(out)
    result, _ = load(file, seed, overrides)
    text: str
    if traces is not None:
        found = spans(result)
        if not found:
            err.print("[yellow]warning[/yellow]: no request of the run was traced "
                      "(simulation.traces is 0, or no request ran): the document holds no "
                      "spans", highlight=False, soft_wrap=True)
        document = (otlp.to_otlp(found, result["system"]) if traces is TraceFormat.OTLP
                    else jaeger.to_jaeger(found, result["system"]))
        text = json.dumps(document, indent=1) + "\n"
    elif folder:
        write = tables.write_parquet_files if metrics is MetricsFormat.PARQUET \
            else tables.write_csv_files
        try:
            written = write_into(out, lambda staging: write(result, staging))
        except (tables.NoSeries, ImportError) as error:
            raise fail(str(error)) from None
        except OutputError as error:
            raise fail(str(error)) from None
        err.print("wrote " + ", ".join(shown(p) for p in written), highlight=False)
        return
    else:
        text = prometheus.exposition(result, openmetrics=metrics is MetricsFormat.OPENMETRICS)
    if str(out) == "-":
        sys.stdout.write(text)
    else:
        write_output(out, text)
