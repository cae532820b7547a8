"""Checks across objects that no single schema can make: names and numbers line up."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest
from tests.generate.helpers import OPTIONS, SPECS, TARGETS, by_kind, documents, generate

from scalesim.generate import Target, render
from scalesim.generate.code.views import services
from scalesim.generate.naming import NAME_LABEL, dns_label
from scalesim.spec import load_spec_text
from scalesim.templates import TEMPLATES, get_template


def all_docs(spec: str) -> list[dict[str, Any]]:
    return [doc for target in TARGETS if target not in (Target.HELM, Target.COMPOSE)
            for doc in documents(generate(SPECS[spec], target))]


def workloads(docs: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["kind"], d["metadata"]["name"]): d for d in docs
            if d["kind"] in ("Deployment", "StatefulSet")}


def pods(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d["spec"]["template"] for d in workloads(docs).values()]


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


@pytest.fixture(params=sorted(SPECS))
def docs(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return all_docs(request.param)


def test_workload_selectors_match_their_pod_labels(docs: list[dict[str, Any]]) -> None:
    for workload in workloads(docs).values():
        assert matches(workload["spec"]["selector"]["matchLabels"],
                       workload["spec"]["template"]["metadata"]["labels"])


def test_every_selector_selects_exactly_one_workload(docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        if doc["kind"] in ("Service", "PodDisruptionBudget", "Rollout"):
            spec = doc["spec"]
            selector = spec.get("selector", {})
            selector = selector.get("matchLabels", selector)
            if spec.get("type") == "ExternalName":
                continue
            chosen = [p for p in pods(docs) if matches(selector, p["metadata"]["labels"])]
            assert len(chosen) == 1, f"{doc['kind']}/{doc['metadata']['name']}"


def test_service_ports_target_container_ports(docs: list[dict[str, Any]]) -> None:
    services = by_kind(docs, "Service")
    for (_, name), workload in workloads(docs).items():
        container = workload["spec"]["template"]["spec"]["containers"][0]
        container_ports = {p["containerPort"] for p in container["ports"]}
        assert {p["targetPort"] for p in services[name]["spec"]["ports"]} <= container_ports
        named = {p["name"] for p in container["ports"]}
        for probe in ("readinessProbe", "livenessProbe"):
            action = container.get(probe, {})
            port = (action.get("httpGet") or action.get("tcpSocket") or {"port": None})["port"]
            assert port is None or port in named


def test_env_urls_name_existing_services_and_ports(docs: list[dict[str, Any]]) -> None:
    services = by_kind(docs, "Service")
    seen = 0
    for pod in pods(docs):
        for env in pod["spec"]["containers"][0]["env"]:
            if not env["name"].endswith("_URL"):
                continue
            address = urlparse(env["value"])
            name, namespace, *_ = (address.hostname or "").split(".")
            assert namespace == OPTIONS.namespace
            assert name in services, env
            assert address.port in {p["port"] for p in services[name]["spec"]["ports"]}
            seen += 1
    assert seen > 0


@pytest.mark.parametrize("template", [template.id for template in TEMPLATES])
def test_every_deployment_gets_the_url_of_each_component_its_code_calls(
        template: str) -> None:
    # A Deployment runs the generated code (a service, a gateway, an SQS queue's stand-in):
    # each <C>_URL its app.py reads must be set, or it calls localhost. A stand-in queue
    # delivers to its consumers, as compose.yaml says.
    system = load_spec_text(get_template(template).build().text)
    deployments = by_kind(documents(render(system, Target.K8S, OPTIONS)), "Deployment")
    for view in services(system):
        if dns_label(view.name) not in deployments:
            continue
        container = deployments[dns_label(view.name)]["spec"]["template"]["spec"]["containers"][0]
        env = {item["name"]: item["value"] for item in container["env"]}
        for component, variable, _ in view.downstreams:
            host = urlparse(env.get(variable, "")).hostname
            assert host == f"{dns_label(component)}.{OPTIONS.namespace}.svc.cluster.local", \
                (view.name, variable)


def test_statefulsets_name_a_headless_service(docs: list[dict[str, Any]]) -> None:
    services = by_kind(docs, "Service")
    for set_ in by_kind(docs, "StatefulSet").values():
        assert services[set_["spec"]["serviceName"]]["spec"]["clusterIP"] == "None"


def fewest_replicas(docs: list[dict[str, Any]], workload: dict[str, Any]) -> int:
    """The workload's `replicas`, or, when a scaler owns the count (the workload states
    none), the least its HPA or ScaledObject scales it to."""
    if "replicas" in workload["spec"]:
        return int(workload["spec"]["replicas"])
    return min(d["spec"].get("minReplicas", d["spec"].get("minReplicaCount", 1)) for d in docs
               if d["kind"] in ("HorizontalPodAutoscaler", "ScaledObject")
               and d["spec"]["scaleTargetRef"]["name"] == workload["metadata"]["name"])


def test_disruption_budgets_never_block_every_eviction(docs: list[dict[str, Any]]) -> None:
    """disruptionsAllowed = healthy - desiredHealthy must be >= 1 with all pods healthy."""
    sets = workloads(docs)
    for budget in by_kind(docs, "PodDisruptionBudget").values():
        replicas = next(fewest_replicas(docs, w) for w in sets.values()
                        if w["metadata"]["name"] == budget["metadata"]["name"])
        spec = budget["spec"]
        desired = (replicas - spec["maxUnavailable"] if "maxUnavailable" in spec
                   else spec["minAvailable"])
        assert replicas - desired >= 1


def test_scalers_and_rollouts_target_existing_deployments(docs: list[dict[str, Any]]) -> None:
    deployments = by_kind(docs, "Deployment")
    targets = [d["spec"]["scaleTargetRef"]["name"] for d in docs
               if d["kind"] in ("HorizontalPodAutoscaler", "ScaledObject")]
    targets += [d["spec"]["workloadRef"]["name"] for d in by_kind(docs, "Rollout").values()]
    assert targets
    assert all(name in deployments for name in targets)
    for scaler in by_kind(docs, "ScaledObject").values():
        assert scaler["spec"]["minReplicaCount"] <= scaler["spec"]["maxReplicaCount"]


def test_mesh_and_edge_objects_point_at_existing_services(docs: list[dict[str, Any]]) -> None:
    services = by_kind(docs, "Service")
    hosts = [d["spec"]["host"] for d in by_kind(docs, "DestinationRule").values()]
    for service in by_kind(docs, "VirtualService").values():
        hosts += service["spec"]["hosts"]
        for route in service["spec"]["http"]:
            hosts += [r["destination"]["host"] for r in route["route"]]
            for match in route.get("match", []):
                assert match["sourceLabels"][NAME_LABEL] in services
    assert hosts
    assert all(h.split(".")[0] in services and h.split(".")[1] == OPTIONS.namespace
               for h in hosts)
    plugins = by_kind(docs, "KongPlugin")
    for ingress in by_kind(docs, "Ingress").values():
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                assert path["backend"]["service"]["name"] in services
        named = ingress["metadata"].get("annotations", {}).get("konghq.com/plugins")
        assert named is None or named in plugins
    for config in by_kind(docs, "ConfigMap"):
        assert any(v.get("configMap", {}).get("name") == config for p in pods(docs)
                   for v in p["spec"]["volumes"])


def test_analysis_template_named_by_rollouts_exists() -> None:
    docs = all_docs("small")
    templates = by_kind(docs, "AnalysisTemplate")
    refs = [ref["templateName"] for rollout in by_kind(docs, "Rollout").values()
            for ref in rollout["spec"]["strategy"]["canary"].get("analysis", {}).get(
                "templates", [])]  # a consumer nothing calls runs no analysis
    assert refs and all(ref in templates for ref in refs)
