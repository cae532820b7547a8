"""Who calls whom: roles decided from who knows whose address.

The files show references, not calls. The rules (docs/import.md, "Roles"), each result
carrying the reason that becomes its comment:
- a queue's subscribers are the referrers a KEDA object scales on it; without KEDA, those
  its `component.json` names, and a referrer whose own settings call the queue publishes;
  without either, the referrers that nothing calls and that are no entry point (workers);
  other referrers publish to it (async); a queue holding a component's address delivers to it;
- a cache holding an address calls it on a miss; else its backend is the database its
  callers also reach (their reference to it is the miss path); a cache with nothing behind
  it is a store: a database of its tech;
- a queue with no subscriber in the files gets a marked stand-in consumer;
- a call that would close a synchronous cycle is made async.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from scalesim.importers import delivery, own_settings
from scalesim.importers.draft import MARK, Block, Component, Draft, Fact, Reference
from scalesim.importers.kinds import Guess
from scalesim.importers.sources import Seen
from scalesim.spec.model import Kind

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "::1"})

@dataclass
class Roles:
    kinds: dict[str, Kind]
    calls: dict[tuple[str, str], list[Seen]] = field(default_factory=dict)
    publishes: dict[tuple[str, str], list[Seen]] = field(default_factory=dict)
    consumers: dict[str, dict[str, Seen | str]] = field(default_factory=dict)
    backends: dict[str, Fact[str]] = field(default_factory=dict)
    made_async: set[tuple[str, str]] = field(default_factory=set)
    brokers: dict[str, Block] = field(default_factory=dict)      # queue -> its settings
    dead_letters: dict[str, str] = field(default_factory=dict)    # queue -> its dead letter


def decide(draft: Draft) -> Roles:
    """The roles of every component; stand-in consumers are added to the draft."""
    kinds = {key: component.final_kind for key, component in draft.components.items()}
    roles = _references(draft, kinds)
    _cache_backends(draft, kinds, roles)
    _brokers(draft, kinds, roles)
    _stand_in_consumers(draft, kinds, roles)
    _break_cycles(draft, roles)
    return roles


def _references(draft: Draft, kinds: dict[str, Kind]) -> Roles:
    roles = Roles(kinds)
    edges: dict[tuple[str, str], list[Seen]] = {}
    wiring: dict[tuple[str, str], list[Seen]] = {}
    for key, component in draft.components.items():
        for reference in component.references:
            target = reference.target or draft.resolve(reference.host, reference.namespace)
            if target not in draft.components:  # none, or an alias of a service not there
                if reference.host not in LOCAL_HOSTS:
                    draft.note(_unresolved(draft, component, reference))
                continue
            if target == key:
                continue
            (wiring if component.wires_itself else edges).setdefault((key, target), []).append(
                reference.seen)
    for (key, target), places in wiring.items():      # once per pair, however often named
        component = draft.components[key]
        draft.note(f"{component.label} → {draft.components[target].label}: "
                   f"{component.guess.tech} server's own wiring ("
                   f"{', '.join(f'{seen.file}:{seen.line}' for seen in sorted(places, key=_place))}"
                   "), not a call")
    remaining: dict[tuple[str, str], list[Seen]] = {}
    for (source, target), seen in edges.items():
        kind = kinds[source]
        if kind is Kind.QUEUE:
            roles.consumers.setdefault(source, {})[target] = seen[0]
        elif kind is Kind.CACHE and source not in roles.backends:
            roles.backends[source] = Fact(target, seen[0])
        elif kind in (Kind.DATABASE, Kind.EXTERNAL, Kind.CACHE):
            draft.note(f"{draft.components[source].label} → {draft.components[target].label}: a "
                       f"{kind.value} makes no calls in a spec; left out")
        else:
            remaining[source, target] = seen
    called = {target for _, target in remaining}
    scaled_on = {queue for component in draft.components.values() for queue in component.consumes}
    for (source, target), seen in remaining.items():
        if kinds[target] is not Kind.QUEUE:
            roles.calls[source, target] = seen
            continue
        consumer = draft.components[source]
        if target in consumer.consumes:
            roles.consumers.setdefault(target, {})[source] = consumer.consumes[target]
        elif source in roles.consumers.get(target, {}) or \
                _settings_role(draft, source, target, seen, roles):
            continue
        elif target not in scaled_on and source not in called and not consumer.entry:
            roles.consumers.setdefault(target, {})[source] = (
                f"consumer: {consumer.label} reaches this queue, and nothing calls it "
                f"({seen[0].file}:{seen[0].line})")
        else:
            roles.publishes[source, target] = seen
    for key, component in draft.components.items():     # KEDA says so without an address
        for queue, seen_queue in component.consumes.items():
            if kinds.get(queue) is Kind.QUEUE and (key, queue) not in roles.publishes:
                roles.consumers.setdefault(queue, {}).setdefault(key, seen_queue)
    return roles


def _place(seen: Seen) -> tuple[str, int]:
    return seen.file, seen.line


def _unresolved(draft: Draft, component: Component, reference: Reference) -> str:
    """The note on a host no component answers to; a Kubernetes workload of that name
    without a Service is named (a workload has no DNS name of its own)."""
    where = f"{component.label} names {reference.host} ({reference.seen.file}:" \
        f"{reference.seen.line})"
    name, *rest = reference.host.lower().split(".")
    namespace = rest[0] if rest else reference.namespace     # name.namespace[.svc…]
    namesake = next((c for c in draft.components.values() if c.object_kind and
                     c.name.lower() == name and c.namespace == namespace), None)
    if namesake is not None:
        return (f"{where}, which no Service of the files answers to: {namesake.object_kind} "
                f"{namesake.name} has no Service selecting it, and Kubernetes gives a "
                "workload no DNS name of its own; add the Service, or the call by hand")
    return f"{where}, which is not in the files: add an external component if it calls it"


def _settings_role(draft: Draft, source: str, queue: str, seen: list[Seen],
                   roles: Roles) -> bool:
    """The role `component.json` gives a referrer of a queue: it publishes when its own
    settings call the queue, or when the queue's list its consumers and not it; it consumes
    when the queue's name it. False when neither file says."""
    referrer, target = draft.components[source], draft.components[queue]
    publishes = own_settings.calls_component(referrer, target.name)
    consumes = own_settings.consumes(target, referrer.name)
    if consumes and target.generated is not None:
        roles.consumers.setdefault(queue, {})[source] = \
            f"consumer: {own_settings.at(target.generated, 'consumers')}"
    if publishes or (not consumes and own_settings.names_consumers(target)):
        roles.publishes[source, queue] = seen
    return publishes or consumes or own_settings.names_consumers(target)


def _cache_backends(draft: Draft, kinds: dict[str, Kind], roles: Roles) -> None:
    for cache, component in draft.components.items():
        if kinds[cache] is not Kind.CACHE or cache in roles.backends:
            continue
        callers = [source for source, target in roles.calls if target == cache]
        reached = Counter(target for source, target in roles.calls
                          if source in callers and kinds[target] is Kind.DATABASE)
        if not reached:
            kinds[cache] = Kind.DATABASE
            draft.note(f"{component.label}: a cache with no database behind it is a store: "
                       f"imported as a database (tech {component.guess.tech or 'unknown'})")
            continue
        backend = max(reached, key=lambda key: (reached[key], -list(draft.components).index(key)))
        users = [draft.components[c].name for c in callers if (c, backend) in roles.calls]
        roles.backends[cache] = Fact(backend, f"the database its callers ({', '.join(users)}) "
                                     "also reach: their reference to it is the miss path")
        for caller in callers:
            roles.calls.pop((caller, backend), None)


def _brokers(draft: Draft, kinds: dict[str, Kind], roles: Roles) -> None:
    """Queues' delivery settings that fit the spec, and the dead letters they name."""
    for key, component in draft.components.items():
        fitted = delivery.fit(draft, key, component, kinds)
        if fitted is not None:
            roles.brokers[key] = fitted
            target = delivery.dead_letter(fitted)
            if target is not None:
                roles.dead_letters[key] = target


def _stand_in_consumers(draft: Draft, kinds: dict[str, Kind], roles: Roles) -> None:
    """A queue's subscriber that no file shows gets a marked stand-in component; a
    dead-letter queue may have none (it keeps what it receives)."""
    fed = set(roles.dead_letters.values())
    for queue, component in list(draft.components.items()):
        if kinds[queue] is not Kind.QUEUE or roles.consumers.get(queue) or queue in fed:
            continue
        key = f"{queue}//consumer"
        stand_in = Component(key, f"{component.name}-consumer", component.namespace,
                             Guess(Kind.SERVICE, None, "", False))
        stand_in.kind = Fact(Kind.SERVICE, f"{MARK}: no consumer of {component.name} was found "
                             "in the files; this stands for it: replace it with the real one")
        draft.add(stand_in)
        kinds[key] = Kind.SERVICE
        roles.consumers[queue] = {key: "the stand-in consumer"}


def _break_cycles(draft: Draft, roles: Roles) -> None:
    """Walk the synchronous calls from the entry points; an edge back onto the current path
    closes a cycle, which a spec cannot wait on: that call becomes async."""
    graph: dict[str, list[str]] = {}
    for source, target in roles.calls:
        graph.setdefault(source, []).append(target)
    for cache, backend in roles.backends.items():
        graph.setdefault(cache, []).append(backend.value)
    entries = [key for key, c in draft.components.items() if c.entry]
    state: dict[str, int] = {}
    for start in entries + list(draft.components):
        if start in state:
            continue
        stack: list[tuple[str, Iterable[str]]] = [(start, iter(graph.get(start, [])))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(iter(children), None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1 and (node, child) in roles.calls:
                roles.made_async.add((node, child))
                draft.note(f"{draft.components[node].label} → {draft.components[child].label}: "
                           "the two reach each other; a spec cannot wait in a cycle, so this "
                           "call is async: check which way requests flow")
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(graph.get(child, []))))
