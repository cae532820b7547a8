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

from scalesim.spec import bounds
from scalesim.spec.consistency import Caching, LeaderElection, Replication
from scalesim.spec.control import Autoscale, Cluster, Rollout, Version
from scalesim.spec.data import (
    Consumer,
    ConsumerGroup,
    Delivery,
    EventStore,
    OperationRef,
    Outbox,
)
from scalesim.spec.dists import ZERO, AnyDistribution, Distribution
from scalesim.spec.errors import FieldProblems, Path, counted
from scalesim.spec.resilience import (
    CAUSES,
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
    Count,
    Duration,
    Flag,
    FormatVersion,
    Fraction,
    Name,
    NonNegativeRate,
    Number,
    PositiveDuration,
    Rate,
    Strict,
    refuse_unused,
)

BASE_VERSION = "base"  # the version a component's own fields describe


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
    propagate_deadline: Flag = Field(
        False, description="the callee's own calls get at most the time left of this one")
    retry: Retry | None = None
    circuit_breaker: CircuitBreaker | None = None
    bulkhead: Bulkhead | None = None
    hedge: Hedge | None = None
    on_failure: OnFailure = "fail"
    async_: Flag = Field(False, alias="async")
    probability: Fraction = 1.0
    outbox: Outbox | None = Field(
        None, description="publish to a queue through a transactional outbox and its relay")

    @property
    def repeated(self) -> bool:
        """Whether one call can send more than one attempt: a retry of 2+ tries, a hedge."""
        return self.hedge is not None or (self.retry is not None and self.retry.attempts > 1)

    def as_seen(self) -> Call:
        """The call as static analysis sees it: a publish through an outbox waits for
        nothing, like an async call."""
        return self.model_copy(update={"async_": True}) if self.outbox is not None else self


class Parallel(Strict):
    wait_for: Literal["all", "any"] | Annotated[Count, Field(ge=1)] = "all"
    calls: list[Call] = Field(min_length=1, max_length=bounds.MAX_BRANCHES)

    @model_validator(mode="after")
    def _k_within_branches(self) -> Parallel:
        if isinstance(self.wait_for, int) and self.wait_for > len(self.calls):
            raise ValueError(f"wait_for {self.wait_for} is more than the "
                             f"{counted(len(self.calls), 'branch', 'branches')}")
        return self


class ParallelStep(Strict):
    parallel: Parallel


# A call's fields a saga step refuses: it is a plain call, awaited and always made.
NOT_IN_SAGA_STEPS = ("async", "probability", "on_failure", "outbox")


class SagaStep(Call):
    """One local transaction of a saga: a call, and the call that undoes it. Steps before
    the pivot are compensatable, the pivot is the go/no-go step, steps after it are
    retriable: they never compensate (microservices.io, Richardson)."""

    name: Name | None = Field(None, description="for results and traces; default the "
                              "operation's name")
    compensate: Call | None = Field(None, description="the call that semantically undoes "
                                    "this step, run in reverse order when a later step fails")
    pivot: bool = False

    @model_validator(mode="before")
    @classmethod
    def _compensate_from_string(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("compensate"), str):
            return {**data, "compensate": {"to": data["compensate"]}}
        return data

    @property
    def label(self) -> str:
        return self.name or self.to.rpartition(".")[2]

    def unplain_fields(self) -> list[str]:
        """The fields, as written, that make this step more than a plain call."""
        unplain = {"async": self.async_, "probability": self.probability < 1.0,
                   "on_failure": self.on_failure != "fail", "outbox": self.outbox is not None}
        return [name for name in NOT_IN_SAGA_STEPS if unplain[name]]

    def as_call(self) -> Call:
        """The step's forward call alone (its values are already validated)."""
        fields = set(Call.model_fields) & self.model_fields_set
        return Call.model_construct(fields, **{name: getattr(self, name)
                                               for name in Call.model_fields})


class Saga(Strict):
    """An ordered series of local transactions with compensations (a saga), coordinated by
    the operation that holds it (orchestration: Temporal, AWS Step Functions) or by events
    through a queue (choreography)."""

    coordination: Literal["orchestration", "choreography"] = "orchestration"
    via: Name | None = Field(None, description="choreography: the queue component that "
                             "carries the events between the steps")
    policy: Literal["temporal", "step_functions", "none"] = Field(
        "temporal", description="retries of steps and compensations that set none: Temporal's "
        "activity default (1 s doubling to 100 s, unlimited attempts, capped at 100 here) or "
        "Step Functions' retrier defaults (1 s, 2 s, 4 s: 3 retries)")
    transition: Distribution = Field(
        ZERO, description="orchestration: the coordinator's time to record a step's outcome "
        "and schedule the next")
    steps: list[SagaStep] = Field(min_length=1)

    @model_validator(mode="after")
    def _steps_are_plain_calls(self) -> Saga:
        """Every problem at once, each at the field to change (the saga's own at the saga)."""
        problems: list[tuple[Path, str]] = []
        pivots = [i for i, step in enumerate(self.steps) if step.pivot]
        if len(pivots) > 1:
            problems.append(((), "a saga has at most one pivot step"))
        for index, step in enumerate(self.steps):
            where = f"step {index} ({step.label})"
            problems += [(("steps", index, name), f"{where}: a saga step is a plain call: "
                          f"remove '{name}' (a step takes no 'async', 'probability', "
                          "'on_failure' or 'outbox')") for name in step.unplain_fields()]
            if pivots and index > pivots[0] and step.compensate is not None:
                problems.append((("steps", index, "compensate"), f"{where} comes after the "
                                 "pivot, so it is retriable and never compensated: remove its "
                                 "'compensate' or move the pivot"))
        if (self.coordination == "choreography") != (self.via is not None):
            problems.append(((), "a choreographed saga needs 'via', the queue that carries its "
                             "events; an orchestrated one has none (its coordinator calls "
                             "each step)"))
        if problems:
            raise FieldProblems(problems)
        return self

    @property
    def pivot(self) -> int:
        """Index of the pivot step; without one every step is compensatable."""
        return next((i for i, step in enumerate(self.steps) if step.pivot), len(self.steps))

    def with_policy(self, call: Call) -> Call:
        """The call with the saga's retry policy when it sets no retry of its own."""
        retry = SAGA_POLICIES[self.policy]
        if call.retry is not None or retry is None:
            return call
        return call.model_copy(update={"retry": retry})

    def calls(self, compensations: bool = False) -> list[Call]:
        """Each step's call (then its compensation, if asked), with the saga's retry policy;
        in choreography they are events through the queue, so nobody waits on them."""
        return [self._as_event(call) for call in self.written_calls(compensations)]

    def written_calls(self, compensations: bool = False) -> list[Call]:
        """As `calls`, with a choreographed step's own timeout, retry and breaker: what
        times out and redelivers its event (docs/data.md)."""
        out = []
        for step in self.steps:
            out.append(self.with_policy(step.as_call()))
            if compensations and step.compensate is not None:
                out.append(self.with_policy(step.compensate))
        return out

    def _as_event(self, call: Call) -> Call:
        if self.coordination == "orchestration":
            return call
        return call.model_copy(update={"async_": True, "timeout": None, "retry": None,
                                       "circuit_breaker": None, "bulkhead": None,
                                       "deadline": None, "hedge": None})


ALL_CAUSES: list[Any] = list(CAUSES)
# Temporal's default activity RetryPolicy: 1 s, doubling, at most 100 s, unlimited attempts
# (100 here); AWS Step Functions' retrier: IntervalSeconds 1, BackoffRate 2, MaxAttempts 3
# retries, no cap, no jitter. The back-off waits min(max, base·2ⁿ) before retry n, so base is
# half the first interval.
SAGA_POLICIES: dict[str, Retry | None] = {
    "temporal": Retry.model_validate({"attempts": 100, "backoff": "exponential", "base": "500ms",
                                      "max": "100s", "jitter": "none", "on": ALL_CAUSES}),
    "step_functions": Retry.model_validate({"attempts": 4, "backoff": "exponential",
                                            "base": "500ms", "max": "1h", "jitter": "none",
                                            "on": ALL_CAUSES}),
    "none": None,
}


class SagaBlock(Strict):
    saga: Saga


def _step_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "parallel" if "parallel" in value else "saga" if "saga" in value else "call"
    return ("parallel" if isinstance(value, ParallelStep)
            else "saga" if isinstance(value, SagaBlock) else "call")


Step = Annotated[
    Annotated[Call, Tag("call")] | Annotated[ParallelStep, Tag("parallel")]
    | Annotated[SagaBlock, Tag("saga")],
    Discriminator(_step_kind),
]


def plain_steps(steps: list[Call | ParallelStep | SagaBlock],
                compensations: bool = False) -> list[Call | ParallelStep]:
    """The steps as calls and parallel groups, each saga replaced by its steps' calls in
    order (and their compensations, if asked): what static estimates and generators see."""
    out: list[Call | ParallelStep] = []
    for step in steps:
        if isinstance(step, SagaBlock):
            out += step.saga.calls(compensations)
        elif isinstance(step, Call):
            out.append(step.as_seen())
        else:
            out.append(step.model_copy(update={"parallel": step.parallel.model_copy(
                update={"calls": [call.as_seen() for call in step.parallel.calls]})}))
    return out


class Operation(Strict):
    work: Distribution = Field(ZERO, description="CPU time before the calls: the shorthand "
                               "of `cpu`, give one or the other")
    cpu: Distribution | None = Field(None, description="CPU demand before the calls: it "
                                     "consumes the replica's `cores`")
    wait: Distribution = Field(ZERO, description="time waited before the calls that uses no "
                               "CPU: a round trip to something outside the model, a sleep")
    post_work: Distribution = Field(ZERO, description="CPU time after the calls")
    error_rate: Fraction = 0.0
    calls: list[Step] = Field(default_factory=list, max_length=bounds.MAX_STEPS)
    idempotent: Flag = Field(
        True, description="false: running it twice does harm (a payment, an order), so a "
        "retry or hedge of a call to it may duplicate the effect; `scalesim lint` flags those")

    @model_validator(mode="after")
    def _cpu_or_work(self) -> Operation:
        if self.cpu is not None and "work" in self.model_fields_set:
            raise ValueError("give 'cpu' or its shorthand 'work', not both")
        return self

    @property
    def demand(self) -> AnyDistribution:
        """The CPU demand before the calls: `cpu`, or `work` when `cpu` is not given."""
        return self.cpu if self.cpu is not None else self.work


class Overhead(Strict):
    """CPU a runtime spends besides the operations' own: parsing, routing and answering a
    request (HTTP, JSON, tracing), and the client library's work for each call it makes."""

    request: Distribution | None = Field(None, description="per request served; default "
                                         "`defaults.overhead.request`, else 0")
    call: Distribution | None = Field(None, description="per call made (a parallel step pays "
                                      "one per branch); default `defaults.overhead.call`, "
                                      "else 0")


class Component(Strict):
    kind: Kind = Kind.SERVICE
    replicas: Count = Field(1, ge=0, le=100_000, description="at the start; 0 only with "
                            "autoscale.min 0")
    workers: Annotated[Count, Field(ge=1, le=bounds.MAX_WORKERS)] | Literal["unlimited"] | None \
        = Field(None, description="requests one replica serves at once; default 1, "
        "unlimited for external and queue")
    queue: Annotated[Count, Field(ge=0, le=bounds.MAX_QUEUE)] | None = Field(
        None, description="waiting requests per replica; omitted = unbounded")
    balancer: Balancer = Balancer.ROUND_ROBIN
    io: Literal["blocking", "nonblocking"] = Field(
        "blocking", description="blocking: a sync call holds the worker (thread per request); "
        "nonblocking: the worker is free while the operation waits on its calls, and "
        "post_work waits for a worker again (event-loop servers)")
    cores: Annotated[Number, Field(gt=0.0, le=bounds.MAX_CORES)] | Literal["unlimited"] | None \
        = Field(None, description="CPU cores of one replica, shared by the requests "
                "computing on it (processor sharing); default unlimited: CPU time never waits")
    event_loop: Flag = Field(False, description="the replica runs its CPU work on one thread, "
                             "one burst at a time in turn (asyncio, Node.js): at most 1 core")
    overhead: Overhead | None = Field(None, description="the runtime's CPU per request and "
                                      "per call; default `defaults.overhead`")
    tech: str | None = Field(None, description="technology, e.g. postgres, redis, kafka")
    operations: dict[Name, Operation] = Field(default_factory=dict,
                                               max_length=bounds.MAX_OPERATIONS)
    hit_ratio: Fraction | None = Field(None, description="cache only: share of hits (the "
                                       "simple form; or `caching` for TTLs and strategies)")
    backend: OperationRef | None = Field(None, description="cache only: called on a miss")
    caching: Caching | None = Field(None, description="cache only: entries per key with a "
                                    "TTL, write policies, refresh-ahead, stampede protection")
    replication: Replication | None = Field(None, description="copies of the data: "
                                            "leader–follower, raft or leaderless quorums")
    leader_election: LeaderElection | None = Field(None, description="which replica leads, "
                                                   "and how the next one takes over")
    capacity: Annotated[Count, Field(ge=1, le=bounds.MAX_QUEUE)] | None = Field(
        None, description="queue only: messages buffered per subscription; omitted = unbounded")
    consumers: list[Consumer] = Field(default_factory=list, max_length=bounds.MAX_BRANCHES,
                                      description="queue only")
    partitions: Annotated[int, Field(ge=1, le=10_000)] | None = Field(
        None, description="queue only: a Kafka topic with this many partitions, keyed by the "
        "publishing request's key; each subscription is a consumer group")
    delivery: Delivery | None = Field(None, description="queue only: acknowledgement, "
                                      "redelivery and dead letters")
    group: ConsumerGroup | None = Field(None, description="queue with partitions only: "
                                        "consumer-group membership and rebalancing")
    event_store: EventStore | None = Field(None, description="an event store: streams, "
                                           "snapshots, optimistic concurrency, projections")
    rate_limit: RateLimit | None = None
    load_shedding: LoadShedding | None = None
    connection_pool: ConnectionPool | None = Field(
        None, description="limits every calling replica's proxy enforces towards this component")
    outlier_detection: OutlierDetection | None = Field(
        None, description="callers stop sending to replicas that keep failing")
    health: Health | None = None
    startup: Distribution = Field(ZERO, description="scheduling, image pull and boot: a new "
                                  "replica takes no traffic before it is up")
    autoscale: Autoscale | None = None
    versions: dict[Name, Version] = Field(default_factory=dict)
    rollout: Rollout | None = None
    cost_per_replica_hour: float | None = Field(None, ge=0.0, description="$ per "
                                                "replica-hour, for the cost of the fleet")

    @model_validator(mode="after")
    def _control(self) -> Component:
        if BASE_VERSION in self.versions:
            raise ValueError(f"'{BASE_VERSION}' names the component's own definition; give "
                             "the new version another name")
        if self.rollout is not None and self.rollout.to not in self.versions:
            raise ValueError(f"rollout to '{self.rollout.to}', but 'versions' has "
                             f"{', '.join(self.versions) or 'none'}")
        return self

    @model_validator(mode="after")
    def _commits_of_a_topic(self) -> Component:
        """Only a Kafka topic's group members commit offsets; a queue without partitions
        acknowledges each message, so the simulator never reads `commit_interval` there."""
        if self.kind is Kind.QUEUE and self.partitions is None and self.delivery is not None:
            refuse_unused(self.delivery, {"commit_interval"}, "to a queue without "
                          "'partitions', which acknowledges each message on its own",
                          "to a Kafka topic (a queue with 'partitions'), whose consumers "
                          "commit offsets", at=("delivery",))
        return self

    @model_validator(mode="after")
    def _one_loop_one_core(self) -> Component:
        if self.event_loop and isinstance(self.cores, float) and self.cores > 1.0:
            raise ValueError("an event loop computes on one core at a time: give 'cores' of at "
                             "most 1, or model each process as a replica")
        return self

    @property
    def core_limit(self) -> float | None:
        """Cores one replica computes on, None for unlimited (no CPU model): an event loop
        has one unless fewer are given."""
        cores = None if self.cores in (None, "unlimited") else float(self.cores)
        if self.event_loop:
            return 1.0 if cores is None else cores
        return cores

    @property
    def worker_limit(self) -> int | None:
        """Workers per replica, None for unlimited."""
        if self.workers == "unlimited":
            return None
        if self.workers is None:
            return None if self.kind in (Kind.EXTERNAL, Kind.QUEUE) else 1
        return self.workers

    @property
    def most_replicas(self) -> int:
        """The replicas it can serve with: an autoscaler's maximum (what it can reach), else
        its replicas."""
        return self.autoscale.max if self.autoscale else self.replicas

    @property
    def synced_replicas(self) -> int:
        """The replicas it runs with from 0 s: its autoscaler's first sync (at 0 s) takes
        `replicas` outside [min, max] there at once (docs/control.md), else its replicas."""
        if self.autoscale is None:
            return self.replicas
        return max(self.autoscale.min, min(self.autoscale.max, self.replicas))

    @property
    def effective_operations(self) -> dict[str, Operation]:
        """A queue without operations accepts `publish`."""
        if not self.operations and self.kind is Kind.QUEUE:
            return {"publish": Operation()}
        return self.operations


class Defaults(Strict):
    network: Distribution = ZERO
    overhead: Overhead | None = Field(None, description="the runtime's CPU per request and "
                                      "per call, for components that set none")
    calls: CallDefaults | None = Field(None, description="settings every call inherits")


class ProfilePoint(Strict):
    at: Duration
    rate: NonNegativeRate
    ramp: Literal["step", "linear"] = Field(
        "step", description="step: the rate jumps at `at`; linear: it ramps from the previous "
        "point's rate to this one")


class Keys(Strict):
    """Request keys for hash balancing: `count` distinct keys, Zipf-skewed when `skew` > 0."""

    count: Count = Field(ge=1, le=bounds.MAX_KEYS)
    skew: Number = Field(0.0, ge=0.0, le=bounds.MAX_FACTOR,
                         description="Zipf exponent; 0 = uniform")


def slo_target_label(workload: str | None, target: str) -> str:
    """How a target is named in a verdict: 'p99' for the system-wide SLO, 'shoppers p99' for
    a workload's own, so that a reader knows which promise a miss breaks."""
    return target if workload is None else f"{workload} {target}"


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
    profile: list[ProfilePoint] | None = Field(None, min_length=1,
                                               max_length=bounds.MAX_PROFILE_POINTS)
    users: Annotated[Count, Field(ge=1, le=bounds.MAX_USERS)] | None = None
    think: Distribution = ZERO
    keys: Keys | Annotated[Count, Field(ge=1, le=bounds.MAX_KEYS)] | None = None
    slo: Slo | None = Field(None, description="this workload's own objective: checked on its "
                            "requests alone, besides the system-wide `slo`")
    preview: bool = Field(False, description="a client of the target's blue-green preview "
                          "Service (Argo Rollouts' previewService), such as a smoke test: "
                          "once a rollout starts, its requests go to the new version before "
                          "the switch; otherwise to the active one")

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
    multiply: Number | None = Field(None, gt=0.0, le=bounds.MAX_FACTOR)


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
    target: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*(\[[0-9]{1,6}\])?$")]
    at: Duration = 0.0
    for_: PositiveDuration | None = Field(None, alias="for",
                                          description="how long; omitted = until the end")
    latency: Annotated[LatencyChange | None, WithJsonSchema({
        "anyOf": [{"type": "string", "description": "+2s adds, x3 multiplies, or a duration"},
                  {"type": "object"}, {"type": "null"}]})] = None
    error_rate: Fraction | None = None
    crash: Flag = False
    graceful: Flag = Field(False, description="with crash: the process is stopped (SIGTERM) "
                           "rather than killed, so a lease holder with release_on_cancel "
                           "releases its lease first")
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
        if self.graceful and not self.crash:
            raise ValueError("'graceful' says how a crash stops the process: add 'crash: true'")
        return self

    @property
    def component(self) -> str:
        return self.target.split("[", 1)[0]

    @property
    def replica(self) -> int | None:
        return int(self.target.split("[", 1)[1].rstrip("]")) if "[" in self.target else None


class Limits(Strict):
    """Safety limits: a run that passes one stops with exit code 3 and says which."""

    max_events: Count = Field(500_000_000, ge=1000, le=10**12)
    max_queued: Count = Field(1_000_000, ge=1, le=10**9, description="requests waiting in "
                              "all queues and messages buffered in queue components")
    max_in_flight: Count = Field(1_000_000, ge=1, le=10**9, description="visits in the "
                                 "system at once: requests, calls (every attempt and branch) "
                                 "and queue deliveries")
    drain: Duration = Field(60.0, description="after the window, how long in-flight requests "
                            "may take to finish before they count as unfinished")


class Simulation(Strict):
    duration: PositiveDuration = 60.0
    warmup: Duration = 0.0
    seed: Count = Field(1, ge=0, lt=2**63)
    replications: Count = Field(1, ge=1, le=10_000)
    interval: PositiveDuration = Field(1.0, description="time-series bucket width")
    traces: Count = Field(20, ge=0, le=1000, description="sampled request traces kept per "
                        "workload and kind (typical, slowest, failed); 0 = none")
    limits: Limits = Field(default_factory=Limits)


class System(Strict):
    scalesim: FormatVersion
    name: Name
    description: str | None = None
    defaults: Defaults = Field(default_factory=Defaults)
    components: dict[Name, Component] = Field(min_length=1, max_length=bounds.MAX_COMPONENTS)
    workloads: list[Workload] = Field(min_length=1, max_length=bounds.MAX_WORKLOADS)
    faults: list[Fault] = Field(default_factory=list, max_length=bounds.MAX_FAULTS)
    slo: Slo | None = None
    cluster: Cluster | None = None
    simulation: Simulation = Field(default_factory=Simulation)

    def effective(self, call: Call) -> Call:
        """The call with `defaults.calls` filled in where it sets nothing itself (an async
        call, or a publish through an outbox, waits for nothing, so it inherits nothing)."""
        defaults = self.defaults.calls
        if defaults is None or call.async_ or call.outbox is not None:
            return call
        inherited = {name: getattr(defaults, name)
                     for name in ("timeout", "retry", "circuit_breaker", "bulkhead")
                     if getattr(call, name) is None and getattr(defaults, name) is not None}
        return call.model_copy(update=inherited) if inherited else call

    def overhead(self, component: str) -> tuple[AnyDistribution, AnyDistribution]:
        """The runtime's CPU (per request served, per call made) of a component: its own
        `overhead`, else `defaults.overhead`, field by field, else none."""
        own, default = self.components[component].overhead, self.defaults.overhead
        found = []
        for name in ("request", "call"):
            value = getattr(own, name) if own is not None else None
            if value is None and default is not None:
                value = getattr(default, name)
            found.append(ZERO if value is None else value)
        return found[0], found[1]

    def slo_scopes(self, slo: Slo | None = None) -> list[tuple[str | None, Slo]]:
        """The SLOs a run is judged by, each with the workload it is about: the system-wide
        one on all requests (None; `slo` in its place when given) and each workload's own on
        that workload's requests alone. `simulate` and `estimate` both read them here, so that
        they judge the same targets."""
        system_slo = self.slo if slo is None else slo
        scopes: list[tuple[str | None, Slo]] = [] if system_slo is None else [(None, system_slo)]
        return scopes + [(w.name, w.slo) for w in self.workloads if w.slo is not None]

    def preview_targets(self) -> set[str]:
        """The components a `preview: true` workload aims at (their preview's clients)."""
        return {self.resolve(w.to)[0] for w in self.workloads if w.preview}

    def resolve(self, ref: str) -> tuple[str, str]:
        """'orders' or 'orders.create' -> (component, operation); the first op is the default.
        Assumes the reference was checked (see `scalesim.spec.checks`)."""
        component, _, operation = ref.partition(".")
        return component, operation or next(iter(self.components[component]
                                                 .effective_operations))

