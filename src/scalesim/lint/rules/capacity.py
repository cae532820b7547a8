"""Rules about capacity: what each component is offered against what its workers can serve
(`lint.load`). A sustained ρ ≥ 1 cannot last (SS501); a sustained ρ near 1, or a peak above
the warning level that a queue absorbs only while it lasts, is a warning (SS502)."""

from __future__ import annotations

import math
from collections.abc import Iterator

from scalesim.analytic.overload import CpuLoad, refused
from scalesim.budget import amount
from scalesim.lint.context import Context
from scalesim.lint.estimates import ms, per_s
from scalesim.lint.finding import Hit
from scalesim.lint.graph import component_of
from scalesim.lint.load import Load
from scalesim.spec.bounds import MAX_REPLICAS_TOTAL
from scalesim.spec.consistency import Replication
from scalesim.spec.errors import counted
from scalesim.spec.model import Component, Kind, System
from scalesim.spec.overrides import changed

# What adds capacity, by what the component is: a database is not fixed by load balancing.
CAPACITY_FIXES: dict[Kind, tuple[str, ...]] = {
    Kind.SERVICE: ("auto-scaling", "load-balancing", "load-shedding", "queue-based-load-leveling"),
    Kind.GATEWAY: ("auto-scaling", "load-balancing", "rate-limiting", "load-shedding"),
    Kind.DATABASE: ("read-replicas", "cache-aside", "sharding", "cqrs"),
    Kind.CACHE: ("sharding", "consistent-hashing", "replicated-load-balanced-service"),
}


def _fixes(component: Component, load: Load) -> tuple[str, ...] | None:
    """What adds capacity: by kind, or for a leader's load what takes load off the leader
    (reads to the followers when the leader serves them, the writes split by shard)."""
    if not load.leader:
        return CAPACITY_FIXES.get(component.kind)
    replication = _led_replication(component)
    reads_on_leader = replication is not None and replication.reads == "leader"
    return ("sharding", "cqrs", *(("read-replicas",) if reads_on_leader else ()))


def replicas_for(load: Load, workers: int, target: float) -> int:
    """Replicas that bring ρ to `target` or below at this load."""
    return max(1, math.ceil(load.busy / (target * workers)))


CLOSED_NOTE = ", its closed loops' throughput rising with it (MVA)"


def _where(name: str, component: Component, load: Load) -> tuple[str, ...]:
    """The field that sets the capacity the load meets: the leader's `workers` when only the
    leader serves it, `autoscale.max` when autoscaled, else `replicas`."""
    if load.leader:
        return ("components", name, "workers")
    if component.autoscale is not None:
        return ("components", name, "autoscale", "max")
    return ("components", name, "replicas")


def _numbers(name: str, component: Component, load: Load) -> str:
    if math.isinf(load.rate):
        return (f"'{name}' is offered an unbounded rate: a loop of calls or deliveries that "
                "makes at least one more visit of itself per visit reaches it")
    if math.isinf(load.rho):
        return (f"'{name}' is offered {per_s(load.rate)} and a request holds a worker for an "
                "infinite mean time (a Pareto tail with alpha ≤ 1, there or in what it "
                "waits on): no number of workers keeps up")
    if load.leader:
        return (f"'{name}' is offered {per_s(load.rate)} × {ms(load.hold_s)} held per "
                f"request, and only its leader serves {_leader_part(component)}: "
                f"{amount(load.rho * (component.worker_limit or 1))} busy workers against the "
                f"leader's {component.worker_limit}: ρ ≈ {load.rho:.2f}")
    replicas = f"autoscale.max {counted(component.most_replicas, 'replica')}" \
        if component.autoscale is not None else counted(component.replicas, "replica")
    return (f"'{name}' is offered {per_s(load.rate)} × {ms(load.hold_s)} held per request = "
            f"{amount(load.busy)} busy workers against {replicas} × "
            f"{counted(component.worker_limit or 1, 'worker')}: ρ ≈ {load.rho:.2f}")


def _led_replication(component: Component) -> Replication | None:
    """Leader-based replication, which decides what the leader serves (`leader_served`)."""
    replication = component.replication
    return replication if replication is not None and replication.mode != "quorum" else None


def _leader_part(component: Component) -> str:
    replication = _led_replication(component)
    if replication is None:
        election = component.leader_election
        named = election.operations if election is not None else None
        return f"{', '.join(named) if named else 'its operations'} (leader_election)"
    return "its writes" if replication.reads != "leader" \
        else "its writes and reads (reads: leader)"


def smallest_setting(load: Load, component: Component, target: float,
                     replicas: int | None = None) -> tuple[str, int]:
    """The field of the component (a `--set` path below it) and the value that bring a
    finite ρ to `target` or below: the leader's `workers` when only the leader serves the
    load (more replicas add followers, not capacity), else the replicas (`autoscale.max`
    when autoscaled): `replicas` when given (`closed_replicas`), else those that carry
    today's load."""
    workers = component.worker_limit or 1
    if load.leader:
        return "workers", math.ceil(load.rho * workers / target - 1e-9)
    if replicas is None:
        replicas = replicas_for(load, workers, target)
    return ("autoscale.max" if component.autoscale is not None else "replicas"), replicas


def setting_text(field: str, value: int) -> str:
    """A `smallest_setting` as lint words it: 'the leader's workers 4', 'autoscale.max 6',
    '3 replicas'."""
    if field == "workers":
        return f"the leader's workers {value}"
    return f"{field} {value}" if field == "autoscale.max" else counted(value, "replica")


def cluster_settings(system: System, name: str, field: str, value: int) -> list[tuple[str, int]]:
    """The `cluster` fields that must grow for component `name` to start at `value` of
    `field` (validate refuses more replicas than `nodes` × `pods_per_node` hold, counting
    every component's but an external's): `nodes`, and `max_nodes` when set below it; for
    `autoscale.max`, `max_nodes` so that the cluster autoscaler can hold the fleet at its
    peak beside the others at theirs. Empty for another field, without a cluster, or when
    its nodes hold them: a replica the nodes cannot hold adds no capacity, so a planner
    sizes the nodes with the replicas."""
    cluster = system.cluster
    if field not in ("replicas", "autoscale.max") or cluster is None or \
            system.components[name].kind is Kind.EXTERNAL:
        return []
    if field == "autoscale.max":  # at its peak, beside the others at theirs
        pods = value + sum(c.most_replicas for other, c in system.components.items()
                           if other != name and c.kind is not Kind.EXTERNAL)
        nodes = math.ceil(pods / cluster.pods_per_node)
        # the cluster autoscaler adds the nodes (validate refuses none of this: the pods
        # past the nodes stay Pending, and add no capacity)
        return [] if nodes <= cluster.highest else [("cluster.max_nodes", nodes)]
    pods = value + sum(c.replicas for other, c in system.components.items()
                       if other != name and c.kind is not Kind.EXTERNAL)
    nodes = math.ceil(pods / cluster.pods_per_node)
    if nodes <= cluster.nodes:
        return []
    grown = [("cluster.nodes", nodes)]
    if cluster.max_nodes is not None and cluster.max_nodes < nodes:
        grown.append(("cluster.max_nodes", nodes))
    return grown


def change_text(field: str, value: int, cluster: list[tuple[str, int]]) -> str:
    """`setting_text`, with the `cluster_settings` that hold it: '7 replicas with
    cluster.nodes 3 to hold them'."""
    grown = " and ".join(f"{path} {nodes}" for path, nodes in cluster)
    return setting_text(field, value) + (f" with {grown} to hold them" if grown else "")


def smallest_change(ctx: Context, name: str, load: Load, replicas: int | None = None) -> str:
    """`smallest_setting` in words, with the nodes that hold it."""
    field, value = smallest_setting(load, ctx.system.components[name], ctx.config.utilization,
                                    replicas)
    return change_text(field, value, cluster_settings(ctx.system, name, field, value))


def _with_replicas(system: System, name: str, replicas: int) -> System:
    """`system` with component `name` at `replicas` (its `autoscale.max` when autoscaled)."""
    field = ("replicas",) if system.components[name].autoscale is None else ("autoscale", "max")
    return changed(system, ("components", name, *field), replicas)


def _waited_by_closed_loop(ctx: Context, name: str) -> bool:
    """A closed loop's requests wait on the component (an MVA station of the loop)."""
    system = ctx.system
    return any(component_of(op) == name for w in system.workloads if w.users is not None
               for op in ctx.graph.reachable(".".join(system.resolve(w.to))))


def _rho_at(ctx: Context, name: str, replicas: int, peak: bool) -> float:
    """Component `name`'s ρ with `replicas`, its closed loops at the throughput they reach
    then (lint's loads worked out again)."""
    other = Context.of(_with_replicas(ctx.system, name, replicas), ctx.config)
    load = (other.peak if peak else other.sustained).get(name)
    return 0.0 if load is None else load.rho


def closed_replicas(ctx: Context, name: str, load: Load, peak: bool) -> int | None:
    """The fewest replicas that bring ρ to the target when a closed loop visits the
    component: its users come back sooner as it grows, so its throughput (MVA, as the
    estimate) grows with the replicas, and sizing for today's throughput falls short.
    Sized for today's load first (a lower bound), then doubled until ρ meets the target
    and halved back; None when no closed loop waits on it, for a leader's load, or when no
    count up to the spec's bound meets it."""
    component = ctx.system.components[name]
    target = ctx.config.utilization
    if not _waited_by_closed_loop(ctx, name) or load.leader or not math.isfinite(load.rho):
        return None
    low = replicas_for(load, component.worker_limit or 1, target)
    if _rho_at(ctx, name, low, peak) <= target:
        return low
    high = low
    while _rho_at(ctx, name, high, peak) > target:
        low, high = high, high * 2
        if high > MAX_REPLICAS_TOTAL:  # the spec's bound: no loop is sized past it
            return None
    while high - low > 1:  # ρ(low) > target ≥ ρ(high)
        middle = (low + high) // 2
        low, high = (low, middle) if _rho_at(ctx, name, middle, peak) <= target \
            else (middle, high)
    return high


def _fix(ctx: Context, name: str, load: Load, peak: bool = False) -> str:
    target = ctx.config.utilization
    if math.isinf(load.rate):
        return "break the loop or give it an exit"
    if math.isinf(load.rho):
        return "give the work a finite mean (alpha above 1), or bound it with a timeout"
    replicas = closed_replicas(ctx, name, load, peak)
    change = f"the smallest change is {smallest_change(ctx, name, load, replicas)} " \
        f"(ρ ≤ {target:g}{CLOSED_NOTE if replicas is not None else ''})"
    if load.leader:
        return (f"{change}, less work per request, or splitting the data (sharding): more "
                "replicas add none")
    return f"{change}, or less work per request"


def levelled(load: Load | None) -> bool:
    """A subscription feeds the component at its drain rate and ρ is at most 1: the
    deliveries in flight fill at most its workers and wait for none, the queue holds the
    rest, and more replicas would not take more off it; SS402 says when it falls behind."""
    return load is not None and load.drained and load.rho <= 1.0 + 1e-9


def _cpu_binds(ctx: Context, name: str, rho: float) -> CpuLoad | None:
    """The component's CPU load when its cores bind before its workers (ρ above theirs)."""
    cpu = ctx.cpu.get(name)
    return cpu if cpu is not None and cpu.rho > rho else None


def _cpu_numbers(name: str, component: Component, cpu: CpuLoad) -> str:
    demand = cpu.rate_rps * cpu.cpu_s
    return (f"'{name}' is offered {per_s(cpu.rate_rps)} × {ms(cpu.cpu_s)} of CPU per request "
            f"= {amount(demand)} cores against {counted(component.most_replicas, 'replica')} × "
            f"{counted(cpu.cores, 'core')}: ρ ≈ {cpu.rho:.2f}")


def _cpu_fix(cpu: CpuLoad, component: Component, target: float) -> str:
    demand = cpu.rate_rps * cpu.cpu_s
    replicas = max(1, math.ceil(demand / (target * cpu.cores) - 1e-9))
    cores = math.ceil(demand / (target * component.most_replicas) * 10 - 1e-9) / 10
    more_cores = "" if component.event_loop else f" or {counted(cores, 'core')} each"
    return (f"the smallest change is {counted(replicas, 'replica')}{more_cores} "
            f"(ρ ≤ {target:g}), or "
            "less CPU per request")


def overload_fate(component: Component, rho: float, cores: float | None = None) -> str:
    """What an overload (ρ ≥ 1) does: an unbounded queue grows; a bounded one cannot, it
    refuses about the M/M/c/K loss of one replica, its servers the workers or, with `cores`
    (ρ then the cores'), as many as compute at once."""
    workers = component.worker_limit
    if component.queue is None or workers is None or math.isinf(rho):
        return "its queue grows for as long as this load lasts"
    servers = float(workers) if cores is None else min(float(workers), cores)
    share = refused(rho * (cores or workers) / servers, servers, workers + component.queue)
    return (f"its queue is bounded ({component.queue} per replica), so it refuses about "
            f"{share:.0%} of requests (M/M/c/K) for as long as this load lasts")


def overloaded(ctx: Context) -> Iterator[Hit]:
    """SS501: sustained ρ ≥ 1 — more offered than the workers (or the cores) can serve, for
    good."""
    target = ctx.config.utilization
    for name, component in ctx.system.components.items():
        load = ctx.sustained.get(name)
        cpu = _cpu_binds(ctx, name, load.rho if load is not None else 0.0)
        if cpu is not None and cpu.rho >= 1.0:
            yield Hit(("components", name, "cores"),
                      f"{_cpu_numbers(name, component, cpu)}: "
                      f"{overload_fate(component, cpu.rho, cpu.cores)}; "
                      f"{_cpu_fix(cpu, component, target)}",
                      CAPACITY_FIXES.get(component.kind))
        elif load is not None and ctx.overloaded(name) and not levelled(load):
            yield Hit(_where(name, component, load),
                      f"{_numbers(name, component, load)}: {overload_fate(component, load.rho)}; "
                      f"{_fix(ctx, name, load)}",
                      _fixes(component, load))


def near_capacity(ctx: Context) -> Iterator[Hit]:
    """SS502: sustained ρ in (utilization, 1), or a peak above `utilization` that the
    sustained load stays below 1 of (at exactly `utilization` the load is where the fix
    would put it)."""
    target = ctx.config.utilization
    steady = ctx.sustained
    for name, peak in ctx.peak.items():
        component = ctx.system.components[name]
        base = steady.get(name)
        cpu = _cpu_binds(ctx, name, base.rho if base is not None else 0.0)
        if cpu is not None and target < cpu.rho:
            if cpu.rho < 1.0:  # else SS501
                yield Hit(("components", name, "cores"),
                          f"{_cpu_numbers(name, component, cpu)} (warning from {target:g}): "
                          "its requests wait for a core as ρ nears 1; "
                          f"{_cpu_fix(cpu, component, target)}",
                          CAPACITY_FIXES.get(component.kind))
            continue
        if ctx.overloaded(name) or levelled(base) or levelled(peak):
            continue  # SS501, or the queue in front levels the load
        if base is not None and target < base.rho:
            yield Hit(_where(name, component, base),
                      f"{_numbers(name, component, base)} (warning from {target:g}): waits "
                      "grow steeply as ρ nears 1 and a small spike or a slow dependency tips "
                      f"it over; {_fix(ctx, name, base)}",
                      _fixes(component, base))
        elif peak.rho > target:
            after = f"ρ ≈ {base.rho:.2f} after it" if base is not None else "nothing after it"
            yield Hit(_where(name, component, peak),
                      f"at the peak of the workload profile, {_numbers(name, component, peak)} "
                      f"({after}): requests queue for the length of the peak and time out if "
                      "it lasts; a queue in front absorbs a burst only while it fits; "
                      f"{_fix(ctx, name, peak, peak=True)}",
                      _fixes(component, peak))
