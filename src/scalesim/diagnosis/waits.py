"""A timeout for the call whose wait sets a missed latency SLO (and the cap a latency SLO
puts on any call's timeout, which the failures finding keeps to): sized from the SLO target
less the time the SLO's requests spend elsewhere at its percentile (the analytic estimate
of the design without the call), with the share of calls it cuts off read from the callee's
latency distribution (measured; or, when faults changed it during the run, phase by phase),
and checked against the error-rate SLO (a cut-off call fails unless a fallback answers
it). When that rest leaves the call nothing, or less than a healthy callee's median, no
timeout meets the SLO (`OutOfReach`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from scalesim.analytic.attempts import Attempts, active, phases
from scalesim.analytic.estimate import PERCENTILES, Model, latency_at
from scalesim.analytic.load import call_matrix, operation_rates, visits
from scalesim.analytic.success import retried
from scalesim.diagnosis.context import Run, dotted
from scalesim.diagnosis.finding import duration, share
from scalesim.spec.checks import sync_edges
from scalesim.spec.errors import Path
from scalesim.spec.model import Call, Fault
from scalesim.spec.overrides import changed

# The measured percentiles of a latency, as (quantile, key), that a cut-off share is read from.
QUANTILES = ((0.5, "p50"), (0.9, "p90"), (0.95, "p95"), (0.99, "p99"), (0.999, "p999"),
             (1.0, "max"))
MEASURED = "the callee's measured latencies"
PHASED = ("the callee's latencies estimated outside and during the faults, at the calls the "
          "workloads send; the measured ones are of the few calls held workers let through")
# A timeout is shared by the first k attempts of a retried call when the calls whose first k
# attempts all outlast it are at most this share of the requests the percentile leaves out
# (1 % for a p99): so few go on to a further try that the percentile is not theirs.
TAIL_SHARE = 0.1
FALLBACK_MS = 1  # the latency of a proposed fallback: a cached or default answer


def fallback_override(path: Path) -> str:
    """The override giving the call at `path` a FALLBACK_MS fallback, counted degraded:
    what it answers is the application's choice."""
    return f"{dotted(path)}.on_failure={{fallback: {FALLBACK_MS}ms, degraded: true}}"


def slo_name(check: dict[str, Any]) -> str:
    """'the p99 SLO of 90 ms', and a workload's: 'the p99 SLO of 250 ms of home'."""
    scope = check["scope"]
    return (f"the {check['name']} SLO of {duration(check['target_ms'] / 1e3)}"
            + ("" if scope == "all" else f" of {scope}"))


@dataclass(frozen=True)
class Cap:
    """The longest timeout per attempt a latency SLO (`check`) leaves a call: its target
    less the time its requests spend elsewhere at the percentile (`rest_ms`) and the
    back-offs, shared by the `attempts` a request at the percentile may wait out."""

    ms: int
    rest_ms: float
    check: dict[str, Any]
    attempts: int

    @property
    def slo(self) -> str:
        return slo_name(self.check)

    @property
    def elsewhere(self) -> str:
        shared = f", shared by the {self.attempts} attempts a request at that percentile may " \
            "wait out, with their back-offs" if self.attempts > 1 else ""
        return (f"its target less the {duration(self.rest_ms / 1e3)} its requests take without "
                "the call at that percentile, by the analytic estimate of their other steps, "
                f"hops and queues{shared}")

    def text(self) -> str:
        return f"{self.slo} leaves the call at most {self.ms} ms ({self.elsewhere})"


@dataclass(frozen=True)
class OutOfReach:
    """A latency SLO no timeout on the call can meet: without the call its requests take
    `rest_ms` at the percentile already, which leaves the call no whole millisecond, or
    `left_ms`, under its callee's median (`median_ms`) while no fault slows that callee:
    a timeout would fail most of a healthy callee's calls."""

    check: dict[str, Any]
    rest_ms: float
    left_ms: int | None
    median_ms: float

    def reason(self, callee: str) -> str:
        """Why the SLO leaves a call to `callee` no timeout, in one clause."""
        if self.left_ms is None:
            return (f"without the call its requests take {duration(self.rest_ms / 1e3)} at "
                    "that percentile already, by the analytic estimate")
        return (f"it leaves the call {self.left_ms} ms, under {callee}'s median of "
                f"{duration(self.median_ms / 1e3)}")

    def text(self, path: list[str]) -> str:
        """Why no timeout on the call that ends `path` meets the SLO, and what would."""
        *before, callee = path
        name, target = self.check["name"], duration(self.check["target_ms"] / 1e3)
        left = "which leaves it nothing" if self.left_ms is None else \
            (f"which leaves it {self.left_ms} ms, under {callee}'s median of "
             f"{duration(self.median_ms / 1e3)}: a timeout would fail most of its calls")
        return (f"no timeout on {before[-1]}→{callee} meets the {name} SLO of {target}: without "
                f"that call the requests take {duration(self.rest_ms / 1e3)} at that "
                f"percentile already (the analytic estimate: the steps before it, "
                f"{' → '.join(before)}, one after another, with their hops and queues), "
                f"{left}; the SLO takes fewer sequential hops (calls made in parallel, steps "
                f"merged), faster steps on the path, or a {name} target it can keep")


@dataclass(frozen=True)
class Timeout:
    """A timeout proposed for one call: where it sits, its size (the strictest `Cap` of
    the SLOs over requests that make the call), the share of calls it cuts off, and whether
    something (a fallback) answers those, else the error-rate SLO's verdict."""

    edge: str  # caller→callee
    path: Path
    bound: Cap
    cut: float  # the share of the calls that fail for the timeout (`_cut_share`)
    read: str  # what `cut` was read from: MEASURED or PHASED
    cut_requests: float  # the share of the sizing SLO's requests that make those calls
    fallback: bool
    errors_ok: bool  # the error-rate SLO, if any, still holds with the cut calls failing
    error_slo: bool  # the scope has an error-rate SLO

    @property
    def ms(self) -> int:
        return self.bound.ms

    @property
    def overrides(self) -> tuple[str, ...]:
        """The timeout, and a fallback when the calls it cuts would fail past the
        error-rate SLO: one round then meets both SLOs."""
        own = f"{dotted(self.path)}.timeout={self.ms}ms"
        return (own,) if self.errors_ok else (own, fallback_override(self.path))

    @property
    def numbers(self) -> dict[str, float | None]:
        return {"timeout_cut_share": self.cut,
                "timeout_cut_request_share": self.cut_requests}

    def text(self) -> str:
        """The advice: the timeout, how it was sized, and what the cut-off calls become."""
        sized = (f"set a timeout of {self.ms} ms on {self.edge}: for {self.bound.slo}, "
                 f"{self.bound.elsewhere}; it cuts off about {share(self.cut)} of the calls "
                 f"({self.read})")
        if self.fallback:
            return sized + ", which its fallback answers"
        requests = f" ({share(self.cut_requests)} of the requests)"
        if self.errors_ok:
            return sized + f", which fail{requests}: " + (
                "the error-rate SLO still holds with them" if self.error_slo else
                "no error-rate SLO limits them; a fallback on the call would answer them")
        return sized + (f", which would fail without a fallback{requests}, past the "
                        f"error-rate SLO: with it a fallback answers them (here a {FALLBACK_MS} "
                        "ms answer, counted degraded: what it answers is the application's "
                        "choice)")


def propose(run: Run, check: dict[str, Any], caller: str, callee: str
            ) -> Timeout | OutOfReach | None:
    """A timeout on the call `caller` -> `callee` that brings the percentile of `check`
    under its target, the strictest the latency SLOs over requests making the call leave it
    (`cap`), so that findings on different SLOs set the same one; `OutOfReach` when
    `check`'s own budget is. None when the call cannot be found, the percentile is the mean
    (a timeout caps a tail, not an average), the estimate has no stable answer, the call's
    timeout is that short already, or it would fall under the median of a callee a fault
    slows (the run's median is the fault's) with no fallback to answer what it cuts."""
    found = run.call_at(caller, callee)
    if found is None:
        return None
    own = _budget(run, check, caller, callee)
    if not isinstance(own, Cap):
        return own
    where, call = found
    call = run.system.effective(call)
    bound = min(own, cap(run, caller, callee) or own, key=lambda c: c.ms)
    latency = run.latency_ms(callee)
    median = latency.get("p50")
    fallback = not isinstance(call.on_failure, str)
    if median is None or (bound.ms < median and not fallback) or \
            (call.timeout is not None and bound.ms >= call.timeout * 1e3):
        return None
    cut, read = _cut_share(run, where, caller, call, bound.ms,
                           _failing(call, _share_past(latency, bound.ms)))
    scope = bound.check["scope"]
    cut_requests = min(1.0, cut * _per_request(run, scope, caller, call))
    return Timeout(f"{caller}→{callee}", where, bound, cut, read, cut_requests, fallback,
                   fallback or _errors_hold(run, scope, cut_requests),
                   run.error_check(scope) is not None)


def _budget(run: Run, check: dict[str, Any], caller: str, callee: str,
            proposed: Call | None = None) -> Cap | OutOfReach | None:
    """What the percentile `check` names leaves the call `caller` -> `callee` per attempt:
    its target less the time its requests take without the call (`_rest_ms`) and the
    back-offs, over the attempts a request at the percentile waits out (`_per_attempt`),
    rounded down (`round_down`). `OutOfReach` when no whole millisecond is left, or less
    than the median of a callee no fault slows; None for a mean, a call not found, or an
    estimate with no stable answer. `proposed`: the call as a fix would make it (a retry
    added), in place of the spec's."""
    found = run.call_at(caller, callee)
    if found is None or check["name"] == "mean":
        return None
    where, written = found
    rest = _rest_ms(run, check, where, caller)
    if rest is None:
        return None
    call = proposed or run.system.effective(written)
    latency = run.latency_ms(callee)

    def past(ms: int, tries: int) -> float:
        """The share of calls whose first `tries` tries all outlast `ms`."""
        timed = call.model_copy(update={"timeout": ms / 1e3})
        stretches = _stretches(run, where, caller, timed) if _steered(timed, tries) else None
        spread = None if stretches is None else _spread_share(run, timed, stretches, tries)
        return _share_past(latency, ms) ** tries if spread is None else spread

    ms, attempts = _per_attempt(past, call, check, check["target_ms"] - rest)
    median = run.latency_ms(callee).get("p50")
    healthy = not run.faults_on(callee.split(".", 1)[0])
    if ms is None or (healthy and median is not None and ms < median):
        return OutOfReach(check, rest, ms, median or 0.0)
    return Cap(ms, rest, check, attempts)


def _rest_ms(run: Run, check: dict[str, Any], where: Path, caller: str) -> float | None:
    """The time the requests that make the call at `where` (from `caller`) take at the
    percentile of `check` without it: the analytic estimate of the design with that call
    left out (their other steps' work, hops and queues, in sequence or in parallel as they
    run; healthy, at steady state), the slowest of the workloads in the check's scope that
    reach `caller` (the others never wait on the call). None when no workload does, or the
    estimate has no stable answer."""
    found = run.estimate_without(where)
    seconds = [latency_at(found.workloads[w].latency, check["name"])
               for w in reaching(run, check["scope"], caller)]
    if not seconds or not found.stable or not math.isfinite(max(seconds)):
        return None
    return max(seconds) * 1e3


def _per_attempt(past: Callable[[int, int], float], call: Call, check: dict[str, Any],
                 left_ms: float) -> tuple[int | None, int]:
    """The timeout per attempt `left_ms` allows, and the attempts it is shared by: the
    fewest k whose timeout (`left_ms` less the longest back-offs between them, over k,
    rounded down) is outlasted by all of a call's first k tries (`past`) for at most
    TAIL_SHARE of the share of requests the percentile leaves out, or all of the
    attempts."""
    retry = call.retry
    attempts = retry.attempts if retry is not None else 1
    tail = TAIL_SHARE * (1.0 - PERCENTILES[check["name"]])
    for k in range(1, attempts + 1):
        ms = round_down((left_ms - _backoffs_ms(call, k)) / k)
        if ms is None or k == attempts or past(ms, k) <= tail:
            return ms, k
    raise AssertionError("the loop returns at k == attempts")


def cap(run: Run, caller: str, callee: str, proposed: Call | None = None) -> Cap | None:
    """The strictest `Cap` on the call `caller` -> `callee` (or on it as `proposed`, a fix's
    retry added) of the latency SLOs (percentiles: a timeout caps a tail, not a mean) over
    requests that make it (`reaches`): a longer timeout lets calls wait past the target.
    None when no such SLO leaves the call a timeout (none, or each is `OutOfReach`)."""
    caps = [b for b in _budgets(run, caller, callee, proposed) if isinstance(b, Cap)]
    return min(caps, key=lambda c: c.ms, default=None)


def out_of_reach(run: Run, caller: str, callee: str,
                 proposed: Call | None = None) -> list[OutOfReach]:
    """The latency SLOs over requests that make the call `caller` -> `callee` (as
    `proposed`) that leave it no timeout, each with why: what a fix that cannot keep them
    names, rather than another finding about another call."""
    return [b for b in _budgets(run, caller, callee, proposed) if isinstance(b, OutOfReach)]


def _budgets(run: Run, caller: str, callee: str,
             proposed: Call | None) -> list[Cap | OutOfReach | None]:
    """`_budget` of each latency SLO over requests that make the call."""
    return [_budget(run, check, caller, callee, proposed)
            for check in run.result.get("slo", {}).get("checks", [])
            if check["name"] != "error_rate" and reaches(run, check["scope"], caller)]


def capped_by_slo(run: Run, caller: str) -> bool:
    """Whether a latency SLO (a percentile) is over requests that wait on `caller`'s calls:
    one that may cap their timeouts (`cap`)."""
    return any(check["name"] not in ("error_rate", "mean") and reaches(run, check["scope"], caller)
               for check in run.result.get("slo", {}).get("checks", []))


def reaches(run: Run, scope: str, ref: str) -> bool:
    """Whether requests of `scope` ('all', or a workload's) visit operation `ref` through
    waited-on calls, and so wait on its calls."""
    return bool(reaching(run, scope, ref))


def reaching(run: Run, scope: str, ref: str) -> list[str]:
    """The workloads of `scope` whose requests visit operation `ref` through waited-on
    calls."""
    edges = sync_edges(run.system)
    return [w.name for w in run.system.workloads if scope in ("all", w.name)
            and _reached(edges, ".".join(run.system.resolve(w.to)), ref)]


def _reached(edges: dict[str, list[str]], entry: str, target: str) -> bool:
    """Whether the chain of waited-on calls from operation `entry` reaches `target`."""
    seen, todo = {entry}, [entry]
    while todo:
        ref = todo.pop()
        if ref == target:
            return True
        fresh = [following for following in edges.get(ref, []) if following not in seen]
        seen.update(fresh)
        todo += fresh
    return False


def waited_ms(run: Run, caller: str, call: Call, name: str) -> float | None:
    """How long `caller` waited on `call` at the percentile: the callee's own time, at most
    the wait the call bounds (`_bounded_ms`); for a callee that never answered in time (no
    successful visit), that bound when its attempts timed out."""
    ref = ".".join(run.system.resolve(call.to))
    bound = _bounded_ms(run.system.effective(call))
    found = run.latency_ms(ref).get(name)
    if found is not None:
        return found if bound is None else min(found, bound)
    timed_out = any(c["timeouts"] for c in run.result["calls"]
                    if c["from"] == caller and c["to"] == ref)
    return bound if timed_out else None


def _bounded_ms(call: Call) -> float | None:
    """The longest a caller waits on `call` (its settings filled in) when each attempt ends
    at its timeout: the timeout × the attempts, plus the longest back-offs between them;
    None without a timeout."""
    if call.timeout is None:
        return None
    attempts = call.retry.attempts if call.retry is not None else 1
    return call.timeout * 1e3 * attempts + _backoffs_ms(call, attempts)


def _backoffs_ms(call: Call, attempts: int) -> float:
    """The longest back-offs a call waits between its first `attempts` tries."""
    retry = call.retry
    return 0.0 if retry is None else retry.longest_waits(attempts) * 1e3


def _cut_share(run: Run, where: Path, caller: str, call: Call, ms: int,
               measured: float) -> tuple[float, str]:
    """The share of calls a timeout of `ms` per attempt fails (every try outlasting it, when
    timeouts are retried), and what it was read from. Where the run's faults leave the
    call's latency alone, `measured`, from the callee's measured latencies (MEASURED).
    Where they change it, those are of the calls that got through: workers held by the
    slow calls let few through while the fault lasts, the very calls the timeout will cut.
    Then, stretch by stretch (`_stretches`), the analytic share of attempts outlasting it
    with the faults acting then, weighted by the calls the workloads send in the stretch
    (PHASED); a retry steered to another replica away from a fault on some of them
    (`_spread_share`) mostly meets a healthy one."""
    timed = call.model_copy(update={"timeout": ms / 1e3})
    stretches = _stretches(run, where, caller, timed)
    if stretches is None:
        return measured, MEASURED
    tries = 1 if call.retry is None else call.retry.attempts
    spread = _spread_share(run, timed, stretches, tries) if _steered(timed, tries) else None
    if spread is not None:
        return spread, PHASED
    sent = sum(s.sent for s in stretches)
    return _failing(call, sum(s.late * s.sent for s in stretches) / sent), PHASED


@dataclass(frozen=True)
class Stretch:
    """A stretch of the run between fault starts and ends, for one call: P(an attempt
    outlasts its timeout) over the callee's replicas, on a replica the faults slow and on
    one they leave alone; the callee's replicas a fault is on (0 when on none, or on the
    whole component); and the calls the workloads send in it."""

    late: float
    slow: float
    healthy: float
    slowed: int
    sent: float


def _stretches(run: Run, where: Path, caller: str, call: Call) -> list[Stretch] | None:
    """The run cut where faults start and end (`phases`), each stretch with the analytic
    share of the attempts of `call` (put at `where`) outlasting its timeout (`Attempts.late`,
    the estimate's distribution shifted by what the faults then add); for faults on some
    replicas of the callee, also as if they slowed every replica, and as if none. None when
    no fault changes how late the attempts are, or no call is sent."""
    spans = phases(run.system, (run.system.simulation.warmup, run.end_s))
    if len(spans) < 2:
        return None
    system = changed(run.system, where, call)
    model = Model(system, repeats=False)  # each call once: `Attempts` counts the attempts
    found = model.evaluate()
    callee = system.resolve(call.to)[0]
    out = []
    for start, end in spans:
        rates = operation_rates(system, (start, end))

        def late(faults: tuple[Fault, ...], rates: dict[str, float] = rates,
                 length: float = end - start) -> float:
            return Attempts(system, model, found, faults, rates, length=length).late.get(
                where, 0.0)

        acting = active(system.faults, start, end)
        on = [f for f in acting if f.component == callee]
        others = tuple(f for f in acting if f.component != callee)
        every = late(acting)
        replicas = {f.replica for f in on}
        if on and None not in replicas:
            whole = tuple(f.model_copy(update={"target": callee}) for f in on)
            out.append(Stretch(every, late(others + whole), late(others), len(replicas),
                               rates[caller] * (end - start)))
        else:
            out.append(Stretch(every, every, every, 0, rates[caller] * (end - start)))
    lates = [s.late for s in out]
    if max(lates) - min(lates) < 1e-9 or sum(s.sent for s in out) <= 0.0:
        return None
    return out


def _steered(call: Call, tries: int) -> bool:
    """Whether `tries` tries of `call` go to distinct replicas: its retry retries timeouts
    on a replica not tried yet (`other_replica`)."""
    retry = call.retry
    return retry is not None and retry.other_replica and "timeout" in retry.on and tries > 1


def _spread_share(run: Run, call: Call, stretches: list[Stretch], tries: int) -> float | None:
    """The share of calls whose first `tries` tries, steered to distinct replicas
    (`_steered`), all outlast the timeout of `call` when faults slow some of the callee's
    replicas only: after the slowed one the retry mostly meets a healthy one (the
    hypergeometric mix of slowed and healthy replicas among them, the stretches weighted
    by the calls sent). None when no fault is on some replicas only: then tries are alike
    (`_failing`)."""
    if not any(s.slowed for s in stretches):
        return None
    replicas = run.system.components[run.system.resolve(call.to)[0]].replicas
    sent = sum(s.sent for s in stretches)
    return sum(s.sent * _all_late(s, replicas, tries) for s in stretches) / sent


def _all_late(stretch: Stretch, replicas: int, tries: int) -> float:
    """P(all `tries` tries outlast the timeout) in `stretch`, each try on a replica not
    tried before while there is one (the balancer picks among them alike), then on any."""
    distinct = min(tries, replicas)
    slowed = stretch.slowed
    mixed = sum(math.comb(slowed, j) * math.comb(replicas - slowed, distinct - j)
                * stretch.slow ** j * stretch.healthy ** (distinct - j)
                for j in range(distinct + 1)) / math.comb(replicas, distinct)
    return mixed * stretch.late ** (tries - distinct)


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


def round_down(ms: float) -> int | None:
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
