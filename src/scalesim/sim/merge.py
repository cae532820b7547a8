"""How the parts of a partial result pool across replications (see partial.py).

The merge rule of a value follows from its type: numbers and lists of numbers add up,
histograms merge, a `Peak` keeps the maximum, a `First` keeps the first replication's, `None`
stays `None` (a part the run does not have), lists of parts merge item by item and
dataclasses field by field. A field's metadata gives the rules the type does not tell:
`FIXED` (it describes the plan: the same in every replication) and `APPENDED` (one item per
replication, or values sampled per interval: merging concatenates). Floats are added left to
right in replication order, as a loop over replications would.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from typing import Any, Generic, TypeVar, cast

from scalesim.sim.metrics import Histogram

T = TypeVar("T")
N = TypeVar("N", int, float)

FIXED = {"merge": "fixed"}  # describes the plan (a name, a limit): the same in every replication
APPENDED = {"merge": "append"}  # one item per replication (or interval): merging concatenates


@dataclass
class Peak(Generic[N]):
    """A maximum over replications."""

    value: N


@dataclass
class First(Generic[T]):
    """A detail of the first replication only (events, traces, transitions, time series)."""

    value: T


def merged(a: T, b: T) -> T:
    """`a` (earlier replications) and `b` (the next) pooled by the rules above; neither is
    changed."""
    if a is None:
        assert b is None, "a part present in one replication only"
        return a
    if isinstance(a, Histogram):
        assert isinstance(b, Histogram)
        pooled = Histogram()
        pooled.merge(a)
        pooled.merge(b)
        return cast(T, pooled)
    if isinstance(a, Peak):
        assert isinstance(b, Peak)
        return cast(T, Peak(max(a.value, b.value)))
    if isinstance(a, First | str):
        return a
    if isinstance(a, bool):
        raise TypeError("a flag must be FIXED: it describes the plan, it does not add up")
    if isinstance(a, int | float):
        return cast(T, a + cast(float, b))
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        return cast(T, [merged(x, y) for x, y in zip(a, b, strict=True)])
    assert is_dataclass(a) and type(a) is type(b), (a, b)
    values = {}
    for item in fields(a):
        x, y = getattr(a, item.name), getattr(b, item.name)
        rule = item.metadata.get("merge")
        values[item.name] = x if rule == "fixed" else x + y if rule == "append" \
            else merged(x, y)
    return cast(T, type(cast(Any, a))(**values))
