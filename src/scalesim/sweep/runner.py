"""Running the points of a sweep: every replication of every point not in the cache is one
task on the executor; a point's partials are merged in replication order as they come in,
and the point is built, cached and reported as soon as its last replication is back.

All points use the same seed, so replication r of every point draws from the same named
random streams: common random numbers, which make differences between points less noisy
than independent runs would (and a point's result does not depend on the grid around it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from scalesim.sim.result import build_result
from scalesim.spec.model import System
from scalesim.sweep.cache import PointCache, point_key
from scalesim.sweep.executor import Executor
from scalesim.sweep.grid import Point
from scalesim.sweep.tasks import InOrder, Replication, Stopped, run_task


@dataclass(frozen=True)
class PointResult:
    point: Point
    result: dict[str, Any] | None  # None when a replication passed a safety limit
    stopped: str | None  # the safety limit's message
    cached: bool


@dataclass(frozen=True)
class PointRun:
    point: Point
    system: System


Progress = Callable[[int, int, PointResult | None], None]  # tasks done, total, point done


def run_points(runs: Sequence[PointRun], seed: int, executor: Executor, cache: PointCache,
               progress: Progress | None = None) -> list[PointResult]:
    """The result of every point, in point order."""
    done: dict[int, PointResult] = {}
    todo: list[tuple[PointRun, str]] = []
    for run in runs:
        key = point_key(run.system, seed)
        cached = cache.get(key)
        if cached is None:
            todo.append((run, key))
            continue
        stopped = cached.get("stopped")
        done[run.point.index] = PointResult(run.point, None if stopped else cached,
                                            stopped, True)
    tasks = [(i, Replication(run.system, seed, r)) for i, (run, _) in enumerate(todo)
             for r in range(run.system.simulation.replications)]
    merged = {i: InOrder() for i in range(len(todo))}
    if progress is not None:
        progress(0, len(tasks), None)
    with closing(executor.imap(run_task, [task for _, task in tasks])) as finished:
        for count, (index, outcome) in enumerate(finished, 1):
            slot, task = tasks[index]
            run, key = todo[slot]
            if run.point.index in done:  # an earlier replication already stopped it
                result = None
            elif isinstance(outcome, Stopped):
                result = PointResult(run.point, None, outcome.message, False)
                cache.put(key, {"stopped": outcome.message})
            else:
                merged[slot].add(task.replication, outcome)
                result = _finished(run, key, seed, merged[slot], cache)
            if result is not None:
                done[run.point.index] = result
            if progress is not None:
                progress(count, len(tasks), result)
    return [done[run.point.index] for run in runs]


def _finished(run: PointRun, key: str, seed: int, merged: InOrder,
              cache: PointCache) -> PointResult | None:
    if merged.count < run.system.simulation.replications:
        return None
    assert merged.pooled is not None
    result = build_result(run.system, seed, merged.pooled)
    result.pop("traces", None)  # kept small: a sweep compares points, it does not debug them
    cache.put(key, result)
    return PointResult(run.point, result, None, False)
