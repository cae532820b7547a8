"""Time the spec's data mechanisms add inside a visit's span, apart from its own time.

A server span covers everything the visit waited for in its own process, so a trace shows
these as own time unless the tracer gives each its own span (a database's span of the
follower acknowledgements, a workflow engine's span per recorded step, an event store
client's span reading the stream). ScaleSim's exports, like tracers without them, do not:
the simulator draws these waits anew from the spec, so left in the own time they would
count twice. Each is the spec's modelled mean for one successful visit, as the estimate
takes it (a time the same in every visit, `fixed`, is known for each):

- replication: a write's commit wait and a quorum or ReadIndex read's wait
  (`analytic.quorum.replication_wait`; semi-sync at the writes' offered rate);
- an orchestrated saga's transitions: one before each step, and a visit that succeeds ran
  every step once (a compensated or stuck saga fails its visit);
- an event store's aggregate load of `append` and `load`: the snapshot and the events
  replayed, over the streams (`analytic.load.aggregate_load_s`).

A cache read that `coalesce`s waits, on a miss while its key loads, for that load (Go's
singleflight): no call of its own, a wait no model mean describes (it depends on when the
key expired). Such a cache's reads that made the load themselves are told apart by their
call to the backend, and their own time less the call is the read's work alone
(`coalesced_backend`).
"""

from __future__ import annotations

from dataclasses import dataclass

from scalesim.analytic.load import aggregate_load_s, operation_rates
from scalesim.analytic.quorum import replication_wait
from scalesim.spec.dists import Constant
from scalesim.spec.model import SagaBlock, System


@dataclass(frozen=True)
class Modelled:
    """One mechanism's mean seconds in a successful visit's span."""

    what: str  # for the note: "the replication's commit wait (raft)"
    seconds: float
    fixed: bool = False  # the same in every visit: taken off each, not scaled


def modelled(system: System, component: str, operation: str) -> list[Modelled]:
    """The mechanisms the spec has in a visit of `component.operation`, with their mean
    time: what its own time must be cut by."""
    found = [_replication(system, component, operation), _replay(system, component, operation),
             *_transitions(system, component, operation)]
    return [m for m in found if m is not None and m.seconds > 0.0]


def _replication(system: System, component: str, operation: str) -> Modelled | None:
    replication = system.components[component].replication
    if replication is None:
        return None
    writes = operation in replication.writes
    rate = 0.0
    if writes and replication.mode == "semi_sync":  # its async share depends on the rate
        rates = operation_rates(system)
        rate = sum(rates.get(f"{component}.{name}", 0.0) for name in replication.writes)
    wait = replication_wait(system, component, operation, rate=rate)
    if wait is None:
        return None
    what = "commit wait" if writes else "read's wait on its replicas"
    return Modelled(f"the replication's {what} ({replication.mode})", wait.mean,
                    wait.variance == 0.0)


def _replay(system: System, component: str, operation: str) -> Modelled | None:
    store = system.components[component].event_store
    if store is None or operation not in (store.append, store.load):
        return None
    return Modelled("the event store's aggregate load (snapshot and events replayed)",
                    aggregate_load_s(store))


def _transitions(system: System, component: str, operation: str) -> list[Modelled]:
    op = system.components[component].effective_operations[operation]
    return [Modelled(f"the saga's {len(step.saga.steps)} transitions",
                     len(step.saga.steps) * step.saga.transition.mean_s,
                     isinstance(step.saga.transition, Constant))
            for step in op.calls if isinstance(step, SagaBlock)
            and step.saga.coordination == "orchestration"]


def coalesced_backend(system: System, component: str, operation: str) -> str | None:
    """The backend ('component.operation') whose callers among the visits of a read of a
    cache that coalesces its misses are the visits that surely did not wait for another's
    load; None for any other operation."""
    spec = system.components[component]
    caching = spec.caching
    if caching is None or caching.stampede != "coalesce" or spec.backend is None \
            or operation in caching.writes:
        return None
    return ".".join(system.resolve(spec.backend))
