"""The results the front end's replay tests read (frontend/tests/results/*.json) are what the
simulator gives for the specs next to them, trimmed to what a replay draws, so the Vitest
assertions hold for real output. SCALESIM_UPDATE_GOLDEN=1 rewrites them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from scalesim.sim import simulate
from scalesim.spec import load_spec

RESULTS = Path(__file__).parents[2] / "frontend" / "tests" / "results"
REPLAYED = ("simulated_s", "replications", "seed", "timeseries", "rollouts", "faults", "events",
            "calls", "elections")


def replayed(result: dict[str, Any]) -> dict[str, Any]:
    """The parts of a result the replay reads; components keep their replica counts."""
    out = {key: result[key] for key in REPLAYED if key in result}
    out["components"] = {name: {"replicas": comp["replicas"]}
                         for name, comp in result["components"].items()}
    return out


@pytest.mark.parametrize("spec", sorted(RESULTS.glob("*.yaml")), ids=lambda p: p.stem)
def test_the_replay_fixture_is_the_simulators_output(spec: Path) -> None:
    text = json.dumps(replayed(simulate(load_spec(spec), with_series=True)), indent=1,
                      sort_keys=True) + "\n"
    path = spec.with_suffix(".json")
    if os.environ.get("SCALESIM_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing {path}; run with SCALESIM_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{path.name} differs from a fresh run"
