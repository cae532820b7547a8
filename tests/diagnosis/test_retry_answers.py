"""Failures a retry would have answered: a retry budget that refused them. The fix is
applied and simulated again."""

from __future__ import annotations

from tests.diagnosis.advice import failed_requests, load, one, run

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
