"""The estimate as a JSON-ready document: `scalesim estimate --json`, the terminal view, the
estimate-vs-simulation table and the planner all read this one form. Times are in ms and
rates in requests per second, like a simulation result; an unbounded value is null."""

from __future__ import annotations

import math
from typing import Any

from scalesim.analytic.capacity import answering, behind, saturations, slo_capacity
from scalesim.analytic.caveats import caveats
from scalesim.analytic.estimate import PERCENTILES, Estimate, Model
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
    """Everything `scalesim estimate` reports about `system` (`slo` replaces the spec's)."""
    model = Model(system)
    estimate = model.evaluate(storm=True)
    slo = slo if slo is not None else system.slo
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
                   "model": sub.state.model, "lag_ms": num(sub.state.mean_wait_s * 1e3),
                   "lag_p99_ms": num(sub.state.wait.quantile(0.99) * 1e3)
                   if sub.state.wait is not None else None, "loss": num(sub.state.loss, 6)}
            for name, sub in estimate.subscriptions.items()}
    if slo is not None:
        document["slo"] = _slo(model, estimate, slo)
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
            "arrival_rate_rps": num(component.arrival_rate_rps),
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


def _slo(model: Model, estimate: Estimate, slo: Slo) -> dict[str, Any]:
    checks = []
    for name, target, value, met in estimate.slo_checks(slo):
        if name == "error_rate":
            checks.append({"name": name, "target": target, "estimate": num(value, 6),
                           "met": met})
        else:
            checks.append({"name": name, "target_ms": num(target * 1e3),
                           "estimate_ms": num(value * 1e3), "met": met})
    waited = answering(estimate.system)  # the SLO is about requests: what they wait for
    stable = all(c.state.stable for name, c in estimate.components.items() if name in waited)
    out: dict[str, Any] = {"met": all(c["met"] for c in checks) and stable, "checks": checks}
    capacity = slo_capacity(model, slo, estimate)
    if capacity is not None:
        out["max_rate_rps"] = num(capacity.rate_rps, 2)
        out["max_factor"] = num(capacity.factor)
        out["binding"] = capacity.limit or "saturation"
    return out
