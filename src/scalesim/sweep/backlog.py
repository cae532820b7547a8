"""Queue subscriptions that fall behind in a simulation, for `plan`: the request SLO does
not see them, so a configuration whose backlog grows without bound would otherwise pass.

The rule is the diagnosis's (docs/results.md, "How findings are made"; `waits_beyond`): a
subscription is behind when its backlog grew over the window and one replication holds, at
the window's end, more than `BACKLOG_S` seconds of arrivals (and at least `MIN_BACKLOG`
messages) beyond what a Kafka group has processed and not yet committed and the deliveries
under way.
"""

from __future__ import annotations

from scalesim.diagnosis.queues import deliveries_under_way, uncommitted, waits_beyond
from scalesim.sim.data.parts import SubscriptionPart
from scalesim.sim.partial import Partial
from scalesim.spec.model import System


def falling_behind(system: System, pooled: Partial) -> tuple[str, ...]:
    """The subscriptions (`QUEUE->COMP.OP`) that fall behind in the pooled replications."""
    span = system.simulation.duration * max(1, pooled.replications)
    return tuple(sub.name for sub in pooled.data.subscriptions
                 if sub.queue_kind == "queue" and _behind(system, sub, span, pooled))


def _behind(system: System, sub: SubscriptionPart, span: float, pooled: Partial) -> bool:
    """Whether one subscription grew a backlog of more than a second of arrivals waiting
    (its parts add the replications up: levels are divided by the replications, rates by
    the pooled `span`)."""
    if span <= 0.0 or sub.backlog_end <= sub.backlog_start:
        return False
    end = sub.backlog_end / max(1, pooled.replications)
    published = sub.published / span
    drained = (sub.delivered + sub.failed) / span
    return waits_beyond(end, published, uncommitted(system.components[sub.queue], drained),
                        deliveries_under_way(sub.concurrency, drained, _mean_s(pooled, sub.to)))


def _mean_s(pooled: Partial, target: str) -> float | None:
    """The mean time of the consumer's answered visits (None: none answered)."""
    name, op = target.split(".", 1)
    component = next(c for c in pooled.components if c.name == name)
    hist = next(o.hist for o in component.ops if o.name == op)
    return hist.mean if hist.count else None
