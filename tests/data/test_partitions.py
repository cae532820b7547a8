"""Kafka consumer groups with known answers: order within a partition (on message traces),
one consumer per partition, a slow record blocking only its partition, rebalance pauses
(session timeout, eager vs cooperative) and the duplicates of uncommitted offsets."""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

import pytest
from tests.kernel.helpers import run


def topic(partitions: int, concurrency: int, replicas: int = 1, work: object = "1ms",
          error: float = 0.0, **extra: object) -> dict[str, object]:
    return {
        "orders": {"kind": "queue", "tech": "kafka", "partitions": partitions,
                   "consumers": [{"to": "worker.process", "concurrency": concurrency}],
                   **extra},
        "worker": {"replicas": replicas, "workers": "unlimited",
                   "operations": {"process": {"work": work, "error_rate": error}}},
    }


def test_records_of_a_partition_are_processed_one_at_a_time_in_offset_order() -> None:
    """Random work, failures retried in place: on the message traces, a partition's next
    offset never starts before the previous one's last delivery ended."""
    r = run(topic(4, 2, replicas=2, work={"dist": "exponential", "mean": "2ms"}, error=0.2,
                  delivery={"guarantee": "at_least_once", "max_deliveries": 3}),
            [{"name": "w", "to": "orders.publish", "rate": "400/s", "keys": 50}],
            duration="5s", traces=1000)
    q = r["queues"]["orders->worker.process"]
    by_partition: dict[int, list[dict[str, object]]] = defaultdict(list)
    for trace in q["traces"]:
        by_partition[trace["partition"]].append(trace)
    assert len(by_partition) == 4
    checked = 0
    for traces in by_partition.values():
        traces.sort(key=lambda t: t["offset"])
        for before, after in pairwise(traces):
            if after["offset"] != before["offset"] + 1 or not after["deliveries"]:
                continue
            assert after["deliveries"][0]["start_s"] >= before["deliveries"][-1]["end_s"]
            starts = [d["start_s"] for d in after["deliveries"]]
            assert starts == sorted(starts)
            checked += 1
    assert checked > 500


def test_a_partition_is_consumed_by_one_member_so_extra_members_idle() -> None:
    """2 partitions, 8 members, 10 ms records at 150/s: at most 2 records at once, so the
    group delivers at most 200/s however many members it has."""
    r = run(topic(2, 8, work="10ms"),
            [{"name": "w", "to": "orders.publish", "rate": "300/s", "arrivals": "constant"}],
            duration="10s")
    q = r["queues"]["orders->worker.process"]
    assert q["delivered_rps"] == pytest.approx(200, rel=0.02)
    assert r["components"]["worker"]["concurrency_mean"] == pytest.approx(2.0, rel=0.01)
    assert q["concurrency"] == 2  # in flight at most: the partitions (it said 8, the setting)


def test_members_short_of_the_partitions_bound_the_records_in_flight() -> None:
    """8 partitions, 4 replicas × 1 member: 4 records at once (the result said 1)."""
    r = run(topic(8, 1, replicas=4, work="10ms"),
            [{"name": "w", "to": "orders.publish", "rate": "300/s", "arrivals": "constant"}],
            duration="5s")
    assert r["queues"]["orders->worker.process"]["concurrency"] == 4


def test_a_slow_key_blocks_its_partition_only() -> None:
    """Key 0 is hot and slow: its partition's lag grows while the others stay empty."""
    r = run(topic(8, 8, work={"dist": "mixture", "of": [
        {"weight": 0.5, "dist": "20ms"}, {"weight": 0.5, "dist": "1ms"}]}),
        [{"name": "w", "to": "orders.publish", "rate": "300/s",
          "keys": {"count": 100, "skew": 1.5}}], duration="20s")
    parts = r["queues"]["orders->worker.process"]["partitions"]
    lags = sorted(p["lag_max"] for p in parts)
    assert lags[-1] > 100 and lags[-2] < 20


def crash_run(rebalance: str, at: str = "12s", commit: str = "5s", down: str = "20s",
              graceful: bool = False, **simulation: object) -> dict[str, object]:
    return run(topic(6, 1, replicas=3, work="1ms",
                     delivery={"guarantee": "at_least_once", "commit_interval": commit},
                     group={"session_timeout": "10s", "rebalance": rebalance,
                            "rebalance_time": "2s"}),
               [{"name": "w", "to": "orders.publish", "rate": "300/s",
                 "arrivals": "constant"}],
               faults=[{"target": "worker[2]", "at": at, "for": down, "crash": True,
                        "graceful": graceful}],
               **{"duration": "40s", **simulation})


@pytest.mark.parametrize("rebalance", ["eager", "cooperative"])
def test_a_crashed_member_is_replaced_after_the_session_timeout(rebalance: str) -> None:
    r = crash_run(rebalance)
    q = r["queues"]["orders->worker.process"]
    left, joined = q["rebalances"]
    assert left["cause"] == "session timeout" and left["t_s"] == pytest.approx(22.0)
    # Kafka's RangeAssignor moves a partition between the live members too; the sticky one
    # moves only the orphans.
    assert left["members"] == 2 and left["moved"] == (3 if rebalance == "eager" else 2)
    assert left["pause_s"] == pytest.approx(2.0)  # one round: the partitions were orphaned
    assert joined["cause"] == "member joined" and joined["t_s"] == pytest.approx(32.0)
    # Coming back takes two partitions from live members: cooperative needs two rounds.
    assert joined["pause_s"] == pytest.approx(2.0 if rebalance == "eager" else 4.0)
    # The crashed member's partitions wait from the crash to the end of the rebalance:
    # 10 s of session timeout + 2 s, plus what was uncommitted (up to the 5 s commits).
    assert q["lag_s"]["max"] == pytest.approx(10 + 2 + 2, abs=1.1)


def test_eager_rebalancing_stops_every_partition_cooperative_only_the_moved() -> None:
    """Offsets committed after every record, so a partition's lag is what waits. Eager: every
    partition stops 2 s at each rebalance, 100 records of 50/s pile up. Cooperative: the two
    partitions that never move keep up (a record or two)."""
    eager = crash_run("eager", commit="0s")["queues"]["orders->worker.process"]["partitions"]
    cooperative = crash_run("cooperative", commit="0s")[
        "queues"]["orders->worker.process"]["partitions"]
    assert min(p["lag_max"] for p in eager) >= 60
    assert sorted(p["lag_max"] for p in cooperative)[1] <= 2


@pytest.mark.parametrize("crash", [11.0, 12.0])
def test_uncommitted_offsets_are_processed_again_after_a_crash(crash: float) -> None:
    """Commits every 5 s; the member of partitions 4 and 5 (RangeAssignor) crashes after
    the commit at 10 s: exactly the records those partitions received since then and
    processed before the crash are processed again (counted on the message traces)."""
    q = crash_run("eager", at=f"{crash}s", warmup="9s", duration="31s", traces=1000)[
        "queues"]["orders->worker.process"]
    twice = [t for t in q["traces"] if sum(d["status"] == "ok" for d in t["deliveries"]) >= 2]
    since_commit = [t for t in q["traces"] if t["partition"] in (4, 5)
                    and 10.0 <= t["published_s"] < crash - 0.001]
    assert q["traces"][-1]["published_s"] > crash
    assert q["duplicates"] == len(twice) == pytest.approx(len(since_commit), abs=1)
    assert len(since_commit) == pytest.approx(300 * (crash - 10) / 3, rel=0.15)


@pytest.mark.parametrize("rebalance", ["eager", "cooperative"])
def test_a_member_restarted_within_the_session_timeout_resumes_from_the_commit(
        rebalance: str) -> None:
    """The member of partitions 4 and 5 crashes at 12 s and is back at 15 s, before its
    10 s session timeout: the new process lost the old one's position, so it fetches the
    offsets committed at 10 s and processes again what its partitions received since then
    (it used to commit the dead process's position instead: only the record in flight)."""
    q = crash_run(rebalance, down="3s", warmup="9s", duration="31s", traces=1000)[
        "queues"]["orders->worker.process"]
    assert [b["cause"] for b in q["rebalances"]] == ["member joined"]
    twice = [t for t in q["traces"] if sum(d["status"] == "ok" for d in t["deliveries"]) >= 2]
    since_commit = [t for t in q["traces"] if t["partition"] in (4, 5)
                    and 10.0 <= t["published_s"] < 11.999]
    assert q["traces"][-1]["published_s"] > 12  # the traces cover the records since 10 s
    assert q["duplicates"] == len(twice) == pytest.approx(len(since_commit), abs=1)
    assert len(since_commit) == pytest.approx(300 * 2 / 3, rel=0.15)


@pytest.mark.parametrize("rebalance", ["eager", "cooperative"])
def test_a_member_stopped_gracefully_commits_before_it_leaves(rebalance: str) -> None:
    """A SIGTERM at 12 s (graceful): the consumer's close() commits what it processed, then
    leaves the group (a rebalance at once, 'member left'), so its partitions' next owners
    redo nothing; stopped by a crash, the same member leaves the records since the 10 s
    commit to be processed again."""
    q = crash_run(rebalance, graceful=True, warmup="9s", duration="31s")[
        "queues"]["orders->worker.process"]
    assert [b["cause"] for b in q["rebalances"]][:1] == ["member left"]
    assert q["rebalances"][0]["t_s"] == pytest.approx(12.0)
    assert q["duplicates"] == 0
    crashed = crash_run(rebalance, warmup="9s", duration="31s")["queues"][
        "orders->worker.process"]
    assert crashed["duplicates"] == pytest.approx(300 * 2 / 3, rel=0.15)


def test_at_most_once_commits_first_so_a_crash_loses_the_record_in_flight() -> None:
    r = run(topic(3, 1, replicas=3, work="100ms",
                  delivery={"guarantee": "at_most_once"},
                  group={"session_timeout": "1s"}),
            [{"name": "w", "to": "orders.publish", "rate": "20/s", "arrivals": "constant"}],
            faults=[{"target": "worker[0]", "at": "5.05s", "for": "2s", "crash": True}],
            duration="10s")
    q = r["queues"]["orders->worker.process"]
    assert q["lost"] == 1 and q["duplicates"] == 0


def test_partitions_count_the_window_not_the_drain() -> None:
    """`front` serves 20/s of the 30/s offered and the group 10/s (one member, 100 ms
    records), so the drain goes on publishing and delivering: the partitions counted it
    (296 delivered and a lag_end of 298, each above its lag_max, for the queue's 198 and
    199). They are the window's: they add up to the queue's delivered and, committing after
    each record, to its backlog_end."""
    components = {
        "front": {"workers": 1, "operations": {"take": {
            "work": {"dist": "constant", "value": "50ms"},
            "calls": [{"to": "orders.publish"}]}}},
        **topic(4, 1, work={"dist": "constant", "value": "100ms"},
                delivery={"guarantee": "at_least_once", "commit_interval": "0s"})}
    r = run(components, [{"name": "w", "to": "front.take", "rate": "30/s"}], duration="20s")
    q = r["queues"]["orders->worker.process"]
    assert r["workloads"]["w"]["requests"]["drained"] > 100  # the drain is long
    partitions = q["partitions"]
    assert sum(p["delivered"] for p in partitions) == q["delivered"]
    assert sum(p["lag_end"] for p in partitions) == q["backlog_end"]
    assert all(p["lag_end"] <= p["lag_max"] for p in partitions)


def failing_run(max_deliveries: int, error: float, at: float) -> dict[str, object]:
    """One partition, one member, 100 ms records at 2/s committed after each; the member's
    replica crashes at `at` and is back 1 s later."""
    components = topic(1, 1, work="100ms", error=error,
                       delivery={"guarantee": "at_least_once", "commit_interval": "0s",
                                 "max_deliveries": max_deliveries, "dead_letter": "dlq"})
    components["dlq"] = {"kind": "queue"}
    return run(components,
               [{"name": "w", "to": "orders.publish", "rate": "2/s", "arrivals": "constant"}],
               faults=[{"target": "worker[0]", "at": f"{at}s", "for": "1s", "crash": True}],
               duration="10s", traces=1000)["queues"]["orders->worker.process"]


def test_a_crash_is_no_failure_and_the_next_consumer_counts_failures_from_zero() -> None:
    """Every delivery fails, 3 at most: the record the crash cut short (at 5.15 s, in its
    second delivery) failed once before it; the crash is no failure (the count lived in the
    dead consumer's memory), so after the restart it fails 3 more times before it is
    dead-lettered. Nothing runs on the
    crashed replica meanwhile (it took the next delivery at once, on the dead process,
    when the crash was a counted failure), and each record is dead-lettered once (a
    recovered record's offset is committed: the records dead-lettered before the crash
    came round again, 25 dead letters of 19 records)."""
    q = failing_run(3, 1.0, 5.15)
    cut = next(t for t in q["traces"]
               if any(d["status"] == "crashed" for d in t["deliveries"]))
    statuses = [d["status"] for d in cut["deliveries"]]
    assert statuses == ["error", "crashed", "error", "error", "error"]
    assert cut["outcome"] == "dead_lettered"
    starts = [d["start_s"] for t in q["traces"] for d in t["deliveries"]]
    assert not [s for s in starts if 5.15 <= s < 6.15]
    assert q["dead_lettered"] == q["published"] - 1  # the last is still being retried


def test_a_delivery_cut_short_by_a_crash_is_not_dead_lettered() -> None:
    """max_deliveries 1 and no failure: the record in flight at the crash (5.05 s) is
    processed after the restart, not dead-lettered (the crash counted as its one delivery)."""
    q = failing_run(1, 0.0, 5.05)
    assert q["dead_lettered"] == 0
    cut = next(t for t in q["traces"]
               if any(d["status"] == "crashed" for d in t["deliveries"]))
    assert [d["status"] for d in cut["deliveries"]] == ["crashed", "ok"]
