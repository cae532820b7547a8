"""Build small specs in tests and run them."""

from __future__ import annotations

import math
from typing import Any

import yaml

from scalesim.sim import simulate
from scalesim.spec import load_spec_text


def run(components: dict[str, Any], workloads: list[dict[str, Any]], *,
        faults: list[dict[str, Any]] | None = None, seed: int = 1, duration: str = "60s",
        **simulation: Any) -> dict[str, Any]:
    spec = {"scalesim": 1, "name": "t", "components": components, "workloads": workloads,
            "faults": faults or [],
            "simulation": {"duration": duration, "seed": seed, **simulation}}
    return simulate(load_spec_text(yaml.safe_dump(spec, sort_keys=False)))


def binomial_bound(n: int, p: float, z: float = 4.0) -> float:
    """A half-width that a binomial share of n trials stays within except with
    probability ~6e-5 (z = 4): the share's standard error times z."""
    return z * math.sqrt(p * (1 - p) / n)


def call(result: dict[str, Any], source: str, target: str) -> dict[str, Any]:
    return next(c for c in result["calls"] if c["from"] == source and c["to"] == target)
