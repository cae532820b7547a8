"""Replication, election and cache settings reach the generated configuration in each real
system's terms: client-go's Lease settings and flags with the RBAC a Lease needs, etcd's
Raft flags, PostgreSQL's synchronous standbys, MySQL semi-sync, Cassandra's replication
factor and consistency levels, and a Redis TTL."""

from __future__ import annotations

import json
from typing import Any

import kubernetes_validate
import pytest
import yaml

from scalesim.generate import GenerateOptions, Target, render
from scalesim.spec import load_spec_text

OPTIONS = GenerateOptions(namespace="demo")


def objects(component: dict[str, Any],
            extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    spec = {"scalesim": 1, "name": "t", "components": {
        "app": {"replicas": 2, "operations": {"x": {"calls": [{"to": "c.x"}]}}},
        "c": component, **(extra or {})},
        "workloads": [{"name": "w", "to": "app.x", "rate": "1/s"}]}
    files = render(load_spec_text(yaml.safe_dump(spec)), Target.K8S, OPTIONS)
    docs = [doc for f in files if f.path == "k8s/c.yaml"
            for doc in yaml.safe_load_all(f.content)]
    for doc in docs:
        kubernetes_validate.validate(doc, OPTIONS.k8s_version, strict=True)
    return docs


def settings(docs: list[dict[str, Any]]) -> dict[str, Any]:
    config = next(d for d in docs if d["kind"] == "ConfigMap")
    loaded: dict[str, Any] = json.loads(config["data"]["consistency.json"])
    return loaded


def test_a_lease_election_gets_client_go_settings_flags_and_rbac() -> None:
    docs = objects({"replicas": 3, "operations": {"x": {}}, "leader_election": {
        "type": "lease", "lease_duration": "4s", "renew_deadline": "3s", "retry_period": "500ms"}})
    election = settings(docs)["leader_election"]
    assert election["client_go"] == {"LeaseDuration": "4s", "RenewDeadline": "3s",
                                     "RetryPeriod": "500ms", "ReleaseOnCancel": False}
    assert "--leader-elect-retry-period=500ms" in election["flags"]
    assert "--leader-elect-resource-lock=leases" in election["flags"]
    kinds = {d["kind"]: d for d in docs}
    assert kinds["Role"]["rules"][0]["resources"] == ["leases"]
    assert kinds["RoleBinding"]["subjects"][0]["name"] == "c"
    assert kinds["Deployment"]["spec"]["template"]["spec"]["serviceAccountName"] == "c"


def test_raft_gets_etcd_flags_and_a_note_when_etcd_would_refuse_them() -> None:
    db = {"kind": "database", "tech": "etcd", "replicas": 3, "operations": {"x": {}, "put": {}},
          "replication": {"mode": "raft", "writes": ["put"]}}
    assert settings(objects(db))["leader_election"] == {
        "etcd": {"heartbeat-interval": 100, "election-timeout": 1000, "pre-vote": True}}
    db["leader_election"] = {"type": "raft", "heartbeat": "100ms", "election_timeout": "300ms"}
    assert "5 heartbeats" in settings(objects(db))["leader_election"]["note"]
    db["leader_election"] = {"type": "raft", "check_quorum": False, "pre_vote": False}
    paper = settings(objects(db))["leader_election"]
    assert paper["etcd"]["pre-vote"] is False and "always runs CheckQuorum" in paper["note"]


@pytest.mark.parametrize(("w", "r", "write", "read"), [
    (1, 1, "ONE", "ONE"), (2, 2, "QUORUM", "QUORUM"), (3, 1, "ALL", "ONE")])
def test_cassandra_gets_its_replication_factor_and_consistency_levels(
        w: int, r: int, write: str, read: str) -> None:
    replication = settings(objects({
        "kind": "database", "tech": "cassandra", "replicas": 3,
        "operations": {"x": {}, "put": {}},
        "replication": {"mode": "quorum", "writes": ["put"], "w": w, "r": r}}))["replication"]
    assert replication["keyspace_replication"]["replication_factor"] == 3
    assert replication["consistency"] == {"write": write, "read": read}


def test_postgres_sync_and_mysql_semi_sync() -> None:
    pg = settings(objects({"kind": "database", "tech": "postgres", "replicas": 3,
                           "operations": {"x": {}, "put": {}},
                           "replication": {"mode": "sync", "writes": ["put"], "acks": 1}}))
    assert pg["replication"]["postgresql.conf"] == {"synchronous_standby_names": "ANY 1 (*)",
                                                    "synchronous_commit": "on"}
    my = settings(objects({"kind": "database", "tech": "mysql", "replicas": 2,
                           "operations": {"x": {}, "put": {}},
                           "replication": {"mode": "semi_sync", "writes": ["put"],
                                           "semi_sync_timeout": "2s"}}))
    assert my["replication"]["my.cnf"]["rpl_semi_sync_source_timeout"] == 2000


def test_a_redis_cache_gets_its_ttl_and_eviction() -> None:
    cache = settings(objects(
        {"kind": "cache", "tech": "redis", "replicas": 2, "backend": "db.q",
         "caching": {"ttl": "1500ms", "max_keys": 1000, "stampede": "xfetch"},
         "operations": {"x": {}}},
        {"db": {"kind": "database", "replicas": 1, "operations": {"q": {}}}}))["cache"]
    assert cache["set"] == "PX 1500" and cache["maxmemory-policy"] == "allkeys-lru"
    assert cache["xfetch_beta"] == 1.0


def test_components_without_these_blocks_get_no_consistency_file() -> None:
    docs = objects({"replicas": 2, "operations": {"x": {}}})
    config = next(d for d in docs if d["kind"] == "ConfigMap")
    assert "consistency.json" not in config["data"]
