"""Deployments, StatefulSets, DaemonSets, ReplicaSets and Argo Rollouts as components.

The pod template says nearly everything the files know about a component: its image (so its
kind and tech), its replicas, the CPU it may use (so its workers), its probes (`health`) and
the addresses in its environment (its references). The main container is the one a Service
port targets, else the first.
"""

from __future__ import annotations

from typing import Any

from scalesim.importers.draft import MARK, Component, Fact, Reference
from scalesim.importers.errors import ImportFailed, fail
from scalesim.importers.hosts import read_hosts, unread_note
from scalesim.importers.k8s.brokers import from_settings
from scalesim.importers.k8s.election import leader_election
from scalesim.importers.k8s.generated import generated_settings
from scalesim.importers.k8s.objects import Cluster, Manifest, Mappers, mapping
from scalesim.importers.kinds import Guess, guess
from scalesim.importers.sizing import cores_text, cpu_cores, estimate, quantity
from scalesim.importers.sources import Seen, line_of
from scalesim.spec.bounds import MAX_REPLICAS_TOTAL, MAX_WORKERS
from scalesim.spec.model import Kind

PROBES = {"readinessProbe": "readiness", "livenessProbe": "liveness"}
# Kubernetes' probe defaults, for the start-up time a startupProbe allows
K8S_PERIOD_S, K8S_FAILURES = 10, 3
PROBE_FIELDS = {"periodSeconds": "period", "timeoutSeconds": "timeout",
                "failureThreshold": "failure_threshold", "successThreshold": "success_threshold",
                "initialDelaySeconds": "initial_delay"}
DURATION_FIELDS = frozenset({"period", "timeout", "initial_delay"})
MANAGED_BY = "app.kubernetes.io/managed-by"
KIND_LABEL = "app.kubernetes.io/component"
DATA_KINDS = ("database", "cache", "queue")
PLACEHOLDER_PREFIX = "example.invalid/"


def pod_template(manifest: Manifest) -> tuple[dict[str, Any], str] | None:
    template = manifest.spec.get("template")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        return template, "spec.template"
    return None


def workload(manifest: Manifest, cluster: Cluster) -> None:
    found = pod_template(manifest)
    if found is None:
        if manifest.kind == "Rollout" and "workloadRef" in manifest.spec:
            return  # its Deployment is the component; replicas below
        raise _no_pod(manifest, "spec.template")
    template, base = found
    containers = template["spec"].get("containers")
    if not isinstance(containers, list) or not containers or \
            not all(isinstance(c, dict) for c in containers):
        raise _no_pod(manifest, f"{base}.spec.containers")
    main_index = _main_container(containers)
    main = containers[main_index]
    image = main.get("image") if isinstance(main.get("image"), str) else None
    key = f"{manifest.namespace}/{manifest.name}"
    namesake = cluster.draft.components.get(key)
    if namesake is not None:
        # another kind's object of this name (the same kind twice is refused): Kubernetes
        # runs both, so each is a component, named apart when the spec is written
        key = f"{key}@{manifest.kind}"
        namesake.namesake = True
    component = cluster.draft.add(Component(key, manifest.name, manifest.namespace,
                                            _guess(manifest, template, image),
                                            object_kind=manifest.kind,
                                            namesake=namesake is not None))
    cluster.workloads[key] = manifest
    labels = mapping(mapping(template.get("metadata")).get("labels"))
    component.labels = {str(k): str(v) for k, v in labels.items()}
    own_labels = manifest.data["metadata"].get("labels")
    component.managed_by_scalesim = isinstance(own_labels, dict) and \
        own_labels.get(MANAGED_BY) == "scalesim"
    _replicas(manifest, component)
    container_path = f"{base}.spec.containers[{main_index}]"
    _workers(manifest, component, main, container_path)
    _health(manifest, component, main, container_path)
    _startup_probe(manifest, cluster, component, main, container_path)
    leader_election(manifest, cluster, component, template, main, container_path)
    from_settings(manifest, cluster, component, template)
    generated_settings(manifest, cluster, component, template)
    for index, container in enumerate(containers):
        _references(manifest, cluster, component, container,
                    f"{base}.spec.containers[{index}]")


def _no_pod(manifest: Manifest, path: str) -> ImportFailed:
    return fail(manifest.file, manifest.line, f"{manifest.title}: no pod template ({path}) "
                "with containers")


def _guess(manifest: Manifest, template: dict[str, Any], image: str | None) -> Guess:
    """The kind from the image or the name; for a data server whose image ScaleSim left a
    placeholder (`example.invalid/<tech>:placeholder`), its kind label and that tech."""
    found = guess(image, manifest.name)
    label = mapping(mapping(template.get("metadata")).get("labels")).get(KIND_LABEL)
    if found.from_image or label not in DATA_KINDS or image is None \
            or not image.startswith(PLACEHOLDER_PREFIX):
        return found
    tech = image.removeprefix(PLACEHOLDER_PREFIX).split("@", 1)[0].split(":", 1)[0]
    why = f"kind from the label {KIND_LABEL} '{label}', tech from the placeholder image '{image}'"
    return Guess(Kind(label), tech or None, why, False)


def _main_container(containers: list[dict[str, Any]]) -> int:
    for index, container in enumerate(containers):
        if container.get("ports"):
            return index
    return 0


def _replicas(manifest: Manifest, component: Component) -> None:
    if manifest.kind == "DaemonSet":
        component.replicas = Fact(1, f"{MARK}: a DaemonSet runs one replica per node; set "
                                  "the number of nodes")
        return
    replicas = _count(manifest)
    if replicas is not None and replicas >= 1:
        component.replicas = Fact(replicas, manifest.seen("spec.replicas"))
    elif replicas == 0:      # kept only with KEDA scaling to zero (assemble decides)
        component.replicas = Fact(0, manifest.seen("spec.replicas"))
    else:
        component.replicas = Fact(1, f"from {manifest.file}:{manifest.line}: {manifest.title} "
                                  "sets no spec.replicas (Kubernetes' default 1)")


def _workers(manifest: Manifest, component: Component, container: dict[str, Any],
             path: str) -> None:
    resources = mapping(container.get("resources"))
    for which in ("requests", "limits"):   # a request left out is the limit (Kubernetes)
        values = resources.get(which)
        request = cpu_cores(values.get("cpu")) if isinstance(values, dict) else None
        if request is not None:
            component.cpu_request = Fact(request, manifest.seen_in(
                values, "cpu", f"{path}.resources.{which}.cpu"))
            break
    zero: Seen | None = None
    for which in ("limits", "requests"):
        values = mapping(resources.get(which))
        cores = cpu_cores(values.get("cpu"))
        if "cpu" not in values:
            continue
        seen = manifest.seen_in(values, "cpu", f"{path}.resources.{which}.cpu")
        if cores is not None:
            estimated = estimate(cores, component.guess.tech, f"{seen.file}:{seen.line} "
                                 f"({seen.field})")
            if estimated is not None and estimated.workers > MAX_WORKERS:
                raise fail(seen.file, seen.line, f"{manifest.title}: {cores_text(cores)} is "
                           f"more than a spec simulates ({MAX_WORKERS:,} workers a replica)")
            if estimated is not None:
                component.workers = Fact(estimated.workers, estimated.why)
            return
        if zero is None and quantity(values.get("cpu")) == 0:
            zero = seen
    estimated = estimate(None, component.guess.tech, "")
    if estimated is not None:
        component.workers = Fact(estimated.workers, estimated.why)
    elif zero is not None:
        component.workers = Fact(1, f"{MARK}: {zero.file}:{zero.line} ({zero.field}) is 0 "
                                 "cores, which says nothing of the requests one replica serves "
                                 "at once; set them")


def _health(manifest: Manifest, component: Component, container: dict[str, Any],
            path: str) -> None:
    for field_name, which in PROBES.items():
        probe = container.get(field_name)
        if not isinstance(probe, dict):
            continue
        spec: dict[str, Any] = {}
        for k8s_field, spec_field in PROBE_FIELDS.items():
            value = probe.get(k8s_field)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                if spec_field in DURATION_FIELDS:
                    if value == 0 and spec_field != "initial_delay":
                        continue
                    spec[spec_field] = f"{value}s"
                elif value >= 1:
                    spec[spec_field] = value
        component.health[which] = Fact(spec, manifest.seen_in(container, field_name,
                                                              f"{path}.{field_name}"))


def _startup_probe(manifest: Manifest, cluster: Cluster, component: Component,
                   container: dict[str, Any], path: str) -> None:
    """A startupProbe has no spec field: noted, with the start-up time it allows (while it
    has not passed, Kubernetes runs no liveness or readiness probe)."""
    probe = container.get("startupProbe")
    if not isinstance(probe, dict):
        return
    seen = manifest.seen_in(container, "startupProbe", f"{path}.startupProbe")

    def setting(field: str, default: int) -> int:
        value = probe.get(field)
        return value if isinstance(value, int) and value > 0 else default

    grace = setting("initialDelaySeconds", 0) + \
        setting("periodSeconds", K8S_PERIOD_S) * setting("failureThreshold", K8S_FAILURES)
    after = ("; the imported liveness probe runs from each start instead (raise its "
             "initial_delay to keep that grace)" if "liveness" in component.health else "")
    cluster.draft.note(f"{seen.file}:{seen.line}: {manifest.title} {seen.field} is left out: "
                       "the spec has no startup probe. It gives each start up to "
                       f"{grace:,} s (initialDelaySeconds + "
                       "failureThreshold × periodSeconds) before the other probes run" + after)


def _references(manifest: Manifest, cluster: Cluster, component: Component,
                container: dict[str, Any], path: str) -> None:
    env = container.get("env")
    for index, item in enumerate(env if isinstance(env, list) else []):
        if not isinstance(item, dict) or "name" not in item:
            continue
        variable = str(item["name"])
        value = item.get("value")
        seen = manifest.seen_in(env, index, f"{path}.env.{variable}")
        if value is None:
            value, seen = _from_config_map(cluster, manifest, item, seen)
        _read_address(cluster, component, variable, value, seen)
    for source in container.get("envFrom") or []:
        name = mapping(mapping(source).get("configMapRef")).get("name")
        data = cluster.config_maps.get((manifest.namespace, str(name)))
        if data is None:
            continue
        for variable, value in data.items():
            seen = Seen(manifest.file, line_of(data, variable), f"ConfigMap {name}",
                        f"data.{variable} (envFrom of {manifest.title})")
            _read_address(cluster, component, str(variable), value, seen)


def _read_address(cluster: Cluster, component: Component, variable: str, value: Any,
                  seen: Seen) -> None:
    """The hosts a variable names become references; an address variable whose value
    shows none is noted."""
    reading = read_hosts(variable, value)
    component.references += [Reference(host, component.namespace, seen)
                             for host in reading.hosts]
    if reading.unread:
        cluster.draft.note(unread_note(component.label, variable, seen))


def _from_config_map(cluster: Cluster, manifest: Manifest, item: dict[str, Any],
                     seen: Seen) -> tuple[Any, Seen]:
    ref = mapping(item.get("valueFrom")).get("configMapKeyRef")
    if not isinstance(ref, dict):
        return None, seen
    data = cluster.config_maps.get((manifest.namespace, str(ref.get("name"))))
    key = str(ref.get("key"))
    if data is None or key not in data:
        return None, seen
    return data[key], Seen(seen.file, seen.line, seen.what,
                           f"{seen.field} (ConfigMap {ref.get('name')}, key {key})")


def rollout_replicas(manifest: Manifest, cluster: Cluster) -> None:
    """An Argo Rollout that takes over a Deployment (`workloadRef`) sets its replicas."""
    ref = manifest.spec.get("workloadRef")
    if not isinstance(ref, dict):
        return
    key = cluster.workload_key(manifest.namespace, str(ref.get("name")),
                               ref.get("kind", "Deployment"))
    replicas = _count(manifest)
    if key in cluster.draft.components and replicas is not None and replicas >= 1:
        cluster.component(key).replicas = Fact(replicas, manifest.seen("spec.replicas"))


def _count(manifest: Manifest) -> int | None:
    """`spec.replicas` when it is a count; more than a spec simulates is an error."""
    replicas = manifest.spec.get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        return None
    if replicas > MAX_REPLICAS_TOTAL:
        seen = manifest.seen("spec.replicas")
        raise fail(seen.file, seen.line, f"{manifest.title}: spec.replicas {replicas:,} is "
                   f"more than a spec simulates ({MAX_REPLICAS_TOTAL:,} replicas in all)")
    return replicas


KINDS: Mappers = {("apps", "Deployment"): workload, ("apps", "StatefulSet"): workload,
         ("apps", "DaemonSet"): workload, ("apps", "ReplicaSet"): workload,
         ("argoproj.io", "Rollout"): workload}
LATER: Mappers = {("argoproj.io", "Rollout"): rollout_replicas}
