"""Checks of a field's value, as the system that reads the file takes it.

A check gets a value read from a file and says what is wrong with it, or None. The
Kubernetes importer applies them to the fields of each object by path (k8s/fields.py), the
Compose importer to the fields of each service (compose.py); both print a refused value as
`FILE:LINE: <what> <field>: <problem>` (`field_problem`), all of them at once, and write
nothing. A value is never read as "not set" because a system would refuse it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from scalesim.importers.errors import Problem
from scalesim.importers.sizing import go_duration, quantity

Check = Callable[[Any], str | None]

_WHOLE_TEXT = re.compile(r"^[+-]?\d+$")                                  # Go's strconv.Atoi
_NUMBER_TEXT = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")  # strconv.ParseFloat
_PERCENT = re.compile(r"^\d+%$")                  # Kubernetes' IsValidPercent: '25%', not '-5%'


def field_problem(file: str, line: int, what: str, path: str, problem: str) -> Problem:
    """A refused value, named by where it is written, what holds it and its field."""
    return Problem(file, line, f"{what} {path}: {problem}")


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def as_whole(value: Any, text: bool = False) -> int | None:
    """An integer; with `text`, also a string holding one as Go's strconv.Atoi reads it
    (Compose casts such a string, after interpolation, to the number its field holds; Argo
    reads a pause of digits as seconds)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if text and isinstance(value, str) and _WHOLE_TEXT.match(value):
        return int(value)
    return None


def as_number(value: Any, text: bool = False) -> float | None:
    """A number; with `text`, also a string holding one (Go's strconv.ParseFloat)."""
    if is_number(value):
        return float(value)
    if text and isinstance(value, str) and _NUMBER_TEXT.match(value):
        return float(value)
    return None


def count(minimum: int | None = 0, maximum: int | None = None, *, text: bool = False) -> Check:
    """A whole number (int32 in the API) in [minimum, maximum] (None: no bound); with
    `text`, also a string holding one (see as_whole)."""
    def check(value: Any) -> str | None:
        number = as_whole(value, text)
        if number is None:
            return f"{value!r} is not a whole number"
        if (minimum is not None and number < minimum) or (maximum is not None and
                                                          number > maximum):
            lower = f" at least {minimum}" if minimum is not None else ""
            upper = f"{' and' if lower else ''} at most {maximum}" if maximum is not None else ""
            return f"{number} is out of range: it must be{lower}{upper}"
        return None
    return check


def at_least(minimum: float, *, text: bool = False, most: float | None = None) -> Check:
    """A number (with `text`, also a string holding one) of at least `minimum`, and at most
    `most` when given."""
    def check(value: Any) -> str | None:
        number = as_number(value, text)
        if number is None:
            return f"{value!r} is not a number"
        if number < minimum:
            return f"{value!r} is out of range: it must be at least {minimum:g}"
        if most is not None and not number <= most:  # inf and nan too
            return f"{value!r} is out of range: it must be at most {most:g}"
        return None
    return check


def positive_number(value: Any) -> str | None:
    if not is_number(value):
        return f"{value!r} is not a number"
    return None if value > 0 else f"{value} is out of range: it must be greater than 0"


def percentage(value: Any) -> str | None:
    if not is_number(value):
        return f"{value!r} is not a number"
    return None if 0 <= value <= 100 else f"{value} is out of range: it must be 0 to 100"


def duration(value: Any, parse: Callable[[object], float | None] = go_duration) -> str | None:
    """A duration `parse` reads: by default Go's ('250ms', '1m30s'), as Istio and Argo take
    it."""
    if parse(value) is None:
        return f"{value!r} is not a duration (a number with a unit: '250ms', '2s', '1m')"
    return None


def resource_quantity(value: Any) -> str | None:
    """A Kubernetes quantity ('500m', '2', '64Mi'), not negative."""
    amount = quantity(value)
    if amount is None:
        return _not_a_quantity(value)
    return None if amount >= 0 else f"{value!r} is out of range: it must not be negative"


def positive_quantity(value: Any) -> str | None:
    """A Kubernetes quantity greater than 0, as an autoscaling target must be."""
    amount = quantity(value)
    if amount is None:
        return _not_a_quantity(value)
    return None if amount > 0 else f"{value!r} is out of range: it must be greater than 0"


def _not_a_quantity(value: Any) -> str:
    return f"{value!r} is not a quantity (e.g. '500m', '2', '64Mi')"


def is_text(value: Any) -> str | None:
    return None if isinstance(value, str) else f"{value!r} is not text"


def one_of(*choices: str) -> Check:
    """One of the words an enumerated field takes (case matters, as in the API)."""
    def check(value: Any) -> str | None:
        return None if value in choices else f"{value!r} is not one of {', '.join(choices)}"
    return check


def boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"{value!r} is not true or false"


def int_or_percent(max_percent: int | None = None) -> Check:
    """Kubernetes' IntOrString as a count or share of replicas: a whole number ≥ 0 or a
    percent string ('25%'); a string holding only digits is neither."""
    def check(value: Any) -> str | None:
        if isinstance(value, str) and _PERCENT.match(value):
            if max_percent is not None and int(value[:-1]) > max_percent:
                return f"{value!r} is out of range: it must be at most {max_percent}%"
            return None
        if as_whole(value) is None:
            return f"{value!r} is not a whole number or a percent (e.g. 1 or '25%')"
        return count()(value)
    return check


def is_zero(value: Any) -> bool:
    """An int-or-percent value of 0 or '0%'."""
    return as_whole(value) == 0 or value == "0%"


def spec_problem(model: type[BaseModel], data: dict[str, Any]) -> str:
    """Why `data` is not a valid `model` of the spec (its first error, located), or ""."""
    try:
        model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"{where + ': ' if where else ''}{first['msg']}"
    return ""
