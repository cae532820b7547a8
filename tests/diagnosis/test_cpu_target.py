"""An HPA whose CPU target a saturated fleet cannot leave the tolerance band from: the
diagnosis says why the fleet never grew, and its fix makes it grow."""

from __future__ import annotations

from typing import Any

import yaml

from scalesim.diagnosis import diagnose
from scalesim.sim import simulate
from scalesim.spec import System, load_spec_text


def _api(overrides: tuple[str, ...] = ()) -> System:
    """2 replicas of 4 workers (1,600/s at 5 ms) offered 2,400/s, scaling on 95 % CPU."""
    spec = {"scalesim": 1, "name": "hpa",
            "components": {"api": {
                "replicas": 2, "workers": 4, "queue": 8,
                "operations": {"get": {"work": "5ms"}},
                "autoscale": {"max": 6, "metrics": [{"cpu": "95%"}]}}},
            "workloads": [{"name": "w", "to": "api.get", "rate": "2400/s"}],
            "simulation": {"duration": "120s", "seed": 1}}
    return load_spec_text(yaml.safe_dump(spec, sort_keys=False), "hpa.yaml", overrides)


def _saturated(system: System) -> tuple[dict[str, Any], dict[str, Any]]:
    result = simulate(system)
    found = [f for f in diagnose(system, result) if f["kind"] == "saturated"]
    return result, (found[0] if found else {})


def test_a_cpu_target_out_of_reach_is_why_the_fleet_never_grew() -> None:
    """100/95 is within the 10 % tolerance: 2 replicas refuse a third of the load. The fix
    lowers the target to 80 %; with it the fleet grows and most refusals go."""
    result, finding = _saturated(_api())
    assert result["components"]["api"]["scaling"]["replicas"]["max"] == 2
    assert any("never scaled up" in line and "SS703" in line for line in finding["evidence"])
    assert finding["fix"]["set"] == ["components.api.autoscale.metrics.0.cpu=80%"]
    fixed, _ = _saturated(_api(tuple(finding["fix"]["set"])))
    # 2,400/s at 80 % of 800/s a replica: ceil(3.75) = 4 replicas; the refusals left are
    # those of the first syncs, while the fleet grows
    assert fixed["components"]["api"]["scaling"]["replicas"]["max"] >= 4
    refused = result["components"]["api"]["rejected"]
    assert fixed["components"]["api"]["rejected"] < refused / 4
