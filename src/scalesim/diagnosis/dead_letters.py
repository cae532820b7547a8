"""Messages dead-lettered because crashes of their consumer used up their deliveries: a
delivery the crashed consumer held fails and counts toward `max_deliveries`, so a message
held at enough crashes goes to the dead-letter queue though it never failed on its own.
(Dead letters of deliveries that outlast the visibility timeout are `queues`' finding.)
A Kafka topic returns no crashed delivery on its own: the crashed member's partitions
resume from their last committed offset, so what a crash costs there is the records
processed again (duplicates), which is the finding on a topic (docs/data.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scalesim.diagnosis.context import NOTABLE, Run, fault_text
from scalesim.diagnosis.finding import Finding, Fix, count, share
from scalesim.diagnosis.subscriptions import Subscription, subscription_of
from scalesim.spec.errors import counted
from scalesim.spec.model import Fault

# Crashed deliveries at least this share of the failed ones make the crashes the cause.
CRASHED_SHARE = 0.5
MOST_DELIVERIES = 1000  # the spec's (and SQS maxReceiveCount's) highest max_deliveries


def crashed_deliveries(run: Run) -> Iterator[Finding]:
    for name, queue in run.result.get("queues", {}).items():
        sub = subscription_of(run, name)
        if sub.topic.partitions is not None:
            finding = _processed_again(run, sub, queue)
        elif (queue.get("dead_letter_share") or 0.0) < NOTABLE or any(
                f.subject == name and f.limit == "visibility_timeout" for f in run.found):
            continue
        else:
            finding = _finding(run, sub, queue)
        if finding is not None:
            yield finding


def _crashed(run: Run, sub: Subscription, queue: dict[str, Any]) -> int:
    """The subscription's deliveries that failed `crashed`: the consumer operation's, at most
    the subscription's failed deliveries (other callers of the operation count there too)."""
    operation = sub.target.split(".", 1)[1]
    requests = run.result["components"][sub.consumer_name]["operations"][operation]["requests"]
    return min(int(requests["failed_by_cause"].get("crashed", 0)), int(queue["failed"]))


def raised_limit(crashes: int, limit: int, other_failures: bool) -> int:
    """The max_deliveries that crashes no longer exhaust: a crash interrupts a message at
    most once (its consumer holds one delivery of it at a time), so with `crashes` crashes,
    one more delivery than that leaves each message one that no crash took when nothing
    else fails; when deliveries also fail otherwise, `limit` more keeps the deliveries those
    failures had (never above the spec's highest)."""
    return min(MOST_DELIVERIES, crashes + (limit if other_failures else 1))


def _finding(run: Run, sub: Subscription, queue: dict[str, Any]) -> Finding | None:
    """The dead letters of `sub` when crash faults struck its consumer and crashed
    deliveries are at least CRASHED_SHARE of its failed ones; else None."""
    delivery = sub.topic.delivery
    crashes = [f for f in run.faults_on(sub.consumer_name) if f.crash]
    limit = None if delivery is None else delivery.max_deliveries
    crashed, failed = _crashed(run, sub, queue), int(queue["failed"])
    if limit is None or not crashes or not crashed or crashed < CRASHED_SHARE * failed:
        return None
    raised = raised_limit(len(crashes), limit, crashed < failed)
    if raised <= limit:
        return None
    dead, dead_share = int(queue["dead_lettered"]), float(queue["dead_letter_share"])
    settled = round(dead / dead_share)
    summary = (f"{sub.name}: {share(dead_share)} of the settled messages dead-lettered "
               f"({count(dead)} of {count(settled)}): deliveries interrupted by "
               f"{len(crashes)} crash{'es' if len(crashes) > 1 else ''} of {sub.consumer_name} "
               f"used up max_deliveries ({limit})")
    evidence = (*(f"fault: {fault_text(f, run.end_s)}" for f in crashes),
                f"{count(crashed)} of the {count(failed)} failed deliveries were interrupted by "
                "a crash (crashed)" + ("; no delivery failed otherwise" if crashed == failed
                                       else f"; {count(failed - crashed)} failed otherwise"),
                _counted_text(sub, limit))
    fix = Fix(f"raise {sub.queue}.delivery.max_deliveries from {limit} to {raised}: a crash "
              "interrupts a message at most once, as the consumer holds one delivery of it at "
              f"a time, so with {len(crashes)} crashes " + (
                  f"{raised} deliveries leave every message one that no crash interrupts"
                  if crashed == failed else f"{raised} deliveries leave every message the "
                  f"{limit} it had for the other failures") + "; " + _replicas_text(crashes),
              (f"components.{sub.queue}.delivery.max_deliveries={raised}",))
    return Finding("backlog", "problem", sub.name, summary, "max_deliveries", evidence, fix,
                   {"dead_letter_share": dead_share, "dead_lettered": dead,
                    "crashed_deliveries": crashed, "failed_deliveries": failed,
                    "crashes": len(crashes), "max_deliveries": limit})


def _counted_text(sub: Subscription, limit: int) -> str:
    """Why an interrupted delivery counts toward max_deliveries, in the queue's own terms."""
    delivery = sub.topic.delivery
    assert delivery is not None
    returned = ("the queue returns a crashed consumer's unacknowledged deliveries (prefetched "
                "ones too) as failed ones, and counts each toward max_deliveries, as a "
                "RabbitMQ quorum queue counts a closed channel's returns against "
                "x-delivery-limit" if delivery.redelivery == "requeue" else
                "each crashed delivery was a receive, which counts toward max_deliveries "
                "whatever became of it, as SQS counts every receive toward maxReceiveCount; "
                "the message comes back after its visibility timeout")
    return (f"{returned}: a message {sub.consumer_name} held at {limit} crash"
            f"{'es' if limit > 1 else ''} is dead-lettered though it never failed on its own")


def _replicas_text(crashes: list[Fault]) -> str:
    """Why more consumer replicas are not the fix: a crash of the whole component takes them
    all; one of a replica still fails what it holds, only less of it."""
    if any(f.replica is None for f in crashes):
        return "more replicas would not help, as the crash takes every replica down"
    return ("more replicas only shrink what each crashed replica holds: what it holds still "
            "counts")


def _processed_again(run: Run, sub: Subscription, queue: dict[str, Any]) -> Finding | None:
    """The records a Kafka group processed twice after crashes (not graceful stops, which
    commit first) of its consumer, when they are NOTABLE of those published and processing
    twice does harm (the consumer is not `idempotent`); else None."""
    crashes = [f for f in run.faults_on(sub.consumer_name) if f.crash and not f.graceful]
    duplicates, published = int(queue.get("duplicates", 0)), int(queue.get("published", 0))
    delivery = sub.topic.delivery
    if not crashes or delivery is None or sub.topic.consumers[sub.index].idempotent \
            or duplicates == 0 or duplicates < NOTABLE * published:
        return None
    interval, redelivered = delivery.commit_interval, int(queue["redelivered"])
    cut = _crashed(run, sub, queue)
    targets = ", ".join(sorted({f.target for f in crashes}))
    summary = (f"{sub.name}: {count(duplicates)} records processed twice "
               f"({share(duplicates / published)} of the {count(published)} published): "
               f"{len(crashes)} crash{'es' if len(crashes) > 1 else ''} of {targets} sent "
               "the crashed members' partitions back to their last committed offset")
    evidence = (*(f"fault: {fault_text(f, run.end_s)}" for f in crashes),
                f"{count(redelivered)} records delivered again, {count(duplicates)} of them "
                f"processed before (duplicates); {counted(cut, 'delivery', 'deliveries')} "
                f"{'was' if cut == 1 else 'were'} interrupted by a crash (crashed)",
                "a Kafka group hands a crashed member's partitions on from their last "
                "committed offset: the records it processed since that commit are processed "
                "again by their next owner, which cannot tell they were processed before",
                _committed_text(interval))
    return Finding("duplicates", "warning", sub.name, summary, "commit_interval", evidence,
                   _redo_fix(sub, interval),
                   {"duplicates": duplicates, "redelivered": redelivered,
                    "published": published, "duplicate_share": duplicates / published,
                    "crashes": len(crashes), "commit_interval_s": interval})


def _committed_text(interval: float) -> str:
    """How much a crash redoes at the topic's commit interval."""
    if interval == 0.0:
        return ("offsets are committed after every record (commit_interval 0): the records "
                "processed again are those whose commit the crash cut off")
    return (f"offsets are committed every {interval:g} s (commit_interval): a crash redoes up "
            f"to {interval:g} s of the crashed members' records")


def _redo_fix(sub: Subscription, interval: float) -> Fix:
    """Commit after every record, so a crash finds its processed records committed; already
    so, skip the records processed before (effectively once). Either way a consumer whose
    second processing does no harm can say so (`idempotent`)."""
    harmless = ("; or, if processing a record twice does no harm, say so with "
                f"{sub.queue}.consumers[{sub.index}].idempotent: true")
    if interval > 0.0:
        return Fix(f"commit after every record: lower {sub.queue}.delivery.commit_interval "
                   f"from {interval:g} s to 0, so the records a crash finds processed are "
                   "committed already (a commit a record costs the broker more requests)"
                   + harmless, (f"components.{sub.queue}.delivery.commit_interval=0s",))
    return Fix(f"deliver {sub.queue} effectively once: the consumer then skips the records "
               "it processed before (a processed-records table)" + harmless,
               (f"components.{sub.queue}.delivery.guarantee=effectively_once",))
