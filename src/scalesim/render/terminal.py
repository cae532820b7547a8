"""The terminal summary of a result: what a person reads after `scalesim simulate`.

Tables switch to one block per row when they do not fit the terminal (render/layout.py), so
no component or call name is ever cut. The diagnosis comes last: what is wrong, why, and
the smallest change that fixes it.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from scalesim.diagnosis.context import SHOWN_UNEVEN, uneven
from scalesim.render.data_tables import data_tables
from scalesim.render.graph import own_latency
from scalesim.render.html import set_options
from scalesim.render.layout import Cell, Column, fitted


def instant(seconds: float) -> str:
    """A moment of simulated time, as precise as a reader needs: '1.2 s', '40.5 s', '1,234 s'."""
    return f"{seconds:,.0f} s" if seconds >= 100 else f"{seconds:.2g} s" if seconds < 10 \
        else f"{seconds:.3g} s"

PERCENTILES = ("mean", "p50", "p90", "p99", "p999", "max")


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _share(part: int, total: int) -> str:
    return f"{part / total * 100:.1f}%" if total else "—"


def summary(result: dict[str, Any], width: int = 120) -> Group:
    parts: list[RenderableType] = [_head(result)]
    parts.append(_latency(result, width))
    parts.append(_components(result, width))
    calls = _calls(result, width)
    if calls is not None:
        parts.append(calls)
    parts += _shedding_and_health(result)
    parts += data_tables(result, width)
    parts += _control(result, width)
    if "slo" in result:
        parts.append(_slo(result, width))
    if "ci95" in result:
        ci = result["ci95"]
        low, high = ci["latency_ms"]["mean"]
        if low is not None:
            parts.append(Text(f"95% CI of mean latency: {low:,.3f} – {high:,.3f} ms; "
                              f"of throughput: {ci['throughput_rps'][0]:,.2f} – "
                              f"{ci['throughput_rps'][1]:,.2f} rps", style="dim"))
    if "diagnosis" in result:
        parts += diagnosis(result["diagnosis"])
    return Group(*parts)


def _head(result: dict[str, Any]) -> Text:
    req = result["requests"]
    total = req["total"]
    head = Text.assemble(
        (f"{result['system']}", "bold"), f"  simulated {result['simulated_s']:g}s",
        f" × {result['replications']} replication(s), seed {result['seed']}\n",
        f"requests {total:,}: ok {req['ok']:,}",
        (f" (degraded {req.get('degraded', 0):,}, {_share(req.get('degraded', 0), total)})",
         "yellow" if req.get("degraded") else ""),
        ", ",
        (f"failed {req['failed']:,} ({_share(req['failed'], total)})",
         "red" if req["failed"] else ""), "\n")
    offered = result.get("offered_rps")
    if offered is not None:
        head.append(f"offered {offered:,.1f} rps · ")
    head.append(f"throughput {result['throughput_rps']:,.1f} rps · "
                f"goodput {result['goodput_rps']:,.1f} rps")
    late = req.get("drained", 0)
    if offered and offered - result["throughput_rps"] >= 0.01 * offered:
        head.append(f"\noverloaded: {late:,} requests of the window were answered only after "
                    "it ended (during the drain)", style="yellow")
    elif offered and result["throughput_rps"] - offered >= 0.005 * offered:
        head.append("\nthroughput above the offered load: answers in the window count "
                    "whenever their request was sent, and a backlog from the warm-up drained "
                    "into it", style="yellow")
    causes = {k: v for k, v in req["failed_by_cause"].items() if v}
    if causes:
        head.append("\nfailures: " + ", ".join(f"{k} {v:,}" for k, v in causes.items()),
                    style="yellow")
    return head


def _latency(result: dict[str, Any], width: int) -> RenderableType:
    columns = [Column("workload", right=False), *(Column(p) for p in PERCENTILES),
               Column("rps"), Column("errors"), Column("degraded")]
    rows: list[list[Cell]] = []
    for name, wl in result["workloads"].items():
        requests = wl["requests"]
        total = requests["total"]
        rows.append([name, *(_ms(wl["latency_ms"].get(p)) for p in PERCENTILES),
                     f"{wl['throughput_rps']:,.1f}", _share(requests["failed"], total),
                     _share(requests.get("degraded", 0), total)])
    if len(result["workloads"]) > 1:
        req = result["requests"]
        rows.append([Text("all", style="bold"),
                     *(_ms(result["latency_ms"].get(p)) for p in PERCENTILES),
                     f"{result['throughput_rps']:,.1f}", _pct(result.get("error_rate")),
                     _share(req.get("degraded", 0), req["total"])])
    return fitted("End-to-end latency (ms, successful requests)", columns, rows, width)


def _components(result: dict[str, Any], width: int) -> RenderableType:
    columns = [Column("component", right=False), Column("kind", right=False),
               Column("replicas"), Column("rps"), Column("busy"), Column("utilization"),
               Column("cpu"), Column("queue mean"), Column("queue max"), Column("p99 ms"),
               Column("failed")]
    rows: list[list[Cell]] = []
    for name, comp in result["components"].items():
        util = comp["utilization"]
        shown = _pct(util)
        hottest = uneven(comp, SHOWN_UNEVEN)
        if hottest is not None:
            shown += f" (r{hottest[0]} {_pct(hottest[1])})"
            util = hottest[1]  # the colour warns of the replica at its limit
        style = "red" if util is not None and util >= 0.9 else (
            "yellow" if util is not None and util >= 0.7 else "")
        failed = sum(op["requests"]["failed"] for op in comp["operations"].values())
        rows.append([name, comp["kind"], str(comp["replicas"]),
                     f"{comp['throughput_rps']:,.1f}", f"{comp['concurrency_mean']:,.1f}",
                     Text(shown, style=style), _pct(comp["cpu"]),
                     f"{comp['queue_mean']:,.2f}", f"{comp['queue_max']:,}",
                     _ms(own_latency(comp).get("p99")), f"{failed:,}"])
    return fitted("Components (busy: workers in use on average; utilization: busy / "
                  "workers, — when unlimited; rN: replica N, when busier than its share)",
                  columns, rows, width)


def _calls(result: dict[str, Any], width: int) -> RenderableType | None:
    calls = [c for c in result["calls"] if c["retries"] or c["failed"] or c["timeouts"]
             or c["hedges"] or c.get("circuit_breaker", {}).get("transitions")
             or c.get("bulkhead", {}).get("rejected")]
    if not calls:
        return None
    columns = [Column("from", right=False), Column("to", right=False), Column("attempts"),
               Column("retries"), Column("hedges"), Column("amplification"),
               Column("timeouts"), Column("failed"), Column("fallbacks"),
               Column("breaker / bulkhead", right=False)]
    rows: list[list[Cell]] = []
    for call in calls:
        notes = []
        breaker = call.get("circuit_breaker")
        if breaker:
            opens = [t for t in breaker["transitions"] if t["to"] == "open"]
            if opens:
                notes.append(f"opened {len(opens)}× from {instant(opens[0]['t_s'])}")
            notes.append(f"{breaker['not_permitted']:,} not permitted")
        bulkhead = call.get("bulkhead")
        if bulkhead and bulkhead["rejected"]:
            notes.append(f"bulkhead full {bulkhead['rejected']:,}× (limit {bulkhead['limit']})")
        rows.append([call["from"], call["to"], f"{call['attempts']:,}", f"{call['retries']:,}",
                     f"{call['hedges']:,}", f"{call['amplification'] or 1:.2f}",
                     f"{call['timeouts']:,}", f"{call['failed']:,}", f"{call['fallbacks']:,}",
                     "\n".join(notes)])
    return fitted("Calls with retries, hedges, timeouts, failures or breaker activity",
                  columns, rows, width)


def _slo(result: dict[str, Any], width: int) -> RenderableType:
    columns = [Column("scope", right=False), Column("check", right=False),
               Column("target"), Column("actual"), Column("met", right=False)]
    rows: list[list[Cell]] = []
    for check in result["slo"]["checks"]:
        if check["name"] == "error_rate":
            target, actual = _pct(check["target"]), _pct(check["actual"])
        else:
            target, actual = f"{check['target_ms']:g} ms", f"{_ms(check['actual_ms'])} ms"
        rows.append([check.get("scope", "all"), check["name"], target, actual,
                     Text("pass", style="bold green") if check["met"]
                     else Text("FAIL", style="bold red")])
    return fitted("SLO (scope: all requests, or one workload's)", columns, rows, width)


SEVERITY_MARK = {"problem": ("✗", "bold red"), "warning": ("!", "bold yellow")}


def diagnosis(findings: list[dict[str, Any]]) -> list[RenderableType]:
    """Each finding: its summary, the evidence, and the fix with the `--set` that applies it."""
    if not findings:
        return [Text.assemble(("Diagnosis: ", "bold"), (
            "nothing stands out — no saturated component, growing backlog, overload, or "
            "degraded or failed share of 1 % or more.", "green"))]
    parts: list[RenderableType] = [Text("Diagnosis", style="bold")]
    for finding in findings:
        mark, style = SEVERITY_MARK.get(finding["severity"], ("·", ""))
        limit = f" [limit: {finding['limit'].replace('_', ' ')}]" if finding["limit"] else ""
        parts.append(Text.assemble((f"{mark} ", style), (finding["summary"], "bold"),
                                   (limit, "dim")))
        for line in finding["evidence"]:
            parts.append(Padding(Text(f"· {line}"), (0, 0, 0, 4), expand=False))
        fix = finding["fix"]
        if fix is not None:
            parts.append(Padding(Text.assemble(("fix: ", "bold green"), fix["summary"]),
                                 (0, 0, 0, 4), expand=False))
            if fix["set"]:
                # one unbroken line, past the terminal's width if need be (print_summary
                # does not crop), so that it pastes: a Padding would cut it at the width
                parts.append(Text(" " * 6 + set_options(fix["set"]), style="cyan",
                                  no_wrap=True, overflow="ignore"))
    return parts


def _shedding_and_health(result: dict[str, Any]) -> list[RenderableType]:
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


def _control(result: dict[str, Any], width: int) -> list[Any]:
    """Scaling (replicas, events, cost) and rollouts (outcome, blast radius)."""
    parts: list[Any] = []
    scaled = {name: comp["scaling"] for name, comp in result["components"].items()
              if "scaling" in comp}
    if scaled:
        rows: list[list[Cell]] = []
        for name, scaling in scaled.items():
            replicas = scaling["replicas"]
            cost = scaling.get("cost_usd")
            rows.append([name, str(replicas["min"]), f"{replicas['mean']:.1f}",
                         str(replicas["max"]), str(replicas["final"]),
                         str(len(scaling["events"])),
                         f"{scaling['replica_seconds'] / 3600:,.2f}",
                         "—" if cost is None else f"${cost:,.2f}"])
        parts.append(fitted("Scaling (ready replicas over the window)",
                            [Column("component", right=False), *(Column(c) for c in (
                                "min", "mean", "max", "final", "scale events",
                                "replica-hours", "cost"))], rows, width))
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
        rows = []
        for rollout in result["rollouts"]:
            served = rollout["new_version"] or {"requests": 0, "failed": 0}
            phases = [a["phase"] for a in rollout["analysis"]]
            outcome = rollout["outcome"]
            style = {"promoted": "bold green", "aborted": "bold red"}.get(outcome, "yellow")
            rows.append([rollout["component"], rollout["to"], rollout["strategy"],
                         Text(outcome, style=style),
                         "—" if rollout["started_s"] is None else f"{rollout['started_s']:g}s",
                         "—" if rollout["ended_s"] is None else f"{rollout['ended_s']:g}s",
                         f"{served['requests']:,}", f"{served['failed']:,}",
                         str(phases.count("failed")), str(phases.count("error"))])
        parts.append(fitted("Rollouts", [
            Column("component", right=False), Column("to", right=False),
            Column("strategy", right=False), Column("outcome", right=False),
            # failed measurements count against failure_limit, those without data ('error')
            # against consecutive_error_limit, as Argo Rollouts keeps them apart
            *(Column(c) for c in ("started", "ended", "new version served", "failed there",
                                  "analysis failed", "analysis no data"))], rows, width))
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
    console.print(summary(result, console.width), crop=False)  # a --set line goes on whole
