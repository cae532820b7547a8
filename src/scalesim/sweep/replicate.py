"""Replications of one system over an executor, with optional sequential stopping.

`--precision 2%` adds replications until the 95 % confidence interval of the mean latency
(Student t over the per-replication means) has a half-width of at most 2 % of the mean. The
rule is checked after every replication in replication order, whatever order the workers
finish in, so the number of replications and the result do not depend on `--jobs`, on Dask,
or on the batch sizes: replications that finished beyond the stopping point are discarded.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from statistics import fmean, stdev
from typing import Any

from scalesim.sim.kernel import SafetyStop
from scalesim.sim.partial import Partial
from scalesim.sim.result import build_result
from scalesim.sim.run import simulate
from scalesim.sim.stats import t975
from scalesim.spec.model import System
from scalesim.sweep.executor import Executor, default_jobs, executing
from scalesim.sweep.tasks import InOrder, Replication, Stopped, run_task

MIN_REPLICATIONS = 5  # before the variance estimate is trusted for stopping
Progress = Callable[[int, int], None]  # (tasks done, tasks planned so far)


@dataclass(frozen=True)
class Precision:
    target: float  # relative half-width of the 95 % CI of the mean latency, e.g. 0.02
    max_replications: int = 100


def relative_half_width(means: list[float]) -> float:
    """Half-width of the 95 % CI of the mean of `means`, relative to that mean (inf when it
    cannot be told: fewer than two values, a NaN, or a zero mean)."""
    if len(means) < 2 or any(math.isnan(m) for m in means):
        return math.inf
    center = fmean(means)
    if center <= 0.0:
        return math.inf
    return t975(len(means) - 1) * stdev(means) / math.sqrt(len(means)) / center


def replicate(system: System, seed: int, executor: Executor, with_series: bool = False,
              precision: Precision | None = None,
              progress: Progress | None = None) -> dict[str, Any]:
    """The result of `system.simulation.replications` replications run on `executor` (with
    `precision`: at least that many, more until the CI is narrow enough)."""
    wanted = system.simulation.replications
    if precision is None:
        merged = InOrder()
        _run(system, seed, executor, range(wanted), with_series, merged, progress)
        assert merged.pooled is not None
        return build_result(system, seed, merged.pooled)
    return _until_precise(system, seed, executor, with_series, precision, progress)


def _run(system: System, seed: int, executor: Executor, replications: range,
         with_series: bool, merged: InOrder, progress: Progress | None) -> None:
    """Run `replications` and pool them in order into `merged`, until it stops."""
    tasks = [Replication(system, seed, r, with_series) for r in replications]
    done = replications.start
    with closing(executor.imap(run_task, tasks)) as finished:
        for index, partial in finished:
            done += 1
            if progress is not None:
                progress(done, replications.stop)
            if isinstance(partial, Stopped):
                raise SafetyStop(partial.message)
            merged.add(replications[index], partial)
            if merged.stopped:
                return


def _until_precise(system: System, seed: int, executor: Executor, with_series: bool,
                   precision: Precision, progress: Progress | None) -> dict[str, Any]:
    least = max(MIN_REPLICATIONS, system.simulation.replications)
    most = max(least, precision.max_replications)
    means: list[float] = []

    def precise(part: Partial) -> bool:
        """Stop at the target, at the most, or once a replication answered no request: its
        mean is unknown, so no number of runs makes the interval known."""
        means.append(part.summaries[0].latency_ms["mean"])
        settled = relative_half_width(means) <= precision.target or \
            any(math.isnan(m) for m in means)
        return (len(means) >= least and settled) or len(means) >= most

    merged = InOrder(precise)
    started = 0
    while not merged.stopped:
        batch = _next_batch(means, precision.target, least, started, executor.workers, most)
        _run(system, seed, executor, range(started, started + batch), with_series, merged,
             progress)
        started += batch
    assert merged.pooled is not None
    result = build_result(system, seed, merged.pooled)
    achieved = relative_half_width(means)
    result["precision"] = {"target": precision.target,
                           "achieved": round(achieved, 6) if math.isfinite(achieved) else None,
                           "met": achieved <= precision.target,
                           "max_replications": most}
    return result


def _next_batch(means: list[float], target: float, least: int, started: int, workers: int,
                most: int) -> int:
    """How many replications to start next: enough to reach the minimum, then the number the
    current spread says is still missing, at least one per worker, never past the maximum."""
    if started < least:
        want = least - started
    else:
        spread = relative_half_width(means) * math.sqrt(len(means)) / t975(len(means) - 1)
        needed = math.ceil((t975(len(means) - 1) * spread / target) ** 2) \
            if math.isfinite(spread) else started * 2
        want = needed - started
    return max(1, min(max(want, workers), most - started))


@dataclass(frozen=True)
class Execution:
    """Where and how long to run a simulation: `--jobs`, `--dask`, `--precision`."""

    jobs: int | None = None
    dask: str | None = None
    precision: Precision | None = None

    def planned(self, system: System) -> System:
        """`system` with the replications that will run at least (a precision target asks
        for MIN_REPLICATIONS or more)."""
        if self.precision is None or system.simulation.replications >= MIN_REPLICATIONS:
            return system
        sim = system.simulation.model_copy(update={"replications": MIN_REPLICATIONS})
        return system.model_copy(update={"simulation": sim})

    def in_process(self, system: System) -> bool:
        """Whether the replications run one after another in this process."""
        return self.precision is None and (system.simulation.replications == 1 or (
            self.jobs == 1 and self.dask is None))

    def workers_for(self, system: System) -> int:
        """How many replications run side by side: up to --jobs (default: the cores; for a
        Dask cluster not yet reached, the same guess), never more than are planned."""
        if self.in_process(system):
            return 1
        jobs = self.jobs if self.jobs is not None else default_jobs()
        return max(1, min(jobs, self.planned(system).simulation.replications))

    def simulate(self, system: System, seed: int | None = None, with_series: bool = False,
                 progress: Callable[[float], None] | None = None) -> dict[str, Any]:
        """The result, as `scalesim.sim.simulate` gives it for the same seed: replications
        spread over the executor when there are several (or a precision to reach)."""
        base_seed = system.simulation.seed if seed is None else seed
        replications = system.simulation.replications
        if self.in_process(system):
            return simulate(system, base_seed, progress, with_series)

        def report(done: int, planned: int) -> None:
            if progress is not None:
                progress(done / max(planned, 1))

        tasks = None if self.precision is not None else replications
        with executing(self.jobs, self.dask, tasks) as executor:
            return replicate(system, base_seed, executor, with_series, self.precision, report)
