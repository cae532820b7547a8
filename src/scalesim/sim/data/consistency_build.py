"""Spec -> replication, election and cache areas: their steps go first in the operations
they govern, their placements send visits to the leader or its followers, and each draws
from its own named random streams."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from scalesim.sim.area import Area
from scalesim.sim.data.cache import (
    COALESCE,
    INVALIDATE,
    NO_UPDATE,
    STAMPEDE_NONE,
    WRITE_BEHIND,
    WRITE_THROUGH,
    XFETCH,
    BackendWrite,
    CacheArea,
    CacheRead,
    CacheWrite,
)
from scalesim.sim.data.election import Election, FixedLeader, LeaseElection, RaftElection
from scalesim.sim.data.leadership import FollowerPlacement, LeaderPlacement, Leadership
from scalesim.sim.data.replication import (
    ASYNC,
    QUORUM,
    RAFT,
    READS_ANY,
    READS_FOLLOWERS,
    READS_LEADER,
    SEMI_SYNC,
    SYNC,
    CommitStep,
    ReadStep,
    ReplicatedStore,
)
from scalesim.sim.plan import CallPlan, Comp, Op
from scalesim.sim.random import Sampler, sampler, uniforms
from scalesim.spec.checks import cached_data_writes
from scalesim.spec.consistency import JITTER_FACTOR, Caching, LeaderElection, Replication
from scalesim.spec.dists import AnyDistribution, Constant
from scalesim.spec.model import System

Rng = Callable[..., np.random.Generator]
MODES = {"async": ASYNC, "semi_sync": SEMI_SYNC, "sync": SYNC, "quorum": QUORUM, "raft": RAFT}
READS = {"leader": READS_LEADER, "followers": READS_FOLLOWERS, "any": READS_ANY}
POLICIES = {"invalidate": INVALIDATE, "write_through": WRITE_THROUGH,
            "write_behind": WRITE_BEHIND, "none": NO_UPDATE}
STAMPEDES = {"none": STAMPEDE_NONE, "coalesce": COALESCE, "xfetch": XFETCH}


def build_consistency(system: System, rng: Rng, comps: list[Comp], ops: dict[str, Op],
                      register: Callable[[CallPlan], None]) -> list[Area]:
    """The areas of every replicated, leader-elected or TTL-cached component; `register`
    lists the calls a cache makes to its backend with the system's calls."""
    areas: list[Area] = []
    by_name = {comp.name: comp for comp in comps}
    for name, component in system.components.items():
        comp = by_name[name]
        draws = partial(_draws, system, rng, name)
        election = _election(component.leader_election, component.replication, comp,
                             partial(draws, None), rng)
        if election is not None:
            areas.append(election)
        replication = component.replication
        if replication is not None:
            areas.append(_store(replication, comp, draws, uniforms(rng(name, "replication")),
                                None if election is None else election.leadership))
        elif election is not None:
            spec = component.leader_election
            assert spec is not None
            for oname in spec.operations or list(comp.ops):
                ops[f"{name}.{oname}"].placement = LeaderPlacement(election.leadership)
        if component.caching is not None:
            areas.append(_cache(system, name, component.caching, comp, ops, register,
                                uniforms(rng(name, "caching"))))
    return areas


def _draws(system: System, rng: Rng, name: str, dist: AnyDistribution | None,
           *names: str) -> Sampler | None:
    """A sampler of `dist` (None: one network hop) on the component's stream `names`."""
    chosen = system.defaults.network if dist is None else dist
    if isinstance(chosen, Constant) and chosen.value == 0.0:
        return None
    return sampler(chosen, rng(name, *names))


def _election(spec: LeaderElection | None, replication: Replication | None, comp: Comp,
              hop: Callable[..., Sampler | None], rng: Rng) -> Election | None:
    leader_based = replication is not None and replication.mode != "quorum"
    if spec is None:
        if not leader_based:
            return None
        assert replication is not None
        if replication.mode != "raft":
            return FixedLeader(Leadership(comp))
        spec = LeaderElection(type="raft")
    uniform = uniforms(rng(comp.name, "election"))
    if spec.type == "lease":
        return LeaseElection(Leadership(comp), spec.lease_duration, spec.renew_deadline,
                             spec.retry_period, JITTER_FACTOR, spec.release_on_cancel, uniform)
    return RaftElection(Leadership(comp), spec.heartbeat, spec.election_timeout,
                        spec.timeout_max, hop("election", "network"), uniform,
                        spec.check_quorum, spec.pre_vote)


def _store(spec: Replication, comp: Comp, draws: Callable[..., Sampler | None],
           uniform: Sampler, leadership: Leadership | None) -> ReplicatedStore:
    replicas = len(comp.replicas)
    mode = MODES[spec.mode]
    acks = {"semi_sync": 1, "sync": spec.acks or replicas - 1,
            "raft": replicas // 2}.get(spec.mode, 0)
    apply = None if isinstance(spec.apply, Constant) and spec.apply.value == 0.0 \
        else draws(spec.apply, "replication", "apply")
    store = ReplicatedStore(
        comp, mode, READS[spec.reads], spec.n or replicas, spec.w, spec.r, acks,
        spec.semi_sync_timeout, draws(spec.write, "replication", "write"),
        draws(spec.ack, "replication", "ack"), draws(spec.read, "replication", "read"),
        draws(spec.response, "replication", "response"), apply, uniform, leadership)
    for oname, op in comp.ops.items():
        writes = oname in spec.writes
        op.steps.insert(0, CommitStep(store) if writes else ReadStep(store))
        if leadership is None:
            continue  # quorum: any replica coordinates
        if writes or spec.reads == "leader":
            op.placement = LeaderPlacement(leadership)
        elif spec.reads == "followers":
            op.placement = FollowerPlacement(leadership)
    return store


def _cache(system: System, name: str, spec: Caching, comp: Comp, ops: dict[str, Op],
           register: Callable[[CallPlan], None], uniform: Sampler) -> CacheArea:
    component = system.components[name]
    assert component.backend is not None
    backend = ops[".".join(system.resolve(component.backend))]
    write_to = None if spec.write_to is None else ops[".".join(system.resolve(spec.write_to))]
    misses: dict[str, CallPlan] = {}
    writes: dict[str, CallPlan] = {}
    for oname in comp.ops:
        if oname in spec.writes:
            assert write_to is not None
            if spec.write_policy != "write_behind":
                writes[oname] = CallPlan(f"{name}.{oname}", write_to)
                register(writes[oname])
        else:
            misses[oname] = CallPlan(f"{name}.{oname}", backend)
            register(misses[oname])
    area = CacheArea(comp, spec.ttl if spec.ttl is not None else float("inf"),
                     spec.kept_keys, POLICIES[spec.write_policy],
                     spec.flush_interval, spec.refresh_ahead or 0.0, STAMPEDES[spec.stampede],
                     spec.beta, misses, writes, backend, write_to, uniform)
    for oname, op in comp.ops.items():
        op.steps.insert(0, CacheWrite(area) if oname in spec.writes else CacheRead(area))
    for written in cached_data_writes(system, name):
        ops[written].steps.append(BackendWrite(area))
    return area
