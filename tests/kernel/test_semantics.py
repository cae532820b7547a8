"""Semantics of the kernel with known answers: deterministic cases exactly, random ones
within binomial or Little's-law bounds."""

from __future__ import annotations

import pytest
import yaml
from tests.kernel.helpers import binomial_bound, call, run

from scalesim.sim import simulate
from scalesim.spec import load_spec_text

SVC = {"workers": "unlimited", "operations": {"op": {"work": "1ms"}}}


def test_a_full_queue_rejects_exactly_the_requests_that_find_no_room() -> None:
    # Constant arrivals every 1 ms, constant 1.5 ms work, one worker and no waiting room:
    # each accepted request keeps the worker busy over the next arrival, which is rejected.
    r = run({"s": {"workers": 1, "queue": 0, "operations": {"op": {"work": "1.5ms"}}}},
            [{"name": "w", "to": "s", "rate": "1k/s", "arrivals": "constant"}],
            duration="10s")
    total = r["requests"]["total"]
    assert r["requests"]["failed_by_cause"]["rejected"] == pytest.approx(total / 2, abs=1)


def test_closed_loop_throughput_is_users_over_cycle_time() -> None:
    # N users, constant think Z and constant service S with no queueing: X = N / (Z + S).
    r = run({"s": {"workers": "unlimited", "operations": {"op": {"work": "20ms"}}}},
            [{"name": "w", "to": "s", "users": 10, "think": "80ms"}], duration="100s")
    assert r["throughput_rps"] == pytest.approx(10 / 0.1, rel=0.001)
    assert r["latency_ms"]["mean"] == pytest.approx(20.0, abs=1e-6)


def test_unlimited_workers_never_queue_and_obey_littles_law() -> None:
    rate, mean_s = 400.0, 0.02
    r = run({"api": {"kind": "external", "operations": {"op": {
        "work": {"dist": "exponential", "mean": "20ms"}}}}},
        [{"name": "w", "to": "api", "rate": "400/s"}], duration="200s")
    comp = r["components"]["api"]
    assert comp["queue_max"] == 0 and comp["utilization"] is None
    n = r["requests"]["total"]
    # The mean of n exponentials has a relative standard error 1/sqrt(n); 4 of them.
    assert r["latency_ms"]["mean"] == pytest.approx(mean_s * 1e3, rel=4 / n**0.5)
    assert comp["concurrency_mean"] == pytest.approx(rate * mean_s, rel=4 / n**0.5 + 0.01)


def test_cache_misses_call_the_backend_with_the_miss_ratio() -> None:
    r = run({"cache": {"kind": "cache", "workers": "unlimited", "hit_ratio": "80%",
                       "backend": "db.read", "operations": {"get": {"work": "0.2ms"}}},
             "db": {"workers": "unlimited", "operations": {"read": {"work": "5ms"}}}},
            [{"name": "w", "to": "cache.get", "rate": "500/s"}])
    misses = call(r, "cache.get", "db.read")["attempts"]
    visits = r["components"]["cache"]["operations"]["get"]["requests"]["total"]
    assert misses / visits == pytest.approx(0.2, abs=binomial_bound(visits, 0.2))
    # A hit takes 0.2 ms, a miss 5.2 ms: the mean is their mixture.
    assert r["latency_ms"]["mean"] == pytest.approx(0.2 + 0.2 * 5.0, rel=0.03)


def test_call_probability_is_the_share_of_calls_made() -> None:
    r = run({"a": {"workers": "unlimited", "operations": {"op": {
        "calls": [{"to": "b", "probability": 0.3}]}}}, "b": SVC},
        [{"name": "w", "to": "a", "rate": "1k/s"}], duration="20s")
    made = call(r, "a.op", "b.op")["attempts"]
    total = r["requests"]["total"]
    assert made / total == pytest.approx(0.3, abs=binomial_bound(total, 0.3))


def test_timeouts_and_retries_multiply_attempts_exactly() -> None:
    # Every attempt takes 100 ms but the caller waits 50 ms: each call makes all 3 attempts.
    r = run({"a": {"workers": "unlimited", "operations": {"op": {"calls": [
        {"to": "b", "timeout": "50ms", "retry": {"attempts": 3, "backoff": "none"}}]}}},
        "b": {"workers": "unlimited", "operations": {"op": {"work": "100ms"}}}},
        [{"name": "w", "to": "a", "rate": "100/s", "arrivals": "constant"}], duration="10s")
    edge = call(r, "a.op", "b.op")
    total = r["requests"]["total"]
    assert edge["attempts"] == 3 * total and edge["retries"] == 2 * total
    assert edge["amplification"] == 3.0 and edge["timeouts"] == 3 * total
    assert r["requests"]["failed_by_cause"]["timeout"] == total
    # The callee keeps working on timed-out attempts: three 100 ms visits per request, less
    # the ramp-up of the first 200 ms (Little's law, L = λW, over the window).
    assert r["components"]["b"]["concurrency_mean"] == pytest.approx(100 * 3 * 0.1, rel=0.02)


def test_on_failure_continue_and_fallback_turn_failures_into_successes() -> None:
    failing = {"workers": "unlimited", "operations": {"op": {"error_rate": 1.0}}}
    cont = run({"a": {"workers": "unlimited", "operations": {"op": {"calls": [
        {"to": "b", "on_failure": "continue"}]}}}, "b": failing},
        [{"name": "w", "to": "a", "rate": "100/s"}], duration="5s")
    assert cont["requests"]["failed"] == 0 and call(cont, "a.op", "b.op")["failed"] > 0
    fallback = run({"a": {"workers": "unlimited", "operations": {"op": {"calls": [
        {"to": "b", "on_failure": {"fallback": "7ms"}}]}}}, "b": failing},
        [{"name": "w", "to": "a", "rate": "100/s"}], duration="5s")
    assert fallback["requests"]["failed"] == 0
    assert fallback["latency_ms"]["max"] == pytest.approx(7.0, rel=0.006)  # histogram accuracy


@pytest.mark.parametrize(("wait_for", "expected_ms"), [("any", 1.0), (2, 4.0), ("all", 10.0)])
def test_parallel_waits_for_the_kth_fastest_branch(wait_for, expected_ms) -> None:
    branches = [{"to": f"b{i}"} for i in range(3)]
    comps = {f"b{i}": {"workers": "unlimited", "operations": {"op": {"work": w}}}
             for i, w in enumerate(("1ms", "4ms", "10ms"))}
    r = run({"a": {"workers": "unlimited", "operations": {"op": {"calls": [
        {"parallel": {"wait_for": wait_for, "calls": branches}}]}}}, **comps},
        [{"name": "w", "to": "a", "rate": "50/s"}], duration="5s")
    assert r["latency_ms"]["p50"] == pytest.approx(expected_ms, rel=0.006)


def test_nonblocking_io_frees_the_worker_while_waiting() -> None:
    comps = {"a": {"workers": 1, "operations": {"op": {"work": "1ms", "calls": [{"to": "x"}]}}},
             "x": {"kind": "external", "operations": {"op": {"work": "10ms"}}}}
    wl = [{"name": "w", "to": "a", "rate": "50/s", "arrivals": "constant"}]
    blocking = run(comps, wl, duration="20s")
    assert blocking["components"]["a"]["utilization"] == pytest.approx(50 * 0.011, rel=0.01)
    comps["a"]["io"] = "nonblocking"
    freed = run(comps, wl, duration="20s")
    assert freed["components"]["a"]["utilization"] == pytest.approx(50 * 0.001, rel=0.01)
    assert freed["latency_ms"]["mean"] == pytest.approx(11.0, rel=1e-6)


def test_one_hot_key_sends_all_traffic_to_one_replica() -> None:
    # Hash balancing on a single key: four replicas behave as one M/M/1 (rho = 0.5), so the
    # mean sojourn is 1/(mu - lambda) = 2 ms and the component is 1/8 utilized.
    r = run({"s": {"replicas": 4, "balancer": "hash", "operations": {"op": {
        "work": {"dist": "exponential", "mean": "1ms"}}}}},
        [{"name": "w", "to": "s", "rate": "500/s", "keys": 1}], duration="400s",
        replications=4)
    low, high = r["ci95"]["latency_ms"]["mean"]
    assert low < 2.0 < high
    assert r["components"]["s"]["utilization"] == pytest.approx(0.125, rel=0.02)


def test_warmup_is_not_counted() -> None:
    r = run({"s": SVC}, [{"name": "w", "to": "s", "rate": "100/s", "arrivals": "constant"}],
            duration="10s", warmup="5s")
    assert r["requests"]["total"] == pytest.approx(1000, abs=1)


def test_an_overload_shows_as_offered_above_throughput_and_a_drained_backlog() -> None:
    # 225 requests/s, evenly spaced, to one worker that serves one every 1/173 s: the worker
    # answers 173/s in the window and the queue grows by 52/s. Those 52 × 60 s = 3,120
    # requests are answered after the window (drained), not counted as window throughput.
    r = run({"s": {"workers": 1, "operations": {"op": {"work": f"{1000 / 173:.6f}ms"}}}},
            [{"name": "w", "to": "s", "rate": "225/s", "arrivals": "constant"}],
            duration="60s")
    assert r["offered_rps"] == pytest.approx(225, abs=0.02)
    assert r["throughput_rps"] == pytest.approx(173, abs=0.02)
    assert r["goodput_rps"] == r["throughput_rps"]
    assert r["requests"]["drained"] == pytest.approx(52 * 60, abs=2)
    assert r["workloads"]["w"]["throughput_rps"] == r["throughput_rps"]
    assert r["components"]["s"]["queue_end"] == pytest.approx(52 * 60, abs=2)


def test_a_calls_counts_are_those_of_the_windows_requests_wherever_they_happen() -> None:
    # Every call makes its 3 attempts (10 ms timeouts on 100 ms of work, no back-off), so one
    # worker holds each request 30 ms and serves 33.3/s of the 50/s sent. The warm-up leaves
    # 167 requests waiting, answered first in the window; most of the window's 500 make
    # their calls in the drain. Counted as they happen, the calls would be the backlog's
    # 167 × 3 attempts more than the window's, 4 a call on average near the start.
    spec = {"scalesim": 1, "name": "t",
            "components": {"f": {"workers": 1, "operations": {"op": {"calls": [
                {"to": "b", "timeout": "10ms", "retry": {"attempts": 3, "backoff": "none"}}]}}},
                "b": {"workers": "unlimited", "operations": {"op": {"work": "100ms"}}}},
            "workloads": [{"name": "w", "to": "f", "rate": "50/s", "arrivals": "constant"}],
            "simulation": {"duration": "10s", "warmup": "10s"}}
    r = simulate(load_spec_text(yaml.safe_dump(spec)))
    requests = r["requests"]
    assert requests["total"] == 500 and requests["failed_by_cause"]["timeout"] == 500
    assert requests["drained"] == pytest.approx(500 - (333 - 167), abs=2)
    (entry,) = r["calls"]
    assert entry["attempts"] == 1500 and entry["retries"] == 1000
    assert entry["amplification"] == 3.0 and entry["timeouts"] == 1500
    assert entry["failed"] == 500


def test_a_backlog_from_the_warm_up_counts_as_answers_not_as_window_requests() -> None:
    # 200 requests/s, evenly spaced, to one worker serving one every 10 ms: after 100 s of
    # warm-up 10,000 requests wait. The window's 2,000 requests (10 s × 200/s) stay behind
    # them: none is answered, all are unfinished after a 1 s drain. The worker answers
    # 100/s of warm-up requests in the window: window throughput, and each interval's.
    spec = {"scalesim": 1, "name": "t",
            "components": {"s": {"workers": 1, "operations": {"op": {"work": "10ms"}}}},
            "workloads": [{"name": "w", "to": "s", "rate": "200/s", "arrivals": "constant"}],
            "simulation": {"duration": "10s", "warmup": "100s", "interval": "1s",
                           "limits": {"drain": "1s"}}}
    r = simulate(load_spec_text(yaml.safe_dump(spec)), with_series=True)
    requests = r["requests"]
    assert requests["total"] == pytest.approx(2000, abs=1)
    assert requests["failed_by_cause"]["unfinished"] == requests["total"]
    assert r["offered_rps"] == pytest.approx(200, abs=0.1)
    assert r["throughput_rps"] == pytest.approx(100, abs=0.1)
    table = r["timeseries"]["workloads"]
    column = table["columns"].index("throughput_rps")
    assert [row[column] for row in table["rows"]] == pytest.approx([100.0] * 10, abs=1)


def test_a_components_refusals_by_cause_are_its_windows_as_its_rejected_count_is() -> None:
    # Twice the capacity of a bounded queue, with retries on `rejected` that go on in the
    # drain after the window: refusals in the drain are not the window's, in `rejected` or
    # in `refused_by_cause` (they were counted in the latter only, 12,674 against 12,699).
    r = run({"c": {"workers": "unlimited", "operations": {"op": {"calls": [
        {"to": "s", "retry": {"attempts": 3, "on": ["rejected"]}}]}}},
        "s": {"workers": 1, "queue": 2, "operations": {"op": {"work": "10ms"}}}},
        [{"name": "w", "to": "c", "rate": "200/s"}], duration="10s")
    s = r["components"]["s"]
    assert s["rejected"] > 0
    assert s["rejected"] == sum(n for cause, n in s["refused_by_cause"].items()
                                if cause != "crashed")


def test_a_breaker_on_a_dead_dependency_cycles_open_half_open_open() -> None:
    # Every call fails. After 10 recorded failures the breaker opens; each second it lets 2
    # probes through (half-open), both fail, and it opens again. Calls arrive every 10 ms.
    r = run({"a": {"workers": "unlimited", "operations": {"op": {"calls": [
        {"to": "b", "circuit_breaker": {"window": 10, "min_calls": 10, "open_for": "1s",
                                        "half_open_calls": 2},
         "on_failure": "continue"}]}}},
        "b": {"workers": "unlimited", "operations": {"op": {"work": "1ms", "error_rate": 1}}}},
        [{"name": "w", "to": "a", "rate": "100/s", "arrivals": "constant"}], duration="5s")
    breaker = call(r, "a.op", "b.op")["circuit_breaker"]
    states = [(t["from"], t["to"]) for t in breaker["transitions"]]
    assert states[0] == ("closed", "open")
    assert states[1:] == [("open", "half_open"), ("half_open", "open")] * 4
    assert breaker["transitions"][0]["t_s"] == pytest.approx(0.101, abs=1e-6)  # 10th answer
    permitted = call(r, "a.op", "b.op")["attempts"] - breaker["not_permitted"]
    assert permitted == 10 + 4 * 2  # the window, then two probes per half-open
