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
    kind: str  # entry, call, retry, hedge, async
    status: str  # ok or the cause of failure
    sent: int
    start: int
    end: int | None


def _derived(hex_id: str, occurrence: int) -> str:
    if not occurrence:
        return hex_id
    return hashlib.sha256(f"{hex_id}/{occurrence}".encode()).hexdigest()[:len(hex_id)]


def spans(result: dict[str, Any]) -> list[Span]:
    """Every span of the result's sampled traces, in trace then span order. A visit that
    never started (refused before a worker took it) starts when it was sent.

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
    return out


def end_or_start(span: Span) -> int:
    """Tracing formats need an end: an unfinished span ends where it started (and says
    `unfinished` in its status)."""
    return span.end if span.end is not None else span.start
