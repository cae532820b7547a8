"""The runtime plan: plain objects with slots that the kernel reads in its hot path.

Nothing here knows about pydantic or YAML; `compile.py` builds these from a `System`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from librt.vecs import vec
from mypy_extensions import i64, mypyc_attr

from scalesim.sim.cpu import Processor
from scalesim.sim.mechanisms.arrivals import Arrivals
from scalesim.sim.mechanisms.backoff import Backoff
from scalesim.sim.mechanisms.balancer import Balancer
from scalesim.sim.mechanisms.bulkhead import Gate
from scalesim.sim.mechanisms.circuit_breaker import BreakerSettings, CircuitBreaker
from scalesim.sim.mechanisms.latency_tracker import LatencyTracker
from scalesim.sim.mechanisms.outlier import OutlierDetector
from scalesim.sim.mechanisms.rate_limit import SlidingWindow, TokenBucket
from scalesim.sim.mechanisms.retry_budget import BudgetSettings, RetryBudget
from scalesim.sim.mechanisms.shedding import CoDel, MaxWait
from scalesim.sim.metrics import Histogram
from scalesim.sim.random import Sampler
from scalesim.sim.ring import Ring
from scalesim.sim.rows import Rows
from scalesim.spec.resilience import CAUSES

if TYPE_CHECKING:
    from scalesim.sim.kernel import Kernel

# Outcome causes: 0 is success, then the spec's causes in order, then one for the result only.
# A cause's number is also its bit in a retry's `on` mask. The constants are Final, so the
# compiled kernel inlines them (tests/kernel/test_agenda.py checks them against CAUSE_NAMES).
CAUSE_NAMES: Final = ("ok", *CAUSES, "unfinished")
OK: Final = 0
TIMEOUT: Final = 1
REJECTED: Final = 2
ERROR: Final = 3
CIRCUIT_OPEN: Final = 4
CRASHED: Final = 5
BULKHEAD_FULL: Final = 6
OVERFLOW: Final = 7
RATE_LIMITED: Final = 8
SHED: Final = 9
UNAVAILABLE: Final = 10
UNFINISHED: Final = 11
FAIL: Final = 0
CONTINUE: Final = 1
FALLBACK: Final = 2
UNLIMITED: Final = 1 << 62
TRAFFIC_COUNTS: Final = 7  # the rates of a call's traffic series (CallPlan.close_interval)
NEVER: Final = math.inf  # a time that does not come: no expiry, no acknowledgement
Limiter = TokenBucket | SlidingWindow


class Replica:
    __slots__ = (
        "busy",
        "busy_s",
        "cpu",
        "crashed",
        "down_random",
        "ejected",
        "err_extra",
        "faults",
        "index",
        "inflight",
        "live_fail",
        "ops",
        "pause_started",
        "paused",
        "probe_full",
        "probe_hold",
        "probe_served",
        "probe_t",
        "processor",
        "queue",
        "ready",
        "ready_fail",
        "ready_ok",
        "restarting",
        "restarts",
        "retired",
        "routable",
        "served",
        "shedder",
        "slow",
        "stall_total",
        "started",
        "up",
        "version",
        "work_add",
        "work_mul",
    )

    def __init__(self, index: int, track: bool) -> None:
        # Compiled, the fields lie in the order they are first set here: what every visit
        # reads or writes (placing, starting, releasing, finishing) comes first, so that a
        # replica met again after thousands of other events costs two cache lines, not four.
        self.index = index
        self.busy: i64 = 0
        # Worker-seconds held here, less `busy` × now: a worker taken subtracts the time, one
        # given back adds it, so busy_s + busy × t is the worker-time held up to t, exact,
        # with one addition per visit where an integral would multiply (`held_until`).
        self.busy_s = 0.0
        self.queue: Ring[Frame] = Ring()  # requests waiting for a worker, first come first
        self.up = True  # not crashed, not failed at random, not restarting
        self.routable = True  # balancers may pick it: ready and not ejected
        self.slow = False  # a latency fault is active
        self.paused = False
        self.ops: dict[str, Op] | None = None  # its version's operations; None: the spec's
        self.inflight: set[Frame] | None = set() if track else None
        self.err_extra = 0.0
        self.shedder: MaxWait | CoDel | None = None
        self.processor: Processor | None = None  # its cores (sim/cpu.py); None: unlimited
        # Read by controllers (sim/control), per sync period, never per request:
        self.cpu = 0.0  # CPU seconds of the bursts started here (work, post_work, overhead)
        self.served = 0  # visits finished here
        self.crashed = False  # by a crash fault
        self.down_random = False  # by a random failure
        self.restarting = False  # killed by its liveness probe, not back yet
        self.ready = True  # its readiness probe passes
        self.ejected = False  # by outlier detection
        self.work_mul = 1.0
        self.work_add: Sampler | None = None
        self.faults: list[int] = []  # indices of active faults
        self.pause_started = 0.0
        self.stall_total = 0.0  # seconds paused before the current pause
        self.ready_fail = 0
        self.ready_ok = 0
        self.live_fail = 0
        self.restarts = 0
        self.started = 0.0  # last (re)start, for the CrashLoopBackOff reset
        self.version = 0  # index of the component version it runs (0: the spec's own)
        self.retired = False  # taken out of the replica set: no probes, faults or traffic
        # What its last probe saw, for the next (`Kernel._measured_hold`): when, `served`
        # then, whether every worker was busy, and the mean hold measured over the period
        # before it (0 = not measured: the workers were not busy throughout).
        self.probe_t = 0.0
        self.probe_served = 0
        self.probe_full = False
        self.probe_hold = 0.0

    def held_until(self, now: float) -> float:
        """Worker-seconds its visits have held here up to `now`."""
        return self.busy_s + float(self.busy) * now

    def stalled(self, now: float) -> float:
        """Seconds this replica has been paused so far."""
        return self.stall_total + (now - self.pause_started if self.paused else 0.0)

    @property
    def queued(self) -> i64:
        """Requests waiting for a worker."""
        return self.queue.size


def tally(counts: list[int], index: int) -> None:
    """Add one to counts[index]. Compiled, this spelling is a native integer addition; the
    augmented `counts[index] += 1` is a generic Python number call."""
    counts[index] = counts[index] + 1


class Outcomes:
    """Outcomes counted by cause (an outcome's number, as in CAUSE_NAMES): successes, nearly
    all of them, in a native integer, the rest in a list. In a list, every count past 256 is
    a new Python int, allocated as the old one is freed: 7 % of the kernel's instructions."""

    __slots__ = ("failures", "ok")

    def __init__(self) -> None:
        self.ok: i64 = 0
        self.failures = [0] * len(CAUSE_NAMES)  # failures[OK] stays 0

    def count(self, cause: int) -> None:
        if cause == OK:
            self.ok += 1
        else:
            tally(self.failures, cause)

    @property
    def by_cause(self) -> list[int]:
        """Every count, indexed by cause (a new list)."""
        counts = list(self.failures)
        counts[OK] = self.ok
        return counts

    def clear_outcomes(self) -> None:
        self.ok = 0
        self.failures = [0] * len(CAUSE_NAMES)


NOWHERE: Final = Replica(-1, False)  # where a frame is before a balancer placed it


class HealthPlan:
    """Probe settings of a component (Kubernetes semantics)."""

    __slots__ = (
        "live_delay",
        "live_period",
        "live_threshold",
        "live_timeout",
        "ready_delay",
        "ready_period",
        "ready_success",
        "ready_threshold",
        "ready_timeout",
        "restart_delay",
    )

    def __init__(self) -> None:
        self.ready_period = 0.0  # 0 = no readiness probe
        self.ready_timeout = 1.0
        self.ready_threshold = 3
        self.ready_success = 1
        self.ready_delay = 0.0
        self.live_period = 0.0  # 0 = no liveness probe
        self.live_timeout = 1.0
        self.live_threshold = 3
        self.live_delay = 0.0
        self.restart_delay = 10.0


class Lane:
    """The replicas of one version behind a traffic split (a mesh's weighted route): the
    share of requests sent here, and the balancer that spreads them over `live`."""

    __slots__ = ("balancer", "live", "weight")

    def __init__(self, live: list[Replica], balancer: Balancer) -> None:
        self.live = live
        self.balancer = balancer
        self.weight = 0.0


class Comp:
    __slots__ = ("area", "balancer", "blocking", "busy", "busy_snap", "by_cause", "capacity",
                 "coin", "cpu", "failed", "health", "held_before", "index", "kind", "lane_coin",
                 "lanes", "last", "limit_mode", "limiter_factory", "limiters", "live",
                 "mean_work", "name", "net", "ok", "ops", "outlier", "pool_limit", "pool_queue",
                 "pools", "preview", "q_snap", "qarea", "qcap", "qlast", "qlen", "qmax",
                 "qstart", "rejected", "rejected_snap", "replicas", "series", "visits_snap",
                 "watcher", "workers")

    def __init__(self, name: str, kind: str, replicas: list[Replica], workers: int, qcap: int,
                 balancer: Balancer, net: Sampler | None, coin: Sampler,
                 blocking: bool = True) -> None:
        self.name = name
        self.kind = kind
        self.index = 0
        self.blocking = blocking  # False: the worker is free while the operation waits on calls
        self.replicas = replicas  # every replica it ever had, by index
        self.live = replicas  # those in rotation, which the balancer picks from; a
        # component whose replica set changes (sim/control) gets a list of its own
        self.lanes: list[Lane] | None = None  # a traffic split by version, when one is set
        self.lane_coin: Sampler | None = None
        # Where preview clients' requests go while the split is set: the new version's lane
        # (a blue-green rollout's preview Service); None: where everyone's go.
        self.preview: Lane | None = None
        self.watcher: Callable[[Replica, str], None] | None = None  # told of health events
        self.workers = workers
        self.capacity = workers * len(replicas) if workers < UNLIMITED else 0
        self.qcap = qcap  # -1 = unbounded
        self.balancer = balancer
        self.net = net  # one-way latency of a hop into this component
        self.coin = coin  # error coin flips
        self.ops: dict[str, Op] = {}
        self.mean_work = 0.0  # mean work of its operations, for probe timing
        self.busy = 0  # occupied workers, all replicas
        self.area = 0.0  # ∫ busy dt
        self.last = 0.0
        self.qlen = 0
        self.qarea = 0.0
        self.qlast = 0.0
        self.qmax = 0
        self.qstart = 0  # requests waiting when the window opened
        self.cpu = 0.0  # CPU seconds of work, post_work and overheads
        self.ok = 0
        self.failed = 0
        self.rejected = 0  # refused at the door: full queue, limiter, shedding, overflow
        self.rejected_snap = 0
        self.by_cause = [0] * len(CAUSE_NAMES)  # refusals by cause
        # Admission: rate limiters, one for the component or keyed by replica and/or workload.
        self.limit_mode = 0  # 0 = none; bit 1: one per replica; bit 2: one per workload
        self.limiter_factory: Callable[[], Limiter] | None = None
        self.limiters: dict[int, Limiter] = {}
        # Envoy connection pool each calling replica keeps towards this component.
        self.pool_limit = 0  # 0 = no pool limits
        self.pool_queue = 0
        self.pools: dict[int, Gate] = {}
        self.outlier: OutlierDetector | None = None
        self.health: HealthPlan | None = None
        # per interval: end time, utilization (or concurrency if unlimited), queue, visits/s,
        # refusals/s
        self.series = Rows(5)
        self.busy_snap = 0.0
        self.q_snap = 0.0
        self.visits_snap = 0
        # Worker-seconds each replica's visits had held when the window opened.
        self.held_before: list[float] = []

    def held_in_window(self, now: float) -> list[float]:
        """Worker-seconds each replica's visits held from the window's opening to `now` (one
        that joined later: all of its)."""
        before = self.held_before
        return [rep.held_until(now) - (before[i] if i < len(before) else 0.0)
                for i, rep in enumerate(self.replicas)]


    def settle(self, now: float) -> None:
        """Bring the time integrals of busy workers and queue length up to `now` (the hot
        path does the same inline, for the one integral it changes)."""
        self.area += self.busy * (now - self.last)
        self.last = now
        self.qarea += self.qlen * (now - self.qlast)
        self.qlast = now


class Op(Outcomes):
    __slots__ = ("call_overhead", "comp", "error_rate", "hist", "modelled", "name",
                 "overhead", "placement", "post", "steps", "subs", "variants", "wait", "work")

    def __init__(self, comp: Comp, name: str, work: Sampler | None, post: Sampler | None,
                 error_rate: float) -> None:
        super().__init__()
        self.comp = comp
        self.name = name
        self.work = work
        self.post = post
        self.error_rate = error_rate
        self.steps: list[CallPlan | ParPlan | AreaStep] = []
        self.hist = Histogram()
        self.subs: list[Subscription] = []  # a queue's publish feeds these
        self.variants: list[Op] = []  # this operation as other versions run it
        self.placement: Placement | None = None  # chooses the replica instead of the balancer
        # The CPU model (sim/cpu.py): CPU demand is `work`; these only when the spec has them.
        self.wait: Sampler | None = None  # after the CPU demand, before the calls, no CPU
        self.overhead: Sampler | None = None  # the runtime's CPU per request, with the demand
        self.call_overhead: Sampler | None = None  # the client's CPU before each call step
        self.modelled = False  # any of those, or cores: the kernel's CPU-model path


class CallTally(Outcomes):  # the outcomes of its attempts
    """What a call did for the requests of the window (and the deliveries begun in it),
    whenever it happened: their attempts in the drain count, a warm-up request's in the
    window do not, so every count is of one set of calls (attempts per call at most the
    retry policy's, timeouts at most the attempts)."""

    __slots__ = ("degraded_count", "failed", "fallbacks", "first", "hedge_wins", "hedges",
                 "retries", "retry_overflow", "sent")

    def __init__(self) -> None:
        super().__init__()
        self.sent = 0
        self.first = 0
        self.retries = 0
        self.hedges = 0
        self.failed = 0
        self.fallbacks = 0
        self.hedge_wins = 0
        self.retry_overflow = 0
        self.degraded_count = 0


class CallPlan(Outcomes):  # the outcomes of its attempts, as they happen (for its series)
    __slots__ = ("async_", "attempts", "backoff", "breaker", "breaker_at", "breaker_series",
                 "breaker_settings", "budget", "budgets", "bulkhead_limit", "bulkhead_queue",
                 "bulkhead_shared", "bulkhead_wait", "coin", "deadline", "degraded", "extras",
                 "failed", "fallback", "fallbacks", "first", "gates", "hedge_after",
                 "hedge_budget", "hedge_max", "hedge_tracker", "hedges", "index", "name",
                 "on_failure", "other_replica", "prob", "propagate", "retries", "retry_active",
                 "retry_cap", "retry_on", "sent", "tally", "target", "timeout", "timeout_lane",
                 "traffic", "traffic_snap")

    def __init__(self, name: str, target: Op) -> None:
        super().__init__()
        self.name = name
        self.index = 0
        self.target = target
        self.timeout = 0.0  # per attempt; 0 = none
        self.timeout_lane = -1  # the kernel's agenda lane for this timeout, once it has one
        self.deadline = 0.0  # whole call; 0 = none
        self.propagate = False  # the callee's calls get at most the time left
        self.attempts = 1
        self.retry_on = 0  # bit mask of causes
        self.backoff: Backoff | None = None
        self.budget: BudgetSettings | None = None  # each calling replica's own: `budgets`
        self.retry_cap = -1  # Envoy max_retries per calling replica; -1 = none
        self.retry_active: dict[int, int] = {}
        self.other_replica = True
        self.breaker_settings: BreakerSettings | None = None
        self.breaker = False  # breaker_settings is set
        # the breakers by calling replica at index replica + 1, or at 0 if shared: a list
        # read on every attempt, where a dict would hash the owner
        self.breaker_at: list[CircuitBreaker | None] = []
        self.bulkhead_limit = 0  # 0 = no bulkhead
        self.bulkhead_queue = 0  # waiters allowed; -1 = any (semaphore, bounded by time)
        self.bulkhead_wait = 0.0  # semaphore max_wait
        self.bulkhead_shared = False
        self.gates: dict[int, Gate] = {}
        self.hedge_after = 0.0  # fixed delay; 0 = no hedging, unless a tracker is set
        self.hedge_tracker: LatencyTracker | None = None
        self.hedge_max = 0
        self.hedge_budget = -1.0  # hedges per first attempt at most; -1 = no budget
        self.on_failure = FAIL
        self.fallback: Sampler | None = None
        self.degraded = False
        self.async_ = False
        self.prob = 1.0
        self.coin: Sampler | None = None
        self.sent = 0
        self.first = 0  # first attempts
        self.retries = 0
        self.hedges = 0
        self.failed = 0
        self.fallbacks = 0
        self.tally = CallTally()  # the window's requests' calls, for the result
        self.extras = False  # anything to update when an attempt ends (breaker, gates, …)
        # per interval: end time, share of breakers open, half open, not permitted so far
        self.breaker_series = Rows(4)
        # per interval: end time, then the rates of TRAFFIC_COUNTS, from their counts at the
        # last interval's end
        self.traffic = Rows(1 + TRAFFIC_COUNTS)
        self.traffic_snap = [0.0] * TRAFFIC_COUNTS
        self.budgets: dict[int, RetryBudget] = {}  # calling replica -> its retry budget

    def close_interval(self, now: float, span: float) -> None:
        """Add the interval that ends now to the traffic series: attempts, those refused in
        the caller (an open breaker, a full bulkhead, the retry overflow), retries, attempts
        failed, attempts timed out, calls failed and fallbacks, each per second."""
        failures = self.failures
        counts = [float(self.sent),
                  float(failures[CIRCUIT_OPEN] + failures[BULKHEAD_FULL] + failures[OVERFLOW]),
                  float(self.retries), float(sum(failures)), float(failures[TIMEOUT]),
                  float(self.failed), float(self.fallbacks)]
        before = self.traffic_snap
        self.traffic.add(now, *[(counts[i] - before[i]) / span for i in range(TRAFFIC_COUNTS)])
        self.traffic_snap = counts

    def clear_traffic(self) -> None:
        self.traffic.clear()
        self.traffic_snap = [0.0] * TRAFFIC_COUNTS

    @property
    def breakers(self) -> dict[int, CircuitBreaker]:
        """The breakers made so far by owner: the calling replica's index, or -1 if shared."""
        return {slot - 1: breaker for slot, breaker in enumerate(self.breaker_at)
                if breaker is not None}


class ParPlan:
    __slots__ = ("calls", "need")

    def __init__(self, calls: list[CallPlan], need: int) -> None:
        self.calls = calls
        self.need = need


class AreaStep:
    """A step whose behaviour lives in an area (a saga, an event store's load, an outbox
    write). The kernel calls `start` when a visit reaches it; True means the visit now waits
    until the area calls `Kernel.step_done`."""

    def start(self, kernel: Kernel, frame: Frame) -> bool:
        raise NotImplementedError


class Placement:
    """Chooses the replica a visit of an operation runs on, instead of the component's
    balancer: the elected leader, or one of its followers (sim/data). None refuses the
    visit as `unavailable` (no leader)."""

    def place(self, kernel: Kernel, frame: Frame) -> Replica | None:
        raise NotImplementedError


class Listener:
    """Told when a call an area made with `Kernel.call` ends (after its retries)."""

    def call_done(self, kernel: Kernel, frame: Frame, cause: int, attempts: int) -> None:
        raise NotImplementedError


class Group:
    """One execution of a parallel step: done when `need` branches succeed, failed when that
    can no longer happen. A group with an `owner` holds one call an area made; its outcome
    goes to the owner instead."""

    __slots__ = ("done", "failed", "need", "ok", "owner", "total")

    def __init__(self, need: int, total: int, owner: Listener | None = None) -> None:
        self.need = need
        self.total = total
        self.ok = 0
        self.failed = 0
        self.done = False
        self.owner = owner


class Hedged:
    """The attempts racing for one call: the first success wins, the call fails only when all
    of them have failed and no more hedges will be sent. Each attempt points back here, so
    the kernel empties `attempts` once the call is decided: otherwise every hedged call is a
    reference cycle that only the garbage collector frees (half the run time of
    examples/hedging.yaml went to its passes)."""

    __slots__ = ("attempts", "done", "outstanding", "sent", "started")

    def __init__(self, first: Frame) -> None:
        self.attempts: list[Frame] = [first]  # the first attempt, then the hedges
        self.started = first.sent  # when the first attempt was sent
        self.outstanding = 1
        self.sent = 0  # hedges sent
        self.done = False


@mypyc_attr(free_list_len=1)
class Frame:
    """One visit of a request to an operation.

    The first visit of a request has no parent and names its source in `root` (a workload,
    or a queue subscription delivering a message); an async call has neither.
    """

    __slots__ = ("attempt", "avoid", "call", "call_deadline", "cause", "dead", "deadline",
                 "degraded", "delay", "done", "gate", "group", "hedge", "held", "key", "live",
                 "op", "parent", "pool", "rep", "root", "sent", "span", "stall", "step", "t0",
                 "trace", "window", "wl")

    def __init__(self, op: Op, parent: Frame | None, call: CallPlan | None,
                 group: Group | None, attempt: int, key: int, now: float) -> None:
        # Compiled, the fields lie in the order they are first set here: the ones every
        # request reads come first, so that a frame read back after thousands of other
        # events (its work done, its call answered) costs one or two cache lines, not four.
        self.op = op
        self.trace: list[list[object]] | None = None  # the sampled request's spans
        self.cause = OK
        self.rep = NOWHERE
        self.held = False  # holds a worker of its replica
        self.live = True  # counted in the kernel's visits in flight until it ends
        self.done = False
        self.degraded = False  # answered in part by a fallback
        self.dead = False
        self.step: i64 = 0
        self.hedge: Hedged | None = None
        self.wl = -1  # index of the workload the request came from
        self.t0 = now
        self.root: Workload | Root | None = None
        self.parent = parent
        self.deadline = 0.0  # calls made by this visit must end by then; 0 = none
        self.call_deadline = 0.0  # the end of the whole call this attempt belongs to
        self.avoid = -1  # replica a retry or hedge should not go to
        self.key = key
        self.span = 0
        self.call = call
        self.group = group
        self.sent = now
        self.stall = 0.0  # the replica's paused time when this frame's work began
        self.delay = 0.0  # the back-off before this attempt
        self.attempt = attempt
        self.gate: Gate | None = None  # bulkhead permit held
        self.pool: Gate | None = None  # connection-pool slot held
        # its request (or delivery) began in the window: its calls count in the result's
        self.window: bool = parent is not None and parent.window


class Workload(Outcomes):  # the outcomes of requests sent in the window
    __slots__ = ("arrivals", "degraded", "drained", "drained_ok", "early",
                 "early_ok", "hist", "index", "inflight", "interval_degraded", "interval_failed",
                 "interval_hist", "interval_lat", "keys", "name", "next_key", "preview",
                 "sampled", "series", "target", "think", "trace_every", "users", "window_inflight")

    def __init__(self, name: str, target: Op, arrivals: Arrivals) -> None:
        super().__init__()
        self.name = name
        self.index = 0
        self.target = target
        self.arrivals = arrivals  # never fires for a closed loop
        self.users = 0
        self.think: Sampler | None = None
        self.keys: Sampler | None = None
        self.next_key: i64 = 0
        self.preview = False  # a client of its target's blue-green preview Service
        self.hist = Histogram()
        self.degraded = 0
        # Answers in the window are those above, but the drained ones (answered after the
        # window closed), plus the early ones (sent in the warm-up, answered in the window).
        self.drained = 0
        self.drained_ok = 0
        self.early = 0
        self.early_ok = 0
        self.inflight: i64 = 0
        self.interval_lat: vec[float] = vec[float]()  # latencies of this interval's successes
        self.interval_hist = Histogram()  # where they go when an interval has very many
        self.interval_failed = 0
        self.interval_degraded = 0
        # per interval: end time, ok/s, failed/s, p50, p95, p99 (ms), in flight at the end,
        # degraded/s
        self.series = Rows(8)
        self.trace_every = 0  # trace one request in this many; 0 = none
        # finished sampled requests: (latency, sequence, cause, spans)
        self.sampled: list[tuple[float, int, int, list[list[object]]]] = []
        self.window_inflight: i64 = 0  # requests sent in the window and not yet answered


class Root:
    """Where a visit that no workload sent comes from (a message delivery, a saga's event, an
    outbox relay's publish): told when the visit ends."""

    def finished(self, kernel: Kernel, frame: Frame, cause: int) -> None:
        raise NotImplementedError

    def pulled(self) -> bool:
        """The visit is a message its consumer fetched: only a running replica takes it."""
        return False


class Subscription(Root):
    """A subscriber to an operation's published messages (a queue's consumers, an event
    store's projections); sim/data/delivery.py and sim/data/partitions.py implement it."""

    def full(self) -> bool:
        """No room for one more message: the publish is refused."""
        raise NotImplementedError

    def publish(self, kernel: Kernel, frame: Frame) -> None:
        """Take the message the visit `frame` publishes."""
        raise NotImplementedError

    def backlog(self) -> int:
        """Messages published and not yet settled (waiting or being delivered)."""
        raise NotImplementedError


class FaultAction:
    """Start or end of one fault on a set of replicas."""

    __slots__ = (
        "comp",
        "crash",
        "error_rate",
        "graceful",
        "index",
        "mtbf",
        "mttr",
        "net",
        "partition",
        "partition_fast",
        "pause_every",
        "pause_for",
        "random_draws",
        "replicas",
        "start",
        "until",
        "work_add",
        "work_mul",
    )

    def __init__(self, index: int, comp: Comp, replicas: list[Replica], start: bool,
                 crash: bool, error_rate: float, work_mul: float,
                 work_add: Sampler | None) -> None:
        self.index = index
        self.comp = comp
        self.replicas = replicas
        self.start = start
        self.crash = crash
        self.graceful = False  # a crash that is a graceful stop (SIGTERM), for sim/data
        self.error_rate = error_rate
        self.work_mul = work_mul
        self.work_add = work_add
        self.net: Sampler | None = None  # the component's hop latency while the fault lasts
        self.partition = -1  # index of the component cut off from this one; -1 = none
        self.partition_fast = False  # refuse at once instead of losing the request
        self.pause_every = 0.0
        self.pause_for = 0.0
        self.mtbf = 0.0
        self.mttr = 0.0
        self.random_draws: Sampler | None = None  # Exp(1) draws for random failures
        self.until = 0.0  # end of the fault window (inf if open)
