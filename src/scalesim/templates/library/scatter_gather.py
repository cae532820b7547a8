"""Scatter/gather: query every partition in parallel, answer with what arrived in time."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from scalesim.templates import sizing
from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect, share_near
from scalesim.templates.params import TemplateParams, param

NETWORK_MS = 0.25
FRONT_MS = 1.0
Z99 = 2.3263  # the standard normal's 99th percentile
# (seconds whose queries the shares count, seconds of them inside the slow window): the
# full run (30 s, slow from 12 s to 22 s) and the quick one (9 s, slow from 4 s to 7 s).
FULL, QUICK = (30.0, 10.0), (9.0, 3.0)
REPLICAS = 2  # the gatherer's and each partition's
GATHERER_THREADS, PARTITION_THREADS = 128, 16  # per replica, at least
# Threads at most this busy: the gatherer's even when every query waits out the timeout,
# the partitions' low enough that queueing does not add to their answer times.
GATHERER_UTILIZATION, PARTITION_UTILIZATION = 0.7, 0.5


class Params(TemplateParams):
    partitions: int = param(4, "partitions queried in parallel", unit="partitions", ge=2, le=16)
    rps: float = param(200, "queries per second", unit="req/s", ge=1, le=5000)
    timeout_ms: float = param(100, "how long the gatherer waits for each partition", unit="ms",
                              ge=10, le=5000)
    median_ms: float = param(20, "a partition's median answer time (lognormal)", unit="ms",
                             ge=1, le=1000)
    tail: float = param(3, "a partition's p99 answer time over its median", unit="×",
                        ge=1.1, le=20)
    slow_ms: float = param(250, "extra one-way network delay to the slow partition", unit="ms",
                           ge=0, le=10_000)


def mean_work_ms(p: Params) -> float:
    """A partition's mean answer time: the lognormal's median × exp(σ² / 2)."""
    return p.median_ms * math.exp((math.log(p.tail) / Z99) ** 2 / 2)


def derive(p: Params) -> dict[str, Any]:
    """Threads for the load: a query holds a gatherer thread for at most the timeout (and
    its own work and hops), a partition's for its answer time."""
    hold_ms = p.timeout_ms + FRONT_MS + 4 * NETWORK_MS
    return {"gatherer_workers": sizing.threads(p.rps, hold_ms, REPLICAS, GATHERER_THREADS,
                                               GATHERER_UTILIZATION),
            "partition_workers": sizing.threads(p.rps, mean_work_ms(p), REPLICAS,
                                                PARTITION_THREADS, PARTITION_UTILIZATION)}


def late(p: Params, extra_ms: float) -> float:
    """P(a partition's answer misses the timeout): the round trip (+ extra_ms) and its
    lognormal work together longer than the timeout."""
    budget = p.timeout_ms - 2 * NETWORK_MS - extra_ms
    if budget <= 0:
        return 1.0
    sigma = math.log(p.tail) / Z99
    return 0.5 * math.erfc(math.log(budget / p.median_ms) / sigma / math.sqrt(2))


def degraded(p: Params, run: tuple[float, float]) -> float:
    """The share of partial answers: a query is partial when any partition is late; inside
    the slow window partition 0 is 2 × slow_ms further away."""
    measured, slow = run
    usual = 1 - (1 - late(p, 0.0)) ** p.partitions
    during = 1 - (1 - late(p, 2 * p.slow_ms)) * (1 - late(p, 0.0)) ** (p.partitions - 1)
    return (slow * during + (measured - slow) * usual) / measured


def degraded_expect(p: Params) -> Expect:
    """Within 4 binomial standard errors over the quick run's queries, widened by the gap
    between the full and the quick run's window shares."""
    full, quick = degraded(p, FULL), degraded(p, QUICK)
    why = ("queries with a partition past the timeout are partial: 1 − (1 − q)^N outside the "
           "slow window, 1 − (1 − q_slow)(1 − q)^(N−1) inside it, q = P(round trip + "
           "lognormal work > timeout)")
    queries = p.rps * QUICK[0]
    near = share_near("workloads.queries.degraded_share", (full + quick) / 2, queries, why)
    if near.op == "~":
        return dataclasses.replace(near, tolerance=near.tolerance + abs(full - quick) /
                                   (full + quick))
    return share_near("workloads.queries.degraded_share", max(full, quick), queries, why)


def scenario(p: Params) -> Scenario:
    bound = p.timeout_ms + FRONT_MS + 4 * NETWORK_MS + 5
    return Scenario(
        story=f"{p.rps:g} queries/s fan out to {p.partitions} partitions; from 12 s to 22 s "
              f"partition 0 is {2 * p.slow_ms:g} ms further away (a congested link), so its "
              "answers miss the timeout and queries return partial results.",
        expect=(
            Expect("workloads.queries.failed_share", "<=", 0.0,
                   "a late partition degrades a query, it never fails it"),
            Expect("latency_ms.max", "<", bound,
                   "no query waits longer than the per-partition timeout (plus its own work)"),
            degraded_expect(p),
        ),
        quick=("simulation.duration=9s", "simulation.warmup=1s", "faults.0.at=4s",
               "faults.0.for=3s"))


TEMPLATE = Template(
    id="scatter-gather", version=2, title="Scatter/gather with partial results",
    summary="A query fans out to every partition in parallel and waits at most a timeout for "
            "each; a late partition makes the answer partial (degraded) instead of slow.",
    patterns=("scatter-gather", "fan-out-fan-in", "graceful-degradation", "timeout"),
    params=Params, scenario=scenario, derive=derive,
    assumptions=(
        "Partitions answer independently (lognormal, median 20 ms, p99 3× that), so without a "
        "timeout a query is as slow as its slowest partition.",
        "A partial answer is acceptable to the caller (search results, recommendations): a "
        "missing partition is a fallback of 0 ms counted as degraded.",
        "The slow partition is modelled as network delay, so its workers stay free; a slow "
        "CPU (latency fault) would also queue its later requests.",
        "The gatherer and each partition have 2 replicas: the gatherer 128 threads each, "
        "more when queries all waiting out the timeout would keep them over 70 % busy; a "
        "partition 16, more when its mean answer time would keep them over 50 % busy (at "
        "5000 queries/s a fixed 16 saturated the partitions and every answer was partial).",
        "The expected partial share counts the partitions' own tail past the timeout too "
        "(queueing at the partitions is left out), with a third of the run in the slow "
        "window.",
    ))
