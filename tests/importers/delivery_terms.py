"""What `generate` then `import` gives back of a queue's `partitions`, `delivery` and `group`,
stated per broker from the mapping table of docs/import.md (not computed by the importer),
for comparing an import with its original."""

from __future__ import annotations

from typing import Any

from scalesim.spec.data import ConsumerGroup, Delivery
from scalesim.spec.model import Component, Kind

Terms = tuple[int | None, dict[str, Any], dict[str, Any] | None]


def expected_back(component: Component) -> Terms:
    """(partitions, delivery, group) the import should hold, as model dumps.

    broker.json is written when the spec sets one of the three (generate/brokers.py; a queue
    without `tech` is RabbitMQ). Kafka: the guarantee (effectively once is the consumer's
    deduplication: at least once), the commit interval (at least once), the dead-letter
    topic and its attempts, the partitions (1 is also written for none: read back as none
    unless the group says otherwise), the session timeout (ms) and the assignor.
    RabbitMQ (one quorum queue per subscription: none without consumers): the guarantee,
    the redelivery (at least once), x-delivery-limit + 1 and the dead-letter routing key.
    SQS: at least once (a PLACEHOLDER: the attributes do not say), the visibility timeout in
    whole seconds (0 is left out), the redrive policy (only with both max_deliveries and
    dead_letter). What is not written comes back as the spec's default."""
    none: Terms = (None, Delivery().model_dump(), None)
    if component.kind is not Kind.QUEUE or (component.delivery is None and
                                             component.partitions is None and
                                             component.group is None):
        return none
    tech = (component.tech or "rabbitmq").lower()
    sent = component.delivery or Delivery()
    at_least = sent.guarantee != "at_most_once"
    back: dict[str, Any] = {"guarantee": "at_least_once" if at_least else "at_most_once"}
    dead = sent.dead_letter.lower() if sent.dead_letter else None
    if tech == "kafka":
        group = component.group or ConsumerGroup()
        session_ms = round(group.session_timeout * 1000)
        back_group: dict[str, Any] = {}
        if session_ms != 45_000:
            back_group["session_timeout"] = f"{session_ms}ms"
        if group.rebalance == "cooperative":
            back_group["rebalance"] = "cooperative"
        partitions = component.partitions or 1
        kept = partitions if partitions > 1 or back_group else None
        if at_least:
            back["commit_interval"] = f"{round(sent.commit_interval * 1000)}ms"
        if dead is not None:
            back["dead_letter"] = dead
            back["max_deliveries"] = sent.max_deliveries
        return (kept, Delivery(**back).model_dump(),
                ConsumerGroup(**back_group).model_dump() if kept else None)
    if tech in ("rabbitmq", "rabbit"):
        if not component.consumers:
            return none
        if at_least:
            back["redelivery"] = sent.redelivery
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


def read_back(component: Component) -> Terms:
    """The same terms of an imported component."""
    return (component.partitions, (component.delivery or Delivery()).model_dump(),
            None if component.partitions is None
            else (component.group or ConsumerGroup()).model_dump())


def dead_letter_kept(component: Component) -> str | None:
    """The dead-letter queue a round trip keeps (lower-cased, as the import names it)."""
    return expected_back(component)[1]["dead_letter"]
