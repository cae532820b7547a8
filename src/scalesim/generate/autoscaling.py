"""The spec's `autoscale` as Kubernetes writes it: an autoscaling/v2 HorizontalPodAutoscaler
whose `behavior` carries exactly the spec's policies and windows, or — with a queue metric —
the same rules inside a KEDA ScaledObject (keda.py), which then owns the HPA.

CPU: the simulator gives each worker one core while it computes, and its `cpu` target is the
share of worker time computing. The HPA measures utilization against the container's CPU
request (resources.py), so the target becomes `cpu × workers` cores per pod, written as the
whole percent of the request that is: averageUtilization = round(cpu × workers × 1000 m /
request m × 100). Requests per second are a Pods metric, `http_requests_per_second`, which a
Prometheus adapter rule derives from Istio's `istio_requests_total`.
"""

from __future__ import annotations

from typing import Any

from scalesim.generate.documents import notes_text
from scalesim.generate.naming import dns_label
from scalesim.generate.resources import resources_for
from scalesim.spec.control import Autoscale, Metric, ScalingRules, whole_percent
from scalesim.spec.model import Component, System

API = "autoscaling/v2"
RPS_METRIC = "http_requests_per_second"
SELECT = {"max": "Max", "min": "Min", "disabled": "Disabled"}
# Controller flags, not HPA fields: when the spec differs, the HPA notes it.
CONTROLLER_DEFAULTS = {"sync_period": (15.0, "--horizontal-pod-autoscaler-sync-period"),
                       "tolerance": (0.1, "--horizontal-pod-autoscaler-tolerance"),
                       "cpu_initialization": (
                           300.0, "--horizontal-pod-autoscaler-cpu-initialization-period"),
                       "initial_readiness_delay": (
                           30.0, "--horizontal-pod-autoscaler-initial-readiness-delay")}
NOT_MAPPED_ANNOTATION = "scalesim.io/not-mapped"


def uses_keda(component: Component) -> bool:
    """A queue metric makes KEDA the autoscaler (it creates and owns the HPA)."""
    return component.autoscale is not None and bool(component.autoscale.queue_metrics)


def hpa_managed(component: Component) -> bool:
    return component.autoscale is not None and not uses_keda(component)


def cpu_utilization_percent(system: System, name: str, target: float) -> int:
    """The spec's CPU target as a whole percent of the generated CPU request (the simulator
    measures it against the replica's cores, else one core per worker)."""
    component = system.components[name]
    cores = component.core_limit
    if cores is None:
        workers = component.worker_limit
        assert workers is not None  # checked when the spec loads
        cores = float(workers)
    request_m = resources_for(system, name).cpu_m
    return max(1, round(target * cores * 1000.0 / request_m * 100.0))


def rules(spec: ScalingRules) -> dict[str, Any]:
    """HPAScalingRules: the window, the select policy and every policy, as the spec has them."""
    policies = [{"type": "Pods", "value": p.pods, "periodSeconds": round(p.period)}
                if p.pods is not None else
                {"type": "Percent", "value": whole_percent(p.percent or 0.0),
                 "periodSeconds": round(p.period)} for p in spec.policies]
    return {"stabilizationWindowSeconds": round(spec.stabilization),
            "selectPolicy": SELECT[spec.select], "policies": policies}


def behavior(spec: Autoscale) -> dict[str, Any]:
    return {"scaleUp": rules(spec.scale_up), "scaleDown": rules(spec.scale_down)}


def metric(system: System, name: str, spec: Metric) -> dict[str, Any]:
    """One HPA metric (cpu or rps; queues are KEDA's)."""
    if spec.cpu is not None:
        return {"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization",
            "averageUtilization": cpu_utilization_percent(system, name, spec.cpu)}}}
    assert spec.rps is not None
    return {"type": "Pods", "pods": {"metric": {"name": RPS_METRIC},
                                     "target": {"type": "AverageValue",
                                                "averageValue": f"{spec.rps:g}"}}}


def not_mapped(spec: Autoscale) -> list[str]:
    """Settings of the controller (flags), not of the object, that differ from Kubernetes'."""
    notes = []
    for field, (default, flag) in CONTROLLER_DEFAULTS.items():
        value = getattr(spec, field)
        if abs(value - default) > 1e-9:
            shown = f"{value * 100:g}%" if field == "tolerance" else f"{value:g}s"
            notes.append(f"{field} {shown} is the controller flag {flag}")
    if abs(spec.window - 15.0) > 1e-9:     # metrics-server's default resolution
        notes.append(f"window {spec.window:g}s is metrics-server's --metric-resolution")
    return notes


def hpa(system: System, name: str, namespace: str, labels: dict[str, str],
        target: dict[str, str], min_replicas: Any, max_replicas: Any) -> dict[str, Any]:
    """The HorizontalPodAutoscaler of component `name` for `target` (a scaleTargetRef)."""
    spec = system.components[name].autoscale
    assert spec is not None
    metadata: dict[str, Any] = {"name": dns_label(name), "namespace": namespace,
                                "labels": labels}
    notes = not_mapped(spec)
    if notes:
        metadata["annotations"] = {NOT_MAPPED_ANNOTATION: notes_text(notes)}
    return {"apiVersion": API, "kind": "HorizontalPodAutoscaler", "metadata": metadata,
            "spec": {"scaleTargetRef": target, "minReplicas": min_replicas,
                     "maxReplicas": max_replicas,
                     "metrics": [metric(system, name, m) for m in spec.metrics],
                     "behavior": behavior(spec)}}
