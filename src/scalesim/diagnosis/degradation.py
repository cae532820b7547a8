"""Requests answered degraded (by a fallback) or failed: how many, through which calls, and
why — a breaker that is open, timeouts, errors, or a fault injected on the callee."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from scalesim.analytic.load import leader_served
from scalesim.diagnosis import sagas, waits
from scalesim.diagnosis.components import (
    at_limit,
    kept_off,
    per_workload_fix,
    relief,
    retry_budget_percent,
    workloads_over,
)
from scalesim.diagnosis.context import (
    HOT,
    NOTABLE,
    TARGET_UTILIZATION,
    Run,
    dotted,
    fault_text,
    flow,
    mean_wait_s,
    own_work_s,
    uneven,
)
from scalesim.diagnosis.crashes import probe_fix
from scalesim.diagnosis.deeper_faults import DeeperFault, deeper_fault, waited_faults
from scalesim.diagnosis.finding import Finding, Fix, Limit, count, duration, rate, share
from scalesim.diagnosis.quorums import QuorumCause, quorum_cause
from scalesim.diagnosis.rollouts import rollout_fix
from scalesim.lint.rules.resilience import calls_in_window, never_opens, running_replicas
from scalesim.spec.control import whole_percent
from scalesim.spec.model import Balancer, Call, Fault, Saga
from scalesim.spec.resilience import CircuitBreaker, Retry

# Failed attempts beyond this many times what an even balancer sends the faulty replicas
# are failures on healthy ones (room for the randomness of `random` balancing).
SPREAD = 1.2
HANG = 10  # a latency percentile this many times the one below it starts a tail of hangs
TIMEOUT_MARGIN = 1.5  # a timeout proposed this many times the slowest normal answer
# A call sending this many attempts per call over the run retries hard: with failures that
# outlast the fault STORM times over, the retries are what sustains them.
AMPLIFIED = 1.5
STORM = 2.0  # failed requests this many times those a fault could meet outlast it
RETRY_ATTEMPTS = Retry().attempts  # tries of a retry proposed for a fault on a replica
REFUSALS = ("rejected", "rate_limited", "shed", "overflow", "unavailable", "crashed")


def degraded(run: Run) -> Iterator[Finding]:
    for name, workload in run.result["workloads"].items():
        requests = workload["requests"]
        total, degraded_count = requests["total"], requests.get("degraded", 0)
        if not total or degraded_count / total < NOTABLE:
            continue
        calls = sorted((c for c in run.result["calls"] if c["fallbacks"] and c.get("degraded")),
                       key=lambda c: -c["fallbacks"])
        evidence = [_why(run, call) for call in calls[:3]]
        numbers: dict[str, float | None] = {"degraded_share": degraded_count / total,
                                            "degraded": degraded_count}
        breaker = _breaker_fix(run, calls[:3], evidence)
        quorum = None if breaker else quorum_cause(run, name, calls[:3], evidence, numbers)
        deeper = None if breaker or quorum else deeper_fault(run, calls)
        fix = breaker or (quorum.fix if quorum else None) \
            or _fault_fix(run, _targets(calls), calls, evidence, contained=True,
                          deeper=deeper) \
            or _timeout_fix(run, calls[:3], evidence)
        yield Finding("degraded", "warning", name,
                      f"{name}: {share(degraded_count / total)} of requests answered degraded "
                      f"({count(degraded_count)} of {count(total)}), by the fallback of "
                      + ", ".join(_edge(c) for c in calls[:3]) + _because(quorum, deeper),
                      _limit(calls, breaker, quorum), tuple(evidence), fix, numbers)


def failures(run: Run) -> Iterator[Finding]:
    for name, workload in run.result["workloads"].items():
        requests = workload["requests"]
        total, failed = requests["total"], requests["failed"]
        if not total or failed / total < NOTABLE:
            continue
        causes = sorted(((n, c) for c, n in requests["failed_by_cause"].items() if n),
                        reverse=True)
        calls = sorted((c for c in run.result["calls"] if c["failed"] > c["fallbacks"]),
                       key=lambda c: -(c["failed"] - c["fallbacks"]))
        evidence = [_why(run, call) for call in calls[:3]]
        for component, measured in run.result["components"].items():
            refused = {k: v for k, v in measured["refused_by_cause"].items() if v}
            if refused:
                evidence.append(f"{component} refused " + ", ".join(
                    f"{count(n)} ({cause.replace('_', ' ')})" for cause, n in refused.items()))
        breaker = _breaker_fix(run, calls[:3], evidence)
        numbers: dict[str, float | None] = {"failed_share": failed / total, "failed": failed}
        designed = _compensated(run, name, evidence, numbers)
        fix = breaker or _storm_fix(run, name, calls[:3], evidence, numbers) \
            or _budget_fix(run, total, calls[:3], evidence, numbers)
        # A quorum the replicas left up cannot reach is why a fault fails their calls too.
        quorum = None if fix else quorum_cause(run, name, calls[:3], evidence, numbers)
        # A fault on what the callee waits on, not on the callee, is the cause too.
        deeper = None if fix or quorum else deeper_fault(run, calls)
        # A crash kept in rotation (probe_fix) says more than the fault on the entry.
        fix = fix or (quorum.fix if quorum else None) \
            or _fault_fix(run, _targets(calls), calls, evidence, contained=False,
                          deeper=deeper) \
            or probe_fix(run, name, evidence, numbers) \
            or _entry_fault_fix(run, name, evidence) \
            or _timeout_fix(run, calls[:3], evidence) or _rate_limited_fix(run, name, causes) \
            or rollout_fix(run, name, failed, evidence) \
            or _error_retry_fix(run, name, calls[:3])
        summary = f"{name}: {share(failed / total)} of requests failed (" + ", ".join(
            f"{cause.replace('_', ' ')} {count(n)}" for n, cause in causes[:3]) + ")"
        yield Finding("failures", "warning" if designed else "problem", name,
                      summary + (DESIGNED if designed else _because(quorum, deeper)),
                      _limit(calls, breaker, quorum), tuple(evidence), fix, numbers)


DESIGNED = ", sagas compensated after a step up to the pivot failed, as designed"


def _compensated(run: Run, workload: str, evidence: list[str],
                 numbers: dict[str, float | None]) -> bool:
    """Whether the failed requests of `workload` are, all but under NOTABLE of its
    requests, sagas compensated as designed (`sagas.declined`); `evidence` and `numbers`
    get those sagas when there are any."""
    requests = run.result["workloads"][workload]["requests"]
    failed, total = int(requests["failed"]), int(requests["total"])
    found = sagas.declined(run, workload)
    answered = min(failed, round(sum(d.sagas for d in found)))
    if not answered:
        return False
    evidence.append(sagas.declined_text(found, answered))
    numbers["compensated"] = answered
    return failed - answered < NOTABLE * total


def short_timeouts(run: Run) -> Iterator[Finding]:
    """Calls whose attempts time out (1 % or more) under a timeout below the callee's
    measured p99 (`_short_timeout`), though its retries answer most requests, so no failures
    finding names it: the cut-off attempts are answers that were coming, and their retries
    load the callee and lengthen the requests. The fix is the failures finding's for a
    callee with room (`_longer_timeout`). None when a finding made before sets the timeout
    already, when the timeout is above the callee's normal answers (it cuts mostly hangs),
    or when the callee is at its limit: its queue makes the answers slow, and its own
    finding relieves it."""
    busy = at_limit(run)
    for call in run.result["calls"]:
        short = _short_timeout(run, call)
        if short is None or _longer_ms(short) <= short.timeout_s * 1e3 \
                or _timeout_set(run, short.path) or call["to"].split(".", 1)[0] in busy:
            continue
        evidence = _cut_texts(run, call, short)
        yield Finding("limit", "warning", _edge(call),
                      f"the timeout of {_edge(call)} ({short.timeout_s * 1e3:g} ms) is below "
                      f"{call['to']}'s p99 ({short.p99_ms:.3g} ms): "
                      f"{share(call['timeouts'] / call['attempts'])} of its attempts time out",
                      "timeout", tuple(evidence), _longer_timeout(run, call, short, evidence),
                      {"timeout_ms": short.timeout_s * 1e3, "callee_p99_ms": short.p99_ms,
                       "timeout_share": call["timeouts"] / call["attempts"],
                       "amplification": call["amplification"]})


def _timeout_set(run: Run, path: tuple[str | int, ...]) -> bool:
    """Whether a finding made before sets the timeout of the call at `path` already."""
    prefix = f"{dotted(path)}.timeout="
    return any(o.startswith(prefix) for f in run.found if f.fix is not None for o in f.fix.set)


def _cut_texts(run: Run, call: dict[str, Any], short: Short) -> list[str]:
    """What a timeout below the callee's p99 costs: the attempts cut off, the retries they
    provoke, and the caller's latency."""
    callee, caller = call["to"], call["from"]
    latency = run.latency_ms(callee)
    texts = [f"{count(call['timeouts'])} of its {count(call['attempts'])} attempts timed out "
             f"after {short.timeout_s * 1e3:g} ms, while {callee} answers in "
             f"{latency.get('p50') or 0:.3g} ms at the median and {short.p99_ms:.3g} ms at p99: "
             "the timeout cuts off answers that were coming"]
    retried = min(call["retries"], call["timeouts"])
    if retried:
        texts.append(f"of its {count(call['retries'])} retries (amplification "
                     f"{call['amplification']:.3g}), up to {count(retried)} follow a timeout: "
                     f"up to {rate(retried / run.span_s)} more load on {callee}, and a "
                     "request retried so waits out the timeout and a back-off before its "
                     "next try")
    p99 = run.latency_ms(caller).get("p99")
    if p99 is not None:
        texts.append(f"{caller} answers in {p99:.3g} ms at p99")
    return texts


def _targets(calls: list[dict[str, Any]]) -> set[str]:
    return {c["to"].split(".", 1)[0] for c in calls}


def _entry_fault_fix(run: Run, workload: str, evidence: list[str]) -> Fix | None:
    """The fault fix for a fault on the component a workload sends its requests to: no
    call leads there, so the calls do not name it; `evidence` gets the fault."""
    spec = next((w for w in run.system.workloads if w.name == workload), None)
    if spec is None:
        return None
    entry = run.system.resolve(spec.to)[0]
    faults = run.faults_on(entry)
    if not faults:
        return None
    evidence += [f"fault: {fault_text(f, run.end_s)}" for f in faults]
    return _fault_fix(run, {entry}, [], evidence, contained=False)


def _edge(call: dict[str, Any]) -> str:
    return f"{call['from']}→{call['to']}"


def _why(run: Run, call: dict[str, Any]) -> str:
    """What happened to a call's attempts: the breaker, timeouts, errors, a fault."""
    parts = []
    breaker = call.get("circuit_breaker")
    if breaker and breaker["not_permitted"]:
        opened = sum(1 for t in breaker["transitions"] if t["to"] == "open")
        parts.append(f"its breaker refused {count(breaker['not_permitted'])} calls "
                     f"(opened {opened}×)")
    causes = {k: v for k, v in call["attempt_failures_by_cause"].items()
              if v and k != "circuit_open"}
    if causes:
        parts.append("attempts failed: " + ", ".join(
            f"{k.replace('_', ' ')} {count(v)}" for k, v in causes.items()))
    target = call["to"].split(".", 1)[0]
    for fault in run.faults_on(target):
        parts.append(f"fault: {fault_text(fault, run.end_s)}")
    done = f"fell back {count(call['fallbacks'])}×" if call["fallbacks"] else \
        f"failed {count(call['failed'])}×"
    return f"{_edge(call)} {done}" + (": " + "; ".join(parts) if parts else "")


def _limit(calls: list[dict[str, Any]], breaker: Fix | None, quorum: QuorumCause | None
           ) -> Limit | None:
    """The limit that binds: a breaker that refused (or could not open), or a quorum out of
    reach."""
    if breaker or any(c.get("circuit_breaker", {}).get("not_permitted") for c in calls):
        return "circuit_breaker"
    return "quorum" if quorum else None


def _because(quorum: QuorumCause | None, deeper: DeeperFault | None = None) -> str:
    """The summary's cause, when a quorum out of reach or a fault on what the callee waits
    on is it."""
    if quorum:
        return f": {quorum.headline}"
    return deeper.headline if deeper else ""


def _breaker_fix(run: Run, calls: list[dict[str, Any]], evidence: list[str]) -> Fix | None:
    """The first of `calls` whose breaker never opened though its attempts failed at its
    failure_rate or more, because its time window never holds min_calls at the measured
    rate (lint's SS208): its settings, not the fault, are why each call waited out its
    failure. The fix lowers min_calls to half of what a window holds (room for a slower
    stretch); None when no call is such."""
    for call in calls:
        found = _unopenable(run, call)
        if found is None:
            continue
        path, breaker, seen, calls_per_s = found
        evidence.append(f"the breaker of {_edge(call)} never opened though its attempts "
                        f"failed at or above its failure_rate ({share(breaker.failure_rate)}): "
                        f"it decides only on {breaker.min_calls} calls in its {breaker.window} s "
                        f"window, and at the {rate(calls_per_s)} measured one breaker sees "
                        f"about {seen:.3g} (lint SS208)")
        lower = max(1, math.floor(seen / 2))
        return Fix(f"make the breaker of {_edge(call)} able to open: lower its min_calls from "
                   f"{breaker.min_calls} to {lower}, half of what its window holds, so it "
                   "opens on these failures and fails fast to the fallback instead of waiting "
                   "out each one", (f"{path}.min_calls={lower}",))
    return None


def _unopenable(run: Run, call: dict[str, Any]
                ) -> tuple[str, CircuitBreaker, float, float] | None:
    """For a call whose breaker never opened though it should have: where its breaker is
    set (dotted), the breaker, the calls one breaker sees in its window and the calls per
    second; None for any other call."""
    measured = call.get("circuit_breaker")
    if not measured or measured["not_permitted"] \
            or any(t["to"] == "open" for t in measured["transitions"]):
        return None
    place = _breaker_of(run, call)
    attempts = call["attempts"]
    failed = sum(n for cause, n in call["attempt_failures_by_cause"].items()
                 if cause != "circuit_open")
    if place is None or not attempts or failed / attempts < place[1].failure_rate:
        return None
    calls_per_s = attempts / run.span_s
    caller = run.system.components[call["from"].split(".", 1)[0]]
    seen = calls_in_window(place[1], calls_per_s, running_replicas(caller))  # not 0: scaled
    return (*place, seen, calls_per_s) if never_opens(place[1], seen) else None


def _breaker_of(run: Run, call: dict[str, Any]) -> tuple[str, CircuitBreaker] | None:
    """The breaker in effect on `call` and where it is set: the call's own, or the
    defaults' (dotted paths)."""
    path = run.call_path(call["from"], call["to"])
    if path is None:
        return None
    own = getattr(_written(run, path), "circuit_breaker", None)
    if own is not None:
        return f"{dotted(path)}.circuit_breaker", own
    defaults = run.system.defaults.calls
    if defaults is not None and defaults.circuit_breaker is not None:
        return "defaults.calls.circuit_breaker", defaults.circuit_breaker
    return None


def _written(run: Run, path: tuple[str | int, ...]) -> Any:
    """The call at `path` as the spec writes it, without the defaults' settings: what an
    override at `path` changes."""
    node: Any = run.system
    for part in path:  # through the spec's mappings, lists and models
        if isinstance(node, list):
            node = node[int(part)]
        else:
            node = node[part] if isinstance(node, dict) else getattr(node, str(part), None)
    return node


def _rate_limited_fix(run: Run, workload: str, causes: list[tuple[int, str]]) -> Fix | None:
    """For a workload whose requests failed mostly rate-limited by a per-workload limit:
    that limit, raised to what the workload sends (the rate-limit finding's fix for it)."""
    if not causes or causes[0][1] != "rate_limited":
        return None
    for name, component in run.system.components.items():
        if component.rate_limit is None or not component.rate_limit.per_workload:
            continue
        client = next((c for c in workloads_over(run, name) if c.name == workload), None)
        if client is not None:
            return per_workload_fix(run, name, client)
    return None


def _timeout_fix(run: Run, calls: list[dict[str, Any]], evidence: list[str]) -> Fix | None:
    """The first of `calls`, to a callee without a fault, whose attempts time out (1 % or
    more) under a timeout below the callee's measured p99 (`_short_timeout`): a timeout
    sized for its normal answers (`_longer_timeout`). When the callee is at its limit
    (`at_limit`) the fix relieves it (`relief`) first: alone when the attempts time out in
    its queue, where a longer timeout would only wait longer (`_where`); before the
    timeout's fix when they time out in its own work, which relief does not shorten."""
    for call in calls:
        short = _short_timeout(run, call)
        if short is None:
            continue
        component = call["to"].split(".", 1)[0]
        if component not in at_limit(run):
            return _longer_timeout(run, call, short, evidence)
        queued, where = _where(run, call["to"])
        if queued:
            return relief(run, [component], f"the attempts of {_edge(call)} time out in its "
                          f"queue ({where}), and a longer timeout would only wait longer on a "
                          "component that cannot keep up")
        fix = _longer_timeout(run, call, short, evidence)
        relieved = relief(run, [component], f"the attempts of {_edge(call)} time out in its "
                          f"own work ({where}), which relief does not shorten: {fix.summary}")
        return Fix(relieved.summary, (*relieved.set, *fix.set))
    return None


def _where(run: Run, ref: str) -> tuple[bool, str]:
    """Whether a visit to `ref` spends more time waiting for a worker (the measured mean
    wait, Little's law) than in its own mean work, so its calls time out in its queue
    rather than in its work; and the two times, as text."""
    component = ref.split(".", 1)[0]
    wait, own = mean_wait_s(run.result["components"][component]), own_work_s(run.system, ref)
    if wait > own:
        return True, (f"a visit waits {duration(wait)} on average for one of its workers, "
                      f"more than its {duration(own)} of own work")
    p99 = run.latency_ms(ref).get("p99") or 0.0
    return False, (f"a visit waits only {duration(wait)} on average for one of its workers; "
                   f"its own work takes {duration(own)} on average, and its answers "
                   f"{duration(p99 / 1e3)} at p99")


@dataclass(frozen=True)
class Short:
    """A call timing out under a timeout below its callee's measured p99: where the call
    sits, its timeout, the slowest percentile of the callee's normal answers (its name and
    time), the p99, and whether a fallback answers the call when it fails."""

    path: tuple[str | int, ...]
    timeout_s: float
    level: str
    normal_ms: float
    p99_ms: float
    fallback: bool


def _longer_timeout(run: Run, call: dict[str, Any], short: Short, evidence: list[str]) -> Fix:
    """A timeout TIMEOUT_MARGIN × the slowest percentile of the callee's normal answers (up
    to p99, below a jump of HANG× that marks a tail of hangs). When the timeout is that long
    already, it cuts only the hangs: a longer one would wait them out, and the fix says so.
    A latency SLO over the call's requests caps it (`waits.cap`): past the cap the fix is
    the cap (`_capped`)."""
    callee = call["to"]
    cut = share(call["timeouts"] / call["attempts"])
    proposed_ms = _longer_ms(short)
    level, normal_ms = short.level, short.normal_ms
    hangs = level != "p99"
    if hangs:
        evidence.append(f"{callee}'s p99 ({short.p99_ms:,.0f} ms) is "
                        f"{short.p99_ms / normal_ms:.0f}× its {level} ({normal_ms:.3g} ms): its "
                        "slowest answers hang")
    if proposed_ms / 1e3 <= short.timeout_s:
        return Fix(f"keep the timeout of {_edge(call)} ({short.timeout_s * 1e3:g} ms): it is "
                   f"above {callee}'s normal answers ({level} {normal_ms:.3g} ms) and cuts "
                   f"mostly its hangs ({cut} of the attempts), which a longer timeout would "
                   "wait out; answer them with a fallback or a retry")
    bound = waits.cap(run, call["from"], callee)
    if bound is not None and proposed_ms > bound.ms:
        return _capped(run, call, short, bound, proposed_ms)
    return Fix(f"raise the timeout of {_edge(call)} from {short.timeout_s * 1e3:g} ms to "
               f"{proposed_ms} ms, {TIMEOUT_MARGIN:g}× {callee}'s measured {level} "
               f"({normal_ms:.3g} ms): it cut off {cut} of the attempts, answers that were "
               "coming" + (f"; it would still cut the hangs past its {level}" if hangs else ""),
               (f"{dotted(short.path)}.timeout={proposed_ms}ms",))


def _longer_ms(short: Short) -> int:
    """The timeout sized for the callee's normal answers: TIMEOUT_MARGIN × the slowest of
    them, in whole milliseconds."""
    return math.ceil(TIMEOUT_MARGIN * short.normal_ms)


def _capped(run: Run, call: dict[str, Any], short: Short, bound: waits.Cap,
            proposed_ms: int) -> Fix:
    """The timeout fix when the callee's normal answers need more (`proposed_ms`) than a
    latency SLO leaves the call (`bound`): raised to the cap when it is shorter, else not
    raised — the two goals conflict, and the error-rate SLO says whether the calls it cuts
    off are affordable; a fallback (answering them degraded, within the target) or a faster
    callee meets both."""
    edge, now_ms = _edge(call), short.timeout_s * 1e3
    longer = (f"{bound.text()}; the {proposed_ms} ms {call['to']}'s normal answers need "
              f"({TIMEOUT_MARGIN:g}× its {short.level}, {short.normal_ms:.3g} ms) would miss it")
    both = ("its fallback answers the calls it cuts off" if short.fallback else
            f"a fallback on {edge} (on_failure: {{fallback: …}}) would answer the calls it "
            "cuts off degraded, within the target, and meet both goals") + \
        f"; a faster {call['to']} (its slowest answers) cuts fewer"
    if bound.ms > now_ms:
        return Fix(f"raise the timeout of {edge} from {now_ms:g} ms to {bound.ms} ms, no more: "
                   f"{longer}; {both}", (f"{dotted(short.path)}.timeout={bound.ms}ms",))
    errors = run.error_check(bound.check["scope"])
    verdict = "the two goals conflict" if errors is None or not errors["met"] else \
        (f"the error-rate SLO ({share(errors['target'])}) holds with the "
         f"{share(errors['actual'])} failed, "
         + ("so both are met as it is" if bound.check["met"] else
            f"but {bound.slo} misses for what its requests spend elsewhere"))
    keep = "keep" if bound.ms == now_ms else "do not raise"
    return Fix(f"{keep} the timeout of {edge} ({now_ms:g} ms): {longer}; {verdict}; {both}")


def _short_timeout(run: Run, call: dict[str, Any]) -> Short | None:
    """For a call timing out under a timeout below its callee's measured p99: its `Short`."""
    found = run.call_at(call["from"], call["to"])
    if found is None or not call["attempts"] or call["timeouts"] / call["attempts"] < NOTABLE:
        return None
    path, spec = found
    component = call["to"].split(".", 1)[0]
    latency = run.latency_ms(call["to"])
    p99 = latency.get("p99")
    if spec.timeout is None or p99 is None or p99 / 1e3 <= spec.timeout \
            or run.faults_on(component) or waited_faults(run, call["to"]):
        return None
    level, normal = "p50", latency.get("p50") or p99
    for name in ("p90", "p95", "p99"):
        value = latency.get(name)
        if value is None or value > HANG * normal:
            break
        level, normal = name, value
    return Short(path, spec.timeout, level, normal, p99, not isinstance(spec.on_failure, str))


def _fault_fix(run: Run, targets: set[str], calls: list[dict[str, Any]], evidence: list[str],
               contained: bool, deeper: DeeperFault | None = None) -> Fix | None:
    """When the calls fail because of an injected fault on one of `targets` (the calls'
    callees, and a workload's faulty entry component), that fault is the cause. If its
    calls fell back (`contained`), the design contains it and the remedy is the faulty
    component; if requests failed, nothing answered them: the fix is the design change that
    would have (`_answering_fix`), and for an elected component the failover finding's fix
    shortens the failover (`_failover_fix`). The fault is the test the design must pass:
    only where no change can be said (a fault contained already, one on the component a
    workload reaches directly) does its `set` remove it, to show the design without it. Not
    when the failures spread beyond the faulty replicas (then `evidence` gets why). Without
    a fault on `targets`, a fault on what a callee waits on (`deeper`) is the cause
    (`_deeper_fix`)."""
    faults = [f for f in run.faults if f.component in targets]
    if not faults:
        return None if deeper is None else _deeper_fix(run, deeper, evidence, contained)
    spread = [text for target in sorted(targets) if (text := _spread(run, target, calls))]
    if spread:
        evidence += spread
        return None
    names = ", ".join(sorted({f.target for f in faults}))
    elected = sorted(t for t in targets if run.system.components[t].leader_election is not None
                     and run.result["components"][t]["refused_by_cause"].get("unavailable"))
    slow = sorted({f.component for f in faults})
    if contained:
        return kept_off(run, slow, f"the fault on {names} causes it; the resilience settings "
                        "contain it as designed, by a fallback the slow replica's calls wait "
                        "for") \
            or _without(run, faults, f"the fault on {names} causes it; the resilience "
                        f"settings contain it as designed, and the remedy is {names} itself")
    if elected:
        return _failover_fix(run, names, elected)
    cause = (f"the fault on {names} causes them, and nothing in the design answered the "
             "requests that met it")
    entries = targets - _targets(calls)
    # Keeping traffic off a slowed replica answers its requests whoever sends them, a
    # workload to the component directly included: the one cause has the one fix.
    design = kept_off(run, slow, cause if entries else (
        f"{cause}; a retry on another replica would answer them only after each waited out "
        "its timeout on the slow one, which stays saturated")) \
        or (None if entries else _answering_fix(run, faults, calls[:3], cause))
    return design or _without(run, faults, f"{cause}; {_containment(run, entries, faults)}")


def _without(run: Run, faults: list[Fault], text: str) -> Fix:
    """The fix `text` when no design change can be said, with the run without `faults` as
    context: `faults=[]` when they are all the spec's, else (no override removes one item
    of a list) where to remove them."""
    if any(f not in faults for f in run.system.faults):
        return Fix(f"{text}; to see the design without it, remove it from `faults`")
    return Fix(f"{text}. Without the fault:", ("faults=[]",))


def _deeper_fix(run: Run, deeper: DeeperFault, evidence: list[str], contained: bool) -> Fix:
    """The fix for calls a fault on what their callee waits on failed or degraded: for
    degraded answers, the design contains it (`_without`); for failures, a fallback on each
    failed call (of the three most failed) to the callee — a retry would wait on the same
    faulty component from any replica — which a saga's call cannot have."""
    evidence += deeper.texts
    cause = (f"the fault on {deeper.faulty} causes {'it' if contained else 'them'}, through "
             f"{deeper.callee}, which waits on it")
    if contained:
        return _without(run, list(deeper.faults), f"{cause}; the resilience settings contain "
                        f"it as designed, and the remedy is {deeper.faulty} itself")
    texts: list[str] = []
    overrides: list[str] = []
    for call in deeper.calls[:3]:
        found = run.call_at(call["from"], call["to"])
        if found is None:
            continue
        text, sets = _fallback_answer(call, found[0])
        texts.append(text)
        overrides += [o for o in sets if o not in overrides]
    return Fix(f"{cause}, and nothing in the design answered the requests that met it; a "
               f"retry on another {deeper.callee} replica would wait on {deeper.faulty} too; "
               + "; ".join(texts), tuple(overrides))


# How an elected component's finding tells why it had no leader.
_LEADERLESS = {"failover": "had no leader until the failover ended",
               "split_votes": "had no leader while its elections split the vote"}


def _failover_fix(run: Run, names: str, elected: list[str]) -> Fix:
    """Requests refused `unavailable` by elected components while a fault left them without
    a leader: the fix of their failover or split-vote findings (made before, in
    `run.found`), which shortens the failover and says what should retry, or widens the
    election timeouts; a fault is what the design must survive, so its removal is no fix.
    A component without such a finding gets its time without a leader only."""
    told = {f.subject: (f.kind, f.fix, f.numbers) for f in run.found
            if f.kind in _LEADERLESS and f.subject in elected and f.fix is not None}
    said = []
    for name in elected:
        if name in told:
            kind, fix, numbers = told[name]
            why = "had no leader, its failover still in progress at the window's end" \
                if numbers.get("failover_in_progress_s") is not None else _LEADERLESS[kind]
            said.append(f"{name} {why}; the {kind} finding's fix: {fix.summary}")
        else:
            leaderless = run.result["elections"][name].get("leaderless_s") or 0.0
            said.append(f"{name} had no leader for {leaderless:.2f} s")
    return Fix(f"the fault on {names} causes them: {'; '.join(said)}",
               tuple(override for _, fix, _ in told.values() for override in fix.set))


def _containment(run: Run, entries: set[str], faults: list[Fault]) -> str:
    """What would have answered the requests a fault met: a retry on another replica when
    the fault is on some replicas only (on a replica more when it is on all of them), or a
    fallback — in a caller, which a component the workload reaches directly does not have."""
    if all(f.replica is None for f in faults):
        remedy = "a fallback"
    elif all(_healthy(run, f.component, faults) for f in faults):
        remedy = "a retry on another replica or a fallback"
    else:
        remedy = "a retry on a replica more (there is none without the fault) or a fallback"
    if not entries:
        return f"{remedy} would have"
    named = ", ".join(sorted(entries))
    return (f"only a caller in front of {named} with {remedy} would have, and the workload "
            f"sends its requests to {named} directly")


def _healthy(run: Run, name: str, faults: list[Fault]) -> int:
    """How many replicas of component `name` no fault of `faults` is on."""
    replicas = run.system.components[name].replicas
    faulty = {f.replica for f in faults if f.component == name}
    return 0 if None in faulty else replicas - len(faulty & set(range(replicas)))


def _answering_fix(run: Run, faults: list[Fault], calls: list[dict[str, Any]],
                   cause: str) -> Fix | None:
    """The design change that would have answered the requests a fault failed, for each of
    `calls` to a faulty component (`_answer`), after `cause`; None when no such call has a
    place in the spec."""
    texts: list[str] = []
    overrides: list[str] = []
    for call in calls:
        target = call["to"].split(".", 1)[0]
        found = run.call_at(call["from"], call["to"])
        if found is None or not any(f.component == target for f in faults):
            continue
        text, sets = _answer(run, call, found, faults)
        texts.append(text)
        overrides += [o for o in sets if o not in overrides]
    return Fix(f"{cause}; " + "; ".join(texts), tuple(overrides)) if texts else None


def _answer(run: Run, call: dict[str, Any], found: tuple[tuple[str | int, ...], Call],
            faults: list[Fault]) -> tuple[str, list[str]]:
    """What would have answered the calls of `call` that faults on its callee failed, as
    text and overrides: for faults on some replicas, a retry that goes to another replica
    (`retry_set`; not on `error` for a saga step whose errors its saga compensates, written
    whole when it has no retry), with a replica more when every replica has a fault; else
    (a fault on the whole component, an autoscaled one whose count the autoscaler sets, or
    a call that retries on other replicas already) a fallback, which a saga's call cannot
    have (`_no_fallback`)."""
    path, spec = found
    edge, target = _edge(call), call["to"].split(".", 1)[0]
    component = run.system.components[target]
    saga = "saga" in path
    fallback = _fallback_answer(call, path)
    otherwise = "" if saga else f"; or {fallback[0]}"
    if any(f.component == target and f.replica is None for f in faults) \
            or component.autoscale is not None:
        return fallback
    retry = spec.retry
    if retry is None and _compensated_step(run, path):
        proposed = Retry(attempts=RETRY_ATTEMPTS, on=[c for c in Retry().on if c != "error"])
        retried = [f"{dotted(path)}.retry="
                   + flow({"attempts": RETRY_ATTEMPTS, "on": list(proposed.on)})]
        subject = (f"{edge} with retries ({RETRY_ATTEMPTS} tries, a retry to another replica; "
                   "none on error, which the saga compensates)")
    elif retry is None or retry.attempts < 2:
        retried = [retry_set(run, path, "attempts", RETRY_ATTEMPTS)]
        subject = f"{edge} with retries ({RETRY_ATTEMPTS} tries, a retry to another replica)"
        proposed = (retry or Retry()).model_copy(update={"attempts": RETRY_ATTEMPTS})
    elif not retry.other_replica:
        retried = [retry_set(run, path, "other_replica", True)]
        subject = f"{edge} with its retries steered to another replica (other_replica)"
        proposed = retry.model_copy(update={"other_replica": True})
    else:
        retried = []
        subject = f"the {retry.attempts} tries of {edge} (a retry goes to another replica)"
        proposed = retry
    note, shorter = _retry_fit(run, call, path, spec.model_copy(update={"retry": proposed})) \
        if retried else ("", [])
    retried += shorter
    healthy = _healthy(run, target, faults)
    if healthy:
        if not retried:
            return fallback
        return (f"{subject} would have answered them on the {healthy} replica"
                f"{'s' if healthy > 1 else ''} of {target} without the fault{otherwise}{note}",
                retried)
    more = component.replicas + 1
    return (f"no replica of {target} ({component.replicas}) is without the fault, so no "
            f"retry could go to another: with {more} replicas, {subject} would have answered "
            f"them on the one without it{otherwise}{note}",
            [f"components.{target}.replicas={more}", *retried])


def _fallback_answer(call: dict[str, Any], path: tuple[str | int, ...]
                     ) -> tuple[str, list[str]]:
    """A fallback on the call at `path` (text and override), or for a saga's call, which
    takes none, what stands for it (`_no_fallback`)."""
    edge = _edge(call)
    if "saga" in path:
        return _no_fallback(edge)
    return (f"a fallback on {edge} would have answered them (here a {waits.FALLBACK_MS} ms "
            "answer, counted degraded: what it answers is the application's choice)",
            [waits.fallback_override(path)])


def _no_fallback(edge: str) -> tuple[str, list[str]]:
    """What stands for a fallback on a saga's step or compensation, which takes none (a
    step is a plain call, docs/data.md): its failure is the saga's to answer."""
    return (f"{edge} is a saga's call, which takes no fallback: a step up to the pivot that "
            "fails compensates the saga, one past it or a compensation leaves it stuck; "
            "only retries that outlast the fault would have answered them", [])


def _retry_fit(run: Run, call: dict[str, Any], path: tuple[str | int, ...],
               retrying: Call) -> tuple[str, list[str]]:
    """What a proposed retry needs to keep the latency SLOs (`waits.cap` of the call as
    `retrying` makes it): a request whose try times out waits the timeout, a back-off and
    the retry, so when the call's timeout is over what they leave it, a shorter one with
    the retry (text and override); when a latency SLO over its requests leaves it no
    timeout, that conflict; nothing when it fits or no SLO caps it."""
    timeout = retrying.timeout
    bound = waits.cap(run, call["from"], call["to"], run.system.effective(retrying))
    if timeout is not None and bound is None and waits.capped_by_slo(run, call["from"]):
        unmet: dict[str, list[str]] = {}
        for slo in waits.out_of_reach(run, call["from"], call["to"], retrying):
            unmet.setdefault(slo.reason(call["to"]), []).append(waits.slo_name(slo.check))
        why = "".join(f" ({' and '.join(names)}: {reason})" for reason, names in unmet.items())
        return (f"; but a timed-out try ({timeout * 1e3:g} ms), a back-off and a retry may "
                "outlast the latency SLO over these requests, which leaves the call no "
                f"timeout with the retry{why}: the retry trades that SLO for the error rate",
                [])
    if timeout is None or bound is None or bound.ms >= timeout * 1e3:
        return "", []
    return (f"; with the retry, shorten its timeout from {timeout * 1e3:g} ms to {bound.ms} "
            f"ms: a timed-out try, a back-off and a retry would outlast {bound.slo}, which "
            f"leaves the call at most {bound.ms} ms ({bound.elsewhere})",
            [f"{dotted(path)}.timeout={bound.ms}ms"])


def retry_set(run: Run, path: tuple[str | int, ...], name: str, value: Any) -> str:
    """The override setting `name` of the retry in effect on the call at `path`, where it
    is set: the call, or `defaults.calls` (reaching every call that inherits it, as the
    breaker's fix does); a call with neither gets a retry of its own, written whole (its
    `retry` may be written null)."""
    if getattr(_written(run, path), "retry", None) is not None:
        return f"{dotted(path)}.retry.{name}={flow(value)}"
    defaults = run.system.defaults.calls
    if defaults is not None and defaults.retry is not None:
        return f"defaults.calls.retry.{name}={flow(value)}"
    return f"{dotted(path)}.retry={flow({name: value})}"


def _storm_fix(run: Run, workload: str, calls: list[dict[str, Any]], evidence: list[str],
               numbers: dict[str, float | None]) -> Fix | None:
    """A retry storm a fault started (`_storm`, the first of `calls` in one): the retries
    of the attempts the fault failed overloaded the callee, whose refusals and timeouts
    fail more attempts, and so on after the fault is gone. The fault only triggered the
    failures; the fix is a retry budget sized to the callee's room (`_budget_ratio`),
    which caps the retries whatever fails. `evidence` and `numbers` get the failures after
    the fault's end and the amplification."""
    failed = run.result["workloads"][workload]["requests"]["failed"]
    storm = next((s for c in calls if (s := _storm(run, workload, c, failed))), None)
    if storm is None:
        return None
    call, retry, target = storm.call, storm.retry, storm.call["to"].split(".", 1)[0]
    after = failed - storm.reach
    numbers.update(failed_after_fault=after, amplification=call["amplification"])
    evidence += [
        f"{count(failed)} requests failed, over {STORM:g}× the {count(storm.reach)} "
        "sent while the fault could meet them (from "
        f"{duration(storm.longest_s)}, the longest a request takes, before it began at "
        f"{storm.start_s:g} s to its end at {storm.end_s:g} s): at least {count(after)} "
        "failed after it ended",
        f"{_edge(call)} sent {call['amplification']:.3g} attempts per call "
        f"({count(call['retries'])} retries; up to {retry.attempts} tries, back-off "
        f"{retry.backoff}, no retry budget), and {target} was "
        f"{share(run.result['components'][target]['utilization'] or 0.0)} busy over the run"]
    rho = run.loads[target].rho
    room = (f"{target}, estimated {share(rho)} busy without retries, is at most "
            f"{share(TARGET_UTILIZATION)} busy with them and drains what the fault left"
            if rho else f"{target}'s workers are unlimited")
    return Fix(f"the fault on {target} only started them: the retries of {_edge(call)} kept "
               f"{target} overloaded after it ended, their refusals and timeouts failing "
               "more attempts and so more retries (a retry storm, a metastable failure). "
               f"Give them a retry budget of {share(storm.ratio)} of the calls ({room}), "
               "with no floor (min_per_s 0) so they stay within it when every call fails; "
               "a back-off alone only delays them",
               (retry_set(run, storm.path, "budget",
                           {"ratio": f"{storm.ratio * 100:g}%", "min_per_s": 0}),))


def _budget_fix(run: Run, total: int, calls: list[dict[str, Any]], evidence: list[str],
                numbers: dict[str, float | None]) -> Fix | None:
    """The first of `calls` whose retry budget refused retries for NOTABLE of the `total`
    requests, to a callee with room for them (`_budget_room`): the budget, not the
    failures' cause, is why they were not retried, so the fix raises its ratio to the
    retries the calls want (`_wanted_ratio`) before any fallback. `evidence` and `numbers`
    get the refusals."""
    for call in calls:
        refused = call.get("retry_budget_exhausted") or 0
        found = run.call_at(call["from"], call["to"])
        retry = None if found is None else found[1].retry
        budget = None if retry is None else retry.budget
        if refused < NOTABLE * total or found is None or retry is None or budget is None:
            continue
        path = found[0]
        wanted, p = _wanted_ratio(call, retry.attempts)
        room = _budget_room(run, call["to"].split(".", 1)[0], retry.attempts)
        ratio = min(wanted, room)
        if ratio <= whole_percent(budget.ratio):
            continue
        numbers["retry_budget_exhausted"] = refused
        evidence.append(f"the retry budget of {_edge(call)} ({share(budget.ratio)} of the "
                        f"calls, min_per_s {budget.min_per_s:g}) refused {count(refused)} "
                        f"retries: {count(refused)} of its {count(call['failed'])} failed calls "
                        "gave up with tries left")
        capped = "" if ratio == wanted else (
            f", capped at {ratio} %, what keeps {call['to'].split('.', 1)[0]} at most "
            f"{share(TARGET_UTILIZATION)} busy (the rest needs a fallback)")
        floor = budget.min_per_s
        value = {"ratio": f"{ratio}%", "min_per_s": int(floor) if floor.is_integer() else floor,
                 "window": f"{budget.window:g}s"}
        return Fix(f"the retry budget of {_edge(call)} ({share(budget.ratio)}) refused the "
                   f"retries that would have answered them: raise its ratio to {ratio} %, the "
                   f"retries its calls want ({share(p)} of the attempts failed: p + p² + … "
                   f"up to its {retry.attempts} tries, {wanted} % of the calls){capped}",
                   (retry_set(run, path, "budget", value),))
    return None


def _error_retry_fix(run: Run, workload: str, calls: list[dict[str, Any]]) -> Fix | None:
    """The first of `calls` whose attempts failed mostly by its callee operation's own
    `error_rate`, without a fault on the callee and with room for retries: errors
    independent of each other at the measured rate p fail a call with k tries at p^k, so
    the fix retries them with the least tries that leave under half the error rate allowed
    (`_allowed_errors`), room for p's randomness and the other failures. Not for an
    operation that is not idempotent: the fix says to make it so first. Not for a saga step
    whose failures its saga compensates (`_compensated_step`)."""
    for call in calls:
        found = run.call_at(call["from"], call["to"])
        target, operation = call["to"].split(".", 1)
        causes = call["attempt_failures_by_cause"]
        own = run.system.components[target].effective_operations.get(operation)
        if found is None or own is None or not own.error_rate or run.faults_on(target) \
                or not causes.get("error") or max(causes, key=causes.__getitem__) != "error":
            continue
        path, spec = found
        if _compensated_step(run, path):
            continue
        p = causes["error"] / call["attempts"]
        allowed, slo = _allowed_errors(run, workload)
        tries = max(2, math.ceil(math.log(allowed / 2) / math.log(p))) if p < 1 else 0
        retry = spec.retry or Retry(attempts=1)
        if not 1 < tries <= 100 or (tries <= retry.attempts and "error" in retry.on) or \
                _budget_room(run, target, tries) < 100 * sum(p**k for k in range(1, tries)):
            continue
        why = (f"{call['to']} fails {share(own.error_rate)} of its answers on its own, each "
               f"independently ({share(p)} of the attempts of {_edge(call)}): a call with k "
               f"tries fails only when all do, p^k; {tries} tries leave {share(p**tries)}, "
               f"under half of {share(allowed)}, {slo}")
        if not own.idempotent:
            return Fix(f"{why}; but {call['to']} is not idempotent, so a retry may run it "
                       "twice: make it idempotent (an idempotency key) before retrying it")
        changes: dict[str, Any] = {"attempts": tries} if tries > retry.attempts else {}
        if "error" not in retry.on:
            changes["on"] = [*retry.on, "error"]
        proposed = retry.model_copy(update=changes)
        note, shorter = _retry_fit(run, call, path, spec.model_copy(update={"retry": proposed}))
        sets = [retry_set(run, path, k, v) for k, v in changes.items()] if spec.retry else \
            [f"{dotted(path)}.retry={flow({'attempts': tries})}"]
        return Fix(f"retry {_edge(call)}: {why}{note}", (*sets, *shorter))
    return None


def _compensated_step(run: Run, path: tuple[str | int, ...]) -> bool:
    """Whether the call at `path` is a saga step whose failures its saga answers by
    compensating (`sagas.compensates`): its errors are outcomes, not failures a retry
    should hide."""
    if path[-3:-1] != ("saga", "steps"):
        return False
    saga = _written(run, path[:-2])
    return isinstance(saga, Saga) and sagas.compensates(saga, int(path[-1]))


def _allowed_errors(run: Run, workload: str) -> tuple[float, str]:
    """The error rate a workload's requests may have, and whence: its error-rate SLO, or
    the top-level one, or NOTABLE, under which the failures finding is not made."""
    check = run.error_check(workload) or run.error_check("all")
    if check is not None:
        return check["target"], "the error-rate SLO's target"
    return NOTABLE, "the failures finding's threshold (no error-rate SLO)"


def _wanted_ratio(call: dict[str, Any], attempts: int) -> tuple[int, float]:
    """The retries per call a call with `attempts` tries wants, in whole percent rounded
    up, when each attempt fails independently at the measured rate p: p + p² + … +
    p^(attempts − 1) (a refused retry ends its call, so the measured retries undercount
    them); and p."""
    p = sum(n for cause, n in call["attempt_failures_by_cause"].items()
            if cause != "circuit_open") / max(1, call["attempts"])
    return math.ceil(100.0 * sum(p**k for k in range(1, attempts)) - 1e-9), p


def _budget_room(run: Run, name: str, attempts: int) -> int:
    """The largest retry budget, in whole percent of the calls, that component `name` has
    room for: its analytic utilization without retries ρ × (1 + ratio) at most
    TARGET_UTILIZATION, and at most the attempts − 1 retries a call can make. 0 when it
    is that busy already, or a fault is on all of it (a retry meets the fault again)."""
    faults = run.faults_on(name)
    if faults and not _healthy(run, name, faults):
        return 0
    most = 100 * (attempts - 1)
    load = run.loads.get(name)
    if load is None or load.rho <= 0.0:
        return most
    return max(0, min(most, math.floor(100.0 * (TARGET_UTILIZATION / load.rho - 1.0))))


@dataclass(frozen=True)
class Storm:
    """A call whose retries outlast the fault on its callee: the call, where it sits and
    its retry, the budget ratio proposed, when the fault began and ended, the longest a
    request takes, and the requests the fault could meet."""

    call: dict[str, Any]
    path: tuple[str | int, ...]
    retry: Retry
    ratio: float
    start_s: float
    end_s: float
    longest_s: float
    reach: float


def _storm(run: Run, workload: str, call: dict[str, Any], failed: int) -> Storm | None:
    """`call` as a `Storm` when its callee's faults all ended before the window did, it
    sent AMPLIFIED attempts per call or more with retries without a budget, its callee was
    at its limit over the run (`at_limit`), and the workload's `failed` requests are over
    STORM times those the faults could meet (`_sent`); else None."""
    target = call["to"].split(".", 1)[0]
    window = _ended(run, run.faults_on(target))
    found = run.call_at(call["from"], call["to"])
    ratio = _budget_ratio(run, target)
    if window is None or found is None or ratio is None \
            or call["amplification"] < AMPLIFIED or target not in at_limit(run):
        return None
    path, spec = found
    if spec.retry is None or spec.retry.budget is not None:
        return None
    longest = _longest_s(run, workload, spec)
    reach = _sent(run, workload, window[0] - longest, window[1])
    if failed <= STORM * reach:
        return None
    return Storm(call, path, spec.retry, ratio, *window, longest, reach)


def _ended(run: Run, faults: list[Fault]) -> tuple[float, float] | None:
    """When the first of `faults` began and the last ended; None without faults or when
    one lasts to the end of the window."""
    if not faults or any(f.for_ is None or f.at + f.for_ >= run.end_s for f in faults):
        return None
    return min(f.at for f in faults), max(f.at + f.for_ for f in faults if f.for_ is not None)


def _longest_s(run: Run, workload: str, spec: Call) -> float:
    """How long a request can be in flight through the call `spec`: its tries' timeouts
    and longest back-offs (`Retry.longest_wait`) when it has a timeout, and at least the
    workload's slowest answer."""
    slowest = (run.result["workloads"][workload]["latency_ms"].get("max") or 0.0) / 1e3
    if spec.timeout is None:
        return slowest
    tries = 1 if spec.retry is None else spec.retry.attempts
    waits = 0.0 if spec.retry is None else spec.retry.longest_waits(tries)
    return max(slowest, tries * spec.timeout + waits)


def _sent(run: Run, workload: str, start: float, stop: float) -> float:
    """The requests of `workload` sent from `start` to `stop` (within the window, at its
    mean rate, all replications)."""
    simulation = run.system.simulation
    inside = min(stop, run.end_s) - max(start, simulation.warmup)
    total: int = run.result["workloads"][workload]["requests"]["total"]
    return total * max(0.0, inside) / simulation.duration


def _budget_ratio(run: Run, name: str) -> float | None:
    """The budget ratio `retry_budget_percent` sizes for component `name`, as a share of the
    calls (None under 1 %): the same the saturated finding proposes."""
    percent = retry_budget_percent(run, name)
    return None if percent is None else percent / 100.0


def _spread(run: Run, target: str, calls: list[dict[str, Any]]) -> str | None:
    """Why the failures of the calls to `target` are not (all) on its faulty replicas: a
    replica without a fault (or the whole component) at its limit, or more failed attempts
    than an even balancer sends the faulty replicas. None when they can be, or when no
    fault is on one replica only (a fault on the whole component is where they are)."""
    component = run.system.components[target]
    faulty = {f.replica for f in run.faults_on(target)}
    if not faulty or None in faulty:
        return None
    names = ", ".join(f"{target}[{i}]" for i in sorted(r for r in faulty if r is not None))
    measured = run.result["components"][target]
    hottest = uneven(measured, HOT)
    if hottest is not None and hottest[0] not in faulty:
        return (f"the fault on {names} does not explain them all: {target}'s replica "
                f"{hottest[0]}, without a fault, is at its limit (about {share(hottest[1])} "
                "busy), so calls fail there too; the resilience settings do not contain it")
    if (measured["utilization"] or 0.0) >= HOT:
        return (f"the fault on {names} does not explain them all: {target}'s replicas are "
                f"{share(measured['utilization'])} busy together, so calls fail on healthy "
                "replicas too; the resilience settings do not contain it")
    if component.balancer not in (Balancer.ROUND_ROBIN, Balancer.RANDOM) \
            or leader_served(component):
        return None
    edges = [c for c in calls if c["to"].split(".", 1)[0] == target]
    attempts = sum(c["attempts"] for c in edges)
    failed = sum(n for c in edges for cause, n in c["attempt_failures_by_cause"].items()
                 if cause != "circuit_open")
    reach = attempts * len(faulty) / component.replicas
    if failed <= SPREAD * reach:
        return None
    return (f"the fault on {names} does not explain them all: {count(failed)} attempts to "
            f"{target} failed, more than the {count(reach)} its {component.balancer.value} "
            f"balancer sends {names} ({len(faulty)} of {component.replicas} replicas), so "
            "calls fail on healthy replicas too; the resilience settings do not contain it")
