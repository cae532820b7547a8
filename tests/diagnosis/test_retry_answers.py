"""Failures a retry would have answered: a retry budget that refused them, callers without
retries across a failover. Each fix is applied and simulated again."""

from __future__ import annotations

from tests.diagnosis.advice import failed_requests, load, one, run

from scalesim.spec import System
from scalesim.templates.registry import get_template

# The retry-backoff template: dependency's 3 replicas fail 10 % of attempts; 3 tries with
# exponential back-off, to another replica.
FLAKY = """
scalesim: 1
name: flaky
defaults: {network: 0.25ms}
components:
  client:
    kind: service
    replicas: 2
    workers: 64
    operations:
      fetch:
        work: 1ms
        calls:
          - to: dependency.get
            timeout: 500ms
            retry: {attempts: 3, backoff: exponential, base: 25ms, max: 250ms, jitter: full}
  dependency:
    kind: service
    replicas: 3
    workers: 32
    operations:
      get:
        work: {dist: gamma, mean: 10ms, cv: 0.8}
        error_rate: 10%
workloads:
  - {name: calls, to: client.fetch, rate: 500/s}
simulation: {duration: 15s, warmup: 2s, seed: 1}
"""
CALL = "components.client.operations.fetch.calls.0"
# dependency[0] fails every attempt from 4 s; the budget lets 1 % of the calls retry.
REFUSING = (f"{CALL}.retry.budget={{ratio: 1%, min_per_s: 0}}",
            'faults=[{target: "dependency[0]", at: 4s, error_rate: 100%}]')


def test_a_budget_refusing_the_retries_is_named_and_raised() -> None:
    result, found = run(load(FLAKY, *REFUSING))
    finding = one(found, "failures", "calls")
    assert finding["numbers"]["retry_budget_exhausted"] == 2600
    assert any("retry budget" in e and "refused 2,600 retries" in e
               for e in finding["evidence"])
    assert finding["fix"]["set"] == [
        f"{CALL}.retry.budget={{ratio: 49%, min_per_s: 0, window: 10s}}"]
    assert failed_requests(result, "calls") == 2600
    after, _ = run(load(FLAKY, *REFUSING, *finding["fix"]["set"]))
    assert failed_requests(after, "calls") / after["requests"]["total"] < 0.035
    assert after["workloads"]["calls"]["requests"].get("degraded", 0) == 0


LEASE = "components.scheduler.leader_election"
# The leader-election template under Kubernetes' lease, 40 s: its leader crashes at 20 s.
KUBERNETES = (f"{LEASE}.lease_duration=15s", f"{LEASE}.renew_deadline=10s",
              f"{LEASE}.retry_period=2s", "simulation.duration=40s")


def _election(*overrides: str) -> System:
    return load(get_template("leader-election").build({}).text, *KUBERNETES, *overrides)


def test_a_failover_fix_sets_the_retries_it_promises_the_callers_without_them() -> None:
    """api.submit calls the scheduler without a retry: 40 % failed. The fix's `set` held
    only the lease, though its text promised retries on unavailable; applied, 3.5 % still
    failed and the next round proposed nothing (QA). Now it sets api.submit a retry whose
    back-offs span the shortest lease's failover, and with both under 1 % fail."""
    result, found = run(_election())
    fix = one(found, "failover", "scheduler")["fix"]
    retry = "components.api.operations.submit.calls.0.retry="
    [proposed] = [o for o in fix["set"] if o.startswith(retry)]
    assert proposed == retry + ("{attempts: 6, backoff: exponential, base: 100ms, max: 1s, "
                                "'on': [unavailable]}")
    assert one(found, "failures", "jobs")["fix"]["set"] == fix["set"]
    after, _ = run(_election(*fix["set"]))
    assert failed_requests(result, "jobs") / result["requests"]["total"] > 0.35
    assert failed_requests(after, "jobs") / after["requests"]["total"] < 0.01


def test_a_failover_still_in_progress_at_the_end_gets_the_failover_finding() -> None:
    """At 30 s no leader came within the window: 33 % failed unavailable, no failover had
    finished, and the failures fix said only 'no leader for 10.00 s' with no set (QA). Now
    the failover finding tells the one in progress (10 s so far) and its fix, applied,
    leaves under 1 % failed."""
    short = "simulation.duration=30s"
    result, found = run(_election(short))
    assert result["elections"]["scheduler"]["failovers"] == 0
    finding = one(found, "failover", "scheduler")
    assert finding["numbers"]["failover_in_progress_s"] == 10.0
    assert "one still in progress, without a leader since 20 s" in finding["evidence"][0]
    failures = one(found, "failures", "jobs")["fix"]
    assert "its failover still in progress" in failures["summary"]
    assert failures["set"] == finding["fix"]["set"]
    after, _ = run(_election(short, *finding["fix"]["set"]))
    assert failed_requests(after, "jobs") / after["requests"]["total"] < 0.01


def test_errors_a_retry_would_answer_get_the_tries_that_meet_the_error_rate() -> None:
    """One try at dependency's own 10 % errors: 9.9 % failed, and the failures finding had
    no fix and no reason (QA). Independent errors fail k tries at p^k: 3 tries leave 0.1 %,
    under half of 1 % (no error-rate SLO), the template's own 3; applied, under 0.1 % fail.
    With an error-rate SLO of 0.01 %, 5 tries. An operation that is not idempotent is not
    retried: the fix says why."""
    one_try = f"{CALL}.retry.attempts=1"
    result, found = run(load(FLAKY, one_try))
    fix = one(found, "failures", "calls")["fix"]
    assert fix["set"] == [f"{CALL}.retry.attempts=3"]
    assert "3 tries leave 0.096 %" in fix["summary"]
    assert failed_requests(result, "calls") / result["requests"]["total"] > 0.09
    after, _ = run(load(FLAKY, one_try, *fix["set"]))
    assert failed_requests(after, "calls") / after["requests"]["total"] < 0.001
    _, strict = run(load(FLAKY, one_try, "slo={error_rate: 0.01%}"))
    assert one(strict, "failures", "calls")["fix"]["set"] == [f"{CALL}.retry.attempts=5"]
    _, harmful = run(load(FLAKY, one_try,
                          "components.dependency.operations.get.idempotent=false"))
    unsafe = one(harmful, "failures", "calls")["fix"]
    assert unsafe["set"] == [] and "is not idempotent" in unsafe["summary"]
