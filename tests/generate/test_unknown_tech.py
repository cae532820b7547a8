"""A database, cache or queue of a tech the generator has no image for is still a server with
data: a StatefulSet with a volume behind a headless Service, whose image is a placeholder
that never resolves and says so, with a warning at the component's `tech`. A managed queue
(SQS) has nothing to run in the cluster and keeps its stand-in's Deployment."""

from __future__ import annotations

from typing import Any

from tests.generate.helpers import OPTIONS, documents

from scalesim.generate import Target, render
from scalesim.generate.tech import PLACEHOLDER_REGISTRY, unknown_techs
from scalesim.spec import System, load_spec_text

SPEC = """
scalesim: 1
name: tsdata
components:
  ingest:
    operations:
      put: {work: 1ms, calls: [{to: tsdb.write}, {to: known.q}, {to: jobs.publish, async: true}]}
  tsdb:
    kind: database
    tech: timescaledb
    operations: {write: {work: 2ms}}
  known:
    kind: database
    tech: postgres
    operations: {q: {work: 1ms}}
  jobs:
    kind: queue
    tech: sqs
    consumers: [{to: ingest.put}]
workloads: [{name: w, to: ingest.put, rate: 10/s}]
"""


def _system() -> System:
    return load_spec_text(SPEC)


def _objects(target: Target) -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["kind"], d["metadata"]["name"]): d
            for d in documents(render(_system(), target, OPTIONS))}


def test_a_database_of_an_unknown_tech_is_a_stateful_set_with_a_volume() -> None:
    objects = _objects(Target.K8S)
    assert ("Deployment", "tsdb") not in objects
    spec = objects["StatefulSet", "tsdb"]["spec"]
    assert spec["serviceName"] == "tsdb"
    assert objects["Service", "tsdb"]["spec"]["clusterIP"] == "None"
    container = spec["template"]["spec"]["containers"][0]
    claim = spec["volumeClaimTemplates"][0]["metadata"]["name"]
    assert claim in {mount["name"] for mount in container["volumeMounts"]}


def test_its_image_is_a_placeholder_that_says_so() -> None:
    workload = _objects(Target.K8S)["StatefulSet", "tsdb"]
    image = workload["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == f"{PLACEHOLDER_REGISTRY}/timescaledb:placeholder"  # the importer reads it
    note = workload["metadata"]["annotations"]["scalesim.io/note"]
    assert "'timescaledb'" in note and "'tsdb'" in note and image in note


def test_a_warning_names_the_component_and_its_tech() -> None:
    [warning] = unknown_techs(_system())
    assert warning.place == ("components", "tsdb", "tech")
    assert "timescaledb" in warning.message and "warning" in warning.message


def test_known_and_managed_techs_are_unchanged() -> None:
    objects = _objects(Target.K8S)
    known = objects["StatefulSet", "known"]["spec"]["template"]["spec"]["containers"][0]
    assert known["image"] == "postgres:17.5"
    assert "annotations" not in objects["StatefulSet", "known"]["metadata"]
    assert ("Deployment", "jobs") in objects     # SQS is a cloud service: its stand-in runs


def test_argo_takes_over_deployments_only() -> None:
    rollouts = {name for kind, name in _objects(Target.ARGO) if kind == "Rollout"}
    assert rollouts == {"ingest", "jobs"}
