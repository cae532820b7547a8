"""offered_load: rates through the call graph and hold times, on small specs."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from scalesim.analytic import ComponentLoad, exponential_max, offered_load
from scalesim.spec import load_spec_text

ROOT = Path(__file__).resolve().parents[2]


def loads(components: str, workloads: str, network: str = "") -> dict[str, ComponentLoad]:
    defaults = f"defaults: {{network: {network}}}\n" if network else ""
    return offered_load(load_spec_text(
        f"scalesim: 1\nname: t\n{defaults}components:\n{components}\nworkloads:\n{workloads}\n"))


def test_model_c() -> None:
    """Both tiers of performance.md (c) run at ρ = 900 · 3.5 ms / 4 = 900 · 7 ms / 8 = 0.7875."""
    result = offered_load(load_spec_text((ROOT / "benchmarks" / "three_tier.yaml").read_text()))
    assert result["app"] == ComponentLoad(900.0, pytest.approx(0.0035), pytest.approx(0.7875),
                                          pytest.approx(3.15))
    assert result["db"].rho == pytest.approx(0.7875)
    assert result["db"].arrival_rate_rps == pytest.approx(900.0)


def test_blocking_caller_holds_its_worker_through_sync_calls() -> None:
    """front holds 1 ms work + (2 × 0.5 ms network + 3 ms at back) + 1 ms post_work; a
    non-blocking front would hold only its own 2 ms."""
    components = """
  front:
    replicas: 2
    workers: 4
    io: {io}
    operations:
      get:
        work: {{dist: exponential, mean: 1ms}}
        post_work: 1ms
        calls: [{{to: back}}]
  back:
    workers: unlimited
    operations: {{q: {{work: {{dist: gamma, mean: 3ms, cv: 0.5}}}}}}"""
    blocking = loads(components.format(io="blocking"), "  - {name: w, to: front, rate: 400/s}",
                     network="0.5ms")
    assert blocking["front"].hold_s == pytest.approx(0.006)
    assert blocking["front"].rho == pytest.approx(400 * 0.006 / 8)
    assert blocking["back"].rho == 0.0  # unlimited workers: no utilization...
    assert blocking["back"].concurrency == pytest.approx(400 * 0.003)  # ...but a concurrency
    free = loads(components.format(io="nonblocking"), "  - {name: w, to: front, rate: 400/s}")
    assert free["front"].hold_s == pytest.approx(0.002)


def test_probability_parallel_cache_and_queue_propagate_rates() -> None:
    components = """
  api:
    workers: 100
    operations:
      get:
        calls:
          - {to: cache, probability: 50%}
          - parallel:
              wait_for: all
              calls: [{to: a}, {to: b}, {to: a, probability: 0.5}]
          - {to: events, async: true}
  cache:
    kind: cache
    workers: unlimited
    hit_ratio: 0.8
    backend: db
    operations: {get: {work: 1ms}}
  db: {workers: 4, operations: {q: {work: {dist: exponential, mean: 4ms}}}}
  a: {workers: 8, operations: {x: {work: 10ms}}}
  b: {workers: 8, operations: {x: {work: 20ms}}}
  events: {kind: queue, consumers: [worker, audit]}
  worker: {operations: {handle: {work: 1ms}}}
  audit: {operations: {handle: {work: 2ms}}}"""
    result = loads(components, "  - {name: w, to: api, rate: 1k/s}")
    assert result["cache"].arrival_rate_rps == pytest.approx(500.0)
    assert result["db"].arrival_rate_rps == pytest.approx(100.0)  # misses: 500 × (1 − 0.8)
    assert result["db"].rho == pytest.approx(100 * 0.004 / 4)
    assert result["a"].arrival_rate_rps == pytest.approx(1500.0)
    assert result["b"].arrival_rate_rps == pytest.approx(1000.0)
    assert result["worker"].rho == pytest.approx(1.0)  # every publish reaches each consumer
    assert result["audit"].rho == pytest.approx(2.0)  # ρ ≥ 1: the warning case
    # api waits 0.5 × (1 ms + 0.2 × 4 ms) + max(10, 20, 0.5 × 10) ms; the async publish is free.
    assert result["api"].hold_s == pytest.approx(0.5 * 0.0018 + 0.020)


def test_closed_loop_is_bounded_by_users_over_think_plus_response() -> None:
    components = "  s: {workers: 2, operations: {x: {work: {dist: exponential, mean: 20ms}}}}"
    result = loads(components, "  - {name: u, to: s, users: 10, think: {dist: exponential, "
                   "mean: 180ms}}", network="5ms")
    assert result["s"].arrival_rate_rps == pytest.approx(10 / (0.180 + 0.010 + 0.020))


def test_profile_uses_the_peak_rate() -> None:
    components = "  s: {operations: {x: {work: 1ms}}}"
    result = loads(components, "  - {name: w, to: s, rate: 100/s, profile: "
                   "[{at: 10s, rate: 900/s}, {at: 20s, rate: 50/s}]}")
    assert result["s"].rho == pytest.approx(0.9)


def test_async_loop_without_steady_state_is_infinite() -> None:
    """A consumer that republishes every message regenerates its own load: no steady state."""
    components = """
  q: {kind: queue, consumers: [w]}
  w: {operations: {h: {work: 1ms, calls: [{to: q, async: true}]}}}
  idle: {operations: {x: {work: 1ms}}}"""
    result = loads(components, "  - {name: w, to: w, rate: 1/s}")
    assert math.isinf(result["w"].rho)
    assert result["idle"] == ComponentLoad(0.0, 0.001, 0.0, 0.0)
    halved = components.replace("async: true", "async: true, probability: 0.5")
    assert loads(halved, "  - {name: w, to: w, rate: 1/s}")["w"].arrival_rate_rps == \
        pytest.approx(2.0)  # 1 + 1/2 + 1/4 + …


def test_fork_join_hold_is_a_lower_bound_of_the_expected_maximum() -> None:
    components = """
  api:
    workers: unlimited
    operations:
      get:
        calls: [{parallel: {calls: [{to: a}, {to: a}, {to: a}, {to: a}]}}]
  a: {workers: unlimited, operations: {x: {work: {dist: exponential, mean: 10ms}}}}"""
    hold = loads(components, "  - {name: w, to: api, rate: 10/s}")["api"].hold_s
    assert hold == pytest.approx(0.010) and hold <= exponential_max(4, 0.010)


@pytest.mark.parametrize(("serving", "leader_busy"), [
    ("leader_election: {type: lease}", 2.0),  # both operations: 2 × 1000/s × 1 ms
    # every put, and the balancer's third of the gets (the leader is one of 3 replicas)
    ("leader_election: {type: lease, operations: [put]}", 1.0 + 1.0 / 3.0),
    # leader-based replication decides, whatever the election: the writes, reads anywhere
    ("leader_election: {type: raft}\n    replication: {mode: raft, writes: [put], reads: any}",
     1.0 + 1.0 / 3.0),
    # reads: followers sends none of the gets to the leader
    ("replication: {mode: async, writes: [put], reads: followers}", 1.0),
])
def test_the_leader_serves_what_the_spec_names(serving: str, leader_busy: float) -> None:
    """`leader_election.operations` (default all) or leader-based replication's writes
    (and reads: leader) are the leader's (docs/results.md: the rest is served without a
    leader), and the leader replica takes its balancer share of the rest too."""
    system = load_spec_text(
        "scalesim: 1\nname: t\ncomponents:\n  kv:\n    replicas: 3\n    workers: 4\n"
        f"    {serving}\n"
        "    operations: {put: {work: 1ms}, get: {work: 1ms}}\n"
        "workloads:\n  - {name: w, to: kv.put, rate: 1000/s}\n"
        "  - {name: r, to: kv.get, rate: 1000/s}\n")
    assert offered_load(system)["kv"].leader_busy == pytest.approx(leader_busy)


def test_a_caller_holds_its_worker_through_the_commit_wait() -> None:
    """Raft over 3 replicas, W ~ Exp(2 ms), A 0.25 ms: a write commits at the first of two
    followers' W + A, 0.25 + 1 ms on average, and a read at the leader waits its ReadIndex
    round, 0.5 ms; the blocking caller holds its worker for its 1 ms, the db's 0.1 ms and
    those waits, as the estimate's hold (docs/capacity.md, Replication waits)."""
    system = load_spec_text(
        "scalesim: 1\nname: t\ndefaults: {network: 0ms}\ncomponents:\n"
        "  app:\n    workers: 10\n    operations:\n"
        "      save: {work: 1ms, calls: [{to: db.put}]}\n"
        "      load: {work: 1ms, calls: [{to: db.get}]}\n"
        "  db:\n    replicas: 3\n    workers: unlimited\n"
        "    replication: {mode: raft, writes: [put], write: {dist: exponential, mean: 2ms},"
        " ack: 0.25ms}\n"
        "    operations: {put: {work: 0.1ms}, get: {work: 0.1ms}}\n"
        "workloads:\n  - {name: w, to: app.save, rate: 1000/s}\n"
        "  - {name: r, to: app.load, rate: 1000/s}\n")
    app = offered_load(system)["app"]
    assert app.concurrency == pytest.approx(1000 * (1.1 + 1.25 + 1.1 + 0.5) * 1e-3, rel=1e-3)
