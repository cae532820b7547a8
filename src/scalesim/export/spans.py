"""Sampled trace spans as plain records, and the clock that turns simulated seconds into
wall-clock timestamps for tracing tools.

Simulated time starts at EPOCH: 2024-01-01T00:00:00Z. A span at simulated second s is at
EPOCH_UNIX_NANO + round(s × 10⁹) nanoseconds; the fixed epoch keeps exports byte-identical
between runs, and tools that need a real date get one.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Any

EPOCH_UNIX_NANO = 1_704_067_200_000_000_000  # 2024-01-01T00:00:00Z


def unix_nano(seconds: float) -> int:
    return EPOCH_UNIX_NANO + round(seconds * 1e9)


def simulated_s(nanos: int) -> float:
    return round((nanos - EPOCH_UNIX_NANO) / 1e9, 9)


@dataclass(frozen=True)
class Span:
    """One visit of a sampled request, with times as integer nanoseconds since the Unix
    epoch. `end` is None for a visit unfinished when the run ended."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    workload: str
    sample: str  # typical, slowest, failed
    component: str
    operation: str
    replica: int | None
    attempt: int
    kind: str  # entry, call, retry, hedge, async, delivery
    status: str  # ok or the cause of failure
    sent: int
    start: int
    end: int | None
    links: tuple[tuple[str, str], ...] = ()  # (trace, span): a delivery's publish


DELIVERY = "delivery"
CONSUMED = ("async", DELIVERY)  # kinds whose visits are CONSUMER spans: nobody waits on them
FIRST = "first"  # the sample of a queue's traced messages: the first of the window


def _derived(hex_id: str, occurrence: int) -> str:
    if not occurrence:
        return hex_id
    return hashlib.sha256(f"{hex_id}/{occurrence}".encode()).hexdigest()[:len(hex_id)]


def spans(result: dict[str, Any]) -> list[Span]:
    """Every span of the result's sampled traces, in trace then span order, then the
    deliveries of each queue's traced messages (`deliveries`). A visit that never started
    (refused before a worker took it) starts when it was sent.

    Trace ids must be unique in a tracing backend; should a result repeat one for two
    different requests, the repeat's trace and span ids are derived afresh (a hash of the
    id and its occurrence), so neither request is merged into the other.
    """
    out: list[Span] = []
    seen: Counter[str] = Counter()
    for trace in result.get("traces", []):
        occurrence = seen[trace["trace_id"]]
        seen[trace["trace_id"]] += 1
        trace_id = _derived(trace["trace_id"], occurrence)
        for span in trace["spans"]:
            start = span["start_s"] if span["start_s"] is not None else span["sent_s"]
            parent = span["parent_span_id"]
            out.append(Span(trace_id, _derived(span["span_id"], occurrence),
                            parent and _derived(parent, occurrence),
                            trace["workload"], trace["kind"], span["component"],
                            span["operation"], span["replica"], span["attempt"], span["kind"],
                            span["status"], unix_nano(span["sent_s"]), unix_nano(start),
                            None if span["end_s"] is None else unix_nano(span["end_s"])))
    return out + deliveries(result, out)


def deliveries(result: dict[str, Any], requests: list[Span]) -> list[Span]:
    """The consumer's visit of each delivery of a queue's traced messages, each a trace of
    its own (the message is traced apart from the request that published it). Its
    span runs from the delivery's start to its end; its calls are not traced. When exactly
    one traced publish to the queue happened at the message's publication, the span links
    to it (OpenTelemetry's messaging conventions: a consumer's span links to the context
    that created the message)."""
    out: list[Span] = []
    for name, subscription in sorted(result.get("queues", {}).items()):
        queue, _, consumer = name.partition("->")
        component, _, operation = consumer.partition(".")
        by_time: dict[int, list[Span]] = {}
        for span in requests:
            if span.component == queue and span.kind == "async":
                by_time.setdefault(span.start, []).append(span)
        for message in subscription.get("traces", []):
            publish = by_time.get(unix_nano(message["published_s"]), [])
            link = publish[0] if len(publish) == 1 else None
            for attempt, visit in enumerate(message["deliveries"], 1):
                trace_id = _hashed(f"{name}/{message['message']}/{attempt}", 32)
                start = unix_nano(visit["start_s"])
                out.append(Span(
                    trace_id, _hashed(trace_id, 16), None,
                    link.workload if link else "", FIRST, component, operation, None, attempt,
                    DELIVERY, visit["status"], start, start,
                    None if visit["end_s"] is None else unix_nano(visit["end_s"]),
                    ((link.trace_id, link.span_id),) if link else ()))
    return out


def _hashed(text: str, size: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:size]


def end_or_start(span: Span) -> int:
    """Tracing formats need an end: an unfinished span ends where it started (and says
    `unfinished` in its status)."""
    return span.end if span.end is not None else span.start
