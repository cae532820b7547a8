"""Reading a spec sent to the API: size limit, located errors, lint findings, and what a run
of it would cost. The same loader, linter and run budget as the command line (scalesim.spec,
scalesim.lint, scalesim.budget)."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from fastapi import HTTPException

from scalesim.budget import BUDGET_S, Estimate, Over, estimate, human, less_load
from scalesim.lint import lint_system
from scalesim.spec import SpecError, SpecIssue, System, load_spec_text
from scalesim.spec.bounds import MAX_SERIES_POINTS as SPEC_MAX_SERIES_POINTS
from scalesim.spec.checks import SeriesSize, series_size
from scalesim.spec.errors import Path
from scalesim.spec.loader import load_spec_placed
from scalesim.spec.text import unicode_problem
from scalesim.spec.yamlpos import Position
from scalesim.studio.config import BYTES_PER_POINT, MAX_SERIES_POINTS, MAX_SPEC_BYTES

SPEC_NAME = "spec.yaml"
FORCE = 'run it anyway with "force": true'
"""How a refusal says to override the budget (the command line's says --force)."""
OVER_BUDGET = ("over-budget", "a run estimated past the budget `scalesim simulate` keeps "
               "would hold a worker for long (or hit a limit and stop with nothing to show)")
OVER_TIME_LIMIT = ("over-time-limit", "the studio stops a run at its wall-clock limit "
                   "(scalesim studio --time-limit), and a stopped run keeps no result")
"""The finding of a run POST /api/runs would refuse (its name, and why it matters)."""


class SpecRejected(HTTPException):
    """400 with every located problem of a spec."""

    def __init__(self, issues: list[SpecIssue]) -> None:
        self.issues = [issue_json(issue) for issue in issues]
        super().__init__(400, f"the spec has {len(issues)} error(s); the first: "
                              f"line {issues[0].line}: {issues[0].path or 'spec'}: "
                              f"{issues[0].message}" if issues else "the spec is not valid")


def issue_json(issue: SpecIssue) -> dict[str, Any]:
    return {"line": issue.line, "column": issue.column, "path": issue.path,
            "message": issue.message}


class RunRefused(HTTPException):
    """422: a valid spec whose run the studio will not start, with the estimate, and whether
    "force" would start it (over the budget or past the wall-clock limit) or not (a result
    too large to keep)."""

    def __init__(self, message: str, cost: dict[str, Any], can_force: bool) -> None:
        super().__init__(422, f"refused: {message}")
        self.cost, self.can_force = cost, can_force


def check_size(text: str) -> None:
    problem = unicode_problem(text)
    if problem is not None:
        raise HTTPException(400, f"spec: {problem}")
    size = len(text.encode("utf-8"))
    if size > MAX_SPEC_BYTES:
        raise HTTPException(413, f"the spec is {size:,} bytes; the studio accepts specs of at "
                                 f"most {MAX_SPEC_BYTES:,} bytes")


def load(text: str) -> System:
    """The validated System, or SpecRejected (400) naming every problem, or 413."""
    check_size(text)
    try:
        return load_spec_text(text, SPEC_NAME)
    except SpecError as error:
        raise SpecRejected(error.issues) from None


def validate(text: str, time_limit_s: float) -> dict[str, Any]:
    """Errors (line, column, path, message) and, for a valid spec, lint findings placed at
    their lines, each with the catalog patterns that fix it, and a warning for each reason a
    run of it would be refused or stopped at the studio's wall-clock limit `time_limit_s`."""
    check_size(text)
    try:
        system, positions = load_spec_placed(text, SPEC_NAME)
    except SpecError as error:
        return {"valid": False, "errors": [issue_json(i) for i in error.issues], "findings": []}
    findings = [f.to_json() for f in lint_system(system, positions, SPEC_NAME)]
    found, size = estimate(system), series_size(system)
    findings += _cost_findings(system, found, size, positions, time_limit_s)
    findings += _run_length_findings(system, positions)
    return {"valid": True, "errors": [], "findings": findings,
            "cost": cost_json(found, size, time_limit_s)}


def too_large(size: SeriesSize) -> str | None:
    """Why the studio will not keep a run's result of this size (counted as the spec's own
    bound counts it); None when it will."""
    if size.points <= MAX_SERIES_POINTS:
        return None
    return (f"this run's time series would have {size.intervals:,} intervals × "
            f"{size.series:,} series = {size.points:,} points, about "
            f"{size.points * BYTES_PER_POINT / 1e6:,.0f} MB of result; the studio keeps at "
            f"most {MAX_SERIES_POINTS:,} points a run. Raise simulation.interval to at "
            f"least {size.interval_to_fit(MAX_SERIES_POINTS)} or shorten "
            f"simulation.duration (`scalesim simulate --out` keeps up to "
            f"{SPEC_MAX_SERIES_POINTS:,})")


def past_time_limit(system: System, found: Estimate, time_limit_s: float) -> Over | None:
    """Why a run would be stopped at the studio's wall-clock limit, and the longest
    simulation.duration (two significant digits) estimated within it; None when it is
    estimated within the limit, or its work has no bound (the budget's refusal says how to
    end it)."""
    if not math.isfinite(found.wall_s) or found.wall_s <= time_limit_s:
        return None
    sim = system.simulation
    duration = _rounded_down((sim.warmup + sim.duration) * time_limit_s / found.wall_s
                             - sim.warmup)
    for _ in range(8):  # the estimate is close to proportional to the simulated time
        if duration <= 0 or _wall_at(system, duration) <= time_limit_s:
            break
        duration = _rounded_down(duration * 0.9)
    else:
        duration = 0.0
    shorter = (f"shorten simulation.duration to {duration:g}s or less"
               if duration > 0 else f"shorten simulation.warmup or {less_load(system)}")
    about = human(found.wall_s)
    if not about.endswith(" s"):  # '7 min (410 s)', but '6 s' once
        about += f" ({found.wall_s:,.0f} s)"
    return Over("the studio's wall-clock limit",
                f"about {about}, past the studio's wall-clock limit of {time_limit_s:,.0f} s, "
                "where the run would be stopped with no result", shorter)


def refusing(system: System, found: Estimate, time_limit_s: float) -> Estimate:
    """The estimate with every reason the studio refuses the run up front: the budget's, and
    its own wall-clock limit's, so that a run over both names both and what moves each."""
    past = past_time_limit(system, found, time_limit_s)
    return found if past is None else replace(found, reasons=(*found.reasons, past))


def _rounded_down(value: float) -> float:
    """`value` rounded down to two significant digits (1463.2 → 1400, 87.9 → 87)."""
    if value <= 0:
        return 0.0
    unit = 10.0 ** (math.floor(math.log10(value)) - 1)
    return math.floor(value / unit) * unit


def _wall_at(system: System, duration: float) -> float:
    sim = system.simulation.model_copy(update={"duration": duration})
    return estimate(system.model_copy(update={"simulation": sim})).wall_s


def check_run(system: System, force: bool, time_limit_s: float) -> None:
    """RunRefused (422) for a run over the command line's budget or estimated past the
    studio's wall-clock limit `time_limit_s`, naming each (unless `force`, as with
    `scalesim simulate --force`), or whose result the studio would not keep (always; with
    the other reasons too, so that fixing the size does not meet a second refusal)."""
    found, size = estimate(system), series_size(system)
    cost = cost_json(found, size, time_limit_s)
    refused = refusing(system, found, time_limit_s)
    too_large_why = too_large(size)
    if too_large_why is not None:
        also = f". Even with a result the studio keeps, {refused.refusal(FORCE)}" \
            if refused.over and not force else ""
        raise RunRefused(too_large_why + also, cost, can_force=False)
    if force:
        return
    if refused.over:
        raise RunRefused(refused.refusal(FORCE), cost, can_force=True)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def cost_json(found: Estimate, size: SeriesSize, time_limit_s: float) -> dict[str, Any]:
    return {"events": _finite(found.cost.events), "requests": _finite(found.cost.requests),
            "wall_s": _finite(found.wall_s), "events_per_s": found.events_per_s,
            "budget_s": BUDGET_S, "over_budget": found.over, "time_limit_s": time_limit_s,
            "over_time_limit": found.wall_s > time_limit_s, "intervals": size.intervals,
            "series": size.series, "series_points": size.points,
            "max_series_points": MAX_SERIES_POINTS}


def _cost_findings(system: System, found: Estimate, size: SeriesSize,
                   positions: dict[Path, Position], time_limit_s: float
                   ) -> list[dict[str, Any]]:
    """A warning for each reason POST /api/runs would refuse the run, at simulation.*."""
    out = []
    too_large_why = too_large(size)
    if too_large_why is not None:
        out.append(_finding("result-too-large", ("simulation", "interval"), positions,
                            f"a run would be refused: {too_large_why}",
                            "the studio stores and sends a run's result whole, time series "
                            "included, so it keeps results of a bounded size"))
    refused = refusing(system, found, time_limit_s)
    if refused.over:  # one finding, as one refusal: named after the budget when it is over
        name, why = OVER_BUDGET if found.over else OVER_TIME_LIMIT
        out.append(_finding(name, ("simulation", "duration"), positions,
                            f"a run would be refused: {refused.refusal(FORCE)}", why))
    return out


def _run_length_findings(system: System, positions: dict[Path, Position]
                         ) -> list[dict[str, Any]]:
    """The warning `scalesim simulate` prints before a run too short for a busy queue
    (analytic/precision.py), at simulation.duration."""
    from scalesim.analytic.estimate import Model
    from scalesim.analytic.overload import POINTS
    from scalesim.analytic.precision import WARN_ABOVE, short_run

    sim = system.simulation
    short = short_run(Model(system, POINTS).evaluate(), sim.duration * sim.replications,
                      WARN_ABOVE)
    if short is None:
        return []
    return [_finding("too-short", ("simulation", "duration"), positions,
                     short.advice(sim, "simulation.replications: {n}"),
                     "near saturation a queue wanders in long excursions, so a short run's "
                     "mean depends on which ones it caught; runs of the same spec disagree")]


def _finding(name: str, path: Path, positions: dict[Path, Position], message: str,
             why: str) -> dict[str, Any]:
    line, column = 0, 0
    for cut in range(len(path), -1, -1):
        if path[:cut] in positions:
            line, column = positions[path[:cut]]
            break
    return {"rule": "RUN", "name": name, "severity": "warning", "file": SPEC_NAME,
            "line": line, "column": column, "path": ".".join(str(p) for p in path),
            "message": message, "why": why, "fixes": [], "see": None}
