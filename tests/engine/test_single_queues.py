"""Single stations against exact queueing results: M/M/1, M/M/c, M/D/1, M/G/1."""

from __future__ import annotations

import math

import pytest
from tests.engine.simstats import check, interval, replicate

from scalesim.analytic import md1, mg1, mg1_cv, mm1, mm1_sojourn_quantile, mmc
from scalesim.sim.metrics import ALPHA, PERCENTILES
from scalesim.spec.dists import Lognormal

# The histogram reports a percentile within ALPHA (0.5 %) of a value in its bucket: a
# deterministic error on top of the sampling one, so percentile checks widen by it.


def station(work: str, rate: str, workers: int = 1, duration: str = "25s",
            warmup: str = "2s") -> str:
    return f"""
scalesim: 1
name: station
components:
  s:
    workers: {workers}
    operations: {{op: {{work: {work}}}}}
workloads: [{{name: w, to: s, rate: {rate}}}]
simulation: {{duration: {duration}, warmup: {warmup}, seed: 7}}
"""


def _coverage(rate: float, duration: str, warmup: str, runs: int, name: str,
              seeds: int = 20) -> tuple[int, int]:
    """In `seeds` experiments of `runs` replications of an M/M/1 (μ = 1000/s): how often the
    engine's 95 % interval of a percentile holds the exact value, and how often an interval
    around the mean of the replications' own percentiles (Student t) would."""
    truth = mm1_sojourn_quantile(rate, 1000.0, PERCENTILES[name]) * 1e3
    engine = naive = 0
    for seed in range(1, seeds + 1):
        pooled, each = replicate(station("{dist: exponential, mean: 1ms}", f"{rate}/s",
                                         duration=duration, warmup=warmup), runs, seed)
        low, high = pooled["ci95"]["latency_ms"][name]
        engine += low <= truth <= high
        found = interval([r["latency_ms"][name] for r in each])
        naive += found.low <= truth <= found.high
    print(f"M/M/1 λ={rate} {name}: engine {engine}/{seeds}, mean of runs {naive}/{seeds}")
    return engine, naive


@pytest.mark.parametrize("name", ["p50", "p95", "p99"])
def test_percentile_intervals_cover_the_exact_value(name: str) -> None:
    """ρ = 0.8, 10 runs of 10 s: a 95 % interval holds the truth in 20 experiments but one
    or two (16 or fewer would happen with probability 1.6 % at 95 % coverage)."""
    engine, _ = _coverage(800.0, "10s", "2s", 10, name)
    assert engine >= 17


def test_percentile_intervals_near_saturation_with_short_runs() -> None:
    """ρ = 0.95, 40 runs of 10 s, each short against the tail's relaxation: a run's own p99
    is biased low, so an interval around their mean held the exact p99 (ln 100/(μ − λ) =
    92.1 ms) in none of 20 experiments. The engine's, from the pooled histogram, holds it in
    most; it still under-covers here (docs/results.md says so)."""
    engine, naive = _coverage(950.0, "10s", "10s", 40, "p99")
    assert naive <= 2
    assert engine >= 14


def test_a_percentile_interval_is_never_narrower_than_its_bucket() -> None:
    """Runs whose p50s fall in one histogram bucket still get an interval ±ALPHA around
    it: the histogram cannot tell values in a bucket apart."""
    pooled, _ = replicate(station("{dist: exponential, mean: 1ms}", "100/s"), runs=3)
    low, high = pooled["ci95"]["latency_ms"]["p50"]
    p50 = pooled["latency_ms"]["p50"]
    assert low <= p50 * (1 - ALPHA) + 1e-4 and high >= p50 * (1 + ALPHA) - 1e-4


def test_a_percentile_inside_an_atom_has_the_atoms_interval() -> None:
    """99.9 % of the visits take exactly 5 ms, 0.1 % take 1 s (a constant fallback and a
    rare timeout), with no queueing: p50, p90 and p99 are 5 ms in every run, so their
    intervals are the bucket around 5 ms. They used to reach the slowest latency
    (p50 [4.97, 1000.0] ms): the CDF was inverted at the top of the atom, 0.999, not at
    the percentile's own level. The p999 sits at the atom's edge and stays uncertain."""
    work = "{dist: mixture, of: [{weight: 0.999, dist: 5ms}, {weight: 0.001, dist: 1s}]}"
    pooled, _ = replicate(station(work, "200/s", workers=1000, duration="20s"), runs=5)
    for name in ("p50", "p90", "p99"):
        low, high = pooled["ci95"]["latency_ms"][name]
        assert pooled["latency_ms"][name] == pytest.approx(5.0, rel=ALPHA)
        assert 5.0 * (1 - 2 * ALPHA) <= low <= high <= 5.0 * (1 + 2 * ALPHA), (name, low, high)


def test_mm1_mean_and_exponential_sojourn_percentiles() -> None:
    """λ = 800/s, μ = 1000/s (ρ = 0.8): W = 5 ms, p50 = 5 ln 2 ms, p99 = 5 ln 100 ms.
    30 × 80 s = 1.9M customers; the 2 s warm-up is ~20 relaxation times of the queue
    (1/(μ(1−√ρ)²) ≈ 90 ms)."""
    lam, mu = 800.0, 1000.0
    pooled, runs = replicate(station("{dist: exponential, mean: 1ms}", "800/s",
                                     duration="80s"), runs=30)
    w_ms = mm1(lam, mu).mean_sojourn_s * 1e3
    found = check(runs, lambda r: r["latency_ms"]["mean"], w_ms, "M/M/1 W ms")
    # The engine's own ci95 is the same Student-t interval over the same replications.
    low, high = pooled["ci95"]["latency_ms"]["mean"]
    assert (low, high) == (pytest.approx(found.low, abs=2e-4), pytest.approx(found.high,
                                                                              abs=2e-4))
    for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
        truth = mm1_sojourn_quantile(lam, mu, q) * 1e3
        check(runs, lambda r, n=name: r["latency_ms"][n], truth, f"M/M/1 {name} ms",
              slack=ALPHA * truth)
    assert pooled["latency_ms"]["p50"] == pytest.approx(5 * math.log(2), rel=0.02)
    check(runs, lambda r: r["components"]["s"]["utilization"], 0.8, "M/M/1 utilization")
    check(runs, lambda r: r["components"]["s"]["queue_mean"],
          mm1(lam, mu).mean_queue_length, "M/M/1 Lq")


@pytest.mark.slow
def test_mmc_reference_model_b() -> None:
    """performance.md (b) in milliseconds: M/M/8, λ = 900/s, 8 ms service (ρ = 0.9):
    P(wait) = 0.701533, W = 1.876916 × 8 ms, Wq = 0.876916 × 8 ms. Wq is checked through
    Little's law on the measured mean queue length, Lq = λ Wq."""
    expected = mmc(900.0, 125.0, 8)
    _, runs = replicate(station("{dist: exponential, mean: 8ms}", "900/s", workers=8,
                                     duration="100s", warmup="4s"), runs=30)
    check(runs, lambda r: r["latency_ms"]["mean"], expected.mean_sojourn_s * 1e3,
          "M/M/8 W ms")
    check(runs, lambda r: r["components"]["s"]["queue_mean"] / r["throughput_rps"] * 1e3,
          expected.mean_wait_s * 1e3, "M/M/8 Wq ms (Lq / λ)")
    check(runs, lambda r: r["components"]["s"]["utilization"], 0.9, "M/M/8 utilization")


def test_md1_pollaczek_khinchine() -> None:
    """Constant 1 ms service at 700/s: Wq = ρS / (2(1−ρ)) = 1.1667 ms, W = 2.1667 ms."""
    _, runs = replicate(station("1ms", "700/s", duration="60s"), runs=20)
    check(runs, lambda r: r["latency_ms"]["mean"], md1(700.0, 0.001).mean_sojourn_s * 1e3,
          "M/D/1 W ms")


def test_mg1_gamma_pollaczek_khinchine() -> None:
    """Gamma service, mean 1 ms, cv 0.5, at 700/s: E[S²] = 1.25 ms²."""
    _, runs = replicate(station("{dist: gamma, mean: 1ms, cv: 0.5}", "700/s", duration="60s"),
                        runs=20)
    check(runs, lambda r: r["latency_ms"]["mean"],
          mg1_cv(700.0, 0.001, 0.5).mean_sojourn_s * 1e3, "M/G/1 gamma W ms")


def test_mg1_lognormal_service_through_the_simulation() -> None:
    """A lognormal given by mean + p99 drives a full simulation: P-K needs its exact
    E[S²] = exp(2μ + 2σ²), so this checks the distribution's parameters end to end."""
    dist = Lognormal(dist="lognormal", mean="1ms", p99="4ms")
    second = math.exp(2 * dist.mu + 2 * dist.sigma**2)
    _, runs = replicate(station("{dist: lognormal, mean: 1ms, p99: 4ms}", "600/s",
                                duration="60s"), runs=20)
    check(runs, lambda r: r["latency_ms"]["mean"],
          mg1(600.0, dist.mean_s, second).mean_sojourn_s * 1e3, "M/G/1 lognormal W ms")
