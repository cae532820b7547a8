"""Queue subscriptions that fall behind: the backlog and the lag grow, and which limit binds
— the subscription's concurrency, the consumer's workers, a Kafka topic's partitions, or a
crashed group member's partitions waiting for its session to time out."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from scalesim.analytic.load import round_trip_s
from scalesim.diagnosis.components import AMPLIFIED, at_limit, callers_of, offered_rate
from scalesim.diagnosis.consumer_sizing import autoscaled_text, sized_changes
from scalesim.diagnosis.context import (
    BACKLOG_S,
    HOT,
    MIN_BACKLOG,
    NOTABLE,
    TARGET_UTILIZATION,
    Run,
    fault_text,
    unbounded_text,
)
from scalesim.diagnosis.finding import (
    Finding,
    Fix,
    count,
    duration,
    rate,
    rates_apart,
    share,
)
from scalesim.diagnosis.poison import endless_redelivery
from scalesim.diagnosis.subscriptions import Subscription, subscription_of
from scalesim.spec.data import ConsumerGroup
from scalesim.spec.model import Component, Fault


def backlogs(run: Run) -> Iterator[Finding]:
    """Subscriptions whose messages loop forever (`endless_redelivery`), and those that fall
    behind or whose deliveries outlast the visibility timeout (`_backlog`): both may hold."""
    for name, queue in run.result.get("queues", {}).items():
        for finding in (endless_redelivery(run, name, queue), _backlog(run, name, queue)):
            if finding is not None:
                yield finding


def uncommitted(topic: Component, drained_rps: float) -> float:
    """Records a Kafka consumer group has processed but not yet committed, at most: with
    at-least-once offsets committed every `commit_interval`, the backlog counted from the
    committed offset holds up to that interval's worth of processed records. They are not
    waiting: the next commit settles them. 0 for other queues (and at most once, where the
    offset is committed when the record is taken)."""
    delivery = topic.delivery
    if topic.partitions is None or delivery is None or delivery.guarantee == "at_most_once":
        return 0.0
    return delivery.commit_interval * drained_rps


def beyond_arrivals(end: float, published_rps: float, processed: float) -> bool:
    """Whether a backlog of `end` messages at one run's end, less the `processed` ones (a
    Kafka group has not committed yet; for the diagnosis, also the deliveries in flight),
    holds more than BACKLOG_S seconds of arrivals (and at least MIN_BACKLOG messages): the
    diagnosis's and `plan`'s rule for falling behind."""
    return end - processed >= max(MIN_BACKLOG, published_rps * BACKLOG_S)


# A waiting backlog this many standard deviations of the in-flight count's random swing
# (Poisson: its square root) is growth, not noise.
NOISE_Z = 3.0


@dataclass(frozen=True)
class Backlog:
    """A subscription's backlog as measured, per replication (rates per second)."""

    published: float
    drained: float
    growth: float
    end: float
    uncommitted: float
    lag_growth: float
    in_flight: float = 0.0  # of `end`, deliveries under way (Little's law), not waiting
    held: float = 0.0  # of `end`, failed deliveries' messages waiting out their timeout
    refused: float = 0.0  # publishes the full queue turned away, not in `published`

    @property
    def sent(self) -> float:
        """What the publishers sent: a full queue refuses the rest of it, so a fix sized for
        the accepted rate alone would still fall behind once it stopped refusing."""
        return self.published + self.refused

    @property
    def waiting(self) -> float:
        """Messages at the end that no consumer had taken (nor processed uncommitted, nor
        failed and held invisible until their visibility timeout ends)."""
        return max(0.0, self.end - self.uncommitted - self.held - self.in_flight)


def held_invisible(run: Run, topic: Component, queue: dict[str, Any]) -> float:
    """Messages of one replication's backlog at the end whose last delivery failed (a crash
    took it, or it failed) and that wait out their visibility timeout, at least: the failed
    deliveries that neither came back (`redelivered`) nor ended (dead-lettered, lost) in the
    window. They are invisible to the consumers, not waiting for one. A redelivery counted
    for another reason (a timeout that ended first, a failure before the window) only makes
    this fewer. 0 but for a queue redelivering by visibility timeout (not a Kafka topic,
    whose failed records wait for their retry or a rebalance)."""
    delivery = topic.delivery
    if delivery is None or delivery.guarantee == "at_most_once" or \
            delivery.redelivery != "visibility_timeout" or topic.partitions is not None:
        return 0.0
    pending = int(queue["failed"]) - int(queue["redelivered"]) \
        - int(queue["dead_lettered"]) - int(queue["lost"])
    return max(0.0, pending / int(run.result["replications"]))


def in_flight(run: Run, sub: Subscription, queue: dict[str, Any], drained_rps: float) -> float:
    """Deliveries under way on average (`deliveries_under_way`, from the consumer's
    measured mean time): part of the backlog, not waiting."""
    mean_ms = run.latency_ms(sub.target).get("mean")
    return deliveries_under_way(queue["concurrency"], drained_rps,
                                None if mean_ms is None else mean_ms / 1e3)


def deliveries_under_way(concurrency: int, drained_rps: float, mean_s: float | None) -> float:
    """Little's law: the drained rate × the mean time of a delivery, at most the
    subscription's concurrency; 0 when no delivery was answered (no mean)."""
    if mean_s is None or not math.isfinite(mean_s):
        return 0.0
    return min(float(concurrency), drained_rps * mean_s)


def waits_beyond(end: float, published_rps: float, settling: float, under_way: float
                 ) -> bool:
    """Whether a backlog of `end` messages at a run's end holds, beyond the `settling` ones
    (what a Kafka group processed and did not commit; for the diagnosis, also the messages
    held invisible after a failed delivery) and the deliveries `under_way`, more than
    BACKLOG_S of arrivals (`beyond_arrivals`) and more than the in-flight count's random
    swing: the diagnosis's and `plan`'s rule for a backlog that falls behind (once it
    grew)."""
    waiting = max(0.0, end - settling - under_way)
    return waiting > NOISE_Z * math.sqrt(under_way) and \
        beyond_arrivals(end, published_rps, settling + under_way)


def refused_full(run: Run, queue: str) -> float:
    """Publishes per second the queue refused because a subscription was full (it refuses
    a message to all of them when one is full)."""
    return float(run.result["components"][queue]["refused_by_cause"]["rejected"]) / run.span_s


def _measured(run: Run, sub: Subscription, queue: dict[str, Any]) -> Backlog | None:
    """The backlog of subscription `sub` when it grew and what waits in it (beyond the
    deliveries in flight, what a Kafka group has processed and not yet committed, and the
    messages held invisible after a failed delivery) holds more than BACKLOG_S of arrivals
    and more than the in-flight count's random swing; else None."""
    published = queue["published_rps"] or 0.0
    drained = (queue["delivered"] + queue["failed"]) / run.span_s
    # backlog_start/end are one replication's (docs/results.md): growth over one run's window
    growth = (queue["backlog_end"] - queue["backlog_start"]) / float(run.result["simulated_s"])
    lag_growth = ((queue["oldest_end_ms"] or 0.0) - (queue["oldest_start_ms"] or 0.0)) \
        / 1e3 / float(run.result["simulated_s"])
    found = Backlog(published, drained, growth, float(queue["backlog_end"]),
                    uncommitted(sub.topic, drained), lag_growth,
                    in_flight(run, sub, queue, drained), held_invisible(run, sub.topic, queue),
                    refused_full(run, sub.queue))
    # A backlog within the uncommitted window is the commit's rhythm, not growth; one of
    # deliveries under way is the subscription at work; one of messages waiting out their
    # visibility timeout after a failure (a crash) is the timeout's, not the capacity's.
    if growth <= 0.0 or not waits_beyond(found.end, published,
                                         found.uncommitted + found.held, found.in_flight):
        return None
    return found


def _backlog(run: Run, name: str, queue: dict[str, Any]) -> Finding | None:
    sub = subscription_of(run, name)
    found = _measured(run, sub, queue)
    # A redelivery loop that max_deliveries ends keeps the backlog flat: its sign is the
    # dead-lettered share.
    if found is None and (queue.get("dead_letter_share") or 0.0) < NOTABLE:
        return None
    looping = _redelivery_loop(run, sub, queue, found)
    if looping is not None or found is None:
        return looping
    if not found.drained < found.published * (1 - NOTABLE):
        return None
    busy = run.result["components"][sub.consumer_name]["utilization"]
    delivery_s = round_trip_s(run.system, sub.target)
    orphaned = _orphaned(run, sub)
    evidence = _evidence(sub, found, queue, delivery_s, orphaned)
    if found.refused:
        evidence.append(_refused_text(run, sub, found))
    offered = _offered(run, sub, found, evidence)
    sent = found.sent if offered is None else offered
    sizing = sized_changes(run, sub, sent, delivery_s)
    changes, limit = sizing.changes, sizing.limit
    scaled = autoscaled_text(run, sub, sent)
    evidence += [scaled] if scaled is not None else []
    workers = sub.consumer.worker_limit
    if busy is not None and busy >= HOT:
        scaled_to = "the autoscaler's max is" if limit == "autoscale" else "they are"
        limit = "autoscale" if limit == "autoscale" else "workers"
        fleet = "" if sub.consumer.autoscale is not None else f"{sub.consumer.replicas} × "
        evidence.append(f"{sub.consumer_name}'s {fleet}{workers} workers are {share(busy)} "
                        f"busy: {scaled_to} the limit too")
    if orphaned is not None:
        limit = "session_timeout"
    if limit == "consumer_concurrency" and busy is not None and workers is not None:
        evidence.append(f"{sub.consumer_name}'s workers are only {share(busy)} busy: the "
                        "subscription's concurrency is the limit, so more "
                        f"{sub.consumer_name} replicas alone change nothing")
    summary = (f"{name} falls behind: backlog +{rate(found.growth)}, {count(found.waiting)} "
               "waiting at the end")
    parts: list[tuple[str, str]] = []  # (what to do, its override)
    if orphaned is not None:
        summary, more, session = _orphaned_texts(run, sub, found, orphaned, delivery_s)
        evidence += more
        parts += [session] if session is not None else []
    if changes:
        parts.append((f"raise {' and '.join(text for text, _ in changes)}: sized for the "
                      f"{_sized_text(found, offered)} with "
                      f"{share(1 - TARGET_UTILIZATION)} headroom", ""))
    elif not math.isfinite(delivery_s):
        parts.append((unbounded_text(run.system, sub.consumer_name), ""))
    run.explained.add(sub.consumer_name)
    overrides = tuple(o for _, o in parts if o) + tuple(o for _, o in changes)
    fix = Fix("; ".join(text for text, _ in parts), overrides) if parts else None
    return Finding(
        "backlog", "problem", name, summary, limit, tuple(evidence), fix,
        {"published_rps": found.published, "refused_rps": found.refused,
         "drained_rps": found.drained,
         "backlog_growth_rps": found.growth, "backlog_end": found.end,
         "in_flight": found.in_flight, "invisible": found.held,
         "uncommitted": found.uncommitted, "lag_growth_s_per_s": found.lag_growth,
         "concurrency": sub.in_flight, "consumer_utilization": busy})


# A visibility timeout fixed for a redelivery loop is this many times the consumer's p99
# processing time, rounded up to whole seconds (SQS counts it in seconds): room for a
# slower delivery than any measured.
VISIBILITY_MARGIN = 2.0


def _redelivery_loop(run: Run, sub: Subscription, queue: dict[str, Any],
                     found: Backlog | None) -> Finding | None:
    """A growing backlog (`found`), or messages dead-lettered, whose deliveries outlast the
    visibility timeout: the message comes back before the delivery acknowledges it, so the
    work is done again and again and, when every delivery is that long, no message ever
    settles, or each is dead-lettered once max_deliveries runs out, though its deliveries
    succeeded — the timeout is the cause, not the concurrency nor the consumer. None when
    the deliveries end within it."""
    delivery = sub.topic.delivery
    p99_ms = run.latency_ms(sub.target).get("p99")
    if delivery is None or delivery.guarantee == "at_most_once" or sub.topic.partitions \
            is not None or p99_ms is None or p99_ms / 1e3 < delivery.visibility_timeout \
            or not queue["redelivered"]:
        return None
    timeout = delivery.visibility_timeout
    latency = run.latency_ms(sub.target)
    per_message = queue["deliveries"] / max(1, queue["published"])
    settled = queue["deliveries_per_message"]
    raised = max(1, math.ceil(VISIBILITY_MARGIN * p99_ms / 1e3))
    settling = "no message settled in the window" if settled is None else \
        f"a settled message took {settled:.3g} deliveries"
    if found is None:
        settling += (f"; {share(queue['dead_letter_share'])} of the settled messages were "
                     f"dead-lettered after max_deliveries ({delivery.max_deliveries})")
    evidence = (
        f"{count(queue['deliveries'])} deliveries of {count(queue['published'])} messages "
        f"published ({per_message:.3g} a message), {count(queue['redelivered'])} of them "
        f"redeliveries; {settling}",
        f"{sub.target} takes {duration((latency['p50'] or 0.0) / 1e3)} at the median and "
        f"{duration(p99_ms / 1e3)} at p99, against a visibility_timeout of "
        f"{duration(timeout)}: a message comes back while its delivery still runs, and that "
        "delivery's acknowledgement comes too late",
        _unsettled_text(queue, found))
    summary = (f"{sub.name}: deliveries outlast visibility_timeout ({duration(timeout)}), so "
               f"messages come back before they are acknowledged; {settling}")
    fix = Fix(f"raise {sub.queue}.delivery.visibility_timeout from {duration(timeout)} to "
              f"{raised} s, {VISIBILITY_MARGIN:g} × {sub.consumer_name}'s p99 processing time "
              f"({duration(p99_ms / 1e3)}) rounded up to whole seconds; otherwise a message "
              "whose every delivery outlasts the timeout is delivered again and again "
              + ("until max_deliveries dead-letters it" if delivery.max_deliveries else
                 "and the loop never ends"),
              (f"components.{sub.queue}.delivery.visibility_timeout={raised}s",))
    run.explained.add(sub.consumer_name)
    ending: dict[str, float | None] = {"dead_letter_share": queue["dead_letter_share"]} \
        if found is None else {"backlog_growth_rps": found.growth}
    return Finding("backlog", "problem", sub.name, summary, "visibility_timeout", evidence,
                   fix, {"published_rps": queue["published_rps"] or 0.0,
                         "backlog_end": float(queue["backlog_end"]), **ending,
                         "deliveries_per_message": per_message,
                         "processing_p99_s": p99_ms / 1e3,
                         "visibility_timeout_s": timeout})


def _unsettled_text(queue: dict[str, Any], found: Backlog | None) -> str:
    """What the loop leaves: a growing backlog, or dead letters of processed messages."""
    if found is not None:
        return (f"{count(found.end)} messages unsettled at the end, {rate(found.growth)} "
                "more each second")
    failed = queue["failed"]
    return (f"{count(queue['dead_lettered'])} messages dead-lettered and "
            f"{count(queue['duplicates'])} duplicate deliveries, while "
            + ("no delivery failed" if not failed else f"only {count(failed)} deliveries "
               "failed") + ": the consumer did the work, its acknowledgements came late")


def _evidence(sub: Subscription, found: Backlog, queue: dict[str, Any],
              delivery_s: float, orphaned: Orphaned | None = None) -> list[str]:
    """The backlog, what of it is only uncommitted, and what drains it."""
    held = f", {count(found.held)} failed and invisible until their visibility timeout " \
        "ends" if found.held else ""
    evidence = [
        f"{count(found.waiting)} messages wait at the end of the window (of "
        f"{count(found.end)} unsettled, {count(found.in_flight)} in flight{held}), "
        f"{rate(found.growth)} more each second; the oldest has waited "
        f"{duration((queue['oldest_end_ms'] or 0.0) / 1e3)} (+{found.lag_growth:.2g} s/s)"]
    if found.uncommitted and sub.topic.delivery is not None:
        evidence.append(f"up to {count(found.uncommitted)} of them are records processed but "
                        "not yet committed (commit_interval "
                        f"{sub.topic.delivery.commit_interval:g} s)")
    evidence.append(_drain_text(sub, found, delivery_s, orphaned))
    return evidence


def _sent_word(found: Backlog) -> str:
    """How the rate a fix is sized for was measured."""
    return "sent (accepted and refused)" if found.refused else "published"


def _sized_text(found: Backlog, offered: float | None) -> str:
    """The rate a fix is sized for, and where it comes from."""
    if offered is None:
        return f"{rate(found.sent)} {_sent_word(found)}"
    return f"{rate(offered)} the workloads offer"


def _offered(run: Run, sub: Subscription, found: Backlog, evidence: list[str]
             ) -> float | None:
    """The publications per second the workloads offer the queue through the call graph,
    when the components that publish to it (or call those) are at their limit and it is
    more than AMPLIFIED × what was sent: they let only that through, and once their own
    findings' fixes relieve them the queue gets the offered load (the saturated fix's
    rule); sized for less, one round of fixes would leave the backlog. Else None."""
    offered = offered_rate(run, sub.queue, run.system.simulation.warmup, run.end_s)
    publishers = sorted(callers_of(run, sub.queue) & at_limit(run))
    if offered <= AMPLIFIED * found.sent or not publishers:
        return None
    evidence.append(f"the components that publish to {sub.queue} or call those "
                    f"({', '.join(publishers)}) are at their limit, so only "
                    f"{rate(found.sent)} {'were' if found.refused else 'was'} "
                    f"{_sent_word(found)}: the workloads offer {rate(offered)} through the "
                    "call graph (the analytic offered load), which it gets once they keep up")
    return offered


def _refused_text(run: Run, sub: Subscription, found: Backlog) -> str:
    """The publishes the full queue turned away: part of the load the fix must carry."""
    capacity = sub.topic.capacity
    full = "full" if capacity is None else f"full (capacity {count(capacity)} a subscription)"
    return (f"{sub.queue} refused {count(found.refused * run.span_s)} publishes "
            f"({rate(found.refused)}) because it was {full}: {rate(found.sent)} were sent, "
            f"{rate(found.published)} accepted")


def _drain_text(sub: Subscription, found: Backlog, delivery_s: float,
                orphaned: Orphaned | None = None) -> str:
    """How many deliveries run at once, and what they drain (a group that lost members to
    a crash: how many there were before it and are after the rebalance)."""
    drained, published = rates_apart(found.drained, found.published)
    consumer, concurrency, partitions = sub.consumer, sub.concurrency, sub.topic.partitions
    members = consumer.replicas * concurrency if partitions is not None else concurrency
    group = f"{members} group members ({consumer.replicas} replicas × {concurrency})"
    verb = "drain"
    if partitions is not None and orphaned is not None and orphaned.members is not None:
        group += (f" before the crash, {orphaned.members} after the rebalance at "
                  f"{orphaned.rebalance_s:g} s,")
        members = orphaned.members
        verb = "since; over the window they drained"
    drain = (f"{verb} {drained} < {published} published; one delivery takes "
             f"{duration(delivery_s)} with no queueing")
    if partitions is None:
        return f"{sub.at_once} {drain}"
    idle = f", {members - partitions} of them idle" if members > partitions else ""
    return (f"{group} on {partitions} partitions{idle}: at most {min(members, partitions)} "
            f"records at a time {drain}")


def _after_rebalance(sub: Subscription, found: Backlog, orphaned: Orphaned,
                     delivery_s: float) -> tuple[str, str] | None:
    """(summary tail, evidence) of what the members left after the rebalance can process
    against the published rate: when it is more, the backlog is the crash's and drains;
    None before a rebalance or without a finite delivery time."""
    members = orphaned.members
    partitions = sub.topic.partitions
    if members is None or partitions is None or not 0.0 < delivery_s < math.inf:
        return None
    most = min(members, partitions) / delivery_s
    published = rate(found.published)
    can = (f"since the rebalance its {members} members process at most {rate(most)} (one "
           f"record each at a time, {duration(delivery_s)} a delivery)")
    if most > found.published:
        return (f"; the {members} members left drain it",
                f"{can}, more than the {published} published: the backlog is what piled up "
                "while the crashed member's partitions waited, and it drains")
    return (f"; the {members} members left cannot keep up",
            f"{can}, no more than the {published} published: the members left cannot keep up")


@dataclass(frozen=True)
class Orphaned:
    """Partitions of a crashed group member that waited for its session to time out."""

    crashes: tuple[Fault, ...]
    rebalance_s: float | None  # when the group noticed (None: not within the window)
    session_timeout: float
    members: int | None = None  # in the group after its last rebalance (None: none)


def _orphaned(run: Run, sub: Subscription) -> Orphaned | None:
    """The crash of a consumer replica whose partitions waited for `session_timeout`: the
    group rebalanced for a session timeout, or the window ended before it could."""
    topic = sub.topic
    if topic.partitions is None:
        return None
    session = (topic.group or ConsumerGroup()).session_timeout
    crashes = tuple(f for f in run.faults_on(sub.consumer_name) if f.crash)
    rebalances = run.result["queues"][sub.name].get("rebalances", [])
    noticed = [r["t_s"] for r in rebalances if r["cause"] == "session timeout"]
    pending = any(f.at + session >= run.end_s for f in crashes)
    if not crashes or not (noticed or pending):
        return None
    first = min(noticed, default=None)
    last = rebalances[-1]["members"] if noticed else None
    return Orphaned(crashes, first, session, last)


def _orphaned_texts(run: Run, sub: Subscription, found: Backlog, orphaned: Orphaned,
                    delivery_s: float) -> tuple[str, list[str], tuple[str, str] | None]:
    """Summary, evidence and the session_timeout change (text, override) of a backlog built
    by a crashed member's partitions while the group waited for its session to time out."""
    crashed = ", ".join(f.target for f in orphaned.crashes)
    queue = sub.queue
    summary = (f"{sub.name} fell behind when {crashed} crashed: its partitions waited "
               f"session_timeout ({orphaned.session_timeout:g} s) for a new owner; "
               f"{count(found.waiting)} waiting at the end")
    evidence = [f"fault: {fault_text(f, run.end_s)}" for f in orphaned.crashes]
    evidence.append("the group had not noticed by the end of the window: nobody consumed the "
                    "crashed member's partitions" if orphaned.rebalance_s is None else
                    f"the group noticed and rebalanced at {orphaned.rebalance_s:g} s; until "
                    "then nobody consumed the crashed member's partitions")
    after = _after_rebalance(sub, found, orphaned, delivery_s)
    if after is not None:
        summary += after[0]
        evidence.append(after[1])
    # Kafka's default before 3.0 (and 3× the default heartbeat.interval.ms, 3 s, plus room).
    shorter = 10.0
    if orphaned.session_timeout <= shorter:
        return summary, evidence, None
    text = (f"shorten {queue}.group.session_timeout from {orphaned.session_timeout:g} s to "
            f"{shorter:g} s (Kafka's default before 3.0) so that a crashed member's partitions "
            "move sooner")
    return summary, evidence, (text, f"components.{queue}.group.session_timeout="
                                     f"{shorter:g}s")
