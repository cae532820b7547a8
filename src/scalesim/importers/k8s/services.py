"""Services: the names workloads answer to, external systems, and exposed entry points.

A Service with a selector makes the workloads it selects reachable as `name`,
`name.namespace`, … `name.namespace.svc.cluster.local`. An ExternalName Service (or one
without a selector, whose endpoints are set by hand) is an external component. A
LoadBalancer or NodePort Service exposes its workloads: they are entry points.
"""

from __future__ import annotations

from scalesim.importers.draft import Component, Fact
from scalesim.importers.k8s.objects import Cluster, Manifest, Mappers
from scalesim.importers.kinds import Guess
from scalesim.spec.model import Kind

EXPOSED = ("LoadBalancer", "NodePort")
# Istio's protocol selection: a port's name prefix or appProtocol.
NOT_HTTP = ("tcp", "tls", "mongo", "mysql", "redis", "udp")


def _http(manifest: Manifest) -> bool:
    """Whether the mesh treats this Service's traffic as HTTP/gRPC (routes and retries)."""
    ports = manifest.spec.get("ports") or []
    for port in ports if isinstance(ports, list) else []:
        if not isinstance(port, dict):
            continue
        protocol = str(port.get("appProtocol") or port.get("name") or "").lower()
        if not protocol.startswith(NOT_HTTP):
            return True
    return not ports


def service(manifest: Manifest, cluster: Cluster) -> None:
    spec = manifest.spec
    namespace, name = manifest.namespace, manifest.name
    qualified = cluster.qualified(name, namespace)
    selector = spec.get("selector")
    if spec.get("type") == "ExternalName" or not selector:
        _external(manifest, cluster)
        return
    targets = cluster.selected(namespace, selector)
    cluster.service_targets[namespace, name] = targets
    if not targets:
        cluster.draft.note(f"{manifest.title} ({manifest.file}:{manifest.line}) selects no "
                           "workload in the files; calls to it are left out")
        return
    if len(targets) > 1:
        names = ", ".join(cluster.component(key).name for key in targets)
        cluster.draft.note(f"{manifest.title} balances over {names}: calls to it go to "
                           f"{cluster.component(targets[0]).name} (versions of one component "
                           "are not imported yet)")
    for key in targets:
        cluster.draft.answer(key, name, namespace, qualified)
        component = cluster.component(key)
        component.http = component.http and _http(manifest)
        if spec.get("type") in EXPOSED:
            component.entry.append(manifest.seen("spec.type"))


def _external(manifest: Manifest, cluster: Cluster) -> None:
    key = f"{manifest.namespace}/{manifest.name}"
    if key in cluster.draft.components:
        cluster.draft.note(f"{manifest.title}: a workload of the same name exists; the "
                           "Service without a selector is left out")
        return
    external = spec_host = manifest.spec.get("externalName")
    why = (manifest.seen("spec.type") if external else
           f"from {manifest.file}:{manifest.line}: {manifest.title} has no selector (its "
           "endpoints are set by hand): outside the files")
    component = cluster.draft.add(Component(key, manifest.name, manifest.namespace,
                                            Guess(Kind.EXTERNAL, None, "", False)))
    component.kind = Fact(Kind.EXTERNAL, why)
    component.http = _http(manifest)
    hosts = cluster.qualified(manifest.name, manifest.namespace)
    cluster.draft.answer(key, manifest.name, manifest.namespace,
                         (*hosts, str(spec_host)) if spec_host else hosts)
    cluster.service_targets[manifest.namespace, manifest.name] = [key]


def service_entry(manifest: Manifest, cluster: Cluster) -> None:
    """An Istio ServiceEntry declares hosts outside the mesh: an external component."""
    hosts = [str(h) for h in manifest.spec.get("hosts") or [] if isinstance(h, str)]
    key = f"{manifest.namespace}/{manifest.name}"
    if key in cluster.draft.components or not hosts:
        return
    component = cluster.draft.add(Component(key, manifest.name, manifest.namespace,
                                            Guess(Kind.EXTERNAL, None, "", False)))
    component.kind = Fact(Kind.EXTERNAL, manifest.seen("spec.hosts"))
    component.http = _http(manifest)
    cluster.draft.answer(key, manifest.name, manifest.namespace, tuple(hosts))


KINDS: Mappers = {("", "Service"): service,
                  ("networking.istio.io", "ServiceEntry"): service_entry}
