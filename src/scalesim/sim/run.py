"""Running a system: one kernel per replication, each read into a partial result, the
partials merged into one result (the same path parallel runs take, see scalesim.sweep)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from scalesim.sim.compile import compile_system
from scalesim.sim.kernel import Kernel, SafetyStop
from scalesim.sim.partial import Partial, merge, partial_of
from scalesim.sim.result import build_result
from scalesim.spec.model import System

# The young generation's size during a run: the collector runs after this many more
# container objects are made than freed (CPython's default is 700). The kernel frees what it
# makes by reference counting (tests/kernel/test_no_cycles.py holds every kernel path,
# example, template and random topology to that), yet at the default each young collection
# walked every request in flight, as thousands are when thousands of replicas are busy: 11 %
# of model (c)'s time at 2,048 replicas. A cycle a future mechanism leaves is
# still collected, in passes at most this many objects apart.
RUN_YOUNG_GENERATION = 20_000


class _CollectorSettings:
    """The collector's settings while any run is going (runs may share a process, as in a
    threaded sweep): the first run to start freezes the objects that exist then (later
    passes skip them) and widens the young generation; the last to end puts both back.
    Unfreezing cannot tell objects apart, so when the caller had frozen some of its own
    (a server that freezes its heap after start-up) the run's freeze is kept: those objects
    existed before the run too."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs = 0
        self.threshold = gc.get_threshold()
        self.thaw = True  # unfreeze when the last run ends: nothing was frozen before

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self.lock:
            if self.runs == 0:
                self.thaw = gc.get_freeze_count() == 0
                gc.freeze()
                self.threshold = gc.get_threshold()
                gc.set_threshold(RUN_YOUNG_GENERATION, *self.threshold[1:])
            self.runs += 1
        try:
            yield
        finally:
            with self.lock:
                self.runs -= 1
                if self.runs == 0:
                    gc.set_threshold(*self.threshold)
                    if self.thaw:
                        gc.unfreeze()


_collector_for_runs = _CollectorSettings()


def run_kernel(system: System, seed: int, replication: int,
               progress: Callable[[float], None] | None = None) -> Kernel:
    """Run one replication; raises SafetyStop when it passes a limit."""
    sim = system.simulation
    plan = compile_system(system, seed, replication)
    kernel = Kernel(plan, sim.warmup, sim.duration, sim.interval, sim.limits, progress)
    with _collector_for_runs():
        try:
            kernel.run()
        except SafetyStop:
            kernel.heap.clear()  # free the stopped run's visits now, not in a long GC pass
            raise
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

