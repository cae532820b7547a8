"""Requests failed by a saga's compensations: a step up to the pivot that fails with its own
errors is answered by compensating the steps before it, as the saga is designed to, so the
failures finding names those sagas and proposes no retry of the errors (QA: it proposed
retrying the pivot's declines, which broke the saga-orchestration template's design)."""

from __future__ import annotations

from typing import Any

from tests.diagnosis.advice import findings, load, one, run

from scalesim.spec import System
from scalesim.templates.registry import get_template

STEPS = "components.orders.operations.place.calls.0.saga.steps"


def _template(*overrides: str) -> System:
    """The saga-orchestration template's default scenario, 10 s: the pivot (payments,
    10 % declines) retries timeouts only, "a decline is an answer"."""
    return load(get_template("saga-orchestration").build({}).text,
                "simulation.duration=10s", *overrides)


def _retries(finding: dict[str, Any], step: int) -> bool:
    """Whether the finding's fix changes the retry of saga step `step`."""
    fix = finding["fix"] or {"set": []}
    return any(o.startswith(f"{STEPS}.{step}.retry") for o in fix["set"])


def test_declines_at_the_pivot_are_compensations_not_failures_to_retry() -> None:
    """The template's 10 % declined payments fail 10 % of the orders, each a compensated
    saga. The fix used to add `error` to the pivot's retries: applied, the compensated share
    fell from 0.10 to 0.001 and p99 rose from 1.4 s to 3.2 s. Now a warning names the
    compensated sagas, with no fix."""
    result, found = run(_template())
    compensated = result["sagas"]["orders.place"]["compensated"]
    assert result["workloads"]["orders"]["requests"]["failed"] == compensated == 200
    finding = one(found, "failures", "orders")
    assert finding["severity"] == "warning" and finding["fix"] is None
    assert finding["numbers"]["compensated"] == compensated
    assert "as designed" in finding["summary"]
    assert any("authorize-payment (payments.authorize, the pivot) 200" in e
               for e in finding["evidence"])


def test_a_step_before_the_pivot_failing_on_its_own_is_not_retried_either() -> None:
    """Out-of-stock answers of reserve-stock (30 %, a compensatable step, here with one
    try) compensate create-order, as the declines do: no retry of either is proposed."""
    _, found = run(_template("components.inventory.operations.reserve.error_rate=0.3",
                             f"{STEPS}.1.retry={{attempts: 1}}"))
    finding = one(found, "failures", "orders")
    assert finding["severity"] == "warning"
    assert not _retries(finding, 1) and not _retries(finding, 2)


def test_a_retriable_step_past_the_pivot_still_gets_its_error_retry() -> None:
    """Past the pivot a step is retriable: its errors are transient, and the saga cannot
    compensate them (it is left stuck), so retrying them is the fix, as before."""
    _, found = run(_template(f"{STEPS}.3.retry={{attempts: 1}}"))
    finding = one(found, "failures", "orders")
    assert finding["severity"] == "problem" and _retries(finding, 3)
    assert not _retries(finding, 2)


def test_a_crashed_participant_stays_a_problem_beside_the_compensations() -> None:
    """inventory crashed from 3 s to the end: the sagas it failed are no design, so the
    finding stays a problem with the fault's fix; the declines are named apart. The fix
    proposed a fallback on reserve-stock, which a saga step refuses (`on_failure`): the
    override did not load. Now it says the step takes none, and sets nothing."""
    crash = 'faults=[{target: inventory, at: 3s, for: 9s, crash: true}]'
    result, found = run(_template(crash))
    finding = one(found, "failures", "orders")
    assert finding["severity"] == "problem" and finding["fix"] is not None
    assert "inventory.reserve is a saga's call, which takes no fallback" in \
        finding["fix"]["summary"]
    assert finding["fix"]["set"] == []
    assert 0 < finding["numbers"]["compensated"] < result["workloads"]["orders"]["requests"][
        "failed"]
    assert findings(found, "failures") == [finding]


def test_a_crashed_replica_of_a_participant_gets_a_retry_that_loads() -> None:
    """inventory[0] crashed, reserve-stock with one try: the fix retries it on the other
    replica, with no fallback beside it, and the override loads."""
    spec = _template('faults=[{target: "inventory[0]", at: 3s, for: 9s, crash: true}]',
                     f"{STEPS}.1.retry={{attempts: 1}}")
    _, found = run(spec)
    fix = one(found, "failures", "orders")["fix"]
    assert fix["set"] == [f"{STEPS}.1.retry.attempts=3"] and "fallback" not in fix["summary"]
    _template(f"{STEPS}.1.retry={{attempts: 1}}", *fix["set"])


def test_a_retry_proposed_for_a_fault_on_a_step_before_the_pivot_leaves_its_errors() -> None:
    """With no retry policy, reserve-stock (5 % out of stock) with inventory[0] crashed: the
    fix's retry to the other replica was `retry={attempts: 3}`, whose default causes retry
    the out-of-stock answers the saga compensates. Now its causes leave `error` out."""
    spec = _template('faults=[{target: "inventory[0]", at: 3s, for: 9s, crash: true}]',
                     "components.orders.operations.place.calls.0.saga.policy=none",
                     "components.inventory.operations.reserve.error_rate=0.05")
    _, found = run(spec)
    fix = one(found, "failures", "orders")["fix"]
    assert fix["set"] == [f"{STEPS}.1.retry={{attempts: 3, 'on': [timeout, rejected, crashed, "
                          "overflow, unavailable]}"]


def test_a_step_past_the_pivot_whose_callee_crashed_gets_tries_that_outlast_it() -> None:
    """With no policy, shipping crashed for 5 s: the stuck-sagas fix sized the step's
    retry as if each try failed on its own at the measured share (8 tries of the default
    25 to 250 ms back-off, 1.35 s: 580 of the sagas still stuck once applied, QA). The
    tries now back off from 100 ms to 1 s until their longest waits add up to twice the
    outage, and applied, far fewer sagas are left stuck."""
    crash = "faults=[{target: shipping, at: 3s, for: 5s, crash: true}]"
    no_policy = "components.orders.operations.place.calls.0.saga.policy=none"
    result, found = run(_template("simulation.duration=15s", no_policy, crash))
    stuck = one(found, "saga", "orders.place")
    [setting] = [o for o in stuck["fix"]["set"] if o.startswith(f"{STEPS}.3.retry")]
    assert "base: 100ms" in setting and "max: 1000ms" in setting
    assert "outlast" in stuck["fix"]["summary"]
    before = result["sagas"]["orders.place"]["stuck"]
    fixed, _ = run(_template("simulation.duration=15s", no_policy, crash, setting))
    after = fixed["sagas"]["orders.place"]["stuck"]
    assert after < before / 5, (before, after)
