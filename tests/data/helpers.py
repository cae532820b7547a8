"""Small specs for the data-mechanism tests."""

from __future__ import annotations

from typing import Any

import yaml

from scalesim.spec import System, load_spec_text


def system(components: dict[str, Any], workloads: list[dict[str, Any]], *,
           faults: list[dict[str, Any]] | None = None, seed: int = 1, duration: str = "60s",
           **simulation: Any) -> System:
    spec = {"scalesim": 1, "name": "t", "components": components, "workloads": workloads,
            "faults": faults or [],
            "simulation": {"duration": duration, "seed": seed, **simulation}}
    return load_spec_text(yaml.safe_dump(spec, sort_keys=False))
