"""What a component's own settings (`component.json`, which `scalesim generate` writes for
it: k8s/generated.py) give back instead of placeholders.

They are the spec's numbers, in seconds: its `workers`, the work (or `cpu`) of its operation
(when it has one, as the import writes one), its `startup`, a cache's `hit_ratio`, and a
queue's consumers' concurrency or prefetch. The workloads are not in any generated file:
their rates stay placeholders.
"""

from __future__ import annotations

from typing import Any

from scalesim.importers.checks import is_number
from scalesim.importers.draft import Component, Fact, WorkerCount
from scalesim.importers.sources import Seen
from scalesim.spec.bounds import MAX_WORKERS
from scalesim.spec.units import format_duration, parse_duration

# The fields of a distribution that are not durations (spec/dists.py)
PLAIN_FIELDS = frozenset({"dist", "cv", "alpha", "weight"})
DEFAULT_STARTUP = {"dist": "constant", "value": 0}   # generate leaves it out


def spec_value(dumped: Any) -> Any:
    """A distribution as the settings hold it (seconds) as a spec writes it: each duration
    with its unit, a constant as its duration alone."""
    if isinstance(dumped, dict):
        if dumped.get("dist") == "constant":
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


def _at(settings: Fact[dict[str, Any]], path: str) -> str:
    seen = settings.seen
    where = f"{seen.file}:{seen.line}: {seen.what}" if isinstance(seen, Seen) else seen
    return f"from {where}, component.json {path}"


def operation(component: Component) -> tuple[str, Any, str] | None:
    """(name, work, where) of the one operation the settings hold; None otherwise."""
    settings = component.generated
    operations = settings.value.get("operations") if settings is not None else None
    if settings is None or not isinstance(operations, dict) or len(operations) != 1:
        return None
    name, spec = next(iter(operations.items()))
    field = "cpu" if isinstance(spec, dict) and "cpu" in spec else "work"  # work: cpu's shorthand
    if not isinstance(spec, dict) or field not in spec:
        return None
    return name, spec_value(spec[field]), _at(settings, f"operations.{name}.{field}")


def workers(settings: Fact[dict[str, Any]]) -> Fact[WorkerCount] | str:
    """The settings' `workers` (generate leaves the spec's default, 1, out), or what is
    wrong with the value: the generated service refuses such a file at startup."""
    if "workers" not in settings.value:
        return Fact(1, f"{_at(settings, 'workers')} not set: the spec's default 1")
    value = settings.value["workers"]
    if value == "unlimited":
        return Fact(value, _at(settings, "workers"))
    if not (is_number(value) and float(value).is_integer() and 1 <= value <= MAX_WORKERS):
        return f"{value!r} is not a whole number from 1 to {MAX_WORKERS:,}, or 'unlimited'"
    return Fact(int(value), _at(settings, "workers"))


def startup(component: Component) -> tuple[Any, str] | None:
    """(startup, where) from the settings; generate leaves the default (0) out."""
    settings = component.generated
    if settings is None:
        return None
    return spec_value(settings.value.get("startup", DEFAULT_STARTUP)), _at(settings, "startup")


def number(component: Component, field: str) -> tuple[Any, str] | None:
    """(value, where) of a plain field of the settings (`hit_ratio`)."""
    settings = component.generated
    if settings is None or field not in settings.value:
        return None
    return settings.value[field], _at(settings, field)


def consumer(queue: Component, consumer_name: str, field: str) -> tuple[int, str] | None:
    """(value, where) of `field` (concurrency, prefetch) of the queue's consumer of that
    name, when the settings give it that field."""
    settings = queue.generated
    if settings is None or not isinstance(settings.value.get("consumers"), list):
        return None
    for index, entry in enumerate(settings.value["consumers"]):
        if isinstance(entry, dict) and str(entry.get("to", "")).lower() == \
                consumer_name.lower() and isinstance(entry.get(field), int):
            return entry[field], _at(settings, f"consumers[{index}].{field}")
    return None
