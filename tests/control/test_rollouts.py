"""Rollouts end to end: a bad canary is aborted by its analysis with a bounded blast radius, a
good one is promoted when its pauses are over, a blue-green switch fails no request, and a
rolling update with max_unavailable 0 never has fewer ready replicas than its spec; blue-green
promotion (auto_promotion, auto_promotion_after, pre- and post-promotion analysis) on a clock."""

from __future__ import annotations

import math
from typing import Any

import pytest

from scalesim.sim import simulate
from scalesim.sim.compile import compile_system
from scalesim.sim.control.results import fleet
from scalesim.sim.kernel import Kernel
from scalesim.spec import System, load_spec_text

RATE = 1000.0
CANARY = """\
scalesim: 1
name: canary
components:
  api:
    replicas: 10
    workers: 4
    operations:
      get: {{work: {{dist: exponential, mean: 5ms}}}}
    versions:
      v2:
        operations: {{get: {{error_rate: {errors}}}}}
    rollout:
      to: v2
      at: 60s
      strategy: canary
      traffic_routing: {routing}
      steps: [{{set_weight: 10%}}, {{pause: 60s}}, {{set_weight: 50%}}, {{pause: 60s}}]
      analysis: {{interval: 10s, failure_limit: 1, error_rate: {{max: 2%}}, p99: {{max: 250ms}}}}
workloads:
  - {{name: users, to: api.get, rate: 1000/s}}
simulation: {{duration: 240s, seed: 5}}
"""


def canary(errors: str, routing: bool) -> dict[str, Any]:
    return simulate(load_spec_text(CANARY.format(errors=errors,
                                                 routing=str(routing).lower())))


def test_a_bad_canary_is_aborted_at_the_first_analysis_past_the_failure_limit() -> None:
    result = canary("20%", routing=True)
    rollout = result["rollouts"][0]
    assert rollout["outcome"] == "aborted"
    errors = [a for a in rollout["analysis"] if a["metric"] == "error_rate"]
    # The first measurement at once (60 s), before v2 served anything: no data, an error;
    # then 10 s later (the retry after an error, and the interval) and every 10 s:
    # failure_limit 1 → the second failure (80 s) aborts.
    assert [a["t_s"] for a in errors] == [60.0, 70.0, 80.0]
    assert [a["phase"] for a in errors] == ["error", "failed", "failed"]
    assert rollout["ended_s"] == 80.0
    assert rollout["steps"][-1] == {"t_s": 80.0, "weight": 0}
    # Poisson arrivals thinned by an exact 10 % weight for 20 s: Poisson(10 % × 1000/s × 20 s)
    # requests reach v2; within 4.5 standard deviations.
    expected = 0.1 * RATE * 20.0
    served = result["components"]["api"]["versions"]["v2"]["requests"]
    assert abs(served - expected) <= 4.5 * math.sqrt(expected)
    # …of which 20 % failed (binomial), and nothing else did.
    failed = result["components"]["api"]["versions"]["v2"]["failed"]
    assert abs(failed - 0.2 * served) <= 4.5 * math.sqrt(served * 0.2 * 0.8)
    assert result["requests"]["failed"] == failed
    assert rollout["new_version"] == {"requests": served, "failed": failed}


@pytest.mark.parametrize("routing", [True, False], ids=["traffic-routing", "replica-share"])
def test_a_healthy_canary_is_promoted_when_its_pauses_are_over(routing: bool) -> None:
    result = canary("0%", routing=routing)
    rollout = result["rollouts"][0]
    assert rollout["outcome"] == "promoted"
    assert rollout["ended_s"] == 60.0 + 60.0 + 60.0  # start + the sum of the pauses
    weights = [s["weight"] for s in rollout["steps"]]
    assert weights[0] == 0 and weights[-1] == 100 and 10 in weights and 50 in weights
    # The measurements at the start (60 s) have no data yet; every later one passes.
    assert {a["phase"] for a in rollout["analysis"] if a["t_s"] == 60.0} == {"error"}
    assert all(a["phase"] == "successful" for a in rollout["analysis"] if a["t_s"] > 60.0)
    assert result["requests"]["failed"] == 0


SLOW_CANARY = """\
scalesim: 1
name: slow-canary
components:
  api:
    replicas: 10
    workers: 2
    queue: 50
    operations:
      get: {{work: 10ms}}
    versions:
      v2: {{startup: 20s, operations: {{get: {{work: 10ms}}}}}}
    rollout:
      to: v2
      at: 10s
      strategy: canary
      traffic_routing: {routing}
      steps: [{{set_weight: 15%}}, {{pause: 10s}}, {{set_weight: 60%}}, {{pause: 30s}}]
workloads:
  - {{name: users, to: api.get, arrivals: constant, rate: 500/s}}
simulation: {{duration: 150s, seed: 2}}
"""


@pytest.mark.parametrize("routing", [True, False], ids=["traffic-routing", "replica-share"])
def test_a_canary_is_promoted_only_once_its_new_set_is_fully_available(routing: bool) -> None:
    """Argo's shouldFullPromote waits for the new set to have the whole spec available, and a
    routed canary keeps the previous weight until the set is at its count, for every weight:
    15 % at 30 s (2 replicas, 20 s to start), 60 % at 60 s (set at 40 s), the last pause ends
    at 90 s, the 100 % (10 replicas) is there at 110 s: promoted then. With routing the
    stable set goes `scale_down_delay` (30 s) after that switch; no request fails."""
    result = simulate(load_spec_text(SLOW_CANARY.format(routing=str(routing).lower())),
                      with_series=True)
    rollout = result["rollouts"][0]
    assert rollout["outcome"] == "promoted" and rollout["ended_s"] == 110.0
    assert rollout["steps"][-1] == {"t_s": 110.0, "weight": 100}
    assert result["requests"]["failed"] == 0
    if not routing:
        return
    assert rollout["steps"] == [{"t_s": 10.0, "weight": 0}, {"t_s": 30.0, "weight": 15},
                                {"t_s": 60.0, "weight": 60}, {"t_s": 110.0, "weight": 100}]
    table = result["timeseries"]["replicas"]
    base = [dict(zip(table["columns"], row, strict=True)) for row in table["rows"]
            if row[2] == "base"]
    assert min(r["t_s"] for r in base if r["desired"] == 0) == 140.0


STEP_ANALYSIS = """\
scalesim: 1
name: step-analysis
components:
  api:
    replicas: 10
    operations:
      get: {{work: 1ms}}
    versions:
      v2: {{operations: {{get: {{work: 1ms}}}}}}
    rollout:
      to: v2
      at: 10s
      strategy: canary
      steps: [{{set_weight: 20%}}, {{analysis: {{interval: 60s, {delay}error_rate: {{max: 2%}}}}}},
              {{set_weight: 60%}}]
workloads:
  - {{name: users, to: api.get, arrivals: constant, rate: 100/s}}
simulation: {{duration: 150s, seed: 1}}
"""


@pytest.mark.parametrize(("delay", "log"), [
    ("", [(10.0, "error", None), (20.0, "successful", 0.0)]),
    ("initial_delay: 30s, ", [(40.0, "successful", 0.0)]),
], ids=["at-once", "initial-delay"])
def test_a_step_analysis_measures_at_once_or_after_its_initial_delay(
        delay: str, log: list[tuple[float, str, float | None]]) -> None:
    """Argo measures when the run starts (10 s, with the 20 % step), not one interval later.
    That range holds no v2 request yet: an error, retried 10 s later over the range ending
    then (its 10 s of data). With initial_delay 30 s the first measurement is at 40 s, over
    the 60 s before it. The step's one measurement done, the rollout goes on at once."""
    rollout = simulate(load_spec_text(STEP_ANALYSIS.format(delay=delay)))["rollouts"][0]
    assert [(a["t_s"], a["phase"], a["value"]) for a in rollout["analysis"]] == log
    assert rollout["outcome"] == "promoted" and rollout["ended_s"] == log[-1][0]


UP_AND_DOWN = """\
scalesim: 1
name: up-and-down
components:
  api:
    replicas: 10
    operations:
      get: {{work: 1ms}}
    versions:
      v2: {{startup: {startup}, operations: {{get: {{work: 1ms}}}}}}
    rollout:
      to: v2
      at: 10s
      strategy: canary
      traffic_routing: {routing}
      steps: [{{set_weight: 50%}}, {{pause: 10s}}, {{set_weight: 20%}}, {{pause: 10s}},
              {{set_weight: 10%}},
              {{analysis: {{interval: 10s, count: 3, error_rate: {{max: 2%}}}}}},
              {{set_weight: 60%}}, {{pause: 10s}}]
workloads:
  - {{name: users, to: api.get, arrivals: constant, rate: 100/s}}
simulation: {{duration: 150s, seed: 1}}
"""


@pytest.mark.parametrize(("routing", "startup"), [(True, "5s"), (False, "0s")],
                         ids=["traffic-routing", "replica-share"])
def test_every_step_runs_in_order_whether_a_weight_is_raised_or_lowered(
        routing: bool, startup: str) -> None:
    """Argo runs each step in turn: a lowered weight is reached at once (the canary only
    loses replicas), and the pause or analysis after it runs whole. With a 5 s startup:
    50 % at 15 s, pause to 25 s, 20 % at 25 s, pause to 35 s, 10 % at 35 s, three
    measurements 10 s apart (35, 45, 55 s), 60 % once its new replicas are up (60 s), pause
    to 70 s, 100 % up at 75 s. Without a startup every set change is immediate: 10 s + the
    pauses and the analysis's two intervals, 60 s."""
    spec = UP_AND_DOWN.format(routing=str(routing).lower(), startup=startup)
    rollout = simulate(load_spec_text(spec))["rollouts"][0]
    begin = 5.0 if routing else 0.0
    analysed = [10.0 + begin + 20.0 + 10.0 * k for k in range(3)]
    assert [(a["t_s"], a["phase"]) for a in rollout["analysis"]] == \
        [(t, "successful") for t in analysed]
    assert rollout["outcome"] == "promoted"
    assert rollout["ended_s"] == (75.0 if routing else 60.0)
    if routing:
        assert [(s["t_s"], s["weight"]) for s in rollout["steps"]] == [
            (10.0, 0), (15.0, 50), (25.0, 20), (35.0, 10), (60.0, 60), (75.0, 100)]


BLUE_GREEN = """\
scalesim: 1
name: blue-green
components:
  api:
    replicas: 10
    workers: 4
    startup: {dist: lognormal, median: 8s, p99: 30s}
    operations:
      get: {work: {dist: exponential, mean: 5ms}}
    versions:
      v2: {operations: {get: {work: {dist: exponential, mean: 4ms}}}}
    rollout:
      to: v2
      at: 30s
      strategy: blue_green
      preview_replicas: 3
      scale_down_delay: 30s
workloads:
  - {name: users, to: api.get, rate: 1500/s}
simulation: {duration: 180s, seed: 11}
"""


def test_a_blue_green_switch_fails_no_request() -> None:
    result = simulate(load_spec_text(BLUE_GREEN), with_series=True)
    rollout = result["rollouts"][0]
    assert rollout["outcome"] == "promoted"
    switch = rollout["steps"][-1]
    assert switch["weight"] == 100 and switch["t_s"] == rollout["ended_s"]
    assert result["requests"]["failed"] == 0
    versions = result["components"]["api"]["versions"]
    assert versions["base"]["requests"] > 0 and versions["v2"]["requests"] > 0
    # The old (blue) replicas stay 30 s after the switch, then terminate.
    table = result["timeseries"]["replicas"]
    cols = table["columns"]
    base = [dict(zip(cols, row, strict=True)) for row in table["rows"] if row[2] == "base"]
    kept = [r for r in base if r["t_s"] < switch["t_s"] + 30.0]
    assert all(r["ready"] == 10 for r in kept)
    assert base[-1]["ready"] == 0 and base[-1]["desired"] == 0


ROLLING = """\
scalesim: 1
name: rolling
components:
  api:
    replicas: 10
    workers: 4
    startup: {dist: uniform, min: 2s, max: 12s}
    operations:
      get: {work: {dist: exponential, mean: 5ms}}
    versions:
      v2: {}
    rollout: {to: v2, at: 20s, strategy: rolling, max_surge: 3, max_unavailable: 0}
workloads:
  - {name: users, to: api.get, rate: 1000/s}
simulation: {duration: 120s, seed: 4}
"""


def test_rolling_with_max_unavailable_zero_never_drops_below_the_replica_count() -> None:
    """Checked at every change of the replica sets, not only once a second."""
    system: System = load_spec_text(ROLLING)
    sim = system.simulation
    plan = compile_system(system, sim.seed)
    kernel = Kernel(plan, sim.warmup, sim.duration, sim.interval, sim.limits)
    api = fleet(kernel, "api")
    assert api is not None
    seen: list[tuple[int, int, int]] = []
    api.listeners.append(lambda: seen.append((api.available(0), api.available(1),
                                              api.created(0) + api.created(1))))
    kernel.run()
    assert seen
    assert min(old + new for old, new, _ in seen) >= 10  # max_unavailable 0
    assert max(created for _, _, created in seen) <= 13  # max_surge 3
    assert seen[-1][:2] == (0, 10)


SCALED_CANARY = """\
scalesim: 1
name: scaled-canary
components:
  api:
    replicas: 4
    workers: 2
    queue: 20
    operations:
      get: {work: {dist: exponential, mean: 5ms}}
    autoscale: {min: 4, max: 20, metrics: [{cpu: 50%}]}
    versions:
      v2: {}
    rollout:
      to: v2
      at: 10s
      strategy: canary
      traffic_routing: true
      steps: [{set_weight: 25%}, {pause: 120s}]
workloads:
  - name: users
    to: api.get
    profile: [{at: 0s, rate: 600/s}, {at: 30s, rate: 2400/s}]
simulation: {duration: 100s, seed: 3}
"""


def test_the_hpa_scales_the_rollout_and_both_sets_follow() -> None:
    """§7 with §5: the HPA writes the Rollout's spec.replicas; with traffic routing the
    stable keeps the whole spec and the canary ceil(25 % × spec), whatever the spec becomes."""
    system = load_spec_text(SCALED_CANARY)
    sim = system.simulation
    kernel = Kernel(compile_system(system, sim.seed), sim.warmup, sim.duration, sim.interval,
                    sim.limits)
    kernel.run()
    api = fleet(kernel, "api")
    assert api is not None and api.spec_replicas > 4  # the load step scaled it
    spec = api.spec_replicas
    assert api.sets[0].desired == spec
    assert api.sets[1].desired == math.ceil(0.25 * spec)


def test_an_inconclusive_analysis_pauses_the_rollout() -> None:
    """§7: Inconclusive → pause (Argo waits for a person): the rollout stays in progress at
    its weight."""
    text = CANARY.format(errors="0%", routing="true").replace(
        "p99: {max: 250ms}", "p99: {max: 1ms, fail_above: 10s}")
    rollout = simulate(load_spec_text(text))["rollouts"][0]
    assert rollout["outcome"] == "in_progress"
    assert rollout["reason"].startswith("paused: background analysis inconclusive")
    assert rollout["final_weight"] == 10


STEPPED_BLUE_GREEN = """\
scalesim: 1
name: blue-green-steps
components:
  api:
    replicas: 6
    workers: 4
    startup: 5s
    operations:
      get: {{work: {{dist: exponential, mean: 5ms}}}}
    versions:
      v2: {{operations: {{get: {{error_rate: {errors}}}}}}}
    rollout:
      to: v2
      at: 30s
      strategy: blue_green
      preview_replicas: 2
      {extra}
workloads:
  - {{name: users, to: api.get, rate: 500/s}}
simulation: {{duration: 200s, seed: 7}}
"""
# With a constant 5 s startup: the preview (2 replicas, created at 30 s) is ready at 35 s;
# promotion scales it to the full 6, ready 5 s later, and then traffic switches.
PREVIEW_READY = 35.0


def blue_green(extra: str = "", errors: str = "0%") -> tuple[dict[str, Any], dict[str, Any]]:
    result = simulate(load_spec_text(STEPPED_BLUE_GREEN.format(extra=extra, errors=errors)))
    return result, result["rollouts"][0]


def test_blue_green_switches_when_the_full_new_set_is_ready() -> None:
    _, rollout = blue_green()
    assert rollout["outcome"] == "promoted"
    assert rollout["steps"] == [{"t_s": 30.0, "weight": 0},
                                {"t_s": PREVIEW_READY + 5.0, "weight": 100}]


@pytest.mark.parametrize("preview", [6, 10])
def test_blue_green_with_a_full_size_preview_switches_once_it_is_ready(preview: int) -> None:
    """Argo promotes whatever previewReplicaCount is: a preview of the full 6 (or more,
    capped at 6) has nothing left to scale, so traffic switches as soon as it is ready."""
    text = STEPPED_BLUE_GREEN.format(extra="", errors="0%").replace(
        "preview_replicas: 2", f"preview_replicas: {preview}")
    result = simulate(load_spec_text(text))
    rollout = result["rollouts"][0]
    assert rollout["outcome"] == "promoted"
    assert rollout["steps"] == [{"t_s": 30.0, "weight": 0},
                                {"t_s": PREVIEW_READY, "weight": 100}]
    assert result["components"]["api"]["versions"]["v2"]["requests"] > 0


def test_blue_green_without_auto_promotion_waits_and_the_preview_serves_nothing() -> None:
    """§7 autoPromotionEnabled false: the rollout pauses with the preview up, and no user
    request reaches it (they all go to the active version)."""
    result, rollout = blue_green("auto_promotion: false")
    assert rollout["outcome"] == "in_progress"
    assert rollout["reason"] == "waiting for a manual promotion (auto_promotion: false)"
    assert rollout["final_weight"] == 0
    assert result["components"]["api"]["versions"]["v2"]["requests"] == 0
    assert result["requests"]["failed"] == 0


def test_blue_green_auto_promotion_after_delays_the_switch_by_that_much() -> None:
    """§7 autoPromotionSeconds: counted from the preview being ready (35 s); 35 + 40 s, then
    5 s to start the rest of the replicas: the switch is at 80 s instead of 40 s."""
    _, rollout = blue_green("auto_promotion_after: 40s")
    assert rollout["outcome"] == "promoted"
    assert rollout["steps"][-1] == {"t_s": PREVIEW_READY + 40.0 + 5.0, "weight": 100}


def test_blue_green_pre_promotion_analysis_has_no_data_and_errors_out() -> None:
    """No workload reaches the preview, so every pre-promotion measurement is an error (no
    data, as an empty Prometheus result in Argo): the first when the preview is ready (35 s),
    then one every 10 s (Argo's retry after an error, even with a 30 s interval);
    consecutive_error_limit 4 → the fifth, at 35 + 4 × 10 s, ends it in Error and the rollout
    aborts without a switch."""
    result, rollout = blue_green(
        "pre_promotion_analysis: {interval: 30s, error_rate: {max: 2%}}")
    assert rollout["outcome"] == "aborted"
    assert rollout["ended_s"] == PREVIEW_READY + 40.0
    assert [a["t_s"] for a in rollout["analysis"]] == [35.0, 45.0, 55.0, 65.0, 75.0]
    assert all(a["phase"] == "error" and a["value"] is None for a in rollout["analysis"])
    assert rollout["reason"].startswith("pre-promotion analysis error: error_rate: no "
                                        "requests to measure in 5 measurements in a row")
    assert "post_promotion_analysis" in rollout["reason"]
    assert rollout["final_weight"] == 0
    assert result["components"]["api"]["versions"]["v2"]["requests"] == 0


def test_blue_green_post_promotion_analysis_promotes_a_good_version_after_count() -> None:
    """Switch at 40 s, then count 2 measurements on the new active version: the first at
    once, over the 10 s before the switch, when v2 served nothing (an error, not counted),
    then 10 s apart: both successful, promoted at 60 s."""
    _, rollout = blue_green(
        "post_promotion_analysis: {interval: 10s, count: 2, error_rate: {max: 2%}}")
    assert rollout["outcome"] == "promoted"
    assert rollout["ended_s"] == 60.0
    assert [(a["t_s"], a["run"], a["phase"]) for a in rollout["analysis"]] == [
        (40.0, "post-promotion", "error"), (50.0, "post-promotion", "successful"),
        (60.0, "post-promotion", "successful")]


def test_blue_green_post_promotion_analysis_switches_a_bad_version_back() -> None:
    """v2 fails 20 %: the first post-promotion measurement (50 s) fails, failure_limit 0 →
    abort, and all traffic goes back to the old version at once. v2 served the 10 s between
    the switch and the abort: Poisson(500/s × 10 s) requests, 20 % of them failed."""
    result, rollout = blue_green(
        "post_promotion_analysis: {interval: 10s, count: 2, error_rate: {max: 2%}}",
        errors="20%")
    assert rollout["outcome"] == "aborted"
    assert rollout["ended_s"] == 50.0
    assert rollout["steps"][-2:] == [{"t_s": 40.0, "weight": 100}, {"t_s": 50.0, "weight": 0}]
    assert rollout["reason"].startswith("post-promotion analysis failed: error_rate")
    v2 = result["components"]["api"]["versions"]["v2"]
    assert abs(v2["requests"] - 5000) <= 4.5 * math.sqrt(5000)
    assert abs(v2["failed"] - 0.2 * v2["requests"]) <= 4.5 * math.sqrt(v2["requests"] * 0.16)


SMOKE = "  - {name: smoke, to: api.get, rate: 20/s, preview: true}\n"  # a preview client


def previewed(extra: str, errors: str = "0%") -> dict[str, Any]:
    """The stepped blue-green with a smoke test aimed at the preview Service."""
    text = STEPPED_BLUE_GREEN.format(extra=extra, errors=errors)
    users = "  - {name: users, to: api.get, rate: 500/s}\n"
    return simulate(load_spec_text(text.replace(users, users + SMOKE)))


def within(count: int, mean: float) -> bool:
    """A Poisson count within 4.5 standard deviations of its mean."""
    return abs(count - mean) <= 4.5 * math.sqrt(mean)


def test_a_pre_promotion_analysis_measures_the_preview_clients_and_promotes() -> None:
    """Argo points the preview Service at the new set when the rollout creates it (30 s), so
    the smoke test's requests find no replica until the preview is ready at 35 s: Poisson(20/s
    × 5 s) fail unavailable, and v2 serves none of them. The first measurement (35 s, when
    the preview is ready) has no data: an error, retried 10 s later. From then on they are
    the analysis's data: both measurements (45, 55 s) see v2's 0 % errors, the preview scales
    to 6 (ready 5 s later) and traffic switches at 60 s. No user request failed."""
    result = previewed("pre_promotion_analysis: {interval: 10s, count: 2, "
                       "error_rate: {max: 2%}}")
    rollout = result["rollouts"][0]
    assert rollout["outcome"] == "promoted"
    assert [(a["t_s"], a["run"], a["phase"], a["value"]) for a in rollout["analysis"]] == [
        (35.0, "pre-promotion", "error", None), (45.0, "pre-promotion", "successful", 0.0),
        (55.0, "pre-promotion", "successful", 0.0)]
    assert rollout["steps"] == [{"t_s": 30.0, "weight": 0}, {"t_s": 60.0, "weight": 100}]
    assert result["workloads"]["users"]["requests"]["failed"] == 0
    smoke = result["workloads"]["smoke"]["requests"]
    assert smoke["failed"] == smoke["failed_by_cause"]["unavailable"]
    assert within(smoke["failed"], 20 * 5.0)


def test_a_bad_preview_is_aborted_before_any_user_request_reaches_it() -> None:
    """v2 fails 20 %: the first pre-promotion measurement (45 s) fails and the rollout aborts
    with no switch. Users never reached v2; the smoke test did, from 35 s until the aborted
    set was scaled down (abort_scale_down_delay 30 s: at 75 s). The preview Service still
    selects that set, now empty, so the smoke test's requests fail unavailable from then to
    the end (200 s), as in the 5 s before the preview was ready."""
    result = previewed("pre_promotion_analysis: {interval: 10s, count: 2, "
                       "error_rate: {max: 2%}}", errors="20%")
    rollout = result["rollouts"][0]
    assert rollout["outcome"] == "aborted" and rollout["ended_s"] == 45.0
    assert rollout["steps"] == [{"t_s": 30.0, "weight": 0}]
    assert rollout["reason"].startswith("pre-promotion analysis failed: error_rate")
    assert result["workloads"]["users"]["requests"]["failed"] == 0
    v2 = result["components"]["api"]["versions"]["v2"]
    assert within(v2["requests"], 20 * (75.0 - 35.0))
    assert abs(v2["failed"] - 0.2 * v2["requests"]) <= 4.5 * math.sqrt(v2["requests"] * 0.16)
    unavailable = result["workloads"]["smoke"]["requests"]["failed_by_cause"]["unavailable"]
    assert within(unavailable, 20 * (5.0 + 200.0 - 75.0))


def test_preview_clients_reach_the_active_version_when_no_rollout_is_under_way() -> None:
    """Before the rollout starts (and when it never does) the preview Service selects the
    current pods, as the active one does."""
    text = STEPPED_BLUE_GREEN.format(extra="", errors="0%").replace("at: 30s", "at: 500s")
    users = "  - {name: users, to: api.get, rate: 500/s}\n"
    result = simulate(load_spec_text(text.replace(users, users + SMOKE)))
    smoke = result["workloads"]["smoke"]["requests"]
    assert smoke["failed"] == 0 and within(smoke["total"], 20 * 200.0)
    assert result["rollouts"][0]["started_s"] is None
    assert result["components"]["api"]["versions"]["v2"]["requests"] == 0
