"""A token bucket met by a Poisson stream (the finite dam of `analytic.dam`), and the exact
M/D/1 waiting time: against closed forms, Erlang's formula and the simulation."""

from __future__ import annotations

import itertools
import statistics

import numpy as np
import pytest

from scalesim.analytic.caveats import caveats
from scalesim.analytic.dam import ANCHOR, bucket_refused
from scalesim.analytic.estimate import estimate
from scalesim.sim import simulate
from scalesim.sim.mechanisms.rate_limit import TokenBucket
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


@pytest.mark.parametrize(("rho", "burst"), [(0.98, 30), (1.0, 40), (1.2, 30)])
def test_past_the_anchor_the_dam_refuses_what_the_bucket_itself_does(rho: float,
                                                                     burst: int) -> None:
    # bursts past the anchor (Erlang's sum to 10 tokens, its real mode beyond), below, at
    # and above the rate: the simulator's own bucket met by 8 × 60,000 Poisson arrivals
    assert burst - 1 > ANCHOR
    rng = np.random.default_rng(7)
    refused = []
    for _ in range(8):
        bucket = TokenBucket(50.0, float(burst))
        times = np.cumsum(rng.exponential(1.0 / (50.0 * rho), 60_000)).tolist()
        refused.append(1.0 - sum(map(bucket.allow, times)) / len(times))
    spread = 3.5 * statistics.stdev(refused) / len(refused) ** 0.5  # t(7) at 99.5 %
    assert bucket_refused(rho, burst) == pytest.approx(statistics.mean(refused), abs=spread)


def test_the_dam_runs_from_the_one_token_form_to_the_smooth_limit() -> None:
    # b = 1: ρ/(1 + ρ); a huge bucket: none refused below the rate, 1 − 1/ρ above it
    assert bucket_refused(0.6, 1) == pytest.approx(0.6 / 1.6, rel=1e-12)
    assert bucket_refused(0.9, 1e6) == 0.0
    assert bucket_refused(2.0, 1e6) == pytest.approx(0.5, rel=1e-12)
    shares = [bucket_refused(0.9, b) for b in np.linspace(1.0, 40.0, 157)]
    assert all(a > b for a, b in itertools.pairwise(shares))  # more tokens, fewer


def calls_into(rate: float, arrivals: str = "poisson") -> System:
    """A front that calls a bucket of 50/s (burst 5) with every visit."""
    return load_spec_text(f"""
scalesim: 1
name: behind
components:
  front: {{workers: unlimited, operations: {{op: {{work: 1ms, calls: [{{to: svc.op}}]}}}}}}
  svc:
    workers: unlimited
    rate_limit: {{rate: 50/s, burst: 5}}
    operations: {{op: {{work: 1ms}}}}
workloads: [{{name: w, to: front.op, rate: {rate}/s, arrivals: {arrivals}}}]
""")


def test_a_bucket_behind_calls_is_taken_as_poisson_and_says_so() -> None:
    system = calls_into(45.0)
    found = estimate(system)
    assert found.components["svc"].admitted == pytest.approx(1.0 - bucket_refused(0.9, 5))
    assert not found.workloads["w"].exact
    assert [c for c in caveats(system, found) if c.code == "rate-limit"]


def test_constant_arrivals_keep_the_smooth_stream_share() -> None:
    assert estimate(calls_into(45.0, "constant")).components["svc"].admitted == 1.0
    assert estimate(calls_into(100.0, "constant")).components["svc"].admitted == \
        pytest.approx(0.5)


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


def test_a_bucket_whose_start_outlasts_the_run_is_no_exact_long_run_share() -> None:
    """5,000 tokens at 100/s against a refill of 50/s last 100 s, past the 60 s run: the run
    refuses nothing, so the long-run 50 % is not the run's, and says why. At 200 tokens
    (4 s, within the 5 s warm-up) the long-run share is the run's, exact as before."""
    long_start = limited(100.0, 5000)
    found = estimate(long_start)
    assert not found.workloads["w"].exact
    [caveat] = [c for c in caveats(long_start, found) if c.code == "rate-limit"]
    assert "starts full" in caveat.message and "100 %" in caveat.message
    run = simulate(long_start)
    assert run["requests"]["failed"] == 0
    short_start = limited(100.0, 200)
    assert estimate(short_start).workloads["w"].exact
    assert not [c for c in caveats(short_start, estimate(short_start))
                if c.code == "rate-limit"]
