"""Node capacity and the cluster autoscaler.

Every replica of every component takes one of `nodes × pods_per_node` slots while it is on a
node (starting, running or terminating). A replica that finds no free slot stays Pending, in
the order it was created. Every scan interval the cluster autoscaler adds the nodes the
pending replicas need (up to `max_nodes`; each is ready `provision` later) and removes one
node that has been unneeded for `scale_down_after` (down to `min_nodes`). Slots are not tied
to particular nodes: the scheduler is taken to pack pods perfectly.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

from scalesim.spec.control import Cluster

if TYPE_CHECKING:
    from scalesim.sim.control.fleet import Fleet, Pod
    from scalesim.sim.kernel import Kernel

MAX_EVENTS = 10_000


class NodePool:
    def __init__(self, spec: Cluster) -> None:
        self.spec = spec
        self.nodes = spec.nodes
        self.per_node = spec.pods_per_node
        self.used = 0
        self.pending: deque[tuple[Fleet, Pod]] = deque()
        self.provisioning = 0  # nodes ordered, not ready yet
        self.unneeded_since = -1.0
        self.kernel: Kernel | None = None
        self.node_ready_kind = -1
        self.events: list[tuple[float, int, int, str]] = []
        self.window = (0.0, math.inf)
        self.last = 0.0
        self.node_seconds = 0.0
        self.most = self.nodes

    def request(self, fleet: Fleet, pod: Pod) -> bool:
        """A slot for a new pod now (True), or it waits Pending (False)."""
        if self.used < self.nodes * self.per_node and not self.pending:
            self.used += 1
            return True
        self.pending.append((fleet, pod))
        return False

    def cancel(self, pod: Pod) -> None:
        self.pending = deque(item for item in self.pending if item[1] is not pod)

    def release(self) -> None:
        """A pod left its node: the first pending one takes the slot."""
        self.used -= 1
        self._place_pending()

    def _place_pending(self) -> None:
        while self.pending and self.used < self.nodes * self.per_node:
            fleet, pod = self.pending.popleft()
            self.used += 1
            fleet.schedule(pod)

    def scan(self) -> None:
        """The cluster autoscaler's loop: order nodes for pending pods, or retire one."""
        assert self.kernel is not None
        now = self.kernel.now
        incoming = (self.nodes + self.provisioning) * self.per_node - self.used
        short = len(self.pending) - incoming
        if short > 0 and self.nodes + self.provisioning < self.spec.highest:
            order = min(math.ceil(short / self.per_node),
                        self.spec.highest - self.nodes - self.provisioning)
            self.provisioning += order
            for _ in range(order):
                self.kernel.push(now + self.spec.provision, self.node_ready_kind, self)
            self._event(self.nodes, self.nodes + self.provisioning,
                        f"{len(self.pending)} pending replicas: {order} node(s) ordered")
        spare = (self.nodes - 1) * self.per_node >= self.used + len(self.pending)
        if spare and self.nodes > self.spec.lowest and not self.provisioning:
            if self.unneeded_since < 0.0:
                self.unneeded_since = now
            elif now - self.unneeded_since >= self.spec.scale_down_after:
                self._account()
                self._event(self.nodes, self.nodes - 1,
                            f"a node unneeded for {self.spec.scale_down_after:g}s")
                self.nodes -= 1
                self.unneeded_since = now if (self.nodes - 1) * self.per_node >= \
                    self.used + len(self.pending) else -1.0
        elif not spare:
            self.unneeded_since = -1.0

    def node_ready(self) -> None:
        self._account()
        self.provisioning -= 1
        self.nodes += 1
        self.most = max(self.most, self.nodes)
        self._place_pending()

    def _event(self, before: int, after: int, reason: str) -> None:
        assert self.kernel is not None
        if len(self.events) < MAX_EVENTS:
            self.events.append((self.kernel.now, before, after, reason))

    def _account(self) -> None:
        assert self.kernel is not None
        now = self.kernel.now
        start, end = self.window
        a, b = max(self.last, start), min(now, end)
        if b > a:
            self.node_seconds += self.nodes * (b - a)
        self.last = now

    def open_window(self) -> None:
        self._account()
        self.node_seconds = 0.0

    def close_window(self) -> None:
        self._account()
