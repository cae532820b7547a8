"""A retry budget: retries may be at most `ratio` of the original calls over the last
`window` seconds, plus `min_per_s` retries per second that are always allowed.

Each calling replica keeps its own (`BudgetSettings.build` per replica), as each Linkerd
proxy does: its `min_retries_per_second` is what "the proxy may always attempt".
Counts live in one-second buckets, so checking costs O(1) amortized.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BudgetSettings:
    """A call's retry budget as the spec gives it; each calling replica builds its own."""

    ratio: float
    min_per_s: float
    window: float

    def build(self) -> RetryBudget:
        return RetryBudget(self.ratio, self.min_per_s, self.window)


class RetryBudget:
    __slots__ = ("calls", "exhausted", "last", "min_retries", "ratio", "retries", "ring",
                 "seconds")

    def __init__(self, ratio: float, min_per_s: float, window: float) -> None:
        self.ratio = ratio
        self.seconds = max(1, round(window))
        self.min_retries = min_per_s * self.seconds
        self.ring = [[0, 0] for _ in range(self.seconds)]  # calls, retries per second
        self.last = 0
        self.calls = 0
        self.retries = 0
        self.exhausted = 0

    def _advance(self, now: float) -> list[int]:
        second = int(now)
        for step in range(1, min(second - self.last, self.seconds) + 1):
            bucket = self.ring[(self.last + step) % self.seconds]
            self.calls -= bucket[0]
            self.retries -= bucket[1]
            bucket[0] = bucket[1] = 0
        self.last = max(self.last, second)
        return self.ring[second % self.seconds]

    def record_call(self, now: float) -> None:
        self._advance(now)[0] += 1
        self.calls += 1

    def try_retry(self, now: float) -> bool:
        bucket = self._advance(now)
        if self.retries + 1 > self.min_retries + self.ratio * self.calls:
            self.exhausted += 1
            return False
        bucket[1] += 1
        self.retries += 1
        return True
