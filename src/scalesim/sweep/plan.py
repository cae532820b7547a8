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
Cost is per hour: each component's replicas at its price (its `cost_per_replica_hour`, else 1:
replica-hours), plus any varied field with a price per unit. Ties go to the smaller values.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from scalesim.analytic.capacity import saturated
from scalesim.analytic.estimate import Model
from scalesim.sim.partial import Partial
from scalesim.sim.stats import t975
from scalesim.spec.model import Slo, System
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
    intervals: dict[str, tuple[float, float, float]]  # metric -> (mean, low, high)
    stopped: str | None = None  # a safety limit ended a replication: a clear miss


@dataclass
class Candidate:
    config: Config
    values: dict[str, str]
    cost: float
    analytic_met: bool | None = None
    analytic: dict[str, float] = field(default_factory=dict)  # metric -> estimate
    overloaded: bool = False  # the estimate sees a component past saturation
    verdict: Verdict | None = None


@dataclass(frozen=True)
class Plan:
    best: Candidate | None
    candidates: list[Candidate]  # every one looked at, analytic or simulated
    frontier: list[Config]


def rate_overrides(system: System, rate: float) -> list[str]:
    """Overrides scaling every open workload so that their peak rates add up to `rate`."""
    open_loops = [(i, w) for i, w in enumerate(system.workloads) if w.users is None]
    total = sum(Model.open_rate(w) for _, w in open_loops)
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


def slo_metrics(slo: Slo) -> dict[str, float]:
    """Each target of the SLO: latency ones in ms, error_rate as a fraction."""
    out = {name: getattr(slo, name) * 1e3 for name in ("mean", "p50", "p90", "p95", "p99",
                                                        "p999") if getattr(slo, name)}
    if slo.error_rate is not None:
        out["error_rate"] = slo.error_rate
    return out


class Planner:
    def __init__(self, load: Loader, axes: Sequence[Axis], slo: Slo, prices: Mapping[str, float],
                 seed: int, executor: Executor, least: int = 5, most: int = 40,
                 budget: int = 16, progress: Progress | None = None) -> None:
        self.load = load
        self.axes = axes
        self.slo = slo
        self.targets = slo_metrics(slo)
        self.prices = prices
        self.seed = seed
        self.executor = executor
        self.least = least
        self.most = most
        self.budget = budget
        self.progress = progress
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
            checks = estimate.slo_checks(self.slo)
            candidate.analytic = {name: value * (1.0 if name == "error_rate" else 1e3)
                                  for name, _, value, _ in checks}
            candidate.overloaded = saturated(estimate)
            candidate.analytic_met = not candidate.overloaded and all(m for *_, m in checks)
        return candidate.analytic_met

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
            started += batch
            assert merged.pooled is not None
            verdict = self._judge(merged.pooled)
            if verdict.decided or started >= self.most:
                return verdict

    def _judge(self, pooled: Partial) -> Verdict:
        runs = pooled.summaries
        intervals, met, decided = {}, True, True
        for name, target in self.targets.items():
            values = [r.error_rate if name == "error_rate" else r.latency_ms.get(name, math.inf)
                      for r in runs]
            values = [0.0 if name == "error_rate" and math.isnan(v) else v for v in values]
            if any(math.isnan(v) for v in values):
                values = [math.inf]  # no successful request: the latency target is missed
            mean = sum(values) / len(values)
            if len(values) > 1 and math.isfinite(mean):
                spread = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
                half = t975(len(values) - 1) * spread / math.sqrt(len(values))
            else:
                half = 0.0 if not math.isfinite(mean) else math.inf
            intervals[name] = (mean, mean - half, mean + half)
            met = met and mean <= target
            decided = decided and (mean + half <= target or mean - half > target)
        return Verdict(met, decided, pooled.replications, intervals)

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
            if candidate.verdict is None and not self._implied(config):
                heapq.heappush(queue, (self._order(candidate), config))

        for config in self._opening(frontier):
            push(config)
        best: Candidate | None = None
        simulated = 0
        while queue and simulated < self.budget:
            order, config = heapq.heappop(queue)
            candidate = self.seen[config]
            if candidate.verdict is not None or self._implied(config):
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
                for above in self._neighbours(config, +1):
                    push(above)
        ordered = sorted(self.seen.values(), key=self._order)
        return Plan(best, ordered, frontier)

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


def plan_document(plan: Plan, axes: Sequence[Axis], rate: float, slo: Slo,
                  system: str) -> dict[str, Any]:
    def entry(c: Candidate) -> dict[str, Any]:
        out: dict[str, Any] = {"values": c.values, "cost_per_hour": round(c.cost, 6),
                               "analytic_met": c.analytic_met,
                               "analytic_overloaded": c.overloaded,
                               "analytic": {k: round(v, 6) for k, v in c.analytic.items()
                                            if math.isfinite(v)}}
        if c.verdict is not None:
            out["simulated"] = {
                "met": c.verdict.met, "decided": c.verdict.decided,
                "replications": c.verdict.replications, "stopped": c.verdict.stopped,
                "ci95": {k: [round(x, 6) if math.isfinite(x) else None for x in v]
                         for k, v in c.verdict.intervals.items()}}
        return out

    return {
        "system": system, "rate_rps": rate, "slo": slo_metrics(slo),
        "axes": [{"path": a.path, "values": list(a.values)} for a in axes],
        "plan": None if plan.best is None else entry(plan.best),
        "candidates": [entry(c) for c in plan.candidates
                       if c.verdict is not None or c.config in plan.frontier],
        "analytic_evaluations": sum(1 for c in plan.candidates if c.analytic_met is not None),
        "simulated_candidates": sum(1 for c in plan.candidates if c.verdict is not None),
    }
