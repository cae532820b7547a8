"""The CPU request of a caller whose call timeout cuts a heavy-tailed callee short.

The worker is held E[min(2·network + X, timeout)] per call, not min(mean, timeout): a rare
3 s hang moves the mean to ~70 ms but holds a worker for 100 ms at most.
"""

from __future__ import annotations

import math

from scipy import integrate, stats

from scalesim.generate.resources import resources_for
from scalesim.spec import load_spec_text

SPEC = """
scalesim: 1
name: timed
defaults: {network: 0.25ms}
components:
  caller:
    workers: 64
    operations:
      call:
        work: 1ms
        calls: [{to: dependency.get, timeout: 100ms}]
  dependency:
    workers: unlimited
    operations:
      get:
        work:
          dist: mixture
          of:
            - {weight: 0.98, dist: {dist: lognormal, median: 8ms, p99: 30ms}}
            - {weight: 0.02, dist: 3s}
workloads: [{name: calls, to: caller.call, rate: 500/s}]
"""
WORK, HOPS, TIMEOUT, WORKERS = 0.001, 0.0005, 0.1, 64


def _capped_lognormal_mean() -> float:
    """E[min(HOPS + L, TIMEOUT)] for the lognormal part, by quadrature."""
    sigma = math.log(30.0 / 8.0) / stats.norm.ppf(0.99)
    lognormal = stats.lognorm(sigma, scale=0.008)
    below, _ = integrate.quad(lambda x: min(HOPS + x, TIMEOUT) * lognormal.pdf(x), 0.0, 1.0,
                              points=[TIMEOUT - HOPS], limit=200)
    return below + TIMEOUT * lognormal.sf(1.0)


def test_a_timeout_caps_each_call_not_the_mean() -> None:
    held = WORK + 0.98 * _capped_lognormal_mean() + 0.02 * TIMEOUT   # the hang: 100 ms
    expected = math.ceil(WORKERS * WORK / held * 100) * 10
    assert resources_for(load_spec_text(SPEC), "caller").cpu_m == expected   # 5040m


def test_each_system_gets_its_own_timed_waits() -> None:
    """The waits are kept for the last system only: sizing another one in between
    (a 30 ms timeout cuts more calls short) changes neither answer."""
    first = load_spec_text(SPEC)
    other = load_spec_text(SPEC, overrides=["components.caller.operations.call.calls.0."
                                            "timeout=30ms"])
    alone = resources_for(first, "caller").cpu_m
    shorter = resources_for(other, "caller").cpu_m
    assert shorter > alone
    assert resources_for(first, "caller").cpu_m == alone
