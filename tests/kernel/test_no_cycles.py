"""A run widens Python's young generation (sim/run.py, RUN_YOUNG_GENERATION), which costs
nothing only while the kernel's per-request objects form no reference cycles, each freed by
its reference count the moment it is done. These tests hold every kernel path, example,
template and random topology to that (test_limits.py holds hedging, which once grew a cycle
per request).

A server runs many simulations in one process (the Studio, sweeps), so nothing of a finished
or stopped run may outlive its kernel either: no cache, registry or module-level object may
keep a plan or a visit alive."""

from __future__ import annotations

import gc
from collections import Counter
from contextlib import suppress

import pytest
from tests.kernel.cases import (
    Case,
    example_cases,
    feature_cases,
    random_cases,
    template_cases,
)

from scalesim.sim.compile import compile_system
from scalesim.sim.kernel import PROGRESS_EVERY, Kernel, SafetyStop


def kernel_for(case: Case) -> Kernel:
    system = case.system()
    sim = system.simulation
    return Kernel(compile_system(system, sim.seed, 0), sim.warmup, sim.duration,
                  sim.interval, sim.limits)


def cyclic_garbage(kernel: Kernel) -> Counter[str]:
    """The types of the objects the run left that only the cyclic collector could free."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection finds is kept in gc.garbage
    try:
        kernel.run()
        gc.collect()
        return Counter(type(obj).__name__ for obj in gc.garbage)
    finally:
        gc.garbage.clear()
        gc.set_debug(0)
        gc.enable()


def simulator_objects() -> Counter[str]:
    """The simulator's objects the collector tracks, by type: a visit's operation, replica
    and source among them, so a visit kept alive keeps some of these alive too."""
    gc.collect()
    return Counter(type(obj).__qualname__ for obj in gc.get_objects()
                   if str(getattr(type(obj), "__module__", "")).startswith("scalesim.sim"))


def left_behind(case: Case) -> Counter[str]:
    """What of a run outlives its kernel (the run may stop at a limit)."""
    before = simulator_objects()
    kernel = kernel_for(case)
    with suppress(SafetyStop):
        kernel.run()
    del kernel
    return simulator_objects() - before


def assert_nothing_left_behind(cases: list[Case]) -> None:
    kept = {case.name: left.most_common(3) for case in cases if (left := left_behind(case))}
    assert not kept, f"runs left objects alive after their kernel was dropped: {kept}"


def stopped(cases: list[Case]) -> list[Case]:
    """The cases stopped mid-run, at the event limit of their first progress report (those
    that get that far)."""
    return [Case(f"{case.name} (stopped)", case.text,
                 [*case.overrides, f"simulation.limits.max_events={PROGRESS_EVERY}"])
            for case in cases]


def assert_acyclic(cases: list[Case]) -> None:
    cyclic = {case.name: garbage.most_common(3) for case in cases
              if (garbage := cyclic_garbage(kernel_for(case)))}
    assert not cyclic, f"runs left reference cycles (freed only by a rare young pass): {cyclic}"


def test_feature_specs_make_no_reference_cycles() -> None:
    """Every kernel path: the resilience, data, control and CPU features."""
    assert_acyclic(feature_cases())


@pytest.mark.slow
def test_examples_templates_and_random_specs_make_no_reference_cycles() -> None:
    assert_acyclic(example_cases() + template_cases() + random_cases())


def test_feature_specs_leave_nothing_behind_finished_or_stopped() -> None:
    """Visits waiting for a worker, a core, a bulkhead, a cache load, a commit or a saga step
    when the run ends, and those a run stopped at its event limit leaves in flight."""
    cases = feature_cases()
    assert_nothing_left_behind(cases + stopped(cases))


@pytest.mark.slow
def test_examples_templates_and_random_specs_leave_nothing_behind() -> None:
    cases = example_cases() + template_cases() + random_cases()
    assert_nothing_left_behind(cases + stopped(example_cases()))
