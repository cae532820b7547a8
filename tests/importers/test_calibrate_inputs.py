"""`scalesim calibrate` on traces that do not hold together: spans cut off from their
trace's root, clocks that disagree. Small traces of front.order (2 ms of its own) calling
back.get (3 ms) through a CLIENT span, or as ScaleSim's export has it (the callee's span
under the caller's, with its send time), with 0.5 ms hops, written as OTLP or Jaeger JSON;
each visit's times are constant, so the fitted own times are exact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from scalesim.cli import app

MS = 1_000_000
EPOCH = 1_700_000_000 * 10**9
TRACES = 40

SPEC = """\
scalesim: 1
name: pair
components:
  front:
    workers: unlimited
    operations: {order: {work: 1ms, calls: [{to: back.get}]}}
  back:
    workers: unlimited
    operations: {get: {work: 1ms}}
workloads: [{name: w, to: front.order, rate: 10/s}]
"""

Span = dict[str, Any]  # trace, span, parent, service, name, kind, start, end (ns), attributes


def pair(index: int) -> list[Span]:
    """One trace: front.order's 2 ms of its own, then a call to back.get (3 ms)."""
    trace, start = f"{index + 1:032x}", EPOCH + index * 20 * MS
    root, client, server = (f"{index * 3 + k + 1:016x}" for k in range(3))
    sent = start + 2 * MS
    return [
        {"trace": trace, "span": root, "parent": None, "service": "front",
         "name": "front.order", "kind": "server", "start": start, "end": sent + 4 * MS},
        {"trace": trace, "span": client, "parent": root, "service": "front",
         "name": "call back.get", "kind": "client", "start": sent, "end": sent + 4 * MS},
        {"trace": trace, "span": server, "parent": client, "service": "back",
         "name": "back.get", "kind": "server", "start": sent + MS // 2,
         "end": sent + 7 * MS // 2}]


def exported(index: int) -> list[Span]:
    """The same trace as ScaleSim's export writes it: no CLIENT span, the callee's span
    under the caller's with its send time."""
    root, _, server = pair(index)
    sent = {"scalesim.sent_unix_nano": root["start"] + 2 * MS}
    return [root, {**server, "parent": root["span"], "attributes": sent}]


KINDS = {"server": 2, "client": 3}


def otlp(spans: list[Span]) -> dict[str, Any]:
    by_service: dict[str, list[dict[str, Any]]] = {}
    for s in spans:
        item = {"traceId": s["trace"], "spanId": s["span"], "name": s["name"],
                "kind": KINDS[s["kind"]], "startTimeUnixNano": str(s["start"]),
                "endTimeUnixNano": str(s["end"]),
                "attributes": [{"key": k, "value": {"intValue": str(v)}}
                               for k, v in s.get("attributes", {}).items()]}
        if s["parent"] is not None:
            item["parentSpanId"] = s["parent"]
        by_service.setdefault(s["service"], []).append(item)
    return {"resourceSpans": [
        {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": name}}]},
         "scopeSpans": [{"spans": items}]} for name, items in by_service.items()]}


def jaeger(spans: list[Span]) -> dict[str, Any]:
    traces: dict[str, list[dict[str, Any]]] = {}
    for s in spans:
        traces.setdefault(s["trace"], []).append({
            "traceID": s["trace"], "spanID": s["span"], "operationName": s["name"],
            "references": [] if s["parent"] is None else
            [{"refType": "CHILD_OF", "traceID": s["trace"], "spanID": s["parent"]}],
            "startTime": s["start"] // 1000, "duration": (s["end"] - s["start"]) // 1000,
            "tags": [{"key": "span.kind", "type": "string", "value": s["kind"]}],
            "processID": s["service"]})
    return {"data": [{"traceID": trace, "spans": items,
                      "processes": {"front": {"serviceName": "front"},
                                    "back": {"serviceName": "back"}}}
                     for trace, items in traces.items()]}


FORMS = {"otlp": otlp, "jaeger": jaeger}


def calibrate(tmp_path: Path, spans: list[Span], form: str,
              head: str = "") -> tuple[Any, Path]:
    """Run `calibrate --json` on `spans` written in `form`, after `head`: (the CLI's result,
    the file)."""
    (tmp_path / "spec.yaml").write_text(SPEC)
    path = tmp_path / f"t.{form}.json"
    path.write_text(head + json.dumps(FORMS[form](spans)), encoding="utf-8")
    result = CliRunner().invoke(app, ["calibrate", str(tmp_path / "spec.yaml"), "-o",
                                      str(tmp_path / "out.yaml"), "--json", "--traces",
                                      str(path)])
    return result, path


def dangling(span: Span, form: str) -> Span:
    """`span` with its parent lost: an id in no file (OTLP), no reference at all (Jaeger,
    as a span whose references were dropped)."""
    return {**span, "parent": "f" * 16 if form == "otlp" else None}


@pytest.mark.parametrize("form", FORMS)
def test_a_call_cut_off_from_its_caller_leaves_the_callers_own_time(tmp_path: Path,
                                                                     form: str) -> None:
    """Each client span names a parent in no file: front.order's visits show no call, so
    their spans (6 ms) were fitted as its own time (2 ms); now they are left out, with a
    warning naming the file and a span, and back.get, whole, is fitted."""
    spans = [s if s["kind"] != "client" else dangling(s, form)
             for i in range(TRACES) for s in pair(i)]
    result, path = calibrate(tmp_path, spans, form)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert "own_time" not in report["operations"]["front.order"]
    assert report["operations"]["front.order"]["unlinked"] == TRACES
    assert report["operations"]["back.get"]["own_time"]["fitted"] == "3ms"
    written = yaml.safe_load((tmp_path / "out.yaml").read_text())
    assert written["components"]["front"]["operations"]["order"]["work"] == "1ms"
    assert f"warning: {path}: {TRACES} spans cut off from their trace's root (span " \
        f"{spans[1]['span']} of trace {spans[1]['trace']} and more)" in result.stderr
    assert any(n.startswith(f"front.order: {TRACES} successful visits may have made a call "
                            "whose span is missing") for n in report["notes"])


@pytest.mark.parametrize("form", FORMS)
def test_traces_with_no_visit_left_to_fit_are_refused(tmp_path: Path, form: str) -> None:
    """The callee untraced and every call cut off: no visit's own time can be trusted."""
    spans = [s if s["kind"] != "client" else dangling(s, form)
             for i in range(TRACES) for s in pair(i) if s["service"] == "front"]
    result, path = calibrate(tmp_path, spans, form)
    assert result.exit_code == 2, result.output
    assert f"{path}: every successful visit may have made a call whose span is missing" \
        in result.stderr
    assert not (tmp_path / "out.yaml").exists()


def test_an_entry_called_from_outside_the_traces_is_whole(tmp_path: Path) -> None:
    """A root whose parent is an untraced caller's span (one top per trace) lost nothing
    under it: no warning, every own time fitted."""
    spans = [s if s["parent"] is not None else {**s, "parent": "e" * 16}
             for i in range(TRACES) for s in pair(i)]
    result, _ = calibrate(tmp_path, spans, "otlp")
    assert result.exit_code == 0 and "warning" not in result.stderr, result.output
    report = json.loads(result.stdout)
    assert report["operations"]["front.order"]["own_time"]["fitted"] == "2ms"


@pytest.mark.parametrize("shape", [pair, exported])
@pytest.mark.parametrize("shift", [5 * MS, -5 * MS])
def test_a_callee_outside_its_callers_clock_is_skew(tmp_path: Path, shape: Any,
                                                    shift: int) -> None:
    """back's clock 5 ms ahead (its span ends 4.5 ms after the answer, or after the visit
    that waited for it) or behind (it starts 4.5 ms before the call was sent): the hops
    came out 5.5 ms or 0 and front's own time wrong; now a warning names the file, a span
    and the 4.5 ms, and neither the network nor front's own time is fitted from them."""
    spans = [s if s["service"] == "front" else {**s, "start": s["start"] + shift,
                                                 "end": s["end"] + shift}
             for i in range(TRACES) for s in shape(i)]
    result, path = calibrate(tmp_path, spans, "otlp")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert "network" not in report and "own_time" not in report["operations"]["front.order"]
    assert report["operations"]["front.order"]["skewed"] == TRACES
    assert report["operations"]["back.get"]["own_time"]["fitted"] == "3ms"
    first = next(s for s in spans if s["service"] == "back")
    assert f"warning: {path}: {TRACES} spans of a call outside the interval their caller's " \
        f"clock gives them, by up to 4.5 ms (span {first['span']} of trace " \
        f"{first['trace']})" in result.stderr


def calibrate_files(tmp_path: Path, documents: list[dict[str, Any]]) -> tuple[Any, list[Path]]:
    """Run `calibrate --json` on several trace files, in order."""
    (tmp_path / "spec.yaml").write_text(SPEC)
    paths = [tmp_path / f"t{i}.json" for i in range(len(documents))]
    for path, document in zip(paths, documents, strict=True):
        path.write_text(json.dumps(document))
    result = CliRunner().invoke(app, ["calibrate", str(tmp_path / "spec.yaml"), "-o",
                                      str(tmp_path / "out.yaml"), "--json",
                                      *(arg for p in paths for arg in ("--traces", str(p)))])
    return result, paths


def test_the_same_run_in_two_files_is_counted_once(tmp_path: Path) -> None:
    """The same spans as OTLP and as Jaeger counted every visit twice; now once, with a
    warning naming both files."""
    spans = [s for i in range(TRACES) for s in pair(i)]
    result, (first, second) = calibrate_files(tmp_path, [otlp(spans), jaeger(spans)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["operations"]["front.order"]["visits"] == TRACES
    assert report["operations"]["front.order"]["own_time"]["fitted"] == "2ms"
    assert f"warning: {second}: {3 * TRACES} spans of {TRACES} traces were read already " \
        f"from {first}" in result.stderr


def test_a_trace_split_over_files_by_service_is_read_whole(tmp_path: Path) -> None:
    """Each service's spans in a file of its own share trace ids but no span: no warning,
    and front's calls are seen (its own time 2 ms, not 6)."""
    spans = [s for i in range(TRACES) for s in pair(i)]
    result, _ = calibrate_files(tmp_path, [otlp([s for s in spans if s["service"] == name])
                                           for name in ("front", "back")])
    assert result.exit_code == 0 and "warning" not in result.stderr, result.output
    report = json.loads(result.stdout)
    assert report["operations"]["front.order"]["own_time"]["fitted"] == "2ms"
    assert report["operations"]["back.get"]["visits"] == TRACES


@pytest.mark.parametrize("form", FORMS)
def test_a_span_repeated_in_one_file_is_counted_once(tmp_path: Path, form: str) -> None:
    """The first trace's spans written again in the same file (an export appended to
    itself) counted its visits twice and were warned of as spans cut off from their root;
    now each is read once, with a warning that says so."""
    spans = [s for i in range(TRACES) for s in pair(i)]
    result, path = calibrate(tmp_path, [*spans, *pair(0)], form)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["operations"]["front.order"]["visits"] == TRACES
    assert report["operations"]["back.get"]["visits"] == TRACES
    assert report["operations"]["front.order"]["own_time"]["fitted"] == "2ms"
    assert f"warning: {path}: 3 spans of 1 trace were read already earlier in the file " \
        "(the same trace and span ids" in result.stderr
    assert "cut off" not in result.stderr


@pytest.mark.parametrize("form", FORMS)
def test_a_trace_file_with_a_byte_order_mark_is_read(tmp_path: Path, form: str) -> None:
    """A UTF-8 byte order mark before the JSON was refused with Python's 'Unexpected UTF-8
    BOM (decode using utf-8-sig)'; it is read as the spec's YAML is."""
    spans = [s for i in range(TRACES) for s in pair(i)]
    result, _ = calibrate(tmp_path, spans, form, head="\ufeff")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["operations"]["front.order"]["visits"] == TRACES
    assert report["operations"]["front.order"]["own_time"]["fitted"] == "2ms"
