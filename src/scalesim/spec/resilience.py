"""Resilience settings of a spec: what a call, a component or the defaults may carry.

Each follows a real system's definition and defaults, named in its docstring; the facts are
in shared/reference/resilience-semantics.md and docs/resilience.md explains each field.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import Field, field_validator, model_validator

from scalesim.spec import bounds
from scalesim.spec.bounds import MAX_DURATION_S
from scalesim.spec.dists import Distribution
from scalesim.spec.errors import FieldProblems
from scalesim.spec.types import (
    Count,
    Duration,
    Flag,
    Fraction,
    Number,
    PositiveDuration,
    Rate,
    Strict,
    refuse_unused,
)

# Why a call or request failed: the keys of `failed_by_cause` in the result, in this order.
CAUSES = ("timeout", "rejected", "error", "circuit_open", "crashed", "bulkhead_full",
          "overflow", "rate_limited", "shed", "unavailable")
Cause = Literal["timeout", "rejected", "error", "circuit_open", "crashed", "bulkhead_full",
                "overflow", "rate_limited", "shed", "unavailable"]


BACKOFF_CAP_PER_BASE: Final = 10  # Envoy: a retry back-off's max_interval defaults to 10 × base


def _default_retry_on() -> list[Cause]:
    return ["error", "timeout", "rejected", "crashed", "overflow", "unavailable"]


class RetryBudget(Strict):
    """Retries may be at most `ratio` of the original calls over the last `window`, but
    `min_per_s` retries per second are always allowed (Linkerd's retry budget, after Finagle's)."""

    ratio: Fraction = 0.2
    min_per_s: Number = Field(10.0, ge=0.0, le=bounds.MAX_RATE_PER_S)
    window: PositiveDuration = Field(10.0, le=bounds.MAX_WINDOW_S)


class Retry(Strict):
    """Retries of one call. `attempts` counts every try, the first included (Resilience4j's
    maxAttempts); Istio's `attempts` is this number minus one."""

    attempts: Count = Field(3, ge=1, le=100)
    backoff: Literal["none", "constant", "exponential", "envoy"] = "exponential"
    base: Duration = 0.025
    max: Duration = Field(0.25, description="the back-off's cap; without it, "
                          "BACKOFF_CAP_PER_BASE × base (Envoy's max_interval default)")
    jitter: Literal["none", "full", "equal", "decorrelated"] = "full"
    on: list[Cause] = Field(default_factory=_default_retry_on, min_length=1)
    budget: RetryBudget | None = None
    max_concurrent: Annotated[Count, Field(ge=0, le=bounds.MAX_CONCURRENCY)] | None = Field(
        None, description="Envoy max_retries: retries in flight at once per calling replica")
    other_replica: Flag = Field(True, description="steer a retry away from the replica that "
                                "failed (Envoy's previous_hosts predicate, Istio's default)")

    def longest_wait(self, retry: int) -> float:
        """The longest back-off before retry number `retry` (1 = the first), as the kernel
        draws it (sim/mechanisms/backoff.py): min(max, base·2^n) with or without jitter
        below it, `base` for constant, min(max, base·3^n) for decorrelated (each wait at
        most three times the last), min(max, base·2^(n−1)) for Envoy's."""
        if self.backoff == "none":
            return 0.0
        if self.backoff == "envoy":
            return min(self.max, self.base * 2.0 ** (retry - 1))
        if self.backoff == "constant" and self.jitter != "decorrelated":
            return self.base
        growth = 3.0 if self.jitter == "decorrelated" else 2.0
        return min(self.max, self.base * growth**retry)

    def longest_waits(self, tries: int) -> float:
        """The longest back-offs between `tries` tries, all together (`longest_wait` of
        each of the tries − 1 retries)."""
        return sum(self.longest_wait(n) for n in range(1, tries))

    @model_validator(mode="after")
    def _max_not_below_base(self) -> Retry:
        if "max" not in self.model_fields_set:
            # Envoy's default cap, whatever the base: a fixed 250 ms would cut a 100 ms
            # base's doublings short after two retries (and refuse any base above it).
            # Frozen models take a derived default this way, past their __setattr__.
            object.__setattr__(self, "max", min(MAX_DURATION_S,
                                                BACKOFF_CAP_PER_BASE * self.base))
        elif self.max < self.base:
            raise ValueError("'max' must be at least 'base'")
        if self.backoff == "envoy" and self.jitter != "full":
            raise ValueError("Envoy's back-off is fully jittered: with 'backoff: envoy', leave "
                             "'jitter' out or set it to full")
        return self


class CircuitBreaker(Strict):
    """A Resilience4j circuit breaker on one call edge; defaults are Resilience4j's."""

    window_type: Literal["count", "time"] = "count"
    window: Count = Field(100, ge=1, le=100_000, description="calls (count) or seconds (time)")
    min_calls: Count = Field(100, ge=1, le=bounds.MAX_THRESHOLD)
    failure_rate: Fraction = 0.5
    slow_call_rate: Fraction = 1.0
    slow_call_duration: PositiveDuration = 60.0
    open_for: PositiveDuration = 60.0
    open_for_multiplier: Number = Field(
        1.0, ge=1.0, le=bounds.MAX_FACTOR, description="each re-opening waits this much longer "
        "(exponential interval function); 1 = constant")
    open_for_max: PositiveDuration | None = Field(None, description="cap of the growing wait")
    automatic_half_open: Flag = Field(False, description="a timer moves OPEN to HALF_OPEN; "
                                      "otherwise the first call after the wait does")
    max_wait_in_half_open: Duration = Field(0.0, description="0 = stay HALF_OPEN until the "
                                            "probes finish; otherwise re-open after this")
    half_open_calls: Count = Field(10, ge=1, le=bounds.MAX_THRESHOLD)
    scope: Literal["replica", "service"] = "replica"

    @field_validator("failure_rate", "slow_call_rate")
    @classmethod
    def _above_zero(cls, value: float) -> float:
        if value <= 0.0:
            raise ValueError("a circuit-breaker threshold must be above 0% (and at most 100%)")
        return value

    @model_validator(mode="after")
    def _cap_of_a_growing_wait(self) -> CircuitBreaker:
        if self.open_for_multiplier == 1.0:
            refuse_unused(self, {"open_for_max"}, "to a constant wait (open_for_multiplier 1): "
                          "it caps a growing one", "with 'open_for_multiplier' above 1")
        return self


class Bulkhead(Strict):
    """Isolation of one dependency (Resilience4j Bulkhead / ThreadPoolBulkhead).

    semaphore: at most `max_concurrent` calls at once; a call waits at most `max_wait` for a
    permit (0 = refuse at once). threadpool: `size` threads and a queue of `queue` calls.
    """

    type: Literal["semaphore", "threadpool"] = "semaphore"
    max_concurrent: Count = Field(25, ge=1, le=bounds.MAX_CONCURRENCY)
    max_wait: Duration = 0.0
    size: Count = Field(10, ge=1, le=bounds.MAX_CONCURRENCY)
    queue: Count = Field(100, ge=0, le=bounds.MAX_QUEUE)
    scope: Literal["replica", "service"] = "replica"

    @model_validator(mode="after")
    def _fields_of_the_type(self) -> Bulkhead:
        if self.type == "semaphore":
            refuse_unused(self, {"size", "queue"}, "to a semaphore bulkhead",
                          "to a thread pool (type: threadpool)")
        else:
            refuse_unused(self, {"max_concurrent", "max_wait"}, "to a threadpool bulkhead",
                          "to a semaphore (type: semaphore, the default)")
        return self


class Hedge(Strict):
    """Send another attempt to a different replica when the first is slow; the first answer
    wins and the rest are cancelled (The Tail at Scale)."""

    after: PositiveDuration | Annotated[str, Field(pattern=r"^p(50|75|90|95|99|999)$")] = Field(
        "p95", description="a delay, or a percentile of this call's observed latency")
    max: Count = Field(1, ge=1, le=10, description="extra attempts at most")
    budget: Fraction | None = Field(None, description="hedges at most this share of calls")

    @property
    def percentile(self) -> float | None:
        """The quantile `after` names (`p999` → 0.999), None for a fixed delay."""
        if not isinstance(self.after, str):
            return None
        digits = self.after[1:]
        return int(digits) / 10.0 ** len(digits)


class Fallback(Strict):
    fallback: Distribution
    degraded: Flag = Field(False, description="count answers served by the fallback as "
                           "degraded (still successful)")


OnFailure = Literal["fail", "continue"] | Fallback


class CallDefaults(Strict):
    """Settings every call inherits unless it sets its own (`defaults.calls`)."""

    timeout: PositiveDuration | None = None
    retry: Retry | None = None
    circuit_breaker: CircuitBreaker | None = None
    bulkhead: Bulkhead | None = None


class RateLimit(Strict):
    """Admission at a component: token bucket (`rate` refill, `burst` size) or a sliding
    window of `rate × window` requests; over the limit a request is refused (HTTP 429)."""

    algorithm: Literal["token_bucket", "sliding_window"] = "token_bucket"
    rate: Rate
    burst: Count | None = Field(None, ge=1, le=bounds.MAX_QUEUE,
                                description="bucket size; default one second of rate")
    window: PositiveDuration = 1.0
    scope: Literal["component", "replica"] = "component"
    per_workload: Flag = Field(False, description="each workload (client) has its own limit")

    @model_validator(mode="after")
    def _fields_of_the_algorithm(self) -> RateLimit:
        if self.algorithm == "token_bucket":
            refuse_unused(self, {"window"}, "to a token bucket",
                          "with algorithm: sliding_window")
        else:
            refuse_unused(self, {"burst"}, "to a sliding window",
                          "with algorithm: token_bucket (the default)")
        return self


class LoadShedding(Strict):
    """Refuse work that has waited too long: a bound on the queue wait, or CoDel (drop when the
    minimum queue delay over `interval` stayed above `target`)."""

    max_queue_wait: PositiveDuration | None = None
    codel_target: PositiveDuration | None = None
    codel_interval: PositiveDuration = 0.1

    @model_validator(mode="after")
    def _one_policy(self) -> LoadShedding:
        if (self.max_queue_wait is None) == (self.codel_target is None):
            raise ValueError("give exactly one of 'max_queue_wait' or 'codel_target'")
        if self.codel_target is None:
            refuse_unused(self, {"codel_interval"}, "with 'max_queue_wait'",
                          "to CoDel: 'codel_target' in place of 'max_queue_wait'")
        return self


class ConnectionPool(Strict):
    """Envoy circuit-breaking thresholds that every calling replica's proxy enforces towards
    this component (Istio DestinationRule connectionPool); Envoy's defaults."""

    max_connections: Count = Field(1024, ge=1, le=bounds.MAX_CONCURRENCY)
    max_pending_requests: Count = Field(1024, ge=0, le=bounds.MAX_QUEUE)
    max_requests: Count = Field(1024, ge=1, le=bounds.MAX_CONCURRENCY)
    http2: Flag = Field(False, description="HTTP/2 multiplexes: only max_requests applies")


class OutlierDetection(Strict):
    """Envoy outlier detection by consecutive 5xx (Istio's only detector); Envoy's defaults."""

    consecutive_5xx: Count = Field(5, ge=1, le=bounds.MAX_THRESHOLD)
    interval: PositiveDuration = 10.0
    base_ejection_time: PositiveDuration = 30.0
    max_ejection_time: PositiveDuration = 300.0
    max_ejection_percent: Fraction = 0.1


class Probe(Strict):
    """A Kubernetes probe; defaults are Kubernetes'."""

    period: PositiveDuration = 10.0
    timeout: PositiveDuration = 1.0
    failure_threshold: Count = Field(3, ge=1, le=bounds.MAX_THRESHOLD)
    success_threshold: Count = Field(1, ge=1, le=bounds.MAX_THRESHOLD)
    initial_delay: Duration = 0.0


class Health(Strict):
    """Readiness removes a failing replica from balancing; liveness restarts it after
    `restart_delay`, doubling per restart up to 5 minutes (CrashLoopBackOff)."""

    readiness: Probe | None = None
    liveness: Probe | None = None
    restart_delay: Duration = 10.0

    @model_validator(mode="after")
    def _one_success_revives(self) -> Health:
        """Kubernetes refuses a liveness probe whose successThreshold is not 1."""
        if self.liveness is not None and self.liveness.success_threshold != 1:
            raise FieldProblems([(("liveness", "success_threshold"),
                                  "a liveness probe's 'success_threshold' must be 1: "
                                  "Kubernetes requires 1 for liveness and startup probes "
                                  "(one success ends a failure streak); use it on readiness")])
        return self
