"""Replication, leader election and caching settings of a spec.

Each follows a named real system's definition and defaults (the facts and their sources are
in shared/reference/data-semantics.md; docs/data.md explains every field): leader–follower
replication as MySQL semi-sync and PostgreSQL synchronous standbys do it, leaderless
N/R/W quorums as in Dynamo and Cassandra (with the WARS latency model of Bailis et al.,
"Probabilistically Bounded Staleness", VLDB 2012), a Raft replicated log as in etcd, leader
election with a Kubernetes Lease (client-go `leaderelection`) or Raft's randomized timeouts,
and cache read/write strategies with a TTL (Redis, Oracle Coherence's refresh-ahead and
write-behind, XFetch for stampedes).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, model_validator

from scalesim.spec.data import OperationRef
from scalesim.spec.dists import ZERO, Distribution
from scalesim.spec.types import (
    Count,
    Fraction,
    Name,
    Number,
    PositiveDuration,
    Strict,
    refuse_unused,
)

DEFAULT_MAX_KEYS = 1_000_000  # a cache's entries without `max_keys`
JITTER_FACTOR = 1.2  # client-go leaderelection.JitterFactor: a candidate's poll gap factor
# Raft: the election timeouts' range that keeps split votes rare, in vote round trips: the
# paper's 150–300 ms against its 15 ms broadcast time (Ongaro & Ousterhout §9.3, Figure 16).
SPREAD_ROUND_TRIPS = 10


class Replication(Strict):
    """How a stateful component keeps copies of its data, and what a read sees.

    Leader–follower (`async`, `semi_sync`, `sync`): writes go to the leader, which ships
    each write to every follower. `async` commits at once (MySQL/PostgreSQL default);
    `semi_sync` waits for the first follower to acknowledge receipt, at most
    `semi_sync_timeout`, then falls back to asynchronous (MySQL rpl_semi_sync_master_timeout);
    `sync` waits for `acks` followers (PostgreSQL synchronous_standby_names ANY k, with
    synchronous_commit on). `raft`: a replicated log; a write commits once a majority holds
    it (etcd). `quorum`: leaderless; the coordinator sends a write to the key's `n` replicas
    and waits for `w` acknowledgements, a read asks all `n` and waits for `r` answers
    (Dynamo, Cassandra, Riak). Latency per replica follows the WARS model: `write` (W),
    `ack` (A), `read` (R), `response` (S)."""

    mode: Literal["async", "semi_sync", "sync", "quorum", "raft"] = "async"
    writes: list[Name] = Field(min_length=1, description="operations that write; every other "
                               "operation reads")
    reads: Literal["leader", "followers", "any"] = Field(
        "leader", description="leader-based modes: where reads go — the leader (fresh; raft: "
        "linearizable, one ReadIndex round to a majority), the followers (may be stale; raft: "
        "serializable), or any replica the balancer picks")
    n: Annotated[Count, Field(ge=1)] | None = Field(
        None, description="quorum: replicas of each key (Cassandra replication factor); "
        "default every replica")
    w: Annotated[Count, Field(ge=1)] = Field(1, description="quorum: acknowledgements a write "
                                             "waits for (Cassandra ONE = 1)")
    r: Annotated[Count, Field(ge=1)] = Field(1, description="quorum: answers a read waits for")
    acks: Annotated[Count, Field(ge=1)] | None = Field(
        None, description="sync: followers a commit waits for (PostgreSQL ANY k); default all")
    semi_sync_timeout: PositiveDuration = Field(
        10.0, description="semi_sync: how long a commit waits for a follower before the leader "
        "falls back to asynchronous (MySQL rpl_semi_sync_master_timeout, 10 s)")
    write: Distribution | None = Field(
        None, description="W: from the leader (coordinator) to a replica until the replica has "
        "the write; default one network hop")
    ack: Distribution | None = Field(None, description="A: the replica's acknowledgement back; "
                                     "default one network hop")
    read: Distribution | None = Field(None, description="quorum: R, a read request to a "
                                      "replica; default one network hop")
    response: Distribution | None = Field(None, description="quorum: S, a replica's answer; "
                                          "default one network hop")
    apply: Distribution = Field(ZERO, description="leader-based: from receipt until a "
                                "follower's reads see the write (replay of the relay log)")

    @model_validator(mode="after")
    def _fields_of_the_mode(self) -> Replication:
        common = {"mode", "writes", "write", "ack"}
        if self.mode == "quorum":
            refuse_unused(self, self.model_fields_set - (common | {"n", "w", "r", "read",
                                                                   "response"}),
                          "to leaderless quorums")
            if self.n is not None and max(self.w, self.r) > self.n:
                raise ValueError(f"w ({self.w}) and r ({self.r}) cannot exceed n ({self.n})")
        else:
            own = {"sync": {"acks"}, "semi_sync": {"semi_sync_timeout"}}.get(self.mode, set())
            refuse_unused(self, self.model_fields_set - (common | {"reads", "apply"} | own),
                          f"to {self.mode} replication")
        return self


class LeaderElection(Strict):
    """Which replica leads, and how a new leader takes over when it fails.

    lease: the Kubernetes client-go Lease lock (kube-controller-manager, kube-scheduler,
    controller-runtime): the leader renews the lease every `retry_period`; a candidate polls
    every `retry_period` × (1 + U·1.2) and takes over once it has seen no change to the
    lease for `lease_duration` (measured from when it saw the last change, on its own
    clock). raft: followers that hear no heartbeat for a randomized election timeout
    (uniform between `election_timeout` and `election_timeout_max`) stand for election;
    a candidate needs a majority of votes, one vote per member per term (etcd defaults:
    heartbeat 100 ms, election timeout 1 s, randomized up to twice that, CheckQuorum and
    pre-vote on)."""

    type: Literal["lease", "raft"] = "lease"
    operations: list[Name] | None = Field(
        None, description="operations only the leader serves (a controller's reconcile, a "
        "singleton's work); default all. With replication the writes (and leader reads) are")
    lease_duration: PositiveDuration = Field(
        15.0, description="lease: how long candidates wait after the last change they saw "
        "(LeaseDuration, 15 s); whole seconds, as the Lease stores it")
    renew_deadline: PositiveDuration = Field(
        10.0, description="lease: how long a leader retries a failing renewal before it stops "
        "leading (RenewDeadline, 10 s)")
    retry_period: PositiveDuration = Field(
        2.0, description="lease: time between renewals, and the base of a candidate's jittered "
        "poll (RetryPeriod, 2 s)")
    release_on_cancel: bool = Field(
        False, description="lease: a leader that stops gracefully (scaled in, rolled out) "
        "clears the lease so a candidate takes over at its next poll (ReleaseOnCancel)")
    heartbeat: PositiveDuration = Field(0.1, description="raft: the leader's heartbeat interval "
                                        "(etcd --heartbeat-interval, 100 ms)")
    election_timeout: PositiveDuration = Field(
        1.0, description="raft: the shortest election timeout (etcd --election-timeout, 1 s)")
    election_timeout_max: PositiveDuration | None = Field(
        None, description="raft: the longest election timeout; default twice "
        "election_timeout (etcd randomizes in [T, 2T))")
    check_quorum: bool = Field(
        True, description="raft: a leader that heard from no majority over an election_timeout "
        "steps down, and a member that heard from its leader within one ignores vote requests "
        "(etcd always sets CheckQuorum)")
    pre_vote: bool = Field(
        True, description="raft: a member first asks whether it could win, without raising its "
        "term, so a member cut off and back does not depose a healthy leader (etcd --pre-vote, "
        "on by default since v3.5)")

    @model_validator(mode="after")
    def _client_go_rules(self) -> LeaderElection:
        lease = {"lease_duration", "renew_deadline", "retry_period", "release_on_cancel"}
        raft = {"heartbeat", "election_timeout", "election_timeout_max", "check_quorum",
                "pre_vote"}
        refuse_unused(self, self.model_fields_set - ({"type", "operations"}
                                                     | (lease if self.type == "lease" else raft)),
                      f"to a {self.type} election")
        if self.type == "lease":
            if self.lease_duration != math.floor(self.lease_duration):
                raise ValueError("lease_duration must be whole seconds: the Lease stores "
                                 "leaseDurationSeconds as an integer")
            if self.lease_duration <= self.renew_deadline:
                raise ValueError("lease_duration must be greater than renew_deadline "
                                 "(client-go NewLeaderElector)")
            if self.renew_deadline <= JITTER_FACTOR * self.retry_period:
                raise ValueError(f"renew_deadline must be greater than {JITTER_FACTOR} × "
                                 "retry_period (client-go NewLeaderElector)")
        elif self.timeout_max < self.election_timeout:
            raise ValueError("election_timeout_max must be at least election_timeout")
        return self

    @property
    def timeout_max(self) -> float:
        return self.election_timeout_max or 2.0 * self.election_timeout

    def spread_timeout_max(self, round_trip: float) -> float:
        """Raft: the least election_timeout_max that spreads the followers' timers far enough
        apart for the first candidate to win before another stands: twice election_timeout
        (etcd's [T, 2T), the paper's 150–300 ms), or SPREAD_ROUND_TRIPS vote round trips
        above it when that is more."""
        return self.election_timeout + max(self.election_timeout, SPREAD_ROUND_TRIPS * round_trip)

    @property
    def holder_gives_up_s(self) -> float:
        """Lease: how long after its last good renewal a holder that can no longer renew
        (cut off from the API server) still leads: its first failed try comes a RetryPeriod
        later and it gives up RenewDeadline after that (client-go's renew loop). No candidate
        takes over before LeaseDuration after that renewal, so with LeaseDuration at least
        this the holder has always stopped first."""
        return self.renew_deadline + self.retry_period

    def failover_bounds(self) -> tuple[float, float]:
        """Lease: a candidate takes over a crashed leader's lease strictly later than
        lease_duration − retry_period after the crash (the last renewal was at most a retry
        period before it) and at most lease_duration + 2 × retry_period × (1 + 1.2) after it
        (it notices the last renewal at its next poll, then polls once more past the lease)."""
        poll = self.retry_period * (1.0 + JITTER_FACTOR)
        return self.lease_duration - self.retry_period, self.lease_duration + 2.0 * poll


class Caching(Strict):
    """What a cache holds and for how long, how writes reach it, and how it reloads.

    Entries are kept per request key (a workload's `keys`) and expire `ttl` after they were
    loaded (Redis SET … EX). A miss loads from `backend` (read-through; cache-aside does the
    same work from the application). Writes (`writes`) follow `write_policy`: `invalidate`
    (cache-aside: write `write_to`, then delete the entry), `write_through` (write `write_to`
    and the entry together), `write_behind` (write the entry; flush dirty entries to
    `write_to` every `flush_interval`, Coherence write-behind) or `none` (write `write_to`
    only; the entry stays until it expires). `refresh_ahead`: a hit on an entry older than
    that share of its TTL reloads it in the background (Coherence refresh-ahead-factor).
    `stampede`: what the misses of one key do while its load runs — each loads (`none`),
    they wait for the one load (`coalesce`, singleflight), or reads recompute early with
    probability exp(−time left / (beta × last load time)) (`xfetch`, Vattani et al.)."""

    ttl: PositiveDuration | None = Field(None, description="time an entry lives after it was "
                                         "loaded; omitted = until evicted")
    max_keys: Annotated[int, Field(ge=1, le=100_000_000)] | None = Field(
        None, description="entries kept at most, least recently used evicted first (Redis "
        f"maxmemory with allkeys-lru); default {DEFAULT_MAX_KEYS:,}")
    writes: list[Name] = Field(default_factory=list, description="operations that write")
    write_policy: Literal["invalidate", "write_through", "write_behind", "none"] = "invalidate"
    write_to: OperationRef | None = Field(None, description="the backend operation writes go "
                                          "to; needed with `writes`")
    flush_interval: PositiveDuration = Field(
        1.0, description="write_behind: time between flushes of dirty entries (Coherence "
        "write-delay)")
    refresh_ahead: Fraction | None = Field(
        None, description="share of the TTL after which a hit reloads the entry in the "
        "background (Coherence refresh-ahead-factor); omitted = off")
    stampede: Literal["none", "coalesce", "xfetch"] = "none"
    beta: Number = Field(1.0, gt=0.0, le=100.0, description="xfetch: > 1 recomputes earlier")
    max_staleness: PositiveDuration | None = Field(
        None, description="the staleness budget: how old a value readers may be served; lint "
        "(SS605) checks that expiry keeps entries within it, and a run counts the reads past "
        "it; omitted = not judged")

    @property
    def kept_keys(self) -> int:
        """The entries it keeps at most: the simulation evicts past these, the estimate
        sizes Che's approximation by them."""
        return self.max_keys or DEFAULT_MAX_KEYS

    @model_validator(mode="after")
    def _consistent(self) -> Caching:
        if self.writes and self.write_to is None:
            raise ValueError("'writes' need 'write_to', the backend operation they write")
        if not self.writes and self.write_to is not None:
            raise ValueError("'write_to' needs 'writes', the operations that write")
        if self.refresh_ahead is not None:
            if self.ttl is None:
                raise ValueError("refresh_ahead is a share of the TTL: set 'ttl'")
            if not 0.0 < self.refresh_ahead < 1.0:
                raise ValueError("refresh_ahead must be between 0 and 1 (exclusive)")
        if self.stampede == "xfetch" and self.ttl is None:
            raise ValueError("xfetch recomputes before an entry expires: set 'ttl'")
        if "beta" in self.model_fields_set and self.stampede != "xfetch":
            raise ValueError("'beta' applies to stampede: xfetch only")
        if "flush_interval" in self.model_fields_set and self.write_policy != "write_behind":
            raise ValueError("'flush_interval' applies to write_policy: write_behind only")
        return self
