"""Retry back-off delays, exactly as the AWS Architecture Blog's backoff simulator defines them,
and Envoy's.

With expo(n) = min(cap, base·2^n) and n the retry number from 1:
none → 0 (or `base` for constant back-off), full → U(0, expo(n)),
equal → expo(n)/2 + U(0, expo(n)/2), decorrelated → min(cap, U(base, 3·previous)), where
previous starts at base. Envoy's (`envoy`, its JitteredExponentialBackOffStrategy) is fully
jittered below min(cap, base·2^(n−1)): its first retry waits up to one base, not two.
"""

from __future__ import annotations

from scalesim.sim.random import Sampler


class Backoff:
    __slots__ = ("base", "cap", "jitter", "kind", "uniform")

    def __init__(self, kind: str, jitter: str, base: float, cap: float,
                 uniform: Sampler) -> None:
        self.kind = kind  # none | constant | exponential | envoy
        self.jitter = jitter  # none | full | equal | decorrelated
        self.base = base
        self.cap = cap
        self.uniform = uniform

    def delay(self, retry: int, previous: float) -> float:
        """Seconds to wait before retry number `retry` (1 = the first retry).

        `previous` is the last delay of this call (decorrelated jitter builds on it; pass 0
        before the first retry).
        """
        if self.kind == "none":
            return 0.0
        if self.kind == "envoy":
            return self.uniform.draw() * min(self.cap, self.base * 2.0 ** (retry - 1))
        if self.jitter == "decorrelated":
            last = previous if previous > 0.0 else self.base
            return min(self.cap, self.base + self.uniform.draw() * (3.0 * last - self.base))
        ceiling = self.base if self.kind == "constant" else min(self.cap,
                                                                 self.base * 2.0**retry)
        if self.jitter == "full":
            return self.uniform.draw() * ceiling
        if self.jitter == "equal":
            return ceiling / 2.0 + self.uniform.draw() * ceiling / 2.0
        return ceiling
