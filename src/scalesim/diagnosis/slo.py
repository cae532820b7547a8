"""Missed SLOs: which step of the request's path takes the time. From the entry operation,
follow the synchronous call whose callee is slowest at the missed percentile, as long as it
holds a good part of the target; the last step is where the time goes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scalesim.diagnosis.context import Run, fault_text
from scalesim.diagnosis.finding import Finding, Fix, duration
from scalesim.spec.demand import extra_s
from scalesim.spec.model import Call, ParallelStep, plain_steps

SHARE_OF_TARGET = 0.5  # a callee slower than this share of the target is on the slow path


def missed_slos(run: Run) -> Iterator[Finding]:
    result = run.result
    for check in result.get("slo", {}).get("checks", []):
        if check["met"] or check["name"] == "error_rate" or check["actual_ms"] is None:
            continue
        scope, name = check["scope"], check["name"]
        entry = _entry(run, scope, name)
        if entry is None:
            continue
        target = check["target_ms"]
        path = _slow_path(run, entry, name, target)
        steps = [f"{ref} {duration(ms / 1e3)}" for ref, ms in path]
        last, last_ms = path[-1]
        component, operation = last.split(".", 1)
        op = run.system.components[component].effective_operations[operation]
        own = op.demand.mean_s + extra_s(run.system, component, operation)
        evidence = [f"{name} along the slowest path: " + " → ".join(steps),
                    f"{last}'s own work takes {duration(own)} on average",
                    *(f"fault: {fault_text(f, run.end_s)}" for f in run.faults_on(component))]
        yield Finding(
            "slo", "problem", scope,
            f"{scope}: {name} {duration(check['actual_ms'] / 1e3)} misses the SLO of "
            f"{duration(target / 1e3)}; most of it is {last} ({duration(last_ms / 1e3)})",
            "downstream", tuple(evidence),
            Fix(f"shorten the wait on {last}: a timeout under the SLO with a fallback, a hedge "
                "after its typical latency, or a faster implementation; or agree a "
                f"{name} the path can keep"),
            {"actual_ms": check["actual_ms"], "target_ms": target, "slowest_ms": last_ms})


def _entry(run: Run, scope: str, name: str) -> str | None:
    """The entry operation of the workload in scope ('all': the slowest workload)."""
    workloads = {w.name: w for w in run.system.workloads}
    if scope not in workloads:
        measured = run.result["workloads"]
        scope = max(measured, key=lambda w: measured[w]["latency_ms"].get(name) or 0.0)
    return ".".join(run.system.resolve(workloads[scope].to)) if scope in workloads else None


def _percentile(run: Run, ref: str, name: str) -> float | None:
    component, operation = ref.split(".", 1)
    latency: dict[str, Any] = run.result["components"][component]["operations"][operation][
        "latency_ms"]
    return latency.get(name)


def _slow_path(run: Run, entry: str, name: str, target: float) -> list[tuple[str, float]]:
    system = run.system
    path = [(entry, _percentile(run, entry, name) or 0.0)]
    seen = {entry}
    while True:
        component, operation = path[-1][0].split(".", 1)
        calls: list[Call] = []
        for step in plain_steps(system.components[component].effective_operations[operation]
                                .calls):
            calls += step.parallel.calls if isinstance(step, ParallelStep) else [step]
        callees = [".".join(system.resolve(c.to)) for c in calls if not c.async_]
        timed = [(ref, _percentile(run, ref, name)) for ref in callees if ref not in seen]
        known = [(ref, ms) for ref, ms in timed if ms is not None]
        if not known:
            return path
        ref, ms = max(known, key=lambda item: item[1])
        if ms < SHARE_OF_TARGET * target:
            return path
        path.append((ref, ms))
        seen.add(ref)
