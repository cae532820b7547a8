"""Kong rate limiting for gateways that declare `rate_limit`.

Kong's open-source `rate-limiting` plugin counts requests in fixed windows: a UTC second,
minute, hour and day (each always that long) and a calendar month and year (28 to 31 days,
365 or 366). A token bucket becomes its rate per window; the burst it cannot state is
noted, and so is a rate no window holds a whole number of requests of. The gateway's
Ingress names the plugin in `konghq.com/plugins`.
"""

from __future__ import annotations

import math
from typing import Any

from scalesim.generate.base import GeneratedFile, GenerateOptions
from scalesim.generate.documents import banner, notes_text, yaml_file
from scalesim.generate.kubernetes import kong_plugin_name
from scalesim.generate.naming import dns_label
from scalesim.spec.model import Kind, System
from scalesim.spec.resilience import RateLimit

# The windows of one length, shortest first: a count there is an exact long-run rate.
WINDOWS = (("second", 1.0), ("minute", 60.0), ("hour", 3600.0), ("day", 86_400.0))
# A calendar year, on average (the Gregorian 365.2425 days): the last resort, where the
# nearest whole count errs least (a calendar month, also of varying length, errs more).
YEAR = ("year", 365.2425 * 86_400.0)
NOT_MAPPED = "scalesim.io/not-mapped"


def _whole(count: float) -> bool:
    return abs(count - round(count)) <= 1e-9 * count


def limit_windows(limit: RateLimit) -> dict[str, int]:
    """Kong's limits per window (Kong enforces every one it is given). A sliding window of
    1 s, 1 min, 1 h or 1 day keeps its length, with the simulator's count. Otherwise the
    rate goes in the shortest window where it is a whole number of requests (1.5/s: 90 a
    minute; 2.5/h: 60 a day), so the long-run rate is the spec's, not rounded (2 a second
    would be a third more); when no window holds a whole number, the nearest count per
    calendar year (`rounding_note` says by how much it differs). When that window is longer
    than the shortest one holding a request, that one bounds the bursts too, rounded up
    (1.5/s: at most 2 in any second)."""
    for window, seconds in WINDOWS:
        if limit.algorithm == "sliding_window" and math.isclose(limit.window, seconds):
            return {window: max(1, round(limit.rate * seconds))}  # as compile.py sizes it
    held = [(window, limit.rate * seconds) for window, seconds in WINDOWS
            if limit.rate * seconds >= 1.0 - 1e-9]
    whole = next(((w, round(c)) for w, c in held if _whole(c)), None)
    if whole is None:
        whole = (YEAR[0], max(1, math.floor(limit.rate * YEAR[1] + 0.5)))
    out = {whole[0]: whole[1]}
    if held and whole[0] != held[0][0]:
        out = {held[0][0]: math.ceil(held[0][1] - 1e-9), **out}
    return out


def rounding_note(limit: RateLimit, windows: dict[str, int]) -> str | None:
    """What the count of the longest window makes of the spec's rate, when it is not the
    spec's rate: the count, the spec's, and the difference in percent."""
    window, count = list(windows.items())[-1]
    seconds = dict([*WINDOWS, YEAR])[window]
    exact = limit.rate * seconds
    if _whole(exact) and round(exact) == count:
        return None
    per = "calendar year (365.2425 days on average)" if window == YEAR[0] else window
    return (f"rate: no second, minute, hour or day holds a whole number of requests; "
            f"Kong allows {count} per {per}, where the spec's rate makes {exact:.10g}: "
            f"{(count / exact - 1.0) * 100.0:+.3g}%")


def _sliding_note(limit: RateLimit, windows: dict[str, int]) -> str:
    """What Kong's fixed windows make of a sliding window: the same window and count, or,
    for a window of another length, the spec's count per its window beside Kong's counts
    (the same long-run rate, but a burst the spec's window allows is refused)."""
    kong = ", ".join(f"{count} per {window}" for window, count in windows.items())
    fixed = f"sliding window: Kong OSS counts fixed windows ({kong})"
    if any(math.isclose(limit.window, seconds) for _, seconds in WINDOWS):
        return fixed
    allowed = max(1, round(limit.rate * limit.window))  # as compile.py sizes it
    note = (f"{fixed}, where the spec allows {allowed} per {limit.window:g}s window: "
            f"Kong has no {limit.window:g}s window, so the long-run rate is the same but "
            "the bursts it allows are not")
    rounded = rounding_note(limit, windows)
    return note if rounded is None else f"{note}; {rounded}"


def plugin(system: System, name: str, limit: RateLimit, namespace: str) -> dict[str, Any]:
    windows = limit_windows(limit)
    window, count = next(iter(windows.items()))
    notes = []
    if limit.algorithm == "token_bucket":
        rounded = rounding_note(limit, windows)
        if rounded is not None:
            notes.append(rounded)
        if limit.burst is not None:
            notes.append(f"burst {limit.burst}: Kong allows up to {count} per {window} at "
                         "any point of the window")
    if limit.algorithm == "sliding_window":
        notes.append(_sliding_note(limit, windows))
    if system.components[name].load_shedding is not None:
        notes.append("load_shedding: no Kong OSS plugin for it")
    meta: dict[str, Any] = {"name": kong_plugin_name(name), "namespace": namespace}
    if notes:
        meta["annotations"] = {NOT_MAPPED: notes_text(notes)}
    return {"apiVersion": "configuration.konghq.com/v1", "kind": "KongPlugin",
            "metadata": meta, "plugin": "rate-limiting",
            "config": {**windows,
                       "policy": "cluster" if limit.scope == "component" else "local",
                       "limit_by": "consumer" if limit.per_workload else "service"}}


def render(system: System, options: GenerateOptions) -> list[GeneratedFile]:
    comment = banner(system.name, "kong")
    return [yaml_file(f"kong/{dns_label(name)}.yaml",
                      [plugin(system, name, component.rate_limit, options.namespace)],
                      comment, name)
            for name, component in system.components.items()
            if component.kind is Kind.GATEWAY and component.rate_limit is not None]
