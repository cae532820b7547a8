"""The event loop and the step interpreter.

Events wait on the agenda (sim/agenda.py), a heap ordered by time, then by a sequence
number that breaks ties first-in-first-out, which makes runs deterministic. Each request visit is a
`Frame` that walks its operation's steps: placement on a replica, queue for a worker, work,
calls (sync, async, parallel), post_work, respond. Zero-length hops and work are done inline
without an event, and the success path avoids every call it can: this loop is where all the
time goes. The mechanisms (breakers, gates, limiters, detectors) live in their own modules;
the kernel calls them at a few points: placing a request, sending an attempt, an attempt
ending, and timers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final, cast

from librt.vecs import append, vec
from mypy_extensions import i64

from scalesim.sim.agenda import Agenda
from scalesim.sim.area import Area
from scalesim.sim.compile import Plan
from scalesim.sim.mechanisms.balancer import load
from scalesim.sim.mechanisms.bulkhead import Gate
from scalesim.sim.mechanisms.circuit_breaker import HALF_OPEN, OPEN, CircuitBreaker
from scalesim.sim.mechanisms.retry_budget import RetryBudget
from scalesim.sim.metrics import linear_quantiles
from scalesim.sim.plan import (
    BULKHEAD_FULL,
    CIRCUIT_OPEN,
    CONTINUE,
    CRASHED,
    ERROR,
    FALLBACK,
    NOWHERE,
    OK,
    OVERFLOW,
    RATE_LIMITED,
    REJECTED,
    SHED,
    TIMEOUT,
    UNAVAILABLE,
    CallPlan,
    Comp,
    FaultAction,
    Frame,
    Group,
    Hedged,
    Lane,
    Op,
    ParPlan,
    Replica,
    Root,
    Workload,
    tally,
)
from scalesim.sim.random import Sampler
from scalesim.spec.model import Limits

# Event kinds: indices into Kernel.handlers. Final, so the compiled kernel inlines them.
ARRIVE: Final = 0
DELIVER: Final = 1
WORK_DONE: Final = 2
POST_DONE: Final = 3
RESPONSE: Final = 4
TIMEOUT_EV: Final = 5
RETRY: Final = 6
FALLBACK_DONE: Final = 7
USER_SEND: Final = 8
TICK: Final = 9
WARMUP_END: Final = 10
WINDOW_END: Final = 11
DRAIN_END: Final = 12
FAULT: Final = 13
HEDGE: Final = 14
GATE_EXPIRED: Final = 15
BREAKER_TIMER: Final = 16
OUTLIER_SWEEP: Final = 17
PROBE_READY: Final = 18
PROBE_LIVE: Final = 19
RESTARTED: Final = 20
PAUSE_START: Final = 21
PAUSE_END: Final = 22
RANDOM_FAIL: Final = 23
RANDOM_RECOVER: Final = 24
CALL_READY: Final = 25
DEADLINE_FAIL: Final = 26
PROGRESS_EVERY: Final = 1 << 16  # events between progress reports, event-limit and buffer checks
MAX_INLINE: Final = 40  # inline hand-offs nested in one event before the heap takes over
STILL_EVENTS = 1 << 21  # events at one instant that mean a loop of zero-time steps
MAX_INTERVAL_SAMPLES: Final = 1 << 18  # an interval's latencies kept exactly, then binned
MAX_RESTART_DELAY: Final = 300.0  # CrashLoopBackOff cap
BACKOFF_RESET_AFTER: Final = 600.0  # a container running this long starts its back-off afresh
# answers an Envoy proxy counts as 5xx or a local-origin failure; a rate limit's 429 is not
# one (and, as any answer that is not, starts the count of failures in a row again)
HOST_FAILURES: Final = 1 << TIMEOUT | 1 << ERROR | 1 << CRASHED | 1 << REJECTED | 1 << SHED
MAX_SAMPLED: Final = 5000  # finished sampled requests kept per workload
MAX_SPANS: Final = 1000  # spans kept per sampled request; visits past that are not traced
MAX_HEALTH_EVENTS: Final = 10_000


class SafetyStop(Exception):
    """A run passed a documented safety limit; the message says which and why."""


def _answered_in_interval(source: Workload, frame: Frame, cause: int, latency: float) -> None:
    """Count an answer in its workload's current time-series interval, whenever its request
    was sent: an answer to a warm-up request is answered in the window too."""
    if cause == OK:
        source.interval_lat = append(source.interval_lat, latency)
        if frame.degraded:
            source.interval_degraded += 1
    else:
        source.interval_failed += 1


class Kernel:
    def __init__(self, plan: Plan, warmup: float, duration: float, interval: float,
                 limits: Limits, progress: Callable[[float], None] | None = None) -> None:
        self.plan = plan
        self.heap = Agenda()  # the events still to happen
        self.now = 0.0
        self.t_start = warmup
        self.t_end = warmup + duration
        self.interval = interval
        self.limits = limits
        self.progress = progress
        self.closed = False  # past the window: no new requests
        self.counted: i64 = 0  # requests from the window still in flight
        self.inflight: i64 = 0  # live visits: requests, calls, queue deliveries
        self.queued: i64 = 0  # requests waiting for a worker, messages buffered in queues
        self.max_inflight: i64 = limits.max_in_flight
        self.max_queued: i64 = limits.max_queued
        self.depth: i64 = 0  # inline hand-offs nested in the current event
        self.events: i64 = 0
        self.unfinished = 0
        self.requests: i64 = 0  # requests sent, for trace sampling
        self.last_tick = warmup
        self.window_snapshot: list[tuple[float, float, float, int, int, int, int,
                                         list[float], list[int]]] = []
        self.active_faults: dict[int, FaultAction] = {}
        self.base_net = [comp.net for comp in plan.comps]
        self.summed: dict[tuple[str, tuple[int, ...]], Sampler] = {}  # _summed_faults
        self.partitions: dict[tuple[int, int], int] = {}  # (from, to) -> active faults
        self.partition_fast: dict[tuple[int, int], int] = {}
        self.pauses = any(action.pause_every > 0 for _, action in plan.faults)
        # (time, component, replica, what) for readiness, restarts and ejections
        self.health_events: list[tuple[float, str, int, str]] = []
        self.replica_watchers: list[Area] = []  # told when a replica goes down or comes back
        self.handlers: list[Callable[[object], None]] = [  # indexed by event kind
            self._arrive, self._deliver, self._work_done, self._post_done,  # type: ignore[list-item]
            self._response, self._timeout, self._retry, self._fallback_done,  # type: ignore[list-item]
            self._user_send, self._tick, self._warmup_end, self._window_end,  # type: ignore[list-item]
            self._drain_end, self._fault, self._hedge, self._gate_expired,  # type: ignore[list-item]
            self._breaker_timer, self._outlier_sweep, self._probe_ready,  # type: ignore[list-item]
            self._probe_live, self._restarted, self._pause_start, self._pause_end,  # type: ignore[list-item]
            self._random_fail, self._random_recover, self._call_ready,  # type: ignore[list-item]
            self._deadline_fail,  # type: ignore[list-item]
        ]
        for area in plan.areas:
            area.attach(self)
        for at, action in plan.faults:
            self.push(at, FAULT, action)
        for comp in plan.comps:
            if comp.outlier is not None:
                self.push(comp.outlier.interval, OUTLIER_SWEEP, comp)
            health = comp.health
            if health is not None:
                for rep in comp.replicas:
                    if health.ready_period > 0:
                        self.push(health.ready_delay, PROBE_READY, (comp, rep))
                    if health.live_period > 0:
                        self.push(health.live_delay, PROBE_LIVE, (comp, rep))

    def add_handler(self, handler: Callable[[object], None]) -> int:
        """Register an area's event handler; returns the event kind to push it with."""
        self.handlers.append(handler)
        return len(self.handlers) - 1

    # -- what areas call (sim/data, sim/control) ---------------------------------------------------
    def watch_replicas(self, area: Area) -> None:
        """Call `area.replica_changed` whenever a replica goes down or comes back up."""
        self.replica_watchers.append(area)

    def stopped_gracefully(self, rep: Replica) -> bool:
        """The replica left the set (scale-in, rollout) or a graceful crash fault (SIGTERM)
        stopped it, so its process could say goodbye (release a lease, commit and leave a
        consumer group)."""
        return rep.retired or any(self.active_faults[i].graceful for i in rep.faults
                                  if i in self.active_faults)

    def enter_message(self, frame: Frame) -> None:
        """Send a visit no workload sent (its `root` says whose it is) into the system: one
        network hop, then placement by the target's balancer."""
        self.inflight += 1
        frame.window = self.in_window()
        self._enter(frame)

    def in_window(self) -> bool:
        """Past the warm-up and before the window's end: a visit no request sent (a
        delivery, a cache load, a relay's publication) begun now counts as the window's."""
        return self.now >= self.t_start and not self.closed

    def deliver_on(self, frame: Frame, rep: Replica) -> None:
        """Start a visit on a chosen replica at once (a Kafka consumer processes the records
        it fetched in its own process): no hop, no balancer."""
        self.inflight += 1
        frame.window = self.in_window()
        frame.rep = rep
        frame.t0 = self.now
        self._deliver(frame)

    def call(self, frame: Frame, call: CallPlan, group: Group) -> None:
        """Make `call` on behalf of the waiting visit `frame`, with all its policies; its
        outcome goes to `group.owner`."""
        self._send(frame, call, group, 1, 0.0, None, None)

    def step_done(self, frame: Frame, cause: int) -> None:
        """An area's step of the waiting visit `frame` ended: go on, or fail with `cause`."""
        self._call_done(frame, None, cause, 1)

    def push(self, t: float, kind: int, obj: object) -> None:
        self.heap.push(t, kind, obj)

    def _after(self, delay: Sampler, kind: int, obj: object) -> None:
        """Schedule `kind` a drawn delay from now: a network hop, a user's think time. A
        constant delay keeps its events in time order, so they wait in an agenda lane rather
        than the heap or calendar (the same order, cheaper): closed-loop users with no think
        time put 300,000 sends at t = 0 into one calendar bucket, each hop pushed then walked
        past them, and a run took minutes to reach its first progress check."""
        fixed = delay.fixed
        if fixed < 0.0:
            self.heap.push(self.now + delay.draw(), kind, obj)
            return
        lane = delay.lane
        if lane == -1:
            lane = delay.lane = self.heap.lane_for(fixed)
        self.heap.push_in_order(lane, self.now + fixed, kind, obj)

    def run(self) -> None:
        self._check_arrivals()
        for wl in self.plan.workloads:
            if wl.users:
                assert wl.think is not None  # a closed workload's think time (0s by default)
                for _ in range(wl.users):
                    self._after(wl.think, USER_SEND, wl)
            else:
                first = wl.arrivals.next_after(0.0)
                if first < self.t_end:
                    self.push(first, ARRIVE, wl)
        if self.t_start > 0:
            self.push(self.t_start, WARMUP_END, None)
        self.push(self.t_start + self.interval, TICK, None)
        self.push(self.t_end, WINDOW_END, None)
        heap = self.heap
        handlers = self.handlers
        max_events: i64 = self.limits.max_events
        events: i64 = 0
        # The count at which to look next, before handling one more event: at the next
        # progress report, or at the event limit if that comes first. One compare per event
        # serves both (as a mask did for the reports alone), and a run with more events than
        # the limit stops at exactly that count.
        look_at: i64 = min(PROGRESS_EVERY, max_events)
        still_since: i64 = 0
        still_at = -1.0
        # len(heap), spelled out: a calendar is never empty (under TO_HEAP events its
        # events go back to the heap), and the call to __len__ cost 2 % of M/M/1's
        # instructions
        while heap.size or heap.in_lanes or heap.calendar is not None:
            if events == look_at:
                self.events = events
                t = self.now
                if events == max_events:
                    raise SafetyStop(
                        f"stopped at t={t:.3f}s after {events:,} events: the limit "
                        f"simulation.limits.max_events ({max_events:,}) was reached")
                look_at = min(events + PROGRESS_EVERY, max_events)
                if t > still_at:
                    still_since, still_at = events, t
                elif events - still_since >= STILL_EVENTS:
                    raise SafetyStop(
                        f"stopped at t={t:.3f}s: {events - still_since:,} events without the "
                        "clock moving; a loop of steps that take no time (async calls, queue "
                        "deliveries or closed-loop users with no work, no network and no think "
                        "time) would repeat forever")
                self._bound_buffers()
                if self.progress is not None:
                    self.progress(min(1.0, t / self.t_end))
            event = heap.pop()
            t = event.t
            self.now = t
            kind = event.kind
            obj = event.obj
            heap.recycle(event)
            # The commonest kinds are called directly: compiled, that is a C call, where the
            # handlers list goes through Python's calling convention.
            if kind == WORK_DONE:
                self._work_done(cast(Frame, obj))
            elif kind == ARRIVE:
                self._arrive(cast(Workload, obj))
            elif kind == DELIVER:
                self._deliver(cast(Frame, obj))
            elif kind == RESPONSE:
                self._response(cast(Frame, obj))
            elif kind == TIMEOUT_EV:
                self._timeout(cast(Frame, obj))
            else:
                handlers[kind](obj)
            events += 1
        self.events = events

    def _check_arrivals(self) -> None:
        """Stop before the first event when the open-loop arrivals alone would pass the event
        limit: the run could not end anyway, and finding out would take minutes."""
        limit = self.limits.max_events
        expected = sum(wl.arrivals.expected(self.t_end) for wl in self.plan.workloads
                       if not wl.users)
        if expected > 1.1 * limit + 10.0 * math.sqrt(limit):
            raise SafetyStop(
                f"stopped before starting: the workloads send about {expected:,.0f} requests "
                f"in {self.t_end:,g}s of warm-up and duration, more events than "
                f"simulation.limits.max_events ({limit:,}) allows; shorten the run or lower "
                "the rates")

    def _bound_buffers(self) -> None:
        """Fold buffered latencies into their histograms, so memory stays bounded whether or
        not intervals close (a long warm-up has none)."""
        for op in self.plan.ops.values():
            op.hist.maybe_flush()
        for area in self.plan.areas:
            area.bound_buffers()
        for wl in self.plan.workloads:
            wl.hist.maybe_flush()
            if len(wl.interval_lat) > MAX_INTERVAL_SAMPLES:
                wl.interval_hist.add_all(wl.interval_lat)
                wl.interval_hist.flush()
                wl.interval_lat = vec[float]()

    def _too_many(self) -> None:
        raise SafetyStop(
            f"stopped at t={self.now:.3f}s: {self.inflight:,} visits in flight (requests, calls "
            f"and deliveries) passed simulation.limits.max_in_flight ({self.max_inflight:,}); "
            "the offered load is more than the system can serve, or calls keep working long "
            "after their callers gave up")

    def _over(self, frame: Frame) -> None:
        """A visit ends: answered, refused, failed before it left, or dropped."""
        if frame.live:
            frame.live = False
            self.inflight -= 1

    def _deliver_now(self, frame: Frame) -> None:
        """Deliver at once, inline, unless MAX_INLINE hand-offs are already nested in this
        event (zero-time chains and loops): then through the heap at the same instant, so
        the stack stays shallow whatever the spec."""
        if self.depth < MAX_INLINE:
            self.depth += 1
            self._deliver(frame)
            self.depth -= 1
        else:
            self.heap.push(self.now, DELIVER, frame)

    def _respond_now(self, frame: Frame) -> None:
        """`_deliver_now` for answers."""
        if self.depth < MAX_INLINE:
            self.depth += 1
            self._response(frame)
            self.depth -= 1
        else:
            self.heap.push(self.now, RESPONSE, frame)

    # -- requests enter ----------------------------------------------------------------------------
    def _arrive(self, wl: Workload) -> None:
        self._new_request(wl)
        nxt = wl.arrivals.next_after(self.now)
        if nxt < self.t_end:
            self.heap.push(nxt, ARRIVE, wl)

    def _user_send(self, wl: Workload) -> None:
        if not self.closed:
            self._new_request(wl)

    def _new_request(self, wl: Workload) -> None:
        now = self.now
        if wl.keys is not None:
            key = int(wl.keys.draw())
        else:
            key = wl.next_key
            wl.next_key = key + 1
        window = now >= self.t_start
        if window:
            self.counted += 1
            wl.window_inflight += 1
        self.inflight += 1
        if self.inflight > self.max_inflight:
            self._too_many()
        wl.inflight += 1
        frame = Frame(wl.target, None, None, None, 1, key, now)
        frame.window = window
        frame.root = wl
        frame.wl = wl.index
        self.requests += 1
        if wl.trace_every and now >= self.t_start and self.requests % wl.trace_every == 0:
            frame.trace = [[0, -1, wl.target.comp.name, wl.target.name, -1, now, -1.0, -1.0,
                            -1, 1, "entry", self.requests]]  # the entry span names its request
        self._enter(frame)

    def _enter(self, frame: Frame) -> None:
        """Send the first visit of a request (or a message delivery) into the system."""
        net = frame.op.comp.net
        if net is None:
            self._deliver_now(frame)
        else:
            self._after(net, DELIVER, frame)

    # -- a visit at a component --------------------------------------------------------------------
    def _deliver(self, frame: Frame) -> None:
        """A request reaches a component (or a non-blocking one comes back for post_work):
        a worker now, a place in the replica's FIFO queue, or a refusal."""
        comp = frame.op.comp
        rep = frame.rep
        if rep is NOWHERE:
            now = self.now
            frame.t0 = now
            placed = self._place(frame, comp)
            if (placed is None or not placed.up) and self._pulled(frame):
                placed = self._connected(comp) or placed
            if placed is None:
                self._refuse(frame, comp, UNAVAILABLE)
                return
            rep = frame.rep = placed
            if rep.ops is not None:  # a replica of another version runs its own operation
                frame.op = rep.ops[frame.op.name]
            if frame.trace is not None:
                record = frame.trace[frame.span]
                record[4], record[6] = rep.index, now
            if not rep.up:
                self._refuse(frame, comp, CRASHED)
                return
            if comp.limiter_factory is not None and not self._admit(comp, rep, frame.wl):
                self._refuse(frame, comp, RATE_LIMITED)
                return
        if rep.busy < comp.workers:
            self._start(frame, rep, comp)
        elif comp.qcap < 0 or rep.queued < comp.qcap:
            now = self.now
            comp.qarea += comp.qlen * (now - comp.qlast)
            comp.qlast = now
            comp.qlen += 1
            if comp.qlen > comp.qmax:
                comp.qmax = comp.qlen
            rep.queue.append(frame)
            self.queued += 1
            if self.queued > self.max_queued:
                raise SafetyStop(
                    f"stopped at t={now:.3f}s: {self.queued:,} requests waiting in queues "
                    f"passed simulation.limits.max_queued ({self.max_queued:,}); "
                    f"'{comp.name}' cannot keep up with its load")
        else:
            self._refuse(frame, comp, REJECTED)

    def _place(self, frame: Frame, comp: Comp) -> Replica | None:
        """The balancer's choice, unless that replica is out of rotation (not ready, ejected)
        or the one a retry should avoid; then the balancer's choice among the others. With
        every replica ejected but some ready, Envoy's panic mode sends to the choice anyway.
        A traffic split by version (`comp.lanes`) first picks the version (`_lane`). An
        operation with a placement (a leader's writes, sim/data) is placed by it instead."""
        placement = frame.op.placement
        if placement is not None:
            return placement.place(self, frame)
        lanes = comp.lanes
        if lanes is None:
            replicas = comp.live
            balancer = comp.balancer
        else:
            lane = self._lane(comp, lanes, frame)
            replicas = lane.live
            balancer = lane.balancer
        if not replicas:
            return None  # scaled to zero, or no replica of the version is up yet
        index = balancer.pick(frame.key)
        rep = replicas[index]
        if rep.routable and rep.index != frame.avoid:
            return rep
        other = balancer.repick(replicas, frame.key, frame.avoid)
        if other >= 0:
            return replicas[other]
        if rep.routable:
            return rep  # the only one in rotation is the one to avoid: use it
        return rep if any(r.ready for r in replicas) else None

    @staticmethod
    def _pulled(frame: Frame) -> bool:
        """A message the consumer fetches itself (a queue delivery), not a pushed request."""
        root = frame.root
        return isinstance(root, Root) and root.pulled()

    @staticmethod
    def _connected(comp: Comp) -> Replica | None:
        """The running replica a fetched message goes to when the balancer chose one that is
        down or none: a crashed consumer polls nothing, so the least busy of those running
        takes it (lowest index on a tie); None when none runs."""
        best: Replica | None = None
        for rep in comp.live:
            if rep.up and (best is None or load(rep) < load(best)):
                best = rep
        return best

    def _lane(self, comp: Comp, lanes: list[Lane], frame: Frame) -> Lane:
        """The version a request goes to: a preview client's request to the preview (its
        Service selects the new version's pods), any other weighted at random, as a mesh's
        weighted route."""
        preview = comp.preview
        if preview is not None and frame.parent is None:
            root = frame.root
            if isinstance(root, Workload) and root.preview:
                return preview
        coin = comp.lane_coin
        assert coin is not None
        draw = coin.draw()
        chosen = lanes[0]
        for lane in lanes:
            if lane.weight > 0.0:
                chosen = lane  # rounding can leave the draw above the sum: the last one
                draw -= lane.weight
                if draw < 0.0:
                    return lane
        return chosen

    def _admit(self, comp: Comp, rep: Replica, workload: int) -> bool:
        mode = comp.limit_mode
        key = ((rep.index + 1) if mode & 1 else 0) * 1_000_000 + \
            ((workload + 1) if mode & 2 else 0)
        limiter = comp.limiters.get(key)
        if limiter is None:
            assert comp.limiter_factory is not None
            limiter = comp.limiters[key] = comp.limiter_factory()
        return limiter.allow(self.now)

    def _refuse(self, frame: Frame, comp: Comp, cause: int) -> None:
        """Turned away before any work: a full queue, a limiter, shedding, a dead replica."""
        frame.op.count(cause)
        tally(comp.by_cause, cause)
        comp.rejected += cause != CRASHED
        comp.failed += 1
        self._reply(frame, cause)

    def _start(self, frame: Frame, rep: Replica, comp: Comp) -> None:
        now = self.now
        comp.area += comp.busy * (now - comp.last)
        comp.last = now
        comp.busy += 1
        rep.busy += 1
        rep.busy_s -= now
        frame.held = True
        if rep.inflight is not None:
            rep.inflight.add(frame)
        if self.pauses:
            frame.stall = rep.stalled(now)
        op = frame.op
        if frame.step:  # a non-blocking operation back for its post_work
            self._post_work(frame)
            return
        if op.modelled:
            self._start_modelled(frame, rep, comp, op)
            return
        work = op.work.draw() if op.work is not None else 0.0
        if rep.slow:
            work = work * rep.work_mul + (rep.work_add.draw() if rep.work_add else 0.0)
        if work > 0.0:
            comp.cpu += work
            rep.cpu += work
            self.heap.push(now + work, WORK_DONE, frame)
        else:
            self._work_done(frame)

    def _start_modelled(self, frame: Frame, rep: Replica, comp: Comp, op: Op) -> None:
        """The CPU model's start of a visit: the request's overhead and the CPU demand on the
        replica's cores (sim/cpu.py), then `wait`, which uses no CPU; without cores both are
        plain time. A latency fault multiplies the demand and adds to the wait."""
        demand = op.work.draw() if op.work is not None else 0.0
        wait = op.wait.draw() if op.wait is not None else 0.0
        if rep.slow:
            demand *= rep.work_mul
            wait += rep.work_add.draw() if rep.work_add else 0.0
        if op.overhead is not None:
            demand += op.overhead.draw()
        comp.cpu += demand
        rep.cpu += demand
        processor = rep.processor
        if processor is not None and demand > 0.0:
            processor.run(self, frame, demand, wait, WORK_DONE)
        elif demand + wait > 0.0:
            self.heap.push(self.now + demand + wait, WORK_DONE, frame)
        else:
            self._work_done(frame)

    def _pay_call_overhead(self, frame: Frame, calls: int) -> None:
        """The client's CPU for the call step the frame stands after (`calls` branches of a
        parallel step), on the caller's cores; the step is sent when it is spent."""
        op = frame.op
        assert op.call_overhead is not None
        demand = 0.0
        for _ in range(calls):
            demand += op.call_overhead.draw()
        rep = frame.rep
        op.comp.cpu += demand
        rep.cpu += demand
        processor = rep.processor
        if processor is not None and demand > 0.0:
            processor.run(self, frame, demand, 0.0, CALL_READY)
        else:
            self.heap.push(self.now + demand, CALL_READY, frame)

    def _call_ready(self, frame: Frame) -> None:
        """The client overhead of the step before `frame.step` is spent: send it."""
        if frame.dead:
            return
        step = frame.op.steps[frame.step - 1]
        if isinstance(step, CallPlan):
            if step.async_:
                self._send_async(frame, step)
                self._advance(frame)
            else:
                self._send(frame, step, None, 1, 0.0, None, None)
        elif isinstance(step, ParPlan) and not self._fan_out(frame, step):
            self._advance(frame)

    def _stalled(self, frame: Frame, kind: int) -> bool:
        """A pause froze the replica while this frame worked: finish that much later."""
        behind = frame.rep.stalled(self.now) - frame.stall
        if behind <= 1e-12:
            return False
        frame.stall += behind
        self.heap.push(self.now + behind, kind, frame)
        return True

    def _work_done(self, frame: Frame) -> None:
        """Work is over: make the calls, or go straight to post_work or the answer."""
        if frame.dead or (self.pauses and self._stalled(frame, WORK_DONE)):
            return
        op = frame.op
        if op.steps and frame.cause == OK:  # a visit failed by an area (poison) skips them
            self._advance(frame)
        elif op.post is None:
            self._finish(frame)
        else:
            self._after_calls(frame)

    def _advance(self, frame: Frame) -> None:
        """Run the operation's steps from where the frame stands; return when it waits."""
        steps = frame.op.steps
        if frame.held and not frame.op.comp.blocking:
            self._release(frame)
        while frame.step < len(steps):
            step = steps[frame.step]
            frame.step += 1
            if isinstance(step, CallPlan):
                if step.coin is not None and step.coin.draw() >= step.prob:
                    continue
                if frame.op.call_overhead is not None:
                    self._pay_call_overhead(frame, 1)
                    return
                if step.async_:
                    self._send_async(frame, step)
                    continue
                self._send(frame, step, None, 1, 0.0, None, None)
                return
            if isinstance(step, ParPlan):
                if frame.op.call_overhead is not None:
                    self._pay_call_overhead(frame, len(step.calls))
                    return
                if self._fan_out(frame, step):
                    return
            elif step.start(self, frame):
                return
        if frame.op.post is None:
            self._finish(frame)
        else:
            self._after_calls(frame)

    def _fan_out(self, frame: Frame, step: ParPlan) -> bool:
        """Start a parallel step; True when the frame must now wait for its branches."""
        group = Group(step.need, len(step.calls))
        waiting = []
        for call in step.calls:
            if call.coin is not None and call.coin.draw() >= call.prob:
                group.ok += 1
            elif call.async_:
                self._send_async(frame, call)
                group.ok += 1
            else:
                waiting.append(call)
        satisfied = group.ok >= group.need
        group.done = satisfied
        position = frame.step
        for call in waiting:
            self._send(frame, call, group, 1, 0.0, None, None)
        # Sending may have finished the group (and moved the frame on) already.
        return not satisfied or frame.dead or frame.step != position

    def _after_calls(self, frame: Frame) -> None:
        if frame.cause != OK or frame.op.post is None:
            self._finish(frame)
        elif frame.held:
            self._post_work(frame)
        else:  # non-blocking: post_work needs a worker again, in turn with new requests
            self._deliver_now(frame)

    def _post_work(self, frame: Frame) -> None:
        op = frame.op
        assert op.post is not None
        post = op.post.draw()
        if frame.rep.slow:
            post *= frame.rep.work_mul
        op.comp.cpu += post
        frame.rep.cpu += post
        processor = frame.rep.processor
        if processor is None:
            self.heap.push(self.now + post, POST_DONE, frame)
        else:
            processor.run(self, frame, post, 0.0, POST_DONE)

    def _post_done(self, frame: Frame) -> None:
        if not frame.dead and not (self.pauses and self._stalled(frame, POST_DONE)):
            self._finish(frame)

    def _finish(self, frame: Frame) -> None:
        op = frame.op
        rep = frame.rep
        comp = op.comp
        cause = frame.cause
        if cause == OK:
            error = op.error_rate + rep.err_extra
            if error > 0.0 and comp.coin.draw() < error:
                cause = ERROR
            elif op.subs and not self._publish(op, frame):
                cause = REJECTED  # a full subscription turned the message away: a refusal
                tally(comp.by_cause, REJECTED)
                comp.rejected += 1
        if frame.held:
            self._release(frame)
        now = self.now
        rep.served += 1
        if cause == OK:
            comp.ok += 1
            op.hist.add(now - frame.t0)
        else:
            comp.failed += 1
        op.count(cause)
        frame.cause = cause
        if comp.net is None and frame.parent is not None and frame.trace is None:
            frame.live = False  # the common reply, without the call to _reply
            self.inflight -= 1
            if self.depth < MAX_INLINE:
                self.depth += 1
                self._response(frame)
                self.depth -= 1
            else:
                self.heap.push(self.now, RESPONSE, frame)
        else:
            self._reply(frame, cause)

    def _release(self, frame: Frame) -> None:
        """Free the frame's worker and give it to the next request waiting, if any; requests
        that waited too long for a load-shedding policy are refused instead."""
        rep = frame.rep
        comp = frame.op.comp
        now = self.now
        frame.held = False
        comp.area += comp.busy * (now - comp.last)
        comp.last = now
        comp.busy -= 1
        rep.busy -= 1
        rep.busy_s += now
        if rep.inflight is not None:
            rep.inflight.discard(frame)
        shed: list[Frame] | None = None  # made only when a shedding policy drops a request
        while len(rep.queue):
            nxt = rep.queue.popleft()
            self.queued -= 1
            comp.qarea += comp.qlen * (now - comp.qlast)
            comp.qlast = now
            comp.qlen -= 1
            if nxt.done and nxt.hedge is not None:
                self._over(nxt)
                continue  # a hedge that lost the race: cancelled before it started
            if rep.shedder is not None and rep.shedder.drop(now, now - nxt.t0, rep.queued):
                if shed is None:
                    shed = []
                shed.append(nxt)
                continue
            if self.depth < MAX_INLINE:  # each start may finish and release in turn
                self.depth += 1
                self._start(nxt, rep, comp)
                self.depth -= 1
            else:
                self.heap.push(now, DELIVER, nxt)
            break
        if shed is not None:
            for dropped in shed:
                self._refuse(dropped, comp, SHED)

    def _reply(self, frame: Frame, cause: int) -> None:
        """Send the visit's outcome back over the network to whoever waits for it."""
        frame.cause = cause
        if frame.live:
            frame.live = False
            self.inflight -= 1
        if frame.trace is not None:
            record = frame.trace[frame.span]
            record[7], record[8] = self.now, cause
        if frame.parent is None and frame.root is None:
            return  # an async call: nobody waits
        net = frame.op.comp.net
        if net is None:
            self._respond_now(frame)
        else:
            self._after(net, RESPONSE, frame)

    # -- calls -------------------------------------------------------------------------------------
    def _child_span(self, parent: Frame, child: Frame, kind: str) -> None:
        trace = parent.trace
        assert trace is not None
        if len(trace) >= MAX_SPANS:
            return
        child.trace = trace
        child.span = len(trace)
        trace.append([child.span, parent.span, child.op.comp.name, child.op.name, -1,
                      self.now, -1.0, -1.0, -1, child.attempt, kind])

    def _send_async(self, frame: Frame, call: CallPlan) -> None:
        call.sent += 1
        child = Frame(call.target, None, call, None, 1, frame.key, self.now)
        child.wl = frame.wl
        if frame.window:
            child.window = True
            call.tally.sent += 1
        self.inflight += 1
        if self.inflight > self.max_inflight:
            self._too_many()
        if frame.trace is not None:
            self._child_span(frame, child, "async")
        if self.partitions and self._cut_off(frame, call, child):
            return
        net = call.target.comp.net
        if net is None:
            self._deliver_now(child)
        else:
            self._after(net, DELIVER, child)

    def _breaker(self, call: CallPlan, caller: Frame) -> CircuitBreaker:
        settings = call.breaker_settings
        assert settings is not None
        owner = -1 if settings.shared else caller.rep.index
        at = call.breaker_at
        slot = owner + 1
        if slot < len(at):
            found = at[slot]
            if found is not None:
                return found
        breaker = settings.build()
        while len(at) <= slot:
            at.append(None)
        at[slot] = breaker
        return breaker

    def _budget(self, call: CallPlan, caller: Frame) -> RetryBudget:
        """The calling replica's own retry budget (each proxy keeps one, as Linkerd's do)."""
        owner = caller.rep.index
        budget = call.budgets.get(owner)
        if budget is None:
            settings = call.budget
            assert settings is not None
            budget = call.budgets[owner] = settings.build()
        return budget

    def _breaker_timer(self, breaker: CircuitBreaker) -> None:
        breaker.on_timer(self.now)
        self._arm(breaker)

    def _arm(self, breaker: CircuitBreaker) -> None:
        if breaker.timer_at >= 0.0:
            self.heap.push(breaker.timer_at, BREAKER_TIMER, breaker)
            breaker.timer_at = -1.0

    def _send(self, parent: Frame, call: CallPlan, group: Group | None, attempt: int,
              delay: float, previous: Frame | None, hedged: Hedged | None) -> None:
        """Send one attempt of a call: deadlines, partitions, the breaker, then the gates."""
        now = self.now
        child = Frame(call.target, parent, call, group, attempt, parent.key, now)
        child.wl = parent.wl
        self.inflight += 1
        if self.inflight > self.max_inflight:
            self._too_many()
        call.sent += 1
        tally = call.tally if parent.window else None
        if tally is not None:
            tally.sent += 1
        if previous is None:
            call.first += 1
            if tally is not None:
                tally.first += 1
            if call.budget is not None:
                self._budget(call, parent).record_call(now)
            if call.deadline:
                child.call_deadline = now + call.deadline
        else:
            child.call_deadline = previous.call_deadline
            if call.other_replica:
                child.avoid = previous.rep.index
            if hedged is None:
                call.retries += 1
                if tally is not None:
                    tally.retries += 1
                child.delay = delay
        if parent.trace is not None:
            self._child_span(parent, child, "call" if previous is None else
                             "hedge" if hedged is not None else "retry")
        if hedged is not None:
            child.hedge = hedged
            hedged.attempts.append(child)
            hedged.outstanding += 1
        elif call.hedge_max and previous is None:
            child.hedge = Hedged(child)
        timeout = call.timeout
        limit = child.call_deadline
        if parent.deadline and (not limit or parent.deadline < limit):
            limit = parent.deadline
        if limit:
            left = limit - now
            if left <= 0.0:
                self._fail_now(child, TIMEOUT)
                return
            if not timeout or left < timeout:
                timeout = left
        if call.propagate and timeout:
            child.deadline = now + timeout
        if self.partitions and self._cut_off(parent, call, child, timeout):
            return
        if call.breaker:
            breaker = self._breaker(call, parent)
            permitted = breaker.try_acquire(now)
            self._arm(breaker)
            if not permitted:
                self._fail_now(child, CIRCUIT_OPEN)
                return
        if timeout:
            if timeout == call.timeout:  # not cut short by a deadline: in time order
                lane = call.timeout_lane
                if lane == -1:
                    lane = call.timeout_lane = self.heap.lane_for(timeout)
                self.heap.push_in_order(lane, now + timeout, TIMEOUT_EV, child)
            else:
                self.heap.push(now + timeout, TIMEOUT_EV, child)
        hedge = child.hedge
        if hedge is not None and hedged is None:
            self._schedule_hedge(call, child)
        self._through_gates(child)

    def _cut_off(self, caller: Frame, call: CallPlan, child: Frame,
                 timeout: float = 0.0) -> bool:
        """A partition between caller and callee: refuse at once, or lose the request."""
        link = (caller.op.comp.index, call.target.comp.index)
        if link not in self.partitions:
            return False
        self._over(child)  # refused, or lost on the way
        if link in self.partition_fast:
            if child.parent is None:
                return True
            self._fail_now(child, UNAVAILABLE)
        elif timeout and child.parent is not None:
            self.heap.push(self.now + timeout, TIMEOUT_EV, child)
        return True

    def _fail_now(self, child: Frame, cause: int, admitted: bool = False) -> None:
        """An attempt that ended before it left: deadline passed, breaker open, gate full.

        `admitted`: the breaker let it through, so it is recorded there as a failure — a
        bulkhead or pool refusal is an error of the call the breaker wraps (Resilience4j
        records every exception by default)."""
        child.done = True
        self._over(child)
        call = child.call
        parent = child.parent
        assert call is not None and parent is not None
        call.count(cause)
        if parent.window:
            call.tally.count(cause)
        if admitted and call.extras:
            self._attempt_over(child, call, parent, cause)
        elif call.retry_cap >= 0 and child.attempt > 1 and child.hedge is None:
            call.retry_active[parent.rep.index] -= 1
        if child.trace is not None:
            record = child.trace[child.span]
            record[6], record[7], record[8] = self.now, self.now, cause
        if child.hedge is not None:
            self._hedge_result(child, cause)
        else:
            self._resolve(child, cause)

    def _through_gates(self, child: Frame) -> None:
        """The call's bulkhead, then the callee's connection pool, then the network."""
        call = child.call
        parent = child.parent
        assert call is not None and parent is not None
        if call.bulkhead_limit and child.gate is None:
            owner = -1 if call.bulkhead_shared else parent.rep.index
            gate = call.gates.get(owner)
            if gate is None:
                gate = call.gates[owner] = Gate(call.bulkhead_limit, call.bulkhead_queue)
            if not gate.try_enter():
                if gate.can_wait():
                    gate.wait(child)
                    if call.bulkhead_wait > 0.0:
                        self.heap.push(self.now + call.bulkhead_wait, GATE_EXPIRED, child)
                else:
                    gate.rejected += 1
                    self._fail_now(child, BULKHEAD_FULL, admitted=True)
                return
            child.gate = gate
        target = call.target.comp
        if target.pool_limit and child.pool is None:
            key = parent.op.comp.index * 1_000_000 + parent.rep.index
            pool = target.pools.get(key)
            if pool is None:
                pool = target.pools[key] = Gate(target.pool_limit, target.pool_queue)
            if not pool.try_enter():
                if pool.can_wait():
                    pool.wait(child)
                else:
                    pool.rejected += 1
                    tally(target.by_cause, OVERFLOW)
                    target.rejected += 1
                    self._fail_now(child, OVERFLOW, admitted=True)
                return
            child.pool = pool
        net = target.net
        if net is None:
            self._deliver_now(child)
        else:
            self._after(net, DELIVER, child)

    def _gate_expired(self, child: Frame) -> None:
        """A call waited `max_wait` for a bulkhead permit and gives up."""
        if child.done or child.gate is not None:
            return
        call = child.call
        assert call is not None
        for gate in call.gates.values():
            if child in gate.waiting:
                gate.rejected += 1
        self._fail_now(child, BULKHEAD_FULL, admitted=True)

    def _release_gates(self, frame: Frame) -> None:
        gate, pool = frame.gate, frame.pool
        frame.gate = frame.pool = None
        for held, is_pool in ((gate, False), (pool, True)):
            if held is not None:
                held.leave()
                self._admit_waiter(held, is_pool)

    def _admit_waiter(self, gate: Gate, is_pool: bool) -> None:
        while True:
            waiter = gate.next_waiter()
            if waiter is None:
                return
            assert isinstance(waiter, Frame)
            if waiter.done:
                gate.leave()  # it gave up while waiting
                self._over(waiter)
                continue
            if is_pool:
                waiter.pool = gate
            else:
                waiter.gate = gate
            self._through_gates(waiter)
            return

    def _response(self, frame: Frame) -> None:
        """A callee's answer reaches its caller."""
        if frame.done:
            return  # the caller gave up on it (timeout, lost hedge) already
        frame.done = True
        call = frame.call
        parent = frame.parent
        cause = frame.cause
        if call is None or parent is None:
            self._complete_root(frame, cause)
            return
        call.count(cause)
        if parent.window:
            call.tally.count(cause)
        if call.extras:
            self._attempt_over(frame, call, parent, cause)
        if frame.degraded and cause == OK:
            parent.degraded = True
        if frame.hedge is not None:
            self._hedge_result(frame, cause)
        elif cause == OK and frame.group is None:
            if not parent.dead:
                self._advance(parent)
        else:
            self._resolve(frame, cause)

    def _attempt_over(self, frame: Frame, call: CallPlan, parent: Frame, cause: int) -> None:
        """Bookkeeping when an attempt ends, by answer or by timeout: permits, retry slots,
        the breaker's window, outlier detection."""
        if frame.gate is not None or frame.pool is not None:
            self._release_gates(frame)
        now = self.now
        if call.retry_cap >= 0 and frame.attempt > 1 and frame.hedge is None:
            call.retry_active[parent.rep.index] -= 1
        if call.breaker:
            breaker = self._breaker(call, parent)
            breaker.record(now, cause != OK, now - frame.sent)
            self._arm(breaker)
        comp = call.target.comp
        rep = frame.rep
        if (comp.outlier is not None and rep is not NOWHERE
                and comp.outlier.record(now, rep.index, bool(HOST_FAILURES >> cause & 1))):
            rep.ejected = True
            rep.routable = False
            self._health_event(comp, rep, "ejected")

    def _timeout(self, frame: Frame) -> None:
        if frame.done:
            return
        frame.done = True  # the callee keeps working; its late answer is dropped
        call = frame.call
        parent = frame.parent
        if call is None or parent is None:
            return
        call.count(TIMEOUT)
        if parent.window:
            call.tally.count(TIMEOUT)
        if call.extras:
            self._attempt_over(frame, call, parent, TIMEOUT)
        if frame.hedge is not None:
            self._hedge_result(frame, TIMEOUT)
        else:
            self._resolve(frame, TIMEOUT)

    # -- hedging -----------------------------------------------------------------------------------
    def _schedule_hedge(self, call: CallPlan, first: Frame) -> None:
        delay = call.hedge_after
        if call.hedge_tracker is not None:
            delay = call.hedge_tracker.value  # -1 until enough answers were seen
        if delay > 0.0:
            self.heap.push(self.now + delay, HEDGE, first)

    def _hedge(self, first: Frame) -> None:
        """The hedge delay passed with no answer: send one more attempt elsewhere."""
        hedged = first.hedge
        call = first.call
        parent = first.parent
        if hedged is None or call is None or parent is None or hedged.done or parent.dead:
            return
        if hedged.sent >= call.hedge_max:
            return
        if call.hedge_budget >= 0.0 and call.hedges + 1 > call.hedge_budget * call.first:
            return
        hedged.sent += 1
        call.hedges += 1
        if parent.window:
            call.tally.hedges += 1
        self._send(parent, call, first.group, first.attempt, 0.0, first, hedged)
        if hedged.sent < call.hedge_max and not hedged.done:
            self._schedule_hedge(call, first)

    def _hedge_result(self, frame: Frame, cause: int) -> None:
        hedged = frame.hedge
        call = frame.call
        parent = frame.parent
        assert hedged is not None and call is not None and parent is not None
        hedged.outstanding -= 1
        if hedged.done:
            return
        tracker = call.hedge_tracker
        if tracker is not None and (cause == OK or (cause == TIMEOUT
                                                     and hedged.outstanding == 0)):
            # The call's latency from its first attempt's send, whichever attempt answered:
            # it exceeds d exactly when the first attempt took longer than d, so its
            # percentile is that of the unhedged latency (a timeout counts as at least its
            # wait). A winning hedge's own, shorter latency would pull the percentile down.
            tracker.add(self.now - hedged.started)
        if cause == OK:
            hedged.done = True
            if frame is not hedged.attempts[0] and parent.window:
                call.tally.hedge_wins += 1
            for other in hedged.attempts:
                if other is not frame and not other.done:
                    other.done = True  # cancelled: its answer is ignored
                    if other.gate is not None or other.pool is not None:
                        self._release_gates(other)
            hedged.attempts.clear()
            if frame.degraded:
                parent.degraded = True
            if frame.group is None:
                if not parent.dead:
                    self._advance(parent)
            else:
                self._call_done(parent, frame.group, OK, frame.attempt)
        elif hedged.outstanding == 0:
            hedged.done = True
            first = hedged.attempts[0]
            hedged.attempts.clear()
            self._resolve(first, cause)

    # -- outcomes ----------------------------------------------------------------------------------
    def _resolve(self, attempt: Frame, cause: int) -> None:
        """An attempt of a call ended: retry it, fall back, or move the caller on."""
        call = attempt.call
        parent = attempt.parent
        if call is None or parent is None or parent.dead:
            return
        if cause != OK:
            backoff = call.backoff
            if attempt.attempt < call.attempts and call.retry_on >> cause & 1 and backoff:
                wait = backoff.delay(attempt.attempt, attempt.delay)
                if self._may_retry(call, parent, attempt, wait):
                    attempt.delay = wait
                    if wait > 0.0:
                        self.push(self.now + wait, RETRY, attempt)
                    else:
                        self._send(parent, call, attempt.group, attempt.attempt + 1, wait,
                                   attempt, None)
                    return
                if attempt.call_deadline and self.now + wait >= attempt.call_deadline:
                    # The back-off runs into the call's deadline, which fails the call when
                    # it comes (Envoy's route timeout fires during the back-off).
                    self.push(attempt.call_deadline, DEADLINE_FAIL, attempt)
                    return
        self._failed(attempt, call, parent, cause)

    def _deadline_fail(self, attempt: Frame) -> None:
        call = attempt.call
        parent = attempt.parent
        if call is not None and parent is not None and not parent.dead:
            self._failed(attempt, call, parent, TIMEOUT)

    def _failed(self, attempt: Frame, call: CallPlan, parent: Frame, cause: int) -> None:
        """The call of this last attempt ends with `cause` (OK or a failure, which
        on_failure turns into what the caller sees)."""
        if cause != OK:
            call.failed += 1
            tally = call.tally if parent.window else None
            if tally is not None:
                tally.failed += 1
            if call.on_failure == CONTINUE:
                cause = OK
            elif call.on_failure == FALLBACK:
                call.fallbacks += 1
                if tally is not None:
                    tally.fallbacks += 1
                if call.degraded:
                    if tally is not None:
                        tally.degraded_count += 1
                    parent.degraded = True
                if call.fallback is not None:
                    self.push(self.now + call.fallback.draw(), FALLBACK_DONE, attempt)
                    return
                cause = OK
        self._call_done(parent, attempt.group, cause, attempt.attempt)

    def _may_retry(self, call: CallPlan, parent: Frame, attempt: Frame, wait: float) -> bool:
        """The deadline, the retry budget and Envoy's concurrent-retry cap must all allow it."""
        now = self.now
        if attempt.call_deadline and now + wait >= attempt.call_deadline:
            return False
        if call.budget is not None and not self._budget(call, parent).try_retry(now):
            return False
        if call.retry_cap >= 0:
            owner = parent.rep.index
            active = call.retry_active.get(owner, 0)
            if active >= call.retry_cap:
                if parent.window:
                    call.tally.retry_overflow += 1
                return False
            call.retry_active[owner] = active + 1
        return True

    def _retry(self, attempt: Frame) -> None:
        parent = attempt.parent
        call = attempt.call
        if parent is not None and call is not None and not parent.dead:
            self._send(parent, call, attempt.group, attempt.attempt + 1, attempt.delay,
                       attempt, None)
        elif call is not None and call.retry_cap >= 0 and parent is not None:
            call.retry_active[parent.rep.index] -= 1

    def _fallback_done(self, attempt: Frame) -> None:
        parent = attempt.parent
        if parent is not None and not parent.dead:
            self._call_done(parent, attempt.group, OK, attempt.attempt)

    def _call_done(self, parent: Frame, group: Group | None, cause: int, attempts: int) -> None:
        """A call of `parent` ended after `attempts` tries (its last attempt's number)."""
        if group is not None:
            if group.owner is not None:  # a call an area made
                group.owner.call_done(self, parent, cause, attempts)
                return
            if group.done:
                return
            if cause == OK:
                group.ok += 1
                if group.ok < group.need:
                    return
            else:
                group.failed += 1
                if group.failed <= group.total - group.need:
                    return
                parent.cause = cause
            group.done = True
        elif cause != OK:
            parent.cause = cause
        if parent.cause != OK:
            self._after_calls(parent)
        else:
            self._advance(parent)

    # -- requests leave ----------------------------------------------------------------------------
    def _complete_root(self, frame: Frame, cause: int) -> None:
        source = frame.root
        if isinstance(source, Root):
            source.finished(self, frame, cause)
            return
        if source is None:
            return
        now = self.now
        source.inflight -= 1
        sent = frame.sent
        if self.t_start <= sent < self.t_end:
            latency = now - sent
            source.count(cause)
            if cause == OK:
                source.hist.add(latency)
                if frame.degraded:
                    source.degraded += 1
            _answered_in_interval(source, frame, cause, latency)
            if frame.trace is not None and len(source.sampled) < MAX_SAMPLED:
                number = frame.trace[0][11]
                assert isinstance(number, int)
                source.sampled.append((latency, number, cause, frame.trace))
            self.counted -= 1
            source.window_inflight -= 1
            if self.closed:  # answered during the drain, not in the window
                source.drained += 1
                source.drained_ok += cause == OK
                if self.counted == 0:
                    self.heap.clear()  # every request of the window is answered
                    return
        elif now >= self.t_start and not self.closed:  # sent in the warm-up, answered now
            source.early += 1
            source.early_ok += cause == OK
            _answered_in_interval(source, frame, cause, now - sent)
        if source.users and not self.closed:
            assert source.think is not None
            self._after(source.think, USER_SEND, source)

    # -- queues (brokers) --------------------------------------------------------------------------
    def _publish(self, op: Op, frame: Frame) -> bool:
        """Hand the message `frame` publishes to every subscription (sim/data/delivery.py);
        refuse it if any is full."""
        subs = op.subs
        for sub in subs:
            if sub.full():
                return False
        for sub in subs:
            sub.publish(self, frame)
            if sub.backlog() > self.max_queued:
                raise SafetyStop(
                    f"stopped at t={self.now:.3f}s: {sub.backlog():,} messages waiting in "
                    f"'{op.comp.name}' passed simulation.limits.max_queued "
                    f"({self.max_queued:,}); its consumers cannot keep up with what is "
                    "published")
        return True

    # -- time --------------------------------------------------------------------------------------
    def _tick(self, _: object) -> None:
        """Close one time-series interval (the last one may be shorter, at the window end)."""
        now = self.now
        span = now - self.last_tick
        if span <= 1e-12:
            return  # the window end closed this interval already
        self.last_tick = now
        for comp in self.plan.comps:
            comp.settle(now)
            busy = (comp.area - comp.busy_snap) / span
            queue = (comp.qarea - comp.q_snap) / span
            visits = comp.ok + comp.failed
            level = busy / comp.capacity if comp.capacity else busy
            comp.series.add(now, level, queue, (visits - comp.visits_snap) / span,
                            (comp.rejected - comp.rejected_snap) / span)
            comp.busy_snap, comp.q_snap, comp.visits_snap = comp.area, comp.qarea, visits
            comp.rejected_snap = comp.rejected
        for wl in self.plan.workloads:
            ok = wl.interval_lat
            many = wl.interval_hist
            if many.count:  # more than MAX_INTERVAL_SAMPLES: percentiles within 0.5 %
                many.add_all(ok)
                p50, p95, p99 = (many.quantile(q) * 1e3 for q in (0.5, 0.95, 0.99))
                done = many.count
                many.reset()
            elif len(ok):
                p50, p95, p99 = (v * 1e3 for v in linear_quantiles(ok, (0.5, 0.95, 0.99)))
                done = len(ok)
            else:
                p50 = p95 = p99 = math.nan
                done = 0
            wl.series.add(now, done / span, wl.interval_failed / span, p50, p95, p99,
                          float(wl.inflight), wl.interval_degraded / span)
            wl.interval_lat = vec[float]()
            wl.interval_failed = wl.interval_degraded = 0
            wl.hist.maybe_flush()
        for call in self.plan.calls:
            call.close_interval(now, span)
            if call.breakers:
                states = [b.state for b in call.breakers.values()]
                call.breaker_series.add(now, states.count(OPEN) / len(states),
                                        states.count(HALF_OPEN) / len(states),
                                        float(sum(b.not_permitted
                                                  for b in call.breakers.values())))
        for op in self.plan.ops.values():
            op.hist.maybe_flush()
        for area in self.plan.areas:
            area.interval_end(self)
        if now + self.interval <= self.t_end + 1e-9:
            self.heap.push(now + self.interval, TICK, None)

    def _warmup_end(self, _: object) -> None:
        now = self.now
        for comp in self.plan.comps:
            comp.area = comp.qarea = comp.cpu = 0.0
            comp.last = comp.qlast = now
            comp.held_before = [rep.held_until(now) for rep in comp.replicas]
            comp.busy_snap = comp.q_snap = 0.0
            comp.ok = comp.failed = comp.rejected = comp.visits_snap = comp.rejected_snap = 0
            comp.by_cause = [0] * len(comp.by_cause)
            comp.qmax = comp.qstart = comp.qlen
            comp.series.clear()
            for op in comp.ops.values():
                op.hist.reset()
                op.clear_outcomes()
            for pool in comp.pools.values():
                pool.rejected = pool.max_active = 0
        for call in self.plan.calls:
            call.sent = call.retries = call.failed = call.fallbacks = call.first = 0
            call.hedges = 0
            call.clear_outcomes()
            call.breaker_series.clear()
            call.clear_traffic()
            for breaker in call.breakers.values():
                breaker.not_permitted = 0
            for gate in call.gates.values():
                gate.rejected = gate.max_active = 0
            for budget in call.budgets.values():
                budget.exhausted = 0
        for wl in self.plan.workloads:
            wl.interval_lat = vec[float]()
            wl.interval_hist.reset()
            wl.interval_failed = wl.interval_degraded = 0
            wl.degraded = 0
        for area in self.plan.areas:
            area.warmup_end(self)

    def _window_end(self, _: object) -> None:
        self._tick(None)
        self.closed = True
        now = self.now
        for comp in self.plan.comps:
            comp.settle(now)
        self.window_snapshot = [(c.area, c.qarea, c.cpu, c.ok, c.failed, c.rejected, c.qlen,
                                 c.held_in_window(now), list(c.by_cause))
                                for c in self.plan.comps]
        for area in self.plan.areas:
            area.window_end(self)
        if self.counted == 0:
            self.heap.clear()
        else:
            self.push(now + self.limits.drain, DRAIN_END, None)

    def _drain_end(self, _: object) -> None:
        self.unfinished = self.counted
        self.heap.clear()

    # -- health: probes, restarts, outlier detection -----------------------------------------------
    def _health_event(self, comp: Comp, rep: Replica, what: str) -> None:
        if len(self.health_events) < MAX_HEALTH_EVENTS:
            self.health_events.append((self.now, comp.name, rep.index, what))
        if comp.watcher is not None:
            comp.watcher(rep, what)  # a controller that counts ready replicas

    def _probe_passes(self, comp: Comp, rep: Replica, timeout: float) -> bool:
        """A probe answers when the replica runs, is not paused, and would serve the probe
        within its timeout: at once with a free worker, else after the queue ahead of it,
        each visit holding a worker for the mean work under the replica's latency faults, or
        for what the workers took since the last probe when they were busy throughout (calls
        to a slow dependency, a CPU shared by more visits than cores)."""
        measured = self._measured_hold(comp, rep)
        if not rep.up or rep.paused:
            return False
        if rep.busy < comp.workers:
            return True
        add = rep.work_add
        hold = max(comp.mean_work * rep.work_mul + (add.mean if add is not None else 0.0),
                   measured)
        return float(rep.queued + 1) * hold / comp.workers <= timeout

    def _measured_hold(self, comp: Comp, rep: Replica) -> float:
        """How long a visit held a worker of `rep` since its last probe, by Little's law:
        its workers × the time between the probes / the visits it finished meanwhile, when
        every worker was busy at both probes (0 otherwise: not measured; infinite when it
        finished none). Readiness and liveness probes share the measurement."""
        now = self.now
        if now > rep.probe_t:
            full = rep.up and not rep.paused and rep.busy >= comp.workers
            finished = rep.served - rep.probe_served
            rep.probe_hold = 0.0 if not (full and rep.probe_full) else \
                comp.workers * (now - rep.probe_t) / finished if finished else math.inf
            rep.probe_t = now
            rep.probe_served = rep.served
            rep.probe_full = full
        return rep.probe_hold

    def _probe_ready(self, target: tuple[Comp, Replica]) -> None:
        comp, rep = target
        health = comp.health
        assert health is not None
        if rep.retired:
            return
        if self._probe_passes(comp, rep, health.ready_timeout):
            rep.ready_fail = 0
            rep.ready_ok += 1
            if not rep.ready and rep.ready_ok >= health.ready_success:
                rep.ready = True
                rep.routable = not rep.ejected
                self._health_event(comp, rep, "ready")
        else:
            rep.ready_ok = 0
            rep.ready_fail += 1
            if rep.ready and rep.ready_fail >= health.ready_threshold:
                rep.ready = rep.routable = False
                self._health_event(comp, rep, "not_ready")
        self.push(self.now + health.ready_period, PROBE_READY, target)

    def _probe_live(self, target: tuple[Comp, Replica]) -> None:
        comp, rep = target
        health = comp.health
        assert health is not None
        if rep.retired:
            return
        if not rep.restarting:
            if self._probe_passes(comp, rep, health.live_timeout):
                rep.live_fail = 0
            else:
                rep.live_fail += 1
                if rep.live_fail >= health.live_threshold:
                    self._restart(comp, rep, health.restart_delay)
        self.push(self.now + health.live_period, PROBE_LIVE, target)

    def _restart(self, comp: Comp, rep: Replica, base_delay: float) -> None:
        """The kubelet kills the container and starts it again after CrashLoopBackOff."""
        now = self.now
        if now - rep.started >= BACKOFF_RESET_AFTER:
            rep.restarts = 0
        delay = min(base_delay * 2.0**rep.restarts, MAX_RESTART_DELAY)
        rep.restarts += 1
        rep.live_fail = 0
        rep.restarting = True
        # a container that is not running is not Ready, probe or not: the kubelet reports
        # it so and the Service's endpoints drop the pod until it runs (and passes) again
        rep.ready = rep.routable = False
        rep.ready_ok = 0
        self._health_event(comp, rep, "restart")
        self._set_up(comp, rep)
        self.push(now + delay, RESTARTED, (comp, rep))

    def _restarted(self, target: tuple[Comp, Replica]) -> None:
        comp, rep = target
        rep.restarting = False
        rep.started = self.now
        health = comp.health
        if health is None or health.ready_period <= 0:  # else ready once its probe passes
            rep.ready = True
            rep.routable = not (rep.ejected or rep.retired)
        self._set_up(comp, rep)

    def _outlier_sweep(self, comp: Comp) -> None:
        detector = comp.outlier
        assert detector is not None
        for index in detector.sweep(self.now):
            rep = comp.replicas[index]
            rep.ejected = False
            rep.routable = rep.ready
            self._health_event(comp, rep, "returned")
        self.push(self.now + detector.interval, OUTLIER_SWEEP, comp)

    # -- faults ------------------------------------------------------------------------------------
    def _fault(self, action: FaultAction) -> None:
        start = action.start
        if start:
            self.active_faults[action.index] = action
        else:
            self.active_faults.pop(action.index, None)
        comp = action.comp
        if action.net is not None:  # the hop's delay plus every active network fault's
            nets = sorted(i for i, a in self.active_faults.items()
                          if a.comp is comp and a.net is not None)
            comp.net = self.base_net[comp.index] if not nets else \
                self.active_faults[nets[0]].net if len(nets) == 1 else \
                self._summed_faults("network", tuple(nets))
        if action.partition == comp.index:  # its replicas cut off from their peers
            for rep in action.replicas:
                for area in self.replica_watchers:
                    area.peers_cut(self, comp, rep, start)
        elif action.partition >= 0:
            self._partition(comp.index, action.partition, action.partition_fast, start)
        for rep in action.replicas:
            if start:
                rep.faults.append(action.index)
                if action.pause_every > 0:
                    self.push(self.now, PAUSE_START, (action, rep))
                if action.mtbf > 0:
                    self._schedule_random_failure(action, rep)
            elif action.index in rep.faults:
                rep.faults.remove(action.index)
            self._apply_faults(comp, rep)

    def _summed_faults(self, effect: str, indices: tuple[int, ...]) -> Sampler | None:
        """One sampler for overlapping faults' added latency or network delay, made once per
        set of faults (the plan's, from the spec)."""
        key = (effect, indices)
        found = self.summed.get(key)
        if found is None and self.plan.summed_faults is not None:
            found = self.summed[key] = self.plan.summed_faults(effect, indices)
        return found

    def _partition(self, a: int, b: int, fast: bool, start: bool) -> None:
        for link in ((a, b), (b, a)):
            for table, on in ((self.partitions, True), (self.partition_fast, fast)):
                if not on:
                    continue
                count = table.get(link, 0) + (1 if start else -1)
                if count > 0:
                    table[link] = count
                else:
                    table.pop(link, None)

    def _apply_faults(self, comp: Comp, rep: Replica) -> None:
        active = [self.active_faults[i] for i in rep.faults if i in self.active_faults]
        rep.crashed = any(a.crash for a in active)
        rep.err_extra = min(1.0, sum(a.error_rate for a in active))
        rep.work_mul = math.prod(a.work_mul for a in active)
        adders = sorted(a.index for a in active if a.work_add is not None)
        rep.work_add = None if not adders else self.active_faults[adders[0]].work_add \
            if len(adders) == 1 else self._summed_faults("latency", tuple(adders))
        rep.slow = rep.work_mul != 1.0 or rep.work_add is not None
        self._set_up(comp, rep)

    def _set_up(self, comp: Comp, rep: Replica) -> None:
        was_up = rep.up
        rep.up = not (rep.crashed or rep.down_random or rep.restarting)
        if was_up and not rep.up:
            self._crash(comp, rep)
        if was_up != rep.up:
            for area in self.replica_watchers:
                area.replica_changed(self, comp, rep)

    def _pause_start(self, target: tuple[FaultAction, Replica]) -> None:
        action, rep = target
        now = self.now
        if action.index not in self.active_faults or rep.paused:
            return
        rep.paused = True
        rep.pause_started = now
        # the fault acts only in its window: a pause it cuts short ends with it
        self.push(min(now + action.pause_for, action.until), PAUSE_END, target)
        if now + action.pause_every < action.until:
            self.push(now + action.pause_every, PAUSE_START, target)

    def _pause_end(self, target: tuple[FaultAction, Replica]) -> None:
        action, rep = target
        rep.stall_total += self.now - rep.pause_started
        rep.paused = False
        for area in self.replica_watchers:
            area.replica_resumed(self, action.comp, rep)

    def _schedule_random_failure(self, action: FaultAction, rep: Replica) -> None:
        assert action.random_draws is not None
        at = self.now + action.random_draws.draw() * action.mtbf
        if at < action.until:
            self.push(at, RANDOM_FAIL, (action, rep))

    def _random_fail(self, target: tuple[FaultAction, Replica]) -> None:
        action, rep = target
        assert action.random_draws is not None
        rep.down_random = True
        self._set_up(action.comp, rep)
        self.push(self.now + action.random_draws.draw() * action.mttr, RANDOM_RECOVER, target)

    def _random_recover(self, target: tuple[FaultAction, Replica]) -> None:
        action, rep = target
        rep.down_random = False
        self._set_up(action.comp, rep)
        if action.index in self.active_faults:
            self._schedule_random_failure(action, rep)

    # -- replica sets: the named points where controllers (sim/control) change them ------------
    def join(self, comp: Comp, rep: Replica, lane: Lane | None = None) -> None:
        """A replica that has started enters rotation (and `lane`, under a traffic split):
        balancers see it, its probes run, and faults active on the whole component apply."""
        now = self.now
        rep.started = now
        health = comp.health
        probed = health is not None and health.ready_period > 0
        rep.ready = not probed  # with a readiness probe, ready once it passes
        rep.routable = rep.ready and not rep.ejected
        comp.live.append(rep)
        comp.balancer.update(comp.live)
        if lane is not None:
            lane.live.append(rep)
            lane.balancer.update(lane.live)
        if comp.outlier is not None:
            comp.outlier.join(rep.index)
        if health is not None:
            if probed:
                self.push(now + health.ready_delay, PROBE_READY, (comp, rep))
            if health.live_period > 0:
                self.push(now + health.live_delay, PROBE_LIVE, (comp, rep))
        for _, action in self.plan.faults:
            if action.start and action.replicas is comp.replicas and \
                    action.index in self.active_faults and action.index not in rep.faults:
                rep.faults.append(action.index)  # a fault on the whole component reaches it
                if action.pause_every > 0:
                    self.push(now, PAUSE_START, (action, rep))
                if action.mtbf > 0:
                    self._schedule_random_failure(action, rep)
        if rep.faults:
            self._apply_faults(comp, rep)
        for area in self.replica_watchers:
            area.replica_changed(self, comp, rep)

    def leave(self, comp: Comp, rep: Replica, lane: Lane | None = None) -> None:
        """A replica leaves rotation for good (scale-down, rollout): no new requests reach it;
        those it holds or has queued finish (Kubernetes' graceful termination)."""
        rep.retired = True
        rep.routable = False
        if comp.outlier is not None:
            comp.outlier.leave(rep.index)
        if rep in comp.live:
            comp.live.remove(rep)
            comp.balancer.update(comp.live)
        if lane is not None and rep in lane.live:
            lane.live.remove(rep)
            lane.balancer.update(lane.live)
        for area in self.replica_watchers:
            area.replica_changed(self, comp, rep)

    def kill(self, comp: Comp, rep: Replica) -> None:
        """The grace period is over: what the replica still holds fails (SIGKILL). Requests
        in service can only be failed where the replica tracks them (`inflight`)."""
        if rep.inflight is not None:
            self._crash(comp, rep)
            return
        now = self.now
        comp.settle(now)
        victims = list(rep.queue)
        comp.qlen -= rep.queued
        self.queued -= rep.queued
        rep.queue.clear()
        for frame in victims:
            frame.dead = True
            frame.op.count(CRASHED)
            tally(comp.by_cause, CRASHED)
            comp.failed += 1
            self._reply(frame, CRASHED)

    def _crash(self, comp: Comp, rep: Replica) -> None:
        """Everything at the replica fails now: queued requests and those in service."""
        now = self.now
        victims = list(rep.queue) + sorted(rep.inflight or (), key=lambda f: (f.t0, f.sent))
        comp.settle(now)
        comp.qlen -= rep.queued
        self.queued -= rep.queued
        comp.busy -= rep.busy
        rep.busy_s += float(rep.busy) * now
        rep.busy = 0
        rep.queue.clear()
        if rep.inflight is not None:
            rep.inflight.clear()
        for frame in victims:
            frame.dead = True
            frame.held = False
            frame.op.count(CRASHED)
            tally(comp.by_cause, CRASHED)
            comp.failed += 1
            self._reply(frame, CRASHED)
