"""A value an HPA, a KEDA ScaledObject, an Argo Rollout or the AnalysisTemplate it names
holds that the real system refuses is bad input: file, line, object and field, exit 2,
nothing written — never noted and left out as if it were not set. Values the importer does
not read stay unread, and values the systems take still import."""

from __future__ import annotations

from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.importers.test_control import ARGO, HPA, KEDA
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.importers import ImportFailed, import_k8s

FIXTURES = {"hpa": HPA, "keda": KEDA, "argo": ARGO}
Changes = dict[str, Any]


def _write(tmp_path: Path, fixture: str, kind: str, name: str, changes: Changes) -> Path:
    """The fixture with `changes` (dotted paths, list indexes as numbers; a missing mapping
    on the way is made) in the object `kind` `name`."""
    documents = [d for d in yaml.safe_load_all(FIXTURES[fixture]) if d]
    target = next(d for d in documents if (d["kind"], d["metadata"]["name"]) == (kind, name))
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = target
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        node[int(leaf) if isinstance(node, list) else leaf] = deepcopy(value)
    manifest = tmp_path / f"{fixture}.yaml"
    manifest.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return manifest


def _line(manifest: Path, leaf: str, value: Any) -> int:
    """The line that writes `leaf: value` (the one bad value in the file)."""
    rows = manifest.read_text().splitlines()
    return next(number for number, row in enumerate(rows, 1)
                if row.strip().removeprefix("- ").startswith(f"{leaf}: ")
                and yaml.safe_load(row.split(": ", 1)[1]) == value)


BEHAVIOR = "spec.behavior"
KEDA_BEHAVIOR = "spec.advanced.horizontalPodAutoscalerConfig.behavior"
CANARY = "spec.strategy.canary"
# (fixture, kind, name, changes, (leaf, value) of the line named, message)
BAD: list[tuple[str, str, str, Changes, tuple[str, Any], str]] = [
    # HorizontalPodAutoscaler: Kubernetes' autoscaling validation
    ("hpa", "HorizontalPodAutoscaler", "checkout", {"spec.maxReplicas": 0},
     ("maxReplicas", 0), "spec.maxReplicas: 0 is out of range: it must be at least 1"),
    ("hpa", "HorizontalPodAutoscaler", "checkout", {"spec.minReplicas": -2},
     ("minReplicas", -2), "spec.minReplicas: -2 is out of range: it must be at least 0"),
    ("hpa", "HorizontalPodAutoscaler", "checkout", {"spec.minReplicas": "three"},
     ("minReplicas", "three"), "spec.minReplicas: 'three' is not a whole number"),
    ("hpa", "HorizontalPodAutoscaler", "checkout", {"spec.minReplicas": 60},
     ("maxReplicas", 50),
     "spec.maxReplicas: 50 is out of range: it must be at least spec.minReplicas (60)"),
    ("hpa", "HorizontalPodAutoscaler", "checkout",
     {"spec.metrics.0.resource.target.averageUtilization": 0}, ("averageUtilization", 0),
     "spec.metrics[0].resource.target.averageUtilization: 0 is out of range: it must be at "
     "least 1"),
    ("hpa", "HorizontalPodAutoscaler", "checkout",
     {"spec.metrics.0.resource.target.averageUtilization": "sixty"},
     ("averageUtilization", "sixty"), "averageUtilization: 'sixty' is not a whole number"),
    ("hpa", "HorizontalPodAutoscaler", "checkout",
     {"spec.metrics.1.pods.target.averageValue": "-150"}, ("averageValue", "-150"),
     "spec.metrics[1].pods.target.averageValue: '-150' is out of range: it must be greater "
     "than 0"),
    ("hpa", "HorizontalPodAutoscaler", "checkout", {"spec.targetCPUUtilizationPercentage": 0},
     ("targetCPUUtilizationPercentage", 0), "targetCPUUtilizationPercentage: 0 is out of "
     "range"),
    ("hpa", "HorizontalPodAutoscaler", "checkout", {"spec.metrics.0": {
        "type": "ContainerResource", "containerResource": {
            "name": "cpu", "container": "checkout",
            "target": {"type": "Utilization", "averageUtilization": -5}}}},
     ("averageUtilization", -5), "spec.metrics[0].containerResource.target.averageUtilization: "
     "-5 is out of range: it must be at least 1"),
    ("hpa", "HorizontalPodAutoscaler", "checkout",             # autoscaling/v2beta1
     {"spec.metrics.0": {"type": "Resource", "resource": {"name": "cpu",
                                                          "targetAverageUtilization": 0}}},
     ("targetAverageUtilization", 0), "spec.metrics[0].resource.targetAverageUtilization: 0 "
     "is out of range: it must be at least 1"),
    ("hpa", "HorizontalPodAutoscaler", "checkout",
     {"spec.metrics.0": {"type": "Resource", "resource": {"name": "cpu",
                                                          "targetAverageValue": "0m"}}},
     ("targetAverageValue", "0m"), "spec.metrics[0].resource.targetAverageValue: '0m' is out "
     "of range: it must be greater than 0"),
    ("hpa", "HorizontalPodAutoscaler", "checkout", {"spec.metrics.1": {
        "type": "Object", "object": {
            "metric": {"name": "requests_per_second"},
            "describedObject": {"apiVersion": "v1", "kind": "Service", "name": "checkout"},
            "target": {"type": "AverageValue", "averageValue": "lots"}}}},
     ("averageValue", "lots"), "spec.metrics[1].object.target.averageValue: 'lots' is not a "
     "quantity"),
    ("hpa", "HorizontalPodAutoscaler", "checkout",
     {f"{BEHAVIOR}.scaleUp.stabilizationWindowSeconds": 7200},
     ("stabilizationWindowSeconds", 7200), "spec.behavior.scaleUp.stabilizationWindowSeconds: "
     "7200 is out of range: it must be at least 0 and at most 3600"),
    ("hpa", "HorizontalPodAutoscaler", "checkout", {f"{BEHAVIOR}.scaleDown.selectPolicy":
                                                    "Maximum"},
     ("selectPolicy", "Maximum"), "spec.behavior.scaleDown.selectPolicy: 'Maximum' is not one "
     "of Max, Min, Disabled"),
    ("hpa", "HorizontalPodAutoscaler", "checkout",
     {f"{BEHAVIOR}.scaleUp.policies.0.type": "Replicas"}, ("type", "Replicas"),
     "spec.behavior.scaleUp.policies[0].type: 'Replicas' is not one of Pods, Percent"),
    ("hpa", "HorizontalPodAutoscaler", "checkout", {f"{BEHAVIOR}.scaleUp.policies.1.value": 0},
     ("value", 0), "spec.behavior.scaleUp.policies[1].value: 0 is out of range: it must be at "
     "least 1"),
    ("hpa", "HorizontalPodAutoscaler", "checkout",
     {f"{BEHAVIOR}.scaleDown.policies.0.periodSeconds": 3600}, ("periodSeconds", 3600),
     "spec.behavior.scaleDown.policies[0].periodSeconds: 3600 is out of range: it must be at "
     "least 1 and at most 1800"),
    # the Deployment's rolling update: Kubernetes' apps validation
    ("hpa", "Deployment", "checkout", {"spec.strategy.rollingUpdate.maxUnavailable": "150%"},
     ("maxUnavailable", "150%"), "spec.strategy.rollingUpdate.maxUnavailable: '150%' is out "
     "of range: it must be at most 100%"),
    ("hpa", "Deployment", "checkout", {"spec.strategy.rollingUpdate.maxSurge": "2"},
     ("maxSurge", "2"), "maxSurge: '2' is not a whole number or a percent"),
    ("hpa", "Deployment", "checkout", {"spec.strategy.rollingUpdate.maxSurge": "0%",
                                       "spec.strategy.rollingUpdate.maxUnavailable": 0},
     ("maxUnavailable", 0), "spec.strategy.rollingUpdate.maxUnavailable: 0 is out of range: "
     "it may not be 0 when maxSurge is 0"),
    ("hpa", "Deployment", "checkout", {"spec.strategy.type": "BlueGreen"},
     ("type", "BlueGreen"), "spec.strategy.type: 'BlueGreen' is not one of Recreate, "
     "RollingUpdate"),
    # KEDA ScaledObject: the CRD's minimums and rule, the scalers' parsing
    ("keda", "ScaledObject", "mailer", {"spec.maxReplicaCount": 0}, ("maxReplicaCount", 0),
     "spec.maxReplicaCount: 0 is out of range: it must be at least 1"),
    ("keda", "ScaledObject", "mailer", {"spec.pollingInterval": 0}, ("pollingInterval", 0),
     "spec.pollingInterval: 0 is out of range: it must be at least 1"),
    ("keda", "ScaledObject", "mailer", {"spec.cooldownPeriod": -1}, ("cooldownPeriod", -1),
     "spec.cooldownPeriod: -1 is out of range: it must be at least 0"),
    ("keda", "ScaledObject", "mailer", {"spec.minReplicaCount": "none"},
     ("minReplicaCount", "none"), "spec.minReplicaCount: 'none' is not a whole number"),
    ("keda", "ScaledObject", "indexer", {"spec.minReplicaCount": 20}, ("maxReplicaCount", 12),
     "spec.maxReplicaCount: 12 is out of range: it must be at least spec.minReplicaCount (20)"),
    ("keda", "ScaledObject", "indexer", {"spec.minReplicaCount": 150,
                                         "spec.maxReplicaCount": None},
     ("minReplicaCount", 150), "spec.minReplicaCount: 150 is out of range: it must be at most "
     "spec.maxReplicaCount (100 when unset)"),
    ("keda", "ScaledObject", "mailer", {"spec.triggers.0.metadata.value": "lots"},
     ("value", "lots"), "spec.triggers[0].metadata.value: 'lots' is not a number"),
    ("keda", "ScaledObject", "mailer", {"spec.triggers.0.metadata.value": "0"},
     ("value", "0"), "spec.triggers[0].metadata.value: '0' is out of range: it must be "
     "greater than 0"),
    ("keda", "ScaledObject", "mailer", {"spec.triggers.0.metadata.value": 25},
     ("value", 25), "spec.triggers[0].metadata.value: 25 is not text: KEDA's trigger metadata "
     "holds strings (write '25')"),
    ("keda", "ScaledObject", "mailer", {"spec.triggers.0.metadata.activationValue": "five"},
     ("activationValue", "five"), "metadata.activationValue: 'five' is not a number"),
    ("keda", "ScaledObject", "indexer", {"spec.triggers.0.metadata.lagThreshold": "2.5"},
     ("lagThreshold", "2.5"), "spec.triggers[0].metadata.lagThreshold: '2.5' is not a whole "
     "number"),
    ("keda", "ScaledObject", "indexer", {"spec.triggers.0.metadata.lagThreshold": "-10"},
     ("lagThreshold", "-10"), "lagThreshold: '-10' is out of range: it must be greater than 0"),
    ("keda", "ScaledObject", "indexer", {"spec.triggers.2.metadata.value": "70%"},
     ("value", "70%"), "spec.triggers[2].metadata.value: '70%' is not a whole number"),
    ("keda", "ScaledObject", "indexer", {"spec.triggers.2.metricType": "AverageValue",
                                         "spec.triggers.2.metadata.value": "some"},
     ("value", "some"), "spec.triggers[2].metadata.value: 'some' is not a quantity"),
    ("keda", "ScaledObject", "mailer", {"spec.triggers.0.metadata": {   # before mode/value
        "queueName": "emails", "queueLength": "0", "hostFromEnv": "RABBITMQ_URL"}},
     ("queueLength", "0"), "spec.triggers[0].metadata.queueLength: '0' is out of range: it "
     "must be greater than 0"),
    ("keda", "ScaledObject", "indexer", {"spec.triggers.0": {
        "type": "aws-sqs-queue", "metadata": {"queueURL": "https://sqs/1/documents",
                                              "queueLength": "x", "awsRegion": "eu-west-1"}}},
     ("queueLength", "x"), "spec.triggers[0].metadata.queueLength: 'x' is not a whole number"),
    ("keda", "ScaledObject", "indexer", {"spec.triggers.0": {
        "type": "aws-sqs-queue", "metadata": {"queueURL": "https://sqs/1/documents",
                                              "activationQueueLength": "0.5"}}},
     ("activationQueueLength", "0.5"), "metadata.activationQueueLength: '0.5' is not a whole "
     "number"),
    ("keda", "ScaledObject", "indexer", {"spec.triggers.0": {
        "type": "redis", "metadata": {"address": "kafka:9092", "listName": "documents",
                                      "listLength": "-1", "activationListLength": "1"}}},
     ("listLength", "-1"), "spec.triggers[0].metadata.listLength: '-1' is out of range"),
    ("keda", "ScaledObject", "indexer", {"spec.triggers.0": {
        "type": "redis", "metadata": {"address": "kafka:9092", "listName": "documents",
                                      "activationListLength": "one"}}},
     ("activationListLength", "one"), "metadata.activationListLength: 'one' is not a whole "
     "number"),
    ("keda", "ScaledObject", "indexer", {"spec.triggers.0": {
        "type": "nats-jetstream", "name": "kafka",
        "metadata": {"natsServerMonitoringEndpoint": "kafka:8222", "stream": "documents",
                     "consumer": "indexer", "lagThreshold": "1.5"}}},
     ("lagThreshold", "1.5"), "spec.triggers[0].metadata.lagThreshold: '1.5' is not a whole "
     "number"),
    ("keda", "ScaledObject", "indexer", {"spec.triggers.0": {
        "type": "prometheus", "name": "kafka",
        "metadata": {"serverAddress": "http://prometheus:9090", "query": "sum(backlog)",
                     "threshold": "a lot"}}},
     ("threshold", "a lot"), "spec.triggers[0].metadata.threshold: 'a lot' is not a number"),
    ("keda", "ScaledObject", "indexer", {"spec.triggers.0": {
        "type": "prometheus", "name": "kafka",
        "metadata": {"serverAddress": "http://prometheus:9090", "query": "sum(backlog)",
                     "threshold": "2.5", "activationThreshold": ".5"}}},
     ("activationThreshold", ".5"), "metadata.activationThreshold: '.5' is not a number"),
    ("keda", "ScaledObject", "indexer",
     {f"{KEDA_BEHAVIOR}.scaleDown.policies.0.periodSeconds": 0}, ("periodSeconds", 0),
     "horizontalPodAutoscalerConfig.behavior.scaleDown.policies[0].periodSeconds: 0 is out of "
     "range: it must be at least 1 and at most 1800"),
    # Argo Rollouts: the CRD's types, the controller's validation
    ("argo", "Rollout", "checkout", {f"{CANARY}.steps.0.setWeight": 150}, ("setWeight", 150),
     "spec.strategy.canary.steps[0].setWeight: 150 is out of range: it must be at least 0 and "
     "at most 100"),
    ("argo", "Rollout", "checkout", {f"{CANARY}.steps.1.pause.duration": "soon"},
     ("duration", "soon"), "spec.strategy.canary.steps[1].pause.duration: 'soon' is not a "
     "duration"),
    ("argo", "Rollout", "checkout", {f"{CANARY}.steps.1.pause.duration": -30},
     ("duration", -30), "steps[1].pause.duration: -30 is out of range: it must not be "
     "negative"),
    ("argo", "Rollout", "checkout", {f"{CANARY}.maxSurge": "3"}, ("maxSurge", "3"),
     "spec.strategy.canary.maxSurge: '3' is not a whole number or a percent"),
    ("argo", "Rollout", "checkout", {f"{CANARY}.maxSurge": 0, f"{CANARY}.maxUnavailable": "0%"},
     ("maxSurge", 0), "spec.strategy.canary.maxSurge: 0 is out of range: it may not be 0 when "
     "maxUnavailable is 0"),
    ("argo", "Rollout", "checkout", {f"{CANARY}.analysis.startingStep": "six"},
     ("startingStep", "six"), "analysis.startingStep: 'six' is not a whole number"),
    ("argo", "Rollout", "checkout", {f"{CANARY}.maxUnavailable": "some"},
     ("maxUnavailable", "some"), "canary.maxUnavailable: 'some' is not a whole number or a "
     "percent"),
    ("argo", "Rollout", "checkout", {f"{CANARY}.scaleDownDelaySeconds": "30s"},
     ("scaleDownDelaySeconds", "30s"), "canary.scaleDownDelaySeconds: '30s' is not a whole "
     "number"),
    ("argo", "Rollout", "checkout", {f"{CANARY}.abortScaleDownDelaySeconds": 1.5},
     ("abortScaleDownDelaySeconds", 1.5), "canary.abortScaleDownDelaySeconds: 1.5 is not a "
     "whole number"),
    ("argo", "Rollout", "search", {"spec.strategy.blueGreen.previewReplicaCount": "two"},
     ("previewReplicaCount", "two"), "blueGreen.previewReplicaCount: 'two' is not a whole "
     "number"),
    ("argo", "Rollout", "search", {"spec.strategy.blueGreen.autoPromotionSeconds": "1m"},
     ("autoPromotionSeconds", "1m"), "blueGreen.autoPromotionSeconds: '1m' is not a whole "
     "number"),
    ("argo", "Rollout", "search", {"spec.strategy.blueGreen.abortScaleDownDelaySeconds": "x"},
     ("abortScaleDownDelaySeconds", "x"), "blueGreen.abortScaleDownDelaySeconds: 'x' is not a "
     "whole number"),
    ("argo", "Rollout", "search", {"spec.strategy.blueGreen.scaleDownDelaySeconds": "60s"},
     ("scaleDownDelaySeconds", "60s"), "spec.strategy.blueGreen.scaleDownDelaySeconds: '60s' "
     "is not a whole number"),
    ("argo", "Rollout", "search", {"spec.strategy.blueGreen.autoPromotionEnabled": "no"},
     ("autoPromotionEnabled", "no"), "autoPromotionEnabled: 'no' is not true or false"),
    ("argo", "AnalysisTemplate", "success-rate", {"spec.metrics.0.interval": "5 minutes"},
     ("interval", "5 minutes"), "spec.metrics[0].interval: '5 minutes' is not a duration"),
    ("argo", "AnalysisTemplate", "success-rate", {"spec.metrics.0.failureLimit": -2},
     ("failureLimit", -2), "spec.metrics[0].failureLimit: -2 is out of range: it must be at "
     "least -1"),
    ("argo", "AnalysisTemplate", "latency", {"spec.metrics.0.initialDelay": 30},
     ("initialDelay", 30), "spec.metrics[0].initialDelay: 30 is not a duration"),
    ("argo", "ClusterAnalysisTemplate", "smoke-errors",
     {"spec.metrics.0.inconclusiveLimit": -1}, ("inconclusiveLimit", -1),
     "spec.metrics[0].inconclusiveLimit: -1 is out of range: it must be at least 0"),
    ("argo", "AnalysisTemplate", "latency", {"spec.metrics.0.consecutiveErrorLimit": -4},
     ("consecutiveErrorLimit", -4), "spec.metrics[0].consecutiveErrorLimit: -4 is out of "
     "range: it must be at least 0"),
]

BAD += [("keda", "ScaledObject", "indexer", {"spec.triggers.0": {
    "type": kind, "name": "kafka", "metadata": {"bootstrapServers": "kafka:9092",
                                                "natsServerMonitoringEndpoint": "kafka:8222",
                                                "activationLagThreshold": "1 message"}}},
         ("activationLagThreshold", "1 message"), "spec.triggers[0].metadata."
         "activationLagThreshold: '1 message' is not a whole number")
        for kind in ("kafka", "nats-jetstream")]


def _behavior_cases() -> list[tuple[str, str, str, Changes, tuple[str, Any], str]]:
    """Each field of each direction of an HPA's behavior, and of a ScaledObject's."""
    valid = {"stabilizationWindowSeconds": 60, "selectPolicy": "Max",
             "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15}]}
    bad = [("stabilizationWindowSeconds", 3601, "3601 is out of range: it must be at least 0 "
            "and at most 3600"), ("selectPolicy", "max", "'max' is not one of Max, Min, "
            "Disabled"), ("policies.0.type", "pods", "'pods' is not one of Pods, Percent"),
           ("policies.0.value", -1, "-1 is out of range: it must be at least 1"),
           ("policies.0.periodSeconds", 1801, "1801 is out of range: it must be at least 1 "
            "and at most 1800")]
    return [(fixture, kind, name, {f"{prefix}.{direction}": valid,
                                   f"{prefix}.{direction}.{field}": value},
             (field.rsplit(".", 1)[-1], value),
             f"{prefix}.{direction}.{field.replace('.0.', '[0].')}: {message}")
            for fixture, kind, name, prefix in (
                ("hpa", "HorizontalPodAutoscaler", "checkout", BEHAVIOR),
                ("keda", "ScaledObject", "indexer", KEDA_BEHAVIOR))
            for direction in ("scaleUp", "scaleDown") for field, value, message in bad]


def _target_cases() -> list[tuple[str, str, str, Changes, tuple[str, Any], str]]:
    """Each target field the importer reads, of a cpu metric and of a request metric, in
    the v2 and the v2beta1 shape."""
    cases: list[tuple[str, str, str, Changes, tuple[str, Any], str]] = []
    for metric_type, field, name, index in (
            ("Resource", "resource", "cpu", 0), ("ContainerResource", "containerResource",
                                                 "cpu", 0),
            ("Pods", "pods", "requests_per_second", 1),
            ("Object", "object", "requests_per_second", 1)):
        shapes = [("target.averageValue", "0"), ("targetAverageValue", "-1")]
        if index == 0:
            shapes += [("target.averageUtilization", 0), ("targetAverageUtilization", -1)]
        for shape, value in shapes:
            body: dict[str, Any] = {"name": name, "container": "checkout"} if index == 0 \
                else {"metric": {"name": name}}
            *parents, leaf = shape.split(".")
            (body.setdefault("target", {}) if parents else body)[leaf] = value
            message = "must be greater than 0" if "Value" in leaf else "must be at least 1"
            cases.append(("hpa", "HorizontalPodAutoscaler", "checkout",
                          {f"spec.metrics.{index}": {"type": metric_type, field: body}},
                          (leaf, value), f"spec.metrics[{index}].{field}.{shape}: {value!r} "
                          f"is out of range: it {message}"))
    return cases


BAD += _behavior_cases() + _target_cases()


@pytest.mark.parametrize(("fixture", "kind", "name", "changes", "at", "message"), BAD,
                         ids=[f"{kind}-{next(iter(changes))}-{i}"
                              for i, (_, kind, _, changes, _, _) in enumerate(BAD)])
def test_a_refused_value_names_file_line_object_and_field(
        tmp_path: Path, fixture: str, kind: str, name: str, changes: Changes,
        at: tuple[str, Any], message: str) -> None:
    manifest = _write(tmp_path, fixture, kind, name, changes)
    with pytest.raises(ImportFailed) as caught:
        import_k8s([str(manifest)])
    assert [(p.file, p.line) for p in caught.value.problems] == \
        [(str(manifest), _line(manifest, *at))]
    problem = caught.value.problems[0].message
    assert problem.startswith(f"{kind} {name} ") and message in problem, problem


def test_every_refused_value_is_listed_exit_2_and_nothing_written(tmp_path: Path) -> None:
    hpa = _write(tmp_path, "hpa", "HorizontalPodAutoscaler", "checkout",
                 {"spec.maxReplicas": 0, f"{BEHAVIOR}.scaleUp.selectPolicy": "Most"})
    keda = _write(tmp_path, "keda", "ScaledObject", "mailer",
                  {"spec.pollingInterval": 0, "spec.triggers.0.metadata.value": "many"})
    argo = _write(tmp_path, "argo", "Rollout", "checkout", {f"{CANARY}.steps.0.setWeight": 101})
    output = tmp_path / "system.yaml"
    result = CliRunner().invoke(app, ["import", "k8s", str(hpa), str(keda), str(argo), "-o",
                                      str(output)])
    assert result.exit_code == 2, result.output
    for expected in (f"{hpa}:", "spec.maxReplicas: 0 is out of range",
                     "selectPolicy: 'Most' is not one of", f"{keda}:",
                     "spec.pollingInterval: 0 is out of range",
                     "metadata.value: 'many' is not a number", f"{argo}:",
                     "setWeight: 101 is out of range"):
        assert expected in result.stderr, expected
    assert not output.exists()


# Values the systems take, or the importer does not read: they import as before.
GOOD: list[tuple[str, str, str, Changes]] = [
    ("hpa", "HorizontalPodAutoscaler", "checkout", {"spec.minReplicas": 0}),   # HPAScaleToZero
    ("hpa", "HorizontalPodAutoscaler", "checkout",      # memory: not read, only noted
     {"spec.metrics.3.resource.target.averageUtilization": "lots"}),
    ("hpa", "HorizontalPodAutoscaler", "checkout",      # External: not read
     {"spec.metrics.2.external.target.averageValue": "-1"}),
    ("hpa", "Deployment", "checkout", {"spec.strategy.rollingUpdate.maxSurge": 0,
                                       "spec.strategy.rollingUpdate.maxUnavailable": "100%"}),
    ("keda", "ScaledObject", "indexer", {"spec.minReplicaCount": 12}),          # min = max
    ("keda", "ScaledObject", "indexer",                 # cron: not read, only noted
     {"spec.triggers.1.metadata.desiredReplicas": "four"}),
    ("keda", "ScaledObject", "mailer",                  # a rate mode: noted, not read
     {"spec.triggers.0.metadata.mode": "MessageRate",
      "spec.triggers.0.metadata.value": "lots"}),
    ("keda", "ScaledObject", "indexer",                 # a total (Value): noted, not read
     {"spec.triggers.0.metricType": "Value", "spec.triggers.0.metadata.lagThreshold": "lots"}),
    ("argo", "Rollout", "checkout", {f"{CANARY}.steps.1.pause.duration": "90"}),  # seconds
    ("argo", "Rollout", "checkout", {f"{CANARY}.maxUnavailable": "150%"}),  # Argo: no cap
    ("argo", "AnalysisTemplate", "success-rate",        # an argument, filled in at run time
     {"spec.metrics.0.interval": "{{args.interval}}", "spec.metrics.0.failureLimit": -1}),
]


@pytest.mark.parametrize(("fixture", "kind", "name", "changes"), GOOD)
def test_values_the_systems_take_or_the_importer_ignores_still_import(
        tmp_path: Path, fixture: str, kind: str, name: str, changes: Changes) -> None:
    assert import_k8s([str(_write(tmp_path, fixture, kind, name, changes))]).system.components


def test_an_analysis_template_no_rollout_names_is_not_read(tmp_path: Path) -> None:
    unused = ("---\napiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\n"
              "metadata: {name: unused, namespace: shop}\nspec:\n  metrics:\n"
              "    - {name: m, interval: whenever, failureLimit: -5,\n"
              "       provider: {prometheus: {query: up}}}\n")
    manifest = tmp_path / "argo.yaml"
    manifest.write_text(ARGO + unused)
    assert import_k8s([str(manifest)]).system.components["checkout"].rollout is not None
    manifest.write_text(ARGO + unused.replace("name: unused", "name: latency-2") +
                        "---\n" + ARGO.split("---")[0].replace(
                            "templateName: latency", "templateName: latency-2"))
    with pytest.raises(ImportFailed, match=r"AnalysisTemplate latency-2 spec.metrics\[0\]"
                                           r".interval: 'whenever' is not a duration"):
        import_k8s([str(manifest)])
