"""The cheapest configuration that meets an SLO at a given load.

The varied fields are capacity knobs (replicas, workers, pool sizes): more of any of them
never makes the system worse. The search relies on that:
1. Analytic frontier. For every combination of the other axes, a bisection along the last
   axis finds the smallest value the estimate says meets the SLO.
2. Confirmation. Candidates are simulated cheapest first, starting from the frontier and the
   points one step below it (where the estimate is most likely wrong). Each is simulated
   with replications added until the 95 % confidence interval of every SLO metric lies on
   one side of its target (or the replication budget is spent: then the point estimate
   decides and the candidate is marked marginal). A configuration that meets the SLO makes
   every larger one meet it; one that misses makes every smaller one miss. When a candidate
   meets, the points one step below it are queued too; when the frontier misses, the points
   one step above are. The plan is the cheapest confirmed configuration. When the cheapest
   that meets is marginal, the points above it at the same cost (a knob with no price) are
   simulated too, and the first confirmed one is the plan: the same cost with a margin.
The SLO is every scope of `System.slo_scopes`, as `estimate` and `simulate` judge it: the
targets on all requests (`--slo`, else the spec's `slo`) and each workload's own on its
requests alone; a candidate meets when it meets them all.
Cost is per hour: each component's replicas at its price (its `cost_per_replica_hour`, else 1:
replica-hours), plus any varied field with a price per unit. Ties go to the smaller values.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from scalesim.analytic.capacity import behind, overloaded, requests_saturated
from scalesim.analytic.estimate import Estimate, Model
from scalesim.analytic.load import peak_rate
from scalesim.sim.metrics import PERCENTILES, Histogram, combined
from scalesim.sim.partial import Partial, ReplicationSummary, replication_summary
from scalesim.sim.stats import ci95, quantile_ci95
from scalesim.spec.model import Slo, System, slo_target_label
from scalesim.sweep.backlog import falling_behind
from scalesim.sweep.executor import Executor
from scalesim.sweep.grid import Axis, quantity
from scalesim.sweep.tasks import InOrder, Replication, Stopped, run_task

Config = tuple[int, ...]  # an index into each axis' values
Loader = Callable[[Sequence[str]], System]  # overrides -> validated system
Progress = Callable[["Candidate"], None]  # told before a simulation and after its verdict


@dataclass(frozen=True)
class Verdict:
    met: bool
    decided: bool  # the confidence intervals were on one side of every target
    replications: int
    intervals: dict[str, tuple[float, float, float]]  # target label -> (estimate, low, high)
    stopped: str | None = None  # a safety limit ended a replication: a clear miss
    behind: tuple[str, ...] = ()  # queue subscriptions whose backlog grew (a miss unless allowed)
    missed: tuple[str, ...] = ()  # the target labels whose estimate is over the target


@dataclass
class Candidate:
    config: Config
    values: dict[str, str]
    cost: float
    analytic_met: bool | None = None
    analytic: dict[str, float] = field(default_factory=dict)  # target label -> estimate
    analytic_missed: list[str] = field(default_factory=list)  # target labels it misses
    overloaded_by: list[str] = field(default_factory=list)  # past saturation in the estimate,
    # the most loaded first
    behind: list[str] = field(default_factory=list)  # of those, what no request waits for
    verdict: Verdict | None = None

    @property
    def overloaded(self) -> bool:
        """The estimate sees a component (or a queue's consumers) past saturation."""
        return bool(self.overloaded_by)


@dataclass(frozen=True)
class Plan:
    best: Candidate | None
    candidates: list[Candidate]  # every one looked at, analytic or simulated
    frontier: list[Config]
    # cheaper than the plan (or with no plan), the estimate says they meet and no simulation
    # ruled them out: the budget ran out before they were simulated
    untried: list[Candidate] = field(default_factory=list)
    budget_spent: bool = False  # the search stopped at --budget with candidates queued


def rate_overrides(system: System, rate: float) -> list[str]:
    """Overrides scaling every open workload so that their peak rates add up to `rate`."""
    open_loops = [(i, w) for i, w in enumerate(system.workloads) if w.users is None]
    total = sum(peak_rate(w) for _, w in open_loops)
    if total <= 0.0:
        raise ValueError("--rate needs an open workload with a rate")
    factor = rate / total
    out = []
    for i, workload in open_loops:
        if workload.rate is not None:
            out.append(f"workloads.{i}.rate={workload.rate * factor:.9g}/s")
        for j, point in enumerate(workload.profile or []):
            out.append(f"workloads.{i}.profile.{j}.rate={point.rate * factor:.9g}/s")
    return out


def autoscaled_replicas(system: System, axes: Sequence[Axis]) -> None:
    """A ValueError naming an axis that varies `replicas` of a component with `autoscale`:
    there `replicas` is only the count it starts with (docs/control.md), the HPA decides the
    rest and the estimate serves it at `autoscale.max`, so such an axis moves nothing the
    plan can weigh."""
    for axis in axes:
        parts = axis.path.split(".")
        if len(parts) != 3 or parts[0] != "components" or parts[2] != "replicas":
            continue
        component = system.components.get(parts[1])
        if component is not None and component.autoscale is not None:
            prefix = f"components.{parts[1]}.autoscale"
            raise ValueError(
                f"{axis.path}: {parts[1]} has an autoscale, so its HPA decides its replicas "
                f"(between autoscale.min {component.autoscale.min} and autoscale.max "
                f"{component.autoscale.max}) and replicas is only the count it starts with; "
                f"vary {prefix}.max or {prefix}.min instead")


@dataclass(frozen=True)
class Target:
    """One target of one SLO scope, in the plan's units (ms, or a fraction for error_rate)."""

    workload: str | None  # whose requests it is about (None: all of them)
    name: str  # 'mean', a percentile key ('p99') or 'error_rate'
    bound: float

    @property
    def label(self) -> str:
        return slo_target_label(self.workload, self.name)


def slo_metrics(slo: Slo) -> dict[str, float]:
    """Each target of the SLO: latency ones in ms, error_rate as a fraction."""
    out = {name: getattr(slo, name) * 1e3 for name in ("mean", "p50", "p90", "p95", "p99",
                                                        "p999") if getattr(slo, name)}
    if slo.error_rate is not None:
        out["error_rate"] = slo.error_rate
    return out


def plan_scopes(system: System, slo: Slo | None) -> list[tuple[str | None, Slo]]:
    """What a plan must meet (`System.slo_scopes`, `slo` replacing the spec's own on all
    requests, as `estimate --slo` does); a ValueError when there is nothing."""
    scopes = system.slo_scopes(slo)
    if not scopes:
        raise ValueError("nothing to plan for: give --slo, or an slo in the spec (the "
                         "system's or a workload's)")
    return scopes


def scope_targets(scopes: Sequence[tuple[str | None, Slo]]) -> dict[str, Target]:
    """Every target of every scope (`System.slo_scopes`), by label ('p99', 'checkout p99')."""
    targets = (Target(workload, name, bound) for workload, slo in scopes
               for name, bound in slo_metrics(slo).items())
    return {target.label: target for target in targets}


class Planner:
    def __init__(self, load: Loader, axes: Sequence[Axis], slo: Slo | None,
                 prices: Mapping[str, float], seed: int, executor: Executor, least: int = 5,
                 most: int = 40,
                 budget: int = 16, progress: Progress | None = None,
                 allow_backlog: bool = False) -> None:
        self.load = load
        self.axes = axes
        # `slo` on all requests (None: the spec's own, if any) and the workloads' own
        self.scopes = plan_scopes(load([]), slo)
        self.targets = scope_targets(self.scopes)
        self.with_own_slo = {workload for workload, _ in self.scopes if workload is not None}
        self.prices = prices
        self.seed = seed
        self.executor = executor
        self.least = least
        self.most = most
        self.budget = budget
        self.progress = progress
        self.allow_backlog = allow_backlog  # a queue falling behind is flagged, not a miss
        self.seen: dict[Config, Candidate] = {}

    # -- configurations ----------------------------------------------------------------
    def candidate(self, config: Config) -> Candidate:
        if config not in self.seen:
            values = {a.path: a.values[i] for a, i in zip(self.axes, config, strict=True)}
            self.seen[config] = Candidate(config, values, self._cost(values))
        return self.seen[config]

    def _cost(self, values: Mapping[str, str]) -> float:
        system = self.load([f"{p}={v}" for p, v in values.items()])
        cost = sum(self.prices.get(name, 1.0 if c.cost_per_replica_hour is None
                                   else c.cost_per_replica_hour) * c.replicas
                   for name, c in system.components.items())
        for path, value in values.items():
            number = quantity(value)
            if path in self.prices and number is not None:
                cost += self.prices[path] * number
        return cost

    def _order(self, candidate: Candidate) -> tuple[float, int]:
        return candidate.cost, sum(candidate.config)

    # -- the analytic frontier ---------------------------------------------------------
    def analytic(self, candidate: Candidate) -> bool:
        if candidate.analytic_met is None:
            system = self.load([f"{p}={v}" for p, v in candidate.values.items()])
            estimate = Model(system).evaluate()
            checks = estimate.scoped_slo_checks(self.scopes)
            candidate.analytic = {c.label: c.value * (1.0 if c.name == "error_rate" else 1e3)
                                  for c in checks}
            candidate.analytic_missed = [c.label for c in checks if not c.met]
            candidate.overloaded_by = [name for name, _ in overloaded(estimate)]
            candidate.behind = [name for name, _ in behind(estimate)]
            candidate.analytic_met = not self._too_loaded(estimate) and \
                not candidate.analytic_missed
        return candidate.analytic_met

    def _too_loaded(self, estimate: Estimate) -> bool:
        """Past saturation for the plan: anything (a queue's consumers too), or with
        `allow_backlog` only what requests wait for."""
        return requests_saturated(estimate) if self.allow_backlog else bool(overloaded(estimate))

    def frontier(self) -> list[Config]:
        """Per combination of the other axes, the smallest last-axis value the estimate
        says meets the SLO (none when even the largest does not)."""
        last = len(self.axes[-1].values)
        out = []
        for head in itertools.product(*(range(len(a.values)) for a in self.axes[:-1])):
            low, high = 0, last - 1
            if not self.analytic(self.candidate((*head, high))):
                continue
            while low < high:
                middle = (low + high) // 2
                if self.analytic(self.candidate((*head, middle))):
                    high = middle
                else:
                    low = middle + 1
            out.append((*head, low))
        return out

    # -- confirmation by simulation ----------------------------------------------------
    def simulate(self, candidate: Candidate) -> Verdict:
        system = self.load([f"{p}={v}" for p, v in candidate.values.items()])
        merged = InOrder()
        own: dict[int, dict[str, ReplicationSummary]] = {}  # replication -> its workloads'
        started = 0
        while True:
            batch = self.least if started == 0 else min(started, self.most - started)
            tasks = [Replication(system, self.seed, r) for r in range(started,
                                                                      started + batch)]
            with closing(self.executor.imap(run_task, tasks)) as finished:
                for index, outcome in finished:
                    if isinstance(outcome, Stopped):
                        return Verdict(False, True, started + index + 1, {}, outcome.message)
                    merged.add(started + index, outcome)
                    own[started + index] = self._own_runs(system, outcome)
            started += batch
            assert merged.pooled is not None
            judged = self._judge(merged.pooled, [own[r] for r in range(started)])
            verdict = self._with_backlog(judged, falling_behind(system, merged.pooled))
            if verdict.decided or started >= self.most:
                return verdict

    def _with_backlog(self, verdict: Verdict, behind: tuple[str, ...]) -> Verdict:
        """A queue falling behind is a clear miss, or (`allow_backlog`) only noted."""
        if not behind:
            return verdict
        if self.allow_backlog:
            return dataclasses.replace(verdict, behind=behind)
        return dataclasses.replace(verdict, met=False, decided=True, behind=behind)

    def _own_runs(self, system: System, outcome: Partial) -> dict[str, ReplicationSummary]:
        """One replication's numbers of each workload with its own SLO, on its requests."""
        duration = system.simulation.duration
        return {part.name: replication_summary([part], duration) for part in outcome.workloads
                if part.name in self.with_own_slo}

    def _judge(self, pooled: Partial, own: list[dict[str, ReplicationSummary]]) -> Verdict:
        """Met when every target's estimate is within it; decided when each one's 95 %
        interval is on one side of it, or when one's lies wholly above it (a sure miss,
        whatever the others' say). Each target is judged on the replications' numbers of
        its scope (all requests, or one workload's `own`): for a percentile, the pooled
        replications' percentile with its interval by CDF inversion (stats.quantile_ci95);
        for the mean and the error rate, the replications' mean with its Student t
        interval."""
        intervals, missed, decided, sure_miss = {}, [], True, False
        for label, target in self.targets.items():
            runs = pooled.summaries if target.workload is None else \
                [run[target.workload] for run in own]
            estimate, low, high = self._judged(target.name, runs)
            intervals[label] = (estimate, low, high)
            if estimate > target.bound:
                missed.append(label)
            decided = decided and (high <= target.bound or low > target.bound)
            sure_miss = sure_miss or low > target.bound
        return Verdict(not missed, decided or sure_miss, pooled.replications, intervals,
                       missed=tuple(missed))

    def _judged(self, name: str, runs: list[ReplicationSummary]) -> tuple[float, float, float]:
        """(estimate, low, high) of metric `name` over the replications `runs` of one scope."""
        values = [r.error_rate if name == "error_rate" else r.latency_ms.get(name, math.inf)
                  for r in runs]
        values = [0.0 if name == "error_rate" and math.isnan(v) else v for v in values]
        if any(math.isnan(v) for v in values):
            values = [math.inf]  # no successful request: the latency target is missed
        hists = [run.latency for run in runs]
        return self._interval(name, values, combined(hists), hists)

    @staticmethod
    def _interval(name: str, values: list[float], pooled: Histogram, hists: list[Histogram]
                  ) -> tuple[float, float, float]:
        """(estimate, low, high) of one metric in its unit (ms or a share): undecided with
        one replication; decided, a miss, when a value is infinite (no request succeeded)."""
        q = PERCENTILES.get(name)
        estimate = pooled.quantile(q) * 1e3 if q is not None else sum(values) / len(values)
        if not math.isfinite(estimate) or not all(math.isfinite(v) for v in values):
            return (math.inf, math.inf, math.inf)
        if len(values) < 2:
            return (estimate, -math.inf, math.inf)
        if q is None:
            low, high = ci95(values)
            return (estimate, low, high)
        low, high = quantile_ci95(pooled, hists, q)
        return (estimate, low * 1e3, high * 1e3)

    def _neighbours(self, config: Config, step: int) -> list[Config]:
        out = []
        for axis, index in enumerate(config):
            moved = index + step
            if 0 <= moved < len(self.axes[axis].values):
                out.append((*config[:axis], moved, *config[axis + 1:]))
        return out

    def _opening(self, frontier: list[Config]) -> list[Config]:
        """Where confirmation starts: the frontier and the points one step below it, or the
        largest point when the estimate sees none that meets the SLO."""
        if not frontier:
            return [tuple(len(a.values) - 1 for a in self.axes)]
        return [c for config in frontier for c in (config, *self._neighbours(config, -1))]

    def opening(self) -> list[Candidate]:
        """The candidates simulated first, cheapest first, at most `budget`: the least a
        plan simulates (more follow where the estimate was wrong)."""
        configs = dict.fromkeys(self._opening(self.frontier()))
        return sorted((self.candidate(c) for c in configs), key=self._order)[:self.budget]

    def run(self) -> Plan:
        frontier = self.frontier()
        queue: list[tuple[tuple[float, int], Config]] = []

        def push(config: Config) -> None:
            candidate = self.candidate(config)
            self.analytic(candidate)  # every candidate shows the estimate, whatever the order
            if candidate.verdict is None and not self._implied(config) and \
                    not self._dead(config):
                heapq.heappush(queue, (self._order(candidate), config))

        for config in self._opening(frontier):
            push(config)
        best: Candidate | None = None
        simulated = 0
        while queue and simulated < self.budget:
            order, config = heapq.heappop(queue)
            candidate = self.seen[config]
            if candidate.verdict is not None or self._implied(config) or self._dead(config):
                continue
            if best is not None and order >= self._order(best) and \
                    (_confirmed(best) or order[0] > best.cost):
                break  # a marginal best still looks at the same cost, larger values
            if self.progress is not None:
                self.progress(candidate)
            candidate.verdict = self.simulate(candidate)
            if self.progress is not None:
                self.progress(candidate)
            simulated += 1
            if candidate.verdict.met:
                if best is None or order < self._order(best) or candidate.verdict.decided:
                    best = candidate
                for below in self._neighbours(config, -1):
                    push(below)
                if not candidate.verdict.decided:
                    for above in self._neighbours(config, +1):
                        push(above)
            else:
                for above in self._above(config):
                    push(above)
        ordered = sorted(self.seen.values(), key=self._order)
        untried = self._untried(best)
        spent = simulated >= self.budget and any(
            self.seen[c].verdict is None and not self._implied(c) and not self._dead(c)
            for _, c in queue)
        return Plan(best, ordered, frontier, untried, spent)

    def _above(self, config: Config) -> list[Config]:
        """Where a miss sends the search: one step up each axis, unless the estimate saw the
        miss coming (something past saturation). Then, along each axis, the first point where
        the estimate has one of those relieved: the points it says stay overloaded are
        skipped, and an axis that relieves none of them is not walked at all."""
        missed = self.seen[config]
        if not missed.overloaded:
            return self._neighbours(config, +1)
        out = []
        for axis in range(len(config)):
            for index in range(config[axis] + 1, len(self.axes[axis].values)):
                moved = (*config[:axis], index, *config[axis + 1:])
                candidate = self.candidate(moved)
                self.analytic(candidate)
                if not set(missed.overloaded_by) <= set(candidate.overloaded_by):
                    out.append(moved)
                    break
        return out

    def _untried(self, best: Candidate | None) -> list[Candidate]:
        """Candidates cheaper than `best` (all, without one) that the estimate says meet,
        never simulated and not ruled out by a simulated miss above them."""
        return sorted((c for c in self.seen.values()
                       if c.analytic_met and c.verdict is None and not self._implied(c.config)
                       and (best is None or self._order(c) < self._order(best))),
                      key=self._order)

    def _dead(self, config: Config) -> bool:
        """A miss the estimate carries over: above a simulated miss that the estimate saw
        coming (something past saturation), along axes that relieve none of it (the
        estimate still has all of it past saturation here)."""
        here = self.seen[config]
        for other in self.seen.values():
            if other.verdict is None or other.verdict.met or not other.overloaded or \
                    other.config == config:
                continue
            if all(a >= b for a, b in zip(config, other.config, strict=True)) and \
                    set(other.overloaded_by) <= set(here.overloaded_by):
                return True
        return False

    def _implied(self, config: Config) -> bool:
        """Decided by monotonicity: below a simulated miss, or above a simulated meet."""
        for other in self.seen.values():
            if other.verdict is None or other.config == config:
                continue
            pairs = list(zip(config, other.config, strict=True))
            if other.verdict.met and other.verdict.decided and all(a >= b for a, b in pairs):
                return True  # (above a marginal meet, a same-cost point may be confirmed)
            if not other.verdict.met and all(a <= b for a, b in pairs):
                return True
        return False


def _confirmed(candidate: Candidate) -> bool:
    """Simulated and decided: every SLO metric's interval on one side of its target."""
    return candidate.verdict is not None and candidate.verdict.decided


def plan_document(plan: Plan, axes: Sequence[Axis], rate: float,
                  scopes: Sequence[tuple[str | None, Slo]], system: str,
                  floor: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The plan as JSON; `scopes` (`System.slo_scopes`): what it was judged by, the targets
    on all requests under `slo` (null without) and each workload's own under
    `workload_slos`; `floor`: the targets no capacity meets (`cli.plan.capacity_floor`)."""
    untried = [c.config for c in plan.untried]
    targets = scope_targets(scopes)
    overall = [slo for workload, slo in scopes if workload is None]
    return {
        "system": system, "rate_rps": rate,
        "slo": slo_metrics(overall[0]) if overall else None,
        "workload_slos": {workload: slo_metrics(slo) for workload, slo in scopes
                          if workload is not None},
        "axes": [{"path": a.path, "values": list(a.values)} for a in axes],
        "plan": None if plan.best is None else _entry(plan.best, targets),
        "candidates": [_entry(c, targets) for c in plan.candidates
                       if c.verdict is not None or c.config in plan.frontier
                       or c.config in untried],
        "untried": [c.values for c in plan.untried],
        "budget_spent": plan.budget_spent,
        "capacity_floor": list(floor),
        "analytic_evaluations": sum(1 for c in plan.candidates if c.analytic_met is not None),
        "simulated_candidates": sum(1 for c in plan.candidates if c.verdict is not None),
    }


def _entry(c: Candidate, targets: Mapping[str, Target]) -> dict[str, Any]:
    """One candidate in the plan's document."""
    out: dict[str, Any] = {"values": c.values, "cost_per_hour": round(c.cost, 6),
                           "analytic_met": c.analytic_met,
                           "analytic_overloaded": c.overloaded,
                           "analytic_overloaded_by": c.overloaded_by,
                           "analytic_behind": c.behind,
                           "analytic": {k: round(v, 6) for k, v in c.analytic.items()
                                        if math.isfinite(v)},
                           "analytic_missed": [target_miss(targets[label], c.analytic[label])
                                               for label in c.analytic_missed]}
    if c.verdict is not None:
        intervals = c.verdict.intervals
        out["simulated"] = {
            "met": c.verdict.met, "decided": c.verdict.decided,
            "replications": c.verdict.replications, "stopped": c.verdict.stopped,
            "behind": list(c.verdict.behind),
            "missed": [target_miss(targets[label], intervals[label][0])
                       for label in c.verdict.missed],
            "ci95": {k: [round(x, 6) if math.isfinite(x) else None for x in v]
                     for k, v in c.verdict.intervals.items()}}
    return out


def target_miss(target: Target, value: float) -> dict[str, Any]:
    """A target missed, scoped as the estimate's SLO checks are ("all" or the workload)."""
    return {"scope": "all" if target.workload is None else target.workload,
            "name": target.name, "target": target.bound,
            "value": round(value, 6) if math.isfinite(value) else None}
