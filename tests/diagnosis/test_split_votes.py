"""Raft elections that keep splitting (QA's le3.yaml: election_timeout = election_timeout_max
= 150 ms) are named as why the group had no leader, with the fix that widens the timeouts'
range; and a failures finding never points at an election finding that was not made."""

from __future__ import annotations

from typing import Any

import yaml

from scalesim.diagnosis import diagnose
from scalesim.sim import simulate
from scalesim.spec import System, load_spec_text

CRASH = {"target": "scheduler[0]", "at": "1s", "crash": True}
SAME = {"election_timeout": "150ms", "election_timeout_max": "150ms", "heartbeat": "75ms"}
WIDER = "components.scheduler.leader_election.election_timeout_max=300ms"
SUBMIT = "components.api.operations.submit.calls.0"


def _scheduler(election: dict[str, Any], faults: list[dict[str, Any]],
               overrides: tuple[str, ...] = ()) -> System:
    """le3.yaml in 5 s: api calls a 3-member Raft scheduler (no retry), 0.25 ms a hop."""
    spec = {"scalesim": 1, "name": "t", "defaults": {"network": "0.25ms"},
            "components": {
                "api": {"replicas": 2, "workers": 64, "operations": {"submit": {
                    "work": "0.5ms", "calls": [{"to": "scheduler.dispatch", "timeout": "1s"}]}}},
                "scheduler": {"replicas": 3, "workers": 16,
                              "leader_election": {"type": "raft", **election},
                              "operations": {"dispatch": {"work": "2ms"}}}},
            "workloads": [{"name": "jobs", "to": "api.submit", "rate": "20/s"}],
            "faults": faults, "simulation": {"duration": "5s", "seed": 1}}
    return load_spec_text(yaml.safe_dump(spec, sort_keys=False), "t.yaml", overrides)


def _run(system: System) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    result = simulate(system)
    return result, diagnose(system, result)


def _of(found: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [f for f in found if f["kind"] == kind]


def test_identical_timeouts_are_named_as_the_cause_with_the_range_that_fixes_them() -> None:
    """The two followers left time out together, both stand and split the vote, one
    election every 150.5 ms (the timeout and the pre-vote round trip) for the 4 s after the
    crash: no leader again, and no failover finding. The split-vote finding says so and
    sets election_timeout_max to 2 × 150 ms and, as api.submit has no retry, one on
    unavailable spanning the failover that range still leaves (up to 300 ms), which the
    failures finding takes; applied, one election elects a leader and no request fails
    (the range alone left 5 of 96 failed, and a failover finding asking for the retry)."""
    result, found = _run(_scheduler(SAME, [CRASH]))
    entry = result["elections"]["scheduler"]
    assert entry["failovers"] == 0 and entry["leaderless_s"] == 4.0
    assert 26 <= entry["elections"] <= 27 and entry["split_votes"] == entry["elections"] - 1
    assert not _of(found, "failover")
    (split,) = _of(found, "split_votes")
    assert split["subject"] == "scheduler" and split["severity"] == "problem"
    assert split["numbers"]["split_votes"] == entry["split_votes"]
    assert f"{entry['split_votes']} of its {entry['elections']} elections split" in \
        split["summary"]
    assert "every election timeout 150 ms" in " ".join(split["evidence"])
    wider, retry = split["fix"]["set"]
    assert wider == WIDER
    assert retry.startswith(f"{SUBMIT}.retry=") and "unavailable" in retry
    assert "up to the longest timeout, 300 ms: callers that retry unavailable" in \
        split["fix"]["summary"]
    (failed,) = _of(found, "failures")
    summary = failed["fix"]["summary"]
    assert "the failover finding" not in summary
    assert "scheduler had no leader while its elections split the vote; the split_votes " \
        "finding's fix: election_timeout_max 300 ms" in summary
    assert failed["fix"]["set"] == split["fix"]["set"]
    fixed, again = _run(_scheduler(SAME, [CRASH], (WIDER, retry)))
    assert fixed["elections"]["scheduler"]["failovers"] == 1
    assert fixed["elections"]["scheduler"]["split_votes"] == 0
    assert fixed["elections"]["scheduler"]["refused_no_leader"] > 0
    assert fixed["requests"]["failed"] == 0
    assert not _of(again, "split_votes") and not _of(again, "failures")


def test_a_group_without_an_election_finding_is_not_pointed_at_one() -> None:
    """Two of three members crashed: no majority, so nobody stands (pre-vote) and no
    failover ends. There is no failover or split-vote finding, so the failures finding
    tells the time without a leader instead of pointing at one."""
    both = [CRASH, {**CRASH, "target": "scheduler[1]"}]
    result, found = _run(_scheduler({}, both))
    assert result["elections"]["scheduler"]["elections"] == 0
    assert not _of(found, "failover") and not _of(found, "split_votes")
    (failed,) = _of(found, "failures")
    assert failed["fix"]["summary"] == ("the fault on scheduler[0], scheduler[1] causes "
                                        "them: scheduler had no leader for 4.00 s")
