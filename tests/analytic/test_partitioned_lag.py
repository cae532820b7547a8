"""A partitioned topic's lag: each partition is consumed in order, one record at a time, by
the member that owns it, so a member is a single server of its partitions' records (M/G/1),
not one of a pool. Known answers (Pollaczek–Khinchine) and the simulation."""

from __future__ import annotations

import math
import statistics
from typing import Any

import numpy as np
import pytest
import yaml

from scalesim.analytic.caveats import caveats
from scalesim.analytic.estimate import estimate
from scalesim.analytic.station import StationLoad, partitioned
from scalesim.sim import simulate
from scalesim.spec import load_spec_text


def md1_wait(rate: float, service: float) -> float:
    rho = rate * service
    return rho * service / (2.0 * (1.0 - rho))


def test_members_past_the_partitions_idle_each_partition_is_an_md1() -> None:
    """4 partitions, 8 members, 300/s of 10 ms: an M/D/1 at 75/s each, W = 15 ms (one pool
    of 4 servers would say 2.5 ms)."""
    state = partitioned(StationLoad(300.0, 1, None, 0.01, 0.0), np.full(4, 0.25), 8)
    assert state.mean_wait_s == pytest.approx(md1_wait(75.0, 0.01))
    assert state.mean_wait_s == pytest.approx(0.015)
    assert state.utilization == pytest.approx(0.75)


def test_a_member_of_two_partitions_serves_both() -> None:
    """5 partitions on 4 members (RangeAssignor: the first owns two): one M/D/1 at 80/s
    and three at 40/s, a record on each in proportion."""
    state = partitioned(StationLoad(200.0, 1, None, 0.01, 0.0), np.full(5, 0.2), 4)
    expected = 0.4 * md1_wait(80.0, 0.01) + 0.6 * md1_wait(40.0, 0.01)
    assert state.mean_wait_s == pytest.approx(expected)
    assert state.utilization == pytest.approx(0.8)


def topic_spec(rate: str, keys: dict[str, Any] | None) -> dict[str, Any]:
    workload: dict[str, Any] = {"name": "submit", "to": "api.submit", "rate": rate}
    if keys is not None:
        workload["keys"] = keys
    return {"scalesim": 1, "name": "k", "defaults": {"network": "0ms"},
            "components": {
                "api": {"workers": "unlimited", "operations": {
                    "submit": {"work": "0ms", "calls": [{"to": "topic.publish"}]}}},
                "topic": {"kind": "queue", "partitions": 4,
                          "consumers": [{"to": "worker.process", "concurrency": 4}]},
                "worker": {"replicas": 2, "workers": 100,
                           "operations": {"process": {"work": "10ms"}}}},
            "workloads": [workload],
            "simulation": {"duration": "100s", "warmup": "5s"}}


@pytest.mark.parametrize(("rate", "keys"), [("300/s", {"count": 100_000}),
                                            ("200/s", {"count": 20, "skew": 1.0})])
def test_the_lag_is_each_partitions_own(rate: str, keys: dict[str, Any] | None) -> None:
    """100,000 uniform keys: an M/D/1 at 75/s a partition, lag 25 ms (the pooled M/D/4
    said 12.5); 20 Zipf keys: the partitions take 8 % to 39 % of the records, as their keys
    hash. The estimate within 4 standard errors of 8 runs' mean lag. (Unique keys 0, 1, 2, …
    would hash to the same partitions in every run, so the runs would share one draw of
    the split: 26.3 ms over 100 s runs, 25.1 over 600 s.)"""
    system = load_spec_text(yaml.safe_dump(topic_spec(rate, keys), sort_keys=False))
    found = estimate(system).subscriptions["topic->worker.process"]
    lags = [simulate(system, seed=seed)["queues"]["topic->worker.process"]["lag_ms"]["mean"]
            for seed in range(8)]
    spread = 4 * statistics.stdev(lags) / math.sqrt(len(lags))
    assert found.lag_mean_s * 1e3 == pytest.approx(statistics.mean(lags), abs=spread)


@pytest.mark.parametrize(("partitions", "concurrency", "named"), [(4, 4, False),
                                                                  (8, 1, True)])
def test_members_taking_partitions_in_turn_are_a_caveat(partitions: int, concurrency: int,
                                                        named: bool) -> None:
    """A member of one partition is its M/G/1 (no caveat); one of several takes them in
    turn, which the FIFO M/G/1 gives the mean of but not the percentiles."""
    spec = topic_spec("100/s", None)
    spec["components"]["topic"]["partitions"] = partitions
    spec["components"]["topic"]["consumers"][0]["concurrency"] = concurrency
    system = load_spec_text(yaml.safe_dump(spec, sort_keys=False))
    found = [c.where for c in caveats(system, estimate(system)) if c.code == "partitioned"]
    assert found == (["topic->worker.process"] if named else [])
