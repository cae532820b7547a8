"""Envoy/Istio settings read back in the spec's terms (shared/reference sections 2-4).

The inverse of docs/generate.md's mapping: Istio counts retries, the spec counts tries;
Envoy's route timeout bounds every try and back-off, so it is a deadline unless it equals
what the tries add up to; a spec cause is retried when the route names every Envoy
condition its failure shows as.
"""

from __future__ import annotations

from typing import Any

from scalesim.spec.resilience import CAUSES, Retry
from scalesim.spec.units import format_duration

# Spec cause -> the Envoy retryOn conditions its failures match (docs/import.md).
CONDITIONS: dict[str, frozenset[str]] = {
    "error": frozenset({"5xx"}),
    "timeout": frozenset({"gateway-error", "reset"}),
    "rejected": frozenset({"refused-stream", "503"}),
    "crashed": frozenset({"connect-failure", "reset"}),
    "overflow": frozenset({"503"}),
    "unavailable": frozenset({"connect-failure", "refused-stream", "unavailable"}),
    "rate_limited": frozenset({"429"}),
    "shed": frozenset({"503"}),
}
ISTIO_RETRY_ON = "connect-failure,refused-stream,unavailable,cancelled"
ISTIO_DEFAULT_RETRIES = 2           # when a route omits `retries` (MeshConfig default)
BACKOFF_MAX_PER_BASE = 10           # Envoy: max_interval defaults to 10 × base
LOAD_BALANCERS = {"ROUND_ROBIN": "round_robin", "RANDOM": "random",
                  "LEAST_REQUEST": "least_requests", "LEAST_CONN": "least_requests"}


def causes(retry_on: str) -> tuple[list[str], list[str]]:
    """Spec causes whose every condition is named, and the conditions no cause takes."""
    named = {part.strip() for part in retry_on.split(",") if part.strip()}
    chosen = [cause for cause in CAUSES if cause in CONDITIONS and CONDITIONS[cause] <= named]
    used = set().union(*(CONDITIONS[cause] for cause in chosen)) if chosen else set()
    return chosen, sorted(named - used)


def timeouts(route_s: float | None, retries: int, per_try_s: float | None,
             waits_s: float) -> tuple[float | None, float | None]:
    """(per-attempt timeout, deadline) of a call from an Envoy route.

    Without retries the route timeout is the call's timeout. With retries but no per-try
    timeout each try may take the whole route timeout: a deadline. Otherwise the route
    timeout is a deadline only when it differs from what the tries and back-offs add up to
    (that sum is what the spec implies without one; `waits_s`: the longest back-offs of
    the retry read back, `retry_waits_s`)."""
    if retries == 0:
        return route_s, None
    if per_try_s is None:
        return None, route_s
    implied = per_try_s * (retries + 1) + waits_s
    if route_s is None or abs(route_s - implied) < 1e-6:
        return per_try_s, None
    return per_try_s, route_s


def retry(retries: int, retry_on: str, backoff_base_s: float | None,
          other_replica: bool) -> tuple[dict[str, Any], list[str]]:
    """The spec `retry` of an Envoy retry policy, and the conditions left out."""
    chosen, unmapped = causes(retry_on)
    spec: dict[str, Any] = {"attempts": retries + 1}
    if backoff_base_s is not None:
        spec["base"] = format_duration(backoff_base_s)
        spec["max"] = format_duration(backoff_max_s(backoff_base_s))
    spec["on"] = chosen or ["unavailable"]
    if not other_replica:
        spec["other_replica"] = False
    return spec, unmapped


def retry_waits_s(retries: int, backoff_base_s: float | None) -> float:
    """The longest back-offs Envoy waits before `retries` retries, all together: its own
    strategy (retry n below min(max, base·2^(n−1))) with the route's base and its 10×
    maximum, or its defaults (25 ms, 250 ms); what `generate` adds to the tries for a route
    timeout, since in the mesh the sidecar retries."""
    base = Retry().base if backoff_base_s is None else backoff_base_s
    envoy = Retry.model_construct(backoff="envoy", base=base, max=backoff_max_s(backoff_base_s))
    return sum(envoy.longest_wait(n) for n in range(1, retries + 1))


def backoff_max_s(backoff_base_s: float | None) -> float:
    """Envoy's longest back-off: 10 × the base interval, 250 ms by default (the spec's)."""
    return Retry().max if backoff_base_s is None else backoff_base_s * BACKOFF_MAX_PER_BASE
