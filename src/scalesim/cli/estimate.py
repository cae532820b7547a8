"""`scalesim estimate`: the instant analytic estimate of a spec."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from scalesim.analytic.document import estimate_document
from scalesim.cli.options import SloText, parse_slo
from scalesim.cli.run import Overrides, SpecFile, load_or_exit, stdout_console

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the estimate as JSON.")]


def _ms(value: float | None) -> str:
    return "∞" if value is None else f"{value:,.2f}"


def _rate(value: float | None) -> str:
    return "∞" if value is None else f"{value:,.1f}"


def _component_rate(component: dict[str, Any]) -> str:
    """The visits that come, and under them what a rate limit admits of them (the rate
    its station serves) when that is fewer."""
    came, admitted = component["incoming_rps"], component["arrival_rate_rps"]
    return _rate(came) if came == admitted else f"{_rate(came)}\n{_rate(admitted)} admitted"


def _share(value: float | None, digits: int) -> str:
    """A share as a percentage; "—" when there is none to give (null in the JSON)."""
    return "—" if value is None else f"{value:.{digits}%}"


def _utilization(value: float | None) -> str:
    """The utilization of a component with limited workers or cores: null in the JSON means
    unbounded (it is offered an infinite load: it waits on a callee that cannot keep up, or
    its work has an infinite mean), printed as an unstable station's wait is: ∞."""
    return "∞" if value is None else f"{value:.0%}"


def _load_style(rho: float | None) -> str:
    return "" if rho is None else "red" if rho >= 0.9 else "yellow" if rho >= 0.7 else ""


def print_estimate(doc: dict[str, Any], console: Console) -> None:
    state = "" if doc["stable"] else "  [red]cannot keep up: see caveats[/red]"
    console.print(Text.assemble((doc["system"], "bold"),
                                "  analytic estimate (queueing formulas; no simulation)"),
                  state)
    # 'up (faults)' is the JSON's `availability`: only random_failures' downtime counts
    # there, so a bounded queue's refusals (in errors) left it at 1.000000 beside them
    workloads = Table(title="Workloads (latency in ms; up (faults): the share not lost to "
                      "random_failures' downtime; refusals and other errors count in errors)",
                      title_justify="left")
    for column in ("workload", "rate/s", "mean", "p50", "p99", "p999", "errors",
                   "up (faults)", "saturates at /s", "bottleneck", "exact"):
        workloads.add_column(column, justify="left" if column in ("workload", "bottleneck")
                             else "right")
    for name, w in doc["workloads"].items():
        lat = w["latency_ms"]
        busiest = w["bottleneck"]
        workloads.add_row(
            name + (" (closed)" if w["closed"] else ""), _rate(w["rate_rps"]),
            _ms(lat["mean"]), _ms(lat["p50"]), _ms(lat["p99"]), _ms(lat["p999"]),
            _share(w["error_rate"], 3),
            "—" if w["availability"] is None else f"{w['availability']:.6f}",
            _saturation(w),
            "—" if busiest is None else
            f"{busiest['component']} ({_utilization(busiest['utilization'])})",
            "yes" if w["exact"] else "approx.")
    console.print(workloads)
    for name, w in doc["workloads"].items():
        if w.get("past_saturation"):
            console.print(Text(f"{name} is past saturation at today's rate: "
                               f"{w['saturation_bottleneck']} saturates at "
                               f"{_rate(w['saturation_rps'])}/s", style="red"))
    for caveat in doc["caveats"]:
        if caveat["code"] == "metastable":
            console.print(Text(f"{caveat['where']} has a second steady state: a burst can start "
                               "a retry storm that outlives it (metastable, below)", style="red"))
    comps = Table(title="Components", title_justify="left")
    for column in ("component", "rps", "queues × servers", "utilization", "service ms",
                   "wait ms", "P(wait)", "refused", "model"):
        comps.add_column(column, justify="left" if column in ("component", "model")
                         else "right")
    for name, c in doc["components"].items():
        rho = c["utilization"]
        servers = "∞" if c["servers"] is None else f"{c['queues']} × {c['servers']}"
        limited = c["servers"] is not None or c["cores"] is not None
        load = Text("∞", style="red") if rho is None and limited else \
            Text("—" if rho is None else f"{rho:.1%}", style=_load_style(rho))
        refused = None if c["loss"] is None or c["rate_limited"] is None else \
            1.0 - (1.0 - c["loss"]) * (1.0 - c["rate_limited"])
        comps.add_row(name, _component_rate(c), servers, load,
                      _ms(c["service_ms"]), _ms(c["wait_ms"]),
                      "—" if c["wait_probability"] is None else f"{c['wait_probability']:.3f}",
                      _share(refused, 2), c["model"])
    console.print(comps)
    for name, q in doc.get("queues", {}).items():
        busy = "∞" if q["utilization"] is None else f"{q['utilization']:.0%}"
        console.print(Text(f"queue {name}: {_rate(q['rate_rps'])}/s, consumers {busy} busy, "
                           f"lag {_ms(q['lag_ms'])} ms (p99 {_ms(q['lag_p99_ms'])} ms)"))
    if "slo" in doc:
        _print_slo(doc["slo"], console)
    for entry in doc.get("behind", []):
        loss = doc.get("queues", {}).get(entry["name"], {}).get("loss")
        fate = f"the full queue refuses {loss:.1%} of its messages" if loss else \
            "its backlog grows without bound"
        console.print(Text(f"{_behind_text(entry)}: {fate} (the SLO covers requests, which "
                           "do not wait for it)", style="red"))
    if doc["caveats"]:
        console.print(Text("Where the estimate is known to be off", style="bold"))
        for caveat in doc["caveats"]:
            console.print(Text.assemble("  • ", (caveat["code"], "yellow"), f" {caveat['where']}: ",
                                        caveat["message"]))
    if doc["simulate"]:
        console.print("[dim]Approximate: confirm with `scalesim simulate` (or `scalesim sweep` "
                      "around the limits).[/dim]")


def _saturation(workload: dict[str, Any]) -> str:
    """The workload's saturation rate, flagged when it is below today's rate."""
    if workload["closed"]:
        return "—"
    rate = _rate(workload.get("saturation_rps"))
    return f"{rate} (past)" if workload.get("past_saturation") else rate


def _behind_text(entry: dict[str, Any]) -> str:
    """'order-events->email.send consumers are overloaded today (offered 130 %)'."""
    load = entry["offered_load"]
    offered = "∞" if load is None else f"{load:.0%}"
    what = f"{entry['name']} consumers are" if "->" in entry["name"] else \
        f"{entry['name']} (reached asynchronously only) is"
    return f"{what} overloaded today (offered {offered})"


def _target_text(check: dict[str, Any]) -> str:
    """'p99 396.51 ms > 300 ms' or 'error_rate 0.000% ≤ 0.500%': the sign says whether the
    estimate meets the target."""
    sign = "≤" if check["met"] else ">"
    if check["name"] == "error_rate":
        return f"error_rate {_share(check['estimate'], 3)} {sign} {check['target']:.3%}"
    return f"{check['name']} {_ms(check['estimate_ms'])} ms {sign} {check['target_ms']:,g} ms"


def _print_slo(slo: dict[str, Any], console: Console) -> None:
    """The verdict naming the scopes that miss, each scope's targets on a line of its own
    (all requests first, a scope's missed targets before its met ones), and the highest
    load meeting them all (or that no load does, and what sets the target)."""
    scopes: dict[str, list[dict[str, Any]]] = {}
    for check in slo["checks"]:
        scopes.setdefault(check["scope"], []).append(check)
    order = sorted(scopes, key=lambda scope: scope != "all")  # stable: workloads keep theirs
    missed = [_scope_label(scope) for scope in order
              if not all(check["met"] for check in scopes[scope])]
    console.print("SLO [green]met[/green]" if slo["met"] else
                  "SLO [red]missed[/red]" + (f" by {_joined(missed)}" if missed else ""))
    for scope in order:
        checks = sorted(scopes[scope], key=lambda check: bool(check["met"]))
        console.print(f"  {_scope_label(scope)}: " + "; ".join(map(_target_text, checks)))
    if "unmet_at_no_load" in slo:
        console.print("  " + _unloaded_text(slo["unmet_at_no_load"]))
    elif "max_rate_rps" in slo:
        binding = slo["binding"]
        why = "a component saturates first" if binding == "saturation" else \
            f"{binding} binds"
        factor = slo["max_factor"]
        verb = "holds up to" if factor is None or factor >= 1.0 else "would hold only up to"
        console.print(f"  {verb} {_rate(slo['max_rate_rps'])} rps in total "
                      f"({'∞' if factor is None else f'{factor:.3g}'}× today's rates; {why})")


def _scope_label(scope: str) -> str:
    """'all requests' for the system-wide SLO, 'workload NAME' for a workload's own."""
    return "all requests" if scope == "all" else f"workload {scope}"


def _joined(names: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _unloaded_text(check: dict[str, Any]) -> str:
    """'no load meets it: even at light load, p99 396.51 ms > 300 ms; the slowest step is
    payments.charge (its own p99 600.00 ms)': a target the service times alone miss, which
    no capacity fixes."""
    scope = "" if check["scope"] == "all" else f"{check['scope']} "
    text = f"no load meets it: even at light load, {scope}{_target_text(check)}"
    set_by = check["set_by"]
    if set_by is None:
        return text
    return (f"{text}; the slowest step is {set_by['operation']} (its own {check['name']} "
            f"{_ms(set_by['own_ms'])} ms)")


def estimate_command(
    file: SpecFile,
    as_json: JsonFlag = False,
    overrides: Overrides = None,
    slo: SloText = None,
) -> None:
    """Estimate load, latency, saturation and SLO headroom instantly with queueing formulas,
    and say where a simulation is needed."""
    system = load_or_exit(file, overrides)
    doc = estimate_document(system, parse_slo(slo) if slo is not None else None)
    if as_json:
        sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    else:
        print_estimate(doc, stdout_console())
