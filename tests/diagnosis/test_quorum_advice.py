"""Requests a leaderless quorum refused because a crash left fewer of a key's replicas up
than `w` (or `r`) needs: Cassandra answers them with an UnavailableException however idle
the replicas left are (docs/data.md). The QA pass found them blamed on "calls fail on
healthy replicas too" with no fix; the finding now names the quorum, with the run's own
numbers, and lowers it to what the replicas up reach, keeping R + W > N where it held.
Each fix is applied and simulated again."""

from __future__ import annotations

from tests.diagnosis.advice import load, one, run

# A Cassandra-like store (the replicated-database template, smaller): every key on the 3
# replicas, W = 10 ms on average so that R + W ≤ N leaves stale reads; db[2] crashes at 4 s.
QUORUM = """
scalesim: 1
name: quorum-all
components:
  app:
    replicas: 2
    workers: unlimited
    operations:
      save:
        calls: [{to: db.write, timeout: 1s, retry: {attempts: 3, on: [crashed], base: 1ms}}]
      load:
        calls: [{to: db.read, timeout: 1s, retry: {attempts: 3, on: [crashed], base: 1ms}}]
  db:
    kind: database
    replicas: 3
    workers: unlimited
    replication: {mode: quorum, writes: [write], n: 3, w: 1, r: 1,
                  write: {dist: exponential, mean: 10ms}}
    operations:
      write: {work: 0.1ms}
      read: {work: 0.1ms}
workloads:
  - {name: writes, to: app.save, rate: 200/s, keys: 100}
  - {name: reads, to: app.load, rate: 200/s, keys: 100}
faults:
  - {target: "db[2]", at: 4s, crash: true}
simulation: {duration: 8s, seed: 1}
"""
W, R = "components.db.replication.w", "components.db.replication.r"
# db[1] down from 4 s, db[2] from 5 s to 7 s: two of a key's three replicas at once.
TWO_DOWN = ('faults=[{target: "db[1]", at: 4s, crash: true}, '
            '{target: "db[2]", at: 5s, for: 2s, crash: true}]')


def _refused(result: dict, to: str) -> int:
    """The attempts of the call to `to` refused `unavailable`."""
    call = next(c for c in result["calls"] if c["to"] == to)
    return int(call["attempt_failures_by_cause"]["unavailable"])


def test_writes_at_all_with_a_replica_down_name_the_quorum_and_lower_it() -> None:
    """w = n = 3 (ALL) with db[2] crashed: every write after the crash fails unavailable.
    The finding names the quorum and the crash with the run's numbers, not healthy replicas
    failing; the fix lowers w to 2 and raises r to 2, keeping R + W > N (w = 2 alone leaves
    R + W = N)."""
    result, found = run(load(QUORUM, f"{W}=3"))
    failed = one(found, "failures", "writes")
    unavailable = result["workloads"]["writes"]["requests"]["failed_by_cause"]["unavailable"]
    refused = _refused(result, "db.write")
    assert unavailable == refused == result["replication"]["db"]["unavailable"] > 0
    assert failed["limit"] == "quorum"
    assert failed["summary"].endswith(": db's writes need w = 3 of a key's n = 3 replicas, "
                                      "and db[2] was down")
    assert failed["numbers"].items() >= {"quorum_n": 3, "quorum_needed": 3, "replicas_down": 1,
                                         "quorum_refused": refused}.items()
    quorum = failed["evidence"][-1]
    assert quorum.startswith("db's writes wait for w = 3 of a key's n = 3 replicas (ALL); "
                             "crash on db[2], from 4 s to the end: with 2 of 3 up no write "
                             "could reach w = 3, so")
    assert f"{refused:,} attempts of app.save→db.write were refused unavailable" in quorum
    assert not any("healthy replicas too" in e for e in failed["evidence"])
    assert failed["fix"]["set"] == [f"{W}=2", f"{R}=2"]
    summary = failed["fix"]["summary"]
    assert summary.startswith("lower db's write quorum w from 3 to 2 (QUORUM, ⌊3/2⌋ + 1)")
    assert "w = 2 alone would leave R + W = 3 ≤ N = 3" in summary
    assert "R + W = 4 > N = 3" in summary
    assert [f["subject"] for f in found] == ["writes"]  # the reads (r = 1) all answered

    fixed, after = run(load(QUORUM, f"{W}=3", *failed["fix"]["set"]))
    assert after == []
    assert fixed["replication"]["db"]["unavailable"] == 0
    assert fixed["replication"]["db"]["stale_reads"] == 0  # R + W > N kept
    alone, _ = run(load(QUORUM, f"{W}=3", f"{W}=2"))
    assert alone["replication"]["db"]["stale_reads"] > 0  # the trade-off the fix names


def test_reads_at_all_with_a_replica_down_lower_r() -> None:
    """r = n = 3: the reads fail, and the fix lowers r to 2 and raises w to 2."""
    result, found = run(load(QUORUM, f"{R}=3"))
    failed = one(found, "failures", "reads")
    assert failed["limit"] == "quorum"
    assert failed["summary"].endswith(": db's reads need r = 3 of a key's n = 3 replicas, "
                                      "and db[2] was down")
    assert failed["numbers"]["quorum_refused"] == _refused(result, "db.read") > 0
    assert failed["fix"]["set"] == [f"{W}=2", f"{R}=2"]
    assert failed["fix"]["summary"].startswith("lower db's read quorum r from 3 to 2")
    assert "raise w from 1 to 2" in failed["fix"]["summary"]

    fixed, after = run(load(QUORUM, f"{R}=3", *failed["fix"]["set"]))
    assert after == []
    assert fixed["replication"]["db"]["unavailable"] == 0


def test_two_of_three_down_leave_no_overlapping_quorums() -> None:
    """QUORUM writes and reads (2 of 3) with two replicas down at once (5 s to 7 s): each
    side is lowered to 1, and the fix says that no pair of quorums that answers can overlap
    without a majority up. Applied, nothing is refused unavailable; the requests that met a
    crashed coordinator are the fault's, told apart (not a quorum)."""
    _, found = run(load(QUORUM, f"{W}=2", f"{R}=2", TWO_DOWN))
    writes, reads = one(found, "failures", "writes"), one(found, "failures", "reads")
    assert writes["numbers"]["replicas_down"] == reads["numbers"]["replicas_down"] == 2
    assert "crash on db[1], from 4 s to the end; crash on db[2], from 5 s to 7 s: with 1 of "\
           "3 up no write could reach w = 2" in writes["evidence"][-1]
    assert writes["fix"]["set"] == [f"{W}=1"] and reads["fix"]["set"] == [f"{R}=1"]
    assert "with 2 of 3 replicas down no pair of quorums both answers and overlaps" \
        in writes["fix"]["summary"]

    fixed, after = run(load(QUORUM, f"{W}=2", f"{R}=2", TWO_DOWN, f"{W}=1", f"{R}=1"))
    assert fixed["replication"]["db"]["unavailable"] == 0
    assert not [f for f in after if f["limit"] == "quorum"]


def test_a_fallback_answering_them_points_at_the_quorum_too() -> None:
    """With a fallback on the write, the writes are answered degraded: the degraded finding
    names the quorum and takes its fix, instead of "the resilience settings contain it"."""
    fallback = "components.app.operations.save.calls.0.on_failure={fallback: 1ms, " \
        "degraded: true}"
    _, found = run(load(QUORUM, f"{W}=3", fallback))
    degraded = one(found, "degraded", "writes")
    assert degraded["limit"] == "quorum"
    assert degraded["fix"]["set"] == [f"{W}=2", f"{R}=2"]


def test_a_quorum_the_replicas_up_reach_is_not_blamed() -> None:
    """w = 2 of 3 with one replica down: every write commits, and nothing is found."""
    result, found = run(load(QUORUM, f"{W}=2", f"{R}=2"))
    assert result["replication"]["db"]["unavailable"] == 0
    assert found == []
