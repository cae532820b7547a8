"""Brokers run by operators and what they apply to their queues: Strimzi `Kafka` (with
`KafkaNodePool`s), the RabbitMQ cluster operator's `RabbitmqCluster`, the topology operator's
`Policy`, `OperatorPolicy`, `Exchange`, `Binding` and `Vhost`, and SQS FIFO queues.

The expected values are RabbitMQ's, Kafka's and SQS's documented rules (the sources are named
in src/scalesim/importers/k8s/topology.py and clusters.py, and in docs/import.md): which
policy applies, how a policy and a queue argument combine, where an exchange routes a dead
letter; a value the broker refuses is a located error, and junk never crashes the import.
"""

from __future__ import annotations

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
from scalesim.spec.model import Kind

# -- Strimzi ------------------------------------------------------------------------------------

STRIMZI = """\
apiVersion: kafka.strimzi.io/v1beta2
kind: Kafka
metadata: {name: events, annotations: {strimzi.io/node-pools: enabled, strimzi.io/kraft: enabled}}
spec:
  kafka:
    version: 3.9.0
    listeners:
      - {name: plain, port: 9092, type: internal, tls: false}
    config:
      num.partitions: 6
      default.replication.factor: 3
      min.insync.replicas: 2
  entityOperator: {topicOperator: {}, userOperator: {}}
---
apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaNodePool
metadata: {name: controllers, labels: {strimzi.io/cluster: events}}
spec:
  replicas: 3
  roles: [controller]
  storage: {type: jbod, volumes: [{id: 0, type: persistent-claim, size: 10Gi}]}
---
apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaNodePool
metadata: {name: brokers, labels: {strimzi.io/cluster: events}}
spec:
  replicas: 4
  roles: [broker]
  storage: {type: jbod, volumes: [{id: 0, type: persistent-claim, size: 100Gi}]}
---
apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaTopic
metadata: {name: orders, labels: {strimzi.io/cluster: events}}
spec:
  replicas: 3
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop}
spec:
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec:
      containers:
        - name: shop
          image: acme/shop:1.0
          env: [{name: KAFKA_BOOTSTRAP_SERVERS, value: "events-kafka-bootstrap.default.svc:9092"}]
---
apiVersion: v1
kind: Service
metadata: {name: shop}
spec: {type: LoadBalancer, selector: {app: shop}, ports: [{name: http, port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: billing}
spec:
  replicas: 2
  selector: {matchLabels: {app: billing}}
  template:
    metadata: {labels: {app: billing}}
    spec:
      containers: [{name: billing, image: acme/billing:1.0, resources: {requests: {cpu: "1"}}}]
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: billing}
spec:
  scaleTargetRef: {name: billing}
  triggers:
    - type: kafka
      metadata: {bootstrapServers: "events-kafka-bootstrap:9092", consumerGroup: billing,
                 topic: orders, lagThreshold: "50"}
"""


def imported_from(tmp_path: Path, text: str) -> Imported:
    manifest = tmp_path / "brokers.yaml"
    manifest.write_text(text)
    return import_k8s([str(manifest)])


def test_a_strimzi_kafka_is_a_broker_of_its_node_pools_brokers_and_its_topics_default(
        tmp_path: Path) -> None:
    imported = imported_from(tmp_path, STRIMZI)
    system = imported.system
    events = system.components["events"]
    # the broker replicas: the pool with the broker role (controllers do not serve clients)
    assert (events.kind, events.tech, events.replicas) == (Kind.QUEUE, "kafka", 4)
    # the topic names its cluster: it is the broker's queue, and without spec.partitions
    # it has the broker's num.partitions (Strimzi's KafkaTopicSpec)
    assert events.partitions == 6
    assert "num.partitions (the broker's default)" in imported.text
    # the producer reaches the broker by the bootstrap Service Strimzi creates
    shop = system.components["shop"]
    assert [c.to for c in shop.operations["handle"].calls] == ["events"]
    assert [(system.resolve(c.to)[0], c.concurrency) for c in events.consumers] == \
        [("billing", 1)]
    notes = " ".join(imported.notes)
    for key in ("default.replication.factor", "min.insync.replicas"):
        assert f"spec.kafka.config.{key}" in notes and "not carried" in notes


def test_a_zookeeper_era_kafka_has_spec_replicas_and_kafkas_default_of_one_partition(
        tmp_path: Path) -> None:
    """Without node pools (Strimzi ≤ 0.45 on ZooKeeper) the brokers are spec.kafka.replicas;
    a config without num.partitions leaves Kafka's default, 1."""
    old = STRIMZI.split("---\napiVersion: kafka.strimzi.io/v1beta2\nkind: KafkaNodePool")[0]
    old = old.replace("    version: 3.9.0\n", "    version: 3.9.0\n    replicas: 3\n") \
        .replace("      num.partitions: 6\n", "")
    topic = STRIMZI[STRIMZI.index("apiVersion: kafka.strimzi.io/v1beta2\nkind: KafkaTopic"):]
    events = imported_from(tmp_path, old + "---\n" + topic).system.components["events"]
    assert (events.replicas, events.partitions) == (3, 1)


# -- RabbitMQ: cluster, policies, exchanges and bindings ----------------------------------------

CLUSTER = """\
apiVersion: rabbitmq.com/v1beta1
kind: RabbitmqCluster
metadata: {name: rabbit}
spec:
  replicas: 3
  rabbitmq:
    additionalConfig: |
      cluster_partition_handling = pause_minority
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
"""


def queue(name: str, queue_type: str | None = "quorum", **arguments: Any) -> str:
    spec: dict[str, Any] = {"name": name, "durable": True,
                            "rabbitmqClusterReference": {"name": "rabbit"}}
    if queue_type:
        spec["type"] = queue_type
    if arguments:
        spec["arguments"] = arguments
    return _object("Queue", name, spec)


def policy(name: str, pattern: str, definition: dict[str, Any], priority: int = 0,
           apply_to: str | None = None, kind: str = "Policy", vhost: str | None = None) -> str:
    spec: dict[str, Any] = {"name": name, "pattern": pattern, "definition": definition,
                            "priority": priority, "rabbitmqClusterReference": {"name": "rabbit"}}
    if apply_to:
        spec["applyTo"] = apply_to
    if vhost:
        spec["vhost"] = vhost
    return _object(kind, name, spec)


def exchange(name: str, kind: str) -> str:
    return _object("Exchange", name, {"name": name, "type": kind, "durable": True,
                                      "rabbitmqClusterReference": {"name": "rabbit"}})


def binding(name: str, source: str, destination: str, key: str = "",
            destination_type: str = "queue") -> str:
    return _object("Binding", name, {"source": source, "destination": destination,
                                     "destinationType": destination_type, "routingKey": key,
                                     "rabbitmqClusterReference": {"name": "rabbit"}})


def _object(kind: str, name: str, spec: dict[str, Any]) -> str:
    return yaml.safe_dump({"apiVersion": "rabbitmq.com/v1beta1", "kind": kind,
                           "metadata": {"name": name}, "spec": spec}, sort_keys=False) + "---\n"


WORKER = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: fulfil}
spec:
  replicas: 2
  selector: {matchLabels: {app: fulfil}}
  template:
    metadata: {labels: {app: fulfil}}
    spec:
      containers: [{name: fulfil, image: acme/fulfil:1.0, resources: {requests: {cpu: "1"}}}]
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: fulfil}
spec:
  scaleTargetRef: {name: fulfil}
  minReplicaCount: 1
  triggers:
    - type: rabbitmq
      metadata: {host: "amqp://rabbit:5672", queueName: orders, mode: QueueLength, value: "20"}
"""


def rabbit(tmp_path: Path, *objects: str) -> Imported:
    return imported_from(tmp_path, CLUSTER + "".join(objects) + WORKER)


def test_a_policy_dead_letters_through_a_named_exchange_to_the_queue_it_binds(
        tmp_path: Path) -> None:
    imported = rabbit(
        tmp_path, queue("orders"), queue("orders-dead", "classic"),
        policy("orders", "^orders$", {"delivery-limit": 4, "dead-letter-exchange": "dlx",
                                      "dead-letter-routing-key": "orders", "max-length": 1000,
                                      "overflow": "reject-publish"}, priority=5),
        policy("everything", ".*", {"delivery-limit": 50}),
        exchange("dlx", "direct"), binding("dlx-orders", "dlx", "orders-dead", "orders"),
        binding("dlx-other", "dlx", "elsewhere", "other"))
    system = imported.system
    broker = system.components["rabbit"]
    # the cluster is the broker component; its first queue is the queue it holds
    assert (broker.kind, broker.tech, broker.replicas) == (Kind.QUEUE, "rabbitmq", 3)
    delivery = broker.delivery
    assert delivery is not None
    # the priority-5 policy applies, alone: 4 returns are 5 deliveries; the direct exchange
    # routes routing key `orders` to orders-dead only
    assert (delivery.max_deliveries, delivery.dead_letter) == (5, "orders-dead")
    # max-length with reject-publish: the spec's capacity (ready messages)
    assert broker.capacity == 1000
    dead = system.components["orders-dead"]
    assert (dead.kind, dead.tech, dead.consumers) == (Kind.QUEUE, "rabbitmq", [])
    notes = " ".join(imported.notes)
    assert "Policy orders applies to queue orders" in notes and \
        "everything match too and do not apply" in notes
    # the api publishes to the cluster by its client Service; the KEDA trigger consumes it
    assert [c.to for c in system.components["api"].operations["handle"].calls] == ["rabbit"]
    assert [system.resolve(c.to)[0] for c in broker.consumers] == ["fulfil"]


def _delivery_and_capacity(imported: Imported) -> tuple[int | None, str | None, int | None]:
    broker = imported.system.components["rabbit"]
    delivery = broker.delivery
    assert delivery is not None
    return delivery.max_deliveries, delivery.dead_letter, broker.capacity


# (queue objects, policies): (max_deliveries, dead_letter, capacity), as RabbitMQ resolves
PRECEDENCE = [
    # quorum queue: the lower delivery limit of argument and policy (resolve_delivery_limit)
    ([queue("orders", **{"x-delivery-limit": 3})],
     [policy("p", "orders", {"delivery-limit": 10})], (4, None, None)),
    # a negative limit is none: the other one applies
    ([queue("orders", **{"x-delivery-limit": -1})],
     [policy("p", "orders", {"delivery-limit": 10})], (11, None, None)),
    # max-length: the lower; overflow: a quorum queue takes the policy's
    ([queue("orders", **{"x-max-length": 500, "x-overflow": "drop-head"})],
     [policy("p", "orders", {"max-length": 100, "overflow": "reject-publish"})],
     (21, None, 100)),
    ([queue("orders", **{"x-max-length": 500, "x-overflow": "reject-publish"})],
     [policy("p", "orders", {"overflow": "drop-head"})], (21, None, None)),
    # a classic queue takes its argument's overflow
    ([queue("orders", "classic", **{"x-max-length": 500, "x-overflow": "reject-publish",
                                    "x-dead-letter-exchange": ""})],
     [policy("p", "orders", {"overflow": "drop-head"})], (None, None, 500)),
    # the dead-letter exchange: the argument wins
    ([queue("orders", **{"x-dead-letter-exchange": "",
                         "x-dead-letter-routing-key": "orders-dead"}),
      queue("orders-dead", "classic")],
     [policy("p", "orders", {"dead-letter-exchange": "nowhere"})], (21, "orders-dead", None)),
    # the operator policy: the lower length, the policy's negative limit gives way
    ([queue("orders")],
     [policy("p", "orders", {"max-length": 1000, "overflow": "reject-publish",
                             "delivery-limit": -1}),
      policy("op", "orders", {"max-length": 200, "delivery-limit": 5}, kind="OperatorPolicy")],
     (6, None, 200)),
    # a policy holding a key the queue type refuses does not match: the next one applies
    ([queue("orders", "classic", **{"x-dead-letter-exchange": ""})],
     [policy("p", "orders", {"delivery-limit": 2, "max-length": 7,
                             "overflow": "reject-publish"}, priority=9),
      policy("q", "orders", {"max-length": 30, "overflow": "reject-publish"})],
     (None, None, 30)),
    # applyTo and vhost must fit
    ([queue("orders")],
     [policy("p", "orders", {"delivery-limit": 2}, apply_to="classic_queues", priority=9),
      policy("q", "orders", {"delivery-limit": 3}, vhost="other", priority=8),
      policy("r", "orders", {"delivery-limit": 4}, apply_to="quorum_queues")],
     (5, None, None)),
]


@pytest.mark.parametrize(("queues", "policies", "expected"), PRECEDENCE)
def test_policies_and_queue_arguments_combine_as_rabbitmq_resolves_them(
        tmp_path: Path, queues: list[str], policies: list[str],
        expected: tuple[int | None, str | None, int | None]) -> None:
    assert _delivery_and_capacity(rabbit(tmp_path, *queues, *policies)) == expected


def test_a_drop_head_length_limit_is_noted_not_carried(tmp_path: Path) -> None:
    imported = rabbit(tmp_path, queue("orders", **{"x-max-length": 100}),
                      policy("p", "orders", {"message-ttl": 60000}))
    assert imported.system.components["rabbit"].capacity is None
    notes = " ".join(imported.notes)
    assert "drop-head, RabbitMQ's default" in notes and "not carried (no capacity)" in notes
    assert "spec.definition.message-ttl = 60000: messages expire" in notes


@pytest.mark.parametrize(("objects", "key", "dead", "noted"), [
    # a fanout exchange routes every dead letter to every queue bound to it: the first kept
    ([exchange("dlx", "fanout"), binding("a", "dlx", "orders-dead"),
      binding("b", "dlx", "audit")], None, "orders-dead", "also routes its dead letters to audit"),
    # a topic exchange, through an exchange-to-exchange binding
    ([exchange("dlx", "topic"), exchange("dead", "fanout"),
      binding("a", "dlx", "dead", "orders.#", destination_type="exchange"),
      binding("b", "dead", "orders-dead")], "orders.failed", "orders-dead", ""),
    ([exchange("dlx", "topic"), binding("a", "dlx", "orders-dead", "orders.*")],
     "payments.failed", None, "no Binding of exchange dlx routes routing key 'payments.failed'"),
    # a direct exchange without a dead-letter routing key: the message's own key decides
    ([exchange("dlx", "direct"), binding("a", "dlx", "orders-dead", "orders")], None, None,
     "no dead-letter-routing-key is set"),
    ([exchange("dlx", "headers"), binding("a", "dlx", "orders-dead")], None, None,
     "is a headers exchange"),
    ([], None, None, "exchange dlx is not in the files"),
])
def test_a_dead_letter_exchange_resolves_through_the_files_bindings(
        tmp_path: Path, objects: list[str], key: str | None, dead: str | None,
        noted: str) -> None:
    definition = {"dead-letter-exchange": "dlx"}
    if key is not None:
        definition["dead-letter-routing-key"] = key
    imported = rabbit(tmp_path, queue("orders"), queue("orders-dead", "classic"),
                      policy("p", "orders", definition), *objects)
    assert _delivery_and_capacity(imported)[1] == dead
    assert noted in " ".join(imported.notes)


@pytest.mark.parametrize("default", [
    _object("Vhost", "root", {"name": "/", "defaultQueueType": "quorum",
                              "rabbitmqClusterReference": {"name": "rabbit"}}),
    "additionalConfig"])
def test_a_queue_without_a_type_takes_its_vhosts_or_brokers_default(
        tmp_path: Path, default: str) -> None:
    cluster = CLUSTER if default != "additionalConfig" else CLUSTER.replace(
        "cluster_partition_handling = pause_minority",
        "cluster_partition_handling = pause_minority\n      default_queue_type = quorum")
    text = cluster + (default if default != "additionalConfig" else "") + \
        queue("orders", None) + WORKER
    imported = imported_from(tmp_path, text)
    # a quorum queue without a delivery limit: RabbitMQ 4's default of 20 returns
    assert _delivery_and_capacity(imported) == (21, None, None)
    without = imported_from(tmp_path, CLUSTER + queue("orders", None) + WORKER)
    assert without.system.components["rabbit"].delivery is None   # classic: nothing said


def test_a_policy_that_matches_no_queue_is_noted(tmp_path: Path) -> None:
    imported = rabbit(tmp_path, queue("orders"), policy("payments", "^payments$",
                                                        {"delivery-limit": 3}))
    assert any("Policy payments applies to no Queue" in note for note in imported.notes)


# -- SQS FIFO --------------------------------------------------------------------------------

FIFO = """\
apiVersion: sqs.services.k8s.aws/v1alpha1
kind: Queue
metadata: {name: jobs}
spec:
  queueName: jobs.fifo
  fifoQueue: "true"
  contentBasedDeduplication: "true"
  visibilityTimeout: "45"
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker}
spec:
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers: [{name: worker, image: acme/worker:1.0}]
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: worker}
spec:
  scaleTargetRef: {name: worker}
  triggers:
    - type: aws-sqs-queue
      metadata: {queueURL: "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs.fifo",
                 queueLength: "5", awsRegion: eu-west-1}
"""


def test_an_sqs_fifo_queues_deduplication_is_noted_not_carried(tmp_path: Path) -> None:
    """SQS deduplicates what is sent within its fixed 5-minute interval; the spec's
    dedup_window is an effectively-once consumer's: nothing is invented for it."""
    imported = imported_from(tmp_path, FIFO)
    jobs = imported.system.components["jobs-fifo"]
    assert jobs.delivery is not None
    assert (jobs.delivery.guarantee, jobs.delivery.visibility_timeout) == \
        ("at_least_once", 45.0)
    assert "dedup_window" not in imported.text and "effectively_once" not in imported.text
    note = next(n for n in imported.notes if "a FIFO queue" in n)
    assert "5-minute" in note and "SHA-256 of the body" in note and "not carried" in note


# -- bad values: exit 2, file, line, object and field ----------------------------------------

def _line_of(path: Path, text: str) -> int:
    return next(n for n, row in enumerate(path.read_text().splitlines(), 1) if text in row)


POLICY = policy("p", "orders", {"delivery-limit": 4, "overflow": "reject-publish"})


@pytest.mark.parametrize(("text", "old", "new", "message"), [
    (STRIMZI, "num.partitions: 6", "num.partitions: 0",
     "Kafka events spec.kafka.config.num.partitions: 0 is out of range: it must be at least 1"),
    (STRIMZI, "min.insync.replicas: 2", "min.insync.replicas: two",
     "Kafka events spec.kafka.config.min.insync.replicas: 'two' is not a whole number"),
    (STRIMZI, "roles: [broker]", "roles: [worker]",
     "KafkaNodePool brokers spec.roles[0]: 'worker' is not one of controller, broker"),
    (CLUSTER, "replicas: 3", "replicas: -1",
     "RabbitmqCluster rabbit spec.replicas: -1 is out of range"),
    (CLUSTER, "cluster_partition_handling = pause_minority", "default_queue_type = lazy",
     "RabbitmqCluster rabbit spec.rabbitmq.additionalConfig: default_queue_type 'lazy' is "
     "not one of classic, quorum, stream"),
    (POLICY, "delivery-limit: 4", "delivery-limit: four",
     "Policy p spec.definition.delivery-limit: 'four' is not a whole number"),
    (POLICY, "overflow: reject-publish", "overflow: drop-tail",
     "Policy p spec.definition.overflow: 'drop-tail' is not one of drop-head"),
    (POLICY, "pattern: orders", "pattern: '[orders'",
     "Policy p spec.pattern: '[orders' is not a regular expression"),
    (POLICY, "priority: 0", "priority: high", "Policy p spec.priority: 'high' is not a whole"),
    (queue("orders", **{"x-max-length": 10}), "x-max-length: 10", "x-max-length: -10",
     "Queue orders spec.arguments.x-max-length: -10 is out of range: it must be at least 0"),
    (queue("orders", **{"x-dead-letter-routing-key": "dead", "x-message-ttl": 5}),
     "x-dead-letter-routing-key: dead", "x-dead-letter-routing-key: dead",
     "Queue orders spec.arguments.x-dead-letter-routing-key: a dead-letter routing key "
     "without x-dead-letter-exchange"),
    (binding("b", "dlx", "orders"), "destinationType: queue", "destinationType: topic",
     "Binding b spec.destinationType: 'topic' is not one of exchange, queue"),
    (FIFO, 'fifoQueue: "true"', 'fifoQueue: "yes"',
     "Queue jobs spec.fifoQueue: 'yes' is not true or false"),
    (FIFO, "queueName: jobs.fifo", "queueName: jobs",
     "Queue jobs spec.queueName: 'jobs': a FIFO queue's name must end in .fifo"),
])
def test_a_value_the_broker_refuses_is_located(tmp_path: Path, text: str, old: str, new: str,
                                               message: str) -> None:
    assert old in text
    manifest = tmp_path / "brokers.yaml"
    manifest.write_text(text.replace(old, new, 1))
    with pytest.raises(ImportFailed) as caught:
        import_k8s([str(manifest)])
    [problem] = caught.value.problems
    # rabbitmq.conf is one block of text: its problems are at the key holding it
    where = "additionalConfig:" if "additionalConfig" in message else new
    assert (problem.file, problem.line) == (str(manifest), _line_of(manifest, where))
    assert problem.message.startswith(message), problem.message


def test_the_command_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    manifest = tmp_path / "brokers.yaml"
    manifest.write_text(CLUSTER + POLICY.replace("delivery-limit: 4", "delivery-limit: x")
                        + queue("orders") + WORKER)
    output = tmp_path / "system.yaml"
    result = CliRunner().invoke(app, ["import", "k8s", str(manifest), "-o", str(output)])
    assert result.exit_code == 2, result.output
    assert f"{manifest}:{_line_of(manifest, 'delivery-limit: x')}: Policy p " \
        "spec.definition.delivery-limit: 'x' is not a whole number" in result.stderr
    assert not output.exists()


# -- junk never crashes ------------------------------------------------------------------------

TOPOLOGY_JUNK = (".*", "[", "quorum", "fanout")
TOPOLOGY = (CLUSTER + queue("orders", **{"x-delivery-limit": 3, "x-max-length": 9})
            + queue("orders-dead", "classic") + exchange("dlx", "topic")
            + binding("b", "dlx", "orders-dead", "#")
            + policy("p", "^orders$", {"dead-letter-exchange": "dlx", "delivery-limit": 2,
                                       "overflow": "reject-publish", "max-length": 5})
            + policy("op", "orders", {"max-length": 3}, kind="OperatorPolicy")
            + _object("Vhost", "root", {"name": "/", "defaultQueueType": "quorum",
                                        "rabbitmqClusterReference": {"name": "rabbit"}})
            + WORKER)




@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_strange_values_in_operator_objects_are_noted_or_located(data: st.DataObject) -> None:
    source = data.draw(st.sampled_from([STRIMZI, TOPOLOGY, FIFO]))
    documents = list(yaml.safe_load_all(source))
    chosen = data.draw(st.sampled_from([d for d in documents if d and d["kind"] in (
        "Kafka", "KafkaNodePool", "KafkaTopic", "RabbitmqCluster", "Queue", "Policy",
        "OperatorPolicy", "Exchange", "Binding", "Vhost")]))
    spoil(data, chosen["spec"], TOPOLOGY_JUNK)
    assert_noted_or_located(yaml.safe_dump_all([d for d in documents if d], sort_keys=False))
