"""A replica's cores in the estimate (`cores`, `event_loop`): the CPU as a station of its own.

Each replica computes its visits' CPU demand (`cpu`/`work`, `post_work`, the runtime's
overheads) on its cores. The CPU's utilization, a / cores with a = λ·E[cpu] per replica,
counts in the component's offered load, so saturation, the bottleneck and the overload
warning see a CPU limit as they see a worker limit. The time lost to contention is modelled
where a closed form holds:

- processor sharing (`cores: c`): n bursts progress at min(n, m) cores in all, m = c, or
  min(workers, c) when every operation is pure CPU (no `wait`, no synchronous call: the
  workers then only cap how many compute at once, and their queue is the same chain). The
  chain `chains.served` gives the mean response, insensitive to the work's distribution
  with unlimited workers: S/(1 − ρ) on one core, the M/M/c mean on c whole cores;
- an event loop: one burst at a time to its end, first come first served, at min(1, cores)
  of a core: M/G/1, Pollaczek–Khinchine, for pure-CPU operations.

The extra time (mean response − E[cpu]) is spread as an exponential wait: the mean is the
chain's, the percentiles an approximation. Elsewhere (work that waits or calls on a replica
with limited workers, or on an event loop) only the load is counted and the latency leaves
the contention out; the estimate says which (`caveats.cores`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from scalesim.analytic import lattice
from scalesim.analytic.chains import served
from scalesim.analytic.station import StationLoad, StationState, solve
from scalesim.spec.model import Component


@dataclass(frozen=True)
class CpuDemand:
    rate_rps: float  # visits per second, all replicas
    mean_s: float  # CPU seconds per visit
    second_s2: float  # E[cpu²] per visit (the event loop's P-K needs it)
    pure: bool  # every operation only computes: no wait, no synchronous call


def with_cores(component: Component, replicas: int, state: StationState, demand: CpuDemand,
               points: int = lattice.LEAF_POINTS) -> tuple[StationState, bool, float]:
    """The component's station with its cores counted, whether their contention is in its
    wait (False: in its load only), and the cores' offered load."""
    cores = component.core_limit
    if cores is None:
        return state, False, 0.0
    rate = demand.rate_rps / replicas  # each replica has its own cores
    speed = min(1.0, cores) if component.event_loop else cores
    a = rate * demand.mean_s
    rho = a / speed
    offered = max(state.offered, rho)
    label = f"{cores:g} core{'s' if cores != 1 else ''}"
    if rho >= 1.0 and component.queue is None:  # the CPU cannot keep up: no steady state
        return dataclasses.replace(state, utilization=offered, offered=offered, p_wait=1.0,
                                   mean_wait_s=math.inf, wait=None, exact=False), True, rho
    workers = component.worker_limit
    if a <= 0.0 or not (demand.pure or (workers is None and not component.event_loop)):
        return dataclasses.replace(state, utilization=max(state.utilization, min(rho, 1.0)),
                                   offered=offered, exact=False), False, rho
    if component.event_loop:
        if component.queue is not None:
            return dataclasses.replace(state, offered=offered, exact=False), False, rho
        slow = demand.mean_s / speed
        scv = max(0.0, demand.second_s2 / demand.mean_s**2 - 1.0)
        fifo = solve(StationLoad(rate, 1, None, slow, scv), points)
        assert fifo.wait is not None
        extra = fifo.mean_wait_s + slow - demand.mean_s
        wait = lattice.total([fifo.wait, lattice.point(slow - demand.mean_s, points)])
        return StationState(max(state.utilization, rho), offered, fifo.p_wait, extra, 0.0,
                            wait, False, f"{state.model} on an event loop (M/G/1)"), True, rho
    share = cores if workers is None else min(float(workers), cores)
    capacity = None if component.queue is None or workers is None else workers + component.queue
    chain = served(a, share, capacity)
    admitted = rate * (1.0 - chain.loss)
    extra = max(0.0, chain.in_system / admitted - demand.mean_s) if admitted > 0.0 else 0.0
    carried = a * (1.0 - chain.loss)  # erlangs of CPU served
    busy = max(carried / speed, carried / workers if workers is not None else 0.0)
    return StationState(min(1.0, busy), offered,
                        chain.busy, extra, chain.loss,
                        lattice.exponential_wait(chain.busy, extra, points), False,
                        f"{state.model} on {label} (PS)"), True, rho
