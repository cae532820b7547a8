"""The system estimate against closed forms where they are exact (M/M/1, M/M/c, M/D/1,
M/M/c/K, Jackson networks, MVA, fork-join order statistics), and its capacity searches
against the answers those closed forms give."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import TypeAdapter
from scipy import integrate, linalg, optimize, stats
from tests.engine.networks import CLOSED, TANDEM, fan_out

from scalesim.analytic import (
    MvaStation,
    Station,
    erlang_b,
    exponential_order_statistic,
    md1,
    mm1,
    mm1_sojourn_quantile,
    mmc,
    mva,
    open_network,
)
from scalesim.analytic import lattice as lat
from scalesim.analytic.capacity import saturation, slo_capacity
from scalesim.analytic.caveats import caveats
from scalesim.analytic.document import estimate_document
from scalesim.analytic.estimate import Estimate, Model, estimate
from scalesim.spec import load_spec_text
from scalesim.spec.dists import AnyDistribution, Distribution
from scalesim.spec.model import Slo
from scalesim.templates.registry import get_template
from scalesim.templates.run import load_built

EXAMPLES = Path("examples")


def single(work: str, workers: int = 1, rate: str = "80/s", extra: str = "") -> str:
    return f"""
scalesim: 1
name: single
components:
  s:
    workers: {workers}
    {extra}
    operations: {{op: {{work: {work}}}}}
workloads: [{{name: w, to: s, rate: {rate}}}]
"""


def test_mm1_mean_and_percentiles_are_exact() -> None:
    """M/M/1 at λ = 80, μ = 100: W = 1/(μ − λ) = 50 ms, the sojourn is exponential."""
    found = estimate(load_spec_text(single("{dist: exponential, mean: 10ms}")))
    workload = found.workloads["w"]
    assert workload.exact
    assert workload.mean_s == pytest.approx(mm1(80.0, 100.0).mean_sojourn_s, rel=1e-9)
    for q in (0.5, 0.9, 0.99, 0.999):
        assert workload.quantile_s(q) == pytest.approx(mm1_sojourn_quantile(80.0, 100.0, q),
                                                       rel=2e-3)
    component = found.components["s"]
    assert component.state.offered == pytest.approx(0.8)
    assert component.state.model == "M/M/1"


@pytest.mark.parametrize("workers", [2, 8, 32])
def test_mmc_mean_and_wait_are_erlang_c(workers: int) -> None:
    rate = 0.85 * workers / 0.010
    found = estimate(load_spec_text(single("{dist: exponential, mean: 10ms}", workers,
                                           f"{rate}/s")))
    expected = mmc(rate, 100.0, workers)
    assert found.workloads["w"].mean_s == pytest.approx(expected.mean_sojourn_s, rel=1e-9)
    state = found.components["s"].state
    assert state.p_wait == pytest.approx(expected.wait_probability, rel=1e-12)
    # The M/M/c sojourn: exponential service plus a wait that is 0 with probability 1 − C
    # and exponential at rate cμ − λ otherwise; its p99 solves P(S > t) = 0.01 numerically.
    c_wait, theta, mu = expected.wait_probability, workers * 100.0 - rate, 100.0

    def survival(t: float) -> float:
        if abs(theta - mu) < 1e-9:
            return math.exp(-mu * t) * (1.0 + c_wait * mu * t)
        return (1 - c_wait) * math.exp(-mu * t) + c_wait * (
            theta * math.exp(-mu * t) - mu * math.exp(-theta * t)) / (theta - mu)

    low, high = 0.0, 10.0
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if survival(middle) > 0.01 else (low, middle)
    assert found.workloads["w"].quantile_s(0.99) == pytest.approx(low, rel=2e-3)


def test_md1_is_pollaczek_khinchine() -> None:
    found = estimate(load_spec_text(single("4ms", rate="200/s")))
    assert found.workloads["w"].mean_s == pytest.approx(md1(200.0, 0.004).mean_sojourn_s,
                                                        rel=1e-9)
    assert found.components["s"].state.exact


def test_bounded_queue_loss_is_erlang_b_and_counts_as_errors() -> None:
    """queue: 0 with 3 workers: a lost-calls system, loss = Erlang B(3, a)."""
    found = estimate(load_spec_text(single("{dist: exponential, mean: 25ms}", 3, "100/s",
                                           "queue: 0")))
    loss = erlang_b(3, 2.5)
    assert found.components["s"].state.loss == pytest.approx(loss, rel=1e-12)
    assert found.error_rate == pytest.approx(loss, rel=1e-12)
    assert found.workloads["w"].mean_s == pytest.approx(0.025, rel=1e-3)  # nobody waits


def test_jackson_tandem_mean_and_percentiles() -> None:
    """A tandem of M/M/1, M/M/2, M/M/1: the sojourns are independent (Reich), so the mean
    is the sum of station means and the p99 that of their convolution."""
    found = estimate(load_spec_text(TANDEM)).workloads["w"]
    expected = open_network(300.0, [Station(0.002), Station(0.003, servers=2),
                                    Station(0.001)])
    assert found.exact
    assert found.mean_s == pytest.approx(expected.mean_sojourn_s, rel=1e-9)
    # The sum of the three sojourns, sampled: M/M/1 sojourns are exponential at μ − λ; the
    # M/M/2 one is the service plus a wait that is exponential at 2μ − λ with probability C.
    rng = np.random.default_rng(7)
    n = 2_000_000
    b = mmc(300.0, 1 / 0.003, 2)
    waits = np.where(rng.random(n) < b.wait_probability,
                     rng.exponential(1 / (2 / 0.003 - 300.0), n), 0.0)
    total = rng.exponential(1 / 200.0, n) + rng.exponential(0.003, n) + waits \
        + rng.exponential(1 / 700.0, n)
    assert found.quantile_s(0.99) == pytest.approx(float(np.quantile(total, 0.99)), rel=1e-2)


def test_model_c_is_the_published_jackson_figure() -> None:
    found = estimate(load_spec_text(Path("benchmarks/three_tier.yaml").read_text()))
    assert found.workloads["web"].mean_s * 1e3 == pytest.approx(25.2459, abs=5e-5)


def test_closed_loop_is_exact_mva() -> None:
    expected = mva(10, 0.100, [MvaStation(0.008), MvaStation(0.012)])
    found = estimate(load_spec_text(CLOSED))
    users = found.workloads["users"]
    assert users.closed and users.exact
    assert users.rate_rps == pytest.approx(expected.throughput_rps, rel=1e-12)
    assert users.mean_s == pytest.approx(expected.response_s, rel=1e-9)
    assert found.components["db"].state.offered == pytest.approx(expected.utilizations[1])


def test_closed_loop_with_many_workers_uses_seidmann() -> None:
    spec = CLOSED.replace("  db:\n", "  db:\n    workers: 4\n")
    expected = mva(10, 0.100, [MvaStation(0.008), MvaStation(0.012, servers=4)])
    users = estimate(load_spec_text(spec)).workloads["users"]
    assert not users.exact
    assert users.rate_rps == pytest.approx(expected.throughput_rps, rel=1e-12)


@pytest.mark.parametrize(("wait_for", "j"), [("all", 4), ("any", 1), ("2", 2)])
def test_fork_join_is_the_order_statistic(wait_for: str, j: int) -> None:
    found = estimate(load_spec_text(fan_out(wait_for))).workloads["w"]
    assert found.mean_s * 1e3 == pytest.approx(exponential_order_statistic(4, j, 10.0),
                                               rel=2e-3)
    assert not found.exact


def test_lattice_percentiles_of_spec_distributions() -> None:
    """Each family's grid against scipy's quantiles."""
    cases = [
        ({"dist": "gamma", "mean": "4ms", "cv": 0.8}, stats.gamma(1 / 0.64, scale=0.004 * 0.64)),
        ({"dist": "lognormal", "median": "3ms", "p99": "20ms"},
         stats.lognorm(math.log(20 / 3) / stats.norm.ppf(0.99), scale=0.003)),
        ({"dist": "uniform", "min": "1ms", "max": "3ms"}, stats.uniform(0.001, 0.002)),
        ({"dist": "pareto", "min": "1ms", "alpha": 2.5}, stats.pareto(2.5, scale=0.001)),
    ]
    adapter: TypeAdapter[AnyDistribution] = TypeAdapter(Distribution)
    for spec, truth in cases:
        grid = lat.of(adapter.validate_python(spec))
        for q in (0.5, 0.9, 0.99):
            assert grid.quantile(q) == pytest.approx(float(truth.ppf(q)), rel=5e-3), (spec, q)


@pytest.mark.parametrize("timeout", ["20ms", "1s", "10s"])
def test_a_timeout_that_never_fires_leaves_the_percentiles_alone(timeout: str) -> None:
    """A retried call to an exponential 1 ms service whose attempts are late e^(−20) of the
    time or less: its latency is the exponential's, p50 = ln 2, p99 = ln 100, p999 = ln 1000
    ms, whatever the timeout. Mixing in retries that start a whole timeout later used to
    stretch the grid to them: p99 read 22 ms behind a 1 s timeout with 5 attempts."""
    spec = f"""
scalesim: 1
name: retried
defaults: {{network: 0ms}}
components:
  a:
    workers: unlimited
    operations:
      op:
        calls: [{{to: b, timeout: {timeout}, retry: {{attempts: 5}}}}]
  b: {{workers: unlimited, operations: {{op: {{work: {{dist: exponential, mean: 1ms}}}}}}}}
workloads: [{{name: w, to: a, rate: 10/s}}]
"""
    latency = estimate(load_spec_text(spec)).workloads["w"].latency
    assert latency is not None
    for q in (0.5, 0.99, 0.999):
        assert latency.quantile(q) == pytest.approx(-math.log(1 - q) * 1e-3, rel=1e-2), q
    # The grid's cut-off tail (1e-7 of the attempts) counts as late: up to 1e-7 × 10 s.
    assert latency.mean == pytest.approx(1e-3, rel=2e-3)


def test_a_rate_limit_admits_its_cap_and_thins_the_load_behind_it() -> None:
    """900/s to a gateway limited to 600/s in front of one 1 ms exponential worker: 600/s
    get through, so the worker is an M/M/1 at ρ = 0.6 (W = 1 / (1000 − 600) = 2.5 ms, not
    the 10 ms of 900/s), and a third of the requests fail rate_limited. Per workload, 400/s
    and 900/s under 600/s each: 1,000/s through, and only the second workload fails."""
    spec = """
scalesim: 1
name: limited
defaults: {network: 0ms}
components:
  gw:
    workers: unlimited
    rate_limit: {rate: 600/s}
    operations: {op: {calls: [{to: b}]}}
  b: {workers: 1, operations: {op: {work: {dist: exponential, mean: 1ms}}}}
workloads: [{name: w, to: gw, rate: 900/s}]
"""
    found = estimate(load_spec_text(spec))
    assert found.components["b"].arrival_rate_rps == pytest.approx(600.0)
    assert found.components["gw"].admitted == pytest.approx(2 / 3)
    assert found.workloads["w"].success == pytest.approx(2 / 3)
    latency = found.workloads["w"].latency
    assert latency is not None and latency.mean == pytest.approx(2.5e-3, rel=1e-6)
    per_workload = spec.replace("{rate: 600/s}", "{rate: 600/s, per_workload: true}").replace(
        "[{name: w, to: gw, rate: 900/s}]",
        "[{name: small, to: gw, rate: 400/s}, {name: w, to: gw, rate: 900/s}]").replace(
        "b: {workers: 1,", "b: {workers: 2,")
    found = estimate(load_spec_text(per_workload))
    assert found.components["b"].arrival_rate_rps == pytest.approx(1000.0)
    assert found.workloads["small"].success == pytest.approx(1.0)
    assert found.workloads["w"].success == pytest.approx(2 / 3)


def test_saturation_of_mmc_is_c_mu() -> None:
    system = load_spec_text(single("{dist: exponential, mean: 10ms}", 4, "100/s"))
    model = Model(system)
    limit = saturation(model, "w")
    assert limit.rate_rps == pytest.approx(400.0, rel=3e-3)
    assert limit.bottleneck == "s"


def test_saturation_where_loads_grow_with_the_rate_takes_three_estimates(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workloads share s (M/M/4, 10 ms: 400/s); w brings 100/s, v 150/s. Loads grow in
    proportion to w's rate, so w saturates s at 100 + 150 = 250/s more, 250/s in all, which
    the search's first guess (spare capacity over w's share) finds: the guess just below
    (stable) and just above (saturated) settle it, within its 0.2 %."""
    spec = single("{dist: exponential, mean: 10ms}", 4, "100/s").replace(
        "rate: 100/s}]", "rate: 100/s}, {name: v, to: s, rate: 150/s}]")
    model = Model(load_spec_text(spec))
    calm = model.coarse(256).evaluate()
    counts = {"evaluate": 0}
    evaluate = Model.evaluate

    def counted(self: Model, *args: Any, **kwargs: Any) -> Estimate:
        counts["evaluate"] += 1
        return evaluate(self, *args, **kwargs)

    monkeypatch.setattr(Model, "evaluate", counted)
    limit = saturation(model, "w", calm)
    assert limit.rate_rps == pytest.approx(250.0, rel=2e-3) and limit.rate_rps < 250.0
    assert limit.bottleneck == "s"
    assert counts["evaluate"] == 3  # below, above, and naming the bottleneck past it


def test_slo_capacity_of_mm1_p99() -> None:
    """M/M/1, μ = 100: p99 = ln(100)/(μ − λ) ≤ 200 ms  ⇔  λ ≤ 100 − ln(100)/0.2 = 76.97/s."""
    system = load_spec_text(single("{dist: exponential, mean: 10ms}", rate="50/s"))
    model = Model(system)
    found = slo_capacity(model, [(None, Slo.model_validate({"p99": "200ms"}))],
                         model.evaluate())
    assert found is not None and found.met_now and found.limit == "p99"
    assert found.rate_rps == pytest.approx(100.0 - math.log(100.0) / 0.2, rel=3e-3)


def test_availability_from_random_failures() -> None:
    """Replicas up mtbf/(mtbf + mttr) = 0.9 of the time; without readiness probes a request
    sent to a down replica fails (0.9); with them all three must be down (1 − 0.1³)."""
    base = single("1ms", 4, "10/s", "replicas: 3") + """
faults:
  - target: s
    random_failures: {mtbf: 90s, mttr: 10s}
"""
    plain = estimate(load_spec_text(base)).workloads["w"]
    assert plain.availability == pytest.approx(0.9)
    probed = base.replace("    replicas: 3", "    replicas: 3\n    health: {readiness: {}}")
    found = estimate(load_spec_text(probed)).workloads["w"]
    assert found.availability == pytest.approx(1 - 0.1**3)


def test_retries_and_fallbacks_in_success() -> None:
    spec = """
scalesim: 1
name: calls
components:
  a:
    workers: unlimited
    operations:
      op:
        calls:
          - {to: b, retry: {attempts: 3}}
          - {to: c, on_failure: continue}
  b: {workers: unlimited, operations: {op: {work: 1ms, error_rate: 10%}}}
  c: {workers: unlimited, operations: {op: {work: 1ms, error_rate: 50%}}}
workloads: [{name: w, to: a, rate: 10/s}]
"""
    found = estimate(load_spec_text(spec)).workloads["w"]
    assert found.success == pytest.approx(1 - 0.1**3)


def test_retries_only_retry_the_causes_they_are_on() -> None:
    """Resilience4j retries only the exceptions it is told to: a retry `on: [timeout]` leaves
    a 10 % error rate at 10 % (it used to estimate 0.1³). Where b's own call to c fails
    (error 20 %, seen by a as `error`) and b then errs 10 % itself, an attempt fails
    0.2 + 0.8 × 0.1 = 28 % of the time; retried on errors, 3 tries fail 0.28³."""
    spec = """
scalesim: 1
name: causes
components:
  a:
    workers: unlimited
    operations:
      timeouts-only: {calls: [{to: b.plain, retry: {attempts: 3, on: [timeout]}}]}
      errors: {calls: [{to: b.calling, retry: {attempts: 3, on: [error]}}]}
  b:
    workers: unlimited
    operations:
      plain: {work: 1ms, error_rate: 10%}
      calling: {work: 1ms, error_rate: 10%, calls: [{to: c}]}
  c: {workers: unlimited, operations: {op: {work: 1ms, error_rate: 20%}}}
workloads:
  - {name: w1, to: a.timeouts-only, rate: 10/s}
  - {name: w2, to: a.errors, rate: 10/s}
"""
    system = load_spec_text(spec)
    found = estimate(system)
    assert found.workloads["w1"].success == pytest.approx(0.9)
    assert found.workloads["w2"].success == pytest.approx(1 - 0.28**3)
    # the errors retried are in the latency now: no caveat for them
    assert "retried-latency" not in {c.code for c in caveats(system, found)}


RETRIED = """
scalesim: 1
name: retried
defaults: {network: 0ms}
components:
  a:
    workers: unlimited
    operations:
      x: {calls: [{to: b.y, retry: {attempts: 3, backoff: constant, base: 100ms,
                                     jitter: none, on: [error]}}]}
  b: {workers: unlimited, operations: {y: {work: 10ms, error_rate: 50%}}}
workloads:
  - {name: w, to: a.x, rate: 100/s}
"""


def test_a_call_retried_on_errors_waits_its_failed_attempts_and_back_offs() -> None:
    """Half the attempts fail after their 10 ms (the kernel decides an error as the callee
    finishes), each retry 100 ms later, 3 tries: the calls that succeed do so at 10 ms
    (0.5), 120 ms (0.25) or 230 ms (0.125), mean (5 + 30 + 28.75) / 0.875 = 72.857 ms; 0.125
    fail. Counting one attempt, the estimate said 10 ms."""
    found = estimate(load_spec_text(RETRIED)).workloads["w"]
    assert found.success == pytest.approx(0.875)
    assert found.latency.mean * 1e3 == pytest.approx(63.75 / 0.875, rel=1e-6)
    assert found.latency.quantile(0.5) * 1e3 == pytest.approx(10.0, abs=0.5)
    assert found.latency.quantile(0.7) * 1e3 == pytest.approx(120.0, abs=1.0)
    assert found.latency.quantile(0.99) * 1e3 == pytest.approx(230.0, abs=1.0)


def test_a_call_whose_every_attempt_fails_has_no_latency_of_successes() -> None:
    found = estimate(load_spec_text(RETRIED.replace("error_rate: 50%", "error_rate: 100%")))
    assert found.workloads["w"].success == 0.0
    assert found.workloads["w"].latency is None


def test_a_retry_whose_causes_never_happen_is_one_attempt() -> None:
    """Gamma(mean 10 s, cv 0.3) answers within 37.2 ms with about 7e-22: late = 1 − 7e-22
    rounds to 1, so no attempt is in time and none errs, yet a sliver of the grid lies below
    the timeout. Retried on errors only, nothing is retried: every call fails late, after
    one attempt (this divided 0 by 0 before)."""
    spec = RETRIED.replace("{to: b.y, retry:", "{to: b.y, timeout: 37.2ms, retry:").replace(
        "work: 10ms, error_rate: 50%", "work: {dist: gamma, mean: 10s, cv: 0.3}, error_rate: 10%")
    found = estimate(load_spec_text(spec)).workloads["w"]
    assert found.success == 0.0
    assert found.latency is None


def test_errors_and_timeouts_retried_together() -> None:
    """Attempts of 10 ms (0.8) or 1 s (0.2) with a 100 ms timeout, half of those in time
    failing, 2 tries on both causes, 100 ms apart: an attempt succeeds with 0.4, is retried
    with 0.6 (after 10 ms for 2/3 of those, 100 ms for 1/3). Successes: 0.4 at 10 ms, 0.24 at
    120 or 210 ms, mean (4 + 0.24 × 150) / 0.64 = 62.5 ms; 0.36 of the calls fail."""
    spec = RETRIED.replace(
        "x: {calls: [{to: b.y, retry: {attempts: 3,", "x: {calls: [{to: b.y, timeout: 100ms, "
        "retry: {attempts: 2,").replace("on: [error]", "on: [error, timeout]").replace(
        "work: 10ms,", "work: {dist: mixture, of: [{weight: 0.8, dist: 10ms}, "
        "{weight: 0.2, dist: 1s}]},")
    found = estimate(load_spec_text(spec)).workloads["w"]
    assert found.success == pytest.approx(0.64)
    assert found.latency.mean * 1e3 == pytest.approx(62.5, rel=1e-6)


def _exact_quantile(cdf: Callable[[float], float], q: float, high: float) -> float:
    return float(optimize.brentq(lambda t: cdf(t) - q, 0.0, high))


def test_retries_wait_back_offs_drawn_as_the_kernel_draws_them() -> None:
    """Fully jittered constant back-offs wait U(0, 100 ms) (the kernel's draw), not their mean:
    successes at 10 ms (0.5), 20 ms + U (0.25), 30 ms + U + U' (0.125), of 0.875. The mean is
    the same as with fixed 50 ms waits; the percentiles are those of the uniform sums."""
    found = estimate(load_spec_text(RETRIED.replace("jitter: none", "jitter: full"))
                     ).workloads["w"]

    def cdf(t: float) -> float:
        one = min(max((t - 0.02) / 0.1, 0.0), 1.0)
        x = (t - 0.03) / 0.1  # the sum of two U(0, 1), a triangle on [0, 2]
        two = 0.0 if x <= 0 else x * x / 2 if x <= 1 else 1 - (2 - x) ** 2 / 2 if x < 2 else 1
        return (0.5 * (t >= 0.01) + 0.25 * one + 0.125 * two) / 0.875

    assert found.latency.mean * 1e3 == pytest.approx((5 + 0.25 * 70 + 0.125 * 130) / 0.875,
                                                     rel=1e-6)
    for q in (0.7, 0.8, 0.9, 0.95, 0.99):
        assert found.latency.quantile(q) == pytest.approx(_exact_quantile(cdf, q, 0.3),
                                                          abs=0.5e-3)


def test_failures_a_callee_passes_up_are_retried_after_its_whole_time() -> None:
    """b works 10 ms, then calls c (5 ms), which fails 20 % of its visits; b passes the error
    up after its 15 ms and a retries it at once, 3 tries: successes at 15, 30 or 45 ms with
    0.8, 0.16 and 0.032 of 0.992. Counting one attempt, the estimate said 15 ms."""
    spec = """
scalesim: 1
name: passed-up
defaults: {network: 0ms}
components:
  a:
    workers: unlimited
    operations: {x: {calls: [{to: b.y, retry: {attempts: 3, backoff: none, on: [error]}}]}}
  b: {workers: unlimited, operations: {y: {work: 10ms, calls: [{to: c.z}]}}}
  c: {workers: unlimited, operations: {z: {work: 5ms, error_rate: 20%}}}
workloads:
  - {name: w, to: a.x, rate: 100/s}
"""
    found = estimate(load_spec_text(spec)).workloads["w"]
    assert found.success == pytest.approx(0.992)
    assert found.latency.mean * 1e3 == pytest.approx(15 * 1.216 / 0.992, rel=1e-6)
    assert found.latency.quantile(0.5) * 1e3 == pytest.approx(15.0, abs=0.1)
    assert found.latency.quantile(0.9) * 1e3 == pytest.approx(30.0, abs=0.1)
    assert found.latency.quantile(0.99) * 1e3 == pytest.approx(45.0, abs=0.1)


REFUSED = """
scalesim: 1
name: refused
defaults: {network: 0ms}
components:
  a:
    workers: unlimited
    operations: {x: {calls: [{to: b.y, retry: {attempts: 3, on: [rejected]}}]}}
  b: {workers: 1, queue: 1, operations: {y: {work: {dist: exponential, mean: 5ms}}}}
workloads:
  - {name: w, to: a.x, rate: 100/s}
"""


def _still_full(lam: float, mu: float, wait: float) -> float:
    """P(an M/M/1/2 full at 0 is full after a back-off U(0, wait)): the generator's
    matrix exponential (scipy's, not the estimate's eigenvalues), integrated over the wait."""
    generator = np.array([[-lam, lam, 0.0], [mu, -lam - mu, lam], [0.0, mu, -mu]])
    return integrate.quad(lambda b: linalg.expm(generator * b)[2, 2], 0.0, wait)[0] / wait


def test_refused_attempts_are_retried_a_back_off_later() -> None:
    """M/M/1/2 (5 ms) offered 100/s plus the retries of what it refuses (3 tries, the
    default back-off: U(0, 50 ms), then U(0, 100 ms)). A first attempt is refused with
    q = P2 = ρ²/(1 + ρ + ρ²); a retry after a refusal finds the queue still full with
    q_j = E[e^(Q·b)]₂₂ over its back-off (the Markov chain's transient from full), so the
    queue is offered λ(1 + q + q·q₁) attempts/s at the fixed point, and q·q₁·q₂ of the
    calls fail (q³ when refusals were taken as independent: 0.67 % against 1.23 %). An
    admitted visit takes Exp(μ) after an empty system, Erlang(2, μ) after a busy one. The
    successes are retried k times with their shares, each retry after its back-off; with one
    attempt counted (before) the latency was the sojourn alone, 6.9 ms against 13.5 ms
    here."""
    mu, rate = 200.0, 100.0

    def again(q: float) -> tuple[float, float, float]:
        """ρ, q₁ and q₂ at the load q gives."""
        lam = rate * (1 + q)
        for _ in range(60):  # the load depends on q₁, q₁ on the load
            q1 = _still_full(lam, mu, 0.05)
            lam = rate * (1 + q + q * q1)
        return lam / mu, q1, _still_full(lam, mu, 0.1)

    def refused(q: float) -> float:
        rho = again(q)[0]
        return rho * rho / (1 + rho + rho * rho) - q

    q = optimize.brentq(refused, 0.0, 1.0, xtol=1e-12)
    rho, q1, q2 = again(q)
    busy = rho / (1 + rho)  # P(one in the system | admitted) = P1 / (P0 + P1)
    weights = np.array([1.0 - q, q * (1.0 - q1), q * q1 * (1.0 - q2)])
    failed = q * q1 * q2
    weights = weights / (1.0 - failed)
    sojourn = (1 - busy) / mu + busy * 2 / mu
    found = estimate(load_spec_text(REFUSED))
    assert found.components["b"].state.loss == pytest.approx(q, rel=1e-5)
    workload = found.workloads["w"]
    assert 1.0 - workload.success == pytest.approx(failed, rel=1e-4)
    assert workload.latency.mean == pytest.approx(sojourn + weights[1] * 0.025
                                                  + weights[2] * 0.075, rel=1e-5)

    def integral(x: float, times: int) -> float:
        """The sojourn's CDF integrated `times` times from 0 to x (closed forms for
        Exp(μ) and Erlang(2, μ)): a back-off U(0, a) added takes a difference of these."""
        if x <= 0:
            return 0.0
        e = math.exp(-mu * x)
        one, two = [(1 - e, 1 - e * (1 + mu * x)),
                    (x - (1 - e) / mu, x - 2 * (1 - e) / mu + x * e),
                    (x * x / 2 - x / mu + (1 - e) / mu**2,
                     x * x / 2 - 2 * x / mu + 3 * (1 - e) / mu**2 - x * e / mu)][times]
        return (1 - busy) * one + busy * two

    def cdf(t: float) -> float:
        a, b = 0.05, 0.1
        once = (integral(t, 1) - integral(t - a, 1)) / a
        twice = (integral(t, 2) - integral(t - a, 2) - integral(t - b, 2)
                 + integral(t - a - b, 2)) / (a * b)
        return float(weights @ [integral(t, 0), once, twice])

    for q_ in (0.5, 0.9, 0.95, 0.99):
        exact = _exact_quantile(cdf, q_, 0.5)
        assert workload.latency.quantile(q_) == pytest.approx(exact, rel=0.01, abs=1e-4)


def test_refusals_retried_keep_their_caveat() -> None:
    """A refused attempt comes back at once and is retried after its back-off, which the
    latency counts (`test_refused_attempts_are_retried_a_back_off_later`), refused again as
    the queue's chain is still full, but not as the other retries of the same full spell
    crowd it: the caveat says so, and names the exponential service taken for another."""
    system = load_spec_text(REFUSED)
    notes = [c for c in caveats(system, estimate(system)) if c.code == "retried-latency"]
    assert [c.where for c in notes] == ["a.x->b.y"]
    assert "same full spell" in notes[0].message
    assert "taken as exponential" not in notes[0].message
    constant = load_spec_text(REFUSED.replace("{dist: exponential, mean: 5ms}", "5ms"))
    notes = [c for c in caveats(constant, estimate(constant)) if c.code == "retried-latency"]
    assert "taken as exponential at its mean" in notes[0].message


def test_caveats_name_what_the_formulas_leave_out() -> None:
    system = load_spec_text((EXAMPLES / "retry-storm.yaml").read_text())
    codes = {c.code for c in caveats(system, estimate(system))}
    assert {"overloaded", "retries-under-load", "timeouts-fire"} <= codes
    shop = load_spec_text((EXAMPLES / "shop.yaml").read_text())
    codes = {c.code for c in caveats(shop, estimate(shop))}
    assert {"circuit-breaker", "faults"} <= codes
    assert "overloaded" not in codes


def test_control_loops_and_data_mechanisms_get_their_caveats() -> None:
    kernel_specs = Path(__file__).parents[1] / "kernel"
    control = load_spec_text((kernel_specs / "control_features.yaml").read_text())
    found = estimate(control)
    assert {"autoscaling", "rollout"} <= {c.code for c in caveats(control, found)}
    for name, component in control.components.items():
        if component.autoscale is not None:  # served with the most it can scale to, even
            assert found.components[name].replicas == component.autoscale.max  # from zero
    data = load_spec_text((kernel_specs / "data_features.yaml").read_text())
    codes = {c.code for c in caveats(data, estimate(data))}
    assert {"delivery", "saga", "event-store"} <= codes


@pytest.mark.parametrize(("template", "expected"), [
    ("replicated-database", {"replication"}),
    ("distributed-state-machine", {"replication", "leader-election"}),
    ("leader-election", {"leader-election"}),
])
def test_replication_and_elections_get_their_caveats(template: str, expected: set[str]) -> None:
    """Commit waits and leader-only serving are not in the formulas: the estimate says so."""
    system = load_built(get_template(template).build(None))
    found = {c.code: c for c in caveats(system, estimate(system))}
    assert expected <= set(found)
    if template == "replicated-database":  # W 10 ms + A 1 ms per replica in the template
        assert "each 11 ms on average" in found["replication"].message


def test_a_saga_counts_as_its_forward_steps() -> None:
    """Two sequential steps of 10 ms each, infinite servers everywhere: exactly 20 ms."""
    spec = """
scalesim: 1
name: saga
components:
  api:
    workers: unlimited
    operations:
      order:
        calls:
          - saga:
              steps:
                - {name: a, to: s.a, compensate: s.undo}
                - {name: b, to: s.b}
  s:
    workers: unlimited
    operations: {a: {work: 10ms}, b: {work: 10ms}, undo: {work: 1ms}}
workloads: [{name: w, to: api, rate: 10/s}]
"""
    found = estimate(load_spec_text(spec)).workloads["w"]
    assert found.latency.mean * 1e3 == pytest.approx(20.0, rel=1e-6)


def test_document_of_every_example_is_finite_json() -> None:
    for path in sorted(EXAMPLES.glob("*.yaml")):
        doc = estimate_document(load_spec_text(path.read_text()))
        text = json.dumps(doc, sort_keys=True, allow_nan=False)
        assert doc["workloads"] and doc["components"], path
        assert json.loads(text) == doc


# `fast` is M/M/1 with μ = 100/s at 50/s; `orders` publish to a queue whose one consumer
# drains 100/s of the 150/s sent: the consumer is past saturation today, and no request
# waits for it.
BEHIND = """
scalesim: 1
name: behind
components:
  fast:
    workers: 1
    operations: {op: {work: {dist: exponential, mean: 10ms}}}
  api:
    operations:
      submit:
        work: 1ms
        calls: [{to: jobs.publish}]
  jobs:
    kind: queue
    consumers: [{to: worker.run, concurrency: 1}]
  worker:
    workers: 1
    operations: {run: {work: 10ms}}
workloads:
  - {name: reads, to: fast.op, rate: 50/s}
  - {name: orders, to: api.submit, rate: 150/s}
"""


def test_a_consumer_past_saturation_is_named_and_binds_only_what_reaches_it() -> None:
    """`reads` never reaches the queue: it saturates `fast` at μ = 100/s. `orders` does: its
    consumer drains at most 100/s, below today's 150/s. The SLO (an error rate: requests see
    no errors) holds up to where `fast` saturates, 2× today's rates, and the consumer is
    reported as falling behind instead of as SLO headroom below 1×."""
    doc = estimate_document(load_spec_text(BEHIND),
                            Slo.model_validate({"error_rate": "0.1%"}))
    reads, orders = doc["workloads"]["reads"], doc["workloads"]["orders"]
    assert reads["saturation_rps"] == pytest.approx(100.0, rel=3e-3)
    assert reads["saturation_bottleneck"] == "fast" and not reads["past_saturation"]
    assert orders["past_saturation"] and orders["saturation_rps"] <= 100.0 * 1.003
    assert orders["saturation_bottleneck"] in {"jobs->worker.run", "worker"}
    assert "jobs->worker.run" in {entry["name"] for entry in doc["behind"]}
    assert doc["slo"]["met"] and doc["slo"]["binding"] == "saturation"
    assert doc["slo"]["max_factor"] == pytest.approx(2.0, rel=3e-3)


def test_a_saturation_names_what_saturates_where_the_coarse_grid_tips_first() -> None:
    """The search brackets on a coarse grid; social-feed's reads saturate there at about
    28,000/s, where the full grid has nothing overloaded yet: the coarse grid names it (it
    was None, printed as 'None saturates at 28,037/s')."""
    system = load_built(get_template("social-feed").build(None))
    model = Model(system)
    limit = saturation(model, "read-feed")
    assert limit.rate_rps == pytest.approx(28_037, rel=1e-3)
    assert limit.bottleneck == "feed"


def test_a_subscriptions_lag_runs_from_publication_to_processed_as_simulated() -> None:
    """4 consumers of Exp(50 ms) work fed 60/s (M/M/4 at ρ = 0.75, no network time): a
    message waits W_q, then is processed, so its lag is the M/M/4 sojourn, the simulation's
    `lag_ms`: mean E[S] + P_wait / (cμ − λ), and P(T > t) = (1 − P_wait)·e^(−μt) +
    P_wait·(1 + μt)·e^(−μt), since cμ − λ = μ here. The estimate gave only W_q (25.5 ms
    against the simulation's 75.9)."""
    spec = """
scalesim: 1
name: lag
components:
  api:
    workers: unlimited
    operations: {post: {calls: [{to: events.publish, async: true}]}}
  events:
    kind: queue
    consumers: [{to: worker.process, concurrency: 4}]
  worker:
    workers: unlimited
    operations: {process: {work: {dist: exponential, mean: 50ms}}}
workloads:
  - {name: w, to: api.post, rate: 60/s}
"""
    queue = estimate_document(load_spec_text(spec))["queues"]["events->worker.process"]
    mu, station = 20.0, mmc(60.0, 20.0, 4)
    p_wait = station.wait_probability
    assert queue["lag_ms"] == pytest.approx(station.mean_sojourn_s * 1e3, rel=1e-4)
    assert station.mean_sojourn_s == pytest.approx(1 / mu + p_wait / (80.0 - 60.0))
    p99 = optimize.brentq(lambda t: (1 - p_wait) * math.exp(-mu * t)
                          + p_wait * (1 + mu * t) * math.exp(-mu * t) - 0.01, 0.0, 2.0)
    assert queue["lag_p99_ms"] == pytest.approx(p99 * 1e3, rel=5e-3)


REDELIVERED = """
scalesim: 1
name: redelivered-lag
components:
  api:
    workers: unlimited
    operations: {{post: {{calls: [{{to: jobs.publish, async: true}}]}}}}
  jobs:
    kind: queue
    consumers: [{{to: worker.process, concurrency: 1000}}]
    delivery: {{guarantee: at_least_once, visibility_timeout: 1s, max_deliveries: 3,
               redelivery: {redelivery}}}
  worker:
    workers: unlimited
    operations: {{process: {{work: 10ms, error_rate: 50%}}}}
workloads:
  - {{name: w, to: api.post, rate: 200/s}}
"""


@pytest.mark.parametrize(("redelivery", "back_s"), [("visibility_timeout", 1.0),
                                                    ("requeue", 0.010)])
def test_a_message_s_lag_waits_out_its_failed_deliveries(redelivery: str,
                                                        back_s: float) -> None:
    """A consumer failing half its deliveries, 3 at most: of the messages that succeed (7/8),
    4/7 do on the first delivery, 2/7 on the second, 1/7 on the third, each failed one
    coming back after the visibility timeout (at once with requeue: after its 10 ms). The
    lag (to the first success, as the simulation's) is 10 ms + back·(2/7 + 2·1/7), and its
    p99 falls in the third delivery's 10 ms + 2·back. The estimate gave 10 ms, p99 10 ms."""
    queue = estimate_document(load_spec_text(REDELIVERED.format(redelivery=redelivery))
                              )["queues"]["jobs->worker.process"]
    assert queue["lag_ms"] == pytest.approx((0.010 + back_s * 4 / 7) * 1e3, rel=1e-3)
    assert queue["lag_p99_ms"] == pytest.approx((0.010 + 2 * back_s) * 1e3, rel=5e-3)
