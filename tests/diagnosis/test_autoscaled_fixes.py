"""An autoscaled component's fix, sized for what met the fleet. The autoscaling template
followed its slow ramp to 2,000/s and refused only in the 1,600/s flash crowd: the QA pass
found min raised to 6 (the peak's) where 5 does. The fix is applied and simulated."""

from __future__ import annotations

import math

from tests.diagnosis.advice import findings, from_template, one, run, run_as_cli


def test_the_flash_crowd_that_met_the_fleet_sizes_its_min() -> None:
    """Every refusal came in the flash crowd (1,600/s from 2,400 s): 1,600 × 10 ms / (4
    workers × 85 %) = 4.7, so min 5; the peak's 2,000/s would ask for 5.9, so 6."""
    _, found = run_as_cli(from_template("autoscaling"))
    web = one(found, "saturated", "web")
    assert web["fix"]["set"] == [f"components.web.autoscale.min={math.ceil(1600 * 0.010 / 3.4)}"]
    assert web["fix"]["set"] == ["components.web.autoscale.min=5"]
    assert "sized for the 1,600/s offered while it fell short (from 2400 s to " \
        in web["fix"]["summary"]
    assert "the autoscaler followed the rest of the load, up to the peak 2,000/s" \
        in web["fix"]["summary"]
    for seed in (1, 2):
        result, after = run_as_cli(from_template("autoscaling", {}, *web["fix"]["set"]), seed)
        assert not findings(after, "saturated") and not findings(after, "failures")
        assert result["components"]["web"]["rejected"] < 0.001 * result["requests"]["total"]


def test_without_a_time_series_the_min_is_sized_for_the_peak() -> None:
    """A result without the time series cannot tell when the fleet fell short: the spec's
    peak, 2,000 × 10 ms / 3.4 = 5.9, so 6."""
    _, found = run(from_template("autoscaling"))
    assert one(found, "saturated", "web")["fix"]["set"] == ["components.web.autoscale.min=6"]
