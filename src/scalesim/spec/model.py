"""The system spec as typed objects: the one model every part of ScaleSim reads.

Field names, defaults and meanings follow the contract in SPEC.md; `docs/spec.md` documents
each of them. Checks that need the whole system (references, call cycles) live in
`scalesim.spec.checks`, so this module stays a plain description of shapes and ranges.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from scalesim.spec.dists import ZERO, Distribution
from scalesim.spec.resilience import (
    Bulkhead,
    CallDefaults,
    CircuitBreaker,
    ConnectionPool,
    Health,
    Hedge,
    LoadShedding,
    OnFailure,
    OutlierDetection,
    RateLimit,
    Retry,
)
from scalesim.spec.types import (
    Duration,
    Fraction,
    Name,
    NonNegativeRate,
    PositiveDuration,
    Rate,
    Strict,
)

OperationRef = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*(\.[A-Za-z0-9][A-Za-z0-9-]*)?$",
          description="a component, or component.operation"),
]


class Kind(StrEnum):
    SERVICE = "service"
    GATEWAY = "gateway"
    DATABASE = "database"
    CACHE = "cache"
    QUEUE = "queue"
    EXTERNAL = "external"


class Balancer(StrEnum):
    ROUND_ROBIN = "round_robin"
    RANDOM = "random"
    LEAST_REQUESTS = "least_requests"
    P2C = "p2c"
    HASH = "hash"




class Call(Strict):
    to: OperationRef
    timeout: PositiveDuration | None = Field(None, description="per attempt")
    deadline: PositiveDuration | None = Field(
        None, description="for the whole call: attempts, back-off and hedges")
    propagate_deadline: bool = Field(
        False, description="the callee's own calls get at most the time left of this one")
    retry: Retry | None = None
    circuit_breaker: CircuitBreaker | None = None
    bulkhead: Bulkhead | None = None
    hedge: Hedge | None = None
    on_failure: OnFailure = "fail"
    async_: bool = Field(False, alias="async")
    probability: Fraction = 1.0


class Parallel(Strict):
    wait_for: Literal["all", "any"] | Annotated[int, Field(ge=1)] = "all"
    calls: list[Call] = Field(min_length=1)

    @model_validator(mode="after")
    def _k_within_branches(self) -> Parallel:
        if isinstance(self.wait_for, int) and self.wait_for > len(self.calls):
            raise ValueError(f"wait_for {self.wait_for} is more than the "
                             f"{len(self.calls)} branches")
        return self


class ParallelStep(Strict):
    parallel: Parallel


def _step_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "parallel" if "parallel" in value else "call"
    return "parallel" if isinstance(value, ParallelStep) else "call"


Step = Annotated[
    Annotated[Call, Tag("call")] | Annotated[ParallelStep, Tag("parallel")],
    Discriminator(_step_kind),
]


class Operation(Strict):
    work: Distribution = ZERO
    post_work: Distribution = ZERO
    error_rate: Fraction = 0.0
    calls: list[Step] = Field(default_factory=list)


class Consumer(Strict):
    """A subscription of a queue: every message is delivered to `to`, at most
    `concurrency` deliveries in flight at once."""

    to: OperationRef
    concurrency: int = Field(1, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        return {"to": data} if isinstance(data, str) else data


class Component(Strict):
    kind: Kind = Kind.SERVICE
    replicas: int = Field(1, ge=1, le=100_000)
    workers: Annotated[int, Field(ge=1)] | Literal["unlimited"] | None = Field(
        None, description="requests one replica serves at once; default 1, "
        "unlimited for external and queue")
    queue: Annotated[int, Field(ge=0)] | None = Field(
        None, description="waiting requests per replica; omitted = unbounded")
    balancer: Balancer = Balancer.ROUND_ROBIN
    io: Literal["blocking", "nonblocking"] = Field(
        "blocking", description="blocking: a sync call holds the worker (thread per request); "
        "nonblocking: the worker is free while the operation waits on its calls, and "
        "post_work waits for a worker again (event-loop servers)")
    tech: str | None = Field(None, description="technology, e.g. postgres, redis, kafka")
    operations: dict[Name, Operation] = Field(default_factory=dict)
    hit_ratio: Fraction | None = Field(None, description="cache only: share of hits")
    backend: OperationRef | None = Field(None, description="cache only: called on a miss")
    capacity: Annotated[int, Field(ge=1)] | None = Field(
        None, description="queue only: messages buffered per subscription; omitted = unbounded")
    consumers: list[Consumer] = Field(default_factory=list, description="queue only")
    rate_limit: RateLimit | None = None
    load_shedding: LoadShedding | None = None
    connection_pool: ConnectionPool | None = Field(
        None, description="limits every calling replica's proxy enforces towards this component")
    outlier_detection: OutlierDetection | None = Field(
        None, description="callers stop sending to replicas that keep failing")
    health: Health | None = None

    @property
    def worker_limit(self) -> int | None:
        """Workers per replica, None for unlimited."""
        if self.workers == "unlimited":
            return None
        if self.workers is None:
            return None if self.kind in (Kind.EXTERNAL, Kind.QUEUE) else 1
        return self.workers

    @property
    def effective_operations(self) -> dict[str, Operation]:
        """A queue without operations accepts `publish`."""
        if not self.operations and self.kind is Kind.QUEUE:
            return {"publish": Operation()}
        return self.operations


class Defaults(Strict):
    network: Distribution = ZERO
    calls: CallDefaults | None = Field(None, description="settings every call inherits")


class ProfilePoint(Strict):
    at: Duration
    rate: NonNegativeRate
    ramp: Literal["step", "linear"] = Field(
        "step", description="step: the rate jumps at `at`; linear: it ramps from the previous "
        "point's rate to this one")


class Keys(Strict):
    """Request keys for hash balancing: `count` distinct keys, Zipf-skewed when `skew` > 0."""

    count: int = Field(ge=1)
    skew: float = Field(0.0, ge=0.0, description="Zipf exponent; 0 = uniform")


class Slo(Strict):
    """Latency percentiles (over successful requests) and an error rate that must not be
    exceeded; on a workload it is checked on that workload's requests alone."""

    mean: PositiveDuration | None = None
    p50: PositiveDuration | None = None
    p90: PositiveDuration | None = None
    p95: PositiveDuration | None = None
    p99: PositiveDuration | None = None
    p999: PositiveDuration | None = None
    error_rate: Fraction | None = None


class Workload(Strict):
    name: Name
    to: OperationRef
    rate: Rate | None = None
    arrivals: Literal["poisson", "constant"] = "poisson"
    profile: list[ProfilePoint] | None = Field(None, min_length=1)
    users: Annotated[int, Field(ge=1)] | None = None
    think: Distribution = ZERO
    keys: Keys | Annotated[int, Field(ge=1)] | None = None
    slo: Slo | None = Field(None, description="this workload's own objective: checked on its "
                            "requests alone, besides the system-wide `slo`")

    @model_validator(mode="after")
    def _one_source_of_traffic(self) -> Workload:
        if self.users is not None and (self.rate is not None or self.profile is not None):
            raise ValueError("give either 'users' (closed loop) or 'rate'/'profile' "
                             "(open loop), not both")
        if self.users is None and self.rate is None and self.profile is None:
            raise ValueError("a workload needs 'rate', 'profile' or 'users'")
        if self.profile is not None:
            times = [p.at for p in self.profile]
            if times != sorted(times):
                raise ValueError("profile points must be in time order")
        return self

    @property
    def key_space(self) -> Keys | None:
        return Keys(count=self.keys) if isinstance(self.keys, int) else self.keys


class LatencyChange(Strict):
    """How a fault changes work: add a distribution, or multiply by a factor."""

    add: Distribution | None = None
    multiply: float | None = Field(None, gt=0.0)


def _parse_latency_change(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("+"):
            return {"add": text[1:].strip()}
        if text[:1] in ("x", "×", "*"):
            try:
                return {"multiply": float(text[1:])}
            except ValueError:
                raise ValueError(f"not a factor: {value!r}; write e.g. 'x3'") from None
        return {"add": text}
    if isinstance(value, dict) and "dist" in value:
        return {"add": value}
    return value


class Pause(Strict):
    """A stop-the-world pause (like a GC): the replica makes no progress for `for` seconds,
    every `every` seconds."""

    every: PositiveDuration
    for_: PositiveDuration = Field(alias="for")

    @model_validator(mode="after")
    def _pauses_do_not_overlap(self) -> Pause:
        if self.for_ >= self.every:
            raise ValueError("a pause must be shorter than the time between pauses "
                             "('for' < 'every'); for a replica that stays hung use one long pause")
        return self


class RandomFailures(Strict):
    """Each replica fails after an exponential time with mean `mtbf` and comes back after an
    exponential time with mean `mttr`, independently."""

    mtbf: PositiveDuration
    mttr: PositiveDuration


class Partition(Strict):
    """No traffic between the target and `with` in either direction: calls across it time out
    (the packets are lost) or fail at once (`fail_fast`, the connection is refused)."""

    with_: str = Field(alias="with", pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$")
    mode: Literal["timeout", "fail_fast"] = "timeout"


FAULT_EFFECTS = ("latency", "error_rate", "crash", "network", "pause", "random_failures",
                 "partition")


class Fault(Strict):
    target: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*(\[\d+\])?$")]
    at: Duration = 0.0
    for_: PositiveDuration | None = Field(None, alias="for",
                                          description="how long; omitted = until the end")
    latency: Annotated[LatencyChange | None, WithJsonSchema({
        "anyOf": [{"type": "string", "description": "+2s adds, x3 multiplies, or a duration"},
                  {"type": "object"}, {"type": "null"}]})] = None
    error_rate: Fraction | None = None
    crash: bool = False
    network: Distribution | None = Field(
        None, description="added to every hop into and out of the target (e.g. packet loss "
        "as a mixture with a retransmission delay)")
    pause: Pause | None = None
    random_failures: RandomFailures | None = None
    partition: Partition | None = None

    @field_validator("latency", mode="before")
    @classmethod
    def _latency(cls, value: Any) -> Any:
        return _parse_latency_change(value)

    @model_validator(mode="after")
    def _has_an_effect(self) -> Fault:
        if not any(getattr(self, name) for name in FAULT_EFFECTS):
            raise ValueError("a fault needs at least one of " + ", ".join(
                f"'{name}'" for name in FAULT_EFFECTS))
        return self

    @property
    def component(self) -> str:
        return self.target.split("[", 1)[0]

    @property
    def replica(self) -> int | None:
        return int(self.target.split("[", 1)[1].rstrip("]")) if "[" in self.target else None


class Limits(Strict):
    """Safety limits: a run that passes one stops with exit code 3 and says which."""

    max_events: int = Field(500_000_000, ge=1000)
    max_queued: int = Field(1_000_000, ge=1, description="requests waiting in all queues")
    max_in_flight: int = Field(2_000_000, ge=1, description="requests in the system at once")
    drain: Duration = Field(60.0, description="after the window, how long in-flight requests "
                            "may take to finish before they count as unfinished")


class Simulation(Strict):
    duration: PositiveDuration = 60.0
    warmup: Duration = 0.0
    seed: int = Field(1, ge=0, lt=2**63)
    replications: int = Field(1, ge=1, le=10_000)
    interval: PositiveDuration = Field(1.0, description="time-series bucket width")
    traces: int = Field(20, ge=0, le=1000, description="sampled request traces kept per "
                        "workload and kind (typical, slowest, failed); 0 = none")
    limits: Limits = Field(default_factory=Limits)


class System(Strict):
    scalesim: Literal[1]
    name: Name
    description: str | None = None
    defaults: Defaults = Field(default_factory=Defaults)
    components: dict[Name, Component] = Field(min_length=1)
    workloads: list[Workload] = Field(min_length=1)
    faults: list[Fault] = Field(default_factory=list)
    slo: Slo | None = None
    simulation: Simulation = Field(default_factory=Simulation)

    def effective(self, call: Call) -> Call:
        """The call with `defaults.calls` filled in where it sets nothing itself (an async
        call waits for nothing, so it inherits nothing)."""
        defaults = self.defaults.calls
        if defaults is None or call.async_:
            return call
        inherited = {name: getattr(defaults, name)
                     for name in ("timeout", "retry", "circuit_breaker", "bulkhead")
                     if getattr(call, name) is None and getattr(defaults, name) is not None}
        return call.model_copy(update=inherited) if inherited else call

    def resolve(self, ref: str) -> tuple[str, str]:
        """'orders' or 'orders.create' -> (component, operation); the first op is the default.
        Assumes the reference was checked (see `scalesim.spec.checks`)."""
        component, _, operation = ref.partition(".")
        return component, operation or next(iter(self.components[component]
                                                 .effective_operations))

