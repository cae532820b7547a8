"""Dead letters of deliveries interrupted by consumer crashes: the finding names the crashes
as the cause, and raising max_deliveries past them, applied, ends the dead letters."""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml

from scalesim.diagnosis import diagnose
from scalesim.sim import simulate
from scalesim.spec import System, load_spec_text

SUBSCRIPTION = "jobs->worker.process"


def _crashing(max_deliveries: int, overrides: tuple[str, ...] = ()) -> System:
    """RabbitMQ-style requeue, one message a second of 10 s work, and the only consumer
    replica down for 1 s from 4.5 s and from 7.5 s (tests/data/test_delivery.py's case)."""
    spec = {"scalesim": 1, "name": "crash",
            "components": {
                "jobs": {"kind": "queue",
                         "delivery": {"guarantee": "at_least_once", "redelivery": "requeue",
                                      "max_deliveries": max_deliveries,
                                      "dead_letter": "jobs-dlq"},
                         "consumers": [{"to": "worker.process", "concurrency": 100}]},
                "jobs-dlq": {"kind": "queue"},
                "worker": {"workers": "unlimited", "operations": {"process": {"work": "10s"}}}},
            "workloads": [{"name": "w", "to": "jobs.publish", "rate": "1/s",
                           "arrivals": "constant"}],
            "faults": [{"target": "worker", "at": at, "for": "1s", "crash": True}
                       for at in ("4.5s", "7.5s")],
            "simulation": {"duration": "30s", "seed": 1}}
    return load_spec_text(yaml.safe_dump(spec, sort_keys=False), "crash.yaml", overrides)


@pytest.mark.parametrize(("max_deliveries", "dead", "failed"), [(1, 4 + 3, 4 + 3),
                                                                (2, 4, 4 + 4 + 3)])
def test_dead_letters_of_crashed_deliveries_are_named_and_more_deliveries_end_them(
        max_deliveries: int, dead: int, failed: int) -> None:
    """The first crash holds messages 1-4, the second 1-4 again and 5-7 (the known answers
    of test_delivery): every failed delivery crashed, and each counted. A crash interrupts
    a message once, so 2 crashes + 1 = 3 deliveries leave every message one to finish."""
    system = _crashing(max_deliveries)
    result = simulate(system)
    [finding] = diagnose(system, result)
    assert (finding["kind"], finding["subject"], finding["limit"]) == \
        ("backlog", SUBSCRIPTION, "max_deliveries")
    numbers = finding["numbers"]
    assert numbers["dead_lettered"] == dead
    assert numbers["crashed_deliveries"] == numbers["failed_deliveries"] == failed
    assert numbers["crashes"] == 2
    assert numbers["dead_letter_share"] == result["queues"][SUBSCRIPTION]["dead_letter_share"]
    assert "interrupted by 2 crashes of worker" in finding["summary"]
    assert any("closed channel" in e for e in finding["evidence"])
    assert finding["fix"]["set"] == ["components.jobs.delivery.max_deliveries=3"]
    fixed = _crashing(max_deliveries, tuple(finding["fix"]["set"]))
    after = simulate(fixed)
    queue = after["queues"][SUBSCRIPTION]
    assert queue["dead_lettered"] == 0 and queue["redelivered"] == queue["failed"] > 0
    assert diagnose(fixed, after) == []


TOPIC = "jobs->worker.process"


def _kafka(overrides: tuple[str, ...] = ()) -> System:
    """A Kafka topic of 4 partitions, at least once (offsets committed every 5 s, the
    default), 20 records/s to 2 replicas × 2 members of 100 ms a record; worker[0] crashes
    for 1 s at 8.5 s and at 17.5 s."""
    spec = {"scalesim": 1, "name": "kafka-crash",
            "components": {
                "jobs": {"kind": "queue", "partitions": 4,
                         "delivery": {"guarantee": "at_least_once", "max_deliveries": 2,
                                      "dead_letter": "jobs-dlq"},
                         "consumers": [{"to": "worker.process", "concurrency": 2}]},
                "jobs-dlq": {"kind": "queue", "partitions": 1},
                "worker": {"replicas": 2, "workers": "unlimited",
                           "operations": {"process": {"work": "100ms"}}}},
            "workloads": [{"name": "w", "to": "jobs.publish", "rate": "20/s"}],
            "faults": [{"target": "worker[0]", "at": at, "for": "1s", "crash": True}
                       for at in ("8.5s", "17.5s")],
            "simulation": {"duration": "30s", "seed": 1}}
    return load_spec_text(yaml.safe_dump(spec, sort_keys=False), "kafka.yaml", overrides)


def _duplicates(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in found if f["kind"] == "duplicates" and f["subject"] == TOPIC]


def test_a_crashed_kafka_consumer_is_named_for_the_records_processed_again() -> None:
    """Kafka returns no crashed delivery by itself (docs/data.md): the crashed member's
    partitions resume from the last committed offset, so what it processed since is
    processed again. The diagnosis said nothing; it now counts the duplicates, from the
    result, and committing after every record (the fix, applied) leaves under 1 %."""
    system = _kafka()
    result = simulate(system)
    queue = result["queues"][TOPIC]
    [finding] = _duplicates(diagnose(system, result))
    assert (finding["severity"], finding["limit"]) == ("warning", "commit_interval")
    numbers = finding["numbers"]
    assert numbers["duplicates"] == queue["duplicates"] > 0.01 * queue["published"]
    assert numbers["redelivered"] == queue["redelivered"]
    assert numbers["published"] == queue["published"]
    assert (numbers["crashes"], numbers["commit_interval_s"]) == (2, 5.0)
    # each crash redoes at most the 5 s since the last commit, of less than the whole topic
    assert queue["duplicates"] <= 2 * 5.0 * queue["published_rps"]
    assert "2 crashes of worker[0]" in finding["summary"]
    assert finding["fix"]["set"] == ["components.jobs.delivery.commit_interval=0s"]
    fixed = _kafka(tuple(finding["fix"]["set"]))
    after = simulate(fixed)
    assert after["queues"][TOPIC]["duplicates"] < 0.01 * after["queues"][TOPIC]["published"]
    assert not _duplicates(diagnose(fixed, after))


def test_duplicates_an_idempotent_consumer_takes_are_no_finding() -> None:
    """Processing twice has the effect of once there (docs/data.md): nothing to fix."""
    system = _kafka(("components.jobs.consumers.0.idempotent=true",))
    result = simulate(system)
    assert result["queues"][TOPIC]["duplicates"] > 0
    assert not _duplicates(diagnose(system, result))


def test_duplicates_with_every_record_committed_call_for_effectively_once() -> None:
    """With offsets committed after every record no commit interval is left to shorten:
    the fix skips the records processed before. The run's duplicates are set to 2 % of
    the published records to stand for a run that had them."""
    system = _kafka(("components.jobs.delivery.commit_interval=0s",))
    result = simulate(system)
    queue = result["queues"][TOPIC]
    queue["duplicates"] = math.ceil(0.02 * queue["published"])
    [finding] = _duplicates(diagnose(system, result))
    assert finding["numbers"]["commit_interval_s"] == 0.0
    assert finding["fix"]["set"] == ["components.jobs.delivery.guarantee=effectively_once"]
