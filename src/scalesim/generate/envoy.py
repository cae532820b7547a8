"""How the spec's call settings read in Envoy/Istio terms (shared/reference sections 2-4).

Pure mappings, no objects: which Envoy retry conditions a spec cause means, how many retries
Istio is told, and how long the whole route may take.
"""

from __future__ import annotations

import math

from scalesim.spec.model import Balancer, Call
from scalesim.spec.resilience import Retry

# Spec cause -> Envoy retryOn conditions. circuit_open and bulkhead_full are refusals made
# inside the caller (Resilience4j), which the proxy never sees: they have no condition.
RETRY_ON: dict[str, tuple[str, ...]] = {
    "error": ("5xx",),
    "timeout": ("gateway-error", "reset"),          # a per-try timeout is a 504
    "rejected": ("refused-stream", "503"),          # a full queue answers 503
    "crashed": ("connect-failure", "reset"),
    "overflow": ("503",),                           # Envoy's local overflow is a 503
    "unavailable": ("connect-failure", "refused-stream", "unavailable"),
    "rate_limited": ("429",),
    "shed": ("503",),
}
CONDITION_ORDER = ("5xx", "gateway-error", "reset", "connect-failure", "refused-stream",
                   "unavailable", "503", "429")
LOAD_BALANCER = {Balancer.ROUND_ROBIN: "ROUND_ROBIN", Balancer.RANDOM: "RANDOM",
                 Balancer.LEAST_REQUESTS: "LEAST_REQUEST", Balancer.P2C: "LEAST_REQUEST"}
HASH_HEADER = "x-scalesim-key"
# The back-off the sidecar runs: the VirtualService of the project's Istio schema cannot set
# one, so Envoy's default (25 ms base, 250 ms maximum, retry n waits below
# min(max, base·2^(n−1)), fully jittered).
ENVOY_BACKOFF = Retry.model_construct(backoff="envoy", base=0.025, max=0.25)


def retry_on(causes: list[str]) -> str:
    wanted = {condition for cause in causes for condition in RETRY_ON.get(cause, ())}
    return ",".join(c for c in CONDITION_ORDER if c in wanted)


def istio_retries(call: Call) -> int:
    """Istio counts retries, the spec counts tries; a retry that can never start (no
    mappable cause, or max_concurrent 0) is no retry."""
    retry = call.retry
    if retry is None or retry.max_concurrent == 0 or not retry_on(list(retry.on)):
        return 0
    return retry.attempts - 1


def mesh_waits_s(retries: int) -> float:
    """The longest back-offs Envoy waits before `retries` retries, all together. With the
    mesh retrying, the spec's own back-off does not run (the service makes one try), and
    the VirtualService cannot set another (`istio._backoff_note` says so)."""
    return ENVOY_BACKOFF.longest_waits(retries + 1)


def route_timeout_s(call: Call) -> float | None:
    """Envoy's route timeout bounds all tries and back-off. Without a retry the route makes
    one try and has no per-try timeout, and the service leaves its own to the sidecar
    (SCALESIM_RETRIES=mesh), so the try's timeout bounds the route, with the deadline. A
    retrying route is bounded by the deadline; without one, every try its full timeout plus
    the longest back-off Envoy waits before each retry (Envoy's, whatever the spec's: it is
    the sidecar that retries)."""
    retries = istio_retries(call)
    if retries == 0 and call.timeout is not None:
        return min(call.timeout, call.deadline or math.inf)
    if call.deadline is not None:
        return call.deadline
    if call.timeout is None:
        return None
    return call.timeout * (retries + 1) + mesh_waits_s(retries)
