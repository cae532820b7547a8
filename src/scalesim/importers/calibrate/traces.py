"""What traces say about each operation: its own time, its calls and its errors.

A *visit* is a SERVER (or CONSUMER) span: one execution of an operation, named
`component.operation` by ScaleSim's exports and the generated services. Its *attempts* are
the calls it made: a CLIENT span under it (the callee's visit under that), or — in
ScaleSim's own exports, which have no client spans — the callee's visit itself, sent at its
`scalesim.sent_unix_nano` and answered one network hop after it ended. From these:

- **own time** (self time): the visit's span minus the time it waited on its synchronous
  attempts (the union of their intervals). Whether an attempt was waited for is the spec's
  to say where it says it (a plain call is, an async one is not); otherwise (a hedge, a
  parallel step that waits for fewer than all, a call the spec does not make) an attempt
  answered after the visit ended did not hold it. Times are compared at the trace clock's
  resolution (`clock_grid`): an answer computed from rounded times may land up to two grid
  steps past the caller's end;
- **hop**: one-way network time, half of an attempt's interval minus its callee's visit
  (client span − server span), less the runtime's CPU overhead the simulator charges there;
- **call probability**: the share of the caller's visits that called that target;
- **fan-out**: first attempts of one visit whose intervals overlap ran in parallel;
- **retries**: attempts after the first of one call (the `scalesim.attempt` attribute, or
  the span's position in a run of attempts to one target);
- **own errors**: visits that failed while every call they made succeeded (when ScaleSim's
  export names the cause, only `error`: the others are the simulation's own doing, from
  the spec's capacity, resilience settings and faults).

A span is a visit only if the operation ran and ended. In ScaleSim's exports, whose spans
name their outcome (`scalesim.status`), a span refused before its operation ran (refused in
the caller: an open breaker, a full bulkhead, a full connection pool; or at the callee's
door: a full queue, a rate limit, shedding, no replica), with no calls under it, is not,
nor is one still `unfinished` when the run ended: like a CLIENT span with no SERVER span
under it (the call never arrived, or the callee is not traced), each is an attempt of its
caller's call and nothing of the callee's. An attempt the caller gave up on — unfinished,
or answered after the spec's timeout — held its caller until that timeout and failed.
Own time comes from successful visits whose calls all ended well: after a failed call a
visit's time holds its fallback, which is not the operation's work.

A framework that traces requests itself (FastAPI's `POST /path` server span, with internal
spans under it) wraps the operation's own span in the same service, nested in it or beside
it under the same parent: the innermost server span is the visit, and the callee of a call.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from scalesim.importers.calibrate.spans import Span

VISIT_KINDS = ("server", "consumer")
NS = 1e-9
# Outcomes in ScaleSim's exports of a visit turned away before its operation ran: in the
# caller (docs/results.md) or at the callee's door.
REFUSALS = ("circuit_open", "bulkhead_full", "overflow", "rejected", "rate_limited", "shed",
            "unavailable")
UNFINISHED = "unfinished"


@dataclass(frozen=True)
class Waiting:
    """What the spec says of a caller's wait on one target."""

    waited: bool | None  # True: it waits for the answer; False: async; None: not said
    timeout: int | None = None  # ns an attempt is waited for at most


@dataclass
class Attempt:
    target: str  # component.operation
    sent: int
    returned: int
    attempt: int
    failed: bool
    callee: Span | None  # the callee's visit, when traced
    waited: bool | None = None  # as the spec or the trace says; None: by the times


@dataclass
class Visit:
    span: Span
    operation: str  # component.operation
    slack: int  # ns an answer may land past the end and still have been waited for
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def duration(self) -> int:
        return self.span.end - self.span.start

    def calls_ok(self) -> bool:
        """Whether each call it waited for ended well (its last attempt to each target)."""
        final = {a.target: a for a in self.waited()}
        return not any(a.failed for a in final.values())

    def waited(self) -> list[Attempt]:
        """The attempts it waited for: those the spec says it waits for, else those
        answered before it ended (within the clock's rounding)."""
        return [a for a in self.attempts if a.waited or
                (a.waited is None and a.returned <= self.span.end + self.slack)]


def clock_grid(spans: list[Span]) -> int:
    """The resolution, in ns, of the clock the trace's times were written with: the
    largest step every start and end is a multiple of (ScaleSim's exports round to 0.1 ms,
    Jaeger keeps microseconds, OTLP nanoseconds)."""
    return math.gcd(*(t for s in spans for t in (s.start, s.end))) or 1


def slack(grid: int) -> int:
    """How far past its caller's end a waited-for answer may seem to land. The answer
    ScaleSim's export implies (callee end + (start − sent)) and the caller's end are four
    times each rounded to the grid, each off by at most half a step: two steps in all."""
    return 2 * grid


def operation_name(span: Span) -> str:
    """'component.operation': the span's name when it is one, else service + name."""
    component = str(span.attributes.get("scalesim.component", span.service))
    operation = span.attributes.get("scalesim.operation")
    if operation is not None:
        return f"{component}.{operation}"
    name = span.name
    if name.startswith(component + "."):
        return name
    return f"{component}.{name}"


def visits(spans: list[Span], waiting: Mapping[tuple[str, str], Waiting]) -> list[Visit]:
    """The visits of every trace, each with its attempts in the order they were sent;
    `waiting` is the spec's word on each (caller, target)'s wait."""
    children = _children(spans)
    late = slack(clock_grid(spans))
    found = [Visit(span, operation_name(span), late) for span in _operations(spans, children)
             if _not_run(span, children) is None]
    for visit in found:
        for child in _below(visit.span, children):
            attempt = _attempt(visit, child, children)
            if attempt is not None:
                _as_said(attempt, waiting.get((visit.operation, attempt.target)), late)
                visit.attempts.append(attempt)
        visit.attempts.sort(key=lambda a: (a.sent, a.returned))
        _number_attempts(visit)
    return found


def left_out(spans: list[Span]) -> Counter[tuple[str, str]]:
    """(operation, why) of the spans that are no visits: refused before the operation ran,
    or unfinished."""
    children = _children(spans)
    return Counter((operation_name(span), why) for span in _operations(spans, children)
                   if (why := _not_run(span, children)) is not None)


Children = defaultdict[tuple[str, str], list[Span]]


def _children(spans: list[Span]) -> Children:
    children: Children = defaultdict(list)
    for span in spans:
        if span.parent is not None:
            children[(span.trace, span.parent)].append(span)
    return children


def _operations(spans: list[Span], children: Children) -> list[Span]:
    """The spans of operations: server (or consumer) spans, a framework's wrapper seen
    through."""
    wrappers = _wrappers(spans)
    return [span for span in spans if span.kind in VISIT_KINDS and
            (span.trace, span.span) not in wrappers and _innermost(span, children) is span]


def _not_run(span: Span, children: Children) -> str | None:
    """Why ScaleSim's export holds a span that is no visit ('refused', 'unfinished'), or
    None. A refusal with calls under it is the visit's outcome from one of its calls, and
    it ran."""
    status = span.attributes.get("scalesim.status")
    if status == UNFINISHED:
        return UNFINISHED
    if status in REFUSALS and not children[(span.trace, span.span)]:
        return "refused"
    return None


def _as_said(attempt: Attempt, said: Waiting | None, slack: int) -> None:
    """The attempt as the spec's call has it: waited for or not, and given up on at the
    timeout (failed, its callee's answer, if any, never arriving)."""
    if said is None:
        return
    if said.waited is not None:
        attempt.waited = said.waited
    if said.timeout is not None and attempt.returned > attempt.sent + said.timeout + slack:
        attempt.returned = attempt.sent + said.timeout
        attempt.failed = True
        attempt.callee = None


def _wrappers(spans: list[Span]) -> set[tuple[str, str]]:
    """Server spans beside another of the same service and parent, of another name, that
    they enclose in time (a framework's request span around the operation's own; parallel
    calls to one operation share its name)."""
    siblings: defaultdict[tuple[str, str | None, str], list[Span]] = defaultdict(list)
    for span in spans:
        if span.kind in VISIT_KINDS:
            siblings[(span.trace, span.parent, span.service)].append(span)
    out = set()
    for group in siblings.values():
        for outer in group:
            if any(inner.name != outer.name and outer.start <= inner.start
                   and inner.end <= outer.end
                   and (inner.start, inner.end) != (outer.start, outer.end) for inner in group):
                out.add((outer.trace, outer.span))
    return out


def _below(span: Span, children: Children) -> list[Span]:
    """The spans that hang from `span` in its own process: its children, and theirs through
    internal spans (a framework's routing and endpoint spans)."""
    out, stack = [], list(children[(span.trace, span.span)])
    while stack:
        child = stack.pop()
        if child.kind == "internal" and child.service == span.service:
            stack += children[(child.trace, child.span)]
        else:
            out.append(child)
    return out


def _innermost(span: Span, children: Children) -> Span:
    """The deepest server span of the same service nested in `span` (itself if none)."""
    for child in _below(span, children):
        if child.kind in VISIT_KINDS and child.service == span.service:
            return _innermost(child, children)
    return span


def _attempt(visit: Visit, child: Span, children: Children) -> Attempt | None:
    number = int(child.attributes.get("scalesim.attempt", 0) or 0)
    if child.kind == "client":
        callees = sorted((_innermost(s, children) for s in children[(child.trace, child.span)]
                          if s.kind in VISIT_KINDS), key=lambda s: s.end - s.start)
        callee = callees[0] if callees else None  # the innermost: the operation's own
        target = str(child.attributes.get("scalesim.dependency", ""))
        if not target:
            target = operation_name(callee) if callee else child.name.removeprefix("call ")
        return Attempt(target, child.start, child.end, number, child.error, callee)
    if child.kind in VISIT_KINDS and child.service != visit.span.service:
        # ScaleSim's export: the callee's visit is the attempt
        sent = int(child.attributes["scalesim.sent_us"]) * 1000 \
            if "scalesim.sent_us" in child.attributes else \
            int(child.attributes.get("scalesim.sent_unix_nano", child.start))
        waited = False if child.attributes.get("scalesim.kind") == "async" else None
        why = _not_run(child, children)
        if why == UNFINISHED:  # waited for until the caller gave up, or ended
            return Attempt(operation_name(child), sent, visit.span.end, number, True, None,
                           waited)
        hop = max(0, child.start - sent)
        return Attempt(operation_name(child), sent, child.end + hop, number, child.error,
                       None if why else child, waited)
    return None


def _number_attempts(visit: Visit) -> None:
    """Attempts without a number are numbered in runs: a later attempt to the same target
    after a failed one is its retry."""
    last: dict[str, Attempt] = {}
    for attempt in visit.attempts:
        if attempt.attempt <= 0:
            previous = last.get(attempt.target)
            attempt.attempt = previous.attempt + 1 if previous is not None and \
                previous.failed and previous.returned <= attempt.sent else 1
        last[attempt.target] = attempt


def waits(visit: Visit) -> list[tuple[int, int]]:
    """The intervals the visit waited: on each attempt it waited for, and in the back-off
    between an attempt and its retry."""
    out: list[tuple[int, int]] = []
    last: dict[str, Attempt] = {}
    for attempt in visit.waited():
        previous = last.get(attempt.target)
        if previous is not None and attempt.attempt == previous.attempt + 1:
            out.append((previous.returned, attempt.sent))
        out.append((attempt.sent, attempt.returned))
        last[attempt.target] = attempt
    return out


def own_time(visit: Visit) -> float:
    """Seconds of the visit not spent waiting on its synchronous attempts."""
    intervals = sorted((max(low, visit.span.start), min(high, visit.span.end))
                       for low, high in waits(visit))
    covered, end = 0, visit.span.start
    for low, high in intervals:
        low = max(low, end)
        if high > low:
            covered += high - low
            end = high
    return max(0, visit.duration - covered) * NS


def hops(visit: Visit) -> list[tuple[str, float]]:
    """(target, one-way network seconds) of each traced attempt: half the attempt's
    interval beyond its callee's visit."""
    out = []
    for attempt in visit.waited():
        callee = attempt.callee
        if callee is not None:
            gap = (attempt.returned - attempt.sent) - (callee.end - callee.start)
            out.append((attempt.target, max(0, gap) / 2.0 * NS))
    return out


def groups(visit: Visit) -> list[list[Attempt]]:
    """The first attempts of a visit in the order sent, those whose intervals overlap
    together: a group of more than one is a parallel fan-out."""
    out: list[list[Attempt]] = []
    end = -1
    for attempt in (a for a in visit.attempts if a.attempt <= 1):
        if out and attempt.sent < end:
            out[-1].append(attempt)
            end = max(end, attempt.returned)
        else:
            out.append([attempt])
            end = attempt.returned
    return out


def own_error(visit: Visit) -> bool:
    """Failed although each call it made ended well, and (when the trace names the cause)
    by the operation's own error."""
    cause = visit.span.attributes.get("scalesim.status", "error")
    return visit.span.error and cause == "error" and visit.calls_ok()


@dataclass
class CallStats:
    """One target's calls from one operation."""

    callers: int = 0  # visits of the operation that called it at least once
    calls: int = 0  # first attempts
    attempts: int = 0  # every attempt, retries included
    max_attempt: int = 1
    in_parallel: int = 0  # first attempts sent in a group of more than one


@dataclass
class OperationStats:
    visits: int = 0
    ok_own_s: list[float] = field(default_factory=list)  # own time of successful visits
    own_errors: int = 0
    hops_s: list[tuple[str, float]] = field(default_factory=list)  # (target, seconds)
    calls: dict[str, CallStats] = field(default_factory=dict)
    shapes: Counter[tuple[tuple[str, ...], ...]] = field(default_factory=Counter)
    fell_back: int = 0  # successful visits after a failed call, left out of own time
    not_visits: Counter[str] = field(default_factory=Counter)  # spans that are not: why


def observe(spans: list[Span], waiting: Mapping[tuple[str, str], Waiting]
            ) -> dict[str, OperationStats]:
    """Per 'component.operation', what its visits did."""
    stats: defaultdict[str, OperationStats] = defaultdict(OperationStats)
    for visit in visits(spans, waiting):
        op = stats[visit.operation]
        op.visits += 1
        if not visit.span.error and visit.calls_ok():
            op.ok_own_s.append(own_time(visit))
        elif not visit.span.error:
            op.fell_back += 1
        op.own_errors += own_error(visit)
        op.hops_s += hops(visit)
        called: set[str] = set()
        for attempt in visit.attempts:
            call = op.calls.setdefault(attempt.target, CallStats())
            call.attempts += 1
            call.max_attempt = max(call.max_attempt, attempt.attempt)
            if attempt.attempt <= 1:
                call.calls += 1
            if attempt.target not in called:
                called.add(attempt.target)
                call.callers += 1
        shape = groups(visit)
        for group in shape:
            if len(group) > 1:
                for attempt in group:
                    op.calls[attempt.target].in_parallel += 1
        op.shapes[tuple(tuple(sorted(a.target for a in group)) for group in shape)] += 1
    for (operation, why), count in left_out(spans).items():
        stats[operation].not_visits[why] += count
    return dict(stats)
