"""A queue whose backlog drained by the end, but only after its messages waited seconds: a
workload burst its consumers take long to absorb. Not a backlog that keeps growing
(`queues`), not a wait that a redelivery delay causes (the backlog stayed small), and not
an outage's (a fault on the queue or its consumer: that fault's findings tell it)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from scalesim.analytic.load import round_trip_s
from scalesim.diagnosis.consumer_sizing import Sizing, autoscaled_text, sized_changes
from scalesim.diagnosis.context import BACKLOG_S, MIN_BACKLOG, Run, unbounded_text
from scalesim.diagnosis.finding import Finding, Fix, count, duration, rate
from scalesim.diagnosis.subscriptions import Subscription, subscription_of
from scalesim.lint.load import admitted

LAG_S = 1.0  # a delivery lag p99 at or above this is a wait a user would notice


def lagging(run: Run) -> Iterator[Finding]:
    for name, queue in run.result.get("queues", {}).items():
        lag = (queue.get("lag_ms") or {}).get("p99")
        peak = (queue.get("lag_messages") or {}).get("max") or 0.0
        published = queue.get("published_rps") or 0.0
        if lag is None or lag / 1e3 < LAG_S or peak < max(MIN_BACKLOG, published * BACKLOG_S):
            continue
        sub = subscription_of(run, name)
        if sub.consumer_name in run.explained or run.faults_on(sub.consumer_name) \
                or run.faults_on(sub.queue) or not _bursts(run, sub.consumer_name):
            continue
        yield _finding(run, name, queue, sub, peak)


def _bursts(run: Run, consumer: str) -> bool:
    """Whether the workloads bring the consumer more at their peak than they keep up."""
    peak = admitted(run.system, peak=True).get(consumer)
    sustained = admitted(run.system, peak=False).get(consumer)
    return peak is not None and (sustained is None or peak.rate > sustained.rate * 1.01)


def _finding(run: Run, name: str, queue: dict[str, Any], sub: Subscription,
             peak: float) -> Finding:
    lag = queue["lag_ms"]
    at_peak = admitted(run.system, peak=True).get(sub.consumer_name)
    peak_rps = at_peak.rate if at_peak is not None else queue["published_rps"]
    evidence = [f"the backlog peaked at {count(peak)} messages and was "
                f"{count(queue['backlog_end'])} at the end; a message waited "
                f"{duration(lag['p50'] / 1e3)} at the median, {duration(lag['p99'] / 1e3)} "
                f"at p99, {duration(lag['max'] / 1e3)} at most",
                f"{rate(queue['published_rps'])} published on average; at the workload's "
                f"peak its consumers get up to {rate(peak_rps)} (failed deliveries again "
                "included)"]
    scaled = autoscaled_text(run, sub, peak_rps)
    evidence += [scaled] if scaled is not None else []
    delivery_s = round_trip_s(run.system, sub.target)
    sizing = sized_changes(run, sub, peak_rps, delivery_s, burst=True)
    changes = sizing.changes
    fix = Fix("if that wait is too long: raise " + " and ".join(t for t, _ in changes)
              + f", sized for the {rate(peak_rps)} of the peak" + _ready_text(sub, sizing),
              tuple(o for _, o in changes)) if changes else None
    if fix is None and not math.isfinite(delivery_s):
        fix = Fix(unbounded_text(run.system, sub.consumer_name))
    return Finding("backlog", "warning", name,
                   f"{name}: messages waited up to {duration(lag['max'] / 1e3)} (p99 "
                   f"{duration(lag['p99'] / 1e3)}) during a burst its consumers took long to "
                   "absorb; the backlog drained by the end",
                   sizing.limit, tuple(evidence), fix,
                   {"lag_p99_s": lag["p99"] / 1e3, "backlog_peak": peak,
                    "peak_delivered_rps": peak_rps})


def _ready_text(sub: Subscription, sizing: Sizing) -> str:
    """Why an autoscaled consumer's fix keeps the peak's fleet ready (its min) rather than
    only allowing it (its max): the autoscaler adds replicas sync by sync, after a burst has
    queued; from zero, KEDA activates it only at a poll. '' when min is not raised."""
    autoscale = sub.consumer.autoscale
    if autoscale is None or not sizing.ready:
        return ""
    zero = (f"; from zero KEDA activates {sub.consumer_name} only at a poll (every "
            f"{autoscale.polling:g} s), and a min above 0 gives up scaling to zero"
            if autoscale.min == 0 else "")
    return (f": the peak's fleet must be ready when the burst comes, as the autoscaler adds "
            f"replicas only sync by sync (every {autoscale.sync_period:g} s) once it has "
            f"queued, so a higher max alone leaves the wait{zero}")
