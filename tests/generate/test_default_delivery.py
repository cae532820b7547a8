"""A queue's `delivery` (and a topic's `group`) left out is its default: the spec means the
same by both, so the generated files must be the same, broker.json included (Kafka's
partition count, the RabbitMQ quorum queue the KEDA trigger names)."""

from __future__ import annotations

import json

import pytest
from tests.generate.helpers import OPTIONS, by_kind, documents

from scalesim.generate import GeneratedFile, Target, render
from scalesim.spec import load_spec_text

SPEC = """\
scalesim: 1
name: defaults
components:
  producer: {{operations: {{send: {{work: 1ms, calls: [{{to: jobs.publish}}]}}}}}}
  jobs:
    kind: queue
    tech: {tech}
    consumers: [{{to: worker.process, concurrency: 16}}]
{extra}
  worker: {{replicas: 2, workers: 4, operations: {{process: {{work: 5ms}}}}}}
workloads: [{{name: w, to: producer.send, rate: 10/s}}]
"""
EXPLICIT = "    delivery: {guarantee: at_most_once}"
TOPIC = "    partitions: 8"
GROUP = "    group: {session_timeout: 45s}"


def files(tech: str, extra: str = "") -> dict[str, str]:
    system = load_spec_text(SPEC.format(tech=tech, extra=extra))
    rendered: list[GeneratedFile] = render(system, Target.ALL, OPTIONS)
    return {file.path: file.content for file in rendered}


@pytest.mark.parametrize("tech", ["kafka", "rabbitmq", "sqs"])
def test_the_default_delivery_deploys_as_written_out(tech: str) -> None:
    assert files(tech) == files(tech, EXPLICIT)


def test_the_default_group_deploys_as_written_out() -> None:
    assert files("kafka", TOPIC) == files("kafka", f"{TOPIC}\n{GROUP}")


def test_a_kafka_queue_without_delivery_gets_its_partitions() -> None:
    """Kafka shares a topic among a group by partition only: the 16 deliveries in flight
    need 16 partitions, where the broker's default is 1."""
    system = load_spec_text(SPEC.format(tech="kafka", extra=""))
    config = by_kind(documents(render(system, Target.K8S, OPTIONS)), "ConfigMap")
    broker = json.loads(config["jobs-settings"]["data"]["broker.json"])
    assert broker["topic"]["partitions"] == 16


def test_the_queue_a_rabbitmq_trigger_names_is_declared() -> None:
    system = load_spec_text(SPEC.format(tech="rabbitmq", extra=""))
    docs = documents(render(system, [Target.K8S, Target.KEDA], OPTIONS))
    broker = json.loads(by_kind(docs, "ConfigMap")["jobs-settings"]["data"]["broker.json"])
    named = [trigger["metadata"]["queueName"]
             for trigger in by_kind(docs, "ScaledObject")["worker"]["spec"]["triggers"]]
    assert named == ["jobs-worker"]
    assert [queue["name"] for queue in broker["queues"]] == named
