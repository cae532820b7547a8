"""Kubernetes manifests (with Istio, Gateway API, KEDA and Argo objects) as a draft system.

Each object kind has one small mapping module; they run in phases, since a route can only
name workloads once the workloads and the Services that select them are known:
workloads → Services → routes and policies → control objects. Kinds that describe nothing
the spec holds (RBAC, Secrets, PodDisruptionBudgets…) are skipped and counted; any other
kind is an error, unless asked to skip unknown kinds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from scalesim.importers.draft import Draft, Fact
from scalesim.importers.errors import ImportFailed, Problem
from scalesim.importers.k8s import (
    brokers,
    clusters,
    destinationrule,
    hpa,
    ingress,
    keda,
    links,
    rollout,
    services,
    streams,
    virtualservice,
    workloads,
)
from scalesim.importers.k8s.fields import field_problems
from scalesim.importers.k8s.objects import (
    DEFAULT_NAMESPACE,
    Cluster,
    Manifest,
    Mappers,
    mapping,
)
from scalesim.importers.k8s.scaling import NOT_MAPPED
from scalesim.importers.sources import Document, line_of

Kind = tuple[str, str]  # (API group, kind)

PHASES: tuple[Mappers, ...] = (
    {**workloads.KINDS, **clusters.KINDS}, {**workloads.LATER, **rollout.LATER}, services.KINDS,
    {**ingress.KINDS, **virtualservice.KINDS, **destinationrule.KINDS, **brokers.KINDS,
     **streams.KINDS},
    {**hpa.KINDS, **keda.KINDS, **rollout.KINDS, **links.KINDS})
# Read by the mappers of the objects that name them (a Rollout names its analyses, an
# Ingress its Kong plugins, a Kafka its node pools) or that they apply to (a RabbitMQ
# queue's policies, vhost, and the exchanges and bindings its dead letters go through).
READ_THROUGH: frozenset[Kind] = frozenset({
    ("argoproj.io", "AnalysisTemplate"), ("argoproj.io", "ClusterAnalysisTemplate"),
    ("configuration.konghq.com", "KongPlugin"), (clusters.STRIMZI, "KafkaNodePool"),
    *(("rabbitmq.com", kind) for kind in ("Policy", "OperatorPolicy", "Exchange", "Binding",
                                          "Vhost"))})
SKIPPED: frozenset[Kind] = frozenset({
    ("", "Namespace"), ("", "ConfigMap"), ("", "Secret"), ("", "ServiceAccount"),
    ("", "PersistentVolumeClaim"), ("", "PersistentVolume"), ("", "Endpoints"),
    ("", "LimitRange"), ("", "ResourceQuota"), ("", "Pod"),
    ("rbac.authorization.k8s.io", "Role"), ("rbac.authorization.k8s.io", "RoleBinding"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("policy", "PodDisruptionBudget"), ("networking.k8s.io", "NetworkPolicy"),
    ("networking.k8s.io", "IngressClass"), ("discovery.k8s.io", "EndpointSlice"),
    ("batch", "Job"), ("batch", "CronJob"), ("storage.k8s.io", "StorageClass"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("autoscaling.k8s.io", "VerticalPodAutoscaler"),
    ("networking.istio.io", "Gateway"),
    ("networking.istio.io", "Sidecar"), ("networking.istio.io", "EnvoyFilter"),
    ("networking.istio.io", "WorkloadEntry"), ("security.istio.io", "PeerAuthentication"),
    ("security.istio.io", "AuthorizationPolicy"), ("security.istio.io", "RequestAuthentication"),
    ("telemetry.istio.io", "Telemetry"),
    ("gateway.networking.k8s.io", "Gateway"), ("gateway.networking.k8s.io", "GatewayClass"),
    ("gateway.networking.k8s.io", "ReferenceGrant"),
    ("argoproj.io", "AnalysisRun"), ("keda.sh", "TriggerAuthentication"),
    ("keda.sh", "ClusterTriggerAuthentication"), ("keda.sh", "ScaledJob"),
    ("configuration.konghq.com", "KongClusterPlugin"),
    ("monitoring.coreos.com", "ServiceMonitor"), ("monitoring.coreos.com", "PodMonitor"),
    ("monitoring.coreos.com", "PrometheusRule"), ("cert-manager.io", "Certificate"),
    ("cert-manager.io", "Issuer"), ("cert-manager.io", "ClusterIssuer"),
    (clusters.STRIMZI, "KafkaUser"), (clusters.STRIMZI, "KafkaRebalance"),
    ("rabbitmq.com", "User"), ("rabbitmq.com", "Permission"), ("rabbitmq.com", "TopicPermission"),
    ("rabbitmq.com", "SchemaReplication"),
})
KNOWN: frozenset[Kind] = frozenset(k for phase in PHASES for k in phase) | SKIPPED | \
    READ_THROUGH


def manifests(documents: Sequence[Document], skip_unknown: bool, notes: list[str],
              namespace: str = DEFAULT_NAMESPACE) -> list[Manifest]:
    """Every object (List items unpacked), checked to be a Kubernetes object of a kind this
    importer knows, with the values of the fields it reads as the API takes them
    (k8s/fields.py); all problems are collected."""
    found: list[Manifest] = []
    problems: list[Problem] = []
    for document in documents:
        for data, line in _objects(document.data, document.line):
            problem = _shape_problem(data)
            if problem is not None:
                problems.append(Problem(document.file, _name_line(data, line), problem))
                continue
            manifest = Manifest(data, document.file, line, namespace)
            if (manifest.group, manifest.kind) not in KNOWN:
                message = (f"unknown kind {manifest.kind} ({data['apiVersion']}) named "
                           f"{manifest.name}")
                if skip_unknown:
                    notes.append(f"{message} at {document.file}:{line}: skipped")
                    continue
                problems.append(Problem(document.file, line, f"{message}: scalesim import "
                                        "does not know it; pass --skip-unknown to leave such "
                                        "objects out"))
                continue
            found.append(manifest)
    problems += field_problems(found)
    problems += brokers.settings_problems(found)
    problems += brokers.object_problems(found)
    problems += streams.problems(found)
    problems += clusters.problems(found)
    problems += links.problems(found)
    problems += _duplicates(found)
    if problems:
        raise ImportFailed(problems)
    return found


def _objects(data: Any, line: int) -> list[tuple[Any, int]]:
    if isinstance(data, dict) and str(data.get("kind", "")).endswith("List") and \
            isinstance(data.get("items"), list):
        return [(item, line_of(data["items"], index) or line)
                for index, item in enumerate(data["items"])]
    return [(data, line)]


def _shape_problem(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "not a Kubernetes object: expected a mapping with apiVersion, kind and metadata"
    if "services" in data and "apiVersion" not in data:
        return "this is a Compose file, not a Kubernetes manifest: use `scalesim import compose`"
    missing = [key for key in ("apiVersion", "kind") if not isinstance(data.get(key), str)]
    metadata = data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if not isinstance(name, str) or not name:
        # "" too: the API server refuses it ("metadata.name: Required value")
        missing.append("metadata.name" + (" (it is empty)" if name == "" else ""))
    if missing:
        return f"not a Kubernetes object: no {', '.join(missing)}"
    return None


def _name_line(data: Any, line: int) -> int:
    """The line of an empty `metadata.name`, else the object's."""
    metadata = data.get("metadata") if isinstance(data, dict) else None
    if isinstance(metadata, dict) and metadata.get("name") == "":
        return line_of(metadata, "name") or line
    return line


def _duplicates(found: list[Manifest]) -> list[Problem]:
    first: dict[tuple[str, str, str, str], Manifest] = {}
    problems = []
    for manifest in found:
        identity = (manifest.group, manifest.kind, manifest.namespace, manifest.name)
        if identity in first and _retargeted(first[identity], manifest):
            continue
        if identity in first:
            other = first[identity]
            problems.append(Problem(manifest.file, manifest.line, f"{manifest.title} in "
                                    f"namespace {manifest.namespace} is defined twice (also at "
                                    f"{other.file}:{other.line}); import only one of them"))
        first.setdefault(identity, manifest)
    return problems


SCALERS = {("autoscaling", "HorizontalPodAutoscaler"), ("keda.sh", "ScaledObject")}


def _retargeted(first: Manifest, again: Manifest) -> bool:
    """The same HPA or KEDA ScaledObject aimed at the Argo Rollout that takes its Deployment
    over — what `generate` writes in argo/ after k8s/ and keda/, and `kubectl apply` of both
    replaces: one object."""
    if (again.group, again.kind) not in SCALERS:
        return False
    kinds = sorted(str(mapping(m.spec.get("scaleTargetRef")).get("kind")) for m in (first, again))
    rest = [{k: v for k, v in m.spec.items() if k != "scaleTargetRef"} for m in (first, again)]
    return rest[0] == rest[1] and kinds == ["Deployment", "Rollout"]


def read_cluster(documents: Sequence[Document], source: str, skip_unknown: bool = False,
                 name: str | None = None, fallback_name: str | None = None,
                 fallback_why: str = "", namespace: str = DEFAULT_NAMESPACE) -> Draft:
    """The draft of every object (applied to `namespace` unless they name one); the system
    is named `name`, else from the objects, else `fallback_name` (the chart, the folder)."""
    notes: list[str] = []
    objects = manifests(documents, skip_unknown, notes, namespace)
    draft = Draft(source=source, name=Fact(name, "--name") if name else Fact(
        fallback_name or "imported", fallback_why if fallback_name
        else "no system name in the files"))
    draft.notes += notes
    cluster = Cluster(draft, objects)
    for manifest in cluster.of_kind("ConfigMap"):
        data = manifest.data.get("data")
        if isinstance(data, dict):
            cluster.config_maps[manifest.namespace, manifest.name] = data
    draft.meshed = any(m.group == "networking.istio.io" for m in objects)
    if name is None:
        _name_from_objects(draft, objects)
    for phase in PHASES:
        for manifest in objects:
            mapper = phase.get((manifest.group, manifest.kind))
            if mapper is not None:
                mapper(manifest, cluster)
    brokers.finish(cluster)
    _not_mapped(draft, objects)
    skipped = Counter(m.kind for m in objects if (m.group, m.kind) in SKIPPED and not (
        m.kind == "ConfigMap" and (m.namespace, m.name) in cluster.settings_read))
    if skipped:
        draft.note("skipped (nothing the spec holds): " + ", ".join(
            f"{count} {kind}" for kind, count in sorted(skipped.items())))
    if not draft.components:
        raise ImportFailed([Problem(source, 0, "no workload (Deployment, StatefulSet, "
                                    "DaemonSet, Rollout) or Service in the input")])
    return draft


def _not_mapped(draft: Draft, objects: list[Manifest]) -> None:
    """What `scalesim generate` wrote down as having no place in an object (a Resilience4j
    breaker on a DestinationRule, a burst on a KongPlugin), relayed: the imported spec does
    not have it, and saying so beats a design that silently lost it. An autoscaler's note
    is read back as controller flags instead (scaling.flags)."""
    for manifest in objects:
        annotations = manifest.data["metadata"].get("annotations")
        text = annotations.get(NOT_MAPPED) if isinstance(annotations, dict) else None
        if isinstance(text, str) and (manifest.group, manifest.kind) not in SCALERS:
            draft.note(f"{manifest.file}:{manifest.line}: {manifest.title} notes what it "
                       f"could not hold, which the spec imported lacks too: {text}")


def _name_from_objects(draft: Draft, objects: list[Manifest]) -> None:
    """The system's name: the app.kubernetes.io/part-of label most objects carry, else the
    one namespace they all share (unless it is `default`)."""
    names = Counter(str(m.data["metadata"].get("labels", {}).get("app.kubernetes.io/part-of"))
                    for m in objects if isinstance(m.data["metadata"].get("labels"), dict)
                    and m.data["metadata"]["labels"].get("app.kubernetes.io/part-of"))
    namespaces = {m.data["metadata"].get("namespace") for m in objects}
    if names:
        chosen = names.most_common(1)[0][0]
        draft.name = Fact(chosen, f"the app.kubernetes.io/part-of label of {names[chosen]:,} "
                          f"object{'' if names[chosen] == 1 else 's'}")
    elif len(namespaces) == 1 and not namespaces & {None, "", DEFAULT_NAMESPACE}:
        draft.name = Fact(str(namespaces.pop()), "the namespace every object names")
