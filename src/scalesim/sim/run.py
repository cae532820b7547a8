"""Running a system: one kernel per replication, each read into a partial result, the
partials merged into one result (the same path parallel runs take, see scalesim.sweep)."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from scalesim.sim.compile import compile_system
from scalesim.sim.kernel import Kernel, SafetyStop
from scalesim.sim.partial import Partial, merge, partial_of
from scalesim.sim.result import build_result
from scalesim.spec.model import System


def run_kernel(system: System, seed: int, replication: int,
               progress: Callable[[float], None] | None = None) -> Kernel:
    """Run one replication; raises SafetyStop when it passes a limit."""
    sim = system.simulation
    plan = compile_system(system, seed, replication)
    kernel = Kernel(plan, sim.warmup, sim.duration, sim.interval, sim.limits, progress)
    gc.freeze()
    try:
        kernel.run()
    except SafetyStop:
        kernel.heap.clear()  # free the stopped run's visits now, not in a long GC pass
        raise
    finally:
        gc.unfreeze()
    return kernel


def run_replication(system: System, seed: int, replication: int, with_series: bool = False,
                    progress: Callable[[float], None] | None = None) -> Partial:
    """The partial result of one replication; only the first keeps time series."""
    kernel = run_kernel(system, seed, replication, progress)
    return partial_of(kernel, system.simulation.duration, with_series and replication == 0)


def _share(progress: Callable[[float], None] | None, replication: int,
           replications: int) -> Callable[[float], None] | None:
    """Progress of one replication as progress of all of them."""
    if progress is None:
        return None
    return lambda fraction: progress((replication + fraction) / replications)


def run_kernels(system: System, seed: int | None = None,
                progress: Callable[[float], None] | None = None) -> list[Kernel]:
    """Run every replication and keep the kernels (for tests that look inside them)."""
    sim = system.simulation
    base_seed = sim.seed if seed is None else seed
    return [run_kernel(system, base_seed, r, _share(progress, r, sim.replications))
            for r in range(sim.replications)]


def simulate(system: System, seed: int | None = None,
             progress: Callable[[float], None] | None = None,
             with_series: bool = False) -> dict[str, Any]:
    """Simulate `system` and return the JSON-ready result (see SPEC.md, "The result");
    `with_series` adds the first replication's time series. Raises SafetyStop when a run
    passes a limit."""
    sim = system.simulation
    base_seed = sim.seed if seed is None else seed
    pooled: Partial | None = None
    for r in range(sim.replications):  # pooled as they finish: one partial in memory
        partial = run_replication(system, base_seed, r, with_series,
                                  _share(progress, r, sim.replications))
        pooled = partial if pooled is None else merge([pooled, partial])
    assert pooled is not None
    return build_result(system, base_seed, pooled)

