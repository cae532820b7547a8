"""A queue subscription as the spec has it: the queue, its consumer and their settings, which
the queue checks and the consumer sizing read alike."""

from __future__ import annotations

from dataclasses import dataclass

from scalesim.diagnosis.context import Run
from scalesim.spec.data import Consumer, most_in_flight
from scalesim.spec.model import Component


@dataclass(frozen=True)
class Subscription:
    """A subscription as the spec has it: the queue, its consumer and their settings."""

    name: str  # QUEUE->COMP.OP
    queue: str
    topic: Component  # the queue component (a Kafka topic with `partitions`)
    index: int  # in the queue's `consumers`
    target: str  # COMP.OP
    consumer_name: str
    consumer: Component

    @property
    def spec(self) -> Consumer:
        return self.topic.consumers[self.index]

    @property
    def concurrency(self) -> int:
        """The subscription's `concurrency` setting (consumers per replica on a Kafka
        topic); with `prefetch` it is not set, and `in_flight` says what runs at once."""
        return self.spec.concurrency

    @property
    def prefetch(self) -> int | None:
        """Deliveries each consumer replica takes at once (RabbitMQ prefetch), if set."""
        return self.spec.prefetch

    @property
    def in_flight(self) -> int:
        """Deliveries in flight at most with the consumer's spec replicas (`most_in_flight`)."""
        return most_in_flight(self.spec, self.topic.partitions, self.consumer.replicas)

    @property
    def at_once(self) -> str:
        """How many deliveries run at once, as the spec says it."""
        if self.prefetch is not None:
            return (f"{self.prefetch} deliveries a {self.consumer_name} replica at a time "
                    "(prefetch)")
        return f"{self.concurrency} deliveries at a time"


def subscription_of(run: Run, name: str) -> Subscription:
    system = run.system
    queue, target = name.split("->", 1)
    topic = system.components[queue]
    index = next(i for i, c in enumerate(topic.consumers)
                 if ".".join(system.resolve(c.to)) == target)
    consumer = target.split(".", 1)[0]
    return Subscription(name, queue, topic, index, target, consumer,
                        system.components[consumer])
