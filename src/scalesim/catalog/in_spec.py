"""Patterns a system spec already implements, read from its own fields, so `advise --spec`
does not recommend what the design already does (a work queue is queue-based load
levelling; a queue consumed by a pool is competing consumers; a queue with a `dead_letter`
is a dead-letter channel).

Each table maps one spec setting to the catalog pattern it is an instance of; a setting
that is absent or at its 'nothing' value implements nothing."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence

from scalesim.analytic.quorum import quorums_overlap
from scalesim.lint.finding import Finding
from scalesim.lint.review import Change, votes
from scalesim.spec.checks import iter_calls
from scalesim.spec.model import Balancer, Call, Component, Kind, SagaBlock, System

# Call settings -> the pattern each one is.
CALL_PATTERNS = {"timeout": "timeout", "circuit_breaker": "circuit-breaker",
                 "bulkhead": "bulkhead", "outbox": "transactional-outbox",
                 "hedge": "hedged-requests"}
# Component settings -> the pattern each one is.
COMPONENT_PATTERNS = {"autoscale": "auto-scaling", "rate_limit": "rate-limiting",
                      "load_shedding": "load-shedding", "health": "health-check",
                      "leader_election": "leader-election", "event_store": "event-sourcing"}
# replication.mode -> how the copies are kept (spec/consistency.py: leader-follower modes,
# leaderless quorums, a Raft log).
REPLICATION = {"async": "leader-and-followers", "semi_sync": "leader-and-followers",
               "sync": "leader-and-followers", "quorum": "tunable-consistency",
               "raft": "replicated-log"}
# caching.write_policy -> the caching pattern: 'invalidate' is cache-aside's write path and
# 'none' its lazy loading without it.
WRITE_POLICY = {"invalidate": "cache-aside", "none": "cache-aside",
                "write_through": "write-through-cache", "write_behind": "write-behind-cache"}
ROLLOUT = {"rolling": "rolling-update", "canary": "canary-release",
           "blue_green": "blue-green-deployment"}
SAGA = {"orchestration": "orchestration", "choreography": "choreography"}
# Kinds whose replicas each hold their own data, so a hash balancer partitions the data.
STATEFUL = {Kind.DATABASE, Kind.CACHE}
# Spec setting -> every pattern it can be (the tables above, by field): a finding whose
# path runs through the setting points into that pattern's configuration.
SETTINGS: dict[str, frozenset[str]] = {
    **{field: frozenset({pid}) for field, pid in {**CALL_PATTERNS,
                                                  **COMPONENT_PATTERNS}.items()},
    "retry": frozenset({"retry", "failover"}),
    "propagate_deadline": frozenset({"deadline-propagation"}),
    "on_failure": frozenset({"fallback"}),
    "replication": frozenset({*REPLICATION.values(), "majority-quorum", "read-replicas"}),
    "caching": frozenset(WRITE_POLICY.values()),
    "rollout": frozenset(ROLLOUT.values()),
    "balancer": frozenset({"load-balancing", "consistent-hashing", "sharding"}),
    "delivery": frozenset({"dead-letter-channel", "idempotent-receiver", "deduplication"}),
}
_INDEX = re.compile(r"\[\d+\]")
NAMED = frozenset({"components", "operations", "versions"})  # keyed by the user's names


def implemented(system: System) -> set[str]:
    """Catalog ids of the patterns the spec's components and calls already use."""
    found: set[str] = set()
    for component in system.components.values():
        found |= _component_patterns(system, component)
    for _, _, _, call in iter_calls(system):
        found |= {pid for field, pid in CALL_PATTERNS.items()
                  if getattr(call, field) is not None}
        if call.retry is not None and call.retry.backoff != "none":
            found.add("retry")  # retrying at once is not Retry with Backoff (lint SS202)
        if _fails_over(system, call):
            found.add("failover")
        if call.propagate_deadline:
            found.add("deadline-propagation")
        if not isinstance(call.on_failure, str):
            found.add("fallback")
    return found


def _fails_over(system: System, call: Call) -> bool:
    """A retry steered to another replica of a callee that has several fails over to it
    (Envoy's previous_hosts, on by default: with one replica there is nowhere to go)."""
    callee = system.components[call.to.partition(".")[0]]
    return call.retry is not None and call.retry.other_replica and callee.replicas > 1


def _component_patterns(system: System, component: Component) -> set[str]:
    found = {pid for field, pid in COMPONENT_PATTERNS.items()
             if getattr(component, field) is not None}
    found |= _queue_patterns(system, component) | _data_patterns(component)
    found |= _replica_patterns(component)
    if component.rollout is not None:
        found.add(ROLLOUT[component.rollout.strategy])
    for saga in _sagas(component):
        found |= {"saga", SAGA[saga.saga.coordination]}
    return found


def _queue_patterns(system: System, component: Component) -> set[str]:
    """A queue with consumers levels load; a pool on it competes; its delivery settings are
    a dead-letter channel and, effectively once or with idempotent consumers, an idempotent
    receiver that deduplicates."""
    found: set[str] = set()
    if component.kind is not Kind.QUEUE:
        return found
    if component.consumers:
        found.add("queue-based-load-leveling")
    for consumer in component.consumers:
        target = system.components[consumer.to.partition(".")[0]]
        if consumer.concurrency > 1 or target.replicas > 1 or target.autoscale is not None:
            found.add("competing-consumers")
        if consumer.idempotent:
            found.add("idempotent-receiver")
    delivery = component.delivery
    if delivery is not None and delivery.dead_letter is not None:
        found.add("dead-letter-channel")
    if delivery is not None and delivery.guarantee == "effectively_once":
        found |= {"idempotent-receiver", "deduplication"}
    return found


def _data_patterns(component: Component) -> set[str]:
    """A cache is the caching pattern its write policy names; replication is the way of
    keeping copies its mode names (a quorum's own W and R are tunable consistency, and a
    majority quorum only when they overlap, R + W > N), and reads served by followers are
    read replicas; an event store's projections are materialised views."""
    found: set[str] = set()
    if component.kind is Kind.CACHE:
        policy = component.caching.write_policy if component.caching else "invalidate"
        found.add(WRITE_POLICY[policy])
    replication = component.replication
    if replication is not None:
        found.add(REPLICATION[replication.mode])
        if replication.mode == "quorum" and quorums_overlap(replication, component.replicas):
            found.add("majority-quorum")
        if replication.reads != "leader":
            found.add("read-replicas")
    if component.event_store is not None and component.event_store.projections:
        found.add("materialized-view")
    return found


def _replica_patterns(component: Component) -> set[str]:
    """Requests to several replicas are load-balanced; by a hash of their key, the replicas
    form a consistent-hashing ring, and for a stateful kind each holds a shard."""
    if component.kind in (Kind.QUEUE, Kind.EXTERNAL):
        return set()
    if component.replicas <= 1 and component.autoscale is None:
        return set()
    found = {"load-balancing"}
    if component.balancer is Balancer.HASH:
        found.add("consistent-hashing")
        if component.kind in STATEFUL:
            found.add("sharding")
    return found


def _sagas(component: Component) -> Iterator[SagaBlock]:
    for operation in component.operations.values():
        yield from (step for step in operation.calls if isinstance(step, SagaBlock))


def to_reconfigure(findings: Sequence[Finding], present: Collection[str]) -> list[Change]:
    """The patterns the design already has (`present`) that findings point into, ranked
    as `lint.review` ranks what to apply: a finding names the pattern among its fixes and
    its path runs through the pattern's own setting (SS208 at a breaker's `min_calls`,
    SS204 at a `retry`). Such a pattern is what must change, not something done."""
    return votes(findings, lambda finding: [
        fix for fix in finding.fixes
        if fix in present and fix in set_in(finding.path)])


def set_in(path: str) -> set[str]:
    """The patterns whose settings a dotted spec path runs through; the names that follow
    a mapping of named things (a component called 'health') are names, not settings."""
    fields = _INDEX.sub("", path).split(".")
    return {pid for at, field in enumerate(fields)
            if at == 0 or fields[at - 1] not in NAMED
            for pid in SETTINGS.get(field, ())}
