"""An autoscaled component's fix, sized for what met the fleet and aimed at what held it
back. The autoscaling template followed its slow ramp to 2,000/s and refused only in the
1,600/s flash crowd: the QA pass found min raised to 6 (the peak's) where 5 does. And an
autoscaler on CPU for a service whose visits mostly wait on a database never scales up (a
waiting worker uses no CPU, docs/control.md): the fix blamed "grew only sync by sync" and
raised the start, which the HPA then scaled back down. Each fix is applied and simulated."""

from __future__ import annotations

import math

from tests.diagnosis.advice import findings, from_template, load, one, run, run_as_cli

# api: 2 replicas × 16 workers on 1 core; a visit computes 1 ms and waits 150 ms on db, so
# with every worker busy a replica uses 16 × 1/151 = 10.6 % of its core, against a 60 %
# target. 300/s need 300 × 0.151 = 45 workers busy: 2 replicas serve 212/s.
CPU_IO = """
scalesim: 1
name: cpu-io
components:
  api:
    replicas: 2
    workers: 16
    cores: 1
    autoscale:
      min: 2
      max: 10
      metrics: [{cpu: 60%}]
    operations:
      get:
        cpu: 1ms
        calls: [{to: db.q, timeout: 1s}]
  db:
    kind: database
    replicas: 3
    workers: 200
    operations:
      q: {wait: 150ms}
workloads: [{name: w, to: api.get, rate: 300/s}]
simulation: {duration: 120s, seed: 1}
"""


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


def test_a_cpu_metric_blind_to_waiting_is_named_and_replaced_by_requests() -> None:
    """The HPA reads about 10 % CPU from saturated replicas and never scales up. The fix
    scales on requests a replica: 16 workers × 85 % / 151 ms = 90.07, so 90/s; 300/s then
    ask for 4 replicas."""
    result, found = run_as_cli(load(CPU_IO))
    assert result["components"]["api"]["scaling"]["replicas"]["max"] == 2
    api = one(found, "saturated", "api")
    blind = next(e for e in api["evidence"] if e.startswith("the autoscaler reads CPU"))
    assert "with every worker busy a replica reports about 11 % CPU" in blind
    assert "not above the 66 % at which its 60% target scales up" in blind
    assert "it never scaled up in the run" in blind
    assert not any("sync by sync" in e for e in api["evidence"])
    assert api["fix"]["set"] == ["components.api.autoscale.metrics.0={rps: 90/s}"]
    assert "the peak 300/s then asks for 4 replicas" in api["fix"]["summary"]
    for seed in (1, 2):
        fixed, after = run_as_cli(load(CPU_IO, *api["fix"]["set"]), seed)
        assert fixed["requests"]["failed"] == 0
        assert fixed["components"]["api"]["scaling"]["replicas"]["final"] == 4
        assert not after


def test_a_cpu_metric_that_scales_an_overloaded_fleet_down_says_so() -> None:
    """Started at 4 (what the old fix proposed), the HPA reads 7 % CPU and scales the
    overloaded fleet down to its min once the 300 s stabilization has passed."""
    system = load(CPU_IO, "components.api.replicas=4", "simulation.duration=600s")
    result, found = run_as_cli(system)
    events = result["components"]["api"]["scaling"]["events"]
    assert [(e["from"], e["to"]) for e in events] == [(4, 2)]
    api = one(found, "saturated", "api")
    assert any(f"it even scaled an overloaded fleet down: 4 → 2 at {events[0]['t_s']:g} s, "
               f"{events[0]['reason']}" in e for e in api["evidence"])
    assert api["fix"]["set"] == ["components.api.autoscale.metrics.0={rps: 90/s}"]
