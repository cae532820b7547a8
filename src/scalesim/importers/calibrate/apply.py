"""Fitted values as changes to the spec, and the report of fitted against observed.

A change is a path in the spec and the value to write there; `write` applies them to the
spec's own text with ruamel.yaml, so its comments, order and layout stay.

Where an operation's own time goes: with `cores` the CPU demand (`cpu`/`work`) is the load
test's to fit, so the traces set `wait` to the own time the CPU demand and `post_work` (at
the speed of the replica's cores) do not explain; otherwise the one field that holds the
time gets the fitted distribution, and when several do they are scaled together to the
observed mean. The network per hop is what
a call's interval holds beyond its callee's visit, less the runtime's CPU overhead the
simulator charges on that path (the callee's per-request, the caller's per-call).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from scalesim.importers.calibrate import CalibrationError
from scalesim.importers.calibrate.fit import MIN_SAMPLES, Fit, duration, fit
from scalesim.importers.calibrate.loadtest import LoadFit
from scalesim.importers.calibrate.sites import Path, call_sites
from scalesim.importers.calibrate.traces import OperationStats
from scalesim.spec.model import Call, System

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")  # an operation's name in a spec


@dataclass
class Change:
    path: Path
    value: Any  # None: remove the key
    why: str


@dataclass
class Calibration:
    changes: list[Change] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def set(self, path: Path, value: Any, why: str) -> None:
        self.changes.append(Change(path, value, why))


def _fit_report(found: Fit) -> dict[str, Any]:
    return {"n": found.n, "observed_mean_ms": round(found.mean_s * 1e3, 4),
            "family": found.family, "fitted": found.spec,
            "ks_distance": {k: round(v, 4) for k, v in found.ks.items()},
            "p_value": round(found.p_value, 4)}


def _scaled(value: Any, factor: float) -> Any:
    """A distribution (as the spec dumps it, seconds) with every time times `factor`, in the
    spec's own form."""
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in ("mean", "median", "p99", "min", "max", "sd", "value"):
            out[key] = duration(float(item) * factor)
        elif key == "percentiles":
            out[key] = {k: duration(float(v) * factor) for k, v in item.items()}
        elif key == "of":
            out[key] = [{**part, "dist": _scaled(part["dist"], factor)} for part in item]
        else:
            out[key] = item
    if out.get("dist") == "constant":
        return out["value"]
    return out


def _listed(names: list[str], most: int = 8) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _check_matched(system: System, observed: dict[str, OperationStats]) -> None:
    """Traces of another system fit nothing: refuse them rather than write the spec back
    unchanged as if it had been calibrated."""
    spec = [f"{c}.{o}" for c, s in system.components.items() for o in s.effective_operations]
    if not set(spec) & set(observed):
        raise CalibrationError(
            f"no operation of the spec is in the traces: they hold "
            f"{_listed(sorted(observed))}; the spec has {_listed(spec)}")


def calibrate_traces(system: System, observed: dict[str, OperationStats],
                     calibration: Calibration) -> None:
    _check_matched(system, observed)
    operations: dict[str, Any] = {}
    hops: list[float] = []
    for ref, stats in sorted(observed.items()):
        component, _, name = ref.partition(".")
        spec = system.components.get(component)
        if spec is None or name not in spec.effective_operations:
            if NAME.match(name):  # not a framework's own span such as "POST /orders"
                calibration.notes.append(f"{ref}: in the traces, not in the spec (left out)")
            continue
        if not stats.visits:
            continue
        operations[ref] = _operation(system, component, name, stats, calibration)
        _, call = system.overhead(component)
        for target, hop in stats.hops_s:
            callee = target.split(".", 1)[0]
            request = system.overhead(callee)[0].mean_s if callee in system.components \
                else 0.0
            hops.append(hop - (request + call.mean_s) / 2.0)
    for ref in (f"{c}.{o}" for c, s in system.components.items()
                for o in s.effective_operations):
        if ref not in observed or not observed[ref].visits:
            spans = observed[ref].not_visits if ref in observed else {}
            calibration.notes.append(f"{ref}: no visit in the traces{_none_of(spans)} "
                                     "(unchanged)")
    calibration.report["operations"] = operations
    if len(hops) >= MIN_SAMPLES:
        network = fit([max(0.0, h) for h in hops])
        calibration.set(("defaults", "network"), network.spec,
                        f"one-way network per hop, from {network.n} calls")
        calibration.report["network"] = _fit_report(network)
    elif hops:
        calibration.notes.append(f"only {len(hops)} traced calls: defaults.network unchanged")


def _none_of(spans: Mapping[str, int]) -> str:
    """What the spans of an operation that are no visits were, for the report."""
    if not spans:
        return ""
    return ", only spans that are not: " + ", ".join(
        f"{count} {why}" for why, count in sorted(spans.items()))


def _operation(system: System, component: str, name: str, stats: OperationStats,
               calibration: Calibration) -> dict[str, Any]:
    spec = system.components[component]
    op = spec.effective_operations[name]
    base: Path = ("components", component, "operations", name)
    entry: dict[str, Any] = {"visits": stats.visits, "not_visits": dict(stats.not_visits),
                             "fell_back": stats.fell_back}
    if stats.ok_own_s:
        entry["own_time"] = _own_time(system, component, name, stats, base, calibration)
    elif stats.fell_back:
        calibration.notes.append(f"{component}.{name}: each successful visit followed a "
                                 "failed call (its time holds the fallback): own time "
                                 "unchanged")
    rate = stats.own_errors / stats.visits if stats.visits else 0.0
    entry["error_rate"] = {"observed": round(rate, 5), "spec": op.error_rate}
    if abs(rate - op.error_rate) > 1e-9:
        calibration.set((*base, "error_rate"), round(rate, 5),
                        f"{stats.own_errors} of {stats.visits} visits failed on their own")
    entry["calls"] = _calls(system, component, name, stats, calibration)
    shape, count = stats.shapes.most_common(1)[0] if stats.shapes else ((), 0)
    entry["shape"] = {"steps": [list(group) for group in shape],
                      "share": round(count / stats.visits, 4) if stats.visits else 0.0}
    return entry


def _own_time(system: System, component: str, name: str, stats: OperationStats, base: Path,
              calibration: Calibration) -> dict[str, Any]:
    spec = system.components[component]
    op = spec.effective_operations[name]
    demand, wait, post = op.demand.mean_s, op.wait.mean_s, op.post_work.mean_s
    cores = spec.core_limit
    if cores is not None and demand + post > 0.0:
        computing = (demand + post) / min(1.0, cores)  # at the speed one burst gets
        found = fit([max(0.0, t - computing) for t in stats.ok_own_s])
        calibration.set((*base, "wait"), found.spec, "own time beyond the CPU demand and "
                        "post_work (the CPU is the load test's to fit)")
        return {"field": "wait", **_fit_report(found)}
    found = fit(stats.ok_own_s)
    held = {key: mean for key, mean in (("cpu" if op.cpu is not None else "work", demand),
                                        ("wait", wait), ("post_work", post)) if mean > 0.0}
    if len(held) <= 1:
        key = next(iter(held), "work")
        calibration.set((*base, key), found.spec, f"own time of {found.n} successful visits")
        return {"field": key, **_fit_report(found)}
    factor = found.mean_s / sum(held.values())
    dumped = op.model_dump(mode="json", by_alias=True)
    for key in held:
        calibration.set((*base, key), _scaled(dumped[key], factor),
                        f"scaled by {factor:.4g} to the observed own time")
    return {"field": "+".join(held), "scaled_by": round(factor, 4), **_fit_report(found)}


def _calls(system: System, component: str, name: str, stats: OperationStats,
           calibration: Calibration) -> dict[str, Any]:
    sites = call_sites(system, component, name)
    out: dict[str, Any] = {}
    for target, seen in sorted(stats.calls.items()):
        probability = seen.callers / stats.visits if stats.visits else 0.0
        amplification = seen.attempts / seen.calls if seen.calls else 0.0
        out[target] = {"probability": round(probability, 4),
                       "calls_per_visit": round(seen.calls / stats.visits, 4),
                       "attempts_per_call": round(amplification, 4),
                       "max_attempts": seen.max_attempt,
                       "parallel_share": round(seen.in_parallel / seen.calls, 4)
                       if seen.calls else 0.0}
        places = [site.path for site in sites.get(target, [])]
        if not places:
            calibration.notes.append(f"{component}.{name} calls {target}, which its spec "
                                     "does not: add the call to model it")
            continue
        if len(places) == 1:
            _probability(system, places[0], probability, stats.visits, calibration)
        for place in places:
            _attempts(system, place, seen.max_attempt, calibration)
    return out


def _call_at(system: System, path: Path) -> Call:
    node: Any = system
    for part in path:
        node = node[part] if isinstance(part, int) or isinstance(node, dict) else \
            getattr(node, part)
    assert isinstance(node, Call)
    return node


def _probability(system: System, path: Path, observed: float, visits: int,
                 calibration: Calibration) -> None:
    """The observed share, unless it is within two standard errors of certain."""
    call = _call_at(system, path)
    spread = 2.0 * math.sqrt(max(observed * (1.0 - observed), 1.0 / visits) / visits)
    value = 1.0 if observed >= 1.0 - spread else round(observed, 4)
    if value != call.probability:
        calibration.set((*path, "probability"), None if value == 1.0 else value,
                        f"called in {observed:.2%} of {visits} visits")


def _attempts(system: System, path: Path, seen: int, calibration: Calibration) -> None:
    call = system.effective(_call_at(system, path))
    allowed = call.retry.attempts if call.retry is not None else 1
    if seen > allowed:
        where = (*path, "retry", "attempts") if call.retry is not None and \
            _call_at(system, path).retry is not None else (*path, "retry")
        value: Any = seen if where[-1] == "attempts" else {"attempts": seen}
        calibration.set(where, value, f"up to {seen} attempts seen, the spec allows {allowed}")


def calibrate_load(system: System, load: LoadFit, calibration: Calibration) -> None:
    if load.cores_available is not None:
        for name, spec in system.components.items():
            cores = spec.core_limit
            if cores is not None and load.cores_available < cores:
                calibration.set(("components", name, "cores"),
                                round(load.cores_available, 3),
                                "the share of a core a busy process got on the machine")
    shared = {value for value in load.overhead.values()}
    if len(shared) == 1 and len(load.overhead) > 1:
        request, call = next(iter(shared))
        calibration.set(("defaults", "overhead"), _overhead(request, call),
                        f"runtime CPU per visit ({load.method})")
    else:
        for name, (request, call) in load.overhead.items():
            calibration.set(("components", name, "overhead"), _overhead(request, call),
                            f"runtime CPU per visit ({load.method})")
    calibration.report["load_test"] = {
        "method": load.method,
        "cpu_per_request_ms": {k: round(v * 1e3, 4) for k, v in load.demand_s.items()},
        "idle_cores": {k: round(v, 4) for k, v in load.idle_cores.items()},
        "overhead_ms": {k: {"request": round(r * 1e3, 4), "call": round(c * 1e3, 4)}
                        for k, (r, c) in load.overhead.items()},
        "saturation_rps": round(load.saturation_rps, 2) if math.isfinite(load.saturation_rps)
        else None,
        "cores_available": load.cores_available,
        "rows": [{"throughput_rps": r.throughput_rps, "mean_ms": r.mean_ms,
                  **({"predicted_mean_ms": round(p, 3)} if p is not None else {}),
                  "cpu": r.cpu}
                 for r, p in zip(load.rows, _predicted(load), strict=True)]}
    calibration.notes += load.notes


def _predicted(load: LoadFit) -> list[float | None]:
    return list(load.predicted_mean_ms) if load.predicted_mean_ms else [None] * len(load.rows)


def _overhead(request: float, call: float) -> dict[str, str]:
    out = {"request": duration(request)}
    if call > 0.0:
        out["call"] = duration(call)
    return out


# -- writing -----------------------------------------------------------------------------------
def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _commented(value: Any) -> Any:
    if isinstance(value, dict):
        node = CommentedMap()
        for key, item in value.items():
            node[key] = _commented(item)
        node.fa.set_flow_style()
        return node
    if isinstance(value, list):
        seq = CommentedSeq([_commented(item) for item in value])
        seq.fa.set_flow_style()
        return seq
    return value


def as_yaml(value: Any) -> str:
    """A fitted value as `write` puts it in the spec, on one line: the report shows people
    what their spec gets, not Python's form of it."""
    if value is None:
        return "(removed)"
    out = io.StringIO()
    _yaml().dump(_commented(value), out)
    return out.getvalue().removesuffix("\n").removesuffix("\n...")


def write(text: str, changes: list[Change]) -> str:
    """The spec's text with the changes made (comments and layout kept)."""
    yaml = _yaml()
    root = yaml.load(text)
    for change in changes:
        node = root
        for part in change.path[:-1]:
            if isinstance(part, int):
                node = node[part]
                continue
            if part not in node or node[part] is None:
                node[part] = CommentedMap()
            node = node[part]
            if isinstance(node, str):  # a call written as a bare target
                raise CalibrationError(f"{'.'.join(map(str, change.path))}: cannot change a "
                                       "call written as a plain string")
        key = change.path[-1]
        if change.value is None:
            if isinstance(node, dict) and key in node:
                del node[key]
        else:
            node[key] = _commented(change.value)
    out = io.StringIO()
    yaml.dump(root, out)
    return out.getvalue()
