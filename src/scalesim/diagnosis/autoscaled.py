"""What an autoscaled component's finding needs beyond the result's totals: the load that met
the fleet when it fell short (from the time series: a fix sized for the spec's peak
over-sizes one that followed a slow ramp to it and fell short only in a sudden crowd)."""

from __future__ import annotations

from dataclasses import dataclass

from scalesim.analytic.load import mean_rate, operation_rates
from scalesim.diagnosis.context import BACKLOG_S, MIN_BACKLOG, Run


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
