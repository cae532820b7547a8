"""Each resilience mechanism end to end, on setups whose answer is known exactly or within a
derived bound."""

from __future__ import annotations

import itertools
import math

import pytest
from tests.kernel.helpers import binomial_bound, call, run

from scalesim.sim.mechanisms.circuit_breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker

FAST = {"workers": "unlimited", "operations": {"op": {"work": "1ms"}}}


def every(rate: str, name: str = "w", to: str = "gw") -> dict:
    return {"name": name, "to": to, "rate": rate, "arrivals": "constant"}


@pytest.mark.parametrize("algorithm", ["token_bucket", "sliding_window"])
def test_a_rate_limit_refuses_what_is_over_the_rate(algorithm: str) -> None:
    # 200 requests/s evenly spaced against a limit of 100/s: every other one is refused (a
    # token bucket of 1 token; a sliding window has no burst, docs/resilience.md).
    burst = {"burst": 1} if algorithm == "token_bucket" else {}
    gw = {**FAST, "rate_limit": {"algorithm": algorithm, "rate": "100/s", **burst}}
    r = run({"gw": gw}, [every("200/s")], duration="10s")
    refused = r["requests"]["failed_by_cause"]["rate_limited"]
    assert refused == pytest.approx(1000, abs=2)
    assert r["components"]["gw"]["refused_by_cause"]["rate_limited"] == refused


def test_a_per_workload_limit_gives_each_client_its_own_bucket() -> None:
    gw = {**FAST, "rate_limit": {"rate": "100/s", "burst": 1}}
    load = [every("100/s", "a"), every("100/s", "b")]
    shared = run({"gw": gw}, load, duration="10s")
    assert shared["requests"]["failed_by_cause"]["rate_limited"] == pytest.approx(1000, abs=2)
    gw["rate_limit"]["per_workload"] = True
    separate = run({"gw": gw}, load, duration="10s")
    assert separate["requests"]["failed_by_cause"]["rate_limited"] == 0


def _limited_pair(policy: dict, where: str) -> dict:
    # Calls every 20 ms to a 90 ms operation: a slot frees 10 ms before every fifth call, so
    # 2 calls in 5 get in.
    caller = {"workers": "unlimited", "operations": {"go": {"calls": [
        {"to": "slow", **(policy if where == "call" else {})}]}}}
    slow = {"workers": "unlimited", "operations": {"op": {"work": "90ms"}},
            **(policy if where == "component" else {})}
    return run({"gw": caller, "slow": slow}, [every("50/s")], duration="20s")


def test_a_semaphore_bulkhead_admits_its_limit_and_refuses_the_rest() -> None:
    r = _limited_pair({"bulkhead": {"max_concurrent": 2}}, "call")
    edge = call(r, "gw.go", "slow.op")
    assert edge["bulkhead"]["max_active"] == 2
    share = r["requests"]["failed_by_cause"]["bulkhead_full"] / r["requests"]["total"]
    assert share == pytest.approx(3 / 5, abs=0.01)


def test_a_thread_pool_bulkhead_queues_up_to_its_queue() -> None:
    r = _limited_pair({"bulkhead": {"type": "threadpool", "size": 2, "queue": 1000}}, "call")
    assert r["requests"]["failed"] == 0  # all wait their turn...
    assert r["latency_ms"]["max"] > 1000  # ...and the wait grows without bound


def test_an_envoy_connection_pool_overflows_beyond_pending() -> None:
    r = _limited_pair({"connection_pool": {"max_connections": 2, "max_pending_requests": 0}},
                      "component")
    share = r["requests"]["failed_by_cause"]["overflow"] / r["requests"]["total"]
    assert share == pytest.approx(3 / 5, abs=0.01)
    assert r["components"]["slow"]["connection_pool"]["max_active"] == 2


def test_a_call_deadline_bounds_all_attempts() -> None:
    # 100 ms per attempt, 250 ms for the whole call: tries at 0, 100 and 200 ms, the last
    # cut to 50 ms.
    caller = {"workers": "unlimited", "operations": {"go": {"calls": [
        {"to": "slow", "timeout": "100ms", "deadline": "250ms",
         "retry": {"attempts": 10, "backoff": "none"}}]}}}
    slow = {"workers": "unlimited", "operations": {"op": {"work": "1s"}}}
    r = run({"gw": caller, "slow": slow}, [every("10/s")], duration="10s")
    assert call(r, "gw.go", "slow.op")["amplification"] == 3.0
    assert set(r["latency_ms"].values()) == {None}  # every request failed...
    assert r["requests"]["failed_by_cause"]["timeout"] == r["requests"]["total"]


def test_a_back_off_past_the_deadline_fails_the_call_at_the_deadline() -> None:
    # The try times out at 100 ms; the retry would wait 450 ms, past the 500 ms deadline, so
    # it is not sent and the call fails when the deadline comes, as Envoy's route timeout
    # fires during the back-off: each request (on_failure: continue) ends at 500 ms, and the
    # caller holds every request for that long (50/s x 0.5 s in flight).
    caller = {"workers": "unlimited", "operations": {"go": {"calls": [
        {"to": "slow", "timeout": "100ms", "deadline": "500ms", "on_failure": "continue",
         "retry": {"attempts": 3, "backoff": "constant", "base": "450ms", "max": "450ms",
                   "jitter": "none"}}]}}}
    slow = {"workers": "unlimited", "operations": {"op": {"work": "1s"}}}
    r = run({"gw": caller, "slow": slow}, [every("50/s")], duration="10s")
    assert r["latency_ms"]["mean"] == pytest.approx(500.0, abs=1e-6)
    assert r["latency_ms"]["max"] == pytest.approx(500.0, abs=1e-6)
    assert call(r, "gw.go", "slow.op")["amplification"] == 1.0
    assert r["components"]["gw"]["concurrency_mean"] == pytest.approx(25.0, rel=0.03)


def test_deadline_propagation_bounds_the_callees_calls() -> None:
    comps = {"gw": {"workers": "unlimited", "operations": {"go": {"calls": [
        {"to": "mid", "timeout": "50ms", "propagate_deadline": True,
         "on_failure": "continue"}]}}},
             "mid": {"workers": "unlimited", "operations": {"op": {"calls": [{"to": "slow"}]}}},
             "slow": {"workers": "unlimited", "operations": {"op": {"work": "1s"}}}}
    r = run(comps, [every("10/s")], duration="5s")
    # mid's own call has no timeout, but the propagated 50 ms ends it. (The last request's
    # answer closes the run at the instant mid's timeout would also fire.)
    total = r["requests"]["total"]
    assert total - 1 <= call(r, "mid.op", "slow.op")["timeouts"] <= total


@pytest.mark.parametrize(("mode", "cause"), [("fail_fast", "unavailable"),
                                             ("timeout", "timeout")])
def test_a_partition_cuts_calls_between_two_components(mode: str, cause: str) -> None:
    comps = {"gw": {"workers": "unlimited", "operations": {"go": {"calls": [
        {"to": "db", "timeout": "100ms"}]}}}, "db": FAST}
    r = run(comps, [every("100/s")], duration="10s",
            faults=[{"target": "gw", "at": "2s", "for": "4s",
                     "partition": {"with": "db", "mode": mode}}])
    assert r["requests"]["failed_by_cause"][cause] == pytest.approx(400, abs=2)
    assert r["requests"]["failed"] == r["requests"]["failed_by_cause"][cause]


def test_a_gc_pause_stalls_work_in_progress() -> None:
    # A 100 ms pause every second: requests caught by it finish up to 100 ms late.
    r = run({"gw": {"workers": 4, "operations": {"op": {"work": "5ms"}}}}, [every("100/s")],
            duration="10s", faults=[{"target": "gw", "pause": {"every": "1s", "for": "100ms"}}])
    assert 100 <= r["latency_ms"]["max"] <= 106
    assert r["latency_ms"]["p50"] == pytest.approx(5.0, rel=0.006)


def test_a_pause_ends_with_its_fault_window() -> None:
    # A 60 s pause from 2 s, cut by the fault's window at 3 s: the request arriving as it
    # starts waits until 3 s, then does its 5 ms of work; the rest are untouched.
    r = run({"gw": {"workers": 4, "operations": {"op": {"work": "5ms"}}}}, [every("100/s")],
            duration="10s", faults=[{"target": "gw", "at": "2s", "for": "1s",
                                     "pause": {"every": "100s", "for": "60s"}}])
    assert r["latency_ms"]["max"] == pytest.approx(1000 + 5, abs=0.5)
    assert r["latency_ms"]["p50"] == pytest.approx(5.0, rel=0.006)


def test_extra_network_latency_applies_to_both_hops() -> None:
    comps = {"gw": {"workers": "unlimited", "operations": {"go": {"calls": [{"to": "db"}]}}},
             "db": FAST}
    r = run(comps, [every("10/s")], duration="5s",
            faults=[{"target": "db", "network": "5ms"}])
    assert r["latency_ms"]["mean"] == pytest.approx(11.0, rel=1e-6)


def test_random_failures_take_replicas_down_for_about_mttr_over_mtbf_plus_mttr() -> None:
    r = run({"gw": {**FAST, "replicas": 4}}, [every("200/s")], duration="2000s",
            faults=[{"target": "gw", "random_failures": {"mtbf": "20s", "mttr": "2s"}}])
    share = r["requests"]["failed_by_cause"]["crashed"] / r["requests"]["total"]
    # Down 2/(20+2) ≈ 9 % of the time. About 4 × 2000/22 ≈ 360 up/down cycles; the share's
    # relative error is about sqrt(2/360) ≈ 7 %, so 4 of those is 30 %.
    assert share == pytest.approx(2 / 22, rel=0.3)


def test_liveness_restarts_a_hung_replica_with_growing_back_off() -> None:
    svc = {"workers": 1, "operations": {"op": {"work": "1ms"}},
           "health": {"liveness": {"period": "1s", "failure_threshold": 3},
                      "restart_delay": "10s"}}
    r = run({"svc": svc}, [every("10/s", to="svc")], duration="120s",
            faults=[{"target": "svc", "pause": {"every": "1000s", "for": "999s"}}])
    restarts = [e["t_s"] for e in r["events"] if e["event"] == "restart"]
    assert len(restarts) >= 3
    gaps = [b - a for a, b in itertools.pairwise(restarts)]
    # Down for 10 s, 20 s, 40 s, then 3 failed probes 1 s apart before the next restart.
    assert gaps[:2] == pytest.approx([10 + 3, 20 + 3], abs=1.01)


@pytest.mark.parametrize("readiness", [False, True])
def test_a_replica_waiting_to_restart_is_out_of_rotation(readiness: bool) -> None:
    """Kubernetes: a container that is not running is not Ready, probe or not, so the
    Service stops sending to it while it waits out its restart delay. Two round-robin
    replicas at 10/s; svc[1] hangs from 15 s until its liveness probe kills it: the 5/s sent
    to it meanwhile fail `crashed` at the kill, and nothing after (with the delay's 10 s in
    rotation, 50 more would)."""
    health: dict[str, object] = {"liveness": {}, "restart_delay": "10s"}
    if readiness:
        health["readiness"] = {}
    svc = {"replicas": 2, "workers": 4, "operations": {"op": {"work": "1ms"}},
           "health": health}
    r = run({"svc": svc}, [every("10/s", to="svc")], duration="90s", warmup="0s",
            faults=[{"target": "svc[1]", "at": "15s", "for": "40s",
                     "pause": {"every": "200s", "for": "100s"}}])
    restart = next(e["t_s"] for e in r["events"] if e["event"] == "restart")
    hung = 5 * (restart - 15)
    if readiness:  # it leaves rotation once its readiness probe has failed 3 times
        ready_off = next(e["t_s"] for e in r["events"] if e["event"] == "not_ready")
        hung = 5 * (min(ready_off, restart) - 15)
    assert r["requests"]["failed_by_cause"]["crashed"] == pytest.approx(hung, abs=1)
    assert r["requests"]["failed_by_cause"]["unavailable"] == 0


@pytest.mark.parametrize(("min_per_s", "expected"), [(0, 0.2), (10, 0.3), (30, 0.5)])
def test_a_retry_budget_allows_its_ratio_plus_its_minimum(min_per_s: int,
                                                          expected: float) -> None:
    # Linkerd's budget: retries may add `ratio` of the calls, plus `min_per_s` retries a
    # second always. 100 calls/s that always fail and would retry three times each: 20/s
    # from the ratio and min_per_s more, so min_per_s / 100 more attempts per call.
    budget = {"ratio": "20%", "min_per_s": min_per_s, "window": "10s"}
    api = {"workers": "unlimited", "operations": {"get": {"calls": [
        {"to": "db.q", "retry": {"attempts": 4, "backoff": "none", "budget": budget}}]}}}
    db = {"workers": "unlimited", "operations": {"q": {"work": "1ms", "error_rate": "100%"}}}
    r = run({"api": api, "db": db}, [every("100/s", to="api.get")], duration="60s")
    assert call(r, "api.get", "db.q")["amplification"] == pytest.approx(1 + expected, abs=0.01)


@pytest.mark.parametrize("replicas", [1, 4])
def test_each_calling_replica_keeps_its_own_retry_budget(replicas: int) -> None:
    # Each Linkerd proxy enforces its budget by itself, so its `min_per_s` floor is per
    # calling replica: 100 failing calls a second over R replicas, no ratio, a floor of
    # 10/s each: 10·R retries a second in all, 0.1·R more attempts per call.
    budget = {"ratio": "0%", "min_per_s": 10, "window": "10s"}
    api = {"replicas": replicas, "workers": "unlimited", "operations": {"get": {"calls": [
        {"to": "db.q", "retry": {"attempts": 4, "backoff": "none", "budget": budget}}]}}}
    db = {"workers": "unlimited", "operations": {"q": {"work": "1ms", "error_rate": "100%"}}}
    r = run({"api": api, "db": db}, [every("100/s", to="api.get")], duration="60s")
    assert call(r, "api.get", "db.q")["amplification"] == \
        pytest.approx(1 + 0.1 * replicas, abs=0.01)


def _five_replicas(balancer: str, db_extra: dict, fault: dict, duration: str) -> dict:
    # 300/s over 5 one-worker replicas of 10 ms: 60 % busy each; without one of them, the
    # other four at 75 %, which they hold without a queue that reaches the 1 s timeout.
    db = {"replicas": 5, "workers": 1, "balancer": balancer,
          "operations": {"q": {"work": "10ms"}}, **db_extra}
    api = {"workers": "unlimited", "operations": {"get": {"calls": [
        {"to": "db.q", "timeout": "1s"}]}}}
    return run({"api": api, "db": db}, [every("300/s", to="api.get")], duration=duration,
               faults=[{"target": "db[0]", **fault}])


@pytest.mark.parametrize("balancer", ["round_robin", "random"])
def test_an_ejected_replicas_share_is_spread_over_the_others(balancer: str) -> None:
    # Envoy balances over the hosts not ejected: the failing replica's 60/s go to the four
    # others, 15/s each, not all to its neighbour (which would get 120/s on 100/s and time out).
    r = _five_replicas(balancer, {"outlier_detection": {}}, {"error_rate": "100%"}, "30s")
    failed = r["requests"]["failed_by_cause"]
    assert failed["timeout"] == 0
    # The five consecutive errors that eject it (back after 30 s), and with random balancing
    # the few sent to it before the fifth came back.
    assert 5 <= failed["error"] <= 8
    assert r["components"]["db"]["busiest_replica"]["utilization"] < 0.8


def test_a_not_ready_replicas_share_is_spread_over_the_others() -> None:
    # A hung replica turns NotReady after three failed probes 10 s apart and leaves the
    # Service's endpoints; from then on the four others share its traffic.
    r = _five_replicas("round_robin", {"health": {"readiness": {}}},
                       {"at": "5s", "pause": {"every": "1000s", "for": "900s"}}, "90s")
    not_ready = [e["t_s"] for e in r["events"] if e["event"] == "not_ready"]
    assert len(not_ready) == 1
    # Only what reached the hung replica before it left rotation fails: 60/s for at most the
    # probes' 30 s (and the 1 s timeout); none of the healthy replicas' requests time out.
    assert r["requests"]["failed_by_cause"]["timeout"] <= 60 * (not_ready[0] - 5 + 1)


def test_error_shares_of_a_fault_and_a_degraded_fallback() -> None:
    comps = {"gw": {"workers": "unlimited", "operations": {"go": {"calls": [
        {"to": "db", "on_failure": {"fallback": "1ms", "degraded": True}}]}}}, "db": FAST}
    r = run(comps, [every("500/s")], duration="20s",
            faults=[{"target": "db", "error_rate": "20%"}])
    total = r["requests"]["total"]
    assert r["requests"]["failed"] == 0
    assert r["requests"]["degraded"] / total == pytest.approx(0.2,
                                                              abs=binomial_bound(total, 0.2))


def _opened(breaker: CircuitBreaker, now: float) -> None:
    for _ in range(2):
        assert breaker.try_acquire(now)
        breaker.record(now, True, 0.001)


def test_the_open_wait_grows_exponentially_up_to_its_cap() -> None:
    breaker = CircuitBreaker(window=2, min_calls=2, half_open_calls=1, open_for=1.0,
                             open_for_multiplier=2.0, open_for_max=3.0)
    _opened(breaker, 0.0)
    waits, now = [], 0.0
    for _ in range(3):
        waits.append(breaker.open_until - now)
        now = breaker.open_until
        assert breaker.try_acquire(now)  # lazily half-open: the probe goes out and fails
        breaker.record(now, True, 0.001)
        assert breaker.state == OPEN
    assert waits == [1.0, 2.0, 3.0]


def test_automatic_half_open_and_max_wait_in_half_open_use_timers() -> None:
    breaker = CircuitBreaker(window=2, min_calls=2, half_open_calls=1, open_for=5.0,
                             automatic_half_open=True, max_wait_in_half_open=2.0)
    _opened(breaker, 0.0)
    assert breaker.timer_at == 5.0
    breaker.on_timer(5.0)
    assert breaker.state == HALF_OPEN and breaker.timer_at == 7.0
    breaker.on_timer(7.0)  # no probe finished within 2 s: open again
    assert breaker.state == OPEN
    breaker.record(7.5, False, 0.001)  # a late probe does not count while open
    assert breaker.state == OPEN and breaker.state != CLOSED


def _hedged(after: str, seconds: str = "200s") -> dict:
    # Lognormal answers (median 10 ms, p99 100 ms) from replicas with unlimited workers, so a
    # hedge adds no queueing and the first attempt's latency does not depend on hedging.
    leaf = {"kind": "external", "replicas": 2, "operations": {"op": {"work": {
        "dist": "lognormal", "median": "10ms", "p99": "100ms"}}}}
    caller = {"workers": "unlimited", "operations": {"go": {"calls": [
        {"to": "leaf.op", "hedge": {"after": after, "max": 1}}]}}}
    return run({"gw": caller, "leaf": leaf}, [every("100/s")], duration=seconds)


# The unhedged p95 of that lognormal: median · e^(z95 σ) with σ = ln(p99 / median) / z99.
UNHEDGED_P95_MS = 10.0 * math.exp(1.6448536 * math.log(10.0) / 2.3263479)


@pytest.mark.parametrize("after", [f"{UNHEDGED_P95_MS:.4f}ms", "p95"])
def test_hedging_after_the_unhedged_p95_hedges_five_percent_of_calls(after: str) -> None:
    # Independent model: the hedge fires when the first attempt has not answered after d; with
    # d the p95 of the unhedged latency that is 5 % of calls. The tracker behind "p95" must
    # estimate that same d: it records each call's latency from its first attempt's send
    # (hedged or not), whose share above d is exactly the share of calls hedged.
    edge = call(_hedged(after), "gw.go", "leaf.op")
    calls = edge["attempts"] - edge["hedges"]
    assert calls == 20_000
    assert edge["hedges"] / calls == pytest.approx(0.05, abs=0.005)
