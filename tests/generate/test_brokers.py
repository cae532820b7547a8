"""`broker.json` in a queue's ConfigMap: the spec's delivery settings in each broker's own
terms, checked against the brokers' documented semantics (SQS counts receives, a RabbitMQ
quorum queue counts returns, a Kafka consumer heartbeats within a third of its session)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.generate.helpers import OPTIONS, by_kind, documents

from scalesim.generate import Target, render
from scalesim.spec import load_spec_text

SPEC = """\
scalesim: 1
name: brokers
components:
  producer: {{operations: {{send: {{work: 1ms, calls: [{{to: jobs.publish}}]}}}}}}
  jobs:
    kind: queue
    tech: {tech}
    {extra}
    delivery:
      guarantee: at_least_once
      max_deliveries: 5
      dead_letter: jobs-dlq
      visibility_timeout: 45s
      commit_interval: 2s
    consumers: [{{to: worker.process, concurrency: 8}}]
  jobs-dlq: {{kind: queue}}
  worker: {{operations: {{process: {{work: 5ms}}}}}}
workloads: [{{name: w, to: producer.send, rate: 10/s}}]
"""


def broker(tech: str, extra: str = "") -> dict[str, Any]:
    """The parsed broker.json of the `jobs` queue's ConfigMap."""
    files = render(load_spec_text(SPEC.format(tech=tech, extra=extra)), Target.K8S, OPTIONS)
    config = by_kind(documents(files), "ConfigMap")["jobs-settings"]
    found: dict[str, Any] = json.loads(config["data"]["broker.json"])
    return found


def test_sqs_redrive_after_max_deliveries_receives_and_the_visibility_timeout() -> None:
    """SQS moves a message to the dead-letter queue when its ReceiveCount exceeds
    maxReceiveCount: receives are deliveries, so maxReceiveCount = max_deliveries."""
    attributes = broker("sqs")["queue"]["Attributes"]
    assert attributes["RedrivePolicy"]["maxReceiveCount"] == 5
    assert attributes["RedrivePolicy"]["deadLetterTargetArn"].endswith(":jobs-dlq")
    assert attributes["VisibilityTimeout"] == 45
    assert attributes["MessageRetentionPeriod"] == 4 * 24 * 3600  # the CreateQueue default


def test_rabbitmq_quorum_queue_delivery_limit_counts_returns() -> None:
    """A quorum queue dead-letters a message returned more than x-delivery-limit times: the
    first delivery is not a return, so 5 deliveries are a limit of 4."""
    [queue] = broker("rabbitmq")["queues"]
    assert queue["arguments"] == {"x-queue-type": "quorum", "x-delivery-limit": 4,
                                  "x-dead-letter-exchange": "",
                                  "x-dead-letter-routing-key": "jobs-dlq"}
    assert queue["consumer"]["prefetch_count"] == 8
    assert queue["consumer"]["ack"] == "manual, after processing"


@pytest.mark.parametrize(("rebalance", "assignor"), [
    ("cooperative", "CooperativeStickyAssignor"), ("eager", "RangeAssignor")])
def test_kafka_topic_group_and_commits(rebalance: str, assignor: str) -> None:
    settings = broker("kafka", "partitions: 6\n    group: {session_timeout: 30s, "
                      f"rebalance: {rebalance}}}")
    assert settings["topic"]["partitions"] == 6
    [group] = settings["consumer_groups"]
    assert group["group.id"] == "worker"
    assert group["session.timeout.ms"] == 30_000
    assert group["heartbeat.interval.ms"] == 10_000  # a third of the session
    assert group["partition.assignment.strategy"].endswith(assignor)
    assert group["enable.auto.commit"] is True and group["auto.commit.interval.ms"] == 2000
    assert settings["dead_letter_topic"]["after_attempts"] == 5
