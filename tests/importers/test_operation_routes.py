"""Istio routes matched by `uri: {exact: /<operation>}` (what `scalesim generate` writes when
a caller's calls to one callee need different timeouts or retries) come back as calls to
those operations, each with its route's settings; a caller's route without a uri serves its
calls to the operations no route of its own names (docs/import.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.generate.test_istio_call_sites import SPEC
from tests.importers.test_round_trip import imported_from_k8s, original

from scalesim.generate import GenerateOptions, Target, render
from scalesim.importers import Imported, import_k8s
from scalesim.importers.assemble import assemble
from scalesim.importers.k8s import read_cluster
from scalesim.importers.sources import parse
from scalesim.spec import System, load_spec_text
from scalesim.spec.model import Call

NAME = "app.kubernetes.io/name"


def calls(system: System, caller: str) -> dict[str, Call]:
    [operation] = system.components[caller].operations.values()
    return {call.to: call for call in operation.calls}


def test_each_operation_route_comes_back_as_its_call() -> None:
    options = GenerateOptions(namespace="demo", image_registry="registry.example/demo")
    files = [file for target in (Target.K8S, Target.ISTIO)
             for file in render(load_spec_text(SPEC), target, options)]
    documents = [document for file in files if file.path.endswith(".yaml")
                 for document in parse(file.content, file.path)]
    back = assemble(read_cluster(documents, "generated")).system
    assert set(back.components["back"].operations) == {"x", "w"}    # its component.json's
    front = calls(back, "front")
    assert list(front) == ["back.x", "back.w"]
    x, w = front["back.x"], front["back.w"]
    assert (x.timeout, x.deadline) == (0.1, 0.25)
    assert x.retry is not None and x.retry.attempts == 3
    assert (w.timeout, w.deadline, w.retry) == (2.5, None, None)
    # side's two calls agree: one route, from-side, without a uri, serves both
    side = calls(back, "side")
    assert list(side) == ["back.x", "back.w"]
    assert all((call.timeout, call.retry) == (0.04, None) for call in side.values())


def workload(name: str, env: dict[str, str]) -> list[dict[str, Any]]:
    labels = {NAME: name}
    container = {"name": name, "image": f"registry.local/{name}:1",
                 "env": [{"name": k, "value": v} for k, v in env.items()]}
    return [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
             "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                      "template": {"metadata": {"labels": labels},
                                   "spec": {"containers": [container]}}}},
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
             "spec": {"selector": labels, "ports": [{"port": 8080}]}}]


def route(name: str, timeout: str, caller: str | None = None,
          uri: dict[str, str] | None = None) -> dict[str, Any]:
    match: dict[str, Any] = {}
    if caller is not None:
        match["sourceLabels"] = {NAME: caller}
    if uri is not None:
        match["uri"] = uri
    found: dict[str, Any] = {"name": name, "route": [{"destination": {"host": "back"}}],
                             "timeout": timeout, "retries": {"attempts": 0}}
    return {**found, "match": [match]} if match else found


def imported(tmp_path: Path, *routes: dict[str, Any]) -> Imported:
    service = {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
               "metadata": {"name": "back"}, "spec": {"hosts": ["back"], "http": list(routes)}}
    documents = [*workload("front", {"BACK_URL": "http://back:8080"}),
                 *workload("other", {"BACK_URL": "http://back:8080"}),
                 *workload("back", {}), service]
    path = tmp_path / "all.yaml"
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return import_k8s([str(path)])


def test_a_caller_route_serves_its_other_operations_and_an_operation_route_others(
        tmp_path: Path) -> None:
    system = imported(tmp_path, route("from-front-x", "1s", "front", {"exact": "/x"}),
                      route("from-front", "3s", "front"),
                      route("any-w", "2s", uri={"exact": "/w"}),
                      route("default", "4s")).system
    assert list(system.components["back"].operations) == ["x", "w"]
    assert {to: call.timeout for to, call in calls(system, "front").items()} == \
        {"back.x": 1.0, "back.w": 3.0}
    assert {to: call.timeout for to, call in calls(system, "other").items()} == \
        {"back.w": 2.0}


def test_another_uri_match_is_noted_and_serves_every_operation(tmp_path: Path) -> None:
    result = imported(tmp_path, route("api", "1s", "front", {"prefix": "/api"}))
    assert list(result.system.components["back"].operations) == ["handle"]
    assert calls(result.system, "front")["back"].timeout == 1.0
    assert any("spec.http[0].match[0].uri: only an exact '/<operation>'" in note
               for note in result.notes)


@pytest.mark.parametrize("match", [
    {"uri": {"prefix": "/api"}}, {"headers": {"x-canary": {"exact": "1"}}},
    {"uri": {"exact": "/x"}, "method": {"exact": "GET"}}])
@pytest.mark.parametrize("caller", ["front", None])
def test_a_route_for_some_requests_gives_way_to_the_catch_all_after_it(
        tmp_path: Path, match: dict[str, Any], caller: str | None) -> None:
    """Envoy sends the requests the first route does not match to the catch-all after it:
    most requests. Its settings are the call's, and the first route's are noted as left
    out (they were the call's, and the catch-all's were dropped silently)."""
    first = route("some", "1s", caller)
    first["match"] = [{**first.get("match", [{}])[0], **match}]
    result = imported(tmp_path, first, route("default", "4s"))
    assert {to: call.timeout for to, call in calls(result.system, "front").items()} == \
        {"back": 4.0}
    assert "VirtualService back spec.http[0]: its match takes only some requests; the calls " \
        "get the settings of spec.http[1], which takes the rest: spec.http[0]'s timeout and " \
        "retries are left out" in result.notes


def test_a_compensation_only_its_route_shows_comes_back_as_a_marked_call(
        tmp_path: Path) -> None:
    """component.json lists no compensation, but from-orders-release names it: orders calls
    inventory.release with that route's retries, marked as running on every request."""
    result = imported_from_k8s(original(("template", "saga-orchestration", {})), tmp_path)
    orders = calls(result.system, "orders")
    reserve, release = orders["inventory.reserve"], orders["inventory.release"]
    assert (reserve.timeout, release.timeout) == (1.0, None)
    assert release.retry is not None and release.retry.attempts == 4
    line = next(line for line in result.text.splitlines() if "to: inventory.release" in line)
    assert "PLACEHOLDER: a route matches this operation's uri" in line
