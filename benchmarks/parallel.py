"""Speed-up of replications on local worker processes and on a Dask LocalCluster, and the
cost per task of running away from the main process (`make bench`).

A replication of model (c) (benchmarks/three_tier.yaml) long enough to take about ten seconds
of CPU is run 4 times: one after another in this process, on 2 worker processes, and on a
LocalCluster of 2 single-threaded workers. Every way gives the same JSON (checked). On a
shared machine other jobs take cores away, so next to the wall time it reports the CPU time
the workers got and the speed-up that CPU time gives on free cores.
The overhead per task is what a remote task adds to the simulation itself: pickling the spec
there and the partial result back, and merging it; it is measured directly, and relative to
the ten-second task.
"""

from __future__ import annotations

import json
import os
import pickle
import time
from pathlib import Path

import psutil  # type: ignore[import-untyped]

from scalesim.sim.partial import merge
from scalesim.sim.result import build_result
from scalesim.spec import System, load_spec
from scalesim.sweep.executor import DaskCluster, Executor, Processes, Serial
from scalesim.sweep.replicate import replicate
from scalesim.sweep.tasks import Replication, run_task

HERE = Path(__file__).resolve().parent
REPLICATIONS = 4
TASK_SECONDS = 10.0


def spec(duration_s: float) -> System:
    return load_spec(HERE / "three_tier.yaml", [f"simulation.duration={duration_s:.3f}s",
                                                f"simulation.replications={REPLICATIONS}"])


def calibrated() -> System:
    """Model (c) with a duration that makes one replication take about TASK_SECONDS."""
    probe = spec(20.0)
    start = time.process_time()
    run_task(Replication(probe, 1, 0))
    per_sim_second = (time.process_time() - start) / 20.0
    return spec(TASK_SECONDS / per_sim_second)


def children_cpu() -> float:
    """CPU seconds used so far by this process's descendants still alive (the workers)."""
    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def timed(system: System, executor: Executor) -> tuple[float, str, float]:
    """Wall seconds, the result, and the CPU seconds the work got: in this process for the
    serial run, in the worker processes otherwise (read before they shut down)."""
    own, workers = time.process_time(), children_cpu()
    start = time.perf_counter()
    result = replicate(system, 1, executor)
    wall = time.perf_counter() - start
    cpu = time.process_time() - own if isinstance(executor, Serial) \
        else children_cpu() - workers
    return wall, json.dumps(result, sort_keys=True), cpu


def overhead(system: System) -> tuple[float, float, float]:
    """Seconds per task to pickle the task and its partial both ways, and to merge it."""
    task = Replication(system, 1, 0)
    partial = run_task(task)
    start = time.perf_counter()
    for _ in range(20):
        pickle.loads(pickle.dumps(task))
        pickle.loads(pickle.dumps(partial))
    shipping = (time.perf_counter() - start) / 20
    start = time.perf_counter()
    for _ in range(20):
        merge([partial, partial])  # type: ignore[list-item]
    merging = (time.perf_counter() - start) / 20
    start = time.perf_counter()
    build_result(system, 1, partial)  # type: ignore[arg-type]
    return shipping, merging, time.perf_counter() - start


def main() -> None:
    system = calibrated()
    print(f"model (c), {REPLICATIONS} replications of {system.simulation.duration:,.0f} "
          f"simulated seconds (about {TASK_SECONDS:g} s of CPU each)")
    serial, expected, serial_cpu = timed(system, Serial())
    print(f"  {'in this process':<28}{serial:8.1f} s wall, {serial_cpu:6.1f} s CPU "
          f"(load average {os.getloadavg()[0]:.1f})")
    for name, make in (("2 worker processes", lambda: Processes(2)),
                       ("Dask LocalCluster, 2 workers", lambda: DaskCluster("local", 2))):
        executor = make()
        try:
            list(executor.imap(run_task, [Replication(spec(0.1), 1, 0)] * 2))  # start-up
            took, result, cpu = timed(system, executor)
        finally:
            executor.close()
        same = "identical" if result == expected else "DIFFERENT"
        cores = cpu / took
        print(f"  {name:<28}{took:8.1f} s wall, {cpu:6.1f} s CPU: speed-up "
              f"{serial / took:4.2f}×; the workers got {cores:.2f} of 2 cores, so on free "
              f"cores ≈ {serial_cpu / (cpu / 2):.2f}× (results {same}; load average "
              f"{os.getloadavg()[0]:.1f})")
    shipping, merging, building = overhead(system)
    per_task = serial_cpu / REPLICATIONS
    print(f"per task: shipping {shipping * 1e3:.2f} ms, merging {merging * 1e3:.2f} ms "
          f"= {(shipping + merging) / per_task:.3%} of a task of {per_task:.1f} CPU seconds "
          f"(the result is built once: {building * 1e3:.1f} ms)")


if __name__ == "__main__":
    main()
