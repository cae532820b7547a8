"""KEDA ScaledObjects that scale queue consumers on their backlog.

One ScaledObject per consumer Deployment (KEDA allows one per target), one trigger per queue
it consumes. The trigger follows the queue's tech: Kafka consumer-group lag, RabbitMQ queue
length, SQS visible plus in-flight messages, otherwise a Prometheus query on the backlog.
An SQS trigger names the queue by its AWS URL (the consumer's `<QUEUE>_URL` is the
in-cluster stand-in, which KEDA cannot read) and authenticates through a TriggerAuthentication
with AWS pod identity, as KEDA's SQS scaler needs credentials; the account is a placeholder.

A consumer whose spec has `autoscale` with a queue metric gets exactly that: its min, max,
polling interval, cooldown, per-replica backlog and activation thresholds, its CPU and
request-rate metrics as triggers, and the HPA behavior of its scaling rules. A consumer with
`autoscale` and no queue metric is scaled by its HorizontalPodAutoscaler (k8s) instead, so it
gets no ScaledObject (two autoscalers on one target would fight). Without `autoscale` it gets
the default below, unless the default range is a single count (its replicas can already run
every delivery at once): a ScaledObject that can never scale is left out, and the generate
summary says so (`fixed_consumers`).
"""

from __future__ import annotations

import math
from typing import Any

from scalesim.generate.autoscaling import (
    NOT_MAPPED_ANNOTATION,
    behavior,
    cpu_utilization_percent,
    not_mapped,
    uses_keda,
)
from scalesim.generate.base import GeneratedFile, GenerateOptions
from scalesim.generate.documents import banner, notes_text, yaml_file
from scalesim.generate.naming import PROMETHEUS, dns_label, env_name, fqdn
from scalesim.generate.tech import runs_as_deployment, tech_of
from scalesim.generate.topology import consumed_queues
from scalesim.spec.model import System

SQS_REGION = "us-east-1"  # a placeholder: the spec has no region
SQS_ACCOUNT = "ACCOUNT"   # a placeholder: the spec has no AWS account


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


def can_scale_by_default(system: System, consumer: str) -> bool:
    """Whether the default ScaledObject's range is more than one count: min = replicas, max
    from the subscriptions' concurrency (`max_replicas`)."""
    return max_replicas(system, consumer) > system.components[consumer].replicas


def fixed_consumers(system: System) -> list[str]:
    """A line for each consumer left without a default ScaledObject, which could not scale:
    its replicas already give every subscribed delivery a worker."""
    lines = []
    for name, component in system.components.items():
        if consumes_from_deployment(system, name) and component.autoscale is None \
                and not can_scale_by_default(system, name):
            lines.append(
                f"keda: {dns_label(name)}: no ScaledObject: its default range would be "
                f"{component.replicas} to {max_replicas(system, name)} replicas (max(replicas, "
                "ceil(the subscriptions' concurrency / workers))), so it could never scale; "
                "give it `autoscale` with a queue metric to scale it")
    return lines


def trigger(system: System, queue: str, consumer: str, namespace: str,
            threshold: int | None = None, activation: int | None = None) -> dict[str, Any]:
    """The backlog trigger of one consumed queue: `threshold` messages per replica (default:
    the consumer's workers) and, when given, the activation threshold."""
    tech = tech_of(queue, system.components[queue], "")
    per_replica = str(backlog_per_replica(system, consumer) if threshold is None else threshold)
    subscription = f"{dns_label(queue)}-{dns_label(consumer)}"
    metadata: dict[str, str]
    if tech.name == "kafka":
        metadata = {"bootstrapServers": f"{fqdn(queue, namespace)}:{tech.port}",
                    "consumerGroup": dns_label(consumer), "topic": dns_label(queue),
                    "lagThreshold": per_replica}
        active_key = "activationLagThreshold"
    elif tech.name == "rabbitmq":
        metadata = {"protocol": "amqp", "queueName": subscription, "mode": "QueueLength",
                    "value": per_replica, "hostFromEnv": env_name(queue, "URL")}
        active_key = "activationValue"
    elif tech.name == "sqs":
        # Visible plus in-flight messages (scaleOnInFlight), the backlog the simulator
        # reports; the region and account are placeholders to set.
        metadata = {"queueURL": sqs_queue_url(queue), "queueLength": per_replica,
                    "awsRegion": SQS_REGION, "scaleOnInFlight": "true"}
        active_key = "activationQueueLength"
    else:
        query = (f'sum(scalesim_queue_backlog{{namespace="{namespace}",'
                 f'queue="{dns_label(queue)}",subscription="{subscription}"}})')
        metadata = {"serverAddress": PROMETHEUS, "query": query, "threshold": per_replica}
        active_key = "activationThreshold"
    if activation is not None:
        metadata[active_key] = str(activation)
    kinds = {"kafka": "kafka", "rabbitmq": "rabbitmq", "sqs": "aws-sqs-queue"}
    out: dict[str, Any] = {"type": kinds.get(tech.name, "prometheus"),
                           "name": dns_label(queue), "metadata": metadata}
    if tech.name == "sqs":
        out["authenticationRef"] = {"name": dns_label(consumer)}
    return out


def sqs_queue_url(queue: str) -> str:
    """The queue's SQS URL, https://sqs.<region>.amazonaws.com/<account>/<name>: KEDA reads
    the queue's name from its path, and the name is broker.json's QueueName."""
    return f"https://sqs.{SQS_REGION}.amazonaws.com/{SQS_ACCOUNT}/{dns_label(queue)}"


def trigger_authentications(scaled: dict[str, Any], namespace: str) -> list[dict[str, Any]]:
    """The TriggerAuthentications the SQS triggers of ScaledObject `scaled` name: AWS pod
    identity (IRSA or EKS Pod Identity) of the KEDA operator, which needs
    sqs:GetQueueAttributes on the queues. Written in keda/ only: the same ScaledObject in
    argo/, applied after, names them there."""
    names = sorted({trigger["authenticationRef"]["name"] for trigger in scaled["spec"]["triggers"]
                    if "authenticationRef" in trigger})
    return [{"apiVersion": "keda.sh/v1alpha1", "kind": "TriggerAuthentication",
             "metadata": {"name": name, "namespace": namespace},
             "spec": {"podIdentity": {"provider": "aws"}}} for name in names]


def spec_triggers(system: System, consumer: str, namespace: str) -> list[dict[str, Any]]:
    """The triggers of a consumer's `autoscale`: its queues, then CPU and request rate."""
    autoscale = system.components[consumer].autoscale
    assert autoscale is not None
    triggers = []
    for metric in autoscale.metrics:
        if metric.queue is not None:
            triggers.append(trigger(system, metric.queue.of, consumer, namespace,
                                    metric.queue.backlog, metric.queue.activation))
        elif metric.cpu is not None:
            triggers.append({"type": "cpu", "name": "cpu", "metricType": "Utilization",
                             "metadata": {"value": str(cpu_utilization_percent(
                                 system, consumer, metric.cpu))}})
        elif metric.rps is not None:
            query = ('sum(rate(istio_requests_total{reporter="destination",'
                     f'destination_workload="{dns_label(consumer)}",'
                     f'destination_workload_namespace="{namespace}"}}[1m]))')
            triggers.append({"type": "prometheus", "name": "requests",
                             "metricType": "AverageValue", "metadata": {
                                 "serverAddress": PROMETHEUS, "query": query,
                                 "threshold": f"{metric.rps:g}"}})
    return triggers


def scaled_object(system: System, consumer: str, namespace: str,
                  target: dict[str, str] | None = None) -> dict[str, Any]:
    """The ScaledObject of `consumer`, aimed at its Deployment (or at `target`: the Argo
    Rollout that takes the Deployment over)."""
    if target is None:
        target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": dns_label(consumer)}
    autoscale = system.components[consumer].autoscale
    if autoscale is None:
        return {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
                "metadata": {"name": dns_label(consumer), "namespace": namespace},
                "spec": {"scaleTargetRef": target,
                         "minReplicaCount": system.components[consumer].replicas,
                         "maxReplicaCount": max_replicas(system, consumer),
                         "triggers": [trigger(system, queue, consumer, namespace)
                                      for queue in consumed_queues(system, consumer)]}}
    metadata: dict[str, Any] = {"name": dns_label(consumer), "namespace": namespace}
    notes = not_mapped(autoscale)       # KEDA's HPA follows the same controller flags
    if notes:
        metadata["annotations"] = {NOT_MAPPED_ANNOTATION: notes_text(notes)}
    return {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": metadata,
            "spec": {"scaleTargetRef": target,
                     "pollingInterval": round(autoscale.polling),
                     "cooldownPeriod": round(autoscale.cooldown),
                     "minReplicaCount": autoscale.min, "maxReplicaCount": autoscale.max,
                     "advanced": {"horizontalPodAutoscalerConfig": {
                         "behavior": behavior(autoscale)}},
                     "triggers": spec_triggers(system, consumer, namespace)}}


def consumes_from_deployment(system: System, name: str) -> bool:
    """Whether component `name` is a Deployment that consumes a queue."""
    return bool(consumed_queues(system, name)) and \
        runs_as_deployment(system.components[name])


def keda_scaled(system: System, name: str) -> bool:
    """Whether KEDA scales component `name`: a consuming Deployment not left to an HPA,
    with its `autoscale` or a default range it can scale in."""
    component = system.components[name]
    return consumes_from_deployment(system, name) and (
        uses_keda(component)
        or (component.autoscale is None and can_scale_by_default(system, name)))


def render(system: System, options: GenerateOptions) -> list[GeneratedFile]:
    comment = banner(system.name, "keda")
    files = []
    for name in system.components:
        if keda_scaled(system, name):
            scaled = scaled_object(system, name, options.namespace)
            files.append(yaml_file(f"keda/{dns_label(name)}.yaml", [
                scaled, *trigger_authentications(scaled, options.namespace)], comment, name))
    return files
