"""What traces say about each operation: its own time, its calls and its errors.

A *visit* is a SERVER (or CONSUMER) span: one execution of an operation, named
`component.operation` by ScaleSim's exports and the generated services. Its *attempts* are
the calls it made: a CLIENT span under it (the callee's visit under that), or — in
ScaleSim's own exports, which have no client spans — the callee's visit itself, sent at its
`scalesim.sent_unix_nano` and answered one network hop after it ended. From these:

- **own time** (self time): the visit's span minus the time it waited on its synchronous
  attempts (those that surely overlap counted once; an answer ScaleSim's export implies is
  not cut, see own_time). A server span that starts when the request
  arrives (ScaleSim's exports do) also holds the wait for a worker: a visit that arrived
  while its replica already held as many traced visits as it has workers (`crowded`) waited
  so, and is told apart from those that found a worker free. Whether an attempt was
  waited for is the spec's to say where it says it (a plain call is, an async one is not);
  otherwise (a hedge, a parallel step that waits for fewer than all, a call the spec does
  not make) an attempt answered after the visit ended did not hold it, and a marked
  hedge's call held it until one of its attempts answered well. Times are compared at the
  trace clock's resolution (`clock_grid`): an answer computed from rounded times may land
  up to two grid steps past the caller's end;
- **hop**: one-way network time, half of an attempt's interval minus its callee's visit
  (client span − server span, which also holds runtime overhead; in ScaleSim's exports
  the callee's start less its send time, the network alone);
- **clock skew**: a callee's span that starts before its call was sent, or ends after the
  answer came back (or after a visit the spec has wait for it ended), was timed by a clock
  that disagrees with its caller's: its hop and its caller's own time are not fitted;
- **call probability**: the share of the caller's visits that called that target;
- **fan-out**: first attempts of one visit whose intervals overlap ran in parallel;
- **retries**: attempts after the first of one call (the `scalesim.attempt` attribute, or
  the span's position in a run of attempts to one target);
- **own errors**: visits that failed while every call they made succeeded (when ScaleSim's
  export names the cause, only `error`: the others are the simulation's own doing, from
  the spec's capacity, resilience settings and faults);
- **after a failure**: a fallback has no span of its own; it is the gap a visit leaves
  between a failed call and the next call it sends (or its end).

A span is a visit only if the operation ran and ended. In ScaleSim's exports, whose spans
name their outcome (`scalesim.status`), a span refused before its operation ran (refused in
the caller: an open breaker, a full bulkhead, a full connection pool; or at the callee's
door: a full queue, a rate limit, shedding, no replica), with no calls under it, is not,
nor is one still `unfinished` when the run ended; a real system's server span that names no
ScaleSim outcome says a refusal at its door by its status code (OpenTelemetry's
conventions: HTTP 429 or 503, gRPC RESOURCE_EXHAUSTED or UNAVAILABLE). Like a CLIENT span
with no SERVER span under it (the call never arrived, or the callee is not traced), each is
an attempt of its caller's call and nothing of the callee's; so is a span that timed out
where it was sent (sent past its deadline). An attempt the caller gave up on — unfinished,
or answered after the spec's timeout, its call's deadline or the deadline its caller
propagated — held its caller until then and failed.
Own time comes from successful visits whose calls all ended well: after a failed call a
visit's time holds its fallback, which is not the operation's work.

A framework that traces requests itself (FastAPI's `POST /path` server span, with internal
spans under it) wraps the operation's own span in the same service, nested in it or beside
it under the same parent: the innermost server span is the visit, and the callee of a call.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from scalesim.importers.calibrate.spans import Span, Value

VISIT_KINDS = ("server", "consumer")
NS = 1e-9
# Outcomes in ScaleSim's exports of a visit turned away before its operation ran: in the
# caller (docs/results.md), or at the callee's door.
IN_THE_CALLER = ("circuit_open", "bulkhead_full", "overflow")
AT_THE_DOOR = ("rejected", "rate_limited", "shed", "unavailable")
# The same at the door of a real system, by OpenTelemetry's semantic conventions (also
# Jaeger's tags): HTTP 429 Too Many Requests, 503 Service Unavailable; gRPC
# RESOURCE_EXHAUSTED (8), UNAVAILABLE (14).
HTTP_STATUS = ("http.response.status_code", "http.status_code")  # the stable name, the legacy
HTTP_REFUSALS = (429, 503)
GRPC_STATUS = "rpc.grpc.status_code"
GRPC_REFUSALS = (8, 14)
UNFINISHED = "unfinished"
DELIVERY = "delivery"  # ScaleSim's export of a queue's delivery: its calls are not traced
TIMEOUT = "timeout"
REFUSED = "refused"  # in the caller
DOOR = "refused at the door"


@dataclass(frozen=True)
class Waiting:
    """What the spec says of a caller's wait on one target."""

    waited: bool | None  # True: it waits for the answer; False: async; None: not said
    timeout: int | None = None  # ns an attempt is waited for at most
    deadline: int | None = None  # ns the whole call (attempts, back-offs) is waited for at most
    propagate: bool = False  # the callee's own calls must end when the caller stops waiting


@dataclass(frozen=True)
class Capacity:
    """What the spec says a component serves at once: workers per replica, and replicas."""

    workers: int
    replicas: int


@dataclass
class Attempt:
    target: str  # component.operation
    sent: int
    returned: int
    attempt: int
    failed: bool
    callee: Span | None  # the callee's visit, when traced
    waited: bool | None = None  # as the spec or the trace says; None: by the times
    hedge: bool = False  # a hedge of an attempt in flight (ScaleSim's exports say so)
    spanned: bool = False  # a CLIENT span of its own (ScaleSim's exports have none)
    skew: int = 0  # ns its callee's span lies outside where the caller's clock puts it


Hop = tuple[str, float, bool]  # target, one-way seconds, from a CLIENT span (see hops)


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
    depth = _depths(spans)
    bound: dict[tuple[str, str], int] = {}  # a visit's deadline, as its caller propagated it
    for visit in sorted(found, key=lambda v: depth[(v.span.trace, v.span.span)]):
        reached: dict[int, Span] = {}  # id(attempt) -> its callee's visit, answered or not
        for child in _below(visit.span, children):
            attempt = _attempt(visit, child, children)
            if attempt is not None:
                if attempt.callee is not None:
                    reached[id(attempt)] = attempt.callee
                _as_said(attempt, waiting.get((visit.operation, attempt.target)), late)
                visit.attempts.append(attempt)
        visit.attempts.sort(key=lambda a: (a.sent, a.returned))
        _number_attempts(visit)
        own = bound.get((visit.span.trace, visit.span.span))
        _within_deadlines(visit, waiting, own, late)
        _until_won(visit, late)
        bound.update(_propagated(visit, waiting, reached, own))
        for attempt in visit.attempts:
            attempt.skew = _skew(visit, attempt)
    return found


def _skew(visit: Visit, attempt: Attempt) -> int:
    """How far (ns) the callee's span lies outside the interval its caller's clock allows,
    beyond the clock's rounding, or 0: a callee starts after its call was sent and, when it
    answered well, ends before the answer came (a CLIENT span's end) or, for a call the
    spec has the visit wait for, before the visit ended. More means the two hosts' clocks
    disagree (clock skew)."""
    callee = attempt.callee
    if callee is None:
        return 0
    early = attempt.sent - callee.start
    late = 0
    if not attempt.failed and attempt.spanned:
        late = callee.end - attempt.returned
    elif not attempt.failed and attempt.waited and not visit.span.error:
        late = callee.end - visit.span.end
    worst = max(early, late)
    return worst if worst > visit.slack else 0


def _depths(spans: list[Span]) -> dict[tuple[str, str], int]:
    """Each span's number of ancestors in its trace: a caller's visit comes before its
    callees' in this order, whatever their rounded times."""
    parent = {(s.trace, s.span): s.parent for s in spans}
    depth: dict[tuple[str, str], int] = {}
    for start in parent:
        chain: list[tuple[str, str]] = []
        at: tuple[str, str] | None = start
        while at is not None and at not in depth:
            chain.append(at)
            up = parent[at]
            at = (at[0], up) if up is not None and (at[0], up) in parent else None
        level = depth[at] if at is not None else -1
        for item in reversed(chain):
            level += 1
            depth[item] = level
    return depth


Key = tuple[str, str]  # (trace, span) ids


def _tops(spans: list[Span]) -> dict[Key, Key]:
    """Each span's top: the span it hangs from, up its parents, that has no parent in the
    traces (none, or one in none of the files)."""
    parent = {(s.trace, s.span): s.parent for s in spans}
    top: dict[Key, Key] = {}
    for start in parent:
        chain: list[Key] = []
        at = start
        while at not in top:
            chain.append(at)
            up = parent[at]
            if up is None or (at[0], up) not in parent or (at[0], up) in chain:
                top[at] = at
                break
            at = (at[0], up)
        for item in chain:
            top[item] = top[at]
    return top


def detached(spans: list[Span]) -> list[Span]:
    """Spans cut off from their trace's root: the tops of a trace whose spans hang from more
    than one, but the first to start (the root). A span between them is missing: its parent
    id names a span in none of the files, or it names none where it should."""
    tops: defaultdict[str, list[Span]] = defaultdict(list)
    keys = set(_tops(spans).values())
    for span in spans:
        if (span.trace, span.span) in keys:
            tops[span.trace].append(span)
    return [span for group in tops.values() if len(group) > 1
            for span in sorted(group, key=lambda s: (s.start, -s.end, s.span))[1:]]


def missing_calls(spans: list[Span]) -> set[Key]:
    """The spans that may have made a call whose span is missing: of a detached span's
    trace, those started no later than it and not above it (it is not under them)."""
    top = _tops(spans)
    cut = detached(spans)
    by_trace: defaultdict[str, list[Span]] = defaultdict(list)
    for span in spans:
        by_trace[span.trace].append(span)
    out: set[Key] = set()
    for lost in cut:
        key = (lost.trace, lost.span)
        out |= {(s.trace, s.span) for s in by_trace[lost.trace]
                if s.start <= lost.start and top[(s.trace, s.span)] != key}
    return out


def left_out(spans: list[Span]) -> Counter[tuple[str, str]]:
    """(operation, why) of the spans that are no visits: refused before the operation ran
    (in the caller, or at the door), or unfinished."""
    return Counter((operation, why) for operation, why, _ in _not_visits(spans))


def _not_visits(spans: list[Span]) -> list[tuple[str, str, Span]]:
    """(operation, why, span) of each span that is no visit."""
    children = _children(spans)
    return [(operation_name(span), why, span) for span in _operations(spans, children)
            if (why := _not_run(span, children)) is not None]


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
    """Why a span is no visit (REFUSED, DOOR, UNFINISHED), or None. ScaleSim's export names
    the outcome; a real system's server span says a refusal at its door by its status code.
    A refusal with calls under it is the visit's outcome from one of its calls, and it ran."""
    status = span.attributes.get("scalesim.status")
    if status == UNFINISHED:
        return UNFINISHED
    if _below(span, children):
        return None
    if status in IN_THE_CALLER or (status == TIMEOUT and span.end == span.start):
        return REFUSED  # a timeout that ended where it was sent: sent past its deadline
    if status in AT_THE_DOOR or (status is None and _refused_at_the_door(span)):
        return DOOR
    return None


def _refused_at_the_door(span: Span) -> bool:
    """Whether a span's HTTP or gRPC status code says the server turned it away: rate
    limited, overloaded or without a healthy upstream."""
    http = next((span.attributes[key] for key in HTTP_STATUS if key in span.attributes), None)
    return _code(http) in HTTP_REFUSALS or _code(span.attributes.get(GRPC_STATUS)) in \
        GRPC_REFUSALS


def _code(value: Value | None) -> int | None:
    """A status code as an integer, whether the tracer wrote it as a number or a string."""
    text = str(value).strip()
    return int(text) if text.isdigit() else None


def _as_said(attempt: Attempt, said: Waiting | None, slack: int) -> None:
    """The attempt as the spec's call has it: waited for or not, and given up on at the
    timeout."""
    if said is None:
        return
    if said.waited is not None:
        attempt.waited = said.waited
    if said.timeout is not None:
        _given_up(attempt, attempt.sent + said.timeout, slack)


def _within_deadlines(visit: Visit, waiting: Mapping[tuple[str, str], Waiting],
                      own: int | None, slack: int) -> None:
    """Each attempt given up on at its call's deadline, counted from the call's first
    attempt (the simulator cuts the attempt in flight there, as a timeout, and sends no
    retry past it), or at the visit's `own` deadline, propagated by its caller."""
    for run in _runs(visit.attempts):
        said = waiting.get((visit.operation, run[0].target))
        ends = [t for t in (own, None if said is None or said.deadline is None
                            else run[0].sent + said.deadline) if t is not None]
        if ends:
            for attempt in run:
                _given_up(attempt, min(ends), slack)


def _until_won(visit: Visit, slack: int) -> None:
    """A hedged call's attempts were waited for until one of them answered well: the others
    were cancelled then, their answers ignored."""
    for run in _runs(visit.attempts):
        won = min((a.returned for a in run if not a.failed), default=None)
        if won is None or not any(a.hedge for a in run):
            continue
        for attempt in run:
            if attempt.returned > won + slack:
                attempt.returned = won
                attempt.callee = None


def _propagated(visit: Visit, waiting: Mapping[tuple[str, str], Waiting],
                reached: Mapping[int, Span], own: int | None) -> dict[tuple[str, str], int]:
    """The deadlines the visit's calls pass on (`propagate_deadline`), by their callee's
    visit: when the caller stops waiting for that attempt at the latest — its timeout, its
    call's deadline or the visit's own, whichever comes first."""
    out: dict[tuple[str, str], int] = {}
    for run in _runs(visit.attempts):
        said = waiting.get((visit.operation, run[0].target))
        if said is None or not said.propagate:
            continue
        for attempt in run:
            callee = reached.get(id(attempt))
            ends = [t for t in (own, None if said.timeout is None else attempt.sent + said.timeout,
                                None if said.deadline is None else run[0].sent + said.deadline)
                    if t is not None]
            if callee is not None and ends:
                out[(callee.trace, callee.span)] = min(ends)
    return out


def _runs(attempts: list[Attempt]) -> list[list[Attempt]]:
    """Attempts (in the order sent) by call: a first attempt starts one, its retries and
    hedges follow it."""
    out: list[list[Attempt]] = []
    current: dict[str, list[Attempt]] = {}
    for attempt in attempts:
        run = current.get(attempt.target)
        if run is None or (attempt.attempt <= 1 and not attempt.hedge):
            run = current[attempt.target] = []
            out.append(run)
        run.append(attempt)
    return out


def _given_up(attempt: Attempt, at: int, slack: int) -> None:
    """An attempt not answered by `at` (ns) failed there, its callee's answer, if any, never
    arriving."""
    if attempt.returned > at + slack:
        attempt.returned = at
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
        if callee is not None and _not_run(callee, children):
            callee = None  # turned away: nothing of the callee's
        target = str(child.attributes.get("scalesim.dependency", ""))
        if not target:
            target = operation_name(callee) if callee else child.name.removeprefix("call ")
        return Attempt(target, child.start, child.end, number, child.error, callee,
                       spanned=True)
    if child.kind in VISIT_KINDS and child.service != visit.span.service:
        # ScaleSim's export: the callee's visit is the attempt
        sent = int(child.attributes["scalesim.sent_us"]) * 1000 \
            if "scalesim.sent_us" in child.attributes else \
            int(child.attributes.get("scalesim.sent_unix_nano", child.start))
        kind = child.attributes.get("scalesim.kind")
        waited = False if kind == "async" else None
        why = _not_run(child, children)
        if why == UNFINISHED:  # waited for until the caller gave up, or ended
            return Attempt(operation_name(child), sent, visit.span.end, number, True, None,
                           waited, kind == "hedge")
        hop = max(0, child.start - sent)
        return Attempt(operation_name(child), sent, child.end + hop, number, child.error,
                       None if why else child, waited, kind == "hedge")
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


Wait = tuple[int, int, int]  # ns: from, to, and when it surely lasted until (see waits)


def waits(visit: Visit) -> list[Wait]:
    """The intervals the visit waited: on each attempt it waited for, and in the back-off
    between an attempt and its retry; each with the time it surely lasted until. A recorded
    answer (a CLIENT span's end) is cut at the visit's end, which it did not wait past; an
    answer ScaleSim's export implies (its callee's end plus the way out, for the unrecorded
    way back) may land before or after the real one, and is left as it is: only its
    callee's end is sure."""
    out: list[Wait] = []
    last: dict[str, Attempt] = {}
    end = visit.span.end
    for attempt in visit.waited():
        previous = last.get(attempt.target)
        if previous is not None and attempt.attempt == previous.attempt + 1 and \
                attempt.sent > previous.returned:
            out.append((previous.returned, attempt.sent, attempt.sent))
        callee = attempt.callee
        if callee is not None and not attempt.spanned:
            out.append((attempt.sent, attempt.returned, min(callee.end, attempt.returned, end)))
        else:
            out.append((attempt.sent, min(attempt.returned, end), min(attempt.returned, end)))
        last[attempt.target] = attempt
    return out


def own_time(visit: Visit) -> float:
    """Seconds of the visit not spent waiting on its synchronous attempts: its span less
    each step it waited, a step being the waits that surely overlapped (a parallel
    fan-out). An implied answer is not cut at the next step or at the visit's end: cut,
    each error of the implied way back would count only when it lengthens the own time,
    biasing it upward. So the time may come out below 0 (the way back was shorter than the
    way out), which its mean needs (see apply's unbiased)."""
    steps: list[Wait] = []
    for low, high, sure in sorted(waits(visit)):
        low = max(low, visit.span.start)
        if steps and low < steps[-1][2]:
            first, last, until = steps[-1]
            steps[-1] = (first, max(last, high), max(until, sure))
        else:
            steps.append((low, high, sure))
    return (visit.duration - sum(max(0, high - low) for low, high, _ in steps)) * NS


def hops(visit: Visit) -> list[Hop]:
    """(target, one-way network seconds, from a CLIENT span) of each traced attempt: half
    the attempt's interval beyond its callee's visit. A CLIENT span's interval also holds
    runtime overhead; ScaleSim's exports time the hop from the send (the caller's per-call
    overhead is before it, the callee's per-request within its visit), so theirs is the
    network alone."""
    out = []
    for attempt in visit.waited():
        callee = attempt.callee
        if callee is not None and not attempt.skew:
            gap = (attempt.returned - attempt.sent) - (callee.end - callee.start)
            out.append((attempt.target, max(0, gap) / 2.0 * NS, attempt.spanned))
    return out


def went_on(visit: Visit) -> list[tuple[str, float, bool]]:
    """(target, seconds, at the end) of each failed call the visit waited on alone and went
    on after: from its last attempt's failure to the next call sent, or (True) to the end of
    a visit that succeeded. A fallback's time shows only so (no span of its own), followed by
    the per-call overhead of the next call or by the post_work before the end."""
    out: list[tuple[str, float, bool]] = []
    waited = visit.waited()
    held = {id(a) for a in waited}
    for run in _runs(waited):
        last = run[-1]
        if not last.failed:
            continue
        mine = {id(a) for a in run}
        others = [a for a in visit.attempts if id(a) not in mine]
        if any(id(a) in held and a.sent < last.returned and a.returned > run[0].sent
               for a in others):
            continue  # it ran beside another call (a parallel step)
        later = [a.sent for a in others if a.sent >= last.returned - visit.slack]
        if later:
            out.append((last.target, max(0, min(later) - last.returned) * NS, False))
        elif not visit.span.error:
            out.append((last.target, max(0, visit.span.end - last.returned) * NS, True))
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
    # the same split: arrived to a replica with a worker free, or to one whose workers were
    # all held by traced visits (their own time holds a wait for a worker)
    free_own_s: list[float] = field(default_factory=list)
    crowded_own_s: list[float] = field(default_factory=list)
    ok_span_s: list[float] = field(default_factory=list)  # whole span of successful visits
    # target -> own times of the successful visits (as in ok_own_s) that called it
    called_own_s: dict[str, list[float]] = field(default_factory=dict)
    untraced: int = 0  # visits whose calls the trace leaves out (ScaleSim's deliveries)
    started: list[int] = field(default_factory=list)  # when each visit started (ns)
    refused_at: list[int] = field(default_factory=list)  # when each door refusal came (ns)
    own_errors: int = 0
    hops_s: list[Hop] = field(default_factory=list)
    calls: dict[str, CallStats] = field(default_factory=dict)
    shapes: Counter[tuple[tuple[str, ...], ...]] = field(default_factory=Counter)
    fell_back: int = 0  # successful visits after a failed call, left out of own time
    # successful visits that may have made a call whose span is missing (see
    # missing_calls), left out of own time
    unlinked: int = 0
    # (callee's span, ns) of each call whose callee's span lies outside where the caller's
    # clock puts it (see _skew); the caller's own time is left out, and the call's hop
    skewed: list[tuple[Span, int]] = field(default_factory=list)
    skewed_visits: int = 0  # successful visits left out of own time so
    # target -> (seconds from a failed call to going on, whether to the end): see went_on
    went_on: dict[str, list[tuple[float, bool]]] = field(default_factory=dict)
    not_visits: Counter[str] = field(default_factory=Counter)  # spans that are not: why


def crowded(found: list[Visit], capacity: Mapping[str, Capacity]) -> set[int]:
    """ids of the visits that arrived while their replica held at least as many traced
    visits as it has workers: every worker was busy, so the visit waited for one (in the
    order they came). Per replica where the spans name it (`scalesim.replica`), else per
    component against all its replicas' workers; components without a capacity (unlimited
    workers, non-blocking I/O) are left out."""
    places: defaultdict[tuple[str, Value | None], list[Visit]] = defaultdict(list)
    for visit in found:
        component = visit.operation.partition(".")[0]
        places[(component, visit.span.attributes.get("scalesim.replica"))].append(visit)
    out: set[int] = set()
    for (component, replica), group in places.items():
        size = capacity.get(component)
        if size is None:
            continue
        workers = size.workers if replica is not None else size.workers * size.replicas
        present: list[int] = []  # the ends of the visits at the place, soonest first
        for visit in sorted(group, key=lambda v: (v.span.start, v.span.end)):
            while present and present[0] <= visit.span.start:
                heapq.heappop(present)
            if len(present) >= workers:
                out.add(id(visit))
            heapq.heappush(present, visit.span.end)
    return out


def observe(spans: list[Span], waiting: Mapping[tuple[str, str], Waiting],
            capacity: Mapping[str, Capacity] | None = None) -> dict[str, OperationStats]:
    """Per 'component.operation', what its visits did; `capacity` (the spec's workers) tells
    the visits that waited for a worker."""
    stats: defaultdict[str, OperationStats] = defaultdict(OperationStats)
    found = visits(spans, waiting)
    waited = crowded(found, capacity or {})
    unsure = missing_calls(spans)
    for visit in found:
        op = stats[visit.operation]
        op.visits += 1
        op.started.append(visit.span.start)
        op.untraced += visit.span.attributes.get("scalesim.kind") == DELIVERY
        if not visit.span.error and visit.calls_ok():
            op.ok_span_s.append(visit.duration * NS)
            if (visit.span.trace, visit.span.span) in unsure:
                op.unlinked += 1
            elif any(a.skew for a in visit.attempts):
                op.skewed_visits += 1
            else:
                own = own_time(visit)
                op.ok_own_s.append(own)
                (op.crowded_own_s if id(visit) in waited else op.free_own_s).append(own)
                for target in {a.target for a in visit.attempts}:
                    op.called_own_s.setdefault(target, []).append(own)
        elif not visit.span.error:
            op.fell_back += 1
        op.own_errors += own_error(visit)
        op.hops_s += hops(visit)
        op.skewed += [(a.callee, a.skew) for a in visit.attempts
                      if a.skew and a.callee is not None]
        for target, seconds, at_end in went_on(visit):
            op.went_on.setdefault(target, []).append((seconds, at_end))
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
    for operation, why, span in _not_visits(spans):
        stats[operation].not_visits[why] += 1
        if why == DOOR:
            stats[operation].refused_at.append(span.start)
    return dict(stats)
