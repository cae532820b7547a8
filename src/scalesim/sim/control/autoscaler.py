"""Horizontal autoscalers: the Kubernetes HPA every sync period, and KEDA's activation loop
for queue metrics. Both read windowed metrics and write the workload's spec.replicas; they
never run per request.

The HPA (hpa.py does the arithmetic) sees each pod as the controller does: Pending and
starting pods are set aside; a pod running for less than one metrics window has no metric
yet (missing); for CPU, a pod is set aside while not ready, or within the CPU initialization
period until it has been ready for a whole window. KEDA scales 0 → 1 when a trigger is
active (more than `activation` messages), 1 → 0 after `cooldown` without activity, and hands
1 … max to the HPA through an External metric with an AverageValue target.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from scalesim.sim.area import Area
from scalesim.sim.control import hpa
from scalesim.sim.control.fleet import PENDING, RUNNING, STARTING, TERMINATING, Fleet
from scalesim.sim.control.usage import (
    ZERO,
    Counters,
    counters,
    cpu_request,
    cpu_utilization,
    requests_per_second,
    unacknowledged,
)
from scalesim.sim.data.messages import Consumption
from scalesim.sim.data.partitions import PartitionedSubscription
from scalesim.spec.control import Autoscale, Metric, ScalingRules

if TYPE_CHECKING:
    from scalesim.sim.kernel import Kernel

EPS = hpa.EPS


def rules(spec: ScalingRules) -> hpa.Rules:
    return hpa.Rules(spec.stabilization, spec.select, tuple(
        hpa.Policy(hpa.PODS, float(p.pods), p.period) if p.pods is not None
        else hpa.Policy(hpa.PERCENT, p.percent or 0.0, p.period) for p in spec.policies))


class Scaler:
    """The HPA (and KEDA) of one component."""

    def __init__(self, fleet: Fleet, spec: Autoscale,
                 queues: dict[str, list[Consumption]]) -> None:
        self.fleet = fleet
        self.spec = spec
        self.queues = queues  # queue name -> its subscriptions delivering to this component
        self.behavior = hpa.Behavior(rules(spec.scale_up), rules(spec.scale_down))
        self.snapshots: deque[tuple[float, dict[int, Counters]]] = deque()
        self.last_active = -1.0  # KEDA's lastActiveTime; < 0: never
        self.syncs = 0  # syncs done, so the next time is exact: syncs × sync_period
        self.polls = 0
        self.hpa_min = max(spec.min, 1)  # KEDA gives the HPA at least one replica

    # -- metrics -------------------------------------------------------------------------------
    def snapshot(self, now: float) -> None:
        taken = {p.rep.index: counters(p.rep) for p in self.fleet.pods()
                 if p.state in (RUNNING, TERMINATING)}
        self.snapshots.append((now, taken))
        keep = max(2, round(self.spec.window / self.spec.sync_period) + 2)
        while len(self.snapshots) > keep:
            self.snapshots.popleft()

    def baseline(self, now: float) -> dict[int, Counters] | None:
        start = now - self.spec.window
        for t, taken in self.snapshots:
            if abs(t - start) <= EPS:
                return taken
        return None

    def samples(self, metric: Metric, now: float,
                base: dict[int, Counters]) -> list[hpa.Sample]:
        spec = self.spec
        window = spec.window
        request = cpu_request(self.fleet.workers, self.fleet.cores)
        out = []
        for pod in self.fleet.pods():
            if pod.state == TERMINATING:
                continue  # a pod being deleted is not counted
            if pod.state in (PENDING, STARTING):
                out.append(hpa.Sample(hpa.IGNORED))
                continue
            if now - pod.started < window - EPS:
                out.append(hpa.Sample(hpa.MISSING))  # no whole metrics window yet
                continue
            before = base.get(pod.rep.index, ZERO)
            current = counters(pod.rep)
            if metric.cpu is not None:
                value = cpu_utilization(current, before, window, request)
                ignore = hpa.cpu_unready(now, pod.started, pod.rep.ready, pod.transition,
                                         window, spec.cpu_initialization,
                                         spec.initial_readiness_delay)
                out.append(hpa.Sample(hpa.IGNORED if ignore else hpa.COUNTED, value))
            else:
                out.append(hpa.Sample(hpa.COUNTED,
                                      requests_per_second(current, before, window)))
        return out

    def backlog(self, name: str) -> int:
        return sum(unacknowledged(sub) for sub in self.queues.get(name, []))

    def partitions(self, name: str) -> int | None:
        """The partitions of topic `name`, when it has them: KEDA's Kafka scaler caps the lag
        it reports at partitions × lagThreshold (allowIdleConsumers false, its default), so
        the HPA never asks for more replicas than partitions."""
        return next((len(sub.partitions) for sub in self.queues.get(name, [])
                     if isinstance(sub, PartitionedSubscription)), None)

    # -- the HPA -------------------------------------------------------------------------------
    def sync(self, now: float) -> None:
        spec = self.spec
        fleet = self.fleet
        current = fleet.spec_replicas
        self.behavior.record_initial(now, current)
        base = self.baseline(now)
        self.snapshot(now)
        if current == 0:
            return  # ScalingActive false: the target is scaled to zero (KEDA's business)
        if current > spec.max:
            self._rescale(now, current, spec.max, f"above max {spec.max}")
            return
        if current < self.hpa_min:
            self._rescale(now, current, self.hpa_min, f"below min {self.hpa_min}")
            return
        proposals: list[int | None] = []
        reasons: list[str] = []
        for metric in spec.metrics:
            proposal, reason = self._propose(metric, now, current, base)
            proposals.append(proposal)
            reasons.append(reason)
        combined = hpa.combine(current, proposals)
        if combined is None:
            return  # no metrics (yet), or a failed metric would hide a needed scale-up
        why = reasons[proposals.index(combined)]
        stabilized = self.behavior.stabilize(now, current, combined)
        desired, limited = self.behavior.limit(now, current, stabilized, self.hpa_min, spec.max)
        if desired != current:
            self._rescale(now, current, desired, why + (f" ({limited})" if limited else ""))

    def _propose(self, metric: Metric, now: float, current: int,
                 base: dict[int, Counters] | None) -> tuple[int | None, str]:
        spec = self.spec
        if metric.queue is not None:
            total = self.backlog(metric.queue.of)
            partitions = self.partitions(metric.queue.of)
            capped = total if partitions is None else min(total,
                                                          partitions * metric.queue.backlog)
            replicas = hpa.external_replicas(current, capped, metric.queue.backlog,
                                             spec.tolerance)
            return replicas, (f"queue {metric.queue.of}: {total} unacknowledged / "
                              f"{metric.queue.backlog} per replica" + (
                                  "" if capped == total else
                                  f", capped at {partitions} partitions × {metric.queue.backlog}"))
        if base is None:
            return None, ""
        samples = self.samples(metric, now, base)
        target = metric.cpu if metric.cpu is not None else metric.rps
        assert target is not None
        proposal = hpa.pod_metric_replicas(current, samples, target, spec.tolerance,
                                           resource=metric.cpu is not None)
        counted = [s.value for s in samples if s.state == hpa.COUNTED]
        average = sum(counted) / len(counted) if counted else 0.0
        if metric.cpu is not None:
            why = f"cpu {average * 100:.0f}% / target {metric.cpu * 100:.0f}%"
        else:
            why = f"rps {average:.1f} / target {target:g} per replica"
        return proposal, why

    def _rescale(self, now: float, current: int, desired: int, reason: str) -> None:
        self.fleet.set_spec(desired, reason)
        self.behavior.record_scale(now, current, desired)

    # -- KEDA ----------------------------------------------------------------------------------
    def poll(self, now: float) -> None:
        spec = self.spec
        fleet = self.fleet
        current = fleet.spec_replicas
        waiting = {m.of: self.backlog(m.of) for m in spec.queue_metrics}
        active_on = [m for m in spec.queue_metrics if waiting[m.of] > m.activation]
        if current == 0 and active_on:
            first = active_on[0]
            fleet.set_spec(self.hpa_min, f"keda: {first.of} has {waiting[first.of]} "
                           f"unacknowledged > activation {first.activation}")
            self.last_active = now
        elif not active_on and current > 0 and spec.min == 0:
            if self.last_active < 0.0 or self.last_active + spec.cooldown < now:
                fleet.set_spec(0, f"keda: no activity for cooldown {spec.cooldown:g}s")
        elif not active_on and current < spec.min:
            fleet.set_spec(spec.min, f"keda: below minReplicaCount {spec.min}")
        elif active_on:
            self.last_active = now


class Autoscalers(Area):
    def __init__(self, scalers: list[Scaler]) -> None:
        self.scalers = scalers
        self.kernel: Kernel | None = None
        self.sync_kind = self.snap_kind = self.poll_kind = -1

    def attach(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.sync_kind = kernel.add_handler(self._sync)
        self.snap_kind = kernel.add_handler(self._snap)
        self.poll_kind = kernel.add_handler(self._poll)
        for scaler in self.scalers:
            kernel.push(0.0, self.sync_kind, scaler)
            if scaler.spec.queue_metrics:
                kernel.push(0.0, self.poll_kind, scaler)

    def _sync(self, scaler: object) -> None:
        assert isinstance(scaler, Scaler) and self.kernel is not None
        period = scaler.spec.sync_period
        scaler.sync(self.kernel.now)
        scaler.syncs += 1
        nxt = scaler.syncs * period  # from the count, so the times stay exact
        self.kernel.push(nxt, self.sync_kind, scaler)
        window = scaler.spec.window
        if window < period - EPS:  # the window of the next sync starts between syncs
            self.kernel.push(nxt - window, self.snap_kind, scaler)

    def _snap(self, scaler: object) -> None:
        assert isinstance(scaler, Scaler) and self.kernel is not None
        scaler.snapshot(self.kernel.now)

    def _poll(self, scaler: object) -> None:
        assert isinstance(scaler, Scaler) and self.kernel is not None
        scaler.poll(self.kernel.now)
        scaler.polls += 1
        self.kernel.push(scaler.polls * scaler.spec.polling, self.poll_kind, scaler)
