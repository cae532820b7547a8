"""A sweep as a table: one row per point with the varied values and the numbers people
compare (offered load, throughput, goodput, error rate, latency percentiles with their 95 %
intervals, the busiest component, the SLO), the knee of each curve, and the files: CSV,
JSON, Parquet."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scalesim.spec.model import slo_target_label
from scalesim.sweep.grid import Axis, quantity
from scalesim.sweep.knee import knee_depth
from scalesim.sweep.runner import PointResult

LATENCY = ("mean", "p50", "p90", "p95", "p99", "p999")
WITH_CI = {"latency_mean_ms": ("latency_ms", "mean"), "latency_p50_ms": ("latency_ms", "p50"),
           "latency_p90_ms": ("latency_ms", "p90"), "latency_p99_ms": ("latency_ms", "p99"),
           "throughput_rps": ("throughput_rps", None), "goodput_rps": ("goodput_rps", None),
           "error_rate": ("error_rate", None)}
KNEE_METRIC = "latency_p99_ms"
KNEE_LABEL = {"turns_up": "knee", "levels_off": "levels off"}  # by the knee's `bend`
SATURATED = 0.97  # a busiest component this busy is at its limit: not a knee
MIN_BEND = 0.25  # a knee lies at least this share of its p99 below the chord


def row(axes: Sequence[Axis], found: PointResult) -> dict[str, Any]:
    """The flat row of one point (metrics null when it stopped at a safety limit)."""
    out: dict[str, Any] = {"point": found.point.index}
    out.update(dict(found.point.values))
    out["cached"] = found.cached
    out["status"] = "ok" if found.result is not None else f"stopped: {found.stopped}"
    result = found.result or {}
    out["offered_rps"] = result.get("offered_rps")
    out["throughput_rps"] = result.get("throughput_rps")
    out["goodput_rps"] = result.get("goodput_rps")
    out["error_rate"] = result.get("error_rate")
    latency = result.get("latency_ms", {})
    for name in LATENCY:
        out[f"latency_{name}_ms"] = latency.get(name)
    ci = result.get("ci95")
    for column, (key, sub) in WITH_CI.items():
        interval = None if ci is None else ci[key][sub] if sub else ci[key]
        out[f"{column}_low"], out[f"{column}_high"] = interval or (None, None)
    busiest = max(((name, c["utilization"]) for name, c in result.get("components", {}).items()
                   if c.get("utilization") is not None), key=lambda item: item[1],
                  default=(None, None))
    out["bottleneck"], out["bottleneck_utilization"] = busiest
    slo = result.get("slo")
    out["slo_met"] = None if slo is None else slo["met"]
    out["slo_missed"] = None if slo is None else _missed(slo)
    return out


def _missed(slo: dict[str, Any]) -> str:
    """The targets a point missed, comma-separated ('p99, shoppers p99'; '' when all were
    met): 'missed' alone does not say which promise broke, nor what to look at."""
    return ", ".join(slo_target_label(None if c["scope"] == "all" else c["scope"], c["name"])
                     for c in slo["checks"] if not c["met"])


def knees(axes: Sequence[Axis], rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The knee of p99 latency along the first axis, for each combination of the others.
    `bend` says which knee: on a rising curve (latency against load) where latency turns up;
    on a falling one (against capacity, or a load that dilutes slow requests) where it
    levels off, more of the parameter buying little."""
    if not axes or any(quantity(v) is None for v in axes[0].values):
        return []
    first = axes[0].path
    groups: dict[tuple[tuple[str, str], ...], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple((a.path, r[a.path]) for a in axes[1:]), []).append(r)
    found = (_knee(first, others, members) for others, members in groups.items())
    return [knee for knee in found if knee is not None]


def _knee(first: str, others: tuple[tuple[str, str], ...],
          members: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The knee of one curve, if it has one beyond its noise. A falling curve is taken
    without its `unsettled` points (the overloaded ones at little capacity): their huge p99
    would tilt the chord and pull Kneedle's point to the first point after them."""
    finite = [r[KNEE_METRIC] for r in members
              if r[KNEE_METRIC] is not None and math.isfinite(r[KNEE_METRIC])]
    if not finite:
        return None
    bend = "turns_up" if finite[-1] > finite[0] else "levels_off"
    curve = members if bend == "turns_up" else [r for r in members if not unsettled(r)]
    found = knee_depth([quantity(r[first]) or 0.0 for r in curve],
                       [r[KNEE_METRIC] for r in curve])
    if found is None or not beyond_noise(curve[found[0]], found[1]):
        return None
    index = found[0]
    settled = _settled_before(curve, index) if bend == "turns_up" else index
    if settled is None:
        return None
    at = curve[settled]
    return {"path": first, "value": at[first], "others": dict(others), "metric": KNEE_METRIC,
            "metric_value": at[KNEE_METRIC], "point": at["point"],
            "kneedle_point": curve[index]["point"], "bend": bend}


def beyond_noise(r: dict[str, Any], depth: float) -> bool:
    """Whether Kneedle's point lies far enough below the chord to be a bend, not noise: by
    at least MIN_BEND of its p99, and by more than half its p99's 95 % interval (with
    replications). A flat p99 of 45-52 ms wobbling by chance is no knee."""
    y = r[KNEE_METRIC]
    low, high = r.get(f"{KNEE_METRIC}_low"), r.get(f"{KNEE_METRIC}_high")
    noise = (high - low) / 2 if low is not None and high is not None else 0.0
    return depth >= MIN_BEND * abs(y) and depth > noise


def unsettled(r: dict[str, Any]) -> bool:
    """A point past the knee already: its busiest component saturated (simulated utilization
    of SATURATED or more), its p99's 95 % interval wider than the p99 itself, or stopped."""
    if r.get("status", "ok") != "ok" or r.get(KNEE_METRIC) is None:
        return True
    busy = r.get("bottleneck_utilization")
    low, high = r.get(f"{KNEE_METRIC}_low"), r.get(f"{KNEE_METRIC}_high")
    wide = low is not None and high is not None and high - low > r[KNEE_METRIC]
    return wide or (busy is not None and busy >= SATURATED)


def _settled_before(members: Sequence[dict[str, Any]], index: int) -> int | None:
    """Kneedle's point on a rising curve, or the last one before it that is not `unsettled`
    (the last load before latency takes off is never the saturated one); None if none is."""
    for candidate in range(index, -1, -1):
        if not unsettled(members[candidate]):
            return candidate
    return None


def document(system: str, seed: int, replications: int, axes: Sequence[Axis],
             results: Sequence[PointResult]) -> dict[str, Any]:
    rows = [row(axes, r) for r in results]
    return {"system": system, "seed": seed, "replications": replications,
            "axes": [{"path": a.path, "values": list(a.values)} for a in axes],
            "points": rows, "knees": knees(axes, rows),
            "simulated_points": sum(1 for r in results if not r.cached),
            "cached_points": sum(1 for r in results if r.cached)}


def columns(doc: dict[str, Any]) -> list[str]:
    return list(doc["points"][0]) if doc["points"] else []


def _cell(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return ""
    return "" if value is None else value


def write_tables(folder: Path, doc: dict[str, Any]) -> list[Path]:
    """Write sweep.json, sweep.csv and (with pyarrow) sweep.parquet into `folder` (the
    command's staging folder: `outputs.write_into` moves them into place together)."""
    written = [folder / "sweep.json", folder / "sweep.csv"]
    written[0].write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    with written[1].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        names = columns(doc)
        writer.writerow(names)
        writer.writerows([[_cell(r[n]) for n in names] for r in doc["points"]])
    if _write_parquet(folder / "sweep.parquet", doc):
        written.append(folder / "sweep.parquet")
    return written


def _write_parquet(path: Path, doc: dict[str, Any]) -> bool:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return False
    names = columns(doc)
    pq.write_table(pa.table({n: [r[n] for r in doc["points"]] for n in names}), path)
    return True
