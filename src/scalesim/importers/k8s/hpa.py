"""HorizontalPodAutoscalers (autoscaling/v2, v2beta2, v2beta1 and v1) as a component's
`autoscale`.

`minReplicas` (default 1) and `maxReplicas` become `min` and `max`; metrics become `cpu`
(Resource or ContainerResource cpu, Utilization or AverageValue) and `rps` (a Pods, or an
Object AverageValue, metric counting requests); `behavior` and the controller flags as
scaling.py reads them. Memory, External and other metrics have no spec counterpart: noted.
An HPA without metrics scales on 80 % CPU, Kubernetes' default.
"""

from __future__ import annotations

from typing import Any

from scalesim.importers.draft import MARK, Block, Component
from scalesim.importers.k8s import scaling
from scalesim.importers.k8s.objects import Cluster, Manifest, Mappers, mapping
from scalesim.importers.sizing import quantity

DEFAULT_CPU = 80            # percent: the HPA's metric when it names none
BODIES = {"Resource": "resource", "ContainerResource": "containerResource", "Pods": "pods",
          "Object": "object", "External": "external"}     # metric type -> its field
LEGACY = ("no behavior: Kubernetes limits a scale-up to max(2 × current, 4) per sync; the "
          "spec's default policies (max(+4 pods, +100%) per 15s) stand in")


def hpa(manifest: Manifest, cluster: Cluster) -> None:
    spec = manifest.spec
    key = cluster.scale_target(manifest.namespace, spec.get("scaleTargetRef"))
    if key is None:
        cluster.draft.note(f"{manifest.title}: its scaleTargetRef is not a workload in the files")
        return
    component = cluster.component(key)
    if component.autoscale is not None and component.autoscale.origin != manifest.title:
        cluster.draft.note(f"{manifest.title}: {component.name} is scaled by "
                           f"{component.autoscale.origin} already (two autoscalers on one "
                           "target fight); left out")
        return
    maximum = scaling.whole(spec.get("maxReplicas"))
    if maximum is None or maximum < 1:
        cluster.draft.note(f"{manifest.title}: no maxReplicas; left out")
        return
    block = Block(f"from {manifest.file}:{manifest.line}: {manifest.title}", manifest.title)
    minimum = scaling.whole(spec.get("minReplicas"))
    if minimum is None:
        block.put(("min",), 1, f"from {manifest.file}:{manifest.line}: {manifest.title} sets "
                  "no minReplicas (Kubernetes' default 1)")
    elif minimum < 1:
        block.put(("min",), 1, f"{manifest.seen('spec.minReplicas')} is 0: an HPA scales to "
                  "zero only behind the alpha gate HPAScaleToZero; the spec's HPA keeps 1")
    else:
        block.put(("min",), minimum, manifest.seen("spec.minReplicas"))
    block.put(("max",), maximum, manifest.seen("spec.maxReplicas"))
    _metrics(block, manifest, cluster, component)
    if isinstance(spec.get("behavior"), dict):
        scaling.behavior(block, manifest, cluster, spec["behavior"], "spec.behavior")
    else:
        block.comment((), LEGACY)
    scaling.flags(block, manifest)
    component.autoscale = block


def _metrics(block: Block, manifest: Manifest, cluster: Cluster, component: Component) -> None:
    metrics = manifest.spec.get("metrics")
    if not isinstance(metrics, list) or not metrics:
        legacy = scaling.whole(manifest.spec.get("targetCPUUtilizationPercentage"))  # v1
        path = "spec.targetCPUUtilizationPercentage"
        percent = legacy if legacy is not None else DEFAULT_CPU
        value, how = scaling.cpu_share(component, percent=percent)
        seen = manifest.seen(path) if legacy is not None else \
            f"from {manifest.file}:{manifest.line}: {manifest.title} names no metric " \
            f"(Kubernetes' default {DEFAULT_CPU}% CPU)"
        if value is None:
            block.comment((), f"{MARK}: {how}; the spec's default (80% of worker time) "
                          "stands in")
        else:
            scaling.take(block, manifest, cluster, "cpu", value, f"{seen}: {how}")
        return
    for index, metric in enumerate(metrics):
        path = f"spec.metrics[{index}]"
        seen = manifest.seen_in(metrics, index, path)
        reason = _metric(block, manifest, cluster, component, metric, seen)
        if reason:
            cluster.draft.note(f"{manifest.title}: {path} {reason}; left out")
    if not block.data.get("metrics"):
        block.comment((), f"{MARK}: none of its metrics maps to the spec (see the notes); the "
                      "spec's default, 80% of worker time, stands in")


def _metric(block: Block, manifest: Manifest, cluster: Cluster, component: Component,
            metric: Any, seen: Any) -> str:
    """Add one metric; the reason when it is left out, else ''."""
    if not isinstance(metric, dict):
        return "is not a metric"
    kind = str(metric.get("type"))
    body = metric.get(BODIES.get(kind, ""))
    if not isinstance(body, dict):
        return f"({kind}) has no spec counterpart"
    target = mapping(body.get("target"))
    if kind in ("Resource", "ContainerResource"):
        if body.get("name") != "cpu":
            return f"({kind} {body.get('name')}) has no spec counterpart (the spec scales on " \
                   "cpu, requests per replica and queue backlog)"
        percent = scaling.whole(target.get("averageUtilization",
                                           body.get("targetAverageUtilization")))
        cores = quantity(target.get("averageValue", body.get("targetAverageValue")))
        if percent is None and (cores is None or cores <= 0):
            return "(cpu) sets no averageUtilization or averageValue"
        value, how = scaling.cpu_share(component, percent=percent,
                                       cores=None if percent is not None else cores)
        if value is None:
            return f"(cpu): {how}"
        scaling.take(block, manifest, cluster, "cpu", value, f"{seen}: {how}")
        return ""
    name = metric_name(body)
    average = quantity(target.get("averageValue", body.get("targetAverageValue")))
    if kind in ("Pods", "Object") and scaling.counts_requests(name) and average and average > 0:
        scaling.take(block, manifest, cluster, "rps", scaling.rps(average),
                     f"{seen}: {kind} metric {name}, {average:g} per replica")
        return ""
    if kind in ("Pods", "Object") and scaling.counts_requests(name):
        return f"({kind} {name}) has no per-replica averageValue (a Value target scales on " \
               "the total)"
    return f"({kind} {name or 'metric'}) has no spec counterpart (the spec scales on cpu, " \
           "requests per replica and queue backlog)"


def metric_name(body: dict[str, Any]) -> str:
    """The name of a Pods, Object or External metric (v2, or v2beta1's `metricName`)."""
    return str(mapping(body.get("metric")).get("name") or body.get("metricName") or "")


def reads_target(metric: Any, field: str) -> bool:
    """Whether the importer reads the target of `metric` from its `field` (`resource`,
    `pods`…): the field its type names, of a cpu resource or of a metric counting requests."""
    if not isinstance(metric, dict) or BODIES.get(str(metric.get("type"))) != field:
        return False
    body = mapping(metric.get(field))
    if field in ("resource", "containerResource"):
        return body.get("name") == "cpu"
    return field in ("pods", "object") and scaling.counts_requests(metric_name(body))


KINDS: Mappers = {("autoscaling", "HorizontalPodAutoscaler"): hpa}
