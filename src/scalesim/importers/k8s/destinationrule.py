"""Istio DestinationRules: a component's balancer, connection pool and outlier detection.

Fields the rule leaves out keep Istio's defaults, which are not always the spec's: an unset
connection-pool limit (or one of 0, which Istio does not apply) is 2^32-1 in Istio (no
limit), so it is written as the spec's largest
value (docs/spec.md, "Bounds"), which no real design reaches; outlier detection's defaults
(5 errors, 10 s, 30 s, 10 %) are the spec's and are left out.
"""

from __future__ import annotations

from typing import Any, TypeGuard

from scalesim.importers import envoy
from scalesim.importers.draft import Component, Fact
from scalesim.importers.k8s.objects import Cluster, Manifest, Mappers
from scalesim.importers.sizing import go_duration
from scalesim.spec import bounds
from scalesim.spec.units import format_duration

# (section, Istio field, spec field, the spec's largest value: "no limit")
POOL = (("tcp", "maxConnections", "max_connections", bounds.MAX_CONCURRENCY),
        ("http", "http1MaxPendingRequests", "max_pending_requests", bounds.MAX_QUEUE),
        ("http", "http2MaxRequests", "max_requests", bounds.MAX_CONCURRENCY))
# The pool's fields the import reads (POOL, http2, retries' cap); the others have no spec field
POOL_READ = {"tcp": frozenset({"maxConnections"}),
             "http": frozenset({"http1MaxPendingRequests", "http2MaxRequests", "maxRetries",
                                "h2UpgradePolicy"})}
OUTLIER_DURATIONS = (("interval", "interval"), ("baseEjectionTime", "base_ejection_time"))


def _pool(manifest: Manifest, cluster: Cluster, component: Component,
          pool: dict[str, Any]) -> None:
    for section, read in POOL_READ.items():
        fields = pool.get(section)
        for unmapped in sorted(set(fields) - read) if isinstance(fields, dict) else []:
            cluster.draft.note(f"{manifest.title}: connectionPool.{section}.{unmapped} has no "
                               "spec field; left out")
    value: dict[str, Any] = {}
    defaulted, unlimited = [], []
    for section, istio_field, spec_field, largest in POOL:
        number = (pool.get(section) or {}).get(istio_field)
        if _set(number):
            value[spec_field] = number
            if number > largest:
                value[spec_field] = largest
                unlimited.append(istio_field)
        else:
            value[spec_field] = largest
            defaulted.append(istio_field)
    http = pool.get("http") or {}
    if http.get("h2UpgradePolicy") == "UPGRADE":
        value["http2"] = True
    seen = manifest.seen("spec.trafficPolicy.connectionPool")
    why = f"{seen}" + (f"; Istio's default (no limit) for {', '.join(defaulted)}"
                       if defaulted else "") + (
        f"; {', '.join(unlimited)} above the spec's largest value: no limit" if unlimited else "")
    if len(defaulted) < len(POOL) or "http2" in value:
        component.connection_pool = Fact(value, why)
    retries = http.get("maxRetries")
    if _set(retries):
        component.max_retries = Fact(retries, manifest.seen(
            "spec.trafficPolicy.connectionPool.http.maxRetries"))


def _set(number: Any) -> TypeGuard[int]:
    """Whether Istio applies this limit: it sets only those above 0 on Envoy's circuit
    breaker (pilot's applyConnectionPool), so a 0 is unset, no limit."""
    return isinstance(number, int) and not isinstance(number, bool) and number > 0


def _outlier(manifest: Manifest, cluster: Cluster, component: Component,
             outlier: dict[str, Any]) -> None:
    errors = outlier.get("consecutive5xxErrors", outlier.get("consecutiveErrors"))
    if errors == 0:
        cluster.draft.note(f"{manifest.title}: consecutive5xxErrors 0 turns outlier "
                           "detection off")
        return
    value: dict[str, Any] = {}
    if isinstance(errors, int) and errors >= 1:
        value["consecutive_5xx"] = errors
    for istio_field, spec_field in OUTLIER_DURATIONS:
        seconds = go_duration(outlier.get(istio_field))
        if seconds:
            value[spec_field] = format_duration(seconds)
    percent = outlier.get("maxEjectionPercent")
    if isinstance(percent, int | float) and 0 <= percent <= 100:
        value["max_ejection_percent"] = round(percent / 100.0, 6)
    for unmapped in ("consecutiveGatewayErrors", "minHealthPercent",
                     "splitExternalLocalOriginErrors"):
        if unmapped in outlier:
            cluster.draft.note(f"{manifest.title}: outlierDetection.{unmapped} has no spec "
                               "field; left out")
    component.outlier = Fact(value, manifest.seen("spec.trafficPolicy.outlierDetection"))


def destination_rule(manifest: Manifest, cluster: Cluster) -> None:
    host = str(manifest.spec.get("host", ""))
    targets = cluster.service_hosts(host, manifest.namespace)
    if not targets:
        cluster.draft.note(f"{manifest.title}: host '{host}' is not in the files; left out")
        return
    policy = manifest.spec.get("trafficPolicy") or {}
    for key in targets:
        component = cluster.component(key)
        balancer = policy.get("loadBalancer") or {}
        if isinstance(balancer, dict) and (balancer.get("simple") in envoy.LOAD_BALANCERS
                                           or "consistentHash" in balancer):
            chosen = envoy.LOAD_BALANCERS.get(str(balancer.get("simple")), "hash")
            component.balancer = Fact(chosen, manifest.seen("spec.trafficPolicy.loadBalancer"))
        if isinstance(policy.get("connectionPool"), dict):
            _pool(manifest, cluster, component, policy["connectionPool"])
        if isinstance(policy.get("outlierDetection"), dict):
            _outlier(manifest, cluster, component, policy["outlierDetection"])
    if policy.get("portLevelSettings") or manifest.spec.get("subsets"):
        cluster.draft.note(f"{manifest.title}: portLevelSettings and subsets are not imported")


KINDS: Mappers = {("networking.istio.io", "DestinationRule"): destination_rule}
