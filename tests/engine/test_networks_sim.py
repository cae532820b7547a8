"""Networks against exact results: a Jackson tandem, model (c), a closed network (MVA),
fork-join fan-out, and the offered-load estimate of utilization."""

from __future__ import annotations

import pytest
from tests.engine.networks import CLOSED as CLOSED_NETWORK
from tests.engine.networks import TANDEM as TANDEM_NETWORK
from tests.engine.networks import fan_out
from tests.engine.simstats import check, replicate

from scalesim.analytic import (
    MvaStation,
    Station,
    exponential_max,
    exponential_order_statistic,
    mva,
    offered_load,
    open_network,
)
from scalesim.spec import load_spec_text

TANDEM = TANDEM_NETWORK + "simulation: {duration: 100s, warmup: 2s, seed: 11}\n"

# performance.md (c), as benchmarks/three_tier.yaml, with a warm-up.
MODEL_C = """
scalesim: 1
name: three-tier
components:
  app:
    replicas: 4
    balancer: random
    io: nonblocking
    operations: {handle: {work: {dist: exponential, mean: 3.5ms}, calls: [{to: db.query}]}}
  db:
    kind: database
    workers: 8
    operations: {query: {work: {dist: exponential, mean: 7ms}}}
workloads: [{name: web, to: app.handle, rate: 900/s}]
simulation: {duration: 60s, warmup: 3s, seed: 3}
"""


def test_jackson_tandem() -> None:
    """M/M/1 (ρ 0.6) -> M/M/2 (ρ 0.45) -> M/M/1 (ρ 0.3) at 300/s: W = Σ station W."""
    expected = open_network(300.0, [Station(0.002), Station(0.003, servers=2), Station(0.001)])
    _, runs = replicate(TANDEM, runs=20)
    check(runs, lambda r: r["latency_ms"]["mean"], expected.mean_sojourn_s * 1e3,
          "tandem W ms")
    for name, measures in zip("abc", expected.stations, strict=True):
        check(runs, lambda r, n=name: r["components"][n]["utilization"], measures.utilization,
              f"tandem {name} utilization")


@pytest.mark.slow
def test_model_c_three_tier() -> None:
    """W = 16.4706 ms (app) + 8.7753 ms (db) = 25.2459 ms; both tiers at ρ = 0.7875."""
    expected = open_network(900.0, [Station(0.0035, replicas=4), Station(0.007, servers=8)])
    assert expected.mean_sojourn_s * 1e3 == pytest.approx(25.2459, abs=1e-4)
    pooled, runs = replicate(MODEL_C, runs=40)
    check(runs, lambda r: r["latency_ms"]["mean"], 25.2459, "model (c) W ms")
    low, high = pooled["ci95"]["latency_ms"]["mean"]
    assert low <= 25.2459 <= high
    rho = offered_load(load_spec_text(MODEL_C))
    for name in ("app", "db"):
        assert rho[name].rho == pytest.approx(0.7875)
        check(runs, lambda r, n=name: r["components"][n]["utilization"], rho[name].rho,
              f"model (c) {name} utilization")
    check(runs, lambda r: r["components"]["db"]["queue_mean"],
          expected.stations[1].mean_queue_length, "model (c) db Lq")


CLOSED = CLOSED_NETWORK + "simulation: {duration: 200s, warmup: 5s, seed: 5}\n"


def test_closed_network_against_exact_mva() -> None:
    """10 users, 100 ms think, two exponential FCFS single servers (8 ms, 12 ms): a product
    form network, so MVA is exact: X = 66.850/s, R = 49.590 ms."""
    expected = mva(10, 0.100, [MvaStation(0.008), MvaStation(0.012)])
    _, runs = replicate(CLOSED, runs=20)
    check(runs, lambda r: r["throughput_rps"], expected.throughput_rps, "MVA X rps")
    check(runs, lambda r: r["latency_ms"]["mean"], expected.response_s * 1e3, "MVA R ms")
    check(runs, lambda r: r["components"]["db"]["utilization"], expected.utilizations[1],
          "MVA db utilization")


@pytest.mark.parametrize(("wait_for", "j"), [("all", 4), ("any", 1), ("2", 2)])
def test_fork_join_order_statistics(wait_for: str, j: int) -> None:
    """k = 4 exponential branches (10 ms) with no queueing: the step takes the j-th smallest
    branch time; all -> H_4 × 10 = 20.833 ms, any -> 10/4 = 2.5 ms, 2 -> 5.833 ms."""
    truth = exponential_order_statistic(4, j, 10.0)
    if wait_for == "all":
        assert truth == pytest.approx(exponential_max(4, 10.0))
    _, runs = replicate(fan_out(wait_for) + "simulation: {duration: 20s, seed: 13}\n", runs=10)
    check(runs, lambda r: r["latency_ms"]["mean"], truth, f"fan-out wait_for {wait_for} ms")


BLOCKING = """
scalesim: 1
name: blocking
defaults: {network: 0.5ms}
components:
  front:
    replicas: 2
    workers: 4
    operations:
      get: {work: {dist: exponential, mean: 1ms}, post_work: 1ms, calls: [{to: back}]}
  back:
    kind: external
    operations: {q: {work: {dist: gamma, mean: 3ms, cv: 0.5}}}
workloads: [{name: w, to: front, rate: 600/s}]
simulation: {duration: 50s, warmup: 2s, seed: 17}
"""


def test_blocking_utilization_counts_the_wait_on_calls() -> None:
    """A blocking front holds its worker for work + network both ways + the call + post_work
    = 6 ms; with an unlimited backend nothing downstream queues, so ρ = 600 × 6 ms / 8 = 0.45
    is exact for the utilization and the backend's mean concurrency is 600 × 3 ms = 1.8."""
    load = offered_load(load_spec_text(BLOCKING))
    assert load["front"].rho == pytest.approx(0.45)
    _, runs = replicate(BLOCKING, runs=10)
    check(runs, lambda r: r["components"]["front"]["utilization"], load["front"].rho,
          "blocking front utilization")
    check(runs, lambda r: r["components"]["back"]["concurrency_mean"],
          load["back"].concurrency, "external back concurrency")
