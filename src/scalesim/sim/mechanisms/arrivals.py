"""Open-loop arrival times: Poisson or evenly spaced, at a rate that may change over time.

The rate is piecewise: steps, or linear ramps between profile points. Poisson arrivals are
drawn segment by segment (memorylessness lets a draw that crosses a segment end restart at
the boundary), with thinning inside a ramp — exact for both shapes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scalesim.sim.random import Sampler


@dataclass(frozen=True)
class Segment:
    start: float
    end: float  # math.inf for the last one
    rate0: float
    rate1: float  # equal to rate0 for a step

    def rate(self, t: float) -> float:
        if self.rate0 == self.rate1 or math.isinf(self.end):
            return self.rate0
        return self.rate0 + (self.rate1 - self.rate0) * (t - self.start) / (self.end - self.start)


def segments(initial_rate: float, points: list[tuple[float, float, bool]]) -> list[Segment]:
    """Profile points (at, rate, linear ramp?) -> contiguous segments from t = 0."""
    result: list[Segment] = []
    start, rate = 0.0, initial_rate
    for at, target, linear in points:
        if at > start:
            result.append(Segment(start, at, rate, target if linear else rate))
        start, rate = at, target
    result.append(Segment(start, math.inf, rate, rate))
    return result


class Arrivals:
    __slots__ = ("exp1", "poisson", "segments", "steady", "uniform")

    def __init__(self, segs: list[Segment], poisson: bool, exp1: Sampler,
                 uniform: Sampler) -> None:
        self.segments = segs
        self.poisson = poisson
        self.exp1 = exp1  # Exp(1) draws
        self.uniform = uniform
        # One constant Poisson rate, the common case, takes a one-line path.
        self.steady = segs[0].rate0 if poisson and len(segs) == 1 else 0.0

    def _segment(self, t: float) -> int:
        for index, seg in enumerate(self.segments):
            if t < seg.end:
                return index
        return len(self.segments) - 1

    def expected(self, until: float) -> float:
        """The mean number of arrivals in [0, until): the integral of the rate."""
        total = 0.0
        for seg in self.segments:
            if seg.start >= until:
                break
            end = min(seg.end, until)
            total += (seg.rate(seg.start) + seg.rate(end)) / 2.0 * (end - seg.start)
        return total

    def next_after(self, now: float) -> float:
        """The time of the next arrival after `now` (math.inf if the rate stays 0)."""
        if self.steady:
            return now + self.exp1.draw() / self.steady
        index = self._segment(now)
        t = now
        while index < len(self.segments):
            seg = self.segments[index]
            peak = max(seg.rate(t), seg.rate1)
            if peak <= 0.0:
                t, index = seg.end, index + 1
                continue
            if not self.poisson:
                candidate = t + 1.0 / seg.rate(t) if seg.rate(t) > 0 else seg.end
                if candidate < seg.end:
                    return candidate
                t, index = seg.end, index + 1
                continue
            candidate = t + self.exp1.draw() / peak
            if candidate >= seg.end:
                t, index = seg.end, index + 1
                continue
            t = candidate
            if seg.rate0 == seg.rate1 or self.uniform.draw() * peak <= seg.rate(t):
                return t
        return math.inf
