"""A Kafka queue's StatefulSet runs the apache/kafka image as a KRaft cluster clients can
reach. Given any KAFKA_* variable the image drops its bundled single-node settings
(advertised.listeners PLAINTEXT://localhost:9092, log.dirs /tmp/kraft-combined-logs, one
partition), so every setting those defaults carried must be given, and consistently: the
listeners the pods advertise are their own DNS names under the headless Service, the logs on
the mounted volume, one voter per pod, replication no wider than the pods."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import yaml
from tests.generate.helpers import OPTIONS, by_kind, documents
from tests.generate.test_schemas import k8s_errors

from scalesim.generate import GenerateError, GenerateOptions, Target, render
from scalesim.spec import System, load_spec_text

SPEC = """\
scalesim: 1
name: shop
components:
  orders: {{operations: {{create: {{work: 1ms, calls: [{{to: order-events.publish}}]}}}}}}
  order-events:
    kind: queue
    tech: kafka
    replicas: {replicas}
    consumers: [{{to: email.send, concurrency: 16}}]
  email: {{replicas: 2, workers: 4, operations: {{send: {{work: 20ms}}}}}}
workloads: [{{name: w, to: orders.create, rate: 10/s}}]
"""
# The settings the image's single-node defaults carry (docker/resources/common-scripts):
# a KRaft node needs each of them.
KRAFT = {"CLUSTER_ID", "KAFKA_NODE_ID", "KAFKA_PROCESS_ROLES", "KAFKA_LISTENERS",
         "KAFKA_ADVERTISED_LISTENERS", "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
         "KAFKA_CONTROLLER_LISTENER_NAMES", "KAFKA_INTER_BROKER_LISTENER_NAME",
         "KAFKA_CONTROLLER_QUORUM_VOTERS", "KAFKA_LOG_DIRS",
         "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
         "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
         "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"}
POD_INDEX = "metadata.labels['apps.kubernetes.io/pod-index']"


def spec(replicas: int = 1) -> System:
    return load_spec_text(SPEC.format(replicas=replicas))


def objects(system: System, options: GenerateOptions = OPTIONS) -> list[dict[str, Any]]:
    return documents(render(system, [Target.K8S, Target.KEDA], options))


def kafka(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return by_kind(docs, "StatefulSet")["order-events"]


def env_of(stateful_set: dict[str, Any]) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = stateful_set["spec"]["template"]["spec"]["containers"][0]["env"]
    return env


def values(stateful_set: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in env_of(stateful_set) if "value" in item}


def listeners(text: str) -> dict[str, str]:
    """NAME://host:port,... → {NAME: 'host:port'}."""
    return dict(entry.split("://") for entry in text.split(","))


@pytest.mark.parametrize("replicas", [1, 3])
def test_every_kraft_setting_is_given(replicas: int) -> None:
    names = [item["name"] for item in env_of(kafka(objects(spec(replicas))))]
    assert set(names) >= KRAFT
    assert len(names) == len(set(names))


@pytest.mark.parametrize("replicas", [1, 3])
def test_clients_are_told_the_pods_own_names(replicas: int) -> None:
    """Advertised: the pod's DNS name under the headless Service, on the Service's port,
    $(POD_NAME) defined before it (Kubernetes expands only earlier variables)."""
    docs = objects(spec(replicas))
    stateful_set = kafka(docs)
    service = by_kind(docs, "Service")["order-events"]
    env = env_of(stateful_set)
    names = [item["name"] for item in env]
    assert env[names.index("POD_NAME")]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    advertised = listeners(values(stateful_set)["KAFKA_ADVERTISED_LISTENERS"])
    host = (f"$(POD_NAME).{stateful_set['spec']['serviceName']}.{OPTIONS.namespace}"
            ".svc.cluster.local")
    assert advertised == {"PLAINTEXT": f"{host}:{service['spec']['ports'][0]['port']}"}
    assert names.index("POD_NAME") < names.index("KAFKA_ADVERTISED_LISTENERS")
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["publishNotReadyAddresses"] is True
    keda = by_kind(docs, "ScaledObject")["email"]["spec"]["triggers"][0]["metadata"]
    assert keda["bootstrapServers"] == (f"{service['metadata']['name']}.{OPTIONS.namespace}"
                                        f".svc.cluster.local:{service['spec']['ports'][0]['port']}")


@pytest.mark.parametrize("replicas", [1, 3])
def test_listeners_agree_with_each_other(replicas: int) -> None:
    settings = values(kafka(objects(spec(replicas))))
    bound = listeners(settings["KAFKA_LISTENERS"])
    protocols = dict(entry.split(":") for entry in
                     settings["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert set(bound) == set(protocols)
    assert set(listeners(settings["KAFKA_ADVERTISED_LISTENERS"])) <= set(bound)
    assert settings["KAFKA_CONTROLLER_LISTENER_NAMES"] in bound
    assert settings["KAFKA_INTER_BROKER_LISTENER_NAME"] in bound
    assert settings["KAFKA_CONTROLLER_LISTENER_NAMES"] != \
        settings["KAFKA_INTER_BROKER_LISTENER_NAME"]
    assert "broker" in settings["KAFKA_PROCESS_ROLES"].split(",")
    assert "controller" in settings["KAFKA_PROCESS_ROLES"].split(",")


@pytest.mark.parametrize("replicas", [1, 3])
def test_every_pod_is_a_voter_at_its_own_name(replicas: int) -> None:
    stateful_set = kafka(objects(spec(replicas)))
    settings = values(stateful_set)
    # the controller listener binds every address: ":9093"
    port = listeners(settings["KAFKA_LISTENERS"])[settings["KAFKA_CONTROLLER_LISTENER_NAMES"]]
    name, service = stateful_set["metadata"]["name"], stateful_set["spec"]["serviceName"]
    assert settings["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",") == [
        f"{index}@{name}-{index}.{service}.{OPTIONS.namespace}.svc.cluster.local"
        f"{port}" for index in range(replicas)]
    assert stateful_set["spec"]["replicas"] == replicas
    assert stateful_set["spec"]["podManagementPolicy"] == "Parallel"


def test_one_pod_is_node_0_and_several_take_their_ordinal() -> None:
    one = next(item for item in env_of(kafka(objects(spec(1))))
               if item["name"] == "KAFKA_NODE_ID")
    assert one["value"] == "0"
    several = next(item for item in env_of(kafka(objects(spec(3))))
                   if item["name"] == "KAFKA_NODE_ID")
    assert several["valueFrom"]["fieldRef"]["fieldPath"] == POD_INDEX


@pytest.mark.parametrize("replicas", [1, 2, 3, 5])
def test_replication_fits_the_pods(replicas: int) -> None:
    settings = values(kafka(objects(spec(replicas))))
    factors = [int(settings[key]) for key in (
        "KAFKA_DEFAULT_REPLICATION_FACTOR", "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR")]
    assert all(1 <= factor <= replicas for factor in factors)
    assert 1 <= int(settings["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"]) <= min(factors)


def test_the_logs_are_on_the_volume_and_the_topic_has_its_partitions() -> None:
    docs = objects(spec())
    stateful_set = kafka(docs)
    settings = values(stateful_set)
    mounts = {mount["name"]: mount["mountPath"] for mount in
              stateful_set["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]}
    assert settings["KAFKA_LOG_DIRS"].startswith(mounts["data"] + "/")
    assert stateful_set["spec"]["template"]["spec"]["securityContext"]["fsGroup"] == 1000
    broker = json.loads(by_kind(docs, "ConfigMap")["order-events-settings"]["data"]
                        ["broker.json"])
    assert int(settings["KAFKA_NUM_PARTITIONS"]) == broker["topic"]["partitions"] == 16


def test_the_heap_fits_the_container() -> None:
    stateful_set = kafka(objects(spec()))
    memory = stateful_set["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"][
        "memory"]
    heap = values(stateful_set)["KAFKA_HEAP_OPTS"].split()
    assert heap[0].startswith("-Xmx") and heap[0].endswith("m")
    assert int(heap[0][4:-1]) < int(memory.removesuffix("Mi"))


def test_the_cluster_id_is_a_uuid_kept_across_generations() -> None:
    first = values(kafka(objects(spec())))["CLUSTER_ID"]
    assert first == values(kafka(objects(spec())))["CLUSTER_ID"]
    assert len(base64.urlsafe_b64decode(first + "==")) == 16
    assert not first.startswith("-")


def test_several_pods_need_the_pod_index_label() -> None:
    """Kubernetes sets apps.kubernetes.io/pod-index from 1.28: older targets are refused
    for a cluster, named at the spec's replicas; one pod needs no label."""
    old = GenerateOptions(namespace="demo", k8s_version="1.27")
    with pytest.raises(GenerateError) as error:
        objects(spec(3), old)
    assert error.value.located[0].place == ("components", "order-events", "replicas")
    assert "1.28" in error.value.problems[0]
    assert values(kafka(objects(spec(1), old)))["KAFKA_CONTROLLER_QUORUM_VOTERS"]
    assert kafka(objects(spec(3), GenerateOptions(namespace="demo", k8s_version="1.28")))


@pytest.mark.parametrize("replicas", [1, 3])
def test_the_kafka_objects_validate(replicas: int) -> None:
    docs = documents(render(spec(replicas), Target.K8S, OPTIONS))
    errors = [error for doc in docs if doc["metadata"]["name"] == "order-events"
              for error in k8s_errors(doc)]
    assert errors == []


def test_an_autoscaled_cluster_votes_with_its_minimum_and_says_so() -> None:
    """KRaft's static voters cannot follow an autoscaler: they are the pods autoscale.min
    keeps, and the StatefulSet's note says a pod added beyond them is no controller."""
    scaled = "    workers: 8\n    autoscale: {min: 2, max: 4, metrics: [{cpu: 70%}]}\n"
    text = SPEC.format(replicas=2).replace("    replicas: 2\n", "    replicas: 2\n" + scaled)
    stateful_set = kafka(objects(load_spec_text(text)))
    assert len(values(stateful_set)["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")) == 2
    assert "autoscale.min" in stateful_set["metadata"]["annotations"]["scalesim.io/note"]


def test_the_chart_cannot_change_the_pods_the_voters_list() -> None:
    """Helm values set a StatefulSet's replicas; a Kafka cluster's voters would not follow,
    so its count is written into the template, not values.yaml."""
    chart = {file.path: file.content for file in render(spec(3), Target.HELM, OPTIONS)}
    values_yaml = next(text for path, text in chart.items() if path.endswith("values.yaml"))
    assert "replicas" not in yaml.safe_load(values_yaml)["components"]["order-events"]
    template = next(text for path, text in chart.items()
                    if path.endswith("templates/order-events.yaml"))
    assert "  replicas: 3\n" in template


@pytest.mark.parametrize(("replicas", "most_down"), [(1, 1), (2, 0), (3, 1), (5, 1)])
def test_a_drain_never_takes_the_voters_majority(replicas: int, most_down: int) -> None:
    """KRaft needs a majority of its voters (every pod): 2 voters lose it with one down,
    so their budget lets none go; 1 has no majority to keep, 3 or more keep it with one
    down, the budget every workload gets."""
    budget = by_kind(objects(spec(replicas)), "PodDisruptionBudget")["order-events"]
    assert budget["spec"]["maxUnavailable"] == most_down
    if replicas > 1:
        assert replicas - most_down > replicas // 2  # still a majority of the voters
