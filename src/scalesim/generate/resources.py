"""CPU and memory requests derived from the spec's CPU demand and workers.

A component that models its CPU (`cores`, or `event_loop`: one core) requests exactly its
cores, as the simulator's CPU utilization (and the HPA's) is measured against them.
Otherwise the spec knows how long an operation computes (its CPU demand, `post_work` and the
runtime's overheads; not `wait`) and how many requests a replica serves at once (`workers`),
not request rates, so the estimate assumes every worker busy: CPU = workers × the share of a
busy worker's time spent computing. That share comes from the zero-load latency of the
operation's calls (no queueing); a call whose timeout cuts the callee's latency short holds
the worker for E[min(latency, timeout)] per attempt, not for the lesser of the mean and the
timeout (`overload.timed_waits`); docs/generate.md has the formula and the floors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

from scalesim.analytic.overload import timed_waits
from scalesim.spec.checks import callees_first
from scalesim.spec.demand import cpu_s, extra_s
from scalesim.spec.model import Call, Component, Kind, ParallelStep, Step, System, plain_steps

MIB = 1024 * 1024
BASE_MEMORY_MIB = 128
MEMORY_PER_WORKER_MIB = 2
BYTES_PER_QUEUED_REQUEST = 16 * 1024
UNLIMITED_WORKERS_CPU_M = 1000
STATEFUL_FLOOR = (250, 512)   # millicores, MiB: databases, caches and queues
SERVICE_FLOOR = (50, 128)


@dataclass(frozen=True)
class Resources:
    cpu_m: int
    memory_mib: int

    def requests(self) -> dict[str, str]:
        return {"cpu": f"{self.cpu_m}m", "memory": f"{self.memory_mib}Mi"}


# The last system's timed waits: generate sizes each of a system's components, for each
# target, and building the model is the cost (150 timed hops: 25 ms each time).
_LAST_TIMED: list[tuple[System, dict[str, float]]] = []


def _timed_waits(system: System) -> dict[str, float]:
    """`overload.timed_waits`, computed once for the same system object."""
    last = _LAST_TIMED[0] if _LAST_TIMED else None  # one read: another thread may replace it
    if last is not None and last[0] is system:
        return last[1]
    waits = timed_waits(system)
    _LAST_TIMED[:] = [(system, waits)]
    return waits


class _ZeroLoad:
    """Latency of an operation with empty queues: work, network and synchronous calls."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.network_s = system.defaults.network.mean_s
        # Operations whose timed calls a timeout cuts short: their mean wait on the calls
        # from the latency distributions (a rare hang counts up to the timeout only).
        self.timed_calls_s = _timed_waits(system)
        self.operation_s = cache(self._operation_s)

    def _operation_s(self, component: str, operation: str) -> float:
        spec = self.system.components[component]
        op = spec.effective_operations[operation]
        total = op.demand.mean_s + op.post_work.mean_s + extra_s(self.system, component,
                                                                    operation)
        timed = self.timed_calls_s.get(f"{component}.{operation}")
        total += self._calls_s(op.calls) if timed is None else timed
        if spec.kind is Kind.CACHE and spec.backend is not None:
            # A TTL cache (`caching`) is sized as if every read missed: an upper bound.
            miss = 1.0 - spec.hit_ratio if spec.hit_ratio is not None else 1.0
            total += _share_of(miss, self.operation_s(*self.system.resolve(spec.backend)))
        return total

    def _calls_s(self, calls: list[Step]) -> float:
        """The wait on an operation's synchronous calls, from their callees' means."""
        total = 0.0
        for step in plain_steps(calls):
            if isinstance(step, ParallelStep):
                branches = sorted(self.call_s(call) for call in step.parallel.calls)
                wait_for = step.parallel.wait_for
                k = len(branches) if wait_for == "all" else 1 if wait_for == "any" else wait_for
                total += branches[k - 1]
            else:
                total += self.call_s(step)
        return total

    def call_s(self, call: Call) -> float:
        if call.async_:
            return 0.0
        seconds = 2.0 * self.network_s + self.operation_s(*self.system.resolve(call.to))
        if call.timeout is not None:
            seconds = min(seconds, call.timeout)
        return _share_of(call.probability, seconds)


def _share_of(probability: float, seconds: float) -> float:
    """probability × seconds, 0 when it never happens (even if its mean time is infinite)."""
    return probability * seconds if probability > 0.0 else 0.0


def cpu_share(system: System, name: str) -> float:
    """Share of a busy worker's time spent computing, averaged over the operations."""
    component = system.components[name]
    if component.io == "nonblocking":
        return 1.0
    zero = _ZeroLoad(system)
    for ref in callees_first(system, [f"{name}.{o}" for o in component.effective_operations]):
        zero.operation_s(*ref.split(".", 1))  # deepest first: no deep recursion
    shares = []
    for op_name in component.effective_operations:
        cpu = cpu_s(system, name, op_name)
        held = zero.operation_s(name, op_name)
        if math.isinf(cpu):
            # CPU with an infinite mean (a Pareto tail with α ≤ 1): the share cpu / held
            # tends to 1 (to 0 for an infinite wait on calls or `wait` beside a finite CPU),
            # so a worker is taken to compute all the time it is busy: a core per worker,
            # the most this formula requests (docs/generate.md).
            shares.append(1.0)
        else:
            shares.append(cpu / held if held > 0 else 0.0)
    return sum(shares) / len(shares)


def cpu_note(system: System, name: str) -> str | None:
    """Why the CPU request is a core per worker, when it is because an operation's CPU time
    has an infinite mean (`cpu_share`): a placeholder the generated files say is one."""
    component = system.components[name]
    if component.core_limit is not None or component.worker_limit is None \
            or component.io == "nonblocking":
        return None
    infinite = [f"{name}.{op}" for op in component.effective_operations
                if math.isinf(cpu_s(system, name, op))]
    if not infinite:
        return None
    return (f"placeholder: the CPU request is a core per worker because the CPU time of "
            f"{', '.join(infinite)} has an infinite mean (pareto alpha <= 1); set "
            "resources.requests.cpu to the real figure")


def resources_for(system: System, name: str) -> Resources:
    component: Component = system.components[name]
    floor_cpu, floor_mem = STATEFUL_FLOOR if component.kind in (
        Kind.DATABASE, Kind.CACHE, Kind.QUEUE) else SERVICE_FLOOR
    workers = component.worker_limit
    cores = component.core_limit
    if cores is not None:
        cpu_m = max(1, round(cores * 1000))
        memory = BASE_MEMORY_MIB + MEMORY_PER_WORKER_MIB * (workers or 0)
    elif workers is None:
        cpu_m = UNLIMITED_WORKERS_CPU_M
        memory = BASE_MEMORY_MIB
    else:
        cpu_m = math.ceil(workers * cpu_share(system, name) * 100) * 10
        memory = BASE_MEMORY_MIB + MEMORY_PER_WORKER_MIB * workers
    memory += math.ceil((component.queue or 0) * BYTES_PER_QUEUED_REQUEST / MIB)
    if cores is not None:
        return Resources(cpu_m, max(floor_mem, memory))  # exactly the cores it computes on
    return Resources(max(floor_cpu, cpu_m), max(floor_mem, memory))
