"""What a replica reports to metrics pipelines, read in one place.

The HPA's CPU utilization is the CPU a replica used over a window divided by what it
requested. Until ScaleSim models processors, a worker computing (`work`, `post_work`) uses
one core and the request is one core per worker, so utilization is the share of worker time
spent computing; a CPU model (sim/cpu.py) will redefine `cpu_seconds` alone.
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


def cpu_utilization(now: Counters, before: Counters, window: float, workers: int) -> float:
    """Average share of the replica's workers computing over the window. Work counts when it
    starts, which is unbiased in a steady state; a saturated replica reports exactly 100 %
    (work started at the window's end could otherwise push it above its workers' time)."""
    return min(1.0, (now[0] - before[0]) / (window * workers))


def requests_per_second(now: Counters, before: Counters, window: float) -> float:
    return (now[1] - before[1]) / window


def unacknowledged(sub: Consumption) -> int:
    """Messages of a subscription not yet acknowledged: waiting plus being delivered
    (RabbitMQ's `messages`, Kafka's consumer lag)."""
    return sub.backlog()
