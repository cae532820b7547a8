"""Argo's analyses measure the traffic they judge: a query selects the Service Istio names
as the destination of the new version's requests, in every routing mode generated."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tests.generate.helpers import CONTROL, by_kind, documents, generate
from tests.generate.test_cross_checks import matches

from scalesim.generate import Target


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
