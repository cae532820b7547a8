"""`scalesim plan`: the cheapest configuration that meets an SLO at a given load."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from scalesim.budget import amount
from scalesim.cli.options import Dask, Jobs, SloText, parse_slo
from scalesim.cli.run import (
    EXIT_BAD_INPUT,
    Force,
    Overrides,
    SpecFile,
    err,
    load_or_exit,
    seed_option,
    shown,
    stdout_console,
)
from scalesim.cli.sweep import Vary, batch_cost, parse_axes, refuse_over_budget
from scalesim.spec import SpecError, System, load_spec
from scalesim.spec.errors import counted, printable, shown_issues
from scalesim.spec.loader import set_sources
from scalesim.spec.units import parse_rate
from scalesim.sweep.executor import ClusterError, executing
from scalesim.sweep.knobs import capacity_knobs
from scalesim.sweep.plan import (
    Candidate,
    Loader,
    Planner,
    autoscaled_replicas,
    capacity_ordered,
    plan_document,
    plan_scopes,
    quiet,
    rate_overrides,
    target_miss,
)

# A target the estimate misses at the top of every range, whose miss the last step up each
# range moved by less than this share of it, is the work's own: no capacity meets it.
STUCK_SHARE = 0.01

# The highest price per hour --cost takes: a plan's cost sums prices times replicas, and
# 1e308 twice overflowed to infinity (printed as "Infinity", which is not JSON).
MAX_PRICE = 1e12

MaxReplications = Annotated[int, typer.Option(
    "--max-replications", min=2, help="Replications a candidate gets at most while its 95 % "
    "CIs straddle a target; then the mean decides and the verdict is marked marginal.")]

Costs = Annotated[list[str] | None, typer.Option(
    "--cost", metavar="NAME=PRICE", help="Price per hour of one replica of a component "
    "(default: its cost_per_replica_hour, else 1: replica-hours), or of one unit of a varied "
    "field, e.g. "
    "components.db.workers=0.02 (repeatable).")]


def _prices(texts: Sequence[str], known: Sequence[str]) -> dict[str, float]:
    """The prices given, each a finite amount ≥ 0 for a component or a varied field (a
    negative or NaN price would make 'cheapest' mean nothing; a misspelt name would be
    ignored)."""
    prices = {}
    for text in texts:
        name, sep, value = text.partition("=")
        name = name.strip()
        try:
            price = float(value)
        except ValueError:
            sep = ""
        if not sep or not name:
            raise typer.BadParameter(f"{text!r} is not NAME=PRICE", param_hint="--cost")
        if not 0.0 <= price <= MAX_PRICE:  # also NaN and infinity
            raise typer.BadParameter(f"{text!r}: a price is 0 to {amount(MAX_PRICE)}",
                                     param_hint="--cost")
        if name not in known:
            raise typer.BadParameter(f"{text!r}: {name!r} is neither a component nor a "
                                     f"varied field; use one of {', '.join(known)}",
                                     param_hint="--cost")
        prices[name] = price
    return prices


def _spec_loader(file: Path, sets: list[str], scaled: list[str]) -> Loader:
    """Loads a candidate (`overrides`, of the varied fields) on the spec with the user's
    --set and the planned --rate; a SpecError's issues name which of the three caused
    each."""
    def load(overrides: Sequence[str]) -> System:
        sources = [*set_sources(len(sets)), *["--rate"] * len(scaled),
                   *["--vary"] * len(overrides)]
        return load_spec(file, [*sets, *scaled, *overrides], sources)
    return load


def _loader(spec: Loader) -> Loader:
    """`spec`, printing a problem (with the candidate's values) and exiting 2 on one."""
    def load(overrides: Sequence[str]) -> System:
        try:
            return spec(overrides)
        except SpecError as error:
            for line in shown_issues(error.issues):
                typer.echo(f"{line} (with {', '.join(overrides)})" if overrides else line,
                           err=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
    return load


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def percent(share: float | None) -> str:
    """A share as a percentage with three significant digits: 0.001 -> '0.1%', 0.0004 ->
    '0.04%', 0 -> '0%' (two decimals of a fraction would show all of these as 0.00)."""
    return "—" if share is None else f"{share * 100:.3g}%"


def _value(target: str, value: float | None) -> str:
    """A metric in its unit: ms for latency, percent for the error rate; `target` is the
    metric or its label ('error_rate', 'checkout error_rate': `slo_target_label`)."""
    return percent(value) if target.rsplit(" ", 1)[-1] == "error_rate" else _ms(value)


def _loads(offered: dict[str, float | None]) -> str:
    """What is past saturation with its offered load: 'web ρ 8.33, db ρ 1.2'."""
    return ", ".join(f"{name} ρ {'∞' if rho is None else amount(rho)}"
                     for name, rho in offered.items())


def _estimate_cell(c: dict[str, Any]) -> str:
    """The estimate's column: what is past saturation, by name with its offered load ρ,
    or its numbers."""
    if c["analytic_overloaded"]:
        return "overloaded: " + _loads(c["analytic_offered"])
    return ", ".join(f"{k} {_value(k, v)}" for k, v in c["analytic"].items())


def _evidence(simulated: dict[str, Any]) -> str:
    """The simulated CIs (or why it stopped), and any queue falling behind."""
    text = simulated["stopped"] or ", ".join(
        f"{k} {_value(k, v[1])}–{_value(k, v[2])}" for k, v in simulated["ci95"].items())
    behind = simulated.get("behind") or []
    return text + "".join(f"; {name} falls behind" for name in behind)


def _bound(metric: str, value: float | None) -> str:
    """A target or a value with its unit: '150 ms', '0.1%'; '∞' for none (no latency)."""
    if value is None:
        return "∞"
    return _value(metric, value) + ("" if metric == "error_rate" else " ms")


def _targets(slo: dict[str, float]) -> str:
    return ", ".join(f"{k} ≤ {_bound(k, v)}" for k, v in slo.items())


def _slos(doc: dict[str, Any]) -> str:
    """Every SLO the plan meets, as markup: 'SLO p99 ≤ 200 ms; workload checkout p99 ≤
    150 ms'."""
    parts = [] if doc["slo"] is None else [f"SLO {_targets(doc['slo'])}"]
    parts += [f"workload {shown(name)} {_targets(slo)}"
              for name, slo in doc["workload_slos"].items()]
    return "; ".join(parts)


def _misses(missed: list[dict[str, Any]]) -> str:
    """Which targets decided a miss: 'checkout p99 212.00 ms > 150 ms'."""
    return ", ".join(("" if m["scope"] == "all" else f"{m['scope']} ") +
                     f"{m['name']} {_bound(m['name'], m['value'])} > "
                     f"{_bound(m['name'], m['target'])}" for m in missed)


def _verdict_cell(c: dict[str, Any], overloaded: list[dict[str, str]]) -> str:
    """Met, missed (and by what) or marginal: by simulation, else by the estimate; not
    simulated when the search left it out as past saturation (`overloaded`) or as a run
    simulated already (`repeats`: an autoscaler's max it never asked for)."""
    simulated = c.get("simulated")
    if simulated is None and c["values"] in overloaded:
        return "not simulated: overloaded"
    if simulated is None and c.get("repeats") is not None:
        changed = {p: v for p, v in c["repeats"].items() if c["values"][p] != v}
        return f"not simulated: runs as {_assigned(changed)} did"
    if simulated is None:
        missed = [] if c["analytic_overloaded"] else c["analytic_missed"]
        return "estimate " + ("met" if c["analytic_met"] else "missed") + \
            (f": {_misses(missed)}" if missed else "")
    missed = simulated["missed"]
    return ("met" if simulated["met"] else "missed") + \
        ("" if simulated["decided"] else " (marginal)") + (f": {_misses(missed)}" if missed
                                                          else "")


def print_plan(doc: dict[str, Any], console: Console) -> None:
    console.print(f"[bold]{shown(doc['system'])}[/bold] at {doc['rate_rps']:,.1f} rps, "
                  f"{_slos(doc)}")
    table = Table(title="Candidates (cheapest first)", title_justify="left")
    for path in (a["path"] for a in doc["axes"]):
        table.add_column(path)
    for name in ("cost/h", "estimate", "simulated (95 % CI)", "reps", "verdict"):
        table.add_column(name, justify="right" if name in ("cost/h", "reps") else "left")
    for c in doc["candidates"]:
        simulated = c.get("simulated")
        evidence = "—" if simulated is None else _evidence(simulated)
        reps = "" if simulated is None else str(simulated["replications"])
        verdict = _verdict_cell(c, doc.get("overloaded", []))
        chosen = doc["plan"] is not None and c["values"] == doc["plan"]["values"]
        table.add_row(*map(Text, c["values"].values()), _cost_cell(c),
                      Text(_estimate_cell(c)), Text(evidence), reps,
                      Text(f"{verdict} ◀ plan", style="bold green") if chosen
                      else Text(verdict))
    console.print(table)
    _print_verdict(doc, console)


def _print_verdict(doc: dict[str, Any], console: Console) -> None:
    """The plan, or why there is none: nothing met, or the budget ran out first."""
    untried = "; ".join(_assigned(values) for values in doc.get("untried", []))
    if doc["plan"] is None and doc.get("unreached_ceilings"):
        _print_unreached(doc, untried, console)
    elif doc["plan"] is None and untried:
        console.print("[red]No plan: the budget ran out[/red] "
                      f"({doc['simulated_candidates']} simulated) before these configurations, "
                      f"which the estimate says meet the SLO, were simulated: {shown(untried)}. "
                      "Raise --budget or narrow --vary.")
    elif doc["plan"] is None and doc.get("reach") is not None:
        _print_reach(doc, console)
    elif doc["plan"] is None and doc.get("capacity_floor"):
        _print_floor(doc, console)
    elif doc["plan"] is None:
        behind = sorted({name for c in doc["candidates"]
                         for name in (c.get("simulated") or {}).get("behind", [])})
        why = f" ({', '.join(behind)} fell behind: vary what drains it, such as its " \
            "consumers' concurrency or replicas, or pass --allow-backlog)" if behind else ""
        console.print(f"[red]No configuration in the grid met the SLO{why}.[/red] Widen the "
                      "ranges (--vary) or relax the SLO; `scalesim estimate` shows the "
                      "bottleneck.")
    else:
        chosen = _assigned(doc["plan"]["values"])
        console.print(f"Plan: [bold]{shown(chosen)}[/bold], "
                      f"{amount(doc['plan']['cost_per_hour'])} per hour{_run_cost(doc['plan'])} "
                      f"({counted(doc['analytic_evaluations'], 'estimate')}, "
                      f"{doc['simulated_candidates']} simulated).")
        _warn_plan(doc, untried, console)


def _print_unreached(doc: dict[str, Any], untried: str, console: Console) -> None:
    """No plan, and an autoscaler's max the search stopped raising: its autoscaler never
    asked for that many, so a higher max runs the same; what limits the fleet is how fast
    the autoscaler reacts, and the run's diagnosis says what to change."""
    console.print("[red]No configuration simulated met the SLO,[/red] and raising an "
                  "autoscaler's max further changes nothing:")
    for entry in doc["unreached_ceilings"]:
        console.print(f"  {shown(_unreached_line(doc, entry))}", highlight=False)
    if untried:
        console.print(f"The budget ran out ({doc['simulated_candidates']} simulated) before "
                      "these configurations, which the estimate says meet the SLO, were "
                      f"simulated: {shown(untried)}.")


def _unreached_line(doc: dict[str, Any], entry: dict[str, Any]) -> str:
    """One max never asked for: the run it repeats, what limits the fleet, what to try."""
    path, name, values = entry["path"], entry["component"], entry["values"]
    others = _assigned({p: v for p, v in values.items() if p != path})
    simulated = next(c for c in doc["candidates"] if c["values"] == values)["simulated"]
    missed = f" ({_misses(simulated['missed'])})" if simulated["missed"] else ""
    line = (f"{path}: at {values[path]}{f', with {others}' if others else ''}, its autoscaler "
            f"asked for at most {counted(entry['peak_replicas'], 'replica')} in any "
            f"replication, so a higher max runs the same and misses the same{missed}. What "
            f"limits {name} is how fast its autoscaler adds replicas as the load comes (from "
            "autoscale.min, a sync at a time, each new replica serving once started), not its "
            "max. ")
    fix = entry["fix"]
    if fix is None:
        return line + f"Try a higher components.{name}.autoscale.min."
    return line + f"The run's diagnosis: {fix['summary']}. Try --set {' --set '.join(fix['set'])}."


def _print_floor(doc: dict[str, Any], console: Console) -> None:
    """Targets no capacity meets (`capacity_floor`): a latency the work's own time sets, an
    error rate made of failures that do not come from waiting, named by their cause."""
    top = ", ".join(f"{a['path']}={a['values'][-1]}" for a in doc["axes"])
    floor = doc["capacity_floor"]
    console.print("[red]No capacity meets the SLO:[/red] even at the top of every range "
                  f"({shown(top)}) the estimate misses {_misses(floor)}, and the last step "
                  f"up each range moved that by less than {STUCK_SHARE:.0%} of the miss.")
    if any(m["name"] != "error_rate" for m in floor):
        console.print("The work itself takes that long (its own time, with nothing left "
                      "waiting), so more capacity cannot meet this target. Relax the SLO or "
                      "make the work faster; `scalesim estimate` shows where the time goes.")
    if any(m["name"] == "error_rate" for m in floor):
        console.print(shown(_error_cause(doc)), highlight=False)


# What a failure's cause asks of the design, where more capacity does not lift it ({where}:
# the components that refused by it).
CAUSE_ADVICE = {
    "rate_limited": "a rate_limit lets through the same rate whatever the capacity: raise "
                    "{limits} or relax the error_rate target",
    "error": "the operations' own error_rate, which no capacity lowers: make them fail less "
             "or relax the error_rate target",
}


def _error_cause(doc: dict[str, Any]) -> str:
    """What the failures of the simulated candidate with the most capacity that missed its
    error rate were, by cause, and what to change; the estimate's word without one."""
    missed = [c for c in doc["candidates"] if any(
        m["name"] == "error_rate" for m in (c.get("simulated") or {}).get("missed", []))]
    if not missed:
        return ("These errors do not come from waiting; `scalesim estimate` shows which "
                "component refuses or fails them.")
    simulated = missed[-1]["simulated"]  # candidates are cheapest first
    causes = simulated.get("failed_by_cause") or {}
    total = sum(causes.values())
    shares = ", ".join(f"{name} {count / total:.0%}" for name, count in causes.items())
    cause = next(iter(causes), "")
    where = [name for name, refused in simulated.get("refused_by_cause", {}).items()
             if cause in refused]
    limits = " or ".join(f"components.{name}.rate_limit" for name in where) or "the rate_limit"
    advice = CAUSE_ADVICE.get(cause, "see `scalesim simulate`'s failed_by_cause for where")
    at = f", refused at {', '.join(where)}" if where else ""
    return (f"The failures do not come from waiting: simulated at "
            f"{_assigned(missed[-1]['values'])}, the failed requests were {shares}{at}: "
            f"{advice.format(limits=limits)}.")


def _cost_cell(c: dict[str, Any]) -> str:
    """The cost per hour at the replicas the spec starts with, and what a run with
    autoscaling used: '0.2 (run 1.35)'."""
    run = c.get("run_cost_per_hour")
    return amount(c['cost_per_hour']) + ("" if run is None else f" (run {amount(run)})")


def _run_cost(plan: dict[str, Any]) -> str:
    """For a plan with autoscaled components: that its cost is at the starting replicas,
    and what the run used (the replicas the HPA kept, on average)."""
    run = plan.get("run_cost_per_hour")
    if run is None:
        return ""
    used = ", ".join(f"{name} {amount(count)}" for name, count in
                     plan["simulated"]["replicas_used"].items())
    return (f" at the starting replicas; with its autoscaling the run used {amount(run)} per "
            f"hour (mean replicas: {used})")


def _assigned(values: dict[str, str]) -> str:
    """Values as overrides: 'components.web.replicas=12, components.db.workers=8'."""
    return ", ".join(f"{path}={value}" for path, value in values.items())


def _print_reach(doc: dict[str, Any], console: Console) -> None:
    """Every configuration past saturation in the estimate: none simulated, and how far
    past its range each axis of counts must go (`Planner.reach`)."""
    values = {a["path"]: a["values"][-1] for a in doc["axes"]}
    top = next(c for c in doc["candidates"] if c["values"] == values)
    console.print("[red]No configuration in the grid can serve this load:[/red] the estimate "
                  "has its most capacity past saturation, where a queue grows without bound "
                  f"(every range at its top, {shown(_assigned(values))}: "
                  f"{shown(_loads(top['analytic_offered']))}), and so every configuration, "
                  "the varied fields being capacity knobs; none was simulated.")
    if len(doc["reach"]) > 1:
        console.print("Each axis alone, the others at the top of their ranges:")
    for reach in doc["reach"]:
        console.print(f"  {shown(_reach_line(reach))}", highlight=False)
    if top["analytic_behind"]:
        console.print(f"No request waits for {shown(', '.join(top['analytic_behind']))}: "
                      "vary what drains the queue, such as its consumers' concurrency or "
                      "replicas, or pass --allow-backlog to let its backlog grow.")
    if not doc["reach"]:
        console.print("Widen the ranges (--vary) of what is past saturation; `scalesim "
                      "estimate` shows the bottleneck.")


def _reach_line(reach: dict[str, Any]) -> str:
    """One axis past its range: where the estimate has ρ < 1 and meets the SLO."""
    path, largest = reach["path"], reach["largest"]
    if not reach["relieves"]:
        return (f"{path}: relieves none of it ({_loads(reach['offered'])} at {largest:,} as "
                "well).")
    if reach["relieved"] is None:
        return (f"{path}: still past saturation at {largest:,}, the largest the spec takes "
                f"({_loads(reach['offered'])}): more of it alone cannot serve this load.")
    relieved = f"{path}: the estimate has ρ < 1 from {reach['relieved']:,}"
    if reach["meets"] is None:
        return (f"{relieved} but meets the SLO at no value up to {largest:,}: relax the SLO "
                "or make the work faster.")
    return f"{relieved} and meets the SLO from {reach['meets']:,}: try --vary {reach['vary']}."


def _warn_plan(doc: dict[str, Any], untried: str, console: Console) -> None:
    """What the plan leaves open: a queue it lets fall behind, cheaper points never tried."""
    behind = (doc["plan"].get("simulated") or {}).get("behind", [])
    if behind:
        console.print(f"[bold red]Warning:[/bold red] the backlog of {', '.join(behind)} grows "
                      "without bound in this plan (allowed by --allow-backlog).")
    if untried:
        console.print(f"[yellow]The budget ran out before cheaper configurations the estimate "
                      f"says meet were simulated:[/yellow] {shown(untried)}.")


def capacity_floor(planner: Planner) -> list[dict[str, Any]]:
    """The targets more capacity cannot meet (`target_miss` each): the estimate misses them
    at the top of every range, not past saturation there, and one step down any axis it is
    no more than STUCK_SHARE of the miss worse (what is left is the work's own time, not
    waiting). Empty when the top meets, or no axis has a step to compare with."""
    top = planner.top
    below = [(*top[:i], top[i] - 1, *top[i + 1:]) for i in range(len(top)) if top[i] > 0]
    here = planner.candidate(top)
    if planner.analytic(here) or here.overloaded or not below:
        return []
    steps = [planner.candidate(config) for config in below]
    for step in steps:
        planner.analytic(step)
    stuck = []
    for label in here.analytic_missed:
        target, value = planner.targets[label], here.analytic[label]
        if all(step.analytic.get(label, math.inf) - value <= STUCK_SHARE * (value - target.bound)
               for step in steps):
            stuck.append(target_miss(target, value))
    return stuck


def announce(planner: Planner, load: Loader, replications: int, most: int, workers: int,
             force: bool) -> None:
    """Say what the plan will simulate first and what it costs, or refuse it (exit 3) when
    that alone is over the run budget."""
    opening = planner.opening()
    if not opening:  # all of it past saturation in the estimate: nothing to run
        return
    systems = [load([*(f"{p}={v}" for p, v in c.values.items()),
                     f"simulation.replications={replications}"]) for c in opening]
    cost = batch_cost(systems, workers)
    what = f"simulating the first {len(opening)} candidate(s) × {replications} replications"
    if not force:
        refuse_over_budget(what, cost, "Use a shorter simulation.duration, fewer --replications "
                           "or a narrower --vary")
    err.print(f"[dim]{what}: {cost.describe()} (up to {planner.budget} candidates × {most} "
              "replications where the confidence intervals need them)[/dim]", highlight=False)


def plan_command(
    file: SpecFile,
    rate: Annotated[str, typer.Option("--rate", help="The total load to plan for, e.g. "
                                      "5k/s (every open workload scaled to add up to it).",
                                      show_default=False)],
    vary: Vary,
    slo: SloText = None,
    overrides: Overrides = None,
    costs: Costs = None,
    replications: Annotated[int, typer.Option(
        "--replications", "-r", min=2, help="Replications a candidate starts with; more are "
        "added until the 95 % CIs decide.")] = 5,
    max_replications: MaxReplications = 40,
    budget: Annotated[int, typer.Option("--budget", min=1, help="Candidates simulated at "
                                        "most.")] = 16,
    seed: Annotated[int | None, seed_option("Override simulation.seed.")] = None,
    jobs: Jobs = None,
    dask: Dask = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    force: Force = False,
    allow_backlog: Annotated[bool, typer.Option(
        "--allow-backlog", help="Let a configuration whose queue subscription falls behind "
        "(its backlog grows) meet the SLO; it is flagged in the output instead of a miss.")
    ] = False,
) -> None:
    """Find the cheapest configuration of the varied fields (replicas, workers…) that meets
    the SLO at the given load: estimated first, confirmed by simulation."""
    if max_replications < replications:  # it would be silently raised to -r
        raise typer.BadParameter(
            f"{max_replications} is below --replications {replications}, which every candidate "
            "starts with: give at least as many, or fewer --replications",
            param_hint="--max-replications")
    target = None if slo is None else parse_slo(slo)
    try:
        total = parse_rate(rate)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--rate") from None
    if total <= 0.0:
        raise typer.BadParameter(f"{rate!r}: the load to plan for must be above 0",
                                 param_hint="--rate")
    axes = capacity_ordered(parse_axes(vary, overrides or []))
    system = load_or_exit(file, overrides)
    try:
        scaled = rate_overrides(system, total)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--rate") from None
    try:
        capacity_knobs(axes, [text.partition("=")[0] for text in scaled], rate)
        autoscaled_replicas(system, axes)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--vary") from None
    prices = _prices(costs or [], [*system.components, *(axis.path for axis in axes)])
    spec = _spec_loader(file, overrides or [], scaled)
    load = _loader(spec)
    try:
        plan_scopes(load([]), target)  # valid at the planned load, with an SLO to meet
    except ValueError as error:  # no --slo, and none in the spec: the spec is named
        typer.echo(f"error: {printable(f'{file}: {error}')}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    chosen_seed = system.simulation.seed if seed is None else seed
    most = max_replications
    simulated = 0

    def progress(candidate: Candidate) -> None:
        nonlocal simulated
        values = _assigned(candidate.values)
        verdict = candidate.verdict
        if verdict is None:
            simulated += 1
            err.print(f"[dim]simulating candidate {simulated} (of at most {budget}): "
                      f"{values}[/dim]", highlight=False)
        else:
            missed = f" ({', '.join(verdict.missed)})" if verdict.missed else ""
            outcome = verdict.stopped or ("met" if verdict.met else "missed") + (
                "" if verdict.decided else " (marginal)") + missed + "".join(
                f"; {name} falls behind" for name in verdict.behind)
            err.print(f"[dim]  {values}: {outcome} after {verdict.replications} "
                      "replication(s)[/dim]", highlight=False)

    try:
        with executing(jobs, dask) as executor:
            planner = Planner(load, axes, target, prices, chosen_seed, executor,
                              replications, most, budget, progress, allow_backlog,
                              quiet(spec))
            announce(planner, load, replications, most, min(executor.workers, replications),
                     force)
            found = planner.run()
    except ClusterError as error:
        err.print(f"[red]error[/red]: {shown(error)}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    floor = [] if found.best is not None else capacity_floor(planner)
    reach = None if found.best is not None else planner.reach()
    doc = plan_document(found, axes, total, planner.scopes, system.name, floor, reach)
    if as_json:
        sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    else:
        print_plan(doc, stdout_console())
    if found.best is None:
        raise typer.Exit(1)
