"""Replications pool by the documented rules (sim/merge.py): counts add up, maxima take the
maximum, means over replications are means, first-replication details are the first
replication's. Checked on the pooled result against the results of each replication alone,
for every area of the result, and on the rules themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from scalesim.sim.merge import APPENDED, FIXED, First, Peak, merged
from scalesim.sim.metrics import Histogram
from scalesim.sim.partial import merge
from scalesim.sim.result import build_result
from scalesim.sim.run import run_replication
from scalesim.spec import load_spec

FEATURES = Path(__file__).parents[1] / "kernel"
Result = dict[str, Any]


@cache
def pooled_and_alone(name: str) -> tuple[Result, list[Result]]:
    system = load_spec(FEATURES / name, ["simulation.replications=3"])
    seed = system.simulation.seed
    partials = [run_replication(system, seed, r) for r in range(3)]
    alone = [build_result(system, seed, p) for p in partials]
    return build_result(system, seed, merge(partials)), alone


def test_data_sections_add_counts_and_keep_the_first_traces() -> None:
    pooled, alone = pooled_and_alone("data_features.yaml")
    assert pooled["queues"]
    for name, queue in pooled["queues"].items():
        runs = [a["queues"][name] for a in alone]
        for key in ("delivered", "published", "redelivered", "dead_lettered"):
            assert queue[key] == sum(r[key] for r in runs), (name, key)
        for key in ("backlog_start", "backlog_end"):  # levels: one replication's, the mean
            assert abs(queue[key] - sum(r[key] for r in runs) / len(runs)) <= 0.5, (name, key)
        assert queue["oldest_end_ms"] == max(r["oldest_end_ms"] for r in runs)
        if runs[0]["lag_messages"]:
            assert queue["lag_messages"]["max"] == max(r["lag_messages"]["max"] for r in runs)
        assert queue["traces"] == runs[0]["traces"]
        for index, partition in enumerate(queue.get("partitions", [])):
            assert partition["lag_max"] == max(r["partitions"][index]["lag_max"] for r in runs)
            assert partition["delivered"] == sum(r["partitions"][index]["delivered"]
                                                 for r in runs)
        if "rebalances" in queue:
            assert queue["rebalances"] == runs[0]["rebalances"]
    for name, dead in pooled["dead_letters"].items():
        assert dead["received"] == sum(a["dead_letters"][name]["received"] for a in alone)
    for name, saga in pooled["sagas"].items():
        runs = [a["sagas"][name] for a in alone]
        assert saga["started"] == sum(r["started"] for r in runs)
        assert saga["compensated"] == sum(r["compensated"] for r in runs)
        assert saga["traces"] == runs[0]["traces"]
        assert saga["duration_ms"]["max"] == max(r["duration_ms"]["max"] for r in runs)
    for name, outbox in pooled["outboxes"].items():
        runs = [a["outboxes"][name] for a in alone]
        assert outbox["written"] == sum(r["written"] for r in runs)
        assert outbox["backlog_max"] == max(r["backlog_max"] for r in runs)
    for name, store in pooled["event_stores"].items():
        runs = [a["event_stores"][name] for a in alone]
        assert store["appends"] == sum(r["appends"] for r in runs)
        assert store["loads"] == sum(r["loads"] for r in runs)


def test_control_sections_average_fleets_and_keep_the_first_course() -> None:
    pooled, alone = pooled_and_alone("control_features.yaml")
    scaled = [name for name, c in pooled["components"].items() if "scaling" in c]
    assert scaled and pooled["rollouts"] and "cluster" in pooled
    for name in scaled:
        scaling = pooled["components"][name]["scaling"]
        runs = [a["components"][name]["scaling"] for a in alone]
        mean = sum(r["replica_seconds"] for r in runs) / 3
        assert scaling["replica_seconds"] == pytest.approx(mean, abs=1e-3)
        assert scaling["events"] == runs[0]["events"]
        assert scaling["replicas"] == runs[0]["replicas"]
        for version, served in pooled["components"][name].get("versions", {}).items():
            each = [a["components"][name]["versions"][version] for a in alone]
            assert served["requests"] == sum(r["requests"] for r in each)
            assert served["latency_ms"]["max"] == max(
                (r["latency_ms"]["max"] for r in each if r["latency_ms"]["max"] is not None),
                default=None)
    assert pooled["rollouts"] == alone[0]["rollouts"]
    nodes = [a["cluster"]["node_seconds"] for a in alone]
    assert pooled["cluster"]["node_seconds"] == pytest.approx(sum(nodes) / 3, abs=1e-3)
    assert pooled["cluster"]["events"] == alone[0]["cluster"]["events"]


def test_request_path_adds_counts_and_takes_maxima() -> None:
    pooled, alone = pooled_and_alone("features.yaml")
    for key in ("total", "ok", "failed", "drained", "degraded"):
        assert pooled["requests"][key] == sum(a["requests"][key] for a in alone)
    for name, comp in pooled["components"].items():
        runs = [a["components"][name] for a in alone]
        assert comp["queue_max"] == max(r["queue_max"] for r in runs)
        assert comp["queue_end"] == sum(r["queue_end"] for r in runs)
    for index, call in enumerate(pooled["calls"]):
        assert call["attempts"] == sum(a["calls"][index]["attempts"] for a in alone)
        if "circuit_breaker" in call:
            assert call["circuit_breaker"]["transitions"] == \
                alone[0]["calls"][index]["circuit_breaker"]["transitions"]
    assert pooled["events"] == alone[0]["events"]
    assert "ci95" in pooled and all("ci95" not in a for a in alone)


@dataclass
class Sample:
    name: str = field(metadata=FIXED)
    on: bool = field(metadata=FIXED)
    count: int
    seconds: float
    peak: Peak[float]
    first: First[list[int]]
    each: list[float] = field(metadata=APPENDED)
    maybe: Histogram | None


@dataclass
class Flagged:
    on: bool


def sample(count: int, value: float, hist: Histogram | None) -> Sample:
    return Sample("s", True, count, value, Peak(value), First([count]), [value], hist)


def test_merge_rules_follow_the_types_and_change_neither_side() -> None:
    a, b = Histogram(), Histogram()
    a.add(0.1)
    b.add(0.3)
    pooled = merged(sample(1, 2.5, a), sample(2, 1.5, b))
    assert (pooled.count, pooled.seconds, pooled.peak.value) == (3, 4.0, 2.5)
    assert pooled.first.value == [1] and pooled.each == [2.5, 1.5]
    assert pooled.maybe is not None and pooled.maybe.count == 2
    assert (a.count, b.count) == (1, 1)  # the parts pooled are left as they were
    assert merged(sample(1, 1.0, None), sample(1, 1.0, None)).maybe is None
    with pytest.raises(TypeError, match="FIXED"):
        merged(Flagged(True), Flagged(False))
