"""Queue subscriptions: what counts as falling behind (waiting messages, not those being
processed), and the texts that say so."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from scalesim.diagnosis import diagnose
from scalesim.diagnosis.finding import rates_apart
from scalesim.sim import simulate
from scalesim.spec import System, load_spec_text


def _queue(concurrency: int, work: str, delivery: dict[str, Any], duration: str = "120s",
           overrides: tuple[str, ...] = ()) -> System:
    """20 messages/s to a worker with unlimited workers, through `concurrency` deliveries."""
    spec = {"scalesim": 1, "name": "q",
            "components": {
                "jobs": {"kind": "queue", "delivery": delivery,
                         "consumers": [{"to": "worker.process", "concurrency": concurrency}]},
                "worker": {"workers": "unlimited", "operations": {"process": {"work": work}}}},
            "workloads": [{"name": "w", "to": "jobs.publish", "rate": "20/s"}],
            "simulation": {"duration": duration, "seed": 1}}
    return load_spec_text(yaml.safe_dump(spec, sort_keys=False), "q.yaml", overrides)


def _backlogs(system: System) -> list[dict[str, Any]]:
    result = simulate(system)
    return [f for f in diagnose(system, result) if f["kind"] == "backlog"]


def test_messages_being_processed_are_not_a_backlog_that_falls_behind() -> None:
    # 20/s × 3 s: about 60 deliveries in flight of the 100 allowed (60 % busy), a flat
    # backlog of about 60 unsettled messages that all are being processed.
    system = _queue(100, "3s", {"guarantee": "effectively_once", "visibility_timeout": "1h"})
    assert _backlogs(system) == []


def test_a_subscription_short_of_the_published_rate_falls_behind_and_says_so() -> None:
    # 50 deliveries of 3 s drain 16.7/s of the 20/s published, from the first answers at 3 s.
    system = _queue(50, "3s", {"guarantee": "effectively_once", "visibility_timeout": "1h"},
                    "60s")
    [finding] = _backlogs(system)
    numbers = finding["numbers"]
    assert numbers["drained_rps"] == pytest.approx(50 / 3 * (60 - 3) / 60, rel=0.03)
    assert numbers["in_flight"] == pytest.approx(numbers["drained_rps"] * 3, rel=0.01)
    drain = next(e for e in finding["evidence"] if " drain " in e)
    low, high = re.search(r"drain ([\d.,]+)/s < ([\d.,]+)/s published", drain).groups()
    assert float(low) < float(high)


@pytest.mark.parametrize(("low", "high"), [(19.0, 19.45), (19.4, 19.45), (0.48, 0.5),
                                           (1005.2, 1005.3), (3.0, 30.0)])
def test_two_rates_read_as_less_when_one_is(low: float, high: float) -> None:
    shown = [float(t.removesuffix("/s").replace(",", "")) for t in rates_apart(low, high)]
    assert shown[0] < shown[1]


def test_a_visibility_timeout_under_the_processing_time_is_named_and_raising_it_settles(
        ) -> None:
    # 1.5 s of work against a 1 s visibility timeout: every delivery is handed out again
    # before it can be acknowledged, so at least once no message ever settles.
    delivery = {"guarantee": "at_least_once", "visibility_timeout": "1s"}
    [finding] = _backlogs(_queue(100, "1500ms", delivery, "30s"))
    assert finding["limit"] == "visibility_timeout"
    assert "no message settled" in finding["summary"]
    assert finding["numbers"]["deliveries_per_message"] > 2
    assert finding["numbers"]["processing_p99_s"] == pytest.approx(1.5)
    # Twice the 1.5 s p99, in whole seconds.
    assert finding["fix"]["set"] == ["components.jobs.delivery.visibility_timeout=3s"]
    assert "never ends" in finding["fix"]["summary"]
    fixed = _queue(100, "1500ms", delivery, "30s", tuple(finding["fix"]["set"]))
    result = simulate(fixed)
    queue = result["queues"]["jobs->worker.process"]
    assert queue["redelivered"] == 0 and queue["deliveries_per_message"] == 1.0
    # Settled: what is left is about the 20/s × 1.5 s in flight, not the 600 published.
    assert queue["backlog_end"] < 20 * 1.5 * 2
    assert not [f for f in diagnose(fixed, result) if f["kind"] == "backlog"]


def test_a_visibility_timeout_that_dead_letters_processed_messages_is_named() -> None:
    # 250 ms of work against 100 ms: every message is delivered 3 times, each delivery
    # succeeds but acknowledges too late, and max_deliveries dead-letters it. The backlog
    # stays flat, so only the dead letters tell.
    delivery = {"guarantee": "at_least_once", "visibility_timeout": "100ms",
                "max_deliveries": 3, "dead_letter": "dlq"}
    spec = {"scalesim": 1, "name": "q",
            "components": {
                "jobs": {"kind": "queue", "delivery": delivery,
                         "consumers": [{"to": "worker.process", "concurrency": 50}]},
                "dlq": {"kind": "queue"},
                "worker": {"workers": "unlimited", "operations": {"process": {"work": {
                    "dist": "constant", "value": "250ms"}}}}},
            "workloads": [{"name": "w", "to": "jobs.publish", "rate": "20/s"}],
            "simulation": {"duration": "10s", "seed": 1}}
    system = load_spec_text(yaml.safe_dump(spec, sort_keys=False), "q.yaml")
    result = simulate(system)
    queue = result["queues"]["jobs->worker.process"]
    assert queue["failed"] == 0 and queue["dead_letter_share"] == 1.0
    [finding] = [f for f in diagnose(system, result) if f["kind"] == "backlog"]
    assert finding["limit"] == "visibility_timeout"
    assert finding["numbers"]["dead_letter_share"] == 1.0
    assert any("no delivery failed" in e for e in finding["evidence"])
    assert "dead-letters it" in finding["fix"]["summary"]
    assert finding["fix"]["set"] == ["components.jobs.delivery.visibility_timeout=1s"]
    # The dead-letter queue's row counts what it received, as the estimate does.
    received = result["dead_letters"]["dlq"]["received"]
    assert received == queue["dead_lettered"]
    assert result["components"]["dlq"]["throughput_rps"] == pytest.approx(received / 10)


def test_published_and_drained_are_the_windows_like_the_tables() -> None:
    # `front` serves at most 1 / 50 ms = 20/s of the 30/s offered, so its backlog is answered
    # in the drain, publishing all the while, and `worker` goes on consuming then: the
    # entry's counts ran past the window (30/s "published" for 20/s in it). The finding's
    # rates are the window's: front's and worker's throughput, apart by the backlog's growth.
    spec = {"scalesim": 1, "name": "q",
            "components": {
                "front": {"workers": 1, "operations": {"take": {
                    "work": {"dist": "constant", "value": "50ms"},
                    "calls": [{"to": "jobs", "async": True}]}}},
                "jobs": {"kind": "queue", "consumers": [{"to": "worker.process",
                                                          "concurrency": 1}]},
                "worker": {"workers": "unlimited", "operations": {
                    "process": {"work": {"dist": "constant", "value": "100ms"}}}}},
            "workloads": [{"name": "w", "to": "front", "rate": "30/s"}],
            "simulation": {"duration": "30s", "seed": 1}}
    system = load_spec_text(yaml.safe_dump(spec, sort_keys=False), "q.yaml")
    result = simulate(system)
    [finding] = [f for f in diagnose(system, result) if f["kind"] == "backlog"]
    numbers = finding["numbers"]
    components = result["components"]
    # A message more or less at each of the window's edges: 1/30 s⁻¹ apiece.
    assert numbers["published_rps"] == pytest.approx(components["front"]["throughput_rps"],
                                                     abs=1 / 30)
    assert numbers["published_rps"] == pytest.approx(20.0, rel=0.02)
    assert numbers["drained_rps"] == pytest.approx(components["worker"]["throughput_rps"])
    assert numbers["published_rps"] - numbers["drained_rps"] == \
        pytest.approx(numbers["backlog_growth_rps"], abs=2 / 30)
    drain = next(e for e in finding["evidence"] if " drain " in e)
    assert "drain 10/s < 20/s published" in drain, drain


def _crashed_consumer(concurrency: int) -> System:
    """5 messages/s of 2 s work to 2 worker replicas through an SQS-style queue (20 s
    visibility timeout); worker[0] crashes at 15 s of a 30 s run, so the deliveries it held
    fail and stay invisible until 35 s, after the window."""
    spec = {"scalesim": 1, "name": "q",
            "components": {
                "jobs": {"kind": "queue", "tech": "sqs",
                         "delivery": {"guarantee": "at_least_once",
                                      "visibility_timeout": "20s"},
                         "consumers": [{"to": "worker.process",
                                        "concurrency": concurrency}]},
                "worker": {"replicas": 2, "workers": 16, "operations": {
                    "process": {"work": {"dist": "gamma", "mean": "2s", "cv": 0.5}}}}},
            "workloads": [{"name": "w", "to": "jobs.publish", "rate": "5/s"}],
            "faults": [{"target": "worker[0]", "at": "15s", "crash": True}],
            "simulation": {"duration": "30s", "seed": 1}}
    return load_spec_text(yaml.safe_dump(spec, sort_keys=False), "q.yaml")


def test_messages_a_crash_left_invisible_are_not_a_backlog_that_falls_behind() -> None:
    # The worker left (16 workers, 8/s) keeps up with the 5/s; the deliveries the crash
    # took wait out their visibility timeout, neither in flight nor waiting for a consumer.
    system = _crashed_consumer(20)
    result = simulate(system)
    queue = result["queues"]["jobs->worker.process"]
    assert queue["failed"] >= 5 and queue["redelivered"] == 0
    assert queue["backlog_end"] > 2 * 10  # past the rule without the invisible ones
    assert [f for f in diagnose(system, result) if f["kind"] == "backlog"] == []


def test_a_backlog_beside_messages_a_crash_left_invisible_still_falls_behind() -> None:
    # 5 deliveries of 2 s at a time drain 2.5/s of the 5/s: a true backlog; the messages
    # the crash left invisible are counted apart from those waiting.
    system = _crashed_consumer(5)
    result = simulate(system)
    queue = result["queues"]["jobs->worker.process"]
    [finding] = [f for f in diagnose(system, result) if f["kind"] == "backlog"]
    assert "falls behind" in finding["summary"]
    numbers = finding["numbers"]
    assert numbers["invisible"] == queue["failed"] > 0
    assert numbers["backlog_end"] - numbers["invisible"] - numbers["in_flight"] > 50
    assert any(f"{queue['failed']} failed and invisible" in e for e in finding["evidence"])
