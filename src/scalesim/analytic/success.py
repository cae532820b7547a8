"""P(success) of requests in the estimate: replica availability under random failures,
refusals, error rates, timeouts, and what retries and fallbacks make of them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scalesim.spec.checks import callees_first
from scalesim.spec.model import Call, Fault, Operation, ParallelStep, System, plain_steps
from scalesim.spec.resilience import Fallback

if TYPE_CHECKING:
    from scalesim.analytic.estimate import ComponentEstimate, Model


Failures = dict[str, float]  # P(a visit fails), by the cause its caller sees


def then(first: Failures, second: Failures) -> Failures:
    """The failures of two steps in turn: the second runs only when the first succeeded."""
    ok = 1.0 - sum(first.values())
    out = dict(first)
    for cause, p in second.items():
        out[cause] = out.get(cause, 0.0) + ok * p
    return out


def retried(attempt: Failures, attempts: int, on: set[str]) -> Failures:
    """A call of up to `attempts` tries, each failing as `attempt` does, retried only after
    a failure whose cause is in `on` (Resilience4j's retryExceptions): a failure of another
    cause ends the call at once. With r the retryable share, try k happens with r^(k−1), so a
    final failure of cause c is c's share times 1 + r + … + r^(n−1), and a retryable one is
    the last try's."""
    return tried(Attempt(attempt), (), attempts, on)[0]


@dataclass(frozen=True)
class Attempt:
    """How one attempt fails, by cause, and the share of it that the callee's full queue
    refused (counted in `failures` as `rejected` too), which a retry to it remembers."""

    failures: Failures
    full: float = 0.0


def tried(first: Attempt, again: Sequence[Attempt], attempts: int, on: set[str]
          ) -> tuple[Failures, float]:
    """A call's failures by cause, and its mean tries, when it tries up to `attempts` times
    and tries again after a failure whose cause is in `on`. A try fails as `first` does,
    but after a refusal of the callee's full queue (`Attempt.full`), when retry number j
    fails as again[j − 1] does (the queue is still full more often than not: `again.py`).
    Each try is reached either after such a refusal or not, and the last try's retryable
    failures end the call with the others' of every try."""
    out: Failures = {}
    after_other, after_full, tries = 1.0, 0.0, 0.0  # P(try k, reached either way)
    for k in range(attempts):
        last = k + 1 == attempts
        reached = [(after_other, first)] + ([(after_full, again[k - 1])] if after_full else [])
        tries += after_other + after_full
        after_other = after_full = 0.0
        for share, attempt in reached:
            for cause, p in attempt.failures.items():
                if last or cause not in on:
                    out[cause] = out.get(cause, 0.0) + share * p
            retryable = sum(p for cause, p in attempt.failures.items() if cause in on)
            full = attempt.full if again and "rejected" in on else 0.0
            after_full += share * full
            after_other += share * (retryable - full)
    return out, tries


class Success:
    """P(success) of operations, and of each cause of failure: the component's replica
    availability, its refusals and error rate, and the outcome of each synchronous call it
    must wait for, with retries as independent attempts (only of the causes the retry is
    `on`) and fallbacks (`on_failure`) turning a failed call into a success. `structural`
    keeps only replica availability (the path's availability)."""

    def __init__(self, model: Model, components: Mapping[str, ComponentEstimate],
                 timeouts: Mapping[str, float], admitted: Mapping[str, float]) -> None:
        self.model = model
        self.components = components
        self.timeouts = timeouts
        self.admitted = admitted  # the share a rate-limited component lets in (of a workload's)
        self.memo: dict[tuple[str, bool], Failures] = {}
        self._admitted: dict[str, Failures] = {}  # a visit let in by its queue (`tried`)
        self._degraded: dict[str, float] = {}  # P(a visit answers degraded) (`degraded`)

    def of(self, ref: str, structural: bool = False) -> float:
        return 1.0 - sum(self.failures(ref, structural).values())

    def failures(self, ref: str, structural: bool = False) -> Failures:
        """Computed for what `ref` waits on first (callees first), so that each computation
        finds its callees' outcomes already known: a chain of a thousand calls would
        otherwise recurse past Python's stack."""
        key = (ref, structural)
        if key not in self.memo:
            for callee in callees_first(self.model.system, [ref], self.model.sync_edges):
                self._known(callee, structural)
        return self._known(ref, structural)

    def degraded(self, ref: str) -> float:
        """P(a visit of `ref` is answered in part by a fallback marked `degraded`: a call it
        waits on failed into one, or answered degraded itself (the simulator passes that up
        to the caller), calls independent; worked out callees first."""
        for callee in callees_first(self.model.system, [ref], self.model.sync_edges):
            if callee not in self._degraded:
                self._degraded[callee] = 0.0  # a circle of calls counts its own once
                self._degraded[callee] = self._degraded_visit(callee)
        return self._degraded[ref]

    def _degraded_visit(self, ref: str) -> float:
        clean = 1.0
        for call in step_calls(self.model.ops[ref].steps):
            call = self.model.system.effective(call)
            if call.async_:
                continue
            target = ".".join(self.model.system.resolve(call.to))
            outcome = self.attempt(ref, call) if call.retry is None else self.tried(ref, call)[0]
            fails = sum(outcome.values())
            if isinstance(call.on_failure, Fallback) and call.on_failure.degraded:
                clean *= 1.0 - call.probability * fails
            clean *= 1.0 - call.probability * (1.0 - fails) * self._degraded.get(target, 0.0)
        return 1.0 - clean

    def solved(self, refs: Iterable[str]) -> None:
        """Work out the failures of `refs`, whose callees' are known already (the estimate
        solves callees first), so that asking for them later does not walk their callees
        again: a chain of a thousand calls would walk it a thousand times."""
        for ref in refs:
            self._known(ref, False)

    def _known(self, ref: str, structural: bool) -> Failures:
        key = (ref, structural)
        if key not in self.memo:
            self.memo[key] = {}  # a circle of calls counts its own success once
            self.memo[key] = self._compute(ref, structural)
        return self.memo[key]

    def _compute(self, ref: str, structural: bool) -> Failures:
        """In the kernel's order: the visit turned away (`refusals`), then as a worker
        serves it (`served`)."""
        return self.served(ref, structural,
                           self.refusals(self.model.ops[ref].cname, structural))

    def refusals(self, cname: str, structural: bool = False, full: float | None = None
                 ) -> Failures:
        """How a visit to `cname` is turned away before any work, by cause, in the kernel's
        order: the replica down (`crashed`, or `unavailable` when the balancer steers around
        down ones and none is left), its rate limit (`rate_limited`), its full queue
        (`rejected`: its loss, or `full` when given); `structural`: the replica down alone.
        The caller hears of it one hop later."""
        up, steered = _replica_availability(self.model.system, cname)
        out = {"unavailable" if steered else "crashed": 1.0 - up}
        if structural:
            return out
        out = then(out, {"rate_limited": 1.0 - self.admitted.get(cname, 1.0)})
        return then(out, {"rejected": self.components[cname].state.loss if full is None
                          else full})

    def served(self, ref: str, structural: bool = False, before: Failures | None = None
               ) -> Failures:
        """How a visit a worker has taken up fails, by cause: the calls it waits on fail (as
        they pass it up), then the operation's own error; after the failures `before`, when
        given (its refusals, taken in turn as the kernel meets them)."""
        model = self.model
        op = model.ops[ref]
        out: Failures = dict(before or {})
        at = 0  # where the step's calls start in op.calls (and op.repeats)
        for step in op.steps:
            if isinstance(step, ParallelStep):
                width = len(step.parallel.calls)
                repeats = op.repeats[at:at + width]
                out = then(out, self._parallel(ref, step, repeats, structural))
                at += width
            else:
                out = then(out, self._call(ref, step, structural))
                at += 1
        component = op.component
        if component.backend is not None and component.hit_ratio is not None:
            miss = 1.0 - component.hit_ratio
            backend = self._call(ref, Call(to=component.backend), structural)
            out = then(out, {cause: miss * p for cause, p in backend.items()})
        if not structural:
            out = then(out, {"error": op.operation.error_rate})
        return out

    def _parallel(self, ref: str, step: ParallelStep, repeats: tuple[bool, ...],
                  structural: bool) -> Failures:
        """The group fails when fewer than `need` branches succeed; its cause is one of the
        branches', in proportion to how often each cause fails a branch. A branch the same
        as the one before it (`repeats`) fails as that one does: worked out once."""
        runs: list[tuple[Failures, int]] = []
        for call, repeat in zip(step.parallel.calls, repeats, strict=True):
            if repeat:
                runs[-1] = (runs[-1][0], runs[-1][1] + 1)
            else:
                runs.append((self._call(ref, call, structural), 1))
        return group_failures(runs, needed(step))

    def _call(self, ref: str, call: Call, structural: bool) -> Failures:
        made = self._made(ref, call, structural)
        return {cause: call.probability * p for cause, p in made.items()}

    def made_fails(self, ref: str, call: Call) -> float:
        """P(a call `ref` makes fails, once made, after its retries; 0 when a fallback or
        `continue` answers for it): how much less the requests that succeed take its way
        than those that skip it."""
        return sum(self._made(ref, call, False).values())

    def _made(self, ref: str, call: Call, structural: bool) -> Failures:
        """How a call fails as its caller sees it, once made, by cause."""
        call = self.model.system.effective(call)
        if call.async_ or call.on_failure != "fail":
            return {}
        return self.attempt(ref, call, structural) if call.retry is None \
            else self.tried(ref, call, structural)[0]

    def tried(self, ref: str, call: Call, structural: bool = False) -> tuple[Failures, float]:
        """How a retried `call` (its defaults filled in) fails after its tries, by cause, and
        its mean tries (`tried`): a retry after its callee's full queue refused is refused
        again as `Model.refused_again` has it."""
        assert call.retry is not None
        first = self.attempt(ref, call, structural)
        target = ".".join(self.model.system.resolve(call.to))
        cname = target.split(".", 1)[0]
        again = () if structural else self.model.refused_again(call, self.components[cname])
        if not again:
            return tried(Attempt(first), (), call.retry.attempts, set(call.retry.on))
        late = {"timeout": self.timeouts.get(f"{ref}->{target}", 0.0)}
        admitted = self._admitted.get(target)
        if admitted is None:
            admitted = self._admitted[target] = self.served(
                target, before=self.refusals(cname, full=0.0))
        turned = self.refusals(cname, full=1.0)

        def refused(q: float) -> Attempt:
            """An attempt that the queue refuses with q: the two outcomes mixed."""
            visit = {cause: (1.0 - q) * admitted.get(cause, 0.0) + q * turned.get(cause, 0.0)
                     for cause in dict.fromkeys([*admitted, *turned])}
            return Attempt(then(late, visit), (1.0 - sum(late.values())) * turned["rejected"] * q)

        loss = self.components[cname].state.loss
        return tried(refused(loss), [refused(q) for q in again], call.retry.attempts,
                     set(call.retry.on))

    def attempt(self, ref: str, call: Call, structural: bool = False) -> Failures:
        """How one attempt of `call` (by `ref`, its defaults filled in) fails, by cause: as
        its callee's visit does, or first as `timeout` when it outlasts its timeout."""
        target = ".".join(self.model.system.resolve(call.to))
        attempt = self.failures(target, structural)
        if structural:
            return attempt
        return then({"timeout": self.timeouts.get(f"{ref}->{target}", 0.0)}, attempt)


def _replica_availability(system: System, cname: str) -> tuple[float, bool]:
    """P(a request finds a working replica) under `random_failures` faults, and whether the
    balancer steers around down replicas. With readiness probes or outlier detection it
    does (all must be down to fail); without, a request routed to a down replica fails."""
    up, steered = replicas_up(system, cname, system.faults, crashes=False)
    if steered:
        return 1.0 - math.prod(1.0 - u for u in up), True
    return sum(up) / len(up), False


def replicas_up(system: System, cname: str, faults: Iterable[Fault], crashes: bool = True
                ) -> tuple[list[float], bool]:
    """The share of the time each replica of `cname` is up under `faults` (a crash, when
    `crashes` counts them: never; random failures: mtbf / (mtbf + mttr)), and whether the
    balancer steers around down replicas (readiness probes or outlier detection)."""
    component = system.components[cname]
    up = [1.0] * component.most_replicas
    for fault in faults:
        failures = fault.random_failures
        crashed = crashes and fault.crash
        if fault.component != cname or not (crashed or failures is not None):
            continue
        share = 0.0 if crashed or failures is None else \
            failures.mtbf / (failures.mtbf + failures.mttr)
        for i in [fault.replica] if fault.replica is not None else range(len(up)):
            if i < len(up):
                up[i] *= share
    return up, component.outlier_detection is not None or (
        component.health is not None and component.health.readiness is not None)


def group_failures(runs: Sequence[tuple[Failures, int]], need: int) -> Failures:
    """A parallel group fails when fewer than `need` of its branches (independent) succeed;
    its causes are the branches', in proportion to how often each fails a branch. `runs`:
    the branches' failures, each with how many branches in a row fail so; a run's shares are
    added one by one still, so that the numbers are those of the branches one by one."""
    failed = 1.0 - _at_least(need, [ok for branch, count in runs
                                    for ok in [1.0 - sum(branch.values())] * count])
    causes: Failures = {}
    for branch, count in runs:
        for cause, p in branch.items():
            total = causes.get(cause, 0.0)
            for _ in range(count):
                total += p
            causes[cause] = total
    total = sum(causes.values())
    return {cause: failed * p / total for cause, p in causes.items()} if total else {}


def _at_least(need: int, probabilities: list[float]) -> float:
    """P(at least `need` of independent events happen) (Poisson binomial), tracking only
    the counts that decide it (as `lattice.order_statistic` does): with need > k/2 how many
    have not happened, up to k − need, summed in the order of the full table of counts
    (need, need + 1, …, k), which gives its numbers to the last bit; otherwise how many have
    happened below need, and need or more as one absorbing count."""
    late = len(probabilities) - need
    if late == 0:  # all of them: the one count the table below keeps, to the last bit
        return math.prod(probabilities, start=1.0)
    if late <= need:
        missing = [1.0]  # P(exactly m have not happened), m = 0…late
        for p in probabilities:
            nxt = [0.0] * min(len(missing) + 1, late + 1)
            for m, q in enumerate(missing):
                nxt[m] += q * p
                if m + 1 <= late:
                    nxt[m + 1] += q * (1.0 - p)
            missing = nxt
        return sum(reversed(missing)) if len(missing) == late + 1 else 0.0
    exactly = [1.0] + [0.0] * need  # P(exactly j happened), j < need; [need]: need or more
    for p in probabilities:
        nxt = [0.0] * (need + 1)
        nxt[need] = exactly[need]
        for k, q in enumerate(exactly[:need]):
            nxt[k] += q * (1.0 - p)
            nxt[k + 1] += q * p
        exactly = nxt
    return exactly[need]


def needed(step: ParallelStep) -> int:
    wait_for = step.parallel.wait_for
    return len(step.parallel.calls) if wait_for == "all" else 1 if wait_for == "any" \
        else int(wait_for)


def repeated_branches(steps: Iterable[Call | ParallelStep]) -> tuple[bool, ...]:
    """For each call of `steps` (`step_calls`), whether it is a parallel branch that is the
    same call as the branch before it, so that a fan-out of a thousand identical calls is
    worked out once (compared here, once per estimate, not at every load a capacity search
    tries)."""
    return tuple(branch > 0 and call == calls[branch - 1] for step in steps
                 for calls in [step.parallel.calls if isinstance(step, ParallelStep) else [step]]
                 for branch, call in enumerate(calls))


def calls_of(operation: Operation) -> list[Call]:
    return step_calls(plain_steps(operation.calls))


def step_calls(steps: Iterable[Call | ParallelStep]) -> list[Call]:
    """The calls of plain steps, a parallel group's branches in its place."""
    return [c for step in steps
            for c in (step.parallel.calls if isinstance(step, ParallelStep) else [step])]


