"""Traces as Jaeger JSON (the format of Jaeger's UI "JSON file" upload and /api/traces):
data[] of traces with spans (CHILD_OF references, FOLLOWS_FROM from a queue's delivery to
its message's publish, microsecond times) and processes."""

from __future__ import annotations

from typing import Any

from scalesim.export.spans import CONSUMED, Span, end_or_start

UNFINISHED = "unfinished"
NANOS_PER_MICRO = 1000


def _tag(key: str, value: str | int | bool) -> dict[str, Any]:
    kind = "bool" if isinstance(value, bool) else "int64" if isinstance(value, int) else "string"
    return {"key": key, "type": kind, "value": value}


def _span(span: Span, process: str) -> dict[str, Any]:
    start = span.start // NANOS_PER_MICRO
    tags = [_tag("span.kind", "consumer" if span.kind in CONSUMED else "server"),
            _tag("scalesim.workload", span.workload), _tag("scalesim.sample", span.sample),
            _tag("scalesim.component", span.component),
            _tag("scalesim.operation", span.operation), _tag("scalesim.attempt", span.attempt),
            _tag("scalesim.kind", span.kind), _tag("scalesim.status", span.status),
            _tag("scalesim.sent_us", span.sent // NANOS_PER_MICRO)]
    if span.replica is not None:
        tags.append(_tag("scalesim.replica", span.replica))
    if span.status != "ok":
        tags.append(_tag("error", True))
    references = ([{"refType": "CHILD_OF", "traceID": span.trace_id,
                    "spanID": span.parent_span_id}] if span.parent_span_id else []) + [
        {"refType": "FOLLOWS_FROM", "traceID": trace, "spanID": linked}
        for trace, linked in span.links]
    return {"traceID": span.trace_id, "spanID": span.span_id,
            "operationName": f"{span.component}.{span.operation}", "references": references,
            "startTime": start, "duration": end_or_start(span) // NANOS_PER_MICRO - start,
            "flags": 1, "tags": tags, "logs": [], "processID": process, "warnings": None}


def to_jaeger(spans: list[Span], system: str) -> dict[str, Any]:
    """A Jaeger JSON document of `spans`: a process per component, tagged with the system's
    name (`scalesim.system`, as the OTLP export's resources are), so that `scalesim calibrate`
    can tell traces of another system."""
    traces: dict[str, list[Span]] = {}
    for span in spans:
        traces.setdefault(span.trace_id, []).append(span)
    data = []
    for trace_id, members in traces.items():
        processes: dict[str, str] = {}
        for span in members:
            processes.setdefault(span.component, f"p{len(processes) + 1}")
        data.append({"traceID": trace_id,
                     "spans": [_span(s, processes[s.component]) for s in members],
                     "processes": {pid: {"serviceName": name,
                                         "tags": [_tag("scalesim.system", system)]}
                                   for name, pid in processes.items()},
                     "warnings": None})
    return {"data": data, "total": 0, "limit": 0, "offset": 0, "errors": None}


def load_jaeger(document: dict[str, Any]) -> list[Span]:
    """Spans back from a Jaeger JSON document this module wrote (times at microsecond
    precision, as Jaeger keeps them)."""
    out: list[Span] = []
    for trace in document["data"]:
        for item in trace["spans"]:
            tags = {t["key"]: t["value"] for t in item["tags"]}
            parents = [r["spanID"] for r in item["references"] if r["refType"] == "CHILD_OF"]
            status = str(tags["scalesim.status"])
            replica = tags.get("scalesim.replica")
            start = item["startTime"] * NANOS_PER_MICRO
            out.append(Span(
                item["traceID"], item["spanID"], parents[0] if parents else None,
                str(tags["scalesim.workload"]), str(tags["scalesim.sample"]),
                str(tags["scalesim.component"]), str(tags["scalesim.operation"]),
                int(replica) if replica is not None else None, int(tags["scalesim.attempt"]),
                str(tags["scalesim.kind"]), status,
                int(tags["scalesim.sent_us"]) * NANOS_PER_MICRO, start,
                None if status == UNFINISHED else start + item["duration"] * NANOS_PER_MICRO,
                tuple((r["traceID"], r["spanID"]) for r in item["references"]
                      if r["refType"] == "FOLLOWS_FROM")))
    return out
