"""What `scalesim generate` now leaves to be read: an autoscaled workload without
spec.replicas, and a data server of an unknown tech behind a placeholder image."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from scalesim.importers import import_k8s
from scalesim.spec import System
from scalesim.spec.model import Kind


def deployment(name: str, image: str, labels: dict[str, str] | None = None,
               kind: str = "Deployment", **spec: Any) -> dict[str, Any]:
    pod_labels = {"app": name, **(labels or {})}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name},
            "spec": {**spec, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": pod_labels},
                                  "spec": {"containers": [{"name": name, "image": image}]}}}}


def hpa(name: str, minimum: int) -> dict[str, Any]:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                        "name": name},
                     "minReplicas": minimum, "maxReplicas": 10,
                     "metrics": [{"type": "Resource", "resource": {
                         "name": "cpu",
                         "target": {"type": "Utilization", "averageUtilization": 70}}}]}}


def imported(tmp_path: Path, *documents: dict[str, Any]) -> System:
    path = tmp_path / "all.yaml"
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return import_k8s([str(path)]).system


def test_an_autoscaled_deployment_without_replicas_starts_at_its_minimum(
        tmp_path: Path) -> None:
    system = imported(tmp_path, deployment("web", "registry.local/web:1"), hpa("web", 3))
    assert system.components["web"].replicas == 3


def test_stated_replicas_win_over_the_minimum(tmp_path: Path) -> None:
    system = imported(tmp_path, deployment("web", "registry.local/web:1", replicas=5),
                      hpa("web", 3))
    assert system.components["web"].replicas == 5


def test_a_deployment_without_replicas_or_autoscaler_runs_one(tmp_path: Path) -> None:
    system = imported(tmp_path, deployment("web", "registry.local/web:1"))
    assert system.components["web"].replicas == 1


def service(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": name}, "ports": [{"port": 5432}]}}


@pytest.mark.parametrize("kind", ["database", "cache", "queue"])
def test_a_placeholder_image_gives_the_label_kind_and_the_image_tech(
        tmp_path: Path, kind: str) -> None:
    store = deployment("store", "example.invalid/event-store:placeholder",
                       {"app.kubernetes.io/component": kind}, kind="StatefulSet", replicas=1)
    # a cache that calls no database is the store itself (a database): give it one
    container = store["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "DB_URL", "value": "postgres://db:5432/x"}]
    system = imported(tmp_path, store, deployment("db", "postgres:17", replicas=1),
                      service("db"))
    component = system.components["store"]
    assert (component.kind, component.tech) == (Kind(kind), "event-store")


@pytest.mark.parametrize(("image", "labels"), [
    ("example.invalid/event-store:placeholder", {}),
    ("example.invalid/event-store:placeholder", {"app.kubernetes.io/component": "service"}),
    ("registry.local/event-store:1", {"app.kubernetes.io/component": "database"}),
])
def test_only_a_labelled_placeholder_is_read_so(tmp_path: Path, image: str,
                                                 labels: dict[str, str]) -> None:
    system = imported(tmp_path, deployment("store", image, labels, kind="StatefulSet",
                                           replicas=1))
    assert system.components["store"].kind is Kind.SERVICE
