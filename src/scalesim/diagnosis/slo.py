"""Missed SLOs: which step of the request's path takes the time. From the entry operation,
follow the synchronous call whose callee is slowest at the missed percentile, as long as it
holds a good part of the target and of its caller's time (else the caller's own work or
queue holds it); the last step is where the time goes. When that time is
queueing (for workers, or for busy cores), the fix is the capacity the analytic estimate says
meets the target — for workers held by calls to a callee at its own limit, the callee's
own fix (`relief`), as the saturated finding says; when it is the wait on a call, a timeout
on that call (`waits.propose`), after that callee's own fix when it is at its limit, or,
when the rest of the path leaves it no room, that no timeout meets the target."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from scalesim.analytic.estimate import Estimate, estimate, latency_at
from scalesim.diagnosis import waits
from scalesim.diagnosis.components import (
    at_limit,
    busy_callees,
    guarding_bulkhead,
    held_by_calls,
    kept_off,
    relief,
    slow_calls,
)
from scalesim.diagnosis.context import (
    HOT,
    TARGET_UTILIZATION,
    Run,
    fault_text,
    mean_wait_s,
    own_work_s,
)
from scalesim.diagnosis.finding import Finding, Fix, Limit, duration, share
from scalesim.sim.metrics import PERCENTILES
from scalesim.spec import bounds
from scalesim.spec.model import Call, ParallelStep, System, Workload, plain_steps
from scalesim.spec.overrides import changed

SHARE_OF_TARGET = 0.5  # a callee slower than this share of the target, and of its caller's
# time at the percentile, is on the slow path
QUEUED = 0.1  # a mean wait for a worker from this share of the target is what the SLO misses
GROWTH = 4  # capacity is sized up to this many times the current count


@dataclass(frozen=True)
class Remedy:
    """What binds at the last step of the slow path: the limit, where the time goes (for
    the summary), and the change that meets the target."""

    limit: Limit | None
    where: str
    fix: Fix
    numbers: dict[str, float | None] = dataclasses.field(default_factory=dict)  # fix's own


def missed_slos(run: Run) -> Iterator[Finding]:
    result = run.result
    for check in result.get("slo", {}).get("checks", []):
        if check["met"] or check["name"] == "error_rate" or check["actual_ms"] is None:
            continue
        scope, name = check["scope"], check["name"]
        target = check["target_ms"]
        workload = _workload(run, scope, name, target)
        if workload is None:
            continue
        entry = ".".join(run.system.resolve(workload.to))
        path = _slow_path(run, entry, name, target)
        # The entry's own percentile is over all its visits (other workloads', requests that
        # failed after it answered): the path starts at its workload's, over its requests.
        at_entry = run.result["workloads"][workload.name]["latency_ms"].get(name) or 0.0
        shown = [(entry, at_entry), *path[1:]]
        steps = [f"{entry} {duration(at_entry / 1e3)}",
                 *(_step(run, name, ref, ms) for ref, ms in shown[1:])]
        last, last_ms = shown[-1]
        component = last.split(".", 1)[0]
        own = own_work_s(run.system, last)
        evidence = [f"{name} along the slowest path ({_whose(scope, workload.name)} entry, "
                    "then each call over its calls): " + " → ".join(steps),
                    f"{last}'s own work takes {duration(own)} on average",
                    *(f"fault: {fault_text(f, run.end_s)}" for f in run.faults_on(component))]
        remedy = _remedy(run, check, path, evidence)
        # A callee's own percentile is over its calls, not the requests (some skip it, or
        # get a quick fallback): it can exceed the request's, so it is named as such.
        whose = f"{name} of its calls " if len(path) > 1 and remedy.where == last else \
            f"{name} of {workload.name} " if scope != workload.name else ""
        yield Finding(
            "slo", "problem", scope,
            f"{scope}: {name} {duration(check['actual_ms'] / 1e3)} misses the SLO of "
            f"{duration(target / 1e3)}; most of it is {remedy.where} "
            f"({whose}{duration(last_ms / 1e3)})",
            remedy.limit, tuple(evidence), remedy.fix,
            {"actual_ms": check["actual_ms"], "target_ms": target, "slowest_ms": last_ms,
             **remedy.numbers})


def _whose(scope: str, workload: str) -> str:
    """Whose requests the path follows, for the evidence."""
    return f"the requests of {workload}, most of all requests over the target, at its" \
        if scope == "all" else f"the requests of {workload}, at its"


def _step(run: Run, name: str, ref: str, ms: float) -> str:
    """A step of the slow path and the wait on it; when its call's timeout ends that wait
    short of the callee's own latency, that latency too."""
    own = run.latency_ms(ref).get(name)
    if own is not None and own <= ms:
        return f"{ref} {duration(ms / 1e3)}"
    answered = f"{name} {duration(own / 1e3)}" if own is not None else "none in time"
    return f"{ref} {duration(ms / 1e3)} (the call's timeout ends the wait; its answers: " \
        f"{answered})"


def _remedy(run: Run, check: dict[str, Any], path: list[tuple[str, float]],
            evidence: list[str]) -> Remedy:
    """Busy cores or a queue for workers at the last step are sized (`_capacity_fix`);
    otherwise the time is the step's own: a slow callee's, or the entry's own work."""
    last = path[-1][0]
    component = last.split(".", 1)[0]
    measured = run.result["components"][component]
    spec = run.system.components[component]
    if not run.faults_on(component):
        cpu = measured.get("cpu")
        if spec.core_limit is not None and cpu is not None and cpu >= HOT:
            evidence.append(f"{component}'s cores are {share(cpu)} busy: its visits share "
                            "them, so each computes longer")
            return Remedy("cores", f"{last} on {component}'s busy cores",
                          _capacity_fix(run, check, component, ("replicas",)))
        wait = mean_wait_s(measured)
        if spec.worker_limit is not None and wait >= QUEUED * check["target_ms"] / 1e3 \
                and held_by_calls(run, component):
            evidence.append(f"a visit waits {duration(wait)} on average for one of the "
                            f"workers of {component}, which its slow calls hold")
            return Remedy("downstream", f"queueing for the workers of {component}, held by "
                          f"its calls at {last}", *_held_fix(run, check, component))
        if spec.worker_limit is not None and wait >= QUEUED * check["target_ms"] / 1e3:
            busy = measured["utilization"] or 0.0
            evidence.append(f"a visit waits {duration(wait)} on average for one of the "
                            f"workers of {component} ({share(busy)} busy): queueing, not "
                            "work, takes the time")
            # At its limit its own finding adds replicas: the same knob, for one story.
            fields = ("replicas", "workers") if busy >= HOT else ("workers", "replicas")
            return Remedy("workers", f"queueing for the workers of {component} at {last}",
                          _capacity_fix(run, check, component, fields))
    kept = kept_off(run, [component], f"the visits its slowed replica holds set the "
                    f"{check['name']}, which a timeout would only turn into failures or "
                    "fallbacks")
    if kept is not None:
        return Remedy("downstream", last, kept)
    agree = f"or agree a {check['name']} the path can keep"
    if len(path) == 1:
        return Remedy(None, last, Fix(f"make {last} faster: its own time is the "
                                      f"{check['name']}; {agree}"))
    refs = [ref for ref, _ in path]
    timeout = waits.propose(run, check, *refs[-2:])
    if isinstance(timeout, waits.OutOfReach):
        return Remedy("downstream", last, Fix(timeout.text(refs)))
    if component in at_limit(run):
        return Remedy("downstream", last, _relieve_first(run, check, component, timeout),
                      timeout.numbers if timeout is not None else {})
    if timeout is not None:
        return Remedy("downstream", last, Fix(
            f"{timeout.text()}; or a hedge after its typical latency, a faster "
            f"{last}, {agree}", timeout.overrides), timeout.numbers)
    return Remedy("downstream", last,
                  Fix(f"shorten the wait on {last}: a timeout under the SLO with a fallback, "
                      f"a hedge after its typical latency, or a faster implementation; {agree}"))


def _relieve_first(run: Run, check: dict[str, Any], component: str,
                   timeout: waits.Timeout | None) -> Fix:
    """The callee whose own work sets the percentile is at its own limit: relieve it first,
    with its saturated finding's fix (`relief`, as for workers held by calls to it), since
    a timeout alone fails calls at a component that has no room (and its failures finding
    then relieves it); then the timeout bounds the wait its own work still sets."""
    why = (f"{component} is at its limit, where a timeout alone would fail calls its queue "
           "lengthens")
    if timeout is None:
        return relief(run, [component], f"{why}; then shorten the wait on it (a faster "
                      f"implementation, a hedge) or agree a {check['name']} it can keep")
    fix = relief(run, [component], f"{why}; relieved, its own work still sets the "
                 f"{check['name']}: {timeout.text()}")
    return Fix(fix.summary, (*fix.set, *timeout.overrides))


def _held_fix(run: Run, check: dict[str, Any], component: str
              ) -> tuple[Fix, dict[str, float | None]]:
    """Slow calls hold the workers of `component`: a timeout on the slowest of them, when
    one can be sized, bounds how long each holds one; the calls waiting it out still hold
    workers, which a bulkhead on the call (`guarding_bulkhead`) keeps from filling them
    all. When a slow callee is at its own limit, the fix relieves it (`relief`), as the
    saturated finding on `component` says. The fix, and its numbers."""
    bound = (f"bound the wait on the calls of {component} (a timeout, a bulkhead, a "
             "fallback: see its own finding) so slow calls cannot hold every worker; more "
             "workers only buy time")
    slow = slow_calls(run, component)
    if not slow:
        return Fix(bound), {}
    busy = busy_callees(run, slow)
    if busy:
        return relief(run, busy, f"its queue is what holds the workers of {component}; "
                      f"a timeout on {', '.join(edge for edge, _ in slow)} would turn the "
                      "waits into failures instead"), {}
    caller, callee = slow[0][0].split("→")
    if not waits.reaches(run, check["scope"], caller):
        return Fix(f"bound the wait on {caller}→{callee}, which holds the workers of "
                   f"{component} though these requests never make it: its own finding, and "
                   f"the SLO findings of the requests that make it, say how"), {}
    timeout = waits.propose(run, check, caller, callee)
    if not isinstance(timeout, waits.Timeout):
        return Fix(bound), {}
    guard = guarding_bulkhead(run, caller, callee)
    if guard is None:
        return Fix(timeout.text(), timeout.overrides), timeout.numbers
    return (Fix(f"{timeout.text()}; and {guard.text}", (*timeout.overrides, *guard.set)),
            {**timeout.numbers, **guard.numbers})


def _capacity_fix(run: Run, check: dict[str, Any], component: str,
                  fields: tuple[str, ...]) -> Fix:
    """The fewest of the first of `fields` (workers, replicas) that can be sized with which
    the analytic estimate meets the target (its stations' queueing: Erlang C for M/M/c,
    Allen–Cunneen otherwise; the whole path) and keeps the component under the utilization
    a fix aims for."""
    name, target = check["name"], check["target_ms"] / 1e3
    for field in fields:
        found = _least(run, check, component, field)
        if found is None:
            continue
        count, seconds = found
        now = _count(run.system, component, field)
        return Fix(f"raise {component}.{field} from {now} to {count}: the analytic estimate "
                   f"(queueing theory, the whole path) puts the {name} at {duration(seconds)}, "
                   f"under the SLO of {duration(target)}, with {component} under "
                   f"{share(TARGET_UTILIZATION)} busy",
                   (f"components.{component}.{field}={count}",))
    return Fix(f"more capacity for {component} ({' or '.join(fields)}): the analytic "
               f"estimate finds no count up to ×{GROWTH} that brings the {name} under "
               f"{duration(target)} (see {component}'s own finding); or agree a {name} the "
               "path can keep")


def _least(run: Run, check: dict[str, Any], component: str,
           field: str) -> tuple[int, float] | None:
    """The smallest count of `field` above the current one, up to ×GROWTH, with which the
    estimated percentile meets the target and the component is offered under
    TARGET_UTILIZATION, and that percentile; None when none does, or when the estimate of the
    design as it is meets the target already (then it cannot tell what would)."""
    system, target = run.system, check["target_ms"] / 1e3
    if field == "replicas" and system.components[component].autoscale is not None:
        return None  # the autoscaler decides its replicas
    now = _count(system, component, field)
    cap = bounds.MAX_WORKERS if field == "workers" else bounds.MAX_REPLICAS_TOTAL

    @functools.cache  # the bisection's last count is estimated again for its percentile
    def estimated(count: int) -> tuple[float, float]:
        """The percentile, and the component's offered utilization."""
        found = estimate(changed(system, ("components", component, field), count))
        return _percentile_s(found, check), found.components[component].state.offered

    def meets(count: int) -> bool:
        seconds, offered = estimated(count)
        return seconds <= target and offered <= TARGET_UTILIZATION

    high = min(cap, now * GROWTH)
    if high <= now or estimated(now)[0] <= target or not meets(high):
        return None
    low = now
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if meets(middle) else (middle, high)
    return high, estimated(high)[0]


def _count(system: System, component: str, field: str) -> int:
    spec = system.components[component]
    count = spec.worker_limit if field == "workers" else spec.replicas
    assert count is not None
    return count


def _percentile_s(found: Estimate, check: dict[str, Any]) -> float:
    """The estimated percentile `check` names, for its scope."""
    scope, name = check["scope"], check["name"]
    if scope in found.workloads:
        return latency_at(found.workloads[scope].latency, name)
    return found.latency_s(name)


def _workload(run: Run, scope: str, name: str, target: float) -> Workload | None:
    """The workload in scope, or for 'all' the one that sends the most requests over the
    target (`_over`): the one whose tail sets the percentile of all requests, which the
    slowest workload need not (0.5 % of requests, all slow, set no p99)."""
    workloads = {w.name: w for w in run.system.workloads}
    if scope in workloads:
        return workloads[scope]
    measured = run.result["workloads"]
    found = max((w for w in measured if w in workloads), default=None,
                key=lambda w: (_over(measured[w], target),
                               measured[w]["latency_ms"].get(name) or 0.0))
    return workloads[found] if scope == "all" and found is not None else None


def _over(measured: dict[str, Any], target: float) -> float:
    """Requests of a workload over `target` ms, at most: its requests × the share past the
    highest of its percentiles within the target (all, when its p50 is past it)."""
    latency = measured["latency_ms"]
    within = [q for key, q in PERCENTILES.items()
              if latency.get(key) is not None and latency[key] <= target]
    return float(measured["requests"]["total"]) * (1.0 - max(within, default=0.0))


def _slow_path(run: Run, entry: str, name: str, target: float) -> list[tuple[str, float]]:
    system = run.system
    path = [(entry, run.latency_ms(entry).get(name) or 0.0)]
    seen = {entry}
    while True:
        component, operation = path[-1][0].split(".", 1)
        calls: list[Call] = []
        for step in plain_steps(system.components[component].effective_operations[operation]
                                .calls):
            calls += step.parallel.calls if isinstance(step, ParallelStep) else [step]
        timed = [(".".join(system.resolve(c.to)), waits.waited_ms(run, path[-1][0], c, name))
                 for c in calls if not c.async_]
        known = [(ref, ms) for ref, ms in timed if ms is not None and ref not in seen]
        if not known:
            return path
        ref, ms = max(known, key=lambda item: item[1])
        if ms < SHARE_OF_TARGET * max(target, path[-1][1]):
            return path  # the step itself holds the time: its own work, or its queue
        path.append((ref, ms))
        seen.add(ref)
