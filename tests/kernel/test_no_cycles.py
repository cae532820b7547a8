"""A run widens Python's young generation (sim/run.py, RUN_YOUNG_GENERATION), which costs
nothing only while the kernel's per-request objects form no reference cycles, each freed by
its reference count the moment it is done. These tests hold every kernel path, example,
template and random topology to that (test_limits.py holds hedging, which once grew a cycle
per request)."""

from __future__ import annotations

import gc
from collections import Counter

import pytest
from tests.kernel.cases import (
    Case,
    example_cases,
    feature_cases,
    random_cases,
    template_cases,
)

from scalesim.sim.compile import compile_system
from scalesim.sim.kernel import Kernel


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
