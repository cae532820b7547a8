"""Queue subscriptions that fall behind: the backlog and the lag grow, and which limit binds
— the subscription's concurrency or the consumer's workers."""

from __future__ import annotations

import math
from collections.abc import Iterator

from scalesim.analytic.load import hold_s, round_trip_s
from scalesim.diagnosis.context import (
    BACKLOG_S,
    HOT,
    MIN_BACKLOG,
    TARGET_UTILIZATION,
    Run,
)
from scalesim.diagnosis.finding import Finding, Fix, Limit, count, duration, rate, share


def backlogs(run: Run) -> Iterator[Finding]:
    system, result = run.system, run.result
    for name, queue in result.get("queues", {}).items():
        queue_name, target = name.split("->", 1)
        published = queue["published_rps"] or 0.0
        growth = (queue["backlog_end"] - queue["backlog_start"]) / run.span_s
        end = queue["backlog_end"] / int(result["replications"])
        if growth <= 0.0 or end < max(MIN_BACKLOG, published * BACKLOG_S):
            continue
        component = system.components[queue_name]
        index = next(i for i, c in enumerate(component.consumers)
                     if ".".join(system.resolve(c.to)) == target)
        concurrency = component.consumers[index].concurrency
        consumer_name = target.split(".", 1)[0]
        consumer = system.components[consumer_name]
        measured = result["components"][consumer_name]
        busy = measured["utilization"]
        delivery_s = round_trip_s(system, target)
        drained = (queue["delivered"] + queue["failed"]) / run.span_s
        lag_growth = ((queue["oldest_end_ms"] or 0.0) - (queue["oldest_start_ms"] or 0.0)) \
            / 1e3 / float(result["simulated_s"])
        evidence = [
            f"{count(end)} messages wait at the end of the window, "
            f"{rate(growth)} more each second; the oldest has waited "
            f"{duration((queue['oldest_end_ms'] or 0.0) / 1e3)} (+{lag_growth:.2g} s/s)",
            f"{concurrency} deliveries at a time drain {rate(drained)} < "
            f"{rate(published)} published; one delivery takes "
            f"{duration(delivery_s)} with no queueing"]
        needed = math.ceil(published * delivery_s / TARGET_UTILIZATION)
        overrides, changes = [], []
        path = f"components.{queue_name}.consumers.{index}.concurrency"
        if needed > concurrency:
            overrides.append(f"{path}={needed}")
            changes.append(f"the concurrency of {queue_name}'s subscription to "
                           f"{consumer_name} from {concurrency} to {needed}")
        workers = consumer.worker_limit
        limit: Limit = "consumer_concurrency"
        if workers is not None:
            hold = hold_s(system, target)
            replicas = max(consumer.replicas, math.ceil(
                published * hold / (workers * TARGET_UTILIZATION)))
            if busy is not None and busy >= HOT:
                limit = "workers"
                evidence.append(f"{consumer_name}'s {consumer.replicas} × {workers} workers "
                                f"are {share(busy)} busy: they are the limit too")
            elif busy is not None:
                evidence.append(f"{consumer_name}'s workers are only {share(busy)} busy: the "
                                "subscription's concurrency is the limit, so more "
                                f"{consumer_name} replicas alone change nothing")
            if replicas > consumer.replicas:
                overrides.append(f"components.{consumer_name}.replicas={replicas}")
                changes.append(f"{consumer_name}.replicas from {consumer.replicas} "
                               f"to {replicas}")
        run.explained.add(consumer_name)
        fix = None
        if changes:
            fix = Fix(f"raise {' and '.join(changes)}: that serves {rate(published)} at "
                      f"{share(TARGET_UTILIZATION)} busy", tuple(overrides))
        yield Finding(
            "backlog", "problem", name,
            f"{name} falls behind: backlog +{rate(growth)}, {count(end)} waiting at the end",
            limit, tuple(evidence), fix,
            {"published_rps": published, "drained_rps": drained, "backlog_growth_rps": growth,
             "backlog_end": end, "lag_growth_s_per_s": lag_growth,
             "concurrency": concurrency, "consumer_utilization": busy})
