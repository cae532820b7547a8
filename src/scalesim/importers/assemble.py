"""From what the files say (a `Draft`) to a commented spec that validates.

Once `roles` has decided who calls whom, every component, call, workload and fault is
written with the comment of where it came from; what no file can say (work times, rates,
operations, hit ratios) gets a PLACEHOLDER value. The text is validated before it is
returned, so nothing invalid is ever written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scalesim.importers import control, delivery, own_settings
from scalesim.importers.draft import MARK, Block, Component, Draft, Fact, Route
from scalesim.importers.envoy import ISTIO_DEFAULT_RETRIES, ISTIO_RETRY_ON, retry
from scalesim.importers.errors import ImportFailed, fail
from scalesim.importers.names import CLASH, Names, Renamed, spec_name
from scalesim.importers.operations import Operations, Wanted, plan
from scalesim.importers.roles import Roles, decide
from scalesim.importers.sources import Seen
from scalesim.importers.writer import to_text
from scalesim.spec import System
from scalesim.spec.bounds import MAX_REPLICAS_TOTAL
from scalesim.spec.errors import Path, SpecError
from scalesim.spec.loader import load_spec_text
from scalesim.spec.model import Kind
from scalesim.spec.units import format_duration

RATE = "10/s"
HIT_RATIO = 0.8
MEASURE_RATE = f"{MARK}: requests per second arriving here (ingress or load-balancer metrics)"
ONE_OPERATION = f"{MARK}: one operation for every endpoint (the files do not name them)"
ROUTED_OPERATIONS = ("the operations the Istio routes match by uri (exact /<operation>); "
                     "endpoints no route names are not in the files")
CALL_ORDER = (f"{MARK}: order and share unknown; each call runs once per request, one after "
              "another")
UNLISTED = (f"{MARK}: a route matches this operation's uri, but the settings list no such "
            "call (a saga's compensation runs only when a step fails): here it runs on every "
            "request")
NO_CPU = f"{MARK}: no CPU request or limit; set the requests one replica serves at once"
MEASURE_HITS = f"{MARK}: share of reads the cache answers (its hit and miss counters)"
CONCURRENCY = f"{MARK}: deliveries in flight at once (the consumer's prefetch × replicas)"
PREFETCH = (f"{MARK}: deliveries in flight per consumer replica (its prefetch), so the "
            "subscription grows with the autoscaled replicas")
MEMBERS = (f"{MARK}: consumers per replica (with partitions, each replica runs this many "
           "group members, as Spring Kafka's concurrency): its workers")

@dataclass(frozen=True)
class Imported:
    """The written spec, the System it validates as, and what the user should know."""

    text: str
    system: System
    renamed: list[Renamed]
    placeholders: int
    notes: list[str]


class _Spec:
    """Plain spec data plus the comment of each path."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.comments: dict[Path, str] = {}
        self.placeholders = 0

    def comment(self, path: Path, text: str | Seen | None) -> None:
        if text is None or str(text) == "":
            return
        text = str(text)
        if text.startswith(MARK):
            self.placeholders += 1
        self.comments[path] = text if path not in self.comments else \
            f"{self.comments[path]}; {text}"


def assemble(draft: Draft) -> Imported:
    roles = decide(draft)
    name_of, names = _names(draft)
    spec = _Spec()
    system_name = spec_name(draft.name.value, "imported")
    spec.data["scalesim"] = 1
    spec.data["name"] = system_name
    spec.comment(("name",), draft.name.seen)
    spec.data["description"] = f"Imported from {draft.source}"
    if not draft.components:  # an empty file, `services: {}`, manifests without workloads
        raise fail(draft.source, 0, "no services or workloads in the files: nothing to "
                   "import")
    spec.data["components"] = {}
    operations = plan(draft, roles)
    for key, component in draft.components.items():
        _component(spec, draft, key, component, roles, name_of, operations)
    rolled = [name for name, data in spec.data["components"].items() if "rollout" in data]
    if len(rolled) > 1:
        draft.note(f"{len(rolled)} components roll out at the same PLACEHOLDER time "
                   f"(rollout.at: {', '.join(rolled)}): keep the rollouts you want to "
                   "simulate, or start them at different times")
    _workloads(spec, draft, roles, name_of, operations)
    _faults(spec, draft, name_of)
    total = sum(c.get("replicas", 1) for c in spec.data["components"].values())
    if total > MAX_REPLICAS_TOTAL:
        raise _too_many_replicas(draft, total)
    renamed = names.mapped
    header = _header(draft, renamed)
    text = to_text(spec.data, spec.comments, header)
    try:
        system = load_spec_text(text, "imported spec")
    except SpecError as error:  # our mapping produced something invalid: say so plainly
        raise fail(draft.source, 0, "the imported spec does not validate (a bug in "
                   f"scalesim import; please report it):\n{error}") from None
    return Imported(text, system, renamed, spec.placeholders, list(draft.notes))


def _names(draft: Draft) -> tuple[dict[str, str], Names]:
    """Every component's spec name (by its key), and the Names that chose them. A name that
    components of several namespaces use is qualified by each namespace (`orders` in
    `billing` -> `orders-billing`): a spec has one namespace, and one component of each
    name."""
    spaces: dict[str, set[str]] = {}
    kinds: dict[tuple[str, str], list[Component]] = {}
    for component in draft.components.values():
        spaces.setdefault(component.name.lower(), set()).add(component.namespace)
        if component.object_kind:
            kinds.setdefault((component.namespace, component.name), []).append(component)
    names, name_of = Names(), {}
    for key, component in draft.components.items():
        shared = len(spaces[component.name.lower()]) > 1
        namesakes = kinds.get((component.namespace, component.name), [])
        others = [f"{c.object_kind} {c.name}" for c in namesakes if c is not component]
        name_of[key] = names.add(component.name, key, component.namespace if shared else None,
                                 component.object_kind if others else "",
                                 f"same name as {', '.join(others)}" if others else CLASH)
    for (namespace, name), namesakes in kinds.items():
        if len(namesakes) > 1:
            each = ", ".join(f"{c.object_kind} {c.name} -> {name_of[c.key]}" for c in namesakes)
            draft.note(f"{len(namesakes)} workloads of different kinds are named {name} in "
                       f"namespace {namespace}: Kubernetes runs each, so each is a "
                       f"component ({each})")
    for name, namespaces in spaces.items():
        if len(namespaces) > 1:
            given = ", ".join(f"{name_of[key]} ({c.namespace})"
                              for key, c in draft.components.items()
                              if c.name.lower() == name)
            draft.note(f"{name} is a component name in {len(namespaces)} namespaces "
                       f"({', '.join(sorted(namespaces))}); a spec has one namespace, so "
                       f"each is named after its own: {given}")
    return name_of, names


def _component(spec: _Spec, draft: Draft, key: str, component: Component, roles: Roles,
               name_of: dict[str, str], operations: Operations) -> None:
    name = name_of[key]
    base: Path = ("components", name)
    data: dict[str, Any] = {}
    spec.data["components"][name] = data
    kind = roles.kinds[key]
    data["kind"] = kind.value
    if component.kind is not None:
        spec.comment((*base, "kind"), component.kind.seen)
    elif component.guess.why:
        spec.comment((*base, "kind"), component.guess.why)
    if kind is not component.final_kind:
        spec.comment((*base, "kind"), f"a {component.final_kind.value} with nothing behind it")
    tech = component.tech or component.guess.tech
    if tech:
        data["tech"] = tech
    controls = control.fit(draft, key, component, kind, roles, name_of)
    if component.replicas is not None:
        replicas = _scaled_from(component.replicas, controls, component)
        if replicas.value == 0 and not control.scales_to_zero(controls):
            replicas = Fact(1, f"{replicas.seen} is 0 (scaled down); a spec component runs at "
                            "least one unless KEDA scales it to zero")
        data["replicas"] = replicas.value
        spec.comment((*base, "replicas"), replicas.seen)
    if kind is not Kind.EXTERNAL and kind is not Kind.QUEUE:
        if component.workers is not None:
            data["workers"] = component.workers.value
            spec.comment((*base, "workers"), component.workers.seen)
        else:
            data["workers"] = 1
            spec.comment((*base, "workers"), NO_CPU)
        io = own_settings.io(component)
        if io is not None:
            data["io"] = io[0]
            spec.comment((*base, "io"), io[1])
        for field_name, value, where in own_settings.limits(component):
            data[field_name] = value
            spec.comment((*base, field_name), where)
    for field_name, fact in (("balancer", component.balancer),
                             ("connection_pool", component.connection_pool),
                             ("outlier_detection", component.outlier),
                             ("rate_limit", component.rate_limit)):
        if fact is not None:
            data[field_name] = fact.value
            spec.comment((*base, field_name), fact.seen)
    if component.health:
        data["health"] = {which: fact.value for which, fact in component.health.items()}
        for which, fact in component.health.items():
            spec.comment((*base, "health", which), fact.seen)
    data.update(controls.data)
    for path, texts in controls.comments.items():
        for text in texts:
            spec.comment((*base, *path), text)
    if kind is Kind.QUEUE:
        broker = roles.brokers.get(key)
        if broker is not None:
            data.update(delivery.named(broker, name_of))
            for path, texts in broker.comments.items():
                for text in texts:
                    spec.comment((*base, *path), text)
        _consumers(spec, draft, key, roles.consumers.get(key, {}), name_of,
                   partitioned="partitions" in data, operations=operations)
        return
    if kind is Kind.CACHE:
        backend = roles.backends[key]
        hit_ratio = own_settings.number(component, "hit_ratio") or (HIT_RATIO, MEASURE_HITS)
        data["hit_ratio"] = hit_ratio[0]
        spec.comment((*base, "hit_ratio"), hit_ratio[1])
        data["backend"] = name_of[backend.value]
        spec.comment((*base, "backend"), backend.seen)
    data["operations"] = {}
    if key in operations.routed:
        spec.comment((*base, "operations"), ROUTED_OPERATIONS)
    elif key not in operations.named:
        spec.comment((*base, "operations"), ONE_OPERATION)
    for operation, work, why in operations.listed[key]:
        data["operations"][operation] = {"work": work}
        spec.comment((*base, "operations", operation, "work"), why)
        path = (*base, "operations", operation, "calls")
        calls = _calls(spec, draft, key, path, operations.plans[key][operation], roles,
                       name_of, operations)
        if calls:
            data["operations"][operation]["calls"] = calls
            spec.comment(path, CALL_ORDER)


def _consumers(spec: _Spec, draft: Draft, queue: str, consumers: dict[str, Seen | str],
               name_of: dict[str, str], partitioned: bool, operations: Operations) -> None:
    base: Path = ("components", name_of[queue])
    entries: list[dict[str, Any]] = []
    for index, (consumer, why) in enumerate(consumers.items()):
        component = draft.components[consumer]
        replicas = component.replicas.value if component.replicas is not None else 1
        # a placeholder's guess: one delivery per worker (per replica when they are unlimited)
        workers = component.workers.value if component.workers is not None else 1
        workers = workers if isinstance(workers, int) else 1
        delivered = own_settings.delivered_to(draft.components[queue], component.name)
        entries.append({"to": operations.reference(consumer, delivered, name_of[consumer])})
        spec.comment((*base, "consumers", index, "to"), why)
        if partitioned:     # group members per replica; the group follows the replicas
            field, estimate = "concurrency", (workers, MEMBERS)
        elif component.autoscale is not None:    # deliveries follow the replicas it scales to
            field, estimate = "prefetch", (workers, PREFETCH)
        else:
            field, estimate = "concurrency", (max(1, replicas * workers), CONCURRENCY)
        value, comment = own_settings.consumer(draft.components[queue], component.name,
                                               field) or estimate
        entries[-1][field] = value
        spec.comment((*base, "consumers", index, field), comment)
    if entries:         # a dead-letter queue may have none
        spec.data["components"][base[1]]["consumers"] = entries


def _calls(spec: _Spec, draft: Draft, caller: str, path: Path, wanted: Wanted, roles: Roles,
           name_of: dict[str, str], operations: Operations) -> list[dict[str, Any]]:
    """The calls one operation makes, to the callees (and their operations) `wanted`."""
    kinds = roles.kinds
    calls: list[dict[str, Any]] = []
    for index, (target, operation) in enumerate(wanted):
        seen = roles.calls.get((caller, target)) or roles.publishes[(caller, target)]
        call: dict[str, Any] = {"to": operations.reference(target, operation, name_of[target])}
        spec.comment((*path, index, "to"), seen[0])
        if (caller, target, operation) in operations.unlisted:
            spec.comment((*path, index, "to"), UNLISTED)
        route = draft.components[target].route(caller, operations.called(target, operation))
        if (kinds[target] is Kind.QUEUE and not _waited_for(route)) or \
                (caller, target) in roles.made_async:
            call["async"] = True
            if kinds[target] is Kind.QUEUE:
                spec.comment((*path, index, "async"), "publishing to a queue waits for no "
                             "answer")
        else:
            _settings(spec, draft, target, route or Route(), call, (*path, index))
        calls.append(call)
    return calls


def _waited_for(route: Route | None) -> bool:
    """A route that bounds or retries the calls waits for their answer (a publish to an
    HTTP queue API waits for the broker's acknowledgement)."""
    return route is not None and any((route.timeout, route.deadline, route.retry))


def _scaled_from(replicas: Fact[int], controls: Block, component: Component) -> Fact[int]:
    """A workload that states no `spec.replicas` (its autoscaler owns the count, as
    Kubernetes advises) starts with the spec's count its `component.json` holds, else where
    its autoscaler puts it: the minimum."""
    autoscale = controls.data.get("autoscale")
    if isinstance(replicas.seen, Seen) or not autoscale:
        return replicas
    own = own_settings.replicas(component)
    if own is not None:
        return Fact(own[0], f"{own[1]}: the spec's count at the start; {replicas.seen}, "
                    "its autoscaler owns the count")
    minimum = autoscale.get("min", 1)
    return Fact(minimum, f"{replicas.seen}; its autoscaler scales it to min {minimum}")


def _too_many_replicas(draft: Draft, total: int) -> ImportFailed:
    """Replicas over the spec's bound in all, named where the largest share is written
    (each component's own are refused where they are read, so only a sum gets here)."""
    message = f"the files run {total:,} replicas; a spec simulates at most " \
        f"{MAX_REPLICAS_TOTAL:,} in all"
    written: list[tuple[int, Seen]] = [
        (c.replicas.value, c.replicas.seen) for c in draft.components.values()
        if c.replicas is not None and isinstance(c.replicas.seen, Seen)]
    if not written:
        return fail(draft.source, 0, message)
    replicas, seen = max(written, key=lambda pair: pair[0])
    return fail(seen.file, seen.line, f"{message}; the most: {seen.what} {seen.field} "
                f"{replicas:,}")


def _settings(spec: _Spec, draft: Draft, target: str, route: Route, call: dict[str, Any],
              path: Path) -> None:
    """Timeout, deadline and retry of one call, from the callee's route it takes. Where no
    route sets retries, Istio's default policy retries HTTP calls; a route timeout then
    bounds every try together: a deadline."""
    callee = draft.components[target]
    chosen, timeout, deadline = route.retry, route.timeout, route.deadline
    if chosen is None and route.retry_off is None and draft.meshed and callee.http \
            and callee.final_kind in (Kind.SERVICE, Kind.GATEWAY, Kind.EXTERNAL):
        value, _ = retry(ISTIO_DEFAULT_RETRIES, ISTIO_RETRY_ON, None, True)
        chosen = None if value is None else Fact(
            value, f"Istio's default retry policy ({ISTIO_DEFAULT_RETRIES} retries on "
            f"{ISTIO_RETRY_ON}): no route sets retries for this call")
        if timeout is not None and deadline is None:
            deadline = Fact(timeout.value, f"{timeout.seen} (bounds every try)")
            timeout = None
    for field_name, fact in (("timeout", timeout), ("deadline", deadline)):
        if fact is not None:
            call[field_name] = format_duration(fact.value)
            spec.comment((*path, field_name), fact.seen)
    if chosen is not None:
        value = dict(chosen.value)
        if callee.max_retries is not None:
            value["max_concurrent"] = callee.max_retries.value
            spec.comment((*path, "retry", "max_concurrent"), callee.max_retries.seen)
        call["retry"] = value
        spec.comment((*path, "retry"), chosen.seen)


def _workloads(spec: _Spec, draft: Draft, roles: Roles, name_of: dict[str, str],
               operations: Operations) -> None:
    kinds = roles.kinds
    entries: list[tuple[str, str]] = [(key, str(component.entry[0]))
                                      for key, component in draft.components.items()
                                      if component.entry]
    if not entries:
        called = {target for _, target in roles.calls} | {t for _, t in roles.publishes}
        consumers = {c for subs in roles.consumers.values() for c in subs}
        roots = [key for key in draft.components if kinds[key] in (Kind.SERVICE, Kind.GATEWAY)
                 and key not in called and key not in consumers]
        chosen = roots or [key for key in draft.components if kinds[key] is not Kind.QUEUE][:1]
        why = ("no entry point in the files (no published port, Ingress, route or "
               "LoadBalancer Service): " + ("nothing calls this component" if roots
                                             else "the first component"))
        entries = [(key, why) for key in chosen]
    if any(component.generated is not None for component in draft.components.values()):
        draft.note("the workloads' rates are placeholders: `scalesim generate` writes the "
                   "components' settings (component.json), but no workload, into its files")
    workloads: list[dict[str, Any]] = []
    for key, why in entries:
        for operation in operations.entries(key):
            index = len(workloads)
            to = operations.reference(key, operation, name_of[key])
            workloads.append({"name": to.replace(".", "-"), "to": to, "rate": RATE})
            spec.comment(("workloads", index, "to"), f"entry point: {why}")
            spec.comment(("workloads", index, "rate"), MEASURE_RATE)
    spec.data["workloads"] = workloads


def _faults(spec: _Spec, draft: Draft, name_of: dict[str, str]) -> None:
    faults: list[dict[str, Any]] = []
    for key, component in draft.components.items():
        for fact in component.faults:
            spec.comment(("faults", len(faults), "target"), fact.seen)
            faults.append({"target": name_of[key], **fact.value})
    if faults:
        spec.data["faults"] = faults


def _header(draft: Draft, renamed: list[Renamed]) -> str:
    lines = [f"Imported by `scalesim import` from {draft.source}.",
             f"Each value says where it came from. Values marked {MARK} are not in the "
             "files:",
             "measure them, or run `scalesim calibrate` with traces, before trusting results.",
             "docs/import.md explains every rule."]
    if renamed:
        lines.append("Renamed: " + ", ".join(
            f"{source} -> {name} ({why})" for source, name, why in renamed))
    return "\n".join(lines)
