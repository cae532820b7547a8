"""A rollout that ended without promoting its new version: what it measured, and the version
as it served. An abort is the rollout working (the stable version took the traffic back),
but it is the run's news: the new version does not do what it should."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scalesim.diagnosis.context import Run
from scalesim.diagnosis.finding import Finding, Fix, count, share


def aborted_rollouts(run: Run) -> Iterator[Finding]:
    for rollout in run.result.get("rollouts", []):
        if rollout["outcome"] != "aborted":
            continue
        name, version = rollout["component"], rollout["to"]
        served = run.result["components"][name].get("versions", {})
        evidence = [f"the rollout started at {rollout['started_s']:g} s and was aborted at "
                    f"{rollout['ended_s']:g} s: {rollout['reason']}"]
        evidence += _compared(served, version)
        new = rollout.get("new_version") or {}
        numbers: dict[str, float | None] = {"ended_s": rollout["ended_s"]}
        if new.get("requests"):
            numbers["new_version_error_rate"] = new["failed"] / new["requests"]
        yield Finding(
            "rollout", "problem", name,
            f"{name}'s {rollout['strategy'].replace('_', '-')} to {version} was aborted at "
            f"{rollout['ended_s']:g} s: {version} failed its analysis and the traffic went "
            "back to the stable version",
            None, tuple(evidence),
            Fix(f"fix {version} before rolling it out again: the abort kept its failures to "
                f"the share of traffic it had ({_share_of(new)}); nothing in the rollout "
                "settings needs changing"),
            numbers)


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
