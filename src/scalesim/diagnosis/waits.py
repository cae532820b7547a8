"""A timeout for the call whose wait sets a missed latency SLO (and the cap a latency SLO
puts on any call's timeout, which the failures finding keeps to): sized from the SLO target
less the time the request spends elsewhere on its path, with the share of calls it cuts off
read from the callee's latency distribution (measured; or, when faults changed it during
the run, phase by phase), and checked against the error-rate SLO (a cut-off call fails
unless a fallback answers it)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from scalesim.analytic.attempts import Attempts, active, phases
from scalesim.analytic.estimate import Model
from scalesim.analytic.load import call_matrix, operation_rates, visits
from scalesim.analytic.success import retried
from scalesim.diagnosis.context import Run, changed, dotted, own_work_s
from scalesim.diagnosis.finding import duration, share
from scalesim.spec.checks import sync_edges
from scalesim.spec.errors import Path
from scalesim.spec.model import Call, ParallelStep, plain_steps

# The measured percentiles of a latency, as (quantile, key), that a cut-off share is read from.
QUANTILES = ((0.5, "p50"), (0.9, "p90"), (0.95, "p95"), (0.99, "p99"), (0.999, "p999"),
             (1.0, "max"))
MEASURED = "the callee's measured latencies"
PHASED = ("the callee's latencies estimated outside and during the faults, at the calls the "
          "workloads send; the measured ones are of the few calls held workers let through")

Waited = Callable[[str, Call], float | None]  # a call's wait at the percentile, in ms


@dataclass(frozen=True)
class Timeout:
    """A timeout proposed for one call: where it sits, its size, the share of calls it cuts
    off, and whether something (a fallback) answers those, else the error-rate SLO's verdict."""

    edge: str  # caller→callee
    path: Path
    ms: int
    rest_ms: float  # the time the path spends outside the call at the percentile
    cut: float  # the share of the calls that fail for the timeout (`_cut_share`)
    read: str  # what `cut` was read from: MEASURED or PHASED
    cut_requests: float  # the share of the SLO scope's requests that make those calls
    fallback: bool
    errors_ok: bool  # the error-rate SLO still holds with the cut-off calls failing

    @property
    def override(self) -> str:
        return f"{dotted(self.path)}.timeout={self.ms}ms"

    @property
    def numbers(self) -> dict[str, float | None]:
        return {"timeout_cut_share": self.cut,
                "timeout_cut_request_share": self.cut_requests}

    def text(self, check: dict[str, Any]) -> str:
        """The advice: the timeout, how it was sized, and what the cut-off calls become."""
        sized = (f"set a timeout of {self.ms} ms on {self.edge}: the {check['name']} target of "
                 f"{duration(check['target_ms'] / 1e3)} less the "
                 f"{duration(self.rest_ms / 1e3)} the path spends elsewhere at that "
                 f"percentile; it cuts off about {share(self.cut)} of the calls "
                 f"({self.read})")
        if self.fallback:
            return sized + ", which its fallback answers"
        requests = f" ({share(self.cut_requests)} of the requests)"
        if self.errors_ok:
            return sized + f", which fail{requests}: the error-rate SLO still holds with them"
        return sized + (f", which fail without a fallback{requests}: add one (on_failure: "
                        "{fallback: …}) or the error-rate SLO is missed instead")


def propose(run: Run, path: list[str], check: dict[str, Any], waited: Waited) -> Timeout | None:
    """A timeout on the call from path[-2] to path[-1] that brings the request's percentile
    under the target: the target less the rest of the path, per attempt, rounded down to two
    significant digits. None when the call cannot be found, the percentile is the mean (a
    timeout caps a tail, not an average), no time is left, the call's timeout is that short
    already, or it would cut off most calls (under the callee's median: no fix, an outage)."""
    caller, callee = path[-2], path[-1]
    found = run.call_at(caller, callee)
    if found is None or check["name"] == "mean":
        return None
    where, call = found
    call = run.system.effective(call)
    rest, ms = _budget(run, path, call, check, waited)
    latency = run.latency_ms(callee)
    median = latency.get("p50")
    if ms is None or median is None or ms < median or \
            (call.timeout is not None and ms >= call.timeout * 1e3):
        return None
    cut, read = _cut_share(run, where, caller, call, ms,
                           _failing(call, _share_past(latency, ms)))
    cut_requests = min(1.0, cut * _per_request(run, check["scope"], caller, call))
    fallback = not isinstance(call.on_failure, str)
    return Timeout(f"{caller}→{callee}", where, ms, rest, cut, read, cut_requests, fallback,
                   fallback or _errors_hold(run, check["scope"], cut_requests))


def _budget(run: Run, path: list[str], call: Call, check: dict[str, Any], waited: Waited
            ) -> tuple[float, int | None]:
    """The time `path` spends outside its last call at the check's percentile (`_rest_ms`),
    and the timeout per attempt of that call (`call`, its settings filled in) the target
    leaves: the target less that time, per attempt, rounded down (`_round_down`; None when
    no whole millisecond is left)."""
    rest = _rest_ms(run, path, waited)
    return rest, _round_down((check["target_ms"] - rest) / _attempts(call))


def _attempts(call: Call) -> int:
    return call.retry.attempts if call.retry is not None else 1


@dataclass(frozen=True)
class Cap:
    """The longest timeout per attempt a latency SLO leaves a call (what `propose` sizes),
    the time its path spends elsewhere, and that SLO's check."""

    ms: int
    rest_ms: float
    check: dict[str, Any]
    attempts: int

    def text(self) -> str:
        shared = f", shared by its {self.attempts} attempts" if self.attempts > 1 else ""
        return (f"the {self.check['name']} SLO of {duration(self.check['target_ms'] / 1e3)} "
                f"leaves the call at most {self.ms} ms (its target less the "
                f"{duration(self.rest_ms / 1e3)} the path spends elsewhere{shared})")


def cap(run: Run, caller: str, callee: str) -> Cap | None:
    """The strictest `Cap` on the call `caller` -> `callee` of the latency SLOs (percentiles:
    a timeout caps a tail, not a mean) over requests that make it: for each workload in a
    check's scope whose requests reach `caller` through waited-on calls, the budget
    `_budget` leaves along the way they take. A longer timeout lets calls wait past the
    target. None when no such SLO leaves the call any time (none, or the rest of its path
    misses the target already)."""
    found = run.call_at(caller, callee)
    if found is None:
        return None
    call = run.system.effective(found[1])
    edges = sync_edges(run.system)
    caps = []
    for check in run.result.get("slo", {}).get("checks", []):
        if check["name"] in ("error_rate", "mean"):
            continue
        for workload in run.system.workloads:
            path = _path_to(edges, ".".join(run.system.resolve(workload.to)), caller)
            if check["scope"] not in ("all", workload.name) or path is None:
                continue
            rest, ms = _budget(run, [*path, callee], call, check, waiting(run, check["name"]))
            if ms is not None:
                caps.append(Cap(ms, rest, check, _attempts(call)))
    return min(caps, key=lambda c: c.ms, default=None)


def _path_to(edges: dict[str, list[str]], entry: str, target: str) -> list[str] | None:
    """The shortest chain of waited-on calls from operation `entry` to `target` (both in
    it), None when `target` is not reached."""
    paths = {entry: [entry]}
    todo = [entry]
    while todo:
        ref = todo.pop(0)
        if ref == target:
            return paths[ref]
        for following in edges.get(ref, []):
            if following not in paths:
                paths[following] = [*paths[ref], following]
                todo.append(following)
    return None


def waiting(run: Run, name: str) -> Waited:
    """`waited_ms` at the percentile `name`, as a `Waited`."""
    return lambda caller, call: waited_ms(run, caller, call, name)


def waited_ms(run: Run, caller: str, call: Call, name: str) -> float | None:
    """How long `caller` waited on `call` at the percentile: the callee's own time, or, for
    a callee that never answered in time (no successful visit), the call's timeout when
    its attempts timed out."""
    ref = ".".join(run.system.resolve(call.to))
    found = run.latency_ms(ref).get(name)
    if found is not None:
        return found
    timeout = run.system.effective(call).timeout
    timed_out = any(c["timeouts"] for c in run.result["calls"]
                    if c["from"] == caller and c["to"] == ref)
    return timeout * 1e3 if timeout is not None and timed_out else None


def _cut_share(run: Run, where: Path, caller: str, call: Call, ms: int,
               measured: float) -> tuple[float, str]:
    """The share of calls a timeout of `ms` per attempt fails (every try outlasting it, when
    timeouts are retried), and what it was read from. Where the run's faults leave the
    call's latency alone, `measured`, from the callee's measured latencies (MEASURED).
    Where they change it, those are of the calls that got through: workers held by the
    slow calls let few through while the fault lasts, the very calls the timeout will cut.
    Then, phase by phase (cut where faults start and end), the analytic share of attempts
    outlasting it with the faults acting then (`Attempts.late`, on the spec with the
    timeout set), weighted by the calls the workloads send in the phase (PHASED)."""
    spans = phases(run.system, (run.system.simulation.warmup, run.end_s))
    if len(spans) < 2:
        return measured, MEASURED
    system = changed(run.system, (*where, "timeout"), ms / 1e3)
    model = Model(system, repeats=False)  # each call once: `Attempts` counts the attempts
    found = model.evaluate()
    late, sent = [], []
    for start, end in spans:
        rates = operation_rates(system, (start, end))
        late.append(Attempts(system, model, found, active(system.faults, start, end), rates,
                             length=end - start).late.get(where, 0.0))
        sent.append(rates[caller] * (end - start))
    if max(late) - min(late) < 1e-9 or sum(sent) <= 0.0:
        return measured, MEASURED
    return _failing(call, float(np.dot(late, sent)) / sum(sent)), PHASED


def _failing(call: Call, late: float) -> float:
    """The share of calls that fail when `late` of their attempts outlast the timeout: all
    of their tries, when the retry retries timeouts (`success.retried`)."""
    retry = call.retry
    if retry is None:
        return late
    return retried({"timeout": late}, retry.attempts, set(retry.on)).get("timeout", 0.0)


def _per_request(run: Run, scope: str, caller: str, call: Call) -> float:
    """The calls one request of the SLO's `scope` (all requests, or a workload's) makes on
    this edge: its caller's visits through the call graph × the call's probability, the
    workloads weighted by the requests they sent. A share of the calls failing is this many
    times that share of the requests (at most all: when a request makes more than one, some
    may fail together)."""
    names, matrix = call_matrix(run.system)
    external = np.zeros(len(names))
    for workload in run.system.workloads:
        if scope in ("all", workload.name):
            sent = run.result["workloads"][workload.name]["requests"]["total"]
            external[names.index(".".join(run.system.resolve(workload.to)))] += sent
    total = float(external.sum())
    if total <= 0.0:
        return 1.0
    return float(visits(names, matrix, external)[names.index(caller)]) * call.probability \
        / total


def _rest_ms(run: Run, path: list[str], waited: Waited) -> float:
    """The time a request spends along `path` outside its last call: each earlier step's own
    mean work and, at the percentile, the calls it waits on off the path (a parallel group
    holding the path's call runs beside it, so it adds nothing). Adding percentiles
    overstates their sum's, so the timeout errs short."""
    rest = 0.0
    for step, following in pairwise(path):
        component, operation = step.split(".", 1)
        spec = run.system.components[component].effective_operations[operation]
        rest += own_work_s(run.system, step) * 1e3
        for group in plain_steps(spec.calls):
            calls = group.parallel.calls if isinstance(group, ParallelStep) else [group]
            targets = {".".join(run.system.resolve(c.to)) for c in calls}
            if following in targets:
                continue
            rest += max((waited(step, c) or 0.0 for c in calls if not c.async_), default=0.0)
    return rest


def _round_down(ms: float) -> int | None:
    """`ms` down to two significant digits (352 → 350, 199 → 190), a readable setting that
    stays under the budget; None when there is no whole millisecond left."""
    if ms < 1:
        return None
    step = 10 ** max(0, math.floor(math.log10(ms)) - 1)
    return int(ms // step * step)


def _share_past(latency: dict[str, float | None], ms: float) -> float:
    """The share of measured calls slower than `ms`, interpolated between the measured
    percentiles (at least the median's, as `propose` only asks above it)."""
    points = [(q, latency[key]) for q, key in QUANTILES if latency.get(key) is not None]
    for (q_low, low), (q_high, high) in pairwise(points):
        assert low is not None and high is not None
        if ms < high:
            reached = q_low + (q_high - q_low) * max(0.0, ms - low) / (high - low)
            return 1.0 - reached
    return 0.0


def _errors_hold(run: Run, scope: str, failed: float) -> bool:
    """Whether the scope's error-rate SLO (if it has one) still holds with `failed` of its
    requests failing on top of the measured error rate."""
    check = run.error_check(scope)
    return check is None or bool(check["actual"] + failed <= check["target"])
