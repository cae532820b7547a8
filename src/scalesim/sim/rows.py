"""Rows of numbers kept as packed doubles, for the per-interval time series.

A run keeps a row per component, workload and call for every interval of its window: 7,200
rows each for two hours at one-second intervals. As tuples of Python floats a row of eight
cells took about 320 bytes; packed in one array of C doubles (mypyc's `vec`) it takes 64, so
a long run's memory stays near a short one's. Integers (a count in flight) are kept exactly,
as doubles hold every integer below 2**53.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import final

from librt.vecs import append, vec
from mypy_extensions import i64


@final
class Rows:
    __slots__ = ("cells", "width")

    def __init__(self, width: i64) -> None:
        self.width = width
        self.cells: vec[float] = vec[float]()

    def add(self, *values: float) -> None:
        """Append one row of `width` values."""
        if len(values) != self.width:
            raise ValueError(f"a row of {len(values)} values in rows of {self.width}")
        cells = self.cells
        for value in values:
            cells = append(cells, value)
        self.cells = cells

    def clear(self) -> None:
        self.cells = vec[float]()

    def __len__(self) -> int:
        return len(self.cells) // self.width

    def __iter__(self) -> Iterator[tuple[float, ...]]:
        """The rows in order, each a tuple of `width` floats."""
        cells, width = self.cells, self.width
        for start in range(0, len(cells), width):
            yield tuple([cells[start + n] for n in range(width)])
