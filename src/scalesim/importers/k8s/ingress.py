"""Ingress and Gateway API routes: where traffic enters the system.

Every workload behind a route's backend Service is an entry point, so it gets a workload in
the spec. A service an Ingress routes to is the system's front door: kind `gateway` (the
generator writes an Ingress for every gateway, so the round trip keeps it).
"""

from __future__ import annotations

from typing import Any

from scalesim.importers.draft import Fact
from scalesim.importers.k8s.objects import Cluster, Manifest, Mappers
from scalesim.importers.sources import Seen
from scalesim.spec.model import Kind


def _enter(cluster: Cluster, manifest: Manifest, service: str, namespace: str,
           seen: Seen, front_door: bool) -> None:
    targets = cluster.service_targets.get((namespace, service), [])
    if not targets:
        cluster.draft.note(f"{manifest.title} routes to Service {service}, which selects no "
                           f"workload in the files ({seen.file}:{seen.line})")
    for key in targets:
        component = cluster.component(key)
        component.entry.append(seen)
        if front_door and component.final_kind is Kind.SERVICE:
            component.kind = Fact(Kind.GATEWAY, f"{seen}: the front door")


def _ingress_backends(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """(service name, dotted path) of every backend, v1 and the older v1beta1 shape."""
    found: list[tuple[str, str]] = []

    def backend(node: Any, path: str) -> None:
        if not isinstance(node, dict):
            return
        service = node.get("service")
        name = service.get("name") if isinstance(service, dict) else node.get("serviceName")
        if name:
            found.append((str(name), path))

    backend(spec.get("defaultBackend") or spec.get("backend"), "spec.defaultBackend")
    for r, rule in enumerate(spec.get("rules") or []):
        paths = ((rule or {}).get("http") or {}).get("paths") or []
        for p, item in enumerate(paths):
            backend((item or {}).get("backend"), f"spec.rules[{r}].http.paths[{p}].backend")
    return found


# Kong's fixed windows, longest first: the longest one a plugin sets is its long-run rate.
KONG_WINDOWS = (("year", 31_536_000.0), ("month", 2_592_000.0), ("day", 86_400.0),
                ("hour", 3600.0), ("minute", 60.0), ("second", 1.0))


def kong_rate_limit(config: dict[str, Any]) -> dict[str, Any] | None:
    """The spec's `rate_limit` of a Kong `rate-limiting` plugin's config: the rate of its
    longest window (the long-run rate; the shorter ones bound bursts, which a token bucket
    states as its burst), per consumer as per workload, a `local` policy per replica."""
    for window, seconds in KONG_WINDOWS:
        count = config.get(window)
        if isinstance(count, int | float) and not isinstance(count, bool) and count > 0:
            limit: dict[str, Any] = {"rate": f"{count / seconds:.6g}/s"}
            shorter = [config.get(w) for w, s in KONG_WINDOWS if s < seconds]
            burst = next((c for c in reversed(shorter) if isinstance(c, int) and c > 0), None)
            if burst is not None:
                limit["burst"] = burst
            if config.get("limit_by") == "consumer":
                limit["per_workload"] = True
            if config.get("policy") == "local":
                limit["scope"] = "replica"
            return limit
    return None


def _kong_plugins(manifest: Manifest, cluster: Cluster) -> tuple[dict[str, Any], Seen] | None:
    """The rate limit of the `rate-limiting` KongPlugin the Ingress names in
    `konghq.com/plugins`, with where it was read."""
    annotations = manifest.data["metadata"].get("annotations")
    names = annotations.get("konghq.com/plugins") if isinstance(annotations, dict) else None
    if not isinstance(names, str):
        return None
    wanted = {name.strip() for name in names.split(",")}
    for plugin in cluster.of_kind("KongPlugin"):
        if plugin.name in wanted and plugin.namespace == manifest.namespace and \
                plugin.data.get("plugin") == "rate-limiting" and \
                isinstance(plugin.data.get("config"), dict):
            limit = kong_rate_limit(plugin.data["config"])
            if limit is not None:
                return limit, plugin.seen_in(plugin.data, "config", "config")
    return None


def ingress(manifest: Manifest, cluster: Cluster) -> None:
    limited = _kong_plugins(manifest, cluster)
    for service, path in _ingress_backends(manifest.spec):
        seen = Seen(manifest.file, manifest.line, manifest.title, path)
        _enter(cluster, manifest, service, manifest.namespace, seen, front_door=True)
        if limited is not None:
            for key in cluster.service_targets.get((manifest.namespace, service), []):
                cluster.component(key).rate_limit = Fact(*limited)


def route(manifest: Manifest, cluster: Cluster) -> None:
    """HTTPRoute/GRPCRoute: backendRefs of kind Service are entry points."""
    for r, rule in enumerate(manifest.spec.get("rules") or []):
        for b, ref in enumerate((rule or {}).get("backendRefs") or []):
            if not isinstance(ref, dict) or ref.get("kind", "Service") != "Service":
                continue
            seen = Seen(manifest.file, manifest.line, manifest.title,
                        f"spec.rules[{r}].backendRefs[{b}]")
            _enter(cluster, manifest, str(ref.get("name")),
                   str(ref.get("namespace") or manifest.namespace), seen, front_door=False)
        if isinstance(rule, dict) and rule.get("timeouts"):
            cluster.draft.note(f"{manifest.title}: rules[{r}].timeouts bound requests from "
                               "outside; a workload has no timeout in the spec")


KINDS: Mappers = {("networking.k8s.io", "Ingress"): ingress, ("extensions", "Ingress"): ingress,
         ("gateway.networking.k8s.io", "HTTPRoute"): route,
         ("gateway.networking.k8s.io", "GRPCRoute"): route}
