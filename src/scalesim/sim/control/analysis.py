"""Argo Rollouts analysis runs, measured on one version's own requests at one component.

Argo takes a metric's first measurement when the run starts (after `initialDelay`), the
next one `interval` after it, or 10 s after a measurement error (generateMetricTasks,
DefaultErrorRetryInterval). A measurement queries the metric's current value, a PromQL range
of one interval ending now: the version's visits of the interval before it, whenever the run
started, taken from the counters the rollout samples every second (a scrape) and at each
measurement, the samples inside the range as PromQL takes them. The error rate is over all
of them, latency percentiles over the successful ones, from the difference of the streaming
histograms. An interval with no data is a measurement *error*, as in Argo: a Prometheus
query over no requests returns an empty vector, and the condition `result[0] <= max` cannot
be evaluated on it. Errors do not count towards `count` (Argo's runMeasurements counts only
successful, failed and inconclusive ones). Each metric then follows Argo's
assessMetricStatus: failed once failures exceed `failure_limit`, inconclusive once
inconclusive results exceed `inconclusive_limit`, error after more than
`consecutive_error_limit` errors in a row, and otherwise successful as soon as `count`
measurements are done, whatever their mix.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from scalesim.sim.metrics import PERCENTILES, _rank, bucket_values
from scalesim.sim.plan import OK, Op
from scalesim.spec.control import ERROR_RETRY, Analysis, LatencyCheck, RateCheck

RUNNING, SUCCESSFUL, FAILED, INCONCLUSIVE, ERROR = ("running", "successful", "failed",
                                                   "inconclusive", "error")
SCRAPE = 1.0  # seconds between two samples of the counters
EPS = 1e-9


@dataclass
class Window:
    """Counters of a version's operations at one time, to difference against later."""

    requests: int
    failed: int
    counts: np.ndarray
    total: float


def window(ops: list[Op]) -> Window:
    counts = None
    total = 0.0
    requests = failed = 0
    for op in ops:
        op.hist.flush()
        counts = op.hist.counts.copy() if counts is None else counts + op.hist.counts
        total += op.hist.total
        requests += sum(op.by_cause)
        failed += sum(op.by_cause) - op.by_cause[OK]
    assert counts is not None
    return Window(requests, failed, counts, total)


class History:
    """Samples of one version's counters over the longest range an analysis asks for."""

    def __init__(self, ops: list[Op], longest: float) -> None:
        self.ops = ops
        self.longest = longest
        self.samples: deque[tuple[float, Window]] = deque()

    def sample(self, now: float) -> Window:
        current = window(self.ops)
        self.samples.append((now, current))
        while len(self.samples) > 1 and self.samples[0][0] < now - self.longest - SCRAPE:
            self.samples.popleft()
        return current

    def since(self, start: float) -> Window:
        """The first sample inside a range that starts at `start` (PromQL's range selector);
        the oldest one when none is that old (the version had served nothing before)."""
        for t, sample in self.samples:
            if t >= start - EPS:
                return sample
        return self.samples[-1][1]


def measure(before: Window, now: Window, metric: str) -> float | None:
    """The metric over the interval between two windows; None without data. Counters that
    went down were reset (the warm-up ended): the later ones alone are the interval."""
    if now.requests < before.requests:
        before = Window(0, 0, np.zeros_like(now.counts), 0.0)
    requests = now.requests - before.requests
    if metric == "error_rate":
        return (now.failed - before.failed) / requests if requests else None
    counts = now.counts - before.counts
    count = int(counts.sum())
    if count == 0:
        return None
    if metric == "mean":
        return (now.total - before.total) / count
    rank = _rank(PERCENTILES[metric], count)
    index = int(np.searchsorted(np.cumsum(counts), rank))
    return float(bucket_values(np.array([index]))[0])


def verdict(check: RateCheck | LatencyCheck, value: float) -> str:
    """successCondition `value <= max`; with `fail_above`, failureCondition `value >
    fail_above` and inconclusive when neither holds."""
    if value <= check.max:
        return SUCCESSFUL
    if check.fail_above is not None and value <= check.fail_above:
        return INCONCLUSIVE
    return FAILED


@dataclass
class MetricState:
    name: str
    check: RateCheck | LatencyCheck
    count: int = 0  # measurements with a result (errors excluded, as Argo's Count)
    errors: int = 0
    successful: int = 0
    failed: int = 0
    inconclusive: int = 0
    errors_in_a_row: int = 0
    phase: str = RUNNING
    due: float = 0.0  # when its next measurement is to be taken


@dataclass
class AnalysisRun:
    """One run of an analysis (background, a step, pre- or post-promotion)."""

    spec: Analysis
    kind: str
    count: int | None  # measurements to take; None: until the rollout ends
    history: History
    metrics: list[MetricState] = field(default_factory=list)
    log: list[tuple[float, str, float | None, str]] = field(default_factory=list)

    @classmethod
    def start(cls, spec: Analysis, kind: str, now: float, history: History,
              count: int | None) -> AnalysisRun:
        run = cls(spec, kind, count, history)
        first = now + spec.initial_delay
        run.metrics = [MetricState(name, check, due=first) for name, check in spec.checks]
        return run

    def next_time(self) -> float:
        return min(m.due for m in self.metrics if m.phase == RUNNING)

    def measure(self, now: float) -> str:
        """Take the measurements due now, each over the interval before it; returns the
        run's phase."""
        current = self.history.sample(now)
        before = self.history.since(now - self.spec.interval)
        for state in self.metrics:
            if state.phase == RUNNING and state.due <= now + EPS:
                self._take(state, measure(before, current, state.name), now)
        return self.phase

    def _take(self, state: MetricState, value: float | None, now: float) -> None:
        if value is None:
            outcome = ERROR
            state.errors += 1
            state.errors_in_a_row += 1
        else:
            outcome = verdict(state.check, value)
            state.count += 1
            state.errors_in_a_row = 0
            if outcome == SUCCESSFUL:
                state.successful += 1
            elif outcome == FAILED:
                state.failed += 1
            else:
                state.inconclusive += 1
        self.log.append((now, state.name, value, outcome))
        state.due = now + (ERROR_RETRY if outcome == ERROR else self.spec.interval)
        state.phase = self._assess(state)

    def _assess(self, state: MetricState) -> str:
        """Argo's order: the failure, inconclusive and error limits, then the count (a run
        with `count: 3, failure_limit: 2` and two failures is successful)."""
        spec = self.spec
        if spec.failure_limit >= 0 and state.failed > spec.failure_limit:
            return FAILED
        if state.inconclusive > spec.inconclusive_limit:
            return INCONCLUSIVE
        if state.errors_in_a_row > spec.consecutive_error_limit:
            return ERROR
        if self.count is not None and state.count >= self.count:
            return SUCCESSFUL
        return RUNNING

    def verdict(self) -> str:
        """Why the run ended as it did, for a person: the metric and its last value."""
        spec = self.spec
        for state in self.metrics:
            if state.phase == RUNNING or state.phase == SUCCESSFUL:
                continue
            last = next((value for _, name, value, _ in reversed(self.log)
                         if name == state.name), None)
            shown = "no data" if last is None else (
                f"{last * 100:.2f}%" if state.name == "error_rate" else f"{last * 1e3:.1f} ms")
            limit = (f"{state.check.max * 100:g}%" if state.name == "error_rate"
                     else f"{state.check.max * 1e3:g} ms")
            if state.phase == FAILED:
                return (f"{state.name} {shown} over max {limit}: {state.failed} failed "
                        f"measurement(s) > failure_limit {spec.failure_limit}")
            if state.phase == ERROR:
                hint = ("no workload reaches the blue-green preview: add one with 'preview: "
                        "true', or analyse after the switch with post_promotion_analysis"
                        if self.kind == "pre-promotion" else
                        "does the new version get any traffic?")
                return (f"{state.name}: no requests to measure in {state.errors_in_a_row} "
                        f"measurements in a row (each a measurement error) > "
                        f"consecutive_error_limit {spec.consecutive_error_limit} ({hint})")
            return (f"{state.name} {shown}: {state.inconclusive} inconclusive > "
                    f"inconclusive_limit {spec.inconclusive_limit}")
        return self.phase

    @property
    def phase(self) -> str:
        phases = {m.phase for m in self.metrics}
        for worst in (ERROR, FAILED, INCONCLUSIVE, RUNNING):
            if worst in phases:
                return worst
        return SUCCESSFUL

