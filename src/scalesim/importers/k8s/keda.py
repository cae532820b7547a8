"""KEDA ScaledObjects: the scaled Deployment consumes the queues its triggers watch, and
scales as the spec's `autoscale` with queue metrics.

`minReplicaCount` (KEDA's default 0), `maxReplicaCount` (100), `pollingInterval`,
`cooldownPeriod` (with a queue metric: they drive KEDA's activation and scaling to zero,
which the spec simulates for queue metrics only) and the HPA behavior under `advanced` map
one to one. Each queue trigger
(RabbitMQ, Kafka, SQS, Redis lists, NATS JetStream, or a Prometheus backlog query named
after its queue) becomes a queue metric: its per-replica target is `backlog`, its activation
threshold `activation`; a trigger's type also says the component it watches is a queue of
that tech. `cpu` triggers and Prometheus request-rate queries become cpu and rps metrics.

The ScaledObject `scalesim generate --target keda` writes for a consumer whose spec has no
`autoscale` (its Deployment labelled managed-by scalesim, and no polling, cooldown or
behavior: the generator writes all three for a spec's autoscale) is that default, not an
autoscale: it is noted.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from scalesim.importers.draft import Block, Component, Fact
from scalesim.importers.k8s import scaling
from scalesim.importers.k8s.objects import Cluster, Manifest, Mappers, mapping
from scalesim.importers.sizing import quantity
from scalesim.spec.model import Kind

DEFAULT_MIN, DEFAULT_MAX = 0, 100
POLLING = (("pollingInterval", "polling"), ("cooldownPeriod", "cooldown"))  # KEDA's, the spec's


@dataclass(frozen=True)
class QueueTrigger:
    """A KEDA scaler on a queue's backlog, by its metadata keys."""

    tech: str
    addresses: tuple[str, ...]       # keys naming the queue's address (…FromEnv: a variable)
    target: str                      # backlog per replica
    default: float | None            # KEDA's default for it (None: required)
    activation: str
    whole: bool = True               # KEDA parses target and activation as int64, else float64


QUEUES = {
    "rabbitmq": QueueTrigger("rabbitmq", ("host", "hostFromEnv"), "value", None,
                             "activationValue", whole=False),
    "kafka": QueueTrigger("kafka", ("bootstrapServers", "bootstrapServersFromEnv"),
                          "lagThreshold", 10, "activationLagThreshold"),
    "aws-sqs-queue": QueueTrigger("sqs", ("queueURL", "queueURLFromEnv"), "queueLength", 5,
                                  "activationQueueLength"),
    "redis": QueueTrigger("redis", ("address", "addressFromEnv", "host", "hostFromEnv"),
                          "listLength", 5, "activationListLength"),
    "nats-jetstream": QueueTrigger("nats", ("natsServerMonitoringEndpoint",), "lagThreshold",
                                   None, "activationLagThreshold"),
    "prometheus": QueueTrigger("", (), "threshold", None, "activationThreshold", whole=False),
}
RABBITMQ_LEGACY = ("queueLength", 20)     # before `mode`/`value`: messages per replica


def scaled_object(manifest: Manifest, cluster: Cluster) -> None:
    spec = manifest.spec
    consumer = cluster.scale_target(manifest.namespace, spec.get("scaleTargetRef"))
    if consumer is None:
        cluster.draft.note(f"{manifest.title}: its scale target is not in the files")
        return
    component = cluster.component(consumer)
    triggers = spec.get("triggers")
    triggers = triggers if isinstance(triggers, list) else []
    queues = {index: _queue(cluster, manifest, consumer, trigger)
              for index, trigger in enumerate(triggers) if _on_a_queue(trigger)}
    for index, queue in queues.items():
        if queue is not None:
            _on_a_stream(cluster, manifest, triggers[index], index, queue)
        if queue is not None and queue != consumer:
            cluster.component(consumer).consumes[queue] = manifest.seen_in(
                triggers, index, f"spec.triggers[{index}] (scales the consumer on its backlog)")
            _queue_kind(cluster, manifest, queue, triggers, index)
    if component.managed_by_scalesim and not any(
            key in spec for key in ("pollingInterval", "cooldownPeriod", "advanced")):
        cluster.draft.note(f"{manifest.title}: the keda target's default for a consumer whose "
                           f"spec has no autoscale; not imported as autoscale (the cluster "
                           f"scales {component.name} on its backlog: add `autoscale` to "
                           "simulate that)")
    elif component.autoscale is not None and component.autoscale.origin != manifest.title:
        cluster.draft.note(f"{manifest.title}: {component.name} is scaled by "
                           f"{component.autoscale.origin} already; left out")
    else:
        component.autoscale = _autoscale(manifest, cluster, component, triggers, queues)


def _autoscale(manifest: Manifest, cluster: Cluster, component: Component, triggers: list[Any],
               queues: dict[int, str | None]) -> Block | None:
    spec = manifest.spec
    block = Block(f"from {manifest.file}:{manifest.line}: {manifest.title}", manifest.title)
    _bounds(block, manifest)
    config = mapping(mapping(spec.get("advanced")).get("horizontalPodAutoscalerConfig"))
    scaling.behavior(block, manifest, cluster, config.get("behavior"),
                     "spec.advanced.horizontalPodAutoscalerConfig.behavior")
    for index, trigger in enumerate(triggers):
        reason = _trigger(block, manifest, cluster, component, trigger, queues.get(index),
                          manifest.seen_in(triggers, index, f"spec.triggers[{index}]"))
        if reason:
            cluster.draft.note(f"{manifest.title}: spec.triggers[{index}] {reason}; left out")
    _unmapped(manifest, cluster)
    scaling.flags(block, manifest)
    if not block.data.get("metrics"):
        cluster.draft.note(f"{manifest.title}: none of its triggers maps to the spec; not "
                           "imported as autoscale")
        return None
    queued = any("queue" in m for m in block.data["metrics"])
    _polling(block, manifest, cluster, queued)
    if block.data["min"] == 0 and not queued:
        block.put(("min",), 1, "only a queue metric scales to zero in the spec (KEDA also "
                  "activates on other triggers)")
    return block


def _polling(block: Block, manifest: Manifest, cluster: Cluster, queued: bool) -> None:
    """pollingInterval and cooldownPeriod: KEDA's own loop, which activates the target and
    scales it to zero (1 to N is the HPA's). The spec simulates that loop for queue metrics
    only and refuses the two without one: then they are noted and left out."""
    given = [(field_name, spec_name, seconds) for field_name, spec_name in POLLING
             if (seconds := scaling.whole(manifest.spec.get(field_name))) is not None
             and seconds >= 0]
    if queued:
        for field_name, spec_name, seconds in given:
            block.put((spec_name,), f"{seconds}s", manifest.seen(f"spec.{field_name}"))
    elif given:
        fields = " and ".join(f"spec.{field_name}" for field_name, _, _ in given)
        cluster.draft.note(f"{manifest.title}: {fields} left out: KEDA polls its triggers to "
                           "activate the target and scale it to zero (0 to 1 replicas; 1 to N "
                           "is the HPA's, every sync_period), which the spec simulates for "
                           "queue metrics only, and none of its triggers became one")


def _bounds(block: Block, manifest: Manifest) -> None:
    for field_name, spec_name, default in (("minReplicaCount", "min", DEFAULT_MIN),
                                           ("maxReplicaCount", "max", DEFAULT_MAX)):
        value = scaling.whole(manifest.spec.get(field_name))
        if value is None:
            block.put((spec_name,), default, f"from {manifest.file}:{manifest.line}: "
                      f"{manifest.title} sets no {field_name} (KEDA's default {default})")
        else:
            block.put((spec_name,), value, manifest.seen(f"spec.{field_name}"))


def _trigger(block: Block, manifest: Manifest, cluster: Cluster, component: Component,
             trigger: Any, queue: str | None, seen: Any) -> str:
    """Add one trigger's metric; the reason when it is left out, else ''."""
    if not isinstance(trigger, dict):
        return "is not a trigger"
    kind = str(trigger.get("type"))
    metadata = mapping(trigger.get("metadata"))
    metric_type = target_type(trigger)
    if kind == "cpu":
        value = quantity(metadata.get("value"))
        if value is None or value <= 0:
            return "(cpu) has no value"
        if metric_type == "AverageValue":
            share, how = scaling.cpu_share(component, cores=value)
        else:
            share, how = scaling.cpu_share(component, percent=value)
        if share is None:
            return f"(cpu): {how}"
        scaling.take(block, manifest, cluster, "cpu", share, f"{seen}: {how}")
        return ""
    if metric_type == "Value":
        return f"({kind}) has metricType Value: a total, not a target per replica"
    if kind == "prometheus" and scaling.counts_requests(str(metadata.get("query", ""))):
        rate = quantity(metadata.get("threshold"))
        if rate is None or rate <= 0:
            return "(prometheus) has no threshold"
        scaling.take(block, manifest, cluster, "rps", scaling.rps(rate),
                     f"{seen}: a request rate per replica (metadata.query, threshold)")
        return ""
    queue_trigger = QUEUES.get(kind)
    if queue_trigger is None:
        return f"({kind}) has no spec counterpart (the spec scales on cpu, requests per " \
               "replica and queue backlog)"
    if queue is None:
        return f"({kind}): its queue is not a component in the files"
    if kind == "rabbitmq" and str(metadata.get("mode", "QueueLength")) != "QueueLength":
        return f"(rabbitmq mode {metadata.get('mode')}) scales on a rate, not the backlog"
    return _queue_metric(block, manifest, queue_trigger, metadata, queue, seen, kind)


def _queue_metric(block: Block, manifest: Manifest, trigger: QueueTrigger,
                  metadata: dict[str, Any], queue: str, seen: Any, kind: str) -> str:
    key, default = trigger.target, trigger.default
    if kind == "rabbitmq" and "value" not in metadata:
        key, default = RABBITMQ_LEGACY
    target = quantity(metadata.get(key))
    why = f"metadata.{key}"
    if target is None:
        if default is None:
            return f"({kind}) sets no {key}"
        target, why = default, f"KEDA's default {key} {default:g}"
    if target <= 0:
        return f"({kind}) has {key} {target:g}"
    backlog = max(1, math.ceil(target - 1e-9))
    if backlog != target:
        why += f" {target:g}, rounded up to whole messages"
    index = len(block.data.get("metrics", []))
    path = ("metrics", index, "queue")
    block.put((*path, "of"), queue, f"{seen} (type {kind})")
    block.refs.append((*path, "of"))
    block.put((*path, "backlog"), backlog, f"messages per replica: {why}")
    activation = quantity(metadata.get(trigger.activation))
    if activation is not None and activation > 0:
        # active above the threshold: with whole messages, above its whole part
        block.put((*path, "activation"), math.floor(activation),
                  f"metadata.{trigger.activation}")
    return ""


def target_type(trigger: dict[str, Any]) -> Any:
    """A trigger's `metricType` (a cpu trigger's may be its metadata's `type`)."""
    return trigger.get("metricType", mapping(trigger.get("metadata")).get("type"))


def reads_metadata(trigger: Any, kind: str) -> bool:
    """Whether the importer reads the metadata numbers of `trigger` as a `kind` trigger's
    target: not a total (`metricType: Value`) nor a RabbitMQ rate, which are noted."""
    if not isinstance(trigger, dict) or trigger.get("type") != kind:
        return False
    if kind == "cpu":
        return True
    mode = mapping(trigger.get("metadata")).get("mode", "QueueLength")
    return target_type(trigger) != "Value" and (kind != "rabbitmq" or mode == "QueueLength")


def _on_a_queue(trigger: Any) -> bool:
    """A queue scaler, or a Prometheus query that does not count requests (a backlog)."""
    if not isinstance(trigger, dict) or str(trigger.get("type")) not in QUEUES:
        return False
    metadata = mapping(trigger.get("metadata"))
    return trigger["type"] != "prometheus" or \
        not scaling.counts_requests(str(metadata.get("query", "")))


def _queue(cluster: Cluster, manifest: Manifest, consumer: str,
           trigger: dict[str, Any]) -> str | None:
    """The queue component a trigger watches: by its address, else by the trigger's name,
    the queue's name in an SQS URL, or a RabbitMQ `queueName` or Kafka `topic`."""
    metadata = mapping(trigger.get("metadata"))
    component = cluster.component(consumer)
    queue_trigger = QUEUES.get(str(trigger.get("type")))
    names: list[str] = []
    for key in queue_trigger.addresses if queue_trigger else ():
        value = metadata.get(key)
        if key.endswith("FromEnv"):
            value = next((r.host for r in component.references
                          if r.seen.field.endswith(f".env.{value}")), None)
        if isinstance(value, str):
            address = value.split("://", 1)[-1].rsplit("@", 1)[-1]
            host = address.split("/", 1)[0].split(",")[0].split(":")[0]
            found = cluster.service_hosts(host, manifest.namespace)
            if found:
                return found[0]
            names.append(address.rstrip("/").rsplit("/", 1)[-1])   # an SQS queue's name
    # a RabbitMQ trigger's queueName, a Kafka trigger's topic (a list, comma-separated), an
    # SQS queue's name: the queue a topic or queue object describes (k8s/brokers.py)
    for key in ("queueName", "topic"):
        if isinstance(metadata.get(key), str):
            names.append(metadata[key].split(",")[0].strip())
    described = next((cluster.queues[manifest.namespace, queue] for queue in names
                      if (manifest.namespace, queue) in cluster.queues), None)
    if described is not None:
        return described
    for name in [trigger.get("name"), *names]:
        if name:
            found_key = cluster.draft.resolve(str(name), manifest.namespace)
            if found_key is not None:
                return found_key
    return None


# What KEDA's rabbitmq scaler reads (kedacore/keda pkg/scalers/rabbitmq_scaler.go): over
# HTTP the management API's `messages` of /api/queues/<vhost>/<queueName> (`messages_ready`
# with excludeUnacknowledged; with useRegex, of every queue the pattern finds, caseless and
# unanchored, summed by default), over AMQP a passive queue.declare's message count. For a
# stream RabbitMQ gives both as every message the log retains: its last offset + 1 − its
# first (rabbitmq-server rabbit_osiris_metrics, the stream's `messages` and
# `messages_ready`; rabbit_stream_queue `stat`). Consumers read without removing, so it
# falls only when retention deletes a segment. Modes QueueLength (and the older
# queueLength), MessageRate (active while messages > activationValue) and
# ExpectedQueueConsumptionTime read that count; DeliverGetRate and
# PublishedToDeliveredRatio read rates only.
STREAM_COUNT = ("KEDA's rabbitmq scaler reads the queue's message count (the management "
                "API's messages, or a passive declare's count over AMQP), which RabbitMQ gives "
                "a stream as every message it retains (last offset + 1 − first offset, "
                "rabbit_osiris_metrics): consumers reading remove none, and it falls only when "
                "retention deletes a segment. It is the log's size, not the consumers' lag")
STREAM_MODES = {
    "QueueLength": "the trigger scales out as the log grows and may never scale in (nor to "
                   "zero, without retention); the spec's queue metric is the backlog not yet "
                   "read, so the simulation scales in where the cluster would not",
    "MessageRate": "in mode MessageRate the trigger stays active while the stream retains "
                   "more messages than activationValue, so it does not scale to zero",
    "ExpectedQueueConsumptionTime": "mode ExpectedQueueConsumptionTime divides that count by "
                                    "the delivery rate, so it overstates the time to drain "
                                    "and may never scale in"}


def _on_a_stream(cluster: Cluster, manifest: Manifest, trigger: Any, index: int,
                 queue: str) -> None:
    """A rabbitmq trigger whose queue is a stream or a super stream's partition (or
    that names a super stream, which is no queue): noted."""
    if not isinstance(trigger, dict) or trigger.get("type") != "rabbitmq":
        return
    metadata = mapping(trigger.get("metadata"))
    name = metadata.get("queueName")
    if not isinstance(name, str) or not name:
        return
    found: list[tuple[str, bool]]
    if str(metadata.get("useRegex")).strip().lower() == "true":
        try:
            pattern = re.compile(name, re.IGNORECASE)
        except re.error:
            return
        found = [(said, is_queue) for (key, stream), (said, is_queue) in cluster.streams.items()
                 if key == queue and is_queue and pattern.search(stream)]
    else:
        found = [cluster.streams[queue, name]] if (queue, name) in cluster.streams else []
    if not found:
        return
    where = f"{manifest.title}: spec.triggers[{index}] (rabbitmq, queueName {name!r})"
    if not found[0][1]:
        cluster.draft.note(f"{where}: {found[0][0]}. A trigger per partition, or one with "
                           "useRegex over the partitions' names (HTTP only), reads the "
                           "partitions, each a stream")
        return
    mode = str(metadata.get("mode", "QueueLength"))
    tail = STREAM_MODES.get(mode)
    if tail is None:
        return      # a rate mode: no message count
    streams = "; ".join(said for said, _ in found[:3]) + ("; …" if len(found) > 3 else "")
    cluster.draft.note(f"{where} watches a stream: {streams}. {STREAM_COUNT}: {tail}")


def _queue_kind(cluster: Cluster, manifest: Manifest, queue: str, triggers: list[Any],
                index: int) -> None:
    """A queue scaler's target is a queue: of the trigger's tech, unless its image says what
    it runs."""
    trigger = QUEUES.get(str(triggers[index].get("type")))
    component = cluster.component(queue)
    if trigger is None or not trigger.tech or component.kind is not None or \
            component.guess.from_image:
        return
    component.kind = Fact(Kind.QUEUE, manifest.seen_in(
        triggers, index, f"spec.triggers[{index}] (a {triggers[index].get('type')} scaler "
        "watches it)"))
    component.tech = component.tech or trigger.tech


def _unmapped(manifest: Manifest, cluster: Cluster) -> None:
    spec = manifest.spec
    for field_name in ("idleReplicaCount", "fallback"):
        if field_name in spec:
            cluster.draft.note(f"{manifest.title}: spec.{field_name} has no spec counterpart; "
                               "left out")
    if scaling.whole(spec.get("initialCooldownPeriod")):
        cluster.draft.note(f"{manifest.title}: spec.initialCooldownPeriod is not imported (the "
                           "spec scales an idle consumer to zero from the start)")
    advanced = spec.get("advanced")
    if isinstance(advanced, dict) and "scalingModifiers" in advanced:
        cluster.draft.note(f"{manifest.title}: advanced.scalingModifiers (a formula over the "
                           "triggers) is not imported; each trigger is a metric of its own")


KINDS: Mappers = {("keda.sh", "ScaledObject"): scaled_object}
