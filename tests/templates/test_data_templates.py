"""The data templates' seed figures, stated literally, and their "without" variants."""

from __future__ import annotations

import pytest

from scalesim.sim import simulate
from scalesim.spec import load_spec_text
from scalesim.templates import get_template, run_scenario
from scalesim.templates.library.distributed_state_machine import capacity_rps

VARIANTS = [
    ("dead-letter-queue", {"with_dlq": False}),
    ("outbox", {"relay": "log_tailing"}),
    ("saga-orchestration", {"policy": "temporal"}),
    ("saga-choreography", {"policy": "temporal"}),
    ("leader-election", {"lease_duration_s": 15, "renew_deadline_s": 10, "retry_period_s": 2}),
    ("leader-election", {"method": "raft"}),
    ("leader-election", {"fault": "partition"}),
    ("leader-election", {"fault": "partition", "method": "raft"}),
    ("distributed-state-machine", {"nodes": 5}),
    ("replicated-database", {"consistency": "quorum"}),
    ("replicated-database", {"consistency": "all"}),
    ("caching-strategies", {"stampede": "none", "write_policy": "none"}),
    ("caching-strategies", {"stampede": "xfetch", "write_policy": "write_behind"}),
    ("caching-strategies", {"write_policy": "write_through", "refresh_ahead": 0.8}),
]


@pytest.mark.parametrize(("template_id", "values"), VARIANTS,
                         ids=[f"{t}-{'-'.join(map(str, v.values()))}" for t, v in VARIANTS])
def test_variant_scenario_meets_its_expected_outcome(template_id, values):
    run = run_scenario(get_template(template_id), values, quick=True)
    assert run.met, "\n".join(str(check) for check in run.checks)


def test_event_sourcing_writes_10k_events_and_serves_100k_reads_per_second():
    result = run_scenario(get_template("event-sourcing"), quick=True).result
    store = result["event_stores"]["event-store"]
    assert store["appends_rps"] >= 10_000 * 0.99  # every command's event, conflicts retried
    assert result["workloads"]["queries"]["goodput_rps"] >= 100_000 * 0.99
    assert store["events_per_load"] < store["events_per_load_without_snapshots"] / 10


@pytest.mark.parametrize("template_id", ["saga-orchestration", "saga-choreography"])
def test_saga_ends_within_5_s_and_a_declined_payment_is_compensated(template_id):
    result = run_scenario(get_template(template_id), quick=True).result
    saga = result["sagas"]["orders.place"]
    assert saga["duration_ms"]["p99"] < 5000
    assert saga["compensated"] > 0 and saga["stuck"] == 0
    authorize = next(s for s in saga["steps"] if s["name"] == "authorize-payment")
    assert authorize["pivot"]
    # Declined: compensated, or still compensating when the run ends.
    assert saga["compensated"] <= authorize["failed"] <= saga["compensated"] + saga["unfinished"]
    undone = {s["name"]: s["compensated"] for s in saga["steps"]}
    assert undone["create-order"] == undone["reserve-stock"] == saga["compensated"]
    assert undone["schedule-shipping"] == undone["approve-order"] == 0


def test_leader_failover_under_5_s_and_what_kubernetes_defaults_give():
    """The seed's "< 5 s": a 2 s lease with a 0.5 s retry period meets it; client-go's
    15 / 10 / 2 s defaults take between 13 and 23.8 s (data-semantics.md §1.1)."""
    tuned = run_scenario(get_template("leader-election"), quick=True).result
    assert tuned["elections"]["scheduler"]["failover_ms"]["max"] < 5000
    defaults = run_scenario(get_template("leader-election"), {
        "lease_duration_s": 15, "renew_deadline_s": 10, "retry_period_s": 2},
        quick=True).result
    assert 13_000 < defaults["elections"]["scheduler"]["failover_ms"]["max"] <= 23_800
    raft = run_scenario(get_template("leader-election"), {"method": "raft"}, quick=True).result
    assert raft["elections"]["scheduler"]["failover_ms"]["max"] < 5000


def test_state_machine_on_3_and_5_nodes_loses_no_command_when_the_leader_crashes():
    for nodes in (3, 5):
        result = run_scenario(get_template("distributed-state-machine"), {"nodes": nodes},
                              quick=True).result
        assert result["replication"]["kv"]["lost_on_failover"] == 0
        writes = result["workloads"]["writes"]["requests"]
        assert writes["ok"] >= 0.999 * writes["total"]
        assert result["elections"]["kv"]["failover_ms"]["max"] < 5000


def test_state_machine_throughput_is_the_leaders_whatever_the_cluster_size():
    """Every command and linearizable read goes through the leader (8 workers × 0.2 ms:
    40,000/s): offered 60,000/s, the cluster serves the leader's capacity on 3 and on 5
    nodes alike, and the followers' share of the component's time shrinks with n."""
    template = get_template("distributed-state-machine")
    for nodes in (3, 5):
        built = template.build({"nodes": nodes})
        system = load_spec_text(built.text, "dsm.yaml", (
            "workloads.0.rate=30000/s", "workloads.1.rate=30000/s",
            "simulation.duration=3s", "simulation.warmup=0.5s", "faults.0.at=100s"))
        kv = simulate(system)["components"]["kv"]
        # saturated: the leader serves exactly its capacity (to the 1 % the window allows)
        assert kv["throughput_rps"] == pytest.approx(capacity_rps(), rel=0.01)
        assert kv["utilization"] == pytest.approx(1 / nodes, rel=0.01)
