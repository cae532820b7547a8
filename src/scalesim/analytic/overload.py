"""What the pre-run overload warning needs beyond the workers' offered load (`lint.load`):
closed loops at the throughput they reach, the CPU's load on its cores, and the share a
bounded queue refuses.

- A closed loop's users wait for their answers, so its load is bounded: offered load takes
  it at the bound users / (think + no-queueing response), which a loop reaches only when
  nothing queues. Here it runs at the throughput Mean Value Analysis gives it (the
  estimate's), which no station's capacity is below. Where a bounded queue cannot hold its
  users, those refused send again (`closed.refused`): the load on what the loop waits for
  is what gets in, the requests the run handles are all it sends.
- With `cores`, a replica computes at most cores' worth of CPU per second: ρ = λ·E[cpu] /
  (replicas·cores), an event loop's cores at most 1.
- A bounded queue does not grow: it refuses what it cannot hold, the loss of the M/M/c/K
  chain (`chains.served`) at that load.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scalesim.analytic.chains import served
from scalesim.analytic.closed import REFUSING
from scalesim.analytic.load import operation_rates, rate_cap
from scalesim.spec.checks import iter_calls
from scalesim.spec.demand import cpu_per_visit_s
from scalesim.spec.model import System

if TYPE_CHECKING:
    from scalesim.analytic.estimate import Estimate

POINTS = 64  # grid points per distribution: only the estimate's means are read
# grid points for the waits of timed calls (`timed_waits`): at 64 an exponential's mean is
# 0.2 % low, which SS501's four digits would show for a timeout that cuts nothing
TIMED_POINTS = 256


@dataclass(frozen=True)
class CpuLoad:
    rate_rps: float  # visits per second admitted, all replicas
    cpu_s: float  # mean CPU seconds per visit
    cores: float  # of one replica (an event loop's at most 1)
    rho: float  # λ·E[cpu] / (replicas·cores)


def closed_estimate(system: System) -> Estimate | None:
    """The estimate the closed loops' rates come from (None without a closed loop)."""
    if all(w.users is None for w in system.workloads):
        return None
    from scalesim.analytic.estimate import Model

    return Model(system, POINTS).evaluate()


def closed_as_open(system: System, sent: bool = False, found: Estimate | None = None
                   ) -> System:
    """`system` with each closed loop replaced by an open workload at its MVA throughput:
    the requests a full bounded queue lets in, or with `sent` every request its users send,
    those it refuses (and they send again) included. `found`: `closed_estimate`'s, when
    worked out already."""
    found = found or closed_estimate(system)
    if found is None:
        return system
    workloads = [w if w.users is None else w.model_copy(update={
        "users": None, "profile": None, "rate": found.workloads[w.name].rate_rps
        * (1.0 if sent else 1.0 - found.workloads[w.name].refused)})
        for w in system.workloads]
    return system.model_copy(update={"workloads": workloads})


def closed_refusals(found: Estimate | None) -> dict[str, float]:
    """The components that refuse closed loops' users (a bounded queue they outnumber:
    `closed.refused`), with the share of the visits they refuse."""
    if found is None:
        return {}
    return {name: c.state.loss for name, c in found.components.items()
            if c.state.model.endswith(REFUSING) and c.state.loss > 0.0}


def timed_waits(system: System) -> dict[str, float]:
    """The time each operation with a timed synchronous call waits on its calls with no
    queueing (`Model.healthy_waits`): an attempt lasts at most its timeout, so a caller
    holds a worker for E[min(T, timeout)] per attempt (and the back-offs between), not for
    the callee's mean, which a rare hang dominates. Empty when no call waited on is timed."""
    refs = sorted({f"{cname}.{oname}" for cname, oname, _, call in iter_calls(system)
                   if not call.async_ and call.timeout is not None})
    if not refs:
        return {}
    from scalesim.analytic.estimate import Model

    return Model(system, TIMED_POINTS).healthy_waits(refs)


def cpu_loads(system: System, admitted: Mapping[str, float]) -> dict[str, CpuLoad]:
    """The CPU load of every component with cores; `admitted[name]`, when given, is the
    rate its rate limit lets in (otherwise min(offered, limit))."""
    rates = operation_rates(system)
    out = {}
    for name, component in system.components.items():
        cores = component.core_limit
        if cores is None:
            continue
        speed = min(1.0, cores) if component.event_loop else cores
        ops = {o: rates[f"{name}.{o}"] for o in component.effective_operations}
        rate = sum(ops.values())
        if rate <= 0.0:
            continue
        if math.isinf(rate):
            out[name] = CpuLoad(math.inf, math.nan, speed, math.inf)
            continue
        cpu = cpu_per_visit_s(system, name, ops)
        cap = rate_cap(component)
        let_in = admitted.get(name, min(rate, cap) if cap is not None else rate)
        out[name] = CpuLoad(let_in, cpu, speed,
                            let_in * cpu / (component.most_replicas * speed))
    return out


def refused(rho: float, servers: float, capacity: int) -> float:
    """The share of arrivals a replica with `servers` (real: cores) and room for `capacity`
    jobs refuses at offered load ρ (M/M/c/K)."""
    return served(rho * servers, servers, capacity).loss
