"""Rollouts whose analysis judged the new version bad, and the failure_limit that let it on."""

from __future__ import annotations

from typing import Any

from scalesim.diagnosis import diagnose
from scalesim.sim import simulate
from scalesim.spec import load_spec_text
from scalesim.templates.registry import get_template


def _run(*overrides: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    text = get_template("canary").build({}).text
    system = load_spec_text(text, overrides=overrides)
    result = simulate(system)
    return result, diagnose(system, result)


def test_a_failure_limit_that_lets_a_bad_canary_on_is_lowered_to_abort_it() -> None:
    """The canary template (v2 fails 20 %) with failure_limit 20: every error-rate
    measurement fails, the rollout goes on to 50 % at 120 s, and the only finding was
    '2.8 % of requests failed' with no evidence and no fix (QA). The finding names v2, its
    failed measurements and the limit; the fix is the largest limit that aborts before the
    weight rises (the failures measured by then, less one), and a run with it aborts there."""
    result, found = _run("components.api.rollout.analysis.failure_limit=20")
    rollout = result["rollouts"][0]
    assert rollout["outcome"] == "in_progress"
    rise = next(s["t_s"] for s in rollout["steps"] if s["weight"] > 10)
    early = [m for m in rollout["analysis"] if m["metric"] == "error_rate"
             and m["phase"] == "failed" and m["t_s"] < rise]
    (finding,) = [f for f in found if f["kind"] == "rollout"]
    assert finding["limit"] == "failure_limit" and "v2" in finding["summary"]
    assert finding["numbers"]["proposed_failure_limit"] == len(early) - 1
    assert finding["fix"]["set"] == [
        f"components.api.rollout.analysis.failure_limit={len(early) - 1}"]
    (failures,) = [f for f in found if f["kind"] == "failures"]
    assert failures["fix"] == finding["fix"]
    fixed, _ = _run(*finding["fix"]["set"])
    assert fixed["rollouts"][0]["outcome"] == "aborted"
    assert fixed["rollouts"][0]["ended_s"] < rise
    assert fixed["requests"]["failed"] < result["requests"]["failed"] / 2


def test_a_failure_now_and_then_is_what_the_limit_is_for() -> None:
    """A good v2 whose p99 check fails a measurement now and then (a max of 24 ms at its
    p99 of about 23 ms) under failure_limit 20: most measurements pass, no finding."""
    result, found = _run("components.api.versions.v2.operations.get.error_rate=0",
                         "components.api.rollout.analysis.failure_limit=20",
                         "components.api.rollout.analysis.p99.max=24ms")
    measured = [m for m in result["rollouts"][0]["analysis"] if m["metric"] == "p99"]
    assert any(m["phase"] == "failed" for m in measured)
    assert not [f for f in found if f["kind"] == "rollout"]
