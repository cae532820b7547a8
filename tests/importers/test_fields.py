"""A value the real API server or CRD refuses is bad input: file, line, object and field,
exit 2, nothing written; never read as "not set" and replaced by a default (audit 5 #3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.generate.helpers import SMALL, generate
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.generate import Target
from scalesim.importers import ImportFailed, import_k8s
from scalesim.spec.checks import iter_calls


def _write(_tmp: Path) -> dict[str, list[dict[str, Any]]]:
    """The small spec's k8s, istio and kong files, as documents per file."""
    files = [f for target in (Target.K8S, Target.ISTIO, Target.KONG)
             for f in generate(SMALL, target) if f.path.endswith(".yaml")
             and "/chaos/" not in f.path]
    return {f.path: [d for d in yaml.safe_load_all(f.content) if d] for f in files}


def _set(node: Any, path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[leaf] = value


CONTAINER = "spec.template.spec.containers.0"
BAD = [
    ("k8s/api.yaml", "Deployment", "spec.replicas", "three",
     "spec.replicas: 'three' is not a whole number"),
    ("k8s/api.yaml", "Deployment", f"{CONTAINER}.readinessProbe.periodSeconds", -5,
     "readinessProbe.periodSeconds: -5 is out of range: it must be at least 0"),
    ("k8s/api.yaml", "Deployment", f"{CONTAINER}.resources.requests.cpu", "plenty",
     "resources.requests.cpu: 'plenty' is not a quantity"),
    # no float holds it: this crashed with OverflowError
    ("k8s/api.yaml", "Deployment", f"{CONTAINER}.resources.limits.cpu", "1e400",
     "resources.limits.cpu: '1e400' is not a quantity"),
    ("istio/api.yaml", "VirtualService", "spec.http.0.retries.attempts", "many",
     "spec.http[0].retries.attempts: 'many' is not a whole number"),
    ("istio/api.yaml", "VirtualService", "spec.http.0.retries.perTryTimeout", "soon",
     "spec.http[0].retries.perTryTimeout: 'soon' is not a duration"),
    # Istio's ValidateDuration: at least 1 ms, in whole milliseconds (0s was a spec the
    # loader refused, "a bug in scalesim import")
    ("istio/api.yaml", "VirtualService", "spec.http.0.timeout", "0s",
     "spec.http[0].timeout: '0s' is out of range: Istio takes a duration of at least 1ms"),
    ("istio/api.yaml", "VirtualService", "spec.http.0.retries.perTryTimeout", "0s",
     "spec.http[0].retries.perTryTimeout: '0s' is out of range: Istio takes a duration of "
     "at least 1ms"),
    ("istio/api.yaml", "VirtualService", "spec.http.0.timeout", "1500us",
     "spec.http[0].timeout: '1500us' is finer than Istio takes: whole milliseconds"),
    # Istio's validation: a word neither a condition nor a status code (was a note)
    ("istio/api.yaml", "VirtualService", "spec.http.0.retries.retryOn", "5XX,gateway-error",
     "spec.http[0].retries.retryOn: '5XX' is not a condition Istio accepts"),
    ("istio/api.yaml", "VirtualService", "spec.http.0.retries.retryOn", "5xx, reset",
     "spec.http[0].retries.retryOn: ' reset' is not a condition Istio accepts"),
    ("istio/api.yaml", "DestinationRule",
     "spec.trafficPolicy.outlierDetection.maxEjectionPercent", 250,
     "outlierDetection.maxEjectionPercent: 250 is out of range: it must be at least 0 and "
     "at most 100"),
    ("istio/api.yaml", "DestinationRule", "spec.trafficPolicy.outlierDetection.interval",
     "bogus", "outlierDetection.interval: 'bogus' is not a duration"),
    ("istio/api.yaml", "DestinationRule",
     "spec.trafficPolicy.connectionPool.tcp.maxConnections", -4,
     "connectionPool.tcp.maxConnections: -4 is out of range: it must be at least 0"),
    ("kong/edge.yaml", "KongPlugin", "config.second", "lots",
     "config.second: 'lots' is not a number"),
]


@pytest.mark.parametrize(("path", "kind", "field", "value", "message"), BAD)
def test_an_invalid_value_names_file_line_object_and_field(
        tmp_path: Path, path: str, kind: str, field: str, value: Any, message: str) -> None:
    documents = _write(tmp_path)
    target = next(d for d in documents[path] if d["kind"] == kind)
    _set(target, field, value)
    for name, docs in documents.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(yaml.safe_dump_all(docs, sort_keys=False))
    text = (tmp_path / path).read_text().splitlines()
    leaf = field.rsplit(".", 1)[1]
    line = next(n for n, row in enumerate(text, 1)
                if row.strip().removeprefix("- ").startswith(f"{leaf}: ")
                and yaml.safe_load(row.split(": ", 1)[1]) == value)
    with pytest.raises(ImportFailed) as caught:
        import_k8s([str(tmp_path / "k8s"), str(tmp_path / "istio"), str(tmp_path / "kong")])
    assert [(p.file, p.line) for p in caught.value.problems] == [(str(tmp_path / path), line)]
    problem = caught.value.problems[0].message
    assert problem.startswith(f"{kind} {target['metadata']['name']} ") and message in problem


PROBED = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          image: acme/api:1.0
          readinessProbe: {httpGet: {path: /, port: 80}, successThreshold: 3}
          livenessProbe:
            httpGet: {path: /, port: 80}
            successThreshold: LIVE
          startupProbe:
            httpGet: {path: /, port: 80}
            successThreshold: START
"""


def test_a_liveness_or_startup_success_threshold_other_than_one_is_bad_input(
        tmp_path: Path) -> None:
    """Kubernetes' validation requires 1 for both (0 is defaulted to 1); the spec refuses
    another for liveness, which made the import fail as "a bug in scalesim import"."""
    manifest = tmp_path / "api.yaml"
    manifest.write_text(PROBED.replace("LIVE", "2").replace("START", "4"))
    with pytest.raises(ImportFailed) as caught:
        import_k8s([str(manifest)])
    why = "is out of range: Kubernetes requires 1 for a liveness or startup probe"
    assert [(p.file, p.line, p.message) for p in caught.value.problems] == [
        (str(manifest), 16, "Deployment api spec.template.spec.containers[0].livenessProbe"
         f".successThreshold: 2 {why} (one success ends a failure streak); a readiness "
         "probe may need more"),
        (str(manifest), 19, "Deployment api spec.template.spec.containers[0].startupProbe"
         f".successThreshold: 4 {why} (one success ends a failure streak); a readiness "
         "probe may need more")]
    for live in ("0", "1"):
        manifest.write_text(PROBED.replace("LIVE", live).replace("START", "1"))
        health = import_k8s([str(manifest)]).system.components["api"].health
        assert health is not None and health.liveness is not None
        assert health.liveness.success_threshold == 1
        assert health.readiness is not None and health.readiness.success_threshold == 3


def test_every_invalid_value_is_listed_exit_2_and_nothing_written(tmp_path: Path) -> None:
    documents = _write(tmp_path)
    deployment = next(d for d in documents["k8s/api.yaml"] if d["kind"] == "Deployment")
    deployment["spec"]["replicas"] = "three"
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"][
        "periodSeconds"] = -5
    for name, docs in documents.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(yaml.safe_dump_all(docs, sort_keys=False))
    output = tmp_path / "system.yaml"
    result = CliRunner().invoke(app, ["import", "k8s", str(tmp_path / "k8s"), "-o",
                                      str(output)])
    assert result.exit_code == 2, result.output
    assert "spec.replicas: 'three' is not a whole number" in result.stderr
    assert "readinessProbe.periodSeconds: -5 is out of range" in result.stderr
    assert not output.exists()


@pytest.mark.parametrize("retry_on", ["503,retriable-4xx,cancelled", "gateway-error,reset"])
def test_retry_conditions_istio_takes_still_import(tmp_path: Path, retry_on: str) -> None:
    documents = _write(tmp_path)
    _set(next(d for d in documents["istio/api.yaml"] if d["kind"] == "VirtualService"),
         "spec.http.0.retries.retryOn", retry_on)
    for name, docs in documents.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(yaml.safe_dump_all(docs, sort_keys=False))
    assert import_k8s([str(tmp_path / "k8s"), str(tmp_path / "istio")]).text


@pytest.mark.parametrize(("field", "value"), [
    ("spec.replicas", 0), (f"{CONTAINER}.readinessProbe.periodSeconds", 0),
    (f"{CONTAINER}.resources.requests.cpu", "250m"), (f"{CONTAINER}.resources.requests.cpu", 2)])
def test_values_the_api_takes_still_import(tmp_path: Path, field: str, value: Any) -> None:
    documents = _write(tmp_path)
    _set(next(d for d in documents["k8s/api.yaml"] if d["kind"] == "Deployment"), field, value)
    for name, docs in documents.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(yaml.safe_dump_all(docs, sort_keys=False))
    assert "api" in import_k8s([str(tmp_path / "k8s")]).system.components


def test_more_retries_than_a_spec_holds_are_capped_and_noted(tmp_path: Path) -> None:
    """Istio takes any count; a spec at most 100 tries: the import reads 99 retries and
    says so, instead of writing a spec the loader refuses."""
    documents = _write(tmp_path)
    service = next(d for d in documents["istio/api.yaml"] if d["kind"] == "VirtualService")
    _set(service, "spec.http.0.retries.attempts", 500)
    _set(service, "spec.http.0.timeout", "200s")
    for name, docs in documents.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(yaml.safe_dump_all(docs, sort_keys=False))
    imported = import_k8s([str(tmp_path / "k8s"), str(tmp_path / "istio")])
    retry = next(call.retry for caller, _, _, call in iter_calls(imported.system)
                 if caller == "edge" and call.to.startswith("api"))
    assert retry is not None and retry.attempts == 100
    assert "VirtualService api spec.http[0].retries.attempts: 500 retries are more than a " \
        "spec simulates (at most 100 tries): read as 99" in imported.notes


OVER_LIMIT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      containers:
        - name: api
          image: acme/api:1.0
          resources:
            requests:
              cpu: 2500m
              memory: 1Gi
            limits:
              cpu: "1"
              memory: 1024Mi
        - name: sidecar
          image: envoyproxy/envoy
          resources:
            requests: {memory: 600Mi}
            limits: {memory: 512Mi}
"""


def test_a_request_above_its_limit_is_bad_input(tmp_path: Path) -> None:
    """The API server refuses a container whose request exceeds its limit ("must be less
    than or equal to cpu limit"): the pod never runs, so workers from the limit would be a
    guess. Equal (1Gi = 1024Mi) is allowed."""
    manifest = tmp_path / "api.yaml"
    manifest.write_text(OVER_LIMIT)
    with pytest.raises(ImportFailed) as caught:
        import_k8s([str(manifest)])
    containers = "Deployment api spec.template.spec.containers"
    assert [str(problem) for problem in caught.value.problems] == [
        f"{manifest}:12: {containers}[0].resources.requests.cpu: '2500m' is out of range: it "
        "must be at most the cpu limit ('1'), as the API server requires",
        f"{manifest}:20: {containers}[1].resources.requests.memory: '600Mi' is out of range: "
        "it must be at most the memory limit ('512Mi'), as the API server requires"]
