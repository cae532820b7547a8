"""How a part of the model off the request path plugs into the kernel.

Controllers (sim/control: autoscaler, rollouts, analysis) and data mechanisms (sim/data:
delivery, sagas, replication, elections, caches) each own their state and their event
handlers. At compile time an area is put in the plan; when the kernel starts it calls
`attach`, where the area registers its handlers (`Kernel.add_handler` returns the event kind
to push) and schedules its first events. After that the kernel calls an area only at named
points, so the request path stays the same size as areas are added.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mypy_extensions import mypyc_attr

if TYPE_CHECKING:
    from scalesim.sim.kernel import Kernel
    from scalesim.sim.plan import Comp, Replica


@mypyc_attr(allow_interpreted_subclasses=True)  # compiled data areas, interpreted controllers
class Area:
    """Base of every area: override `attach` (and the hooks the kernel documents)."""

    def attach(self, kernel: Kernel) -> None:
        """Register event handlers with `kernel.add_handler` and push the first events."""

    def window_end(self, kernel: Kernel) -> None:
        """The measurement window closed (no new requests from now on): take end-of-window
        readings (a backlog, the age of the oldest message)."""

    def warmup_end(self, kernel: Kernel) -> None:
        """The warm-up ended (`kernel.now` is the window's start; only when there is a
        warm-up): forget what was counted so far, as the kernel does with its own counters."""

    def interval_end(self, kernel: Kernel) -> None:
        """A time-series interval closed at `kernel.now`, after the kernel took its own
        readings: take the area's (a backlog, replica counts). Once per interval; the last,
        maybe shorter, closes at the window end, before `window_end`."""

    def bound_buffers(self) -> None:
        """Fold buffered values into histograms (`Histogram.maybe_flush`): the kernel calls
        this every so many events, so memory stays bounded with or without intervals."""

    def replica_changed(self, kernel: Kernel, comp: Comp, rep: Replica) -> None:
        """`rep` of `comp` went down or came back up (`rep.up`), or joined or left the
        component's replica set (`Kernel.join`/`leave`: autoscaling, rollouts); only for
        areas that asked with `kernel.watch_replicas`."""

    def replica_resumed(self, kernel: Kernel, comp: Comp, rep: Replica) -> None:
        """`rep` of `comp` runs again after a stop-the-world pause (a `pause` fault): what
        its processes would have done meanwhile (their timers) happens now; only for areas
        that asked with `kernel.watch_replicas`."""

    def peers_cut(self, kernel: Kernel, comp: Comp, rep: Replica, start: bool) -> None:
        """A `partition` fault of `rep` from the other replicas of its own `comp` began
        (`start`) or ended: the traffic among them (an election's) is the area's to cut;
        only for areas that asked with `kernel.watch_replicas`."""
