"""What RabbitMQ applies to a queue the messaging-topology operator declares: its arguments,
the Policy and OperatorPolicy that match it, its vhost's default queue type, and where the
exchanges and bindings of the files route its dead letters.

RabbitMQ's rules, as its source has them (rabbitmq/rabbitmq-server at commit
5b09e556da53b8473f26843a2493d8460ced8c8e, deps/rabbit/src):
- rabbit_policy.erl `match_all`/`matches`: a policy matches a queue of its vhost whose name
  its `pattern` finds (re:run, not anchored), whose type its `apply-to` names (`all` and
  `queues` any type; `classic_queues`, `quorum_queues`, `streams` one), and whose type takes
  every key of its definition (rabbit_queue_type:is_policy_applicable: a policy holding a
  key of the type's `unsupported_policies` does not match at all). Of the matching
  policies the one of the greatest priority applies, one per queue; lists:sort keeps the
  store's order between equal priorities, which the files do not show. Operator policies
  match the same way, and one of them applies too;
- rabbit_policies.erl `merge_policy_value`: where the policy and the operator policy both
  set a key, the lower `message-ttl`, `max-length`, `max-length-bytes`, `expires`, the
  lower `delivery-limit` unless one is negative (no limit: then the higher), the operator
  policy's `overflow`;
- rabbit_queue_type_util.erl `args_policy_lookup`: where the queue's argument `x-<key>` and
  the policies both set a key, the queue type resolves them. Classic queues
  (rabbit_amqqueue_process.erl `process_args_policy`): the argument wins for
  `dead-letter-exchange`, `dead-letter-routing-key` and `overflow`, the lower value for
  `message-ttl`, `max-length`, `max-length-bytes`, `expires`. Quorum queues
  (rabbit_quorum_queue.erl): the argument wins for the dead-letter keys, the **policy** for
  `overflow` (`policy_has_precedence`), the lower for the lengths and TTLs, and
  `delivery-limit` as `merge_policy_value` (`resolve_delivery_limit`); a quorum queue takes
  no `reject-publish-dlx` (`overflow/3`: drop-head, with a warning). Streams
  (rabbit_stream_queue.erl `update_stream_conf`, `initial_cluster_size`): the **policy**
  wins for every key a stream reads (`policy_precedence`);
- the queue type: `x-queue-type` (the operator sends `spec.type` as it), else the vhost's
  default queue type, else the node's `default_queue_type` (rabbit_amqqueue.erl
  `maybe_inject_default_queue_type_shortcut_into_args`, rabbit_vhost.erl), else classic;
  a default the queue cannot take (a quorum queue or a stream must be durable and not
  auto-deleted: their `is_compatible`) gives way to classic (rabbit_amqqueue.erl
  `augment_declare_args`, `rabbit_queue_type:fallback`);
- a stream refuses a declaration holding an argument only the other types take
  (rabbit_amqqueue.erl `check_declare_arguments`, each type's `queue_arguments`), and a
  queue that is not durable or is auto-deleted (rabbit_queue_type_util.erl
  `check_non_durable`, `check_auto_delete`);
- dead letters are published to the dead-letter exchange with `dead-letter-routing-key`,
  else the message's own routing keys (rabbit_dead_letter.erl); the exchange routes them
  as it routes any message: a `fanout` to every binding, a `direct` to the bindings of that
  key, a `topic` to the bindings whose pattern (`*` one word, `#` any) takes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from scalesim.importers.checks import as_whole
from scalesim.importers.k8s.objects import Cluster, Manifest, mapping
from scalesim.importers.sources import Seen

GROUP = "rabbitmq.com"
POLICY, OPERATOR_POLICY = "Policy", "OperatorPolicy"
QUEUE_TYPES = ("classic", "quorum", "stream")
# What each queue type refuses in a policy (its `capabilities()` unsupported_policies, at
# the commit above: rabbit_classic_queue.erl, rabbit_quorum_queue.erl,
# rabbit_stream_queue.erl): such a policy does not match the queue at all.
UNSUPPORTED: dict[str, frozenset[str]] = {
    "classic": frozenset({"max-age", "stream-max-segment-size-bytes", "initial-cluster-size",
                          "delivery-limit", "dead-letter-strategy", "max-in-memory-length",
                          "max-in-memory-bytes", "target-group-size", "selector-fields",
                          "selector-field-max-bytes"}),
    "quorum": frozenset({"max-priority", "queue-mode", "ha-mode", "ha-params", "ha-sync-mode",
                         "ha-promote-on-shutdown", "ha-promote-on-failure",
                         "queue-master-locator", "max-age", "stream-max-segment-size-bytes",
                         "initial-cluster-size", "selector-fields",
                         "selector-field-max-bytes"}),
    "stream": frozenset({"expires", "message-ttl", "dead-letter-exchange",
                         "dead-letter-routing-key", "max-length", "max-in-memory-length",
                         "max-in-memory-bytes", "max-priority", "overflow", "queue-mode",
                         "delivery-limit", "ha-mode", "ha-params", "ha-sync-mode",
                         "ha-promote-on-shutdown", "ha-promote-on-failure",
                         "queue-master-locator", "dead-letter-strategy", "target-group-size",
                         "selector-fields", "selector-field-max-bytes"})}
# The queue arguments each type takes (`capabilities()` queue_arguments). rabbit_amqqueue
# `check_declare_arguments` refuses the queue (precondition_failed, "invalid arg … of queue
# type …") when it holds an argument another type takes and its own does not.
CLASSIC_ARGUMENTS = frozenset({
    "x-expires", "x-message-ttl", "x-dead-letter-exchange", "x-dead-letter-routing-key",
    "x-max-length", "x-max-length-bytes", "x-max-priority", "x-overflow", "x-queue-mode",
    "x-queue-version", "x-single-active-consumer", "x-queue-type", "x-queue-master-locator",
    "x-queue-leader-locator"})
QUORUM_ARGUMENTS = frozenset({
    "x-dead-letter-exchange", "x-dead-letter-routing-key", "x-dead-letter-strategy",
    "x-expires", "x-max-length", "x-max-length-bytes", "x-max-in-memory-length",
    "x-max-in-memory-bytes", "x-overflow", "x-single-active-consumer", "x-queue-type",
    "x-quorum-initial-group-size", "x-member-placement-tag", "x-delivery-limit",
    "x-message-ttl", "x-queue-leader-locator", "x-consumer-disconnected-timeout",
    "x-consumer-timeout", "x-delayed-retry-type", "x-delayed-retry-min",
    "x-delayed-retry-max"})
STREAM_ARGUMENTS = frozenset({
    "x-max-length-bytes", "x-queue-type", "x-max-age", "x-stream-max-segment-size-bytes",
    "x-stream-filter-size-bytes", "x-initial-cluster-size", "x-queue-leader-locator"})
STREAM_REFUSED = (CLASSIC_ARGUMENTS | QUORUM_ARGUMENTS) - STREAM_ARGUMENTS
# Queue types a queue that is not durable, or is auto-deleted, cannot have
# (rabbit_quorum_queue and rabbit_stream_queue `is_compatible`).
REPLICATED = ("quorum", "stream")
APPLY_TO = {"classic": "classic_queues", "quorum": "quorum_queues", "stream": "streams"}
LOWER = frozenset({"message-ttl", "max-length", "max-length-bytes", "expires"})
ARGUMENT_WINS = frozenset({"dead-letter-exchange", "dead-letter-routing-key",
                           "dead-letter-strategy"})
# Exchanges every vhost has (the AMQP 0-9-1 predeclared ones) and their types.
PREDECLARED = {"amq.direct": "direct", "amq.fanout": "fanout", "amq.topic": "topic",
               "amq.headers": "headers", "amq.match": "headers"}

ClusterRef = tuple[str, str, str]       # ("name" or "secret", namespace, name)
Scope = tuple[ClusterRef, str]          # the RabbitMQ cluster an object names, its vhost


@dataclass(frozen=True)
class Setting:
    """One key's value as RabbitMQ applies it to a queue, where it is written and, when
    two sources set it, how RabbitMQ chose."""

    value: Any
    seen: Seen
    how: str = ""

    def said(self) -> str:
        return f"{self.seen}{'; ' + self.how if self.how else ''}"


def scope(manifest: Manifest) -> Scope:
    """The cluster a topology object names (`rabbitmqClusterReference`: a RabbitmqCluster,
    in the object's namespace unless it says another, or a connection Secret) and its
    vhost (default `/`)."""
    spec = manifest.spec
    reference = mapping(spec.get("rabbitmqClusterReference"))
    name = reference.get("name")
    if isinstance(name, str) and name:
        space = reference.get("namespace")
        ref: ClusterRef = ("name", str(space) if space else manifest.namespace, name)
    else:
        secret = mapping(reference.get("connectionSecret")).get("name")
        ref = ("secret", manifest.namespace, str(secret))
    vhost = spec.get("vhost")
    return ref, vhost if isinstance(vhost, str) and vhost else "/"


def _in(manifests: Sequence[Manifest], kind: str, where: Scope) -> Iterator[Manifest]:
    return (m for m in manifests if (m.group, m.kind) == (GROUP, kind) and scope(m) == where)


# -- the queue's type -------------------------------------------------------------------------

def durable(queue: Manifest) -> bool:
    """`spec.durable`; unset, true: the operator's defaulting webhook sets it."""
    value = queue.spec.get("durable")
    return value if isinstance(value, bool) else True


@dataclass(frozen=True)
class Declared:
    """A queue's type as RabbitMQ declares it: the type, where it is said, whether the
    queue names it itself, and whether a default it cannot take gave way to classic."""

    kind: str
    said: str
    named: bool = False
    fell_back: bool = False


def queue_type(queue: Manifest, manifests: Sequence[Manifest],
               node_default: tuple[str, Seen] | None) -> Declared:
    """The queue's type: `spec.type`, else `x-queue-type`, else its Vhost's
    `defaultQueueType`, else `node_default` (the RabbitmqCluster's default_queue_type),
    else classic. A default a quorum queue or a stream cannot take (a queue not durable,
    or auto-deleted) gives way to classic, RabbitMQ's fallback."""
    spec = queue.spec
    for path, value in (("spec.type", spec.get("type")),
                        ("spec.arguments.x-queue-type",
                         mapping(spec.get("arguments")).get("x-queue-type"))):
        if isinstance(value, str) and value:
            return Declared(value, str(queue.seen(path)), named=True)
    where = scope(queue)
    vhost = next((v for v in _in(manifests, "Vhost", (where[0], "/"))
                  if v.spec.get("name") == where[1]), None)
    chosen = vhost.spec.get("defaultQueueType") if vhost is not None else None
    if vhost is not None and isinstance(chosen, str) and chosen:
        default = Declared(chosen, f"{vhost.seen('spec.defaultQueueType')} (the vhost's "
                           "default)")
    elif node_default is not None:
        default = Declared(node_default[0], f"{node_default[1]} (the broker's default)")
    else:
        return Declared("classic", "no type given: classic, RabbitMQ's default")
    if default.kind in REPLICATED and (not durable(queue)
                                       or queue.spec.get("autoDelete") is True):
        return Declared("classic", f"{default.said} is {default.kind}, which a queue that is "
                        "not durable or is auto-deleted cannot be: classic, RabbitMQ's "
                        "fallback", fell_back=True)
    return default


# -- policies ---------------------------------------------------------------------------------

def _matches(policy: Manifest, name: str, kind: str, where: Scope) -> bool:
    spec = policy.spec
    definition = mapping(spec.get("definition"))
    pattern = spec.get("pattern")
    default = "queues" if policy.kind == OPERATOR_POLICY else "all"
    apply_to = spec.get("applyTo") or default
    return scope(policy) == where and isinstance(pattern, str) and \
        apply_to in ("all", "queues", APPLY_TO.get(kind)) and \
        not UNSUPPORTED.get(kind, frozenset()) & set(definition) and \
        re.search(pattern, name) is not None


def matching(cluster: Cluster, kind: str, queue_name: str, queue_kind: str,
             where: Scope) -> list[Manifest]:
    """The policies (of `kind`) that match the queue, the one RabbitMQ applies first: the
    greatest priority, then the order of the files (RabbitMQ's store order between equal
    priorities is not in the files)."""
    found = [p for p in _in(cluster.manifests, kind, where)
             if _matches(p, queue_name, queue_kind, where)]
    return sorted(found, key=lambda p: -(as_whole(p.spec.get("priority")) or 0))


def _definition(policy: Manifest) -> dict[str, Setting]:
    definition = mapping(policy.spec.get("definition"))
    return {str(key): Setting(value, policy.seen_in(definition, key,
                                                    f"spec.definition.{key}"))
            for key, value in definition.items() if value is not None}   # null: not set


def _merge_operator(key: str, policy: Setting, operator: Setting) -> Setting:
    """rabbit_policies:merge_policy_value."""
    if key == "overflow":
        return Setting(operator.value, operator.seen, f"the OperatorPolicy's wins over "
                       f"{policy.seen.what}'s {policy.value!r}")
    return _lower(key, policy, operator, f"{operator.seen.what}'s")


def _resolve(key: str, queue_kind: str, policy: Setting, argument: Setting) -> Setting:
    """args_policy_lookup's resolution, per queue type: a stream takes the policy's value
    of every key it reads (rabbit_stream_queue `policy_precedence`)."""
    if queue_kind == "stream":
        return Setting(policy.value, policy.seen, (f"{policy.how}; " if policy.how else "")
                       + f"a stream takes the policy's over its argument {argument.value!r}")
    if key in ARGUMENT_WINS or (key == "overflow" and queue_kind != "quorum"):
        return Setting(argument.value, argument.seen, f"the queue argument wins over "
                       f"{policy.seen.what}'s {policy.value!r}")
    if key == "overflow":
        return Setting(policy.value, policy.seen, "a quorum queue takes the policy's over "
                       f"its argument {argument.value!r}")
    return _lower(key, policy, argument, "the queue argument's")


def _lower(key: str, policy: Setting, other: Setting, whose: str) -> Setting:
    """The lower of two values; of two delivery limits, a negative one is none, so the other
    applies (rabbit_policies:merge_policy_value, resolve_delivery_limit)."""
    if key == "delivery-limit" and min(policy.value, other.value) < 0:
        chosen = max((policy, other), key=lambda s: s.value)
        return Setting(chosen.value, chosen.seen, "a negative limit is none: the other one "
                       "applies")
    chosen = min((policy, other), key=lambda s: s.value)
    return Setting(chosen.value, chosen.seen, f"the lower of {policy.seen.what}'s "
                   f"{policy.value} and {whose} {other.value}")


MERGED = LOWER | {"delivery-limit", "overflow"}      # keys with a rule for two sources


def effective(queue: Manifest, cluster: Cluster, name: str, queue_kind: str
              ) -> tuple[dict[str, Setting], list[str]]:
    """Every key (without `x-`) RabbitMQ applies to the queue, from its arguments, the
    Policy and the OperatorPolicy that apply, and notes on which policies did not."""
    where = scope(queue)
    arguments = mapping(queue.spec.get("arguments"))
    settings = {str(key)[2:]: Setting(value, queue.seen_in(arguments, key,
                                                           f"spec.arguments.{key}"))
                for key, value in arguments.items()
                if str(key).startswith("x-") and value is not None}
    notes: list[str] = []
    applied: dict[str, Setting] = {}
    for kind in (POLICY, OPERATOR_POLICY):
        found = matching(cluster, kind, name, queue_kind, where)
        cluster.applied.update((p.file, p.line) for p in found)
        if not found:
            continue
        first, rest = found[0], found[1:]
        if rest:
            tied = [p.name for p in rest if p.spec.get("priority") == first.spec.get("priority")]
            notes.append(f"{kind} {first.name} applies to queue {name} (the greatest "
                         "priority, one per queue); " + ", ".join(p.name for p in rest)
                         + " match too and do not apply"
                         + (f" ({', '.join(tied)} of the same priority: RabbitMQ's order "
                            "among them is not in the files, the first in the files is "
                            "taken)" if tied else ""))
        for key, setting in _definition(first).items():
            if key in applied and kind == OPERATOR_POLICY and key in MERGED:
                applied[key] = _merge_operator(key, applied[key], setting)
            elif key not in applied:
                applied[key] = setting
    for key, setting in applied.items():
        if key in settings and (key in MERGED | ARGUMENT_WINS or queue_kind == "stream"):
            settings[key] = _resolve(key, queue_kind, setting, settings[key])
        elif key not in settings:
            settings[key] = setting
    return settings, notes


def unused_policies(cluster: Cluster) -> Iterator[Manifest]:
    """The policies that matched no queue of the files."""
    return (m for m in cluster.manifests if (m.group, m.kind) in (
        (GROUP, POLICY), (GROUP, OPERATOR_POLICY)) and (m.file, m.line) not in cluster.applied)


# -- exchanges and bindings -------------------------------------------------------------------

def _topic_matches(pattern: str, key: str) -> bool:
    """AMQP topic matching: words split by `.`, `*` one word, `#` zero or more."""
    def match(words: list[str], keys: list[str]) -> bool:
        if not words:
            return not keys
        if words[0] == "#":
            return any(match(words[1:], keys[i:]) for i in range(len(keys) + 1))
        return bool(keys) and words[0] in ("*", keys[0]) and match(words[1:], keys[1:])
    return match(pattern.split("."), key.split("."))


def _exchange_type(cluster: Cluster, name: str, where: Scope) -> str | None:
    found = next((m for m in _in(cluster.manifests, "Exchange", where)
                  if m.spec.get("name") == name), None)
    if found is not None:
        kind = found.spec.get("type")
        return kind if isinstance(kind, str) and kind else "direct"   # the CRD's default
    return PREDECLARED.get(name)


def routes(cluster: Cluster, exchange: str, key: str | None, where: Scope,
           seen: frozenset[str] = frozenset()) -> tuple[list[str], str]:
    """The queues `exchange` routes a message of routing key `key` to (None: any key, the
    message's own), through exchange-to-exchange bindings too; or why it cannot be said."""
    kind = _exchange_type(cluster, exchange, where)
    if kind is None:
        return [], f"exchange {exchange} is not in the files (no Exchange object)"
    if kind not in ("fanout", "direct", "topic"):
        return [], f"exchange {exchange} is a {kind} exchange, which routes by headers " \
                   "or a plugin's rule, not by what the files say"
    queues: list[str] = []
    for binding in _in(cluster.manifests, "Binding", where):
        spec = binding.spec
        if spec.get("source") != exchange or not isinstance(spec.get("destination"), str):
            continue
        routing = spec.get("routingKey")
        bound = routing if isinstance(routing, str) else ""
        if kind != "fanout" and key is None and not (kind == "topic" and bound == "#"):
            return [], (f"exchange {exchange} is a {kind} exchange and no "
                        "dead-letter-routing-key is set: dead letters keep the routing key "
                        "they were published with, which is in the publisher's code")
        if (kind == "direct" and bound != key) or (
                kind == "topic" and key is not None and not _topic_matches(bound, key)):
            continue
        destination = spec["destination"]
        if spec.get("destinationType") == "exchange" and destination not in seen:
            more, why = routes(cluster, destination, key, where, seen | {exchange})
            if why:
                return [], why
            queues += more
        elif spec.get("destinationType") != "exchange":
            queues.append(destination)
    if not queues:
        return [], f"no Binding of exchange {exchange} routes " + (
            f"routing key {key!r}" if key is not None else "its messages") + " to a queue"
    return list(dict.fromkeys(queues)), ""
