"""The kernel's own count of the events of a run, which the run estimate (`run_cost`) is
held to."""

from __future__ import annotations

from scalesim.sim import run_kernels
from scalesim.spec.model import System


def counted(system: System, seed: int | None = None) -> int:
    """Events the kernel handled, over every replication of `system` (at `seed`)."""
    return sum(int(kernel.events) for kernel in run_kernels(system, seed=seed))
