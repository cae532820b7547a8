"""A running percentile of a call's latency, for hedging after "p95".

Log-spaced buckets (2 % wide) counted as answers arrive; the percentile is recomputed every
`every` answers, so the cost per answer stays O(1) amortized.
"""

from __future__ import annotations

import math

_STEP = math.log(1.02)
_BUCKETS = 1400  # 1 µs · 1.02^1400 ≈ 1e6 s


class LatencyTracker:
    __slots__ = ("counts", "every", "quantile", "since", "total", "value")

    def __init__(self, quantile: float, every: int = 64) -> None:
        self.quantile = quantile
        self.every = every
        self.counts = [0] * _BUCKETS
        self.total = 0
        self.since = 0
        self.value = -1.0  # not known yet

    def add(self, seconds: float) -> None:
        index = 0 if seconds <= 1e-6 else min(_BUCKETS - 1,
                                              int(math.log(seconds / 1e-6) / _STEP) + 1)
        self.counts[index] += 1
        self.total += 1
        self.since += 1
        if self.since >= self.every or (self.value < 0 and self.total >= 20):
            self.since = 0
            self._recompute()

    def _recompute(self) -> None:
        rank = math.ceil(self.quantile * self.total - 1e-9)
        seen = 0
        for index, count in enumerate(self.counts):
            seen += count
            if seen >= rank:
                self.value = 1e-6 * math.exp(index * _STEP)
                return
