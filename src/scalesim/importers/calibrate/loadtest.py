"""A load test's results as CPU demand and runtime overhead.

The CSV has one row per run (a load level, repetitions allowed): `rate_rps` (offered),
`throughput_rps`, `mean_ms`, optionally `p50_ms` and `p99_ms`, and optionally one
`cpu_COMPONENT` column per component: the cores its processes used on average (CPU seconds
per second, as `ps`, cgroups or `container_cpu_usage_seconds_total` give, summed over its
replicas: no more than the cores the spec gives them all), and
`cores_available`: the share of a core a busy process got on the machine during the run (a
machine shared with other work gives less than one; a spinning probe measures it).

- With CPU columns, the **utilization law** U = U₀ + D·X gives each component's CPU seconds
  per request D (least squares over the rows; through the origin from one level, where U₀
  cannot be told apart). Divided by the component's visits per request (the spec's call
  graph), minus the CPU its operations already state (`cpu`/`work`, `post_work`), it leaves
  the runtime's overhead per visit; over components with different numbers of calls per
  visit it splits into a per-request and a per-call part (least squares), else it is all
  per request.
- Without them, from two or more levels, **response-time regression** fits the mean
  response R = Z + S/(1 − X·S) of a single bottleneck (M/M/1 or PS: the same mean) for its
  demand per request S and the rest Z; saturation is 1/S. The bottleneck is the component
  with `cores` whose stated CPU per request is largest; its CPU per request is S times the
  cores it computes on (`cores` × replicas: those saturate at 1/S), and its overhead per
  visit is what that leaves beyond the stated CPU.
- `cores_available` caps the `cores` of every component that models them: a replica computes
  no faster than the machine lets one busy process.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from scalesim.analytic.load import operation_rates
from scalesim.importers.calibrate import CalibrationError, read_file
from scalesim.spec.bounds import MAX_CORES, MAX_DURATION_S, MAX_RATE_PER_S
from scalesim.spec.demand import calls_made
from scalesim.spec.model import Component, System

REQUIRED = ("rate_rps", "throughput_rps", "mean_ms")


@dataclass(frozen=True)
class Row:
    line: int  # where it is in the file, to name it in errors
    rate_rps: float
    throughput_rps: float
    mean_ms: float
    p50_ms: float | None
    p99_ms: float | None
    cpu: dict[str, float]  # component -> cores used
    cores_available: float | None = None  # the share of a core a busy process got


@dataclass
class LoadFit:
    method: str  # utilization law, or response-time regression
    demand_s: dict[str, float]  # component -> CPU seconds per request (all its visits)
    idle_cores: dict[str, float]  # component -> U₀
    overhead: dict[str, tuple[float, float]]  # component -> (per request, per call) seconds
    saturation_rps: float
    rows: list[Row]
    cores_available: float | None = None  # mean over the rows that measured it
    predicted_mean_ms: list[float] = field(default_factory=list)  # per row, by the fit
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # for stderr: the fit may mislead


def read_rows(path: Path) -> list[Row]:
    """The file's rows, each a column's value under its name: a row that does not line up
    with the header is refused at its line, as its values could be read as other columns."""
    reader = csv.reader(io.StringIO(read_file(path), newline=""))
    try:
        names = _header(path, next(reader, []), reader.line_num)
        rows = [_row(path, reader.line_num, _record(path, reader.line_num, names, fields))
                for fields in reader if fields]
    except csv.Error as error:  # e.g. a field longer than the csv module's limit
        raise CalibrationError(f"{path}:{reader.line_num}: not CSV: {error}") from None
    if not rows:
        raise CalibrationError(f"{path}: no rows")
    return rows


def _header(path: Path, fields: list[str], line: int) -> list[str]:
    """The column names, spaces around them dropped (`a, b` is a usual way to write `a,b`);
    a repeated name is refused, as neither of its columns would be the one read."""
    names = [field.strip() for field in fields]
    first: dict[str, int] = {}
    for column, name in enumerate(names, 1):
        if name and first.setdefault(name, column) != column:
            raise CalibrationError(f"{path}:{line}: {name}: a repeated column (columns "
                                   f"{first[name]} and {column}): give each once")
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise CalibrationError(f"{path}: missing column(s) {', '.join(missing)}; "
                               f"needs {', '.join(REQUIRED)}")
    return names


def _record(path: Path, line: int, names: list[str], fields: list[str]) -> dict[str, str]:
    """A row's values by column; a row of more or fewer values than the header has columns
    is refused, as its values may not be under the columns they were written for."""
    if len(fields) > len(names):
        raise CalibrationError(f"{path}:{line}: {len(fields)} fields where the header has "
                               f"{len(names)} columns: field {len(names) + 1}, "
                               f"{fields[len(names)]!r}, is under no column")
    if len(fields) < len(names):
        raise CalibrationError(f"{path}:{line}: {names[len(fields)]}: missing ({len(fields)} "
                               f"fields where the header has {len(names)} columns)")
    return dict(zip(names, fields, strict=True))


def _number(path: Path, line: int, name: str, text: str | None) -> float:
    if text is None or not text.strip():
        raise CalibrationError(f"{path}:{line}: {name}: missing (the row gives it no value)")
    try:
        value = float(text)
    except ValueError:
        raise CalibrationError(f"{path}:{line}: {name}: not a number: {text!r}") from None
    if not math.isfinite(value) or value < 0.0:
        raise CalibrationError(f"{path}:{line}: {name}: must be finite and >= 0, not {text}")
    most, what = _most(name)
    if value > most:
        raise CalibrationError(f"{path}:{line}: {name}: {text.strip()} is more than {what} "
                               f"({most:,.0f}); no load test measured it")
    return value


def _most(name: str) -> tuple[float, str]:
    """The largest value a column can hold, and what that is: a spec's bounds (docs/spec.md,
    Bounds) on rates, durations and a replica's cores, so that the fits (sums of squares of
    the values) stay finite. A `cpu_COMPONENT` column is bounded by that component's cores
    (`check_cores`), which name it."""
    if name.endswith("_rps"):
        return MAX_RATE_PER_S, "the most requests/s a spec's rate may be"
    if name.endswith("_ms"):
        return MAX_DURATION_S * 1e3, "the most milliseconds a spec's duration may be"
    if name == "cores_available":
        return MAX_CORES, "the most cores a spec may give a replica"
    return math.inf, ""


def _row(path: Path, line: int, record: dict[str, str]) -> Row:
    optional = {name: _number(path, line, name, record[name]) if record.get(name) else None
                for name in ("p50_ms", "p99_ms")}
    cpu = {name.removeprefix("cpu_"): _number(path, line, name, value)
           for name, value in record.items() if name and name.startswith("cpu_") and value}
    rate, throughput, mean = (_number(path, line, name, record.get(name)) for name in REQUIRED)
    available = _number(path, line, "cores_available", record["cores_available"]) \
        if record.get("cores_available") else None
    return Row(line, rate, throughput, mean, optional["p50_ms"], optional["p99_ms"], cpu, available)


def check_cores(path: Path, system: System, rows: list[Row]) -> None:
    """Refuse a `cpu_COMPONENT` value above the cores the component's replicas can use
    together: no run measures it, and fitted as it stands it gives a CPU per request that
    saturates below the rows' own throughput. A percentage given for cores is the usual
    cause (50 where 0.5 is meant)."""
    for row in rows:
        for name, used in row.cpu.items():
            spec = system.components.get(name)
            if spec is None:
                continue  # fit_load names the columns of components the spec lacks
            most, which = _usable_cores(spec)
            if used > most:
                example = used if used / 100.0 <= most else 50.0
                raise CalibrationError(
                    f"{path}:{row.line}: cpu_{name}: {used:g} cores used, more than {name}'s "
                    f"{which} can use ({most:,.6g}); the column holds the cores its "
                    "processes used, summed over its replicas (CPU seconds per second), not "
                    f"a percentage: {example:g} % of one core is {example / 100.0:g}")


def _usable_cores(spec: Component) -> tuple[float, str]:
    """The most cores a component's replicas use at once in the spec's CPU model (an
    autoscaler's maximum replicas; without `cores`, the most a spec may give one), and
    what they are, in words."""
    replicas = spec.most_replicas
    counted = (f"autoscale.max {replicas}" if spec.autoscale else str(replicas)) + \
        f" replica{'s' if replicas != 1 else ''}"
    cores = spec.core_limit
    if cores is None:
        return MAX_CORES * replicas, f"{counted} × {MAX_CORES:,.0f} cores (the most a " \
            "spec may give one; it gives none)"
    return cores * replicas, f"{counted} × {cores:g} core{'s' if cores != 1 else ''}"


def visits_per_request(system: System) -> dict[str, float]:
    """Visits of each component per request entering the system (the spec's call graph)."""
    rates = operation_rates(system)
    entering = sum(rates[".".join(system.resolve(w.to))] for w in system.workloads
                   if w.users is None) or 1.0
    out: dict[str, float] = {}
    for ref, rate in rates.items():
        component = ref.split(".", 1)[0]
        out[component] = out.get(component, 0.0) + rate / entering
    return out


def stated_cpu(system: System, component: str) -> tuple[float, float]:
    """(CPU seconds, calls made) per visit its operations state, weighted by their rates."""
    rates = operation_rates(system)
    spec = system.components[component]
    weights = {o: rates[f"{component}.{o}"] for o in spec.effective_operations}
    total = sum(weights.values()) or 1.0
    cpu = calls = 0.0
    for name, weight in weights.items():
        op = spec.effective_operations[name]
        cpu += weight / total * (op.demand.mean_s + op.post_work.mean_s)
        calls += weight / total * calls_made(system, component, name)
    return cpu, calls


def fit_load(system: System, rows: list[Row]) -> LoadFit:
    with_cpu = sorted({name for row in rows for name in row.cpu})
    unknown = [name for name in with_cpu if name not in system.components]
    if unknown:
        raise CalibrationError(f"cpu column(s) for {', '.join(unknown)}, which the spec does "
                               "not have")
    if with_cpu:
        found = _utilization_law(system, rows, with_cpu)
    elif len({round(row.throughput_rps, 6) for row in rows}) < 2:
        raise CalibrationError("response-time regression needs rows at two load levels or "
                               "more (or cpu_COMPONENT columns, for the utilization law)")
    else:
        found = _regression(system, rows)
    shares = [row.cores_available for row in rows if row.cores_available is not None]
    if shares:
        found.cores_available = min(1.0, max(1e-3, float(np.mean(shares))))
    return found


def _utilization_law(system: System, rows: list[Row], names: list[str]) -> LoadFit:
    visits = visits_per_request(system)
    demand, idle, per_visit = {}, {}, {}
    notes = []
    for name in names:
        points = [(row.throughput_rps, row.cpu[name]) for row in rows if name in row.cpu]
        x = np.array([p[0] for p in points])
        u = np.array([p[1] for p in points])
        if len(set(x.round(6))) >= 2:
            slope, intercept = np.polyfit(x, u, 1)
            if intercept < 0.0:  # no negative idle CPU: through the origin instead
                slope, intercept = float(x @ u / (x @ x)), 0.0
        else:
            slope, intercept = float(u.sum() / x.sum()), 0.0
            notes.append(f"{name}: one load level, so its idle CPU is taken as zero")
        demand[name], idle[name] = float(slope), float(intercept)
        if visits.get(name, 0.0) > 0.0:
            per_visit[name] = float(slope) / visits[name]
    overhead = _split(system, per_visit, notes)
    saturation = min((_cores(system, n) / d for n, d in demand.items() if d > 0),
                     default=math.inf)
    return LoadFit("utilization law", demand, idle, overhead, saturation, rows, notes=notes)


def _cores(system: System, name: str) -> float:
    """The cores a component computes on, all replicas together: its throughput saturates
    at these over its CPU per request."""
    spec = system.components[name]
    return (spec.core_limit or 1.0) * spec.replicas


def _split(system: System, per_visit: dict[str, float],
           notes: list[str]) -> dict[str, tuple[float, float]]:
    """Overhead per visit (what the measured CPU leaves beyond the stated) as a per-request
    and a per-call part shared by the components, when their calls per visit differ."""
    residual, calls = {}, {}
    for name, measured in per_visit.items():
        stated, made = stated_cpu(system, name)
        residual[name], calls[name] = measured - stated, made
    if len({round(c, 6) for c in calls.values()}) >= 2:
        a = np.array([[1.0, calls[n]] for n in residual])
        b = np.array([residual[n] for n in residual])
        (request, call), *_ = np.linalg.lstsq(a, b, rcond=None)
        request, call = max(0.0, float(request)), max(0.0, float(call))
        return {name: (request, call) for name in residual}
    for name, value in residual.items():
        if value < 0.0:
            notes.append(f"{name}: it used less CPU than its operations state "
                         f"({value * 1e3:.3g} ms per visit): no overhead")
    return {name: (max(0.0, value), 0.0) for name, value in residual.items()}


def _no_queueing(x: npt.NDArray[np.float64], r: npt.NDArray[np.float64]) -> str | None:
    """Why the rows show no queueing, or None: R = Z + S/(1 − X·S) rises with X, so means
    that do not (least squares) have no demand S to give, only the grid's smallest."""
    slope = float(np.polyfit(x, r * 1e3, 1)[0])
    if slope > 0.0:
        return None
    return (f"mean_ms does not rise with throughput_rps (least-squares slope {slope:.3g} ms "
            "per request/s), so the rows show no queueing to fit a service demand from: "
            "nothing is fitted from them")


def _regression(system: System, rows: list[Row]) -> LoadFit:
    x = np.array([row.throughput_rps for row in rows])
    r = np.array([row.mean_ms for row in rows]) / 1e3
    top = 1.0 / x.max()
    best = (math.inf, 0.0, 0.0)
    with np.errstate(over="ignore"):  # response times of 1e200 ms: an infinite error
        for s in np.linspace(top * 1e-4, top * (1.0 - 1e-6), 4000):
            inflated = s / (1.0 - x * s)
            z = float((r - inflated).mean())
            error = float(((r - z - inflated) ** 2).sum())
            if z >= 0.0 and error < best[0]:
                best = (error, float(s), z)
    error, s, z = best
    if not math.isfinite(error):
        raise CalibrationError(
            "mean_ms: no service demand fits these response times (R = Z + S / (1 − X·S) "
            "needs Z ≥ 0 and R at least S, with S below 1 / the highest throughput): means "
            f"of {min(r) * 1e3:g} to {max(r) * 1e3:g} ms at {min(x):g} to {max(x):g} "
            "requests/s; check that mean_ms is in milliseconds and includes the service time")
    flat = _no_queueing(x, r)
    if flat is not None:
        return LoadFit("response-time regression", {}, {}, {}, math.inf, rows,
                       warnings=[flat])
    cored = [n for n, c in system.components.items() if c.core_limit is not None]
    notes = []
    overhead: dict[str, tuple[float, float]] = {}
    demand: dict[str, float] = {}
    if cored:
        visits = visits_per_request(system)
        bottleneck = max(cored, key=lambda n: stated_cpu(system, n)[0] * visits.get(n, 0.0))
        demand[bottleneck] = s * _cores(system, bottleneck)  # 1/S: its cores' saturation
        stated, _ = stated_cpu(system, bottleneck)
        if visits.get(bottleneck, 0.0) > 0.0:
            overhead[bottleneck] = (max(0.0, demand[bottleneck] / visits[bottleneck] - stated),
                                    0.0)
    else:
        notes.append(f"no component has 'cores': the bottleneck's fitted demand, {s * 1e3:.4g} "
                     "ms per request (1 / the saturation), is reported, not applied")
    fit = LoadFit("response-time regression", demand, {}, overhead, 1.0 / s, rows, notes=notes)
    fit.predicted_mean_ms = [(z + s / (1.0 - row.throughput_rps * s)) * 1e3 for row in rows]
    return fit
