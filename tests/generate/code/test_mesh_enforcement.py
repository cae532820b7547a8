"""Who enforces each call's timeout and retries once the Istio routes are generated.

The routes time out and retry HTTP calls, so the services leave those calls' timeout and
retries to the sidecar (SCALESIM_RETRIES=mesh). Istio's TCP routes have neither, so a call
to a database, cache or queue reached over TCP keeps its own in the service. Every call's
timeout is then carried exactly once, by a route or by the code (docs/generate.md).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from tests.generate.code._support import run_in_service
from tests.generate.helpers import by_kind, documents
from tests.generate.test_schemas import CRDS, crd_errors, k8s_errors

from scalesim.generate import GenerateOptions, Target, render
from scalesim.generate.naming import istio_duration
from scalesim.spec import load_spec_text
from scalesim.spec.model import Call

# One caller, one call per callee, each with its own timeout: an HTTP service, an external
# API and an SQS queue (HTTP), a database, a cache and a RabbitMQ queue (TCP).
SPEC = """
scalesim: 1
name: protocols
components:
  api:
    workers: 8
    operations:
      get:
        work: 1ms
        calls:
          - {to: users.find, timeout: 210ms, retry: {attempts: 3}}
          - {to: vendor.lookup, timeout: 220ms}
          - {to: sqs.publish, timeout: 230ms}
          - {to: db.select, timeout: 150ms, retry: {attempts: 3}}
          - {to: cache.get, timeout: 160ms}
          - {to: jobs.publish, timeout: 170ms, retry: {attempts: 2}}
  users:
    operations:
      find: {work: 2ms}
  vendor:
    kind: external
    operations:
      lookup: {work: 5ms}
  sqs:
    kind: queue
    tech: sqs
    consumers: [users.find]
  db:
    kind: database
    tech: postgres
    connection_pool: {max_connections: 40, max_pending_requests: 5, max_requests: 40}
    outlier_detection: {consecutive_5xx: 4, interval: 5s, base_ejection_time: 20s,
                        max_ejection_percent: 50%}
    operations:
      select: {work: 3ms}
  cache:
    kind: cache
    tech: redis
    hit_ratio: 90%
    backend: db.select
    operations:
      get: {work: 0.2ms}
  jobs:
    kind: queue
    tech: rabbitmq
    consumers: [users.find]
workloads: [{name: w, to: api.get, rate: 10/s}]
"""
TCP = {"db", "cache", "jobs"}

# The calls as the running service holds them after applying its settings file.
CALLS = textwrap.dedent("""
    import json

    from fastapi.testclient import TestClient

    from app import app

    with TestClient(app):
        print(json.dumps([[c.component, c.timeout, c.retry and c.retry.attempts]
                          for c in app.state.settings.calls]))
    """)


def _in_the_code(docs: list[dict[str, Any]], code: Path, tmp_path: Path) -> dict[str, Any]:
    """callee -> (timeout, tries) of api's calls, in the service started as its Deployment
    says (its settings file and environment)."""
    settings = tmp_path / "component.json"
    settings.write_text(by_kind(docs, "ConfigMap")["api-settings"]["data"]["component.json"],
                        encoding="utf-8")
    container = by_kind(docs, "Deployment")["api"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"] if not e["name"].endswith("_URL")}
    env["SCALESIM_SETTINGS"] = str(settings)
    (line,) = run_in_service(code / "api", CALLS, env=env)
    return {callee: (timeout, tries) for callee, timeout, tries in json.loads(line)}


def _in_the_mesh(docs: list[dict[str, Any]], callee: str) -> tuple[str | None, int | None]:
    """(per-try timeout, tries) of api's route to the callee; Nones without a route."""
    service = by_kind(docs, "VirtualService").get(callee)
    if service is None:
        return None, None
    route = next(r for r in service["spec"]["http"] if r["name"] == "from-api")
    retries = route["retries"]
    if retries["attempts"] == 0:
        return route.get("timeout"), None
    return retries.get("perTryTimeout"), retries["attempts"] + 1


@pytest.mark.parametrize("mesh", [True, False], ids=["with-istio", "without-istio"])
def test_every_calls_timeout_and_retries_are_enforced_exactly_once(
        mesh: bool, tmp_path: Path) -> None:
    system = load_spec_text(SPEC)
    targets = [Target.K8S, Target.CODE, *([Target.ISTIO] if mesh else [])]
    files = render(system, targets, GenerateOptions())
    for file in files:
        path = tmp_path / file.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(file.content, encoding="utf-8")
    docs = documents(files)
    code = _in_the_code(docs, tmp_path / "code", tmp_path)
    for call in system.components["api"].operations["get"].calls:
        assert isinstance(call, Call) and call.timeout is not None
        callee = call.to.split(".")[0]
        want = (call.timeout, call.retry.attempts if call.retry else None)
        mesh_timeout, mesh_tries = _in_the_mesh(docs, callee)
        code_timeout, code_tries = code[callee]
        routed = mesh and callee not in TCP
        assert (mesh_timeout, mesh_tries) == (
            (istio_duration(want[0]), want[1]) if routed else (None, None)), callee
        assert (code_timeout, code_tries) == ((None, None) if routed else want), callee


def test_the_destination_rule_of_a_tcp_callee_keeps_its_pool_and_outlier_detection() -> None:
    """What the mesh can enforce on TCP stays there: the connection limit and ejections."""
    docs = documents(render(load_spec_text(SPEC), Target.ISTIO, GenerateOptions()))
    policy = by_kind(docs, "DestinationRule")["db"]["spec"]["trafficPolicy"]
    assert policy["connectionPool"]["tcp"] == {"maxConnections": 40}
    assert policy["outlierDetection"]["consecutive5xxErrors"] == 4
    assert "db" not in by_kind(docs, "VirtualService")


def test_the_generated_objects_validate() -> None:
    """The Kubernetes objects against the API's schemas, the Istio ones against the CRDs."""
    docs = documents(render(load_spec_text(SPEC), [Target.K8S, Target.ISTIO],
                            GenerateOptions()))
    core = [doc for doc in docs if "." not in doc["apiVersion"].split("/")[0]]
    assert [error for doc in core for error in k8s_errors(doc)] == []
    if not CRDS.is_dir():
        pytest.skip(f"CRD schemas not found at {CRDS}")
    assert [error for doc in docs if doc not in core for error in crd_errors(doc)] == []
