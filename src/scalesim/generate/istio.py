"""Istio DestinationRules and VirtualServices: the mesh side of the spec's resilience.

A DestinationRule per component carries its balancer, connection pool (with the callers'
bulkheads and retry caps folded in) and outlier detection; a VirtualService per called HTTP
component carries one route per caller with that caller's timeout and retries, or, when a
caller's calls to it differ, one per caller and operation (`POST /<operation>`). What the
mesh cannot express is listed in the `scalesim.io/not-mapped` annotation.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from scalesim.generate.base import GeneratedFile, GenerateOptions
from scalesim.generate.documents import banner, notes_text, yaml_file
from scalesim.generate.envoy import (
    ENVOY_BACKOFF,
    HASH_HEADER,
    LOAD_BALANCER,
    istio_retries,
    retry_on,
    route_timeout_s,
)
from scalesim.generate.naming import (
    NAME_LABEL,
    dns_label,
    fqdn,
    go_duration,
    istio_duration,
    service_host,
)
from scalesim.generate.tech import tech_of
from scalesim.generate.topology import Edge, callers_of
from scalesim.spec.model import Balancer, System
from scalesim.spec.resilience import Retry

NOT_MAPPED = "scalesim.io/not-mapped"
API = "networking.istio.io/v1"
LISTED_WAITS = 4  # a note lists the longest waits before the first few retries


def _metadata(name: str, namespace: str, notes: list[str]) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": dns_label(name), "namespace": namespace}
    if notes:
        meta["annotations"] = {NOT_MAPPED: notes_text(notes)}
    return meta


def _site(edge: Edge) -> str:
    return f"{edge.caller}.{edge.operation} -> {edge.callee}"


def _load_balancer(balancer: Balancer) -> dict[str, Any]:
    if balancer is Balancer.HASH:
        return {"consistentHash": {"httpHeaderName": HASH_HEADER}}
    return {"simple": LOAD_BALANCER[balancer]}


def _connection_pool(system: System, name: str, notes: list[str]) -> dict[str, Any]:
    """Envoy limits are per calling proxy and per destination, so one value serves every
    caller: the tightest of the component's pool and the callers' bulkheads and retry caps."""
    limits: dict[str, list[int]] = {"connections": [], "pending": [], "requests": [],
                                    "retries": []}
    pool = system.components[name].connection_pool
    if pool is not None:
        limits["connections"].append(pool.max_connections)
        limits["pending"].append(max(1, pool.max_pending_requests))
        limits["requests"].append(pool.max_requests)
    edges = callers_of(system, name)
    if any(e.call.bulkhead for e in edges) and not all(e.call.bulkhead for e in edges):
        notes.append("bulkhead: the limit applies to every caller's proxy, also callers "
                     "without a bulkhead")
    for edge in edges:
        bulkhead, retry = edge.call.bulkhead, edge.call.retry
        if bulkhead is not None:
            size = bulkhead.max_concurrent if bulkhead.type == "semaphore" else bulkhead.size
            waiting = 1 if bulkhead.type == "semaphore" else max(1, bulkhead.queue)
            limits["connections"].append(size)
            limits["requests"].append(size)
            limits["pending"].append(waiting)
            if bulkhead.max_wait > 0:
                notes.append(f"{_site(edge)} bulkhead max_wait: Envoy has no wait bound")
        if retry is not None and retry.max_concurrent:
            limits["retries"].append(retry.max_concurrent)
    result: dict[str, Any] = {}
    if limits["connections"]:
        result["tcp"] = {"maxConnections": min(limits["connections"])}
    http: dict[str, Any] = {"http1MaxPendingRequests": min(limits["pending"], default=None),
            "http2MaxRequests": min(limits["requests"], default=None),
            "maxRetries": min(limits["retries"], default=None)}
    if pool is not None and pool.http2:
        http["h2UpgradePolicy"] = "UPGRADE"
    if any(value is not None for value in http.values()):
        result["http"] = {key: value for key, value in http.items() if value is not None}
    return result


def destination_rule(system: System, name: str, namespace: str) -> dict[str, Any]:
    component = system.components[name]
    notes: list[str] = []
    policy: dict[str, Any] = {"loadBalancer": _load_balancer(component.balancer)}
    pool = _connection_pool(system, name, notes)
    if pool:
        policy["connectionPool"] = pool
    outlier = component.outlier_detection
    if outlier is not None:
        percent = max(1, math.floor(outlier.max_ejection_percent * 100 + 0.5))
        policy["outlierDetection"] = {
            "consecutive5xxErrors": outlier.consecutive_5xx,
            "interval": istio_duration(outlier.interval),
            "baseEjectionTime": istio_duration(outlier.base_ejection_time),
            "maxEjectionPercent": percent}
        if not math.isclose(percent, outlier.max_ejection_percent * 100):
            notes.append(f"max_ejection_percent {outlier.max_ejection_percent * 100:.4g}%: "
                         f"Istio takes a whole percent (at least 1), so {percent}%")
        if outlier.max_ejection_time != 300.0:
            notes.append(f"max_ejection_time {istio_duration(outlier.max_ejection_time)}: "
                         "Istio has no field; Envoy's 300s applies")
    for edge in callers_of(system, name):
        if edge.call.circuit_breaker is not None:
            notes.append(f"{_site(edge)} circuit_breaker: a Resilience4j failure-rate breaker "
                         "stays in the caller; Envoy has no equivalent")
        if not mesh_routed(system, name) and (edge.call.timeout or edge.call.retry):
            notes.append(f"{_site(edge)} timeout/retry: TCP traffic has no mesh retries; "
                         "the caller's client does them")
        if edge.call.hedge is not None:
            notes.append(f"{_site(edge)} hedge: Istio exposes no hedging")
    return {"apiVersion": API, "kind": "DestinationRule",
            "metadata": _metadata(name, namespace, notes),
            "spec": {"host": fqdn(name, namespace), "trafficPolicy": policy}}


@dataclass(frozen=True)
class Site:
    """The call site that makes a caller's route, and the callee operation the route
    matches (None: every call of the caller to the callee agrees, so one route serves all)."""

    edge: Edge
    operation: str | None = None

    @property
    def route_name(self) -> str:
        base = f"from-{dns_label(self.edge.caller)}"
        return base if self.operation is None else f"{base}-{self.operation}"


def _route(system: System, name: str, namespace: str, site: Site | None) -> dict[str, Any]:
    port = tech_of(name, system.components[name], "").port
    edge = site.edge if site else None
    route: dict[str, Any] = {"name": site.route_name if site else "default"}
    if site is not None:
        match: dict[str, Any] = {"sourceLabels": {NAME_LABEL: dns_label(site.edge.caller)}}
        if site.operation is not None:   # the generated service serves POST /<operation>
            match["uri"] = {"exact": f"/{site.operation}"}
        route["match"] = [match]
    route["route"] = [{"destination": {"host": fqdn(name, namespace), "port": {"number": port}}}]
    if routed_canary(system, name):  # Argo Rollouts sets the two weights
        route["route"] = [{**route["route"][0], "weight": 100},
                          {"destination": {"host": service_host(canary_service(name), namespace),
                                           "port": {"number": port}}, "weight": 0}]
    retries: dict[str, Any] = {"attempts": 0}
    if edge is not None:
        call = edge.call
        timeout = route_timeout_s(call)
        if timeout is not None:
            route["timeout"] = istio_duration(timeout)
        if istio_retries(call) > 0 and call.retry is not None:
            retries = {"attempts": istio_retries(call)}
            if call.timeout is not None:
                retries["perTryTimeout"] = istio_duration(call.timeout)
            retries["retryOn"] = retry_on(list(call.retry.on))
    route["retries"] = retries
    return route


def _waits(backoff: Retry, retries: int) -> str:
    shown = [go_duration(backoff.longest_wait(n)) for n in range(1, min(retries, LISTED_WAITS) + 1)]
    return ", ".join(shown) + (", ..." if retries > LISTED_WAITS else "")


def _backoff_note(edge: Edge, retry: Retry, retries: int) -> str | None:
    """The spec's back-off beside the sidecar's, when they differ: the route cannot state
    one, so Envoy's default runs, fully jittered below base·2^(n−1)."""
    mesh = ENVOY_BACKOFF
    if retry.jitter == "full" and _waits(retry, retries) == _waits(mesh, retries):
        return None
    return (f"{_site(edge)} retry backoff {retry.backoff} (base {go_duration(retry.base)}, "
            f"max {go_duration(retry.max)}, jitter {retry.jitter}): the sidecar waits "
            f"Envoy's, fully jittered below {_waits(mesh, retries)} (base "
            f"{go_duration(mesh.base)}, max {go_duration(mesh.max)}), where the spec waits up "
            f"to {_waits(retry, retries)}")


def _retry_notes(edge: Edge) -> list[str]:
    """What a retrying route cannot state of its call's retry: the back-off, the budget,
    and a retry allowed back to the replica that failed (Istio's routes always move on)."""
    retry, retries = edge.call.retry, istio_retries(edge.call)
    if retry is None or retries == 0:
        return []
    backoff = _backoff_note(edge, retry, retries)
    notes = [] if backoff is None else [backoff]
    budget = retry.budget
    if budget is not None:
        notes.append(f"{_site(edge)} retry budget (ratio {budget.ratio * 100:.4g}%, "
                     f"min_per_s {budget.min_per_s:g}, window {go_duration(budget.window)}): "
                     "not enforced: Envoy's retry budget bounds the retries in flight, not "
                     "the retries per window, and the service leaves retries to the route")
    if not retry.other_replica:
        notes.append(f"{_site(edge)} retry other_replica false: the sidecar still sends "
                     "each retry to another replica when it can (Istio sets Envoy's "
                     "previous-hosts predicate on every retrying route)")
    return notes


def virtual_service(system: System, name: str, namespace: str) -> dict[str, Any]:
    """Routes per caller (matched by the caller's pod label), then a default route; every
    route states its retries, since Istio otherwise retries twice on its own."""
    notes: list[str] = []
    sites = route_sites(system, name)
    routes = [_route(system, name, namespace, site) for site in sites]
    chosen = [site.edge for site in sites]
    for edge in callers_of(system, name):
        if edge not in chosen:
            split = any(s.operation is not None and s.edge.caller == edge.caller for s in sites)
            notes.append(f"{_site(edge)}: one route per caller and operation; {edge.caller}'s "
                         f"first call to {edge.call.to} sets it" if split else
                         f"{_site(edge)}: one route per caller; "
                         f"{edge.caller}'s first call site sets it")
    for edge in chosen:
        notes += _retry_notes(edge)
    routes.append(_route(system, name, namespace, None))
    return {"apiVersion": API, "kind": "VirtualService",
            "metadata": _metadata(name, namespace, notes),
            "spec": {"hosts": [fqdn(name, namespace)], "http": routes}}


def routed_canary(system: System, name: str) -> bool:
    """A canary rollout with traffic routing: the mesh splits by weight between the stable
    Service and the canary Service (`<c>-canary`)."""
    rollout = system.components[name].rollout
    return rollout is not None and rollout.strategy == "canary" and rollout.traffic_routing


def canary_service(name: str) -> str:
    return f"{dns_label(name)}-canary"


def route_names(system: System, name: str) -> list[str]:
    """The names of the routes of a component's VirtualService, in order."""
    return [site.route_name for site in route_sites(system, name)] + ["default"]


def route_sites(system: System, name: str) -> list[Site]:
    """The call site of each caller route, in spec order: a caller's first call to `name`
    when all its calls would make the same route, else its first call to each operation."""
    by_caller: dict[str, list[Edge]] = {}
    for edge in callers_of(system, name):
        by_caller.setdefault(edge.caller, []).append(edge)
    sites: list[Site] = []
    for edges in by_caller.values():
        first_per_operation: dict[str, Edge] = {}
        for edge in edges:
            first_per_operation.setdefault(system.resolve(edge.call.to)[1], edge)
        settings = {_settings(system, name, edge) for edge in edges}
        if len(settings) == 1 or len(first_per_operation) == 1:
            sites.append(Site(edges[0]))
        else:
            sites += [Site(edge, operation) for operation, edge in first_per_operation.items()]
    return sites


def _settings(system: System, name: str, edge: Edge) -> str:
    """What a call site's route does (timeout, retries), comparable across sites."""
    route = _route(system, name, "", Site(edge))
    return json.dumps({key: value for key, value in route.items()
                       if key not in ("name", "match")}, sort_keys=True)


def mesh_routed(system: System, name: str) -> bool:
    """HTTP components get routes; a database's wire protocol is plain TCP to Envoy."""
    return tech_of(name, system.components[name], "").http


def has_virtual_service(system: System, name: str) -> bool:
    """Whether `istio/<c>.yaml` holds a VirtualService: an HTTP component that something
    calls, or whose canary the mesh routes."""
    return bool(callers_of(system, name) or routed_canary(system, name)) and \
        mesh_routed(system, name)


def render(system: System, options: GenerateOptions) -> list[GeneratedFile]:
    comment = banner(system.name, "istio")
    files = []
    for name in system.components:
        docs = [destination_rule(system, name, options.namespace)]
        if has_virtual_service(system, name):
            docs.append(virtual_service(system, name, options.namespace))
        files.append(yaml_file(f"istio/{dns_label(name)}.yaml", docs, comment, name))
    return files
