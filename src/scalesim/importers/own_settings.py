"""What a component's own settings (`component.json`, which `scalesim generate` writes for
it: k8s/generated.py) give back instead of placeholders.

They are the spec's numbers, in seconds: its `workers`, `queue` and `io`, its CPU model
(`cores`, `event_loop`, `overhead`), its operations and the work (or `cpu`) of each, which
operation calls which, its `startup`, a cache's `hit_ratio`, and a queue's consumers'
operation and concurrency or prefetch, and an autoscaled component's starting `replicas`
(its workload states none). The workloads are not in any generated file: their
rates stay placeholders.
"""

from __future__ import annotations

from typing import Any

from scalesim.importers.checks import is_number, spec_problem
from scalesim.importers.draft import Component, Fact, WorkerCount
from scalesim.importers.sources import Seen
from scalesim.spec.bounds import MAX_REPLICAS_TOTAL, MAX_WORKERS
from scalesim.spec.model import Component as SpecComponent
from scalesim.spec.units import format_duration, parse_duration

# The fields of a distribution that are not durations (spec/dists.py)
PLAIN_FIELDS = frozenset({"dist", "cv", "alpha", "weight"})
DEFAULT_STARTUP = {"dist": "constant", "value": 0}   # generate leaves it out
IO_MODES = ("blocking", "nonblocking")               # a component's `io`
# What bounds a replica besides its workers, each written as the spec gives it (generate
# leaves out an unset one, and event_loop false): they change the simulated saturation
LIMITS = ("queue", "cores", "event_loop", "overhead")


def spec_value(dumped: Any) -> Any:
    """A distribution as the settings hold it (seconds) as a spec writes it: each duration
    with its unit, a constant as its duration alone."""
    if isinstance(dumped, dict):
        if dumped.get("dist") == "constant" and is_number(dumped.get("value")):
            return _duration(dumped["value"])
        return {key: _duration(value) if key not in PLAIN_FIELDS and
                isinstance(value, int | float) else spec_value(value)
                for key, value in dumped.items()}
    if isinstance(dumped, list):
        return [spec_value(item) for item in dumped]
    return dumped


def _duration(seconds: float) -> str:
    """The shortest spelling that reads back as exactly these seconds."""
    if seconds <= 0:
        return "0s"
    text = format_duration(seconds)
    return text if parse_duration(text) == seconds else f"{seconds!r}s"


def at(settings: Fact[dict[str, Any]], path: str) -> str:
    seen = settings.seen
    where = f"{seen.file}:{seen.line}: {seen.what}" if isinstance(seen, Seen) else seen
    return f"from {where}, component.json {path}"


def operations(component: Component) -> list[tuple[str, Any, str]]:
    """(name, work, where) of each operation the settings hold, in their order; none when
    they hold no operation whose CPU demand they give."""
    settings = component.generated
    held = settings.value.get("operations") if settings is not None else None
    if settings is None or not isinstance(held, dict):
        return []
    out = []
    for name, spec in held.items():
        field = "cpu" if isinstance(spec, dict) and "cpu" in spec else "work"  # cpu's shorthand
        if not isinstance(spec, dict) or field not in spec:
            return []
        out.append((str(name), spec_value(spec[field]),
                    at(settings, f"operations.{name}.{field}")))
    return out


def calls(component: Component) -> list[tuple[str, str]]:
    """(operation, callee `component` or `component.operation`) of each call its operations
    make, in the spec's order: plain calls, parallel branches, saga steps; not a saga's
    compensations, which run only when a later step fails."""
    settings = component.generated
    held = settings.value.get("operations") if settings is not None else None
    return [(str(name), target) for name, spec in (held if isinstance(held, dict) else {})
            .items() for target in _callees(spec.get("calls") if isinstance(spec, dict)
                                            else None)]


def _callees(node: Any) -> list[str]:
    """The `to` of every call in a tree of calls (steps, branches), compensations left out."""
    if isinstance(node, list):
        return [target for item in node for target in _callees(item)]
    if not isinstance(node, dict):
        return []
    own = [str(node["to"])] if isinstance(node.get("to"), str) else []
    return own + [target for key, value in node.items() if key != "compensate"
                  for target in _callees(value)]


def calls_component(component: Component, name: str) -> bool:
    """Whether the settings list a call (a publish, for a queue) to that component."""
    return any(target.partition(".")[0].lower() == name.lower()
               for _, target in calls(component))


def names_consumers(queue: Component) -> bool:
    """Whether the queue's settings list its consumers, so a referrer they do not name
    publishes."""
    entries = queue.generated.value.get("consumers") if queue.generated is not None else None
    return isinstance(entries, list) and any(isinstance(entry, dict) for entry in entries)


def consumes(queue: Component, consumer_name: str) -> bool:
    """Whether the queue's settings deliver to that component."""
    return bool(_consumer_entries(queue, consumer_name))


def delivered_to(queue: Component, consumer_name: str) -> str | None:
    """The operation of that consumer the queue's settings deliver to."""
    for _, entry in _consumer_entries(queue, consumer_name):
        if "target" in entry:
            return str(entry["target"]).partition(".")[2] or None
    return None


def _consumer_entries(queue: Component, consumer_name: str) -> list[tuple[int, dict[str, Any]]]:
    """(index, entry) of the queue's settings' consumers that deliver to that component
    (`to` names it, or one of its operations)."""
    settings = queue.generated
    entries = settings.value.get("consumers") if settings is not None else None
    return [(index, entry) for index, entry in enumerate(entries if isinstance(entries, list)
                                                         else [])
            if isinstance(entry, dict) and
            str(entry.get("to", "")).partition(".")[0].lower() == consumer_name.lower()]


def workers(settings: Fact[dict[str, Any]]) -> Fact[WorkerCount] | str:
    """The settings' `workers` (generate leaves the spec's default, 1, out), or what is
    wrong with the value: the generated service refuses such a file at startup."""
    if "workers" not in settings.value:
        return Fact(1, f"{at(settings, 'workers')} not set: the spec's default 1")
    value = settings.value["workers"]
    if value == "unlimited":
        return Fact(value, at(settings, "workers"))
    if not (is_number(value) and float(value).is_integer() and 1 <= value <= MAX_WORKERS):
        return f"{value!r} is not a whole number from 1 to {MAX_WORKERS:,}, or 'unlimited'"
    return Fact(int(value), at(settings, "workers"))


def io_problem(settings: Fact[dict[str, Any]]) -> str | None:
    """What is wrong with the settings' `io`, which the spec (and the generated service)
    takes only as one of its two modes."""
    value = settings.value.get("io", "blocking")
    return None if value in IO_MODES else f"{value!r} is not one of {', '.join(IO_MODES)}"


def limits_problem(settings: Fact[dict[str, Any]]) -> tuple[str, str] | None:
    """(field, what is wrong) for the first of LIMITS the spec refuses (and the generated
    service with it), alone or together (an event loop on more than one core)."""
    held = {field: spec_value(settings.value[field]) for field in LIMITS
            if field in settings.value}
    for field, value in held.items():
        problem = spec_problem(SpecComponent, {field: value})
        if problem:
            return field, problem
    problem = spec_problem(SpecComponent, held)
    return ("cores", problem) if problem else None


def limits(component: Component) -> list[tuple[str, Any, str]]:
    """(field, value, where) of each of LIMITS the settings hold: without them an imported
    component queues without bound and computes on unlimited CPU."""
    settings = component.generated
    if settings is None:
        return []
    return [(field, spec_value(settings.value[field]), at(settings, field))
            for field in LIMITS if field in settings.value]


def core_limit(component: Component) -> float | None:
    """Cores a replica computes on by the settings' `cores` and `event_loop`, as the spec
    counts them (a CPU target is a share of these); None without a CPU model."""
    settings = component.generated
    if settings is None:
        return None
    held = {field: spec_value(settings.value[field]) for field in ("cores", "event_loop")
            if field in settings.value}
    return SpecComponent.model_validate(held).core_limit


def io(component: Component) -> tuple[str, str] | None:
    """(io, where) when the settings free the worker while it waits (nonblocking); the
    spec's default, blocking, is left out."""
    settings = component.generated
    if settings is None or settings.value.get("io") != "nonblocking":
        return None
    return "nonblocking", at(settings, "io")


def startup(component: Component) -> tuple[Any, str] | None:
    """(startup, where) from the settings; generate leaves the default (0) out."""
    settings = component.generated
    if settings is None:
        return None
    return spec_value(settings.value.get("startup", DEFAULT_STARTUP)), at(settings, "startup")


def replicas(component: Component) -> tuple[int, str] | None:
    """(replicas, where): the spec's count at the start, which the workload of an autoscaled
    component does not state (generate leaves the count to its scaler); None when the
    settings hold no count a spec takes."""
    held = number(component, "replicas")
    if held is None:
        return None
    value, where = held
    whole = is_number(value) and float(value).is_integer() and 0 <= value <= MAX_REPLICAS_TOTAL
    return (int(value), where) if whole else None


def number(component: Component, field: str) -> tuple[Any, str] | None:
    """(value, where) of a plain field of the settings (`hit_ratio`)."""
    settings = component.generated
    if settings is None or field not in settings.value:
        return None
    return settings.value[field], at(settings, field)


def consumer(queue: Component, consumer_name: str, field: str) -> tuple[int, str] | None:
    """(value, where) of `field` (concurrency, prefetch) of the queue's consumer of that
    name, when the settings give it that field."""
    for index, entry in _consumer_entries(queue, consumer_name):
        if isinstance(entry.get(field), int) and queue.generated is not None:
            return entry[field], at(queue.generated, f"consumers[{index}].{field}")
    return None
