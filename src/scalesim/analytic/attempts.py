"""Attempts per call: how many times retries and hedges send a call when attempts fail, for
the run estimate (`runtime.run_cost`), from what the spec says. An upper-bound-leaning
estimate where exactness is impossible.

An attempt fails, by cause, as the estimate's `success.py` has it: the callee's replicas
down (`random_failures`, crash faults), its rate limit and bounded queue refusing, the calls
it waits on failing after their own retries, its error rate (with error-rate faults added),
and the attempt outlasting its timeout (the analytic estimate's P(late), with the mean
latency that latency and network faults add shifting the attempt's distribution). A call
retried up to n tries in all, on causes whose share of an attempt's outcomes is p, makes
1 + p + … + p^(n−1) = (1 − p^n)/(1 − p) attempts on average (attempts independent).

What caps it:
- a retry budget: at most 1 + ratio + R·min_per_s / (the call's rate) attempts a call (each
  of the caller's R replicas keeps its own budget, as the kernel does, R at an autoscaler's
  maximum; the rate is the healthy one, so the cap leans high);
- a circuit breaker whose failure-rate threshold the attempts' failures reach is taken to
  be open: its calls fail at once (`circuit_open`) and none is retried into the callee, so
  at most one attempt a call reaches it (the probes of half-open and the calls before it
  opens are fewer; counting one leans high);
- a partition: attempts across it never reach the callee (they time out or are refused).

Hedges add, per call, at most `max` attempts each sent when no answer came after `after`:
P(an attempt is slower than a percentile p95) = 5 % each (all `max` counted at that
share), or for a fixed delay the analytic P(slower than k × after); a hedge budget caps
them.

Leaning high, by design: attempts are independent (a retry to another replica after a
replica's fault fails as often as the first); a call that fails does not stop its caller's
later steps here (the kernel skips them); the healthy system's P(late) is used unless
retries load a component past its capacity (`runtime` then takes every timed attempt into
it as late, and its bounded queue as refusing 1 − 1/ρ); deadlines and `max_concurrent` are
not counted as caps. Pauses and `network` loss on hops are not counted as failures.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scalesim.analytic.success import (
    Failures,
    group_failures,
    needed,
    replicas_up,
    retried,
    then,
)
from scalesim.spec.checks import cache_edges, callees_first, iter_calls
from scalesim.spec.errors import Path
from scalesim.spec.model import Call, Fault, ParallelStep, System
from scalesim.spec.resilience import Fallback

if TYPE_CHECKING:
    from scalesim.analytic.estimate import Estimate, Model
    from scalesim.analytic.lattice import Lattice

# The faults whose effects change attempts (pauses and the rest do not count here).
EFFECTS = ("error_rate", "crash", "partition", "latency", "network", "random_failures")


def expected_attempts(p: float, n: int) -> float:
    """Mean tries of a call retried up to `n` tries in all (the first included), when each
    try fails, retryably and independently, with probability `p`: try k happens with
    p^(k−1), so 1 + p + … + p^(n−1) = (1 − p^n)/(1 − p); n when p = 1."""
    if p >= 1.0:
        return float(n)
    if p <= 0.0:
        return 1.0
    return (1.0 - p**n) / (1.0 - p)


@dataclass(frozen=True)
class CallAttempts:
    """What one call (of a visit that makes it) costs in attempts and caller-side events."""

    visits: float = 1.0  # attempts that reach the callee: the first, retries and hedges
    timers: float = 0.0  # attempts that start a timeout timer
    backoffs: float = 0.0  # retries that wait a back-off first (an event each)
    hedge_timers: float = 0.0  # hedge timers (the first after `after`, then one per hedge)
    fallbacks: float = 0.0  # P(the call ends in its fallback), whose answer is an event
    sent: float = 1.0  # attempts sent, those an open breaker fails at once included

    @property
    def events(self) -> float:
        """Events on the caller's side, per call."""
        return self.timers + self.backoffs + self.hedge_timers + self.fallbacks


def amplifies(system: System) -> bool:
    """Whether some call waited on can make more than one attempt: a retry of 2+ tries, or a
    hedge."""
    return any(not call.async_ and ((call.retry is not None and call.retry.attempts > 1)
                                    or call.hedge is not None)
               for _, _, _, call in iter_calls(system))


def active(faults: list[Fault], start: float, end: float) -> tuple[Fault, ...]:
    """The faults with an effect on attempts that act through [start, end)."""
    return tuple(f for f in faults if any(getattr(f, name) for name in EFFECTS)
                 and f.at <= start and (f.for_ is None or f.at + f.for_ >= end))


def phases(system: System, span: tuple[float, float]) -> list[tuple[float, float]]:
    """`span` cut where a fault that changes attempts starts or ends."""
    cuts = {span[0], span[1]}
    for fault in system.faults:
        if any(getattr(fault, name) for name in EFFECTS):
            cuts.add(fault.at)
            if fault.for_ is not None:
                cuts.add(fault.at + fault.for_)
    points = sorted(t for t in cuts if span[0] <= t <= span[1])
    return [(a, b) for a, b in itertools.pairwise(points) if b > a]


class Attempts:
    """The attempts of every call in one stretch of the run: the healthy estimate
    (`estimate`, from `model`) with the `faults` acting then, at the healthy `rates` (visits
    per second of each operation, for retry budgets), and the components that the retries'
    load takes past their capacity (`saturated`: name -> ρ ≥ 1)."""

    def __init__(self, system: System, model: Model, estimate: Estimate,
                 faults: tuple[Fault, ...], rates: Mapping[str, float],
                 saturated: Mapping[str, float] | None = None) -> None:
        self.system = system
        self.model = model
        self.estimate = estimate
        self.faults = faults
        self.rates = rates
        self.saturated = saturated or {}
        self.calls: dict[Path, CallAttempts] = {}
        self.failures: dict[str, Failures] = {}  # per visit of each operation
        self._responses: dict[str, Lattice | None] | None = None
        self.order = callees_first(system)
        self.steps = _steps(system)
        self.slower = self._slower()  # mean latency faults add to a visit
        self.late_anyway = self._through_saturated()
        for ref in self.order:
            self.failures[ref] = self._visit(ref)

    # -- one visit ---------------------------------------------------------------------------
    def _visit(self, ref: str) -> Failures:
        """In the kernel's order: the replica, the rate limit, the queue, the calls, the
        cache's backend, then the operation's own error."""
        system = self.system
        cname, oname = ref.split(".", 1)
        component = system.components[cname]
        down, cause = self._down(cname)
        out: Failures = {cause: down} if down > 0.0 else {}
        found = self.estimate.components[cname]
        if found.admitted < 1.0:
            out = then(out, {"rate_limited": 1.0 - found.admitted})
        loss = found.state.loss
        rho = self.saturated.get(cname)
        if rho is not None and component.queue is not None:
            loss = max(loss, 1.0 - 1.0 / rho)
        if loss > 0.0:
            out = then(out, {"rejected": loss})
        for step in self.steps.get(ref, []):
            if isinstance(step, Group):
                out = then(out, group_failures([self._call(ref, path, call)
                                        for path, call in step.calls], step.need))
            else:
                out = then(out, self._call(ref, *step))
        for name, backend in cache_edges(system, cname, sync_only=True):
            if name == oname:
                share = self.model.misses[cname] if backend == component.backend else 1.0
                failed = self.failures[".".join(system.resolve(backend))]
                out = then(out, {c: share * p for c, p in failed.items()})
        error = self._error(cname, component.effective_operations[oname].error_rate)
        return then(out, {"error": error}) if error > 0.0 else out

    def _down(self, cname: str) -> tuple[float, str]:
        """P(an attempt finds its replica down), and the cause: replicas crashed by a fault
        or down from random failures (up mtbf / (mtbf + mttr) of the time); behind
        readiness probes or outlier detection only all of them down fails it."""
        up, steered = replicas_up(self.system, cname, self.faults)
        if steered:
            return math.prod(1.0 - u for u in up), "unavailable"
        return sum(1.0 - u for u in up) / len(up), "crashed"

    def _error(self, cname: str, own: float) -> float:
        """P(an operation's own error): its error rate plus the error-rate faults on its
        replica (min(1, their sum), as the kernel adds them), over the replicas."""
        component = self.system.components[cname]
        extra = [0.0] * component.most_replicas
        for fault in self.faults:
            if fault.component != cname or not fault.error_rate:
                continue
            for i in [fault.replica] if fault.replica is not None else range(len(extra)):
                if i < len(extra):
                    extra[i] += fault.error_rate
        return sum(min(1.0, own + min(1.0, e)) for e in extra) / len(extra)

    # -- one call ----------------------------------------------------------------------------
    def _call(self, ref: str, path: Path, call: Call) -> Failures:
        """The call's outcome as its caller sees it (per visit of the caller), and its
        attempts (`self.calls[path]`)."""
        if call.async_:
            return {}  # one delivery; nobody waits for it
        system = self.system
        target = ".".join(system.resolve(call.to))
        cut = self._cut(ref, target)
        attempt = self._attempt(ref, call, target, cut)
        retry = call.retry
        tries, outcome = 1.0, attempt
        if retry is not None:
            on: set[str] = set(retry.on)
            tries = expected_attempts(sum(p for c, p in attempt.items() if c in on),
                                      retry.attempts)
            outcome = retried(attempt, retry.attempts, on)
            if retry.budget is not None:
                rate = self.rates.get(ref, 0.0) * call.probability
                floor = retry.budget.min_per_s * system.components[
                    system.resolve(ref)[0]].most_replicas  # a budget per calling replica
                spare = floor / rate if rate > 0.0 else math.inf
                tries = min(tries, 1.0 + retry.budget.ratio + spare)
        sent = reach = tries
        breaker = call.circuit_breaker
        if breaker is not None and sum(attempt.values()) >= breaker.failure_rate:
            # open: calls fail at once, retried only on circuit_open (and then at once)
            sent = float(retry.attempts) if retry is not None and "circuit_open" in retry.on \
                else 1.0
            reach = 1.0
            outcome = {"circuit_open": 1.0}
        hedges = self._hedges(call, target, cut) if call.hedge is not None else 0.0
        timed = call.timeout is not None
        timers = ((sent if cut else reach) + hedges) if timed else 0.0
        waits = retry is not None and retry.longest_wait(1) > 0.0
        failed = sum(outcome.values())
        self.calls[path] = CallAttempts(
            visits=0.0 if cut else reach + hedges, timers=timers,
            backoffs=sent - 1.0 if waits else 0.0,
            hedge_timers=1.0 + hedges if call.hedge is not None and cut is None else 0.0,
            fallbacks=failed if isinstance(call.on_failure, Fallback) else 0.0, sent=sent)
        if call.on_failure != "fail":
            return {}
        return {cause: call.probability * p for cause, p in outcome.items()}

    def _attempt(self, ref: str, call: Call, target: str, cut: str | None) -> Failures:
        """How one attempt fails, by cause."""
        if cut is not None:  # refused at once, or lost: then it times out, or hangs
            return {"unavailable": 1.0} if cut == "fail_fast" else \
                {"timeout": 1.0} if call.timeout is not None else {}
        late = self._late(ref, call, target)
        callee = self.failures[target]
        return then({"timeout": late}, callee) if late > 0.0 else dict(callee)

    def _late(self, ref: str, call: Call, target: str) -> float:
        """P(an attempt outlasts its timeout): the estimate's, its distribution shifted by
        the mean that latency and network faults add; 1 into a saturated component."""
        if call.timeout is None:
            return 0.0
        if target in self.late_anyway:
            return 1.0
        shift = self.slower[target] + self._hop_added(target)
        if shift == 0.0:
            return self.estimate.timeouts.get(f"{ref}->{target}", 0.0)
        time = self.model.call_time(call, self._response_map())
        return 1.0 if time is None else max(0.0, 1.0 - time.cdf(call.timeout - shift))

    def _hedges(self, call: Call, target: str, cut: str | None) -> float:
        """Hedges per call: the k-th (k ≤ max) is sent when no answer came after k delays,
        P(first attempt slower) each; a percentile's delay is passed by that share of the
        attempts (all `max` counted at it), a fixed one by the analytic distribution's."""
        hedge = call.hedge
        assert hedge is not None
        if cut is not None:
            return 0.0
        if isinstance(hedge.after, str):
            digits = hedge.after[1:]
            slower = 1.0 - (0.999 if digits == "999" else int(digits) / 100.0)
            count = hedge.max * slower
        else:
            time = self.model.call_time(call, self._response_map())
            shift = self.slower[target] + self._hop_added(target)
            count = sum(1.0 if time is None else max(0.0, 1.0 - time.cdf(k * hedge.after
                                                                          - shift))
                        for k in range(1, hedge.max + 1))
        return count if hedge.budget is None else min(count, hedge.budget)

    def _cut(self, ref: str, target: str) -> str | None:
        """The partition's mode between the caller's and the callee's components, if any."""
        pair = {ref.split(".", 1)[0], target.split(".", 1)[0]}
        for fault in self.faults:
            partition = fault.partition
            if partition is not None and {fault.component, partition.with_} == pair \
                    and len(pair) == 2:
                return partition.mode
        return None

    # -- faults that slow, capacity passed ----------------------------------------------------
    def _slower(self) -> dict[str, float]:
        """Mean time latency faults add to a visit of each operation, what it waits on
        included (network faults on the hops to its callees too); parallel branches added
        up (leaning high)."""
        system = self.system
        out: dict[str, float] = {}
        for ref in self.order:
            cname, oname = ref.split(".", 1)
            operation = system.components[cname].effective_operations[oname]
            added = 0.0
            multiply = 1.0
            for fault in self.faults:
                if fault.component != cname or fault.latency is None:
                    continue
                share = 1.0 / system.components[cname].most_replicas \
                    if fault.replica is not None else 1.0
                if fault.latency.add is not None:
                    added += share * fault.latency.add.mean_s
                if fault.latency.multiply is not None:
                    multiply += share * (fault.latency.multiply - 1.0)
            added += (multiply - 1.0) * (operation.demand.mean_s + operation.post_work.mean_s)
            for step in self.steps.get(ref, []):
                for _, call in step.calls if isinstance(step, Group) else [step]:
                    if not call.async_:
                        callee = ".".join(system.resolve(call.to))
                        added += call.probability * (self._hop_added(callee)
                                                     + out.get(callee, 0.0))
            for name, backend in cache_edges(system, cname, sync_only=True):
                if name == oname:
                    callee = ".".join(system.resolve(backend))
                    added += self._hop_added(callee) + out.get(callee, 0.0)
            out[ref] = added
        return out

    def _hop_added(self, target: str) -> float:
        """Mean time network faults on the callee add to a call's hops there and back."""
        cname = target.split(".", 1)[0]
        return sum(2.0 * fault.network.mean_s for fault in self.faults
                   if fault.component == cname and fault.network is not None)

    def _through_saturated(self) -> set[str]:
        """Operations that wait, synchronously, on a component loaded past its capacity."""
        out: set[str] = set()
        system = self.system
        for ref in self.order:
            cname, oname = ref.split(".", 1)
            if cname in self.saturated:
                out.add(ref)
                continue
            callees = [".".join(system.resolve(call.to))
                       for step in self.steps.get(ref, [])
                       for _, call in (step.calls if isinstance(step, Group) else [step])
                       if not call.async_]
            callees += [".".join(system.resolve(backend))
                        for name, backend in cache_edges(system, cname, sync_only=True)
                        if name == oname]
            if any(callee in out for callee in callees):
                out.add(ref)
        return out

    def _response_map(self) -> dict[str, Lattice | None]:
        if self._responses is None:
            self._responses = {ref: response for found in self.estimate.components.values()
                               for ref, response in found.responses.items()}
        return self._responses


@dataclass(frozen=True)
class Group:
    """A parallel step: its calls, and how many of them must succeed."""

    need: int
    calls: list[tuple[Path, Call]]


Step = tuple[Path, Call] | Group


def _steps(system: System) -> dict[str, list[Step]]:
    """Each operation's calls in order (`iter_calls`, with their paths and defaults): a call
    alone, or a parallel step's branches together."""
    out: dict[str, list[Step]] = {}
    groups: dict[tuple[str, int], Group] = {}
    for cname, oname, path, call in iter_calls(system):
        ref = f"{cname}.{oname}"
        steps = out.setdefault(ref, [])
        if len(path) > 6 and path[6] == "parallel":
            index = path[5]
            assert isinstance(index, int)
            group = groups.get((ref, index))
            if group is None:
                step = system.components[cname].effective_operations[oname].calls[index]
                assert isinstance(step, ParallelStep)
                group = groups[(ref, index)] = Group(needed(step), [])
                steps.append(group)
            group.calls.append((path, call))
        else:
            steps.append((path, call))
    return out
