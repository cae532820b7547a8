"""The run budget, shared by the command line (`scalesim simulate` and the commands that
simulate) and the studio (POST /api/runs): what a run, or a batch of runs (a sweep's points,
a plan's candidates), is estimated to cost before it runs, whether that is over the budget,
and the message that states the estimate and how to get under it (docs/engine.md, Run
budget).

Kept light to import (no engine, no numpy, no Typer): the estimate's modules are imported
when a run is checked.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scalesim.analytic.runtime import RunCost
    from scalesim.spec import System

# What a refusal adds when one kind of work is most of the run ({share} of it).
TIMERS_CAUSE = (" Timers make {share:.0%} of it, whatever the load: lengthen the probes' "
                "periods, a pause fault's 'every' or the autoscaler's sync_period, or use "
                "fewer replicas.")
RINGS_CAUSE = (" Hash rings make {share:.0%} of it: a ring has {points} points a replica and "
               "is rebuilt whenever one joins or leaves, so behind 'balancer: hash' use fewer "
               "replicas or a narrower autoscale range, or another balancer.")
RETRIES_CAUSE = (" Retries and hedges make {share:.0%} of it, as calls fail or time out: "
                 "fewer attempts, a retry budget or a circuit breaker bound them, and so does "
                 "fixing what fails (error rates, faults, timeouts shorter than the callee's "
                 "latency).")

# A run estimated to take longer than this (wall time) is refused unless forced.
BUDGET_S = 600.0
# Time-series intervals kept per component, workload and call (memory grows with them).
MAX_INTERVALS = 200_000


def human(seconds: float) -> str:
    """A wall time in the unit a person plans with: '45 s', '12 min', '30 h', '43 days',
    '32 years'; never scientific notation."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 72 * 3600:
        return f"{seconds / 3600:.0f} h"
    if seconds < 2 * 365 * 86400:
        return f"{seconds / 86400:,.0f} days"
    return f"{seconds / (365 * 86400):,.0f} years"


def amount(value: float) -> str:
    """A count or rate in full with thousands separators ('1,230,000,000'), or 3 significant
    digits below 100 ('0.5', '42.5')."""
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


@dataclass(frozen=True)
class Over:
    """One limit a run is over: what it says about it, and the knobs that move that limit
    (raising the interval does nothing for the events, say)."""

    limit: str  # 'max_events'
    says: str  # 'past simulation.limits.max_events (1,000), where it would stop'
    remedy: str  # 'raise simulation.limits.max_events above …' (no capital, no stop)


@dataclass(frozen=True)
class Estimate:
    """What running a spec (`estimate`), or several (`estimate_runs`), is estimated to cost,
    and why it is over the budget (no reasons: it is within it)."""

    cost: RunCost  # of several runs, their costs summed (`RunCost.plus`)
    events_per_s: float  # the engine's speed on one worker
    workers: int
    wall_s: float
    reasons: tuple[Over, ...]
    summary: str
    """'this run is estimated at N events (R requests/s for S s × K replication(s))'"""
    work: float  # events' worth of time in all (of several runs, summed run by run)

    @property
    def over(self) -> bool:
        return bool(self.reasons)

    def describe(self) -> str:
        """'N events, about T at ~S events/s on W worker(s)' ('under 1 s' for T below a
        second): the work, in events' worth, and its wall time."""
        return _described(self.work, self.wall_s, self.events_per_s, self.workers)

    def batch_refusal(self, what: str, remedy: str, override: str) -> str:
        """The refusal of several runs: `what` ("simulating 4 points") is estimated at …,
        over the budget; `remedy` and `override` say how to get under it or run anyway. A
        run whose work has no bound says so and how to end it, as a single run's does."""
        if not math.isfinite(self.cost.events):
            return f"{what}: {self.refusal(override)}"
        return (f"{what} is estimated at {self.describe()}, over the {human(BUDGET_S)} "
                f"budget. {remedy}, or {override}.")

    def refusal(self, override: str) -> str:
        """The estimate, every limit it is over and what moves each one; `override` says how
        to run it anyway ('pass --force to run it anyway')."""
        said = f"{self.summary}: " + "; ".join(over.says for over in self.reasons) + "." \
            + self.cause()
        if len(self.reasons) == 1:
            remedy = self.reasons[0].remedy
            return f"{said} {remedy[:1].upper()}{remedy[1:]}, or {override}."
        each = " ".join(f"For {over.limit}: {over.remedy}." for over in self.reasons)
        return f"{said} {each} Or {override}."

    def cause(self) -> str:
        """What the load does not explain, when it is most of the run: timers (probes,
        pauses, syncs), hash rings or retries, and what to change instead."""
        from scalesim.spec.hashring import VIRTUAL_NODES

        cost = self.cost
        parts = ((cost.timer_events + cost.sync_work, TIMERS_CAUSE), (cost.ring_work, RINGS_CAUSE),
                 (cost.retry_events, RETRIES_CAUSE))
        for part, says in parts:
            share = part / cost.work if cost.work else 0.0
            if share >= 0.5:
                return says.format(share=share, points=VIRTUAL_NODES)
        return ""


def estimate(system: System, workers: int = 1) -> Estimate:
    """The run's cost (`scalesim.analytic.runtime.run_cost`) against the budget: its wall
    time at the speed the installed engine can be counted on for, shared by `workers`
    replications side by side; its events against `simulation.limits.max_events`; its
    time-series intervals against MAX_INTERVALS."""
    from scalesim.analytic.runtime import run_cost
    from scalesim.sim.speed import events_per_s

    cost = run_cost(system)
    sim = system.simulation
    speed = events_per_s()
    wall = cost.wall_s(speed) / workers
    reasons = []
    if wall > BUDGET_S:
        reasons.append(Over(
            "the wall time", f"about {human(wall)} at ~{_speed(speed)} events/s"
            + (f" on each of {workers} workers" if workers > 1 else "")
            + f", over the {human(BUDGET_S)} budget", _shorter(system)))
    each = cost.events / sim.replications  # the limit stops each replication on its own
    if each > sim.limits.max_events:
        reasons.append(Over(
            "max_events", (f"{amount(each)} events a replication, " if sim.replications > 1 else "")
            + f"past simulation.limits.max_events ({amount(sim.limits.max_events)}), where it "
            "would stop", f"raise simulation.limits.max_events above {amount(each)}, or "
            f"shorten simulation.duration or simulation.warmup or {less_load(system)} "
            "(simulation.interval and the replications do not change a replication's "
            "events)"))
    if cost.intervals > MAX_INTERVALS:
        reasons.append(Over(
            "the intervals", f"{cost.intervals:,} time-series intervals of {sim.interval:g} s, "
            f"over {MAX_INTERVALS:,}", f"raise simulation.interval to "
            f"{sim.duration / MAX_INTERVALS:.3g} s or more, or shorten simulation.duration"))
    besides = "".join(f" and {what} worth {amount(work)} more" for what, work in
                      (("autoscaler syncs", cost.sync_work), ("hash rings", cost.ring_work))
                      if work >= 0.01 * cost.work)
    summary = (f"this run is estimated at {amount(cost.events)} events{besides} "
               f"({amount(cost.rate_rps)} requests/s for {amount(sim.warmup + sim.duration)} s × "
               f"{sim.replications} replication(s))")
    if not math.isfinite(cost.events):  # it said "inf events … about inf years"
        summary, reasons = _unbounded(system, "this run's work")
    return Estimate(cost, speed, workers, wall, tuple(reasons), summary, cost.work)


def _unbounded(system: System, whose: str) -> tuple[str, list[Over]]:
    """The summary and the reason of a refusal of a run whose work ("this run's work")
    has no bound (its estimate is infinite: "inf events, about inf years" says nothing of
    why)."""
    return (f"{whose} has no bound: its requests never end (a closed loop whose "
            "requests take no time and no think time, or calls or messages that loop "
            "without end)",
            [Over("the loop", f"it would run until simulation.limits.max_events "
                  f"({amount(system.simulation.limits.max_events)}) stops it",
                  "give the loop an end (a think time, work that takes time, a call made "
                  "with a probability below 1)")])


def estimate_runs(systems: Iterable[System], workers: int,
                  names: Sequence[str] = ()) -> Estimate:
    """What simulating several specs (a sweep's points, a plan's candidates) is estimated to
    cost together: their work summed, its wall time with `workers` side by side. Over the
    budget on wall time alone: each run stops at its own safety limits. `names`, one a run
    ("point 0 (rate=100/s)"), say which runs have no bound when some have none."""
    from scalesim.analytic.runtime import RunCost, run_cost
    from scalesim.sim.speed import events_per_s

    runs = [(system, run_cost(system)) for system in systems]
    total = RunCost(0.0, 0.0, 0, 0.0)
    for _, cost in runs:
        total = total.plus(cost)
    work = sum(cost.work for _, cost in runs)
    speed = events_per_s()
    wall = work / speed / workers
    endless = [i for i, (_, cost) in enumerate(runs) if not math.isfinite(cost.events)]
    if endless:
        summary, why = _unbounded(runs[endless[0]][0], _endless_work(endless, names))
        return Estimate(total, speed, workers, wall, tuple(why), summary, work)
    reasons = (Over("the wall time", f"over the {human(BUDGET_S)} budget",
                    "use fewer or shorter runs"),) \
        if wall > BUDGET_S else ()
    return Estimate(total, speed, workers, wall, reasons,
                    _described(work, wall, speed, workers), work)


def _endless_work(endless: list[int], names: Sequence[str]) -> str:
    """Whose work has no bound in a batch: the first such run by its name, and how many
    more ("the work of point 0 (users=5) and of 2 more"), so that a sweep says which of its
    points to fix; "one run's work" when the runs have no names."""
    if not names:
        return "one run's work"
    more = len(endless) - 1
    return f"the work of {names[endless[0]]}" + (f" and of {more} more" if more else "")


def _shorter(system: System) -> str:
    """What takes wall time off a run: less simulated time, less load, fewer replications
    (the interval and the event limit do not change the work)."""
    if system.simulation.replications > 1:
        return (f"shorten simulation.duration or simulation.warmup, {less_load(system)} or "
                "use fewer replications")
    return f"shorten simulation.duration or simulation.warmup, or {less_load(system)}"


def less_load(system: System) -> str:
    """How to send fewer requests, by what the workloads have: open ones a rate to lower,
    closed loops users to take away or a think time to lengthen (give, when they have
    none); a closed loop has no rate to lower."""
    loops = [w for w in system.workloads if w.users is not None]
    ways = [] if len(loops) == len(system.workloads) else \
        ["lower the open workloads' rate" if loops else "lower the rate"]
    if loops:
        think = "give the users a think time" if all(w.think.mean_s == 0.0 for w in loops) \
            else "lengthen the users' think time"
        ways += ["use fewer users", think]
    return ", ".join(ways[:-1]) + f" or {ways[-1]}" if len(ways) > 1 else ways[0]


def _speed(events_per_s: float) -> str:
    """The engine's speed to 2 significant digits, written out: '1,000,000', not '1e+06'."""
    return amount(float(f"{events_per_s:.2g}"))


def _described(work: float, wall_s: float, events_per_s: float, workers: int) -> str:
    """The work in full and its wall time; 'under 1 s' where 'about 0 s' would round a
    real wait down to none."""
    wall = "under 1 s" if wall_s < 1 else f"about {human(wall_s)}"
    return (f"{amount(work)} events, {wall} at ~{_speed(events_per_s)} events/s on "
            f"{workers} worker(s)")
