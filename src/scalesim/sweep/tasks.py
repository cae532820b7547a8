"""The unit of parallel work: one replication of one system, and the in-order merge of what
such tasks send back. Worker processes import this module (and no more) before any task."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from scalesim.sim.kernel import SafetyStop
from scalesim.sim.partial import Partial, merge
from scalesim.sim.run import run_replication
from scalesim.spec.model import System


@dataclass(frozen=True)
class Replication:
    """Replication `replication` of `system` from base seed `seed` (picklable)."""

    system: System
    seed: int
    replication: int
    with_series: bool = False


@dataclass(frozen=True)
class Stopped:
    """A replication that passed a safety limit (the kernel's message says which)."""

    message: str


def run_task(task: Replication) -> Partial | Stopped:
    """One replication; a safety stop comes back as a value, so that one overloaded sweep
    point does not end the others."""
    try:
        return run_replication(task.system, task.seed, task.replication, task.with_series)
    except SafetyStop as stop:
        return Stopped(str(stop))


class InOrder:
    """Pools partials in replication order whatever order they arrive in, holding only the
    ones that arrived early; `stop` (given each partial as it is pooled) may end the pooling
    there, so later replications are left out."""

    def __init__(self, stop: Callable[[Partial], bool] | None = None) -> None:
        self.pooled: Partial | None = None
        self.count = 0  # replications pooled so far
        self.stopped = False
        self._stop = stop
        self._early: dict[int, Partial] = {}

    def add(self, replication: int, partial: Partial) -> None:
        if self.stopped:
            return
        self._early[replication] = partial
        while self.count in self._early and not self.stopped:
            part = self._early.pop(self.count)
            self.pooled = part if self.pooled is None else merge([self.pooled, part])
            self.count += 1
            self.stopped = self._stop is not None and self._stop(part)
