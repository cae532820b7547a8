"""Istio VirtualServices: who calls whom, with which timeouts, retries and injected faults.

A route matched by `sourceLabels` is the call of the workloads carrying those labels; a route
without it applies to every caller. One matched by `uri: {exact: /<op>}` is the calls to that
operation (as `scalesim generate` writes when a caller's calls to one callee need different
routes). Envoy takes the first route that matches, so does this.
A route bound to a gateway other than `mesh` is traffic from outside: an entry point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scalesim.importers import envoy
from scalesim.importers.draft import Component, Fact, Reference, Route
from scalesim.importers.k8s.objects import Cluster, Manifest, Mappers, matches
from scalesim.importers.names import is_valid
from scalesim.importers.sizing import go_duration
from scalesim.importers.sources import Seen
from scalesim.spec.units import format_duration

Target = tuple[str | None, str | None]          # (caller, operation) a route applies to
Source = tuple[str | None, str | None, bool]   # the same, and whether it matches only some
# Match keys that select some requests of a caller (sourceLabels select the caller)
PARTIAL_MATCHES = frozenset({"uri", "scheme", "method", "authority", "headers", "port",
                             "queryParams", "withoutHeaders", "ignoreUriCase"})


def _percent(block: dict[str, Any]) -> float:
    """Share of requests a fault applies to; Istio injects into none when it is unset."""
    percentage = block.get("percentage")
    if isinstance(percentage, dict) and isinstance(percentage.get("value"), int | float):
        return max(0.0, min(100.0, float(percentage["value"]))) / 100.0
    if isinstance(block.get("percent"), int | float):
        return max(0.0, min(100.0, float(block["percent"]))) / 100.0
    return 0.0


def fault(block: Any) -> dict[str, Any]:
    """A spec fault's effects from an Istio fault block (delay and abort)."""
    effects: dict[str, Any] = {}
    if not isinstance(block, dict):
        return effects
    delay = block.get("delay")
    if isinstance(delay, dict):
        seconds = go_duration(delay.get("fixedDelay"))
        share = _percent(delay)
        if seconds and share > 0:
            added = format_duration(seconds)
            effects["latency"] = f"+{added}" if share >= 1.0 else {"add": {
                "dist": "mixture", "of": [{"weight": round(share, 6), "dist": added},
                                          {"weight": round(1.0 - share, 6), "dist": "0s"}]}}
    abort = block.get("abort")
    if isinstance(abort, dict) and _percent(abort) > 0:
        effects["error_rate"] = round(_percent(abort), 6)
    return effects


def route_settings(manifest: Manifest, http: dict[str, Any], path: str,
                   notes: list[str]) -> Route:
    """Timeout, deadline and retries of one HTTP route, in the spec's terms."""
    settings = Route()
    retries = http.get("retries")
    route_s = go_duration(http.get("timeout"))
    seen_timeout = manifest.seen_in(http, "timeout", f"{path}.timeout")
    if not isinstance(retries, dict):
        if route_s is not None:
            settings.timeout = Fact(route_s, seen_timeout)
        return settings
    attempts = retries.get("attempts")
    count = attempts if isinstance(attempts, int) and attempts >= 0 else envoy.ISTIO_DEFAULT_RETRIES
    if count > envoy.MAX_RETRIES:
        notes.append(f"{manifest.title} {path}.retries.attempts: {count} retries are more than "
                     f"a spec simulates (at most {envoy.MAX_RETRIES + 1} tries): read as "
                     f"{envoy.MAX_RETRIES}")
        count = envoy.MAX_RETRIES
    retry_seen = manifest.seen_in(http, "retries", f"{path}.retries")
    if "retryRemoteLocalities" in retries:
        notes.append(f"{manifest.title} {path}.retries.retryRemoteLocalities: the spec has no "
                     "localities; left out")
    if count == 0:
        settings.retry_off = retry_seen
        if route_s is not None:
            settings.timeout = Fact(route_s, seen_timeout)
        return settings
    per_try = go_duration(retries.get("perTryTimeout"))
    base = go_duration(retries.get("backoff"))
    timeout, deadline = envoy.timeouts(route_s, count, per_try, envoy.retry_waits_s(count, base))
    if timeout is not None:
        settings.timeout = Fact(timeout, manifest.seen_in(
            retries, "perTryTimeout", f"{path}.retries.perTryTimeout") if per_try is not None
            else seen_timeout)
    if deadline is not None:
        settings.deadline = Fact(deadline, Seen(seen_timeout.file, seen_timeout.line,
                                                seen_timeout.what, f"{seen_timeout.field} "
                                                "(all tries and back-offs)"))
    retry_on = str(retries.get("retryOn") or envoy.ISTIO_RETRY_ON)
    value, reading = envoy.retry(count, retry_on, base,
                                 retries.get("retryIgnorePreviousHosts") is not False)
    where = f"{manifest.title} {path}.retries.retryOn"
    notes += [f"{where}: {note}" for note in reading.notes()]
    if value is None:
        notes.append(f"{where}: {retry_on} retries no spec cause: the call is not retried")
        settings.retry_off = retry_seen
    else:
        settings.retry = Fact(value, retry_seen)
    return settings


def _sources(cluster: Cluster, manifest: Manifest, match: Any, path: str,
             notes: list[str]) -> list[Source]:
    """(caller, operation, partial) of each source a route's matches select: the workloads
    carrying a condition's sourceLabels (None: any caller), the operation its `uri` names
    (None: every operation), and whether the condition takes only some of those requests
    (a uri other than an operation's, headers…)."""
    if not isinstance(match, list) or not match:
        return [(None, None, False)]
    found: list[Source] = []
    for index, condition in enumerate(match):
        if not isinstance(condition, dict):
            return [(None, None, False)]
        where = f"{manifest.title} {path}.match[{index}]"
        operation = _operation(condition.get("uri"), f"{where}.uri", notes)
        unread = sorted(key for key in condition if key in PARTIAL_MATCHES and key != "uri")
        if unread:
            notes.append(f"{where}: a match on {', '.join(unread)} is not read; the route is "
                         "read as serving every request, unless a route for all of them "
                         "follows")
        partial = bool(unread) or ("uri" in condition and operation is None)
        found += [(caller, operation, partial) for caller in callers_of(cluster, condition)]
    return found


def callers_of(cluster: Cluster, condition: dict[str, Any]) -> list[str | None]:
    """Workloads a match condition selects by sourceLabels; [None] when any caller matches."""
    labels = condition.get("sourceLabels")
    if not isinstance(labels, dict):
        return [None]
    namespace = str(condition.get("sourceNamespace") or "")
    return [key for key, component in cluster.draft.components.items()
            if key in cluster.workloads and matches(labels, component.labels)
            and (not namespace or component.namespace == namespace)]


def _operation(uri: Any, where: str, notes: list[str]) -> str | None:
    """The operation `uri: {exact: /<operation>}` names (a generated service serves POST
    /<operation>); any other uri match is not read, so its route serves every operation
    (unless a catch-all route follows: virtual_service)."""
    if uri is None:
        return None
    exact = uri.get("exact") if isinstance(uri, dict) else None
    if isinstance(exact, str) and exact.startswith("/") and is_valid(exact[1:]):
        return exact[1:]
    notes.append(f"{where}: only an exact '/<operation>' names an operation; the route is read "
                 "as serving every operation, unless a route for all of them follows")
    return None


def virtual_service(manifest: Manifest, cluster: Cluster) -> None:
    spec = manifest.spec
    gateways = [str(g) for g in spec.get("gateways") or ["mesh"]]
    mesh = "mesh" in gateways
    outside = [g for g in gateways if g != "mesh"]
    routes = spec.get("http") or []
    notes: list[str] = []
    taken = _Taken(manifest.title, notes)
    for index, http in enumerate(routes if isinstance(routes, list) else []):
        if not isinstance(http, dict):
            continue
        path = f"spec.http[{index}]"
        destinations = _destinations(cluster, manifest, http)
        if not destinations:
            cluster.draft.note(f"{manifest.title} {path}: its destinations are not in the files")
            continue
        if outside:
            for key in destinations:
                cluster.component(key).entry.append(
                    manifest.seen_in(spec, "gateways", f"spec.gateways {', '.join(outside)}"))
        if not mesh:
            continue
        settings = route_settings(manifest, http, path, notes)
        sources = _sources(cluster, manifest, http.get("match"), path, notes)
        effects = fault(http.get("fault"))
        for key in destinations:
            component = cluster.component(key)
            for caller, operation, partial in sources:
                taken.take(component, key, (caller, operation), settings, path, partial)
            for caller in dict.fromkeys(caller for caller, _, _ in sources if caller):
                cluster.component(caller).references.append(Reference(
                    component.name, component.namespace,
                    manifest.seen_in(http, "match", f"{path}.match.sourceLabels"), key))
            if effects and not any(f.value == effects for f in component.faults):
                component.faults.append(Fact(effects, manifest.seen_in(
                    http, "fault", f"{path}.fault (applies to every caller in the spec)")))
    for note in notes:
        cluster.draft.note(note)


@dataclass
class _Taken:
    """The routes of one VirtualService given so far, for the first-match rule."""

    title: str
    notes: list[str]
    partial: dict[tuple[str, Target], str] = field(default_factory=dict)  # -> route's path

    def take(self, component: Component, key: str, source: Target, settings: Route,
             path: str, partial: bool) -> None:
        """Give the calls from `source` this route's settings, as Envoy takes the first
        route that matches; but a route matching only some requests (a uri prefix,
        headers) gives way to a later one that takes all of them, which most requests
        take: the first is left out, noted."""
        if not partial:
            for held in [held for held in self.partial if held[0] == key and
                         _covers(source, held[1])]:
                earlier = self.partial.pop(held)
                del component.routes[held[1]]
                self.notes.append(f"{self.title} {earlier}: its match takes only some "
                                  f"requests; the calls get the settings of {path}, which "
                                  f"takes the rest: {earlier}'s timeout and retries are left "
                                  "out")
        if source not in component.routes:
            component.routes[source] = settings
            if partial:
                self.partial[key, source] = path


def _covers(route: Target, other: Target) -> bool:
    """Whether a route for `route` also takes the requests of `other`: any caller (None)
    or the same, any operation (None) or the same."""
    return all(mine is None or mine == theirs for mine, theirs in zip(route, other, strict=True))


def _destinations(cluster: Cluster, manifest: Manifest, http: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for target in http.get("route") or []:
        destination = target.get("destination") if isinstance(target, dict) else None
        if isinstance(destination, dict) and destination.get("host"):
            found += cluster.service_hosts(str(destination["host"]), manifest.namespace)
            if destination.get("subset"):
                cluster.draft.note(f"{manifest.title}: subset '{destination['subset']}' "
                                   "(versions are not imported yet)")
    return list(dict.fromkeys(found))


KINDS: Mappers = {("networking.istio.io", "VirtualService"): virtual_service}
