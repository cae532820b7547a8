"""RabbitMQ super streams as the messaging-topology operator declares them, and KEDA
rabbitmq triggers on streams.

A `SuperStream` (rabbitmq.com/v1alpha1) is an exchange named after it routing to one stream
per partition, `<name>-<routing key>`: a queue of `partitions` N that each subscription
reads in order per partition, with no delivery settings (as a stream `Queue`). A KEDA
rabbitmq trigger on a stream reads the log's retained messages, not the consumers' lag:
noted. A value the operator would not reconcile is a located error (exit 2), and junk never
crashes the import. Sources: messaging-topology-operator api/v1alpha1/superstream_types.go
and internal/controller/super_stream_controller.go; rabbitmq-server rabbit_osiris_metrics,
rabbit_stream_sac_coordinator; kedacore/keda pkg/scalers/rabbitmq_scaler.go.
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
from tests.importers.test_streams_and_links import CLUSTER, policy, stream
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.importers import Imported, ImportFailed, import_k8s
from scalesim.importers.assemble import assemble
from scalesim.importers.k8s import read_cluster
from scalesim.importers.sources import parse
from scalesim.spec.model import Kind


def super_stream(name: str = "orders", partitions: int | None = 3,
                 keys: list[str] | None = None, **more: Any) -> str:
    """A SuperStream as the operator's CRD has it (spec.name, partitions, routingKeys)."""
    spec: dict[str, Any] = {"name": name}
    if partitions is not None:
        spec["partitions"] = partitions
    if keys is not None:
        spec["routingKeys"] = keys
    spec.update(more)
    spec["rabbitmqClusterReference"] = {"name": "rabbit"}
    return yaml.safe_dump({"apiVersion": "rabbitmq.com/v1alpha1", "kind": "SuperStream",
                           "metadata": {"name": name}, "spec": spec},
                          sort_keys=False) + "---\n"


TRIGGER = '{host: "amqp://rabbit:5672", queueName: events, mode: QueueLength, value: "50"}'


def imported_from(tmp_path: Path, *objects: str, watches: str = "events",
                  mode: str = "QueueLength", regex: bool = False) -> Imported:
    """The cluster of test_streams_and_links, its ScaledObject's trigger on `watches`
    (with useRegex, over the management API as KEDA requires)."""
    assert TRIGGER in CLUSTER
    host = "http://rabbit:15672" if regex else "amqp://rabbit:5672"
    trigger = f'{{host: "{host}", queueName: {watches}, mode: {mode}, value: "50"' + (
        ", useRegex: 'true'}" if regex else "}")
    manifest = tmp_path / "rabbit.yaml"
    manifest.write_text(CLUSTER.replace(TRIGGER, trigger) + "".join(objects))
    return import_k8s([str(manifest)])


def notes(imported: Imported) -> str:
    return "\n".join(imported.notes)


# -- a super stream is a queue of its partitions ------------------------------------------------

def test_a_super_stream_is_a_queue_of_partitions_each_a_stream(tmp_path: Path) -> None:
    """The operator's exchange and N partition streams: `partitions: N` on the broker it
    names, no delivery settings (a stream redelivers nothing); the routing keys, how single
    active consumer spreads partitions, and replicas are noted, not carried."""
    imported = imported_from(tmp_path, super_stream(keys=["amer", "emea", "apac"]))
    broker = imported.system.components["rabbit"]
    assert (broker.kind, broker.tech, broker.partitions) == (Kind.QUEUE, "rabbitmq", 3)
    assert (broker.delivery, broker.capacity) == (None, None)
    assert "partitions: 3 # from " in imported.text and \
        "SuperStream orders, spec.partitions: a super stream is one stream per partition" \
        in imported.text
    said = notes(imported)
    assert "each partition stream does not redeliver" in said
    assert "one consumer of a name active per partition" in said and \
        "index modulo the consumers" in said
    assert "exchange orders routes routing key 'amer' to orders-amer, 'emea' to " \
        "orders-emea, 'apac' to orders-apac" in said and "routing keys are not carried" in said
    assert "replicated on every node" in said and "keep every message" in said


def test_unset_partitions_are_the_crds_three_routed_by_their_index(tmp_path: Path) -> None:
    imported = imported_from(tmp_path, super_stream(partitions=None))
    assert imported.system.components["rabbit"].partitions == 3
    assert "sets no spec.partitions: the CRD's default 3" in imported.text
    assert "sets no spec.routingKeys: the partition indexes: exchange orders routes routing " \
        "key '0' to orders-0, '1' to orders-1, '2' to orders-2" in notes(imported)


def test_policies_apply_to_each_partition_stream_by_its_name(tmp_path: Path) -> None:
    """A policy matching `orders-…` applies to the partitions it finds (not the SuperStream's
    own name): its retention is noted for them, and it is not reported as unused."""
    imported = imported_from(
        tmp_path, super_stream(keys=["amer", "emea"], partitions=2),
        policy("retention", "^orders-", {"max-age": "7D"}, apply_to="streams"),
        policy("emea", "emea$", {"initial-cluster-size": 2}, priority=5, apply_to="streams"))
    said = notes(imported)
    assert "Policy retention, spec.definition.max-age = 7D: retention" in said
    assert "(partitions orders-amer); not carried" in said    # emea's policy wins there
    assert "Policy emea, spec.definition.initial-cluster-size = 2" in said and \
        "(partitions orders-emea); not carried" in said
    assert "applies to no Queue" not in said


def test_the_operators_own_partition_queues_are_not_read_twice(tmp_path: Path) -> None:
    """Files exported from a cluster hold the Queues the operator made for the partitions
    (labelled rabbitmq.com/super-stream): the SuperStream describes them."""
    child = yaml.safe_dump({"apiVersion": "rabbitmq.com/v1beta1", "kind": "Queue", "metadata": {
        "name": "orders-partition-0", "labels": {"rabbitmq.com/super-stream": "orders"}},
        "spec": {"name": "orders-0", "type": "stream", "durable": True,
                 "rabbitmqClusterReference": {"name": "rabbit"}}}) + "---\n"
    imported = imported_from(tmp_path, super_stream(partitions=1), child)
    assert set(imported.system.components) == {"rabbit", "api", "audit"}
    assert imported.system.components["rabbit"].partitions == 1
    assert "Queue orders-partition-0 is a partition the operator created for SuperStream " \
        "orders" in notes(imported)


# -- KEDA on a stream -------------------------------------------------------------------------

def test_a_keda_trigger_on_a_stream_is_noted_as_reading_the_logs_size(tmp_path: Path) -> None:
    """KEDA reads a queue's message count; RabbitMQ counts a stream's retained messages,
    which consumers do not remove: the ScaledObject and the stream are named."""
    imported = imported_from(tmp_path, stream())
    note = next(n for n in imported.notes if n.startswith("ScaledObject audit"))
    for said in ("spec.triggers[0] (rabbitmq, queueName 'events') watches a stream",
                 "Queue events is a stream", "every message it retains",
                 "not the consumers' lag", "may never scale in"):
        assert said in note, said
    # the trigger is still the autoscale's queue metric
    assert imported.system.components["audit"].autoscale is not None
    # not on a classic queue, nor in a rate mode (no message count)
    assert "watches a stream" not in notes(imported_from(tmp_path, stream(queue_type="classic")))
    assert "watches a stream" not in notes(imported_from(tmp_path, stream(),
                                                         mode="DeliverGetRate"))


def test_a_keda_trigger_on_a_super_stream_partition_or_its_name(tmp_path: Path) -> None:
    partition = imported_from(tmp_path, super_stream(), watches="orders-2")
    assert "queueName 'orders-2') watches a stream: orders-2 is partition 2 of SuperStream " \
        "orders" in notes(partition)
    named = imported_from(tmp_path, super_stream(), watches="orders")
    assert "queueName 'orders'): SuperStream orders is a super stream" in notes(named) and \
        "no queue has its name" in notes(named)
    regex = imported_from(tmp_path, super_stream(), watches="'^ORDERS-'", regex=True)
    assert "watches a stream: orders-0 is partition 0 of SuperStream orders" in notes(regex)


# -- bad values: exit 2, file, line, object and field -------------------------------------------

def _line_of(path: Path, text: str) -> int:
    return next(n for n, row in enumerate(path.read_text().splitlines(), 1) if text in row)


@pytest.mark.parametrize(("text", "old", "new", "message"), [
    (super_stream(), "partitions: 3", "partitions: 0",
     "SuperStream orders spec.partitions: 0 is out of range: it must be at least 1: the "
     "operator creates one stream per partition"),
    (super_stream(), "partitions: 3", "partitions: -2",
     "SuperStream orders spec.partitions: -2 is out of range"),
    (super_stream(), "partitions: 3", "partitions: three",
     "SuperStream orders spec.partitions: 'three' is not a whole number"),
    (super_stream(), "partitions: 3", "partitions: 2.5",
     "SuperStream orders spec.partitions: 2.5 is not a whole number"),
    (super_stream(keys=["a", "b", "c"]), "- c", "- 7",
     "SuperStream orders spec.routingKeys: item 2, 7, is not text"),
    (super_stream(keys=["a", "b", "c"]), "partitions: 3", "partitions: 4",
     "SuperStream orders spec.routingKeys: 3 routing keys for 4 partitions (spec.partitions)"),
    (super_stream(partitions=None, keys=["a", "b"]), "- b", "- b",
     "SuperStream orders spec.routingKeys: 2 routing keys for 3 partitions (no "
     "spec.partitions: the CRD's default 3)"),
    (super_stream(keys=["a", "b", "c"]), "- c", "- a",
     "SuperStream orders spec.routingKeys: 'a' given more than once"),
    (super_stream(keys=["a"], partitions=1), "routingKeys:\n  - a", "routingKeys: a",
     "SuperStream orders spec.routingKeys: 'a' is not a list of routing keys"),
])
def test_a_value_the_operator_refuses_is_located(
        tmp_path: Path, text: str, old: str, new: str, message: str) -> None:
    assert old in text
    manifest = tmp_path / "rabbit.yaml"
    manifest.write_text(CLUSTER + text.replace(old, new, 1))
    with pytest.raises(ImportFailed) as caught:
        import_k8s([str(manifest)])
    [problem] = caught.value.problems
    # a routing keys' problem is at spec.routingKeys (the list is checked as one value)
    where = _line_of(manifest, "routingKeys" if "routingKeys" in message else
                     new.split("\n")[-1])
    assert (problem.file, problem.line) == (str(manifest), where)
    assert problem.message.startswith(message), problem.message


def test_the_command_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    manifest = tmp_path / "rabbit.yaml"
    manifest.write_text(CLUSTER + super_stream(partitions=0))
    output = tmp_path / "system.yaml"
    result = CliRunner().invoke(app, ["import", "k8s", str(manifest), "-o", str(output)])
    assert result.exit_code == 2, result.output
    assert f"{manifest}:{_line_of(manifest, 'partitions: 0')}: SuperStream orders " \
        "spec.partitions: 0 is out of range" in result.stderr
    assert not output.exists()


# -- junk never crashes -----------------------------------------------------------------------

SUPER = (CLUSTER.replace("queueName: events,", "queueName: orders-emea,")
         + super_stream(keys=["amer", "emea", "apac"])
         + policy("retention", "^orders-", {"max-age": "7D"}, apply_to="streams"))
SUPER_JUNK = ("amer", "emea", "orders", "stream", 3, 10_001, ["a", "b", "c"], ["a", "a", "a"])


@cache
def super_import() -> Imported:
    return assemble(read_cluster(parse(SUPER, "super.yaml"), "super.yaml"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_strange_values_in_a_super_stream_are_noted_or_located(data: st.DataObject) -> None:
    """Any value of the SuperStream, its policy or the trigger replaced by junk: a draft or
    errors that each name a line, never a crash; as written it imports with its notes."""
    assert "watches a stream" in "\n".join(super_import().notes)
    documents = [d for d in yaml.safe_load_all(SUPER) if d]
    chosen = data.draw(st.sampled_from([d for d in documents if d["kind"] in (
        "SuperStream", "Policy", "ScaledObject")]))
    spoil(data, chosen["spec"], SUPER_JUNK)
    assert_noted_or_located(yaml.safe_dump_all(documents, sort_keys=False))
