"""Kubernetes objects as the mapping modules see them, and what they share while mapping.

A `Manifest` is one object with its file and line; `Cluster` holds the draft being built and
the indexes the mappers need: objects by kind, the workloads a Service selects, ConfigMap
data for environment references.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from scalesim.importers.draft import Component, Draft
from scalesim.importers.sources import Seen, dig, line_of

DEFAULT_NAMESPACE = "default"
CLUSTER_DOMAIN = "svc.cluster.local"


@dataclass(frozen=True)
class Manifest:
    data: dict[str, Any]
    file: str
    line: int
    default_namespace: str = DEFAULT_NAMESPACE   # where objects without one are applied

    @property
    def group(self) -> str:
        """'apps/v1' -> 'apps'; 'v1' -> '' (the core group)."""
        api = str(self.data.get("apiVersion", ""))
        return api.rsplit("/", 1)[0] if "/" in api else ""

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", ""))

    @property
    def name(self) -> str:
        return str(self.data["metadata"]["name"])

    @property
    def namespace(self) -> str:
        value = self.data["metadata"].get("namespace")
        return str(value) if value else self.default_namespace

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.data.get("spec")
        return spec if isinstance(spec, dict) else {}

    @property
    def title(self) -> str:
        return f"{self.kind} {self.name}"

    def seen(self, path: str) -> Seen:
        """Where dotted `path` of this object is written."""
        _, line = dig(self.data, path)
        return Seen(self.file, line or self.line, self.title, path)

    def seen_in(self, node: Any, key: str | int, path: str) -> Seen:
        """Where `key` of a node inside this object is written, described by `path`."""
        return Seen(self.file, line_of(node, key) or self.line, self.title, path)


def mapping(node: Any) -> dict[str, Any]:
    """A node that should be a mapping, or an empty one when the file has something else."""
    return node if isinstance(node, dict) else {}


def mounted_config_maps(template: dict[str, Any]) -> list[str]:
    """The ConfigMaps a pod template mounts or reads its environment from."""
    spec = mapping(template.get("spec"))
    names = [mapping(mapping(v).get("configMap")).get("name")
             for v in spec.get("volumes") or [] if isinstance(v, dict)]
    for container in spec.get("containers") or []:
        for source in mapping(container).get("envFrom") or []:
            names.append(mapping(mapping(source).get("configMapRef")).get("name"))
    return [str(n) for n in names if n]


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(str(k)) == str(v) for k, v in selector.items())


@dataclass
class Cluster:
    draft: Draft
    manifests: list[Manifest]
    workloads: dict[str, Manifest] = field(default_factory=dict)   # component key -> object
    service_targets: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    config_maps: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    queues: dict[tuple[str, str], str] = field(default_factory=dict)  # (ns, queue) -> key
    applied: set[tuple[str, int]] = field(default_factory=set)  # policies matching a queue
    settings_read: set[tuple[str, str]] = field(default_factory=set)  # ScaleSim's ConfigMaps
    # (queue component key, RabbitMQ queue name) -> what stream that name is, and whether a
    # queue of that name exists (a super stream's own name is its exchange's): k8s/streams.py
    streams: dict[tuple[str, str], tuple[str, bool]] = field(default_factory=dict)

    def of_kind(self, *kinds: str) -> Iterator[Manifest]:
        return (m for m in self.manifests if m.kind in kinds)

    def component(self, key: str) -> Component:
        return self.draft.components[key]

    def selected(self, namespace: str, selector: dict[str, Any]) -> list[str]:
        """Workload components in `namespace` whose pod labels match `selector`."""
        return [key for key, component in self.draft.components.items()
                if component.namespace == namespace and key in self.workloads
                and matches(selector, component.labels)]

    def service_hosts(self, host: str, namespace: str) -> list[str]:
        """Components behind a host name as Kubernetes resolves it from `namespace`."""
        key = self.draft.resolve(host, namespace)
        if key is not None:
            return [key]
        parts = host.lower().rstrip(".").split(".")
        service_namespace = parts[1] if len(parts) > 1 else namespace
        return list(self.service_targets.get((service_namespace, parts[0]), []))

    def find(self, group: str, kind: str, namespace: str | None, name: str) -> Manifest | None:
        """The object of that kind and name (in `namespace`, or cluster-wide when None)."""
        return next((m for m in self.manifests if (m.group, m.kind, m.name) == (group, kind, name)
                     and (namespace is None or m.namespace == namespace)), None)

    def scale_target(self, namespace: str, ref: Any) -> str | None:
        """The component a scaleTargetRef names: a workload in the files, or the Deployment
        an Argo Rollout takes over (`workloadRef`)."""
        if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
            return None
        if ref.get("kind") == "Rollout":
            rollout = self.find("argoproj.io", "Rollout", namespace, ref["name"])
            workload = rollout.spec.get("workloadRef") if rollout is not None else None
            if isinstance(workload, dict) and isinstance(workload.get("name"), str):
                ref = workload
        key = self.workload_key(namespace, ref["name"], ref.get("kind"))
        return key if key in self.draft.components else None

    def workload_key(self, namespace: str, name: str, kind: Any = None) -> str:
        """The component key of the workload `name` in `namespace`: `<namespace>/<name>`,
        or the one of `kind` when workloads of several kinds have that name (each is a
        component: k8s/workloads.py)."""
        keys = [key for key, m in self.workloads.items() if (m.namespace, m.name) ==
                (namespace, name)]
        return next((key for key in keys if self.workloads[key].kind == kind),
                    keys[0] if keys else f"{namespace}/{name}")

    def qualified(self, name: str, namespace: str) -> tuple[str, ...]:
        return (f"{name}.{namespace}", f"{name}.{namespace}.svc",
                f"{name}.{namespace}.{CLUSTER_DOMAIN}")


Mapper = Callable[[Manifest, Cluster], None]
Mappers = dict[tuple[str, str], Mapper]     # (API group, kind) -> what maps it
