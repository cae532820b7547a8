"""The queue component a broker's topic or queue object describes, and what it says of it.

`queue_for` finds (or adds) the queue component an object describes; a `Reader` gathers
what the object says about that queue into the component's `broker` block, each value with
where it comes from. Shared by k8s/brokers.py (topics, queues, broker.json) and
k8s/streams.py (RabbitMQ streams and super streams).
"""

from __future__ import annotations

from typing import Any

from scalesim.importers.draft import Block, Component, DeadLetter, Fact
from scalesim.importers.k8s import topology
from scalesim.importers.k8s.objects import Cluster, Manifest
from scalesim.importers.kinds import Guess
from scalesim.importers.sources import Seen
from scalesim.spec.model import Kind

# The spec's bound (spec/model.py partitions).
MAX_PARTITIONS = 10_000


class Reader:
    """What one object says about one queue component, gathered into a block."""

    def __init__(self, cluster: Cluster, component: Component, origin: str,
                 seen: Seen | str) -> None:
        self.cluster, self.component = cluster, component
        self.block = Block(seen, origin)
        self.dead_letter: DeadLetter | None = None

    def put(self, path: tuple[str, ...], value: Any, seen: Seen | str) -> None:
        self.block.put(path, value, seen)

    def note(self, text: str) -> None:
        self.cluster.draft.note(f"{self.component.name}: {text}")

    def attach(self) -> None:
        """The block becomes the component's broker settings, unless another object gave
        them already (the spec holds one queue's settings per component)."""
        if not self.block.data and self.dead_letter is None:
            return
        if self.component.broker is not None:
            self.note(f"{self.block.origin} is left out: {self.component.broker.origin} "
                      "gives its delivery settings already (a spec component is one queue)")
            return
        self.component.broker = self.block
        self.component.dead_letter = self.dead_letter


def put_partitions(reader: Reader, partitions: int, seen: Seen | str) -> None:
    """The queue's partitions, unless more than a spec simulates (noted)."""
    if partitions > MAX_PARTITIONS:
        reader.note(f"{seen}: {partitions:,} partitions are more than a spec simulates "
                    f"({MAX_PARTITIONS:,}); partitions left out")
        return
    reader.put(("partitions",), partitions, seen)


def queue_for(cluster: Cluster, manifest: Manifest, name: str, brokers: list[str],
               tech: str) -> Component:
    """The queue component an object describes: the queue of its name, else the broker it
    names (a queue too) unless another object's queue is that broker already, else a new
    queue component the object declares (named `<name>-<tech>` when a component of another
    kind has the name)."""
    namespace, draft = manifest.namespace, cluster.draft
    found = next((key for candidate in dict.fromkeys([name, manifest.name])
                  for key in (f"{namespace}/{candidate}", draft.resolve(candidate, namespace))
                  if key in draft.components and draft.components[key].final_kind is Kind.QUEUE),
                 None)
    taken = set(cluster.queues.values())
    for host in brokers if found is None else []:
        broker = next((key for key in cluster.service_hosts(host, namespace)
                       if draft.components[key].final_kind is Kind.QUEUE), None)
        if broker is not None and broker in taken:
            draft.note(f"{manifest.title}: its broker {draft.components[broker].name} holds "
                       "another queue of the files already; this one is a queue component of "
                       "its own (publishers reach the broker by its address, so which of them "
                       "publish to it is not in the files)")
            break
        if broker is not None:   # the queue is reached by its name too (a KEDA trigger)
            found = broker
            draft.answer(found, name, namespace)
            break
    if found is None:
        spec_name = name if f"{namespace}/{name}" not in draft.components else f"{name}-{tech}"
        found = f"{namespace}/{spec_name}"
        component = draft.add(Component(found, spec_name, namespace,
                                         Guess(Kind.QUEUE, tech, "", False)))
        component.kind = Fact(Kind.QUEUE, f"from {manifest.file}:{manifest.line}: "
                              f"{manifest.title} declares a {tech} queue")
        component.tech = tech
        draft.answer(found, spec_name, namespace)
    cluster.queues.setdefault((namespace, name), found)
    return cluster.component(found)


def object_reader(manifest: Manifest, cluster: Cluster, component: Component) -> Reader:
    return Reader(cluster, component, manifest.title,
                   f"from {manifest.file}:{manifest.line}: {manifest.title}")


def rabbit_brokers(manifest: Manifest, where: topology.Scope) -> list[str]:
    """The broker a topology object names, as a host: its RabbitmqCluster's Service."""
    ref = where[0]
    if ref[0] != "name":
        return []
    return [ref[2]] if ref[1] == manifest.namespace else [f"{ref[2]}.{ref[1]}"]



def note_federation(reader: Reader, settings: dict[str, topology.Setting]) -> None:
    """A policy naming a federation upstream (or a set of them) links the queue to a queue
    of another broker, which the spec cannot say (k8s/links.py notes the Federation)."""
    for key in ("federation-upstream", "federation-upstream-set"):
        if key in settings and settings[key].seen.field.startswith("spec.definition."):
            reader.note(f"{settings[key].said()} = {settings[key].value}: the queue is "
                        "federated: it moves messages from the upstream broker's queue of "
                        "the same name (or the upstream's `queue`) to meet its own "
                        "consumers' demand; links between brokers are not simulated; not "
                        "carried")
