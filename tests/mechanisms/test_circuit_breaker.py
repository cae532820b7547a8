"""The circuit breaker against Resilience4j's documented state machine.

Reference: ../shared/reference/resilience-semantics.md §1. Thresholds are given to the
breaker as fractions (0.5 = 50 %). Every test scripts an outcome sequence and states the
state, counters or transitions Resilience4j would have at that point.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from tests.mechanisms._support import PROPERTY

from scalesim.sim.mechanisms.circuit_breaker import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    CircuitBreaker,
    CountWindow,
    TimeWindow,
)

FAST, SLOW_LIMIT, SLOW = 0.5, 1.0, 1.5  # durations around slow_call_duration = 1.0 s


def breaker(**kwargs: object) -> CircuitBreaker:
    defaults: dict[str, object] = dict(window=10, min_calls=10, failure_rate=0.5,
                                       slow_call_rate=1.0, slow_call_duration=SLOW_LIMIT,
                                       open_for=30.0, half_open_calls=4)
    defaults.update(kwargs)
    return CircuitBreaker(**defaults)  # type: ignore[arg-type]


def feed(cb: CircuitBreaker, outcomes: str, now: float = 0.0, duration: float = FAST) -> None:
    """Record one call per character: F failed, S succeeded (both taking `duration`)."""
    for char in outcomes:
        cb.record(now, char == "F", duration)


def trip(cb: CircuitBreaker, now: float = 0.0) -> None:
    """Open a fresh CLOSED breaker with failures only."""
    for _ in range(cb.window_size):
        cb.record(now, True, FAST)
        if cb.state == OPEN:
            return
    raise AssertionError("the breaker did not open on a window of failures")


# --- CLOSED: minimum number of calls -----------------------------------------------------


def test_no_decision_below_minimum_calls() -> None:
    cb = breaker(window=20, min_calls=10)
    feed(cb, "F" * 9)
    assert cb.state == CLOSED  # 100 % failed, but only 9 < 10 calls
    feed(cb, "F")
    assert cb.state == OPEN
    assert cb.transitions == [(0.0, CLOSED, OPEN)]


def test_count_window_minimum_is_capped_by_window_size() -> None:
    # minimumNumberOfCalls 100 with a COUNT_BASED window of 5 behaves as 5.
    cb = breaker(window=5, min_calls=100)
    feed(cb, "FFFF")
    assert cb.state == CLOSED
    feed(cb, "F")
    assert cb.state == OPEN


def test_time_window_minimum_is_not_capped() -> None:
    # TIME_BASED: minimumNumberOfCalls is used as given, even above the window length.
    cb = breaker(window_type="time", window=5, min_calls=100)
    for i in range(99):
        cb.record(i * 0.01, True, FAST)
    assert cb.state == CLOSED
    cb.record(0.99, True, FAST)
    assert cb.state == OPEN


# --- CLOSED: thresholds are inclusive (>=) -------------------------------------------------


@pytest.mark.parametrize(("threshold", "failures", "opens"), [
    (0.5, 5, True),   # 50 % of 10 meets 50 %
    (0.5, 4, False),
    (0.3, 3, True),   # 0.3 * 100 = 30.000000000000004 in floating point; must still open
    (0.3, 2, False),
    (0.7, 7, True),   # 0.7 * 100 = 70.00000000000001
    (0.1, 1, True),
    (1.0, 9, False),
    (1.0, 10, True),
])
def test_failure_rate_threshold_is_inclusive(threshold: float, failures: int,
                                             opens: bool) -> None:
    cb = breaker(window=10, min_calls=10, failure_rate=threshold)
    feed(cb, "S" * (10 - failures) + "F" * failures)
    assert cb.state == (OPEN if opens else CLOSED)


@given(k=st.integers(1, 100), n=st.integers(1, 200), data=st.data())
@PROPERTY
def test_integer_percent_thresholds_open_exactly_when_rate_reaches_them(
        k: int, n: int, data: st.DataObject) -> None:
    """With threshold k %, n calls and f failures, the breaker opens iff 100·f >= k·n
    (exact integer arithmetic; the float form of k/100 must not shift the boundary)."""
    f = data.draw(st.integers(0, n))
    cb = breaker(window=n, min_calls=n, failure_rate=k / 100)
    feed(cb, "S" * (n - f) + "F" * f)  # decision first possible at the n-th call
    assert (cb.state == OPEN) == (100 * f >= k * n)


# --- slow calls ----------------------------------------------------------------------------


def test_duration_equal_to_threshold_is_not_slow() -> None:
    cb = breaker(slow_call_rate=0.5)
    feed(cb, "S" * 10, duration=SLOW_LIMIT)
    assert cb.window.slow == 0
    assert cb.state == CLOSED


def test_duration_above_threshold_is_slow() -> None:
    cb = breaker(slow_call_rate=0.5)
    feed(cb, "S" * 9, duration=SLOW)
    assert cb.window.slow == 9  # counted even before the minimum is reached
    assert cb.state == CLOSED  # no decision yet: 9 < 10 calls


@pytest.mark.parametrize(("slow", "opens"), [(5, True), (4, False)])
def test_slow_call_rate_threshold_is_inclusive(slow: int, opens: bool) -> None:
    cb = breaker(slow_call_rate=0.5, failure_rate=1.0)
    feed(cb, "S" * (10 - slow), duration=FAST)
    feed(cb, "S" * slow, duration=SLOW)  # slow successes: not failures
    assert cb.window.failed == 0
    assert cb.state == (OPEN if opens else CLOSED)


def test_slow_failure_counts_as_both_failed_and_slow() -> None:
    cb = breaker(window=4, min_calls=4, failure_rate=1.0, slow_call_rate=1.0)
    feed(cb, "FFS", duration=SLOW)
    assert (cb.window.total, cb.window.failed, cb.window.slow) == (3, 2, 3)
    feed(cb, "S", duration=SLOW)  # 4 of 4 slow meets the default 100 % slow-call threshold
    assert cb.state == OPEN


# --- OPEN ----------------------------------------------------------------------------------


def test_open_rejects_and_counts_not_permitted_without_recording_failures() -> None:
    cb = breaker(open_for=30.0)
    trip(cb, now=1.0)
    assert cb.open_until == pytest.approx(31.0)
    before = (cb.window.total, cb.window.failed, cb.window.slow)
    for t in (1.0, 10.0, 30.999):
        assert cb.try_acquire(t) is False
    assert cb.not_permitted == 3
    assert cb.state == OPEN
    # rejections are not outcomes: the window is untouched
    assert (cb.window.total, cb.window.failed, cb.window.slow) == before


def test_calls_finishing_while_open_are_not_recorded() -> None:
    cb = breaker()
    trip(cb)
    before = (cb.window.total, cb.window.failed)
    feed(cb, "SSSFF", now=5.0)
    assert (cb.window.total, cb.window.failed) == before
    assert cb.state == OPEN


def test_open_moves_to_half_open_lazily_on_first_call_after_wait() -> None:
    cb = breaker(open_for=30.0)
    trip(cb, now=0.0)
    # nobody calls: the state stays OPEN past open_until (no timer)
    assert cb.state == OPEN
    assert cb.try_acquire(45.0) is True
    assert cb.state == HALF_OPEN
    assert cb.transitions == [(0.0, CLOSED, OPEN), (45.0, OPEN, HALF_OPEN)]
    assert cb.not_permitted == 0


# --- HALF_OPEN -----------------------------------------------------------------------------


def test_half_open_admits_exactly_permitted_calls() -> None:
    cb = breaker(half_open_calls=4, open_for=10.0)
    trip(cb)
    admitted = [cb.try_acquire(10.0 + i) for i in range(7)]
    assert admitted == [True] * 4 + [False] * 3
    assert cb.not_permitted == 3
    assert cb.state == HALF_OPEN


def test_half_open_decides_after_min_of_min_calls_and_permitted() -> None:
    # min_calls 10, permitted 4: the decision comes after the 4th recorded call.
    cb = breaker(min_calls=10, half_open_calls=4, open_for=10.0)
    trip(cb)
    for _ in range(4):
        assert cb.try_acquire(10.0)
    feed(cb, "FSS", now=11.0)
    assert cb.state == HALF_OPEN  # 3 < 4: no decision even though 33 % failed
    feed(cb, "S", now=12.0)
    assert cb.state == CLOSED  # 1 of 4 failed < 50 %


def test_half_open_decision_with_small_minimum_is_taken_after_each_call() -> None:
    # min_calls 2 < permitted 4: decisions start after the 2nd recorded call.
    cb = breaker(window=10, min_calls=2, half_open_calls=4, open_for=10.0)
    feed(cb, "FF")
    assert cb.state == OPEN
    assert cb.try_acquire(10.0)
    feed(cb, "S", now=10.5)
    assert cb.state == HALF_OPEN
    feed(cb, "F", now=11.0)  # 1 of 2 = 50 % >= 50 %
    assert cb.state == OPEN
    assert cb.open_until == pytest.approx(21.0)


def test_half_open_failing_reopens_with_new_open_until() -> None:
    cb = breaker(half_open_calls=4, open_for=10.0)
    trip(cb, now=0.0)
    assert cb.try_acquire(12.0)
    feed(cb, "FFSS", now=13.0)  # 50 % >= 50 %
    assert cb.state == OPEN
    assert cb.open_until == pytest.approx(23.0)
    assert cb.try_acquire(22.9) is False
    assert cb.try_acquire(23.5) is True  # a second HALF_OPEN with a fresh quota
    assert cb.state == HALF_OPEN
    assert [cb.try_acquire(23.5) for _ in range(4)] == [True, True, True, False]
    assert cb.transitions == [(0.0, CLOSED, OPEN), (12.0, OPEN, HALF_OPEN),
                              (13.0, HALF_OPEN, OPEN), (23.5, OPEN, HALF_OPEN)]
    assert cb.transition_count == 4


def test_half_open_succeeding_closes_with_fresh_metrics() -> None:
    cb = breaker(window=10, min_calls=10, half_open_calls=4, open_for=10.0)
    trip(cb)
    assert cb.try_acquire(10.0)
    feed(cb, "SSSF", now=11.0)  # 25 % < 50 %
    assert cb.state == CLOSED
    assert isinstance(cb.window, CountWindow)
    assert (cb.window.size, cb.window.total, cb.window.failed, cb.window.slow) == (10, 0, 0, 0)
    # fresh metrics: the minimum must be reached again before any decision
    feed(cb, "F" * 9, now=12.0)
    assert cb.state == CLOSED
    feed(cb, "F", now=12.0)
    assert cb.state == OPEN


def test_half_open_window_uses_slow_calls_too() -> None:
    cb = breaker(half_open_calls=4, open_for=10.0, slow_call_rate=0.5, failure_rate=1.0)
    feed(cb, "S" * 10, duration=SLOW)
    assert cb.state == OPEN
    assert cb.try_acquire(10.0)
    feed(cb, "SS", now=10.0, duration=FAST)
    feed(cb, "SS", now=10.0, duration=SLOW)  # 2 of 4 slow >= 50 %
    assert cb.state == OPEN


def test_half_open_minimum_uses_configured_min_calls_not_window_capped() -> None:
    # COUNT window 5, minimumNumberOfCalls 100, permitted 10. CLOSED uses min(100, 5) = 5,
    # but HalfOpenState builds CircuitBreakerMetrics.forHalfOpen(10, config): its minimum is
    # min(config.getMinimumNumberOfCalls() = 100, 10) = 10, so it decides after 10 calls.
    cb = breaker(window=5, min_calls=100, half_open_calls=10, open_for=10.0)
    feed(cb, "FFFFF")
    assert cb.state == OPEN
    assert cb.try_acquire(10.0)
    feed(cb, "SSSSS", now=11.0)
    assert cb.state == HALF_OPEN  # 5 of the 10 probe calls: no decision yet
    feed(cb, "FFFFF", now=12.0)
    assert cb.state == OPEN  # 5 of 10 failed = 50 %


# --- windows -------------------------------------------------------------------------------


def test_count_window_ring_buffer_drops_oldest_outcome() -> None:
    cb = breaker(window=4, min_calls=4, failure_rate=0.75)
    feed(cb, "FFSS")  # 50 % < 75 %
    assert (cb.window.total, cb.window.failed) == (4, 2)
    feed(cb, "S")  # the first F falls out: F S S S
    assert (cb.window.total, cb.window.failed) == (4, 1)
    feed(cb, "FF")  # S S F F: the second F has fallen out too
    assert (cb.window.total, cb.window.failed) == (4, 2)
    assert cb.state == CLOSED
    feed(cb, "F")  # S F F F = 75 % >= 75 %
    assert cb.state == OPEN


def test_time_window_forgets_outcomes_older_than_window_seconds() -> None:
    cb = breaker(window_type="time", window=10, min_calls=5, failure_rate=0.5)
    assert isinstance(cb.window, TimeWindow)
    for t in (0.1, 1.2, 2.3, 3.4):
        cb.record(t, True, FAST)
    assert cb.state == CLOSED  # 4 < 5 calls
    # At t = 12.5 the window covers epoch seconds 3..12: only the failure at 3.4 is left.
    cb.record(12.5, False, FAST)
    assert (cb.window.total, cb.window.failed) == (2, 1)
    cb.record(12.6, False, FAST)
    cb.record(12.7, False, FAST)
    cb.record(12.8, True, FAST)  # 2 of 5 failed < 50 %; the 4 old failures would have tripped
    assert (cb.window.total, cb.window.failed) == (5, 2)
    assert cb.state == CLOSED
    # 30 s later everything has expired.
    cb.record(42.0, False, FAST)
    assert (cb.window.total, cb.window.failed) == (1, 0)


def test_time_window_keeps_exactly_the_last_n_epoch_seconds() -> None:
    w = TimeWindow(3)
    w.add(5.9, 1)
    w.add(7.0, 0)
    assert w.total == 2  # seconds 5, 6, 7
    w.add(8.0, 0)
    assert (w.total, w.failed) == (2, 0)  # second 5 dropped, 7 and 8 kept


# --- the whole state machine against a brute-force model -----------------------------------


@dataclass
class Model:
    """Resilience4j's breaker written the slow, obvious way: keep every outcome and recount."""

    window_type: str
    window: int
    min_calls: int
    failure_pct: int
    slow_pct: int
    open_for: float
    permitted: int
    state: int = CLOSED
    open_until: float = 0.0
    admitted: int = 0
    not_permitted: int = 0
    outcomes: list[tuple[float, bool, bool]] = field(default_factory=list)
    transitions: list[tuple[float, int, int]] = field(default_factory=list)

    def to(self, now: float, state: int) -> None:
        self.transitions.append((now, self.state, state))
        self.state = state
        self.outcomes = []
        if state == OPEN:
            self.open_until = now + self.open_for
        elif state == HALF_OPEN:
            self.admitted = 0

    def in_window(self, now: float) -> list[tuple[float, bool, bool]]:
        if self.state == HALF_OPEN:
            return self.outcomes[-self.permitted:]
        if self.window_type == "count":
            return self.outcomes[-self.window:]
        return [o for o in self.outcomes if int(o[0]) > int(now) - self.window]

    def minimum(self) -> int:
        if self.state == HALF_OPEN:
            return min(self.min_calls, self.permitted)
        if self.window_type == "count":
            return min(self.min_calls, self.window)
        return self.min_calls

    def try_acquire(self, now: float) -> bool:
        if self.state == CLOSED:
            return True
        if self.state == OPEN:
            if now < self.open_until:
                self.not_permitted += 1
                return False
            self.to(now, HALF_OPEN)
        if self.admitted < self.permitted:
            self.admitted += 1
            return True
        self.not_permitted += 1
        return False

    def record(self, now: float, failed: bool, slow: bool) -> None:
        if self.state == OPEN:
            return
        self.outcomes.append((now, failed, slow))
        calls = self.in_window(now)
        n = len(calls)
        if n < self.minimum():
            return
        f = sum(o[1] for o in calls)
        s = sum(o[2] for o in calls)
        if 100 * f >= self.failure_pct * n or 100 * s >= self.slow_pct * n:
            self.to(now, OPEN)
        elif self.state == HALF_OPEN:
            self.to(now, CLOSED)


operations = st.lists(st.tuples(
    st.sampled_from([0.0, 0.0, 0.0, 0.3, 0.9, 2.5, 6.0]),  # time step (open_for is 5 s)
    st.sampled_from(["acquire", "acquire", "ok", "fail", "fail"]),
    st.sampled_from([FAST, SLOW_LIMIT, SLOW]),              # duration of a recorded call
), min_size=10, max_size=150)
# Thresholds that small windows hit exactly (k/n), so the inclusive boundary gets exercised.
percent = st.one_of(st.sampled_from([20, 25, 50, 75, 100]), st.integers(1, 100))


@given(window_type=st.sampled_from(["count", "time"]), window=st.integers(1, 8),
       min_calls=st.integers(1, 10), failure_pct=percent, slow_pct=percent,
       permitted=st.integers(1, 5), ops=operations)
@settings(PROPERTY, max_examples=300)
def test_state_machine_matches_brute_force_model(
        window_type: str, window: int, min_calls: int, failure_pct: int, slow_pct: int,
        permitted: int, ops: list[tuple[float, str, float]]) -> None:
    """For any call sequence the breaker's state, counters, transitions and (in CLOSED) window
    counts equal a recount of the outcomes by the model above; in particular it never opens
    from CLOSED with fewer than the effective minimum of calls in the window."""
    cb = CircuitBreaker(window_type=window_type, window=window, min_calls=min_calls,
                        failure_rate=failure_pct / 100, slow_call_rate=slow_pct / 100,
                        slow_call_duration=SLOW_LIMIT, open_for=5.0, half_open_calls=permitted)
    model = Model(window_type, window, min_calls, failure_pct, slow_pct, 5.0, permitted)
    effective_min = min(min_calls, window) if window_type == "count" else min_calls
    now = 0.0
    for step, op, duration in ops:
        now += step
        if op == "acquire":
            assert cb.try_acquire(now) == model.try_acquire(now)
        else:
            state_before = cb.state
            cb.record(now, op == "fail", duration)
            model.record(now, op == "fail", duration > SLOW_LIMIT)
            if state_before == CLOSED and cb.state == OPEN:
                # the CLOSED window is kept while OPEN: it held at least the minimum
                assert cb.window.total >= effective_min
            if cb.state == CLOSED and state_before == CLOSED:
                calls = model.in_window(now)
                assert cb.window.total == len(calls)
                assert cb.window.failed == sum(o[1] for o in calls)
                assert cb.window.slow == sum(o[2] for o in calls)
        assert cb.state == model.state
        assert cb.not_permitted == model.not_permitted
        assert cb.transitions == model.transitions
        assert cb.transition_count == len(model.transitions)
        if cb.state == OPEN:
            assert cb.open_until == pytest.approx(model.open_until)
    for _, old, new in cb.transitions:  # lets --hypothesis-show-statistics show coverage
        event(f"{old}->{new}")


def test_a_call_exactly_at_the_slow_threshold_is_not_slow_whatever_the_clock() -> None:
    # Durations are differences of absolute times: 3.001 - 2.901 is 0.10000000000000009.
    # Resilience4j counts a call slow only when it takes longer than the threshold.
    cb = breaker(slow_call_duration=0.1, slow_call_rate=1.0)
    for _ in range(cb.window_size):
        cb.record(3.001, False, 3.001 - 2.901)
    assert cb.state == CLOSED
    trip_slow = breaker(slow_call_duration=0.1, slow_call_rate=1.0)
    for _ in range(trip_slow.window_size):
        trip_slow.record(3.001, False, 0.1 + 1e-6)
    assert trip_slow.state == OPEN
