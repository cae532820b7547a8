"""A queue's delivery settings — `partitions`, `delivery`, `group` — from its broker's objects.

Four sources, each read into the queue component's `broker` block, every value with where it
comes from:
- `broker.json` in a ConfigMap the queue's pod mounts, as `scalesim generate` writes it
  (docs/generate.md, "Broker settings"): Kafka topic, consumer-group and error-handler
  properties, RabbitMQ quorum-queue arguments (dead letters to the dead-letter queue's
  exchange) and acknowledgement mode, SQS attributes (strings) and redrive policy;
- Strimzi's `KafkaTopic` (kafka.strimzi.io): `spec.partitions`;
- the RabbitMQ messaging-topology operator's `Queue` (rabbitmq.com): `spec.type` and the
  arguments `x-delivery-limit`, `x-dead-letter-exchange` and `x-dead-letter-routing-key`
  (a stream is read by k8s/streams.py, as is the operator's `SuperStream`);
- the SQS `Queue` of AWS Controllers for Kubernetes (sqs.services.k8s.aws):
  `spec.visibilityTimeout` and `spec.redrivePolicy`.

A topic or queue object describes the queue component of its name, else the broker it names
(Strimzi's `strimzi.io/cluster` label, the operator's `rabbitmqClusterReference`), else one it
adds: a queue the files declare, as a ServiceEntry declares an external system. The dead-letter
queue a broker names is looked up once every object is read (`finish`).

What a broker's settings cannot say is a PLACEHOLDER (when a consumer acknowledges is in its
code) or noted; a value the broker would refuse is bad input (`settings_problems`, and the
rules of k8s/fields.py). The facts and their sources are in docs/import.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from scalesim.importers.checks import (
    Check,
    as_whole,
    boolean,
    count,
    field_problem,
    is_text,
    one_of,
)
from scalesim.importers.draft import MARK, Component, DeadLetter, Fact
from scalesim.importers.errors import Problem
from scalesim.importers.k8s import topology
from scalesim.importers.k8s.clusters import CLUSTER_LABEL, kafka_default, rabbitmq_default_type
from scalesim.importers.k8s.objects import Cluster, Manifest, Mappers, mapping, mounted_config_maps
from scalesim.importers.k8s.queue_reader import (
    Reader,
    note_federation,
    object_reader,
    put_partitions,
    queue_for,
    rabbit_brokers,
)
from scalesim.importers.k8s.streams import (
    STREAM_ARGUMENT_KEYS,
    read_stream_queue,
    super_stream_partition,
)
from scalesim.importers.sources import Seen, line_of
from scalesim.spec.bounds import MAX_QUEUE
from scalesim.spec.model import Kind
from scalesim.spec.units import format_duration

SETTINGS_KEY = "broker.json"
# The spec's bound (spec/data.py Delivery.max_deliveries; partitions: k8s/queue_reader.py).
MAX_DELIVERIES = 1000
# What `scalesim generate` writes (generate/brokers.py), in its words; importers do not
# import the generator, so the round-trip tests keep the two in step.
KAFKA_COMMIT = {"before processing (at most once)": "at_most_once",
                "after processing (at least once)": "at_least_once"}
RABBIT_ACK = {"automatic": "at_most_once", "manual, after processing": "at_least_once"}
# basic.reject: what generate writes (every RabbitMQ version's delivery limit counts it);
# basic.nack: what it wrote before (from RabbitMQ 4.3 the delivery limit does not count it).
RABBIT_NACK = "basic.nack requeue=true"
RABBIT_FAILURE = {"basic.reject requeue=true": "requeue", RABBIT_NACK: "requeue",
                  "no ack: redelivered when the channel times out": "visibility_timeout",
                  "lost": None}
# Kafka's consumer defaults (ConsumerConfig): session.timeout.ms 45000 since 3.0; the
# assignor list [RangeAssignor, CooperativeStickyAssignor] uses its first, an eager one
# (so are RoundRobinAssignor and StickyAssignor): only CooperativeStickyAssignor is not.
KAFKA_SESSION_MS = 45_000
COOPERATIVE = "CooperativeStickyAssignor"
# RabbitMQ: since 4.0 a quorum queue without a delivery limit has one of 20 (rabbitmq-server
# rabbit_quorum_queue.erl DEFAULT_DELIVERY_LIMIT; docs "Quorum Queues"); a negative limit is
# none (rabbit_fifo.erl), −1 what generate writes for it.
QUORUM_DEFAULT_LIMIT = 20
# SQS (CreateQueue / SetQueueAttributes): VisibilityTimeout 0 to 43,200 s, default 30;
# MessageRetentionPeriod 60 to 1,209,600 s.
SQS_VISIBILITY_MAX = 43_200
SQS_RETENTION = (60, 1_209_600)
# FIFO queues (CreateQueue): FifoQueue and ContentBasedDeduplication "true" or "false"; a
# FIFO queue's name ends in ".fifo". Its deduplication interval is fixed at 5 minutes, and
# it deduplicates what is *sent* (SQS Developer Guide, "Exactly-once processing in Amazon
# SQS": a SendMessage retried within the interval adds no duplicate); a message not deleted
# within its visibility timeout is received again all the same.
ACK_FIFO = {"FifoQueue": "fifoQueue", "ContentBasedDeduplication": "contentBasedDeduplication"}
FIFO_SUFFIX = ".fifo"

AT_LEAST_ONCE_SQS = (f"{MARK}: SQS's attributes do not say when the consumer deletes a "
                     "message (that is in its code); at least once, deleted after processing, "
                     "as SQS consumers do")
AT_LEAST_ONCE_RABBIT = (f"{MARK}: the queue's arguments do not say when the consumer "
                        "acknowledges (that is in its code); a delivery limit and dead "
                        "letters only act on manual acknowledgement: at least once")
REQUEUE_RABBIT = (f"{MARK}: how a failed delivery comes back is the consumer's code; "
                  "basic.reject with requeue, which a quorum queue's delivery limit counts on "
                  "every RabbitMQ version (from 4.3 it does not count basic.nack)")

JsonPath = tuple[str, ...]         # keys; "[]" steps into every item of a list
At = Callable[[str], Seen | str]   # where a setting is said, by its key
# how a queue's dead-letter exchange routes a routing key (None: the message's own): the
# queues, or why that cannot be said
Route = Callable[[str, str | None], tuple[list[str], str]]


# -- checks: what the broker (or the operator applying broker.json) would refuse ----------

def nonempty(value: Any) -> str | None:
    """Text, not empty."""
    if not isinstance(value, str):
        return f"{value!r} is not text"
    return None if value else "it is empty"


def whole(value: Any) -> str | None:
    """Any integer (RabbitMQ takes −1 as a delivery limit: no limit)."""
    return None if as_whole(value) is not None else f"{value!r} is not a whole number"


def attribute(minimum: int, maximum: int) -> Check:
    """An SQS attribute (in broker.json or an ACK Queue): text, as SQS's attribute map and
    the ACK CRD hold every attribute, holding a whole number in [minimum, maximum]."""
    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return f"{value!r} is not text: SQS takes its attributes as strings " \
                   f"(write {str(value)!r})"
        return count(minimum, maximum, text=True)(value.strip())
    return check


def redrive_text(value: Any) -> str | None:
    """RedrivePolicy as SQS takes it: a string holding the JSON object."""
    if not isinstance(value, str):
        return (f"{value!r} is not text: SQS takes RedrivePolicy as a JSON object in a "
                f"string (write {json.dumps(json.dumps(value))})")
    return redrive_policy(value)


def redrive_policy(value: Any) -> str | None:
    """SQS's RedrivePolicy: a JSON object (in an ACK Queue, its text) with
    `deadLetterTargetArn` and `maxReceiveCount` (a whole number ≥ 1, or text of one)."""
    policy = _redrive(value)
    if policy is None:
        return f"{value!r} is not a JSON object with deadLetterTargetArn and maxReceiveCount"
    arn = policy.get("deadLetterTargetArn")
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        return f"deadLetterTargetArn {arn!r} is not an ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)"
    problem = count(1, text=True)(policy.get("maxReceiveCount"))
    return None if problem is None else f"maxReceiveCount {problem}"


def _redrive(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    return value if isinstance(value, dict) else None


# What RabbitMQ takes of the keys read (rabbit_policies.erl validate_policy0 for a policy's
# definition, rabbit_amqqueue.erl declare_args for a queue's x-arguments): lengths and the
# TTL whole numbers ≥ 0, `expires` ≥ 1, the delivery limit any whole number, the overflow
# and dead-letter strategy one of their words, exchange and routing key text.
OVERFLOW = ("drop-head", "reject-publish", "reject-publish-dlx")
RABBIT_KEYS: list[tuple[str, Check]] = [
    ("delivery-limit", whole), ("dead-letter-exchange", is_text),
    ("dead-letter-routing-key", is_text), ("message-ttl", count(0)), ("max-length", count(0)),
    ("max-length-bytes", count(0)), ("expires", count(1)), ("overflow", one_of(*OVERFLOW)),
    ("dead-letter-strategy", one_of("at-most-once", "at-least-once"))]


def sqs_boolean(value: Any) -> str | None:
    """An SQS boolean attribute: the text true or false."""
    if not isinstance(value, str):
        return f"{value!r} is not text: SQS takes its attributes as strings (write " \
               f"{str(value).lower()!r})"
    return None if value.strip().lower() in ("true", "false") else \
        f"{value!r} is not true or false"


# broker.json, by what generate writes for each broker (docs/generate.md)
SETTINGS_RULES: list[tuple[JsonPath, Check]] = [
    (("topic", "partitions"), count(1)),
    (("consumer_groups", "[]", "session.timeout.ms"), count(1)),
    (("consumer_groups", "[]", "partition.assignment.strategy"), nonempty),
    (("consumer_groups", "[]", "enable.auto.commit"), boolean),
    (("consumer_groups", "[]", "auto.commit.interval.ms"), count(0)),
    (("commit",), one_of(*KAFKA_COMMIT)),
    (("error_handler", "max_attempts"), count(1)),
    (("error_handler", "dead_letter_topic"), nonempty),
    (("exchange", "name"), is_text),
    (("queues", "[]", "name"), nonempty),
    *((("queues", "[]", "arguments", f"x-{key}"), check) for key, check in RABBIT_KEYS
      if key != "dead-letter-routing-key"),
    (("queues", "[]", "arguments", "x-dead-letter-routing-key"), nonempty),
    (("queues", "[]", "consumer", "ack"), one_of(*RABBIT_ACK)),
    (("queues", "[]", "consumer", "on_failure"), one_of(*RABBIT_FAILURE)),
    (("queue", "Attributes", "VisibilityTimeout"), attribute(0, SQS_VISIBILITY_MAX)),
    (("queue", "Attributes", "MessageRetentionPeriod"), attribute(*SQS_RETENTION)),
    (("queue", "Attributes", "RedrivePolicy"), redrive_text),
    *((("queue", "Attributes", key), sqs_boolean) for key in ACK_FIFO),
]
# The CRDs' fields the importer reads (k8s/fields.py applies them by path)
KAFKA_TOPIC_RULES = [("spec.partitions", count(1)), ("spec.replicas", count(1, 32767)),
                     ("spec.topicName", nonempty)]
RABBIT_QUEUE_RULES = [("spec.name", nonempty),
                      *((f"spec.arguments.x-{key}", check) for key, check in RABBIT_KEYS
                        if key != "dead-letter-routing-key"),
                      ("spec.arguments.x-dead-letter-routing-key", nonempty),
                      *((f"spec.arguments.x-{key}", check)
                        for key, check in STREAM_ARGUMENT_KEYS),
                      ("spec.durable", boolean), ("spec.autoDelete", boolean)]
SQS_QUEUE_RULES = [("spec.queueName", nonempty),
                   ("spec.visibilityTimeout", attribute(0, SQS_VISIBILITY_MAX)),
                   ("spec.redrivePolicy", lambda v: nonempty(v) or redrive_policy(v)),
                   *((f"spec.{field}", sqs_boolean) for field in ACK_FIFO.values())]


def object_problems(manifests: list[Manifest]) -> list[Problem]:
    """What a broker refuses across two fields of a queue object: a FIFO queue whose name
    does not end in `.fifo` (SQS CreateQueue), a dead-letter routing key without a
    dead-letter exchange among a RabbitMQ queue's arguments (rabbit_amqqueue.erl
    check_dlxrk_arg: routing_key_but_no_dlx_defined)."""
    problems = []
    for manifest in manifests:
        spec = manifest.spec
        if (manifest.group, manifest.kind) == ("sqs.services.k8s.aws", "Queue") and \
                str(spec.get("fifoQueue")).strip().lower() == "true" and \
                isinstance(spec.get("queueName"), str) and \
                not spec["queueName"].endswith(FIFO_SUFFIX):
            seen = manifest.seen("spec.queueName")
            problems.append(field_problem(seen.file, seen.line, manifest.title, seen.field,
                                          f"{spec['queueName']!r}: a FIFO queue's name must "
                                          f"end in {FIFO_SUFFIX} (fifoQueue is true)"))
        if (manifest.group, manifest.kind) == ("rabbitmq.com", "Queue"):
            problems += _rabbit_queue_problems(manifest, manifests)
    return problems


def _rabbit_queue_problems(queue: Manifest, manifests: list[Manifest]) -> list[Problem]:
    """What RabbitMQ refuses of a queue for its type (k8s/topology.py): a quorum queue or
    stream that is not durable or is auto-deleted; a stream's argument that only the other
    types take; else a dead-letter routing key without a dead-letter exchange."""
    arguments = mapping(queue.spec.get("arguments"))
    declared = topology.queue_type(
        queue, manifests, rabbitmq_default_type(manifests, topology.scope(queue)[0]))
    kind, said = declared.kind, declared.said
    problems = []

    def refuse(path: str, problem: str) -> None:
        seen = queue.seen(path)
        problems.append(field_problem(seen.file, seen.line, queue.title, seen.field, problem))

    what = "a stream" if kind == "stream" else f"a {kind} queue"
    if declared.named and kind in topology.REPLICATED:
        if queue.spec.get("durable") is False:
            refuse("spec.durable", f"{what} ({said}) must be durable: RabbitMQ refuses it "
                   "('non-durable')")
        if queue.spec.get("autoDelete") is True:
            refuse("spec.autoDelete", f"{what} ({said}) cannot be auto-deleted: RabbitMQ "
                   "refuses it ('auto-delete')")
    if kind == "stream":
        for key in arguments:
            if key in topology.STREAM_REFUSED:
                refuse(f"spec.arguments.{key}", f"a stream ({said}) takes no {key}: "
                       "RabbitMQ refuses the queue ('invalid arg … of queue type "
                       "rabbit_stream_queue')")
    elif "x-dead-letter-routing-key" in arguments and "x-dead-letter-exchange" not in arguments:
        refuse("spec.arguments.x-dead-letter-routing-key", "a dead-letter routing key without "
               "x-dead-letter-exchange: RabbitMQ refuses the queue")
    return problems


def settings_problems(manifests: list[Manifest]) -> list[Problem]:
    """Every refused value of every ConfigMap's `broker.json`: not a JSON object, or a
    setting its broker would refuse, named by the ConfigMap, the key and the setting."""
    problems = []
    for manifest in manifests:
        data = manifest.data.get("data")
        if manifest.kind != "ConfigMap" or not isinstance(data, dict) or \
                SETTINGS_KEY not in data:
            continue
        line = line_of(data, SETTINGS_KEY) or manifest.line
        where = f"data.{SETTINGS_KEY}"
        settings = json_object(data[SETTINGS_KEY])
        if isinstance(settings, str):
            problems.append(field_problem(manifest.file, line, manifest.title, where, settings))
            continue
        for path, check in SETTINGS_RULES:
            for shown, value in _values(settings, path, ""):
                problem = None if value is None else check(value)
                if problem is not None:
                    problems.append(field_problem(manifest.file, line, manifest.title,
                                                  f"{where} ({shown})", problem))
    return problems


def json_object(value: Any) -> dict[str, Any] | str:
    """The parsed object, or what is wrong with it."""
    if not isinstance(value, str):
        return f"{value!r} is not text (a ConfigMap's data holds strings)"
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as error:
        return f"not valid JSON: {error.msg} (line {error.lineno} column {error.colno})"
    return parsed if isinstance(parsed, dict) else f"not a JSON object: {value[:40]!r}"


def _values(node: Any, path: JsonPath, shown: str) -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every value `path` reaches."""
    if not path:
        yield shown, node
        return
    part, rest = path[0], path[1:]
    if part == "[]":
        for index, item in enumerate(node if isinstance(node, list) else []):
            yield from _values(item, rest, f"{shown}[{index}]")
    elif isinstance(node, dict) and part in node:
        yield from _values(node[part], rest, f"{shown}.{part}" if shown else part)


# -- reading --------------------------------------------------------------------------------

def from_settings(manifest: Manifest, cluster: Cluster, component: Component,
                  template: dict[str, Any]) -> None:
    """`broker.json` of a ConfigMap the workload's pod mounts (checked by
    settings_problems): read as the broker its keys are written for."""
    for name in mounted_config_maps(template):
        config = cluster.find("", "ConfigMap", manifest.namespace, name)
        data = mapping(config.data.get("data")) if config is not None else {}
        settings = json_object(data.get(SETTINGS_KEY))
        if config is None or isinstance(settings, str):
            continue
        line = line_of(data, SETTINGS_KEY) or config.line

        def at(path: str, config: Manifest = config, line: int = line) -> Seen:
            return Seen(config.file, line, config.title, f"data.{SETTINGS_KEY} {path}".strip())

        reader = Reader(cluster, component, f"{config.title} ({SETTINGS_KEY})", at(""))
        if "topic" in settings:
            _kafka_settings(reader, settings, at, manifest.namespace)
        elif "queues" in settings:
            _rabbit_settings(reader, settings, at, manifest.namespace)
        elif "queue" in settings:
            _sqs_settings(reader, settings, at, manifest.namespace)
        reader.attach()
        return


def _kafka_settings(reader: Reader, settings: dict[str, Any], at: Callable[[str], Seen],
                    namespace: str) -> None:
    listed = settings.get("consumer_groups")
    groups = [mapping(g) for g in listed] if isinstance(listed, list) else []
    first = groups[0] if groups else {}
    keys = ("session.timeout.ms", "partition.assignment.strategy")
    others = [str(g.get("group.id")) for g in groups[1:]
              if tuple(g.get(k) for k in keys) != tuple(first.get(k) for k in keys)]
    if others:
        reader.note(f"consumer groups {', '.join(others)} set other session timeouts or "
                    f"assignors than {first.get('group.id')} in {reader.block.origin}; the "
                    "first group's are read (the spec has one `group` per queue)")
    group: dict[str, tuple[Any, Seen]] = {}
    session = as_whole(first.get("session.timeout.ms"))
    if session is not None and session != KAFKA_SESSION_MS:
        group["session_timeout"] = (format_duration(session / 1000),
                                    at("consumer_groups[0].session.timeout.ms"))
    strategy = first.get("partition.assignment.strategy")
    if isinstance(strategy, str) and _rebalance(strategy) == "cooperative":
        group["rebalance"] = ("cooperative", at("consumer_groups[0].partition.assignment"
                                                ".strategy"))
    partitions = as_whole(mapping(settings.get("topic")).get("partitions"))
    if "competing_consumers" in settings:
        # generate sized the topic for a queue without partitions: any idle consumer takes
        # the next message (docs/generate.md); its partitions are not the spec's
        reader.note(f"{at('topic.partitions')} ({partitions}) is a partition per delivery "
                    "in flight, which `generate` writes for a queue without partitions (its "
                    "competing_consumers key): read as a queue without partitions")
    elif partitions is not None:
        put_partitions(reader, partitions, at("topic.partitions"))
    if "partitions" in reader.block.data:
        for field, (value, seen) in group.items():
            reader.put(("group", field), value, seen)
    commit = settings.get("commit")
    guarantee = KAFKA_COMMIT.get(str(commit))
    if guarantee is not None:
        why = "" if guarantee == "at_most_once" else (
            "; effectively once looks the same: that is the consumer deduplicating, in its code")
        reader.put(("delivery", "guarantee"), guarantee, f"{at('commit')}: {commit}{why}")
    if guarantee == "at_least_once":
        _commit_interval(reader, first, at)
    if guarantee != "at_least_once":
        return      # at most once a failed record is skipped: the error handler is not read
    handler = mapping(settings.get("error_handler"))
    attempts = as_whole(handler.get("max_attempts"))
    if attempts is not None:
        _max_deliveries(reader, attempts, at("error_handler.max_attempts"))
    dead = handler.get("dead_letter_topic")
    if isinstance(dead, str) and dead:
        reader.dead_letter = DeadLetter(dead, namespace, at("error_handler.dead_letter_topic"))


def _commit_interval(reader: Reader, group: dict[str, Any], at: Callable[[str], Seen]) -> None:
    """At least once, how often the first group commits offsets: the spec's commit_interval
    of a topic with partitions. A queue without them acknowledges each message, so there
    the interval is not read (noted when the group commits on a timer)."""
    auto = group.get("enable.auto.commit")
    interval = as_whole(group.get("auto.commit.interval.ms"))
    if "partitions" not in reader.block.data:
        if auto is True:
            reader.note(f"{at('consumer_groups[0].auto.commit.interval.ms')}: offsets "
                        "committed on a timer apply to a topic with partitions; the queue "
                        "has none, so it acknowledges each message when processed "
                        "(commit_interval left out)")
        return
    if auto is True and interval is not None:
        reader.put(("delivery", "commit_interval"),
                   format_duration(interval / 1000) if interval else "0s",
                   at("consumer_groups[0].auto.commit.interval.ms"))
    elif auto is False:
        reader.put(("delivery", "commit_interval"), "0s",
                   f"{at('consumer_groups[0].enable.auto.commit')} is false: offsets are "
                   "committed after every record")


def _rebalance(strategy: str) -> str:
    """The assignor Kafka uses is the first of the list (comma-separated in properties)."""
    first = strategy.split(",")[0].strip().rsplit(".", 1)[-1]
    return "cooperative" if first == COOPERATIVE else "eager"


def _max_deliveries(reader: Reader, deliveries: int, seen: Seen | str) -> None:
    if deliveries > MAX_DELIVERIES:
        reader.note(f"{seen}: {deliveries:,} deliveries are more than the spec's "
                    f"max_deliveries holds ({MAX_DELIVERIES:,}); left out (unlimited)")
        return
    reader.put(("delivery", "max_deliveries"), deliveries, seen)


def _rabbit_settings(reader: Reader, settings: dict[str, Any], at: Callable[[str], Seen],
                     namespace: str) -> None:
    """One quorum queue per subscription, with the same arguments (generate writes them
    alike): the first is read."""
    queues = [mapping(q) for q in settings["queues"]] if isinstance(settings["queues"],
                                                                   list) else []
    if not queues:
        return
    first = queues[0]
    differ = [str(q.get("name")) for q in queues[1:]
              if (q.get("arguments"), mapping(q.get("consumer")).get("ack"),
                  mapping(q.get("consumer")).get("on_failure")) != (
                  first.get("arguments"), mapping(first.get("consumer")).get("ack"),
                  mapping(first.get("consumer")).get("on_failure"))]
    if differ:
        reader.note(f"queues {', '.join(differ)} in {reader.block.origin} have other arguments "
                    f"or acknowledgements than {first.get('name')}: the first's are read (the "
                    "spec has one `delivery` per queue)")
    consumer = mapping(first.get("consumer"))
    guarantee = RABBIT_ACK.get(str(consumer.get("ack")))
    if guarantee is not None:
        why = "" if guarantee == "at_most_once" else (
            "; effectively once looks the same: that is the consumer deduplicating, in its code")
        reader.put(("delivery", "guarantee"), guarantee,
                   f"{at('queues[0].consumer.ack')}: {consumer['ack']}{why}")
    failure = consumer.get("on_failure")
    if guarantee == "at_least_once" and RABBIT_FAILURE.get(str(failure)) is not None:
        reader.put(("delivery", "redelivery"), RABBIT_FAILURE[str(failure)],
                   f"{at('queues[0].consumer.on_failure')}: {failure}")
        if failure == RABBIT_NACK:
            reader.note(f"{at('queues[0].consumer.on_failure')}: from RabbitMQ 4.3 a quorum "
                        "queue's delivery limit does not count basic.nack, only basic.reject "
                        "(what generate now writes): a consumer that nacks is redelivered "
                        "without limit there")
    arguments = mapping(first.get("arguments"))
    _rabbit_arguments(reader, arguments, str(arguments.get("x-queue-type", "classic")),
                      lambda key: at(f"queues[0].arguments.{key}"), namespace, route=None)


def _rabbit_arguments(reader: Reader, arguments: dict[str, Any], queue_type: str, at: At,
                      namespace: str, route: Route | None) -> None:
    """x-delivery-limit (a quorum queue counts returns: max_deliveries = limit + 1; without
    one RabbitMQ 4's default applies), the length limit and the dead-letter route. `route`:
    how a queue no `scalesim generate` wrote routes through the files' exchanges and
    bindings; None for broker.json, where −1 is how generate writes no limit and the
    dead-letter exchange is the dead-letter queue's own (fanout, named after it)."""
    limit = as_whole(arguments.get("x-delivery-limit"))
    if queue_type != "quorum":
        if limit is not None:
            reader.note(f"{at('x-delivery-limit')}: only a quorum queue has a delivery limit "
                        f"(this is a {queue_type} queue); not read")
    elif limit is None:
        reader.put(("delivery", "max_deliveries"), QUORUM_DEFAULT_LIMIT + 1,
                   f"{reader.block.seen}: a quorum queue without x-delivery-limit: RabbitMQ "
                   f"4's default of {QUORUM_DEFAULT_LIMIT} returns, then it is dead-lettered or "
                   "dropped (before 4.0: no limit)")
    elif limit < 0 and route is not None:
        reader.note(f"{at('x-delivery-limit')} is {limit}: no delivery limit")
    elif limit >= 0:
        _max_deliveries(reader, limit + 1, f"{at('x-delivery-limit')} = {limit} returns: "
                        f"{limit + 1} deliveries (RabbitMQ counts returns, not the first "
                        "delivery)")
    _rabbit_consumer_timeout(reader, arguments, at)
    _rabbit_length(reader, arguments, queue_type, at)
    _rabbit_not_carried(reader, arguments, at)
    _rabbit_dead_letter(reader, arguments, at, namespace, route)


def _rabbit_consumer_timeout(reader: Reader, arguments: dict[str, Any], at: At) -> None:
    """x-consumer-timeout (ms, RabbitMQ 3.12 on) is how long a delivery may go unacknowledged
    before RabbitMQ takes it back: the spec's visibility_timeout, which `generate` writes
    there."""
    timeout = as_whole(arguments.get("x-consumer-timeout"))
    if timeout is None:
        return
    if timeout <= 0:
        reader.note(f"{at('x-consumer-timeout')} is {timeout}: the spec's visibility_timeout "
                    "must be above 0; left out (30s)")
        return
    reader.put(("delivery", "visibility_timeout"), f"{timeout}ms",
               f"{at('x-consumer-timeout')} = {timeout} ms: how long a delivery may go "
               "unacknowledged before RabbitMQ takes it back")


def _rabbit_length(reader: Reader, arguments: dict[str, Any], queue_type: str,
                   at: At) -> None:
    """x-max-length with x-overflow reject-publish is the spec's `capacity`: a publish to a
    full queue is refused. RabbitMQ counts ready messages only, as the spec's buffer does
    (rabbit_amqqueue_process.erl will_overflow: ready + 1 > max-length refuses; rabbit_fifo.erl
    is_over_limit). drop-head, RabbitMQ's default, drops (or dead-letters) the oldest
    instead, which the spec has no field for."""
    length = as_whole(arguments.get("x-max-length"))
    if length is None:
        return
    overflow = str(arguments.get("x-overflow") or "drop-head")
    said = (f"overflow {overflow} ({at('x-overflow')})" if "x-overflow" in arguments
            else "no overflow set: drop-head, RabbitMQ's default")
    if overflow == "reject-publish-dlx" and queue_type == "quorum":
        reader.note(f"{said}: a quorum queue does not take reject-publish-dlx and drops the "
                    "oldest message instead (drop-head)")
        overflow = "drop-head"
    if overflow == "drop-head":
        reader.note(f"{at('x-max-length')} = {length}: {said}; RabbitMQ drops (or "
                    "dead-letters) the oldest message when full, where the spec's capacity "
                    "refuses the newest: not carried (no capacity)")
    elif not 1 <= length <= MAX_QUEUE:
        reader.note(f"{at('x-max-length')} = {length}: the spec's capacity is 1 to "
                    f"{MAX_QUEUE:,} messages; left out")
    else:
        how = {"reject-publish": "", "reject-publish-dlx": "; RabbitMQ also dead-letters "
               "the refused message, which the simulation does not"}[overflow]
        soft = ("; a quorum queue takes publishes again once below 80 % of it (rabbit_fifo "
                "LOW_LIMIT)") if queue_type == "quorum" else ""
        reader.put(("capacity",), length, f"{at('x-max-length')} = {length} ready messages, "
                   f"{said}: a publish to a full queue is refused (a publisher without "
                   f"confirms is not told){how}{soft}")


# Keys RabbitMQ applies that the spec has no field for (messages never expire in the
# simulation, and have no size); noted.
NOT_CARRIED = {"x-message-ttl": "messages expire after it (then dead-lettered): the "
                                "simulation keeps them until consumed",
               "x-max-length-bytes": "messages have no size in the simulation",
               "x-expires": "the queue is deleted after being unused that long",
               "x-dead-letter-strategy": "at-least-once dead-lettering (the simulation "
                                         "moves a message to its dead letter at once)"}


def _rabbit_not_carried(reader: Reader, arguments: dict[str, Any], at: At) -> None:
    for key, why in NOT_CARRIED.items():
        if key in arguments:
            reader.note(f"{at(key)} = {arguments[key]}: {why}; not carried")


def _rabbit_dead_letter(reader: Reader, arguments: dict[str, Any], at: At, namespace: str,
                        route: Route | None) -> None:
    exchange = arguments.get("x-dead-letter-exchange")
    key = arguments.get("x-dead-letter-routing-key")
    if exchange is None:
        if key is not None:
            reader.note(f"{at('x-dead-letter-routing-key')} without a dead-letter exchange: "
                        "RabbitMQ does not dead-letter (rabbit_quorum_queue dlh); not read")
        return
    if exchange == "":
        if not isinstance(key, str) or not key:
            reader.note(f"{at('x-dead-letter-exchange')}: the default exchange without "
                        "x-dead-letter-routing-key routes a dead letter by its own routing "
                        "key, not to a queue the files name; dead_letter left out")
            return
        reader.dead_letter = DeadLetter(key, namespace, f"{at('x-dead-letter-routing-key')} "
                                        "(the default exchange routes it to that queue)")
        return
    if route is None:
        reader.dead_letter = DeadLetter(str(exchange), namespace,
                                        f"{at('x-dead-letter-exchange')} (the dead-letter "
                                        "queue's fanout exchange, named after it)")
        return
    queues, why = route(str(exchange), key if isinstance(key, str) and key else None)
    if why:
        reader.note(f"{at('x-dead-letter-exchange')}: dead letters go to exchange "
                    f"'{exchange}'; {why}; dead_letter left out")
        return
    reader.dead_letter = DeadLetter(queues[0], namespace, f"{at('x-dead-letter-exchange')}: "
                                    f"exchange {exchange} routes dead letters "
                                    + (f"of routing key {key!r} " if key else "")
                                    + f"to queue {queues[0]} (its Bindings)")
    if queues[1:]:
        reader.note(f"exchange {exchange} also routes its dead letters to "
                    f"{', '.join(queues[1:])}: the spec's dead_letter is one queue, "
                    f"{queues[0]} is kept")


def _sqs_settings(reader: Reader, settings: dict[str, Any], at: Callable[[str], Seen],
                  namespace: str) -> None:
    attributes = mapping(mapping(settings["queue"]).get("Attributes"))
    _promote(reader.component, "sqs", reader.block.seen, "holds SQS queue attributes")
    _sqs(reader, as_whole(attributes.get("VisibilityTimeout"), text=True),
         at("queue.Attributes.VisibilityTimeout"),
         _redrive(attributes.get("RedrivePolicy")), at("queue.Attributes.RedrivePolicy"),
         namespace, stand_in="sqs")
    _sqs_fifo(reader, {key: (attributes.get(key), at(f"queue.Attributes.{key}"))
                       for key in ACK_FIFO})


def _sqs(reader: Reader, visibility: int | None, visibility_seen: Seen | str,
         redrive: dict[str, Any] | None, redrive_seen: Seen | str, namespace: str,
         stand_in: str | None = None) -> None:
    reader.put(("delivery", "guarantee"), "at_least_once", AT_LEAST_ONCE_SQS)
    if visibility == 0:
        reader.note(f"{visibility_seen} is 0 (a received message is visible again at once): "
                    "the spec's visibility_timeout must be above 0; left out (30s)")
    elif visibility is not None:
        reader.put(("delivery", "visibility_timeout"), f"{visibility}s", visibility_seen)
    if redrive is None:
        return
    receives = as_whole(redrive.get("maxReceiveCount"), text=True)
    if receives is not None:
        _max_deliveries(reader, receives, f"{redrive_seen} maxReceiveCount (SQS counts "
                        "receives: deliveries)")
    arn = redrive.get("deadLetterTargetArn")
    if isinstance(arn, str) and ":" in arn:
        reader.dead_letter = DeadLetter(arn.rsplit(":", 1)[1], namespace,
                                        f"{redrive_seen} deadLetterTargetArn {arn}", stand_in)


def _sqs_fifo(reader: Reader, values: dict[str, tuple[Any, Seen | str]]) -> None:
    """A FIFO queue's order and deduplication, which the spec has no field for: noted."""
    fifo, fifo_seen = values["FifoQueue"]
    if str(fifo).strip().lower() != "true":
        return
    content, content_seen = values["ContentBasedDeduplication"]
    how = "by a SHA-256 of the body (ContentBasedDeduplication, " + str(content_seen) + ")" \
        if str(content).strip().lower() == "true" else \
        "by the MessageDeduplicationId each publisher sends"
    reader.note(f"{fifo_seen}: a FIFO queue, simulated as a standard one: its order per "
                "message group is not carried (the spec has no message groups), nor its "
                "deduplication: SQS drops a message sent again within its fixed 5-minute "
                f"interval, {how}, which deduplicates publishes; the spec's dedup_window is "
                "an effectively-once consumer's, which skips redeliveries, and a FIFO queue "
                "still redelivers a message not deleted within its visibility timeout (the "
                "guarantee stays at least once)")


def _promote(component: Component, tech: str, seen: Seen | str, why: str) -> None:
    """A component whose image says nothing (SQS is managed: generate runs a stand-in of
    the app's image) is a queue of `tech` when a broker's settings describe it."""
    if component.kind is None and not component.guess.from_image:
        component.kind = Fact(Kind.QUEUE, f"{seen} {why}")
        component.tech = component.tech or tech


# -- topic and queue objects ----------------------------------------------------------------

def kafka_topic(manifest: Manifest, cluster: Cluster) -> None:
    """Strimzi's KafkaTopic: its partitions (Strimzi: "when absent this will default to the
    broker configuration for num.partitions": the Kafka's config when it is in the files)."""
    spec = manifest.spec
    name = spec.get("topicName") if isinstance(spec.get("topicName"), str) else manifest.name
    labels = mapping(manifest.data["metadata"].get("labels"))
    cluster_name = labels.get(CLUSTER_LABEL)
    brokers = [f"{cluster_name}-kafka-bootstrap", str(cluster_name)] if cluster_name else []
    component = queue_for(cluster, manifest, str(name), brokers, "kafka")
    reader = object_reader(manifest, cluster, component)
    partitions = as_whole(spec.get("partitions"))
    default = kafka_default(cluster, manifest.namespace, str(cluster_name)) \
        if cluster_name else None
    if partitions is not None:
        put_partitions(reader, partitions, manifest.seen("spec.partitions"))
    elif default is not None:
        put_partitions(reader, default[0], f"{manifest.title} sets no spec.partitions: "
                       f"{default[1]}")
    else:
        reader.note(f"{manifest.title} sets no spec.partitions: the broker's num.partitions "
                    "decides, which the files do not hold; partitions left out")
    if spec.get("replicas") is not None:
        reader.note(f"{manifest.seen('spec.replicas')}: the topic's replication factor is not "
                    "simulated (a spec queue does not replicate)")
    config = mapping(spec.get("config"))
    if config:
        reader.note(f"{manifest.seen('spec.config')}: topic configuration "
                    f"({', '.join(sorted(map(str, config)))}) is not simulated; a consumer "
                    "group's settings are the clients', not the topic's")
    reader.attach()


def rabbitmq_queue(manifest: Manifest, cluster: Cluster) -> None:
    """The messaging-topology operator's Queue, with what RabbitMQ applies to it
    (k8s/topology.py): its type, its arguments and the policies that match it — the delivery
    limit, the length limit and the dead-letter route through the files' exchanges; a
    stream is a log of one partition (`read_stream_queue`)."""
    spec = manifest.spec
    name = str(spec.get("name") if isinstance(spec.get("name"), str) else manifest.name)
    if super_stream_partition(manifest, cluster):
        return
    where = topology.scope(manifest)
    component = queue_for(cluster, manifest, name, rabbit_brokers(manifest, where),
                          "rabbitmq")
    reader = object_reader(manifest, cluster, component)
    declared = topology.queue_type(manifest, cluster.manifests,
                                   rabbitmq_default_type(cluster.manifests, where[0]))
    queue_type, type_seen = declared.kind, declared.said
    if declared.fell_back:
        reader.note(f"{manifest.title}: {type_seen} (rabbit_amqqueue augment_declare_args)")
    settings, notes = topology.effective(manifest, cluster, name, queue_type)
    for note in notes:
        reader.note(note)
    note_federation(reader, settings)
    if queue_type == "stream":
        cluster.streams[component.key, name] = (f"{manifest.title} is a stream ({type_seen})",
                                                True)
        read_stream_queue(reader, settings, type_seen)
        reader.attach()
        return
    arguments = {f"x-{key}": setting.value for key, setting in settings.items()}
    if queue_type == "quorum" or "x-dead-letter-exchange" in arguments:
        # a delivery limit, or dead letters: what a consumer acknowledging by hand meets
        reader.put(("delivery", "guarantee"), "at_least_once", AT_LEAST_ONCE_RABBIT)
        reader.put(("delivery", "redelivery"), "requeue", REQUEUE_RABBIT)
    _rabbit_arguments(reader, arguments, queue_type, lambda key: settings[key[2:]].said(),
                      manifest.namespace,
                      lambda exchange, key: topology.routes(cluster, exchange, key, where))
    reader.attach()


def sqs_queue(manifest: Manifest, cluster: Cluster) -> None:
    """AWS Controllers for Kubernetes' SQS Queue (every attribute a string)."""
    spec = manifest.spec
    name = spec.get("queueName") if isinstance(spec.get("queueName"), str) else manifest.name
    component = queue_for(cluster, manifest, str(name), [], "sqs")
    _promote(component, "sqs", f"from {manifest.file}:{manifest.line}:",
             f"{manifest.title} declares it")
    reader = object_reader(manifest, cluster, component)
    visibility = spec.get("visibilityTimeout")
    policy = spec.get("redrivePolicy")
    _sqs(reader, as_whole(visibility.strip(), text=True) if isinstance(visibility, str)
         else None, manifest.seen("spec.visibilityTimeout"), _redrive(policy),
         manifest.seen("spec.redrivePolicy"), manifest.namespace)
    _sqs_fifo(reader, {key: (spec.get(field), manifest.seen(f"spec.{field}"))
                       for key, field in ACK_FIFO.items()})
    if str(spec.get("delaySeconds", "0")).strip() not in ("0", ""):
        reader.note(f"{manifest.seen('spec.delaySeconds')}: the delivery delay is not "
                    "simulated")
    reader.attach()


def finish(cluster: Cluster) -> None:
    """Each dead-letter queue a broker names, looked up once every object is read: the
    queue a topic or queue object of that name describes, else the component of that name
    (a stand-in whose image says nothing becomes a queue of its broker's tech); one the files
    do not have is noted and left out."""
    draft = cluster.draft
    for key, component in list(draft.components.items()):
        dead, block = component.dead_letter, component.broker
        if dead is None or block is None:
            continue
        target = cluster.queues.get((dead.namespace, dead.name)) or next(
            (k for k in (f"{dead.namespace}/{dead.name}", draft.resolve(dead.name,
                                                                        dead.namespace))
             if k in draft.components), None)
        if target is None:
            draft.note(f"{component.name}: its dead-letter queue {dead.name} ({dead.seen}) is "
                       "not in the files; dead_letter left out")
            continue
        if target == key:
            draft.note(f"{component.name}: its dead-letter queue {dead.name} ({dead.seen}) is "
                       "this component itself (one broker holds both queues; a spec component "
                       "is one queue); dead_letter left out")
            continue
        block.put(("delivery", "dead_letter"), target, dead.seen)
        block.refs.append(("delivery", "dead_letter"))
        if dead.stand_in:
            _promote(draft.components[target], dead.stand_in, dead.seen,
                     f"names it the dead-letter queue of {component.name}")
    _unused_policies(cluster)


def _unused_policies(cluster: Cluster) -> None:
    for policy in topology.unused_policies(cluster):
        cluster.draft.note(f"{policy.file}:{policy.line}: {policy.title} applies to no Queue "
                           "of the files (its pattern, applyTo, vhost and cluster, and the "
                           "keys each queue type takes); not read")


KINDS: Mappers = {("kafka.strimzi.io", "KafkaTopic"): kafka_topic,
                  ("rabbitmq.com", "Queue"): rabbitmq_queue,
                  ("sqs.services.k8s.aws", "Queue"): sqs_queue}
