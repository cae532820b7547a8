"""The estimate as a JSON-ready document: `scalesim estimate --json`, the terminal view, the
estimate-vs-simulation table and the planner all read this one form. Times are in ms and
rates in requests per second, like a simulation result; an unbounded value is null."""

from __future__ import annotations

import math
from typing import Any

from scalesim.analytic.capacity import answering, behind, saturations, slo_capacity
from scalesim.analytic.caveats import caveats
from scalesim.analytic.estimate import PERCENTILES, Estimate, Model, SloCheck
from scalesim.analytic.lattice import Lattice
from scalesim.spec.model import Slo, System

# caveats that leave exact numbers exact (repeat-visits: the mean; the percentiles are not)
INFORMATIONAL = {"closed-loop", "near-saturation", "repeat-visits"}


def num(value: float | None, digits: int = 4) -> float | None:
    """Rounded for stable JSON; infinity and NaN become null."""
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return round(value, digits)


def latency_ms(latency: Lattice | None, mean_s: float | None = None) -> dict[str, float | None]:
    if latency is None:
        return dict.fromkeys(("mean", *PERCENTILES))
    out = {"mean": num((latency.mean if mean_s is None else mean_s) * 1e3)}
    out.update({name: num(latency.quantile(q) * 1e3) for name, q in PERCENTILES.items()})
    return out


def estimate_document(system: System, slo: Slo | None = None) -> dict[str, Any]:
    """Everything `scalesim estimate` reports about `system` (`slo` replaces the spec's
    system-wide SLO; the workloads' own SLOs are judged as well, as `simulate` does)."""
    model = Model(system)
    estimate = model.evaluate(storm=True)
    notes = caveats(system, estimate)
    # exact formulas, but for a system the formulas do not describe (overload, retries…)
    trusted = all(c.code in INFORMATIONAL for c in notes)
    workloads = {}
    limits = saturations(model)
    for workload in system.workloads:
        found = estimate.workloads[workload.name]
        entry: dict[str, Any] = {
            "rate_rps": num(found.rate_rps),
            "closed": found.closed,
            "latency_ms": latency_ms(found.latency),
            "error_rate": num(1.0 - found.success, 6),
            "availability": num(found.availability, 8),
            "degraded": num(found.degraded, 6),
            # the mean and the percentiles; a closed loop's percentiles never are
            "exact": found.exact and found.percentiles_exact and trusted,
            "mean_exact": found.exact and trusted,
        }
        busiest = estimate.bottleneck(workload.name)
        entry["bottleneck"] = None if busiest is None else {
            "component": busiest[0], "utilization": num(busiest[1])}
        if not found.closed:
            limit = limits[workload.name]
            entry["saturation_rps"] = num(limit.rate_rps, 2)
            entry["saturation_bottleneck"] = limit.bottleneck
            entry["past_saturation"] = limit.factor < 1.0  # at today's rates already
        workloads[workload.name] = entry
    busiest = estimate.bottleneck()
    document: dict[str, Any] = {
        "system": system.name,
        "method": "analytic",
        "stable": estimate.stable,
        "throughput_rps": num(estimate.throughput_rps),
        "error_rate": num(estimate.error_rate, 6),
        "latency_ms": latency_ms(estimate.latency),
        "workloads": workloads,
        "components": _components(estimate),
        "bottleneck": None if busiest is None else {"component": busiest[0],
                                                    "utilization": num(busiest[1])},
    }
    document["behind"] = [{"name": name, "offered_load": num(load)}
                          for name, load in behind(estimate)]
    if estimate.subscriptions:
        document["queues"] = {
            name: {"rate_rps": num(sub.rate_rps), "utilization": num(sub.state.utilization),
                   "offered_load": num(sub.state.offered),
                   "model": sub.state.model, "lag_ms": num(sub.lag_mean_s * 1e3),
                   "lag_p99_ms": None if (lag := sub.lag) is None
                   else num(lag.quantile(0.99) * 1e3), "loss": num(sub.state.loss, 6)}
            for name, sub in estimate.subscriptions.items()}
    scopes = system.slo_scopes(slo)
    if scopes:
        document["slo"] = _slo(model, estimate, scopes, workloads)
    document["caveats"] = [{"code": c.code, "where": c.where, "message": c.message}
                           for c in notes]
    document["simulate"] = bool(notes) or not all(w["exact"] for w in workloads.values())
    return document


def _components(estimate: Estimate) -> dict[str, Any]:
    out = {}
    for name, component in estimate.components.items():
        state = component.state
        limited = component.limited
        out[name] = {
            # what its rate limit admits (its station's λ), and what comes before it
            "arrival_rate_rps": num(component.arrival_rate_rps),
            "incoming_rps": num(component.incoming_rps),
            "replicas": component.replicas,
            "servers": component.servers,
            "queues": component.queues,
            "cores": component.cores,
            # what it serves (a bounded queue refuses the rest), and what comes: λ·S / c
            "utilization": num(state.utilization) if limited else None,
            "offered_load": num(state.offered) if limited else None,
            "service_ms": num(component.service_mean_s * 1e3),
            "model": state.model,
            "exact": state.exact,
            "stable": state.stable,
            "wait_ms": num(state.mean_wait_s * 1e3),
            "wait_probability": num(state.p_wait),
            "loss": num(state.loss, 6),
            "rate_limited": num(1.0 - component.admitted, 6),
            "operations": {ref.split(".", 1)[1]: latency_ms(latency)
                           for ref, latency in component.responses.items()},
        }
    return out


def _check(check: SloCheck) -> dict[str, Any]:
    """One SLO target in the JSON, scoped as a simulation result's are ("all" or the
    workload)."""
    scope = "all" if check.workload is None else check.workload
    if check.name == "error_rate":
        return {"scope": scope, "name": check.name, "target": check.target,
                "estimate": num(check.value, 6), "met": check.met}
    return {"scope": scope, "name": check.name, "target_ms": num(check.target * 1e3),
            "estimate_ms": num(check.value * 1e3), "met": check.met}


def _slo(model: Model, estimate: Estimate, scopes: list[tuple[str | None, Slo]],
         workloads: dict[str, Any]) -> dict[str, Any]:
    """The SLOs judged as `simulate` judges them (`System.slo_scopes`): every check, each
    workload's own also under `workloads.NAME.slo`, and the highest load meeting them all."""
    checks = [_check(check) for check in estimate.scoped_slo_checks(scopes)]
    for name, entry in workloads.items():
        own = [check for check in checks if check["scope"] == name]
        if own:
            entry["slo"] = {"met": all(c["met"] for c in own), "checks": own}
    waited = answering(estimate.system)  # the SLO is about requests: what they wait for
    stable = all(c.state.stable for name, c in estimate.components.items() if name in waited)
    out: dict[str, Any] = {"met": all(c["met"] for c in checks) and stable, "checks": checks}
    capacity = slo_capacity(model, scopes, estimate)
    if capacity is not None:
        out["max_rate_rps"] = num(capacity.rate_rps, 2)
        out["max_factor"] = num(capacity.factor)
        out["binding"] = capacity.limit or "saturation"
        if capacity.unloaded is not None:
            out["unmet_at_no_load"] = _unloaded(capacity.unloaded, capacity.set_by)
    return out


def _unloaded(check: SloCheck, set_by: tuple[str, float] | None) -> dict[str, Any]:
    """The target that no load meets: its value at a trickle of load, and the operation
    whose own time sets it (null for an error rate)."""
    out = _check(check)
    out["set_by"] = None if set_by is None else {"operation": set_by[0],
                                                 "own_ms": num(set_by[1] * 1e3)}
    return out
