"""Workloads offered more than the system answers in the window: the rest waits and is
answered during the drain (or never). Every window ends with requests in flight, answered
during the drain: only those beyond what a system that keeps up has in flight are late."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from scalesim.diagnosis.context import MIN_BACKLOG, NOTABLE, Run
from scalesim.diagnosis.finding import Finding, count, duration, rate, share
from scalesim.diagnosis.queues import NOISE_Z


def overload(run: Run) -> Iterator[Finding]:
    replications = int(run.result["replications"])
    for name, workload in run.result["workloads"].items():
        requests = workload["requests"]
        total = requests["total"]
        late = requests.get("drained", 0) + requests["failed_by_cause"].get("unfinished", 0)
        offered, answered = workload.get("offered_rps"), workload["throughput_rps"]
        # In a steady state answers keep pace with requests (those in flight at the end
        # balance those in flight at the start); a shortfall is a queue that grew.
        if not total or offered is None or offered - answered < NOTABLE * offered \
                or late < MIN_BACKLOG:
            continue
        flying = replications * in_flight(workload)
        if late <= flying + NOISE_Z * math.sqrt(flying):
            continue  # the requests in flight at the end: a window's edge, not a queue
        mean_ms = workload["latency_ms"].get("mean") or 0.0
        yield Finding("overload", "problem", name,
                      f"{name}: offered {rate(offered)}, answered {rate(answered)} in the window",
                      None,
                      (f"{count(late)} requests of the window ({share(late / total)}) were "
                       "answered only after it ended, or never, where a system that keeps up "
                       f"has about {count(flying)} in flight at the end ({rate(answered)} × "
                       f"its {duration(mean_ms / 1e3)} mean latency, Little's law): the "
                       "system did not keep up",),
                      None, {"offered_rps": offered, "throughput_rps": answered,
                             "late": late, "in_flight": flying})


def in_flight(workload: dict[str, Any]) -> float:
    """A workload's requests in flight at any moment of a run, by Little's law: its answers
    per second × their measured mean latency (0 when none was answered)."""
    mean_ms = workload["latency_ms"].get("mean")
    return workload["throughput_rps"] * mean_ms / 1e3 if mean_ms is not None else 0.0
