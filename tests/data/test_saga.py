"""Sagas with known answers: completion time and window of inconsistency with constant work,
compensations in reverse order (on the saga traces), pivot and retriable steps, the
Temporal and Step Functions retry defaults, and orchestration vs choreography on the same
steps."""

from __future__ import annotations

from itertools import pairwise

import pytest
from tests.kernel.helpers import binomial_bound, run

STEPS = [
    {"name": "reserve", "to": "inventory.reserve", "compensate": "inventory.release"},
    {"name": "charge", "to": "payments.charge", "compensate": "payments.refund"},
    {"name": "ship", "to": "shipping.schedule", "compensate": "shipping.cancel"},
]


def shop(saga: dict[str, object], charge_error: float = 0.0, ship_error: float = 0.0,
         steps: list[dict[str, object]] | None = None) -> dict[str, object]:
    def service(**ops: dict[str, object]) -> dict[str, object]:
        return {"workers": "unlimited", "operations": ops}

    events = {"saga-events": {"kind": "queue", "operations": {"publish": {"work": "2ms"}}}}
    return {
        "orders": service(place={"work": "1ms", "calls": [
            {"saga": {"steps": steps or STEPS, **saga}}]}),
        "inventory": service(reserve={"work": "10ms"}, release={"work": "3ms"}),
        "payments": service(charge={"work": "20ms", "error_rate": charge_error},
                            refund={"work": "4ms"}),
        "shipping": service(schedule={"work": "30ms", "error_rate": ship_error},
                            cancel={"work": "5ms"}),
        **(events if "via" in saga else {}),
    }


PLACE = [{"name": "w", "to": "orders.place", "rate": "20/s"}]


def saga_of(result: dict[str, object]) -> dict[str, object]:
    sagas = result["sagas"]
    assert isinstance(sagas, dict)
    return sagas["orders.place"]


def test_orchestrated_saga_takes_its_steps_and_transitions() -> None:
    s = saga_of(run(shop({"transition": "5ms", "policy": "none"}), PLACE, duration="10s"))
    assert s["succeeded"] == s["started"] > 150
    assert s["duration_ms"]["p50"] == pytest.approx(3 * 5 + 10 + 20 + 30, rel=0.006)
    # First local commit (reserve, at 15 ms) to the end (75 ms).
    assert s["inconsistency_ms"]["max"] == pytest.approx(60, rel=0.006)


def test_choreography_adds_a_broker_hop_per_step_and_frees_the_caller() -> None:
    r = run(shop({"coordination": "choreography", "via": "saga-events", "policy": "none"}),
            PLACE, duration="10s")
    s = saga_of(r)
    assert s["coordination"] == "choreography"
    assert s["duration_ms"]["p50"] == pytest.approx(3 * 2 + 10 + 20 + 30, rel=0.006)
    assert r["latency_ms"]["max"] == pytest.approx(1.0, rel=0.01)  # it returns at once
    assert r["components"]["saga-events"]["throughput_rps"] == pytest.approx(
        3 * r["throughput_rps"], rel=0.02)


@pytest.mark.parametrize("coordination", ["orchestration", "choreography"])
def test_compensations_run_in_reverse_order_after_a_failure(coordination: str) -> None:
    saga: dict[str, object] = {"coordination": coordination, "policy": "none"}
    if coordination == "choreography":
        saga["via"] = "saga-events"
    r = run(shop(saga, ship_error=1.0), PLACE, duration="5s")
    s = saga_of(r)
    assert s["compensated"] == s["started"] and s["compensated_rate"] == 1.0
    assert [step["compensated"] for step in s["steps"]] == [s["started"]] * 2 + [0]
    for trace in s["traces"]:
        assert trace["outcome"] == "compensated"
        order = [(e["step"], e["kind"], e["status"]) for e in trace["events"]]
        assert order == [("reserve", "step", "ok"), ("charge", "step", "ok"),
                         ("ship", "step", "error"), ("charge", "compensation", "ok"),
                         ("reserve", "compensation", "ok")]
        times = [(e["start_s"], e["end_s"]) for e in trace["events"]]
        assert all(end <= start for (_, end), (start, _) in pairwise(times))
    hop = 2.0 if coordination == "choreography" else 0.0
    assert s["compensation_ms"]["p50"] == pytest.approx(4 + 3 + 2 * hop, rel=0.01)
    # From the first commit (reserve) to the last compensation.
    assert s["inconsistency_ms"]["p50"] == pytest.approx(20 + 30 + 4 + 3 + 4 * hop, rel=0.01)
    if coordination == "orchestration":
        assert r["requests"]["failed_by_cause"]["error"] == r["requests"]["total"]


def test_the_share_compensated_is_the_pivots_failure_rate() -> None:
    q = 0.3
    steps = [STEPS[0], {**STEPS[1], "pivot": True}, {"name": "ship", "to": "shipping.schedule"}]
    s = saga_of(run(shop({"policy": "none"}, charge_error=q, steps=steps), PLACE,
                    duration="200s"))
    share = s["compensated"] / s["started"]
    assert share == pytest.approx(q, abs=binomial_bound(s["started"], q))
    assert s["succeeded"] + s["compensated"] == s["started"]
    assert s["steps"][1]["pivot"] and s["steps"][0]["compensated"] == s["compensated"]


def test_a_retriable_step_that_keeps_failing_leaves_the_saga_stuck() -> None:
    steps = [STEPS[0], {**STEPS[1], "pivot": True}, {"name": "ship", "to": "shipping.schedule"}]
    s = saga_of(run(shop({"policy": "none"}, ship_error=1.0, steps=steps), PLACE,
                    duration="5s"))
    assert s["stuck"] == s["started"] and s["stuck_rate"] == 1.0
    assert s["steps"][0]["compensated"] == 0  # past the pivot nothing is undone


def test_step_functions_retries_wait_1_2_4_seconds_before_compensating() -> None:
    """MaxAttempts 3 retries after 1 s, 2 s and 4 s: the failure is known 7 s + 4 × 30 ms
    after the ship step starts."""
    s = saga_of(run(shop({"policy": "step_functions"}, ship_error=1.0), PLACE, duration="20s"))
    ship = next(e for e in s["traces"][0]["events"] if e["step"] == "ship")
    assert ship["end_s"] - ship["start_s"] == pytest.approx(7 + 4 * 0.03, abs=1e-6)
    assert ship["attempts"] == 4  # the first try and its three retries
    assert s["duration_ms"]["p50"] == pytest.approx(10 + 20 + 7000 + 120 + 4 + 3, rel=0.006)


def test_temporal_retries_until_a_flaky_retriable_step_succeeds() -> None:
    """After the pivot, Temporal's default policy retries (1 s, 2 s, …) until it works."""
    steps = [STEPS[0], {**STEPS[1], "pivot": True}, {"name": "ship", "to": "shipping.schedule"}]
    s = saga_of(run(shop({"policy": "temporal"}, ship_error=0.5, steps=steps), PLACE,
                    duration="60s", warmup="0s"))
    finished = s["succeeded"] + s["unfinished"]
    assert s["stuck"] == s["compensated"] == 0 and finished == s["started"]
    # Half succeed at once; the others wait at least the first 1 s retry interval.
    assert s["duration_ms"]["p50"] == pytest.approx(60, rel=0.01)
    assert s["duration_ms"]["p90"] > 1000


def test_a_crashed_coordinator_leaves_its_sagas_unfinished() -> None:
    r = run(shop({"transition": "50ms", "policy": "none"}), PLACE, duration="10s",
            faults=[{"target": "orders", "at": "5s", "crash": True}])
    s = saga_of(r)
    assert 0 < s["unfinished"] <= 2
    assert s["succeeded"] + s["unfinished"] == s["started"]


def test_compensation_time_counts_only_sagas_that_compensated() -> None:
    # The first step failing aborts the saga (nothing committed, nothing to undo); the second
    # failing compensates the first (a 4 ms refund). An aborted saga runs no compensation,
    # so it adds no 0 ms "compensation" that would pull the mean below every one that ran.
    steps = [STEPS[1], STEPS[2]]
    s = saga_of(run(shop({"policy": "none"}, charge_error=0.4, ship_error=0.5, steps=steps),
                    PLACE, duration="100s"))
    assert s["aborted"] > 100 and s["compensated"] > 100
    assert s["compensation_ms"]["mean"] == pytest.approx(4.0, rel=0.01)
    assert s["compensation_ms"]["p50"] == pytest.approx(4.0, rel=0.01)
