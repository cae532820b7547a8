"""A queue's delivery settings in its broker's own terms, for the queue's ConfigMap
(`broker.json`): Kafka topic, consumer-group and error-handler properties, RabbitMQ
exchange, quorum queues and their bindings, SQS queue attributes and redrive policy. Written
for every queue of these brokers, a `delivery` left out being the default one written out
(both deploy alike); applying them (a topic, a policy, a queue) is the operator's job, see
docs/generate.md. And a Kafka StatefulSet's server settings: the apache/kafka image's
KAFKA_* environment, a KRaft cluster of broker-and-controller pods."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from scalesim.generate.documents import notes_text
from scalesim.generate.naming import dns_label, service_host
from scalesim.generate.tech import ALIASES, DEFAULT_TECH
from scalesim.spec.data import Consumer, ConsumerGroup, Delivery
from scalesim.spec.model import Component, Kind, System

KAFKA_RETENTION_MS = 7 * 24 * 3600 * 1000  # log.retention.hours 168 in server.properties
SQS_RETENTION_S = 345_600  # 4 days, the CreateQueue default
# RabbitMQ 4.0+ gives a quorum queue without x-delivery-limit a limit of 20; a negative
# limit is none (rabbitmq-server rabbit_quorum_queue.erl DEFAULT_DELIVERY_LIMIT, rabbit_fifo.erl;
# docs "Quorum Queues", "Poison Message Handling")
RABBITMQ_NO_DELIVERY_LIMIT = -1
# How a consumer returns a failed delivery so that the delivery limit counts it: up to 4.2
# every return counts; from 4.3 only basic.reject (and a lost channel) increments
# delivery-count, basic.nack does not (rabbitmq-server PR #15387; docs "Negative
# Acknowledgements", 4.3). basic.reject counts on every version.
RABBITMQ_REQUEUE = "basic.reject requeue=true"
# What a delivery left unacknowledged past the consumer timeout meets. The queue argument
# x-consumer-timeout (or the policy key consumer-timeout; the smaller wins) overrides
# rabbitmq.conf's consumer_timeout, 30 min, from RabbitMQ 3.12 (rabbit_queue_type_util
# args_policy_lookup). Up to 4.2 the channel compares its oldest unacknowledged delivery with
# it every channel_tick_interval (60 s) and closes the channel, which returns all it holds;
# from 4.3 a quorum queue times each delivery itself (rabbit_fifo evaluate_consumer_timeout).
RABBITMQ_CONSUMER_TIMEOUT = (
    "x-consumer-timeout is the spec's visibility_timeout ({ms} ms; RabbitMQ's default is "
    "30 min). On RabbitMQ 4.1 (the image run here) a delivery not acknowledged that long "
    "makes RabbitMQ close the consumer's channel, checked once a minute (so up to 60 s "
    "late): every message on the channel not yet acknowledged returns to the queue, counted "
    "toward x-delivery-limit, the replica's other deliveries in flight and prefetched ones "
    "included (the simulation returns the timed-out delivery only), and the consumer must "
    "open a channel and consume again. From 4.3 a quorum queue returns only the deliveries "
    "that timed out, on time and not counted toward x-delivery-limit, and cancels the "
    "consumer (basic.cancel)")


KAFKA_CONTROLLER_PORT = 9093
# The image runs as appuser (uid and gid 1000, docker/jvm/Dockerfile): the pod's fsGroup makes
# the data volume, owned by root as provisioned, writable by it.
KAFKA_FS_GROUP = 1000
# The log directory inside the volume, as Postgres' PGDATA: a new volume's root may hold
# lost+found, which Kafka would take for a partition's directory.
KAFKA_LOG_SUBDIR = "logs"
# The pod's ordinal as a label, for its node id: set by the StatefulSet controller from
# Kubernetes 1.28 (the PodIndexLabel feature, beta and on by default there).
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
POD_INDEX_SINCE = 28
KAFKA_MOST_REPLICAS = 3    # of a topic's partitions: Kafka's usual production factor


def queue_tech(component: Component) -> str:
    """The broker a queue runs: its tech, lower-cased and unaliased (a queue without one
    runs RabbitMQ, as tech.py has it)."""
    tech = (component.tech or DEFAULT_TECH[Kind.QUEUE]).lower()
    return ALIASES.get(tech, tech)


def broker_settings(system: System, name: str) -> dict[str, Any] | None:
    """The queue's settings in its broker's terms, or None for a broker ScaleSim does not
    know (or no queue). A queue without `delivery` gets the default's: the spec means the
    same by both."""
    component = system.components[name]
    if component.kind is not Kind.QUEUE:
        return None
    tech = queue_tech(component)
    delivery = component.delivery or Delivery()
    if tech == "kafka":
        return _kafka(system, name, component, delivery)
    if tech == "rabbitmq":
        return _rabbitmq(system, name, component, delivery)
    if tech == "sqs":
        return _sqs(system, name, delivery)
    return None


def consumer_groups(system: System, component: Component) -> list[str]:
    return [dns_label(system.resolve(consumer.to)[0]) for consumer in component.consumers]


def _rabbitmq_sources(system: System, name: str) -> list[str]:
    """The RabbitMQ queues that dead-letter to `name`."""
    return [source for source, c in system.components.items()
            if c.delivery is not None and c.delivery.dead_letter == name
            and queue_tech(c) == "rabbitmq"]


def _other_broker(system: System, tech: str, delivery: Delivery) -> str | None:
    """Why the dead-letter queue cannot be routed to: it runs on another broker."""
    if delivery.dead_letter is None:
        return None
    target = queue_tech(system.components[delivery.dead_letter])
    if target == tech:
        return None
    return (f"the dead-letter queue {dns_label(delivery.dead_letter)} is a {target} queue, "
            f"not {tech}: {tech} cannot move a message to another broker, so no dead-letter "
            "route is written; a consumer must forward failed messages there")


def in_flight(system: System, consumer: Consumer) -> int:
    """Deliveries a subscription has in flight at most: its concurrency, or its prefetch
    per replica times the replicas the consumer can have (its autoscaler's maximum)."""
    if consumer.prefetch is None:
        return consumer.concurrency
    target = system.components[system.resolve(consumer.to)[0]]
    return consumer.prefetch * max(1, target.most_replicas)


def _rabbitmq_prefetch(system: System, consumer: Consumer) -> tuple[int, str]:
    """The consumer's basic.qos prefetch_count and why. RabbitMQ applies it per consumer
    (each replica's own), not per queue: N replicas have N × prefetch_count in flight."""
    if consumer.prefetch is not None:
        return consumer.prefetch, (
            f"prefetch_count is the spec's prefetch, {consumer.prefetch} per consumer replica "
            "(RabbitMQ's basic.qos is per consumer): in flight, prefetch_count × the replicas "
            "running, following scaling and rollouts as simulated")
    target = system.components[system.resolve(consumer.to)[0]]
    scaled = target.autoscale is not None
    replicas = max(1, target.most_replicas)
    total = consumer.concurrency
    per = max(1, total // replicas)  # 0 would be no limit at all
    how = (f"RabbitMQ's basic.qos is per consumer, not per queue: the subscription's "
           f"concurrency {total} is divided among {replicas} consumer replicas"
           + (" (its autoscale.max)" if scaled else "") + f", {per} each")
    if total < replicas:
        how += (f", at least 1 (0 is no limit): {replicas} in flight, more than the "
                f"simulated {total}")
    elif total % replicas:
        how += (f", rounded down so as not to exceed it: {per * replicas} in flight, "
                f"{total - per * replicas} fewer than simulated")
    if scaled:
        how += (f"; with fewer replicas running fewer are in flight ({per} per replica), "
                "where the simulation keeps the concurrency whatever the replicas: the "
                "spec's prefetch simulates what RabbitMQ does")
    return per, how + "; a replica with several consumers (channels) divides it further"


def _kafka(system: System, name: str, component: Component,
           delivery: Delivery) -> dict[str, Any]:
    group = component.group or ConsumerGroup()
    at_most_once = delivery.guarantee == "at_most_once"
    # without partitions the simulated queue acknowledges each message: commit every record
    interval = delivery.commit_interval if component.partitions is not None else 0.0
    session_ms = round(group.session_timeout * 1000)
    consumer = {
        "session.timeout.ms": session_ms,
        "heartbeat.interval.ms": max(1, session_ms // 3),  # at most a third of the session
        "partition.assignment.strategy": (
            "org.apache.kafka.clients.consumer.CooperativeStickyAssignor"
            if group.rebalance == "cooperative"
            else "org.apache.kafka.clients.consumer.RangeAssignor"),
        "enable.auto.commit": not at_most_once and interval > 0,
    }
    if consumer["enable.auto.commit"]:
        consumer["auto.commit.interval.ms"] = round(interval * 1000)
    partitions = kafka_partitions(system, name)
    settings: dict[str, Any] = {
        "topic": {"name": dns_label(name), "partitions": partitions,
                  "config": {"retention.ms": KAFKA_RETENTION_MS}},
        "consumer_groups": [{"group.id": group_id, **consumer}
                            for group_id in consumer_groups(system, component)],
        "commit": ("before processing (at most once)" if at_most_once
                   else "after processing (at least once)"),
    }
    if component.partitions is None:
        settings["competing_consumers"] = {
            "deliveries_in_flight": partitions,
            "note": "the spec's queue has no partitions: any idle consumer takes the next "
                    "message. Kafka shares a topic among a group's members by partition "
                    "only, so the topic has a partition per delivery in flight (the largest "
                    "subscription's) and each group needs that many members. Unlike the "
                    "simulation, a message waits behind the one before it in its partition; "
                    "set `partitions` to simulate that order. At least once, offsets are "
                    "committed after every record (enable.auto.commit false), as the "
                    "simulated queue acknowledges each message"}
    settings["error_handler"] = _kafka_error_handler(system, delivery)
    return settings


def kafka_partitions(system: System, name: str) -> int:
    """The topic's partitions: the spec's, or one per delivery in flight (competing
    consumers: Kafka shares a topic among a group's members by partition only)."""
    component = system.components[name]
    if component.partitions is not None:
        return component.partitions
    return max([1, *(in_flight(system, c) for c in component.consumers)])


def kafka_nodes(component: Component) -> int:
    """The KRaft voters, every pod a broker and a controller: the pods the StatefulSet
    always runs (its replicas, or its autoscaler's minimum), at least one."""
    return max(1, component.autoscale.min if component.autoscale else component.replicas)


def kafka_cluster_id(system: System, name: str) -> str:
    """A KRaft cluster id (a UUID in unpadded URL-safe base64) fixed by the system's and the
    queue's names, so generating again keeps the id the volumes were formatted with. The
    first bit is cleared so that it never starts with '-', which a command line would take
    for an option (kafka-storage random-uuid avoids it likewise)."""
    digest = bytearray(hashlib.sha256(f"{system.name}/{name}".encode()).digest()[:16])
    digest[0] &= 0x7F
    return base64.urlsafe_b64encode(bytes(digest)).decode().rstrip("=")


def kafka_env(system: System, name: str, namespace: str, port: int, data_path: str,
              memory_mib: int) -> list[dict[str, Any]]:
    """The apache/kafka image's settings: any KAFKA_* variable replaces its single-node
    defaults (localhost listeners, logs in /tmp, one partition), so every KRaft setting is
    given. Each pod advertises its own DNS name under the headless Service; Kubernetes
    expands $(POD_NAME), defined first. The node id is the pod's ordinal. The heap is half
    the container's memory (kafka-server-start's default, 1 GiB, may exceed it), the rest
    left to the page cache and the JVM's own."""
    component = system.components[name]
    service = dns_label(name)
    nodes = kafka_nodes(component)
    voters = ",".join(f"{index}@{service_host(f'{service}-{index}.{service}', namespace)}"
                      f":{KAFKA_CONTROLLER_PORT}" for index in range(nodes))
    node_id: dict[str, Any] = (
        {"value": "0"} if nodes == 1 else
        {"valueFrom": {"fieldRef": {"fieldPath": f"metadata.labels['{POD_INDEX_LABEL}']"}}})
    replicas = str(min(KAFKA_MOST_REPLICAS, nodes))
    settings = {
        "CLUSTER_ID": kafka_cluster_id(system, name),
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_LISTENERS": f"PLAINTEXT://:{port},CONTROLLER://:{KAFKA_CONTROLLER_PORT}",
        "KAFKA_ADVERTISED_LISTENERS":
            f"PLAINTEXT://{service_host(f'$(POD_NAME).{service}', namespace)}:{port}",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_INTER_BROKER_LISTENER_NAME": "PLAINTEXT",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": voters,
        "KAFKA_LOG_DIRS": f"{data_path}/{KAFKA_LOG_SUBDIR}",
        "KAFKA_NUM_PARTITIONS": str(kafka_partitions(system, name)),
        "KAFKA_DEFAULT_REPLICATION_FACTOR": replicas,
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": replicas,
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": replicas,
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": str(min(2, nodes)),
        "KAFKA_HEAP_OPTS": f"-Xmx{memory_mib // 2}m -Xms{memory_mib // 2}m",
    }
    return [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "KAFKA_NODE_ID", **node_id},
            *({"name": key, "value": value} for key, value in settings.items())]


def kafka_note(component: Component) -> str | None:
    """What an autoscaled Kafka StatefulSet cannot do: its voters are fixed."""
    if component.autoscale is None:
        return None
    return (f"Kafka's KRaft voters are fixed at the {kafka_nodes(component)} pods of "
            "autoscale.min (KAFKA_CONTROLLER_QUORUM_VOTERS): a pod the autoscaler adds "
            "beyond them is no voter and does not start as a controller, so the brokers do "
            "not autoscale; run an operator (Strimzi node pools) to add brokers")


def kafka_version_problem(component: Component, k8s_minor: int) -> str | None:
    """Why a cluster of several Kafka nodes cannot run on Kubernetes 1.`k8s_minor`: its
    node ids come from the pod-index label, which releases before 1.POD_INDEX_SINCE do not
    set."""
    nodes = kafka_nodes(component)
    if nodes == 1 or k8s_minor >= POD_INDEX_SINCE:
        return None
    return (f"a Kafka cluster of {nodes} pods numbers its nodes by the pod's "
            f"{POD_INDEX_LABEL} label, set from Kubernetes 1.{POD_INDEX_SINCE}: target "
            f"Kubernetes 1.{POD_INDEX_SINCE} or later (--k8s-version), or run 1 replica")


def _kafka_error_handler(system: System, delivery: Delivery) -> dict[str, Any]:
    """What the consumer does with a record that failed: Kafka has no broker-side
    redelivery limit or dead-letter queue, and a client's error handler has its own default
    (Spring Kafka's DefaultErrorHandler: 10 attempts, then the record is logged and skipped),
    so the spec's numbers are written out in every case."""
    how = ("Spring Kafka: DefaultErrorHandler with a FixedBackOff of max_attempts - 1 "
           "retries (FixedBackOff.UNLIMITED_ATTEMPTS for null) and a "
           "DeadLetterPublishingRecoverer for the topic; Kafka Connect: errors.tolerance all "
           "and errors.deadletterqueue.topic.name")
    if delivery.guarantee == "at_most_once":
        return {"max_attempts": 1, "dead_letter_topic": None,
                "note": "at most once: the offset is committed before processing, so a "
                        "failed record is skipped, never retried or dead-lettered (the "
                        f"spec's max_deliveries and dead_letter do not apply). {how}"}
    foreign = _other_broker(system, "kafka", delivery)
    dead = None if foreign or delivery.dead_letter is None else dns_label(delivery.dead_letter)
    return {"max_attempts": delivery.max_deliveries, "dead_letter_topic": dead,
            "note": "the consumer retries a failed record in place (it holds up its "
                    "partition) up to max_attempts deliveries (null: without limit), then "
                    "publishes it to dead_letter_topic (null: skips it). " + how
                    + (f". {foreign}" if foreign else "")}


def _rabbitmq(system: System, name: str, component: Component,
              delivery: Delivery) -> dict[str, Any]:
    """The queue is a fanout exchange of its name; each subscription a quorum queue
    `<queue>-<consumer>` bound to it (the KEDA trigger's queueName), so every subscription
    gets every message. A dead-letter queue nobody consumes gets one queue of its own name
    that keeps what it receives."""
    exchange = dns_label(name)
    arguments: dict[str, Any] = {
        "x-queue-type": "quorum",
        # Quorum queues count returns: a message may be returned this often, then it is
        # dead-lettered (or dropped without a dead-letter exchange); -1: no limit (without
        # the argument RabbitMQ 4 would apply its default of 20).
        "x-delivery-limit": (RABBITMQ_NO_DELIVERY_LIMIT if delivery.max_deliveries is None
                             else delivery.max_deliveries - 1)}
    foreign = _other_broker(system, "rabbitmq", delivery)
    if delivery.dead_letter is not None and foreign is None:
        # The dead-letter queue's fanout exchange (declared by its own broker.json) hands
        # a dead letter to each of its queues, whatever its routing key.
        arguments["x-dead-letter-exchange"] = dns_label(delivery.dead_letter)
    manual = delivery.guarantee != "at_most_once"
    subscribed = arguments
    notes = [foreign] if foreign else []
    if manual and component.consumers:
        # Unacknowledged deliveries return when the visibility timeout ends, whatever the
        # redelivery: RabbitMQ's consumer timeout is that timeout.
        timeout_ms = round(delivery.visibility_timeout * 1000)
        subscribed = {**arguments, "x-consumer-timeout": timeout_ms}
        notes.append(RABBITMQ_CONSUMER_TIMEOUT.format(ms=timeout_ms))
    queues: list[dict[str, Any]] = []
    for group, consumer in zip(consumer_groups(system, component), component.consumers,
                               strict=True):
        prefetch, why = _rabbitmq_prefetch(system, consumer)
        queues.append({
            "name": f"{exchange}-{group}", "durable": True, "arguments": subscribed,
            "consumer": {"prefetch_count": prefetch,
                         "ack": "manual, after processing" if manual else "automatic",
                         "on_failure": (RABBITMQ_REQUEUE if delivery.redelivery == "requeue"
                                        else "no ack: redelivered when the channel times out")
                         if manual else "lost",
                         "note": why}})
    if not queues and _rabbitmq_sources(system, name):
        queues.append({"name": exchange, "durable": True, "arguments": arguments})
        notes.append(f"{exchange} has no consumers: the queue {exchange} keeps the dead "
                     "letters it receives, for someone to inspect")
    elif not queues:
        notes.append("no subscriptions: RabbitMQ drops what is published to the exchange "
                     "(no queue is bound), as the simulation keeps nothing nobody subscribes to")
    settings: dict[str, Any] = {
        "exchange": {"name": exchange, "type": "fanout", "durable": True},
        "queues": queues,
        "bindings": [{"source": exchange, "destination": queue["name"],
                      "destination_type": "queue", "routing_key": ""} for queue in queues]}
    if notes:
        settings["note"] = notes_text(notes)
    return settings


def _sqs(system: System, name: str, delivery: Delivery) -> dict[str, Any]:
    """Attributes as SQS takes them: strings, RedrivePolicy a JSON object in a string."""
    attributes: dict[str, str] = {
        "VisibilityTimeout": str(round(delivery.visibility_timeout)),
        "MessageRetentionPeriod": str(SQS_RETENTION_S),
    }
    notes = ["REGION and ACCOUNT are placeholders; SQS is managed, so ScaleSim writes the "
             "attributes to apply, not a server"]
    foreign = _other_broker(system, "sqs", delivery)
    if foreign:
        notes.append(foreign)
    elif delivery.max_deliveries is not None and delivery.dead_letter is not None:
        attributes["RedrivePolicy"] = json.dumps({
            "deadLetterTargetArn":
                f"arn:aws:sqs:REGION:ACCOUNT:{dns_label(delivery.dead_letter)}",
            "maxReceiveCount": delivery.max_deliveries}, separators=(",", ":"))
    if delivery.max_deliveries is not None and "RedrivePolicy" not in attributes:
        notes.append(f"max_deliveries {delivery.max_deliveries} without a dead-letter queue: "
                     "SQS limits receives only with a redrive policy, so the consumer must "
                     "delete a message whose ApproximateReceiveCount reaches "
                     f"{delivery.max_deliveries} without processing it")
    elif delivery.dead_letter is not None and "RedrivePolicy" not in attributes \
            and not foreign:
        notes.append("a dead_letter without max_deliveries: a redrive policy needs "
                     "maxReceiveCount, so none is written (messages are redelivered until "
                     "the retention period ends)")
    return {"queue": {"QueueName": dns_label(name), "Attributes": attributes},
            "note": notes_text(notes)}
