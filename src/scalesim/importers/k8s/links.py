"""RabbitMQ's links between brokers and queues that the messaging-topology operator declares:
a `Federation` (a federation upstream) and a `Shovel` (a dynamic shovel). Both move messages
from one queue or exchange to another, on the same broker or another one. Neither is
carried: each is noted, naming the object, what it moves and why.

Why a note and not a mapping:
- where each end is lives in the Secret `spec.uriSecret` names (`uri`; a shovel's `srcUri`
  and `destUri`), with the credentials; import reads no Secret, so which broker a queue
  name belongs to is not in the files;
- the spec has no link between queues: a subscription delivers to an operation of a
  component, and a shovel or federation link runs inside the broker, not in a component of
  the files. What the note says to add instead (a component consuming the source and
  publishing to the destination) is the user's to write.

The facts, from rabbitmq-server at commit 5b09e556da53b8473f26843a2493d8460ced8c8e and the
messaging-topology operator (api/v1beta1 shovel_types.go, federation_types.go;
internal/shovel_definition.go):
- a shovel consumes `srcQueue`, or with `srcExchange` a queue it declares and binds to it
  with `srcExchangeKey` (rabbit_amqp091_shovel `parse_source`); it publishes to `destQueue`
  (through the default exchange), else to `destExchange` and `destExchangeKey`, else with
  each message's own exchange and routing key (`parse_dest`, `fields_fun`). It takes at
  most `srcPrefetchCount` (else `prefetchCount`, else 1000) unacknowledged messages; its
  `ackMode` (default `on-confirm`) acknowledges at the source once the destination
  confirms, `on-publish` once published, `no-ack` on delivery. `srcDeleteAfter` (else
  `deleteAfter`): `never` (the default), `queue-length` (the messages there when it starts)
  or a count, after which the shovel deletes itself. The checks it makes of a definition
  (`validate_src`, `validate_dest`, rabbit_shovel_util `validate_delete_after`) and the
  operator's webhook (`amqp10Validate`) are `problems` below; the operator sends an empty
  text as not set (rabbit-hole's `omitempty`), and a `deleteAfter` of digits as a number;
- a federation upstream links only the exchanges and queues that a policy's
  `federation-upstream` (this upstream, by `spec.name`) or `federation-upstream-set`
  (`all`: every upstream of the vhost) matches (rabbit_federation_upstream); a federated
  exchange gets a copy of what is published to the upstream's exchange of the same name
  (or `exchange`), a federated queue moves messages from the upstream's queue of the same
  name (or `queue`) to meet its own consumers' demand. Defaults: prefetch 1000, max-hops
  1, ack-mode on-confirm (rabbit_federation.hrl DEF_PREFETCH; `from_upstream_or_set`).
"""

from __future__ import annotations

from collections.abc import Sequence
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
from scalesim.importers.errors import Problem
from scalesim.importers.k8s import topology
from scalesim.importers.k8s.brokers import nonempty
from scalesim.importers.k8s.objects import Cluster, Manifest, Mappers, mapping

GROUP = "rabbitmq.com"
ACK_MODES = ("on-confirm", "on-publish", "no-ack")
PROTOCOLS = ("amqp091", "amqp10")
PREFETCH = 1000          # rabbit_amqp091_shovel parse_source; rabbit_federation.hrl
ACK_MEANS = {"on-confirm": "acknowledges at the source once the destination confirms",
             "on-publish": "acknowledges at the source once it has published",
             "no-ack": "takes messages without acknowledging (lost if it stops)"}


def delete_after(value: Any) -> str | None:
    """A shovel's `srcDeleteAfter`/`deleteAfter`: text (the CRD's string) of `never`,
    `queue-length` or a whole number ≥ 0 (the operator sends digits as a number; RabbitMQ
    takes those three)."""
    if not isinstance(value, str):
        return f"{value!r} is not text: write it quoted ('never', 'queue-length' or a count)"
    if value in ("never", "queue-length"):
        return None
    number = as_whole(value, text=True)
    if number is None or number < 0:
        return f"{value!r} is not never, queue-length or a whole number of at least 0"
    return None


# The CRDs' fields (types, enums) that the notes read, and what RabbitMQ takes of them
# (rabbit_federation_parameters `shared_validation`, rabbit_shovel_parameters).
FIELD_RULES: dict[tuple[str, str], list[tuple[str, Check]]] = {
    (GROUP, "Federation"): [
        ("spec.name", nonempty), ("spec.uriSecret.name", nonempty),
        ("spec.exchange", is_text), ("spec.queue", is_text),
        ("spec.ackMode", one_of(*ACK_MODES)), ("spec.prefetch-count", count(None)),
        ("spec.maxHops", count(None)), ("spec.expires", count(None)),
        ("spec.messageTTL", count(None)), ("spec.reconnectDelay", count(None)),
        ("spec.trustUserId", boolean), ("spec.queueType", one_of("classic", "quorum")),
        ("spec.resourceCleanupMode", one_of("default", "never"))],
    (GROUP, "Shovel"): [
        ("spec.name", nonempty), ("spec.uriSecret.name", nonempty),
        ("spec.ackMode", one_of(*ACK_MODES)), ("spec.prefetchCount", count(None)),
        ("spec.srcPrefetchCount", count(None)), ("spec.reconnectDelay", count(None)),
        ("spec.srcDeleteAfter", delete_after), ("spec.deleteAfter", delete_after),
        ("spec.srcProtocol", one_of(*PROTOCOLS)), ("spec.destProtocol", one_of(*PROTOCOLS)),
        *((f"spec.{field}", is_text) for field in (
            "srcQueue", "srcExchange", "srcExchangeKey", "srcAddress", "destQueue",
            "destExchange", "destExchangeKey", "destAddress"))]}


def _set(spec: dict[str, Any], field: str) -> bool:
    """Set as the operator sends it: text, not empty."""
    return isinstance(spec.get(field), str) and bool(spec[field])


def problems(manifests: Sequence[Manifest]) -> list[Problem]:
    """What RabbitMQ or the operator refuses across a Shovel's fields: an AMQP 0-9-1 source
    needs one of `srcQueue` and `srcExchange`, not both; a destination takes `destQueue` or
    `destExchange`, not both; an AMQP 1.0 end needs its address; `no-ack` takes no count
    to delete after."""
    found = []
    for manifest in manifests:
        if (manifest.group, manifest.kind) != (GROUP, "Shovel"):
            continue
        spec = manifest.spec

        def refuse(path: str, problem: str, manifest: Manifest = manifest) -> None:
            seen = manifest.seen(path)
            found.append(field_problem(seen.file, seen.line, manifest.title, path, problem))

        for end, fields in (("src", ("srcQueue", "srcExchange")),
                            ("dest", ("destQueue", "destExchange"))):
            protocol = spec.get(f"{end}Protocol") or "amqp091"
            if protocol == "amqp10":
                if not _set(spec, f"{end}Address"):
                    refuse(f"spec.{end}Address", f"an AMQP 1.0 {end} needs spec.{end}Address "
                           f"({end}Protocol is amqp10): the operator refuses the Shovel")
            elif protocol != "amqp091":
                continue            # refused by its enum (FIELD_RULES)
            elif all(_set(spec, field) for field in fields):
                refuse(f"spec.{fields[1]}", f"both {fields[0]} and {fields[1]}: RabbitMQ "
                       "takes one of them")
            elif end == "src" and not any(_set(spec, field) for field in fields):
                refuse("spec", "neither srcQueue nor srcExchange: RabbitMQ needs one of them")
        after = spec.get("srcDeleteAfter") or spec.get("deleteAfter")
        count_after = as_whole(after, text=True) if isinstance(after, str) else None
        if spec.get("ackMode") == "no-ack" and count_after is not None and count_after >= 0:
            field = "srcDeleteAfter" if spec.get("srcDeleteAfter") else "deleteAfter"
            refuse(f"spec.{field}", f"{after!r} messages with ackMode no-ack: RabbitMQ takes no "
                   "count to delete after when nothing is acknowledged")
    return found


# -- notes ------------------------------------------------------------------------------------

def _where(manifest: Manifest) -> str:
    ref, vhost = topology.scope(manifest)
    broker = f"RabbitmqCluster {ref[2]}" if ref[0] == "name" else f"the broker of Secret {ref[2]}"
    return f"{broker}, vhost {vhost}"


def _secret(manifest: Manifest) -> str:
    name = mapping(manifest.spec.get("uriSecret")).get("name")
    return f"Secret {name}" if isinstance(name, str) and name else "its uriSecret"


def shovel(manifest: Manifest, cluster: Cluster) -> None:
    """A Shovel: noted, with what it moves, how, and what to add to simulate it."""
    spec = manifest.spec
    source = _end(spec, "src")
    target = _end(spec, "dest")
    prefetch = next((value for value in (as_whole(spec.get("srcPrefetchCount")),
                                         as_whole(spec.get("prefetchCount"))) if value), PREFETCH)
    ack = _ack(spec)
    after = spec.get("srcDeleteAfter") or spec.get("deleteAfter") or "never"
    stops = "" if after == "never" else (
        "; it deletes itself once it has moved " + ("the messages there when it started"
                                                    if after == "queue-length"
                                                    else f"{after} messages"))
    cluster.draft.note(
        f"{manifest.file}:{manifest.line}: {manifest.title} (on {_where(manifest)}) moves "
        f"messages from {source} to {target}: its source and destination brokers are the "
        f"srcUri and destUri of {_secret(manifest)}, which import does not "
        f"read; at most {prefetch} unacknowledged, ackMode {ack} ({ACK_MEANS[ack]}){stops}. "
        "Not carried: the spec has no link between queues. To simulate it, add a component "
        f"that consumes {source} with concurrency {prefetch} and publishes to {target}, "
        + ("synchronously (it waits for the confirm)" if ack == "on-confirm"
           else "async"))


def _ack(spec: dict[str, Any]) -> str:
    mode = spec.get("ackMode")
    return mode if isinstance(mode, str) and mode in ACK_MEANS else "on-confirm"


def _end(spec: dict[str, Any], end: str) -> str:
    """A shovel's source or destination as its fields say."""
    if (spec.get(f"{end}Protocol") or "amqp091") == "amqp10":
        return f"AMQP 1.0 address {spec.get(f'{end}Address')}"
    if _set(spec, f"{end}Queue"):
        return f"queue {spec[f'{end}Queue']}"
    if _set(spec, f"{end}Exchange"):
        key = spec.get(f"{end}ExchangeKey")
        return f"exchange {spec[f'{end}Exchange']}" + (
            f" (routing key {key!r})" if isinstance(key, str) and key else "")
    return "each message's own exchange and routing key"


def federation(manifest: Manifest, cluster: Cluster) -> None:
    """A Federation (an upstream): noted, with the policies of its vhost that link exchanges
    or queues to it."""
    spec = manifest.spec
    name = spec.get("name") if isinstance(spec.get("name"), str) else manifest.name
    where = topology.scope(manifest)
    policies = [(p, how) for p in cluster.manifests if (p.group, p.kind) == (GROUP, "Policy")
                and topology.scope(p) == where and (how := _links(p, str(name)))]
    links = (f"it links the exchanges and queues that {', '.join(named)} match"
             if (named := [f"{p.title} ({p.file}:{p.line}{how})" for p, how in policies])
             else "no Policy of the files names it (federation-upstream, or "
             "federation-upstream-set all), so it links nothing the files show")
    prefetch = as_whole(spec.get("prefetch-count")) or PREFETCH
    hops = as_whole(spec.get("maxHops")) or 1
    cluster.draft.note(
        f"{manifest.file}:{manifest.line}: {manifest.title} is federation upstream {name} of "
        f"{_where(manifest)}, at the uri of {_secret(manifest)}, which import does not read; "
        f"{links}. A federated exchange gets a copy of what is published to the upstream's "
        f"{_upstream(spec, 'exchange')}, a federated queue moves messages from the "
        f"upstream's {_upstream(spec, 'queue')} to meet its own consumers' demand (prefetch "
        f"{prefetch}, max hops {hops}, ackMode {_ack(spec)}). Not carried: links between "
        "brokers are not simulated")


def _upstream(spec: dict[str, Any], what: str) -> str:
    """The upstream's exchange or queue a federated one links to: `spec.exchange` or
    `spec.queue` when set, else the one of its own name."""
    return f"{what} {spec[what]}" if _set(spec, what) else f"{what} of its name"


def _links(policy: Manifest, upstream: str) -> str:
    """How a policy names the upstream, said after its place; "" when it does not."""
    definition = mapping(policy.spec.get("definition"))
    chosen = definition.get("federation-upstream-set")
    if definition.get("federation-upstream") == upstream:
        return ", federation-upstream"
    if chosen == "all":
        return ", federation-upstream-set all"
    if isinstance(chosen, str) and chosen:
        return (f", federation-upstream-set {chosen}, if that set lists it: sets are not "
                "objects of the files")
    return ""


KINDS: Mappers = {(GROUP, "Federation"): federation, (GROUP, "Shovel"): shovel}
