"""Scatter/gather: query every partition in parallel, answer with what arrived in time."""

from __future__ import annotations

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param

NETWORK_MS = 0.25
FRONT_MS = 1.0


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


def scenario(p: Params) -> Scenario:
    window_share = 10 / 30
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
            Expect("workloads.queries.degraded_share", "~", window_share,
                   "queries during the slow window (a third of the run) are partial",
                   tolerance=0.15),
        ),
        quick=("simulation.duration=9s", "simulation.warmup=1s", "faults.0.at=4s",
               "faults.0.for=3s"))


TEMPLATE = Template(
    id="scatter-gather", version=1, title="Scatter/gather with partial results",
    summary="A query fans out to every partition in parallel and waits at most a timeout for "
            "each; a late partition makes the answer partial (degraded) instead of slow.",
    patterns=("scatter-gather", "fan-out-fan-in", "graceful-degradation", "timeout"),
    params=Params, scenario=scenario,
    assumptions=(
        "Partitions answer independently (lognormal, median 20 ms, p99 3× that), so without a "
        "timeout a query is as slow as its slowest partition.",
        "A partial answer is acceptable to the caller (search results, recommendations): a "
        "missing partition is a fallback of 0 ms counted as degraded.",
        "The slow partition is modelled as network delay, so its workers stay free; a slow "
        "CPU (latency fault) would also queue its later requests.",
    ))
