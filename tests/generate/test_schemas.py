"""Every generated object validates against the official schema of its API.

Kubernetes objects: kubernetes-validate's bundled schemas for the pinned version, strict
(unknown fields are errors), every error collected. Istio, Argo, Kong and KEDA objects: the
CRD schemas in shared/schemas/crds, plus the CEL rules those schemas carry that can be
checked without a cluster (duration bounds, mutually exclusive fields).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
from kubernetes_validate import utils as kv
from referencing import Registry, Resource
from tests.generate.helpers import OPTIONS, SPECS, TARGETS, documents, generate
from tests.generate.test_helm import rendered_chart

from scalesim.generate import Target
from scalesim.generate.base import NEWEST_K8S


def _crds() -> Path:
    """shared/schemas/crds next to the checkout, or next to a folder above it (a worktree
    under wt/ shares the main checkout's)."""
    repo = Path(__file__).resolve().parents[2]
    for folder in repo.parents:
        if (folder / "shared" / "schemas" / "crds").is_dir():
            return folder / "shared" / "schemas" / "crds"
    return repo.parent / "shared" / "schemas" / "crds"


CRDS = _crds()
K8S_TARGETS = (Target.K8S, Target.HELM)


def _k8s_validator(doc: dict[str, Any], version: str) -> jsonschema.protocols.Validator:
    """The validator kubernetes_validate.validate builds, kept to list every error."""
    full = [v for v in kv.all_versions() if kv.major_minor(v) == version][-1]
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", doc["apiVersion"])
    folder = f"kubernetes-json-schema/v{full}-local-strict"
    schema = kv.schema_contents(f"{folder}/{doc['kind'].lower()}-{api}.json", full)
    definitions = kv.schema_contents(f"{folder}/_definitions.json", full)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema)
                                                       @ Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def k8s_errors(doc: dict[str, Any], version: str = OPTIONS.k8s_version) -> list[str]:
    where = f"{doc['kind']}/{doc['metadata']['name']}"
    errors = [f"{where}: {'.'.join(map(str, e.absolute_path))}: {e.message}"
              for e in _k8s_validator(doc, version).iter_errors(doc)]
    if not errors:   # the library's own verdict too
        kubernetes_validate.validate(doc, version, strict=True)
    return errors


def k8s_docs(spec: str, target: Target) -> list[dict[str, Any]]:
    if target is Target.HELM:
        return rendered_chart(generate(SPECS[spec], Target.HELM), OPTIONS.namespace)
    return documents(generate(SPECS[spec], target))


@pytest.mark.parametrize("target", K8S_TARGETS)
@pytest.mark.parametrize("spec", sorted(SPECS))
def test_kubernetes_objects_validate_strictly(spec: str, target: Target) -> None:
    docs = k8s_docs(spec, target)
    assert {d["kind"] for d in docs} >= {"Deployment", "StatefulSet", "Service",
                                          "PodDisruptionBudget", "ConfigMap", "Ingress"}
    errors = [error for doc in docs for error in k8s_errors(doc)]
    assert errors == []


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_the_objects_validate_at_the_newest_kubernetes_accepted(spec: str) -> None:
    """--k8s-version stops at NEWEST_K8S because the objects are checked against its schemas:
    the bundle must hold them, and every object must pass."""
    newest = f"1.{NEWEST_K8S}"
    assert newest in {kv.major_minor(v) for v in kv.all_versions()}
    errors = [error for doc in documents(generate(SPECS[spec], Target.K8S))
              for error in k8s_errors(doc, newest)]
    assert errors == []


def test_the_validator_reports_every_error() -> None:
    """A known-bad Deployment: two wrong fields give two errors, not one."""
    doc = next(d for d in documents(generate(SPECS["small"], Target.K8S))
               if d["kind"] == "Deployment")
    doc["spec"]["replicas"] = "three"
    doc["spec"]["unknownField"] = 1
    assert len(k8s_errors(doc)) == 2


# --- CRDs ------------------------------------------------------------------------------

_GO_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")
_UNIT_S = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _duration_s(text: str) -> float | None:
    if not isinstance(text, str) or not _GO_DURATION.match(text):
        return None
    return sum(float(n) * _UNIT_S[u] for n, _, u in re.findall(r"(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)",
                                                              text))


def _rule_holds(rule: str, value: Any) -> bool:
    """The CEL rules found in the bundled CRD schemas that need no old object."""
    if rule == "duration(self) >= duration('1ms')":
        seconds = _duration_s(value)
        return seconds is not None and seconds >= 0.001 - 1e-12
    exclusive = re.fullmatch(r"!\(has\(self\.(\w+)\) && has\(self\.(\w+)\)\)", rule)
    if exclusive:
        return not (exclusive[1] in value and exclusive[2] in value)
    if rule == 'self.all(key, !key.contains("*"))':
        return all("*" not in key for key in value)
    if rule == "self.all(key, key.size() != 0)":
        return all(len(key) != 0 for key in value)
    if rule == '!self.contains("*")':
        return "*" not in value
    raise AssertionError(f"CEL rule not understood by this test: {rule}")


def cel_errors(schema: dict[str, Any], value: Any, path: str = "") -> list[str]:
    errors = [f"{path}: {rule['message']}" for rule in schema.get("x-kubernetes-validations", [])
              if "oldSelf" not in rule["rule"] and not _rule_holds(rule["rule"], value)]
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = properties.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                errors += cel_errors(sub, item, f"{path}.{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            errors += cel_errors(schema["items"], item, f"{path}[{index}]")
    return errors


def crd_schema(doc: dict[str, Any]) -> dict[str, Any]:
    group, version = doc["apiVersion"].split("/")
    path = CRDS / group / f"{doc['kind'].lower()}_{version}.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def crd_errors(doc: dict[str, Any]) -> list[str]:
    schema = crd_schema(doc)
    where = f"{doc['kind']}/{doc['metadata']['name']}"
    validator = jsonschema.Draft202012Validator(schema)
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator.iter_errors(doc)]
    return [f"{where}: {error}" for error in errors + cel_errors(schema, doc)]


@pytest.mark.parametrize("target", [t for t in TARGETS if t in (
    Target.ISTIO, Target.ARGO, Target.KONG, Target.KEDA)])
@pytest.mark.parametrize("spec", sorted(SPECS))
def test_crd_objects_validate(spec: str, target: Target) -> None:
    if not CRDS.is_dir():
        pytest.skip(f"CRD schemas not found at {CRDS}")
    docs = documents(generate(SPECS[spec], target))
    assert docs or spec == "shop", "the target produced no objects"  # shop: no rate limit
    # Argo's files also carry core objects (preview/canary Services, the HPA of a Rollout).
    assert [error for doc in docs for error in (
        crd_errors(doc) if "." in doc["apiVersion"].split("/")[0] else k8s_errors(doc))] == []


def test_the_crd_checks_catch_a_short_timeout_and_an_unknown_field() -> None:
    if not CRDS.is_dir():
        pytest.skip(f"CRD schemas not found at {CRDS}")
    service = next(d for d in documents(generate(SPECS["small"], Target.ISTIO))
                   if d["kind"] == "VirtualService")
    service["spec"]["http"][0]["timeout"] = "500us"
    service["spec"]["http"][0]["retries"]["backoff"] = "25ms"
    errors = crd_errors(service)
    assert any("greater than 1ms" in e for e in errors)
    assert any("backoff" in e for e in errors)
