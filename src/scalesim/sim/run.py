"""Running a system: one kernel per replication, pooled into one result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scalesim.sim.compile import compile_system
from scalesim.sim.kernel import Kernel, SafetyStop
from scalesim.sim.result import build_result
from scalesim.spec.model import System


def run_kernels(system: System, seed: int | None = None,
                progress: Callable[[float], None] | None = None) -> list[Kernel]:
    """Run every replication; raises SafetyStop when a run passes a limit."""
    sim = system.simulation
    base_seed = sim.seed if seed is None else seed
    kernels = []
    for replication in range(sim.replications):
        plan = compile_system(system, base_seed, replication)

        def report(fraction: float, done: int = replication) -> None:
            if progress is not None:
                progress((done + fraction) / sim.replications)

        kernel = Kernel(plan, sim.warmup, sim.duration, sim.interval, sim.limits, report)
        try:
            kernel.run()
        except SafetyStop:
            kernel.heap.clear()  # free the stopped run's visits now, not in a long GC pass
            raise
        kernels.append(kernel)
    return kernels


def simulate(system: System, seed: int | None = None,
             progress: Callable[[float], None] | None = None,
             with_series: bool = False) -> dict[str, Any]:
    """Simulate `system` and return the JSON-ready result (see SPEC.md, "The result");
    `with_series` adds the time series. Raises SafetyStop when a run passes a limit."""
    kernels = run_kernels(system, seed, progress)
    return build_result(system, system.simulation.seed if seed is None else seed, kernels,
                        with_series)
