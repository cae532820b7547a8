"""Dead letters of deliveries interrupted by consumer crashes: the finding names the crashes
as the cause, and raising max_deliveries past them, applied, ends the dead letters."""

from __future__ import annotations

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
