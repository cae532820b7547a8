"""What `generate` then `import` gives back of a queue's `partitions`, `delivery` and `group`,
stated per broker from the mapping table of docs/import.md (not computed by the importer),
for comparing an import with its original."""

from __future__ import annotations

import copy
from typing import Any

from scalesim.spec.data import ConsumerGroup, Delivery
from scalesim.spec.model import Component, Kind, System

Terms = tuple[int | None, dict[str, Any], dict[str, Any] | None]


def expected_back(system: System, name: str) -> Terms:
    """(partitions, delivery, group) the import of queue `name` should hold, as model dumps.

    broker.json is written for every queue of a known broker (generate/brokers.py; a queue
    without `tech` is RabbitMQ), a `delivery` left out as its default. A dead letter comes
    back only when the dead-letter queue runs on the same broker (no broker routes to
    another). Kafka: the partitions exactly (a queue
    without them gets a partition per delivery in flight, marked so: none comes back), the
    session timeout (ms) and the assignor with partitions, the guarantee (effectively once
    is the consumer's deduplication: at least once) and, at least once, the commit interval
    (with partitions: a queue without them acknowledges each message) and the error
    handler's attempts and dead-letter topic. RabbitMQ (one quorum queue per
    subscription): the guarantee, the redelivery and the visibility timeout as
    x-consumer-timeout in ms (at least once), x-delivery-limit + 1 (−1:
    no limit) and the dead-letter exchange; a queue without consumers has no queue to read,
    but a dead-letter queue, whose own queue holds the arguments and no consumer. SQS: at
    least once (a PLACEHOLDER: the attributes do not say), the visibility timeout in whole
    seconds (0 is left out), the redrive policy (only with both max_deliveries and
    dead_letter). What is not written comes back as the spec's default."""
    component = system.components[name]
    none: Terms = (None, Delivery().model_dump(), None)
    if component.kind is not Kind.QUEUE:
        return none
    tech = _tech(component)
    fed = any(_tech(c) == "rabbitmq" and c.delivery is not None
              and c.delivery.dead_letter == name for c in system.components.values())
    sent = component.delivery or Delivery()
    at_least = sent.guarantee != "at_most_once"
    back: dict[str, Any] = {"guarantee": "at_least_once" if at_least else "at_most_once"}
    dead = sent.dead_letter.lower() if sent.dead_letter and \
        _tech(system.components[sent.dead_letter]) == tech else None
    if tech == "kafka":
        group = component.group or ConsumerGroup()
        session_ms = round(group.session_timeout * 1000)
        back_group: dict[str, Any] = {}
        if session_ms != 45_000:
            back_group["session_timeout"] = f"{session_ms}ms"
        if group.rebalance == "cooperative":
            back_group["rebalance"] = "cooperative"
        kept = component.partitions
        if at_least and kept:
            back["commit_interval"] = f"{round(sent.commit_interval * 1000)}ms"
        if at_least:
            back.update(dead_letter=dead, max_deliveries=sent.max_deliveries)
        return (kept, Delivery(**back).model_dump(),
                ConsumerGroup(**back_group).model_dump() if kept else None)
    if tech == "rabbitmq":
        if not component.consumers and not fed:
            return none
        if not component.consumers:          # the dead-letter queue's own: no consumer
            back = {}
        elif at_least:
            back["redelivery"] = sent.redelivery
            if round(sent.visibility_timeout * 1000) > 0:
                back["visibility_timeout"] = f"{round(sent.visibility_timeout * 1000)}ms"
        back["max_deliveries"] = sent.max_deliveries
        back["dead_letter"] = dead
        return None, Delivery(**back).model_dump(), None
    if tech == "sqs":
        back = {"guarantee": "at_least_once"}
        if round(sent.visibility_timeout) > 0:
            back["visibility_timeout"] = f"{round(sent.visibility_timeout)}s"
        if sent.max_deliveries is not None and dead is not None:
            back.update(max_deliveries=sent.max_deliveries, dead_letter=dead)
        return None, Delivery(**back).model_dump(), None
    return none


def _tech(component: Component) -> str:
    tech = (component.tech or "rabbitmq").lower()
    return "rabbitmq" if tech == "rabbit" else tech


def read_back(component: Component) -> Terms:
    """The same terms of an imported component."""
    return (component.partitions, (component.delivery or Delivery()).model_dump(),
            None if component.partitions is None
            else (component.group or ConsumerGroup()).model_dump())


def dead_letter_kept(system: System, name: str) -> str | None:
    """The dead-letter queue a round trip keeps (lower-cased, as the import names it)."""
    return expected_back(system, name)[1]["dead_letter"]


def comparable(settings: dict[str, Any] | None) -> dict[str, Any] | None:
    """A broker.json without what follows a subscription's concurrency, which the import
    estimates (a PLACEHOLDER): a RabbitMQ consumer's prefetch_count (and its note, which
    says how it divides the concurrency among the replicas), the partitions of a Kafka
    topic sized for a queue without partitions (a partition per delivery in flight), and
    the order of a topic's consumer groups. A RabbitMQ queue without subscriptions (and no
    dead-letter queue) declares its exchange only: nothing to read back, as if there were
    no settings."""
    if settings is None or settings.get("queues") == []:
        return None
    settings = copy.deepcopy(settings)
    for queue in settings.get("queues", []):
        queue.get("consumer", {}).pop("prefetch_count", None)
        queue.get("consumer", {}).pop("note", None)
    if "consumer_groups" in settings:  # a group per subscription, in the import's order
        settings["consumer_groups"].sort(key=lambda group: group["group.id"])
    if "competing_consumers" in settings:
        settings["topic"].pop("partitions")
        settings["competing_consumers"].pop("deliveries_in_flight")
    return settings
