"""The run budget: events estimated from the offered load match what the kernel counts, and
runs far over the budget are refused before they start, with the estimate."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.analytic.counting import counted
from typer.testing import CliRunner

from scalesim.analytic.load import mean_rate
from scalesim.analytic.runtime import RING_BUILD_PER_POINT, run_cost
from scalesim.cli import app
from scalesim.spec import load_spec, load_spec_text
from scalesim.spec.model import Workload

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_a_profile_s_mean_rate_integrates_its_steps_and_ramps() -> None:
    workload = Workload.model_validate({"name": "w", "to": "a", "profile": [
        {"at": "0s", "rate": "100/s"}, {"at": "10s", "rate": "300/s", "ramp": "linear"},
        {"at": "20s", "rate": "0/s"}]})
    # A linear point ramps from the previous point: 100 -> 300 over 0-10 s (mean 200), then
    # 300 until the step to 0 at 20 s.
    assert mean_rate(workload, 0.0, 40.0) == pytest.approx((2000 + 3000) / 40)
    assert mean_rate(workload, 5.0, 10.0) == pytest.approx(250.0)
    assert mean_rate(workload, 10.0, 15.0) == pytest.approx(300.0)


@pytest.mark.parametrize("example", ["shop", "cascade", "contained", "hedging"])
def test_estimated_events_are_within_ten_percent_of_the_kernel_s(example: str) -> None:
    """The retry storm, whose estimate leans high, is in test_runtime_retries.py."""
    system = load_spec(EXAMPLES / f"{example}.yaml", ["simulation.duration=20s"])
    events = counted(system)
    estimated = run_cost(system).events
    assert estimated == pytest.approx(events, rel=0.1)


TIMERS = """scalesim: 1
name: timers
components:
  api:
    replicas: 50
    health: {readiness: {period: 100ms}, liveness: {period: 200ms}}
    operations: {get: {work: 1ms}}
workloads: [{name: w, to: api.get, rate: 1/s}]
faults: [{target: api, at: 2s, for: 4s, pause: {every: 50ms, for: 1ms}}]
simulation: {duration: 10s}
"""


def test_probes_and_pauses_are_counted_whatever_the_load() -> None:
    """At 1 request a second, nearly every event is a timer's: 50 replicas' readiness every
    100 ms and liveness every 200 ms (750/s), and a pause every 50 ms for 4 of 10 s, a start
    and an end each (2 × 50 × 20 × 0.4 = 800/s). The estimate had counted ten events."""
    from scalesim.spec import load_spec_text

    system = load_spec_text(TIMERS)
    events = counted(system)
    cost = run_cost(system)
    assert cost.timer_events == pytest.approx(10 * (750 + 800))
    assert cost.events == pytest.approx(events, rel=0.1)


def test_a_run_whose_timers_are_over_the_budget_is_refused_saying_so() -> None:
    """99,000 replicas synced every millisecond: one event a sync, each reading every
    replica, hours of work with a handful of events (it ran unrefused)."""
    result = CliRunner().invoke(app, ["simulate", str(EXAMPLES / "shop.yaml"), "--set",
                                      "components.catalog.replicas=99000", "--set",
                                      "components.catalog.autoscale={min: 1, max: 99000, "
                                      "metrics: [{cpu: 60%}], sync_period: 1ms, window: 1ms}"])
    assert result.exit_code == 3, result.output
    text = " ".join(result.stderr.split())
    assert "autoscaler syncs worth 16,126,500,000 more" in text
    assert "Timers make 100% of it" in text and "sync_period" in text


def test_a_hash_ring_an_autoscaler_could_take_to_99000_replicas_is_refused_naming_it() -> None:
    """Each replica that joins or leaves rebuilds the ring, so an autoscaler going from 1 to
    99,000 replicas rebuilds it at every size on the way: 490 billion points in all."""
    result = CliRunner().invoke(app, ["simulate", str(EXAMPLES / "shop.yaml"), "--set",
                                      "components.catalog.balancer=hash", "--set",
                                      "components.catalog.autoscale={min: 1, max: 99000, "
                                      "metrics: [{cpu: 60%}]}"])
    assert result.exit_code == 3, result.output
    text = " ".join(result.stderr.split())
    assert "and hash rings worth 24," in text
    assert "Hash rings make 100% of it" in text and "'balancer: hash'" in text


def test_99000_hash_replicas_that_stay_are_within_the_budget() -> None:
    """The ring is built once (its building counted: 100 points a replica), in seconds; it
    took 44 s and 2.2 GB before it was packed."""
    from scalesim.budget import estimate

    system = load_spec(EXAMPLES / "shop.yaml", ["components.catalog.balancer=hash",
                                                "components.catalog.replicas=99000"])
    found = estimate(system)
    assert found.cost.ring_work == pytest.approx(RING_BUILD_PER_POINT * 9_900_000)
    assert not found.over


@pytest.mark.parametrize(("overrides", "says"), [
    (["workloads.0.rate=1e9/s"], "1,000,000,600 requests/s"),  # the shop adds its 600/s
    # 25 hours at 2 s intervals (1 s would pass the bound on time-series points first)
    (["simulation.duration=9e4s", "simulation.interval=2s"], "min at ~"),
])
def test_a_runaway_run_is_refused_up_front_with_its_estimate(overrides: list[str],
                                                            says: str) -> None:
    sets = [arg for override in overrides for arg in ("--set", override)]
    result = CliRunner().invoke(app, ["simulate", str(EXAMPLES / "shop.yaml"), *sets])
    assert result.exit_code == 3
    assert result.stderr.startswith("refused: this run is estimated at ")
    text = " ".join(result.stderr.split())
    assert says in text and "--force" in text and " at ~" in text
    assert "e+" not in text  # counts, rates and times in full, not 1.02e+03


@pytest.mark.parametrize(("seconds", "says"), [
    (45, "45 s"), (720, "12 min"), (30 * 3600, "30 h"), (1020 * 3600, "42 days"),
    (1e7 * 100, "32 years")])
def test_wall_times_read_in_the_unit_people_plan_with(seconds: float, says: str) -> None:
    from scalesim.budget import amount, human

    assert human(seconds) == says
    assert amount(1.02e9) == "1,020,000,000" and amount(42.5) == "42.5"


def test_a_closed_loop_costs_what_mva_says_it_sends() -> None:
    """1,000 users without think time on 4 workers of 1 ms: MVA (and the simulation) has
    them at 4,000 requests/s, the workers' capacity; counted at users / (think + response)
    they were a million a second, and a 600 s run was refused as 10 minutes long."""
    system = load_spec_text("""
scalesim: 1
name: cl
components:
  srv: {workers: 4, operations: {op: {work: 1ms}}}
workloads:
  - {name: w, to: srv.op, users: 1000, think: 0s}
simulation: {duration: 600s, interval: 10s}
""")
    cost = run_cost(system)
    assert cost.rate_rps == pytest.approx(4000.0, rel=1e-3)
    assert cost.requests == pytest.approx(4000.0 * 600, rel=1e-3)
