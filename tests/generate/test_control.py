"""The spec's autoscaling and rollouts land in the generated HPA, KEDA and Argo objects with
the same numbers, and the objects point at each other correctly."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from tests.generate.helpers import (
    CONTROL,
    OPTIONS,
    SPECS,
    by_kind,
    documents,
    generate,
    system,
)
from tests.generate.test_cross_checks import all_docs

from scalesim.generate import Target
from scalesim.generate.guide import next_steps
from scalesim.generate.resources import resources_for
from scalesim.spec.control import ScalingRules, whole_percent


def docs(target: Target, overrides: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return documents(generate(CONTROL, target, overrides))


def _rules(spec: ScalingRules) -> dict[str, Any]:
    return {"stabilizationWindowSeconds": spec.stabilization,
            "selectPolicy": spec.select.capitalize(),
            "policies": [{"type": "Pods", "value": p.pods, "periodSeconds": p.period}
                         if p.pods else {"type": "Percent",
                                         "value": whole_percent(p.percent or 0),
                                         "periodSeconds": p.period} for p in spec.policies]}


def test_the_hpa_behavior_is_exactly_the_specs() -> None:
    spec = system(CONTROL).components["edge"].autoscale
    assert spec is not None
    hpa = by_kind(docs(Target.K8S), "HorizontalPodAutoscaler")["edge"]["spec"]
    assert hpa["behavior"] == {"scaleUp": _rules(spec.scale_up),
                               "scaleDown": _rules(spec.scale_down)}
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (spec.min, spec.max)


def test_the_cpu_target_is_the_same_cores_per_pod() -> None:
    """cpu × workers cores per pod = averageUtilization % × the CPU request, to rounding."""
    sys_ = system(CONTROL)
    for name, hpa in by_kind(docs(Target.K8S), "HorizontalPodAutoscaler").items():
        component = sys_.components[name]
        assert component.autoscale is not None and component.worker_limit is not None
        cpu = next(m.cpu for m in component.autoscale.metrics if m.cpu is not None)
        percent = next(m["resource"]["target"]["averageUtilization"]
                       for m in hpa["spec"]["metrics"] if m["type"] == "Resource")
        request_cores = resources_for(sys_, name).cpu_m / 1000.0
        assert percent / 100 * request_cores == pytest.approx(cpu * component.worker_limit,
                                                              abs=request_cores / 200)


def test_requests_per_second_is_a_pods_metric() -> None:
    hpa = by_kind(docs(Target.K8S), "HorizontalPodAutoscaler")["edge"]
    pods = next(m for m in hpa["spec"]["metrics"] if m["type"] == "Pods")["pods"]
    assert pods["target"] == {"type": "AverageValue", "averageValue": "300"}


def test_controller_flags_that_differ_are_noted() -> None:
    note = by_kind(docs(Target.K8S), "HorizontalPodAutoscaler")["edge"]["metadata"][
        "annotations"]["scalesim.io/not-mapped"]
    assert "tolerance 5%" in note


def test_keda_carries_the_queue_rules_and_the_behavior() -> None:
    scaled = by_kind(docs(Target.KEDA), "ScaledObject")["indexer"]["spec"]
    assert (scaled["minReplicaCount"], scaled["maxReplicaCount"]) == (0, 6)
    assert (scaled["pollingInterval"], scaled["cooldownPeriod"]) == (15, 120)
    kafka = next(t for t in scaled["triggers"] if t["type"] == "kafka")["metadata"]
    assert (kafka["lagThreshold"], kafka["activationLagThreshold"]) == ("50", "5")
    assert any(t["type"] == "cpu" for t in scaled["triggers"])
    assert scaled["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"][
        "stabilizationWindowSeconds"] == 300


def test_no_workload_has_two_autoscalers() -> None:
    """An HPA-managed component gets no ScaledObject, and KEDA's gets no HPA."""
    hpas = {d["spec"]["scaleTargetRef"]["name"] for d in docs(Target.K8S)
            if d["kind"] == "HorizontalPodAutoscaler"}
    keda = {d["spec"]["scaleTargetRef"]["name"] for d in docs(Target.KEDA)}
    assert hpas and keda and not hpas & keda


def test_a_rollout_takes_its_scalers_with_it() -> None:
    """A Rollout takes its Deployment over (workloadRef, scaleDown: progressively), so a
    scaler left on the Deployment scales pods that Argo scales back down while the Rollout's
    stay put. argo/ holds each HPA and KEDA ScaledObject again, aimed at the Rollout, with
    the same bounds, and the next steps apply argo/ after k8s/ and keda/ so those replace
    the Deployment-aimed ones."""
    argo = docs(Target.ARGO)
    for kind, plain in (("HorizontalPodAutoscaler", docs(Target.K8S)),
                        ("ScaledObject", docs(Target.KEDA))):
        aimed = by_kind(argo, kind)
        assert aimed and set(aimed) == set(by_kind(plain, kind))
        for name, doc in aimed.items():
            assert doc["spec"]["scaleTargetRef"]["kind"] == "Rollout"
            original = by_kind(plain, kind)[name]["spec"]
            assert {k: v for k, v in doc["spec"].items() if k != "scaleTargetRef"} == \
                {k: v for k, v in original.items() if k != "scaleTargetRef"}
    paths = [f.path for f in generate(CONTROL, Target.ALL)]
    steps = next_steps(system(CONTROL, ()), paths, OPTIONS, Path("out"))
    order = [next(i for i, step in enumerate(steps) if f"out/{target}/" in step)
             for target in ("k8s", "keda", "argo")]
    assert order == sorted(order)


def test_with_the_istio_routes_the_services_leave_retries_to_the_mesh() -> None:
    """Generated together, the Istio routes retry and the services are told not to
    (SCALESIM_RETRIES=mesh), so a call is tried the spec's number of times, not its square;
    the workloads alone keep their own retries."""
    def retries_env(target: Target) -> set[str | None]:
        return {next((e["value"] for e in d["spec"]["template"]["spec"]["containers"][0][
                    "env"] if e["name"] == "SCALESIM_RETRIES"), None)
                for d in docs(target) if d.get("kind") == "Deployment"}

    assert retries_env(Target.ALL) == {"mesh"}
    assert retries_env(Target.K8S) == {None}


def test_rolling_update_fields_come_from_the_spec() -> None:
    deployment = by_kind(docs(Target.K8S), "Deployment")["edge"]
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}


def test_canary_steps_are_the_specs() -> None:
    rollout = by_kind(docs(Target.ARGO), "Rollout")["api"]["spec"]["strategy"]["canary"]
    assert rollout["steps"] == [
        {"setWeight": 10}, {"pause": {"duration": "60s"}},
        {"analysis": {"templates": [{"templateName": "api-step-2"}]}},
        {"setWeight": 50}, {"pause": {"duration": "120s"}}]
    changed = by_kind(docs(Target.ARGO, ("components.api.rollout.steps.0.set_weight=20%",)),
                      "Rollout")["api"]["spec"]["strategy"]["canary"]
    assert changed["steps"][0] == {"setWeight": 20}


def test_analysis_thresholds_are_the_specs() -> None:
    template = by_kind(docs(Target.ARGO), "AnalysisTemplate")["api-analysis"]["spec"]
    metrics = {m["name"]: m for m in template["metrics"]}
    assert metrics["error-rate"]["successCondition"] == "result[0] <= 0.02"
    assert metrics["error-rate"]["failureCondition"] == "result[0] > 0.05"
    assert metrics["error-rate"]["failureLimit"] == 1
    assert metrics["p99"]["successCondition"] == "result[0] <= 250"
    assert all(m["interval"] == "10s" and 'destination_canonical_revision="canary"'
               in m["provider"]["prometheus"]["query"] for m in metrics.values())


@pytest.mark.parametrize(("interval", "written", "promql_range"), [
    ("10s", "10s", "60s"), ("15s", "15s", "60s"), ("1m", "60s", "60s"), ("90s", "90s", "90s"),
    ("5m", "300s", "300s")])
def test_an_analysis_range_is_its_interval_but_at_least_four_scrapes(
        interval: str, written: str, promql_range: str) -> None:
    """rate() needs two samples in its range; Istio's Prometheus scrapes every 15 s, and a
    range of four scrapes (1 min) is the least that reliably has them. The metric is still
    measured every `interval`."""
    template = by_kind(docs(Target.ARGO, (f"components.api.rollout.analysis.interval={interval}",)),
                       "AnalysisTemplate")["api-analysis"]["spec"]
    for metric in template["metrics"]:
        query = metric["provider"]["prometheus"]["query"]
        assert set(re.findall(r"\[(\w+)\]", query)) == {promql_range}
        assert metric["interval"] == written


def test_a_window_without_requests_gives_no_value_not_nan() -> None:
    """0/0 is NaN in PromQL, and `NaN <= 0.02` is false: a failed measurement. Dividing by
    `(total > 0)` and keeping quantiles `>= 0` (NaN compares false) leave an empty vector
    instead, a measurement error, as the simulator counts a window without requests."""
    for template in by_kind(docs(Target.ARGO), "AnalysisTemplate").values():
        for metric in template["spec"]["metrics"]:
            query = metric["provider"]["prometheus"]["query"]
            if query.startswith("histogram_quantile("):
                assert query.endswith(") by (le)) >= 0")
            else:
                _, denominator = query.split(" / ")
                assert denominator.startswith("(sum(rate(") and denominator.endswith(" > 0)")


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_analysis_latency_is_that_of_successful_requests(spec: str) -> None:
    """The simulator measures an analysis's (and the SLO's) latency over the successful
    requests only (docs/control.md): every Istio latency series a query reads excludes the
    5xx answers, which the error rate counts (5xx over all requests)."""
    queries = [metric["provider"]["prometheus"]["query"]
               for template in by_kind(all_docs(spec), "AnalysisTemplate").values()
               for metric in template["spec"]["metrics"]]
    latency = [selector for query in queries for selector in
               re.findall(r'istio_request_duration_milliseconds_\w+(\{.*?"\})', query)]
    assert latency and all(',response_code!~"5.."}' in s for s in latency)
    totals = [selector for query in queries
              for selector in re.findall(r'istio_requests_total(\{.*?"\})', query)]
    assert totals and all("response_code!~" not in s for s in totals)


def test_blue_green_fields_are_the_specs() -> None:
    blue = by_kind(docs(Target.ARGO), "Rollout")["search"]["spec"]["strategy"]["blueGreen"]
    assert (blue["previewReplicaCount"], blue["autoPromotionSeconds"],
            blue["scaleDownDelaySeconds"]) == (1, 60, 45)


@pytest.fixture(params=sorted(SPECS))
def everything(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return all_docs(request.param)


def test_rollouts_name_existing_templates_services_and_routes(
        everything: list[dict[str, Any]]) -> None:
    templates = by_kind(everything, "AnalysisTemplate")
    services = by_kind(everything, "Service")
    routes = {name: {r["name"]: r for r in vs["spec"]["http"]}
              for name, vs in by_kind(everything, "VirtualService").items()}
    for rollout in by_kind(everything, "Rollout").values():
        strategy = rollout["spec"]["strategy"]
        refs = []
        for block in strategy.values():
            for key in ("analysis", "prePromotionAnalysis", "postPromotionAnalysis"):
                refs += block.get(key, {}).get("templates", [])
            for step in block.get("steps", []):
                refs += step.get("analysis", {}).get("templates", [])
            for key in ("activeService", "previewService", "canaryService", "stableService"):
                if key in block:
                    assert block[key] in services, block[key]
            routing = block.get("trafficRouting", {}).get("istio", {}).get("virtualService")
            if routing:
                named = routes[routing["name"]]
                for route in routing["routes"]:
                    hosts = [d["destination"]["host"].split(".")[0]
                             for d in named[route]["route"]]
                    assert hosts == [block["stableService"], block["canaryService"]]
        assert all(ref["templateName"] in templates for ref in refs)


def test_hpas_target_existing_workloads_with_sane_bounds(
        everything: list[dict[str, Any]]) -> None:
    kinds = {kind: by_kind(everything, kind) for kind in ("Deployment", "StatefulSet",
                                                           "Rollout")}
    for hpa in by_kind(everything, "HorizontalPodAutoscaler").values():
        target = hpa["spec"]["scaleTargetRef"]
        assert target["name"] in kinds[target["kind"]]
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
