"""Queue subscriptions that fall behind in a simulation, for `plan`: the request SLO does
not see them, so a configuration whose backlog grows without bound would otherwise pass.

The rule is the diagnosis's (docs/results.md, "How findings are made"): a subscription is
behind when its backlog grew over the window and one replication holds, at the window's end,
more than `BACKLOG_S` seconds of arrivals (and at least `MIN_BACKLOG` messages) beyond what a
Kafka group has processed and not yet committed.
"""

from __future__ import annotations

from scalesim.diagnosis.queues import beyond_arrivals, uncommitted
from scalesim.sim.data.parts import SubscriptionPart
from scalesim.sim.partial import Partial
from scalesim.spec.model import System


def falling_behind(system: System, pooled: Partial) -> tuple[str, ...]:
    """The subscriptions (`QUEUE->COMP.OP`) that fall behind in the pooled replications."""
    span = system.simulation.duration * max(1, pooled.replications)
    return tuple(sub.name for sub in pooled.data.subscriptions
                 if sub.queue_kind == "queue" and _behind(system, sub, span, pooled.replications))


def _behind(system: System, sub: SubscriptionPart, span: float, runs: int) -> bool:
    """Whether one subscription grew a backlog of more than a second of arrivals (its parts
    add the replications up: levels are divided by `runs`, rates by the pooled `span`)."""
    if span <= 0.0 or sub.backlog_end <= sub.backlog_start:
        return False
    end = sub.backlog_end / max(1, runs)
    published = sub.published / span
    drained = (sub.delivered + sub.failed) / span
    return beyond_arrivals(end, published, uncommitted(system.components[sub.queue], drained))
