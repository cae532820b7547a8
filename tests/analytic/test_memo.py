"""The estimate reuses a component's, an operation's and a call's last solution while what it
reads is bitwise the same (analytic/memo.py): that changes no number. A model that has
evaluated other loads first gives, at a load, exactly the estimate a fresh model gives, and
evaluating a load again solves no component again."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml
from tests.kernel.random_specs import random_spec

from scalesim.analytic import lattice
from scalesim.analytic.estimate import Model
from scalesim.analytic.memo import same
from scalesim.spec import System, load_spec, load_spec_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def fingerprint(value: object) -> object:
    """Every number of an estimate exactly: floats by their bits, arrays by their bytes,
    dataclasses (lattices, stations, components, workloads) field by field; the System and
    a lattice's cache of its other grids left out."""
    if isinstance(value, System):
        return None
    if isinstance(value, float):
        return float(value).hex()
    if isinstance(value, np.ndarray):
        return (str(value.dtype), value.shape, value.tobytes())
    if isinstance(value, dict):
        return tuple((key, fingerprint(item)) for key, item in value.items())
    if isinstance(value, list | tuple):
        return tuple(fingerprint(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, *(fingerprint(getattr(value, f.name))
                                        for f in dataclasses.fields(value) if f.compare))
    return value


def system(seed: int, services: int, resilient: bool = True) -> System:
    spec = random_spec(seed=seed, services=services, resilient=resilient)
    return load_spec_text(yaml.safe_dump(spec, sort_keys=False), f"random-{seed}.yaml")


def workload_scales(model: Model, factor: float) -> dict[str, float]:
    return {w.name: factor for w in model.system.workloads if w.users is None}


CASES = [pytest.param(functools.partial(system, seed, 40), id=f"random-{seed}")
         for seed in (1, 2, 3)] + [
    pytest.param(functools.partial(load_spec, EXAMPLES / f"{name}.yaml"), id=name)
    for name in ("retry-storm", "shop", "hedging")]


@pytest.mark.parametrize("make", CASES)
@pytest.mark.parametrize("points", [256, lattice.LEAF_POINTS])
def test_a_model_that_evaluated_other_loads_first_gives_a_fresh_models_numbers(
        make: Callable[[], System], points: int) -> None:
    spec = make()
    used = Model(spec, points)
    for factor in (0.5, 1.7, 0.9):  # what a capacity search does before it comes back
        used.evaluate(workload_scales(used, factor), storm=True)
    for factor in (1.0, 1.3):
        scales = workload_scales(used, factor)
        fresh = Model(spec, points).evaluate(scales, storm=True)
        again = used.evaluate(scales, storm=True)
        assert fingerprint(again) == fingerprint(fresh)


def test_evaluating_a_load_again_solves_no_component_again() -> None:
    """(Without retries: their fixed point starts again from one attempt a call.)"""
    model = Model(system(4, 40, resilient=False), 256)
    first = model.evaluate()
    again = model.evaluate()
    assert fingerprint(again) == fingerprint(first)
    assert all(again.components[name] is component
               for name, component in first.components.items())


def test_a_fixed_point_pass_solves_again_only_what_its_change_reaches() -> None:
    """The attempts' fixed point of a spec with retries takes passes; after the first, only
    the components the changed attempts reach are solved again: more than one pass's
    worth, fewer than every component at every pass."""
    model = Model(system(5, 40), 256)
    solved: list[str] = []
    passes: list[object] = []
    solve, evaluate = model._solve_component, model._evaluate

    def counted(cname: str, *args: object) -> object:
        solved.append(cname)
        return solve(cname, *args)  # type: ignore[arg-type]

    def counted_pass(*args: object) -> object:
        passes.append(args)
        return evaluate(*args)  # type: ignore[arg-type]

    model._solve_component = counted  # type: ignore[method-assign]
    model._evaluate = counted_pass  # type: ignore[method-assign]
    components = len(model.evaluate().components)
    assert len(passes) > 2
    assert components < len(solved) < components * len(passes)


def test_same_compares_numbers_by_their_bits_arrays_by_bytes_and_the_rest_by_identity(
        ) -> None:
    nan = math.nan
    assert same((1.0, "op", 3, None), (1.0, "op", 3, None))
    assert not same(0.0, -0.0)
    assert not same(1, 1.0)
    assert same(nan, nan)  # the same object: the same bits
    assert not same(float("nan"), float("nan"))
    assert same(np.array([0.5, 1.0]), np.array([0.5, 1.0]))
    assert not same(np.array([0.0]), np.array([-0.0]))
    assert same({"error": 0.1, "timeout": 0.0}, {"error": 0.1, "timeout": 0.0})
    assert not same({"error": 0.1, "timeout": 0.0}, {"timeout": 0.0, "error": 0.1})
    point = lattice.point(0.001)
    assert same((point,), (point,))
    assert not same(point, lattice.point(0.001))  # equal, but not the object reused
