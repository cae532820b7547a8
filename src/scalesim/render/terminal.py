"""The terminal summary of a result: what a person reads after `scalesim simulate`."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from scalesim.render.data_tables import data_tables

PERCENTILES = ("mean", "p50", "p90", "p99", "p999", "max")


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def summary(result: dict[str, Any]) -> Group:
    parts: list[Any] = []
    req = result["requests"]
    head = Text.assemble(
        (f"{result['system']}", "bold"), f"  simulated {result['simulated_s']:g}s",
        f" × {result['replications']} replication(s), seed {result['seed']}\n",
        f"requests {req['total']:,}  ok {req['ok']:,}  failed {req['failed']:,}  ",
        f"throughput {result['throughput_rps']:,.1f} rps  goodput {result['goodput_rps']:,.1f} rps")
    parts.append(head)
    causes = {k: v for k, v in req["failed_by_cause"].items() if v}
    if causes:
        parts.append(Text("failures: " + ", ".join(f"{k} {v:,}" for k, v in causes.items()),
                          style="yellow"))

    latency = Table(title="End-to-end latency (ms, successful requests)", title_justify="left")
    latency.add_column("workload")
    for name in PERCENTILES:
        latency.add_column(name, justify="right")
    latency.add_column("rps", justify="right")
    latency.add_column("errors", justify="right")
    for name, wl in result["workloads"].items():
        total = wl["requests"]["total"]
        errors = wl["requests"]["failed"] / total if total else None
        latency.add_row(name, *(_ms(wl["latency_ms"].get(p)) for p in PERCENTILES),
                        f"{wl['throughput_rps']:,.1f}", _pct(errors))
    if len(result["workloads"]) > 1:
        latency.add_row(Text("all", style="bold"),
                        *(_ms(result["latency_ms"].get(p)) for p in PERCENTILES),
                        f"{result['throughput_rps']:,.1f}", _pct(result.get("error_rate")))
    parts.append(latency)

    comps = Table(title="Components", title_justify="left")
    for column in ("component", "kind", "replicas", "rps", "utilization", "cpu", "queue mean",
                   "queue max", "p99 ms", "failed"):
        comps.add_column(column, justify="left" if column in ("component", "kind") else "right")
    for name, comp in result["components"].items():
        util = comp["utilization"]
        style = "red" if util is not None and util >= 0.9 else (
            "yellow" if util is not None and util >= 0.7 else "")
        failed = sum(op["requests"]["failed"] for op in comp["operations"].values())
        comps.add_row(name, comp["kind"], str(comp["replicas"]), f"{comp['throughput_rps']:,.1f}",
                      Text(_pct(util) if util is not None else
                           f"{comp['concurrency_mean']:.1f} busy", style=style),
                      _pct(comp["cpu"]), f"{comp['queue_mean']:.2f}", str(comp["queue_max"]),
                      _ms(comp["latency_ms"].get("p99")), f"{failed:,}")
    parts.append(comps)

    calls = [c for c in result["calls"] if c["retries"] or c["failed"] or c["timeouts"]
             or c["hedges"] or c.get("circuit_breaker", {}).get("transitions")
             or c.get("bulkhead", {}).get("rejected")]
    if calls:
        resilience = Table(title="Calls with retries, hedges, timeouts, failures or breaker "
                           "activity", title_justify="left")
        for column in ("from", "to", "attempts", "retries", "hedges", "amplification",
                       "timeouts", "failed", "fallbacks", "breaker / bulkhead"):
            resilience.add_column(column, justify="left" if column in (
                "from", "to", "breaker / bulkhead") else "right")
        for call in calls:
            breaker = call.get("circuit_breaker")
            opened = ""
            if breaker:
                opens = [t for t in breaker["transitions"] if t["to"] == "open"]
                opened = (f"opened {len(opens)}× from {opens[0]['t_s']:g}s, "
                          if opens else "") + f"{breaker['not_permitted']:,} not permitted"
            bulkhead = call.get("bulkhead")
            if bulkhead and bulkhead["rejected"]:
                opened += ("; " if opened else "") + (
                    f"bulkhead full {bulkhead['rejected']:,}× (limit {bulkhead['limit']})")
            resilience.add_row(call["from"], call["to"], f"{call['attempts']:,}",
                               f"{call['retries']:,}", f"{call['hedges']:,}",
                               f"{call['amplification'] or 1:.2f}",
                               f"{call['timeouts']:,}", f"{call['failed']:,}",
                               f"{call['fallbacks']:,}", opened)
        parts.append(resilience)
    parts += _shedding_and_health(result)

    parts += data_tables(result)

    parts += _control(result)

    if "slo" in result:
        slo = Table(title="SLO", title_justify="left")
        for column in ("check", "target", "actual", "met"):
            slo.add_column(column)
        for check in result["slo"]["checks"]:
            if check["name"] == "error_rate":
                target, actual = _pct(check["target"]), _pct(check["actual"])
            else:
                target, actual = f"{check['target_ms']:g} ms", f"{_ms(check['actual_ms'])} ms"
            slo.add_row(check["name"], target, actual,
                        Text("pass", style="bold green") if check["met"]
                        else Text("FAIL", style="bold red"))
        parts.append(slo)
    if "ci95" in result:
        ci = result["ci95"]
        low, high = ci["latency_ms"]["mean"]
        if low is not None:
            parts.append(Text(f"95% CI of mean latency: {low:,.3f} – {high:,.3f} ms; "
                              f"of throughput: {ci['throughput_rps'][0]:,.2f} – "
                              f"{ci['throughput_rps'][1]:,.2f} rps", style="dim"))
    return Group(*parts)


def _shedding_and_health(result: dict[str, Any]) -> list[Any]:
    """What was refused where, and what the health machinery did (ejections, probes)."""
    lines = []
    for name, comp in result["components"].items():
        refused = {k: v for k, v in comp["refused_by_cause"].items() if v}
        if refused:
            lines.append(f"{name} refused " + ", ".join(
                f"{count:,} {cause.replace('_', ' ')}" for cause, count in refused.items()))
    counts: dict[tuple[str, str], list[float]] = {}
    for event in result["events"]:
        counts.setdefault((event["component"], event["event"]), []).append(event["t_s"])
    for (component, event), times in sorted(counts.items()):
        lines.append(f"{component}: {event.replace('_', ' ')} {len(times)}× "
                     f"(first at {times[0]:g}s)")
    if not lines:
        return []
    return [Text("Shedding and health", style="italic"), Text("\n".join(lines))]


def _control(result: dict[str, Any]) -> list[Any]:
    """Scaling (replicas, events, cost) and rollouts (outcome, blast radius)."""
    parts: list[Any] = []
    scaled = {name: comp["scaling"] for name, comp in result["components"].items()
              if "scaling" in comp}
    if scaled:
        table = Table(title="Scaling (ready replicas over the window)", title_justify="left")
        for column in ("component", "min", "mean", "max", "final", "scale events",
                       "replica-hours", "cost"):
            table.add_column(column, justify="left" if column == "component" else "right")
        for name, scaling in scaled.items():
            replicas = scaling["replicas"]
            cost = scaling.get("cost_usd")
            table.add_row(name, str(replicas["min"]), f"{replicas['mean']:.1f}",
                          str(replicas["max"]), str(replicas["final"]),
                          str(len(scaling["events"])),
                          f"{scaling['replica_seconds'] / 3600:,.2f}",
                          "—" if cost is None else f"${cost:,.2f}")
        parts.append(table)
        for name, scaling in scaled.items():
            events = scaling["events"]
            if events:
                shown = events[:6]
                lines = [f"  {e['t_s']:>8g}s  {e['from']} → {e['to']}  {e['reason']}"
                         for e in shown]
                if len(events) > len(shown):
                    lines.append(f"  … {len(events) - len(shown)} more")
                parts.append(Text(f"{name} scale events:\n" + "\n".join(lines), style="dim"))
    if "rollouts" in result:
        table = Table(title="Rollouts", title_justify="left")
        for column in ("component", "to", "strategy", "outcome", "started", "ended",
                       "new version served", "failed there", "analysis failures"):
            table.add_column(column, justify="left" if column in (
                "component", "to", "strategy", "outcome") else "right")
        for rollout in result["rollouts"]:
            served = rollout["new_version"] or {"requests": 0, "failed": 0}
            failures = sum(1 for a in rollout["analysis"] if a["phase"] in ("failed", "error"))
            outcome = rollout["outcome"]
            style = {"promoted": "bold green", "aborted": "bold red"}.get(outcome, "yellow")
            table.add_row(rollout["component"], rollout["to"], rollout["strategy"],
                          Text(outcome, style=style),
                          "—" if rollout["started_s"] is None else f"{rollout['started_s']:g}s",
                          "—" if rollout["ended_s"] is None else f"{rollout['ended_s']:g}s",
                          f"{served['requests']:,}", f"{served['failed']:,}", str(failures))
        parts.append(table)
        for rollout in result["rollouts"]:
            if rollout["reason"]:
                parts.append(Text(f"{rollout['component']}: {rollout['reason']}",
                                  style="yellow"))
    if "cluster" in result:
        cluster = result["cluster"]
        parts.append(Text(f"cluster: {cluster['nodes']['start']} nodes at the start, "
                          f"{cluster['nodes']['max']} at most, {cluster['nodes']['final']} at "
                          f"the end; {cluster['node_seconds'] / 3600:,.2f} node-hours",
                          style="dim"))
    return parts


def print_summary(result: dict[str, Any], console: Console) -> None:
    console.print(summary(result))
