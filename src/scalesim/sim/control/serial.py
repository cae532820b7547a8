"""Controllers that act on each other synchronously must not run inside themselves.

A rollout scales a replica set; the fleet tells its listeners, the rollout among them, at
once. Run nested, the inner reconcile would act on a state the outer one is still changing
(and both would advance the same canary step). `Serial` turns such a nested call into one
more run after the current one, as a Kubernetes controller's work queue would.
"""

from __future__ import annotations

from collections.abc import Callable


class Serial:
    """Runs `work` so that calls made while it runs are not nested: they make it run once
    more after it returns (several such calls, once)."""

    __slots__ = ("_again", "_running", "work")

    def __init__(self, work: Callable[[], None]) -> None:
        self.work = work
        self._running = False
        self._again = False

    def __call__(self) -> None:
        if self._running:
            self._again = True
            return
        self._running = True
        try:
            again = True
            while again:
                self._again = False
                self.work()
                again = self._again
        finally:
            self._running = False
