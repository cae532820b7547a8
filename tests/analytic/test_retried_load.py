"""The load retried and hedged calls, and deliveries that outlive their visibility timeout,
add in the estimate, against closed forms: 1 + r + … + r^(n−1) attempts for a retry of n
tries whose attempts fail retryably with r, P(an exponential response is slower than the
delay) hedges, a budget's cap, and the fixed point of an M/M/1 callee whose late attempts
(or deliveries) come again; and the second steady state (a storm) where retries keep their
target overloaded, which the kernel falls into after a burst."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scalesim.analytic.attempts import HealthyEstimates
from scalesim.analytic.capacity import overloaded, saturation
from scalesim.analytic.caveats import caveats
from scalesim.analytic.estimate import Model, estimate
from scalesim.sim import simulate
from scalesim.spec import load_spec_text

RATE = 100.0


def _system(call: str, callee: str = "{workers: unlimited, operations: {y: {work: 10ms}}}",
            caller: str = "{workers: unlimited, operations: {x: {calls: [CALL]}}}",
            rate: float = RATE, extra: str = "") -> str:
    return f"""
scalesim: 1
name: retried-load
defaults: {{network: 0ms}}
components:
  a: {caller.replace("CALL", call)}
  b: {callee}
{extra}
workloads:
  - {{name: w, to: a.x, rate: {rate}/s}}
"""


def _arrivals(spec: str, component: str = "b") -> float:
    return estimate(load_spec_text(spec)).components[component].arrival_rate_rps


def test_a_call_retried_on_errors_visits_its_callee_once_per_attempt() -> None:
    """3 tries on a 10 % error: 1 + 0.1 + 0.01 = 1.11 attempts a call."""
    spec = _system("{to: b.y, retry: {attempts: 3, on: [error]}}",
                   "{workers: unlimited, operations: {y: {work: 10ms, error_rate: 10%}}}")
    assert _arrivals(spec) == pytest.approx(RATE * 1.11, rel=1e-12)


def test_failures_the_callee_passes_up_are_retried_too() -> None:
    """b fails on its own 10 % and passes up c's 20 %: r = 1 − 0.9 × 0.8 = 0.28 per attempt,
    1 + 0.28 + 0.28² attempts at b, and c gets one visit per visit of b."""
    spec = _system("{to: b.y, retry: {attempts: 3, on: [error]}}",
                   "{workers: unlimited, operations: {y: {work: 1ms, error_rate: 10%, "
                   "calls: [{to: c.z}]}}}",
                   extra="  c: {workers: unlimited, operations: {z: {work: 1ms, "
                         "error_rate: 20%}}}")
    tries = 1.0 + 0.28 + 0.28**2
    assert _arrivals(spec) == pytest.approx(RATE * tries, rel=1e-9)
    assert _arrivals(spec, "c") == pytest.approx(RATE * tries, rel=1e-9)


def test_a_cause_the_retry_is_not_on_is_not_tried_again() -> None:
    spec = _system("{to: b.y, retry: {attempts: 3, on: [timeout]}}",
                   "{workers: unlimited, operations: {y: {work: 10ms, error_rate: 10%}}}")
    assert _arrivals(spec) == pytest.approx(RATE)


@pytest.mark.parametrize(("budget", "replicas", "tries"), [
    ("{ratio: 10%, min_per_s: 0}", 1, 1.1),
    # each of the caller's 2 replicas may retry 5/s of its own: 1 + 0.1 + 2 × 5 / 100
    ("{ratio: 10%, min_per_s: 5}", 2, 1.2),
    # a budget above what the retries need takes nothing away: 1 + 0.5 + 0.25
    ("{ratio: 100%, min_per_s: 0}", 1, 1.75),
])
def test_a_retry_budget_caps_the_attempts(budget: str, replicas: int, tries: float) -> None:
    spec = _system(f"{{to: b.y, retry: {{attempts: 3, on: [error], budget: {budget}}}}}",
                   "{workers: unlimited, operations: {y: {work: 10ms, error_rate: 50%}}}",
                   caller=f"{{replicas: {replicas}, workers: unlimited, "
                          "operations: {x: {calls: [CALL]}}}")
    assert _arrivals(spec) == pytest.approx(RATE * tries, rel=1e-12)


@pytest.mark.parametrize(("budget", "says"), [
    (", budget: {ratio: 10%, min_per_s: 0}", "its retry budget bounds the storm to 1.1 attempts"),
    # 1 + 1 + 1,000/s over 750/s: more than the tries
    (", budget: {ratio: 100%, min_per_s: 1000}", "its retry budget allows all 3 at this load"),
    ("", "a retry budget would bound the storm"),
])
def test_the_retries_caveat_says_what_the_budget_bounds_them_to(budget: str, says: str
                                                                ) -> None:
    """3 tries at a callee 75 % busy: the caveat quoted "up to 3 attempts" and "a retry
    budget bounds the storm" whatever the budget."""
    system = load_spec_text(_system(BISTABLE.replace("BUDGET", budget), POOL, rate=750.0))
    notes = [c for c in caveats(system, estimate(system)) if c.code == "retries-under-load"]
    assert len(notes) == 1 and says in notes[0].message


@pytest.mark.parametrize(("hedge", "extra"), [
    ("{after: 20ms, max: 1}", math.exp(-2.0)),  # P(Exp(10 ms) > 20 ms)
    ("{after: 20ms, max: 2}", math.exp(-2.0) + math.exp(-4.0)),  # and > 40 ms
    ("{after: 20ms, max: 2, budget: 10%}", 0.1),
    ("{after: p90, max: 1}", 0.1),
])
def test_hedges_load_the_callee(hedge: str, extra: float) -> None:
    """An unlimited callee of exponential work (mean 10 ms) answers slower than t with
    e^(−t/10 ms); the k-th hedge goes out after k delays with no answer."""
    spec = _system(f"{{to: b.y, hedge: {hedge}}}",
                   "{workers: unlimited, operations: {y: {work: {dist: exponential, "
                   "mean: 10ms}}}}")
    assert _arrivals(spec) == pytest.approx(RATE * (1.0 + extra), rel=2e-3)


def _mm1_fixed_point(rate: float, mu: float, timeout: float, tries: int) -> float | None:
    """The least λ_b = rate·(1 + p + … + p^(n−1)) with p = e^(−(μ − λ_b)·timeout), the
    M/M/1 sojourn's tail: iterated from λ_b = rate; None when it passes μ (no steady state)."""
    arrivals = rate
    for _ in range(10_000):
        if arrivals >= mu:
            return None
        late = math.exp(-(mu - arrivals) * timeout)
        updated = rate * sum(late**k for k in range(tries))
        if abs(updated - arrivals) < 1e-12 * arrivals:
            return updated
        arrivals = updated
    raise AssertionError("no convergence")


M_M_1 = "{workers: 1, operations: {y: {work: {dist: exponential, mean: 10ms}}}}"
TIMED = "{to: b.y, timeout: 60ms, retry: {attempts: 3, backoff: none, on: [timeout]}}"


def test_late_attempts_retried_settle_where_the_load_they_add_and_their_lateness_agree() -> None:
    """An M/M/1 callee (μ = 100/s) at 50/s, attempts late past 60 ms retried: the sojourn is
    exponential with rate μ − λ_b, so the attempts settle at the least fixed point of
    λ_b = 50·(1 + p + p²), p = e^(−(μ − λ_b)·60 ms): 53.20/s, not the 50/s of one attempt a
    call nor the 52.6/s that one round of attempts at 50/s would give."""
    expected = _mm1_fixed_point(50.0, 100.0, 0.060, 3)
    assert expected is not None and expected > 52.9
    found = estimate(load_spec_text(_system(TIMED, M_M_1, rate=50.0)))
    assert found.converged
    assert found.components["b"].arrival_rate_rps == pytest.approx(expected, rel=2e-3)
    late = math.exp(-(100.0 - expected) * 0.060)
    assert found.timeouts["a.x->b.y"] == pytest.approx(late, rel=1e-2)


def test_retried_timeouts_storm_where_one_attempt_a_call_would_not() -> None:
    """At 50/s with a 30 ms timeout there is no fixed point below μ: each round of attempts
    makes more late, until all three tries of every call are sent (150/s) and the callee
    is overloaded, though 50/s alone keeps it half busy. Its saturation is where the least
    fixed point stops existing (a fold), well below μ."""
    system = load_spec_text(_system(TIMED.replace("60ms", "30ms"), M_M_1, rate=50.0))
    assert _mm1_fixed_point(50.0, 100.0, 0.030, 3) is None
    model = Model(system)
    found = model.evaluate()
    assert found.components["b"].arrival_rate_rps == pytest.approx(150.0)
    assert overloaded(found) == [("b", pytest.approx(1.5))]
    # the largest rate at which λ_b = rate·g(λ_b) still has a root below μ, by bisection
    grid = np.linspace(0.0, 100.0, 1_000_001)[:-1]
    late = np.exp(-(100.0 - grid) * 0.030)
    needed = grid / (1.0 + late + late**2)  # the rate at which λ_b = grid is a fixed point
    low = float(needed.max())  # past it, no λ_b below μ is one
    limit = saturation(model, "w")
    assert limit.rate_rps == pytest.approx(low, rel=1e-2)
    assert limit.bottleneck == "b"
    codes = {c.code for c in caveats(system, found)}
    assert {"retries-under-load", "timeouts-fire", "overloaded"} <= codes


def test_without_retries_or_hedges_each_call_counts_once() -> None:
    """A timeout alone gives up on attempts without sending more."""
    spec = _system("{to: b.y, timeout: 30ms}", M_M_1, rate=50.0)
    assert _arrivals(spec) == pytest.approx(50.0)


def test_the_run_estimate_reads_an_estimate_of_one_attempt_a_call() -> None:
    """`run_cost` counts the attempts itself (its own rounds add the retries' load), so the
    estimate it reads P(late) from counts every call once."""
    system = load_spec_text(_system(TIMED, M_M_1, rate=50.0))
    _, plain = HealthyEstimates(system).plain
    assert plain.components["b"].arrival_rate_rps == pytest.approx(50.0)
    assert estimate(system).components["b"].arrival_rate_rps > 52.9


# 10 workers of 10 ms (1,000/s) at 400/s: calls are never late while it is calm, but 3 tries
# of every call (1,200/s) overload it, so once attempts are late they stay late.
POOL = "{workers: 10, operations: {y: {work: 10ms}}}"
BISTABLE = "{to: b.y, timeout: 30ms, retry: {attempts: 3, backoff: none, on: [timeout]BUDGET}}"
RUN = "simulation: {duration: 60s, interval: 10s, seed: 1}\n"
BURST = "faults:\n  - {target: b, at: 20s, for: 1s, latency: +50ms}\n"


def _bistable(budget: str = "", extra: str = "") -> str:
    return _system(BISTABLE.replace("BUDGET", budget), POOL, rate=400.0, extra=extra) + RUN


def test_retries_that_keep_their_callee_overloaded_are_a_second_steady_state() -> None:
    system = load_spec_text(_bistable())
    found = Model(system).evaluate(storm=True)
    assert found.components["b"].arrival_rate_rps == pytest.approx(400.0)
    assert found.timeouts["a.x->b.y"] < 1e-6
    assert found.storm is not None
    assert found.storm.components["b"].arrival_rate_rps == pytest.approx(1200.0)
    assert found.storm.components["b"].state.offered == pytest.approx(1.2)
    assert found.storm.error_rate == pytest.approx(1.0)
    notes = [c for c in caveats(system, found) if c.code == "metastable"]
    assert [c.where for c in notes] == ["b"]
    assert "1,200.0/s (1.20× its capacity)" in notes[0].message
    # without storm=True (the capacity searches), the calm state alone
    assert Model(system).evaluate().storm is None


@pytest.mark.parametrize("spec", [
    _bistable(budget=", budget: {ratio: 10%, min_per_s: 0}"),  # at most 440/s: no storm
    _system("{to: b.y, retry: {attempts: 3, on: [error]}}",
            "{workers: 1, operations: {y: {work: 5ms, error_rate: 10%}}}"),
])
def test_one_steady_state_has_no_storm(spec: str) -> None:
    assert Model(load_spec_text(spec)).evaluate(storm=True).storm is None


def _goodput(spec: str) -> list[float]:
    result = simulate(load_spec_text(spec), with_series=True)
    table = result["timeseries"]["workloads"]
    column = table["columns"].index("goodput_rps")
    return [row[column] for row in table["rows"]]


def test_the_kernel_stays_in_the_storm_the_estimate_finds_and_a_budget_ends_it() -> None:
    """Calm for a minute; a 1 s slow spell at 20 s and the retries hold it overloaded to the
    end; with a retry budget it recovers once the spell is over."""
    assert min(_goodput(_bistable())) > 0.95 * 400.0
    stormy = _goodput(_bistable(extra=BURST))
    assert min(stormy[:2]) > 0.95 * 400.0 and max(stormy[3:]) == 0.0
    bounded = _goodput(_bistable(budget=", budget: {ratio: 10%, min_per_s: 0}", extra=BURST))
    assert min(bounded[3:]) > 0.95 * 400.0


def _queued(visibility: str, work: str, rate: float, workers: int = 10,
            guarantee: str = "at_least_once") -> str:
    return f"""
scalesim: 1
name: late-deliveries
components:
  a: {{workers: unlimited, operations: {{x: {{calls: [{{to: q, async: true}}]}}}}}}
  q:
    kind: queue
    capacity: 1000
    delivery: {{guarantee: {guarantee}, visibility_timeout: {visibility}, max_deliveries: 5}}
    consumers: [{{to: d.y, concurrency: 1000, idempotent: true}}]
  d: {{workers: {workers}, operations: {{y: {{work: {work}}}}}}}
workloads:
  - {{name: w, to: a.x, rate: {rate}/s}}
"""


def test_deliveries_that_outlive_their_visibility_timeout_come_again() -> None:
    """Exponential work of 200 ms, unlimited in effect (10 workers at 10/s barely queue),
    against a 300 ms visibility timeout: each delivery outlives it with about e^(−1.5), and
    up to 5 deliveries make 1 + p + … + p⁴ a message (the kernel: 1.2812 on 20,000
    messages, tests/lint)."""
    late = math.exp(-1.5)
    found = estimate(load_spec_text(_queued("300ms", "{dist: exponential, mean: 200ms}", 10.0,
                                            workers=1000)))
    expected = 10.0 * sum(late**k for k in range(5))
    assert found.components["d"].arrival_rate_rps == pytest.approx(expected, rel=1e-3)
    assert found.subscriptions["q->d.y"].rate_rps == pytest.approx(expected, rel=1e-3)


def test_effectively_once_skips_the_copies_of_a_message_already_processed() -> None:
    """The same consumer effectively once: a late delivery's copy goes out only while no
    delivery has succeeded, so delivery k + 1 goes when each of the first k is still running
    k·V after the first started: Π e^(−1.5·m) over m ≤ k (the kernel: 1.2322 a message on
    19,860 messages; at least once it would be 1.2865)."""
    found = estimate(load_spec_text(_queued("300ms", "{dist: exponential, mean: 200ms}", 10.0,
                                            workers=1000, guarantee="effectively_once")))
    expected = 10.0 * sum(math.exp(-0.75 * k * (k + 1)) for k in range(5))
    assert found.subscriptions["q->d.y"].rate_rps == pytest.approx(expected, rel=1e-3)


def test_a_copy_sent_while_the_first_delivery_runs_is_processed_once_more() -> None:
    """1.5 s of work against a 1 s visibility timeout: the copy that comes back at 1 s finds
    the message not yet processed and runs in full; the one at 2 s is skipped on receipt
    (the first delivery succeeded at 1.5 s), a delivery that does no work. Two deliveries a
    message that work, as the kernel runs them (three in all), so 20/s keep 60 % of 100
    deliveries in flight busy; at least once, every copy runs and the message never settles
    (the rest of the run's deliveries)."""
    spec = _queued("1s", "1500ms", 20.0, workers=1000, guarantee="effectively_once"
                   ).replace("max_deliveries: 5", "max_deliveries: 50")
    spec = spec.replace("concurrency: 1000", "concurrency: 100")
    found = estimate(load_spec_text(spec)).subscriptions["q->d.y"]
    assert found.rate_rps == pytest.approx(40.0)
    assert found.state.utilization == pytest.approx(0.6)
    run = simulate(load_spec_text(spec + "simulation: {duration: 20s, seed: 1}\n"))
    assert run["queues"]["q->d.y"]["deliveries_per_message"] == 3.0


def test_late_deliveries_settle_with_the_load_they_add() -> None:
    """One worker of exponential 10 ms (M/M/1, μ = 100/s) at 50/s with a 60 ms visibility
    timeout: the sojourn is Exp(μ − λ_d), so λ_d = 50·(1 + p + … + p⁴) with
    p = e^(−(μ − λ_d)·60 ms), as the retried timeouts' fixed point with 5 tries."""
    expected = _mm1_fixed_point(50.0, 100.0, 0.060, 5)
    assert expected is not None and expected > 53.0
    found = estimate(load_spec_text(_queued("60ms", "{dist: exponential, mean: 10ms}", 50.0,
                                            workers=1)))
    assert found.converged
    assert found.components["d"].arrival_rate_rps == pytest.approx(expected, rel=2e-3)


def test_a_consumer_that_cannot_keep_up_keeps_the_deliveries_it_had() -> None:
    """Past its capacity its subscription falls behind rather than sending it more (it takes
    `concurrency` at once): the offered load stays that of the messages, each delivered
    once (no response to be late against)."""
    found = estimate(load_spec_text(_queued("60ms", "{dist: exponential, mean: 10ms}", 120.0,
                                            workers=1)))
    assert found.components["d"].arrival_rate_rps == pytest.approx(120.0)
    assert found.components["d"].state.offered == pytest.approx(1.2)


def test_redeliveries_that_keep_their_consumer_overloaded_are_a_storm() -> None:
    """The M/M/1 consumer above, 50/s calm: with every delivery late, 5 of each message
    (250/s) overload it. Only where its deliveries can queue there: a subscription taking
    one at a time never queues at its one worker, whatever the flow of visits says."""
    system = load_spec_text(_queued("60ms", "{dist: exponential, mean: 10ms}", 50.0,
                                    workers=1))
    found = Model(system).evaluate(storm=True)
    assert found.storm is not None
    assert found.storm.components["d"].arrival_rate_rps == pytest.approx(250.0)
    assert [c.where for c in caveats(system, found) if c.code == "metastable"] == ["d"]
    one_at_a_time = load_spec_text(_queued("60ms", "{dist: exponential, mean: 10ms}", 50.0,
                                           workers=1).replace("concurrency: 1000",
                                                              "concurrency: 1"))
    assert Model(one_at_a_time).evaluate(storm=True).storm is None
