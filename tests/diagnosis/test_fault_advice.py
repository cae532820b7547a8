"""The `failures` finding's fix for a fault that nothing answered is a design change, not the
fault's removal (the fault is the test the user chose): a retry budget when the retries
outlast the fault (a retry storm), a replica more when the fault is on every replica, a
retry on another replica, or a fallback. Each fix is applied and simulated again."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import cast

from tests.diagnosis.advice import failed_requests, findings, load, one, run

from scalesim.diagnosis.context import Run
from scalesim.diagnosis.degradation import Short, _capped
from scalesim.diagnosis.waits import Cap

# api at ρ = 800/s × 20 ms / (2 × 10 workers) = 0.8; 4 tries without back-off; a 2 s ×3
# slowdown at 4 s, of a 12 s window from 1 s.
STORM = """
scalesim: 1
name: storm
components:
  front:
    kind: gateway
    replicas: 2
    workers: unlimited
    operations:
      go:
        calls:
          - {to: api.handle, timeout: 150ms, retry: {attempts: 4, backoff: none, jitter: none}}
  api:
    replicas: 2
    workers: 10
    queue: 200
    operations:
      handle: {work: {dist: exponential, mean: 20ms}}
workloads:
  - {name: users, to: front.go, rate: 800/s}
faults:
  - {target: api, at: 4s, for: 2s, latency: x3}
simulation: {duration: 12s, warmup: 1s}
"""
FRONT = "components.front.operations.go.calls.0"

# billing: 1 replica, crashed from 3 s to 7 s of a 10 s window from 1 s; gw retries 3 times.
SINGLE = """
scalesim: 1
name: single
components:
  gw:
    kind: gateway
    replicas: 2
    workers: 100
    operations:
      pay:
        work: 1ms
        calls:
          - {to: billing.charge, timeout: 500ms,
             retry: {attempts: 3, backoff: exponential, base: 50ms, max: 500ms, jitter: full}}
  billing:
    replicas: 1
    workers: 32
    operations:
      charge: {work: {dist: exponential, mean: 15ms}}
workloads:
  - {name: payers, to: gw.pay, rate: 200/s}
faults:
  - {target: "billing[0]", at: 3s, for: 4s, crash: true}
simulation: {duration: 10s, warmup: 1s}
"""
GW = "components.gw.operations.pay.calls.0"


def test_a_retry_storm_a_fault_started_gets_a_retry_budget() -> None:
    """The requests keep failing long after the 2 s fault: the retries (no budget) hold api
    overloaded. The fix is a budget that keeps api at most 85 % busy (0.85 / 0.8 − 1 →
    6 %); applied, the failures are those the fault met and its backlog, and the next
    fix is a fallback, with which nothing fails. A back-off alone leaves the storm."""
    result, found = run(load(STORM))
    finding = one(found, "failures", "users")
    assert finding["fix"] is not None
    ratio = math.floor((0.85 / (800 * 0.020 / 20) - 1) * 100)
    assert finding["fix"]["set"] == [f"{FRONT}.retry.budget={{ratio: {ratio}%, min_per_s: 0}}"]
    assert "only started them" in finding["fix"]["summary"]
    # Sent from 4 × 150 ms (the longest a request takes) before the fault to its end.
    total, failed = result["requests"]["total"], failed_requests(result, "users")
    reach = total * (2 + 4 * 0.15) / 12
    assert failed > 2 * reach
    assert finding["numbers"]["failed_after_fault"] == round(failed - reach, 4)
    [call] = result["calls"]
    assert finding["numbers"]["amplification"] == call["amplification"] > 1.5
    assert any(f"at least {failed - reach:,.0f} failed after it ended" in e
               for e in finding["evidence"])

    budgeted, found = run(load(STORM, *finding["fix"]["set"]))
    assert failed_requests(budgeted, "users") < failed / 2
    after = one(found, "failures", "users")
    assert after["fix"] is not None
    assert after["fix"]["set"] == [f"{FRONT}.on_failure={{fallback: 1ms, degraded: true}}"]
    answered, found = run(load(STORM, *finding["fix"]["set"], *after["fix"]["set"]))
    assert failed_requests(answered, "users") == 0
    assert findings(found, "failures", "users") == []

    backoff, _ = run(load(STORM, f"{FRONT}.retry.backoff=exponential",
                          f"{FRONT}.retry.jitter=full"))
    assert failed_requests(backoff, "users") > 2 * reach


def test_a_fault_on_the_only_replica_gets_a_second_one_not_a_retry_elsewhere() -> None:
    """billing has one replica: there is no other to retry on. A second one takes the
    call's 3 tries (a retry goes to another replica) and nothing fails."""
    result, found = run(load(SINGLE))
    finding = one(found, "failures", "payers")
    assert finding["fix"] is not None
    assert finding["fix"]["set"] == ["components.billing.replicas=2"]
    assert "no replica of billing (1) is without the fault" in finding["fix"]["summary"]
    assert "a retry on another replica or a fallback" not in finding["fix"]["summary"]
    fixed, found = run(load(SINGLE, *finding["fix"]["set"]))
    assert failed_requests(result, "payers") > 0 == failed_requests(fixed, "payers")
    assert findings(found, "failures", "payers") == []


def test_a_call_without_retries_gets_them_with_the_replica_they_need() -> None:
    """Without a retry, a second replica alone still fails the calls sent to the crashed
    one; the fix adds the retry (the default 3 tries; the call gets a retry of its own) too.
    With 3 replicas, the retry alone."""
    for replicas, extra in (("1", ["components.billing.replicas=2"]), ("3", [])):
        spec = (f"{GW}.retry=null", f"components.billing.replicas={replicas}")
        _, found = run(load(SINGLE, *spec))
        finding = one(found, "failures", "payers")
        assert finding["fix"] is not None
        assert finding["fix"]["set"] == [*extra, f"{GW}.retry={{attempts: 3}}"]
        fixed, found = run(load(SINGLE, *spec, *finding["fix"]["set"]))
        assert failed_requests(fixed, "payers") == 0


def test_a_fault_on_every_replica_gets_a_fallback() -> None:
    """A crash of the whole component: no replica is left to retry on; a fallback answers
    the calls, degraded, and nothing fails."""
    spec = ("components.billing.replicas=2",
            "faults=[{target: billing, at: 3s, for: 4s, crash: true}]")
    _, found = run(load(SINGLE, *spec))
    finding = one(found, "failures", "payers")
    assert finding["fix"] is not None
    assert finding["fix"]["set"] == [f"{GW}.on_failure={{fallback: 1ms, degraded: true}}"]
    fixed, _ = run(load(SINGLE, *spec, *finding["fix"]["set"]))
    assert failed_requests(fixed, "payers") == 0
    assert fixed["workloads"]["payers"]["requests"]["degraded"] > 0


def test_a_workload_sent_to_a_single_faulty_replica_is_not_told_to_retry_on_another(
        ) -> None:
    """Nothing retries a workload's requests, and billing has no other replica: the
    remedy names a replica more, in a caller's retry, or a fallback (errors: a crash there
    gets the readiness probe's fix first)."""
    spec = ("workloads.0.to=billing.charge",
            "faults=[{target: 'billing[0]', at: 3s, for: 4s, error_rate: 100%}]")
    _, found = run(load(SINGLE, *spec))
    finding = one(found, "failures", "payers")
    assert finding["fix"] is not None
    summary = finding["fix"]["summary"]
    assert "a retry on a replica more (there is none without the fault) or a fallback" \
        in summary
    assert "a retry on another replica" not in summary


def test_a_retry_inherited_from_the_defaults_is_changed_where_it_is_set() -> None:
    """The call's one try comes from `defaults.calls`: the retry is raised there (an
    override on the call would replace the whole inherited retry), and applied, billing's
    two healthy replicas answer every retry."""
    spec = (f"{GW}.retry=null", "components.billing.replicas=3",
            "defaults.calls.retry={attempts: 1, backoff: constant, base: 10ms, max: 10ms}")
    _, found = run(load(SINGLE, *spec))
    finding = one(found, "failures", "payers")
    assert finding["fix"] is not None
    assert finding["fix"]["set"] == ["defaults.calls.retry.attempts=3"]
    fixed, _ = run(load(SINGLE, *spec, *finding["fix"]["set"]))
    assert failed_requests(fixed, "payers") == 0


def test_a_fault_beside_others_is_not_removed_by_an_override() -> None:
    """A contained fault beside another fault: no override removes one item of `faults`
    (the others written back lost their units: `at: 1.0` does not load), so the fix says
    where to remove it instead."""
    spec = ("components.billing.replicas=2", f"{GW}.on_failure={{fallback: 1ms, degraded: true}}",
            "faults=[{target: billing, at: 3s, for: 4s, crash: true},"
            " {target: gw, at: 1s, for: 1s, latency: +1ms}]")
    _, found = run(load(SINGLE, *spec))
    [finding] = [f for f in found if f["kind"] == "degraded"]
    assert finding["fix"]["set"] == []
    assert "remove it from `faults`" in finding["fix"]["summary"]


def test_a_storm_started_before_the_window_has_all_its_failures_after_the_fault() -> None:
    """The slowdown ends at 0.9 s, before the 1 s warm-up does: the window sends no request
    the fault could meet, so every failure came after it."""
    result, found = run(load(STORM,
                             "faults=[{target: api, at: 0.1s, for: 0.8s, latency: x3}]"))
    finding = one(found, "failures", "users")
    assert finding["fix"] is not None
    assert finding["numbers"]["failed_after_fault"] == failed_requests(result, "users") > 0
    assert finding["fix"]["set"][0].startswith(f"{FRONT}.retry.budget=")


def test_a_timeout_kept_at_its_cap_never_says_a_missed_latency_slo_is_met() -> None:
    """A timeout the latency SLO leaves no more room for is kept; that the error-rate SLO
    holds is said, but "both are met" only when the latency SLO's check passed too (it was
    said under a FAIL)."""
    run = cast(Run, SimpleNamespace(error_check=lambda scope: {
        "scope": scope, "name": "error_rate", "target": 0.05, "actual": 0.02, "met": True}))
    call = {"from": "c.run", "to": "d.run"}
    short = Short(("components", "c", "operations", "run", "calls", 0), 0.03, "p99", 40.0,
                  41.0, False)

    def kept(met: bool) -> str:
        check = {"scope": "all", "name": "p99", "target_ms": 90.0, "met": met}
        return _capped(run, call, short, Cap(20, 70.0, check, 1), 61).summary

    assert "so both are met as it is" in kept(True)
    missed = kept(False)
    assert "both are met" not in missed
    assert "but the p99 SLO of 90 ms misses for what its requests spend elsewhere" in missed
