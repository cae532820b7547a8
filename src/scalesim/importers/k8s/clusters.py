"""Brokers an operator runs: Strimzi's `Kafka` (with its `KafkaNodePool`s) and the RabbitMQ
cluster operator's `RabbitmqCluster`, each a queue component of its tech.

The operator creates the pods and Services, so the files hold only the custom resource:
its name is the component's, and the Services the operator creates are the names clients
reach it by (Strimzi KafkaResources: `<name>-kafka-bootstrap`, `<name>-kafka-brokers`; the
cluster operator: `<name>`, `<name>-nodes`). Its replicas are the brokers. The broker
defaults a topic or queue object inherits are read by k8s/brokers.py through `kafka_default`
and `rabbitmq_default_type`: a KafkaTopic without `spec.partitions` has the broker's
`num.partitions`, a Queue without a type the broker's `default_queue_type`. What the spec
has no field for (replication, in-sync replicas, operator default policies) is noted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from scalesim.importers.checks import Check, as_whole, count, field_problem, one_of
from scalesim.importers.draft import Component, Fact
from scalesim.importers.errors import Problem, fail
from scalesim.importers.k8s.objects import Cluster, Manifest, Mappers, mapping
from scalesim.importers.kinds import Guess
from scalesim.importers.sources import Seen, dig, line_of
from scalesim.spec.bounds import MAX_REPLICAS_TOTAL
from scalesim.spec.model import Kind

STRIMZI = "kafka.strimzi.io"
CLUSTER_LABEL = "strimzi.io/cluster"
# Kafka's broker defaults (ServerLogConfigs, ReplicationConfigs): num.partitions 1
# (atLeast 1), min.insync.replicas 1 (atLeast 1), default.replication.factor 1 (an int).
# Strimzi passes spec.kafka.config to server.properties, so text holding the number is one.
KAFKA_CONFIG: dict[str, Check] = {"num.partitions": count(1, text=True),
                                  "min.insync.replicas": count(1, text=True),
                                  "default.replication.factor": count(None, text=True)}
NUM_PARTITIONS_DEFAULT = 1
NOT_CARRIED = ("default.replication.factor", "min.insync.replicas")
# rabbitmq.conf (sysctl format: `key = value`, `#` comments); the rabbit.schema mapping
# default_queue_type takes classic, quorum or stream (else a module name).
_CONF_LINE = re.compile(r"^\s*([A-Za-z0-9_.$-]+)\s*=\s*(.*?)\s*$")
RABBIT_QUEUE_TYPES = ("classic", "quorum", "stream")
ROLES = one_of("controller", "broker")


def _broker(manifest: Manifest, cluster: Cluster, tech: str, hosts: list[str]) -> Component:
    """The broker's queue component, reached by the Services its operator creates."""
    namespace, name = manifest.namespace, manifest.name
    key = f"{namespace}/{name}"
    spec_name = name if key not in cluster.draft.components else f"{name}-{tech}"
    key = f"{namespace}/{spec_name}"
    component = cluster.draft.add(Component(key, spec_name, namespace,
                                            Guess(Kind.QUEUE, tech, "", False)))
    component.kind = Fact(Kind.QUEUE, f"from {manifest.file}:{manifest.line}: "
                          f"{manifest.title}, a {tech} broker its operator runs")
    component.tech = tech
    for host in [spec_name, *hosts]:
        cluster.draft.answer(key, host, namespace, cluster.qualified(host, namespace))
    return component


def kafka(manifest: Manifest, cluster: Cluster) -> None:
    """Strimzi's Kafka: brokers are the replicas of the KafkaNodePools labelled with its name
    whose roles include `broker` (Strimzi 0.46 on, and KRaft before), else
    `spec.kafka.replicas` (a ZooKeeper-based cluster, Strimzi 0.45 and before)."""
    name = manifest.name
    component = _broker(manifest, cluster, "kafka",
                        [f"{name}-kafka-bootstrap", f"{name}-kafka-brokers"])
    pools = [p for p in cluster.manifests if (p.group, p.kind) == (STRIMZI, "KafkaNodePool")
             and p.namespace == manifest.namespace and _labels(p).get(CLUSTER_LABEL) == name]
    brokers = [p for p in pools if "broker" in _roles(p)]
    if pools:
        total = sum(_replicas(p, "spec.replicas") or 0 for p in brokers)
        where = ", ".join(f"{p.name} ({p.file}:{p.line})" for p in brokers) or "none"
        component.replicas = Fact(max(total, 1), (
            f"the broker replicas of its KafkaNodePools: {where}"
            + ("" if total else "; none has the broker role: 1 stands in")))
    else:
        replicas = _replicas(manifest, "spec.kafka.replicas")
        component.replicas = Fact(replicas, manifest.seen("spec.kafka.replicas")) \
            if replicas else Fact(1, f"from {manifest.file}:{manifest.line}: {manifest.title} "
                                  "has no KafkaNodePool and no spec.kafka.replicas: 1")
    config = mapping(mapping(manifest.spec.get("kafka")).get("config"))
    for key in NOT_CARRIED:
        if key in config:
            cluster.draft.note(f"{component.name}: {_seen(manifest, config, key)} = "
                               f"{config[key]}: not carried, a spec queue does not replicate")


def _replicas(manifest: Manifest, path: str) -> int | None:
    """The replicas at `path`; more than a spec simulates is refused where they are written,
    as a workload's are."""
    replicas = as_whole(dig(manifest.data, path)[0])
    if replicas is not None and replicas > MAX_REPLICAS_TOTAL:
        seen = manifest.seen(path)
        raise fail(seen.file, seen.line, f"{manifest.title}: {path} {replicas:,} is more than "
                   f"a spec simulates ({MAX_REPLICAS_TOTAL:,} replicas in all)")
    return replicas


def kafka_default(cluster: Cluster, namespace: str, name: str) -> tuple[int, str] | None:
    """The num.partitions of the Kafka named `name` when it is in the files (Kafka's
    default 1 when its config does not set it), with where it is said."""
    found = cluster.find(STRIMZI, "Kafka", namespace, name)
    if found is None:
        return None
    config = mapping(mapping(found.spec.get("kafka")).get("config"))
    partitions = as_whole(config.get("num.partitions"), text=True)
    if partitions is None:
        return NUM_PARTITIONS_DEFAULT, (f"from {found.file}:{found.line}: {found.title} sets "
                                        "no num.partitions: Kafka's default 1")
    return partitions, f"{_seen(found, config, 'num.partitions')} (the broker's default)"


def rabbitmq_cluster(manifest: Manifest, cluster: Cluster) -> None:
    """The cluster operator's RabbitmqCluster: `spec.replicas` nodes (the CRD's default 1)."""
    name = manifest.name
    component = _broker(manifest, cluster, "rabbitmq", [f"{name}-nodes"])
    replicas = _replicas(manifest, "spec.replicas")
    component.replicas = Fact(replicas, manifest.seen("spec.replicas")) if replicas else \
        Fact(1, f"from {manifest.file}:{manifest.line}: {manifest.title} "
             + ("sets no spec.replicas (the CRD's default 1)" if replicas is None
                else "has 0 replicas (scaled down): 1"))
    policies = sorted({key.split(".")[2] for key in _rabbit_conf(manifest)
                       if key.startswith("default_policies.operator.") and
                       key.count(".") >= 3})
    if policies:
        cluster.draft.note(f"{component.name}: {manifest.seen('spec.rabbitmq.additionalConfig')}"
                           f" defines operator policies ({', '.join(policies)}) in "
                           "rabbitmq.conf: not read (OperatorPolicy objects are)")


def rabbitmq_default_type(manifests: Sequence[Manifest], ref: tuple[str, str, str]
                          ) -> tuple[str, Seen] | None:
    """The default_queue_type of the RabbitmqCluster a reference names, when set."""
    if ref[0] != "name":
        return None
    found = next((m for m in manifests if (m.group, m.kind) == ("rabbitmq.com",
                                                               "RabbitmqCluster")
                  and (m.namespace, m.name) == (ref[1], ref[2])), None)
    value = _rabbit_conf(found).get("default_queue_type") if found is not None else None
    if found is None or value is None:
        return None
    return value, found.seen("spec.rabbitmq.additionalConfig")


def _rabbit_conf(manifest: Manifest) -> dict[str, str]:
    text = mapping(manifest.spec.get("rabbitmq")).get("additionalConfig")
    lines = text.splitlines() if isinstance(text, str) else []
    found = (_CONF_LINE.match(line) for line in lines if not line.lstrip().startswith("#"))
    return {m.group(1): m.group(2) for m in found if m}


def _labels(manifest: Manifest) -> dict[str, Any]:
    return mapping(manifest.data["metadata"].get("labels"))


def _seen(manifest: Manifest, config: dict[str, Any], key: str) -> Seen:
    return manifest.seen_in(config, key, f"spec.kafka.config.{key}")


def problems(manifests: list[Manifest]) -> list[Problem]:
    """The broker settings read here that Kafka or RabbitMQ would refuse: config keys with
    dots (which field paths cannot name) and the rabbitmq.conf default queue type."""
    found = []
    for manifest in manifests:
        if (manifest.group, manifest.kind) == (STRIMZI, "Kafka"):
            config = mapping(mapping(manifest.spec.get("kafka")).get("config"))
            for key, check in KAFKA_CONFIG.items():
                problem = None if config.get(key) is None else check(config[key])
                if problem is not None:
                    found.append(field_problem(manifest.file, line_of(config, key) or
                                               manifest.line, manifest.title,
                                               f"spec.kafka.config.{key}", problem))
        elif (manifest.group, manifest.kind) == (STRIMZI, "KafkaNodePool"):
            found += _role_problems(manifest)
        elif (manifest.group, manifest.kind) == ("rabbitmq.com", "RabbitmqCluster"):
            kind = _rabbit_conf(manifest).get("default_queue_type")
            if kind is not None and kind not in RABBIT_QUEUE_TYPES:
                seen = manifest.seen("spec.rabbitmq.additionalConfig")
                found.append(field_problem(seen.file, seen.line, manifest.title,
                                           "spec.rabbitmq.additionalConfig",
                                           f"default_queue_type {kind!r} is not one of "
                                           f"{', '.join(RABBIT_QUEUE_TYPES)}"))
    return found


def _roles(pool: Manifest) -> list[Any]:
    roles = pool.spec.get("roles")
    return roles if isinstance(roles, list) else []


def _role_problems(manifest: Manifest) -> list[Problem]:
    """A node pool's roles: a list (the CRD's array), each `controller` or `broker`
    (Strimzi's ProcessRoles)."""
    roles = manifest.spec.get("roles")
    if roles is not None and not isinstance(roles, list):
        seen = manifest.seen("spec.roles")
        return [field_problem(seen.file, seen.line, manifest.title, "spec.roles",
                              f"{roles!r} is not a list of roles")]
    return [field_problem(manifest.file, line_of(roles, index) or manifest.line,
                          manifest.title, f"spec.roles[{index}]", problem)
            for index, role in enumerate(_roles(manifest))
            if (problem := ROLES(role)) is not None]


KINDS: Mappers = {(STRIMZI, "Kafka"): kafka, ("rabbitmq.com", "RabbitmqCluster"): rabbitmq_cluster}
