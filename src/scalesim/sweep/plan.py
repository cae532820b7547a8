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
   A candidate that would repeat a simulated run is not simulated: the same values but for
   an autoscaler's max above every replica that run's autoscaler asked for (ceilings.py).
The SLO is every scope of `System.slo_scopes`, as `estimate` and `simulate` judge it: the
targets on all requests (`--slo`, else the spec's `slo`) and each workload's own on its
requests alone; a candidate meets when it meets them all.
Cost is per hour: each component's replicas at its price (its `cost_per_replica_hour`, else 1:
replica-hours; an autoscaled one's clamped into its range, as the HPA's first sync does),
plus any varied field with a price per unit. Ties go to the smaller values.
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

from scalesim.analytic.capacity import behind, overloaded
from scalesim.analytic.estimate import Model
from scalesim.analytic.load import peak_rate
from scalesim.sim.control.results import fleet_of
from scalesim.sim.metrics import PERCENTILES, Histogram, combined
from scalesim.sim.partial import Partial, ReplicationSummary, replication_summary
from scalesim.sim.plan import CAUSE_NAMES, OK
from scalesim.sim.stats import ci95, possible, quantile_ci95
from scalesim.spec.errors import SpecError
from scalesim.spec.model import Slo, System, slo_target_label
from scalesim.sweep.backlog import falling_behind
from scalesim.sweep.ceilings import asked_for, ceiling_of, most_asked, scaling_fixes, under_max
from scalesim.sweep.executor import Executor
from scalesim.sweep.grid import Axis, quantity
from scalesim.sweep.tasks import InOrder, Replication, Stopped, run_task

Config = tuple[int, ...]  # an index into each axis' values
Loader = Callable[[Sequence[str]], System]  # overrides -> validated system
Probe = Callable[[Sequence[str]], System | None]  # the same, None where the spec refuses them
Progress = Callable[["Candidate"], None]  # told before a simulation and after its verdict
REACH_LIMIT = 2**40  # the largest count `Planner.reach` tries, for a field the spec leaves open


@dataclass(frozen=True)
class Verdict:
    met: bool
    decided: bool  # the confidence intervals were on one side of every target
    replications: int
    intervals: dict[str, tuple[float, float, float]]  # target label -> (estimate, low, high)
    stopped: str | None = None  # a safety limit ended a replication: a clear miss
    behind: tuple[str, ...] = ()  # queue subscriptions whose backlog grew (a miss unless allowed)
    missed: tuple[str, ...] = ()  # the target labels whose estimate is over the target
    # the failed requests of all workloads by cause, and the refusals at each component's
    # door by cause (only those that happened): what an error rate is made of
    failed_by_cause: dict[str, int] = field(default_factory=dict)
    refused_by_cause: dict[str, dict[str, int]] = field(default_factory=dict)
    # per autoscaled component, the replicas the run paid for on average (scheduled
    # replica-seconds over the window): what its cost is with the HPA at work
    replicas_used: dict[str, float] = field(default_factory=dict)
    # per autoscaled component, the most replicas its autoscaler asked for in any replication
    # (`ceilings.asked_for`, left out when not known): a max above it runs the same
    peak_replicas: dict[str, int] = field(default_factory=dict)
    # a miss where a varied autoscaler max was never asked for: per such component, the fix
    # the run's diagnosis proposes for it ({summary, set}), None for none
    scaling_fixes: dict[str, dict[str, Any] | None] = field(default_factory=dict)


@dataclass
class Candidate:
    config: Config
    values: dict[str, str]
    cost: float
    analytic_met: bool | None = None
    analytic: dict[str, float] = field(default_factory=dict)  # target label -> estimate
    analytic_missed: list[str] = field(default_factory=list)  # target labels it misses
    offered: dict[str, float] = field(default_factory=dict)  # past saturation in the
    # estimate: name -> offered load ρ ≥ 1, the most loaded first
    behind: list[str] = field(default_factory=list)  # of those, what no request waits for
    verdict: Verdict | None = None
    run_cost: float | None = None  # simulated with autoscaling: the cost at the replicas used
    repeats: Candidate | None = None  # not simulated: it would run as this one did

    @property
    def overloaded_by(self) -> list[str]:
        """What the estimate has past saturation, the most loaded first."""
        return list(self.offered)

    @property
    def overloaded(self) -> bool:
        """The estimate sees a component (or a queue's consumers) past saturation."""
        return bool(self.offered)


@dataclass(frozen=True)
class Unreached:
    """A simulated miss whose autoscaler never asked for the max that the axis `path` gave
    `component`: every higher max there, the other axes as they are, runs the same."""

    candidate: Candidate
    path: str
    component: str


@dataclass(frozen=True)
class Plan:
    best: Candidate | None
    candidates: list[Candidate]  # every one looked at, analytic or simulated
    frontier: list[Config]
    # cheaper than the plan (or with no plan), the estimate says they meet and no simulation
    # ruled them out: the budget ran out before they were simulated
    untried: list[Candidate] = field(default_factory=list)
    budget_spent: bool = False  # the search stopped at --budget with candidates queued
    # reached by the search but not simulated: the estimate has them past saturation
    overloaded: list[Candidate] = field(default_factory=list)
    # misses with an autoscaler max never asked for, the smallest such max per combination
    # of the other axes: where the search stopped walking that max up
    unreached: list[Unreached] = field(default_factory=list)


@dataclass(frozen=True)
class Reach:
    """How far one axis must go past its range when the estimate has every configuration of
    the grid past saturation (the other axes at their top): what to vary instead."""

    path: str
    relieved: int | None  # the smallest value with nothing past saturation (None: none)
    meets: int | None  # the smallest value the estimate says meets every SLO target
    largest: int  # `meets`, else the largest value estimated short of the goal
    offered: dict[str, float]  # past saturation at `largest` (empty when relieved)
    upper: int | None = None  # the top of the range to try (`vary`)
    relieves: bool = True  # False: doubling it left every load past saturation as it was

    @property
    def vary(self) -> str | None:
        """The range to try: from where saturation ends to twice where the estimate meets
        the SLO, room for the simulation to confirm where the estimate is optimistic."""
        if self.relieved is None or self.upper is None:
            return None
        top = f"..{self.upper}" if self.upper > self.relieved else ""
        return f"{self.path}={self.relieved}{top}"


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


def capacity_ordered(axes: Sequence[Axis]) -> list[Axis]:
    """Each axis of quantities with its values ascending (repeats dropped): the search takes
    an axis' last value for its most capacity and bisects along it, so `8,5,2` or `8..1`
    must read as `2,5,8`. An axis with a value that is no quantity keeps its order. (For
    times and shares more is not more capacity: plan refuses those axes, knobs.py.)"""
    out = []
    for axis in axes:
        numbers = {value: quantity(value) for value in axis.values}
        known = {value: number for value, number in numbers.items() if number is not None}
        ordered = sorted(known, key=known.__getitem__) if len(known) == len(numbers) \
            else axis.values
        out.append(Axis(axis.path, tuple(ordered)))
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
                 allow_backlog: bool = False, probe: Probe | None = None) -> None:
        self.load = load
        # loads a configuration past the ranges (`reach`); by default `load` with None for
        # a SpecError
        self.probe = quiet(load) if probe is None else probe
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
        # the axes that vary an autoscaler's max, by index: the component's name
        self.ceilings = {i: name for i, axis in enumerate(axes)
                         if (name := ceiling_of(axis.path)) is not None}

    # -- configurations ----------------------------------------------------------------
    def candidate(self, config: Config) -> Candidate:
        if config not in self.seen:
            values = {a.path: a.values[i] for a, i in zip(self.axes, config, strict=True)}
            self.seen[config] = Candidate(config, values, self._cost(values))
        return self.seen[config]

    def _cost(self, values: Mapping[str, str], used: Mapping[str, float] | None = None
              ) -> float:
        """The cost per hour of `values`, each component at the replicas it starts with (an
        autoscaled one's clamped into its range, as the HPA's first sync does), or (`used`)
        at the replicas a run used on average."""
        system = self.load(_overrides(values))
        replicas = used or {}
        cost = sum(self.prices.get(name, 1.0 if c.cost_per_replica_hour is None
                                   else c.cost_per_replica_hour)
                   * replicas.get(name, c.synced_replicas)
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
            self._assess(candidate, self.load(_overrides(candidate.values)))
        return candidate.analytic_met is True

    def _assess(self, candidate: Candidate, system: System) -> None:
        """The estimate of `candidate` (as `system`): its targets, what is past saturation."""
        estimate = Model(system).evaluate()
        checks = estimate.scoped_slo_checks(self.scopes)
        candidate.analytic = {c.label: c.value * (1.0 if c.name == "error_rate" else 1e3)
                              for c in checks}
        candidate.analytic_missed = [c.label for c in checks if not c.met]
        candidate.offered = dict(overloaded(estimate))
        candidate.behind = [name for name, _ in behind(estimate)]
        candidate.analytic_met = not self._past_saturation(candidate) and \
            not candidate.analytic_missed

    def _saturating(self, candidate: Candidate) -> list[str]:
        """What is past saturation for the plan, once estimated: anything (a queue's
        consumers too), or with `allow_backlog` only what requests wait for."""
        return [name for name in candidate.offered
                if not self.allow_backlog or name not in candidate.behind]

    def _past_saturation(self, candidate: Candidate) -> bool:
        return bool(self._saturating(candidate))

    def screened(self, config: Config) -> bool:
        """Never simulated: the estimate has it past saturation for the plan (ρ ≥ 1 where
        the queue grows without bound), a miss whatever the run would show but slower."""
        candidate = self.candidate(config)
        self.analytic(candidate)
        return self._past_saturation(candidate)

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
        system = self.load(_overrides(candidate.values))
        merged = InOrder()
        own: dict[int, dict[str, ReplicationSummary]] = {}  # replication -> its workloads'
        asked: dict[str, int] | None = None  # `most_asked` of the replications so far
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
                    asked = most_asked(asked, asked_for(system, outcome))
            started += batch
            assert merged.pooled is not None
            judged = dataclasses.replace(
                self._judge(merged.pooled, [own[r] for r in range(started)]),
                failed_by_cause=failed_by_cause(merged.pooled),
                refused_by_cause=refused_by_cause(merged.pooled),
                replicas_used=replicas_used(system, merged.pooled), peak_replicas=asked or {})
            verdict = self._with_backlog(judged, falling_behind(system, merged.pooled))
            if verdict.decided or started >= self.most:
                return self._with_fixes(verdict, system, merged.pooled)

    def _with_fixes(self, verdict: Verdict, system: System, pooled: Partial) -> Verdict:
        """A miss with the diagnosis' fix for each component whose max is varied and was
        never asked for: what limits it, since a higher max would change nothing."""
        varied = set(self.ceilings.values())
        names = [name for name in under_max(system, verdict.peak_replicas) if name in varied]
        if verdict.met or not names:
            return verdict
        return dataclasses.replace(verdict, scaling_fixes=scaling_fixes(system, self.seed,
                                                                         pooled, names))

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
        if q is None:  # none below 0, nor an error rate above 1, as the result's ci95
            low, high = possible(ci95(values), 1.0 if name == "error_rate" else math.inf)
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
        configs = [c for c in dict.fromkeys(self._opening(self.frontier()))
                   if not self.screened(c)]
        return sorted((self.candidate(c) for c in configs), key=self._order)[:self.budget]

    def run(self) -> Plan:
        frontier = self.frontier()
        queue: list[tuple[tuple[float, int], Config]] = []
        screened: dict[Config, None] = {}

        def push(config: Config) -> None:
            candidate = self.candidate(config)
            # every candidate shows the estimate, whatever the order
            if self.screened(config):
                screened[config] = None
            elif candidate.verdict is None and not self._implied(config) and \
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
            if candidate.verdict.replicas_used:
                candidate.run_cost = self._cost(candidate.values,
                                                candidate.verdict.replicas_used)
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
        for candidate in self.seen.values():
            if candidate.verdict is None:
                candidate.repeats = next((other for other in self.seen.values()
                                          if other.verdict is not None
                                          and self._repeats(candidate.config, other)), None)
        ordered = sorted(self.seen.values(), key=self._order)
        untried = self._untried(best)
        spent = simulated >= self.budget and any(
            self.seen[c].verdict is None and not self._implied(c) and not self._dead(c)
            for _, c in queue)
        overloaded = sorted((self.seen[c] for c in screened), key=self._order)
        return Plan(best, ordered, frontier, untried, spent, overloaded, self._unreached())

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
        """Decided without a run: by monotonicity (below a simulated miss, or above a
        simulated meet), or as a run simulated already (`_repeats`)."""
        for other in self.seen.values():
            if other.verdict is None or other.config == config:
                continue
            if self._repeats(config, other):
                return True
            pairs = list(zip(config, other.config, strict=True))
            if other.verdict.met and other.verdict.decided and all(a >= b for a, b in pairs):
                return True  # (above a marginal meet, a same-cost point may be confirmed)
            if not other.verdict.met and all(a <= b for a, b in pairs):
                return True
        return False

    def _repeats(self, config: Config, other: Candidate) -> bool:
        """`config` would run as the simulated `other` did: the same values but for maxes
        of autoscalers that, in `other`'s run, never asked for as many replicas as either
        gives them (the clamp never bound, so the runs are the same)."""
        return all(a == b or (self._unasked(other, axis, a) and self._unasked(other, axis, b))
                   for axis, (a, b) in enumerate(zip(config, other.config, strict=True)))

    def _unasked(self, other: Candidate, axis: int, index: int) -> bool:
        """Axis `axis` is an autoscaler's max, and its value `index` is above every replica
        that autoscaler asked for in `other`'s run."""
        name = self.ceilings.get(axis)
        most = None if name is None or other.verdict is None else \
            other.verdict.peak_replicas.get(name)
        value = _count(self.axes[axis].values[index])
        return most is not None and value is not None and most < value

    def _unreached(self) -> list[Unreached]:
        """The simulated misses whose varied autoscaler max was never asked for, the
        smallest such max per combination of the other axes."""
        out: dict[tuple[int, Config], Unreached] = {}
        for candidate in sorted(self.seen.values(), key=lambda c: c.config):
            if candidate.verdict is None or candidate.verdict.met:
                continue
            for axis, name in self.ceilings.items():
                config = candidate.config
                if self._unasked(candidate, axis, config[axis]):
                    out.setdefault((axis, (*config[:axis], *config[axis + 1:])),
                                   Unreached(candidate, self.axes[axis].path, name))
        return list(out.values())

    # -- past the ranges ---------------------------------------------------------------
    @property
    def top(self) -> Config:
        """The most capacity the grid has: every axis at its last value."""
        return tuple(len(axis.values) - 1 for axis in self.axes)

    def reach(self) -> list[Reach] | None:
        """When the estimate has the top of every range past saturation, and so (the knobs
        being monotone) every configuration: how far each axis of counts must go past its
        range, the others at their top. None otherwise."""
        if not self.screened(self.top):
            return None
        found = (self._reach(axis) for axis in self.axes)
        return [reach for reach in found if reach is not None]

    def _reach(self, axis: Axis) -> Reach | None:
        """Along one axis (None when its values are not counts): the smallest value the
        estimate has nothing past saturation at, then the smallest it says meets the SLO,
        by doubling and bisection on the estimate alone."""
        start = _count(axis.values[-1])
        if start is None:
            return None
        estimates: dict[int, Candidate | None] = {}

        def at(value: int) -> Candidate | None:
            if value not in estimates:
                estimates[value] = self._beyond(axis.path, value)
            return estimates[value]

        top = self.candidate(self.top)
        doubled = at(_doubled(start))
        if doubled is not None and not self._relieves(top, doubled):
            return Reach(axis.path, None, None, _doubled(start), doubled.offered,
                         relieves=False)
        relieved, last = _first(lambda v: _holds(at(v), lambda c: not self._past_saturation(c)),
                                start)
        if relieved is None:
            stuck = at(last)  # estimated: the test was false there
            assert stuck is not None
            return Reach(axis.path, None, None, last, stuck.offered)
        meets, last = (relieved, relieved) if _holds(at(relieved), self.analytic) else \
            _first(lambda v: _holds(at(v), self.analytic), relieved)
        upper = None if meets is None else \
            _doubled(meets) if at(_doubled(meets)) is not None else meets
        return Reach(axis.path, relieved, meets, last if meets is None else meets, {}, upper)

    def _relieves(self, top: Candidate, more: Candidate) -> bool:
        """More of an axis lowers the load of something past saturation at the top."""
        return any(more.offered.get(name, 0.0) < top.offered[name]
                   for name in self._saturating(top))

    def _beyond(self, path: str, value: int) -> Candidate | None:
        """The estimate of the top of every range with `path` at `value`, off the grid (no
        config, no cost); None where the spec refuses the value or it is past REACH_LIMIT."""
        if value > REACH_LIMIT:
            return None
        values = {**self.candidate(self.top).values, path: str(value)}
        system = self.probe(_overrides(values))
        if system is None:
            return None
        candidate = Candidate((), values, math.nan)
        self._assess(candidate, system)
        return candidate


def failed_by_cause(pooled: Partial) -> dict[str, int]:
    """The failed requests of every workload by cause, the causes that happened, the most
    frequent first."""
    counts = [sum(column) for column in zip(*(w.by_cause for w in pooled.workloads),
                                            strict=True)]
    return _nonzero({name: counts[i] for i, name in enumerate(CAUSE_NAMES) if i != OK})


def refused_by_cause(pooled: Partial) -> dict[str, dict[str, int]]:
    """Per component that refused any, its refusals at the door by cause."""
    out = {c.name: _nonzero(dict(zip(CAUSE_NAMES, c.refusals, strict=True)))
           for c in pooled.components}
    return {name: causes for name, causes in out.items() if causes}


def replicas_used(system: System, pooled: Partial) -> dict[str, float]:
    """Per component with an autoscale, its mean replicas on a node over the window (what
    is paid for), all replications."""
    out = {}
    window = system.simulation.duration * pooled.replications
    for name, component in system.components.items():
        fleet = fleet_of(pooled.control, name)
        if component.autoscale is not None and fleet is not None and window > 0:
            out[name] = fleet.scheduled_seconds / window
    return out


def _nonzero(counts: Mapping[str, int]) -> dict[str, int]:
    return dict(sorted(((k, v) for k, v in counts.items() if v), key=lambda kv: -kv[1]))


def quiet(load: Loader) -> Probe:
    """`load`, with None instead of a SpecError: a value past what the spec takes."""
    def probe(overrides: Sequence[str]) -> System | None:
        try:
            return load(overrides)
        except SpecError:
            return None
    return probe


def _overrides(values: Mapping[str, str]) -> list[str]:
    return [f"{path}={value}" for path, value in values.items()]


def _count(value: str) -> int | None:
    """A value that is a count (replicas, workers), else None."""
    text = value.strip()
    return int(text) if text.isascii() and text.isdigit() else None


def _doubled(value: int) -> int:
    return max(2 * value, value + 1)


def _holds(candidate: Candidate | None, test: Callable[[Candidate], bool]) -> bool | None:
    """`test` of an estimate; None where there is none (past what the spec takes)."""
    return None if candidate is None else test(candidate)


def _first(test: Callable[[int], bool | None], bad: int) -> tuple[int | None, int]:
    """The smallest value above `bad` where `test` holds, for a test false up to some value
    and true from it (None past what the spec takes), and the largest where it is false:
    doubling, then bisection. (None, the largest false) when it holds nowhere the spec
    takes."""
    good = _doubled(bad)
    while test(good) is False:
        bad, good = good, _doubled(good)
    while good - bad > 1:
        middle = (bad + good) // 2
        if test(middle) is False:
            bad = middle
        else:
            good = middle
    return (good if test(good) else None), bad


def _confirmed(candidate: Candidate) -> bool:
    """Simulated and decided: every SLO metric's interval on one side of its target."""
    return candidate.verdict is not None and candidate.verdict.decided


def plan_document(plan: Plan, axes: Sequence[Axis], rate: float,
                  scopes: Sequence[tuple[str | None, Slo]], system: str,
                  floor: Sequence[dict[str, Any]] = (), reach: Sequence[Reach] | None = None
                  ) -> dict[str, Any]:
    """The plan as JSON; `scopes` (`System.slo_scopes`): what it was judged by, the targets
    on all requests under `slo` (null without) and each workload's own under
    `workload_slos`; `floor`: the targets no capacity meets (`cli.plan.capacity_floor`);
    `reach` (`Planner.reach`): how far past the ranges to go when all of the grid is past
    saturation, None when some of it is not."""
    untried = [c.config for c in plan.untried]
    overloaded = [c.config for c in plan.overloaded]
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
                       or c.config in untried or c.config in overloaded],
        "untried": [c.values for c in plan.untried],
        "overloaded": [c.values for c in plan.overloaded],
        "budget_spent": plan.budget_spent,
        "capacity_floor": list(floor),
        "reach": None if reach is None else [_reach_entry(r) for r in reach],
        "unreached_ceilings": [_unreached_entry(u) for u in plan.unreached],
        "analytic_evaluations": sum(1 for c in plan.candidates if c.analytic_met is not None),
        "simulated_candidates": sum(1 for c in plan.candidates if c.verdict is not None),
    }


def _entry(c: Candidate, targets: Mapping[str, Target]) -> dict[str, Any]:
    """One candidate in the plan's document."""
    out: dict[str, Any] = {"values": c.values, "cost_per_hour": round(c.cost, 6),
                           "run_cost_per_hour": None if c.run_cost is None
                           else round(c.run_cost, 6),
                           "analytic_met": c.analytic_met,
                           "analytic_overloaded": c.overloaded,
                           "analytic_overloaded_by": c.overloaded_by,
                           "analytic_offered": {k: _rounded(v) for k, v in c.offered.items()},
                           "analytic_behind": c.behind,
                           "analytic": {k: round(v, 6) for k, v in c.analytic.items()
                                        if math.isfinite(v)},
                           "analytic_missed": [target_miss(targets[label], c.analytic[label])
                                               for label in c.analytic_missed],
                           "repeats": None if c.repeats is None else c.repeats.values}
    if c.verdict is not None:
        intervals = c.verdict.intervals
        out["simulated"] = {
            "met": c.verdict.met, "decided": c.verdict.decided,
            "replications": c.verdict.replications, "stopped": c.verdict.stopped,
            "behind": list(c.verdict.behind),
            "replicas_used": {k: round(v, 6) for k, v in c.verdict.replicas_used.items()},
            "peak_replicas": c.verdict.peak_replicas,
            "failed_by_cause": c.verdict.failed_by_cause,
            "refused_by_cause": c.verdict.refused_by_cause,
            "missed": [target_miss(targets[label], intervals[label][0])
                       for label in c.verdict.missed],
            "ci95": {k: [_rounded(x) for x in v]
                     for k, v in c.verdict.intervals.items()}}
    return out


def _rounded(value: float) -> float | None:
    """Six decimals, or None (JSON null) for an infinite value."""
    return round(value, 6) if math.isfinite(value) else None


def _reach_entry(reach: Reach) -> dict[str, Any]:
    """One axis of `Planner.reach` in the plan's document."""
    return {"path": reach.path, "relieved": reach.relieved, "meets": reach.meets,
            "largest": reach.largest, "relieves": reach.relieves,
            "offered": {k: _rounded(v) for k, v in reach.offered.items()},
            "vary": reach.vary}


def _unreached_entry(unreached: Unreached) -> dict[str, Any]:
    """One max never asked for (`Plan.unreached`) in the plan's document."""
    candidate = unreached.candidate
    assert candidate.verdict is not None
    return {"path": unreached.path, "component": unreached.component,
            "values": candidate.values,
            "peak_replicas": candidate.verdict.peak_replicas[unreached.component],
            "fix": candidate.verdict.scaling_fixes.get(unreached.component)}


def target_miss(target: Target, value: float) -> dict[str, Any]:
    """A target missed, scoped as the estimate's SLO checks are ("all" or the workload)."""
    return {"scope": "all" if target.workload is None else target.workload,
            "name": target.name, "target": target.bound,
            "value": _rounded(value)}
