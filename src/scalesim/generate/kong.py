"""Kong rate limiting for gateways that declare `rate_limit`.

Kong's open-source `rate-limiting` plugin counts requests in fixed windows (second, minute,
hour), so a token bucket becomes its rate per window; the burst it cannot state is noted.
The gateway's Ingress names the plugin in `konghq.com/plugins`.
"""

from __future__ import annotations

import math
from typing import Any

from scalesim.generate.base import GeneratedFile, GenerateOptions
from scalesim.generate.documents import banner, yaml_file
from scalesim.generate.kubernetes import kong_plugin_name
from scalesim.generate.naming import check_names, dns_label
from scalesim.spec.model import Kind, System
from scalesim.spec.resilience import RateLimit

WINDOWS = (("second", 1.0), ("minute", 60.0), ("hour", 3600.0))
NOT_MAPPED = "scalesim.io/not-mapped"


def limit_windows(limit: RateLimit) -> dict[str, int]:
    """Kong's limits per window (Kong enforces every one it is given). A sliding window of
    1 s, 1 min or 1 h keeps its length. Otherwise the rate goes in the shortest window
    where it is a whole number of requests (1.5/s: 90 a minute), so the long-run rate is
    the spec's, not rounded (2 a second would be a third more); when that window is longer
    than the shortest one holding a request, that one bounds the bursts too, rounded up
    (1.5/s: at most 2 in any second)."""
    for window, seconds in WINDOWS:
        if limit.algorithm == "sliding_window" and math.isclose(limit.window, seconds):
            return {window: max(1, round(limit.rate * seconds))}
    held = [(window, limit.rate * seconds) for window, seconds in WINDOWS
            if limit.rate * seconds >= 1.0 - 1e-9]
    if not held:
        return {"hour": 1}
    whole = next(((w, c) for w, c in held if abs(c - round(c)) <= 1e-9 * c), held[-1])
    out = {whole[0]: round(whole[1])}
    if whole[0] != held[0][0]:
        out = {held[0][0]: math.ceil(held[0][1] - 1e-9), **out}
    return out


def plugin(system: System, name: str, limit: RateLimit, namespace: str) -> dict[str, Any]:
    windows = limit_windows(limit)
    window, count = next(iter(windows.items()))
    notes = []
    if limit.algorithm == "token_bucket" and limit.burst is not None:
        notes.append(f"burst {limit.burst}: Kong allows up to {count} per {window} at any "
                     "point of the window")
    if limit.algorithm == "sliding_window":
        notes.append(f"sliding window: Kong OSS counts fixed windows of one {window}")
    if system.components[name].load_shedding is not None:
        notes.append("load_shedding: no Kong OSS plugin for it")
    meta: dict[str, Any] = {"name": kong_plugin_name(name), "namespace": namespace}
    if notes:
        meta["annotations"] = {NOT_MAPPED: "; ".join(notes)}
    return {"apiVersion": "configuration.konghq.com/v1", "kind": "KongPlugin",
            "metadata": meta, "plugin": "rate-limiting",
            "config": {**windows,
                       "policy": "cluster" if limit.scope == "component" else "local",
                       "limit_by": "consumer" if limit.per_workload else "service"}}


def render(system: System, options: GenerateOptions) -> list[GeneratedFile]:
    check_names(list(system.components))
    comment = banner(system.name, "kong")
    return [yaml_file(f"kong/{dns_label(name)}.yaml",
                      [plugin(system, name, component.rate_limit, options.namespace)],
                      comment, name)
            for name, component in system.components.items()
            if component.kind is Kind.GATEWAY and component.rate_limit is not None]
