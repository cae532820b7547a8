"""Rollouts: a Deployment rolling update, an Argo Rollouts canary, or a blue-green switch.

A rollout moves a component's replicas from its current version to a new one. It owns the
two replica sets' desired counts — from the workload's spec.replicas, which an autoscaler
may change meanwhile (the HPA scales the Rollout, as in Kubernetes) — and, with a traffic
split, the weights of the two versions. It is reconciled whenever the replica sets change
(a replica became ready, one terminated, the spec changed), when a pause or a delay ends,
and after each analysis measurement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scalesim.sim.area import Area
from scalesim.sim.control import counts
from scalesim.sim.control.analysis import (
    ERROR,
    FAILED,
    INCONCLUSIVE,
    RUNNING,
    SCRAPE,
    SUCCESSFUL,
    AnalysisRun,
    History,
)
from scalesim.sim.control.fleet import Fleet
from scalesim.sim.control.serial import Serial
from scalesim.sim.plan import Op
from scalesim.spec.control import Analysis, Rollout, Version, whole_percent

if TYPE_CHECKING:
    from scalesim.sim.kernel import Kernel

WAITING, PROGRESSING, PAUSED, PROMOTED, ABORTED = ("waiting", "progressing", "paused",
                                                   "promoted", "aborted")
MAX_LOG = 10_000


class Measurement:
    """A due measurement of an analysis run, as an event."""

    __slots__ = ("analysis", "rollout")

    def __init__(self, rollout: RolloutRun, analysis: AnalysisRun) -> None:
        self.rollout = rollout
        self.analysis = analysis


class RolloutRun:
    """One rollout of one component."""

    def __init__(self, fleet: Fleet, spec: Rollout, versions: dict[str, Version],
                 previewed: bool = False) -> None:
        self.fleet = fleet
        self.spec = spec
        self.previewed = previewed  # a workload is a client of the blue-green preview
        self.new = 1 + list(versions).index(spec.to)
        self.old = 0
        self.phase = WAITING
        self.reason = ""
        self.ended = -1.0
        self.step = 0
        self.wait_until = -1.0  # end of the current pause or delay; < 0: none
        self.weight = 0  # the canary's set weight, percent
        self.weights: list[tuple[float, int]] = []  # (t, traffic share of the new version)
        self.runs: list[AnalysisRun] = []
        self.background: AnalysisRun | None = None
        self.blocking: AnalysisRun | None = None  # a step's, or pre/post-promotion
        self.switched = False  # blue-green: the new version is active
        self.promoting = False  # blue-green: the preview is being scaled to full size
        self.ready_at = -1.0  # blue-green: when the preview became available
        self.scale_down_at = -1.0  # the losing set goes to zero from then on
        self.history: History | None = None  # the new version's counters, when analysed
        self.scrapes = 0
        self.kernel: Kernel | None = None
        self.timer_kind = self.measure_kind = self.scrape_kind = -1
        self._serial = Serial(self._reconcile)

    # -- plumbing ------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        assert self.kernel is not None
        return self.kernel.now

    def _timer(self, at: float) -> None:
        assert self.kernel is not None
        self.kernel.push(at, self.timer_kind, self)

    def _new_ops(self) -> list[Op]:
        ops = self.fleet.versions[self.new].ops
        assert ops is not None
        return list(ops.values())

    def _analyses(self) -> list[Analysis]:
        spec = self.spec
        return [a for a in (spec.analysis, spec.pre_promotion_analysis,
                            spec.post_promotion_analysis,
                            *(step.analysis for step in spec.steps)) if a is not None]

    def scrape(self) -> None:
        """Sample the new version's counters every SCRAPE seconds while the rollout
        progresses: a measurement's range may start before its analysis did."""
        assert self.kernel is not None and self.history is not None
        if self.phase != PROGRESSING:
            return
        self.history.sample(self.now)
        self.scrapes += 1
        self.kernel.push(self.spec.at + self.scrapes * SCRAPE, self.scrape_kind, self)

    def _start_analysis(self, spec: Analysis, kind: str, count: int | None) -> AnalysisRun:
        assert self.kernel is not None and self.history is not None
        run = AnalysisRun.start(spec, kind, self.now, self.history, count)
        self.runs.append(run)
        self.kernel.push(run.next_time(), self.measure_kind, Measurement(self, run))
        return run

    def _weigh(self, share: int) -> None:
        changed = not self.weights or self.weights[-1][1] != share
        if changed and len(self.weights) < MAX_LOG:
            self.weights.append((self.now, share))

    def _split_weights(self, new_share: float) -> None:
        weights = [0.0] * len(self.fleet.sets)
        weights[self.new] = new_share
        weights[self.old] = 1.0 - new_share
        self.fleet.set_weights(weights)

    @property
    def split(self) -> bool:
        return self.spec.strategy == "blue_green" or (
            self.spec.strategy == "canary" and self.spec.traffic_routing)

    # -- events --------------------------------------------------------------------------------
    def begin(self) -> None:
        self.phase = PROGRESSING
        if self.split:
            self.fleet.split()
            if self.previewed:  # Argo points the preview Service at the new set at once
                self.fleet.comp.preview = self.fleet.sets[self.new].lane
        self._weigh(0)
        analyses = self._analyses()
        if analyses:
            self.history = History(self._new_ops(), max(a.interval for a in analyses))
            self.scrape()
        if self.spec.strategy == "canary" and self.spec.analysis is not None and \
                (self.spec.analysis.starting_step or 0) == 0:
            self.background = self._start_analysis(self.spec.analysis, "background",
                                                   self.spec.analysis.count)
        self.reconcile()

    def measured(self, run: AnalysisRun) -> None:
        assert self.kernel is not None
        if run is not self.background and run is not self.blocking:
            return  # stopped meanwhile
        if self.phase in (PROMOTED, ABORTED):
            return
        phase = run.measure(self.now)
        if phase == RUNNING:
            self.kernel.push(run.next_time(), self.measure_kind, Measurement(self, run))
        elif phase in (FAILED, ERROR):
            self._abort(f"{run.kind} analysis {phase}: {run.verdict()}")
        elif phase == INCONCLUSIVE:
            self.phase = PAUSED
            self.reason = (f"paused: {run.kind} analysis inconclusive ({run.verdict()}); "
                           "Argo waits for a manual promote or abort")
        self.reconcile()

    # -- the reconcile loop --------------------------------------------------------------------
    def reconcile(self) -> None:
        """Scaling a set makes the fleet call back at once: that call runs after this one
        instead of inside it, so a step is advanced once."""
        self._serial()

    def _reconcile(self) -> None:
        if self.kernel is None:
            return
        replicas = self.fleet.spec_replicas
        if self.phase == WAITING:
            self.fleet.scale(self.old, replicas)
            return
        strategy = self.spec.strategy
        if strategy == "rolling":
            self._rolling(replicas)
        elif strategy == "canary":
            self._canary(replicas)
        else:
            self._blue_green(replicas)

    def _fenceposts(self, replicas: int) -> tuple[int, int]:
        return counts.fenceposts(replicas, self.spec.max_surge, self.spec.max_unavailable)

    def _sets(self) -> counts.Sets:
        fleet = self.fleet
        return counts.Sets(fleet.sets[self.new].desired, fleet.sets[self.old].desired,
                           fleet.available(self.new), fleet.available(self.old))

    def _rolling(self, replicas: int) -> None:
        fleet = self.fleet
        winner = self.old if self.phase == ABORTED else self.new
        loser = self.new if winner == self.old else self.old
        surge, unavailable = self._fenceposts(replicas)
        sets = self._sets()
        if winner == self.old:
            sets = counts.Sets(sets.old, sets.new, sets.old_available, sets.new_available)
        up, down = counts.rolling_update(replicas, sets, surge, unavailable)
        fleet.scale(winner, up)
        fleet.scale(loser, down)
        share = round(100 * fleet.available(self.new) / max(1, fleet.available(self.new)
                                                            + fleet.available(self.old)))
        self._weigh(share)
        if self.phase == PROGRESSING and fleet.sets[self.new].desired == replicas and \
                fleet.available(self.new) == replicas and fleet.created(self.old) == 0:
            self._promote()

    def _canary(self, replicas: int) -> None:
        spec = self.spec
        if self.phase == PROGRESSING:
            self._steps(replicas)
        if self.phase in (PROGRESSING, PAUSED):
            self._apply_canary(replicas, self.weight)
        elif spec.traffic_routing:
            self._finish_split(replicas)
        else:
            weight = 100 if self.phase == PROMOTED else 0
            self._apply_canary(replicas, weight)
            if self.phase == PROMOTED:
                self._weigh(100)

    def _apply_canary(self, replicas: int, weight: int) -> bool:
        """Scale towards the weight's counts; True when the sets are there."""
        fleet = self.fleet
        if self.spec.traffic_routing:
            new, old = counts.traffic_routed_canary(replicas, weight)
        else:
            surge, unavailable = self._fenceposts(replicas)
            new, old = counts.basic_canary(replicas, weight, self._sets(), surge, unavailable)
        fleet.scale(self.new, new)
        fleet.scale(self.old, old)
        if self.spec.traffic_routing:
            want_new, want_old = new, old
        else:
            surge, _ = self._fenceposts(replicas)
            want_new, want_old = counts.approximate_weight(replicas, weight, surge)
        return (fleet.sets[self.new].desired == want_new == fleet.available(self.new) and
                fleet.sets[self.old].desired == want_old == fleet.created(self.old))

    def _steps(self, replicas: int) -> None:
        spec = self.spec
        while self.phase == PROGRESSING and self.step < len(spec.steps):
            self._maybe_start_background()
            step = spec.steps[self.step]
            if step.set_weight is not None:
                self.weight = whole_percent(step.set_weight)
                if not self._apply_canary(replicas, self.weight):
                    return  # wait for the replica sets
                if spec.traffic_routing:
                    self._split_weights(self.weight / 100.0)
                    self._weigh(self.weight)
                else:
                    self._weigh(self._replica_share())
            elif step.pause is not None:
                if self.wait_until < 0.0:
                    self.wait_until = self.now + step.pause
                    self._timer(self.wait_until)
                    return
                if self.now < self.wait_until:
                    return
                self.wait_until = -1.0
            elif step.analysis is not None:
                if self.blocking is None:
                    self.blocking = self._start_analysis(step.analysis, f"step {self.step}",
                                                         step.analysis.count or 1)
                    return
                if self.blocking.phase != SUCCESSFUL:
                    return
                self.blocking = None
            self.step += 1
        if self.phase == PROGRESSING:
            self._promote_when_full(replicas)

    def _promote_when_full(self, replicas: int) -> None:
        """After the last step the canary's weight is 100 %. Argo promotes (shouldFullPromote)
        only once the new set has the whole spec available; until then a routed canary keeps
        the last step's weight (trafficrouting.go: the previous weight while the new set is
        not at its desired count), so no traffic goes to replicas that are not there."""
        self.weight = 100
        self._apply_canary(replicas, self.weight)
        if self.fleet.available(self.new) >= replicas:
            self._promote()

    def _maybe_start_background(self) -> None:
        analysis = self.spec.analysis
        if analysis is not None and self.background is None and \
                self.step >= (analysis.starting_step or 0):
            self.background = self._start_analysis(analysis, "background", analysis.count)

    def _replica_share(self) -> int:
        new, old = self.fleet.available(self.new), self.fleet.available(self.old)
        return round(100 * new / max(1, new + old))

    def _finish_split(self, replicas: int) -> None:
        """After a traffic-routed canary or blue-green ends: all traffic on the winner, the
        loser scaled down after its delay, the split removed once it is empty."""
        fleet = self.fleet
        winner = self.new if self.phase == PROMOTED else self.old
        loser = self.old if winner == self.new else self.new
        fleet.scale(winner, replicas)
        if self.now >= self.scale_down_at:
            fleet.scale(loser, 0)
            # After an abort the preview Service still selects the new set, now empty: its
            # clients' requests find no replica, so the split stays for them.
            kept = self.previewed and loser == self.new
            if fleet.sets[loser].pods == [] and self.fleet.comp.lanes is not None and not kept:
                fleet.unsplit()

    def _blue_green(self, replicas: int) -> None:
        spec = self.spec
        fleet = self.fleet
        if self.phase in (PROMOTED, ABORTED):
            self._finish_split(replicas)
            return
        if not self.switched:
            preview = replicas if self.promoting or spec.preview_replicas is None else \
                min(spec.preview_replicas, replicas)
            fleet.scale(self.new, preview)
            fleet.scale(self.old, replicas)
            if fleet.available(self.new) < preview or self.phase != PROGRESSING:
                return
            if self.ready_at < 0.0:
                self.ready_at = self.now
            if not self._pre_promotion_done():
                return
            if not spec.auto_promotion:
                self.phase = PAUSED
                self.reason = "waiting for a manual promotion (auto_promotion: false)"
                return
            if spec.auto_promotion_after is not None and \
                    self.now < self.ready_at + spec.auto_promotion_after:
                if self.wait_until < 0.0:
                    self.wait_until = self.ready_at + spec.auto_promotion_after
                    self._timer(self.wait_until)
                return
            if not self.promoting:
                self.promoting = True
                fleet.scale(self.new, replicas)
            # A preview already at full size (preview_replicas >= replicas) changes no set when
            # it scales, so no fleet event would call back: switch now instead of waiting.
            if fleet.available(self.new) < replicas:
                return
            self._split_weights(1.0)
            self._weigh(100)
            self.switched = True
            if spec.post_promotion_analysis is not None:
                self.blocking = self._start_analysis(spec.post_promotion_analysis,
                                                     "post-promotion",
                                                     spec.post_promotion_analysis.count or 1)
                return
            self._promote()
            return
        fleet.scale(self.new, replicas)
        if self.blocking is not None and self.blocking.phase == SUCCESSFUL:
            self.blocking = None
            self._promote()

    def _pre_promotion_done(self) -> bool:
        analysis = self.spec.pre_promotion_analysis
        if analysis is None:
            return True
        if self.blocking is None:
            if any(run.kind == "pre-promotion" for run in self.runs):
                return True
            self.blocking = self._start_analysis(analysis, "pre-promotion", analysis.count or 1)
            return False
        if self.blocking.phase == SUCCESSFUL:
            self.blocking = None
            return True
        return False

    # -- endings -------------------------------------------------------------------------------
    def _promote(self) -> None:
        self.phase = PROMOTED
        self.ended = self.now
        self.background = self.blocking = None
        if self.split:
            if self.spec.strategy == "canary":
                self._split_weights(1.0)
                self._weigh(100)
            self.scale_down_at = self.now + self.spec.scale_down_delay
            self._timer(self.scale_down_at)

    def _abort(self, why: str) -> None:
        self.phase = ABORTED
        self.ended = self.now
        self.reason = why
        self.background = self.blocking = None
        self.weight = 0
        if self.split:
            self._split_weights(0.0)
            self.scale_down_at = self.now + self.spec.abort_scale_down_delay
            self._timer(self.scale_down_at)
        self._weigh(0)


class Rollouts(Area):
    def __init__(self, runs: list[RolloutRun]) -> None:
        self.runs = runs

    def attach(self, kernel: Kernel) -> None:
        start = kernel.add_handler(self._start)
        timer = kernel.add_handler(self._timer)
        measure = kernel.add_handler(self._measure)
        scrape = kernel.add_handler(self._scrape)
        for run in self.runs:
            run.kernel = kernel
            run.timer_kind, run.measure_kind, run.scrape_kind = timer, measure, scrape
            run.fleet.listeners.append(run.reconcile)
            kernel.push(run.spec.at, start, run)

    def _start(self, run: object) -> None:
        assert isinstance(run, RolloutRun)
        run.begin()

    def _timer(self, run: object) -> None:
        assert isinstance(run, RolloutRun)
        run.reconcile()

    def _measure(self, item: object) -> None:
        assert isinstance(item, Measurement)
        item.rollout.measured(item.analysis)

    def _scrape(self, run: object) -> None:
        assert isinstance(run, RolloutRun)
        run.scrape()
