"""What a replica reports to metrics pipelines, read in one place.

The HPA's CPU utilization is the CPU a replica used over a window divided by what it
requested. The CPU seconds are those of every burst it started: the CPU demand (`cpu` or
`work`), `post_work` and the runtime's overheads, never `wait`. What a replica requests is
its `cores` when the component models them (sim/cpu.py: the generated Deployment requests
as much), else one core per worker, so that utilization is the share of worker time spent
computing.
"""

from __future__ import annotations

from scalesim.sim.data.messages import Consumption
from scalesim.sim.plan import Replica

Counters = tuple[float, int]  # (cpu seconds, visits served) at some time
ZERO: Counters = (0.0, 0)  # a replica's counters before it ever served


def cpu_seconds(rep: Replica) -> float:
    return rep.cpu


def counters(rep: Replica) -> Counters:
    return cpu_seconds(rep), rep.served


def cpu_request(workers: int, cores: float | None) -> float:
    """Cores a replica requests: its `cores`, else one per worker."""
    return float(workers) if cores is None else cores


def cpu_utilization(now: Counters, before: Counters, window: float, request: float) -> float:
    """Average share of the replica's requested CPU in use over the window. A burst counts
    when it starts, which is unbiased in a steady state; a saturated replica reports exactly
    100 % (bursts started at the window's end could otherwise push it above its request)."""
    return min(1.0, (now[0] - before[0]) / (window * request))


def requests_per_second(now: Counters, before: Counters, window: float) -> float:
    return (now[1] - before[1]) / window


def unacknowledged(sub: Consumption) -> int:
    """Messages of a subscription not yet acknowledged: waiting plus being delivered
    (RabbitMQ's `messages`, Kafka's consumer lag)."""
    return sub.backlog()
