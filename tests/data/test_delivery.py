"""Delivery semantics of queues with known answers: SQS redelivery (geometric number of
deliveries, dead-letter share p^max), RabbitMQ requeue, at-most-once loss, duplicates and
their deduplication, poison messages, and what an autoscaler reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.data.helpers import system
from tests.kernel.helpers import binomial_bound, run

from scalesim.sim import simulate
from scalesim.sim.data.messaging import backlog, oldest_age
from scalesim.sim.run import run_kernels
from scalesim.spec import load_spec


def queue(delivery: dict[str, object], consumer_error: float = 0.0, work: str = "1ms",
          concurrency: int = 50, dead_letter: bool = True, replicas: int = 1,
          workers: int | str = "unlimited") -> dict[str, object]:
    """A queue fed by a workload, one consumer with an error rate, and a dead-letter queue."""
    components: dict[str, object] = {
        "jobs": {"kind": "queue", "delivery": delivery,
                 "consumers": [{"to": "worker.process", "concurrency": concurrency}]},
        "worker": {"workers": workers, "replicas": replicas,
                   "operations": {"process": {"work": work, "error_rate": consumer_error}}},
    }
    if dead_letter:
        components["jobs-dlq"] = {"kind": "queue"}
    return components


FEED = [{"name": "w", "to": "jobs.publish", "rate": "200/s"}]


@pytest.mark.parametrize("redelivery", ["visibility_timeout", "requeue"])
def test_dead_letter_share_is_p_to_the_max_deliveries(redelivery: str) -> None:
    p, most = 0.4, 3
    r = run(queue({"guarantee": "at_least_once", "redelivery": redelivery,
                   "visibility_timeout": "200ms", "max_deliveries": most,
                   "dead_letter": "jobs-dlq"}, consumer_error=p), FEED, duration="100s")
    q = r["queues"]["jobs->worker.process"]
    settled = q["delivered"] - q["duplicates"] + q["dead_lettered"]
    assert q["dead_lettered"] / settled == pytest.approx(
        p**most, abs=binomial_bound(settled, p**most))
    assert r["dead_letters"]["jobs-dlq"]["received"] == q["dead_lettered"]
    assert q["lost"] == 0 and q["duplicates"] == 0
    # Deliveries until success or the limit: a truncated geometric, mean (1 − p^m)/(1 − p).
    assert q["deliveries_per_message"] == pytest.approx((1 - p**most) / (1 - p), rel=0.02)


def test_without_a_limit_deliveries_are_geometric() -> None:
    p = 0.5
    r = run(queue({"guarantee": "at_least_once", "visibility_timeout": "100ms"},
                  consumer_error=p, dead_letter=False), FEED, duration="100s")
    q = r["queues"]["jobs->worker.process"]
    assert q["dead_lettered"] == q["lost"] == 0
    assert q["deliveries_per_message"] == pytest.approx(1 / (1 - p), rel=0.03)


def test_a_failed_message_comes_back_after_its_visibility_timeout_or_at_once() -> None:
    """SQS: the message is invisible for the whole visibility timeout after a failure;
    RabbitMQ's requeue gives it back at once. With 1 ms of work failing 30 % of the time, a
    message succeeds after k failures with probability 0.3^k·0.7, k timeouts after its
    publication: 70 % within 1 ms, 91 % within 2.001 s, 97.3 % within 4.001 s."""
    lags = {}
    for redelivery in ("visibility_timeout", "requeue"):
        r = run(queue({"guarantee": "at_least_once", "redelivery": redelivery,
                       "visibility_timeout": "2s"}, consumer_error=0.3, dead_letter=False),
                FEED, duration="50s")
        lags[redelivery] = r["queues"]["jobs->worker.process"]["lag_ms"]
    assert lags["visibility_timeout"]["p50"] == pytest.approx(1.0, rel=0.01)
    assert lags["visibility_timeout"]["p90"] == pytest.approx(2001.0, rel=0.01)
    assert lags["visibility_timeout"]["p95"] == pytest.approx(4001.0, rel=0.01)
    assert lags["requeue"]["p99"] < 10.0


def test_at_most_once_loses_what_fails() -> None:
    p = 0.2
    r = run(queue({"guarantee": "at_most_once"}, consumer_error=p, dead_letter=False), FEED,
            duration="50s")
    q = r["queues"]["jobs->worker.process"]
    assert q["redelivered"] == 0 and q["deliveries_per_message"] == 1.0
    assert q["lost"] / q["published"] == pytest.approx(p, abs=binomial_bound(q["published"], p))


def test_a_visibility_timeout_shorter_than_the_work_duplicates_every_message() -> None:
    """1.5 s of work, 1 s visibility: the message is visible again at 1 s and delivered a
    second time while the first delivery runs; both succeed (a duplicate); the second's
    timeout ends at 2 s, past max_deliveries 2, so the message is also dead-lettered — as on
    SQS, where the late delete uses an outdated receipt handle."""
    r = run(queue({"guarantee": "at_least_once", "visibility_timeout": "1s",
                   "max_deliveries": 2, "dead_letter": "jobs-dlq"}, work="1500ms",
                  concurrency=1000),
            [{"name": "w", "to": "jobs.publish", "rate": "10/s", "arrivals": "constant"}],
            duration="20s", warmup="5s")
    q = r["queues"]["jobs->worker.process"]
    assert q["duplicates"] == pytest.approx(200, abs=3)
    assert q["deliveries"] == pytest.approx(2 * q["duplicates"], abs=3)
    assert q["dead_lettered"] == pytest.approx(200, abs=3)
    effectively = run(queue({"guarantee": "effectively_once", "visibility_timeout": "1s",
                             "max_deliveries": 2, "dead_letter": "jobs-dlq"}, work="1500ms",
                            concurrency=1000),
                      [{"name": "w", "to": "jobs.publish", "rate": "10/s",
                        "arrivals": "constant"}], duration="20s", warmup="5s")
    e = effectively["queues"]["jobs->worker.process"]
    assert e["duplicates"] == 0
    assert e["deduplicated"] == pytest.approx(200, abs=3)


def test_a_copy_skipped_on_receipt_is_a_delivery() -> None:
    """1.5 s of work, 1 s visibility, effectively once, no delivery limit: a message is
    delivered at 0 s and again at 1 s; the first ends at 1.5 s (its late delete does not
    delete it); the third copy, at 2 s, is skipped on receipt, and the second ends at 2.5 s
    as a duplicate the processed-messages table refuses. Three deliveries, two of them
    redeliveries, both deduplicated: 200 messages, 400 of each."""
    r = run(queue({"guarantee": "effectively_once", "visibility_timeout": "1s"},
                  work="1500ms", concurrency=1000, dead_letter=False),
            [{"name": "w", "to": "jobs.publish", "rate": "10/s", "arrivals": "constant"}],
            duration="20s", warmup="5s")
    q = r["queues"]["jobs->worker.process"]
    assert q["duplicates"] == 0
    assert q["deliveries"] == pytest.approx(600, abs=6)
    assert q["redelivered"] == pytest.approx(400, abs=4)
    assert q["deduplicated"] == pytest.approx(400, abs=4)


def test_a_dedup_window_shorter_than_the_redelivery_lets_duplicates_through() -> None:
    common = {"guarantee": "effectively_once", "visibility_timeout": "1s",
              "max_deliveries": 2, "dead_letter": "jobs-dlq"}
    feed = [{"name": "w", "to": "jobs.publish", "rate": "10/s", "arrivals": "constant"}]
    short = run(queue({**common, "dedup_window": "500ms"}, work="1500ms", concurrency=1000),
                feed, duration="20s", warmup="5s")["queues"]["jobs->worker.process"]
    assert short["duplicates"] == pytest.approx(200, abs=3) and short["deduplicated"] == 0


def test_poison_messages_end_in_the_dead_letter_queue_without_blocking_the_rest() -> None:
    poison = 0.05
    r = run(queue({"guarantee": "at_least_once", "redelivery": "requeue",
                   "max_deliveries": 5, "dead_letter": "jobs-dlq", "poison": poison},
                  concurrency=4), FEED, duration="100s")
    q = r["queues"]["jobs->worker.process"]
    share = q["dead_lettered"] / q["published"]
    assert share == pytest.approx(poison, abs=binomial_bound(q["published"], poison))
    assert q["lag_ms"]["p99"] < 10  # the others go through in a few ms
    assert r["components"]["worker"]["operations"]["process"]["requests"][
        "failed_by_cause"]["error"] == 5 * q["dead_lettered"]


def test_backlog_and_oldest_age_are_what_an_autoscaler_reads() -> None:
    """No consumer capacity for 10 s: the backlog is everything published, the oldest
    message is as old as the run."""
    spec = system(queue({"guarantee": "at_least_once"}, work="1ms", concurrency=1,
                        dead_letter=False),
                  [{"name": "w", "to": "jobs.publish", "rate": "100/s",
                    "arrivals": "constant"}],
                  faults=[{"target": "worker", "crash": True}], duration="10s")
    kernel = run_kernels(spec)[0]
    sub = kernel.plan.subscriptions[0]
    assert backlog(sub) == sub.published == pytest.approx(1000, abs=1)
    assert oldest_age(sub, kernel.now) == pytest.approx(kernel.now - 0.01, abs=0.02)


def crashed_consumer(delivery: dict[str, object], replicas: int) -> dict[str, object]:
    """100 messages/s at constant spacing, 50 ms of work each (5 in flight), consumed by
    `replicas` replicas of which the first is down from 5 s to 6 s."""
    components = queue({"guarantee": "at_least_once", "visibility_timeout": "2s",
                        "dead_letter": "jobs-dlq", **delivery}, work="50ms", replicas=replicas)
    return run(components, [{"name": "w", "to": "jobs.publish", "rate": "100/s",
                             "arrivals": "constant"}],
               faults=[{"target": "worker[0]", "at": "5s", "for": "1s", "crash": True}],
               duration="12s")["queues"]["jobs->worker.process"]


@pytest.mark.parametrize("replicas", [1, 2])
def test_a_crashed_consumer_fails_only_what_it_held(replicas: int) -> None:
    """A crashed consumer polls nothing: only the deliveries it held at the crash fail (5 in
    flight in all, shared by the replicas), and with max_deliveries 1 only they are
    dead-lettered. SQS hands them out again after their visibility timeout (2 s); the
    messages published meanwhile wait for a running replica, not for the timeout."""
    q = crashed_consumer({"max_deliveries": 1}, replicas)
    assert 1 <= q["failed"] == q["dead_lettered"] <= -(-5 // replicas)
    q = crashed_consumer({}, replicas)
    assert q["redelivered"] == q["failed"] <= -(-5 // replicas)
    assert q["lag_ms"]["max"] == pytest.approx(2050.0, abs=1.0)  # a crashed delivery's
    waited = q["lag_ms"]["p95"]  # 5 % of the messages are those of the outage (1 s of 12)
    assert waited < 51.0 if replicas == 2 else 500.0 < waited < 1051.0


@pytest.mark.parametrize("replicas", [1, 2])
def test_rabbitmq_requeues_what_a_crashed_consumer_held(replicas: int) -> None:
    """RabbitMQ returns the unacknowledged deliveries of a closed channel at once: with a
    limit of 2 deliveries none is dead-lettered, and no message takes longer than the outage
    plus twice its work (its crashed delivery, its second one) to be processed (before, every
    message sent to the down replica failed there, again and again, until dead-lettered)."""
    q = crashed_consumer({"redelivery": "requeue", "max_deliveries": 2}, replicas)
    assert q["dead_lettered"] == 0
    assert 1 <= q["redelivered"] == q["failed"] <= -(-5 // replicas)
    assert q["lag_ms"]["max"] <= (101.0 if replicas == 2 else 1101.0)


def crashing_consumer(max_deliveries: int, crashes: tuple[str, ...],
                      workers: int | str = "unlimited") -> dict[str, object]:
    """One message a second (at 1 s, 2 s, ...), 10 s of work each, so nothing is
    acknowledged before 11 s; the only consumer (prefetch 4 with one worker) is down for
    1 s from each of `crashes`."""
    components = queue({"guarantee": "at_least_once", "redelivery": "requeue",
                        "max_deliveries": max_deliveries, "dead_letter": "jobs-dlq"},
                       work="10s", concurrency=100 if workers == "unlimited" else 4,
                       workers=workers)
    result = run(components, [{"name": "w", "to": "jobs.publish", "rate": "1/s",
                               "arrivals": "constant"}],
                 faults=[{"target": "worker", "at": at, "for": "1s", "crash": True}
                         for at in crashes], duration="30s")
    assert result["dead_letters"]["jobs-dlq"]["received"] == \
        result["queues"]["jobs->worker.process"]["dead_lettered"]
    queue_result: dict[str, object] = result["queues"]["jobs->worker.process"]
    return queue_result


@pytest.mark.parametrize(("max_deliveries", "dead", "redelivered"),
                         [(1, 4 + 3, 0), (2, 4, 4 + 3), (3, 0, 4 + 4 + 3)])
def test_a_closed_channels_returns_count_towards_the_delivery_limit(
        max_deliveries: int, dead: int, redelivered: int) -> None:
    """A quorum queue counts the unacknowledged deliveries a closed channel returns against
    its delivery limit (rabbit_fifo returns a down consumer's messages as failed
    deliveries), so a message only ever interrupted by crashes is dead-lettered at its
    max_deliveries-th crash. The first crash holds messages 1-4 and message 5 waits for the
    restart; the second holds 1-4 again (their second delivery) and 5-7 (their first). With
    1 delivery each crash dead-letters what it holds; with 2 the second crash dead-letters
    1-4 and requeues 5-7; with 3 every crashed delivery is requeued."""
    q = crashing_consumer(max_deliveries, ("4.5s", "7.5s"))
    assert q["dead_lettered"] == dead
    assert q["redelivered"] == redelivered
    assert q["failed"] == dead + redelivered  # every crashed delivery, and nothing else
    assert q["lost"] == 0


@pytest.mark.parametrize("max_deliveries", [1, 2])
def test_prefetched_deliveries_not_yet_started_count_too(max_deliveries: int) -> None:
    """Prefetch 4 and one worker: at the crash one message is being processed and three wait
    in the consumer for the worker; all four are unacknowledged deliveries of the closed
    channel, so all four count (dead-lettered with 1 delivery, requeued with 2)."""
    q = crashing_consumer(max_deliveries, ("4.5s",), workers=1)
    assert q["failed"] == 4
    assert q["dead_lettered"] == (4 if max_deliveries == 1 else 0)
    assert q["redelivered"] == 4 - q["dead_lettered"]


def test_a_crashed_consumers_deliveries_go_out_again_oldest_first() -> None:
    """A quorum queue returns a closed channel's deliveries in the order it sent them and
    serves returned messages first (rabbit_fifo return_all, take_next_msg). One message a
    second, 10 s of work, prefetch 4 with one worker: at the 4.5 s crash message 0 is being
    processed and 1-3 wait in the consumer. After the restart at 5.5 s they are processed
    0, 1, 2, 3, then message 4 (before: 0, 3, 2, 1, each return put at the head)."""
    components = queue({"guarantee": "at_least_once", "redelivery": "requeue",
                        "visibility_timeout": "12h"}, work="10s", concurrency=4, workers=1,
                       dead_letter=False)
    result = run(components, [{"name": "w", "to": "jobs.publish", "rate": "1/s",
                               "arrivals": "constant"}],
                 faults=[{"target": "worker", "at": "4.5s", "for": "1s", "crash": True}],
                 duration="60s", traces=5)
    traces = result["queues"]["jobs->worker.process"]["traces"]
    deliveries = {t["message"]: [(d["end_s"], d["status"]) for d in t["deliveries"]]
                  for t in traces}
    for message in range(4):
        assert deliveries[message] == [(4.5, "crashed"), (15.5 + 10 * message, "ok")]
    assert deliveries[4] == [(55.5, "ok")]


def test_data_mechanisms_are_deterministic() -> None:
    """Same spec and seed: byte-identical JSON, with every data mechanism at work."""
    spec = load_spec(Path(__file__).parents[1] / "kernel" / "data_features.yaml")
    first, second = (json.dumps(simulate(spec), sort_keys=True) for _ in range(2))
    assert first == second
    result = json.loads(first)
    assert {"queues", "dead_letters", "sagas", "outboxes", "event_stores"} <= set(result)
    assert result["queues"]["topic->worker.run"]["rebalances"]
    assert result["outboxes"]["api.event->topic.publish"]["duplicates"] > 0
