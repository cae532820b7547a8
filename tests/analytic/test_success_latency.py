"""The latency of successful requests when only some of them take the way that fails: a call
made by half the visits to a callee failing half its answers leaves a quarter of the
requests failed, all of them from that way, so the successes take it 1/3 of the time, not
1/2 (the estimate said 6.0 ms where the exact mean is 1 + 10/3 ms and 300 s simulated 4.37)."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import yaml

from scalesim.analytic.estimate import estimate
from scalesim.sim import simulate
from scalesim.spec import load_spec_text
from scalesim.spec.model import System

A_MS, B_MS = 1.0, 10.0


def branching(call: dict[str, object] | None = None, cache: bool = False,
              duration: str = "30s") -> System:
    """`a` (Exp 1 ms) calls `b` (Exp 10 ms, failing half its answers) with probability ½, or,
    with `cache`, reads a cache of hit ratio ½ whose misses go to `b`; no network time, no
    queueing (unlimited workers), 100 requests a second."""
    failing = {"workers": "unlimited", "operations": {"op": {
        "work": {"dist": "exponential", "mean": f"{B_MS}ms"}, "error_rate": "50%"}}}
    entry = {"work": {"dist": "exponential", "mean": f"{A_MS}ms"},
             "calls": [{"to": "c.get" if cache else "b.op", "probability": 0.5, **(call or {})}]}
    components: dict[str, object] = {"a": {"workers": "unlimited", "operations": {"op": entry}},
                                     "b": failing}
    if cache:
        entry["calls"] = [{"to": "c.get"}]
        components["c"] = {"kind": "cache", "workers": "unlimited", "hit_ratio": "50%",
                           "backend": "b.op", "operations": {"get": {}}}
    spec = {"scalesim": 1, "name": "branching", "defaults": {"network": "0ms"},
            "components": components, "workloads": [{"name": "w", "to": "a.op",
                                                     "rate": "100/s"}],
            "simulation": {"duration": duration, "seed": 1}}
    return load_spec_text(yaml.safe_dump(spec, sort_keys=False))


def _quantile(cdf: Callable[[float], float], q: float) -> float:
    low, high = 0.0, 1.0
    while cdf(high) < q:
        high *= 2.0
    for _ in range(100):
        low, high = (low, (low + high) / 2) if cdf((low + high) / 2) >= q else \
            ((low + high) / 2, high)
    return high


def _successes_cdf(through: float) -> Callable[[float], float]:
    """P(T ≤ t) of a success: Exp(A) alone, or with a share `through` Exp(A) + Exp(B)
    (hypoexponential)."""
    def cdf(t: float) -> float:
        alone = 1.0 - math.exp(-t / A_MS)
        both = 1.0 - (B_MS * math.exp(-t / B_MS) - A_MS * math.exp(-t / A_MS)) / (B_MS - A_MS)
        return (1.0 - through) * alone + through * both
    return cdf


@pytest.mark.parametrize("cache", [False, True])
def test_successes_take_the_failing_way_as_often_as_it_succeeds(cache: bool) -> None:
    """0.5 × 0.5 of the requests succeed through `b`, 0.5 without: a third of the successes
    went through it. Exact (no queueing, a mixture of independent sums), so the flag stays."""
    found = estimate(branching(cache=cache)).workloads["w"]
    assert found.success == pytest.approx(0.75)
    assert found.latency is not None
    assert found.latency.mean == pytest.approx((A_MS + B_MS / 3) / 1000, rel=1e-6)
    cdf = _successes_cdf(1 / 3)
    for q in (0.5, 0.99):
        assert found.latency.quantile(q) * 1000 == pytest.approx(_quantile(cdf, q), rel=5e-3)
    if not cache:
        assert found.exact and found.percentiles_exact


def test_a_fallback_answers_so_its_way_counts_as_often_as_it_is_taken() -> None:
    """A failed call that falls back (instantly) is a success: every request succeeds, half
    of them through `b`."""
    found = estimate(branching({"on_failure": {"fallback": "0ms"}})).workloads["w"]
    assert found.success == pytest.approx(1.0)
    assert found.latency is not None
    assert found.latency.mean == pytest.approx((A_MS + B_MS / 2) / 1000, rel=1e-6)


def test_retried_errors_weigh_the_way_by_what_is_left_failing() -> None:
    """3 tries on the 50 % error, no back-off: the call fails ⅛ of the time it is made, and
    a success through it took k tries with 2^−k / (7/8), each a whole Exp(B)."""
    retry = {"retry": {"attempts": 3, "on": ["error"],
                       "backoff": "none"}}
    found = estimate(branching(retry)).workloads["w"]
    through = 0.5 * 7 / 8 / (0.5 + 0.5 * 7 / 8)
    tries = sum(k * 0.5**k for k in (1, 2, 3)) / (7 / 8)
    assert found.success == pytest.approx(1 - 0.5 / 8)
    assert found.latency is not None
    assert found.latency.mean == pytest.approx((A_MS + through * tries * B_MS) / 1000,
                                               rel=1e-3)


def test_the_simulation_agrees() -> None:
    """60 s simulated: ~4,500 successes, the mean's standard error about 0.1 ms."""
    result = simulate(branching(duration="60s"))
    assert result["latency_ms"]["mean"] == pytest.approx(A_MS + B_MS / 3, abs=0.35)
    assert result["latency_ms"]["p50"] == pytest.approx(_quantile(_successes_cdf(1 / 3), 0.5),
                                                        rel=0.08)
