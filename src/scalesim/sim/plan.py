"""The runtime plan: plain objects with slots that the kernel reads in its hot path.

Nothing here knows about pydantic or YAML; `compile.py` builds these from a `System`.
"""

from __future__ import annotations

from collections import deque

from scalesim.sim.mechanisms.arrivals import Arrivals
from scalesim.sim.mechanisms.backoff import Backoff
from scalesim.sim.mechanisms.balancer import Balancer
from scalesim.sim.mechanisms.circuit_breaker import BreakerSettings, CircuitBreaker
from scalesim.sim.metrics import Histogram
from scalesim.sim.random import Sampler

# Outcome causes; 0 is success. Bit positions also form the retry `on` mask.
OK, TIMEOUT, REJECTED, ERROR, CIRCUIT_OPEN, CRASHED, UNFINISHED = range(7)
CAUSE_NAMES = ("ok", "timeout", "rejected", "error", "circuit_open", "crashed", "unfinished")
FAIL, CONTINUE, FALLBACK = range(3)
UNLIMITED = 1 << 62


class Replica:
    __slots__ = ("busy", "err_extra", "faults", "index", "inflight", "queue", "queued", "slow",
                 "up", "work_add", "work_mul")

    def __init__(self, index: int, track: bool) -> None:
        self.index = index
        self.busy = 0
        self.queued = 0
        self.queue: deque[Frame] = deque()
        self.up = True
        self.slow = False  # a latency fault is active
        self.work_mul = 1.0
        self.work_add: Sampler | None = None
        self.err_extra = 0.0
        self.faults: list[int] = []  # indices of active faults
        self.inflight: set[Frame] | None = set() if track else None


NOWHERE = Replica(-1, False)  # where a frame is before a balancer placed it


class Comp:
    __slots__ = ("area", "balancer", "blocking", "busy", "busy_snap", "capacity", "coin", "cpu",
                 "failed", "index", "kind", "last", "name", "net", "ok", "ops", "q_snap", "qarea",
                 "qcap", "qlast", "qlen", "qmax", "rejected", "replicas", "series", "visits_snap",
                 "workers")

    def __init__(self, name: str, kind: str, replicas: list[Replica], workers: int, qcap: int,
                 balancer: Balancer, net: Sampler | None, coin: Sampler,
                 blocking: bool = True) -> None:
        self.name = name
        self.kind = kind
        self.blocking = blocking  # False: the worker is free while the operation waits on calls
        self.replicas = replicas
        self.workers = workers
        self.capacity = workers * len(replicas) if workers < UNLIMITED else 0
        self.qcap = qcap  # -1 = unbounded
        self.balancer = balancer
        self.net = net  # one-way latency of a hop into this component
        self.coin = coin  # error coin flips
        self.ops: dict[str, Op] = {}
        self.busy = 0  # occupied workers, all replicas
        self.area = 0.0  # ∫ busy dt
        self.last = 0.0
        self.qlen = 0
        self.qarea = 0.0
        self.qlast = 0.0
        self.qmax = 0
        self.cpu = 0.0  # worker-seconds of work and post_work
        self.ok = 0
        self.failed = 0
        self.rejected = 0
        # per interval: end time, utilization (or concurrency if unlimited), queue, visits/s
        self.series: list[tuple[float, float, float, float]] = []
        self.busy_snap = 0.0
        self.q_snap = 0.0
        self.visits_snap = 0


class Op:
    __slots__ = ("by_cause", "comp", "error_rate", "hist", "name", "post", "steps", "subs",
                 "work")

    def __init__(self, comp: Comp, name: str, work: Sampler | None, post: Sampler | None,
                 error_rate: float) -> None:
        self.comp = comp
        self.name = name
        self.work = work
        self.post = post
        self.error_rate = error_rate
        self.steps: list[CallPlan | ParPlan] = []
        self.hist = Histogram()
        self.by_cause = [0] * len(CAUSE_NAMES)
        self.subs: list[Subscription] = []  # a queue's publish feeds these


class CallPlan:
    __slots__ = ("async_", "attempts", "backoff", "breaker", "breaker_settings", "breakers",
                 "by_cause", "coin", "failed", "fallback", "fallbacks", "name", "on_failure",
                 "prob", "retries", "retry_on", "sent", "target", "timeout")

    def __init__(self, name: str, target: Op) -> None:
        self.name = name
        self.target = target
        self.timeout = 0.0  # 0 = none
        self.attempts = 1
        self.retry_on = 0  # bit mask of causes
        self.backoff: Backoff | None = None
        self.breaker_settings: BreakerSettings | None = None
        self.breaker = False  # breaker_settings is set
        self.breakers: dict[int, CircuitBreaker] = {}  # by calling replica, or -1 if shared
        self.on_failure = FAIL
        self.fallback: Sampler | None = None
        self.async_ = False
        self.prob = 1.0
        self.coin: Sampler | None = None
        self.sent = 0
        self.retries = 0
        self.failed = 0
        self.fallbacks = 0
        self.by_cause = [0] * len(CAUSE_NAMES)  # attempt outcomes


class ParPlan:
    __slots__ = ("calls", "need")

    def __init__(self, calls: list[CallPlan], need: int) -> None:
        self.calls = calls
        self.need = need


class Group:
    """One execution of a parallel step: done when `need` branches succeed, failed when that
    can no longer happen."""

    __slots__ = ("done", "failed", "frame", "need", "ok", "total")

    def __init__(self, frame: Frame, need: int, total: int) -> None:
        self.frame = frame
        self.need = need
        self.total = total
        self.ok = 0
        self.failed = 0
        self.done = False


class Frame:
    """One visit of a request to an operation.

    The first visit of a request has no parent and names its source in `root` (a workload,
    or a queue subscription delivering a message); an async call has neither.
    """

    __slots__ = ("attempt", "call", "cause", "dead", "delay", "done", "group", "held", "key",
                 "op", "parent", "rep", "root", "sent", "step", "t0")

    def __init__(self, op: Op, parent: Frame | None, call: CallPlan | None,
                 group: Group | None, attempt: int, key: int, now: float) -> None:
        self.op = op
        self.parent = parent
        self.call = call
        self.group = group
        self.attempt = attempt
        self.key = key
        self.sent = now
        self.t0 = now
        self.step = 0
        self.cause = OK
        self.done = False
        self.dead = False
        self.held = False  # holds a worker of its replica
        self.delay = 0.0
        self.rep = NOWHERE
        self.root: Workload | Subscription | None = None


class Workload:
    __slots__ = ("arrivals", "by_cause", "hist", "inflight", "interval_failed", "interval_lat",
                 "keys", "name", "next_key", "series", "target", "think", "users")

    def __init__(self, name: str, target: Op, arrivals: Arrivals) -> None:
        self.name = name
        self.target = target
        self.arrivals = arrivals  # never fires for a closed loop
        self.users = 0
        self.think: Sampler | None = None
        self.keys: Sampler | None = None
        self.next_key = 0
        self.hist = Histogram()
        self.by_cause = [0] * len(CAUSE_NAMES)
        self.inflight = 0
        self.interval_lat: list[float] = []  # latencies of this interval's successes
        self.interval_failed = 0
        # per interval: end time, ok/s, failed/s, p50, p95, p99 (ms)
        self.series: list[tuple[float, float, float, float, float, float]] = []


class Subscription:
    __slots__ = ("buffer", "capacity", "concurrency", "delivered", "failed", "inflight", "lag",
                 "queue", "target")

    def __init__(self, queue: Comp, target: Op, concurrency: int, capacity: int) -> None:
        self.queue = queue
        self.target = target
        self.concurrency = concurrency
        self.capacity = capacity  # -1 = unbounded
        self.buffer: deque[float] = deque()
        self.inflight = 0
        self.delivered = 0
        self.failed = 0
        self.lag = Histogram()


class FaultAction:
    """Start or end of one fault on a set of replicas."""

    __slots__ = ("comp", "crash", "error_rate", "index", "replicas", "start", "work_add",
                 "work_mul")

    def __init__(self, index: int, comp: Comp, replicas: list[Replica], start: bool,
                 crash: bool, error_rate: float, work_mul: float,
                 work_add: Sampler | None) -> None:
        self.index = index
        self.comp = comp
        self.replicas = replicas
        self.start = start
        self.crash = crash
        self.error_rate = error_rate
        self.work_mul = work_mul
        self.work_add = work_add
