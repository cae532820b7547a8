"""How precisely a run pins its mean latency down (`analytic.precision`): Morse's relaxation
time and Whitt's M/M/1 formula, exactly; the heavy-traffic extension to c servers, general
work and several replicas, against the spread of the mean latency over many simulated runs."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from scalesim.analytic.estimate import Model
from scalesim.analytic.precision import (
    Z95,
    mean_latency_sd,
    relative_sd,
    relaxation_s,
    short_run,
)
from scalesim.sim import simulate
from scalesim.spec import load_spec_text
from scalesim.spec.model import System

RUNS = 200
# The formula's own error, measured over ρ 0.5–0.97 and the station kinds below with 100
# runs each: 0.78–1.24 of the measured spread. The test adds the sampling error of a
# standard deviation over RUNS runs, at 99.9 %.
MODEL_LOW, MODEL_HIGH = 0.75, 1.25


def _station(workers: int, replicas: int, work: str, rate: float, duration: float,
             extra: str = "") -> System:
    return load_spec_text(f"""scalesim: 1
name: precision
components:
  s: {{replicas: {replicas}, workers: {workers}, balancer: round_robin,{extra}
      operations: {{x: {{work: {work}}}}}}}
workloads: [{{name: w, to: s.x, rate: {rate}/s}}]
simulation: {{duration: {duration}s, warmup: 2s, replications: {RUNS}}}
""")


EXPONENTIAL = "{dist: exponential, mean: 1ms}"


def _measured_sd(system: System) -> float:
    """The relative standard deviation of one run's mean latency, from the replications'
    Student t interval of the mean."""
    result = simulate(system)
    low, high = result["ci95"]["latency_ms"]["mean"]
    spread = (high - low) / 2.0 * math.sqrt(RUNS) / stats.t.ppf(0.975, RUNS - 1)
    return float(spread / result["latency_ms"]["mean"])


def _bounds() -> tuple[float, float]:
    low = math.sqrt(stats.chi2.ppf(0.0005, RUNS - 1) / (RUNS - 1))
    high = math.sqrt(stats.chi2.ppf(0.9995, RUNS - 1) / (RUNS - 1))
    return MODEL_LOW * low, MODEL_HIGH * high


def test_relaxation_time_and_spread_are_the_closed_forms_for_mm1() -> None:
    """M/M/1 at ρ = 0.9, 1 ms work: Morse's τ = 1/(μ(1 − √ρ)²) and Whitt's asymptotic
    variance 2ρ(1 + ρ)/(μ(1 − ρ)⁴) of the time-average number in system, L = ρ/(1 − ρ)."""
    station = Model(_station(1, 1, EXPONENTIAL, 900, 10), 64).evaluate().components["s"]
    assert relaxation_s(station) == pytest.approx(1e-3 / (1 - math.sqrt(0.9)) ** 2)
    variance = 2 * 0.9 * 1.9 * 1e-3 / 0.1 ** 4
    assert relative_sd(station, 10.0) == pytest.approx(math.sqrt(variance / 10.0) / 9.0)
    # and it shrinks as 1/√T
    assert relative_sd(station, 40.0) == pytest.approx(relative_sd(station, 10.0) / 2)
    # behind a rate limit, the queue sees what the limit admits
    limited = _station(1, 1, EXPONENTIAL, 1800, 10, " rate_limit: {rate: 900/s},")
    assert relative_sd(Model(limited, 64).evaluate().components["s"], 10.0) \
        == pytest.approx(relative_sd(station, 10.0))


@pytest.mark.parametrize(("workers", "replicas", "work", "rho", "duration"), [
    (1, 1, EXPONENTIAL, 0.9, 5),  # M/M/1
    (1, 1, EXPONENTIAL, 0.5, 2),  # far from heavy traffic
    (1, 1, "1ms", 0.9, 5),  # M/D/1: v = 1/2
    (4, 1, EXPONENTIAL, 0.9, 3),  # M/M/4: c servers, C < ρ
    (1, 4, EXPONENTIAL, 0.9, 3),  # four replicas dealt round robin: Erlang-4 arrivals
], ids=["M/M/1", "M/M/1 at 0.5", "M/D/1", "M/M/4", "4 replicas round robin"])
def test_the_spread_of_the_mean_latency_over_runs_is_the_formulas(
        workers: int, replicas: int, work: str, rho: float, duration: float) -> None:
    system = _station(workers, replicas, work, rho * 1000 * workers * replicas, duration)
    predicted = relative_sd(Model(system, 64).evaluate().components["s"], duration)
    assert predicted is not None
    low, high = _bounds()
    assert low <= _measured_sd(system) / predicted <= high


TWO_TIERS = """scalesim: 1
name: two
components:
  a: {replicas: 2, workers: 16, operations: {x: {work: {dist: exponential, mean: 2ms},
      calls: [{to: b.y}]}}}
  b: {replicas: 1, workers: 1, operations: {y: {work: {dist: exponential, mean: 1ms}}}}
workloads: [{name: w, to: a.x, rate: 900/s}]
defaults: {network: 0.5ms}
simulation: {duration: 5s, warmup: 2s, replications: RUNS}
""".replace("RUNS", str(RUNS))


def test_the_mean_latency_spreads_as_its_busy_component_adds_to_it() -> None:
    """A request spends 2 ms at an idle tier, two hops and about 10 ms at a busy one: the
    spread of its mean latency is the busy tier's, in proportion to its share."""
    system = load_spec_text(TWO_TIERS)
    predicted = mean_latency_sd(Model(system, 64).evaluate(), 5.0)
    assert predicted is not None
    low, high = _bounds()
    assert low <= _measured_sd(system) / predicted <= high


def test_a_short_run_names_the_busy_component_and_the_time_that_would_do() -> None:
    estimate = Model(load_spec_text(TWO_TIERS), 64).evaluate()
    found = short_run(estimate, 5.0, 0.10)
    assert found is not None and found.busiest == "b" and found.rho == pytest.approx(0.9)
    sd = mean_latency_sd(estimate, 5.0)
    assert sd is not None and found.half_width == pytest.approx(Z95 * sd)
    # the time it asks for brings the half-width to the target, and then nothing is said
    assert Z95 * (mean_latency_sd(estimate, found.needed_s) or 0.0) == pytest.approx(0.10)
    assert short_run(estimate, found.needed_s * 1.01, 0.10) is None


@pytest.mark.parametrize("b", [
    "workers: 1, queue: 5",  # refuses about 4 % at ρ = 0.9: its excursions are clipped
    "workers: unlimited",  # nothing waits
], ids=["bounded queue that refuses", "unlimited workers"])
def test_no_spread_is_claimed_where_the_queue_cannot_wander(b: str) -> None:
    text = TWO_TIERS.replace("b: {replicas: 1, workers: 1,", f"b: {{replicas: 1, {b},")
    station = Model(load_spec_text(text), 64).evaluate().components["b"]
    assert relative_sd(station, 5.0) is None


def test_a_workload_that_sends_nothing_has_no_short_run() -> None:
    """A profile of 0/s throughout (docs/spec.md allows it) sends no request: no mean latency
    to pin down, so no warning (it divided by the zero total rate)."""
    system = load_spec_text(TWO_TIERS.replace("rate: 900/s", "profile: [{at: 0s, rate: 0/s}]"))
    assert short_run(Model(system, 64).evaluate(), 5.0, 0.10) is None
