"""Sagas left stuck: a compensation that failed after its tries leaves the changes of the
steps it should undo in place, and a step past the pivot that failed is never compensated
(docs/data.md). Either needs a repair by hand, and the fix is more tries of the call that
failed, sized from its measured failure share. And sagas compensated as designed: a step up
to the pivot that failed with its own errors, which the failures finding names."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from scalesim.diagnosis import waits
from scalesim.diagnosis.context import (
    MOST_TRIES,
    NOTABLE,
    OUTAGE_BASE,
    OUTAGE_MAX,
    Run,
    dotted,
    fault_overlap_s,
    flow,
    tries_outlasting,
)
from scalesim.diagnosis.finding import Finding, Fix, count, share
from scalesim.spec.model import Call, Saga, SagaBlock, SagaStep
from scalesim.spec.resilience import Retry

RESIDUAL = 0.5  # the proposed tries leave fewer stuck sagas than this expected in the run
# the back-off a call without a retry is given to outlast its callee's outage, as a
# failover's (elections), not the default's 25 to 250 ms
OUTAGE_RETRY = Retry(base=OUTAGE_BASE, max=OUTAGE_MAX)


@dataclass(frozen=True)
class Failing:
    """A saga call whose failures leave sagas stuck: what it is, where it sits in the spec,
    the call as written, its settings with the saga's policy, and what was measured of it:
    an orchestrated saga's call record, or a choreographed one's deliveries (`_delivered`)."""

    role: str  # "compensation of STEP" or "step STEP (past the pivot)"
    path: tuple[str | int, ...]
    written: Call
    call: Call
    edge: str  # caller→callee, or, choreographed, holder→queue→participant
    calls: float  # calls made (first attempts), or events delivered
    failure: float  # the share of its attempts that failed
    causes: dict[str, int]  # failed attempts by cause
    failed: float  # calls that failed after their tries (choreographed: expected)
    delivered: bool = False  # choreographed: calls and failed are estimates

    @property
    def tries(self) -> int:
        return 1 if self.call.retry is None else self.call.retry.attempts


def stuck_sagas(run: Run) -> Iterator[Finding]:
    for ref, measured in run.result.get("sagas", {}).items():
        stuck, started = int(measured["stuck"]), int(measured["started"])
        found = _saga_at(run, ref)
        if not started or stuck / started < NOTABLE or found is None:
            continue
        failing = [f for f in _failing(run, ref, *found) if f.failed]
        if failing:
            yield _finding(run, ref, stuck, started, failing)


def _saga_at(run: Run, ref: str) -> tuple[tuple[str | int, ...], Saga] | None:
    """The saga operation `ref` holds, and where it sits in the spec."""
    component, operation = ref.split(".", 1)
    calls = run.system.components[component].effective_operations[operation].calls
    return next(((("components", component, "operations", operation, "calls", i, "saga"),
                  step.saga) for i, step in enumerate(calls) if isinstance(step, SagaBlock)),
                None)


def _failing(run: Run, ref: str, path: tuple[str | int, ...], saga: Saga) -> Iterator[Failing]:
    """The saga's calls whose final failure leaves it stuck: the compensations, and the
    steps past the pivot, each with what was measured of it."""
    measure = _called if saga.via is None else _delivered
    for index, step in enumerate(saga.steps):
        where = (*path, "steps", index)
        if step.compensate is not None and index < saga.pivot:
            yield from measure(run, ref, f"compensation of {step.label}",
                               (*where, "compensate"), step.compensate, saga)
        if not compensates(saga, index):
            yield from measure(run, ref, f"step {step.label} (past the pivot)", where,
                               step.as_call(), saga)


def _called(run: Run, ref: str, role: str, path: tuple[str | int, ...], written: Call,
            saga: Saga) -> Iterator[Failing]:
    """An orchestrated saga's call, from the call record the holding operation made."""
    call = run.system.effective(saga.with_policy(written))
    target = ".".join(run.system.resolve(call.to))
    record = _record(run, ref, target)
    if record is not None:
        attempts = int(record["attempts"])
        causes = {c: n for c, n in record["attempt_failures_by_cause"].items() if n}
        yield Failing(role, path, written, call, f"{ref}→{target}",
                      attempts - record["retries"] - record["hedges"],
                      sum(causes.values()) / attempts if attempts else 0.0, causes,
                      record["failed"])


def _record(run: Run, source: str, target: str) -> dict[str, Any] | None:
    """The result's record of the calls `source` → `target` ('comp.op' each)."""
    return next((r for r in run.result["calls"] if r["from"] == source and r["to"] == target),
                None)


def _delivered(run: Run, ref: str, role: str, path: tuple[str | int, ...], written: Call,
               saga: Saga) -> Iterator[Failing]:
    """A choreographed saga's call: an event delivered through the queue `via` to its
    participant, which leaves no call record; its attempts are the participant operation's
    visits (with those of any other caller). The events are the visits less redeliveries,
    expected as each makes (1 − p^k) / (1 − p) attempts of k tries failing at p, and so
    are the events that failed all their tries (× p^k)."""
    call = run.system.effective(saga.with_policy(written))
    component, operation = run.system.resolve(call.to)
    requests = run.result["components"][component]["operations"][operation]["requests"]
    visits = int(requests["total"])
    if not visits:
        return
    causes = {c: n for c, n in requests["failed_by_cause"].items() if n}
    failure = sum(causes.values()) / visits
    tries = 1 if call.retry is None else call.retry.attempts
    events = visits / tries if failure >= 1.0 else \
        visits * (1.0 - failure) / (1.0 - failure ** tries)
    yield Failing(role, path, written, call, f"{ref}→{saga.via}→{component}.{operation}",
                  events, failure, causes, events * failure ** tries, delivered=True)


def attempts_for(failure: float, calls: float, tries: int) -> int | None:
    """The fewest tries, more than `tries`, that leave under RESIDUAL of `calls` failing
    when each try fails with share `failure` (all fail: failure^tries); None when no
    number up to the spec's highest does."""
    if failure >= 1.0 or calls <= 0.0:
        return None
    if failure <= 0.0:
        return tries + 1
    needed = math.floor(math.log(RESIDUAL / calls) / math.log(failure)) + 1
    return max(needed, tries + 1) if needed <= MOST_TRIES else None


def _finding(run: Run, ref: str, stuck: int, started: int, failing: list[Failing]
             ) -> Finding:
    texts, sets, evidence = [], [], [f"{count(stuck)} of the {count(started)} sagas started "
                                     "were left stuck: the changes of their committed steps "
                                     "stay in place, undone by nobody, until a repair by hand"]
    for item in failing:
        text, override = _retried(run, item)
        evidence.append(_failed_text(item))
        texts.append(text)
        sets += [override] if override else []
    return Finding("saga", "problem", ref,
                   f"{ref}: {share(stuck / started)} of the sagas left stuck ({count(stuck)} "
                   f"of {count(started)}): " + ", ".join(f.role for f in failing) + " failed",
                   "retry", tuple(evidence), Fix("; ".join(texts), tuple(sets)),
                   {"stuck": stuck, "started": started, "stuck_share": stuck / started})


def _failed_text(item: Failing) -> str:
    causes = ", ".join(f"{c} {count(n)}" for c, n in item.causes.items())
    tries = item.tries
    about, what = ("about ", "events delivered") if item.delivered else ("", "calls")
    return (f"{item.role}, {item.edge}: {about}{count(item.failed)} of its {about}"
            f"{count(item.calls)} {what} failed ({share(item.failure)} of the attempts: "
            f"{causes}) " + ("with no retry" if tries == 1 else f"after {tries} tries"))


def _retried(run: Run, item: Failing) -> tuple[str, str | None]:
    """The fix for one failing call: tries enough that the run's calls leave under
    RESIDUAL stuck sagas (stuck share = failure^tries), as text and an override; when its
    callee had a fault, tries whose back-offs outlast it (`_outlasting`), since tries that
    fail one by one at the measured share say nothing of a callee down for seconds."""
    failure, calls, edge = item.failure, item.calls, item.edge
    attempts = attempts_for(failure, calls, item.tries)
    outlast = None if item.delivered else _outlasting(run, item)
    if outlast is not None:
        callee, down_s, tries, waits_s = outlast
        attempts = max(attempts or 0, tries)
        return (f"retry the {item.role} ({edge}) up to {attempts} tries, whose back-offs "
                f"add up to {waits_s:.2f} s at the longest: its failures came while {callee} "
                f"had a fault ({down_s:.1f} s of the run), which only retries that outlast it "
                "answer", _retry_override(item, attempts, OUTAGE_RETRY))
    if attempts is None:
        return (f"the {item.role} ({edge}) fails {share(failure)} of its attempts: no retry "
                "makes it succeed; make its target fail less", None)
    left = calls * failure ** attempts
    return (f"retry the {item.role} ({edge}) up to {attempts} tries: at {share(failure)} "
            f"failing per try, {share(failure ** attempts)} of its calls fail all of them, "
            f"{left:.2g} of the {count(calls)} this run made", _retry_override(item, attempts))


def _outlasting(run: Run, item: Failing) -> tuple[str, float, int, float] | None:
    """(callee, its longest outage in the window, the tries that wait it out
    (`tries_outlasting`), their back-offs' longest waits) for a call whose callee was
    down (a crash, a pause, a partition: every try fails meanwhile, not one by one as an
    error rate's do); None without such a fault. The back-off is the call's own, or
    `OUTAGE_RETRY`'s, which `_retry_override` writes with the tries."""
    callee = run.system.resolve(item.call.to)[0]
    down_s = max((fault_overlap_s(run, fault) for fault in run.faults_on(callee)
                  if fault.crash or fault.pause is not None or fault.partition is not None),
                 default=0.0)
    if down_s <= 0.0:
        return None
    retry = item.call.retry or OUTAGE_RETRY
    tries = tries_outlasting(retry, max(2, item.tries), down_s)
    return callee, down_s, tries, retry.longest_waits(tries)


def _retry_override(item: Failing, attempts: int, backoff: Retry | None = None) -> str:
    """The override giving the call at `item.path` `attempts` tries: its written retry's
    attempts, or a retry of its own (a compensation written as a bare operation, written
    whole; a step keeps its other fields, its name among them), with `backoff`'s base and
    max when given."""
    where = dotted(item.path)
    if item.written.retry is not None:
        return f"{where}.retry.attempts={attempts}"
    retry: dict[str, Any] = {"attempts": attempts}
    if backoff is not None:
        retry.update(base=f"{backoff.base * 1e3:g}ms", max=f"{backoff.max * 1e3:g}ms")
    if item.path[-1] == "compensate" and item.written.model_fields_set == {"to"}:
        return f"{where}={flow({'to': item.written.to, 'retry': retry})}"
    return f"{where}.retry={flow(retry)}"


def compensates(saga: Saga, index: int) -> bool:
    """Whether the saga answers a failure of its step `index` by compensating the steps
    before it: a step up to the pivot (every step, without one), which may fail for a
    business reason (a declined payment). A step past the pivot is retriable: expected to
    succeed, its failures transient (microservices.io)."""
    return index <= saga.pivot


@dataclass(frozen=True)
class Declined:
    """An orchestrated saga's sagas compensated as designed: those a step up to the pivot
    failed with its callee's own errors, per step."""

    ref: str  # the operation that holds the saga
    steps: tuple[tuple[str, float], ...]  # (step, with its callee), the sagas it failed

    @property
    def sagas(self) -> float:
        return sum(n for _, n in self.steps)


def declined(run: Run, workload: str) -> list[Declined]:
    """The orchestrated sagas only `workload`'s requests start (`waits.reaching`; one
    that others start too is left out, its compensations not split between them), with
    the sagas each step up to its pivot failed by its callee operation's own `error_rate`
    (no fault on the callee): its failed calls × the share of its failed attempts that
    were `error`. A compensated orchestrated saga fails the holding visit (docs/data.md),
    so each is a failed request, unless a fallback on the way answers it."""
    found = []
    for ref, measured in run.result.get("sagas", {}).items():
        at = _saga_at(run, ref)
        if at is None or at[1].via is not None or waits.reaching(run, "all", ref) != [workload]:
            continue
        steps = tuple(_declines(run, ref, at[1], measured["steps"]))
        if steps:
            found.append(Declined(ref, steps))
    return found


def _declines(run: Run, ref: str, saga: Saga, measured: list[dict[str, Any]]
              ) -> Iterator[tuple[str, float]]:
    """`declined`'s steps of one saga, with the sagas each failed by its own errors."""
    for index, (step, counts) in enumerate(zip(saga.steps, measured, strict=True)):
        target = ".".join(run.system.resolve(step.to))
        record = _record(run, ref, target)
        if not compensates(saga, index) or not counts["failed"] or record is None \
                or not _errs_on_its_own(run, target):
            continue
        causes = record["attempt_failures_by_cause"]
        if causes.get("error"):
            yield _step_text(step, target), counts["failed"] * causes["error"] / sum(
                causes.values())


def _errs_on_its_own(run: Run, target: str) -> bool:
    """Whether operation `target` ('comp.op') fails on its own (`error_rate`), with no
    fault on its component that could be the cause instead."""
    component, operation = target.split(".", 1)
    own = run.system.components[component].effective_operations[operation]
    return bool(own.error_rate) and not run.faults_on(component)


def _step_text(step: SagaStep, target: str) -> str:
    return f"{step.label} ({target}{', the pivot' if step.pivot else ''})"


def declined_text(found: list[Declined], requests: int) -> str:
    """Evidence: the failed requests that are sagas compensated as designed (`declined`)."""
    steps = "; ".join(f"{d.ref}: " + ", ".join(f"{label} {count(n)}" for label, n in d.steps)
                      for d in found)
    return (f"{count(requests)} of the failed requests are sagas compensated after a step "
            f"up to the pivot failed with its own errors ({steps}): a saga answers such a "
            "failure by compensating the steps before it, as designed (a step up to the "
            "pivot may fail for a business reason, a declined payment), so no retry of "
            "those errors is proposed; if they are not business outcomes, make the step "
            "fail less")
