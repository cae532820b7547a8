"""A fault one hop (or more) beyond the calls that failed: the callee has no fault of its
own, but it waits on a component a fault slowed, so its workers are all held by those
waits and the calls to it time out in its queue. The failed calls' own callee is healthy
and its tail is the fault's, not hangs of its own; the cause to name is the fault, and
the saturation it spread."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scalesim.diagnosis.components import held_by_calls
from scalesim.diagnosis.context import (
    BACKLOG_S,
    MIN_BACKLOG,
    Run,
    fault_overlap_s,
    fault_text,
    stretched_hold_s,
)
from scalesim.diagnosis.finding import amount, count, duration, rate
from scalesim.spec.checks import reached, sync_edges
from scalesim.spec.model import Fault


@dataclass(frozen=True)
class DeeperFault:
    """Faults on `faulty`, which `callee` waits on, that held `callee`'s workers: what
    `calls` (the failed calls to `callee`) met."""

    callee: str
    faulty: str
    faults: tuple[Fault, ...]
    calls: tuple[dict[str, Any], ...]
    texts: tuple[str, ...]

    @property
    def headline(self) -> str:
        return f": a fault on {self.faulty} held {self.callee}'s workers"


def slowing(fault: Fault) -> bool:
    """Whether a fault holds its callers' waits (a slowdown or a pause) rather than failing
    them at once."""
    return fault.latency is not None or fault.pause is not None


def waited_faults(run: Run, ref: str) -> list[tuple[str, list[Fault]]]:
    """The components 'comp.op' `ref` waits on, directly or through others (synchronous
    calls, cache misses), other than its own, with the slowing faults on them that struck
    in the window."""
    own = ref.split(".", 1)[0]
    names = sorted({r.split(".", 1)[0] for r in reached(sync_edges(run.system), [ref])} - {own})
    found = [(name, [f for f in run.faults_on(name) if slowing(f)
                     and fault_overlap_s(run, f) > 0.0]) for name in names]
    return [(name, faults) for name, faults in found if faults]


def deeper_fault(run: Run, calls: list[dict[str, Any]]) -> DeeperFault | None:
    """The fault behind `calls` (failed calls, most failed first) when none of their callees
    has a fault of its own and the first whose callee waits on a faulty component had its
    workers held by its calls (`held_by_calls`: a visit held one 1.5× a healthy one's time)
    and queued — its queue reached a second of its visits (at least MIN_BACKLOG); None
    otherwise."""
    if any(run.faults_on(c["to"].split(".", 1)[0]) for c in calls):
        return None
    for call in calls:
        callee = call["to"].split(".", 1)[0]
        measured = run.result["components"][callee]
        waited = waited_faults(run, call["to"])
        queued = measured["queue_max"] >= max(MIN_BACKLOG,
                                              measured["throughput_rps"] * BACKLOG_S)
        if not waited or not queued or not held_by_calls(run, callee):
            continue
        faulty, faults = waited[0]
        same = tuple(c for c in calls if c["to"].split(".", 1)[0] == callee)
        texts = [f"fault: {fault_text(f, run.end_s)}" for f in faults]
        texts += [_capacity_text(run, faulty, f) for f in faults if f.latency is not None]
        texts.append(_held_text(run, callee, faulty, same))
        return DeeperFault(callee, faulty, tuple(faults), same, tuple(texts))
    return None


def _capacity_text(run: Run, name: str, fault: Fault) -> str:
    """What the latency `fault` left component `name` able to serve, against the load sent
    to it (the spec's, analytic)."""
    component = run.system.components[name]
    hold, slowed = run.loads[name].hold_s, stretched_hold_s(run, name, fault)
    sent = run.loads[name].arrival_rate_rps
    workers = component.worker_limit
    took = f"under it a visit to {name} takes about {duration(slowed)}, not {duration(hold)}"
    if workers is None or slowed <= 0.0:
        return took
    most = component.replicas * workers / slowed
    verdict = "at its limit while the fault lasted" if most < sent else "with room"
    return (f"{took}: its {component.replicas} × {workers} workers serve at most {rate(most)} "
            f"of the {rate(sent)} sent to it, {verdict}")


def _held_text(run: Run, callee: str, faulty: str, calls: tuple[dict[str, Any], ...]) -> str:
    """How the waits on `faulty` filled `callee`'s workers and queue, where `calls` failed."""
    component = run.system.components[callee]
    measured = run.result["components"][callee]
    served = measured["throughput_rps"]
    held = measured["concurrency_mean"] / served if served else 0.0
    edges = ", ".join(f"{c['from']}→{c['to']}" for c in calls)
    workers = component.worker_limit
    every = f"its {component.replicas * workers} workers were all taken" \
        if workers is not None else "its workers were all taken"
    return (f"{callee} waits on {faulty}, and {every}: its queue reached "
            f"{count(measured['queue_max'])} ({amount(measured['queue_mean'])} on average over "
            f"the window), a visit holding a worker {duration(held)} on average, "
            f"{duration(run.loads[callee].hold_s)} when healthy; the attempts of {edges} "
            "waited in that queue")
