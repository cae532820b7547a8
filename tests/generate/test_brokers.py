"""`broker.json` in a queue's ConfigMap: the spec's delivery settings in each broker's own
terms, checked against the brokers' documented semantics (SQS counts receives and takes its
attributes as strings, a RabbitMQ quorum queue counts returns and has a delivery limit of 20
unless told otherwise, a Kafka consumer heartbeats within a third of its session and shares
a topic among a group's members by partition only)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.generate.helpers import OPTIONS, by_kind, documents

from scalesim.generate import Target, render
from scalesim.spec import System, load_spec_text

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
    consumers: [{{to: worker.process, concurrency: 8}}]
  jobs-dlq: {{kind: queue, tech: {dlq_tech}}}
  worker: {{operations: {{process: {{work: 5ms}}}}}}
workloads: [{{name: w, to: producer.send, rate: 10/s}}]
"""


def all_settings(system: System) -> dict[str, dict[str, Any]]:
    """Every queue's parsed broker.json, by ConfigMap owner."""
    configs = by_kind(documents(render(system, Target.K8S, OPTIONS)), "ConfigMap")
    return {name.removesuffix("-settings"): json.loads(config["data"]["broker.json"])
            for name, config in configs.items() if "broker.json" in config["data"]}


def broker(tech: str, extra: str = "", dlq_tech: str | None = None,
           queue: str = "jobs") -> dict[str, Any]:
    """The parsed broker.json of a queue's ConfigMap (the `jobs` queue by default)."""
    system = load_spec_text(SPEC.format(tech=tech, extra=extra, dlq_tech=dlq_tech or tech))
    return all_settings(system)[queue]


def without_dead_letter(spec: str) -> str:
    """The spec with no dead_letter (and no dead-letter queue)."""
    lines = [line for line in spec.splitlines(keepends=True)
             if "dead_letter: jobs-dlq" not in line and not line.startswith("  jobs-dlq:")]
    return "".join(lines)


def test_sqs_attributes_are_strings_and_the_redrive_policy_a_json_string() -> None:
    """SQS's QueueAttributeMap maps names to strings (botocore sqs service-2.json), and
    RedrivePolicy is "the string that includes the parameters ... as a JSON object". SQS
    moves a message to the dead-letter queue when its ReceiveCount exceeds maxReceiveCount:
    receives are deliveries, so maxReceiveCount = max_deliveries."""
    attributes = broker("sqs")["queue"]["Attributes"]
    assert all(isinstance(value, str) for value in attributes.values()), attributes
    policy = json.loads(attributes["RedrivePolicy"])
    assert policy["maxReceiveCount"] == 5
    assert policy["deadLetterTargetArn"] == "arn:aws:sqs:REGION:ACCOUNT:jobs-dlq"
    assert attributes["VisibilityTimeout"] == "45"
    assert attributes["MessageRetentionPeriod"] == str(4 * 24 * 3600)  # the CreateQueue default


def test_sqs_max_deliveries_without_a_dead_letter_queue_is_the_consumers_job() -> None:
    """Without a redrive policy SQS redelivers until the retention period ends: the note says
    the consumer must drop a message at its receive count."""
    alone = load_spec_text(without_dead_letter(SPEC.format(tech="sqs", extra="",
                                                           dlq_tech="sqs")))
    settings_ = all_settings(alone)["jobs"]
    assert "RedrivePolicy" not in settings_["queue"]["Attributes"]
    assert "ApproximateReceiveCount reaches 5" in settings_["note"]


def test_rabbitmq_quorum_queue_delivery_limit_counts_returns() -> None:
    """A quorum queue dead-letters a message returned more than x-delivery-limit times: the
    first delivery is not a return, so 5 deliveries are a limit of 4."""
    settings_ = broker("rabbitmq")
    [queue] = settings_["queues"]
    assert queue["name"] == "jobs-worker"       # the KEDA trigger's queueName
    assert queue["arguments"] == {"x-queue-type": "quorum", "x-delivery-limit": 4,
                                  "x-dead-letter-exchange": "jobs-dlq",
                                  "x-consumer-timeout": 45_000}
    assert queue["consumer"]["prefetch_count"] == 8
    assert queue["consumer"]["ack"] == "manual, after processing"
    assert settings_["exchange"] == {"name": "jobs", "type": "fanout", "durable": True}
    assert settings_["bindings"] == [{"source": "jobs", "destination": "jobs-worker",
                                      "destination_type": "queue", "routing_key": ""}]


def test_rabbitmq_without_max_deliveries_writes_no_limit() -> None:
    """RabbitMQ 4.x (rabbitmq:4.1.1 runs the queues) gives a quorum queue without
    x-delivery-limit a limit of 20 returns; a negative limit is none (rabbit_fifo)."""
    spec = SPEC.format(tech="rabbitmq", extra="", dlq_tech="rabbitmq").replace(
        "      max_deliveries: 5\n", "")
    [queue] = all_settings(load_spec_text(spec))["jobs"]["queues"]
    assert queue["arguments"]["x-delivery-limit"] == -1


@pytest.mark.parametrize(("worker", "consumer", "prefetch", "said"), [
    ("replicas: 1, ", "concurrency: 8", 8, "8 each"),
    ("replicas: 4, ", "concurrency: 8", 2, "8 is divided among 4 consumer replicas, 2 each"),
    # not a multiple: rounded down, 3 × 2 = 6 in flight, never more than the 8 simulated
    ("replicas: 3, ", "concurrency: 8", 2, "6 in flight, 2 fewer than simulated"),
    # fewer deliveries than replicas: 1 each (0 would be no limit), 10 in flight
    ("replicas: 10, ", "concurrency: 8", 1, "10 in flight, more than the simulated 8"),
    # autoscaled: divided by autoscale.max, so at most 8 in flight at 4 replicas
    ("autoscale: {min: 1, max: 4}, ", "concurrency: 8", 2, "(its autoscale.max), 2 each"),
    # the spec's prefetch is already per replica, and follows scaling as RabbitMQ's does
    ("autoscale: {min: 1, max: 4}, ", "prefetch: 3", 3, "the spec's prefetch, 3 per"),
])
def test_rabbitmq_prefetch_count_is_per_consumer_replica(
        worker: str, consumer: str, prefetch: int, said: str) -> None:
    """basic.qos prefetch applies per consumer, not per queue: N replicas each with a
    prefetch_count of the subscription's whole concurrency had N × concurrency in flight
    where the simulation holds concurrency in all (before, 8 for every row)."""
    spec = SPEC.format(tech="rabbitmq", extra="", dlq_tech="rabbitmq").replace(
        "concurrency: 8", consumer).replace(
        "worker: {operations:", f"worker: {{{worker}operations:")
    [queue] = all_settings(load_spec_text(spec))["jobs"]["queues"]
    assert queue["consumer"]["prefetch_count"] == prefetch
    assert said in queue["consumer"]["note"], queue["consumer"]["note"]


@pytest.mark.parametrize("redelivery", ["", "      redelivery: requeue\n"])
def test_rabbitmq_consumer_timeout_is_the_visibility_timeout(redelivery: str) -> None:
    """A delivery unacknowledged for the visibility timeout is delivered again (both
    redeliveries simulate it): RabbitMQ's consumer timeout, 30 min unless the queue's
    x-consumer-timeout (ms, from 3.12) says otherwise, is set to it. On the 4.1 image the
    channel is then closed, returning all it holds."""
    spec = SPEC.format(tech="rabbitmq", extra="", dlq_tech="rabbitmq").replace(
        "visibility_timeout: 45s", "visibility_timeout: 30s").replace(
        "      max_deliveries: 5\n", "      max_deliveries: 5\n" + redelivery)
    every = all_settings(load_spec_text(spec))
    [queue] = every["jobs"]["queues"]
    assert queue["arguments"]["x-consumer-timeout"] == 30_000
    assert "x-consumer-timeout is the spec's visibility_timeout (30000 ms" in every["jobs"]["note"]
    assert "close the consumer's channel" in every["jobs"]["note"]
    # the dead-letter queue nobody consumes holds no consumer timeout
    [kept] = every["jobs-dlq"]["queues"]
    assert "x-consumer-timeout" not in kept["arguments"]
    at_most_once = all_settings(load_spec_text(spec.replace("at_least_once", "at_most_once")))
    [queue] = at_most_once["jobs"]["queues"]
    assert "x-consumer-timeout" not in queue["arguments"]   # acknowledged on delivery
    assert "note" not in at_most_once["jobs"]


def test_rabbitmq_returns_a_failed_message_with_basic_reject() -> None:
    """From RabbitMQ 4.3 a quorum queue's delivery limit counts basic.reject (and lost
    channels) but not basic.nack (rabbitmq-server #15387); up to 4.2 it counts every return.
    basic.reject requeue=true reaches max_deliveries on every version; basic.nack, written
    before, never dead-letters on 4.3."""
    spec = SPEC.format(tech="rabbitmq", extra="", dlq_tech="rabbitmq").replace(
        "      max_deliveries: 5\n", "      max_deliveries: 5\n      redelivery: requeue\n")
    settings_ = all_settings(load_spec_text(spec))["jobs"]
    [queue] = settings_["queues"]
    assert queue["consumer"]["on_failure"] == "basic.reject requeue=true"
    assert "nack" not in json.dumps(settings_)


def _routes(every: dict[str, dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """Each RabbitMQ queue's dead-letter exchange and the declared queues bound to it."""
    exchanges = {s["exchange"]["name"]: [b["destination"] for b in s["bindings"]]
                 for s in every.values() if "exchange" in s}
    declared = {q["name"] for s in every.values() for q in s.get("queues", [])}
    routes = []
    for settings_ in every.values():
        for queue in settings_.get("queues", []):
            target = queue["arguments"].get("x-dead-letter-exchange")
            if target is not None:
                routes.append((target, [q for q in exchanges.get(target, [])
                                        if q in declared]))
    return routes


@pytest.mark.parametrize("dlq", ["{kind: queue}", "{kind: queue, consumers: [{to: worker.park}]}"])
def test_a_rabbitmq_dead_letter_reaches_a_declared_queue(dlq: str) -> None:
    """The dead-letter exchange is the dead-letter queue's own fanout exchange, declared by
    its broker.json and bound to its subscriptions' queues, or, when nobody consumes it, to
    a queue of its name that keeps the dead letters (before, the routing key named a queue
    nobody declared, and RabbitMQ drops a message no queue takes)."""
    spec = SPEC.format(tech="rabbitmq", extra="", dlq_tech="rabbitmq").replace(
        "  jobs-dlq: {kind: queue, tech: rabbitmq}", f"  jobs-dlq: {dlq}").replace(
        "process: {work: 5ms}", "process: {work: 5ms}, park: {work: 1ms}")
    every = all_settings(load_spec_text(spec))
    assert _routes(every) == [("jobs-dlq", ["jobs-dlq-worker" if "consumers" in dlq
                                            else "jobs-dlq"])]
    dead = every["jobs-dlq"]
    # the dead-letter queue has no delivery of its own: at most once, no limit
    assert all(q["arguments"] == {"x-queue-type": "quorum", "x-delivery-limit": -1}
               for q in dead["queues"])


def test_a_rabbitmq_queue_nobody_subscribes_to_declares_its_exchange_only() -> None:
    """What a queue without subscriptions receives is kept by no one, in the simulation as
    in RabbitMQ (a fanout exchange without bindings drops it)."""
    spec = """\
scalesim: 1
name: lonely
components:
  a: {operations: {x: {calls: [{to: events, async: true},
                               {saga: {via: events, coordination: choreography,
                                       steps: [{to: b.y}]}}]}}}
  events: {kind: queue, delivery: {guarantee: at_least_once, max_deliveries: 3}}
  b: {operations: {y: {}}}
workloads: [{name: w, to: a.x, rate: 1/s}]
"""
    settings_ = all_settings(load_spec_text(spec))["events"]
    assert (settings_["queues"], settings_["bindings"]) == ([], [])
    assert "drops what is published" in settings_["note"]


@pytest.mark.parametrize(("rebalance", "assignor"), [
    ("cooperative", "CooperativeStickyAssignor"), ("eager", "RangeAssignor")])
def test_kafka_topic_group_and_commits(rebalance: str, assignor: str) -> None:
    spec = SPEC.format(tech="kafka", dlq_tech="kafka", extra="partitions: 6\n    group: "
                       f"{{session_timeout: 30s, rebalance: {rebalance}}}").replace(
        "visibility_timeout: 45s\n", "visibility_timeout: 45s\n      commit_interval: 2s\n")
    settings_ = all_settings(load_spec_text(spec))["jobs"]
    assert settings_["topic"]["partitions"] == 6
    assert "competing_consumers" not in settings_
    [group] = settings_["consumer_groups"]
    assert group["group.id"] == "worker"
    assert group["session.timeout.ms"] == 30_000
    assert group["heartbeat.interval.ms"] == 10_000  # a third of the session
    assert group["partition.assignment.strategy"].endswith(assignor)
    assert group["enable.auto.commit"] is True and group["auto.commit.interval.ms"] == 2000
    assert (settings_["error_handler"]["max_attempts"],
            settings_["error_handler"]["dead_letter_topic"]) == (5, "jobs-dlq")


def test_a_kafka_queue_without_partitions_gets_a_partition_per_delivery_in_flight() -> None:
    """The spec's queue without partitions lets any idle consumer take the next message (8 at
    once); a Kafka group shares a topic by partition only, so 8 members need 8 partitions
    (1, what was written before, keeps 7 of them idle)."""
    settings_ = broker("kafka")
    assert settings_["topic"]["partitions"] == 8
    assert settings_["competing_consumers"]["deliveries_in_flight"] == 8
    # the simulated queue acknowledges each message when processed: so does each member
    [group] = settings_["consumer_groups"]
    assert group["enable.auto.commit"] is False and "auto.commit.interval.ms" not in group
    assert "committed after every record" in settings_["competing_consumers"]["note"]
    # prefetch 2 per replica of an autoscaled consumer (at most 5 replicas): 10 in flight
    scaled = SPEC.format(tech="kafka", extra="", dlq_tech="kafka").replace(
        "concurrency: 8", "prefetch: 2").replace(
        "worker: {operations:", "worker: {autoscale: {min: 1, max: 5}, operations:")
    assert all_settings(load_spec_text(scaled))["jobs"]["topic"]["partitions"] == 10


def test_kafka_writes_what_a_failed_record_meets_in_every_case() -> None:
    """Kafka has no broker-side limit: the consumer's error handler has its own default
    (Spring Kafka: 10 attempts), so max_deliveries is written with or without a dead-letter
    topic, and at most once a failed record is not retried at all."""
    spec = SPEC.format(tech="kafka", extra="", dlq_tech="kafka")
    alone = without_dead_letter(spec)
    handler = all_settings(load_spec_text(alone))["jobs"]["error_handler"]
    assert (handler["max_attempts"], handler["dead_letter_topic"]) == (5, None)
    unlimited = alone.replace("      max_deliveries: 5\n", "")
    handler = all_settings(load_spec_text(unlimited))["jobs"]["error_handler"]
    assert (handler["max_attempts"], handler["dead_letter_topic"]) == (None, None)
    at_most = spec.replace("guarantee: at_least_once", "guarantee: at_most_once")
    handler = all_settings(load_spec_text(at_most))["jobs"]["error_handler"]
    assert (handler["max_attempts"], handler["dead_letter_topic"]) == (1, None)


@pytest.mark.parametrize(("tech", "dlq_tech"), [("rabbitmq", "sqs"), ("sqs", "kafka"),
                                                ("kafka", "rabbitmq")])
def test_a_dead_letter_queue_on_another_broker_is_not_routed_to_but_noted(
        tech: str, dlq_tech: str) -> None:
    settings_ = broker(tech, dlq_tech=dlq_tech)
    text = json.dumps(settings_)
    assert "x-dead-letter-exchange" not in text and "RedrivePolicy" not in text
    assert '"dead_letter_topic": null' in text or tech != "kafka"
    assert f"is a {dlq_tech} queue, not {tech}" in text


NAMES = st.sampled_from(["orders", "Jobs", "a-b"])


@st.composite
def rabbit_systems(draw: st.DrawFn) -> System:
    """RabbitMQ queues dead-lettering to each other (no cycle), with 0 to 2 consumers."""
    count = draw(st.integers(1, 4))
    components: dict[str, Any] = {
        "p": {"operations": {"x": {"calls": [{"to": "q0", "async": True}]}}},
        "c": {"operations": {"h0": {}, "h1": {}}}}
    for index in range(count):
        queue: dict[str, Any] = {"kind": "queue"}
        consumers = draw(st.integers(0 if index else 1, 2))
        if consumers:
            queue["consumers"] = [{"to": f"c.h{i}"} for i in range(consumers)]
        if index + 1 < count and draw(st.booleans()):
            queue["delivery"] = {"guarantee": "at_least_once",
                                 "max_deliveries": draw(st.integers(1, 1000)),
                                 "dead_letter": f"q{index + 1}"}
        components[f"q{index}"] = queue
    for index in range(1, count):      # a queue without consumers must be a dead letter
        if "consumers" not in components[f"q{index}"] and not any(
                c.get("delivery", {}).get("dead_letter") == f"q{index}"
                for c in components.values()):
            components[f"q{index}"]["consumers"] = [{"to": "c.h0"}]
    return load_spec_text(yaml.safe_dump({
        "scalesim": 1, "name": "r", "components": components,
        "workloads": [{"name": "w", "to": "p.x", "rate": "1/s"}]}))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rabbit_systems())
def test_every_rabbitmq_dead_letter_route_ends_in_a_declared_queue(system: System) -> None:
    every = all_settings(system)
    sources = [n for n, c in system.components.items()
               if c.delivery is not None and c.delivery.dead_letter is not None]
    routes = _routes(every)
    assert {target for target, _ in routes} == {
        system.components[n].delivery.dead_letter for n in sources}  # type: ignore[union-attr]
    assert all(bound for _, bound in routes), routes
