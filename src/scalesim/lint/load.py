"""The load each worker-limited component admits, from the analytic layer's offered load
(ρ = λ·E[hold] / (replicas·workers), no retries, no queueing; an autoscaled component's
replicas are its `autoscale.max`).

Two loads are kept. The sustained one has every workload at the rate it holds to the end (a
profile's last point); the peak one has every workload at its highest rate. A component's
`rate_limit` caps what it admits: refused requests cost no worker time, so ρ counts only the
admitted ones (a per-workload limit caps each workload's share separately)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scalesim.analytic.load import offered_load, rate_cap
from scalesim.spec.model import System, Workload


@dataclass(frozen=True)
class Load:
    """Admitted requests per second, worker time per request, busy workers, ρ."""

    rate: float
    hold_s: float
    busy: float
    rho: float
    leader: bool = False  # ρ is the leader's: only it serves the busy operations


def sustained(workload: Workload) -> Workload:
    """The workload at the rate it keeps to the end of the run."""
    if workload.profile is None:
        return workload
    return workload.model_copy(update={"profile": None, "rate": workload.profile[-1].rate})


def _with(system: System, workloads: list[Workload]) -> System:
    return system.model_copy(update={"workloads": workloads})


def admitted(system: System, peak: bool) -> dict[str, Load]:
    """Each worker-limited component's admitted load, at the peak or the sustained rates."""
    workloads = list(system.workloads) if peak else [sustained(w) for w in system.workloads]
    total = offered_load(_with(system, workloads))
    alone: dict[str, list[float]] = {}  # per workload, for per-workload rate limits
    loads = {}
    for name, component in system.components.items():
        workers = component.worker_limit
        load = total[name]
        if workers is None or load.arrival_rate_rps == 0.0:
            continue
        rate = load.arrival_rate_rps
        limit, cap = component.rate_limit, rate_cap(component)
        if limit is not None and cap is not None and not math.isinf(rate):
            if limit.per_workload:
                if not alone:
                    alone.update({n: [] for n in system.components})
                    for w in workloads:
                        for n, part in offered_load(_with(system, [w])).items():
                            alone[n].append(part.arrival_rate_rps)
                rate = sum(min(part, cap) for part in alone[name])
            else:
                rate = min(rate, cap)
        busy = rate * load.hold_s
        spread = busy / (component.most_replicas * workers)
        on_leader = load.leader_busy * (rate / load.arrival_rate_rps) / workers \
            if not math.isinf(rate) else math.inf
        loads[name] = Load(rate, load.hold_s, busy, max(spread, on_leader),
                           on_leader > spread)
    return loads
