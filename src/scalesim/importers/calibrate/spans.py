"""Trace files read into one neutral form: OTLP JSON and Jaeger JSON.

Accepted as the tools write them:
- OTLP/JSON (an OTLP/HTTP export body: `resourceSpans` → `scopeSpans` → `spans`), one
  document or one per line (the OpenTelemetry Collector's file exporter), with ids in hex
  (the OTLP JSON mapping) or base64 (protobuf's own JSON mapping), kinds and status codes
  as numbers or enum names; `scalesim export --traces otlp` writes this too;
- Jaeger JSON (the UI's download and `/api/traces`: `data` → traces → `spans` with
  `references`, microsecond times, `tags` and `processes`), as Jaeger writes it and as
  `scalesim export --traces jaeger` does; Tempo's OTLP output is the first form.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from scalesim.importers.calibrate import CalibrationError, read_file
from scalesim.spec.errors import dotted
from scalesim.spec.text import unencodable

KINDS = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
Value = str | int | float | bool


@dataclass(frozen=True)
class Span:
    """One span: times in integer nanoseconds since the Unix epoch."""

    trace: str
    span: str
    parent: str | None
    service: str
    name: str
    kind: str  # server, client, consumer, producer, internal
    start: int
    end: int
    error: bool
    status: str  # the status message (a cause), or "" when none
    attributes: dict[str, Value] = field(default_factory=dict)
    system: str = ""  # the system the traces say they are of, when they do


SYSTEM_KEYS = ("scalesim.system", "service.namespace")  # a resource's or process's own


def _system(attributes: dict[str, Value]) -> str:
    """The system a resource (OTLP) or process (Jaeger) says it belongs to: ScaleSim's
    export names it, an OpenTelemetry SDK may set the service's namespace."""
    return next((str(attributes[key]) for key in SYSTEM_KEYS if attributes.get(key)), "")


def read_spans(path: Path) -> list[Span]:
    """Every span of the file; an unreadable or unrecognised file is an CalibrationError that
    names it."""
    spans: list[Span] = []
    for line, document in _documents(path, read_file(path)):
        place = f"{path}:{line}" if line else str(path)  # a document per line: its line
        if not isinstance(document, dict):
            raise CalibrationError(f"{place}: not a trace document (a JSON object is expected)")
        unencoded = unencodable(document)  # JSON's "\\ud800": no report could show it
        if unencoded:
            where, problem = unencoded[0]
            raise CalibrationError(f"{place}: {dotted(where)}: {problem}")
        if "resourceSpans" in document:
            spans += _located(place, "resourceSpans", _otlp, place, document)
        elif "data" in document:
            spans += _located(place, "data", _jaeger, place, document)
        else:
            raise CalibrationError(f"{place}: neither OTLP JSON (resourceSpans) nor Jaeger "
                                   "JSON (data)")
    _check_parents(path, spans)
    return spans


def _check_parents(path: Path, spans: list[Span]) -> None:
    """Refuse a span that is its own ancestor (a parent id pointing back down the tree),
    which no tracer writes and which would send the walk over the tree round forever."""
    parent = {(s.trace, s.span): s.parent for s in spans}
    done: set[tuple[str, str]] = set()
    for span in spans:
        seen: set[tuple[str, str]] = set()
        at: tuple[str, str] | None = (span.trace, span.span)
        while at is not None and at not in done:
            if at in seen:
                raise CalibrationError(f"{path}: trace {at[0]}: span {at[1]} is its own "
                                       "ancestor (its parent ids form a loop)")
            seen.add(at)
            up = parent.get(at)
            at = (at[0], up) if up is not None else None
        done |= seen


T = TypeVar("T")


class _BadValue(ValueError):
    """A value read but out of its range; the message says so in words."""


class _BadField(ValueError):
    """A span field whose value cannot be read: the field, and why, in words."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(reason)
        self.name = name


def _located(place: str, where: str, read: Callable[..., T], *args: Any) -> T:
    """`read(*args)`, its malformed input an error naming the file (and line), the place in
    the document and the field."""
    try:
        return read(*args)
    except KeyError as error:
        raise CalibrationError(f"{place}: {where}: missing field {error.args[0]!r}") from None
    except _BadField as error:
        raise CalibrationError(f"{place}: {where}.{error.name}: {error}") from None
    except (AttributeError, TypeError, ValueError):  # a list or number where an object is
        raise CalibrationError(f"{place}: {where}: malformed: not an object of a span's "
                               "fields") from None


def _field(item: dict[str, Any], name: str, read: Callable[[Any], T], expected: str) -> T:
    """`read(item[name])`; a value it cannot take is a _BadField saying what was expected
    (Python's own messages, 'Incorrect padding', name neither the field nor the fix)."""
    value = item[name]
    try:
        return read(value)
    except _BadValue as error:
        raise _BadField(name, str(error)) from None
    except (TypeError, ValueError, OverflowError, binascii.Error):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "…"
        raise _BadField(name, f"{shown} is not {expected}") from None


def _documents(path: Path, text: str) -> list[tuple[int, Any]]:
    """(line, document) of the file's one document (line 0), or of each of its lines. A
    file whose first line is no document by itself is one document (pretty-printed): its
    error is where that document breaks, not at its first line."""
    try:
        return [(0, json.loads(text))]
    except json.JSONDecodeError as error:
        first = next((line for line in text.splitlines() if line.strip()), "")
        if not _is_json(first):
            raise CalibrationError(f"{path}:{error.lineno}:{error.colno}: not JSON: "
                                   f"{error.msg}") from None
    documents = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                documents.append((number, json.loads(line)))
            except json.JSONDecodeError as error:
                raise CalibrationError(f"{path}:{number}:{error.colno}: not JSON: "
                                       f"{error.msg}") from None
    return documents


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _hex_id(value: str) -> str:
    """OTLP JSON ids are hex; protobuf's JSON mapping writes the bytes in base64."""
    text = value.strip()
    if text and all(c in "0123456789abcdefABCDEF" for c in text) and len(text) in (16, 32):
        return text.lower()
    return base64.b64decode(text, validate=True).hex()


def _value(typed: dict[str, Any]) -> Value:
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in typed:
            value: Value = typed[key]
            return value
    if "intValue" in typed:
        return int(typed["intValue"])
    return str(typed)


def _kind(value: Any) -> str:
    if isinstance(value, str):
        name = value.removeprefix("SPAN_KIND_").lower()
        return name if name in KINDS.values() else "internal"
    return KINDS.get(int(value), "internal")


def _is_error(status: dict[str, Any]) -> bool:
    code = status.get("code", 0)
    return code in (2, "STATUS_CODE_ERROR")


def _otlp(place: str, document: dict[str, Any]) -> list[Span]:
    out = []
    for r, resource in enumerate(document["resourceSpans"]):
        attributes = {a["key"]: _value(a["value"])
                      for a in resource.get("resource", {}).get("attributes", [])}
        service = str(attributes.get("service.name", "unknown"))
        system = _system(attributes)
        scopes = resource.get("scopeSpans", resource.get("instrumentationLibrarySpans", []))
        for s, scope in enumerate(scopes):
            for k, item in enumerate(scope.get("spans", [])):
                out.append(_located(place, f"resourceSpans[{r}].scopeSpans[{s}].spans[{k}]",
                                    _otlp_span, item, service, system))
    return out


_ID = "an id: hex (32 digits for a trace, 16 for a span) or base64"
_NANOS = "a whole number of nanoseconds"


def _otlp_span(item: dict[str, Any], service: str, system: str) -> Span:
    own = _field(item, "attributes", _attributes, "a list of {key, value} attributes") \
        if "attributes" in item else {}
    status = item.get("status", {})
    parent = _field(item, "parentSpanId", _hex_id, _ID) if item.get("parentSpanId") else None
    kind = _field(item, "kind", _kind, "a span kind (1 to 5, or SPAN_KIND_…)") \
        if "kind" in item else "internal"
    trace, span_id = _field(item, "traceId", _hex_id, _ID), _field(item, "spanId", _hex_id, _ID)
    start = _field(item, "startTimeUnixNano", _nanos, _NANOS)
    end = _field(item, "endTimeUnixNano", _nanos, _NANOS)
    if end < start:  # OTLP's trace.proto: the end is expected at or after the start
        raise _backwards(item["spanId"], "endTimeUnixNano",
                         f"{end} is before its startTimeUnixNano {start}")
    return Span(trace, span_id, parent, str(own.get("scalesim.component", service)),
                item["name"], kind, start, end, _is_error(status),
                str(status.get("message", "")), own, system)


def _backwards(span_id: Any, name: str, detail: str) -> _BadField:
    """A span that ends before it starts: no tracer's clock runs so, and its negative time
    would be read as no time at all (own times, hops and waits are clipped at 0)."""
    return _BadField(name, f"span {span_id} ends before it starts: {detail}")


def _attributes(listed: list[dict[str, Any]]) -> dict[str, Value]:
    return {a["key"]: _value(a["value"]) for a in listed}


def _nanos(value: Any) -> int:
    """A time in nanoseconds since the epoch, as OTLP's fixed64 holds it: 0 to 2⁶⁴ − 1."""
    nanos = int(value)
    if not 0 <= nanos < 2**64:
        raise _BadValue("a time before 0 or past 2^64 ns (OTLP's fixed64: about the year "
                         "2554)")
    return nanos


def _jaeger(place: str, document: dict[str, Any]) -> list[Span]:
    out = []
    for t, trace in enumerate(document["data"] or []):
        processes = {pid: (process.get("serviceName", "unknown"), _system(
                         {t["key"]: t["value"] for t in process.get("tags") or []}))
                     for pid, process in (trace.get("processes") or {}).items()}
        for k, item in enumerate(trace["spans"]):
            out.append(_located(place, f"data[{t}].spans[{k}]",
                                _jaeger_span, item, processes))
    return out


_MICROS = "a whole number of microseconds"


def _micros(value: Any) -> int:
    return _nanos(int(value) * 1000)


def _jaeger_span(item: dict[str, Any], processes: dict[str, tuple[str, str]]) -> Span:
    tags: dict[str, Value] = {t["key"]: t["value"] for t in item.get("tags") or []}
    parents = [r["spanID"] for r in item.get("references") or []
               if r.get("refType") == "CHILD_OF"]
    start = _field(item, "startTime", _micros, _MICROS)
    end = _field(item, "duration", lambda micros: _nanos(start + int(micros) * 1000), _MICROS)
    if end < start:  # Jaeger's model holds a duration as an unsigned count of microseconds
        raise _backwards(item["spanID"], "duration", f"{item['duration']} µs, a negative "
                         "duration")
    error = tags.get("error") in (True, "true")
    process, system = processes.get(item.get("processID", ""), ("unknown", ""))
    service = str(tags.get("scalesim.component", process))
    return Span(
        str(item["traceID"]).lower(), str(item["spanID"]).lower(),
        parents[0].lower() if parents else None, service, item["operationName"],
        str(tags.get("span.kind", "internal")), start, end, error,
        str(tags.get("scalesim.status", tags.get("otel.status_description", "")))
        if error else "", tags, system)
