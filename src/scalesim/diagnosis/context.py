"""What every diagnosis check reads: the spec, the result, and a few derived numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import yaml

from scalesim.analytic.estimate import Estimate, estimate
from scalesim.analytic.load import ComponentLoad, offered_load
from scalesim.diagnosis.finding import Finding
from scalesim.spec.checks import iter_calls, sync_edges
from scalesim.spec.demand import extra_s
from scalesim.spec.errors import Path
from scalesim.spec.model import Balancer, Call, Fault, System
from scalesim.spec.overrides import changed
from scalesim.spec.resilience import Retry

# Utilization a fix aims for: enough headroom that queues stay short under random arrivals
# (an M/M/c queue's wait grows as 1/(1-ρ)), without paying for idle capacity.
TARGET_UTILIZATION = 0.85
HOT = 0.9  # above this, a component has too little headroom (a warning)
SATURATED = 0.97  # above this, it is at its limit (a problem)
CONCENTRATED = 1.25  # busiest replica's utilization / the component's above which load is uneven
IDLE_SHARE = 0.5  # or its idle share / the component's at or under which it is uneven
SHOWN_UNEVEN = 0.7  # a busiest replica this busy (and uneven) is shown beside the component's
BACKLOG_S = 1.0  # a queue holding more than this many seconds of arrivals at the end is behind
MIN_BACKLOG = 10  # ... and at least this many requests or messages
NOTABLE = 0.01  # shares (degraded, failed, refused, drained) from which a finding is made
# A retry proposed to wait out an outage (a failover, a crashed callee): its back-offs'
# longest waits add up to SPAN × the outage (a full jitter waits half of each on average),
# backing off from OUTAGE_BASE to OUTAGE_MAX when the call had no retry to keep.
SPAN = 2.0
OUTAGE_BASE, OUTAGE_MAX = "100ms", "1s"
MOST_TRIES = 100  # the spec's highest retry attempts


@dataclass
class Run:
    system: System
    result: dict[str, Any]
    explained: set[str] = field(default_factory=set)  # components a finding covers already
    found: list[Finding] = field(default_factory=list)  # the findings of the checks run so far
    # the analytic estimate without one call, by the call's place (`estimate_without`)
    without: dict[Path, Estimate] = field(default_factory=dict)

    @cached_property
    def loads(self) -> dict[str, ComponentLoad]:
        """Each component's analytic offered load (`offered_load`), worked out once a run:
        the saturated and SLO findings both size from it."""
        return offered_load(self.system)

    def estimate_without(self, where: Path) -> Estimate:
        """The analytic estimate of the design with the call at `where` never made (its
        probability 0), worked out once a run: what a timeout on it has to fit beside, which
        the SLO findings and the failures finding's cap each read."""
        if where not in self.without:
            self.without[where] = estimate(changed(self.system, (*where, "probability"), 0.0))
        return self.without[where]

    def latency_ms(self, ref: str) -> dict[str, float | None]:
        """The measured latency of 'component.operation' (mean and percentiles, in ms; None
        where it had no answer)."""
        component, operation = ref.split(".", 1)
        latency: dict[str, float | None] = \
            self.result["components"][component]["operations"][operation]["latency_ms"]
        return latency

    @property
    def span_s(self) -> float:
        """Observed time, all replications: counts in the result are pooled over it."""
        return float(self.result["simulated_s"]) * int(self.result["replications"])

    @property
    def end_s(self) -> float:
        """The end of the window in simulated seconds (warm-up included)."""
        return self.system.simulation.warmup + self.system.simulation.duration

    @property
    def faults(self) -> list[Fault]:
        """The faults that struck during the run: one that starts at or after the end of the
        window (a shortened `--set simulation.duration`) never happened, so explains nothing."""
        return [f for f in self.system.faults if f.at < self.end_s]

    def faults_on(self, component: str) -> list[Fault]:
        return [f for f in self.faults if f.component == component]

    def error_check(self, scope: str) -> dict[str, Any] | None:
        """The run's check of the error-rate SLO of `scope` ('all' or a workload's), if the
        spec sets one."""
        return next((c for c in self.result.get("slo", {}).get("checks", [])
                     if c["scope"] == scope and c["name"] == "error_rate"), None)

    def call_path(self, source: str, target: str) -> tuple[str | int, ...] | None:
        """Where the call `source` -> `target` ('comp.op' each) sits in the spec."""
        found = self.call_at(source, target)
        return None if found is None else found[0]

    def call_at(self, source: str, target: str) -> tuple[tuple[str | int, ...], Call] | None:
        """The call `source` -> `target` ('comp.op' each): where it sits in the spec, and
        its settings with the defaults filled in."""
        cname, oname = source.split(".", 1)
        for caller, operation, path, call in iter_calls(self.system):
            if (caller, operation) == (cname, oname) and \
                    ".".join(self.system.resolve(call.to)) == target:
                return path, call
        return None


def own_work_s(system: System, ref: str) -> float:
    """The mean time 'component.operation' works on its own, without its calls' waits."""
    component, operation = ref.split(".", 1)
    spec = system.components[component].effective_operations[operation]
    return spec.demand.mean_s + extra_s(system, component, operation)


def mean_wait_s(measured: dict[str, Any]) -> float:
    """A visit's mean wait for a worker of a measured component, by Little's law: requests
    waiting / visits a second."""
    visits = measured["throughput_rps"]
    return measured["queue_mean"] / visits if visits else 0.0


def fault_text(fault: Fault, end_s: float) -> str:
    """'latency +30 s, from 0 s to the end' for a fault."""
    effects = []
    if fault.latency is not None:
        if fault.latency.multiply is not None:
            effects.append(f"latency ×{fault.latency.multiply:g}")
        if fault.latency.add is not None:
            effects.append(f"latency +{fault.latency.add.mean_s:g} s")
    if fault.error_rate:
        effects.append(f"error rate {fault.error_rate * 100:g} %")
    for name in ("crash", "network", "pause", "random_failures", "partition"):
        if getattr(fault, name):
            effects.append(name.replace("_", " "))
    until = "to the end" if fault.for_ is None or fault.at + fault.for_ >= end_s \
        else f"to {fault.at + fault.for_:g} s"
    return f"{', '.join(effects)} on {fault.target}, from {fault.at:g} s {until}"


def dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in path)


def tries_outlasting(retry: Retry, least: int, outage_s: float) -> int:
    """The fewest tries, from `least`, whose back-offs' longest waits add up to SPAN ×
    `outage_s` (at most MOST_TRIES): a retry that waits an outage out."""
    tries = least
    while tries < MOST_TRIES and retry.longest_waits(tries) < SPAN * outage_s:
        tries += 1
    return tries


def flow(value: Any) -> str:
    """A value as an override writes it: YAML on one line."""
    return str(yaml.safe_dump(value, default_flow_style=True, sort_keys=False,
                              width=math.inf).splitlines()[0])


def uneven(measured: dict[str, Any], floor: float) -> tuple[int, float] | None:
    """A component's busiest replica (index, utilization, both measured per replica) when it
    is at least `floor` busy and either CONCENTRATED times the component's utilization or,
    the component as a whole under `floor`, left with at most IDLE_SHARE of the component's
    idle time: the load does not spread. (The ratio alone could never flag a component
    busier than 80 %: a replica at 98 % where the component is at 80 % is 1.23 times as
    busy, with a tenth of its idle time.)"""
    hottest = measured.get("busiest_replica")
    busy = measured["utilization"]
    if hottest is None or hottest["utilization"] is None or busy is None:
        return None
    hot = min(1.0, hottest["utilization"])  # a sum of floats may pass 1 by a rounding
    concentrated = hot >= CONCENTRATED * busy or \
        (busy < floor and 1.0 - hot <= IDLE_SHARE * (1.0 - busy))
    return (hottest["replica"], hot) if hot >= floor and concentrated else None


@dataclass(frozen=True)
class Slowed:
    """A replica that latency faults on it alone slowed: how busy they kept it."""

    replica: int
    utilization: float  # over the window
    measured: bool  # utilization is the result's (its busiest replica), not estimated
    arrival: float  # visits per second it got (an even share)
    hold_s: float  # a visit's hold under its slowest fault
    fault: Fault  # that fault

    @property
    def offered(self) -> float:
        """Erlangs offered to the replica under `fault`."""
        return self.arrival * self.hold_s


def slowed_replica(run: Run, name: str) -> Slowed | None:
    """The replica of `name` that latency faults on it alone (`api[0]`) kept busiest over
    the window: an even share of the measured visits (as round robin and random balancing
    send them) × the healthy hold (analytic), its own work stretched as each fault lasts
    (× multiply, + add), each fault's stretch at most all its workers busy; its utilization
    the result's when it is the result's `busiest_replica` (measured per replica), else that
    estimate. None without such a fault, a worker limit, or a balancer that sends even
    shares (least requests sends a slow replica less, a hash its keys' share)."""
    component = run.system.components[name]
    workers = component.worker_limit
    faults = [f for f in run.faults_on(name) if f.replica is not None and f.latency is not None
              and fault_overlap_s(run, f) > 0.0]
    if workers is None or not faults or not component.replicas \
            or component.balancer not in (Balancer.ROUND_ROBIN, Balancer.RANDOM):
        return None
    measured = run.result["components"][name]
    window = run.end_s - run.system.simulation.warmup
    # Visits that came: those finished, and those its queue gained (a slowed replica's
    # backlog: finished visits alone said 44/s of the 50/s sent it).
    backlog = (measured.get("queue_end", 0) - measured.get("queue_start", 0)) / window
    arrival = (measured["throughput_rps"] + max(0.0, backlog)) / component.replicas
    hold = run.loads[name].hold_s
    healthy = min(1.0, arrival * hold / workers)
    found = []
    for replica in sorted({f.replica for f in faults if f.replica is not None}):
        mine = [f for f in faults if f.replica == replica]
        holds = [stretched_hold_s(run, name, f) for f in mine]
        extra = sum(fault_overlap_s(run, f) * (min(1.0, arrival * h / workers) - healthy)
                    for f, h in zip(mine, holds, strict=True))
        slowest = max(range(len(mine)), key=holds.__getitem__)
        found.append(Slowed(replica, min(1.0, healthy + extra / window), False, arrival,
                            holds[slowest], mine[slowest]))
    slowed = max(found, key=lambda s: s.utilization)
    busiest = measured.get("busiest_replica")
    if busiest is None or busiest["replica"] != slowed.replica or \
            busiest["utilization"] is None:
        return slowed
    return replace(slowed, utilization=min(1.0, busiest["utilization"]), measured=True)


def stretched_hold_s(run: Run, name: str, fault: Fault) -> float:
    """A visit's hold at component `name` under a latency `fault` on it: the healthy hold
    (analytic) with its own work stretched (× multiply, + add); the healthy hold for a
    fault that changes no latency."""
    hold = run.loads[name].hold_s
    latency = fault.latency
    if latency is None:
        return hold
    return hold + _own_work_s(run, name) * ((latency.multiply or 1.0) - 1.0) \
        + (latency.add.mean_s if latency.add is not None else 0.0)


def fault_overlap_s(run: Run, fault: Fault) -> float:
    """Seconds of the window the fault lasted."""
    return max(0.0, fault_end_s(run, fault) - max(fault.at, run.system.simulation.warmup))


def fault_end_s(run: Run, fault: Fault) -> float:
    """When the fault ended, at most the end of the window."""
    return run.end_s if fault.for_ is None else min(run.end_s, fault.at + fault.for_)


def _own_work_s(run: Run, name: str) -> float:
    """A visit's own work at `name` (`own_work_s`), its operations weighted by their
    measured visits: what a latency fault stretches."""
    visits = {op: float(entry["requests"]["total"])
              for op, entry in run.result["components"][name]["operations"].items()}
    total = sum(visits.values())
    return sum(n * own_work_s(run.system, f"{name}.{op}") for op, n in visits.items()) \
        / total if total else 0.0


def infinite_means(system: System, name: str) -> list[str]:
    """What gives a visit to component `name` an infinite mean time: the times of its
    operations, and of the operations they wait on (synchronous calls, cache backends), whose
    distribution has no finite mean (a Pareto tail with α ≤ 1), as 'api.get work'."""
    edges = sync_edges(system)
    todo = [f"{name}.{o}" for o in system.components[name].effective_operations]
    seen: set[str] = set()
    found = []
    while todo:
        ref = todo.pop(0)
        if ref in seen:
            continue
        seen.add(ref)
        cname, oname = ref.split(".", 1)
        operation = system.components[cname].effective_operations[oname]
        for which in ("work", "cpu", "wait", "post_work"):
            dist = getattr(operation, which)
            if dist is not None and not math.isfinite(dist.mean_s):
                found.append(f"{ref} {which}")
        todo += edges.get(ref, [])
    return found


def unbounded_text(system: System, name: str) -> str:
    """Why no count can be sized for component `name`: a visit's mean time is infinite."""
    causes = infinite_means(system, name)
    what = (f"{', '.join(causes)} {'has' if len(causes) == 1 else 'have'} an infinite mean"
            if causes else "a time it waits for has an infinite mean")
    return (f"no count can be sized: a visit to {name} has no finite mean time ({what}: a "
            "Pareto tail with α ≤ 1), so any number of replicas, workers or slots falls "
            "behind in the long run; give it a finite mean (α > 1) to size them")


def whole(value: float) -> int | None:
    """math.ceil(value): a count sized from a load; None when the load is infinite (or not
    a number), as it is when a mean time is infinite."""
    return math.ceil(value) if math.isfinite(value) else None
