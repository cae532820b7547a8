"""KEDA ScaledObjects that scale queue consumers on their backlog.

One ScaledObject per consumer Deployment (KEDA allows one per target), one trigger per queue
it consumes. The trigger follows the queue's tech: Kafka consumer-group lag, RabbitMQ queue
length, SQS visible plus in-flight messages, otherwise a Prometheus query on the backlog.
"""

from __future__ import annotations

import math
from typing import Any

from scalesim.generate.base import GeneratedFile, GenerateOptions
from scalesim.generate.documents import banner, to_yaml
from scalesim.generate.naming import PROMETHEUS, check_names, dns_label, env_name, fqdn
from scalesim.generate.tech import runs_as_deployment, tech_of
from scalesim.generate.topology import consumed_queues
from scalesim.spec.model import System

SQS_REGION = "us-east-1"  # a placeholder: the spec has no region


def backlog_per_replica(system: System, consumer: str) -> int:
    """A replica takes `workers` messages at once; more waiting means it is falling behind."""
    return system.components[consumer].worker_limit or 1


def max_replicas(system: System, consumer: str) -> int:
    """More replicas than the subscriptions' concurrency can keep busy would sit idle; on a
    partitioned topic each replica runs `concurrency` group members and a partition feeds
    one member, so replicas beyond partitions / concurrency idle too (KEDA's Kafka scaler
    caps at the partition count unless allowIdleConsumers)."""
    subs = [(queue, sub) for queue in consumed_queues(system, consumer)
            for sub in system.components[queue].consumers
            if system.resolve(sub.to)[0] == consumer]
    concurrency = sum(sub.concurrency for _, sub in subs)
    replicas = system.components[consumer].replicas
    most = max(replicas, math.ceil(concurrency / backlog_per_replica(system, consumer)))
    caps = [math.ceil(partitions / sub.concurrency) for queue, sub in subs
            if (partitions := system.components[queue].partitions) is not None]
    return max(replicas, min([most, *caps]))


def trigger(system: System, queue: str, consumer: str, namespace: str) -> dict[str, Any]:
    tech = tech_of(queue, system.components[queue], "")
    threshold = str(backlog_per_replica(system, consumer))
    subscription = f"{dns_label(queue)}-{dns_label(consumer)}"
    if tech.name == "kafka":
        return {"type": "kafka", "name": dns_label(queue), "metadata": {
            "bootstrapServers": f"{fqdn(queue, namespace)}:{tech.port}",
            "consumerGroup": dns_label(consumer), "topic": dns_label(queue),
            "lagThreshold": threshold}}
    if tech.name == "rabbitmq":
        return {"type": "rabbitmq", "name": dns_label(queue), "metadata": {
            "protocol": "amqp", "queueName": subscription, "mode": "QueueLength",
            "value": threshold, "hostFromEnv": env_name(queue, "URL")}}
    if tech.name == "sqs":
        # Visible plus in-flight messages (scaleOnInFlight), the backlog the simulator
        # reports; the region is a placeholder to set.
        return {"type": "aws-sqs-queue", "name": dns_label(queue), "metadata": {
            "queueURLFromEnv": env_name(queue, "URL"), "queueLength": threshold,
            "awsRegion": SQS_REGION, "scaleOnInFlight": "true"}}
    query = (f'sum(scalesim_queue_backlog{{namespace="{namespace}",queue="{dns_label(queue)}",'
             f'subscription="{subscription}"}})')
    return {"type": "prometheus", "name": dns_label(queue), "metadata": {
        "serverAddress": PROMETHEUS, "query": query, "threshold": threshold}}


def scaled_object(system: System, consumer: str, namespace: str) -> dict[str, Any]:
    return {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
            "metadata": {"name": dns_label(consumer), "namespace": namespace},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                        "name": dns_label(consumer)},
                     "minReplicaCount": system.components[consumer].replicas,
                     "maxReplicaCount": max_replicas(system, consumer),
                     "triggers": [trigger(system, queue, consumer, namespace)
                                  for queue in consumed_queues(system, consumer)]}}


def render(system: System, options: GenerateOptions) -> list[GeneratedFile]:
    check_names(list(system.components))
    comment = banner(system.name, "keda")
    return [GeneratedFile(f"keda/{dns_label(name)}.yaml",
                          to_yaml([scaled_object(system, name, options.namespace)], comment))
            for name in system.components
            if consumed_queues(system, name) and runs_as_deployment(system.components[name])]
