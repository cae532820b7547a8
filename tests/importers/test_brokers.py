"""Queues' delivery settings read back: generate then import gives a Kafka, RabbitMQ and SQS
queue's `partitions`, `delivery` and `group` as docs/import.md maps them (exactly where the
broker's settings hold the field); Strimzi KafkaTopics, RabbitMQ topology-operator Queues and
ACK SQS Queues import into the expected queues; a value the broker refuses is a located
error, and strange values never crash."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.importers.delivery_terms import comparable, expected_back, read_back
from tests.importers.junk import assert_noted_or_located, spoil
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.generate import GenerateOptions, Target, render
from scalesim.importers import Imported, ImportFailed, import_k8s
from scalesim.importers.assemble import assemble
from scalesim.importers.k8s import read_cluster
from scalesim.importers.sources import parse
from scalesim.spec import System, load_spec_text
from scalesim.spec.model import Kind

OPTIONS = GenerateOptions(namespace="demo", image_registry="registry.example/demo")
TARGETS = (Target.K8S, Target.KEDA)


def spec(tech: str, queue: dict[str, Any]) -> System:
    """A producer, the queue `jobs` of `tech` with `queue`'s fields, the dead-letter queue
    `jobs-dlq` (no consumer) when they name it, and a worker with 2 replicas of 2 workers."""
    data = {
        "scalesim": 1, "name": "brokers",
        "components": {
            "producer": {"operations": {"send": {"work": "1ms",
                                                 "calls": [{"to": "jobs.publish"}]}}},
            "jobs": {"kind": "queue", "tech": tech, **queue,
                     "consumers": [{"to": "worker.process", "concurrency": 8}]},
            "worker": {"replicas": 2, "workers": 2,
                       "operations": {"process": {"work": "5ms"}}}},
        "workloads": [{"name": "w", "to": "producer.send", "rate": "10/s"}]}
    if queue.get("delivery", {}).get("dead_letter") == "jobs-dlq":
        data["components"]["jobs-dlq"] = {"kind": "queue", "tech": tech}
    return load_spec_text(yaml.safe_dump(data, sort_keys=False), "brokers.yaml")


def generated(system: System) -> list[Any]:
    return [document for target in TARGETS for file in render(system, target, OPTIONS)
            if file.path.endswith(".yaml") for document in parse(file.content, file.path)]


def round_trip(system: System) -> Imported:
    """generate (k8s, keda), then import, in memory."""
    return assemble(read_cluster(generated(system), "generated"))


def broker_json(system: System, queue: str = "jobs") -> dict[str, Any]:
    found = next(d.data for d in generated(system) if d.data["kind"] == "ConfigMap"
                 and d.data["metadata"]["name"] == f"{queue}-settings")
    settings: dict[str, Any] = json.loads(found["data"]["broker.json"])
    return settings


# -- generate → import: each broker's settings come back -------------------------------------

def test_a_kafka_topic_comes_back_with_partitions_group_commits_and_its_dead_letter_topic(
        ) -> None:
    original = spec("kafka", {
        "partitions": 6, "group": {"session_timeout": "30s", "rebalance": "cooperative"},
        "delivery": {"guarantee": "at_least_once", "max_deliveries": 5,
                     "dead_letter": "jobs-dlq", "commit_interval": "2s"}})
    imported = round_trip(original)
    jobs, sent = imported.system.components["jobs"], original.components["jobs"]
    assert jobs.partitions == sent.partitions == 6
    assert jobs.group is not None and sent.group is not None
    assert (jobs.group.session_timeout, jobs.group.rebalance) == \
        (sent.group.session_timeout, sent.group.rebalance) == (30.0, "cooperative")
    assert jobs.delivery is not None and sent.delivery is not None
    for field in ("guarantee", "max_deliveries", "dead_letter", "commit_interval"):
        assert getattr(jobs.delivery, field) == getattr(sent.delivery, field), field
    # with partitions the subscription is members per replica: the original's 8, from the
    # queue's component.json (its consumer `worker.process` is the worker's)
    assert [c.concurrency for c in jobs.consumers] == [8]
    # the dead-letter topic keeps what it receives: no stand-in consumer for it
    assert imported.system.components["jobs-dlq"].consumers == []
    assert "jobs-dlq-consumer" not in imported.system.components
    assert read_back(jobs) == expected_back(original, "jobs")
    assert broker_json(imported.system) == broker_json(original)


def test_a_rabbitmq_quorum_queue_comes_back_with_its_delivery_limit_and_dead_letters() -> None:
    original = spec("rabbitmq", {"delivery": {
        "guarantee": "at_least_once", "redelivery": "requeue", "max_deliveries": 5,
        "dead_letter": "jobs-dlq"}})
    imported = round_trip(original)
    jobs, sent = imported.system.components["jobs"], original.components["jobs"]
    assert jobs.delivery is not None and sent.delivery is not None
    for field in ("guarantee", "redelivery", "max_deliveries", "dead_letter"):
        assert getattr(jobs.delivery, field) == getattr(sent.delivery, field), field
    assert jobs.partitions is None and jobs.group is None
    assert imported.system.components["jobs-dlq"].kind is Kind.QUEUE
    assert "jobs-dlq-consumer" not in imported.system.components
    # x-delivery-limit is 4 returns: 5 deliveries
    assert "max_deliveries: 5 # from k8s/jobs.yaml" in imported.text and \
        "x-delivery-limit = 4 returns" in imported.text
    assert read_back(jobs) == expected_back(original, "jobs")
    # the subscription's concurrency comes back from the queue's component.json (its
    # consumer `worker.process` is the worker's): so does its prefetch_count
    assert [c.concurrency for c in jobs.consumers] == [8]
    assert broker_json(imported.system) == broker_json(original)
    # the dead letters go to the dead-letter queue's exchange, bound to a queue of its own
    # that keeps them (nobody consumes it), which its broker.json declares
    assert "(the dead-letter queue's fanout exchange, named after it)" in imported.text
    dead = broker_json(original, "jobs-dlq")
    assert [b["destination"] for b in dead["bindings"]] == ["jobs-dlq"]
    assert broker_json(imported.system, "jobs-dlq") == dead


def test_a_rabbitmq_queue_comes_back_with_its_visibility_timeout_as_consumer_timeout() -> None:
    # generate writes the spec's visibility_timeout as x-consumer-timeout (ms)
    original = spec("rabbitmq", {"delivery": {
        "guarantee": "at_least_once", "redelivery": "requeue", "visibility_timeout": "45s"}})
    imported = round_trip(original)
    jobs, sent = imported.system.components["jobs"], original.components["jobs"]
    assert jobs.delivery is not None and sent.delivery is not None
    assert jobs.delivery.visibility_timeout == sent.delivery.visibility_timeout
    assert "x-consumer-timeout = 45000 ms" in imported.text


def test_an_sqs_queue_comes_back_with_its_visibility_timeout_and_redrive_policy() -> None:
    original = spec("sqs", {"delivery": {
        "guarantee": "at_least_once", "visibility_timeout": "45s", "max_deliveries": 3,
        "dead_letter": "jobs-dlq"}})
    imported = round_trip(original)
    system = imported.system
    jobs, sent = system.components["jobs"], original.components["jobs"]
    assert jobs.delivery is not None and sent.delivery is not None
    for field in ("guarantee", "visibility_timeout", "max_deliveries", "dead_letter"):
        assert getattr(jobs.delivery, field) == getattr(sent.delivery, field), field
    # SQS runs as the app's image: the dead-letter queue is a queue because the redrive
    # policy names it (before, it came back a service)
    dlq = system.components["jobs-dlq"]
    assert (dlq.kind, dlq.tech, dlq.consumers) == (Kind.QUEUE, "sqs", [])
    # when the consumer deletes a message is not in the attributes: a PLACEHOLDER
    assert "guarantee: at_least_once # PLACEHOLDER: SQS's attributes do not say" in \
        imported.text
    assert read_back(jobs) == expected_back(original, "jobs")
    assert broker_json(system) == broker_json(original)


def test_what_the_brokers_settings_cannot_say_comes_back_as_documented() -> None:
    """Kafka: effectively once is the consumer's deduplication (at least once comes back),
    and a queue without partitions gets a topic of a partition per delivery in flight, which
    comes back as no partitions; one partition is one. RabbitMQ: the visibility timeout
    comes back from x-consumer-timeout. SQS: requeue is not an SQS redelivery."""
    kafka = spec("kafka", {"delivery": {"guarantee": "effectively_once",
                                        "dead_letter": "jobs-dlq"}})
    back = round_trip(kafka)
    jobs = back.system.components["jobs"]
    assert jobs.partitions is None
    assert jobs.delivery is not None and jobs.delivery.guarantee == "at_least_once"
    assert any("is a partition per delivery in flight" in note for note in back.notes)
    assert broker_json(kafka)["topic"]["partitions"] == 8      # the subscription's 8
    grouped = spec("kafka", {"partitions": 1, "group": {"rebalance": "cooperative"}})
    assert round_trip(grouped).system.components["jobs"].partitions == 1
    assert round_trip(spec("kafka", {"partitions": 1})).system.components["jobs"] \
        .partitions == 1
    rabbit = spec("rabbitmq", {"delivery": {"guarantee": "at_least_once",
                                            "visibility_timeout": "90s"}})
    sqs = spec("sqs", {"delivery": {"guarantee": "at_least_once", "redelivery": "requeue"}})
    for original in (kafka, grouped, rabbit, sqs):
        again = round_trip(original).system.components["jobs"]
        assert read_back(again) == expected_back(original, "jobs")
    rabbit_back = round_trip(rabbit).system.components["jobs"].delivery
    sqs_back = round_trip(sqs).system.components["jobs"].delivery
    assert rabbit_back is not None and rabbit_back.visibility_timeout == 90.0
    assert sqs_back is not None and sqs_back.redelivery == "visibility_timeout"


def test_a_topic_read_without_partitions_leaves_its_commit_interval_out() -> None:
    """Only a topic with partitions commits offsets in the spec: generate commits each record
    of a Kafka queue without them, and a group that commits on a timer there is noted, its
    interval not read (the spec would refuse it)."""
    original = spec("kafka", {"delivery": {"guarantee": "at_least_once"}})
    documents = generated(original)
    config = next(d.data for d in documents if d.data["kind"] == "ConfigMap"
                  and d.data["metadata"]["name"] == "jobs-settings")
    settings_ = json.loads(config["data"]["broker.json"])
    assert settings_["consumer_groups"][0]["enable.auto.commit"] is False
    assert round_trip(original).system.components["jobs"].delivery == \
        original.components["jobs"].delivery
    settings_["consumer_groups"][0].update({"enable.auto.commit": True,
                                            "auto.commit.interval.ms": 2000})
    config["data"]["broker.json"] = json.dumps(settings_)
    back = assemble(read_cluster(documents, "generated"))
    delivery = back.system.components["jobs"].delivery
    assert delivery is not None and "commit_interval" not in delivery.model_fields_set
    assert any("auto.commit.interval.ms: offsets committed on a timer apply to a topic "
               "with partitions" in note for note in back.notes), back.notes


DURATIONS = st.integers(1, 600).map(lambda s: f"{s}s")


@st.composite
def queues(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A queue's delivery, partitions and group over the spec's range, for one broker."""
    tech = draw(st.sampled_from(["kafka", "rabbitmq", "sqs"]))
    delivery: dict[str, Any] = {
        "guarantee": draw(st.sampled_from(["at_most_once", "at_least_once",
                                           "effectively_once"])),
        "redelivery": draw(st.sampled_from(["visibility_timeout", "requeue"])),
        "visibility_timeout": draw(DURATIONS)}
    if draw(st.booleans()):
        delivery["max_deliveries"] = draw(st.integers(1, 1000))
    if draw(st.booleans()):
        delivery["dead_letter"] = "jobs-dlq"
    queue: dict[str, Any] = {"delivery": delivery}
    if tech == "kafka" and draw(st.booleans()):
        queue["partitions"] = draw(st.integers(1, 64))
        # only a topic with partitions commits offsets (the spec refuses it elsewhere)
        delivery["commit_interval"] = draw(st.sampled_from(["0s", "1s", "5s", "250ms"]))
        if draw(st.booleans()):
            queue["group"] = {"session_timeout": draw(DURATIONS),
                              "rebalance": draw(st.sampled_from(["eager", "cooperative"]))}
    return tech, queue


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queues())
def test_every_delivery_the_generator_writes_comes_back_as_documented(
        queue: tuple[str, dict[str, Any]]) -> None:
    tech, fields = queue
    original = spec(tech, fields)
    back = round_trip(original).system
    assert read_back(back.components["jobs"]) == expected_back(original, "jobs")
    assert (comparable(broker_json(back)) or {}).get("topic") == \
        (comparable(broker_json(original)) or {}).get("topic")


# -- what users of the brokers' operators have -----------------------------------------------

WORKER = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
        - name: {name}
          image: acme/{name}:1.0
          resources: {{requests: {{cpu: "2"}}}}
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {{name: {name}}}
spec:
  scaleTargetRef: {{name: {name}}}
  minReplicaCount: 1
  triggers:
    - type: {trigger}
      metadata: {metadata}
"""

STRIMZI = """\
apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaTopic
metadata:
  name: orders
  labels: {strimzi.io/cluster: events}
spec:
  partitions: 12
  replicas: 3
  config: {retention.ms: 604800000, min.insync.replicas: 2}
---
""" + WORKER.format(name="billing", trigger="kafka", metadata=(
    '{bootstrapServers: "events-kafka-bootstrap:9092", consumerGroup: billing, '
    'topic: orders, lagThreshold: "50"}'))

RABBITMQ = """\
apiVersion: rabbitmq.com/v1beta1
kind: Queue
metadata: {name: orders}
spec:
  name: orders
  type: quorum
  durable: true
  arguments:
    x-delivery-limit: 4
    x-dead-letter-exchange: ""
    x-dead-letter-routing-key: orders-dlq
  rabbitmqClusterReference: {name: rabbit}
---
apiVersion: rabbitmq.com/v1beta1
kind: Queue
metadata: {name: orders-dlq}
spec:
  name: orders-dlq
  durable: true
  rabbitmqClusterReference: {name: rabbit}
---
""" + WORKER.format(name="fulfil", trigger="rabbitmq", metadata=(
    '{host: "amqp://rabbit.default.svc:5672", queueName: orders, mode: QueueLength, '
    'value: "20"}'))

ACK = """\
apiVersion: sqs.services.k8s.aws/v1alpha1
kind: Queue
metadata: {name: jobs}
spec:
  queueName: jobs
  visibilityTimeout: "60"
  redrivePolicy: '{"deadLetterTargetArn":"arn:aws:sqs:eu-west-1:123456789012:jobs-dlq",""" \
    """"maxReceiveCount":"4"}'
---
apiVersion: sqs.services.k8s.aws/v1alpha1
kind: Queue
metadata: {name: jobs-dlq}
spec:
  queueName: jobs-dlq
  messageRetentionPeriod: "1209600"
---
""" + WORKER.format(name="worker", trigger="aws-sqs-queue", metadata=(
    '{queueURL: "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs", '
    'queueLength: "10", awsRegion: eu-west-1}'))


def imported_from(tmp_path: Path, text: str, name: str = "queues.yaml") -> Imported:
    manifest = tmp_path / name
    manifest.write_text(text)
    return import_k8s([str(manifest)])


def consumers(system: System, queue: str) -> list[tuple[str, int]]:
    return [(system.resolve(c.to)[0], c.concurrency)
            for c in system.components[queue].consumers]


def test_a_strimzi_kafka_topic_is_a_partitioned_queue(tmp_path: Path) -> None:
    imported = imported_from(tmp_path, STRIMZI)
    orders = imported.system.components["orders"]
    assert (orders.kind, orders.tech, orders.partitions) == (Kind.QUEUE, "kafka", 12)
    assert orders.delivery is None and orders.group is None   # consumer-side: not in a topic
    # the KEDA trigger names the topic; a partitioned subscription is members per replica
    assert consumers(imported.system, "orders") == [("billing", 2)]
    assert "partitions: 12 # from " in imported.text and "KafkaTopic orders, spec.partitions" \
        in imported.text
    notes = " ".join(imported.notes)
    assert "replication factor is not simulated" in notes
    assert "min.insync.replicas, retention.ms" in notes


def test_a_topic_named_like_a_service_is_a_queue_of_its_own(tmp_path: Path) -> None:
    """A topic `orders` beside the `orders` service: the topic declares a queue, named
    `orders-kafka`, which the KEDA trigger naming the topic watches; the service stays one."""
    service = WORKER.split("---")[0].format(name="orders") + """---
apiVersion: v1
kind: Service
metadata: {name: orders}
spec: {selector: {app: orders}, ports: [{name: http, port: 80}]}
---
"""
    imported = imported_from(tmp_path, service + STRIMZI)
    system = imported.system
    assert system.components["orders"].kind is Kind.SERVICE
    topic = system.components["orders-kafka"]
    assert (topic.kind, topic.tech, topic.partitions) == (Kind.QUEUE, "kafka", 12)
    assert consumers(system, "orders-kafka") == [("billing", 2)]


def test_a_rabbitmq_quorum_queue_object_gives_its_delivery_limit_and_dead_letter_queue(
        tmp_path: Path) -> None:
    imported = imported_from(tmp_path, RABBITMQ)
    system = imported.system
    orders = system.components["orders"]
    assert (orders.kind, orders.tech) == (Kind.QUEUE, "rabbitmq")
    assert orders.delivery is not None
    assert (orders.delivery.max_deliveries, orders.delivery.dead_letter) == (5, "orders-dlq")
    # what the consumer's code decides is a PLACEHOLDER
    assert (orders.delivery.guarantee, orders.delivery.redelivery) == \
        ("at_least_once", "requeue")
    assert "guarantee: at_least_once # PLACEHOLDER" in imported.text
    assert consumers(system, "orders") == [("fulfil", 1)]  # autoscaled: prefetch instead
    # a classic queue without arguments says nothing of delivery; it is a dead-letter queue
    dlq = system.components["orders-dlq"]
    assert (dlq.kind, dlq.delivery, dlq.consumers) == (Kind.QUEUE, None, [])


def test_a_quorum_queue_without_a_limit_has_rabbitmq_4s_default_and_the_broker_may_be_a_workload(
        tmp_path: Path) -> None:
    broker = """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: rabbit}
spec:
  serviceName: rabbit
  selector: {matchLabels: {app: rabbit}}
  template:
    metadata: {labels: {app: rabbit}}
    spec:
      containers: [{name: rabbitmq, image: "rabbitmq:4.1", ports: [{containerPort: 5672}]}]
---
apiVersion: v1
kind: Service
metadata: {name: rabbit}
spec: {selector: {app: rabbit}, ports: [{name: amqp, port: 5672}]}
---
apiVersion: rabbitmq.com/v1beta1
kind: Queue
metadata: {name: emails}
spec:
  name: emails
  type: quorum
  durable: true
  arguments: {x-dead-letter-exchange: "", x-dead-letter-routing-key: emails-dlq}
  rabbitmqClusterReference: {name: rabbit}
---
apiVersion: rabbitmq.com/v1beta1
kind: Queue
metadata: {name: emails-dlq}
spec: {name: emails-dlq, type: quorum, durable: true, rabbitmqClusterReference: {name: rabbit}}
"""
    imported = imported_from(tmp_path, broker)
    rabbit = imported.system.components["rabbit"]
    # the queue lives on the broker the reference names: its settings are the broker's
    assert rabbit.delivery is not None and rabbit.delivery.max_deliveries == 21
    assert "RabbitMQ 4's default of 20 returns" in imported.text
    notes = " ".join(imported.notes)
    # the broker holds `emails` already: the second queue is a queue component of its own,
    # which the first dead-letters to (and which keeps what it receives: no stand-in)
    assert rabbit.delivery.dead_letter == "emails-dlq"
    dlq = imported.system.components["emails-dlq"]
    assert (dlq.kind, dlq.tech, dlq.consumers) == (Kind.QUEUE, "rabbitmq", [])
    assert "Queue emails-dlq: its broker rabbit holds another queue of the files" in notes


def test_an_ack_sqs_queue_gives_visibility_timeout_and_redrive_policy(tmp_path: Path) -> None:
    imported = imported_from(tmp_path, ACK)
    system = imported.system
    jobs = system.components["jobs"]
    assert (jobs.kind, jobs.tech) == (Kind.QUEUE, "sqs")
    assert jobs.delivery is not None
    assert (jobs.delivery.visibility_timeout, jobs.delivery.max_deliveries,
            jobs.delivery.dead_letter, jobs.delivery.guarantee) == \
        (60.0, 4, "jobs-dlq", "at_least_once")
    assert consumers(system, "jobs") == [("worker", 1)]   # the queue's name in its URL
    dlq = system.components["jobs-dlq"]
    assert (dlq.kind, dlq.consumers) == (Kind.QUEUE, [])
    assert dlq.delivery is not None and dlq.delivery.max_deliveries is None


def _delivery(system: System) -> Any:
    return next(c.delivery for c in system.components.values() if c.kind is Kind.QUEUE)


@pytest.mark.parametrize(("text", "left_out", "noted"), [
    (STRIMZI.replace("partitions: 12", "partitions: 20000"),
     lambda s: s.components["orders"].partitions is None,
     "20,000 partitions are more than a spec simulates"),
    (RABBITMQ.replace("x-delivery-limit: 4", "x-delivery-limit: 5000"),
     lambda s: _delivery(s).max_deliveries is None,
     "5,001 deliveries are more than the spec's max_deliveries holds"),
    (RABBITMQ.replace("x-delivery-limit: 4", "x-delivery-limit: -1"),
     lambda s: _delivery(s).max_deliveries is None, "x-delivery-limit is -1: no delivery limit"),
    (ACK.replace('visibilityTimeout: "60"', 'visibilityTimeout: "0"'),
     lambda s: _delivery(s).visibility_timeout == 30.0,
     "the spec's visibility_timeout must be above 0"),
    (RABBITMQ.replace('x-dead-letter-exchange: ""', "x-dead-letter-exchange: dlx"),
     lambda s: _delivery(s).dead_letter is None,
     "dead letters go to exchange 'dlx'; exchange dlx is not in the files (no Exchange "
     "object)"),
    (ACK.replace("jobs-dlq\",", "elsewhere\","),
     lambda s: _delivery(s).dead_letter is None, "its dead-letter queue elsewhere"),
])
def test_values_the_broker_takes_but_the_spec_cannot_hold_are_noted(
        tmp_path: Path, text: str, left_out: Any, noted: str) -> None:
    imported = imported_from(tmp_path, text)
    assert left_out(imported.system)
    assert any(noted in note for note in imported.notes), imported.notes


# -- bad input: file, line, object and field -------------------------------------------------

def generated_files(tmp_path: Path, system: System) -> Path:
    for file in render(system, Target.K8S, OPTIONS):
        target = tmp_path / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file.content)
    return tmp_path / "k8s"


def with_broker_json(tmp_path: Path, tech: str, change: Any) -> Path:
    """The generated files of a `tech` queue, its broker.json changed by `change`."""
    folder = generated_files(tmp_path, spec(tech, {"delivery": {
        "guarantee": "at_least_once", "max_deliveries": 5, "dead_letter": "jobs-dlq"}}))
    path = folder / "jobs.yaml"
    documents = list(yaml.safe_load_all(path.read_text()))
    config = next(d for d in documents if d["kind"] == "ConfigMap")
    config["data"]["broker.json"] = change(json.loads(config["data"]["broker.json"]))
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return folder


def _line_of(path: Path, text: str) -> int:
    return next(n for n, row in enumerate(path.read_text().splitlines(), 1) if text in row)


def _set(settings: dict[str, Any], path: str, value: Any) -> str:
    node: Any = settings
    parts = path.split("/")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[parts[-1]] = value
    return json.dumps(settings)


@pytest.mark.parametrize("wording", ["basic.reject requeue=true", "basic.nack requeue=true"])
def test_a_rabbitmq_consumer_returning_failures_reads_as_requeue_in_either_wording(
        tmp_path: Path, wording: str) -> None:
    """generate writes basic.reject (RabbitMQ 4.3's delivery limit no longer counts
    basic.nack); a broker.json written before says basic.nack: both are requeue, and the
    old one is noted as unlimited on 4.3."""
    folder = generated_files(tmp_path, spec("rabbitmq", {"delivery": {
        "guarantee": "at_least_once", "redelivery": "requeue", "max_deliveries": 5}}))
    path = folder / "jobs.yaml"
    text = path.read_text()
    assert "basic.reject requeue=true" in text
    path.write_text(text.replace("basic.reject requeue=true", wording))
    imported = import_k8s([str(folder)])
    delivery = imported.system.components["jobs"].delivery
    assert delivery is not None
    assert (delivery.redelivery, delivery.max_deliveries) == ("requeue", 5)
    nacked = [note for note in imported.notes if "does not count basic.nack" in note]
    assert len(nacked) == (wording.startswith("basic.nack"))


@pytest.mark.parametrize(("tech", "change", "message"), [
    ("kafka", lambda s: "{not json", "data.broker.json: not valid JSON: Expecting property "
     "name enclosed in double quotes"),
    ("kafka", lambda s: _set(s, "topic/partitions", "six"),
     "data.broker.json (topic.partitions): 'six' is not a whole number"),
    ("kafka", lambda s: _set(s, "consumer_groups/0/session.timeout.ms", 0),
     "data.broker.json (consumer_groups[0].session.timeout.ms): 0 is out of range: it must "
     "be at least 1"),
    ("kafka", lambda s: _set(s, "commit", "sometimes"),
     "data.broker.json (commit): 'sometimes' is not one of"),
    ("rabbitmq", lambda s: _set(s, "queues/0/arguments/x-delivery-limit", "five"),
     "data.broker.json (queues[0].arguments.x-delivery-limit): 'five' is not a whole number"),
    ("sqs", lambda s: _set(s, "queue/Attributes/VisibilityTimeout", "50000"),
     "data.broker.json (queue.Attributes.VisibilityTimeout): 50000 is out of range: it must "
     "be at least 0 and at most 43200"),
    ("sqs", lambda s: _set(s, "queue/Attributes/VisibilityTimeout", 45),
     "data.broker.json (queue.Attributes.VisibilityTimeout): 45 is not text: SQS takes its "
     "attributes as strings (write '45')"),
    ("sqs", lambda s: _set(s, "queue/Attributes/RedrivePolicy", json.dumps(
        {**json.loads(s["queue"]["Attributes"]["RedrivePolicy"]), "maxReceiveCount": 0})),
     "data.broker.json (queue.Attributes.RedrivePolicy): maxReceiveCount 0 is out of range"),
    ("sqs", lambda s: _set(s, "queue/Attributes/RedrivePolicy", json.loads(
        s["queue"]["Attributes"]["RedrivePolicy"])),
     "data.broker.json (queue.Attributes.RedrivePolicy): {'deadLetterTargetArn': "),
    ("kafka", lambda s: _set(s, "error_handler/max_attempts", 0),
     "data.broker.json (error_handler.max_attempts): 0 is out of range: it must be at least 1"),
])
def test_a_broker_json_value_the_broker_refuses_names_its_config_map(
        tmp_path: Path, tech: str, change: Any, message: str) -> None:
    folder = with_broker_json(tmp_path, tech, change)
    with pytest.raises(ImportFailed) as caught:
        import_k8s([str(folder)])
    [problem] = caught.value.problems
    assert (problem.file, problem.line) == (str(folder / "jobs.yaml"),
                                            _line_of(folder / "jobs.yaml", "broker.json:"))
    assert problem.message.startswith("ConfigMap jobs-settings ")
    assert message in problem.message, problem.message


@pytest.mark.parametrize(("text", "old", "new", "message"), [
    (STRIMZI, "partitions: 12", "partitions: 0",
     "KafkaTopic orders spec.partitions: 0 is out of range: it must be at least 1"),
    (STRIMZI, "replicas: 3", "replicas: three",
     "KafkaTopic orders spec.replicas: 'three' is not a whole number"),
    (RABBITMQ, "x-delivery-limit: 4", "x-delivery-limit: ten",
     "Queue orders spec.arguments.x-delivery-limit: 'ten' is not a whole number"),
    (RABBITMQ, "x-dead-letter-routing-key: orders-dlq", "x-dead-letter-routing-key: 7",
     "Queue orders spec.arguments.x-dead-letter-routing-key: 7 is not text"),
    (ACK, 'visibilityTimeout: "60"', "visibilityTimeout: 60",
     "Queue jobs spec.visibilityTimeout: 60 is not text: SQS takes its attributes as strings "
     "(write '60')"),
    (ACK, 'visibilityTimeout: "60"', 'visibilityTimeout: "50000"',
     "Queue jobs spec.visibilityTimeout: 50000 is out of range: it must be at least 0 and at "
     "most 43200"),
    (ACK, '"maxReceiveCount":"4"', '"maxReceiveCount":"none"',
     "Queue jobs spec.redrivePolicy: maxReceiveCount 'none' is not a whole number"),
    (ACK, "redrivePolicy: '{", "redrivePolicy: '[",
     "Queue jobs spec.redrivePolicy: '[\"deadLetterTargetArn\""),
])
def test_a_topic_or_queue_value_the_broker_refuses_is_located(
        tmp_path: Path, text: str, old: str, new: str, message: str) -> None:
    assert old in text
    manifest = tmp_path / "queues.yaml"
    manifest.write_text(text.replace(old, new, 1))
    with pytest.raises(ImportFailed) as caught:
        import_k8s([str(manifest)])
    [problem] = caught.value.problems
    assert (problem.file, problem.line) == (str(manifest), _line_of(manifest, new))
    assert problem.message.startswith(message), problem.message


def test_the_command_exits_2_names_every_refused_value_and_writes_nothing(
        tmp_path: Path) -> None:
    manifest = tmp_path / "queues.yaml"
    manifest.write_text(STRIMZI.replace("partitions: 12", "partitions: -3") + "---\n" +
                        ACK.replace('visibilityTimeout: "60"', "visibilityTimeout: 60"))
    output = tmp_path / "system.yaml"
    result = CliRunner().invoke(app, ["import", "k8s", str(manifest), "-o", str(output)])
    assert result.exit_code == 2, result.output
    assert f"{manifest}:{_line_of(manifest, 'partitions: -3')}: KafkaTopic orders " \
        "spec.partitions: -3 is out of range" in result.stderr
    assert "Queue jobs spec.visibilityTimeout: 60 is not text" in result.stderr
    assert not output.exists()


SQS_JUNK = ("{}", '{"maxReceiveCount": 2}', "arn:aws:sqs:r:a:")




@cache
def generated_text(tech: str) -> str:
    queue: dict[str, Any] = {"delivery": {"guarantee": "at_least_once", "max_deliveries": 4,
                                          "dead_letter": "jobs-dlq"}}
    if tech == "kafka":
        queue.update(partitions=3, group={"rebalance": "cooperative"})
    return yaml.safe_dump_all([json.loads(json.dumps(d.data)) for d in generated(
        spec(tech, queue))], sort_keys=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_strange_values_in_broker_objects_are_noted_or_located(data: st.DataObject) -> None:
    """Any value of a KafkaTopic, a Queue or a generated broker.json replaced by junk: a
    valid spec (what does not fit is noted) or a located error, never a crash."""
    source = data.draw(st.sampled_from([STRIMZI, RABBITMQ, ACK, "kafka", "rabbitmq", "sqs"]))
    documents = list(yaml.safe_load_all(generated_text(source) if source in (
        "kafka", "rabbitmq", "sqs") else source))
    chosen = data.draw(st.sampled_from([d for d in documents if d["kind"] in (
        "KafkaTopic", "Queue") or (d["kind"] == "ConfigMap" and "broker.json" in d["data"])]))
    if chosen["kind"] == "ConfigMap":
        settings_ = json.loads(chosen["data"]["broker.json"])
        spoil(data, settings_, SQS_JUNK)
        chosen["data"]["broker.json"] = json.dumps(settings_)
    else:
        spoil(data, chosen["spec"], SQS_JUNK)
    assert_noted_or_located(yaml.safe_dump_all(documents, sort_keys=False))
