"""Which `--vary` axes `plan` can search: capacity knobs, of which more is never worse.

The search (plan.py) takes each axis' largest value for its most capacity. That holds for
counts (replicas, workers, queue and pool sizes, an autoscaler's bounds) and for a rate
limit. It does not hold for the load itself (the workloads, whose rates --rate sets), for
how a candidate is measured (`simulation`), for a time (a slower operation, start-up or
sync is less capacity, a longer timeout none) or for a share (a higher CPU target keeps
fewer replicas, a higher error rate fails more): read largest-first, such an axis gives a
wrong plan, or a wrong "every one past saturation". Those axes are refused up front.
"""

from __future__ import annotations

from collections.abc import Sequence

from scalesim.spec.units import parse_duration
from scalesim.sweep.grid import Axis, within

# Top-level sections that hold no capacity, and why.
NOT_CAPACITY = {
    "workloads": "the workloads are the load the plan is for, not capacity",
    "simulation": "the simulation settings are how a candidate is measured, not what it is",
}

ELSEWHERE = "set it with --set, or see how it moves the latency with `scalesim sweep`"


def capacity_knobs(axes: Sequence[Axis], rated: Sequence[str], rate: str) -> None:
    """A ValueError naming the first axis that is no capacity knob: one that sets a field
    `--rate` (`rate`) sets (`rated`, `rate_overrides`' paths) or holds it, the
    workloads and simulation settings, and an axis of times or shares."""
    for axis in axes:
        clash = next((path for path in rated
                      if within(path, axis.path) or within(axis.path, path)), None)
        if clash is not None:
            raise ValueError(
                f"{axis.path}: --rate {rate} sets {clash} (every open workload scaled so that "
                "their peak rates add up to it), and the plan is for that load; vary capacity "
                "(replicas, workers, …), or see how the load moves the latency with "
                f"`scalesim sweep --vary {axis.path}=…`")
        section = axis.path.split(".", 1)[0]
        if section in NOT_CAPACITY:
            raise ValueError(f"{axis.path}: {NOT_CAPACITY[section]}; {ELSEWHERE}")
        backwards = _backwards(axis)
        if backwards is not None:
            raise ValueError(f"{axis.path}: plan takes the largest value of each axis for "
                             f"its most capacity, but {backwards}; {ELSEWHERE}")


SHARE = ("is a share, and a larger one is no more capacity (a higher CPU target keeps fewer "
         "replicas, a higher error rate fails more)")


def _backwards(axis: Axis) -> str | None:
    """Why more of this axis is not more capacity (a time or a share), or None."""
    if axis.path.rsplit(".", 1)[-1] == "error_rate":  # a share, also when given as 0.01
        return f"{axis.values[0]} {SHARE}"
    for value in axis.values:
        if _duration(value):
            return (f"{value} is a time, and more of a time is no more capacity (a slower "
                    "operation, start-up or sync is less, a longer timeout none)")
        if value.strip().endswith("%"):
            return f"{value} {SHARE}"
    return None


def _duration(value: str) -> bool:
    try:
        parse_duration(value.strip())
    except ValueError:
        return False
    return True
