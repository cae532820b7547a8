"""A token bucket met by a Poisson stream (the finite dam of `analytic.dam`), and the exact
M/D/1 waiting time: against closed forms, Erlang's formula and the simulation."""

from __future__ import annotations

import statistics

import pytest

from scalesim.analytic.caveats import caveats
from scalesim.analytic.estimate import estimate
from scalesim.sim import simulate
from scalesim.spec import load_spec_text
from scalesim.spec.model import System


def limited(rate: float, burst: int, seed: int = 1, duration: int = 60) -> System:
    """Poisson arrivals at `rate`/s to unlimited workers behind a bucket of 50/s."""
    return load_spec_text(f"""
scalesim: 1
name: bucket
components:
  svc:
    workers: unlimited
    rate_limit: {{rate: 50/s, burst: {burst}}}
    operations: {{op: {{work: 1ms}}}}
workloads: [{{name: w, to: svc.op, rate: {rate}/s}}]
simulation: {{duration: {duration}s, warmup: 5s, seed: {seed}}}
""")


@pytest.mark.parametrize("rate", [30.0, 100.0])
def test_a_bucket_of_one_token_admits_lambda_r_over_lambda_plus_r(rate: float) -> None:
    # admitted only when the one token is back: an M/D/1/1 loss system, λr/(λ + r) admitted
    system = limited(rate, 1)
    found = estimate(system)
    assert found.components["svc"].arrival_rate_rps == pytest.approx(
        rate * 50.0 / (rate + 50.0), rel=1e-12)
    assert found.workloads["w"].success == pytest.approx(50.0 / (rate + 50.0), rel=1e-12)
    assert found.workloads["w"].exact
    assert not [c for c in caveats(system, found) if c.code == "rate-limit"]


def test_a_bucket_of_five_refuses_what_the_simulation_does() -> None:
    refused = []
    for seed in range(1, 9):
        requests = simulate(limited(45.0, 5, seed, 500))["workloads"]["w"]["requests"]
        refused.append(requests["failed_by_cause"]["rate_limited"] / requests["total"])
    # 8 × 495 s: 6.5 % refused, the estimate 6.44 %, where min(λ, rate) said none
    spread = 3.5 * statistics.stdev(refused) / len(refused) ** 0.5  # t(7) at 99.5 %
    assert 1.0 - estimate(limited(45.0, 5)).workloads["w"].success == pytest.approx(
        statistics.mean(refused), abs=spread)


@pytest.mark.parametrize(("rate", "p99_ms"), [(30.0, 28.91), (50.0, 43.36), (90.0, 228.98)])
def test_md1_percentiles_follow_erlangs_formula(rate: float, p99_ms: float) -> None:
    # one worker of a constant 10 ms: W + D, W by Erlang's M/D/1 formula (to 0.01 ms)
    found = estimate(load_spec_text(f"""
scalesim: 1
name: md1
components: {{svc: {{workers: 1, operations: {{op: {{work: 10ms}}}}}}}}
workloads: [{{name: w, to: svc.op, rate: {rate}/s}}]
"""))
    assert found.workloads["w"].latency.quantile(0.99) * 1e3 == pytest.approx(p99_ms, abs=0.02)
    assert found.workloads["w"].exact
