"""Replication, leader election and cache settings in the real systems' own terms, for the
component's ConfigMap (`consistency.json`), and the RBAC a component elected with a
Kubernetes Lease needs (a ServiceAccount allowed to read and write Leases).

What each setting becomes is in docs/generate.md; what cannot be set in configuration
(write-behind, refresh-ahead, XFetch and request coalescing are application or client
library code) is written as the values the code should use, with a note."""

from __future__ import annotations

import math
from typing import Any

from scalesim.generate.documents import notes_text
from scalesim.generate.naming import dns_label
from scalesim.spec.consistency import Caching, LeaderElection, Replication
from scalesim.spec.model import Component, System

CONSISTENCY_FILE = "consistency.json"


def _go(seconds: float) -> str:
    """A Go duration, as client-go flags take them: 15s, 1.5s, 500ms."""
    if seconds >= 1.0:
        return f"{seconds:g}s"
    return f"{seconds * 1e3:g}ms"


def consistency_settings(system: System, name: str, namespace: str) -> dict[str, Any] | None:
    """The component's replication, election and cache settings, or None when it has none."""
    component = system.components[name]
    tech = (component.tech or "").lower()
    out: dict[str, Any] = {}
    if component.replication is not None:
        out["replication"] = _replication(component, component.replication, tech)
    election = component.leader_election
    if election is None and component.replication is not None \
            and component.replication.mode == "raft":
        election = LeaderElection(type="raft")
    if election is not None:
        out["leader_election"] = _election(name, namespace, election, tech)
    if component.caching is not None:
        out["cache"] = _cache(component.caching, tech)
    return out or None


def uses_lease(component: Component) -> bool:
    election = component.leader_election
    return election is not None and election.type == "lease"


def _election(name: str, namespace: str, election: LeaderElection,
              tech: str) -> dict[str, Any]:
    if election.type == "lease":
        lease = dns_label(name)
        return {
            "lock": {"kind": "Lease", "apiVersion": "coordination.k8s.io/v1", "name": lease,
                     "namespace": namespace},
            "client_go": {"LeaseDuration": _go(election.lease_duration),
                          "RenewDeadline": _go(election.renew_deadline),
                          "RetryPeriod": _go(election.retry_period),
                          "ReleaseOnCancel": election.release_on_cancel},
            "flags": ["--leader-elect=true",
                      f"--leader-elect-lease-duration={_go(election.lease_duration)}",
                      f"--leader-elect-renew-deadline={_go(election.renew_deadline)}",
                      f"--leader-elect-retry-period={_go(election.retry_period)}",
                      "--leader-elect-resource-lock=leases",
                      f"--leader-elect-resource-name={lease}",
                      f"--leader-elect-resource-namespace={namespace}"],
            "note": "client-go leaderelection (controller-runtime: LeaseDuration, "
                    "RenewDeadline, RetryPeriod); the flags are kube-controller-manager's",
        }
    heartbeat = round(election.heartbeat * 1e3)
    timeout = round(election.election_timeout * 1e3)
    settings: dict[str, Any] = {"etcd": {"heartbeat-interval": heartbeat,
                                         "election-timeout": timeout,
                                         "pre-vote": election.pre_vote}}
    notes = []
    if not election.check_quorum:
        notes.append("etcd always runs CheckQuorum; the spec's check_quorum: false is Raft as "
                     "in the paper (hashicorp/raft, etcd's raft library with CheckQuorum off)")
    if timeout < 5 * heartbeat:
        notes.append("etcd refuses an election timeout under 5 heartbeats: raise "
                     "election-timeout or lower heartbeat-interval")
    if election.election_timeout_max is not None and \
            not math.isclose(election.timeout_max, 2 * election.election_timeout):
        notes.append("etcd randomizes the timeout between it and twice it; the spec's "
                     "election_timeout_max cannot be set there")
    if tech != "etcd":
        notes.append("etcd's flags; other Raft libraries name them HeartbeatTimeout and "
                     "ElectionTimeout (hashicorp/raft) or heartbeat/election ticks")
    if notes:
        settings["note"] = notes_text(notes)
    return settings


def _level(count: int, n: int) -> str:
    """A Cassandra consistency level for `count` of `n` replicas."""
    if count == n:
        return "ALL"
    if count == n // 2 + 1:
        return "QUORUM"
    return {1: "ONE", 2: "TWO", 3: "THREE"}.get(count, f"{count} of {n} (no CQL level)")


def _replication(component: Component, replication: Replication,
                 tech: str) -> dict[str, Any]:
    mode = replication.mode
    followers = component.replicas - 1
    settings: dict[str, Any] = {"mode": mode, "replicas": component.replicas}
    if mode == "quorum":
        n = replication.n or component.replicas
        settings.update(n=n, w=replication.w, r=replication.r)
        if tech == "cassandra":
            settings["keyspace_replication"] = {"class": "SimpleStrategy",
                                                "replication_factor": n}
            settings["consistency"] = {"write": _level(replication.w, n),
                                       "read": _level(replication.r, n)}
        return settings
    if tech in ("postgres", "postgresql"):
        conf: dict[str, Any] = {"synchronous_standby_names": ""}
        if mode == "sync":
            conf["synchronous_standby_names"] = f"ANY {replication.acks or followers} (*)"
            conf["synchronous_commit"] = "on" if replication.reads == "leader" \
                else "remote_apply"
        elif mode == "semi_sync":
            conf["synchronous_standby_names"] = "ANY 1 (*)"
            conf["synchronous_commit"] = "remote_write"
            settings["note"] = ("PostgreSQL has no timeout that falls back to asynchronous; "
                                "this waits for one standby's receipt, always")
        settings["postgresql.conf"] = conf
    elif tech in ("mysql", "mariadb"):
        if mode == "semi_sync":
            settings["my.cnf"] = {
                "rpl_semi_sync_source_enabled": "ON",
                "rpl_semi_sync_replica_enabled": "ON",
                "rpl_semi_sync_source_timeout": round(replication.semi_sync_timeout * 1e3),
                "rpl_semi_sync_source_wait_for_replica_count": 1}
        elif mode == "sync":
            settings["note"] = ("MySQL replication is asynchronous or semi-synchronous; "
                                "waiting for every replica needs Group Replication")
    if mode == "sync":
        settings["acks"] = replication.acks or followers
    if mode == "semi_sync":
        settings["semi_sync_timeout_ms"] = round(replication.semi_sync_timeout * 1e3)
    settings["reads"] = replication.reads
    return settings


def _cache(caching: Caching, tech: str) -> dict[str, Any]:
    settings: dict[str, Any] = {"write_policy": caching.write_policy,
                                "stampede": caching.stampede}
    if caching.ttl is not None:
        if tech == "memcached":
            settings["exptime"] = max(1, math.ceil(caching.ttl))
        else:  # Redis: SET key value PX <ms>
            settings["set"] = f"PX {round(caching.ttl * 1e3)}"
        settings["ttl_ms"] = round(caching.ttl * 1e3)
    if caching.max_keys is not None and tech != "memcached":
        settings["maxmemory-policy"] = "allkeys-lru"
        settings["note_max_keys"] = (f"size maxmemory for {caching.max_keys:,} entries: Redis "
                                     "limits memory, not keys")
    if caching.write_policy == "write_behind":
        settings["flush_interval_ms"] = round(caching.flush_interval * 1e3)
    if caching.refresh_ahead is not None:
        settings["refresh_ahead_factor"] = caching.refresh_ahead
    if caching.stampede == "xfetch":
        settings["xfetch_beta"] = caching.beta
    settings["note"] = ("read-through, write policies, refresh-ahead and stampede protection "
                        "are the application's (or its cache library's) code; these are the "
                        "values it should use")
    return settings


def lease_rbac(name: str, namespace: str, labels: dict[str, str]) -> list[dict[str, Any]]:
    """A ServiceAccount for the component, allowed to get, create and update Leases in its
    namespace (what client-go's Lease lock does)."""
    account = dns_label(name)
    meta = {"name": account, "namespace": namespace, "labels": labels}
    role = {**meta, "name": f"{account}-leader-election"}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": role,
         "rules": [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                    "verbs": ["get", "create", "update"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": role,
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                     "name": role["name"]},
         "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}]},
    ]
