"""The numbers the messages quote, against answers worked out by hand."""

from __future__ import annotations

import math

import pytest
from tests.lint.helpers import WriteSpec

from scalesim.lint.config import LintConfig
from scalesim.lint.context import Context
from scalesim.lint.estimates import latency_s, ms, pct
from scalesim.spec import load_spec

SPEC = """
defaults: {network: 1ms}
components:
  a:
    operations:
      x:
        work: 2ms
        post_work: 1ms
        calls:
          - {to: cache.get, probability: 50%}
          - parallel:
              wait_for: 1
              calls:
                - {to: b.slow}
                - {to: b.fast}
          - {to: q, async: true}
  cache: {kind: cache, hit_ratio: 80%, backend: b.slow, operations: {get: {work: 1ms}}}
  b: {operations: {slow: {work: 10ms}, fast: {work: 4ms}}}
  q: {kind: queue, consumers: [{to: b.fast}]}
workloads:
  - {name: w, to: a.x, rate: 100/s}
  - {name: v, to: b.slow, profile: [{at: 0s, rate: 50/s}, {at: 10s, rate: 20/s}]}
"""


def context(write_spec: WriteSpec, text: str) -> Context:
    return Context.of(load_spec(write_spec(text)), LintConfig())


def test_latency_without_queueing(write_spec: WriteSpec) -> None:
    ctx = context(write_spec, SPEC)
    cache_get = 0.001 + 0.2 * (0.002 + 0.010)  # work + misses x (round trip + backend)
    assert latency_s(ctx, "cache.get") == pytest.approx(cache_get)
    # own work + half the time a cache call + the first branch to finish (b.fast)
    expected = 0.003 + 0.5 * (0.002 + cache_get) + (0.002 + 0.004)
    assert latency_s(ctx, "a.x") == pytest.approx(expected)


def test_rates_follow_probabilities_misses_and_queues(write_spec: WriteSpec) -> None:
    rates = context(write_spec, SPEC).rates
    assert rates["cache.get"] == pytest.approx(50.0)
    # the v profile holds 20/s to the end; 20% of the cache's 50/s miss; one parallel branch
    assert rates["b.slow"] == pytest.approx(20.0 + 10.0 + 100.0)
    assert rates["q.publish"] == pytest.approx(100.0)
    assert rates["b.fast"] == pytest.approx(100.0 + 100.0)  # branch + queue consumer


def test_rates_that_never_settle_are_infinite(write_spec: WriteSpec) -> None:
    """Each call brings one back: no steady state, and the rules that read rates skip it."""
    loop = """
components:
  a: {operations: {x: {work: 1ms, calls: [{to: b.y, async: true}]}}}
  b: {operations: {y: {calls: [{to: a.x, async: true}]}}}
workloads: [{name: w, to: a.x, rate: 10/s}]
"""
    rates = context(write_spec, loop).rates
    assert rates["a.x"] == rates["b.y"] == math.inf


def test_formats() -> None:
    assert (ms(0.0025), ms(1.5), ms(float("inf"))) == ("2.5 ms", "1.5 s", "unbounded")
    assert (pct(0.9702), pct(1.0)) == ("97.02%", "100%")
