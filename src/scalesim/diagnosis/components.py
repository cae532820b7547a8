"""Components at their limit: workers saturated (a queue that grows, refusals of a full
queue), rate limits and connection pools that refuse, bulkheads that fill."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from scalesim.analytic.load import ComponentLoad, leader_served, offered_load, round_trip_s
from scalesim.diagnosis.context import (
    BACKLOG_S,
    HOT,
    MIN_BACKLOG,
    NOTABLE,
    SATURATED,
    TARGET_UTILIZATION,
    Run,
    dotted,
    fault_text,
    uneven,
)
from scalesim.diagnosis.finding import Finding, Fix, Limit, count, duration, rate, share
from scalesim.spec.model import Kind

HELD_LONGER = 1.5  # measured hold / healthy hold above which slow calls hold the workers


def saturated(run: Run) -> Iterator[Finding]:
    """Components whose workers are all busy, whose queue grows, or that refuse for lack of
    room; sized from the analytic hold time per visit (no queueing downstream)."""
    system, result = run.system, run.result
    loads = offered_load(system)
    for name, measured in result["components"].items():
        component = system.components[name]
        workers = component.worker_limit
        if workers is None or component.kind is Kind.QUEUE or name in run.explained:
            continue
        busy = measured["utilization"] or 0.0
        refused_full = measured["refused_by_cause"]["rejected"] / run.span_s
        growth = (measured["queue_end"] - measured["queue_start"]) / run.span_s
        arrival = measured["throughput_rps"] + max(growth, 0.0)
        end = measured["queue_end"] / int(result["replications"])
        growing = growth > 0.0 and end >= max(MIN_BACKLOG, arrival * BACKLOG_S)
        refusing = arrival > 0 and refused_full / arrival >= NOTABLE / 10
        on_one = list(_one_replica(run, name, measured, busy, loads[name]))
        if on_one:  # more replicas would not help: that finding says what would
            yield from on_one
            continue
        if not (busy >= HOT or growing or refusing):
            continue
        problem = busy >= SATURATED or growing or refusing
        capacity = component.replicas * workers
        served = arrival - refused_full - max(growth, 0.0)
        held = measured["concurrency_mean"] / served if served > 0 else math.inf
        healthy = loads[name].hold_s
        fleet = (measured.get("scaling") or {}).get("replicas")
        size = str(component.replicas) if fleet is None or fleet["min"] == fleet["max"] \
            else f"{fleet['min']}–{fleet['max']} replicas (mean {fleet['mean']:.1f})"
        evidence = [f"{size} × {workers} workers are {share(busy)} busy"
                    f"{' on average' if fleet is not None else ''}, {rate(arrival)} arriving"]
        if growing:
            evidence.append(f"its queue grows {rate(growth)} ({count(end)} waiting at the end)")
        if refusing:
            evidence.append(f"its full queue refuses {rate(refused_full)}")
        fix = None
        limit: Limit
        if healthy > 0 and held > HELD_LONGER * healthy and component.io == "blocking":
            limit = "downstream"
            evidence.append(f"a visit holds a worker {duration(held)}, not the "
                            f"{duration(healthy)} of a healthy system: slow calls hold the "
                            "workers")
            slow = _slow_calls(run, name)
            evidence += [text for _, text in slow]
            edges = ", ".join(edge for edge, _ in slow) or "the calls it waits on"
            busy_callees = sorted({edge.split("→")[1].split(".")[0] for edge, _ in slow}
                                  & _at_limit(run))
            if busy_callees:
                fix = Fix(f"relieve {', '.join(busy_callees)} first (see its finding): its "
                          f"queue is what holds {name}'s workers. Bounding the wait on "
                          f"{edges} (a timeout, a fallback) would turn the waits into "
                          "failures instead")
            else:
                fix = Fix(f"bound the wait on {edges} (a timeout, a bulkhead, a fallback) so "
                          "a slow dependency cannot hold every worker; more replicas only buy "
                          "time")
        elif component.autoscale is not None and fleet is not None:
            limit = "workers"
            fix = _scaled_fix(run, name, workers, healthy if healthy > 0 else held, fleet,
                              loads[name].arrival_rate_rps, evidence)
        else:
            limit = "workers"
            hold = healthy if healthy > 0 else held
            replicas = math.ceil(arrival * hold / (workers * TARGET_UTILIZATION))
            if replicas > component.replicas:
                evidence.append(f"a visit holds a worker {duration(hold)}: "
                                f"{capacity} workers serve at most {rate(capacity / hold)}")
                fix = Fix(f"raise {name}.replicas from {component.replicas} to {replicas}: "
                          f"that serves {rate(arrival)} at {share(TARGET_UTILIZATION)} busy",
                          (f"components.{name}.replicas={replicas}",))
        if growing:
            what = f"falls behind: its queue grows {rate(growth)}"
        elif refusing:
            what = (f"turns requests away: its full queue refuses {rate(refused_full)} "
                    f"({share(refused_full / arrival)})")
        else:
            what = f"{'is saturated' if problem else 'runs hot'}: {share(busy)} of its " \
                "workers busy"
        yield Finding("saturated", "problem" if problem else "warning", name, f"{name} {what}",
                      limit, tuple(evidence), fix,
                      {"utilization": busy, "arrival_rps": arrival, "queue_growth_rps": growth,
                       "refused_rps": refused_full, "hold_ms": held * 1e3,
                       "healthy_hold_ms": healthy * 1e3})


def _scaled_fix(run: Run, name: str, workers: int, hold: float, fleet: dict[str, Any],
                peak: float, evidence: list[str]) -> Fix | None:
    """An autoscaled component that refused or queued: its spec `replicas` is only where the
    autoscaler starts, so the fix is the autoscaler's bounds, sized for the spec's peak load.
    At its `max` the bound binds; below it the fleet was too small when the load came and
    grew only as fast as the autoscaler's syncs allow. `peak`: the spec's peak arrivals."""
    autoscale = run.system.components[name].autoscale
    assert autoscale is not None
    needed = math.ceil(peak * hold / (workers * TARGET_UTILIZATION))
    if fleet["max"] >= autoscale.max:
        evidence.append(f"the autoscaler reached its max of {autoscale.max} replicas")
        if needed <= autoscale.max:
            return None
        return Fix(f"raise {name}.autoscale.max from {autoscale.max} to {needed}: that serves "
                   f"the peak {rate(peak)} at {share(TARGET_UTILIZATION)} busy",
                   (f"components.{name}.autoscale.max={needed}",))
    evidence.append(f"the autoscaler never reached its max of {autoscale.max}: the fleet "
                    "was too small when the load came, and grew only sync by sync")
    if needed <= autoscale.min:
        return None
    return Fix(f"raise {name}.autoscale.min from {autoscale.min} to {needed}: that serves the "
               f"peak {rate(peak)} at {share(TARGET_UTILIZATION)} busy before the autoscaler "
               "acts (or let it scale up sooner: autoscale.scale_up); more spec replicas "
               "would be scaled back down to min", (f"components.{name}.autoscale.min={needed}",))


def _at_limit(run: Run) -> set[str]:
    """Components whose workers, or their busiest replica's, are all but all busy."""
    return {name for name, measured in run.result["components"].items()
            if (measured["utilization"] or 0.0) >= HOT or uneven(measured, HOT) is not None}


def _one_replica(run: Run, name: str, measured: dict[str, Any], busy: float,
                 load: ComponentLoad) -> Iterator[Finding]:
    """A component with room on average whose busiest replica is at its limit: the load does
    not spread (only the leader serves, a hashed key is hot), so replicas add nothing."""
    found = uneven(measured, HOT)
    if found is None:
        return
    index, hot = found
    component = run.system.components[name]
    workers = component.worker_limit
    assert workers is not None
    evidence = [f"replica {index} has {share(hot)} of its {workers} workers busy, the "
                f"{component.replicas} replicas together {share(busy)}"]
    fix = None
    if leader_served(component):
        evidence.append("only the leader serves its operations, so more replicas add no "
                        "capacity: the leader's workers are the limit")
        # At its limit the leader's utilization stops at 100 %: size it from the demand
        # (the spec's offered load on the leader, λ·hold, when that is more).
        demand = load.leader_busy
        needed = math.ceil(max(hot * workers, demand) / TARGET_UTILIZATION)
        if needed > workers:
            fix = Fix(f"raise {name}.workers (the leader's) from {workers} to {needed}: that "
                      f"runs the leader at {share(TARGET_UTILIZATION)} busy; or serve reads "
                      "from the followers", (f"components.{name}.workers={needed}",))
    elif component.balancer == "hash":
        evidence.append("the balancer hashes each request's key, and the keys are skewed: "
                        "a hot key's replica works while the others wait")
        fix = Fix(f"spread the hot keys: more keys (partitions) or a balancer that does not "
                  f"pin them ({name}.balancer: least_requests), or cache the hottest")
    run.explained.add(name)
    yield Finding("saturated", "problem" if hot >= SATURATED else "warning", name,
                  f"{name} {'is saturated' if hot >= SATURATED else 'runs hot'} on one "
                  f"replica: replica {index} {share(hot)} busy, the component {share(busy)}",
                  "workers", tuple(evidence), fix,
                  {"utilization": busy, "replica_utilization": hot, "replica": index})


def cpu_bound(run: Run) -> Iterator[Finding]:
    """Components with `cores` whose cores are (nearly) all busy: CPU, not workers, binds."""
    system, result = run.system, run.result
    for name, measured in result["components"].items():
        component = system.components[name]
        cores = component.core_limit
        busy = measured.get("cpu")
        if cores is None or busy is None or busy < HOT or name in run.explained:
            continue
        used = measured["cores_used"]
        replicas = math.ceil(used / (cores * TARGET_UTILIZATION))
        evidence = (f"{component.replicas} × {cores:g} cores are {share(busy)} busy: "
                    f"{used:.3g} cores of CPU demand",)
        fix = None
        if replicas > component.replicas:
            fix = Fix(f"raise {name}.replicas from {component.replicas} to {replicas}, or its "
                      f"cores: that runs its CPU at {share(TARGET_UTILIZATION)}",
                      (f"components.{name}.replicas={replicas}",))
        yield Finding("saturated", "problem" if busy >= SATURATED else "warning", name,
                      f"{name} is CPU-bound: {share(busy)} of its cores busy", "cores",
                      evidence, fix, {"cpu": busy, "cores_used": used})


def _slow_calls(run: Run, component: str) -> list[tuple[str, str]]:
    """The synchronous calls of `component` whose callee answered much slower than a healthy
    system would: (edge, evidence), slowest first, with the faults on the callee."""
    system, result = run.system, run.result
    hop = 2.0 * system.defaults.network.mean_s
    out = []
    for call in result["calls"]:
        if call["from"].split(".", 1)[0] != component or call["async"]:
            continue
        target, operation = call["to"].split(".", 1)
        mean_ms = result["components"][target]["operations"][operation]["latency_ms"].get("mean")
        healthy_s = round_trip_s(system, call["to"]) - hop
        if mean_ms is None or healthy_s <= 0 or mean_ms / 1e3 <= HELD_LONGER * healthy_s:
            continue
        faults = "; ".join(f"fault: {fault_text(f, run.end_s)}" for f in run.faults_on(target))
        edge = f"{call['from']}→{call['to']}"
        out.append((mean_ms / 1e3 / healthy_s, edge,
                    f"{call['to']} answered in {duration(mean_ms / 1e3)} on average, "
                    f"{duration(healthy_s)} when healthy" + (f" ({faults})" if faults else "")))
    return [(edge, text) for _, edge, text in sorted(out, reverse=True)]


def rate_limits(run: Run) -> Iterator[Finding]:
    for name, measured in run.result["components"].items():
        limited = measured["refused_by_cause"]["rate_limited"]
        arrival = measured["throughput_rps"]
        if not limited or not arrival:
            continue
        refused = limited / run.span_s
        if refused / arrival < NOTABLE:
            continue
        setting = run.system.components[name].rate_limit
        assert setting is not None
        buckets = run.system.components[name].replicas if setting.scope == "replica" else 1
        fix = None
        if not setting.per_workload:
            wanted = math.ceil(arrival / buckets)
            fix = Fix(f"if that traffic is wanted, raise {name}.rate_limit.rate from "
                      f"{setting.rate:g}/s to {wanted}/s"
                      + (" per replica" if buckets > 1 else ""),
                      (f"components.{name}.rate_limit.rate={wanted}/s",))
        yield Finding("limit", "warning", name,
                      f"{name}'s rate limit refuses {share(refused / arrival)} of its visits "
                      f"({count(limited)})", "rate_limit",
                      (f"{rate(arrival)} arrive for a limit of {setting.rate:g}/s"
                       + (" per replica" if buckets > 1 else ""),), fix,
                      {"refused_rps": refused, "arrival_rps": arrival, "limit_rps": setting.rate})


def connection_pools(run: Run) -> Iterator[Finding]:
    """A caller's proxy refuses calls beyond `connection_pool` limits (Envoy overflow)."""
    system, result = run.system, run.result
    for name, measured in result["components"].items():
        pool = measured.get("connection_pool")
        if not pool or not pool["overflow"]:
            continue
        setting = system.components[name].connection_pool
        assert setting is not None
        incoming = [c for c in result["calls"] if c["to"].split(".", 1)[0] == name]
        # Concurrent requests per calling replica (Little's law on healthy round trips).
        per_replica = max((c["attempts"] / run.span_s
                           / system.components[c["from"].split(".", 1)[0]].replicas
                           * round_trip_s(system, c["to"]) for c in incoming), default=0.0)
        needed = max(1, math.ceil(per_replica / TARGET_UTILIZATION))
        limit = setting.max_requests if setting.http2 else min(setting.max_connections,
                                                               setting.max_requests)
        fix = None
        if needed > limit:
            field = "max_requests" if setting.http2 else "max_connections"
            overrides = [f"components.{name}.connection_pool.{field}={needed}"]
            if not setting.http2 and setting.max_requests < needed:
                overrides.append(f"components.{name}.connection_pool.max_requests={needed}")
            fix = Fix(f"raise {name}.connection_pool.{field} from {limit} to {needed}",
                      tuple(overrides))
        yield Finding("limit", "problem", name,
                      f"callers' connection pools to {name} overflowed {count(pool['overflow'])}×",
                      "connection_pool",
                      (f"each calling replica may have {limit} requests in flight to {name}; "
                       f"healthy traffic needs about {per_replica:.3g} at once",), fix,
                      {"overflow": pool["overflow"], "limit": limit,
                       "needed_in_flight": per_replica})


def bulkheads(run: Run) -> Iterator[Finding]:
    system, result = run.system, run.result
    for call in result["calls"]:
        bulkhead = call.get("bulkhead")
        if not bulkhead or not bulkhead["rejected"]:
            continue
        edge = f"{call['from']}→{call['to']}"
        refused = bulkhead["rejected"] / max(1, call["attempts"])
        if refused < NOTABLE / 10:
            continue
        caller = system.components[call["from"].split(".", 1)[0]]
        per_owner = call["attempts"] / run.span_s * round_trip_s(system, call["to"])
        path = run.call_path(call["from"], call["to"])
        spec_call = _spec_call(run, path)
        shared = spec_call is not None and spec_call.get("scope") == "service"
        if not shared:
            per_owner /= caller.replicas
        needed = math.ceil(per_owner / TARGET_UTILIZATION)
        target = call["to"].split(".", 1)[0]
        if needed <= bulkhead["limit"]:
            # Healthy traffic fits: the bulkhead filled because answers were slow (a fault,
            # a saturated callee) and refused as designed, keeping the caller's workers free.
            faults = run.faults_on(target)
            yield Finding("limit", "warning", edge,
                          f"the bulkhead of {edge} refused {share(refused)} of its calls "
                          f"({count(bulkhead['rejected'])}) while {target} answered slowly",
                          "bulkhead",
                          (f"limit {bulkhead['limit']} at once; healthy traffic needs about "
                           f"{per_owner:.3g}, so it filled only while answers were slow",
                           *(f"fault: {fault_text(f, run.end_s)}" for f in faults)),
                          None, {"rejected": bulkhead["rejected"], "limit": bulkhead["limit"],
                                 "needed_in_flight": per_owner})
            continue
        fix = None
        if path is not None:
            field = "size" if spec_call and spec_call.get("type") == "threadpool" \
                else "max_concurrent"
            fix = Fix(f"raise the bulkhead of {edge} from {bulkhead['limit']} to {needed}, "
                      "or make the calls behind it faster",
                      (f"{dotted(path)}.bulkhead.{field}={needed}",))
        yield Finding("limit", "problem", edge,
                      f"the bulkhead of {edge} refused {share(refused)} of its calls "
                      f"({count(bulkhead['rejected'])})", "bulkhead",
                      (f"limit {bulkhead['limit']} at once; healthy traffic needs about "
                       f"{per_owner:.3g}",), fix,
                      {"rejected": bulkhead["rejected"], "limit": bulkhead["limit"],
                       "needed_in_flight": per_owner})


def _spec_call(run: Run, path: tuple[str | int, ...] | None) -> dict[str, Any] | None:
    """The bulkhead settings in effect on the call at `path` (its own or the defaults')."""
    if path is None:
        return None
    node: Any = run.system.model_dump(by_alias=True)
    for part in path:
        node = node[part]
    bulkhead = node.get("bulkhead")
    if bulkhead is None and run.system.defaults.calls is not None \
            and run.system.defaults.calls.bulkhead is not None:
        bulkhead = run.system.defaults.calls.bulkhead.model_dump()
    return bulkhead if isinstance(bulkhead, dict) else None
