"""Determinism and common random numbers: the same spec and seed give byte-identical JSON,
and editing one component leaves the random draws of the others untouched."""

from __future__ import annotations

import json
from typing import Any

from scalesim.sim import simulate
from scalesim.spec import load_spec_text

# Many random features at once: network, random and p2c balancing, probabilities, parallel,
# errors with retries, a closed loop, replications.
BUSY = """
scalesim: 1
name: busy
defaults: {network: {dist: lognormal, median: 0.3ms, p99: 2ms}}
components:
  gw:
    replicas: 3
    workers: 4
    balancer: random
    operations:
      get:
        work: {dist: gamma, mean: 1ms, cv: 0.7}
        calls:
          - {to: svc, probability: 0.7, retry: {attempts: 3, base: 1ms, max: 5ms}}
          - parallel: {wait_for: 1, calls: [{to: svc}, {to: svc}]}
  svc:
    replicas: 2
    workers: 8
    balancer: p2c
    operations: {x: {work: {dist: exponential, mean: 2ms}, error_rate: 2%}}
workloads:
  - {name: open, to: gw, rate: 300/s}
  - {name: closed, to: gw, users: 5, think: {dist: exponential, mean: 50ms}}
simulation: {duration: 5s, warmup: 1s, seed: 42, replications: 2}
"""

TWO_SERVICES = """
scalesim: 1
name: two
components:
  a:
    operations: {x: {work: {dist: exponential, mean: 2ms}}}
  b:
    workers: 2
    operations: {x: {work: {dist: exponential, mean: B_MEAN}}}
workloads:
  - {name: to-a, to: a, rate: 200/s}
  - {name: to-b, to: b, rate: 200/s}
simulation: {duration: 10s, seed: 9}
"""


def run(spec: str, seed: int | None = None) -> dict[str, Any]:
    return simulate(load_spec_text(spec), seed=seed)


def dump(result: dict[str, Any]) -> str:
    return json.dumps(result, sort_keys=True)


def test_same_spec_and_seed_give_identical_json() -> None:
    assert dump(run(BUSY)) == dump(run(BUSY))


def test_seed_argument_equals_spec_seed() -> None:
    assert dump(run(BUSY, seed=42)) == dump(run(BUSY))


def test_different_seeds_differ() -> None:
    first, second = run(BUSY, seed=1), run(BUSY, seed=2)
    assert first["latency_ms"] != second["latency_ms"]
    assert first["requests"]["total"] != second["requests"]["total"]


def test_editing_one_service_leaves_an_independent_one_unchanged() -> None:
    """Each component draws from its own stream (keyed by name), so a's numbers are
    identical, not just close, when only b's work changes, and b's do change."""
    before = run(TWO_SERVICES.replace("B_MEAN", "4ms"))
    after = run(TWO_SERVICES.replace("B_MEAN", "7ms"))
    assert dump(before["workloads"]["to-a"]) == dump(after["workloads"]["to-a"])
    assert dump(before["components"]["a"]) == dump(after["components"]["a"])
    assert before["workloads"]["to-b"]["latency_ms"] != after["workloads"]["to-b"]["latency_ms"]


def test_adding_a_component_leaves_the_others_unchanged() -> None:
    base = TWO_SERVICES.replace("B_MEAN", "4ms")
    extended = base.replace("workloads:\n", "  c:\n    operations: {x: {work: "
                            "{dist: exponential, mean: 1ms}}}\nworkloads:\n"
                            "  - {name: to-c, to: c, rate: 50/s}\n")
    before, after = run(base), run(extended)
    for name in ("a", "b"):
        assert dump(before["components"][name]) == dump(after["components"][name])
    assert "c" in after["components"]
