"""Rollouts whose analysis judged the new version bad: one that aborted (the stable version
took the traffic back), and one whose `failure_limit` let it go on though most of its
measurements failed. An abort is the rollout working, but it is the run's news: the new
version does not do what it should. A rollout that goes on is the analysis not working: the
bad version keeps serving, at a growing weight."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from scalesim.diagnosis.components import reaches
from scalesim.diagnosis.context import Run
from scalesim.diagnosis.finding import Finding, Fix, count, share
from scalesim.spec.control import Analysis
from scalesim.spec.errors import Path


def rollouts(run: Run) -> Iterator[Finding]:
    for rollout in run.result.get("rollouts", []):
        if rollout["outcome"] == "aborted":
            yield _aborted(run, rollout)
            continue
        found = _let_through(run, rollout)
        if found is not None:
            yield found


def _aborted(run: Run, rollout: dict[str, Any]) -> Finding:
    name, version = rollout["component"], rollout["to"]
    served = run.result["components"][name].get("versions", {})
    evidence = [f"the rollout started at {rollout['started_s']:g} s and was aborted at "
                f"{rollout['ended_s']:g} s: {rollout['reason']}"]
    evidence += _compared(served, version)
    new = rollout.get("new_version") or {}
    return Finding(
        "rollout", "problem", name,
        f"{name}'s {_strategy(rollout)} to {version} was aborted at "
        f"{rollout['ended_s']:g} s: {version} failed its analysis and the traffic went "
        "back to the stable version",
        None, tuple(evidence),
        Fix(f"fix {version} before rolling it out again: the abort kept its failures to "
            f"the share of traffic it had ({_share_of(new)}); nothing in the rollout "
            "settings needs changing"),
        {"ended_s": rollout["ended_s"], **_error_rate(new)})


@dataclass(frozen=True)
class Failing:
    """An analysis run of a rollout that went on though most measurements of a metric
    failed: where its settings sit, the metric, its failed and judged measurements, and the
    failure_limit that would have aborted the rollout (`_limit_to_abort`)."""

    path: Path
    analysis: Analysis
    label: str
    metric: str
    failed: list[dict[str, Any]]
    judged: int
    limit: int
    by_s: float  # when the proposed limit would have aborted it
    before: str  # what that abort came before, as text


def _let_through(run: Run, rollout: dict[str, Any]) -> Finding | None:
    """A rollout that was not aborted though most measurements of a metric of its analysis
    failed: the failure_limit let the new version serve on. None when none did (a failure
    now and then is what a failure_limit above 0 is for)."""
    failing = _failing(run, rollout)
    if failing is None:
        return None
    name, version = rollout["component"], rollout["to"]
    served = run.result["components"][name].get("versions", {})
    new = rollout.get("new_version") or {}
    now = failing.analysis.failure_limit
    shown = "−1 (never)" if now < 0 else str(now)
    status = f"was promoted at {rollout['ended_s']:g} s" if rollout["outcome"] == "promoted" \
        else f"was still in progress at the end of the window, at {rollout['final_weight']} %"
    values = [m["value"] for m in failing.failed]
    evidence = [
        f"its {failing.label} analysis failed {len(failing.failed)} of its {failing.judged} "
        f"measurements of {failing.metric} ({_value(failing.metric, min(values))} to "
        f"{_value(failing.metric, max(values))}, against a max of "
        f"{_threshold(failing.analysis, failing.metric)}), from "
        f"{failing.failed[0]['t_s']:g} s: with failure_limit {shown} an analysis fails only "
        "once its failures are more than the limit",
        f"the rollout started at {rollout['started_s']:g} s and {status}",
        *_compared(served, version)]
    return Finding(
        "rollout", "problem", name,
        f"{name}'s {_strategy(rollout)} to {version} went on though its analysis failed "
        f"{len(failing.failed)} of {failing.judged} measurements of {failing.metric}: "
        f"failure_limit {shown} let {version} serve ({_share_of(new)})",
        "failure_limit", tuple(evidence),
        Fix(f"lower the failure_limit of {name}'s {failing.label} analysis from {shown} to "
            f"{failing.limit}: its failure number {failing.limit + 1} of {failing.metric} "
            f"({failing.by_s:g} s) would have aborted the rollout {failing.before}, and the "
            f"stable version would have taken the traffic back; then fix {version}",
            (f"{'.'.join(str(p) for p in failing.path)}.failure_limit={failing.limit}",)),
        {"analysis_failures": len(failing.failed), "analysis_measurements": failing.judged,
         "failure_limit": now, "proposed_failure_limit": failing.limit, **_error_rate(new)})


def _failing(run: Run, rollout: dict[str, Any]) -> Failing | None:
    """The first analysis run and metric of `rollout` whose measurements with a result
    mostly failed, with the limit that would have aborted it; None when none did."""
    spec = run.system.components[rollout["component"]].rollout
    for label in dict.fromkeys(m["run"] for m in rollout.get("analysis", [])):
        found = _analysis_of(spec, label)
        if found is None:
            continue
        path, analysis = found
        mine = [m for m in rollout["analysis"] if m["run"] == label]
        for metric in dict.fromkeys(m["metric"] for m in mine):
            judged = [m for m in mine if m["metric"] == metric and m["value"] is not None]
            failed = [m for m in judged if m["phase"] == "failed"]
            if 2 * len(failed) <= len(judged):
                continue
            limit, by_s, before = _limit_to_abort(rollout["steps"], mine, failed[0]["t_s"])
            return Failing(("components", rollout["component"], *path), analysis, label,
                           metric, failed, len(judged), limit, by_s, before)
    return None


def _limit_to_abort(steps: list[dict[str, Any]], measured: list[dict[str, Any]],
                    first_s: float) -> tuple[int, float, str]:
    """The largest failure_limit with which the analysis (its `measured` measurements, all
    metrics) would have failed before the new version's weight rose past what it was at its
    first failure (`first_s`), or within the window when it never rose: one less than the
    most failures a metric had by then. That limit, when it would have aborted, and what
    that came before (text)."""
    weight = next((s["weight"] for s in reversed(steps) if s["t_s"] <= first_s), 0)
    rise = next((s for s in steps if s["t_s"] > first_s and s["weight"] > weight), None)
    until = math.inf if rise is None else rise["t_s"]
    failures: dict[str, list[float]] = {}
    for m in measured:
        if m["phase"] == "failed" and m["t_s"] < until:
            failures.setdefault(m["metric"], []).append(m["t_s"])
    most = max(failures.values(), key=len)
    before = "within the window" if rise is None else \
        (f"before its weight rose from {weight} % to {rise['weight']} % at "
         f"{rise['t_s']:g} s")
    return len(most) - 1, most[-1], before


def _analysis_of(spec: Any, label: str) -> tuple[Path, Analysis] | None:
    """Where the analysis run `label` ('background', 'step N', 'pre-promotion',
    'post-promotion') sits in the rollout's spec, and its settings."""
    if label.startswith("step "):
        index = int(label.split()[1])
        step = spec.steps[index].analysis
        return None if step is None else (("rollout", "steps", index, "analysis"), step)
    field = {"background": "analysis", "pre-promotion": "pre_promotion_analysis",
             "post-promotion": "post_promotion_analysis"}.get(label)
    analysis = None if field is None else getattr(spec, field)
    if field is None or not isinstance(analysis, Analysis):
        return None
    return ("rollout", field), analysis


def rollout_fix(run: Run, workload: str, failed: int, evidence: list[str]) -> Fix | None:
    """For a workload whose failures are mostly visits to a rolled-out new version (half of
    them or more, and the workload reaches its component): the rollout finding's fix (made
    before, in `run.found`), and `evidence` says so."""
    entry = next(".".join(run.system.resolve(w.to)) for w in run.system.workloads
                 if w.name == workload)
    for finding in run.found:
        rollout = next((r for r in run.result.get("rollouts", [])
                        if r["component"] == finding.subject), None)
        if finding.kind != "rollout" or rollout is None or finding.fix is None \
                or not reaches(run, entry, finding.subject):
            continue
        new = rollout.get("new_version") or {}
        if 2 * new.get("failed", 0) >= failed:
            evidence.append(f"{count(new['failed'])} visits to {rollout['to']}, "
                            f"{finding.subject}'s new version, failed: see its rollout "
                            "finding")
            return finding.fix
    return None


def _value(metric: str, value: float) -> str:
    return share(value) if metric == "error_rate" else f"{value:.3g} ms"


def _threshold(analysis: Analysis, metric: str) -> str:
    check = getattr(analysis, metric)
    return share(check.max) if metric == "error_rate" else f"{check.max * 1e3:.3g} ms"


def _strategy(rollout: dict[str, Any]) -> str:
    return str(rollout["strategy"]).replace("_", "-")


def _error_rate(new: dict[str, Any]) -> dict[str, float | None]:
    return {"new_version_error_rate": new["failed"] / new["requests"]} \
        if new.get("requests") else {}


def _compared(served: dict[str, Any], version: str) -> list[str]:
    """The new version's error rate and p99 beside the stable version's, as served."""
    new, base = served.get(version), served.get("base")
    if new is None or base is None or not new.get("requests"):
        return []
    return [f"{version} failed {share(new['error_rate'] or 0.0)} of its "
            f"{count(new['requests'])} requests, the stable version "
            f"{share(base['error_rate'] or 0.0)}; p99 {version} "
            f"{new['latency_ms'].get('p99') or 0:.3g} ms, stable "
            f"{base['latency_ms'].get('p99') or 0:.3g} ms"]


def _share_of(new: dict[str, Any]) -> str:
    requests = new.get("requests") or 0
    return f"{count(new.get('failed', 0))} failed of {count(requests)} requests" \
        if requests else "no requests reached it"
