"""Workloads offered more than the system answers in the window: the rest waits and is
answered during the drain (or never)."""

from __future__ import annotations

from collections.abc import Iterator

from scalesim.diagnosis.context import MIN_BACKLOG, NOTABLE, Run
from scalesim.diagnosis.finding import Finding, count, rate, share


def overload(run: Run) -> Iterator[Finding]:
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
        yield Finding("overload", "problem", name,
                      f"{name}: offered {rate(offered)}, answered {rate(answered)} in the window",
                      None,
                      (f"{count(late)} requests of the window ({share(late / total)}) were "
                       "answered only after it ended, or never: the system did not keep up",),
                      None, {"offered_rps": offered, "throughput_rps": answered,
                             "late": late})
