"""The "all clear while in trouble" cases of issue 17: each run is diagnosed with the limit
that binds and a fix sized from the analytic layer, and applying that fix (its `--set`
overrides) clears the finding."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from scalesim.diagnosis import diagnose
from scalesim.diagnosis.finding import share
from scalesim.sim import simulate
from scalesim.spec import System, load_spec, load_spec_text
from scalesim.templates.registry import get_template


def _system(template: str, params: dict[str, Any], overrides: tuple[str, ...] = ()) -> System:
    built = get_template(template).build(params)
    return load_spec_text(built.text, f"{template}.yaml", overrides)


def _diagnosis(system: System) -> list[dict[str, Any]]:
    return diagnose(system, simulate(system))


def _one(found: list[dict[str, Any]], kind: str, subject: str) -> dict[str, Any]:
    matches = [f for f in found if f["kind"] == kind and f["subject"] == subject]
    assert len(matches) == 1, found
    return matches[0]


@pytest.mark.slow
def test_work_queue_with_30ms_jobs_is_a_growing_backlog_fixed_by_workers_and_concurrency(
        ) -> None:
    # 4 replicas × 8 threads at 30 ms serve 1,067 jobs/s; the window brings 1,200/s with a
    # 5 s burst at 2,400/s (1,400/s on average), so the backlog grows by about 330/s.
    system = _system("work-queue", {"job_ms": 30})
    finding = _one(_diagnosis(system), "backlog", "jobs->worker.process")
    assert finding["severity"] == "problem"
    assert finding["limit"] == "workers"
    numbers = finding["numbers"]
    assert numbers["drained_rps"] == pytest.approx(4 * 8 / 0.030, rel=0.03)
    published = numbers["published_rps"]
    assert published == pytest.approx((1200 * 25 + 2400 * 5) / 30, rel=0.02)
    assert numbers["backlog_growth_rps"] == pytest.approx(published - numbers["drained_rps"],
                                                           rel=0.05)
    # Sized at 85 % busy from the analytic times: 30 ms per job, 30.5 ms per delivery
    # (0.25 ms each way).
    replicas = math.ceil(published * 0.030 / (8 * 0.85))
    concurrency = math.ceil(published * 0.0305 / 0.85)
    assert finding["fix"]["set"] == [f"components.jobs.consumers.0.concurrency={concurrency}",
                                     f"components.worker.replicas={replicas}"]
    fixed = _diagnosis(_system("work-queue", {"job_ms": 30}, tuple(finding["fix"]["set"])))
    # No problem left. Sized for the average, the fixed consumers still take seconds to
    # absorb the burst at 2,400/s: that is a warning of its own, whose fix is sized for the
    # peak.
    assert not [f for f in fixed if f["severity"] == "problem"]
    for left in fixed:
        assert left["kind"] == "backlog" and left["severity"] == "warning"
        assert left["numbers"]["peak_delivered_rps"] == pytest.approx(2400, rel=0.01)


@pytest.mark.slow
def test_e_commerce_email_queue_is_limited_by_the_subscription_concurrency() -> None:
    system = _system("e-commerce", {"rps": 5000})
    found = _diagnosis(system)
    finding = _one(found, "backlog", "order-events->email.send")
    assert finding["limit"] == "consumer_concurrency"
    numbers = finding["numbers"]
    # 16 deliveries at a time of ~20.6 ms each (20 ms of work, two 0.25 ms-median hops).
    assert numbers["drained_rps"] == pytest.approx(16 / 0.0206, rel=0.05)
    assert numbers["published_rps"] == pytest.approx(1000, rel=0.03)
    assert numbers["consumer_utilization"] < 0.6  # email's own workers are not the limit
    assert any("more email replicas alone change nothing" in e for e in finding["evidence"])
    needed = math.ceil(numbers["published_rps"] * 0.02062 / 0.85)
    assert finding["fix"]["set"] == [f"components.order-events.consumers.0.concurrency={needed}"]
    # More email replicas do not help; the concurrency does.
    replicas = _diagnosis(_system("e-commerce", {"rps": 5000}, ("components.email.replicas=6",)))
    assert _one(replicas, "backlog", "order-events->email.send")["limit"] == \
        "consumer_concurrency"
    fixed = _diagnosis(_system("e-commerce", {"rps": 5000}, tuple(finding["fix"]["set"])))
    assert [f for f in fixed if f["kind"] == "backlog"] == []
    # The payment incident still degrades checkout: a fault, contained by the breaker.
    assert _one(fixed, "degraded", "checkout")["limit"] == "circuit_breaker"


def test_circuit_breaker_template_degrades_every_checkout_because_of_the_fault() -> None:
    system = _system("circuit-breaker", {}, ("simulation.duration=10s",))
    result = simulate(system)
    assert result["requests"]["failed"] == 0
    assert result["requests"]["degraded"] == result["requests"]["total"]
    finding = _one(diagnose(system, result), "degraded", "checkout")
    assert finding["numbers"]["degraded_share"] == 1.0
    assert finding["limit"] == "circuit_breaker"
    assert any("latency +30 s on payments" in e for e in finding["evidence"])
    assert finding["fix"]["set"] == ["faults=[]"]
    fixed = _system("circuit-breaker", {}, ("simulation.duration=10s",
                                             *finding["fix"]["set"]))
    assert _diagnosis(fixed) == []


SHORT_TTL = ("components.catalog.caching.ttl=50ms", "components.products.workers=16",
             "faults=[]", "simulation.duration=20s", "simulation.warmup=5s")


def test_a_backend_behind_a_short_ttl_names_the_hit_ratio_and_is_sized_for_the_misses(
        ) -> None:
    """A 50 ms TTL leaves catalog hitting under a fifth of its reads: its misses saturate
    products, whose callers (app) back up, so fewer reads reach it than the workloads send.
    The fix is sized for the offered misses (the analytic load, the loads a coalescing cache
    sends: 2,919/s × 19.8 ms / (16 × 0.85) → 5 replicas, not the 3 of what arrived), the
    evidence names the run's hit ratio, and applied, products keeps up."""
    system = _system("caching-strategies", {}, SHORT_TTL)
    result = simulate(system)
    products = _one(diagnose(system, result), "saturated", "products")
    assert products["fix"]["set"] == [
        f"components.products.replicas={math.ceil(2919 * 0.0198 / (16 * 0.85))}"]
    hit_ratio = result["caches"]["catalog"]["hit_ratio"]
    assert hit_ratio < 0.2
    assert any(f"backend of catalog, whose hit ratio is {share(hit_ratio)}" in line
               and "(TTL 50 ms)" in line for line in products["evidence"])
    fixed = _diagnosis(_system("caching-strategies", {}, (*SHORT_TTL, *products["fix"]["set"])))
    assert not [f for f in fixed if f["subject"] in ("products", "app")]


BUSY_ORDERS = ("workloads.1.rate=1300/s", "faults=[]", "simulation.duration=20s",
               "components.order-events.consumers.0.concurrency=32",
               "components.email.replicas=3")


def test_an_slo_missed_for_queueing_at_a_caller_blames_its_queue_not_its_slowest_callee(
        ) -> None:
    """1,300 checkouts/s hold orders' 3 × 64 workers about 166 ms each: 216 erlangs, so
    orders queues for seconds, while payments.charge, its slowest callee, answers its p99 in
    0.6 s. The p99 miss is orders' queue: the fix is orders' replicas at 85 % busy,
    216 / (64 × 0.85) → 4, the same as orders' own finding, and applied the SLO is met."""
    found = _diagnosis(_system("e-commerce", {}, BUSY_ORDERS))
    slo = _one(found, "slo", "all")
    assert slo["limit"] == "workers"
    assert "queueing for the workers of orders at orders.create" in slo["summary"]
    # orders.create answers at p99 in 3.11 s, but a request waits 3 s at most: its timeout.
    assert slo["evidence"][0].endswith(
        "→ orders.create 3 s (the call's timeout ends the wait; its answers: p99 3.11 s)")
    replicas = math.ceil(1300 * 0.166 / (64 * 0.85))
    assert slo["fix"]["set"] == [f"components.orders.replicas={replicas}"]
    assert _one(found, "saturated", "orders")["fix"]["set"] == slo["fix"]["set"]
    fixed = _diagnosis(_system("e-commerce", {}, (*BUSY_ORDERS, *slo["fix"]["set"])))
    assert not [f for f in fixed if f["kind"] == "slo"]


NEVER_OPENS = ("components.checkout.operations.pay.calls.0.circuit_breaker.window_type=time",
               "components.checkout.operations.pay.calls.0.circuit_breaker.window=10",
               "components.checkout.operations.pay.calls.0.circuit_breaker.min_calls=600",
               "slo.p99=200ms", "simulation.duration=20s")


def test_a_breaker_that_can_never_open_is_named_instead_of_the_fault() -> None:
    """A 10 s time window on 2 calling replicas at 100/s holds about 500 calls per breaker,
    under its min_calls of 600: it never decides (lint SS208), so every checkout waits out
    the 1 s timeout. The finding names the breaker and halves what its window holds
    (≈ 250); applied, lint is quiet, the breaker opens and refuses calls, and what is left
    is the fault, contained as designed. The p99 missed meanwhile is the wait on payments,
    which never answered in time: its timeout, not checkout's own work."""
    from scalesim.lint import lint_system

    system = _system("circuit-breaker", {}, NEVER_OPENS)
    assert "SS208" in {f.rule for f in lint_system(system)}
    found = _diagnosis(system)
    finding = _one(found, "degraded", "checkout")
    assert finding["limit"] == "circuit_breaker"
    # payments never answers in time: the p99 is the wait on it, up to the 1 s timeout
    assert _one(found, "slo", "all")["summary"].endswith(
        "most of it is payments.charge (p99 of its calls 1 s)")
    assert any("never opened" in e and "SS208" in e for e in finding["evidence"])
    (fix,) = finding["fix"]["set"]
    prefix = "components.checkout.operations.pay.calls.0.circuit_breaker.min_calls="
    assert fix.startswith(prefix)
    assert int(fix.removeprefix(prefix)) == pytest.approx(100 / 2 * 10 / 2, rel=0.05)
    fixed = _system("circuit-breaker", {}, (*NEVER_OPENS, fix))
    assert "SS208" not in {f.rule for f in lint_system(fixed)}
    result = simulate(fixed)
    assert result["calls"][0]["circuit_breaker"]["not_permitted"] > 0
    assert _one(diagnose(fixed, result), "degraded", "checkout")["fix"]["set"] == ["faults=[]"]


def test_a_timeout_under_the_callees_normal_answers_is_raised_above_them() -> None:
    """A 15 ms timeout on a dependency answering 98 % of calls lognormally (median 8 ms,
    p99 30 ms) and hanging 3 s on 2 %: 17 % time out, most of them answers that were
    coming. The fix is 1.5× the callee's measured p95 (its p99 is the hangs); applied,
    what times out is about the 2 % of hangs, and the re-run's finding keeps that timeout
    (a longer one would wait the hangs out)."""
    short = ("components.caller.operations.call.calls.0.timeout=15ms",
             "simulation.duration=10s")
    system = _system("timeout", {}, short)
    result = simulate(system)
    finding = _one(diagnose(system, result), "failures", "calls")
    p95 = result["components"]["dependency"]["operations"]["get"]["latency_ms"]["p95"]
    assert finding["fix"]["set"] == [
        f"components.caller.operations.call.calls.0.timeout={math.ceil(1.5 * p95)}ms"]
    fixed_system = _system("timeout", {}, (*short, *finding["fix"]["set"]))
    fixed = simulate(fixed_system)
    assert result["requests"]["failed"] / result["requests"]["total"] > 0.15
    assert 0.02 <= fixed["requests"]["failed"] / fixed["requests"]["total"] < 0.03
    again = _one(diagnose(fixed_system, fixed), "failures", "calls")
    assert again["fix"]["set"] == [] and again["fix"]["summary"].startswith("keep the timeout")


def test_a_per_workload_rate_limit_is_told_and_fixed_per_workload() -> None:
    """The gateway limits each client to 1,500/s. Web sends 2,000/s and the scraper
    4,500/s: the limit is told per workload (not the 7,290/s of all clients against one
    1,500/s), and web's refusals get the per-workload limit that admits its 2,000/s (the
    4,800/s it lets through keep 2 × 4 workers of 1.3 ms 78 % busy); applied, web is not
    rate-limited, and the scraper, at 4,500/s, still is: admitting it takes a third replica
    for the 7,300/s."""
    more = ("workloads.0.rate=2000/s", "simulation.duration=10s")
    found = _diagnosis(_system("api-gateway", {}, more))
    limit = _one(found, "limit", "gateway")
    assert limit["evidence"] == [
        "web sends 2,000/s for its own limit of 1500/s (22 % of its requests rate-limited)",
        "scraper sends 4,500/s for its own limit of 1500/s (67 % of its requests "
        "rate-limited)"]
    assert limit["fix"]["set"] == ["components.gateway.rate_limit.rate=2000/s"]
    assert _one(found, "failures", "web")["fix"]["set"] == limit["fix"]["set"]
    fixed = _diagnosis(_system("api-gateway", {}, (*more, *limit["fix"]["set"])))
    assert not [f for f in fixed if f["subject"] == "web"]
    assert _one(fixed, "failures", "scraper")["fix"]["set"] == [
        "components.gateway.rate_limit.rate=4500/s", "components.gateway.replicas=3"]


def test_a_raised_rate_limit_comes_with_the_replicas_for_what_it_lets_through() -> None:
    """QA: the scraper's 4,500/s against its 1,500/s limit. The raise alone let 6,500/s
    through 2 × 4 gateway workers of 1.3 ms (8.45 erlangs): web and mobile, never failed
    before, failed 9 %. The fix raises the replicas with it, sized for the 6,500/s at 85 %
    (3: about 70 % busy); applied, nothing fails and nothing is found."""
    short = ("simulation.duration=8s",)
    found = _diagnosis(_system("api-gateway", {}, short))
    limit = _one(found, "limit", "gateway")
    assert limit["fix"]["set"] == ["components.gateway.rate_limit.rate=4500/s",
                                   "components.gateway.replicas=3"]
    assert _one(found, "failures", "scraper")["fix"]["set"] == limit["fix"]["set"]
    fixed_system = _system("api-gateway", {}, (*short, *limit["fix"]["set"]))
    fixed = simulate(fixed_system)
    assert fixed["requests"]["failed"] == 0
    assert diagnose(fixed_system, fixed) == []


def test_a_hot_key_on_a_component_short_of_workers_sizes_the_replicas_too() -> None:
    """QA: sharded-service with 2,000 keys Zipf 1.3 (key 0: 28 %) sends 12,000/s to 4 × 4
    workers of 2 ms, 8,000/s at most: 44 % failed. The hot-key finding's balancer alone
    left 34 % failed; it now comes with the replicas for the 11,967/s that arrived (8:
    about 75 % busy), and applied, nothing fails and nothing is found."""
    more = ("workloads.0.keys={count: 2000, skew: 1.3}", "simulation.duration=5s")
    found = _diagnosis(_system("sharded-service", {}, more))
    shard = _one(found, "saturated", "shard")
    assert "saturated on one replica" in shard["summary"]
    assert any("key 0 carries 28 %" in line for line in shard["evidence"])
    assert shard["fix"]["set"] == ["components.shard.balancer=least_requests",
                                   "components.shard.replicas=8"]
    fixed_system = _system("sharded-service", {}, (*more, *shard["fix"]["set"]))
    fixed = simulate(fixed_system)
    assert fixed["requests"]["failed"] == 0
    assert diagnose(fixed_system, fixed) == []


def test_an_slo_missed_for_workers_held_by_slow_calls_bounds_the_calls() -> None:
    """examples/cascade.yaml: recs slow by 2 s for 20 s holds gateway's 20 workers, and the
    queue for them is the p99's 5.96 s. The SLO fix is to bound the wait on the calls, as
    gateway's own finding says; more workers (which the queueing rule first offered, at no
    count up to ×4) would only buy time. The timeout the spec can say is set on the slow
    call (the 200 ms target less the 1 ms of gateway's own work, 190 ms), with a bulkhead
    of 9 for the healthy calls (2.1 in flight: 100/s × 21 ms) so those waiting it out
    cannot hold every worker. The calls cut off would fail past the error-rate SLO, so the
    set gives the call a fallback too: applied, every SLO is met."""
    system = load_spec(Path(__file__).resolve().parents[2] / "examples" / "cascade.yaml")
    found = _diagnosis(system)
    slo = _one(found, "slo", "all")
    assert slo["limit"] == "downstream" == _one(found, "saturated", "gateway")["limit"]
    assert "held by its calls" in slo["summary"]
    call = "components.gateway.operations.browse.calls.0"
    assert slo["fix"]["set"] == [f"{call}.timeout=190ms",
                                 f"{call}.on_failure={{fallback: 1ms, degraded: true}}",
                                 f"{call}.bulkhead.max_concurrent=9"]
    assert "past the error-rate SLO: with it a fallback answers them" in slo["fix"]["summary"]
    assert "and a bulkhead of 9 on it" in slo["fix"]["summary"]
    applied = simulate(load_spec(Path(__file__).resolve().parents[2] / "examples" /
                                 "cascade.yaml", tuple(slo["fix"]["set"])))
    assert [c["name"] for c in applied["slo"]["checks"] if not c["met"]] == []
