"""Field values the importer reads, checked as the API server or the CRD would check them.

A value the real cluster refuses (`replicas: three`, `periodSeconds: -5`, Istio
`attempts: many`, `maxEjectionPercent: 250`, Kong `second: lots`) is bad input, named by
file, line, object and field, never read as "not set" with its default. Only the fields the
importer reads are checked: a spec is not a full validation of the manifests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from scalesim.importers.errors import Problem
from scalesim.importers.k8s.objects import Manifest
from scalesim.importers.sizing import go_duration, quantity
from scalesim.importers.sources import line_of

Check = Callable[[Any], str | None]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def count(minimum: int = 0, maximum: int | None = None) -> Check:
    """A whole number (int32 in the API) in [minimum, maximum]."""
    def check(value: Any) -> str | None:
        if not isinstance(value, int) or isinstance(value, bool):
            return f"{value!r} is not a whole number"
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" and at most {maximum}" if maximum is not None else ""
            return f"{value} is out of range: it must be at least {minimum}{upper}"
        return None
    return check


def duration(value: Any) -> str | None:
    """A Go duration as Istio takes it ('250ms', '1m30s')."""
    if go_duration(value) is None:
        return f"{value!r} is not a duration (a number with a unit: '250ms', '2s', '1m')"
    return None


def positive_number(value: Any) -> str | None:
    if not _number(value):
        return f"{value!r} is not a number"
    return None if value > 0 else f"{value} is out of range: it must be greater than 0"


def percentage(value: Any) -> str | None:
    if not _number(value):
        return f"{value!r} is not a number"
    return None if 0 <= value <= 100 else f"{value} is out of range: it must be 0 to 100"


def resource_quantity(value: Any) -> str | None:
    """A Kubernetes quantity ('500m', '2', '64Mi'), not negative."""
    amount = quantity(value)
    if amount is None:
        return f"{value!r} is not a quantity (e.g. '500m', '2', '64Mi')"
    return None if amount >= 0 else f"{value!r} is out of range: it must not be negative"


@dataclass(frozen=True)
class Rule:
    """The field at dotted `path` (`[]` steps into every item of a list) must pass `check`
    when it is set."""

    path: str
    check: Check


PROBE_RULES = [Rule(f"{probe}.{field}", count(minimum))
               for probe in ("readinessProbe", "livenessProbe", "startupProbe")
               for field, minimum in (("periodSeconds", 0), ("timeoutSeconds", 0),
                                      ("failureThreshold", 0), ("successThreshold", 0),
                                      ("initialDelaySeconds", 0))]
RESOURCE_RULES = [Rule(f"resources.{which}.{resource}", resource_quantity)
                  for which in ("requests", "limits") for resource in ("cpu", "memory")]
CONTAINER_RULES = PROBE_RULES + RESOURCE_RULES
WORKLOAD_RULES = [Rule("spec.replicas", count()),
                  *(Rule(f"spec.template.spec.containers[].{rule.path}", rule.check)
                    for rule in CONTAINER_RULES)]
POOL = "spec.trafficPolicy.connectionPool"
OUTLIER = "spec.trafficPolicy.outlierDetection"
DESTINATION_RULE_RULES = [
    *(Rule(f"{POOL}.{field}", count()) for field in (
        "tcp.maxConnections", "http.http1MaxPendingRequests", "http.http2MaxRequests",
        "http.maxRetries", "http.maxRequestsPerConnection")),
    *(Rule(f"{OUTLIER}.{field}", count()) for field in (
        "consecutive5xxErrors", "consecutiveErrors", "consecutiveGatewayErrors")),
    Rule(f"{OUTLIER}.interval", duration), Rule(f"{OUTLIER}.baseEjectionTime", duration),
    Rule(f"{OUTLIER}.maxEjectionPercent", count(0, 100)),
    Rule(f"{OUTLIER}.minHealthPercent", count(0, 100))]
VIRTUAL_SERVICE_RULES = [
    Rule("spec.http[].timeout", duration), Rule("spec.http[].retries.attempts", count()),
    Rule("spec.http[].retries.perTryTimeout", duration),
    Rule("spec.http[].retries.backoff", duration),
    Rule("spec.http[].fault.delay.fixedDelay", duration),
    Rule("spec.http[].fault.delay.percentage.value", percentage),
    Rule("spec.http[].fault.abort.percentage.value", percentage)]
KONG_WINDOWS = ("second", "minute", "hour", "day", "month", "year")
KONG_RATE_LIMIT_RULES = [Rule(f"config.{window}", positive_number) for window in KONG_WINDOWS]
WORKLOADS = {("apps", kind) for kind in ("Deployment", "StatefulSet", "DaemonSet",
                                         "ReplicaSet")} | {("argoproj.io", "Rollout")}
RULES: dict[tuple[str, str], list[Rule]] = {
    **{kind: WORKLOAD_RULES for kind in WORKLOADS},
    ("networking.istio.io", "DestinationRule"): DESTINATION_RULE_RULES,
    ("networking.istio.io", "VirtualService"): VIRTUAL_SERVICE_RULES}


def _rules(manifest: Manifest) -> list[Rule]:
    if manifest.kind == "KongPlugin" and manifest.data.get("plugin") == "rate-limiting":
        return KONG_RATE_LIMIT_RULES
    return RULES.get((manifest.group, manifest.kind), [])


def _fields(node: Any, parts: list[str], path: str) -> Iterator[tuple[Any, str | int, str]]:
    """(parent, key, dotted path) of every value `parts` reaches from `node`."""
    part, rest = parts[0], parts[1:]
    many = part.endswith("[]")
    key = part.removesuffix("[]")
    if not isinstance(node, dict) or key not in node:
        return
    where = f"{path}.{key}" if path else key
    if not many:
        if rest:
            yield from _fields(node[key], rest, where)
        else:
            yield node, key, where
        return
    items = node[key]
    for index, item in enumerate(items if isinstance(items, list) else []):
        if rest:
            yield from _fields(item, rest, f"{where}[{index}]")


def field_problems(manifest: Manifest) -> list[Problem]:
    """Every field of `manifest` the importer reads whose value the real API refuses."""
    problems = []
    for rule in _rules(manifest):
        for parent, key, path in _fields(manifest.data, rule.path.split("."), ""):
            value = parent[key]
            if value is None:
                continue  # null is "not set" in the API too
            problem = rule.check(value)
            if problem is not None:
                line = line_of(parent, key) or manifest.line
                problems.append(Problem(manifest.file, line,
                                        f"{manifest.title} {path}: {problem}"))
    return problems
