"""The grid of a sweep: `--vary PATH=VALUES`, one axis each, every combination a point.

VALUES is a list `a,b,c`; an integer range `1..40` (every integer); `LO..HI:N`, N evenly
spaced values from LO to HI; or `LO..HI:N:log`, N values evenly spaced on a log scale. The
ends may carry a unit (`100/s..2000/s:10`, `5ms..50ms:4`, `1%..10%:10`): both must use the
same one, and the values keep it. Each value is applied like `--set PATH=VALUE`. A value
given twice (the same quantity: `4,5,4`, `1s,1000ms`) is kept once, so no point is simulated
twice; a range that gives one value only (`5..5`, `100/s..100/s:3`) is refused, as is an
end no point could take (a rate or duration past its bounds, a number past the float range).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from scalesim.spec.units import parse_duration, parse_fraction, parse_rate, unit_parser

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_VALUE = re.compile(rf"^\s*({_NUMBER})\s*([^\d\s.].*?)?\s*$")
_RANGE = re.compile(r"^(.+?)\.\.(.+?)(?::(\d+)(?::(log|lin))?)?$")
MAX_POINTS = 10_000


class GridError(ValueError):
    pass


@dataclass(frozen=True)
class Axis:
    path: str
    values: tuple[str, ...]  # as applied with --set


def quantity(value: str) -> float | None:
    """A value as a plain number for plots and tables: rates in /s, durations in seconds,
    percentages as fractions; None for a value that is not a quantity."""
    text = value.strip()
    for parse in (parse_rate, parse_duration):
        try:
            return parse(text)
        except ValueError:
            pass
    if text.endswith("%"):
        try:
            return parse_fraction(text)
        except ValueError:
            return None
    try:
        return float(text)
    except ValueError:
        return None


def parse_axis(text: str) -> Axis:
    """'components.api.replicas=1..8' -> Axis('components.api.replicas', ('1', …, '8'))."""
    path, sep, spec = text.partition("=")
    path = path.strip()
    if not sep or not path or not spec.strip():
        raise GridError(f"--vary needs PATH=VALUES, got {text!r}")
    spec = spec.strip()
    match = _RANGE.match(spec)
    if match is None or "," in spec:
        values = tuple(v.strip() for v in spec.split(","))
        if any(not v for v in values):
            raise GridError(f"--vary {path}: an empty value in {spec!r}")
        return Axis(path, _distinct(values))
    low, high, count, scale = match.groups()
    values = _distinct(_range(path, low, high, int(count) if count else None, scale == "log"))
    if len(values) < 2:
        raise GridError(f"--vary {path}: a range needs at least 2 values, and {spec!r} gives "
                        f"only {values[0]}")
    return Axis(path, values)


def _distinct(values: Sequence[str]) -> tuple[str, ...]:
    """`values` without repeats, each first as given: two values of the same quantity
    (`4,4`, `1s,1000ms`) would simulate the same point twice."""
    seen: dict[str | float, str] = {}
    for value in values:
        number = quantity(value)
        seen.setdefault(value if number is None else number, value)
    return tuple(seen.values())


def _split(path: str, text: str) -> tuple[float, str]:
    match = _VALUE.match(text)
    if match is None:
        raise GridError(f"--vary {path}: {text!r} is not a number with an optional unit")
    return float(match.group(1)), (match.group(2) or "")


def _end(path: str, text: str) -> tuple[float, str]:
    """A range's end: its number and unit. One no point could take is refused here, named
    as written: an end past the float range ('1e400/s') made every point NaN or infinite,
    and the points, not the end, were reported."""
    number, unit = _split(path, text)
    parse = unit_parser(unit)
    if parse is not None:  # the bounds of every rate or duration (docs/spec.md, Bounds)
        try:
            parse(text.strip())
        except ValueError as error:
            raise GridError(f"--vary {path}: the range's end: {error}") from None
    elif not math.isfinite(number):
        raise GridError(f"--vary {path}: the range's end: {text.strip()!r} is not a finite "
                        "number")
    return number, unit


def _range(path: str, low_text: str, high_text: str, count: int | None,
           log: bool) -> tuple[str, ...]:
    low, unit = _end(path, low_text)
    high, high_unit = _end(path, high_text)
    if not math.isfinite(high - low):
        raise GridError(f"--vary {path}: the range from {low_text.strip()} to "
                        f"{high_text.strip()} is wider than a number can hold")
    if unit != high_unit:
        raise GridError(f"--vary {path}: give both ends in the same unit ({low_text!r} and "
                        f"{high_text!r})")
    integers = not unit and low.is_integer() and high.is_integer()
    if count is None:
        if not integers:
            raise GridError(f"--vary {path}: say how many values, e.g. {low_text}..{high_text}:10")
        count = int(abs(high - low)) + 1
        log = False
    if count < 2:
        raise GridError(f"--vary {path}: a range needs at least 2 values")
    if count > MAX_POINTS:
        raise GridError(f"--vary {path}: {count} values is more than {MAX_POINTS}")
    if log and (low <= 0.0 or high <= 0.0):
        raise GridError(f"--vary {path}: a log range needs positive ends")
    if log:
        points = [math.exp(math.log(low) + (math.log(high) - math.log(low)) * i / (count - 1))
                  for i in range(count)]
    else:
        points = [low + (high - low) * i / (count - 1) for i in range(count)]
    if integers:
        return tuple(str(round(p)) for p in points)
    return tuple(f"{p:.6g}{unit}" for p in points)


@dataclass(frozen=True)
class Point:
    index: int
    values: tuple[tuple[str, str], ...]  # (path, value) per axis

    @property
    def overrides(self) -> list[str]:
        return [f"{path}={value}" for path, value in self.values]

    @property
    def label(self) -> str:
        return ", ".join(f"{path.rsplit('.', 1)[-1]}={value}" for path, value in self.values)

    @property
    def name(self) -> str:
        """'point 3 (rate=400/s)': how a message about one point names it."""
        return f"point {self.index} ({self.label})"


def within(path: str, outer: str) -> bool:
    """`path` is `outer` or a field inside it (`a.b.c` within `a.b`), part by part."""
    parts, outer_parts = path.split("."), outer.split(".")
    return parts[:len(outer_parts)] == outer_parts


def set_where_varied(sets: Sequence[str], axes: Sequence[Axis]) -> None:
    """A GridError for a `--set PATH=VALUE` at or inside a varied path: each point applies
    its values after the --set, so that --set would change nothing, unsaid (as a path
    varied twice is refused)."""
    for text in sets:
        path = text.partition("=")[0].strip()
        for axis in axes:
            if within(path, axis.path):
                raise GridError(f"--set {text}: {axis.path} is varied (--vary), which sets it "
                                "at every point, so this --set would change nothing; give "
                                "one or the other")


def grid(axes: list[Axis]) -> list[Point]:
    """Every combination of the axes' values, the first axis varying slowest."""
    total = math.prod(len(a.values) for a in axes)
    if total > MAX_POINTS:
        raise GridError(f"the grid has {total:,} points, more than {MAX_POINTS:,}")
    paths = [a.path for a in axes]
    if len(set(paths)) != len(paths):
        raise GridError("each path may be varied once")
    return [Point(i, tuple(zip(paths, combo, strict=True)))
            for i, combo in enumerate(itertools.product(*(a.values for a in axes)))]
