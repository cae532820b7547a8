"""What a queue subscription needs to drain a rate at 85 %: deliveries in flight (the
subscription's `concurrency`, or each consumer replica's `prefetch`, or a Kafka topic's
partitions and consumers per member) and consumer replicas. For an autoscaled consumer the
replicas are the autoscaler's bounds: its spec `replicas` is only where it starts, so a
fix that raises them is scaled straight back (docs/results.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scalesim.analytic.load import hold_s
from scalesim.diagnosis.context import TARGET_UTILIZATION, Run, whole
from scalesim.diagnosis.finding import Limit, count, duration, rate
from scalesim.diagnosis.subscriptions import Subscription
from scalesim.spec.control import Autoscale

Change = tuple[str, str]  # (what to do, its `--set` override)
SHOWN_EVENTS = 4  # scale events an autoscaled consumer's evidence quotes


@dataclass(frozen=True)
class Sizing:
    """The changes that drain a rate, and the limit of the spec that binds."""

    changes: list[Change]
    limit: Limit
    ready: bool = False  # an autoscaled consumer's min is raised: its fleet kept ready


def sized_changes(run: Run, sub: Subscription, sent: float, delivery_s: float,
                  burst: bool = False) -> Sizing:
    """What to raise (text, override) so `sub` drains `sent` messages a second at 85 %: the
    deliveries in flight (Little's law on a healthy delivery: the subscription's concurrency,
    each replica's prefetch on the fleet that serves the rate, or a Kafka topic's partitions
    and consumers per member) and the consumer's replicas (`_replicas`). `burst`: the rate
    is a burst's, which an autoscaler reaches only sync by sync, so its fleet must be ready
    (min) rather than allowed (max)."""
    in_flight = whole(sent * delivery_s / TARGET_UTILIZATION)
    fleet = _fleet(run, sub, sent)
    changes: list[Change] = []
    limit: Limit = "consumer_concurrency"
    if in_flight is None or fleet is None:  # an infinite mean delivery: nothing to size
        return Sizing(changes, limit)
    partitions = sub.topic.partitions
    if partitions is not None:
        limit = _group_limit(sub, partitions, fleet, in_flight, changes)
    elif sub.prefetch is not None:
        each = math.ceil(in_flight / fleet)
        if each > sub.prefetch:
            changes.append((f"the prefetch of {sub.queue}'s subscription to "
                            f"{sub.consumer_name} from {sub.prefetch} to {each} a replica",
                            f"components.{sub.queue}.consumers.{sub.index}.prefetch={each}"))
    elif in_flight > sub.concurrency:
        changes.append((f"the concurrency of {sub.queue}'s subscription to "
                        f"{sub.consumer_name} from {sub.concurrency} to {in_flight}",
                        f"components.{sub.queue}.consumers.{sub.index}.concurrency="
                        f"{in_flight}"))
    replicas, ready = _replicas(sub, fleet, burst)
    if replicas and sub.consumer.autoscale is not None and not changes:
        limit = "autoscale"
    return Sizing(changes + replicas, limit, ready)


def _fleet(run: Run, sub: Subscription, sent: float) -> int | None:
    """The consumer replicas that serve `sent` visits a second at 85 % busy (at least the
    spec's fixed count, or for an autoscaled consumer at least its min and 1); the spec's
    count when its workers are unlimited; None for an infinite mean hold."""
    consumer = sub.consumer
    workers = consumer.worker_limit
    autoscale = consumer.autoscale
    least = consumer.replicas if autoscale is None else max(1, autoscale.min)
    if workers is None:
        return max(1, least)
    sized = whole(sent * hold_s(run.system, sub.target) / (workers * TARGET_UTILIZATION))
    return None if sized is None else max(least, sized, 1)


def _replicas(sub: Subscription, fleet: int, burst: bool) -> tuple[list[Change], bool]:
    """The replica changes for a `fleet`, and whether they keep it ready: the spec's count
    for a fixed consumer; for an autoscaled one its `max` (the most it may add), and for a
    burst its `min` too (what is ready when the burst comes; a consumer that starts at 0,
    as KEDA's, starts there)."""
    name, consumer = sub.consumer_name, sub.consumer
    autoscale = consumer.autoscale
    if autoscale is None:
        return ([(f"{name}.replicas from {consumer.replicas} to {fleet}",
                  f"components.{name}.replicas={fleet}")]
                if fleet > consumer.replicas else []), False
    changes: list[Change] = []
    ready = burst and fleet > autoscale.min
    if ready:
        changes.append((f"{name}.autoscale.min from {autoscale.min} to {fleet}",
                        f"components.{name}.autoscale.min={fleet}"))
        if consumer.replicas == 0:  # only min 0 lets a consumer start at 0
            changes.append((f"{name}.replicas (where the autoscaler starts) from 0 to {fleet}",
                            f"components.{name}.replicas={fleet}"))
    if fleet > autoscale.max:
        changes.append((f"{name}.autoscale.max from {autoscale.max} to {fleet}",
                        f"components.{name}.autoscale.max={fleet}"))
    return changes, ready


def _group_limit(sub: Subscription, partitions: int, replicas: int, needed: int,
                 changes: list[Change]) -> Limit:
    """A Kafka consumer group has at most min(partitions, members) records in flight
    (members beyond the partitions sit idle): add to `changes` what is short of `needed`
    records in flight (consumers per replica counted on the fixed `replicas`), and return the
    limit that binds now."""
    if partitions < needed:
        changes.append((f"{sub.queue}.partitions from {partitions} to {needed}",
                        f"components.{sub.queue}.partitions={needed}"))
    per_replica = math.ceil(needed / replicas)
    if per_replica > sub.concurrency:
        changes.append((f"the consumers per {sub.consumer_name} replica (concurrency) from "
                        f"{sub.concurrency} to {per_replica}",
                        f"components.{sub.queue}.consumers.{sub.index}.concurrency="
                        f"{per_replica}"))
    members = sub.consumer.replicas * sub.concurrency
    return "partitions" if partitions < needed and partitions <= members \
        else "consumer_concurrency"


def autoscaled_text(run: Run, sub: Subscription, sent: float) -> str | None:
    """Evidence for an autoscaled consumer: its bounds, what its max fleet serves against
    `sent` a second, and how it scaled (first replication). None for a fixed consumer or
    one with unlimited workers."""
    consumer, name = sub.consumer, sub.consumer_name
    autoscale, workers = consumer.autoscale, consumer.worker_limit
    if autoscale is None or workers is None:
        return None
    hold = hold_s(run.system, sub.target)
    most = autoscale.max * workers / hold if hold > 0 else math.inf
    serves = "more than" if most > sent else "under"
    events = (run.result["components"][name].get("scaling") or {}).get("events") or []
    scaled = ", ".join(f"{e['from']} → {e['to']} at {e['t_s']:g} s"
                       for e in events[:SHOWN_EVENTS])
    return (f"{name} is autoscaled from {autoscale.min} to {autoscale.max} replicas"
            f"{_metric_text(autoscale)}: at its max, {autoscale.max} × {workers} workers "
            f"holding one for {duration(hold)} serve at most {rate(most)}, {serves} the "
            f"{rate(sent)} to drain; "
            + (f"it scaled {scaled} (first replication)" if scaled else
               "it did not scale in the window (first replication)"))


def _metric_text(autoscale: Autoscale) -> str:
    """' (KEDA, on jobs's backlog)' for a queue metric; '' for the HPA's own."""
    queues = autoscale.queue_metrics
    if not queues:
        return ""
    backlog = ", ".join(f"{q.of}'s backlog, {count(q.backlog)} a replica" for q in queues)
    return f" (KEDA, on {backlog})"
