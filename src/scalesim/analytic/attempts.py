"""Attempts per call: how many times retries and hedges send a call when attempts fail, for
the run estimate (`runtime.run_cost`), from what the spec says. An upper-bound-leaning
estimate where exactness is impossible.

An attempt fails, by cause, as the estimate's `success.py` has it: the callee's replicas
down (`random_failures`, crash faults), its rate limit (at the retries' load, `admitted`)
and bounded queue refusing, the calls it waits on failing after their own retries, its
error rate (with error-rate faults added), and the attempt outlasting its timeout (the
analytic estimate's P(late), with the mean latency that latency and network faults add
shifting the attempt's distribution). A call retried up to n tries in all, on causes whose
share of an attempt's outcomes is p, makes 1 + p + … + p^(n−1) = (1 − p^n)/(1 − p)
attempts on average (attempts independent).

What caps it:
- a retry budget: at most 1 + ratio + R·min_per_s / (the call's rate) attempts a call (each
  of the caller's R replicas keeps its own budget, as the kernel does, R at an autoscaler's
  maximum; the rate is the healthy one, so the cap leans high);
- a circuit breaker whose failure-rate (or slow-call) threshold the attempts reach opens,
  and then lets through only what Resilience4j's state machine lets through
  (`Attempts._passing`): the calls before it first trips (min_calls, and those sent while
  they finish), then per cycle `half_open_calls` probes after each `open_for`, and, when the
  probes close it again (a binomial chance), the calls until it trips again. The other
  attempts fail at once (`circuit_open`): no visit, no timeout timer, retried only when
  `circuit_open` is in `on` (each retry meets the breaker again). Counted per breaker (one
  per calling replica, or one for the service) at the calls' healthy rate, every stretch
  starting closed, and the open wait never growing (`open_for_multiplier`): all lean high;
- a partition: attempts across it never reach the callee (they time out or are refused).

Hedges add, per call, at most `max` attempts each sent when no answer came after `after`:
P(an attempt is slower than a percentile p95) = 5 % each (all `max` counted at that
share), or for a fixed delay the analytic P(slower than k × after); a hedge budget caps
them.

A timeout or a retry takes the bound a blocking caller's workers put on its callee away
from the analytic estimate (`held.py`: an attempt given up on leaves its request behind, a
retry is steered to another replica, which may be full), so a chain of single-worker
services near capacity gets a station wait at every level, its top calls come out late and
every level was loaded with 3 attempts a call (9 to 13 times the kernel's events on the
999-deep chain), where the kernel's are never late: only the entry queues. Where attempts are never
given up on nor retried, the bound holds after all: `HealthyEstimates` takes the estimate
with it first, and keeps it for a stretch where attempts into those components are late and
retried less than `NEVER_LATE` of the time.

Leaning high, by design: attempts are independent (a retry to another replica after a
replica's fault fails as often as the first; but a retry to the full queue that refused the
attempt before it, which the analytic estimate refuses again as the queue is still full,
`again.py`, is refused here with the queue's loss: fewer attempts than run); a call that
fails does not stop its caller's later steps here (the kernel skips them); the healthy
system's P(late) is used unless retries load a component past its capacity (`runtime` then
takes every timed attempt into it as late, and its bounded queue as refusing 1 − 1/ρ);
deadlines and `max_concurrent` are not counted as caps. Pauses and `network` loss on hops
are not counted as failures.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from scalesim.analytic.held import held_bounds
from scalesim.analytic.load import expected_attempts, expected_hedges
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
from scalesim.spec.model import Call, Fault, ParallelStep, SagaBlock, System
from scalesim.spec.resilience import Fallback

if TYPE_CHECKING:
    from scalesim.analytic.estimate import Estimate, Model
    from scalesim.analytic.lattice import Lattice

# The faults whose effects change attempts (pauses and the rest do not count here).
EFFECTS = ("error_rate", "crash", "partition", "latency", "network", "random_failures")
# P(late) under which attempts into a component count as never given up on, so that the
# bound its blocking callers' workers put on it holds (`HealthyEstimates`).
NEVER_LATE = 1e-3


@dataclass(frozen=True)
class CallAttempts:
    """What one call (of a visit that makes it) costs in attempts and caller-side events."""

    visits: float = 1.0  # attempts that reach the callee: the first, retries and hedges
    timers: float = 0.0  # attempts that start a timeout timer
    backoffs: float = 0.0  # retries that wait a back-off first (an event each)
    hedge_timers: float = 0.0  # hedge timers (the first after `after`, then one per hedge)
    fallbacks: float = 0.0  # P(the call ends in its fallback), whose answer is an event
    sent: float = 1.0  # attempts sent, those an open breaker fails at once included
    breaker_timers: float = 0.0  # a breaker's own timers (automatic half-open), per call

    @property
    def events(self) -> float:
        """Events on the caller's side, per call."""
        return self.timers + self.backoffs + self.hedge_timers + self.fallbacks \
            + self.breaker_timers


def shapes(system: System) -> bool:
    """Whether some call waited on can make other than one attempt that reaches its callee:
    a retry of 2+ tries, a hedge, or a circuit breaker (open, it lets fewer through)."""
    return any(not call.async_ and (call.repeated or call.circuit_breaker is not None)
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
    """The attempts of every call in one stretch of the run, `length` seconds long: the
    healthy estimate (`estimate`, from `model`) with the `faults` acting then, at the
    healthy `rates` (visits per second of each operation, for retry budgets and breakers),
    the components that the retries' load takes past their capacity (`saturated`:
    name -> ρ ≥ 1), and the share of the visits of operations behind a rate limit it lets in
    at the retries' load (`admitted`: 'component.operation' -> share, where below the
    estimate's)."""

    def __init__(self, system: System, model: Model, estimate: Estimate,
                 faults: tuple[Fault, ...], rates: Mapping[str, float],
                 saturated: Mapping[str, float] | None = None,
                 length: float = math.inf, admitted: Mapping[str, float] | None = None
                 ) -> None:
        self.system = system
        self.model = model
        self.estimate = estimate
        self.faults = faults
        self.rates = rates
        self.saturated = saturated or {}
        self.length = length
        self.admitted = admitted or {}
        self.calls: dict[Path, CallAttempts] = {}
        self.late: dict[Path, float] = {}  # P(an attempt outlasts its timeout), per call
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
        admitted = min(found.admitted, self.admitted.get(ref, 1.0))
        if admitted < 1.0:
            out = then(out, {"rate_limited": 1.0 - admitted})
        loss = found.state.loss
        rho = self.saturated.get(cname)
        if rho is not None and component.queue is not None:
            loss = max(loss, 1.0 - 1.0 / rho)
        if loss > 0.0:
            out = then(out, {"rejected": loss})
        for step in self.steps.get(ref, []):
            if isinstance(step, Group):
                out = then(out, group_failures([(self._call(ref, path, call), 1)
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
        late = 0.0 if cut is not None else self._late(ref, call, target)
        self.late[path] = late
        attempt = self._attempt(call, target, cut, late)
        passing, timers_per_call = 1.0, 0.0
        if call.circuit_breaker is not None and cut is None:
            passing, timers_per_call = self._passing(ref, call, target, attempt)
        if passing < 1.0:  # the breaker fails the others at once, before they leave
            attempt = {cause: passing * p for cause, p in attempt.items()}
            attempt["circuit_open"] = attempt.get("circuit_open", 0.0) + 1.0 - passing
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
        sent, reach = tries, tries * passing
        hedges = passing * self._hedges(call, target, cut) if call.hedge is not None else 0.0
        timed = call.timeout is not None
        timers = ((sent if cut else reach) + hedges) if timed else 0.0
        waits = retry is not None and retry.longest_wait(1) > 0.0
        failed = sum(outcome.values())
        self.calls[path] = CallAttempts(
            visits=0.0 if cut else reach + hedges, timers=timers,
            backoffs=sent - 1.0 if waits else 0.0,
            hedge_timers=1.0 + hedges if call.hedge is not None and cut is None else 0.0,
            fallbacks=failed if isinstance(call.on_failure, Fallback) else 0.0, sent=sent,
            breaker_timers=timers_per_call)
        if call.on_failure != "fail":
            return {}
        return {cause: call.probability * p for cause, p in outcome.items()}

    def _attempt(self, call: Call, target: str, cut: str | None, late: float) -> Failures:
        """How one attempt fails, by cause, `late` of them outlasting the timeout."""
        if cut is not None:  # refused at once, or lost: then it times out, or hangs
            return {"unavailable": 1.0} if cut == "fail_fast" else \
                {"timeout": 1.0} if call.timeout is not None else {}
        callee = self.failures[target]
        return then({"timeout": late}, callee) if late > 0.0 else dict(callee)

    def _passing(self, ref: str, call: Call, target: str, attempt: Failures
                 ) -> tuple[float, float]:
        """The share of the attempts the call's circuit breaker lets through in this
        stretch, and its own timer events per call, by Resilience4j's states
        (sim/mechanisms/circuit_breaker.py). Attempts fail (`attempt`) or are slow
        independently; the breaker trips when their share reaches its threshold. Closed, it
        lets through the m = min_calls calls it needs to trip (m / P(trip at the m-th), for
        a window that may not trip at once) and those sent while the m-th finishes; open, it
        waits `open_for`; half-open, it lets `half_open_calls` probes through (no more than
        arrive until it decides, after min(min_calls, half_open_calls) have finished) and
        closes again when fewer than the threshold of those fail. A stretch starts closed;
        a growing wait (`open_for_multiplier`) is counted at `open_for`. Both lean high."""
        breaker = call.circuit_breaker
        assert breaker is not None
        system = self.system
        calls = self.rates.get(ref, 0.0) * call.probability
        owners = 1 if breaker.scope == "service" else \
            system.components[system.resolve(ref)[0]].most_replicas
        rate = calls / owners  # calls a second each breaker sees (retries not counted)
        duration, slow = self._duration(call, target, breaker.slow_call_duration)
        failed = sum(attempt.values())
        if failed >= breaker.failure_rate:
            share, threshold = failed, breaker.failure_rate
        elif slow >= breaker.slow_call_rate:
            share, threshold = slow, breaker.slow_call_rate
        else:
            return 1.0, 0.0  # stays closed
        if rate <= 0.0 or not math.isfinite(duration) or (
                breaker.window_type == "time" and rate * breaker.window < breaker.min_calls):
            return 1.0, 0.0  # no calls, none ever finishes, or never min_calls in a window
        least = min(breaker.min_calls, breaker.window) if breaker.window_type == "count" \
            else breaker.min_calls
        closed = least / max(_at_least(share, least, threshold), 1e-9) + rate * duration
        decided = min(least, breaker.half_open_calls)
        probes = min(float(breaker.half_open_calls), decided + rate * duration)
        reopens = _at_least(share, decided, threshold)
        wait = breaker.open_for + (0.0 if breaker.automatic_half_open else 1.0 / rate)
        cycle = wait + (decided - 1) / rate + duration + (1.0 - reopens) * closed / rate
        through = probes + (1.0 - reopens) * closed
        timers = float(breaker.automatic_half_open) + float(breaker.max_wait_in_half_open > 0)
        length = self.length
        if math.isinf(length):
            return min(1.0, through / (rate * cycle)), timers / (rate * cycle)
        cycles = max(0.0, length - closed / rate) / cycle
        return (min(1.0, (closed + cycles * through) / (rate * length)),
                timers * cycles / (rate * length))

    def _duration(self, call: Call, target: str, slow_s: float) -> tuple[float, float]:
        """The mean time an attempt takes until its answer or its timeout, and P(it takes
        longer than `slow_s`): the estimate's call time shifted by what faults add."""
        time = self.model.call_time(call, self._response_map())
        shift = self.slower[target] + self._hop_added(target)
        limit = call.timeout if call.timeout is not None else math.inf
        if time is None:
            return limit, 1.0 if limit > slow_s else 0.0
        slow = 0.0 if limit <= slow_s else max(0.0, 1.0 - time.cdf(slow_s - shift))
        if math.isinf(limit):
            return time.mean + shift, slow
        points = np.arange(len(time.mass)) * time.h + shift
        capped = float(np.minimum(points, limit) @ time.mass) + limit * time.beyond
        return capped, slow

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
        """Hedges per call (`load.expected_hedges`), an attempt slower than t by the
        analytic distribution shifted by the latency faults add (none across a partition)."""
        assert call.hedge is not None
        if cut is not None:
            return 0.0
        time = self.model.call_time(call, self._response_map())
        shift = self.slower[target] + self._hop_added(target)
        return expected_hedges(call.hedge, lambda t: 1.0 if time is None
                               else max(0.0, 1.0 - time.cdf(t - shift)))

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


class HealthyEstimates:
    """The analytic estimates of the healthy system that `Attempts` read P(late) and
    callees' failures from: the estimate (`plain`, built when first asked for), and the
    estimate with the bounds its blocking callers' workers put on the components that only
    timeouts and retries take them from (`bounded`; None when there are none, or when by it
    attempts into them are late), which holds as long as attempts into those components
    (`held`) are neither given up on nor retried (steered to another replica): `holds`.
    Both count every call once (`Model(repeats=False)`): `Attempts` counts the attempts."""

    def __init__(self, system: System) -> None:
        from scalesim.analytic.estimate import Model

        self.system = system
        self._plain: tuple[Model, Estimate] | None = None
        self._bounded: tuple[Model, Estimate] | None = None
        untimed = held_bounds(_unretried(system))
        own = held_bounds(system) if untimed else {}
        self.held = frozenset(name for name in untimed if name not in own)
        self.into = self._into_held()
        if self.held:
            model = Model(system, held={**own, **{name: untimed[name] for name in self.held}},
                          repeats=False)
            estimate = model.evaluate()
            if all(estimate.timeouts.get(key, 0.0) < NEVER_LATE for key in self.into.values()):
                self._bounded = model, estimate

    @property
    def bounded(self) -> tuple[Model, Estimate] | None:
        return self._bounded

    @property
    def plain(self) -> tuple[Model, Estimate]:
        if self._plain is None:
            from scalesim.analytic.estimate import Model

            model = Model(self.system, repeats=False)
            self._plain = model, model.evaluate()
        return self._plain

    def holds(self, found: Attempts) -> bool:
        """Whether attempts into the `held` components are (almost) never late nor retried
        in `found`, so that their callers' workers keep bounding them."""
        return all(found.late.get(path, 0.0) < NEVER_LATE
                   and found.calls[path].sent - 1.0 < NEVER_LATE
                   for path in self.into if path in found.calls)

    def _into_held(self) -> dict[Path, str]:
        """The calls waited on into `held` components: path -> the estimate's
        'caller->callee'."""
        system = self.system
        out: dict[Path, str] = {}
        if not self.held:
            return out
        for cname, oname, path, call in iter_calls(system):
            target = ".".join(system.resolve(call.to))
            if not call.async_ and target.split(".", 1)[0] in self.held:
                out[path] = f"{cname}.{oname}->{target}"
        return out


def _unretried(system: System) -> System:
    """`system` with no call timing out or retried: no `timeout` or `retry` on a call, nor
    in `defaults.calls` (a saga's steps are left as they are: `held.py` bounds nothing
    behind them)."""

    def call(found: Call) -> Call:
        return found.model_copy(update={"timeout": None, "retry": None}) \
            if found.timeout is not None or found.retry is not None else found

    def step(found: Call | ParallelStep | SagaBlock) -> Call | ParallelStep | SagaBlock:
        if isinstance(found, ParallelStep):
            return found.model_copy(update={"parallel": found.parallel.model_copy(
                update={"calls": [call(c) for c in found.parallel.calls]})})
        return call(found) if isinstance(found, Call) else found

    components = {name: component.model_copy(update={"operations": {
        oname: operation.model_copy(update={"calls": [step(s) for s in operation.calls]})
        for oname, operation in component.operations.items()}})
        for name, component in system.components.items()}
    defaults = system.defaults
    if defaults.calls is not None:
        defaults = defaults.model_copy(update={
            "calls": defaults.calls.model_copy(update={"timeout": None, "retry": None})})
    return system.model_copy(update={"components": components, "defaults": defaults})


def _at_least(p: float, n: int, threshold: float) -> float:
    """P(at least `threshold` of n independent tries fail), each failing with p: the
    binomial tail from ⌈threshold·n⌉ (Resilience4j compares percentages, so 3 of 10 meet
    30 %); a normal approximation past 5,000 tries."""
    need = math.ceil(threshold * n - 1e-9)
    if need <= 0 or p >= 1.0:
        return 1.0
    if need > n or p <= 0.0:
        return 0.0
    if n > 5000:
        spread = math.sqrt(n * p * (1.0 - p))
        return 0.5 * math.erfc((need - 0.5 - n * p) / (spread * math.sqrt(2.0)))
    logs = [math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
            + k * math.log(p) + (n - k) * math.log1p(-p) for k in range(need, n + 1)]
    return min(1.0, sum(math.exp(x) for x in logs))


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
