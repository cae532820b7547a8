"""Argo Rollouts: a canary Rollout per Deployment and an AnalysisTemplate from the SLO.

Each Rollout takes over the Kubernetes target's Deployment through `workloadRef`, so the pod
template is written once. The analysis asks Prometheus for Istio's standard request metrics
of the service; every SLO field becomes one metric that must hold.
"""

from __future__ import annotations

from typing import Any

from scalesim.generate.base import GeneratedFile, GenerateOptions
from scalesim.generate.documents import banner, to_yaml
from scalesim.generate.naming import PROMETHEUS, check_names, dns_label, labels, selector
from scalesim.generate.tech import runs_as_deployment
from scalesim.spec.model import Slo, System

API = "argoproj.io/v1alpha1"
CANARY_STEPS: list[dict[str, Any]] = [
    {"setWeight": 20}, {"pause": {"duration": "60s"}},
    {"setWeight": 50}, {"pause": {"duration": "60s"}},
    {"setWeight": 100}]
WINDOW = "5m"
INTERVAL = "60s"
FAILURE_LIMIT = 1          # one bad measurement is tolerated; the second aborts
PERCENTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p999": 0.999}


def template_name(system: System) -> str:
    return f"{dns_label(system.name, 'system name')}-slo"


def _selector(namespace: str, extra: str = "") -> str:
    return ('{reporter="destination",destination_workload_namespace="' + namespace
            + '",destination_service_name="{{args.service-name}}"' + extra + "}")


def slo_metrics(slo: Slo, namespace: str) -> list[dict[str, Any]]:
    """One metric per SLO field, in the SLO's field order; latencies in milliseconds."""
    latency = "istio_request_duration_milliseconds"
    metrics: list[tuple[str, str, float]] = []
    if slo.mean is not None:
        query = (f"sum(rate({latency}_sum{_selector(namespace)}[{WINDOW}])) / "
                 f"sum(rate({latency}_count{_selector(namespace)}[{WINDOW}]))")
        metrics.append(("mean", query, slo.mean * 1000.0))
    for field, quantile in PERCENTILES.items():
        target = getattr(slo, field)
        if target is not None:
            query = (f"histogram_quantile({quantile}, sum(rate({latency}_bucket"
                     f"{_selector(namespace)}[{WINDOW}])) by (le))")
            metrics.append((field, query, target * 1000.0))
    if slo.error_rate is not None:
        errors = _selector(namespace, ',response_code=~"5.."')
        query = (f"(sum(rate(istio_requests_total{errors}[{WINDOW}])) or vector(0)) / "
                 f"sum(rate(istio_requests_total{_selector(namespace)}[{WINDOW}]))")
        metrics.append(("error-rate", query, slo.error_rate))
    return [{"name": name, "interval": INTERVAL, "failureLimit": FAILURE_LIMIT,
             "successCondition": f"result[0] <= {limit:g}",
             "provider": {"prometheus": {"address": PROMETHEUS, "query": query}}}
            for name, query, limit in metrics]


def analysis_template(system: System, slo: Slo, namespace: str) -> dict[str, Any]:
    return {"apiVersion": API, "kind": "AnalysisTemplate",
            "metadata": {"name": template_name(system), "namespace": namespace},
            "spec": {"args": [{"name": "service-name"}],
                     "metrics": slo_metrics(slo, namespace)}}


def canary_steps(system: System, name: str) -> list[dict[str, Any]]:
    """The spec has no rollout settings yet: every component gets the default steps."""
    return [dict(step) for step in CANARY_STEPS]


def rollout(system: System, name: str, namespace: str) -> dict[str, Any]:
    instance = dns_label(system.name, "system name")
    canary: dict[str, Any] = {"steps": canary_steps(system, name)}
    if system.slo is not None:
        canary["analysis"] = {"templates": [{"templateName": template_name(system)}],
                              "startingStep": 1,
                              "args": [{"name": "service-name", "value": dns_label(name)}]}
    kind = system.components[name].kind.value
    return {"apiVersion": API, "kind": "Rollout",
            "metadata": {"name": dns_label(name), "namespace": namespace,
                         "labels": labels(name, kind, instance, instance)},
            "spec": {"replicas": system.components[name].replicas,
                     "selector": {"matchLabels": selector(name, instance)},
                     "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                     "name": dns_label(name), "scaleDown": "progressively"},
                     "strategy": {"canary": canary}}}


def render(system: System, options: GenerateOptions) -> list[GeneratedFile]:
    check_names(list(system.components))
    comment = banner(system.name, "argo")
    files = []
    if system.slo is not None:
        files.append(GeneratedFile("argo/analysis-template.yaml", to_yaml(
            [analysis_template(system, system.slo, options.namespace)], comment)))
    files += [GeneratedFile(f"argo/{dns_label(name)}.yaml",
                            to_yaml([rollout(system, name, options.namespace)], comment))
              for name in system.components if runs_as_deployment(system.components[name])]
    return files
