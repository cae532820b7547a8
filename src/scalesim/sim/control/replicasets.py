"""The area that owns the replica sets of every controlled component and the cluster's nodes:
it registers their events, opens and closes the measurement window of their accounting, and
samples the replica counts once per time-series interval."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scalesim.sim.area import Area
from scalesim.sim.control.cluster import NodePool
from scalesim.sim.control.fleet import Fleet, Kinds, Pod

if TYPE_CHECKING:
    from scalesim.sim.kernel import Kernel

# (t, component, version, desired, ready, starting, pending, terminating)
ReplicaRow = tuple[float, str, str, int, int, int, int, int]


class ReplicaSets(Area):
    def __init__(self, fleets: list[Fleet], nodes: NodePool | None, fixed_pods: int) -> None:
        self.fleets = fleets
        self.nodes = nodes
        self.fixed_pods = fixed_pods  # replicas of components no controller changes
        self.kernel: Kernel | None = None
        self.scan_kind = -1
        self.series: list[ReplicaRow] = []
        self.node_series: list[tuple[float, int, int]] = []  # (t, nodes, pending)

    def fleet(self, name: str) -> Fleet | None:
        return next((f for f in self.fleets if f.comp.name == name), None)

    def attach(self, kernel: Kernel) -> None:
        self.kernel = kernel
        kinds = Kinds(started=kernel.add_handler(self._started),
                      drain=kernel.add_handler(self._drain))
        window = (kernel.t_start, kernel.t_end)
        for fleet in self.fleets:
            fleet.kernel = kernel
            fleet.kinds = kinds
            fleet.nodes = self.nodes
            fleet.window = window
            fleet.adopt(0.0)
        nodes = self.nodes
        if nodes is not None:
            nodes.kernel = kernel
            nodes.window = window
            nodes.used = self.fixed_pods + sum(len(f.comp.replicas) for f in self.fleets)
            nodes.node_ready_kind = kernel.add_handler(self._node_ready)
            self.scan_kind = kernel.add_handler(self._scan)
            kernel.push(nodes.spec.scan_interval, self.scan_kind, None)
        edges = kernel.add_handler(self._window_edge)
        kernel.push(kernel.t_start, edges, True)
        kernel.push(kernel.t_end, edges, False)

    def _started(self, pod: object) -> None:
        assert isinstance(pod, Pod)
        pod.fleet.started(pod)

    def _drain(self, pod: object) -> None:
        assert isinstance(pod, Pod)
        pod.fleet.drain_check(pod)

    def _node_ready(self, _: object) -> None:
        assert self.nodes is not None
        self.nodes.node_ready()

    def _scan(self, _: object) -> None:
        assert self.nodes is not None and self.kernel is not None
        self.nodes.scan()
        self.kernel.push(self.kernel.now + self.nodes.spec.scan_interval, self.scan_kind, None)

    def _window_edge(self, opening: object) -> None:
        for fleet in self.fleets:
            if opening:
                fleet.open_window()
            else:
                fleet.close_window()
        if self.nodes is not None:
            if opening:
                self.nodes.open_window()
            else:
                self.nodes.close_window()

    def interval_end(self, kernel: Kernel) -> None:
        """The replica counts at the end of an interval."""
        now = kernel.now
        for fleet in self.fleets:
            for version in fleet.versions:
                if version.index not in fleet.appeared:
                    continue  # a version not rolled out (yet): no rows of zeros
                desired, ready, starting, pending, terminating = fleet.counts(version.index)
                self.series.append((now, fleet.comp.name, version.name, desired, ready,
                                    starting, pending, terminating))
                for op in (version.ops or {}).values():
                    op.hist.maybe_flush()
        if self.nodes is not None:
            self.node_series.append((now, self.nodes.nodes, len(self.nodes.pending)))
