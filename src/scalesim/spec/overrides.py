"""`--set PATH=VALUE` overrides, applied to the raw spec before validation."""

from __future__ import annotations

from typing import Any

from scalesim.spec.bounds import MAX_DEPTH
from scalesim.spec.errors import Path, did_you_mean
from scalesim.spec.model import System
from scalesim.spec.yamlpos import YamlBoundError, YamlSyntaxError, load_with_positions


class OverrideError(ValueError):
    pass


def parse_override(text: str) -> tuple[Path, Any]:
    """'components.api.replicas=3' -> (('components', 'api', 'replicas'), 3).

    The value is read as YAML, so numbers, booleans and unit strings all work (a mapping or
    list that is not valid YAML is an error, other text that is not is taken as written);
    a numeric path part indexes a list (`workloads.0.rate=1k/s`); in a mapping it is a
    key (`apply_override`).
    """
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise OverrideError(f"--set needs PATH=VALUE, got {text!r}")
    path: Path = tuple(int(p) if _index(p) else p for p in key.strip().split("."))
    if len(path) > MAX_DEPTH:
        raise OverrideError(f"--set {key.strip()[:80]}…: a path of more than {MAX_DEPTH} parts")
    try:
        parsed = load_with_positions(value)[0] if value.strip() else ""
    except YamlBoundError as error:
        raise OverrideError(f"--set {key.strip()}: {error}") from None
    except YamlSyntaxError as error:
        if value.lstrip().startswith(_FLOW_OPENERS):  # meant as a mapping or list, not text
            raise OverrideError(f"the value is not valid YAML, at column {error.position[1]}: "
                                f"{error}") from None
        parsed = value
    return path, parsed


def _index(part: str) -> bool:
    """A path part that reads as a list index: digits, none leading 0 but 0 itself, so that
    a key written `007` keeps its zeros (as a key in a mapping it is the text)."""
    return part.isascii() and part.isdigit() and len(part) <= 9 and \
        (part == "0" or not part.startswith("0"))


# A value starting with one of these is a YAML flow mapping or list; any other that is not
# valid YAML (`@home`, `a: b: c`) is taken as the text it is.
_FLOW_OPENERS = ("{", "[")


# Mappings whose keys are names the user chose: a field set under a name that is not there
# is a typo far more often than a new entry (a new one needs more than one field anyway).
_NAMED = {("components",): "component", ("components", "*", "operations"): "operation"}


def _named(path: Path) -> str | None:
    for pattern, what in _NAMED.items():
        if len(path) == len(pattern) and all(p in ("*", q) for p, q in zip(pattern, path,
                                                                           strict=True)):
            return what
    return None


def apply_override(data: Any, path: Path, value: Any) -> Path:
    """Set `value` at `path`, creating mappings on the way (but not a component or operation
    that does not exist); lists must already be long enough. Returns the path as the data
    holds it: a number indexes a list, but in a mapping it is the key of that text (YAML
    keys stay text, so a component named `123` is set by `components.123.replicas`)."""
    node = data
    held: list[str | int] = []
    for depth, part in enumerate(path[:-1]):
        if isinstance(node, dict):
            part = str(part)
            what = _named(tuple(held))
            if what is not None and part not in node:
                raise OverrideError(f"there is no {what} '{part}'"
                                    f"{did_you_mean(part, map(str, node))}; an override "
                                    f"changes the fields of one the file has")
            node = node.setdefault(part, {})
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            where = ".".join(str(p) for p in path[: depth + 1])
            raise OverrideError(f"nothing at '{where}'")
        held.append(part)
    last = path[-1]
    if isinstance(node, dict):
        node[str(last)] = value
        return (*held, str(last))
    if isinstance(node, list) and isinstance(last, int) and last < len(node):
        node[last] = value
        return (*held, last)
    raise OverrideError(f"cannot set '{last}' here")


def changed(system: System, path: Path, value: Any) -> System:
    """`system` with `value` at `path` (a `--set` path into its models, mappings and lists),
    copied along the path only: a proposed change (a diagnosis's fix, lint's sizing) is
    weighed on it without writing the spec out and validating it again (its durations and
    rates are numbers by then)."""
    found = _replaced(system, path, value)
    assert isinstance(found, System)
    return found


def value_at(system: System, path: Path) -> Any:
    """What `system` holds at `path` (a `--set` path, as `changed` takes it): what an
    override set, once validated, to be set alone into another system with `changed`."""
    node: Any = system
    for part in path:
        if isinstance(node, list):
            assert isinstance(part, int)
            node = node[part]
        else:
            node = node[part] if isinstance(node, dict) else getattr(node, str(part))
    return node


def _replaced(node: Any, path: Path, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, list):
        assert isinstance(head, int)
        return [_replaced(item, rest, value) if i == head else item
                for i, item in enumerate(node)]
    if isinstance(node, dict):
        return {**node, head: _replaced(node[head], rest, value)}
    return node.model_copy(update={head: _replaced(getattr(node, str(head)), rest, value)})
