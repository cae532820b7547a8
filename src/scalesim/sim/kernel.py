"""The event loop and the step interpreter.

Events are (time, sequence, kind, object) tuples on a binary heap; the sequence number
breaks ties first-in-first-out, which makes runs deterministic. Each request visit is a
`Frame` that walks its operation's steps: queue for a worker, work, calls (sync, async,
parallel), post_work, respond. Zero-length hops and work are done inline without an event,
and the success path avoids every call it can: this loop is where all the time goes.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable
from heapq import heappush

import numpy as np

from scalesim.sim.compile import Plan
from scalesim.sim.mechanisms.circuit_breaker import CircuitBreaker
from scalesim.sim.plan import (
    CIRCUIT_OPEN,
    CONTINUE,
    CRASHED,
    ERROR,
    FALLBACK,
    NOWHERE,
    OK,
    REJECTED,
    TIMEOUT,
    CallPlan,
    Comp,
    FaultAction,
    Frame,
    Group,
    Op,
    ParPlan,
    Replica,
    Subscription,
    Workload,
)
from scalesim.spec.model import Limits

(ARRIVE, DELIVER, WORK_DONE, POST_DONE, RESPONSE, TIMEOUT_EV, RETRY, FALLBACK_DONE, USER_SEND,
 TICK, WARMUP_END, WINDOW_END, DRAIN_END, FAULT) = range(14)
PROGRESS_EVERY = 1 << 16


class SafetyStop(Exception):
    """A run passed a documented safety limit; the message says which and why."""


class Kernel:
    def __init__(self, plan: Plan, warmup: float, duration: float, interval: float,
                 limits: Limits, progress: Callable[[float], None] | None = None) -> None:
        self.plan = plan
        self.heap: list[tuple[float, int, int, object]] = []
        self.seq = itertools.count()
        self.now = 0.0
        self.t_start = warmup
        self.t_end = warmup + duration
        self.interval = interval
        self.limits = limits
        self.progress = progress
        self.closed = False  # past the window: no new requests
        self.counted = 0  # requests from the window still in flight
        self.inflight = 0
        self.queued = 0
        self.events = 0
        self.unfinished = 0
        self.last_tick = warmup
        self.window_snapshot: list[tuple[float, float, float, int, int, int]] = []
        self.active_faults: dict[int, FaultAction] = {}
        self.handlers: list[Callable[[object], None]] = [  # indexed by event kind
            self._arrive, self._deliver, self._work_done, self._post_done,  # type: ignore[list-item]
            self._response, self._timeout, self._retry, self._fallback_done,  # type: ignore[list-item]
            self._user_send, self._tick, self._warmup_end, self._window_end,  # type: ignore[list-item]
            self._drain_end, self._fault,  # type: ignore[list-item]
        ]
        for at, action in plan.faults:
            self.push(at, FAULT, action)

    def push(self, t: float, kind: int, obj: object) -> None:
        heappush(self.heap, (t, next(self.seq), kind, obj))

    def run(self) -> None:
        for wl in self.plan.workloads:
            if wl.users:
                for _ in range(wl.users):
                    self.push(wl.think.draw() if wl.think else 0.0, USER_SEND, wl)
            else:
                first = wl.arrivals.next_after(0.0)
                if first < self.t_end:
                    self.push(first, ARRIVE, wl)
        if self.t_start > 0:
            self.push(self.t_start, WARMUP_END, None)
        self.push(self.t_start + self.interval, TICK, None)
        self.push(self.t_end, WINDOW_END, None)
        heap = self.heap
        pop = heapq.heappop
        handlers = self.handlers
        max_events = self.limits.max_events
        events = 0
        while heap:
            t, _, kind, obj = pop(heap)
            self.now = t
            handlers[kind](obj)
            events += 1
            if not events & (PROGRESS_EVERY - 1):
                if events >= max_events:
                    self.events = events
                    raise SafetyStop(
                        f"stopped at t={t:.3f}s after {events:,} events: the limit "
                        f"simulation.limits.max_events ({max_events:,}) was reached")
                if self.progress is not None:
                    self.progress(min(1.0, t / self.t_end))
        self.events = events

    # -- requests enter ----------------------------------------------------------------------------
    def _arrive(self, wl: Workload) -> None:
        self._new_request(wl)
        nxt = wl.arrivals.next_after(self.now)
        if nxt < self.t_end:
            heappush(self.heap, (nxt, next(self.seq), ARRIVE, wl))

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
        if now >= self.t_start:
            self.counted += 1
        self.inflight += 1
        if self.inflight > self.limits.max_in_flight:
            raise SafetyStop(
                f"stopped at t={now:.3f}s: {self.inflight:,} requests in flight passed "
                f"simulation.limits.max_in_flight ({self.limits.max_in_flight:,}); the "
                "offered load is more than the system can serve")
        wl.inflight += 1
        self._enter(wl.target, wl, key, now)

    def _enter(self, target: Op, source: Workload | Subscription, key: int,
               sent: float) -> None:
        """Send the first visit of a request (or a message delivery) into the system."""
        frame = Frame(target, None, None, None, 1, key, sent)
        frame.root = source
        net = target.comp.net
        if net is None:
            self._deliver(frame)
        else:
            heappush(self.heap, (self.now + net.draw(), next(self.seq), DELIVER, frame))

    # -- a visit at a component --------------------------------------------------------------------
    def _deliver(self, frame: Frame) -> None:
        """A request reaches a component (or a non-blocking one comes back for post_work):
        a worker now, a place in the replica's FIFO queue, or a rejection."""
        comp = frame.op.comp
        rep = frame.rep
        if rep is NOWHERE:
            rep = frame.rep = comp.replicas[comp.balancer.pick(frame.key)]
            frame.t0 = self.now
            if not rep.up:
                frame.op.by_cause[CRASHED] += 1
                comp.failed += 1
                self._reply(frame, CRASHED)
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
            rep.queued += 1
            rep.queue.append(frame)
            self.queued += 1
            if self.queued > self.limits.max_queued:
                raise SafetyStop(
                    f"stopped at t={now:.3f}s: {self.queued:,} requests waiting in queues "
                    f"passed simulation.limits.max_queued ({self.limits.max_queued:,}); "
                    f"'{comp.name}' cannot keep up with its load")
        else:
            frame.op.by_cause[REJECTED] += 1
            comp.rejected += 1
            comp.failed += 1
            self._reply(frame, REJECTED)

    def _start(self, frame: Frame, rep: Replica, comp: Comp) -> None:
        now = self.now
        comp.area += comp.busy * (now - comp.last)
        comp.last = now
        comp.busy += 1
        rep.busy += 1
        frame.held = True
        if rep.inflight is not None:
            rep.inflight.add(frame)
        op = frame.op
        if frame.step:  # a non-blocking operation back for its post_work
            self._post_work(frame)
            return
        work = op.work.draw() if op.work is not None else 0.0
        if rep.slow:
            work = work * rep.work_mul + (rep.work_add.draw() if rep.work_add else 0.0)
        if work > 0.0:
            comp.cpu += work
            heappush(self.heap, (now + work, next(self.seq), WORK_DONE, frame))
        elif op.steps:
            self._advance(frame)
        elif op.post is None:
            self._finish(frame)
        else:
            self._after_calls(frame)

    def _work_done(self, frame: Frame) -> None:
        if frame.dead:
            return
        op = frame.op
        if op.steps:
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
                if step.async_:
                    self._send_async(frame, step)
                    continue
                self._send(frame, step, None, 1, 0.0)
                return
            if self._fan_out(frame, step):
                return
        if frame.op.post is None:
            self._finish(frame)
        else:
            self._after_calls(frame)

    def _fan_out(self, frame: Frame, step: ParPlan) -> bool:
        """Start a parallel step; True when the frame must now wait for its branches."""
        group = Group(frame, step.need, len(step.calls))
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
            self._send(frame, call, group, 1, 0.0)
        # Sending may have finished the group (and moved the frame on) already.
        return not satisfied or frame.dead or frame.step != position

    def _after_calls(self, frame: Frame) -> None:
        if frame.cause != OK or frame.op.post is None:
            self._finish(frame)
        elif frame.held:
            self._post_work(frame)
        else:  # non-blocking: post_work needs a worker again, in turn with new requests
            self._deliver(frame)

    def _post_work(self, frame: Frame) -> None:
        op = frame.op
        assert op.post is not None
        post = op.post.draw()
        if frame.rep.slow:
            post *= frame.rep.work_mul
        op.comp.cpu += post
        heappush(self.heap, (self.now + post, next(self.seq), POST_DONE, frame))

    def _post_done(self, frame: Frame) -> None:
        if not frame.dead:
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
            elif op.subs and not self._publish(op):
                cause = REJECTED
        if frame.held:
            self._release(frame)
        now = self.now
        if cause == OK:
            comp.ok += 1
            op.hist.add(now - frame.t0)
        else:
            comp.failed += 1
        op.by_cause[cause] += 1
        frame.cause = cause
        if comp.net is None and frame.parent is not None:
            self._response(frame)  # the common reply, without the call to _reply
        else:
            self._reply(frame, cause)

    def _release(self, frame: Frame) -> None:
        """Free the frame's worker and give it to the next request waiting, if any."""
        rep = frame.rep
        comp = frame.op.comp
        now = self.now
        frame.held = False
        comp.area += comp.busy * (now - comp.last)
        comp.last = now
        comp.busy -= 1
        rep.busy -= 1
        if rep.inflight is not None:
            rep.inflight.discard(frame)
        if rep.queue:
            nxt = rep.queue.popleft()
            rep.queued -= 1
            self.queued -= 1
            comp.qarea += comp.qlen * (now - comp.qlast)
            comp.qlast = now
            comp.qlen -= 1
            self._start(nxt, rep, comp)

    def _reply(self, frame: Frame, cause: int) -> None:
        """Send the visit's outcome back over the network to whoever waits for it."""
        frame.cause = cause
        if frame.parent is None and frame.root is None:
            return  # an async call: nobody waits
        net = frame.op.comp.net
        if net is None:
            self._response(frame)
        else:
            heappush(self.heap, (self.now + net.draw(), next(self.seq), RESPONSE, frame))

    # -- calls -------------------------------------------------------------------------------------
    def _send_async(self, frame: Frame, call: CallPlan) -> None:
        call.sent += 1
        child = Frame(call.target, None, call, None, 1, frame.key, self.now)
        net = call.target.comp.net
        if net is None:
            self._deliver(child)
        else:
            heappush(self.heap, (self.now + net.draw(), next(self.seq), DELIVER, child))

    def _breaker(self, call: CallPlan, caller: Frame) -> CircuitBreaker:
        settings = call.breaker_settings
        assert settings is not None
        owner = -1 if settings.shared else caller.rep.index
        breaker = call.breakers.get(owner)
        if breaker is None:
            breaker = call.breakers[owner] = settings.build()
        return breaker

    def _send(self, parent: Frame, call: CallPlan, group: Group | None, attempt: int,
              delay: float) -> None:
        now = self.now
        child = Frame(call.target, parent, call, group, attempt, parent.key, now)
        call.sent += 1
        if attempt > 1:
            call.retries += 1
            child.delay = delay
        if call.breaker and not self._breaker(call, parent).try_acquire(now):
            child.done = True
            call.by_cause[CIRCUIT_OPEN] += 1
            self._resolve(child, CIRCUIT_OPEN)
            return
        if call.timeout:
            heappush(self.heap, (now + call.timeout, next(self.seq), TIMEOUT_EV, child))
        net = call.target.comp.net
        if net is None:
            self._deliver(child)
        else:
            heappush(self.heap, (now + net.draw(), next(self.seq), DELIVER, child))

    def _response(self, frame: Frame) -> None:
        """A callee's answer reaches its caller."""
        if frame.done:
            return  # the caller gave up on it (timeout) already
        frame.done = True
        call = frame.call
        parent = frame.parent
        cause = frame.cause
        if call is None or parent is None:
            self._complete_root(frame, cause)
            return
        call.by_cause[cause] += 1
        if call.breaker:
            self._breaker(call, parent).record(self.now, cause != OK, self.now - frame.sent)
        if cause == OK and frame.group is None:
            if not parent.dead:
                self._advance(parent)
        else:
            self._resolve(frame, cause)

    def _timeout(self, frame: Frame) -> None:
        if frame.done:
            return
        frame.done = True  # the callee keeps working; its late answer is dropped
        call = frame.call
        parent = frame.parent
        if call is None or parent is None:
            return
        call.by_cause[TIMEOUT] += 1
        if call.breaker:
            self._breaker(call, parent).record(self.now, True, self.now - frame.sent)
        self._resolve(frame, TIMEOUT)

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
                attempt.delay = wait
                if wait > 0.0:
                    self.push(self.now + wait, RETRY, attempt)
                else:
                    self._send(parent, call, attempt.group, attempt.attempt + 1, wait)
                return
            call.failed += 1
            if call.on_failure == CONTINUE:
                cause = OK
            elif call.on_failure == FALLBACK:
                call.fallbacks += 1
                if call.fallback is not None:
                    self.push(self.now + call.fallback.draw(), FALLBACK_DONE, attempt)
                    return
                cause = OK
        self._call_done(parent, attempt.group, cause)

    def _retry(self, attempt: Frame) -> None:
        parent = attempt.parent
        call = attempt.call
        if parent is not None and call is not None and not parent.dead:
            self._send(parent, call, attempt.group, attempt.attempt + 1, attempt.delay)

    def _fallback_done(self, attempt: Frame) -> None:
        parent = attempt.parent
        if parent is not None and not parent.dead:
            self._call_done(parent, attempt.group, OK)

    def _call_done(self, parent: Frame, group: Group | None, cause: int) -> None:
        if group is not None:
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
        self.inflight -= 1
        source = frame.root
        if isinstance(source, Subscription):
            self._delivered(source, frame, cause)
            return
        if source is None:
            return
        now = self.now
        source.inflight -= 1
        sent = frame.sent
        if self.t_start <= sent < self.t_end:
            latency = now - sent
            source.by_cause[cause] += 1
            if cause == OK:
                source.hist.add(latency)
                source.interval_lat.append(latency)
            else:
                source.interval_failed += 1
            self.counted -= 1
            if self.closed and self.counted == 0:
                self.heap.clear()  # every request of the window is answered
                return
        if source.users and not self.closed:
            think = source.think.draw() if source.think else 0.0
            heappush(self.heap, (now + think, next(self.seq), USER_SEND, source))

    # -- queues (brokers) --------------------------------------------------------------------------
    def _publish(self, op: Op) -> bool:
        """Buffer a published message for every subscription; refuse it if any is full."""
        subs = op.subs
        for sub in subs:
            if 0 <= sub.capacity <= len(sub.buffer):
                return False
        for sub in subs:
            sub.buffer.append(self.now)
            self._dispatch(sub)
        return True

    def _dispatch(self, sub: Subscription) -> None:
        while sub.inflight < sub.concurrency and sub.buffer:
            published = sub.buffer.popleft()
            sub.inflight += 1
            self.inflight += 1
            self._enter(sub.target, sub, sub.delivered + sub.failed + sub.inflight, published)

    def _delivered(self, sub: Subscription, frame: Frame, cause: int) -> None:
        sub.inflight -= 1
        if cause == OK:
            sub.delivered += 1
            sub.lag.add(self.now - frame.sent)
        else:
            sub.failed += 1
        self._dispatch(sub)

    # -- time --------------------------------------------------------------------------------------
    def _tick(self, _: object) -> None:
        """Close one time-series interval (the last one may be shorter, at the window end)."""
        now = self.now
        span = now - self.last_tick
        if span <= 1e-12:
            return  # the window end closed this interval already
        self.last_tick = now
        for comp in self.plan.comps:
            comp.area += comp.busy * (now - comp.last)
            comp.last = now
            comp.qarea += comp.qlen * (now - comp.qlast)
            comp.qlast = now
            busy = (comp.area - comp.busy_snap) / span
            queue = (comp.qarea - comp.q_snap) / span
            visits = comp.ok + comp.failed
            level = busy / comp.capacity if comp.capacity else busy
            comp.series.append((now, level, queue, (visits - comp.visits_snap) / span))
            comp.busy_snap, comp.q_snap, comp.visits_snap = comp.area, comp.qarea, visits
        for wl in self.plan.workloads:
            ok = wl.interval_lat
            if ok:
                p50, p95, p99 = (float(v) * 1e3 for v in np.quantile(ok, (0.5, 0.95, 0.99)))
            else:
                p50 = p95 = p99 = math.nan
            wl.series.append((now, len(ok) / span, wl.interval_failed / span, p50, p95, p99))
            ok.clear()
            wl.interval_failed = 0
            wl.hist.maybe_flush()
        for op in self.plan.ops.values():
            op.hist.maybe_flush()
        if now + self.interval <= self.t_end + 1e-9:
            heappush(self.heap, (now + self.interval, next(self.seq), TICK, None))

    def _warmup_end(self, _: object) -> None:
        now = self.now
        for comp in self.plan.comps:
            comp.area = comp.qarea = comp.cpu = 0.0
            comp.last = comp.qlast = now
            comp.busy_snap = comp.q_snap = 0.0
            comp.ok = comp.failed = comp.rejected = comp.visits_snap = 0
            comp.qmax = comp.qlen
            comp.series.clear()
            for op in comp.ops.values():
                op.hist.reset()
                op.by_cause = [0] * len(op.by_cause)
        for call in self.plan.calls:
            call.sent = call.retries = call.failed = call.fallbacks = 0
            call.by_cause = [0] * len(call.by_cause)
            for breaker in call.breakers.values():
                breaker.not_permitted = 0
        for sub in self.plan.subscriptions:
            sub.delivered = sub.failed = 0
            sub.lag.reset()
        for wl in self.plan.workloads:
            wl.interval_lat.clear()
            wl.interval_failed = 0

    def _window_end(self, _: object) -> None:
        self._tick(None)
        self.closed = True
        now = self.now
        for comp in self.plan.comps:
            comp.area += comp.busy * (now - comp.last)
            comp.last = now
            comp.qarea += comp.qlen * (now - comp.qlast)
            comp.qlast = now
        self.window_snapshot = [(c.area, c.qarea, c.cpu, c.ok, c.failed, c.rejected)
                                for c in self.plan.comps]
        if self.counted == 0:
            self.heap.clear()
        else:
            self.push(now + self.limits.drain, DRAIN_END, None)

    def _drain_end(self, _: object) -> None:
        self.unfinished = self.counted
        self.heap.clear()

    # -- faults ------------------------------------------------------------------------------------
    def _fault(self, action: FaultAction) -> None:
        if action.start:
            self.active_faults[action.index] = action
        else:
            self.active_faults.pop(action.index, None)
        for rep in action.replicas:
            if action.start:
                rep.faults.append(action.index)
            elif action.index in rep.faults:
                rep.faults.remove(action.index)
            self._apply_faults(action.comp, rep)

    def _apply_faults(self, comp: Comp, rep: Replica) -> None:
        active = [self.active_faults[i] for i in rep.faults if i in self.active_faults]
        was_up = rep.up
        rep.up = not any(a.crash for a in active)
        rep.err_extra = min(1.0, sum(a.error_rate for a in active))
        rep.work_mul = math.prod(a.work_mul for a in active)
        adders = [a.work_add for a in active if a.work_add is not None]
        rep.work_add = adders[0] if adders else None
        rep.slow = rep.work_mul != 1.0 or rep.work_add is not None
        if was_up and not rep.up:
            self._crash(comp, rep)

    def _crash(self, comp: Comp, rep: Replica) -> None:
        """Everything at the replica fails now: queued requests and those in service."""
        now = self.now
        victims = list(rep.queue) + sorted(rep.inflight or (), key=lambda f: (f.t0, f.sent))
        comp.qarea += comp.qlen * (now - comp.qlast)
        comp.qlast = now
        comp.qlen -= rep.queued
        self.queued -= rep.queued
        comp.area += comp.busy * (now - comp.last)
        comp.last = now
        comp.busy -= rep.busy
        rep.busy = rep.queued = 0
        rep.queue.clear()
        if rep.inflight is not None:
            rep.inflight.clear()
        for frame in victims:
            frame.dead = True
            frame.op.by_cause[CRASHED] += 1
            comp.failed += 1
            self._reply(frame, CRASHED)
