"""Bounded-memory latency histograms.

Values go into a short buffer (an append is the cheapest thing there is) and are folded
into logarithmic buckets in numpy batches. The buffer is a packed array of C doubles (mypyc's
`vec`): an append stores a double, with no Python float made per value, and NumPy reads the
whole buffer in place. Bucket i holds (γ^(i-1), γ^i] with
γ = (1+α)/(1-α), and reports 2γ^i/(γ+1), so every percentile is within a relative error α of
a value in its bucket (the DDSketch construction). Memory is fixed however many values arrive.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from librt.vecs import append, extend, vec

ALPHA: Final = 0.005  # relative accuracy of reported percentiles (0.5 %)
GAMMA: Final = (1.0 + ALPHA) / (1.0 - ALPHA)
_LOG_GAMMA: Final = math.log(GAMMA)
MIN_VALUE: Final = 1e-9  # seconds; smaller positive values share the lowest bucket
MAX_VALUE: Final = 1e7
_OFFSET: Final = -math.ceil(math.log(MIN_VALUE) / _LOG_GAMMA) + 1
N_BUCKETS: Final = math.ceil(math.log(MAX_VALUE) / _LOG_GAMMA) + _OFFSET + 1
_BUFFER: Final = 1 << 12

PERCENTILES: Final = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p999": 0.999}


def bucket_indices(values: np.ndarray) -> np.ndarray:
    """The bucket of each value (0 holds zeros)."""
    clipped = np.clip(values, MIN_VALUE, MAX_VALUE)
    index = np.ceil(np.log(clipped) / _LOG_GAMMA).astype(np.int64) + _OFFSET
    return np.where(values > 0, index, 0)


def as_array(values: vec[float]) -> np.ndarray:
    """The values as a float64 array over the vec's own memory (no copy: the vec must not
    change while the array is in use)."""
    return np.frombuffer(memoryview(values), np.float64)


def linear_quantiles(values: vec[float], qs: tuple[float, ...]) -> list[float]:
    """np.quantile(values, qs) with its default method ("linear", Hyndman and Fan's 7th),
    to the last bit: the same index (n - 1) * q, the same two-sided interpolation. It
    skips np.quantile's generic path (axes, weights, NaN checks, a partition per call),
    which cost 40 us per call against 10 us here, once per workload per interval."""
    ordered = np.sort(as_array(values))
    last = len(values) - 1
    top = float(last)
    out = []
    for q in qs:
        index = top * q
        if index >= top:
            out.append(float(ordered[last]))
            continue
        below = math.floor(index)
        a, b = float(ordered[below]), float(ordered[below + 1])
        t = index - below
        diff = b - a
        out.append(b - diff * (1.0 - t) if t >= 0.5 else a + diff * t)
    return out


def bucket_values(indices: np.ndarray) -> np.ndarray:
    """The value each bucket reports."""
    exponent = (indices - _OFFSET).astype(float)
    return np.where(indices > 0, 2.0 * GAMMA**exponent / (GAMMA + 1.0), 0.0)


def _rank(q: float, count: int) -> int:
    """The 1-based rank of the q-quantile; the tolerance keeps 0.07·100 at 7, not 8."""
    return max(1, math.ceil(q * count - 1e-9))


class Histogram:
    """Count, sum, min, max and percentiles of a stream of values (seconds)."""

    __slots__ = ("buffer", "count", "counts", "max", "min", "total")

    def __init__(self) -> None:
        self.buffer: vec[float] = vec[float]()
        self.counts = np.zeros(N_BUCKETS, dtype=np.int64)
        self.count = 0
        self.total = 0.0
        self.max = 0.0
        self.min = math.inf

    def add(self, value: float) -> None:
        self.buffer = append(self.buffer, value)

    def add_all(self, values: vec[float]) -> None:
        self.buffer = extend(self.buffer, values)

    def flush(self) -> None:
        if not len(self.buffer):
            return
        values = as_array(self.buffer)
        self.buffer = vec[float]()
        self.counts += np.bincount(bucket_indices(values), minlength=N_BUCKETS)
        self.count += len(values)
        self.total += float(values.sum())
        self.max = max(self.max, float(values.max()))
        self.min = min(self.min, float(values.min()))

    def maybe_flush(self) -> None:
        if len(self.buffer) >= _BUFFER:
            self.flush()

    def reset(self) -> None:
        self.buffer = vec[float]()
        self.counts[:] = 0
        self.count = 0
        self.total = 0.0
        self.max = 0.0
        self.min = math.inf

    def __getstate__(self) -> tuple[np.ndarray, int, float, float, float]:
        """Pickled without its buffer (a vec does not pickle): folded in first."""
        self.flush()
        return self.counts, self.count, self.total, self.max, self.min

    def __setstate__(self, state: tuple[np.ndarray, int, float, float, float]) -> None:
        self.buffer = vec[float]()
        self.counts, self.count, self.total, self.max, self.min = state

    def merge(self, other: Histogram) -> None:
        other.flush()
        self.flush()
        self.counts += other.counts
        self.count += other.count
        self.total += other.total
        self.max = max(self.max, other.max)
        self.min = min(self.min, other.min)

    def quantile(self, q: float) -> float:
        """The smallest reported value v with at least q of the values at or below it."""
        self.flush()
        if self.count == 0:
            return math.nan
        return self._at(np.cumsum(self.counts), q)

    def _at(self, cumulative: np.ndarray, q: float) -> float:
        """The q-quantile's bucket value, but never outside the values seen: a bucket's value
        can lie up to α from those in it, and a p999 over the max (or a single value's p50
        beside its own max) reads as a bug. The true quantile is between the min and the max,
        so the clamp only brings the value closer."""
        index = int(np.searchsorted(cumulative, _rank(q, self.count)))
        return max(self.min, min(float(bucket_values(np.array([index]))[0]), self.max))

    def fraction_at_most(self, value: float) -> float:
        """The share of values at or below `value` (to the histogram's accuracy)."""
        self.flush()
        if self.count == 0:
            return math.nan
        index = int(bucket_indices(np.array([value]))[0])
        return float(self.counts[: index + 1].sum()) / self.count

    @property
    def mean(self) -> float:
        self.flush()
        return self.total / self.count if self.count else math.nan

    def summary_ms(self) -> dict[str, float]:
        """mean, p50 … p999 and max in milliseconds (empty when there were no values)."""
        self.flush()
        if self.count == 0:
            return {}
        summary = {"mean": self.mean * 1e3}
        cumulative = np.cumsum(self.counts)
        for name, q in PERCENTILES.items():
            summary[name] = self._at(cumulative, q) * 1e3
        summary["max"] = self.max * 1e3
        return summary


def combined(hists: list[Histogram]) -> Histogram:
    """One histogram of every value the given ones hold (replications, operations, parts)."""
    out = Histogram()
    for hist in hists:
        out.merge(hist)
    return out
