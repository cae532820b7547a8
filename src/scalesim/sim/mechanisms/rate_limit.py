"""Rate limiters: a token bucket and an exact sliding window.

Token bucket: `burst` tokens, refilled at `rate` per second; a request takes one or is
refused. Sliding window: at most `limit` requests in any `window` seconds, kept as a log of
admission times (at most `limit` entries).
"""

from __future__ import annotations

from collections import deque


class TokenBucket:
    __slots__ = ("burst", "last", "rate", "tokens")

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.last = 0.0

    def allow(self, now: float) -> bool:
        tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if tokens >= 1.0 - 1e-9:  # refills of float time steps must not lose a token
            self.tokens = tokens - 1.0
            return True
        self.tokens = tokens
        return False


class SlidingWindow:
    __slots__ = ("limit", "log", "window")

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self.log: deque[float] = deque()

    def allow(self, now: float) -> bool:
        log = self.log
        while log and log[0] <= now - self.window:
            log.popleft()
        if len(log) < self.limit:
            log.append(now)
            return True
        return False
