"""An autoscaled workload leaves `spec.replicas` to its scaler: Kubernetes' HPA docs advise
removing it from the manifest, since every apply (or Helm upgrade) would otherwise set the
count back and undo the scaling. The HPA's or ScaledObject's minimum is the floor."""

from __future__ import annotations

from typing import Any

import yaml
from tests.generate.helpers import CONTROL, OPTIONS, documents, generate, system
from tests.generate.test_helm import chart_files, rendered_chart

from scalesim.generate import Target

WORKLOADS = ("Deployment", "StatefulSet")


def _workloads(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] in WORKLOADS}


def _scaled(docs: list[dict[str, Any]]) -> set[str]:
    """The workloads an HPA or a KEDA ScaledObject scales."""
    return {d["spec"]["scaleTargetRef"]["name"] for d in docs
            if d["kind"] in ("HorizontalPodAutoscaler", "ScaledObject")}


def test_autoscaled_workloads_state_no_replicas() -> None:
    k8s = documents(generate(CONTROL, Target.K8S))
    scaled = _scaled(k8s + documents(generate(CONTROL, Target.KEDA)))
    autoscaled = {name for name, c in system(CONTROL).components.items() if c.autoscale}
    assert scaled >= autoscaled and len(autoscaled) >= 3   # HPAs and a KEDA consumer
    for name, spec in _workloads(k8s).items():
        if name in autoscaled:
            assert "replicas" not in spec, name
        else:
            assert spec["replicas"] == system(CONTROL).components[name].replicas, name


def test_the_minimum_stays_with_the_scaler() -> None:
    k8s = documents(generate(CONTROL, Target.K8S))
    hpas = {d["metadata"]["name"]: d["spec"] for d in k8s
            if d["kind"] == "HorizontalPodAutoscaler"}
    for name, spec in hpas.items():
        autoscale = system(CONTROL).components[name].autoscale
        assert autoscale is not None
        assert (spec["minReplicas"], spec["maxReplicas"]) == (autoscale.min, autoscale.max)


def test_the_chart_has_no_replicas_value_for_autoscaled_workloads() -> None:
    files = generate(CONTROL, Target.HELM)
    values = yaml.safe_load(chart_files(files)["values.yaml"])["components"]
    for name, component in system(CONTROL).components.items():
        if component.autoscale is not None:
            assert "replicas" not in values[name], name
    expected = [d for d in documents(generate(CONTROL, Target.K8S)) if d["kind"] != "Namespace"]
    assert rendered_chart(files, OPTIONS.namespace) == expected
