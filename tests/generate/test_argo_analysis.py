"""Argo's analyses measure the traffic they judge: a query selects the Service Istio names
as the destination of the new version's requests, in every routing mode generated."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from tests.generate.helpers import CONTROL, OPTIONS, SHOP, by_kind, documents, generate
from tests.generate.test_cross_checks import matches

from scalesim.generate import Target, render
from scalesim.generate.guide import readme
from scalesim.generate.naming import dns_label
from scalesim.spec import System, load_spec
from scalesim.spec.checks import iter_calls
from scalesim.spec.model import Kind
from scalesim.templates import load_built
from scalesim.templates.registry import get_template


def _docs(overrides: tuple[str, ...]) -> list[dict[str, Any]]:
    return [doc for target in (Target.K8S, Target.ISTIO, Target.ARGO)
            for doc in documents(generate(CONTROL, target, overrides))]


def _canary_host(docs: list[dict[str, Any]], name: str) -> str:
    """The Service canary requests reach: with traffic routing, the route destination that is
    not the stable Service (Istio's host-level split); without, the one Service in front of
    the component's pods, stable and canary alike."""
    canary = by_kind(docs, "Rollout")[name]["spec"]["strategy"]["canary"]
    routing = canary.get("trafficRouting")
    if routing is not None:
        vs = by_kind(docs, "VirtualService")[routing["istio"]["virtualService"]["name"]]
        hosts = {d["destination"]["host"].split(".")[0]
                 for route in vs["spec"]["http"] if route["name"] in
                 routing["istio"]["virtualService"]["routes"] for d in route["route"]}
        (host,) = hosts - {canary["stableService"]}
        return host
    pod = by_kind(docs, "Deployment")[name]["spec"]["template"]["metadata"]["labels"]
    (host,) = [service for service, doc in by_kind(docs, "Service").items()
               if "selector" in doc["spec"] and matches(doc["spec"]["selector"], pod)]
    return host


@pytest.mark.parametrize("routed", ["true", "false"])
def test_canary_analyses_select_the_service_the_canary_traffic_reaches(routed: str) -> None:
    docs = _docs((f"components.api.rollout.traffic_routing={routed}",))
    canary = by_kind(docs, "Rollout")["api"]["spec"]["strategy"]["canary"]
    refs = [ref["templateName"] for ref in canary["analysis"]["templates"]] + [
        ref["templateName"] for step in canary["steps"]
        for ref in step.get("analysis", {}).get("templates", [])]
    templates = by_kind(docs, "AnalysisTemplate")
    queries = [metric["provider"]["prometheus"]["query"]
               for ref in refs for metric in templates[ref]["spec"]["metrics"]]
    named = {service for query in queries
             for service in re.findall(r'destination_service_name="([^"]+)"', query)}
    assert len(refs) == 2 and queries
    assert named == {_canary_host(docs, "api")}


def _requested(system: System) -> set[str]:
    """Components HTTP requests reach: called by a component, aimed at by a workload, or a
    gateway (outside clients). A queue's deliveries are not requests: the consumer pulls
    them from its broker."""
    called = {system.resolve(call.to)[0] for _, _, _, call in iter_calls(system)}
    aimed = {system.resolve(workload.to)[0] for workload in system.workloads}
    gateways = {name for name, c in system.components.items() if c.kind is Kind.GATEWAY}
    return called | aimed | gateways


@pytest.mark.parametrize("spec", [SHOP, "e-commerce"])
def test_the_slo_analysis_runs_only_where_requests_arrive(spec: Path | str) -> None:
    """Istio's request metrics, all the SLO template reads, exist only for components that
    requests reach; a consumer's default canary runs its steps alone and says why."""
    sys_ = load_spec(spec) if isinstance(spec, Path) else load_built(get_template(spec).build())
    assert sys_.slo is not None
    docs = documents(render(sys_, Target.ARGO, OPTIONS))
    plain = {dns_label(name) for name, c in sys_.components.items() if c.rollout is None}
    requested = {dns_label(name) for name in _requested(sys_)}
    rollouts = {name: r for name, r in by_kind(docs, "Rollout").items() if name in plain}
    analysed = {name for name, r in rollouts.items() if "analysis" in r["spec"]["strategy"][
        "canary"]}
    assert analysed == set(rollouts) & requested and set(rollouts) - requested
    for name in set(rollouts) - analysed:
        note = rollouts[name]["metadata"]["annotations"]["scalesim.io/note"]
        assert note.startswith("no SLO analysis") and name in note
    assert all("annotations" not in rollouts[name]["metadata"] for name in analysed)
    guide = readme(sys_, OPTIONS).content
    assert all(f"`{name}`" in guide.split("## 6.")[1].split("## 7.")[0]
               for name in set(rollouts) - analysed)
