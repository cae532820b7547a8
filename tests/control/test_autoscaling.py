"""The HPA end to end: a load step against a hand computation of the scale-up, the scale-down
window, the cost of cold starts, and KEDA's scale from and to zero."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from scalesim.sim import simulate
from scalesim.spec import load_spec_text

CAPACITY = 400.0  # requests per second one single-worker replica serves (2.5 ms mean work)
TARGET = 0.5
STEP = """\
scalesim: 1
name: hpa-step
components:
  api:
    replicas: 1
    workers: 1
    queue: 50
    startup: {startup}
    operations:
      get: {{work: {{dist: exponential, mean: 2.5ms}}}}
    autoscale: {{min: 1, max: 20, metrics: [{{cpu: 50%}}]}}
workloads:
  - name: users
    to: api.get
    profile:
      - {{at: 0s, rate: 200/s}}
      - {{at: 60s, rate: 2000/s}}
      - {{at: {drop}, rate: 200/s}}
simulation: {{duration: {duration}, seed: 3}}
"""


def run(startup: str = "0s", drop: str = "1h", duration: str = "200s") -> dict[str, Any]:
    system = load_spec_text(STEP.format(startup=startup, drop=drop, duration=duration))
    return simulate(system, with_series=True)


def hand_computed(rate: float, replicas: int) -> list[int]:
    """The HPA's proposals sync after sync for a CPU-bound service: a saturated replica
    reports 100 % (saturation hides demand), so each sync multiplies the replicas by at most
    1 / target = 2 — the doubling limit — until the fleet is no longer saturated."""
    path = []
    while True:
        utilization = min(1.0, rate / (replicas * CAPACITY))
        ratio = utilization / TARGET
        if abs(ratio - 1.0) <= 0.1:
            return path
        replicas = math.ceil(ratio * replicas)
        path.append(replicas)


def test_a_step_settles_at_ten_replicas_in_the_hand_computed_number_of_syncs() -> None:
    result = run()
    events = result["components"]["api"]["scaling"]["events"]
    expected = hand_computed(2000.0, 1)
    assert expected == [2, 4, 8, 10]
    assert [e["to"] for e in events] == expected
    # The first sync after the step (every 15 s from 0) sees a whole window of the new load.
    assert [e["t_s"] for e in events] == [75.0 + 15.0 * i for i in range(len(expected))]
    final = result["components"]["api"]["scaling"]["replicas"]["final"]
    assert 10 <= final <= 11
    assert all(e["reason"].startswith("cpu") for e in events)


RPS = """\
scalesim: 1
name: hpa-rps
components:
  api:
    replicas: 2
    workers: unlimited
    operations:
      get: {work: 1ms}
    autoscale: {min: 1, max: 20, metrics: [{rps: 10/s}]}
workloads:
  - {name: w, to: api.get, rate: 100/s, arrivals: constant, profile: [{at: 60s, rate: 30/s}]}
simulation: {duration: 400s, seed: 1}
"""


def test_an_rps_target_that_divides_the_load_asks_for_exactly_load_over_target() -> None:
    """A Pods metric averaged in milli-units as the controller does: 100 rps at 10 per
    replica is 10 replicas and 30 rps is 3, never one more from a float average a hair above
    the whole ratio (16.7 rps on 6 replicas once gave 11, 2.7 on 11 gave 4)."""
    scaling = simulate(load_spec_text(RPS))["components"]["api"]["scaling"]
    assert scaling["replicas"]["max"] == 10
    assert scaling["replicas"]["final"] == 3


def test_no_replica_is_removed_before_the_scale_down_window() -> None:
    """The load drops at 120 s; recommendations of 10 were made up to the last sync that saw
    high load (120 s), so the first scale-down comes at 120 + 300 = 420 s, not before."""
    result = run(drop="120s", duration="480s")
    events = result["components"]["api"]["scaling"]["events"]
    downs = [e for e in events if e["to"] < e["from"]]
    assert downs, events
    assert downs[0]["t_s"] == pytest.approx(420.0)
    assert all(e["to"] >= e["from"] for e in events if e["t_s"] < 420.0)


def _p99_during(result: dict[str, Any], start: float, end: float) -> float:
    table = result["timeseries"]["workloads"]
    at = table["columns"].index("p99_ms")
    values = [row[at] for row in table["rows"] if start < row[0] <= end and row[at] is not None]
    return float(np.mean(values))


def test_a_cold_start_lengthens_the_lag() -> None:
    """With replicas taking 30 s to start, the HPA's new replicas serve 30 s later each time
    and the p99 stays high for longer while the fleet catches up."""
    warm = run(startup="0s")
    cold = run(startup="30s")
    assert _p99_during(cold, 60.0, 180.0) > 1.5 * _p99_during(warm, 60.0, 180.0)
    # Not ready replicas count as 0 % on scale-up, so the cold fleet grows no faster.
    assert cold["components"]["api"]["scaling"]["events"][0]["t_s"] == 75.0


def test_replica_seconds_and_the_replicas_series_agree() -> None:
    result = run()
    scaling = result["components"]["api"]["scaling"]
    table = result["timeseries"]["replicas"]
    ready = table["columns"].index("ready")
    # Sampled once a second, the ready count integrates to the replica-seconds (startup 0,
    # nothing terminates in this run) within one sample per change.
    integral = sum(row[ready] for row in table["rows"])
    assert integral == pytest.approx(scaling["replica_seconds"], abs=len(scaling["events"]) * 10)
    assert scaling["replicas"]["max"] == max(row[ready] for row in table["rows"])


KEDA = """\
scalesim: 1
name: keda
components:
  producer:
    workers: 8
    operations:
      send: {work: 1ms, calls: [{to: jobs.publish}]}
  jobs:
    kind: queue
    consumers: [{to: worker.process, prefetch: 4}]
  worker:
    replicas: 0
    workers: 4
    operations:
      process: {work: {dist: exponential, mean: 50ms}}
    autoscale:
      min: 0
      max: 5
      metrics: [{queue: {of: jobs, backlog: 20}}]
      polling: 30s
      cooldown: 120s
workloads:
  - name: jobs
    to: producer.send
    profile: [{at: 0s, rate: 0/s}, {at: 45s, rate: 50/s}, {at: 105s, rate: 0/s}]
simulation: {duration: 400s, seed: 2}
"""


def test_keda_scales_a_consumer_from_zero_on_the_first_message_and_back_after_cooldown():
    result = simulate(load_spec_text(KEDA), with_series=True)
    events = result["components"]["worker"]["scaling"]["events"]
    assert events[0]["from"] == 0 and events[0]["to"] == 1
    assert events[0]["t_s"] == 60.0  # the first KEDA poll (every 30 s) after 45 s
    assert events[0]["reason"].startswith("keda")
    last = events[-1]
    assert last["to"] == 0 and "cooldown" in last["reason"]
    # Active while messages are unacknowledged: the last poll that saw any is the one at
    # 90 s (the load stops at 105 s and the consumers keep up, so at 120 s none are left);
    # zero comes at the first poll after 90 + 120 = 210 s (strictly after): 240 s.
    assert last["t_s"] == 240.0
    queue = result["queues"]["jobs->worker.process"]
    assert queue["failed"] == 0 and queue["backlog_end"] == 0
    assert queue["delivered"] == result["requests"]["total"]


def test_messages_wait_for_a_consumer_scaled_to_zero_whatever_its_concurrency() -> None:
    """A fixed `concurrency` instead of `prefetch`: no replica polls at zero, so messages
    wait (before, each was sent to no replica, failed `unavailable` and was lost, the backlog
    stayed empty and KEDA never woke the consumer)."""
    spec = KEDA.replace("prefetch: 4", "concurrency: 4")
    result = simulate(load_spec_text(spec))
    events = result["components"]["worker"]["scaling"]["events"]
    assert events[0]["from"] == 0 and events[0]["to"] == 1 and events[0]["t_s"] == 60.0
    queue = result["queues"]["jobs->worker.process"]
    assert queue["failed"] == queue["lost"] == 0 and queue["backlog_end"] == 0
    assert queue["delivered"] == result["requests"]["total"]


KAFKA_KEDA = """scalesim: 1
name: kafka-keda
components:
  jobs: {kind: queue, partitions: 2, delivery: {guarantee: at_least_once},
         consumers: [{to: worker.process, concurrency: 1}]}
  worker:
    replicas: 1
    workers: unlimited
    operations: {process: {work: 1000s}}
    autoscale: {min: 1, max: 20, metrics: [{queue: {of: jobs, backlog: 10}}]}
workloads: [{name: w, to: jobs.publish, rate: 100/s, arrivals: constant,
             profile: [{at: 0s, rate: 100/s}, {at: 1s, rate: 0/s}]}]
simulation: {duration: 60s, seed: 1}
"""


def test_keda_on_a_partitioned_topic_asks_for_no_more_replicas_than_partitions() -> None:
    """99 records wait on 2 partitions at 10 a replica: KEDA's Kafka scaler reports a lag of
    at most 2 × 10 (allowIdleConsumers false), so the HPA goes to 2, not ceil(99 / 10) = 10
    (it went 1 → 5 → 10, with 8 members idle and their rebalances)."""
    scaling = simulate(load_spec_text(KAFKA_KEDA))["components"]["worker"]["scaling"]
    assert scaling["replicas"]["max"] == 2
    assert [(e["from"], e["to"]) for e in scaling["events"]] == [(1, 2)]
    assert scaling["events"][0]["reason"] == ("queue jobs: 99 unacknowledged / 10 per replica, "
                                              "capped at 2 partitions × 10")


CLUSTER = STEP.format(startup="0s", drop="1h", duration="300s").replace(
    "simulation:", "cluster: {nodes: 1, pods_per_node: 2, max_nodes: 3, provision: 90s, "
    "scan_interval: 10s}\nsimulation:")


def test_the_cluster_autoscaler_orders_nodes_pending_replicas_wait_for_and_stops_at_max():
    """One node of 2 slots, max_nodes 3, provision 90 s, a scan every 10 s. The HPA's
    doublings (startup 0 s) outgrow the node: replicas that find no slot stay Pending until
    the node ordered at the next scan is ready, provision later; the second order is capped
    at max_nodes (one node for four pending replicas), so two stay Pending to the end."""
    result = simulate(load_spec_text(CLUSTER), with_series=True)
    cluster = result["cluster"]
    first, second = cluster["events"]
    assert (first["from"], first["to"]) == (1, 2)
    assert first["reason"] == "2 pending replicas: 1 node(s) ordered"
    assert first["t_s"] % 10.0 == 0.0  # a scan
    assert (second["from"], second["to"]) == (2, 3)
    assert second["reason"] == "4 pending replicas: 1 node(s) ordered"  # 2 needed, 1 allowed
    assert cluster["nodes"] == {"start": 1, "max": 3, "final": 3}

    table = result["timeseries"]["replicas"]
    pending_at = table["columns"].index("pending")
    rows = [(row[0], row[pending_at]) for row in table["rows"]]

    def placed_at(order: float, before: int) -> float:
        """When the pending count first drops below `before` after the order."""
        return next(t for t, pending in rows if t > order and pending < before)

    for event, pending in ((first, 2), (second, 4)):
        assert all(p == pending for t, p in rows if event["t_s"] <= t < event["t_s"] + 90.0)
        assert event["t_s"] + 90.0 <= placed_at(event["t_s"], pending) <= event["t_s"] + 91.0
    assert rows[-1][1] == 2  # max_nodes reached: two replicas never get a slot
    # 1 node until the first is ready, 2 until the second is, 3 to the end of the 300 s.
    t1, t2 = first["t_s"] + 90.0, second["t_s"] + 90.0
    assert cluster["node_seconds"] == pytest.approx(t1 + 2 * (t2 - t1) + 3 * (300.0 - t2))
