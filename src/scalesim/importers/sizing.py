"""Workers and cores from the CPU a container may use, and the durations files spell.

The rule, written beside every estimate in the spec: cores = the CPU limit, else the CPU
request; workers = cores rounded up, at least 1. A worker computes one request at a time on
one core, so a replica that only computes serves `cores` requests at once. A replica that
waits on I/O while it holds a worker (a thread per request) serves more: its thread pool or
connection limit is the number to use. Redis executes commands on one thread: 1 worker.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_QUANTITY = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*"
                       r"(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?\s*$")
_SUFFIXES = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3, "M": 1e6, "G": 1e9,
             "T": 1e12, "P": 1e15, "E": 1e18, "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30,
             "Ti": 2.0**40, "Pi": 2.0**50, "Ei": 2.0**60}
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0,
             "m": 60.0, "h": 3600.0}
# Compose reads durations with go-str2duration: Go's units, and days and weeks.
_COMPOSE_UNITS = {**_GO_UNITS, "d": 86400.0, "w": 604800.0}
_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_GO_DURATION = re.compile(_NUMBER + r"(ns|us|µs|μs|ms|s|m|h)")
_COMPOSE_DURATION = re.compile(_NUMBER + r"(ns|us|µs|μs|ms|s|m|h|d|w)")
SINGLE_THREADED = frozenset({"redis", "valkey"})
RULE = ("workers = cores rounded up (one request computes per core); use the thread pool size "
        "if requests wait on I/O holding a thread")


def quantity(value: object) -> float | None:
    """A Kubernetes quantity ('500m', '2', '1.5k', '1e+06', '64Mi', or a number) as a float;
    None when it is not one, or not a finite one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    match = _QUANTITY.match(value)
    if match is None:
        return None
    number, suffix = float(match.group(1)), match.group(2) or ""
    try:
        if suffix[:1] in ("e", "E") and suffix not in _SUFFIXES:
            amount = number * 10.0 ** int(suffix[1:])
        else:
            amount = number * _SUFFIXES[suffix]
    except OverflowError:  # '1e400': no float holds it
        return None
    return amount if math.isfinite(amount) else None


def cpu_cores(value: object) -> float | None:
    """'500m' -> 0.5, '2' -> 2.0, 1.5 -> 1.5; None when it is not a positive CPU quantity."""
    cores = quantity(value)
    return cores if cores is not None and cores > 0 else None


@dataclass(frozen=True)
class Workers:
    workers: int
    cores: float | None
    why: str


def estimate(cores: float | None, tech: str | None, source: str) -> Workers | None:
    """Workers from cores by the rule above; None when nothing says (a placeholder then)."""
    if tech in SINGLE_THREADED:
        return Workers(1, cores, f"{tech} executes commands on one thread")
    if cores is None:
        return None
    workers = max(1, math.ceil(round(cores, 6)))
    return Workers(workers, cores, f"{cores_text(cores)} from {source}; {RULE}")


def cores_text(cores: float) -> str:
    """'1 core', '0.5 cores', '200,000 cores': as the docs write numbers, never '5e+06'."""
    number = f"{int(cores):,}" if float(cores).is_integer() else f"{round(cores, 6):,}"
    return f"{number} core{'' if cores == 1 else 's'}"


def go_duration(value: object) -> float | None:
    """Go/Istio durations ('1.5s', '1m30s', '250ms') -> seconds; None if not one."""
    return _duration(value, _GO_DURATION, _GO_UNITS)


def compose_duration(value: object) -> float | None:
    """Compose durations: Go's, and days and weeks ('1d12h', '2w') -> seconds; None if not
    one. A bare '0' is zero, as in Go."""
    if isinstance(value, str) and value.strip() == "0":
        return 0.0
    return _duration(value, _COMPOSE_DURATION, _COMPOSE_UNITS)


def _duration(value: object, pattern: re.Pattern[str], units: dict[str, float]) -> float | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    position, total = 0, 0.0
    for match in pattern.finditer(text):
        if match.start() != position:
            return None
        total += float(match.group(1)) * units[match.group(2)]
        position = match.end()
    return total if position == len(text) else None
