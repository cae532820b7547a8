"""Controllers keep runs deterministic: the same spec and seed give byte-identical JSON (time
series included), and a controller's own draws do not shift the other components'."""

from __future__ import annotations

import json
from pathlib import Path

from scalesim.sim import simulate
from scalesim.spec import load_spec

FEATURES = Path(__file__).parents[1] / "kernel" / "control_features.yaml"


def test_same_spec_and_seed_same_bytes() -> None:
    system = load_spec(FEATURES, ["simulation.replications=2"])
    first = json.dumps(simulate(system, with_series=True), sort_keys=True)
    assert first == json.dumps(simulate(system, with_series=True), sort_keys=True)
    assert '"rollouts"' in first and '"replicas"' in first


def test_a_rollout_does_not_reshuffle_the_draws_before_it() -> None:
    """Until the canary starts (10 s) the run is the same with and without the rollout: its
    random streams (version lanes, the new version's work) are its own."""
    with_rollout = simulate(load_spec(FEATURES), with_series=True)
    without = simulate(load_spec(FEATURES, ["components.api.rollout=null"]), with_series=True)

    def early(result: dict) -> list:
        table = result["timeseries"]["workloads"]
        return [row for row in table["rows"] if row[0] <= 10.0]

    assert early(with_rollout) == early(without)
