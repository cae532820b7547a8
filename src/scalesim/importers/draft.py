"""What the input files say about a system, before it becomes a spec.

Each mapping module (a Compose file, a Kubernetes object kind) adds what its objects reveal
to a `Draft`: components, the host names they answer to, references between them, mesh
route settings, entry points. Every value carries where it came from (`Fact.seen`), which
becomes the comment beside it. `assemble` then decides the roles (callers, consumers,
cache misses) and writes the spec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Generic, Literal, TypeVar

from scalesim.importers.kinds import Guess
from scalesim.importers.sources import Seen
from scalesim.spec.errors import Path
from scalesim.spec.model import Kind

T = TypeVar("T")
MARK = "PLACEHOLDER"   # the word marking every value no file holds
NEW_VERSION = "next"   # the version an imported rollout moves to (the files do not name it)
_POD_ORDINAL = re.compile(r"^[a-z0-9-]+-\d+$")
WorkerCount = int | Literal["unlimited"]   # a spec's `workers`


@dataclass(frozen=True)
class Fact(Generic[T]):
    """A value and where it came from (a place in a file, or the reason it was chosen)."""

    value: T
    seen: Seen | str


@dataclass(frozen=True)
class Reference:
    """`host` appears in the referrer's configuration (a URL, depends_on, a route)."""

    host: str
    namespace: str
    seen: Seen
    target: str | None = None        # the component itself, when the source names it


@dataclass
class Route:
    """Settings of calls into a component, from a mesh or gateway route."""

    timeout: Fact[float] | None = None
    deadline: Fact[float] | None = None
    retry: Fact[dict[str, Any]] | None = None
    retry_off: Seen | None = None       # the route says: no retries


@dataclass
class Block:
    """A nested spec block read from one or more objects (an `autoscale`, a `rollout`):
    plain data, and per path inside it where that value came from. `refs` are the paths
    whose value is a component key, written as that component's spec name."""

    seen: Seen | str                     # the object it comes from: the block's comment
    origin: str = ""                     # that object's kind and name
    data: dict[str, Any] = field(default_factory=dict)
    comments: dict[Path, list[Seen | str]] = field(default_factory=dict)
    refs: list[Path] = field(default_factory=list)

    def put(self, path: Path, value: Any, seen: Seen | str | None = None) -> None:
        """Set the value at `path` (an int appends to, or reaches into, a list)."""
        node: Any = self.data
        for part, after in pairwise(path):
            empty: Any = [] if isinstance(after, int) else {}
            if isinstance(node, list):
                assert isinstance(part, int)
                if part == len(node):
                    node.append(empty)
                node = node[part]
            else:
                node = node.setdefault(part, empty)
        last = path[-1]
        if isinstance(node, list) and last == len(node):
            node.append(value)
        else:
            node[last] = value
        if seen is not None:
            self.comment(path, seen)

    def comment(self, path: Path, seen: Seen | str) -> None:
        self.comments.setdefault(path, []).append(seen)

    def graft(self, path: Path, other: Block) -> None:
        """Put another block's data, comments and references at `path`."""
        self.put(path, other.data, other.seen)
        for sub, texts in other.comments.items():
            for text in texts:
                self.comment((*path, *sub), text)
        self.refs += [(*path, *ref) for ref in other.refs]


@dataclass(frozen=True)
class DeadLetter:
    """The queue a broker dead-letters to, by the name the broker gives it (a topic, a
    routing key, the name in an ARN), looked up among the components in `namespace`."""

    name: str
    namespace: str
    seen: Seen | str
    # generate runs a managed queue (SQS) as a stand-in of the app's image: a component of
    # that name whose image says nothing is a queue of this tech
    stand_in: str | None = None


@dataclass
class Component:
    key: str                  # unique identity in the input, e.g. 'shop/orders'
    name: str                 # the source name
    namespace: str
    guess: Guess
    object_kind: str = ""     # the Kubernetes kind of a workload's object (Deployment…)
    namesake: bool = False    # workloads of other kinds have its name
    kind: Fact[Kind] | None = None       # set by an object type (ExternalName, Ingress)
    tech: str | None = None
    replicas: Fact[int] | None = None
    workers: Fact[WorkerCount] | None = None
    cpu_request: Fact[float] | None = None   # cores the main container requests (HPA CPU)
    health: dict[str, Fact[dict[str, Any]]] = field(default_factory=dict)
    balancer: Fact[str] | None = None
    connection_pool: Fact[dict[str, Any]] | None = None
    max_retries: Fact[int] | None = None
    outlier: Fact[dict[str, Any]] | None = None
    rate_limit: Fact[dict[str, Any]] | None = None   # a Kong rate-limiting plugin's
    references: list[Reference] = field(default_factory=list)
    entry: list[Seen] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    consumes: dict[str, Seen] = field(default_factory=dict)      # queue key -> evidence
    # (caller key, callee operation) -> the route; None: any caller, every operation
    routes: dict[tuple[str | None, str | None], Route] = field(default_factory=dict)
    faults: list[Fact[dict[str, Any]]] = field(default_factory=list)
    http: bool = True          # HTTP or gRPC: a mesh routes (and retries) its calls
    autoscale: Block | None = None
    rollout: Block | None = None
    leader_election: Block | None = None
    # A queue's `partitions`, `delivery` and `group`, from its broker's objects (k8s/brokers.py)
    broker: Block | None = None
    dead_letter: DeadLetter | None = None   # named by the broker: resolved once all are read
    managed_by_scalesim: bool = False   # written by `scalesim generate` (its label)
    generated: Fact[dict[str, Any]] | None = None   # its component.json (k8s/generated.py)

    @property
    def label(self) -> str:
        """How notes name it: with its object's kind when workloads of other kinds share
        its name."""
        return f"{self.object_kind} {self.name}" if self.namesake else self.name

    @property
    def final_kind(self) -> Kind:
        return self.kind.value if self.kind is not None else self.guess.kind

    def route(self, caller: str, operation: str | None = None) -> Route | None:
        """The route a caller's call to `operation` takes: the most specific that matches,
        the caller's own before any caller's, and for each one for that operation first."""
        for key in ((caller, operation), (caller, None), (None, operation), (None, None)):
            if key in self.routes:
                return self.routes[key]
        return None

    def routed_operations(self, caller: str | None = None) -> list[str]:
        """The operations routes match by uri, in the order read: those `caller`'s calls
        reach (its own routes' and any caller's), or every one when no caller is given."""
        return list(dict.fromkeys(operation for source, operation in self.routes
                                  if operation is not None
                                  and (caller is None or source in (caller, None))))

    @property
    def wires_itself(self) -> bool:
        """A known server's image: the hosts in its settings are its own cluster wiring
        (Kafka's ZooKeeper, a replica's primary), not calls of the system."""
        return self.guess.from_image and self.kind is None


@dataclass
class Draft:
    source: str                               # what was imported, for the header
    name: Fact[str]
    components: dict[str, Component] = field(default_factory=dict)
    hosts: dict[str, str] = field(default_factory=dict)           # full host -> key
    short_hosts: dict[tuple[str, str], str] = field(default_factory=dict)
    meshed: bool = False      # Istio objects present: its defaults apply to HTTP calls
    notes: list[str] = field(default_factory=list)

    def add(self, component: Component) -> Component:
        self.components[component.key] = component
        return component

    def answer(self, key: str, host: str, namespace: str, qualified: tuple[str, ...] = ()) -> None:
        """Component `key` is reached as `host` in `namespace`, and by `qualified` names."""
        self.short_hosts.setdefault((namespace, host.lower()), key)
        for name in qualified:
            self.hosts.setdefault(name.lower(), key)

    def resolve(self, host: str, namespace: str) -> str | None:
        """The component a host name reaches from `namespace`; a StatefulSet pod's own name
        (`db-0.db…`) reaches its component."""
        host = host.lower().rstrip(".")
        found = self.hosts.get(host) or self.short_hosts.get((namespace, host))
        first, _, rest = host.partition(".")
        if found is None and rest and _POD_ORDINAL.match(first):
            return self.resolve(rest, namespace)
        return found

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)
