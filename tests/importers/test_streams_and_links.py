"""RabbitMQ streams, Shovels and Federations as the messaging-topology operator declares them.

A stream is a log: a queue of one partition that every subscription reads in order, with
no delivery settings; its retention and replicas are noted. The policies that apply to it
and the arguments it refuses are rabbitmq-server's (rabbit_stream_queue `capabilities`,
`policy_precedence`; rabbit_amqqueue `check_declare_arguments`). A Shovel or a Federation is
noted, not carried (its ends are in a Secret import does not read, and the spec has no link
between queues). A value RabbitMQ or the operator refuses is a located error (exit 2), and
junk never crashes the import. The facts and their sources are in
src/scalesim/importers/k8s/topology.py and links.py, and in docs/import.md.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.importers.junk import assert_noted_or_located, spoil
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.importers import Imported, ImportFailed, import_k8s
from scalesim.importers.assemble import assemble
from scalesim.importers.k8s import read_cluster
from scalesim.importers.sources import parse
from scalesim.spec.model import Kind

CLUSTER = """\
apiVersion: rabbitmq.com/v1beta1
kind: RabbitmqCluster
metadata: {name: rabbit}
spec:
  replicas: 3
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - {name: api, image: acme/api:1.0, env: [{name: AMQP_URL, value: "amqp://rabbit:5672"}]}
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec: {type: LoadBalancer, selector: {app: api}, ports: [{name: http, port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: audit}
spec:
  replicas: 2
  selector: {matchLabels: {app: audit}}
  template:
    metadata: {labels: {app: audit}}
    spec:
      containers: [{name: audit, image: acme/audit:1.0, resources: {requests: {cpu: "1"}}}]
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: audit}
spec:
  scaleTargetRef: {name: audit}
  minReplicaCount: 1
  triggers:
    - type: rabbitmq
      metadata: {host: "amqp://rabbit:5672", queueName: events, mode: QueueLength, value: "50"}
---
"""


def rabbit(kind: str, name: str, spec: dict[str, Any]) -> str:
    """A messaging-topology operator object (rabbitmq.com/v1beta1) on cluster `rabbit`."""
    spec = {**spec, "rabbitmqClusterReference": {"name": "rabbit"}}
    return yaml.safe_dump({"apiVersion": "rabbitmq.com/v1beta1", "kind": kind,
                           "metadata": {"name": name}, "spec": spec}, sort_keys=False) + "---\n"


def stream(arguments: dict[str, Any] | None = None, queue_type: str = "stream",
           name: str = "events") -> str:
    """A Queue of `queue_type` with these arguments."""
    spec: dict[str, Any] = {"name": name, "durable": True}
    spec["type"] = queue_type
    if arguments:
        spec["arguments"] = arguments
    return rabbit("Queue", name, spec)


def policy(name: str, pattern: str, definition: dict[str, Any], priority: int = 0,
           apply_to: str | None = None, kind: str = "Policy") -> str:
    spec: dict[str, Any] = {"name": name, "pattern": pattern, "definition": definition,
                            "priority": priority}
    if apply_to:
        spec["applyTo"] = apply_to
    return rabbit(kind, name, spec)


SHOVEL = rabbit("Shovel", "archive", {
    "name": "archive", "uriSecret": {"name": "archive-uris"}, "srcQueue": "events",
    "destExchange": "archive", "destExchangeKey": "events.archived",
    "srcPrefetchCount": 250, "ackMode": "on-confirm", "srcDeleteAfter": "queue-length"})
FEDERATION = rabbit("Federation", "origin", {
    "name": "origin", "uriSecret": {"name": "origin-uri"}, "maxHops": 2,
    "ackMode": "on-publish", "queueType": "quorum"})


def imported_from(tmp_path: Path, *objects: str) -> Imported:
    manifest = tmp_path / "rabbit.yaml"
    manifest.write_text(CLUSTER + "".join(objects))
    return import_k8s([str(manifest)])


def notes(imported: Imported) -> str:
    return "\n".join(imported.notes)


# -- streams ----------------------------------------------------------------------------------

def test_a_stream_is_a_log_of_one_partition_that_each_subscription_reads(
        tmp_path: Path) -> None:
    """A stream is read in order from offsets, non-destructively: a topic of one partition.
    It redelivers nothing and dead-letters nothing, so no delivery settings; its retention
    and replicas have no spec field."""
    imported = imported_from(tmp_path, stream({"x-max-length-bytes": 20_000_000_000,
                                               "x-max-age": "7D", "x-initial-cluster-size": 3}))
    system = imported.system
    broker = system.components["rabbit"]
    assert (broker.kind, broker.tech, broker.partitions) == (Kind.QUEUE, "rabbitmq", 1)
    assert (broker.delivery, broker.group, broker.capacity) == (None, None, None)
    # the KEDA trigger names the stream: a partitioned subscription, members per replica
    assert [(system.resolve(c.to)[0], c.concurrency) for c in broker.consumers] == \
        [("audit", 1)]
    assert "partitions: 1 # from " in imported.text and \
        "Queue events, spec.type: a stream is one append-only log" in imported.text
    said = notes(imported)
    assert "a stream does not redeliver" in said and "x-stream-offset" in said
    assert "single active consumer" in said
    for key, why in (("x-max-length-bytes = 20000000000", "retention"),
                     ("x-max-age = 7D", "retention"),
                     ("x-initial-cluster-size = 3", "a spec queue does not replicate")):
        assert any(key in note and why in note and "not carried" in note
                   for note in imported.notes), key


def test_a_stream_takes_the_policys_value_and_no_policy_holding_a_key_it_refuses(
        tmp_path: Path) -> None:
    """rabbit_stream_queue: the policy wins over the argument (`policy_precedence`); a
    policy holding a key a stream refuses (max-length, delivery-limit…) does not match it,
    however high its priority; the OperatorPolicy merges as for any queue (the lower
    max-length-bytes)."""
    imported = imported_from(
        tmp_path, stream({"x-max-age": "7D", "x-max-length-bytes": 5_000_000_000}),
        policy("retention", "^events$", {"max-age": "1D", "max-length-bytes": 9_000_000_000},
               apply_to="streams"),
        policy("limits", ".*", {"max-length": 100, "max-age": "2D"}, priority=9),
        policy("cap", ".*", {"max-length-bytes": 1_000_000_000}, kind="OperatorPolicy"))
    said = notes(imported)
    assert "Policy retention, spec.definition.max-age; a stream takes the policy's over its " \
        "argument '7D' = 1D" in said
    # the policy's 9 GB over the argument's 5 GB, then the operator policy's lower 1 GB
    assert "OperatorPolicy cap, spec.definition.max-length-bytes; the lower of Policy " \
        "retention's 9000000000 and OperatorPolicy cap's 1000000000" in said
    assert "Policy limits applies to no Queue" in said     # max-length: not for a stream
    assert imported.system.components["rabbit"].partitions == 1


def test_a_vhosts_stream_default_applies_unless_the_queue_cannot_be_a_stream(
        tmp_path: Path) -> None:
    """A queue without a type takes its vhost's default; a default a non-durable queue
    cannot take gives way to classic (rabbit_amqqueue `augment_declare_args`), which is no
    error: its classic arguments are read."""
    vhost = rabbit("Vhost", "root", {"name": "/", "defaultQueueType": "stream"})
    durable = rabbit("Queue", "events", {"name": "events", "durable": True})
    assert imported_from(tmp_path, vhost, durable).system.components["rabbit"].partitions == 1
    transient = rabbit("Queue", "events", {"name": "events", "durable": False, "arguments": {
        "x-max-length": 100, "x-overflow": "reject-publish"}})
    imported = imported_from(tmp_path, vhost, transient)
    broker = imported.system.components["rabbit"]
    assert (broker.partitions, broker.capacity) == (None, 100)
    assert "(the vhost's default) is stream, which a queue that is not durable or is " \
        "auto-deleted cannot be: classic, RabbitMQ's fallback" in notes(imported)


# -- Shovel and Federation --------------------------------------------------------------------

def test_a_shovel_is_noted_with_what_it_moves_and_not_carried(tmp_path: Path) -> None:
    imported = imported_from(tmp_path, stream(), SHOVEL)
    assert set(imported.system.components) == {"rabbit", "api", "audit"}   # nothing invented
    note = next(n for n in imported.notes if "Shovel archive" in n)
    for said in ("moves messages from queue events to exchange archive (routing key "
                 "'events.archived')", "Secret archive-uris, which import does not read",
                 "at most 250 unacknowledged", "ackMode on-confirm",
                 "the messages there when it started", "Not carried",
                 "consumes queue events with concurrency 250"):
        assert said in note, said


def test_a_federation_is_noted_with_the_policies_that_name_it(tmp_path: Path) -> None:
    """The upstream links what a policy naming it matches; the federated queue says so too."""
    imported = imported_from(
        tmp_path, rabbit("Queue", "events", {"name": "events", "type": "quorum",
                                             "durable": True}), FEDERATION,
        policy("federate", "^events$", {"federation-upstream": "origin"}, apply_to="queues"))
    note = next(n for n in imported.notes if "Federation origin" in n)
    for said in ("federation upstream origin of RabbitmqCluster rabbit, vhost /",
                 "Secret origin-uri", "Policy federate", "max hops 2", "ackMode on-publish",
                 "Not carried"):
        assert said in note, said
    assert "spec.definition.federation-upstream = origin: the queue is federated" in \
        notes(imported)


# -- bad values: exit 2, file, line, object and field -----------------------------------------

def _line_of(path: Path, text: str) -> int:
    return next(n for n, row in enumerate(path.read_text().splitlines(), 1) if text in row)


VHOST_STREAM = rabbit("Vhost", "root", {"name": "/", "defaultQueueType": "stream"}) + \
    rabbit("Queue", "events", {"name": "events", "arguments": {"x-message-ttl": 60000}})


@pytest.mark.parametrize(("text", "old", "new", "message"), [
    (stream({"x-max-length": 10}), "x-max-length: 10", "x-max-length: 10",
     "Queue events spec.arguments.x-max-length: a stream (from "),
    (stream({"x-delivery-limit": 3}), "x-delivery-limit: 3", "x-delivery-limit: 3",
     "Queue events spec.arguments.x-delivery-limit: a stream"),
    (stream({"x-dead-letter-exchange": "dlx"}), "x-dead-letter-exchange: dlx",
     "x-dead-letter-exchange: dlx", "Queue events spec.arguments.x-dead-letter-exchange: a "
     "stream"),
    # a stream its vhost's default makes refuses the same arguments
    (VHOST_STREAM, "x-message-ttl: 60000", "x-message-ttl: 60000",
     "Queue events spec.arguments.x-message-ttl: a stream"),
    (stream(), "durable: true", "durable: false",
     "Queue events spec.durable: a stream (from "),
    (stream(), "durable: true", "durable: true\n  autoDelete: true",
     "Queue events spec.autoDelete: a stream"),
    (stream(queue_type="quorum"), "durable: true", "durable: false",
     "Queue events spec.durable: a quorum queue"),
    (stream({"x-max-age": "7D"}), "x-max-age: 7D", "x-max-age: 7d",
     "Queue events spec.arguments.x-max-age: '7d' is not a max age"),
    (stream({"x-max-age": "7D"}), "x-max-age: 7D", "x-max-age: 0D",
     "Queue events spec.arguments.x-max-age: '0D' is not a max age"),
    (stream({"x-initial-cluster-size": 3}), "x-initial-cluster-size: 3",
     "x-initial-cluster-size: 0",
     "Queue events spec.arguments.x-initial-cluster-size: 0 is out of range"),
    (stream({"x-stream-filter-size-bytes": 16}), "x-stream-filter-size-bytes: 16",
     "x-stream-filter-size-bytes: 300",
     "Queue events spec.arguments.x-stream-filter-size-bytes: 300 is out of range"),
    (stream({"x-stream-max-segment-size-bytes": 500_000_000}),
     "x-stream-max-segment-size-bytes: 500000000",
     "x-stream-max-segment-size-bytes: 4000000000",
     "Queue events spec.arguments.x-stream-max-segment-size-bytes: 4000000000 is out of"),
    (policy("p", "events", {"max-age": "1D"}), "max-age: 1D", "max-age: 1 day",
     "Policy p spec.definition.max-age: '1 day' is not a max age"),
    (policy("p", "events", {"queue-leader-locator": "balanced"}),
     "queue-leader-locator: balanced", "queue-leader-locator: min-masters",
     "Policy p spec.definition.queue-leader-locator: 'min-masters' is not one of"),
    (policy("op", "events", {"max-age": "1D"}, kind="OperatorPolicy"), "max-age: 1D",
     "max-age: 1D", "OperatorPolicy op spec.definition.max-age: '1D': an operator policy "
     "cannot set max-age"),
    (SHOVEL, "ackMode: on-confirm", "ackMode: on-consume",
     "Shovel archive spec.ackMode: 'on-consume' is not one of on-confirm"),
    (SHOVEL, "srcPrefetchCount: 250", "srcPrefetchCount: many",
     "Shovel archive spec.srcPrefetchCount: 'many' is not a whole number"),
    (SHOVEL, "srcDeleteAfter: queue-length", "srcDeleteAfter: later",
     "Shovel archive spec.srcDeleteAfter: 'later' is not never, queue-length or a whole"),
    (SHOVEL, "srcDeleteAfter: queue-length", "srcDeleteAfter: 100",
     "Shovel archive spec.srcDeleteAfter: 100 is not text"),
    (SHOVEL, "srcQueue: events", "srcQueue: events\n  srcExchange: events",
     "Shovel archive spec.srcExchange: both srcQueue and srcExchange"),
    (SHOVEL, "srcQueue: events", "srcQueue: ''",
     "Shovel archive spec: neither srcQueue nor srcExchange"),
    (SHOVEL, "destExchange: archive", "destQueue: archive\n  destExchange: archive",
     "Shovel archive spec.destExchange: both destQueue and destExchange"),
    (SHOVEL, "destExchange: archive", "destProtocol: amqp10\n  destExchange: archive",
     "Shovel archive spec.destAddress: an AMQP 1.0 dest needs spec.destAddress"),
    (SHOVEL, "ackMode: on-confirm\n  srcDeleteAfter: queue-length",
     "ackMode: no-ack\n  srcDeleteAfter: '500'",
     "Shovel archive spec.srcDeleteAfter: '500' messages with ackMode no-ack"),
    (FEDERATION, "queueType: quorum", "queueType: stream",
     "Federation origin spec.queueType: 'stream' is not one of classic, quorum"),
    (FEDERATION, "maxHops: 2", "maxHops: two",
     "Federation origin spec.maxHops: 'two' is not a whole number"),
    (FEDERATION, "ackMode: on-publish", "ackMode: always",
     "Federation origin spec.ackMode: 'always' is not one of"),
])
def test_a_value_rabbitmq_or_the_operator_refuses_is_located(
        tmp_path: Path, text: str, old: str, new: str, message: str) -> None:
    assert old in text
    manifest = tmp_path / "rabbit.yaml"
    manifest.write_text(CLUSTER + text.replace(old, new, 1))
    with pytest.raises(ImportFailed) as caught:
        import_k8s([str(manifest)])
    [problem] = caught.value.problems
    # at the line of the value, or of the object's spec when a field is missing (an AMQP
    # 1.0 destination's address: the Shovel's spec line too)
    lines = manifest.read_text().splitlines()
    where = _line_of(manifest, new.split("\n")[-1]) if "needs" not in message and \
        "neither" not in message else next(
            n for n, row in enumerate(lines, 1)
            if row == "spec:" and "kind: Shovel" in lines[n - 4:n])
    assert (problem.file, problem.line) == (str(manifest), where)
    assert problem.message.startswith(message), problem.message


def test_the_command_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    manifest = tmp_path / "rabbit.yaml"
    manifest.write_text(CLUSTER + stream({"x-overflow": "reject-publish"})
                        + SHOVEL.replace("ackMode: on-confirm", "ackMode: sometimes"))
    output = tmp_path / "system.yaml"
    result = CliRunner().invoke(app, ["import", "k8s", str(manifest), "-o", str(output)])
    assert result.exit_code == 2, result.output
    assert f"{manifest}:{_line_of(manifest, 'x-overflow')}: Queue events " \
        "spec.arguments.x-overflow: a stream" in result.stderr
    assert f"{manifest}:{_line_of(manifest, 'ackMode: sometimes')}: Shovel archive " \
        "spec.ackMode: 'sometimes' is not one of" in result.stderr
    assert not output.exists()


# -- junk never crashes -----------------------------------------------------------------------

LINKS = (CLUSTER + stream({"x-max-age": "7D", "x-initial-cluster-size": 3})
         + policy("retention", "^events$", {"max-age": "1D"}, apply_to="streams")
         + policy("federate", "^events$", {"federation-upstream-set": "all"})
         + SHOVEL + FEDERATION)
LINKS_JUNK = ("stream", "quorum", "amqp10", "no-ack", "never", "queue-length", "7D", "all")


@cache
def links_import() -> Imported:
    return assemble(read_cluster(parse(LINKS, "links.yaml"), "links.yaml"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_strange_values_in_streams_and_links_are_noted_or_located(data: st.DataObject) -> None:
    """Any value of a stream, its policies, a Shovel or a Federation replaced by junk: a
    draft (what does not fit noted) or errors that each name a line, never a crash; the
    objects as written import, with their notes."""
    assert {"Shovel archive", "Federation origin"} <= {
        title for note in links_import().notes
        for title in ("Shovel archive", "Federation origin") if title in note}
    documents = [d for d in yaml.safe_load_all(LINKS) if d]
    chosen = data.draw(st.sampled_from([d for d in documents if d["kind"] in (
        "Queue", "Policy", "Shovel", "Federation")]))
    spoil(data, chosen["spec"], LINKS_JUNK)
    assert_noted_or_located(yaml.safe_dump_all(documents, sort_keys=False))
