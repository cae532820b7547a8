"""The generated resilience module against the documented semantics.

References: ../shared/reference/resilience-semantics.md §1 (Resilience4j circuit breaker)
and §8 (AWS backoff jitter). The module is imported from a generated service folder, as the
service itself imports it; every test drives it with a scripted clock and states the answer
the reference gives.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from tests.generate.code._support import PAIR_SPEC, generate, load_generated

FAST, SLOW_LIMIT, SLOW = 0.5, 1.0, 1.5  # call durations around slow_call_duration = 1 s


@pytest.fixture(scope="module")
def res(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    code = generate(PAIR_SPEC, tmp_path_factory.mktemp("resilience"))
    return load_generated(code / "front", "resilience")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def breaker(res: ModuleType, clock: Clock, **settings: Any) -> Any:
    values: dict[str, Any] = dict(window=10, min_calls=10, failure_rate=0.5,
                                  slow_call_duration=SLOW_LIMIT, open_for=30.0,
                                  half_open_calls=4)
    values.update(settings)
    return res.CircuitBreaker(clock=clock, **values)


def feed(cb: Any, outcomes: str, duration: float = FAST) -> None:
    """One recorded call per character: F failed, S succeeded."""
    for char in outcomes:
        cb.record(char == "F", duration)


def open_breaker(res: ModuleType, cb: Any) -> None:
    feed(cb, "F" * cb.min_calls)
    assert cb.state == res.OPEN


# --- CLOSED ---------------------------------------------------------------------------------


def test_no_decision_below_minimum_calls(res: ModuleType) -> None:
    cb = breaker(res, Clock(), window=20, min_calls=10)
    feed(cb, "F" * 9)
    assert cb.state == res.CLOSED  # 100 % failed, but 9 < 10 calls
    feed(cb, "F")
    assert cb.state == res.OPEN


def test_failure_threshold_is_inclusive(res: ModuleType) -> None:
    cb = breaker(res, Clock())
    feed(cb, "FFFFSSSSSS")  # 40 % < 50 %
    assert cb.state == res.CLOSED
    cb = breaker(res, Clock())
    feed(cb, "FFFFFSSSSS")  # 50 % >= 50 %
    assert cb.state == res.OPEN


def test_three_of_ten_meets_thirty_percent(res: ModuleType) -> None:
    # 0.3 * 100 is 30.000000000000004 in floating point; Resilience4j compares percentages.
    cb = breaker(res, Clock(), failure_rate=0.3)
    feed(cb, "FFFSSSSSSS")
    assert cb.state == res.OPEN


def test_count_window_minimum_is_capped_by_its_size(res: ModuleType) -> None:
    cb = breaker(res, Clock(), window=5, min_calls=100)
    feed(cb, "FFFF")
    assert cb.state == res.CLOSED
    feed(cb, "F")
    assert cb.state == res.OPEN


def test_count_window_holds_only_the_last_calls(res: ModuleType) -> None:
    cb = breaker(res, Clock(), window=4, min_calls=4)
    feed(cb, "SSSSF")  # the window is S S S F: 25 %
    assert cb.state == res.CLOSED
    feed(cb, "F")  # S S F F: 50 %, though 2 of all 6 calls is only 33 %
    assert cb.state == res.OPEN


def test_time_window_minimum_is_not_capped_and_old_seconds_expire(res: ModuleType) -> None:
    clock = Clock()
    cb = breaker(res, clock, window_type="time", window=5, min_calls=6)
    feed(cb, "FFFFF")  # 5 calls < min 6, though the window is 5 seconds long
    assert cb.state == res.CLOSED
    clock.now += 10.0  # those seconds left the window
    feed(cb, "SSSSS")
    feed(cb, "F")  # 1 of 6 failed
    assert cb.state == res.CLOSED


def test_slow_calls_are_strictly_longer_than_the_threshold(res: ModuleType) -> None:
    cb = breaker(res, Clock(), slow_call_rate=0.5)
    feed(cb, "S" * 10, duration=SLOW_LIMIT)  # exactly at the threshold: not slow
    assert cb.state == res.CLOSED
    feed(cb, "S" * 5, duration=SLOW)  # 5 of 10 slow successes -> 50 % >= 50 %
    assert cb.state == res.OPEN


# --- OPEN and HALF_OPEN ---------------------------------------------------------------------


def test_open_refuses_until_the_wait_then_goes_half_open_on_the_next_call(
        res: ModuleType) -> None:
    clock = Clock()
    cb = breaker(res, clock)
    open_breaker(res, cb)
    clock.now += 29.9
    assert not cb.try_acquire()
    clock.now += 0.1
    assert cb.state == res.OPEN  # lazily: no call yet
    assert cb.try_acquire()
    assert cb.state == res.HALF_OPEN


def test_automatic_half_open_needs_no_call(res: ModuleType) -> None:
    clock = Clock()
    cb = breaker(res, clock, automatic_half_open=True)
    open_breaker(res, cb)
    clock.now += 30.0
    assert cb.state == res.HALF_OPEN


def test_half_open_admits_its_probes_and_closes_when_they_pass(res: ModuleType) -> None:
    clock = Clock()
    cb = breaker(res, clock, half_open_calls=4)
    open_breaker(res, cb)
    clock.now += 30.0
    assert [cb.try_acquire() for _ in range(5)] == [True, True, True, True, False]
    feed(cb, "SSS")
    assert cb.state == res.HALF_OPEN  # decides after min(min_calls 10, probes 4) = 4 calls
    feed(cb, "F")  # 1 of 4 failed < 50 %
    assert cb.state == res.CLOSED
    assert cb.window.total == 0  # fresh metrics


def test_half_open_reopens_with_a_growing_capped_wait(res: ModuleType) -> None:
    clock = Clock()
    cb = breaker(res, clock, half_open_calls=2, open_for_multiplier=2.0, open_for_max=100.0)
    open_breaker(res, cb)
    waits = [cb.open_until - clock.now]
    for _ in range(3):
        clock.now += 1000.0
        assert cb.try_acquire()
        feed(cb, "FS")  # 50 % of the probes failed -> OPEN again
        assert cb.state == res.OPEN
        waits.append(cb.open_until - clock.now)
    assert waits == [30.0, 60.0, 100.0, 100.0]  # 30·2^k, capped at 100


def test_max_wait_in_half_open_reopens(res: ModuleType) -> None:
    clock = Clock()
    cb = breaker(res, clock, max_wait_in_half_open=5.0)
    open_breaker(res, cb)
    clock.now += 30.0
    assert cb.try_acquire()
    clock.now += 5.0
    assert cb.state == res.OPEN


def test_calls_finishing_while_open_are_not_recorded(res: ModuleType) -> None:
    clock = Clock()
    cb = breaker(res, clock, half_open_calls=1)
    open_breaker(res, cb)
    feed(cb, "SSSS")  # late answers of calls admitted before it opened
    clock.now += 30.0
    assert cb.try_acquire()
    assert cb.window.total == 0


# --- Backoff (AWS definitions: expo(n) = min(cap, base·2^n)) --------------------------------


@pytest.mark.parametrize(("kind", "jitter", "expected"), [
    ("none", "full", [0.0, 0.0, 0.0, 0.0]),
    ("constant", "none", [0.1, 0.1, 0.1, 0.1]),
    ("exponential", "none", [0.2, 0.4, 0.8, 1.0]),  # 1.6 is capped at 1.0
])
def test_backoff_without_randomness(res: ModuleType, kind: str, jitter: str,
                                    expected: list[float]) -> None:
    backoff = res.Backoff(kind, jitter, 0.1, 1.0)
    rng = random.Random(1)
    assert [backoff.delay(n, 0.0, rng) for n in (1, 2, 3, 4)] == pytest.approx(expected)


@pytest.mark.parametrize(("jitter", "low", "high"), [
    ("full", 0.0, 1.0), ("equal", 0.5, 1.0),
])
def test_full_and_equal_jitter_bounds_and_mean(res: ModuleType, jitter: str, low: float,
                                               high: float) -> None:
    backoff = res.Backoff("exponential", jitter, 0.1, 10.0)
    rng = random.Random(7)
    draws = [backoff.delay(3, 0.0, rng) / 0.8 for _ in range(20_000)]  # expo(3) = 0.8
    assert low <= min(draws) and max(draws) <= high
    assert sum(draws) / len(draws) == pytest.approx((low + high) / 2, abs=0.01)


def test_decorrelated_jitter_builds_on_the_previous_delay(res: ModuleType) -> None:
    backoff = res.Backoff("exponential", "decorrelated", 0.1, 2.0)
    rng = random.Random(3)
    previous = 0.0
    for retry in range(1, 200):
        delay = backoff.delay(retry, previous, rng)
        last = previous if previous > 0.0 else 0.1
        assert 0.1 <= delay <= min(2.0, 3.0 * last)
        previous = delay
    first = [backoff.delay(1, 0.0, rng) for _ in range(5000)]
    assert min(first) >= 0.1 and max(first) <= 0.3  # U(base, 3·base) before any delay


# --- Retry budget and bulkhead --------------------------------------------------------------


def test_retry_budget_allows_ratio_of_calls_plus_minimum(res: ModuleType) -> None:
    clock = Clock()
    budget = res.RetryBudget(0.2, 0.0, 10.0, clock=clock)
    for _ in range(10):
        budget.record_call()
    assert [budget.try_retry() for _ in range(3)] == [True, True, False]
    clock.now += 10.0  # those calls and retries left the window
    assert not budget.try_retry()
    floor = res.RetryBudget(0.2, 1.0, 10.0, clock=clock)
    assert sum(floor.try_retry() for _ in range(12)) == 10  # 1/s over 10 s, no calls


def test_semaphore_bulkhead_refuses_at_once_or_after_max_wait(res: ModuleType) -> None:
    async def scenario() -> list[bool]:
        at_once = res.Bulkhead(1, max_wait=0.0)
        waiting = res.Bulkhead(1, max_wait=0.02)
        results = [await at_once.acquire(), await at_once.acquire(),
                   await waiting.acquire(), await waiting.acquire()]
        waiter = asyncio.create_task(waiting.acquire())
        await asyncio.sleep(0)
        waiting.release()  # handed to the waiter
        results.append(await waiter)
        results.append(waiting.active == 1)
        return results

    assert asyncio.run(scenario()) == [True, False, True, False, True, True]


def test_threadpool_bulkhead_bounds_its_queue(res: ModuleType) -> None:
    async def scenario() -> list[bool]:
        pool = res.Bulkhead(1, max_wait=None, max_queue=1)
        assert await pool.acquire()
        queued = asyncio.create_task(pool.acquire())
        await asyncio.sleep(0)
        refused = await pool.acquire()  # the one queue place is taken
        pool.release()
        return [await queued, refused]

    assert asyncio.run(scenario()) == [True, False]


async def _wait_for_since_312(future: Awaitable[Any], timeout: float | None) -> Any:
    """asyncio.wait_for as Python 3.12 and later define it: a timeout context around the
    await, so a result that arrives in the same loop turn as the timeout is lost."""
    async with asyncio.timeout(timeout):
        return await future


def test_a_permit_handed_over_as_the_wait_runs_out_is_kept(
        res: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    # The holder releases in the very callback that ends the waiter's max_wait: the permit
    # is the waiter's (release gave it away), so acquire must say True, and once the waiter
    # releases too the bulkhead is empty again. Python 3.11's own wait_for hides the race.
    monkeypatch.setattr(asyncio, "wait_for", _wait_for_since_312)

    async def scenario() -> tuple[bool, int, bool]:
        loop = asyncio.get_running_loop()
        bulkhead = res.Bulkhead(1, max_wait=0.05)
        assert await bulkhead.acquire()
        waiter = asyncio.create_task(bulkhead.acquire())
        await asyncio.sleep(0)  # the waiter is queued, its timer set
        (timer,) = [h for h in loop._scheduled if not h.cancelled()]  # type: ignore[attr-defined]
        expire = timer._callback

        def release_then_expire(*args: object) -> None:
            bulkhead.release()
            expire(*args)

        timer._callback = release_then_expire
        granted = await waiter
        if granted:
            bulkhead.release()
        return granted, bulkhead.active, await bulkhead.acquire()

    assert asyncio.run(scenario()) == (True, 0, True)


def test_generated_copies_are_identical(tmp_path: Path) -> None:
    code = generate(PAIR_SPEC, tmp_path)
    assert (code / "front" / "resilience.py").read_text() == \
        (code / "back" / "resilience.py").read_text()


def test_the_module_docstring_names_every_backoff_and_no_grpc_budget(res: ModuleType) -> None:
    """Every `retry.backoff` the spec takes is described, and the budget's `min_per_s` is
    credited to Linkerd (gRPC's retry throttling has no per-second minimum)."""
    from typing import get_args

    from scalesim.spec.resilience import Retry

    doc = res.__doc__ or ""
    for kind in get_args(Retry.model_fields["backoff"].annotation):
        assert f"`{kind}`" in doc or f" {kind} " in doc, kind
    assert "gRPC" not in doc and "minRetriesPerSecond" in doc
