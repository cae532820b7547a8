"""Argo Rollouts: a Rollout per Deployment, with the spec's `rollout` when it has one.

Each Rollout takes over the Kubernetes target's Deployment through `workloadRef`, so the pod
template is written once. A component with `rollout` gets its strategy exactly: rolling
(maxSurge/maxUnavailable), canary (its steps, background analysis, traffic routing through
Istio with a `<c>-canary` Service) or blue-green (a `<c>-preview` Service, previewReplicaCount,
auto-promotion, scale-down delays, pre/post-promotion analysis). Each of its analyses becomes
an AnalysisTemplate whose PromQL covers one interval (at least a minute: four scrapes of
Istio's Prometheus) and selects the new version's pods only (canary pods are labelled
through `canaryMetadata`); a window without requests gives no value, a measurement error.
A component without `rollout` keeps the default canary steps and the SLO's
AnalysisTemplate: every SLO field one metric that must hold, read from Istio's request
metrics; a component no request reaches (a queue consumer, which pulls its deliveries) has
none, so it gets the steps alone and a note saying why. An autoscaled component's HPA,
or a queue consumer's KEDA ScaledObject, is written again here, aimed at the Rollout.
"""

from __future__ import annotations

import copy
from typing import Any

from scalesim.generate.autoscaling import hpa_managed
from scalesim.generate.base import GeneratedFile, GenerateOptions
from scalesim.generate.compose import entry_points
from scalesim.generate.documents import banner, notes_text, yaml_file
from scalesim.generate.errors import Problem
from scalesim.generate.istio import canary_service, route_names, routed_canary
from scalesim.generate.keda import keda_scaled, scaled_object
from scalesim.generate.kubernetes import KubernetesBuilder, autoscaled
from scalesim.generate.naming import (
    PROMETHEUS,
    dns_label,
    go_duration,
    labels,
    selector,
    system_label,
)
from scalesim.generate.params import Literal
from scalesim.generate.tech import runs_as_deployment
from scalesim.generate.topology import callers_of, consumed_queues
from scalesim.lint.config import LintConfig
from scalesim.lint.context import Context
from scalesim.lint.finding import Hit
from scalesim.lint.rules.delivery import preview_analysis_without_traffic
from scalesim.spec.control import Analysis, whole_percent
from scalesim.spec.model import Slo, System

API = "argoproj.io/v1alpha1"
CANARY_STEPS: list[dict[str, Any]] = [
    {"setWeight": 20}, {"pause": {"duration": "60s"}},
    {"setWeight": 50}, {"pause": {"duration": "60s"}},
    {"setWeight": 100}]
WINDOW = "5m"
INTERVAL = "60s"
FAILURE_LIMIT = 1          # one bad measurement is tolerated; the second aborts
# rate() needs two samples in its range, and Prometheus advises a range of at least four
# scrape intervals; Istio's sample Prometheus scrapes every 15 s. A shorter analysis
# interval still measures that often, over the last minute.
SCRAPE_INTERVAL_S = 15.0
MIN_RANGE_S = 4 * SCRAPE_INTERVAL_S
PERCENTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p999": 0.999}
# Istio's canonical revision comes from this pod label; Argo puts it on the two versions.
REVISION_LABEL = "service.istio.io/canonical-revision"
CANARY_REVISION, STABLE_REVISION = "canary", "stable"
NOTE = "scalesim.io/note"


def template_name(system: System) -> str:
    return f"{system_label(system.name)}-slo"


# Istio's standard `response_code` label: the simulator measures latency over the
# successful requests only, and counts the 5xx ones as errors.
SUCCESSFUL = 'response_code!~"5.."'
FAILED = 'response_code=~"5.."'
SERVICE_ARG = "{{args.service-name}}"  # the SLO template's argument


def narrowed(selector: str, matcher: str) -> str:
    """A label selector with one more matcher."""
    return f"{selector[:-1]},{matcher}}}"


def promql_range(interval_s: float) -> str:
    """The range of an analysis query measured every `interval_s`: one interval, at least
    four scrape intervals (else most evaluations see one sample and return nothing)."""
    return go_duration(max(interval_s, MIN_RANGE_S))


def ratio(numerator: str, denominator: str) -> str:
    """numerator / denominator, with no value (an empty vector, which Argo counts as a
    measurement error) when the denominator is 0 instead of NaN (0/0), which fails every
    `result[0] <= X`: a window without requests is no evidence either way."""
    return f"{numerator} / ({denominator} > 0)"


def quantile(q: float, buckets: str) -> str:
    """histogram_quantile over bucket rates; its NaN (no requests in the range) dropped."""
    return f"histogram_quantile({q}, sum(rate({buckets})) by (le)) >= 0"


def slo_metrics(slo: Slo, namespace: str) -> list[dict[str, Any]]:
    """One metric per SLO field, in the SLO's field order; latencies in milliseconds."""
    latency = "istio_request_duration_milliseconds"
    metrics: list[tuple[str, str, float]] = []
    where = narrowed(_selector(namespace, SERVICE_ARG, None), SUCCESSFUL)
    if slo.mean is not None:
        query = ratio(f"sum(rate({latency}_sum{where}[{WINDOW}]))",
                      f"sum(rate({latency}_count{where}[{WINDOW}]))")
        metrics.append(("mean", query, slo.mean * 1000.0))
    for field, q in PERCENTILES.items():
        target = getattr(slo, field)
        if target is not None:
            metrics.append((field, quantile(q, f"{latency}_bucket{where}[{WINDOW}]"),
                            target * 1000.0))
    if slo.error_rate is not None:
        every = _selector(namespace, SERVICE_ARG, None)
        errors = narrowed(every, FAILED)
        query = ratio(f"(sum(rate(istio_requests_total{errors}[{WINDOW}])) or vector(0))",
                      f"sum(rate(istio_requests_total{every}[{WINDOW}]))")
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
    """The spec's canary steps, or the default ones for a component without a rollout."""
    spec = system.components[name].rollout
    if spec is None:
        return [dict(step) for step in CANARY_STEPS]
    steps: list[dict[str, Any]] = []
    for index, step in enumerate(spec.steps):
        if step.set_weight is not None:
            steps.append({"setWeight": whole_percent(step.set_weight)})
        elif step.pause is not None:
            steps.append({"pause": {"duration": go_duration(step.pause)}})
        else:
            steps.append({"analysis": {"templates": [
                {"templateName": analysis_name(name, f"step-{index}")}]}})
    return steps


def analysis_name(component: str, kind: str) -> str:
    return f"{dns_label(component)}-{kind}"


def _selector(namespace: str, service: str, revision: str | None) -> str:
    extra = f',destination_canonical_revision="{revision}"' if revision else ""
    return ('{reporter="destination",destination_workload_namespace="' + namespace
            + f'",destination_service_name="{service}"' + extra + "}")


def spec_analysis_template(name: str, kind: str, spec: Analysis, count: int | None,
                           namespace: str, service: str,
                           revision: str | None) -> dict[str, Any]:
    """An AnalysisTemplate of one of the spec's analyses: per check a metric measured every
    `interval` over the last `interval` (at least MIN_RANGE_S), on the new version's
    requests only."""
    every = _selector(namespace, service, revision)
    errors, where = narrowed(every, FAILED), narrowed(every, SUCCESSFUL)
    window = promql_range(spec.interval)
    latency = "istio_request_duration_milliseconds"
    metrics = []
    for check_name, check in spec.checks:
        if check_name == "error_rate":
            query = ratio(f"(sum(rate(istio_requests_total{errors}[{window}])) or vector(0))",
                          f"sum(rate(istio_requests_total{every}[{window}]))")
            limit, fail = check.max, check.fail_above
        elif check_name == "mean":
            query = ratio(f"sum(rate({latency}_sum{where}[{window}]))",
                          f"sum(rate({latency}_count{where}[{window}]))")
            limit, fail = check.max * 1000.0, _ms(check.fail_above)
        else:
            query = quantile(PERCENTILES[check_name], f"{latency}_bucket{where}[{window}]")
            limit, fail = check.max * 1000.0, _ms(check.fail_above)
        metric: dict[str, Any] = {"name": check_name.replace("_", "-"),
                                  "interval": go_duration(spec.interval)}
        if count is not None:
            metric["count"] = count
        if spec.initial_delay > 0:
            metric["initialDelay"] = go_duration(spec.initial_delay)
        metric.update({"failureLimit": spec.failure_limit,
                       "inconclusiveLimit": spec.inconclusive_limit,
                       "consecutiveErrorLimit": spec.consecutive_error_limit,
                       "successCondition": f"result[0] <= {limit:g}"})
        if fail is not None:
            metric["failureCondition"] = f"result[0] > {fail:g}"
        metric["provider"] = {"prometheus": {"address": PROMETHEUS, "query": query}}
        metrics.append(metric)
    return {"apiVersion": API, "kind": "AnalysisTemplate",
            "metadata": {"name": analysis_name(name, kind), "namespace": namespace},
            "spec": {"metrics": metrics}}


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000.0


def spec_analyses(system: System, name: str, namespace: str) -> list[dict[str, Any]]:
    """The AnalysisTemplates of a component's rollout, each selecting the new version."""
    spec = system.components[name].rollout
    if spec is None:
        return []
    stable = dns_label(name)
    out = []
    if spec.strategy == "canary":
        canary = canary_traffic_service(system, name)
        if spec.analysis is not None:
            out.append(spec_analysis_template(name, "analysis", spec.analysis,
                                              spec.analysis.count, namespace, canary,
                                              CANARY_REVISION))
        for index, step in enumerate(spec.steps):
            if step.analysis is not None:
                out.append(spec_analysis_template(name, f"step-{index}", step.analysis,
                                                  step.analysis.count or 1, namespace, canary,
                                                  CANARY_REVISION))
    elif spec.strategy == "blue_green":
        for kind, analysis, service in (
                ("pre-promotion", spec.pre_promotion_analysis, preview_service(name)),
                ("post-promotion", spec.post_promotion_analysis, stable)):
            if analysis is not None:
                out.append(spec_analysis_template(name, kind, analysis, analysis.count or 1,
                                                  namespace, service, None))
    return out


def canary_traffic_service(system: System, name: str) -> str:
    """The Service a canary's requests reach, which Istio's `destination_service_name`
    names: with traffic routing the mesh splits between two hosts and Argo points the
    `<c>-canary` Service at the canary pods alone; without, the canary pods sit behind the
    component's own Service beside the stable ones."""
    return canary_service(name) if routed_canary(system, name) else dns_label(name)


def preview_service(name: str) -> str:
    return f"{dns_label(name)}-preview"


def receives_requests(system: System, name: str) -> bool:
    """Whether HTTP requests reach component `name`: a caller's, a workload's or, for a
    gateway, outside clients'. A queue consumer that only takes deliveries pulls them from
    its broker, so Istio records no request of it."""
    return bool(callers_of(system, name)) or name in entry_points(system)


def slo_analysed(system: System, name: str) -> bool:
    """Whether the default canary of Deployment `name` runs the SLO template: the spec has
    an SLO, the component no `rollout` of its own, and Istio request metrics to read."""
    return _default_slo_canary(system, name) and receives_requests(system, name)


def slo_left_out(system: System, name: str) -> bool:
    """Whether Deployment `name` would run the SLO template but has no requests to judge."""
    return _default_slo_canary(system, name) and not receives_requests(system, name)


def _default_slo_canary(system: System, name: str) -> bool:
    return system.slo is not None and system.components[name].rollout is None


def _left_out_note(system: System, name: str) -> str:
    """Why a default canary of a spec with an SLO runs without the SLO analysis."""
    deliveries = ", which takes queue deliveries only" if consumed_queues(system, name) else ""
    return (f"no SLO analysis: no component or workload calls {name}{deliveries}, so "
            "Istio's request metrics, which the SLO template reads, have no series of it; "
            "every measurement would be an error and abort the rollout")


def unfed_previews(system: System) -> dict[str, Hit]:
    """Lint's SS701 by component: a blue-green pre-promotion analysis that no `preview:
    true` workload feeds, whose every measurement errs, so the Rollout aborts."""
    hits = preview_analysis_without_traffic(Context.of(system, LintConfig()))
    return {str(hit.path[1]): hit for hit in hits}


def preview_warnings(system: System) -> list[Problem]:
    """What `generate` warns of for the Argo target, each at its spec path."""
    return [Problem(f"warning: {hit.message}", hit.path)
            for hit in unfed_previews(system).values()]


def _strategy(system: System, name: str) -> dict[str, Any]:
    spec = system.components[name].rollout
    if spec is None:
        canary: dict[str, Any] = {"steps": canary_steps(system, name)}
        if slo_analysed(system, name):
            canary["analysis"] = {"templates": [{"templateName": template_name(system)}],
                                  "startingStep": 1,
                                  "args": [{"name": "service-name", "value": dns_label(name)}]}
        return {"canary": canary}
    if spec.strategy == "blue_green":
        blue: dict[str, Any] = {"activeService": dns_label(name),
                                "previewService": preview_service(name)}
        if spec.preview_replicas is not None:
            blue["previewReplicaCount"] = spec.preview_replicas
        blue["autoPromotionEnabled"] = spec.auto_promotion
        if spec.auto_promotion_after is not None:
            blue["autoPromotionSeconds"] = round(spec.auto_promotion_after)
        blue["scaleDownDelaySeconds"] = round(spec.scale_down_delay)
        blue["abortScaleDownDelaySeconds"] = round(spec.abort_scale_down_delay)
        for field, kind, analysis in (
                ("prePromotionAnalysis", "pre-promotion", spec.pre_promotion_analysis),
                ("postPromotionAnalysis", "post-promotion", spec.post_promotion_analysis)):
            if analysis is not None:
                blue[field] = {"templates": [{"templateName": analysis_name(name, kind)}]}
        return {"blueGreen": blue}
    canary = {"maxSurge": spec.max_surge, "maxUnavailable": spec.max_unavailable}
    if spec.strategy == "rolling":
        return {"canary": canary}  # a canary without steps is a rolling update
    canary["canaryMetadata"] = {"labels": {REVISION_LABEL: CANARY_REVISION}}
    canary["stableMetadata"] = {"labels": {REVISION_LABEL: STABLE_REVISION}}
    canary["steps"] = canary_steps(system, name)
    if spec.analysis is not None:
        background: dict[str, Any] = {"templates": [
            {"templateName": analysis_name(name, "analysis")}]}
        if spec.analysis.starting_step is not None:
            background["startingStep"] = spec.analysis.starting_step
        canary["analysis"] = background
    canary["abortScaleDownDelaySeconds"] = round(spec.abort_scale_down_delay)
    if spec.traffic_routing:
        canary["canaryService"] = canary_service(name)
        canary["stableService"] = dns_label(name)
        canary["scaleDownDelaySeconds"] = round(spec.scale_down_delay)
        canary["trafficRouting"] = {"istio": {"virtualService": {
            "name": dns_label(name), "routes": route_names(system, name)}}}
    return {"canary": canary}


def rollout(system: System, name: str, namespace: str) -> dict[str, Any]:
    instance = system_label(system.name)
    kind = system.components[name].kind.value
    metadata: dict[str, Any] = {"name": dns_label(name), "namespace": namespace,
                                "labels": labels(name, kind, instance, instance)}
    notes = [_left_out_note(system, name)] if slo_left_out(system, name) else []
    unfed = unfed_previews(system).get(name)
    notes += [] if unfed is None else [unfed.message]
    if notes:
        metadata["annotations"] = {NOTE: notes_text(notes)}
    # an HPA or KEDA owns an autoscaled Rollout's count, as the Deployment's (kubernetes.py)
    replicas = {} if autoscaled(system, name) else {"replicas": system.components[name].replicas}
    return {"apiVersion": API, "kind": "Rollout", "metadata": metadata,
            "spec": {**replicas,
                     "selector": {"matchLabels": selector(name, instance)},
                     "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                     "name": dns_label(name), "scaleDown": "progressively"},
                     "strategy": _strategy(system, name)}}


def _extra_services(system: System, name: str, builder: KubernetesBuilder) -> list[dict[str, Any]]:
    """Services a strategy needs besides the component's own: preview or canary."""
    spec = system.components[name].rollout
    if spec is None or not (spec.strategy == "blue_green" or spec.traffic_routing):
        return []
    own = next(d for d in builder.component(name) if d["kind"] == "Service")
    service = copy.deepcopy(own)
    service["metadata"]["name"] = preview_service(name) if spec.strategy == "blue_green" \
        else canary_service(name)
    return [service]


def render(system: System, options: GenerateOptions) -> list[GeneratedFile]:
    comment = banner(system.name, "argo")
    builder = KubernetesBuilder(system, options, Literal(
        options.namespace, system_label(system.name)))
    files = []
    if system.slo is not None and any(
            slo_analysed(system, name) and runs_as_deployment(c)
            for name, c in system.components.items()):
        files.append(yaml_file("argo/analysis-template.yaml",
                               [analysis_template(system, system.slo, options.namespace)],
                               comment, None))
    for name, component in system.components.items():
        if not runs_as_deployment(component):
            continue
        docs = [rollout(system, name, options.namespace), *_extra_services(system, name, builder),
                *spec_analyses(system, name, options.namespace)]
        aimed = {"apiVersion": API, "kind": "Rollout", "name": dns_label(name)}
        if hpa_managed(component):
            docs.append(builder.autoscaler(name, aimed))
        elif keda_scaled(system, name):  # KEDA scales Rollouts too (its scale subresource)
            docs.append(scaled_object(system, name, options.namespace, aimed))
        files.append(yaml_file(f"argo/{dns_label(name)}.yaml", docs, comment, name))
    return files
