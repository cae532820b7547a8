"""A circuit breaker with Resilience4j's state machine.

CLOSED records each finished call (failed or not, slow or not) in a sliding window — the
last N calls (count) or the last N seconds (time). Once the window holds at least
`min_calls` (for a count window, at most N), it opens when failure rate >= threshold or
slow-call rate >= threshold. OPEN rejects every call (counted as not permitted, never as a
failure) for `open_for`, then lets the next call through as HALF_OPEN (lazily, on that call,
as Resilience4j does by default). HALF_OPEN admits `half_open_calls` calls into a fresh count
window and decides after each recorded call once min(min_calls, half_open_calls) are in:
thresholds reached -> OPEN again, otherwise CLOSED with fresh metrics.

Options as in Resilience4j: the open wait may grow by `open_for_multiplier` with each
re-opening (an exponential interval function, capped at `open_for_max`); a timer may move
OPEN to HALF_OPEN (`automatic_half_open`); `max_wait_in_half_open` > 0 re-opens a half-open
breaker whose probes take too long. Timers are requested through `timer_at`, which the
kernel turns into an event and answers with `on_timer`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

CLOSED: Final = 0
OPEN: Final = 1
HALF_OPEN: Final = 2
STATE_NAMES = ("closed", "open", "half_open")
MAX_TRANSITIONS_KEPT: Final = 10_000


class CountWindow:
    """The outcomes of the last `size` calls."""

    __slots__ = ("failed", "index", "ring", "size", "slow", "total")

    def __init__(self, size: int) -> None:
        self.size = size
        self.ring = [0] * size  # bit 1 = failed, bit 2 = slow
        self.index = 0
        self.total = 0
        self.failed = 0
        self.slow = 0

    def add(self, now: float, outcome: int) -> None:
        if self.total == self.size:
            old = self.ring[self.index]
            self.failed -= old & 1
            self.slow -= old >> 1
        else:
            self.total += 1
        self.ring[self.index] = outcome
        self.failed += outcome & 1
        self.slow += outcome >> 1
        self.index = (self.index + 1) % self.size


class TimeWindow:
    """The outcomes of the calls recorded in the last `seconds` whole epoch seconds."""

    __slots__ = ("buckets", "failed", "last_second", "seconds", "slow", "total")

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        self.buckets = [[0, 0, 0] for _ in range(seconds)]  # total, failed, slow
        self.last_second = 0
        self.total = 0
        self.failed = 0
        self.slow = 0

    def add(self, now: float, outcome: int) -> None:
        self._advance(int(now))
        bucket = self.buckets[int(now) % self.seconds]
        bucket[0] += 1
        bucket[1] += outcome & 1
        bucket[2] += outcome >> 1
        self.total += 1
        self.failed += outcome & 1
        self.slow += outcome >> 1

    def _advance(self, second: int) -> None:
        expired = min(second - self.last_second, self.seconds)
        for step in range(1, expired + 1):
            bucket = self.buckets[(self.last_second + step) % self.seconds]
            self.total -= bucket[0]
            self.failed -= bucket[1]
            self.slow -= bucket[2]
            bucket[0] = bucket[1] = bucket[2] = 0
        self.last_second = max(self.last_second, second)


class CircuitBreaker:
    __slots__ = ("admitted", "automatic", "configured_min_calls", "failure_rate",
                 "half_open_calls", "max_half_open", "min_calls", "multiplier",
                 "not_permitted", "open_for", "open_for_max", "open_until", "openings",
                 "slow_call_duration", "slow_call_rate", "state", "timer_at",
                 "transition_count", "transitions", "window", "window_size", "window_type")

    def __init__(self, *, window_type: str = "count", window: int = 100, min_calls: int = 100,
                 failure_rate: float = 0.5, slow_call_rate: float = 1.0,
                 slow_call_duration: float = 60.0, open_for: float = 60.0,
                 half_open_calls: int = 10, open_for_multiplier: float = 1.0,
                 open_for_max: float = 0.0, automatic_half_open: bool = False,
                 max_wait_in_half_open: float = 0.0) -> None:
        self.window_type = window_type
        self.window_size = window
        self.configured_min_calls = min_calls  # half-open caps this by its own call count
        self.min_calls = min(min_calls, window) if window_type == "count" else min_calls
        self.failure_rate = round(failure_rate * 100.0, 9)  # percent
        self.slow_call_rate = round(slow_call_rate * 100.0, 9)
        self.slow_call_duration = slow_call_duration
        self.open_for = open_for
        self.half_open_calls = half_open_calls
        self.multiplier = open_for_multiplier
        self.open_for_max = open_for_max  # 0 = no cap
        self.automatic = automatic_half_open
        self.max_half_open = max_wait_in_half_open
        self.openings = 0  # OPEN states in a row, for the growing wait
        self.timer_at = -1.0  # a timer the kernel should set, or -1
        self.state = CLOSED
        self.window: CountWindow | TimeWindow = self._closed_window()
        self.open_until = 0.0
        self.admitted = 0
        self.not_permitted = 0
        self.transitions: list[tuple[float, int, int]] = []
        self.transition_count = 0

    def _closed_window(self) -> CountWindow | TimeWindow:
        if self.window_type == "count":
            return CountWindow(self.window_size)
        return TimeWindow(self.window_size)

    def try_acquire(self, now: float) -> bool:
        """May a call go out now? A refusal is counted as not permitted."""
        state = self.state
        if state == CLOSED:
            return True
        if state == OPEN:
            if now < self.open_until:
                self.not_permitted += 1
                return False
            self._to(now, HALF_OPEN)
        if self.admitted < self.half_open_calls:
            self.admitted += 1
            return True
        self.not_permitted += 1
        return False

    def record(self, now: float, failed: bool, duration: float) -> None:
        """A permitted call finished; calls finishing while OPEN are not recorded."""
        if self.state == OPEN:
            return
        # Slower than the threshold by more than a nanosecond (Resilience4j's clock): a
        # duration is a difference of absolute times, so one exactly at the threshold can
        # come out a rounding error above it.
        outcome = int(failed) | (2 if duration > self.slow_call_duration + 1e-9 else 0)
        window = self.window
        window.add(now, outcome)
        needed = self.min_calls if self.state == CLOSED else min(self.configured_min_calls,
                                                                  self.half_open_calls)
        if window.total < needed:
            return
        # Percentages as Resilience4j computes them, so 3 of 10 meets a 30 % threshold.
        tripped = (window.failed * 100.0 / window.total >= self.failure_rate
                   or window.slow * 100.0 / window.total >= self.slow_call_rate)
        if tripped:
            self._to(now, OPEN)
        elif self.state == HALF_OPEN:
            self._to(now, CLOSED)

    def on_timer(self, now: float) -> None:
        """A timer set through `timer_at` fired: move on if it is still due."""
        if self.state == OPEN and self.automatic and now >= self.open_until:
            self._to(now, HALF_OPEN)
        elif (self.state == HALF_OPEN and self.max_half_open > 0.0
              and now >= self.open_until + self.max_half_open):
            self._to(now, OPEN)

    def _to(self, now: float, state: int) -> None:
        self.transition_count += 1
        if len(self.transitions) < MAX_TRANSITIONS_KEPT:
            self.transitions.append((now, self.state, state))
        self.state = state
        if state == OPEN:
            self.openings += 1
            wait = self.open_for * self.multiplier ** (self.openings - 1)
            if self.open_for_max > 0.0:
                wait = min(wait, self.open_for_max)
            self.open_until = now + wait
            if self.automatic:
                self.timer_at = self.open_until
        elif state == HALF_OPEN:
            self.window = CountWindow(self.half_open_calls)
            self.admitted = 0
            self.open_until = now  # the half-open wait is measured from here
            if self.max_half_open > 0.0:
                self.timer_at = now + self.max_half_open
        else:
            self.openings = 0
            self.window = self._closed_window()


@dataclass(frozen=True)
class BreakerSettings:
    """How to build the breakers of one call edge: one per calling replica, or one shared."""

    window_type: str
    window: int
    min_calls: int
    failure_rate: float
    slow_call_rate: float
    slow_call_duration: float
    open_for: float
    half_open_calls: int
    shared: bool
    open_for_multiplier: float = 1.0
    open_for_max: float = 0.0
    automatic_half_open: bool = False
    max_wait_in_half_open: float = 0.0

    def build(self) -> CircuitBreaker:
        return CircuitBreaker(window_type=self.window_type, window=self.window,
                              min_calls=self.min_calls, failure_rate=self.failure_rate,
                              slow_call_rate=self.slow_call_rate,
                              slow_call_duration=self.slow_call_duration,
                              open_for=self.open_for, half_open_calls=self.half_open_calls,
                              open_for_multiplier=self.open_for_multiplier,
                              open_for_max=self.open_for_max,
                              automatic_half_open=self.automatic_half_open,
                              max_wait_in_half_open=self.max_wait_in_half_open)
