"""The studio's HTTP API: every route, bad input, limits, unknown ids, no leaked internals."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from tests.studio.conftest import finished, wait

from scalesim.catalog import load_catalog
from scalesim.catalog.diagram import subgraph
from scalesim.catalog.model import Category
from scalesim.catalog.views import select
from scalesim.studio.config import MAX_BODY_BYTES, MAX_SPEC_BYTES
from scalesim.templates import TEMPLATES


def test_health(client: TestClient) -> None:
    body = client.get("/api/health").json()
    assert body["status"] == "ok"
    assert body["database"] == "sqlite"
    assert body["runs"] == {"running": 0, "queued": 0, "limit": 2}
    assert body["max_spec_bytes"] == MAX_SPEC_BYTES


def test_templates_list_every_template_with_a_spec_that_loads(client: TestClient) -> None:
    cards = client.get("/api/templates").json()
    assert [c["id"] for c in cards] == [t.id for t in TEMPLATES]
    breaker = next(c for c in cards if c["id"] == "circuit-breaker")
    assert breaker["category"] == "resilience"
    assert "circuit-breaker" in breaker["patterns"]
    assert breaker["expected"] and breaker["spec"].startswith("# Made by `scalesim new")
    assert client.post("/api/validate", json={"spec": breaker["spec"]}).json()["valid"] is True


def test_template_details_and_unknown_template(client: TestClient) -> None:
    details = client.get("/api/templates/circuit-breaker").json()
    assert {p["name"] for p in details["parameters"]} >= {"rps", "with_breaker"}
    missing = client.get("/api/templates/circuit-braker")
    assert missing.status_code == 404
    assert "did you mean 'circuit-breaker'" in missing.json()["error"]


def test_template_parameters_build_a_spec(client: TestClient) -> None:
    built = client.post("/api/templates/circuit-breaker/spec",
                        json={"params": {"rps": 300, "with_breaker": False}}).json()
    spec = yaml.safe_load(built["spec"])
    assert spec["workloads"][0]["rate"] == "300/s"
    assert "circuit_breaker" not in spec["components"]["checkout"]["operations"]["pay"]["calls"][0]
    bad = client.post("/api/templates/circuit-breaker/spec", json={"params": {"rps": 0}})
    assert bad.status_code == 400
    assert "rps=0" in bad.json()["error"] and "allowed" in bad.json()["error"]
    assert client.post("/api/templates/nope/spec", json={"params": {}}).status_code == 404


def test_validate_locates_every_error(client: TestClient, breaker_spec: str) -> None:
    broken = breaker_spec.replace("replicas: 2", "replicas: 0").replace(
        "to: payments.charge", "to: payment.charge")
    body = client.post("/api/validate", json={"spec": broken}).json()
    assert body["valid"] is False and body["findings"] == []
    lines = broken.splitlines()
    by_path = {e["path"]: e for e in body["errors"]}
    replicas = by_path["components.checkout.replicas"]
    assert lines[replicas["line"] - 1].strip() == "replicas: 0"
    assert "at least 1" in replicas["message"]


def test_validate_syntax_error_has_its_line(client: TestClient) -> None:
    body = client.post("/api/validate", json={"spec": "scalesim: 1\nname: [unclosed\n"}).json()
    assert body["valid"] is False
    assert body["errors"][0]["line"] >= 2


def test_validate_returns_lint_findings_with_fixes(client: TestClient) -> None:
    risky = """scalesim: 1
name: chain
components:
  a: {operations: {x: {work: 1ms, calls: [{to: b, retry: {attempts: 5}}]}}}
  b: {operations: {x: {work: 1ms, calls: [{to: c, retry: {attempts: 5}}]}}}
  c: {operations: {x: {work: 1ms}}}
workloads: [{name: w, to: a, rate: 10/s}]
"""
    body = client.post("/api/validate", json={"spec": risky}).json()
    assert body["valid"] is True
    findings = body["findings"]
    assert findings, "retries at two layers (and no timeouts) are anti-patterns"
    assert all(f["line"] >= 1 and f["fixes"] for f in findings)


@pytest.mark.parametrize("route", ["/api/validate", "/api/runs", "/api/generate"])
def test_bad_requests_are_json_errors(client: TestClient, route: str) -> None:
    missing = client.post(route, json={})
    assert missing.status_code == 400
    assert "spec" in missing.json()["error"]
    not_json = client.post(route, content=b"spec: x", headers={"Content-Type": "text/plain"})
    assert not_json.status_code == 415


@pytest.mark.parametrize("route", ["/api/validate", "/api/runs", "/api/generate", "/api/designs"])
def test_oversized_specs_are_refused(client: TestClient, route: str) -> None:
    big = "# padding\n" * (MAX_SPEC_BYTES // 10 + 1)
    body = {"spec": big, "name": "big"}
    response = client.post(route, json=body)
    assert response.status_code == 413
    assert f"{MAX_SPEC_BYTES:,}" in response.json()["error"]
    huge = client.post(route, content=b"x" * (MAX_BODY_BYTES + 1),
                       headers={"Content-Type": "application/json"})
    assert huge.status_code == 413


def test_bad_spec_run_is_400_with_located_errors(client: TestClient, breaker_spec: str) -> None:
    response = client.post("/api/runs", json={"spec": breaker_spec.replace("rate: 100/s",
                                                                            "rate: fast")})
    assert response.status_code == 400
    body = response.json()
    error = body["errors"][0]
    assert error["path"] == "workloads[0].rate" and error["line"] > 1
    assert "line" in body["error"]


def test_a_run_reports_progress_and_its_result(client: TestClient, breaker_spec: str) -> None:
    started = client.post("/api/runs", json={"spec": breaker_spec, "seed": 3})
    assert started.status_code == 202
    run_id = started.json()["id"]
    with client.stream("GET", f"/api/runs/{run_id}/events") as stream:
        events = [line for line in stream.iter_lines() if line.startswith("event:")]
    assert events[-1] == "event: end"
    state = wait(client, run_id, finished)
    assert state["status"] == "done" and state["progress"] == 1.0
    result = state["result"]
    assert result["seed"] == 3 and result["system"] == "circuit-breaker"
    assert result["latency_ms"]["p99"] > 0
    assert set(result["timeseries"]) >= {"workloads", "components", "breakers"}
    breaker = result["calls"][0]["circuit_breaker"]
    assert breaker["transitions"][0]["to"] == "open"
    listed = client.get("/api/runs").json()
    assert listed[0]["id"] == run_id and listed[0]["summary"]["p99_ms"] == result[
        "latency_ms"]["p99"]


def test_a_seed_past_javascripts_numbers_comes_as_its_digits(client: TestClient,
                                                              breaker_spec: str) -> None:
    """The browser sends a seed as text: 2^63 − 1 as a JavaScript number would arrive as
    2^63. Digits are read as the integer they spell; anything else is refused, not
    rewritten (the page used to strip '-5' to 5 and '1.5' to 15)."""
    largest = str(2**63 - 1)
    run_id = client.post("/api/runs", json={"spec": breaker_spec, "seed": largest}).json()["id"]
    assert wait(client, run_id, finished)["result"]["seed"] == 2**63 - 1
    for bad in ("-5", "1.5", "abc", str(2**63), 1.5, True):
        refused = client.post("/api/runs", json={"spec": breaker_spec, "seed": bad})
        assert refused.status_code == 400 and "seed" in refused.text, bad


def test_seeds_past_javascripts_numbers_come_back_as_their_digits(
        client: TestClient, breaker_spec: str) -> None:
    """2^53 + 1 and 2^53 are one JavaScript number: the runs and the comparison give each
    seed as its digits too, so the page lists them apart and sees that they differ."""
    seeds = [str(2**53 + 1), str(2**53)]
    ran = [client.post("/api/runs", json={"spec": breaker_spec, "seed": s}).json()["id"]
           for s in seeds]
    states = [wait(client, run, finished) for run in ran]
    assert [s["seed_text"] for s in states] == seeds
    assert [s["seed"] for s in states] == [2**53 + 1, 2**53], "the JSON integer stays"
    listed = {r["id"]: r["seed_text"] for r in client.get("/api/runs").json()}
    assert [listed[run] for run in ran] == seeds
    spec_seed = client.post("/api/runs", json={"spec": breaker_spec}).json()["id"]
    assert wait(client, spec_seed, finished)["seed_text"] is None, "the spec's own seed"
    compared = client.get(f"/api/compare?a={ran[0]}&b={ran[1]}").json()
    assert compared["seeds"] == {"a": seeds[0], "b": seeds[1]}
    assert [compared[k]["seed_text"] for k in "ab"] == seeds
    own = client.get(f"/api/compare?a={spec_seed}&b={ran[1]}").json()
    assert own["seeds"] == {"a": "1", "b": seeds[1]}, "the seed the run drew from: the spec's"


def test_same_spec_and_seed_give_the_same_result(client: TestClient, breaker_spec: str) -> None:
    first, second = (client.post("/api/runs", json={"spec": breaker_spec}).json()["id"]
                     for _ in range(2))
    a, b = (wait(client, run, finished)["result"] for run in (first, second))
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    compared = client.get(f"/api/compare?a={first}&b={second}").json()
    assert compared["deltas"] and all(d["verdict"] in ("same", "n/a") for d in compared["deltas"])


def test_a_run_that_finishes_while_it_is_read_is_never_done_without_its_result(
        client: TestClient, breaker_spec: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run finishing between the route's look at the live run and its read of the store must
    not come back as done with no result (seen once in CI as a KeyError)."""
    runs, store = client.app.state.runs, client.app.state.store  # type: ignore[attr-defined]
    read = store.get_run
    waited: list[str] = []

    def read_after_it_finishes(run_id: str, with_result: bool = True) -> Any:
        if not waited and not with_result and runs.active(run_id) is not None:
            waited.append(run_id)
            deadline = time.monotonic() + 60
            while runs.active(run_id) is not None and time.monotonic() < deadline:
                time.sleep(0.01)
        return read(run_id, with_result)

    monkeypatch.setattr(store, "get_run", read_after_it_finishes)
    run_id = client.post("/api/runs", json={"spec": breaker_spec}).json()["id"]
    raced = client.get(f"/api/runs/{run_id}").json()
    assert waited == [run_id]
    assert raced["status"] in ("queued", "running") and "result" not in raced
    assert wait(client, run_id, finished)["result"]["seed"] == 1


@pytest.mark.parametrize("method,route", [
    ("GET", "/api/runs/nope"), ("DELETE", "/api/runs/nope"), ("GET", "/api/runs/nope/events"),
    ("GET", "/api/compare?a=nope&b=nope"), ("GET", "/api/designs/nope"),
    ("DELETE", "/api/designs/nope"), ("POST", "/api/designs/nope/duplicate"),
    ("GET", "/api/designs/nope/versions/1"), ("GET", "/api/designs/nope/runs"),
    ("GET", "/api/patterns/no-such-pattern"), ("GET", "/api/patterns/no-such-pattern/graph"),
    ("GET", "/api/templates/nope"), ("GET", "/api/nothing-here"),
])
def test_unknown_ids_are_404(client: TestClient, method: str, route: str) -> None:
    response = client.request(method, route)
    assert response.status_code == 404
    assert set(response.json()) == {"error"}  # docs/studio.md: every error is {"error": ...}


def test_unknown_routes_and_methods_are_json_errors(client: TestClient) -> None:
    """The router's own 404 and 405 (Starlette's HTTPException) have the studio's shape."""
    missing = client.get("/api/nonexist")
    assert missing.status_code == 404
    assert missing.json() == {"error": "Not Found: GET /api/nonexist"}
    wrong = client.put("/api/runs/nope")
    assert wrong.status_code == 405
    assert wrong.json() == {"error": "Method Not Allowed: PUT /api/runs/nope (it takes DELETE, "
                            "GET)"}
    assert wrong.headers["allow"] == "DELETE, GET"


def test_generate_zip_and_preview(client: TestClient, breaker_spec: str) -> None:
    response = client.post("/api/generate", json={"spec": breaker_spec, "targets": ["k8s",
                                                                                      "istio"]})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert 'filename="circuit-breaker-k8s-istio.zip"' in response.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert all(name.startswith("circuit-breaker/") for name in names)
    assert any("/k8s/" in name for name in names) and any("istio" in name for name in names)
    assert archive.testzip() is None
    preview = client.post("/api/generate", json={"spec": breaker_spec, "targets": ["k8s"],
                                                 "format": "json"}).json()
    contents = {f["path"]: f["content"] for f in preview["files"]}
    assert {f"circuit-breaker/{p}" for p in contents} <= set(names)
    assert "replicas: 2" in contents["k8s/checkout.yaml"]  # the spec's number, written through


def test_generated_files_are_the_clis_for_the_same_targets(client: TestClient,
                                                         breaker_spec: str) -> None:
    """The studio renders its targets together, as `scalesim generate` does: with the Istio
    routes, the Deployments tell the services to leave retries to the mesh (it rendered
    each target alone, so they retried twice)."""
    from scalesim.generate import GenerateOptions, Target, render
    from scalesim.spec import load_spec_text

    preview = client.post("/api/generate", json={
        "spec": breaker_spec, "targets": ["k8s", "istio"], "format": "json"}).json()
    contents = {f["path"]: f["content"] for f in preview["files"]}
    cli = {f.path: f.content for f in render(load_spec_text(breaker_spec),
                                               [Target.K8S, Target.ISTIO], GenerateOptions())}
    assert contents == cli
    assert "SCALESIM_RETRIES" in contents["k8s/checkout.yaml"]


def test_generate_rejects_bad_options_and_targets(client: TestClient, breaker_spec: str) -> None:
    bad = client.post("/api/generate", json={"spec": breaker_spec, "namespace": "Not_OK"})
    assert bad.status_code == 400 and "namespace" in bad.json()["error"]
    unknown = client.post("/api/generate", json={"spec": breaker_spec, "targets": ["docker"]})
    assert unknown.status_code == 400
    targets = {t["id"] for t in client.get("/api/generate/targets").json()}
    assert {"k8s", "istio", "argo", "kong", "keda", "compose", "helm", "all"} <= targets


def test_generate_targets_say_which_would_write_nothing(client: TestClient,
                                                       breaker_spec: str) -> None:
    """A target with nothing to write for the spec says why, in the command line's words,
    before it is picked; the others write files (the preview of one holds its folder)."""
    from scalesim.generate.targets import NEEDS, Target

    found = client.post("/api/generate/targets", json={"spec": breaker_spec})
    assert found.status_code == 200
    empty = {t["id"]: t["empty"] for t in found.json()}
    assert empty["kong"] == f"kong: nothing to generate: the spec has no {NEEDS[Target.KONG]}"
    for target in ("k8s", "istio", "compose", "helm", "code", "all"):
        assert empty[target] is None
    written = {f["path"].split("/", 1)[0] for f in client.post("/api/generate", json={
        "spec": breaker_spec, "targets": ["kong"], "format": "json"}).json()["files"]}
    assert written == {"README.md"}
    bad = client.post("/api/generate/targets", json={"spec": "scalesim: 1\nname: x\n"})
    assert bad.status_code == 400 and "errors" in bad.json()


def test_designs_versions_duplicate_delete(client: TestClient, breaker_spec: str) -> None:
    created = client.post("/api/designs", json={"name": "shop", "spec": breaker_spec,
                                                "layout": {"checkout": {"x": 1, "y": 2}}})
    assert created.status_code == 201
    design = created.json()
    assert design["version"] == 1 and design["layout"] == {"checkout": {"x": 1, "y": 2}}
    same = client.put(f"/api/designs/{design['id']}", json={"spec": breaker_spec}).json()
    assert same["version"] == 1, "saving an unchanged spec makes no version"
    changed = breaker_spec.replace("replicas: 2", "replicas: 3")
    updated = client.put(f"/api/designs/{design['id']}", json={"spec": changed,
                                                               "name": "shop 2"}).json()
    assert updated["version"] == 2 and updated["name"] == "shop 2"
    assert [v["number"] for v in updated["versions"]] == [1, 2]
    old = client.get(f"/api/designs/{design['id']}/versions/1").json()
    assert old["spec"] == breaker_spec
    assert client.get(f"/api/designs/{design['id']}/versions/9").status_code == 404
    run = client.post("/api/runs", json={"spec": changed, "design_id": design["id"],
                                         "version": 2}).json()
    wait(client, run["id"], finished)
    runs = client.get(f"/api/designs/{design['id']}/runs").json()
    assert [r["id"] for r in runs] == [run["id"]] and runs[0]["version"] == 2
    assert client.get(f"/api/designs/{design['id']}").json()["versions"][1]["runs"] == 1
    copy = client.post(f"/api/designs/{design['id']}/duplicate").json()
    assert copy["name"] == "shop 2 (copy)" and copy["spec"] == changed and copy["version"] == 1
    listed = client.get("/api/designs").json()
    assert {d["id"] for d in listed} == {design["id"], copy["id"]}
    assert client.delete(f"/api/designs/{design['id']}").status_code == 204
    assert client.get(f"/api/designs/{design['id']}").status_code == 404
    assert client.get(f"/api/runs/{run['id']}").json()["design_id"] is None
    unknown = client.post("/api/runs", json={"spec": changed, "design_id": "nope"})
    assert unknown.status_code == 404


def test_designs_keep_drafts_that_do_not_validate(client: TestClient) -> None:
    draft = client.post("/api/designs", json={"name": "draft", "spec": "name: [half"}).json()
    assert client.get(f"/api/designs/{draft['id']}").json()["spec"] == "name: [half"
    assert client.post("/api/designs", json={"name": "", "spec": ""}).status_code == 400


def test_patterns_search_entry_graph(client: TestClient) -> None:
    every = client.get("/api/patterns").json()
    assert len(every) > 300
    hits = client.get("/api/patterns", params={"q": "circuit braker"}).json()
    assert hits[0]["id"] == "circuit-breaker"
    saga = client.get("/api/patterns", params={"q": "saga"}).json()
    flags = [hit["related"] for hit in saga]
    assert flags == sorted(flags), "the matches, then the related patterns"
    assert {hit["id"] for hit in saga if hit["related"]} == {
        "application-metrics", "distributed-tracing", "monolithic-architecture"}
    assert not any(hit["related"] for hit in every)
    resilience = client.get("/api/patterns", params={"category": "resilience"}).json()
    assert [p["id"] for p in resilience] == [
        p.id for p in select(load_catalog(), category=Category.RESILIENCE)]
    assert any(p["category"] != "resilience" for p in resilience)  # also_in, as the CLI
    unknown = client.get("/api/patterns", params={"category": "nope"})
    assert unknown.status_code == 400 and "resilience" in unknown.json()["error"]
    entry = client.get("/api/patterns/circuit-breaker").json()
    assert entry["templates"] == ["circuit-breaker"] or "circuit-breaker" in entry["templates"]
    assert entry["relations_both"]
    # as the CLI reads them: it counters Cascading Failure, neither 'conflicts with' it nor
    # a bare 'fixes' beside that
    kinds = {r["kind"] for r in entry["relations_both"] if r["id"] == "cascading-failure"}
    assert kinds == {"counters"}
    graph = client.get("/api/patterns/circuit-breaker/graph").json()
    ids = {n["id"] for n in graph["nodes"]}
    assert graph["centre"] == "circuit-breaker" and len(ids) == len(graph["nodes"])
    assert all(e["source"] in ids and e["target"] in ids for e in graph["edges"])


def test_a_pattern_gives_its_conflicts_reasons_and_the_clis_graph(client: TestClient) -> None:
    """Each conflict carries the reason its file gives (as `patterns show` prints), and the
    graph holds every declared link among the patterns it shows, as `patterns graph` draws."""
    catalog = load_catalog()
    entry = client.get("/api/patterns/two-phase-commit").json()
    conflicts = {r["id"]: r["reason"] for r in entry["relations_both"]
                 if r["kind"] == "conflicts_with"}
    declared = catalog["two-phase-commit"].relations.conflicts_with
    assert declared and all(conflicts[c.id] == c.reason for c in declared)
    graph = client.get("/api/patterns/two-phase-commit/graph").json()
    drawn = subgraph(catalog, "two-phase-commit", 1)
    assert {n["id"] for n in graph["nodes"]} == {p.id for p in drawn.nodes}
    assert [(e["source"], e["kind"], e["target"], e["reason"]) for e in graph["edges"]] == [
        (e.source, e.kind, e.target, e.reason) for e in drawn.edges]
    assert len(graph["edges"]) > len(graph["nodes"]) - 1  # more than the star around it


def test_advise_asks_one_question_at_a_time(client: TestClient) -> None:
    trees = {t["id"] for t in client.get("/api/patterns/trees").json()}
    assert "resilience" in trees
    first = client.post("/api/patterns/advise", json={"tree": "resilience"}).json()
    question = first["next"]
    assert question and question["choices"] and first["recommendations"] == []
    answers = {question["key"]: question["choices"][0]["value"]}
    while True:
        step = client.post("/api/patterns/advise", json={"tree": "resilience",
                                                         "answers": answers}).json()
        if step["next"] is None:
            break
        answers[step["next"]["key"]] = step["next"]["choices"][0]["value"]
    assert step["recommendations"] and len(step["steps"]) == len(answers)
    bad = client.post("/api/patterns/advise", json={"tree": "resilience",
                                                    "answers": {question["key"]: "maybe"}})
    assert bad.status_code == 400 and "allowed" in bad.json()["error"]
    assert client.post("/api/patterns/advise", json={"tree": "nope"}).status_code == 404


def test_schema_is_the_spec_schema(client: TestClient) -> None:
    schema = client.get("/api/schema").json()
    assert "Component" in schema["$defs"] and "components" in schema["properties"]


def test_errors_never_leak_internals(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import scalesim.studio.specs as specs

    def broken(_: str) -> None:
        raise RuntimeError("secret /home/user/path")

    monkeypatch.setattr(specs, "validate", broken)
    with TestClient(client.app, raise_server_exceptions=False) as c:
        response = c.post("/api/validate", json={"spec": "x"})
    assert response.status_code == 500
    text = response.text
    assert "secret" not in text and "Traceback" not in text and "/home" not in text
    assert response.json()["error"].startswith("internal error")


def test_front_end_is_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "ScaleSim Studio" in page.text


def test_the_api_is_described_without_cdn_pages(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    paths = set(document["paths"])
    assert {"/api/templates", "/api/templates/{template_id}", "/api/templates/{template_id}/spec",
            "/api/validate", "/api/runs", "/api/runs/{run_id}", "/api/runs/{run_id}/events",
            "/api/generate", "/api/designs", "/api/designs/{design_id}", "/api/patterns",
            "/api/health"} <= paths
    assert set(document["paths"]["/api/runs/{run_id}"]) == {"get", "delete"}
    assert set(document["paths"]["/api/designs/{design_id}"]) == {"get", "put", "delete"}
    assert client.get("/docs").status_code == 404  # Swagger UI would load from a CDN


def test_front_end_missing_says_how_to_build(studio: Callable[..., TestClient],
                                             tmp_path: Path) -> None:
    client = studio(static_dir=tmp_path)
    page = client.get("/")
    assert page.status_code == 200 and "make studio" in page.text
