"""Parsing of the spec's unit strings: durations, rates and fractions.

Every time in the model is stored in seconds and every rate in events per second, so the
rest of ScaleSim never sees a unit string.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from scalesim.spec.bounds import MAX_DURATION_S, MAX_RATE_PER_S

_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_DURATION_RE = re.compile(rf"^\s*{_NUMBER}\s*(us|µs|ms|s|m|min|h)\s*$")
_RATE_RE = re.compile(rf"^\s*{_NUMBER}\s*([kKM]?)\s*/\s*(s|sec|m|min|h)\s*$")
_PERCENT_RE = re.compile(rf"^\s*{_NUMBER}\s*%\s*$")

_DURATION_SECONDS = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "min": 60.0,
                     "h": 3600.0}
_RATE_MULTIPLIER = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6}
_PER_SECONDS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}

DURATION_PATTERN = r"^\s*(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*(us|µs|ms|s|m|min|h)\s*$"
RATE_PATTERN = r"^\s*(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*[kKM]?\s*/\s*(s|sec|m|min|h)\s*$"


def _no_unit(value: object, what: str, example: str) -> ValueError:
    """A value that is not a unit string; YAML's .inf and .nan are named as not finite
    (docs/spec.md, Bounds), not as missing a unit."""
    if isinstance(value, float) and not math.isfinite(value):
        return ValueError(f"a {what} must be finite (got {value!r}); give e.g. {example}")
    return ValueError(f"a {what} needs a unit, e.g. {example} (got {value!r})")


def parse_duration(value: object) -> float:
    """'250us', '5ms', '1.5s', '2m', '1h' -> seconds. A bare number is refused: units are
    where most spec mistakes hide."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise _no_unit(value, "duration", "'5ms' or '2s'")
    match = _DURATION_RE.match(value)
    if match is None and _DURATION_RE.match(value.strip().removeprefix("-")):
        raise ValueError(f"a duration is not negative: {value!r}")
    if match is None:
        raise ValueError(f"not a duration: {value!r}; use a number and a unit "
                         "(us, ms, s, m, min, h), e.g. '250ms'")
    seconds = float(_leading_number(value)) * _DURATION_SECONDS[match.group(2)]
    if not seconds <= MAX_DURATION_S:  # also infinity, e.g. from '1e400s'
        raise ValueError(f"{value!r} is longer than {MAX_DURATION_S:,.0f}s (about 31 years), "
                         "the longest duration a spec may give")
    return seconds


def parse_rate(value: object) -> float:
    """'500/s', '30/min', '2k/s', '1.5M/h' -> events per second."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise _no_unit(value, "rate", "'500/s' or '2k/s'")
    match = _RATE_RE.match(value)
    if match is None and _RATE_RE.match(value.strip().removeprefix("-")):
        raise ValueError(f"a rate is not negative: {value!r}")
    if match is None:
        raise ValueError(f"not a rate: {value!r}; use e.g. '500/s', '30/min', '2k/s', '1.5M/h'")
    rate = (float(_leading_number(value)) * _RATE_MULTIPLIER[match.group(2)]
            / _PER_SECONDS[match.group(3)])
    if not rate <= MAX_RATE_PER_S:  # also infinity, e.g. from '1e400/s'
        raise ValueError(f"{value!r} is more than {MAX_RATE_PER_S:,.0f}/s, the highest rate a "
                         "spec may give")
    return rate


def parse_fraction(value: object) -> float:
    """0.05 or '5%' -> 0.05, refusing anything outside [0, 1]."""
    if isinstance(value, bool):
        raise ValueError(f"not a fraction: {value!r}")
    if isinstance(value, int | float):
        fraction = float(value)
    elif isinstance(value, str) and _PERCENT_RE.match(value):
        fraction = float(_leading_number(value)) / 100.0
    elif isinstance(value, str) and re.fullmatch(_NUMBER, value.strip()):
        fraction = float(value)  # as a command line gives it: --precision 0.05
    else:
        raise ValueError(f"not a fraction: {value!r}; use e.g. 0.05 or '5%'")
    if not 0.0 <= fraction <= 1.0:  # also NaN
        raise ValueError(f"a fraction must be between 0 and 1 (0% and 100%), got {value!r}")
    return fraction


def unit_parser(unit: str) -> Callable[[object], float] | None:
    """The parser of a rate or a duration written with `unit` ('/s', 'k/min', 'ms'), which
    holds the bounds every field of that unit has (docs/spec.md, Bounds); None for any
    other unit."""
    sample = f"1{unit}"
    if _RATE_RE.match(sample):
        return parse_rate
    return parse_duration if _DURATION_RE.match(sample) else None


def _leading_number(text: str) -> str:
    match = re.match(_NUMBER, text.strip())
    assert match is not None  # the caller's full-match regex guarantees it
    return match.group(0)


def format_duration(seconds: float) -> str:
    """The shortest readable unit string for a duration (used when writing specs back)."""
    for unit, size in (("h", 3600.0), ("m", 60.0), ("s", 1.0), ("ms", 1e-3)):
        if seconds >= size and float(seconds / size).is_integer():
            return f"{int(seconds / size)}{unit}"
    if seconds >= 1.0:
        return f"{seconds:g}s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:g}ms"
    return f"{seconds * 1e6:g}us"
