"""Envoy/Istio settings read back in the spec's terms (shared/reference sections 2-4).

The inverse of docs/generate.md's mapping: Istio counts retries, the spec counts tries;
Envoy's route timeout bounds every try and back-off, so it is a deadline unless it equals
what the tries add up to; a spec cause is retried when every Envoy condition its failure
shows as is retried, by that condition or by one Envoy's router retries it under.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from scalesim.spec.resilience import BACKOFF_CAP_PER_BASE, CAUSES, Retry
from scalesim.spec.units import format_duration

# Spec cause -> the Envoy retryOn conditions its failures match, as generate writes them
# (docs/generate.md, "Retry conditions").
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
# Condition -> the others it retries all of (Envoy's router, retry_state_impl.cc): 5xx,
# gateway-error and reset each retry every reset but a local overflow, and a connection
# failure and a refused stream are resets; 5xx retries every 5xx status, gateway-error
# 502, 503 and 504; a connection failure is a reset before any byte is sent. So a route
# naming `5xx` retries all that `gateway-error,reset,503` does.
INCLUDES: dict[str, frozenset[str]] = {
    "5xx": frozenset({"gateway-error", "reset", "connect-failure", "refused-stream", "503"}),
    "gateway-error": frozenset({"reset", "connect-failure", "refused-stream", "503"}),
    "reset": frozenset({"connect-failure", "refused-stream"}),
    "reset-before-request": frozenset({"connect-failure"}),
}
# Istio adds it itself to a retryOn listing status codes; alone it retries no code.
STATUS_CODES_FLAG = "retriable-status-codes"
# The retryOn words Istio's validation accepts (Envoy's x-envoy-retry-on and
# x-envoy-retry-grpc-on conditions); any other word that is not an HTTP status code is
# refused when the VirtualService is applied.
RETRY_ON_WORDS = frozenset({
    "5xx", "gateway-error", "reset", "reset-before-request", "connect-failure",
    "retriable-4xx", "refused-stream", STATUS_CODES_FLAG, "retriable-headers",
    "envoy-ratelimited", "http3-post-connect-failure", "cancelled", "deadline-exceeded",
    "internal", "resource-exhausted", "unavailable"})
# pilot/pkg/networking/core/route/retry/retry.go, defaultRetryOn
ISTIO_RETRY_ON = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"
ISTIO_DEFAULT_RETRIES = 2           # when a route omits `retries` (MeshConfig default)
# The most retries a spec holds: its `retry.attempts` bound counts the first try too
MAX_RETRIES: int = Retry.model_json_schema()["properties"]["attempts"]["maximum"] - 1
LOAD_BALANCERS = {"ROUND_ROBIN": "round_robin", "RANDOM": "random",
                  "LEAST_REQUEST": "least_requests", "LEAST_CONN": "least_requests"}


@dataclass(frozen=True)
class Reading:
    """A retryOn value in the spec's terms: the causes it retries, and what it names that
    no cause takes (`causeless`), or that is only part of causes not retried (`partial`,
    condition -> those causes)."""

    causes: list[str]
    causeless: list[str]
    partial: dict[str, list[str]]

    def notes(self) -> list[str]:
        """What was left out, as a note says it."""
        notes = [f"{', '.join(self.causeless)} has no spec cause; left out"] \
            if self.causeless else []
        notes += [f"{condition} is only part of what {', '.join(causes)} fail with; left out"
                  for condition, causes in self.partial.items()]
        return notes


def retry_on_problem(value: Any) -> str | None:
    """Why Istio refuses a retryOn value: a condition that is neither one it knows nor an
    HTTP status code (a typo such as `5XX` or `gateway-errors`)."""
    if not isinstance(value, str):
        return f"{value!r} is not a list of conditions"
    unknown = [word for word in value.split(",")  # as Istio splits it: no spaces trimmed
               if word not in RETRY_ON_WORDS and not _status_code(word)]
    if not unknown:
        return None
    verb = "is not a condition" if len(unknown) == 1 else "are not conditions"
    return (f"{', '.join(repr(w) for w in unknown)} {verb} Istio accepts (Envoy's retry-on "
            "conditions, gRPC's, or an HTTP status code, comma-separated without spaces)")


def _status_code(word: str) -> bool:
    return word.isdigit() and int(word) in {int(status) for status in HTTPStatus}


def retried(retry_on: str) -> frozenset[str]:
    """Every condition a retryOn value retries all of: those it names and those Envoy
    retries under them (INCLUDES). Two values retry the same failures when these match."""
    named = _named(retry_on)
    return frozenset(named).union(*(INCLUDES.get(condition, ()) for condition in named))


def causes(retry_on: str) -> Reading:
    """The spec causes every condition of which is retried, and what else is named."""
    covered = retried(retry_on)
    chosen = [cause for cause in CAUSES if cause in CONDITIONS and CONDITIONS[cause] <= covered]
    used = set().union(*(CONDITIONS[cause] for cause in chosen))
    causeless, partial = [], {}
    for condition in _named(retry_on):
        reach = {condition, *INCLUDES.get(condition, ())}
        if condition != STATUS_CODES_FLAG and not reach & used:
            part_of = _causes_sharing(reach)
            if part_of:
                partial[condition] = part_of
            else:
                causeless.append(condition)
    return Reading(chosen, causeless, partial)


def _causes_sharing(conditions: set[str]) -> list[str]:
    """The causes whose failures show as one of `conditions`, among others."""
    return [cause for cause in CAUSES if CONDITIONS.get(cause, frozenset()) & conditions]


def _named(retry_on: str) -> list[str]:
    """The conditions of a retryOn value, each once, in its order."""
    return list(dict.fromkeys(part.strip() for part in retry_on.split(",") if part.strip()))


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
          other_replica: bool) -> tuple[dict[str, Any] | None, Reading]:
    """The spec `retry` of an Envoy retry policy, None when it retries no spec cause (the
    spec then retries nothing, as Envoy retries none of its failures), and its reading."""
    reading = causes(retry_on)
    if not reading.causes:
        return None, reading
    spec: dict[str, Any] = {"attempts": retries + 1}
    if backoff_base_s is not None:
        spec["base"] = format_duration(backoff_base_s)
        spec["max"] = format_duration(backoff_max_s(backoff_base_s))
    spec["on"] = reading.causes
    if not other_replica:
        spec["other_replica"] = False
    return spec, reading


def retry_waits_s(retries: int, backoff_base_s: float | None) -> float:
    """The longest back-offs Envoy waits before `retries` retries, all together: its own
    strategy (retry n below min(max, base·2^(n−1))) with the route's base and its 10×
    maximum, or its defaults (25 ms, 250 ms); what `generate` adds to the tries for a route
    timeout, since in the mesh the sidecar retries."""
    base = Retry().base if backoff_base_s is None else backoff_base_s
    envoy = Retry.model_construct(backoff="envoy", base=base, max=backoff_max_s(backoff_base_s))
    return envoy.longest_waits(retries + 1)


def backoff_max_s(backoff_base_s: float | None) -> float:
    """Envoy's longest back-off: 10 × the base interval, 250 ms by default (the spec's)."""
    return Retry().max if backoff_base_s is None else backoff_base_s * BACKOFF_CAP_PER_BASE
