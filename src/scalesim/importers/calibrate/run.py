"""One calibration: the spec, its trace files and its load test in; the calibrated spec's
text and the report out. The calibrated text is validated before it is returned, so a fit
that the spec cannot hold is an error, never a half-right file."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scalesim.analytic.load import peak_rate
from scalesim.importers.calibrate import CalibrationError
from scalesim.importers.calibrate.apply import (
    Calibration,
    as_yaml,
    calibrate_load,
    calibrate_traces,
    write,
)
from scalesim.importers.calibrate.loadtest import check_cores, fit_load, read_rows
from scalesim.importers.calibrate.sites import capacities, waiting
from scalesim.importers.calibrate.spans import Span, read_spans
from scalesim.importers.calibrate.traces import OperationStats, detached, observe
from scalesim.spec import SpecError, System, load_spec_text


@dataclass(frozen=True)
class Calibrated:
    text: str  # the calibrated spec
    system: System
    report: dict[str, Any]
    warnings: list[str]  # for stderr: the run went on, but it may not be what was meant


def calibrate(spec_path: Path, text: str, system: System, traces: list[Path],
              load_test: Path | None) -> Calibrated:
    if not traces and load_test is None:
        raise CalibrationError("give --traces FILE… or --load-test FILE (or both)")
    calibration = Calibration()
    warnings: list[str] = []
    if load_test is not None:
        rows = read_rows(load_test)
        check_cores(load_test, system, rows)
        try:
            fitted = fit_load(system, rows)
        except CalibrationError as error:  # the rows read well but fit nothing: name the file
            raise CalibrationError(f"{load_test}: {error}") from None
        calibrate_load(system, fitted, calibration)
        warnings += [f"{load_test}: {warning}" for warning in fitted.warnings]
        system = _reloaded(spec_path, write(text, calibration.changes))
    if traces:
        read, repeated = _once({path: read_spans(path) for path in traces})
        warnings += repeated
        spans = [span for found in read.values() for span in found]
        if not spans:
            raise CalibrationError(f"{', '.join(map(str, traces))}: no spans")
        calibration.notes += _chosen(spans, system)
        try:
            observed = observe(spans, waiting(system), capacities(system))
            _check_linked(observed)
            calibrate_traces(system, observed, calibration)
        except CalibrationError as error:  # the spans read well but match nothing
            raise CalibrationError(f"{', '.join(map(str, traces))}: {error}") from None
        warnings += _detached(read) + _skewed(read, observed)
        warnings += _other_system(traces, spans, system, calibration)
    calibrated = write(text, calibration.changes)
    final = _reloaded(spec_path, calibrated)
    report = {"spec": str(spec_path), **calibration.report,
              "changes": [{"path": ".".join(map(str, c.path)), "value": c.value, "why": c.why}
                          for c in calibration.changes],
              "notes": calibration.notes}
    return Calibrated(calibrated, final, report, warnings)


KEPT_AT_MOST = 1000  # simulation.traces' bound: per workload, that many slowest and typical


def _chosen(spans: list[Span], system: System) -> list[str]:
    """A note when ScaleSim's export left requests out by their latency: per workload it
    keeps the `simulation.traces` slowest, as many nearest the median and the first failed
    of the requests it sampled (one in k, evenly), so it holds them all only while they
    number at most twice that. Its typical ones as many as its slowest mean more were left
    out (fitted times then lean to the tails), as do its failed as many when typical ones
    show that count is the cap. With the remedy: a run short enough to keep them all."""
    traces: defaultdict[str, dict[str, str]] = defaultdict(dict)
    for span in spans:
        workload, sample = span.attributes.get("scalesim.workload"), \
            span.attributes.get("scalesim.sample")
        if workload is not None and sample is not None:
            traces[str(workload)][span.trace] = str(sample)
    cut = []
    for workload, kinds in sorted(traces.items()):
        count = Counter(kinds.values())
        slowest, typical, failed = count["slowest"], count["typical"], count["failed"]
        if slowest and (typical >= slowest or (typical and failed >= slowest)):
            cut.append(f"{workload} ({slowest} slowest, {typical} typical, {failed} failed)")
    if not cut:
        return []
    return [f"the traces of {', '.join(cut)} are ScaleSim's chosen samples, not every "
            "request: the export keeps per workload the simulation.traces slowest, as many "
            "nearest the median and the first failed, so fitted times lean towards the "
            f"tails. Export a run whose workloads each send at most {2 * KEPT_AT_MOST:,} "
            f"requests, all then kept: {_short_run(system)}"]


def _short_run(system: System) -> str:
    """The options of an export that keeps every request of the spec's workloads: the most
    traces, no warm-up (the export spreads its traces over the requests of warm-up and window
    alike, so a warm-up's leaves most of the window's untraced), and a duration in which the
    busiest sends 90 % of what they keep (a Poisson count passes its mean now and then)."""
    rates = [w.users / max(w.think.mean_s, 1e-3) if w.users is not None else peak_rate(w)
             for w in system.workloads]
    options = f"--set simulation.traces={KEPT_AT_MOST}" + (
        " --set simulation.warmup=0s" if system.simulation.warmup > 0.0 else "")
    busiest = max(rates, default=0.0)
    if busiest <= 0.0:
        return options
    seconds = 0.9 * 2 * KEPT_AT_MOST / busiest
    shown = f"{seconds:.2g}" if seconds < 10 else f"{seconds:.0f}"
    return (f"{options} --set simulation.duration={float(shown):g}s (the busiest workload "
            f"sends {busiest:.4g}/s at its peak)")


def _once(read: dict[Path, list[Span]]) -> tuple[dict[Path, list[Span]], list[str]]:
    """Each file's spans less those read already, from an earlier file or earlier in the
    same one (the same trace and span ids: the same run given twice, as OTLP and as Jaeger,
    or an export appended to itself, would count each visit twice), and a warning per file
    that repeated some. A trace split over files, a service's spans in each, shares its
    trace id but no span, and is read whole."""
    first: dict[tuple[str, str], Path] = {}
    out: dict[Path, list[Span]] = {}
    warnings = []
    for path, spans in read.items():
        kept, again = [], Counter[Path]()
        traces: set[str] = set()
        for span in spans:
            key = (span.trace, span.span)
            if key in first:
                again[first[key]] += 1
                traces.add(span.trace)
            else:
                first[key] = path
                kept.append(span)
        out[path] = kept
        if again:
            warnings.append(_repeated(path, again, len(traces)))
    return out, warnings


def _repeated(path: Path, again: Counter[Path], traces: int) -> str:
    """The warning for a file whose spans `again` counts by the file they were first read
    from: itself when a span is in it twice."""
    spans = sum(again.values())
    others = [str(p) for p in again if p != path]
    where = ([f"from {', '.join(others)}"] if others else []) + \
        (["earlier in the file"] if path in again else [])
    return (f"{path}: {spans} span{'s' if spans != 1 else ''} of {traces} "
            f"trace{'s' if traces != 1 else ''} {'were' if spans != 1 else 'was'} read "
            f"already {' and '.join(where)} (the same trace and span ids: the same run given "
            "twice?): each is counted once")


def _detached(read: dict[Path, list[Span]]) -> list[str]:
    """A warning per file holding spans cut off from their trace's root (a parent id that
    names a span in none of the files, or none where one is due): a call is missing under
    some visit, whose own time is then left out."""
    cut = {(span.trace, span.span) for span in detached(
        [span for found in read.values() for span in found])}
    out = []
    for path, found in read.items():
        mine = [span for span in found if (span.trace, span.span) in cut]
        if mine:
            out.append(f"{path}: {len(mine)} span{'s' if len(mine) != 1 else ''} cut off "
                       f"from their trace's root (span {mine[0].span} of trace "
                       f"{mine[0].trace}{' and more' if len(mine) > 1 else ''}): the parent "
                       "each names is in none of the trace files, or none is named; the "
                       "visits that may have made their calls keep their own time unfitted")
    return out


def _skewed(read: dict[Path, list[Span]], observed: dict[str, OperationStats]) -> list[str]:
    """A warning per file holding callee spans outside where their caller's clock puts
    them (clock skew), with the largest offset: their hops and callers' own times are not
    fitted."""
    skew = {(span.trace, span.span): ns for stats in observed.values()
            for span, ns in stats.skewed}
    out = []
    for path, found in read.items():
        mine = sorted(((skew[(s.trace, s.span)], s) for s in found
                       if (s.trace, s.span) in skew), key=lambda pair: -pair[0])
        if mine:
            ns, span = mine[0]
            out.append(f"{path}: {len(mine)} span{'s' if len(mine) != 1 else ''} of a call "
                       "outside the interval their caller's clock gives them, by up to "
                       f"{ns / 1e6:.4g} ms (span {span.span} of trace {span.trace}): clock "
                       "skew between the hosts; their network and their callers' own time "
                       "are not fitted from them")
    return out


def _check_linked(observed: dict[str, OperationStats]) -> None:
    """Refuse traces where every successful visit may have made a call whose span is
    missing or was timed by a skewed clock: no own time is left to fit."""
    if any(stats.unlinked + stats.skewed_visits for stats in observed.values()) and not any(
            stats.ok_own_s for stats in observed.values()):
        raise CalibrationError(
            "every successful visit may have made a call whose span is missing (spans name "
            "parents in none of the files, or none where one is due) or lies outside it "
            "(clock skew): no own time to fit")


def _other_system(traces: list[Path], spans: list[Span], system: System,
                  calibration: Calibration) -> list[str]:
    """A warning when the traces name a system (ScaleSim's export does, as may an SDK's
    service.namespace) that is not the spec's: operations that share a name across systems
    are fitted to another system's times. Traces that match no operation at all have been
    refused already."""
    others = sorted({span.system for span in spans if span.system} - {system.name})
    if not others:
        return []
    fitted = sorted(calibration.report.get("operations", {}))
    return [f"{', '.join(map(str, traces))}: the traces are of system "
            f"{', '.join(repr(name) for name in others)}, the spec is {system.name!r}; "
            f"fitted anyway where an operation's name matched ({', '.join(fitted)})"]


def _reloaded(spec_path: Path, text: str) -> System:
    try:
        return load_spec_text(text, filename=str(spec_path))
    except SpecError as error:
        raise CalibrationError("the calibrated spec does not validate:\n" + "\n".join(
            str(issue) for issue in error.issues)) from None


def report_text(report: dict[str, Any]) -> str:
    """The report for people: fitted against observed, then what changed and why."""
    lines = [f"calibration of {report['spec']}"]
    for ref, entry in report.get("operations", {}).items():
        own = entry.get("own_time")
        head = f"  {ref}: {entry['visits']} visits"
        if own is not None:
            ks = ", ".join(f"{k} D={v}" for k, v in own["ks_distance"].items())
            judged = f"p={own['p_value']}" if own["p_value"] is not None else \
                f"{own['n']} samples, no shape judged"
            head += (f"; own time {own['observed_mean_ms']} ms -> {own['field']} = "
                     f"{as_yaml(own['fitted'])} ({own['family']}, {judged}"
                     f"{'; ' + ks if ks else ''})")
        lines.append(head)
        if entry["not_visits"] or entry["fell_back"]:
            lines.append("    left out: " + ", ".join(
                [f"{n} spans {why}" for why, n in sorted(entry["not_visits"].items())]
                + ([f"{entry['fell_back']} visits after a failed call (own time)"]
                   if entry["fell_back"] else [])))
        refusals = entry.get("refusals")
        if refusals is not None:
            lines.append(f"    refused at the door: {refusals['count']} "
                         f"({refusals['share']:.2%} of the requests that reached it)")
        lines.append(f"    error rate observed {entry['error_rate']['observed']:.4%} "
                     f"(spec {entry['error_rate']['spec']:.4%})")
        for target, call in entry["calls"].items():
            lines.append(f"    calls {target}: probability {call['probability']:.4g}, "
                         f"{call['attempts_per_call']:.4g} attempts per call (max "
                         f"{call['max_attempts']}), {call['parallel_share']:.0%} in parallel"
                         + (f"; fallback {call['fallback']['observed_mean_ms']} ms -> "
                            f"{as_yaml(call['fallback']['fitted'])}" if "fallback" in call
                            else ""))
    network = report.get("network")
    if network is not None:
        lines.append(f"  network per hop: {network['observed_mean_ms']} ms mean -> "
                     f"{as_yaml(network['fitted'])} ({network['family']})")
    load = report.get("load_test")
    if load is not None:
        saturation = load["saturation_rps"]
        lines.append(f"  load test ({load['method']}): " + (
            f"saturation {saturation} rps" if saturation is not None else "saturation not fitted"))
        lines.append("    CPU per request: " + _per_component(
            {name: f"{ms:.4g} ms" for name, ms in load["cpu_per_request_ms"].items()}))
        lines.append("    overhead: " + _per_component(
            {name: f"{ms['request']:.4g} ms per request" + (
                f" + {ms['call']:.4g} ms per call" if ms["call"] else "")
             for name, ms in load["overhead_ms"].items()}))
        for row in load["rows"]:
            predicted = row.get("predicted_mean_ms")
            lines.append(f"    {row['throughput_rps']:.4g} rps: mean {row['mean_ms']:.4g} ms"
                         + (f" (fit {predicted:.4g} ms)" if predicted is not None else "")
                         + (", cores " + _per_component(
                             {name: f"{cores:.4g}" for name, cores in row["cpu"].items()})
                            if row["cpu"] else ""))
    lines.append("changes:" if report["changes"] else "no changes")
    lines += [f"  {c['path']} = {as_yaml(c['value'])}  # {c['why']}"
              for c in report["changes"]]
    lines += [f"note: {note}" for note in report["notes"]]
    return "\n".join(lines) + "\n"


def _per_component(values: dict[str, str]) -> str:
    """'back 2.8 ms, front 2.1 ms' (by name), or what an empty fit means (the notes say
    why)."""
    return ", ".join(f"{name} {value}" for name, value in sorted(values.items())) or \
        "none fitted (see the notes)"
