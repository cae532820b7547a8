"""Leader election with known answers: the Kubernetes Lease failover after a crash within
the bounds of the client-go algorithm and distributed as a direct model of that algorithm
(written here), one jittered retry period after a graceful release; Raft's election time
against a small independent model of the protocol (written here); split votes without
randomness; spurious elections when the timeout is shorter than the heartbeat round trip;
requests refused while there is no leader; a leader paused past its lease replaced, and
leading on for RenewDeadline once it runs again."""

from __future__ import annotations

import heapq
import math
from typing import Any

import numpy as np
import pytest
import yaml

from scalesim.sim import simulate
from scalesim.sim.data.consistency_report import consistency_parts
from scalesim.sim.run import run_kernels
from scalesim.spec import System, load_spec_text
from scalesim.spec.consistency import JITTER_FACTOR, LeaderElection

CRASH_AT = 40.0
PAPER = {"check_quorum": False, "pre_vote": False}  # the paper's Raft, without etcd's additions


def spec(election: dict[str, Any], *, replicas: int = 3, network: str = "0ms",
         graceful: bool = False, runs: int = 1, duration: str = "70s", crash: bool = True,
         crash_at: float = CRASH_AT) -> System:
    """A leader-elected controller whose leader (replica 0) crashes at `crash_at`."""
    fault: dict[str, Any] = {"target": "ctl[0]", "at": f"{crash_at}s", "crash": True}
    if graceful:
        fault["graceful"] = True
    return load_spec_text(yaml.safe_dump({
        "scalesim": 1, "name": "t", "defaults": {"network": network},
        "components": {"ctl": {"replicas": replicas, "workers": 100,
                               "operations": {"reconcile": {"work": "1ms"}},
                               "leader_election": election}},
        "workloads": [{"name": "w", "to": "ctl.reconcile", "rate": "20/s"}],
        "faults": [fault] if crash else [],
        "simulation": {"duration": duration, "seed": 3, "replications": runs}}, sort_keys=False))


def failover_samples(system: System) -> np.ndarray:
    """Each replication's failover time (one crash each), from its result part."""
    samples = []
    for kernel in run_kernels(system):
        part = consistency_parts(kernel.plan.areas).elections["ctl"]
        part.failover.flush()
        assert part.failover.count == 1
        samples.append(part.failover.total)
    return np.array(samples)


def lease_model(trials: int, candidates: int, lease: float, retry: float,
                seed: int = 11) -> np.ndarray:
    """client-go, directly: the leader renews every `retry` (at a random phase); a
    candidate polls at gaps retry·(1 + 1.2·U), notes the time of the first poll after the
    last renewal, and takes over at its first poll at least `lease` after that note."""
    rng = np.random.default_rng(seed)
    out = np.empty(trials)
    for trial in range(trials):
        last_renewal = CRASH_AT - rng.uniform(0.0, retry)
        best = math.inf
        for _ in range(candidates):
            t = rng.uniform(0.0, retry * (1 + JITTER_FACTOR))  # some poll before the crash
            while t <= last_renewal:
                t += retry * (1 + JITTER_FACTOR * rng.random())
            noted = t
            while t < noted + lease:
                t += retry * (1 + JITTER_FACTOR * rng.random())
            best = min(best, t)
        out[trial] = best - CRASH_AT
    return out


@pytest.mark.slow
def test_lease_failover_after_a_crash_with_kubernetes_defaults() -> None:
    """15 s / 10 s / 2 s: a takeover strictly after 15 − 2 = 13 s and at most
    15 + 2 × 2 × 2.2 = 23.8 s after the crash (data-semantics.md §1.1 says 13–21.5 s: it
    leaves out that a candidate starts counting only when it *sees* the last renewal)."""
    samples = failover_samples(spec({"type": "lease"}, runs=120))
    low, high = LeaderElection().failover_bounds()
    assert (low, high) == pytest.approx((13.0, 23.8))
    assert samples.min() > low and samples.max() <= high
    model = lease_model(20_000, candidates=2, lease=15.0, retry=2.0)
    sd = model.std()
    assert samples.mean() == pytest.approx(model.mean(), abs=4 * sd / math.sqrt(len(samples)))
    for q in (0.1, 0.5, 0.9):  # the quantiles agree to within their sampling error
        assert np.quantile(samples, q) == pytest.approx(np.quantile(model, q), abs=0.8)


def test_lease_settings_that_fail_over_within_5_s() -> None:
    election = {"type": "lease", "lease_duration": "2s", "renew_deadline": "1500ms",
                "retry_period": "500ms"}
    samples = failover_samples(spec(election, runs=40, duration="50s"))
    low, high = LeaderElection.model_validate(election).failover_bounds()
    assert (low, high) == pytest.approx((1.5, 4.2))
    assert samples.min() > low and samples.max() <= high < 5.0


def test_a_released_lease_is_taken_at_the_next_poll() -> None:
    """ReleaseOnCancel clears the holder: a candidate takes it at its next poll, within
    one jittered retry period (2 × 2.2 = 4.4 s)."""
    samples = failover_samples(spec({"type": "lease", "release_on_cancel": True},
                                    graceful=True, runs=40, duration="50s"))
    assert samples.min() > 0.0 and samples.max() <= 2.0 * (1 + JITTER_FACTOR)
    # The first of two candidates polling at uniform phases: well under a full gap.
    assert samples.mean() < 2.0 * (1 + JITTER_FACTOR) / 2


PAUSE_AT = 20.0


def paused(pause: float, election: dict[str, Any], runs: int = 1) -> System:
    """The lease-elected controller whose leader (replica 0) stops the world at PAUSE_AT
    for `pause` seconds (one pause: the next would come long after the run)."""
    return load_spec_text(yaml.safe_dump({
        "scalesim": 1, "name": "t", "defaults": {"network": "0ms"},
        "components": {"ctl": {"replicas": 3, "workers": 100,
                               "operations": {"reconcile": {"work": "1ms"}},
                               "leader_election": {"type": "lease", **election}}},
        "workloads": [{"name": "w", "to": "ctl.reconcile", "rate": "20/s"}],
        "faults": [{"target": "ctl[0]", "at": f"{PAUSE_AT}s", "for": "1000s",
                    "pause": {"every": "1000s", "for": f"{pause}s"}}],
        "simulation": {"duration": "120s", "seed": 3, "replications": runs}},
        sort_keys=False))


def test_a_pause_shorter_than_the_lease_leaves_the_leader_in_place() -> None:
    """Paused for 5 s (the lease is 15 s): no candidate sees the record unchanged for a
    lease duration, the leader renews when it runs again, and nothing changes."""
    elections = simulate(paused(5.0, {}))["elections"]["ctl"]
    assert elections["leader_changes"] == 0
    assert elections["split_brains"] == 0 and elections["split_brain_s"] == 0.0
    assert [e["event"] for e in elections["events"]] == ["elected"]


@pytest.mark.parametrize("renew_deadline", [10.0, 4.0])
def test_a_leader_paused_past_its_lease_is_replaced_and_leads_on_for_the_renew_deadline(
        renew_deadline: float) -> None:
    """Paused from 20 s to 50 s: the leader stops renewing, so a candidate takes the lease
    within the crash bounds (13 to 23.8 s after the pause began): a failover counted from
    the pause. When the old leader runs again its renewals fail, and client-go keeps it
    leading until RenewDeadline has passed: two leaders from 50 s (`second_leader`) to
    50 s + renew_deadline, then it stops (`lease_lost`)."""
    runs = 20
    system = paused(30.0, {"renew_deadline": f"{renew_deadline:g}s"}, runs)
    low, high = LeaderElection().failover_bounds()
    for kernel in run_kernels(system):
        part = consistency_parts(kernel.plan.areas).elections["ctl"]
        assert [(event, replica) for _, event, replica, _ in part.events][:2] == \
            [("elected", 0), ("paused", 0)]
        (taken, _, second, _), began, (lost, why, old, _) = part.events[2:]
        assert (second != 0, old, why) == (True, 0, "lease_lost")
        assert began[:3] == (PAUSE_AT + 30.0, "second_leader", 0)
        assert low < taken - PAUSE_AT <= high
        part.failover.flush()
        assert part.failover.count == 1
        assert part.failover.total == pytest.approx(taken - PAUSE_AT)
        assert lost == PAUSE_AT + 30.0 + renew_deadline
        assert part.split_brains == 1 and part.split_brain_s == renew_deadline
    elections = simulate(system)["elections"]["ctl"]
    assert elections["failovers"] == runs
    assert elections["split_brains"] == runs
    assert elections["split_brain_s"] == pytest.approx(runs * renew_deadline)


@pytest.mark.parametrize(("election", "reasons"), [
    ({}, {"quorum_lost", "stepped_down"}), (PAPER, {"stepped_down"})])
def test_a_raft_leader_paused_past_its_timeout_steps_down_when_it_runs_again(
        election: dict[str, Any], reasons: set[str]) -> None:
    """etcd's timings (heartbeat 100 ms, timeout 1–2 s), the leader paused from 20 s to
    25 s: its heartbeats stop, a follower stands one timeout after the last one, and a new
    leader leads (a failover counted from the pause, as after a crash: 0.9 to 2 s). The old
    leader's events waited for it; running again it steps down at once, so it never acts as
    a second leader. Without CheckQuorum (the paper's Raft) it reads the new term in the
    vote requests that waited for it; with it (etcd) it ignores those (it holds the leader
    lease) and steps down at whichever of its waiting events comes first: its quorum check,
    due during the pause, finding no answer since the pause began, or the new leader's
    heartbeat."""
    runs = 20
    system = paused(5.0, {"type": "raft", **election}, runs)
    for kernel in run_kernels(system):
        part = consistency_parts(kernel.plan.areas).elections["ctl"]
        part.failover.flush()
        assert part.failover.count == 1
        assert 1.0 - 0.1 <= part.failover.total <= 2.0 + 1e-9
        assert ("paused", 0) in [(event, replica) for _, event, replica, _ in part.events]
        down = [(t, event) for t, event, replica, _ in part.events
                if replica == 0 and event in ("stepped_down", "quorum_lost")]
        assert len(down) == 1 and down[0][0] == PAUSE_AT + 5.0 and down[0][1] in reasons
        assert part.split_brains == 0 and part.split_brain_s == 0.0
    assert simulate(system)["elections"]["ctl"]["failovers"] == runs


def raft_model(trials: int, members: int, timeout: tuple[float, float], heartbeat: float,
               hop: float, seed: int = 5) -> np.ndarray:
    """A small Raft, written separately: the leader crashes at a uniform point of its
    heartbeat interval; a follower stands when no heartbeat came for its timeout (uniform in
    `timeout`, drawn again when its term changes): new term, a vote for itself, a request to
    everyone; a member grants the first request of each term (resetting its timer); a
    candidate wins with a majority, or stands again when its timer runs out first. Every
    message takes `hop`. Returns the times from the crash to the winner."""
    rng = np.random.default_rng(seed)
    majority = members // 2 + 1
    alive = range(1, members)  # member 0 was the leader
    out = np.empty(trials)
    for trial in range(trials):
        last_beat = -rng.uniform(0.0, heartbeat)  # the crash is at 0
        term = dict.fromkeys(alive, 1)
        voted: dict[int, int | None] = dict.fromkeys(alive, None)
        votes = dict.fromkeys(alive, 0)
        standing = dict.fromkeys(alive, False)
        limit = {m: rng.uniform(*timeout) for m in alive}
        deadline = {m: last_beat + hop + limit[m] for m in alive}
        queue = [(deadline[m], n, "timer", m, 0, 0) for n, m in enumerate(alive)]
        heapq.heapify(queue)
        count = len(queue)
        while True:
            now, _, kind, member, sender, t = heapq.heappop(queue)
            sends: list[tuple[float, str, int, int, int]] = []
            if kind == "timer":
                if now != deadline[member]:
                    continue
                term[member] += 1
                voted[member], votes[member], standing[member] = member, 1, True
                limit[member] = rng.uniform(*timeout)
                deadline[member] = now + limit[member]
                sends.append((deadline[member], "timer", member, 0, 0))
                sends += [(now + hop, "ask", other, member, term[member])
                          for other in alive if other != member]
            elif kind == "ask":
                if t > term[member]:
                    term[member], voted[member], standing[member] = t, None, False
                    limit[member] = rng.uniform(*timeout)
                if t == term[member] and voted[member] in (None, sender):
                    voted[member] = sender
                    deadline[member] = now + limit[member]
                    sends.append((deadline[member], "timer", member, 0, 0))
                    sends.append((now + hop, "grant", sender, member, t))
            elif standing[member] and term[member] == t:
                votes[member] += 1
                if votes[member] >= majority:
                    out[trial] = now
                    break
            for at, what, target, origin, its_term in sends:
                heapq.heappush(queue, (at, count, what, target, origin, its_term))
                count += 1
    return out


RAFT = [((0.15, 0.30), 0.075, 5), ((0.15, 0.20), 0.075, 5), ((1.0, 2.0), 0.1, 3)]


@pytest.mark.slow
@pytest.mark.parametrize(("timeout", "heartbeat", "members"), RAFT)
def test_raft_election_time_matches_a_small_independent_model(
        timeout: tuple[float, float], heartbeat: float, members: int) -> None:
    """The Raft paper's setup (§9.3, Figure 16): messages take 7.5 ms (a 15 ms broadcast),
    heartbeats every half of the shortest timeout, the leader crashed at a uniform point of
    its heartbeat interval; etcd's defaults (1–2 s, heartbeat 100 ms) on 3 members; the
    paper's algorithm (no CheckQuorum, no pre-vote), as the small model."""
    election = {"type": "raft", "heartbeat": f"{heartbeat * 1e3:g}ms",
                "election_timeout": f"{timeout[0] * 1e3:g}ms",
                "election_timeout_max": f"{timeout[1] * 1e3:g}ms", **PAPER}
    samples = failover_samples(spec(election, replicas=members, network="7.5ms", runs=300,
                                    crash_at=2.0, duration="10s"))
    model = raft_model(20_000, members, timeout, heartbeat, 0.0075)
    assert samples.mean() == pytest.approx(
        model.mean(), abs=4 * model.std() / math.sqrt(len(samples)))
    for q in (0.25, 0.5, 0.75):
        assert np.quantile(samples, q) == pytest.approx(np.quantile(model, q), rel=0.06)


def test_raft_fails_over_within_the_timeout_range_plus_a_vote_round() -> None:
    """Without split votes (plenty of randomness) a new leader is elected one timeout after
    the last heartbeat arrived, plus a request and a grant: between min timeout − heartbeat
    and max timeout + 2 hops after the crash."""
    samples = failover_samples(spec({"type": "raft", "heartbeat": "50ms",
                                     "election_timeout": "300ms",
                                     "election_timeout_max": "600ms"},
                                    network="1ms", runs=40, crash_at=2.0, duration="4s"))
    assert samples.min() >= 0.3 - 0.05 and samples.max() <= 0.6 + 0.002 + 1e-9


def test_without_randomness_votes_split() -> None:
    """Raft §9.3: with identical timeouts every follower stands at once and votes split,
    again and again (the paper saw elections take over 10 s)."""
    r = simulate(spec({"type": "raft", "heartbeat": "75ms", "election_timeout": "150ms",
                       "election_timeout_max": "150ms", **PAPER}, replicas=5, network="7.5ms",
                      crash_at=2.0, duration="6s"))
    section = r["elections"]["ctl"]
    assert section["split_votes"] >= 10
    assert section["leaderless_s"] > 3.0
    # One election per term, however many of the five stood in it (they all time out at
    # once here): counted from the events, the terms stood in and those won.
    stood = {e["term"] for e in section["events"] if e["event"] == "election"}
    won = {e["term"] for e in section["events"] if e["event"] == "elected"}
    assert section["elections"] == len(stood)
    # each term stood in ended without a winner, except those won and the last, maybe still
    # being decided at the end of the run
    assert len(stood - won) - 1 <= section["split_votes"] <= len(stood - won)


def test_an_election_timeout_within_the_heartbeat_round_trip_elects_spuriously() -> None:
    """Followers time out between heartbeats: leaders are deposed with nothing wrong."""
    r = simulate(spec({"type": "raft", "heartbeat": "100ms", "election_timeout": "80ms",
                       "election_timeout_max": "90ms"}, network="5ms", crash=False,
                      duration="10s"))
    section = r["elections"]["ctl"]
    assert section["leader_changes"] > 10 and section["elections"] > 10
    assert r["requests"]["failed_by_cause"]["unavailable"] > 0


def test_requests_to_a_leaderless_component_are_refused() -> None:
    r = simulate(spec({"type": "lease"}, duration="60s"))
    section = r["elections"]["ctl"]
    # 20 requests/s, every one of them refused while no replica leads.
    assert section["refused_no_leader"] == pytest.approx(20 * section["leaderless_s"],
                                                         abs=4 * math.sqrt(20 * 16))
    assert r["requests"]["failed_by_cause"]["unavailable"] == section["refused_no_leader"]
    assert 13.0 < section["leaderless_s"] <= 23.8
