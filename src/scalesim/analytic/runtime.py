"""How much work a run is, before running it: requests, visits, events and time-series
intervals, from the offered load (workloads at their mean rate over the run).

Events per visit follow the kernel (sim/kernel.py): a network hop there and one back are an
event each, the work before the calls (CPU demand, `wait`, overhead) and `post_work` an
event each when they take time, a call's overhead one more, a replica with `cores` one more
per CPU burst (the processor's completion, `wait` after it), a timed-out call schedules its
timeout, and every request or message arrives as one event. Retries, hedges
and failures are ignored: this is the work of a healthy run, a lower bound when it is not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scalesim.analytic.load import mean_rate, operation_rates
from scalesim.spec.checks import iter_calls
from scalesim.spec.demand import calls_made, extra_s
from scalesim.spec.model import System


@dataclass(frozen=True)
class RunCost:
    requests: float  # requests and messages sent, all replications
    events: float  # events the kernel handles, all replications
    intervals: int  # time-series rows per component and workload, per replication
    rate_rps: float  # requests per second entering the system, on average

    def wall_s(self, events_per_s: float) -> float:
        return self.events / events_per_s


def run_cost(system: System) -> RunCost:
    sim = system.simulation
    span = (0.0, sim.warmup + sim.duration)
    seconds = (span[1] - span[0]) * sim.replications
    rates = operation_rates(system, span)
    if not all(math.isfinite(rate) for rate in rates.values()):
        return RunCost(math.inf, math.inf, 0, math.inf)
    hop = 1 if system.defaults.network.mean_s > 0 else 0
    per_second = 0.0
    for cname, component in system.components.items():
        for oname, operation in component.effective_operations.items():
            before = operation.demand.mean_s + extra_s(system, cname, oname)
            per_visit = 2 * hop + (before > 0) + (operation.post_work.mean_s > 0)
            if component.core_limit is not None:
                per_visit += (operation.wait.mean_s > 0) + (operation.post_work.mean_s > 0)
            if system.overhead(cname)[1].mean_s > 0:
                per_visit += round(calls_made(system, cname, oname))
            per_second += rates[f"{cname}.{oname}"] * max(1, per_visit)
    for cname, oname, _, call in iter_calls(system):
        if call.timeout is not None and not call.async_:
            per_second += rates[f"{cname}.{oname}"] * call.probability
    entering = 0.0
    for workload in system.workloads:
        if workload.users is None:
            entering += mean_rate(workload, *span)
        else:
            entering += rates[".".join(system.resolve(workload.to))]
    per_second += entering
    return RunCost(entering * seconds, per_second * seconds,
                   math.ceil(sim.duration / sim.interval), entering)
