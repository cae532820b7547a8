"""RabbitMQ streams and super streams, as queues of the spec: a log of partitions.

A stream Queue (its type `stream`, k8s/topology.py) is read by k8s/brokers.py's
`rabbitmq_queue`, which hands it to `read_stream_queue`: one partition, read in order by
each subscription, no delivery settings. The messaging-topology operator's `SuperStream`
(rabbitmq.com) is `spec.partitions` streams behind an exchange: a queue of N partitions
(`rabbitmq_super_stream`). Here too are the checks of a stream's arguments and policy keys
and of a SuperStream's fields (k8s/fields.py applies them; `problems` what spans fields);
what the spec cannot hold (retention, replicas, routing keys) is noted.
"""

from __future__ import annotations

import re
from typing import Any

from scalesim.importers.checks import Check, as_whole, count, field_problem, is_text, one_of
from scalesim.importers.errors import Problem
from scalesim.importers.k8s import topology
from scalesim.importers.k8s.objects import Cluster, Manifest, Mappers, mapping
from scalesim.importers.k8s.queue_reader import (
    MAX_PARTITIONS,
    Reader,
    note_federation,
    object_reader,
    put_partitions,
    queue_for,
    rabbit_brokers,
)
from scalesim.importers.sources import Seen

# -- checks: what RabbitMQ (or the operator) would refuse of a stream or a super stream -----

_MAX_AGE = re.compile(r"^([0-9]+)(.*)$", re.DOTALL)
MAX_AGE_UNITS = ("Y", "M", "D", "h", "m", "s")


def max_age(value: Any) -> str | None:
    """A stream's `max-age` as RabbitMQ takes it (rabbit_amqqueue `check_max_age`): text of
    a whole number above 0 and one unit of Y, M, D, h, m or s ('7D', '12h')."""
    if not isinstance(value, str):
        return f"{value!r} is not text (a number and a unit: '7D', '12h')"
    found = _MAX_AGE.match(value)
    if found is None or int(found.group(1)) <= 0 or found.group(2) not in MAX_AGE_UNITS:
        return f"{value!r} is not a max age: a whole number above 0 and one unit of " \
               f"{', '.join(MAX_AGE_UNITS)} ('7D', '12h')"
    return None


# What RabbitMQ takes of a stream's keys: as a queue's `x-` argument (rabbit_amqqueue
# declare_args; rabbit_stream_queue `check_max_segment_size_bytes`, `check_filter_size`)
# and in a policy's definition (rabbit_policies validate_policy0). An initial cluster size
# of 0 is refused as an argument only; the argument takes the deprecated `min-masters`
# locator, a policy does not. MAX_SEGMENT: rabbit.hrl MAX_STREAM_MAX_SEGMENT_SIZE.
MAX_SEGMENT = 3_000_000_000
LOCATORS = ("client-local", "balanced", "random", "least-leaders")
STREAM_ARGUMENT_KEYS: list[tuple[str, Check]] = [
    ("max-age", max_age), ("initial-cluster-size", count(1)),
    ("stream-max-segment-size-bytes", count(0, MAX_SEGMENT)),
    ("stream-filter-size-bytes", count(16, 255)),
    ("queue-leader-locator", one_of(*LOCATORS, "min-masters"))]
STREAM_POLICY_KEYS: list[tuple[str, Check]] = [
    ("max-age", max_age), ("initial-cluster-size", count(0)),
    ("stream-max-segment-size-bytes", count(0, MAX_SEGMENT)),
    ("stream-filter-size-bytes", count(16, 255)),
    ("queue-leader-locator", one_of(*LOCATORS))]


# The operator's SuperStream (messaging-topology-operator api/v1alpha1 SuperStreamSpec):
# `partitions` an integer, 3 when unset (kubebuilder default); `routingKeys` a list of text.
# Its controller (internal/controller/super_stream_controller.go) names the exchange
# after metadata.name and the partition streams `<metadata.name>-<routing key>`, the keys
# being spec.routingKeys, else the partition indexes 0 … partitions − 1; it reconciles
# nothing when there are routing keys and not one per partition. The operator labels the
# partition Queues it creates with SUPER_STREAM_LABEL.
SUPER_STREAM = ("rabbitmq.com", "SuperStream")
SUPER_STREAM_PARTITIONS = 3
SUPER_STREAM_LABEL = "rabbitmq.com/super-stream"


def partition_count(value: Any) -> str | None:
    """A SuperStream's partitions: a whole number above 0 (the CRD takes any integer, and
    for 0 or fewer the operator creates the exchange and no partition stream)."""
    problem = count(1)(value)
    if problem is None or as_whole(value) is None:
        return problem
    return f"{problem}: the operator creates one stream per partition, so none, and the " \
           "super stream holds nothing"


def routing_keys(value: Any) -> str | None:
    """A SuperStream's routingKeys: a list of text (the CRD's array of strings)."""
    if not isinstance(value, list):
        return f"{value!r} is not a list of routing keys"
    odd = [(index, key) for index, key in enumerate(value) if not isinstance(key, str)]
    return f"item {odd[0][0]}, {odd[0][1]!r}, is not text: each routing key is a string" \
        if odd else None


SUPER_STREAM_RULES = [("spec.name", is_text), ("spec.partitions", partition_count),
                      ("spec.routingKeys", routing_keys)]


def problems(manifests: list[Manifest]) -> list[Problem]:
    """What the operator does not reconcile in each SuperStream (`_super_stream_problems`)."""
    return [problem for manifest in manifests
            if (manifest.group, manifest.kind) == SUPER_STREAM
            for problem in _super_stream_problems(manifest)]


def _super_stream_problems(stream: Manifest) -> list[Problem]:
    """What the operator does not reconcile, or makes into fewer partitions than it says:
    routing keys that are not one per partition (super_stream_controller: 'expected number
    of routing keys … to match number of partitions'), and a routing key given twice (two
    partitions would be one stream `<name>-<key>`; RabbitMQ's own super stream creation,
    rabbit_stream_manager, refuses duplicate partitions)."""
    spec = stream.spec
    keys = spec.get("routingKeys")
    partitions = spec.get("partitions")
    partitions = SUPER_STREAM_PARTITIONS if partitions is None else partitions
    if not isinstance(keys, list) or not keys or routing_keys(keys) is not None or \
            partition_count(partitions) is not None:
        return []
    seen = stream.seen("spec.routingKeys")
    said = "spec.partitions" if spec.get("partitions") is not None else \
        f"no spec.partitions: the CRD's default {SUPER_STREAM_PARTITIONS}"
    twice = sorted({key for key in keys if keys.count(key) > 1})
    if len(keys) != partitions:
        problem = (f"{len(keys)} routing keys for {partitions} partitions ({said}): the "
                   "operator creates nothing until there is one per partition ('expected "
                   "number of routing keys … to match number of partitions')")
    elif twice:
        problem = (f"{', '.join(map(repr, twice))} given more than once: each partition is "
                   f"the stream {stream.name}-<key>, so two partitions would be one stream")
    else:
        return []
    return [field_problem(seen.file, seen.line, stream.title, seen.field, problem)]


# -- reading --------------------------------------------------------------------------------

def super_stream_partition(manifest: Manifest, cluster: Cluster) -> bool:
    """A Queue the operator created as a partition of a SuperStream of the files (its
    SUPER_STREAM_LABEL): the SuperStream describes it; noted, not read again."""
    owner = mapping(manifest.data["metadata"].get("labels")).get(SUPER_STREAM_LABEL)
    if owner is None or cluster.find(*SUPER_STREAM, manifest.namespace, str(owner)) is None:
        return False
    cluster.draft.note(f"{manifest.file}:{manifest.line}: {manifest.title} is a partition "
                       f"the operator created for SuperStream {owner} (its "
                       f"{SUPER_STREAM_LABEL} label), which describes it; not read again")
    return True


# What a stream applies (rabbit_stream_queue `update_stream_conf`, `create_stream`) that the
# spec has no field for; noted.
STREAM_NOT_CARRIED = {
    "max-length-bytes": "retention: the stream deletes its oldest segments once it holds "
                        "more; the simulation keeps every message",
    "max-age": "retention: the stream deletes segments older than that; the simulation "
               "keeps every message",
    "initial-cluster-size": "the stream's replicas (its leader and followers): a spec queue "
                            "does not replicate",
    "stream-max-segment-size-bytes": "the size of the stream's segment files: messages "
                                     "have no size in the simulation",
    "stream-filter-size-bytes": "the size of the stream's Bloom filters (filtering is the "
                                "consumers')",
    "queue-leader-locator": "which node leads the stream: nodes are not simulated"}
STREAM_LOG = ("a stream is one append-only log that each consumer reads in order from an "
              "offset of its own, as a topic of one partition: each subscription reads every "
              "message, one group member at a time")


STREAM_DELIVERY = ("does not redeliver (a rejected message only returns credit), has no "
                   "delivery limit and no dead letters: no delivery settings. Where each "
                   "consumer starts (its x-stream-offset, `next` unless it says) and whether "
                   "it stores its offset are in its code")


def read_stream_queue(reader: Reader, settings: dict[str, topology.Setting],
                      type_seen: str) -> None:
    """A stream is a log: one partition, read in order by each subscription. It redelivers
    nothing (rabbit_stream_queue `settle`: a reject or a nack only gives credit back), has
    no delivery limit and dead-letters nothing: no delivery settings. Its retention,
    replicas and segment settings have no spec field: noted."""
    reader.put(("partitions",), 1, f"{type_seen}: {STREAM_LOG}")
    reader.note(f"{type_seen}: a stream {STREAM_DELIVERY}. The consumers of a component "
                "are read as one group, one member reading at a time: RabbitMQ's single "
                "active consumer (stream-protocol consumers that ask for it under one name); "
                "consumers without it each read every message, which is not simulated")
    for key, why in STREAM_NOT_CARRIED.items():
        if key in settings:
            reader.note(f"{settings[key].said()} = {settings[key].value}: {why}; not carried")


SUPER_STREAM_LOG = ("a super stream is one stream per partition, each an append-only log "
                    "that each consumer reads in order from an offset of its own, as a "
                    "topic's partitions: each subscription reads every message, each "
                    "partition one group member at a time")


def rabbitmq_super_stream(manifest: Manifest, cluster: Cluster) -> None:
    """The operator's SuperStream: an exchange named after it routing to one stream per
    partition, `<name>-<routing key>` (the keys `spec.routingKeys`, else the indexes) — a
    queue of `partitions` N, each a stream as a stream Queue is (`read_stream_queue`): no
    delivery settings. The policies of its vhost apply to each partition stream by its
    name (the operator declares them with no arguments); their retention and replicas are
    noted, as are the routing keys and how single active consumer spreads partitions."""
    spec = manifest.spec
    name = manifest.name
    where = topology.scope(manifest)
    component = queue_for(cluster, manifest, name, rabbit_brokers(manifest, where),
                          "rabbitmq")
    reader = object_reader(manifest, cluster, component)
    partitions = as_whole(spec.get("partitions"))
    seen: Seen | str = manifest.seen("spec.partitions")
    if partitions is None:
        partitions = SUPER_STREAM_PARTITIONS
        seen = (f"from {manifest.file}:{manifest.line}: {manifest.title} sets no "
                f"spec.partitions: the CRD's default {SUPER_STREAM_PARTITIONS}")
    listed = spec.get("routingKeys")
    keys = [str(key) for key in listed] if isinstance(listed, list) and listed else \
        [str(index) for index in range(min(partitions, MAX_PARTITIONS + 1))]
    streams = [f"{name}-{key}" for key in keys]
    cluster.streams[component.key, name] = (
        f"{manifest.title} is a super stream, an exchange routing to {partitions:,} stream "
        f"partitions ({_listed(streams)}): no queue has its name, so the scaler finds none "
        "(the management API answers 404, a passive declare NOT_FOUND) and fails", False)
    for index, stream in enumerate(streams):
        cluster.queues.setdefault((manifest.namespace, stream), component.key)
        cluster.streams[component.key, stream] = (
            f"{stream} is partition {index} of {manifest.title}, a stream", True)
    put_partitions(reader, partitions, f"{seen}: {SUPER_STREAM_LOG}")
    reader.note(f"{manifest.title}: each partition stream {STREAM_DELIVERY}. With single active "
                "consumer, RabbitMQ makes one consumer of a name active per partition, "
                "spreading the partitions over them (rabbit_stream_sac_coordinator: the "
                "partition's index modulo the consumers), as the spec's group does with a "
                "topic's partitions; consumers without it each read every partition, which "
                "is not simulated")
    _super_stream_routing(reader, manifest, keys)
    _super_stream_policies(reader, manifest, cluster, streams)
    reader.attach()


def _listed(names: list[str], most: int = 6) -> str:
    """Names, the first and last few of a long list."""
    if len(names) <= most:
        return ", ".join(names)
    return f"{', '.join(names[:most // 2])}, …, {', '.join(names[-(most // 2):])}"


def _super_stream_routing(reader: Reader, manifest: Manifest, keys: list[str]) -> None:
    routed = _listed([f"{key!r} to {manifest.name}-{key}" for key in keys])
    where = manifest.seen("spec.routingKeys") if manifest.spec.get("routingKeys") else \
        f"{manifest.title} sets no spec.routingKeys: the partition indexes"
    reader.note(f"{where}: exchange {manifest.name} routes routing key {routed}; which "
                "partition a message goes to is the publisher's (a stream client hashes its "
                "key over the partitions or looks it up in these bindings), where the spec "
                "spreads messages by the request's key; the routing keys are not carried")
    name = manifest.spec.get("name")
    if isinstance(name, str) and name != manifest.name:
        reader.note(f"{manifest.seen('spec.name')} is {name!r}: the operator names the "
                    f"super stream (its exchange and partitions) after metadata.name, "
                    f"{manifest.name}")


def _super_stream_policies(reader: Reader, manifest: Manifest, cluster: Cluster,
                           streams: list[str]) -> None:
    """The policies matching each partition stream's name: their retention, replicas and
    federation noted once for the partitions they apply to. Without one, a partition keeps
    every message and is placed on every node (rabbit_stream_queue `update_stream_conf`,
    `initial_cluster_size`)."""
    found: dict[tuple[str, str], list[str]] = {}
    for stream in streams:
        settings, notes = topology.effective(manifest, cluster, stream, "stream")
        for note in notes:
            reader.note(note)
        note_federation(reader, settings)
        for key, why in STREAM_NOT_CARRIED.items():
            if key in settings:
                said = f"{settings[key].said()} = {settings[key].value}: {why}"
                found.setdefault((key, said), []).append(stream)
    for (_, said), which in found.items():
        whose = "every partition" if len(which) == len(streams) else \
            f"partitions {_listed(which)}"
        reader.note(f"{said} ({whose}); not carried")
    keys = {key for key, _ in found}
    if not keys & {"max-age", "max-length-bytes"}:
        reader.note(f"{manifest.title}: no policy sets its partitions' retention (max-age, "
                    "max-length-bytes; the operator declares them with no arguments): they "
                    "keep every message, as the simulation does")
    if "initial-cluster-size" not in keys:
        reader.note(f"{manifest.title}: each partition stream is replicated on every node "
                    "of the cluster (no initial-cluster-size policy); a spec queue does not "
                    "replicate; not carried")


KINDS: Mappers = {SUPER_STREAM: rabbitmq_super_stream}
