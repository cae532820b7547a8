"""A queue's delivery settings in its broker's own terms, for the queue's ConfigMap
(`broker.json`): Kafka topic and consumer-group properties, RabbitMQ quorum-queue arguments,
SQS queue attributes and redrive policy. Written when the spec sets `delivery`,
`partitions` or `group`; applying them (a topic, a policy, a queue) is the operator's job,
see docs/generate.md."""

from __future__ import annotations

from typing import Any

from scalesim.generate.naming import dns_label
from scalesim.spec.data import ConsumerGroup, Delivery
from scalesim.spec.model import Component, System

KAFKA_RETENTION_MS = 7 * 24 * 3600 * 1000  # log.retention.hours 168 in server.properties
SQS_RETENTION_S = 345_600  # 4 days, the CreateQueue default


def broker_settings(system: System, name: str) -> dict[str, Any] | None:
    component = system.components[name]
    if component.delivery is None and component.partitions is None and component.group is None:
        return None
    tech = (component.tech or "rabbitmq").lower()
    delivery = component.delivery or Delivery()
    if tech == "kafka":
        return _kafka(system, name, component, delivery)
    if tech in ("rabbitmq", "rabbit"):
        return _rabbitmq(system, name, component, delivery)
    if tech == "sqs":
        return _sqs(name, delivery)
    return None


def consumer_groups(system: System, component: Component) -> list[str]:
    return [dns_label(system.resolve(consumer.to)[0]) for consumer in component.consumers]


def _kafka(system: System, name: str, component: Component,
           delivery: Delivery) -> dict[str, Any]:
    group = component.group or ConsumerGroup()
    at_most_once = delivery.guarantee == "at_most_once"
    session_ms = round(group.session_timeout * 1000)
    consumer = {
        "session.timeout.ms": session_ms,
        "heartbeat.interval.ms": max(1, session_ms // 3),  # at most a third of the session
        "partition.assignment.strategy": (
            "org.apache.kafka.clients.consumer.CooperativeStickyAssignor"
            if group.rebalance == "cooperative"
            else "org.apache.kafka.clients.consumer.RangeAssignor"),
        "enable.auto.commit": not at_most_once and delivery.commit_interval > 0,
    }
    if consumer["enable.auto.commit"]:
        consumer["auto.commit.interval.ms"] = round(delivery.commit_interval * 1000)
    settings: dict[str, Any] = {
        "topic": {"name": dns_label(name), "partitions": component.partitions or 1,
                  "config": {"retention.ms": KAFKA_RETENTION_MS}},
        "consumer_groups": [{"group.id": group_id, **consumer}
                            for group_id in consumer_groups(system, component)],
        "commit": ("before processing (at most once)" if at_most_once
                   else "after processing (at least once)"),
    }
    if delivery.dead_letter is not None:
        settings["dead_letter_topic"] = {
            "name": dns_label(delivery.dead_letter),
            "after_attempts": delivery.max_deliveries,
            "note": "a consumer-side recoverer publishes here (Spring Kafka "
                    "DeadLetterPublishingRecoverer, Kafka Connect "
                    "errors.deadletterqueue.topic.name): Kafka has no broker-side DLQ"}
    return settings


def _rabbitmq(system: System, name: str, component: Component,
              delivery: Delivery) -> dict[str, Any]:
    arguments: dict[str, Any] = {"x-queue-type": "quorum"}
    if delivery.max_deliveries is not None:
        # Quorum queues count returns: a message may be returned this often, then it is
        # dead-lettered (or dropped without a dead-letter exchange).
        arguments["x-delivery-limit"] = delivery.max_deliveries - 1
    if delivery.dead_letter is not None:
        arguments["x-dead-letter-exchange"] = ""
        arguments["x-dead-letter-routing-key"] = dns_label(delivery.dead_letter)
    manual = delivery.guarantee != "at_most_once"
    return {"queues": [
        {"name": f"{dns_label(name)}-{group}", "durable": True, "arguments": arguments,
         "consumer": {"prefetch_count": consumer.concurrency,
                      "ack": "manual, after processing" if manual else "automatic",
                      "on_failure": ("basic.nack requeue=true" if delivery.redelivery == "requeue"
                                     else "no ack: redelivered when the channel times out")
                      if manual else "lost"}}
        for group, consumer in zip(consumer_groups(system, component), component.consumers,
                                   strict=True)]}


def _sqs(name: str, delivery: Delivery) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "VisibilityTimeout": round(delivery.visibility_timeout),
        "MessageRetentionPeriod": SQS_RETENTION_S,
    }
    if delivery.max_deliveries is not None and delivery.dead_letter is not None:
        attributes["RedrivePolicy"] = {
            "maxReceiveCount": delivery.max_deliveries,
            "deadLetterTargetArn": f"arn:aws:sqs:REGION:ACCOUNT:{dns_label(delivery.dead_letter)}"}
    return {"queue": {"QueueName": dns_label(name), "Attributes": attributes},
            "note": "REGION and ACCOUNT are placeholders; SQS is managed, so ScaleSim writes "
                    "the attributes to apply, not a server"}
