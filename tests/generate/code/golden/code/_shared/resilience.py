"""Resilience mechanisms with the definitions the simulator uses, so the service behaves as
it was simulated.

- CircuitBreaker: Resilience4j's state machine. CLOSED records each finished call in a
  sliding window (the last N calls, or the last N seconds); once it holds `min_calls` (for a
  count window at most N) it opens when failure rate >= threshold or slow-call rate >=
  threshold (slow: duration > slow_call_duration). OPEN refuses every call for `open_for`
  (growing by `open_for_multiplier` per re-opening, up to `open_for_max`); the refusals are
  not failures. Then HALF_OPEN admits `half_open_calls` probes into a fresh count window and
  decides after each once min(min_calls, half_open_calls) are in: OPEN again, or CLOSED.
- Backoff, by kind: `none` waits nothing; `exponential` and `constant` follow the AWS
  Architecture Blog definitions with expo(n) = min(cap, base·2^n) (`constant`: base), n the
  retry number from 1, jittered none (expo), full U(0, expo), equal expo/2 + U(0, expo/2) or
  decorrelated min(cap, U(base, 3·previous)); `envoy` is Envoy's own strategy
  (JitteredExponentialBackOffStrategy), U(0, min(cap, base·2^(n-1))).
- RetryBudget: retries at most `ratio` of the calls of the last `window` seconds, plus
  `min_per_s` per second (Linkerd's retry budget: retryRatio, minRetriesPerSecond, ttl).
- Bulkhead: at most `limit` holders; a caller waits at most `max_wait` (0: not at once), and
  at most `max_queue` callers wait (a thread-pool bulkhead's queue).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Callable

CLOSED, OPEN, HALF_OPEN = 0, 1, 2
Clock = Callable[[], float]


class CountWindow:
    """The outcomes of the last `size` calls."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.ring = [(False, False)] * size  # (failed, slow)
        self.index = 0
        self.total = self.failed = self.slow = 0

    def add(self, now: float, failed: bool, slow: bool) -> None:
        if self.total == self.size:
            old_failed, old_slow = self.ring[self.index]
            self.failed -= old_failed
            self.slow -= old_slow
        else:
            self.total += 1
        self.ring[self.index] = (failed, slow)
        self.failed += failed
        self.slow += slow
        self.index = (self.index + 1) % self.size


class TimeWindow:
    """The outcomes of the calls of the last `seconds` whole clock seconds."""

    def __init__(self, seconds: int, now: float) -> None:
        self.seconds = seconds
        self.buckets = [[0, 0, 0] for _ in range(seconds)]  # total, failed, slow
        self.last_second = int(now)
        self.total = self.failed = self.slow = 0

    def add(self, now: float, failed: bool, slow: bool) -> None:
        second = int(now)
        for step in range(1, min(second - self.last_second, self.seconds) + 1):
            bucket = self.buckets[(self.last_second + step) % self.seconds]
            self.total -= bucket[0]
            self.failed -= bucket[1]
            self.slow -= bucket[2]
            bucket[0] = bucket[1] = bucket[2] = 0
        self.last_second = max(self.last_second, second)
        bucket = self.buckets[second % self.seconds]
        bucket[0] += 1
        bucket[1] += failed
        bucket[2] += slow
        self.total += 1
        self.failed += failed
        self.slow += slow


class CircuitBreaker:
    def __init__(
        self,
        *,
        window_type: str = "count",
        window: int = 100,
        min_calls: int = 100,
        failure_rate: float = 0.5,
        slow_call_rate: float = 1.0,
        slow_call_duration: float = 60.0,
        open_for: float = 60.0,
        open_for_multiplier: float = 1.0,
        open_for_max: float | None = None,
        automatic_half_open: bool = False,
        max_wait_in_half_open: float = 0.0,
        half_open_calls: int = 10,
        clock: Clock = time.monotonic,
    ) -> None:
        self.window_type = window_type
        self.window_size = window
        self.configured_min_calls = min_calls
        self.min_calls = min(min_calls, window) if window_type == "count" else min_calls
        # Percentages as Resilience4j compares them, so 3 failures of 10 meet 30 %.
        self.failure_threshold = round(failure_rate * 100.0, 9)
        self.slow_threshold = round(slow_call_rate * 100.0, 9)
        self.slow_call_duration = slow_call_duration
        self.open_for = open_for
        self.multiplier = open_for_multiplier
        self.open_for_max = open_for_max
        self.automatic = automatic_half_open
        self.max_wait_in_half_open = max_wait_in_half_open
        self.half_open_calls = half_open_calls
        self.clock = clock
        self._state = CLOSED
        self.openings = 0  # OPEN states in a row, for the growing wait
        self.open_until = 0.0
        self.half_open_since = 0.0
        self.admitted = 0
        self.window: CountWindow | TimeWindow = self._closed_window()

    @property
    def state(self) -> int:
        """The state now; the timers (automatic half-open, half-open wait) act on reading."""
        now = self.clock()
        if self._state == OPEN and self.automatic and now >= self.open_until:
            self._to(HALF_OPEN, now)
        elif (
            self._state == HALF_OPEN
            and self.max_wait_in_half_open > 0.0
            and now >= self.half_open_since + self.max_wait_in_half_open
        ):
            self._to(OPEN, now)
        return self._state

    def try_acquire(self) -> bool:
        """May a call go out now? Without automatic half-open, the first call after the wait
        moves OPEN to HALF_OPEN."""
        state = self.state
        if state == CLOSED:
            return True
        now = self.clock()
        if state == OPEN:
            if now < self.open_until:
                return False
            self._to(HALF_OPEN, now)
        if self.admitted < self.half_open_calls:
            self.admitted += 1
            return True
        return False

    def record(self, failed: bool, duration: float) -> None:
        """A permitted call finished; one finishing while OPEN is not recorded."""
        state = self.state
        if state == OPEN:
            return
        now = self.clock()
        window = self.window
        window.add(now, failed, duration > self.slow_call_duration)
        needed = (
            self.min_calls
            if state == CLOSED
            else min(self.configured_min_calls, self.half_open_calls)
        )
        if window.total < needed:
            return
        if (
            window.failed * 100.0 / window.total >= self.failure_threshold
            or window.slow * 100.0 / window.total >= self.slow_threshold
        ):
            self._to(OPEN, now)
        elif state == HALF_OPEN:
            self._to(CLOSED, now)

    def release(self) -> None:
        """A permitted call ended without an outcome (cancelled): it is recorded as neither
        success nor failure, and a half-open permit returns, as Resilience4j releases the
        permission of an ignored call."""
        if self._state == HALF_OPEN and self.admitted > 0:
            self.admitted -= 1

    def _closed_window(self) -> CountWindow | TimeWindow:
        if self.window_type == "count":
            return CountWindow(self.window_size)
        return TimeWindow(self.window_size, self.clock())

    def _to(self, state: int, now: float) -> None:
        self._state = state
        if state == OPEN:
            self.openings += 1
            wait = self.open_for * self.multiplier ** (self.openings - 1)
            if self.open_for_max is not None:
                wait = min(wait, self.open_for_max)
            self.open_until = now + wait
        elif state == HALF_OPEN:
            self.window = CountWindow(self.half_open_calls)
            self.admitted = 0
            self.half_open_since = now
        else:
            self.openings = 0
            self.window = self._closed_window()


class Backoff:
    def __init__(self, kind: str, jitter: str, base: float, cap: float) -> None:
        self.kind = kind  # none | constant | exponential | envoy
        self.jitter = jitter  # none | full | equal | decorrelated
        self.base = base
        self.cap = cap

    def delay(self, retry: int, previous: float, rng: random.Random) -> float:
        """Seconds before retry number `retry` (1 = the first retry); `previous` is this
        call's last delay (0 before the first retry), on which decorrelated jitter builds."""
        if self.kind == "none":
            return 0.0
        if self.kind == "envoy":  # fully jittered below base * 2^(n-1), as Envoy waits
            return rng.uniform(0.0, min(self.cap, self.base * 2.0 ** (retry - 1)))
        if self.jitter == "decorrelated":
            last = previous if previous > 0.0 else self.base
            return min(self.cap, rng.uniform(self.base, 3.0 * last))
        ceiling = self.base if self.kind == "constant" else min(self.cap, self.base * 2.0**retry)
        if self.jitter == "full":
            return rng.uniform(0.0, ceiling)
        if self.jitter == "equal":
            return ceiling / 2.0 + rng.uniform(0.0, ceiling / 2.0)
        return ceiling


class RetryBudget:
    def __init__(
        self, ratio: float, min_per_s: float, window: float, clock: Clock = time.monotonic
    ) -> None:
        self.ratio = ratio
        self.seconds = max(1, round(window))
        self.min_retries = min_per_s * self.seconds
        self.clock = clock
        self.ring = [[0, 0] for _ in range(self.seconds)]  # calls, retries per second
        self.last = int(clock())
        self.calls = self.retries = 0

    def record_call(self) -> None:
        self._bucket()[0] += 1
        self.calls += 1

    def try_retry(self) -> bool:
        bucket = self._bucket()
        if self.retries + 1 > self.min_retries + self.ratio * self.calls:
            return False
        bucket[1] += 1
        self.retries += 1
        return True

    def _bucket(self) -> list[int]:
        second = int(self.clock())
        for step in range(1, min(second - self.last, self.seconds) + 1):
            bucket = self.ring[(self.last + step) % self.seconds]
            self.calls -= bucket[0]
            self.retries -= bucket[1]
            bucket[0] = bucket[1] = 0
        self.last = max(self.last, second)
        return self.ring[second % self.seconds]


class Bulkhead:
    def __init__(
        self, limit: int, max_wait: float | None = 0.0, max_queue: int | None = None
    ) -> None:
        self.limit = limit
        self.max_wait = max_wait  # None: as long as it takes
        self.max_queue = max_queue  # None: any number may wait
        self.active = 0
        self.waiters: deque[asyncio.Future[None]] = deque()  # first in, first served

    async def acquire(self) -> bool:
        """Take a permit, waiting as allowed; False when refused."""
        if self.active < self.limit and not self.waiters:
            self.active += 1
            return True
        if self.max_wait == 0.0 or (
            self.max_queue is not None and len(self.waiters) >= self.max_queue
        ):
            return False
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            async with asyncio.timeout(self.max_wait):
                await waiter
        except TimeoutError:
            # release() may have handed the permit over in the same loop turn as the wait
            # ran out (asyncio.wait_for loses that result since Python 3.12): keep it.
            return waiter.done() and not waiter.cancelled()
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the permit was handed over just as the caller gave up
            raise
        finally:
            if waiter in self.waiters:
                self.waiters.remove(waiter)
        return True

    def release(self) -> None:
        """Hand the permit to the oldest waiter still waiting, or give it back."""
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.active -= 1
