"""Election members cut off from the others (a `partition` fault of `name[i]` from `name`):
Raft with CheckQuorum and pre-vote, against etcd's raft (go.etcd.io/raft `Step`,
`tickHeartbeat`, `stepCandidate`) and the Raft thesis (§9.6); a Lease holder cut off from the
API server, against client-go's `leaderelection` renew loop."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from scalesim.sim import simulate
from scalesim.sim.data.consistency_report import consistency_parts
from scalesim.sim.run import run_kernels
from scalesim.spec import SpecError, System, load_spec_text
from scalesim.spec.consistency import LeaderElection

CUT_AT, CUT_FOR = 20.0, 10.0
TIMEOUT = 1.0  # etcd's --election-timeout; its heartbeat is 100 ms
HOP = 0.001


def cut_off(member: int, election: dict[str, Any] | None = None, *, runs: int = 1,
            crash: tuple[int, ...] = (), cut_for: float = CUT_FOR) -> System:
    """Three members with etcd's defaults (or `election`); `member` is cut off from the
    other two from CUT_AT for `cut_for` seconds; the members in `crash` crash at CUT_AT."""
    faults: list[dict[str, Any]] = [
        {"target": f"etcd[{m}]", "at": f"{CUT_AT}s", "crash": True} for m in crash]
    if member >= 0:
        faults.append({"target": f"etcd[{member}]", "at": f"{CUT_AT}s", "for": f"{cut_for}s",
                       "partition": {"with": "etcd"}})
    return load_spec_text(yaml.safe_dump({
        "scalesim": 1, "name": "t", "defaults": {"network": f"{HOP * 1e3:g}ms"},
        "components": {"etcd": {"replicas": 3, "workers": 100,
                                "operations": {"put": {"work": "1ms"}},
                                "leader_election": {"type": "raft", **(election or {})}}},
        "workloads": [{"name": "w", "to": "etcd.put", "rate": "20/s"}],
        "faults": faults,
        "simulation": {"duration": "60s", "seed": 7, "replications": runs}}, sort_keys=False))


def events(kernel: Any) -> tuple[Any, list[tuple[float, str, int, int]]]:
    part = consistency_parts(kernel.plan.areas).elections["etcd"]
    part.failover.flush()
    return part, part.events


def test_an_isolated_leader_steps_down_within_two_quorum_checks() -> None:
    """CheckQuorum: the leader checks every election timeout of its term whether a majority
    answered since the last check. Cut off at 20 s, it steps down at the first check after
    the cut that finds no answer: the second, unless no heartbeat was answered between the
    check before and the cut (10 % of phases: one 100 ms beat per 1 s check), so within
    two timeouts. Meanwhile the other two elect a leader one
    randomized timeout (1-2 s) after the last heartbeat, plus a pre-vote and a vote round
    (four hops): the failover is counted from the cut. The overlap of the two leaders is the
    split brain. When the cut heals nobody is deposed."""
    runs = 20
    system = cut_off(0, runs=runs)
    overlaps = []
    for kernel in run_kernels(system):
        part, log = events(kernel)
        down = [t for t, event, who, _ in log if (event, who) == ("quorum_lost", 0)]
        assert len(down) == 1 and CUT_AT < down[0] <= CUT_AT + 2 * TIMEOUT
        elected = [(t, who) for t, event, who, _ in log if event == "elected"][1:]
        assert len(elected) == 1 and elected[0][1] != 0  # no change when the cut heals
        assert part.failover.count == 1
        assert TIMEOUT - 0.1 <= part.failover.total <= 2 * TIMEOUT + 4 * HOP + 1e-9
        assert part.failover.total == pytest.approx(elected[0][0] - CUT_AT)
        overlap = max(0.0, down[0] - elected[0][0])
        assert part.split_brain_s == pytest.approx(overlap)
        assert part.split_brains == (1 if overlap > 0 else 0)
        second = [t for t, event, who, _ in log if (event, who) == ("second_leader", 0)]
        assert second == ([elected[0][0]] if overlap > 0 else [])
        assert [t for t, *_ in log] == sorted(t for t, *_ in log)
        overlaps.append(overlap)
    assert 0 < sum(o > 0 for o in overlaps) < runs  # both orders happen over 20 runs
    result = simulate(system)["elections"]["etcd"]
    assert result["failovers"] == runs and result["leader_changes"] == runs


def test_without_check_quorum_an_isolated_leader_leads_until_the_cut_heals() -> None:
    """Raft as in the paper: nothing tells the cut-off leader it lost its majority, so it
    leads in its own eyes beside the new leader until the cut heals and the first answer
    with the newer term reaches it (a heartbeat of the new leader or a reply to its own:
    within a heartbeat interval and two hops)."""
    system = cut_off(0, {"check_quorum": False, "pre_vote": False}, runs=10)
    for kernel in run_kernels(system):
        part, log = events(kernel)
        assert "quorum_lost" not in [event for _, event, _, _ in log]
        down = [t for t, event, who, _ in log if (event, who) == ("stepped_down", 0)]
        assert len(down) == 1
        assert CUT_AT + CUT_FOR <= down[0] <= CUT_AT + CUT_FOR + 0.1 + 2 * HOP + 1e-9
        elected = [t for t, event, who, _ in log if event == "elected" and who != 0]
        assert part.split_brains == 1
        assert part.split_brain_s == pytest.approx(down[0] - elected[0])
        assert part.split_brain_s > CUT_FOR - 2 * TIMEOUT - 4 * HOP


def test_pre_vote_keeps_a_rejoining_member_from_deposing_the_leader() -> None:
    """A follower cut off for 10 s times out again and again. With pre-vote (etcd's
    default) it asks first and, hearing no yes, keeps its term, so it rejoins quietly.
    Without, each timeout raises its term; back, it answers the leader's heartbeat with the
    higher term and the leader steps down for a needless election (the disruption etcd's
    --pre-vote help names), though CheckQuorum's lease makes the others ignore its votes."""
    quiet = simulate(cut_off(2))["elections"]["etcd"]
    assert quiet["leader_changes"] == 0 and quiet["elections"] == 0
    loud = simulate(cut_off(2, {"pre_vote": False}))["elections"]["etcd"]
    # One candidacy per 1-2 s timeout while cut off: 5 to 10 of them, then one election
    # after the leader steps down.
    assert 5 <= loud["elections"] - 1 <= 10
    assert loud["leader_changes"] == 1
    assert [e["event"] for e in loud["events"]].count("stepped_down") == 1


def test_a_leader_that_loses_its_majority_steps_down_and_writes_are_refused() -> None:
    """Two of three members crash: with CheckQuorum the leader steps down at one of its next
    two checks, and the leader-only operation is refused as unavailable from then on, where
    Raft without it would keep a leader that can commit nothing."""
    with_check = simulate(cut_off(-1, crash=(1, 2)))
    section = with_check["elections"]["etcd"]
    lost = [e for e in section["events"] if e["event"] == "quorum_lost"]
    assert len(lost) == 1 and CUT_AT < lost[0]["t_s"] <= CUT_AT + 2 * TIMEOUT
    assert section["refused_no_leader"] > 0
    without = simulate(cut_off(-1, {"check_quorum": False}, crash=(1, 2)))
    assert without["elections"]["etcd"]["refused_no_leader"] == 0


@pytest.mark.parametrize(("election", "target", "message"), [
    (None, "etcd[0]", "only the members of a leader election reach each other"),
    ({"type": "raft"}, "etcd", "cuts one member off from the others"),
])
def test_a_partition_from_its_own_component_needs_an_elected_member(
        election: dict[str, Any] | None, target: str, message: str) -> None:
    text = yaml.safe_dump({
        "scalesim": 1, "name": "t",
        "components": {"etcd": {"replicas": 3, "operations": {"put": {"work": "1ms"}},
                                **({"leader_election": election} if election else {})}},
        "workloads": [{"name": "w", "to": "etcd.put", "rate": "20/s"}],
        "faults": [{"target": target, "partition": {"with": "etcd"}}]}, sort_keys=False)
    with pytest.raises(SpecError, match=message):
        load_spec_text(text)


def test_a_lease_holder_cut_off_from_the_api_server_stops_before_another_takes_over() -> None:
    """Kubernetes' defaults (15 s / 10 s / 2 s), the leader cut off from the API server from
    20 s to 50 s. Its renew loop's first try after the cut fails (within a retry period),
    and it stops leading RenewDeadline later: at 30 to 32 s. The others, which reach the API
    server, see the lease unchanged and take it within the crash bounds counted from the cut
    (13 to 23.8 s). As LeaseDuration (15 s) is at least RenewDeadline + RetryPeriod (12 s),
    the old leader has always stopped first: no second leader, a leaderless gap instead."""
    low, high = LeaderElection().failover_bounds()
    system = cut_off(0, {"type": "lease"}, runs=20, cut_for=30.0)
    for kernel in run_kernels(system):
        part, log = events(kernel)
        stopped = [t for t, event, who, _ in log if (event, who) == ("lease_lost", 0)]
        taken = [t for t, event, who, _ in log if event == "elected" and who != 0]
        assert len(stopped) == 1 and CUT_AT + 10.0 < stopped[0] <= CUT_AT + 12.0 + 1e-9
        assert len(taken) == 1 and low < taken[0] - CUT_AT <= high + 1e-9
        assert part.failover.count == 1
        assert part.failover.total == pytest.approx(taken[0] - CUT_AT)
        assert part.leaderless_s == pytest.approx(taken[0] - stopped[0])
        assert part.split_brains == 0 and part.split_brain_s == 0.0
        assert "partitioned" not in [event for _, event, _, _ in log]


def test_a_lease_shorter_than_renew_deadline_plus_retry_period_can_have_two_leaders() -> None:
    """LeaseDuration 3 s < RenewDeadline 2.5 s + RetryPeriod 1 s: a candidate can take the
    lease (3 s after the last renewal it saw) before the cut-off leader gives up (2.5 s
    after its first failed renewal, a retry period after the last good one). Then both act
    as leader until it does: split_brain_s is exactly that overlap, from `second_leader`."""
    system = cut_off(0, {"type": "lease", "lease_duration": "3s", "renew_deadline": "2.5s",
                         "retry_period": "1s"}, runs=20)
    overlaps = []
    for kernel in run_kernels(system):
        part, log = events(kernel)
        stopped = [t for t, event, who, _ in log if (event, who) == ("lease_lost", 0)]
        taken = [t for t, event, who, _ in log if event == "elected" and who != 0]
        assert len(stopped) == 1 and CUT_AT + 2.5 < stopped[0] <= CUT_AT + 3.5 + 1e-9
        overlap = max(0.0, stopped[0] - taken[0])
        assert part.split_brain_s == pytest.approx(overlap)
        second = [t for t, event, who, _ in log if (event, who) == ("second_leader", 0)]
        assert second == ([taken[0]] if overlap > 0 else [])
        overlaps.append(overlap)
    assert 0 < sum(o > 0 for o in overlaps) < len(overlaps)

