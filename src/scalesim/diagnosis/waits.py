"""A timeout for the call whose wait sets a missed latency SLO: sized from the SLO target
less the time the request spends elsewhere on its path, with the share of calls it cuts off
read from the callee's measured latency distribution, and checked against the error-rate
SLO (a cut-off call fails unless a fallback answers it)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from scalesim.diagnosis.context import Run, dotted
from scalesim.diagnosis.finding import duration, share
from scalesim.spec.demand import extra_s
from scalesim.spec.model import Call, ParallelStep, plain_steps

# The measured percentiles of a latency, as (quantile, key), that a cut-off share is read from.
QUANTILES = ((0.5, "p50"), (0.9, "p90"), (0.95, "p95"), (0.99, "p99"), (0.999, "p999"),
             (1.0, "max"))

Waited = Callable[[str, Call], float | None]  # a call's wait at the percentile, in ms


@dataclass(frozen=True)
class Timeout:
    """A timeout proposed for one call: where it sits, its size, the share of calls it cuts
    off, and whether something (a fallback) answers those, else the error-rate SLO's verdict."""

    edge: str  # caller→callee
    path: tuple[str | int, ...]
    ms: int
    rest_ms: float  # the time the path spends outside the call at the percentile
    cut: float  # the share of the callee's measured calls slower than the timeout
    fallback: bool
    errors_ok: bool  # the error-rate SLO still holds with the cut-off calls failing

    @property
    def override(self) -> str:
        return f"{dotted(self.path)}.timeout={self.ms}ms"

    def text(self, check: dict[str, Any]) -> str:
        """The advice: the timeout, how it was sized, and what the cut-off calls become."""
        sized = (f"set a timeout of {self.ms} ms on {self.edge}: the {check['name']} target of "
                 f"{duration(check['target_ms'] / 1e3)} less the "
                 f"{duration(self.rest_ms / 1e3)} the path spends elsewhere at that "
                 f"percentile; it cuts off about {share(self.cut)} of the calls (the "
                 "callee's measured latencies)")
        if self.fallback:
            return sized + ", which its fallback answers"
        if self.errors_ok:
            return sized + ", which fail: the error-rate SLO still holds with them"
        return sized + (", which fail without a fallback: add one (on_failure: {fallback: …}) "
                        "or the error-rate SLO is missed instead")


def propose(run: Run, path: list[str], check: dict[str, Any], waited: Waited) -> Timeout | None:
    """A timeout on the call from path[-2] to path[-1] that brings the request's percentile
    under the target: the target less the rest of the path, per attempt, rounded down to two
    significant digits. None when the call cannot be found, the percentile is the mean (a
    timeout caps a tail, not an average), no time is left, the call's timeout is that short
    already, or it would cut off most calls (under the callee's median: no fix, an outage)."""
    caller, callee = path[-2], path[-1]
    found = run.call_at(caller, callee)
    if found is None or check["name"] == "mean":
        return None
    where, call = found
    call = run.system.effective(call)
    rest = _rest_ms(run, path, waited)
    attempts = call.retry.attempts if call.retry is not None else 1
    ms = _round_down((check["target_ms"] - rest) / attempts)
    latency = run.latency_ms(callee)
    median = latency.get("p50")
    if ms is None or median is None or ms < median or \
            (call.timeout is not None and ms >= call.timeout * 1e3):
        return None
    cut = _share_past(latency, ms)
    fallback = not isinstance(call.on_failure, str)
    return Timeout(f"{caller}→{callee}", where, ms, rest, cut, fallback,
                   fallback or _errors_hold(run, check["scope"], cut))


def _rest_ms(run: Run, path: list[str], waited: Waited) -> float:
    """The time a request spends along `path` outside its last call: each earlier step's own
    mean work and, at the percentile, the calls it waits on off the path (a parallel group
    holding the path's call runs beside it, so it adds nothing). Adding percentiles
    overstates their sum's, so the timeout errs short."""
    rest = 0.0
    for step, following in pairwise(path):
        component, operation = step.split(".", 1)
        spec = run.system.components[component].effective_operations[operation]
        rest += (spec.demand.mean_s + extra_s(run.system, component, operation)) * 1e3
        for group in plain_steps(spec.calls):
            calls = group.parallel.calls if isinstance(group, ParallelStep) else [group]
            targets = {".".join(run.system.resolve(c.to)) for c in calls}
            if following in targets:
                continue
            rest += max((waited(step, c) or 0.0 for c in calls if not c.async_), default=0.0)
    return rest


def _round_down(ms: float) -> int | None:
    """`ms` down to two significant digits (352 → 350, 199 → 190), a readable setting that
    stays under the budget; None when there is no whole millisecond left."""
    if ms < 1:
        return None
    step = 10 ** max(0, math.floor(math.log10(ms)) - 1)
    return int(ms // step * step)


def _share_past(latency: dict[str, float | None], ms: float) -> float:
    """The share of measured calls slower than `ms`, interpolated between the measured
    percentiles (at least the median's, as `propose` only asks above it)."""
    points = [(q, latency[key]) for q, key in QUANTILES if latency.get(key) is not None]
    for (q_low, low), (q_high, high) in pairwise(points):
        assert low is not None and high is not None
        if ms < high:
            reached = q_low + (q_high - q_low) * max(0.0, ms - low) / (high - low)
            return 1.0 - reached
    return 0.0


def _errors_hold(run: Run, scope: str, cut: float) -> bool:
    """Whether the scope's error-rate SLO (if it has one) still holds with `cut` of its
    requests failing on top of the measured error rate (one call a request: the share of
    calls cut off is the share of requests)."""
    for check in run.result.get("slo", {}).get("checks", []):
        if check["scope"] == scope and check["name"] == "error_rate":
            return bool(check["actual"] + cut <= check["target"])
    return True
