"""What an autoscaled component's finding needs beyond the result's totals: the load that met
the fleet when it fell short (from the time series: a fix sized for the spec's peak
over-sizes one that followed a slow ramp to it and fell short only in a sudden crowd), and
an autoscaler scaling on a CPU metric that cannot see the component's load (waits and calls
use no CPU, docs/control.md), which never scales up however long its queue grows."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scalesim.analytic.load import mean_rate, operation_rates
from scalesim.diagnosis.context import BACKLOG_S, MIN_BACKLOG, TARGET_UTILIZATION, Run, whole
from scalesim.diagnosis.finding import Fix, duration, rate, share
from scalesim.spec.control import whole_percent


@dataclass(frozen=True)
class ShortLoad:
    """The most the workloads offered a component in the intervals where it fell short."""

    rate: float  # visits per second (the analytic offered load of that interval)
    first_s: float  # the end of the first interval it fell short in
    last_s: float  # and of the last


def short_load(run: Run, name: str) -> ShortLoad | None:
    """From the first replication's time series: the intervals where component `name`
    refused or its queue held more than BACKLOG_S of its visits (at least MIN_BACKLOG), and
    the highest load the workloads offered it in one (the analytic offered load over the
    interval; evaluated only where no other such interval offers every workload as much,
    the load growing with each workload's rate). None without a time series or such an
    interval."""
    table = (run.result.get("timeseries") or {}).get("components")
    if table is None:
        return None
    columns = table["columns"]
    short = []
    for row in table["rows"]:
        at = dict(zip(columns, row, strict=True))
        if at["component"] != name:
            continue
        queued = (at["queue_mean"] or 0.0) >= max(MIN_BACKLOG,
                                                  (at["throughput_rps"] or 0.0) * BACKLOG_S)
        if (at["refused_rps"] or 0.0) > 0.0 or queued:
            short.append(float(at["t_s"]))
    if not short:
        return None
    spans = {t: (max(run.system.simulation.warmup, t - run.system.simulation.interval), t)
             for t in short}
    open_loop = [w for w in run.system.workloads if w.users is None]
    sent: dict[tuple[float, ...], float] = {}  # the workloads' rates: an interval with them
    for t, span in spans.items():
        sent.setdefault(tuple(mean_rate(w, *span) for w in open_loop), t)
    most = max(_offered(run, name, spans[sent[rates]]) for rates in _front(list(sent)))
    return ShortLoad(most, short[0], short[-1])


def _front(rates: list[tuple[float, ...]]) -> list[tuple[float, ...]]:
    """The workloads' rates no other of `rates` offers as much of every workload (the
    Pareto front): the highest offered load is at one of them."""
    front: list[tuple[float, ...]] = []
    for one in sorted(rates, key=sum, reverse=True):
        if not any(all(a >= b for a, b in zip(kept, one, strict=True)) for kept in front):
            front.append(one)
    return front


def _offered(run: Run, name: str, span: tuple[float, float]) -> float:
    """Visits per second the workloads bring component `name` over `span`."""
    rates = operation_rates(run.system, over=span)
    return sum(rates[f"{name}.{op}"]
               for op in run.system.components[name].effective_operations)


def cpu_blind_fix(run: Run, name: str, workers: int, hold: float, peak: float,
                  evidence: list[str]) -> Fix | None:
    """An autoscaler whose only metric is CPU, on a component whose replicas report at
    most that target (× 1 + tolerance) with every worker busy — the run's CPU over its
    workers' busy share, as a visit that mostly waits computes little of the time it holds a
    worker — never scales up, and scales a saturated fleet down. The fix scales on requests
    per second a replica instead (an `rps` metric, the HPA's Pods metric): what its workers
    serve at 85 % busy (workers × 85 % / the healthy `hold`), two significant digits down;
    `max` follows when the `peak` needs more replicas at that target. None when the metric
    sees the load (or another metric is there)."""
    autoscale = run.system.components[name].autoscale
    assert autoscale is not None
    measured = run.result["components"][name]
    cpu, busy = measured.get("cpu"), measured.get("utilization")
    full = cpu_at_full(run, name)
    metrics = autoscale.metrics
    if len(metrics) != 1 or metrics[0].cpu is None or cpu is None or not busy \
            or full is None or hold <= 0:
        return None
    target = metrics[0].cpu
    if full > target * (1.0 + autoscale.tolerance):
        return None
    evidence.append(
        f"the autoscaler reads CPU, which a visit barely uses: waits and calls use none "
        f"(docs/control.md), so with every worker busy a replica reports about "
        f"{share(full)} CPU ({share(cpu)} measured at {share(busy)} of its workers busy), "
        f"not above the {share(target * (1.0 + autoscale.tolerance))} at which its "
        f"{whole_percent(target)}% target scales up ({whole_percent(autoscale.tolerance)}% "
        f"tolerance): the HPA never scales up on it, however long the queue grows"
        + _scaled_down(run, name))
    per_replica = _two_digits_down(workers * TARGET_UTILIZATION / hold)
    needed = whole(peak / per_replica) or 0
    overrides = [f"components.{name}.autoscale.metrics.0={{rps: {per_replica:g}/s}}"]
    more = ""
    if needed > autoscale.max:
        overrides.append(f"components.{name}.autoscale.max={needed}")
        more = f", and raise {name}.autoscale.max from {autoscale.max} to {needed}"
    return Fix(f"scale {name} on a metric that sees its load: replace its CPU target "
               f"({whole_percent(target)}%) with {per_replica:g} requests/s a replica "
               f"(autoscale.metrics: rps), what its {workers} workers serve at "
               f"{share(TARGET_UTILIZATION)} busy holding one {duration(hold)} a visit; the "
               f"peak {rate(peak)} then asks for {needed} replicas{more}",
               tuple(overrides))


def cpu_at_full(run: Run, name: str) -> float | None:
    """The CPU a replica of `name` reports with every worker busy: the run's CPU share over
    its workers' busy share (both over the same worker- or core-time), at most 100 %; None
    without both."""
    measured = run.result["components"][name]
    cpu, busy = measured.get("cpu"), measured.get("utilization")
    return None if cpu is None or not busy else min(1.0, cpu / busy)


def _scaled_down(run: Run, name: str) -> str:
    """'; it scaled down 4 → 2 at 300 s (cpu 7% / target 60% …)' from the first
    replication's scale events, or that it never scaled up."""
    events = (run.result["components"][name].get("scaling") or {}).get("events") or []
    down = [e for e in events if e["to"] < e["from"]]
    if down:
        return "; it even scaled an overloaded fleet down: " + ", ".join(
            f"{e['from']} → {e['to']} at {e['t_s']:g} s, {e['reason']}" for e in down[:3])
    if not any(e["to"] > e["from"] for e in events):
        return "; it never scaled up in the run"
    return ""


def _two_digits_down(value: float) -> float:
    """`value` rounded down to two significant digits (at least 0.01)."""
    if value <= 0.01:
        return 0.01
    scale = 10.0 ** (math.floor(math.log10(value)) - 1)
    return math.floor(value / scale) * scale
