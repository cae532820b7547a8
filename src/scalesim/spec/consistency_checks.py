"""Checks of replication, leader election and caching that need the whole component or
system: the operations they name exist, quorums fit the replicas, a cache's writes reach
another component, and the blocks sit on kinds that can hold them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from scalesim.spec.errors import Path, counted, did_you_mean
from scalesim.spec.model import Component, Kind, Operation, System

Problem = tuple[Path, str]


def check_consistency(system: System) -> list[Problem]:
    problems: list[Problem] = []
    for name, component in system.components.items():
        path: Path = ("components", name)
        problems += _cache_fields(name, component, path)
        replication = component.replication
        election = component.leader_election
        if replication is None and election is None:
            continue
        block = "replication" if replication is not None else "leader_election"
        if component.kind in (Kind.QUEUE, Kind.EXTERNAL):
            problems.append(((*path, block), f"a {component.kind.value} cannot have "
                             f"'{block}'; put it on a database or service"))
            continue
        if component.autoscale is not None or component.versions:
            problems.append(((*path, block), "replicas of a replicated or leader-elected "
                             "component are a fixed set: no 'autoscale' or 'versions'"))
        operations = component.effective_operations
        if replication is not None:
            problems += _missing(name, operations, replication.writes,
                                 (*path, "replication", "writes"))
            problems += _replication_sizes(component, path)
        if election is not None:
            if replication is not None and replication.mode == "quorum":
                problems.append(((*path, "leader_election"), "quorum replication is "
                                 "leaderless: remove 'leader_election' or choose a leader "
                                 "mode (async, semi_sync, sync, raft)"))
            elif replication is not None and election.operations is not None:
                problems.append(((*path, "leader_election", "operations"), "with "
                                 "'replication' the leader serves the writes (and the reads "
                                 "when reads: leader): remove 'operations'"))
            elif election.operations is not None:
                problems += _missing(name, operations, election.operations,
                                     (*path, "leader_election", "operations"))
            if component.replicas < 2:
                problems.append(((*path, "replicas"), "leader election needs at least 2 "
                                 "replicas: one to lead and one to take over"))
    return problems


def _missing(name: str, operations: Mapping[str, Operation], names: Iterable[str],
             path: Path) -> list[Problem]:
    return [((*path, index), f"'{name}' has no operation '{op}'{did_you_mean(op, operations)}")
            for index, op in enumerate(names) if op not in operations]


def _replication_sizes(component: Component, path: Path) -> list[Problem]:
    replication = component.replication
    assert replication is not None
    replicas = component.replicas
    where: Path = (*path, "replication")
    if replication.mode == "quorum":
        n = replication.n or replicas
        if n > replicas:
            return [((*where, "n"), f"n is {n} but the component has "
                                       f"{counted(replicas, 'replica')}")]
        worst = max(replication.w, replication.r)
        if worst > n:
            return [((*where, "w" if replication.w > n else "r"),
                     f"w and r cannot exceed the {counted(n, 'replica')} of a key")]
        return []
    if replicas < 2:
        return [((*path, "replicas"), f"{replication.mode} replication needs at least 2 "
                 "replicas: a leader and a follower")]
    if replication.acks is not None and replication.acks > replicas - 1:
        return [((*where, "acks"), f"acks is {replication.acks} but the leader has only "
                 f"{counted(replicas - 1, 'follower')}")]
    return []


def _cache_fields(name: str, component: Component, path: Path) -> list[Problem]:
    caching = component.caching
    if caching is None:
        return []
    if component.kind is not Kind.CACHE:
        return [((*path, "caching"), "only a cache has 'caching'")]
    if component.hit_ratio is not None:
        return [((*path, "hit_ratio"), "give either 'hit_ratio' (a fixed share of hits) or "
                 "'caching' (entries per key with a TTL), not both")]
    problems = _missing(name, component.effective_operations, caching.writes,
                        (*path, "caching", "writes"))
    if caching.write_to is not None and caching.write_to.partition(".")[0] == name:
        problems.append(((*path, "caching", "write_to"), "a cache writes to its backend, "
                         "not to itself"))
    if caching.writes and len(caching.writes) == len(component.effective_operations):
        problems.append(((*path, "caching", "writes"), "every operation writes: a cache "
                         "needs at least one operation that reads"))
    return problems
