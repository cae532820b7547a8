"""Reusing a result whose inputs are the very same as the last time it was worked out.

The estimate solves every component again on every pass of its fixed points and at every
load a capacity search tries, but a component whose rates, callees' responses and failure
shares did not change gives the same answer: reusing it changes no number. Inputs are
compared exactly, never within a tolerance: numbers bit for bit (0.0 and -0.0 apart, a NaN
never equal), arrays by their bytes, and anything else (a callee's `Lattice`) by identity.
The object worked out last time is the one handed out again, so an unchanged callee keeps
its callers' inputs unchanged too, and they are reused in turn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import numpy as np

Inputs = tuple[object, ...]
Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


def same(a: object, b: object) -> bool:
    """Whether `a` and `b` are interchangeable as inputs of a computation: floats with the
    same bits, equal strings, integers and flags, arrays of the same bytes, tuples (and dicts,
    in order) of such, and otherwise the very same object."""
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is float:
        assert isinstance(a, float) and isinstance(b, float)
        return a == b and (a != 0.0 or math.copysign(1.0, a) == math.copysign(1.0, b))
    if kind is tuple:
        assert isinstance(a, tuple) and isinstance(b, tuple)
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return same(tuple(a.items()), tuple(b.items()))
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray)
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if a is None or isinstance(a, str | int):
        return a == b
    return a is b


class Last(Generic[Key, Value]):
    """The last value worked out for each key, with the inputs it came from: one entry a
    key, so its memory stays that of one solution (a fixed point's next pass, or the next
    load of a search, asks about the same key again)."""

    def __init__(self) -> None:
        self._kept: dict[Key, tuple[Inputs, Value]] = {}

    def get(self, key: Key, inputs: Inputs, compute: Callable[[], Value]) -> Value:
        """The value for `key`: the one kept when it came from the same `inputs`, else
        `compute()`, kept for next time."""
        kept = self._kept.get(key)
        if kept is not None and same(kept[0], inputs):
            return kept[1]
        value = compute()
        self._kept[key] = (inputs, value)
        return value
