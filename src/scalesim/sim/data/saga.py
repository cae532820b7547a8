"""Sagas: ordered local transactions, undone in reverse by compensations when one fails.

A saga is a step of the operation that holds it. Each of its steps is a call with its own
timeout and retries (the saga's policy: Temporal's or Step Functions' defaults). When a step
up to the pivot fails after its retries, the compensations of the steps that committed run in
reverse order; a step after the pivot is retriable and never compensated, so if it still
fails the saga is stuck, as it is when a compensation fails after its retries.

Orchestration: the holding visit is the coordinator. It makes each call itself (so the
kernel's timeouts, retries and breakers apply), waits `transition` between steps, and goes
on when the saga ends; a compensated saga fails the visit. Choreography: the holding visit
publishes the first event and goes on at once. Every step, and every compensation, is an
event published through the saga's queue and delivered to the participant; a failed or
timed-out delivery is delivered again after the policy's back-off.

Measured per saga: completion time, outcome (succeeded, compensated, aborted — it failed
before anything committed —, stuck, unfinished), compensation time (from the failure to the
last compensation) and the window of inconsistency (from the first local commit to the
saga's end).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from scalesim.sim.area import Area
from scalesim.sim.mechanisms.backoff import Backoff
from scalesim.sim.metrics import Histogram
from scalesim.sim.plan import (
    OK,
    TIMEOUT,
    AreaStep,
    CallPlan,
    Frame,
    Group,
    Listener,
    Op,
    Root,
)
from scalesim.sim.random import Sampler

if TYPE_CHECKING:
    from scalesim.sim.kernel import Kernel

FORWARD: Final = 0
COMPENSATING: Final = 1
DONE: Final = 2
SUCCEEDED: Final = 0
COMPENSATED: Final = 1
ABORTED: Final = 2
STUCK: Final = 3
OUTCOMES = ("succeeded", "compensated", "aborted", "stuck")


class StepPlan:
    """One step: its call and its compensation (orchestration), or the operations the events
    go to and the redelivery policy (choreography)."""

    __slots__ = ("attempts", "backoff", "call", "compensated", "compensation", "failed",
                 "label", "retry_on", "target", "timeout", "undo_attempts", "undo_backoff",
                 "undo_retry_on", "undo_target")

    def __init__(self, label: str, target: Op) -> None:
        self.label = label
        self.target = target
        self.call: CallPlan | None = None
        self.compensation: CallPlan | None = None
        self.undo_target: Op | None = None
        self.timeout = 0.0  # choreography: a delivery slower than this is delivered again
        self.attempts = 1
        self.backoff: Backoff | None = None
        self.retry_on = 0  # causes that are delivered again (a bit per cause)
        self.undo_attempts = 1
        self.undo_backoff: Backoff | None = None
        self.undo_retry_on = 0
        self.failed = 0  # failed after all its attempts
        self.compensated = 0  # its compensation ran to the end

    @property
    def compensatable(self) -> bool:
        if self.call is not None:
            return self.compensation is not None  # orchestration
        return self.undo_target is not None


class SagaPlan(AreaStep):
    def __init__(self, name: str, steps: list[StepPlan], pivot: int, choreography: bool,
                 transition: Sampler | None, via: Op | None, trace_quota: int) -> None:
        self.name = name
        self.steps = steps
        self.pivot = pivot  # index of the pivot step (len(steps) when there is none)
        self.choreography = choreography
        self.transition = transition
        self.via = via  # choreography: the queue operation each event is published to
        self.trace_quota = trace_quota
        self.area: SagaArea | None = None
        self.started = 0
        self.outcomes = [0, 0, 0, 0]
        self.duration = Histogram()
        self.compensation = Histogram()
        self.inconsistency = Histogram()
        self.active: dict[SagaRun, None] = {}  # runs not ended, for the unfinished count
        self.traces: list[SagaRun] = []

    def start(self, kernel: Kernel, frame: Frame) -> bool:
        counted = kernel.now >= kernel.t_start
        run = SagaRun(self, None if self.choreography else frame, kernel.now, frame.key,
                      counted)
        if counted:
            self.started += 1
            self.active[run] = None
            if len(self.traces) < self.trace_quota:
                run.trace = []
                self.traces.append(run)
        run.forward(kernel)
        return not self.choreography

    def reset(self) -> None:
        self.started = 0
        self.outcomes = [0, 0, 0, 0]
        self.duration.reset()
        self.compensation.reset()
        self.inconsistency.reset()
        self.active.clear()
        self.traces.clear()
        for step in self.steps:
            step.failed = step.compensated = 0

    def ended(self, run: SagaRun, now: float, outcome: int) -> None:
        if not run.counted:
            return
        self.active.pop(run, None)
        self.outcomes[outcome] += 1
        if outcome == STUCK:
            return
        self.duration.add(now - run.started)
        if outcome == COMPENSATED:  # an aborted saga failed with nothing to undo
            self.compensation.add(now - run.failed_at)
        if run.first_commit >= 0.0:
            self.inconsistency.add(now - run.first_commit)


class SagaRun(Listener):
    """One execution of a saga."""

    def __init__(self, plan: SagaPlan, frame: Frame | None, now: float, key: int,
                 counted: bool) -> None:
        self.plan = plan
        self.frame = frame  # the waiting coordinator visit (orchestration)
        self.key = key
        self.started = now
        self.counted = counted
        self.phase = FORWARD
        self.index = 0  # the step running, or being compensated
        self.first_commit = -1.0
        self.failed_at = -1.0
        self.cause = OK  # why the step that failed failed
        self.tries = 0  # deliveries of the current event so far (orchestration: the call's
        # tries, known when it ends)
        self.delay = 0.0  # choreography: the last back-off
        self.token = 0  # choreography: answers of an event given up on carry an older one
        self.sent = now
        self.outcome_of = -1  # SUCCEEDED, COMPENSATED, STUCK; -1 while it runs
        self.trace: list[tuple[str, str, float, float, int, int]] | None = None

    # -- moving on ------------------------------------------------------------------------------
    def forward(self, kernel: Kernel) -> None:
        """Run step `index`, or end the saga when every step committed."""
        if self.index == len(self.plan.steps):
            self.end(kernel, SUCCEEDED)
        else:
            self.begin(kernel)

    def compensate_next(self, kernel: Kernel) -> None:
        """Undo the next committed step below `index`, or end: compensated, or aborted when
        nothing had committed."""
        steps = self.plan.steps
        while self.index > 0:
            self.index -= 1
            if steps[self.index].compensatable:
                self.begin(kernel)
                return
        self.end(kernel, COMPENSATED if self.first_commit >= 0.0 else ABORTED)

    def begin(self, kernel: Kernel) -> None:
        """Start the current step or compensation: after the coordinator's transition time
        (orchestration), or at once."""
        self.tries = 0
        self.delay = 0.0
        self.sent = kernel.now
        transition = self.plan.transition
        if transition is not None and not self.plan.choreography:
            area = self.plan.area
            assert area is not None
            kernel.push(kernel.now + transition.draw(), area.send_kind, self)
        else:
            self.send(kernel)

    def send(self, kernel: Kernel) -> None:
        """Send the current step's call or event (or its compensation's)."""
        frame = self.frame
        if frame is not None and frame.dead:
            return  # the coordinator crashed: nobody carries the saga on
        step = self.plan.steps[self.index]
        if not self.plan.choreography:
            assert frame is not None
            call = step.call if self.phase == FORWARD else step.compensation
            assert call is not None
            kernel.call(frame, call, Group(1, 1, self))
            return
        self.tries += 1
        self.token += 1
        via = self.plan.via
        assert via is not None
        hop = Frame(via, None, None, None, self.tries, self.key, kernel.now)
        hop.root = SagaEvent(self, self.token, False)
        kernel.enter_message(hop)

    # -- outcomes -------------------------------------------------------------------------------
    def call_done(self, kernel: Kernel, frame: Frame, cause: int, attempts: int) -> None:
        """Orchestration: the coordinator's call for the current step ended, after
        `attempts` tries (the kernel retried it)."""
        self.tries = attempts
        self.outcome(kernel, cause)

    def outcome(self, kernel: Kernel, cause: int) -> None:
        """The current step (or compensation) ended, after all its attempts."""
        now = kernel.now
        step = self.plan.steps[self.index]
        if self.trace is not None:
            kind = "step" if self.phase == FORWARD else "compensation"
            self.trace.append((step.label, kind, self.sent, now, cause, max(1, self.tries)))
        if self.phase == FORWARD:
            if cause == OK:
                if self.first_commit < 0.0:
                    self.first_commit = now
                self.index += 1
                self.forward(kernel)
                return
            if self.counted:
                step.failed += 1
            self.cause = cause
            if self.index > self.plan.pivot:
                self.end(kernel, STUCK)  # a retriable step cannot be undone
                return
            self.phase = COMPENSATING
            self.failed_at = now
            self.compensate_next(kernel)
            return
        if cause == OK:
            if self.counted:
                step.compensated += 1
            self.compensate_next(kernel)
        else:
            self.end(kernel, STUCK)

    def end(self, kernel: Kernel, outcome: int) -> None:
        self.phase = DONE
        self.outcome_of = outcome
        self.plan.ended(self, kernel.now, outcome)
        frame = self.frame
        if frame is not None and not frame.dead:
            kernel.step_done(frame, OK if outcome == SUCCEEDED else self.cause)

    # -- choreography: events through the queue -------------------------------------------------
    def published(self, kernel: Kernel, token: int, cause: int) -> None:
        """The event reached the broker (or not): deliver it to the participant."""
        if token != self.token or self.phase == DONE:
            return
        if cause != OK:
            self.retry(kernel, cause)
            return
        step = self.plan.steps[self.index]
        target = step.target if self.phase == FORWARD else step.undo_target
        assert target is not None
        delivery = Frame(target, None, None, None, self.tries, self.key, kernel.now)
        delivery.root = SagaEvent(self, token, True)
        kernel.enter_message(delivery)
        if self.phase == FORWARD and step.timeout > 0.0:
            area = self.plan.area
            assert area is not None
            kernel.push(kernel.now + step.timeout, area.timeout_kind, (self, token))

    def delivered(self, kernel: Kernel, token: int, cause: int) -> None:
        if token != self.token or self.phase == DONE:
            return  # a delivery given up on already (it timed out)
        if cause == OK:
            self.outcome(kernel, OK)
        else:
            self.retry(kernel, cause)

    def timed_out(self, kernel: Kernel, token: int) -> None:
        if token == self.token and self.phase != DONE:
            self.retry(kernel, TIMEOUT)

    def retry(self, kernel: Kernel, cause: int) -> None:
        """Deliver the event again after the back-off, or give the step up."""
        self.token += 1  # whatever the failed delivery still answers is ignored
        step = self.plan.steps[self.index]
        forward = self.phase == FORWARD
        attempts = step.attempts if forward else step.undo_attempts
        backoff = step.backoff if forward else step.undo_backoff
        retry_on = step.retry_on if forward else step.undo_retry_on
        if self.tries >= attempts or backoff is None or not retry_on >> cause & 1:
            self.outcome(kernel, cause)
            return
        self.delay = backoff.delay(self.tries, self.delay)
        area = self.plan.area
        assert area is not None
        kernel.push(kernel.now + self.delay, area.send_kind, self)


class SagaEvent(Root):
    """A choreographed saga's event: its publication to the queue, or its delivery."""

    __slots__ = ("delivery", "run", "token")

    def __init__(self, run: SagaRun, token: int, delivery: bool) -> None:
        self.run = run
        self.token = token
        self.delivery = delivery

    def finished(self, kernel: Kernel, frame: Frame, cause: int) -> None:
        if self.delivery:
            self.run.delivered(kernel, self.token, cause)
        else:
            self.run.published(kernel, self.token, cause)


class SagaArea(Area):
    """Timers of the sagas (transitions, redeliveries, delivery timeouts) and their warm-up."""

    def __init__(self, plans: list[SagaPlan]) -> None:
        self.plans = plans
        self.kernel: Kernel | None = None
        self.send_kind = -1
        self.timeout_kind = -1
        for plan in plans:
            plan.area = self

    def bound_buffers(self) -> None:
        for plan in self.plans:
            for hist in (plan.duration, plan.compensation, plan.inconsistency):
                hist.maybe_flush()

    def attach(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.send_kind = kernel.add_handler(self._send)
        self.timeout_kind = kernel.add_handler(self._timeout)
        if kernel.t_start > 0.0:
            kernel.push(kernel.t_start, kernel.add_handler(self._warmup), None)

    def _send(self, obj: object) -> None:
        assert isinstance(obj, SagaRun) and self.kernel is not None
        if obj.phase != DONE:
            obj.send(self.kernel)

    def _timeout(self, obj: object) -> None:
        assert isinstance(obj, tuple) and self.kernel is not None
        run, token = obj
        assert isinstance(run, SagaRun) and isinstance(token, int)
        run.timed_out(self.kernel, token)

    def _warmup(self, _: object) -> None:
        for plan in self.plans:
            plan.reset()
