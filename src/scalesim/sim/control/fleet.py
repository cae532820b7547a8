"""A component's replica sets: the unit autoscalers and rollouts act on.

Each version of a component has a replica set with a desired count. The fleet keeps every
set's pods at its count the way the Kubernetes ReplicaSet controller does: a new pod waits
for a node (Pending), starts (`startup`: scheduling, image pull, boot), then joins rotation
and is ready once its readiness probe passes; a removed pod leaves rotation at once and
terminates gracefully — what it holds finishes, and after the grace period what is left
fails. Which pod goes first follows the ReplicaSet controller: unscheduled, then not ready,
then the most recently ready, then the newest.

The fleet also keeps the accounting a result needs (replica-seconds, the ready count over
time, scale events) and tells its listeners (a rollout) when the sets change.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scalesim.sim.control.serial import Serial
from scalesim.sim.data.messages import Consumption
from scalesim.sim.mechanisms.balancer import Balancer
from scalesim.sim.plan import Comp, Lane, Op, Replica
from scalesim.sim.random import Sampler
from scalesim.spec.data import Consumer, most_in_flight

if TYPE_CHECKING:
    from scalesim.sim.control.cluster import NodePool
    from scalesim.sim.kernel import Kernel

PENDING, STARTING, RUNNING, TERMINATING, GONE = range(5)
GRACE_PERIOD = 30.0  # terminationGracePeriodSeconds' default
DRAIN_POLL = 0.5  # how often a terminating replica is checked for having finished
MAX_EVENTS = 10_000


@dataclass
class VersionPlan:
    """A version of the component: its name, its operations (None: the spec's own) and how
    long its replicas take to start."""

    index: int
    name: str
    ops: dict[str, Op] | None
    startup: Sampler | None


class Pod:
    """One replica's life, as the controllers see it."""

    __slots__ = ("created", "deleted", "fleet", "rep", "started", "state", "transition",
                 "version")

    def __init__(self, fleet: Fleet, rep: Replica, version: int, now: float) -> None:
        self.fleet = fleet
        self.rep = rep
        self.version = version
        self.state = PENDING
        self.created = now
        self.started = -1.0  # when it joined rotation (its container runs)
        self.transition = -1.0  # last change of readiness
        self.deleted = -1.0


@dataclass
class ReplicaSet:
    version: VersionPlan
    desired: int = 0
    pods: list[Pod] = field(default_factory=list)
    lane: Lane | None = None


@dataclass
class Kinds:
    """Event kinds the owning area registered with the kernel."""

    started: int = -1
    drain: int = -1


class Fleet:
    def __init__(self, comp: Comp, versions: list[VersionPlan],
                 make_replica: Callable[[int], Replica],
                 make_balancer: Callable[[str, list[Replica]], Balancer],
                 workers: int, initial: int) -> None:
        self.comp = comp
        self.versions = versions
        self.make_replica = make_replica
        self.make_balancer = make_balancer
        self.workers = workers  # per replica; 0 when unlimited
        self.cores: float | None = None  # per replica, when the component models its CPU
        self.sets = [ReplicaSet(version) for version in versions]
        self.spec_replicas = initial  # the workload's spec.replicas (the HPA writes it)
        self.kernel: Kernel | None = None
        self.kinds = Kinds()
        self.nodes: NodePool | None = None
        self.prefetch: list[tuple[Consumption, Consumer]] = []  # subscriptions it prefetches
        self.listeners: list[Callable[[], None]] = []
        self._quiet = 0
        self._tell = Serial(self._tell_listeners)
        self.events: list[tuple[float, int, int, str]] = []  # (t, from, to, reason)
        self.by_rep: dict[int, Pod] = {}
        self.appeared = {0}  # versions that ever had pods (for the time series)
        # accounting over the measurement window
        self.window = (0.0, math.inf)
        self.last = 0.0
        self.scheduled_seconds = 0.0  # pods on a node: starting, running, terminating
        self.serving_seconds = 0.0  # pods with workers: running, terminating
        self.ready_seconds = 0.0
        self.ready_min = math.inf
        self.ready_max = 0
        self.ready_final = 0

    # -- set-up --------------------------------------------------------------------------------
    def adopt(self, now: float) -> None:
        """The component's replicas at the start belong to the first version, running."""
        base = self.sets[0]
        for rep in self.comp.replicas:
            pod = Pod(self, rep, 0, now)
            pod.state = RUNNING
            pod.started = pod.transition = now
            base.pods.append(pod)
            self.by_rep[rep.index] = pod
        base.desired = len(base.pods)
        self.comp.watcher = self.on_health
        self._changed()

    # -- what controllers ask ------------------------------------------------------------------
    def set_spec(self, replicas: int, reason: str) -> None:
        """The workload's spec.replicas changes (an autoscaler): without a rollout, the only
        set follows it; a rollout listening recomputes its sets."""
        assert self.kernel is not None
        if replicas == self.spec_replicas:
            return
        if len(self.events) < MAX_EVENTS:
            self.events.append((self.kernel.now, self.spec_replicas, replicas, reason))
        self.spec_replicas = replicas
        if not self.listeners:
            self.scale(self.live_version, replicas)
        self._notify()

    @property
    def live_version(self) -> int:
        """The version of the set that holds the fleet when no rollout splits it."""
        return max(range(len(self.sets)), key=lambda i: (self.sets[i].desired, -i))

    def scale(self, version: int, desired: int) -> None:
        """Make the set of `version` have `desired` pods (not counting terminating ones)."""
        rs = self.sets[version]
        desired = max(0, desired)
        alive = [p for p in rs.pods if p.state in (PENDING, STARTING, RUNNING)]
        if desired == rs.desired and len(alive) == desired:
            return
        rs.desired = desired
        if desired:
            self.appeared.add(version)
        self._quiet += 1  # one notification for the whole change
        try:
            if len(alive) < desired:
                for _ in range(desired - len(alive)):
                    self._create(rs)
            elif len(alive) > desired:
                for pod in sorted(alive, key=_deletion_rank)[:len(alive) - desired]:
                    self.delete(pod)
        finally:
            self._quiet -= 1
        self._changed()

    def split(self) -> None:
        """Route by version weights from now on (a mesh's weighted route): one lane per set."""
        comp = self.comp
        lanes = []
        for rs in self.sets:
            live = [p.rep for p in rs.pods if p.state == RUNNING]
            rs.lane = Lane(live, self.make_balancer(rs.version.name, live))
            lanes.append(rs.lane)
        lanes[0].weight = 1.0
        comp.lanes = lanes

    def set_weights(self, weights: list[float]) -> None:
        comp = self.comp
        assert comp.lanes is not None
        for lane, weight in zip(comp.lanes, weights, strict=True):
            lane.weight = weight

    def unsplit(self) -> None:
        self.comp.lanes = None
        self.comp.preview = None
        for rs in self.sets:
            rs.lane = None

    # -- counts ------------------------------------------------------------------------------
    def available(self, version: int) -> int:
        """Pods of the set in rotation and ready (minReadySeconds 0)."""
        return sum(1 for p in self.sets[version].pods if p.state == RUNNING and p.rep.ready)

    def created(self, version: int) -> int:
        """Pods of the set that exist and are not terminating (the RS's status.replicas)."""
        return sum(1 for p in self.sets[version].pods
                   if p.state in (PENDING, STARTING, RUNNING))

    def pods(self) -> list[Pod]:
        """Every pod not yet gone, all versions."""
        return [p for rs in self.sets for p in rs.pods]

    def counts(self, version: int) -> tuple[int, int, int, int, int]:
        """(desired, ready, starting, pending, terminating) of one set."""
        rs = self.sets[version]
        ready = starting = pending = terminating = 0
        for pod in rs.pods:
            if pod.state == PENDING:
                pending += 1
            elif pod.state == TERMINATING:
                terminating += 1
            elif pod.state == RUNNING and pod.rep.ready:
                ready += 1
            else:
                starting += 1
        return rs.desired, ready, starting, pending, terminating

    # -- pod lifecycle -------------------------------------------------------------------------
    def _create(self, rs: ReplicaSet) -> None:
        assert self.kernel is not None
        comp = self.comp
        rep = self.make_replica(len(comp.replicas))
        rep.version = rs.version.index
        rep.ops = rs.version.ops
        rep.ready = rep.routable = False
        comp.replicas.append(rep)
        pod = Pod(self, rep, rs.version.index, self.kernel.now)
        rs.pods.append(pod)
        self.by_rep[rep.index] = pod
        if self.nodes is None or self.nodes.request(self, pod):
            self.schedule(pod)

    def schedule(self, pod: Pod) -> None:
        """A node took the pod: it starts up, then joins rotation."""
        assert self.kernel is not None
        self._account()
        pod.state = STARTING
        startup = self.versions[pod.version].startup
        delay = startup.draw() if startup is not None else 0.0
        self.kernel.push(self.kernel.now + delay, self.kinds.started, pod)

    def started(self, pod: Pod) -> None:
        assert self.kernel is not None
        if pod.state != STARTING:
            return  # deleted while starting
        self._account()
        now = self.kernel.now
        pod.state = RUNNING
        pod.started = pod.transition = now
        self.kernel.join(self.comp, pod.rep, self.sets[pod.version].lane)
        self._changed()

    def delete(self, pod: Pod) -> None:
        """Remove a pod: at once if it has not started; gracefully if it serves."""
        assert self.kernel is not None
        self._account()
        now = self.kernel.now
        pod.deleted = now
        if pod.state == PENDING:
            assert self.nodes is not None
            self.nodes.cancel(pod)
            self._gone(pod, on_node=False)
        elif pod.state == STARTING:
            self._gone(pod, on_node=True)
        elif pod.state == RUNNING:
            pod.state = TERMINATING
            self.kernel.leave(self.comp, pod.rep, self.sets[pod.version].lane)
            self.kernel.push(now, self.kinds.drain, pod)
        self._changed()

    def drain_check(self, pod: Pod) -> None:
        """A terminating pod leaves once idle; past the grace period what it holds fails."""
        assert self.kernel is not None
        if pod.state != TERMINATING:
            return
        rep = pod.rep
        now = self.kernel.now
        if rep.queued and now >= pod.deleted + GRACE_PERIOD:
            self.kernel.kill(self.comp, rep)
        if rep.busy == 0 and rep.queued == 0:
            self._account()
            self._gone(pod, on_node=True)
            self._changed()
            return
        self.kernel.push(now + DRAIN_POLL, self.kinds.drain, pod)

    def _gone(self, pod: Pod, on_node: bool) -> None:
        pod.state = GONE
        pod.rep.retired = True
        self.sets[pod.version].pods.remove(pod)
        del self.by_rep[pod.rep.index]
        if on_node and self.nodes is not None:
            self.nodes.release()

    def on_health(self, rep: Replica, what: str) -> None:
        """The kernel's probes changed a replica's readiness (or restarted it)."""
        pod = self.by_rep.get(rep.index)
        if pod is None or pod.state != RUNNING:
            return
        assert self.kernel is not None
        if what in ("ready", "not_ready"):
            self._account()
            pod.transition = self.kernel.now
            self._changed()

    # -- bookkeeping ---------------------------------------------------------------------------
    def _changed(self) -> None:
        """Capacity, consumers' concurrency and the listeners follow the sets."""
        comp = self.comp
        serving = sum(1 for rs in self.sets for p in rs.pods if p.state in (RUNNING, TERMINATING))
        if self.workers:
            comp.capacity = self.workers * serving
        if self.kernel is not None:
            for sub, consumer in self.prefetch:
                limit = most_in_flight(consumer, None, len(comp.live))
                if limit != sub.concurrency:
                    sub.concurrency = limit
                    sub.concurrency_changed(self.kernel)  # waiting messages may go now
        self._record_ready()
        self._notify()

    def _notify(self) -> None:
        """Tell the listeners; changes they make meanwhile are told once more after them."""
        if not self._quiet:
            self._tell()

    def _tell_listeners(self) -> None:
        for listener in self.listeners:
            listener()

    def _tally(self) -> tuple[int, int, int]:
        scheduled = serving = ready = 0
        for rs in self.sets:
            for pod in rs.pods:
                if pod.state in (STARTING, RUNNING, TERMINATING):
                    scheduled += 1
                if pod.state in (RUNNING, TERMINATING):
                    serving += 1
                    ready += pod.state == RUNNING and pod.rep.ready
        return scheduled, serving, ready

    def _account(self) -> None:
        """Add the time since the last change to the integrals, within the window."""
        if self.kernel is None:
            return
        now = self.kernel.now
        start, end = self.window
        a, b = max(self.last, start), min(now, end)
        if b > a:
            scheduled, serving, ready = self._tally()
            self.scheduled_seconds += scheduled * (b - a)
            self.serving_seconds += serving * (b - a)
            self.ready_seconds += ready * (b - a)
        self.last = now

    def _record_ready(self) -> None:
        if self.kernel is None:
            return
        now = self.kernel.now
        start, end = self.window
        if start <= now <= end:
            ready = self._tally()[2]
            self.ready_min = min(self.ready_min, ready)
            self.ready_max = max(self.ready_max, ready)
            self.ready_final = ready

    def open_window(self) -> None:
        """The measurement window starts: integrals and extremes start afresh."""
        self._account()
        self.scheduled_seconds = self.serving_seconds = self.ready_seconds = 0.0
        self.ready_min = math.inf
        self.ready_max = 0
        self._record_ready()
        for version in self.versions[1:]:
            for op in (version.ops or {}).values():
                op.hist.reset()
                op.clear_outcomes()

    def close_window(self) -> None:
        self._account()
        self._record_ready()


def _deletion_rank(pod: Pod) -> tuple[int, int, float, float]:
    """The ReplicaSet controller's order of pods to delete (first = deleted first)."""
    state = 0 if pod.state == PENDING else 1 if pod.state == STARTING else 2
    ready = 1 if pod.state == RUNNING and pod.rep.ready else 0
    return state, ready, -pod.transition, -pod.created
