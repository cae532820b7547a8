"""Traces as OpenTelemetry OTLP/JSON (the body of an OTLP/HTTP export request).

One resourceSpans per component (service.name), spans with hex ids and nanosecond times as
strings, as the OTLP JSON mapping asks. A visit is a SERVER span (CONSUMER for an async
call's visit and a queue's delivery to its consumer) whose parent is its caller's visit; a
delivery has no parent and links to the publish that sent its message, when traced; status
OK, or ERROR with the cause.
"""

from __future__ import annotations

from typing import Any

from scalesim import __version__
from scalesim.export.spans import CONSUMED, Span, end_or_start

SPAN_KIND_SERVER, SPAN_KIND_CONSUMER = 2, 5
STATUS_CODE_OK, STATUS_CODE_ERROR = 1, 2
UNFINISHED = "unfinished"


def _attribute(key: str, value: str | int) -> dict[str, Any]:
    typed = {"intValue": str(value)} if isinstance(value, int) else {"stringValue": value}
    return {"key": key, "value": typed}


def _span(span: Span) -> dict[str, Any]:
    attributes = [_attribute("scalesim.workload", span.workload),
                  _attribute("scalesim.sample", span.sample),
                  _attribute("scalesim.component", span.component),
                  _attribute("scalesim.operation", span.operation),
                  _attribute("scalesim.attempt", span.attempt),
                  _attribute("scalesim.kind", span.kind),
                  _attribute("scalesim.status", span.status),
                  _attribute("scalesim.sent_unix_nano", span.sent)]
    if span.replica is not None:
        attributes.append(_attribute("scalesim.replica", span.replica))
    out: dict[str, Any] = {
        "traceId": span.trace_id, "spanId": span.span_id,
        "name": f"{span.component}.{span.operation}",
        "kind": SPAN_KIND_CONSUMER if span.kind in CONSUMED else SPAN_KIND_SERVER,
        "startTimeUnixNano": str(span.start), "endTimeUnixNano": str(end_or_start(span)),
        "attributes": attributes,
        "status": ({"code": STATUS_CODE_OK} if span.status == "ok"
                   else {"code": STATUS_CODE_ERROR, "message": span.status}),
    }
    if span.parent_span_id:
        out["parentSpanId"] = span.parent_span_id
    if span.links:
        out["links"] = [{"traceId": trace, "spanId": linked} for trace, linked in span.links]
    return out


def to_otlp(spans: list[Span], system: str) -> dict[str, Any]:
    by_service: dict[str, list[dict[str, Any]]] = {}
    for span in spans:
        by_service.setdefault(span.component, []).append(_span(span))
    return {"resourceSpans": [
        {"resource": {"attributes": [_attribute("service.name", service),
                                     _attribute("scalesim.system", system)]},
         "scopeSpans": [{"scope": {"name": "scalesim", "version": __version__},
                         "spans": items}]}
        for service, items in by_service.items()]}


def _value(attribute: dict[str, Any]) -> str | int:
    value = attribute["value"]
    return int(value["intValue"]) if "intValue" in value else str(value["stringValue"])


def load_otlp(document: dict[str, Any]) -> list[Span]:
    """Spans back from an OTLP/JSON document this module wrote (trace order kept per
    service; sort to compare)."""
    out: list[Span] = []
    for resource in document["resourceSpans"]:
        for scope in resource["scopeSpans"]:
            for item in scope["spans"]:
                attrs = {a["key"]: _value(a) for a in item["attributes"]}
                status = str(attrs["scalesim.status"])
                replica = attrs.get("scalesim.replica")
                out.append(Span(
                    item["traceId"], item["spanId"], item.get("parentSpanId") or None,
                    str(attrs["scalesim.workload"]), str(attrs["scalesim.sample"]),
                    str(attrs["scalesim.component"]), str(attrs["scalesim.operation"]),
                    int(replica) if replica is not None else None, int(attrs["scalesim.attempt"]),
                    str(attrs["scalesim.kind"]), status, int(attrs["scalesim.sent_unix_nano"]),
                    int(item["startTimeUnixNano"]),
                    None if status == UNFINISHED else int(item["endTimeUnixNano"]),
                    tuple((link["traceId"], link["spanId"]) for link in item.get("links", []))))
    return out
