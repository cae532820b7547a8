"""The call graph the rules walk: every edge between operations, with the spec path to
point a finding at. Cache misses are edges too (the cache waits on its backend)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

from scalesim.analytic.load import miss_shares
from scalesim.spec.checks import cache_edges, iter_calls, saga_calls
from scalesim.spec.errors import Path
from scalesim.spec.model import Call, Kind, SagaBlock, System


def component_of(op: str) -> str:
    """'orders.create' -> 'orders'."""
    return op.partition(".")[0]


@dataclass(frozen=True)
class Edge:
    source: str
    """'component.operation' that makes the call."""
    target: str
    """'component.operation' that serves it."""
    path: Path
    """The call in the spec, or the cache's `backend` field for a miss (its
    `caching.write_to` for a write)."""
    call: Call | None = field(compare=False)
    """None for a cache's miss or write. Not compared: the path already identifies the
    edge."""
    probability: float

    @property
    def sync(self) -> bool:
        return self.call is None or not self.call.async_

    @property
    def attempts(self) -> int:
        return self.call.retry.attempts if self.call and self.call.retry else 1

    @property
    def in_parallel(self) -> bool:
        return "parallel" in self.path


@dataclass(frozen=True)
class Entry:
    """Where requests start: a workload's target or a queue consumer's."""

    op: str
    origin: str
    """Who sends the requests, for messages: "workload 'web'"."""


class CallGraph:
    def __init__(self, system: System) -> None:
        self.system = system

    @cached_property
    def edges(self) -> list[Edge]:
        return list(self._edges())

    def _edges(self) -> Iterator[Edge]:
        system = self.system
        for cname, oname, path, call in iter_calls(system):
            yield Edge(f"{cname}.{oname}", ".".join(system.resolve(call.to)), path, call,
                       call.probability)
        misses = self.misses
        for cname, component in system.components.items():
            for oname, ref in cache_edges(system, cname, sync_only=True):
                miss = ref == component.backend
                where: Path = ("components", cname, "backend") if miss else \
                    ("components", cname, "caching", "write_to")
                yield Edge(f"{cname}.{oname}", ".".join(system.resolve(ref)), where, None,
                           misses[cname] if miss else 1.0)

    @cached_property
    def choreographed(self) -> dict[Path, Call]:
        """A choreographed saga's steps and compensations as written, by path: the edges
        carry them as the events nobody waits on, but their own timeout, retry and breaker
        time out and redeliver each event (docs/data.md)."""
        out: dict[Path, Call] = {}
        for cname, component in self.system.components.items():
            for oname, operation in component.effective_operations.items():
                for index, step in enumerate(operation.calls):
                    if isinstance(step, SagaBlock) and step.saga.coordination == "choreography":
                        out.update(saga_calls(self.system, step.saga, (
                            "components", cname, "operations", oname, "calls", index, "saga"),
                            written=True))
        return out

    @cached_property
    def misses(self) -> dict[str, float]:
        """Each cache's share of reads that miss (estimated for a cache with a TTL)."""
        return miss_shares(self.system)

    @cached_property
    def sync_out(self) -> dict[str, list[Edge]]:
        """Operation -> the edges it waits on, in spec order."""
        out: dict[str, list[Edge]] = {}
        for edge in self.edges:
            if edge.sync:
                out.setdefault(edge.source, []).append(edge)
        return out

    @cached_property
    def entries(self) -> list[Entry]:
        """Every distinct operation where requests start, workloads first."""
        system = self.system
        found: dict[str, Entry] = {}
        for workload in system.workloads:
            op = ".".join(system.resolve(workload.to))
            found.setdefault(op, Entry(op, f"workload '{workload.name}'"))
        for cname, component in system.components.items():
            if component.kind is Kind.QUEUE:
                for consumer in component.consumers:
                    op = ".".join(system.resolve(consumer.to))
                    found.setdefault(op, Entry(op, f"consumer of queue '{cname}'"))
        return list(found.values())

    def reachable(self, start: str) -> set[str]:
        """Operations `start` waits on, directly or not, `start` included."""
        seen = {start}
        todo = [start]
        while todo:
            for edge in self.sync_out.get(todo.pop(), []):
                if edge.target not in seen:
                    seen.add(edge.target)
                    todo.append(edge.target)
        return seen
