"""The transactional outbox and the event store with known answers: a polling publisher adds
half its interval plus the publication on average, a relay crash publishes again what it
had not saved, snapshots bound the events a load replays, optimistic concurrency conflicts
on a hot stream, and a projection's staleness."""

from __future__ import annotations

from typing import Any

import pytest
from tests.kernel.helpers import run


def outbox_system(outbox: dict[str, object], idempotent: bool = False,
                  guarantee: str = "at_least_once") -> dict[str, object]:
    return {
        "orders": {"workers": "unlimited", "operations": {"place": {"work": "2ms", "calls": [
            {"to": "events.publish", "outbox": outbox}]}}},
        "events": {"kind": "queue", "operations": {"publish": {"work": "5ms"}},
                   "delivery": {"guarantee": guarantee},
                   "consumers": [{"to": "mailer.send", "concurrency": 100,
                                  "idempotent": idempotent}]},
        "mailer": {"workers": "unlimited", "operations": {"send": {"work": "1ms"}}},
    }


ORDERS = [{"name": "w", "to": "orders.place", "rate": "100/s"}]


@pytest.mark.parametrize("interval", [0.2, 1.0, 2.0])
def test_polling_publisher_delay_is_half_the_interval_plus_the_publication(
        interval: float) -> None:
    r = run(outbox_system({"relay": "polling", "interval": f"{interval}s", "batch": 1000}),
            ORDERS, duration="200s")
    box = r["outboxes"]["orders.place->events.publish"]
    # Commits are uniform over the interval: the wait is U(0, interval); then the broker's
    # 5 ms publish. The standard error of the mean of ~20,000 uniforms is tiny.
    assert box["delay_ms"]["mean"] == pytest.approx(interval / 2 * 1000 + 5, rel=0.02)
    assert box["delay_ms"]["max"] == pytest.approx(interval * 1000 + 5, rel=0.02)
    assert box["duplicates"] == 0 and box["published"] == box["written"] - box["backlog_end"]
    assert r["latency_ms"]["mean"] == pytest.approx(2.0)  # the caller never waits


def test_a_full_batch_is_followed_by_another_poll_at_once() -> None:
    r = run(outbox_system({"relay": "polling", "interval": "1s", "batch": 10}), ORDERS,
            duration="60s")
    box = r["outboxes"]["orders.place->events.publish"]
    assert box["backlog_end"] < 200 and box["polls"] > 500


def test_log_tailing_adds_the_cdc_lag() -> None:
    r = run(outbox_system({"relay": "log_tailing", "lag": "300ms"}), ORDERS, duration="100s")
    box = r["outboxes"]["orders.place->events.publish"]
    # Debezium's 500 ms poll interval while idle: 300 ms + U(0, 0.5 s) + 5 ms, roughly.
    assert 300 + 5 < box["delay_ms"]["mean"] < 300 + 500 + 5


def test_a_relay_crash_publishes_again_what_it_had_not_saved() -> None:
    """Log tailing saves its position every 5 s; the service (and its relay) crash at 12 s:
    the ~2 s of rows published since the save at 10 s go out again."""
    r = run(outbox_system({"relay": "log_tailing", "offset_flush": "5s"}),
            [{"name": "w", "to": "orders.place", "rate": "100/s", "arrivals": "constant"}],
            faults=[{"target": "orders", "at": "12s", "for": "1s", "crash": True}],
            duration="30s")
    box = r["outboxes"]["orders.place->events.publish"]
    assert box["duplicates"] == pytest.approx(200, abs=60)
    q = r["queues"]["events->mailer.send"]
    assert q["duplicates"] == box["duplicates"]
    dedup = run(outbox_system({"relay": "log_tailing", "offset_flush": "5s"},
                              guarantee="effectively_once"),
                [{"name": "w", "to": "orders.place", "rate": "100/s", "arrivals": "constant"}],
                faults=[{"target": "orders", "at": "12s", "for": "1s", "crash": True}],
                duration="30s")["queues"]["events->mailer.send"]
    assert dedup["duplicates"] == 0 and dedup["deduplicated"] == box["duplicates"]


def store_system(snapshot_every: int | None, streams: int = 100,
                 initial: int = 0) -> dict[str, object]:
    store: dict[str, object] = {"streams": streams, "initial_events": initial,
                                "read_per_event": "10us", "snapshot_read": "200us",
                                "load": "load",
                                "projections": [{"to": "views.apply"}]}
    if snapshot_every is not None:
        store["snapshot_every"] = snapshot_every
    return {
        "events": {"kind": "database", "workers": "unlimited", "event_store": store,
                   "operations": {"append": {"work": "1ms"}, "load": {"work": "0.1ms"}}},
        "views": {"workers": 1, "operations": {"apply": {"work": "2ms"}}},
    }


def test_snapshots_bound_the_events_a_load_replays() -> None:
    """1000 events per stream on average at the start (0 to 2000), 40 more by the end;
    every 100 a snapshot: a load reads the snapshot and the events since it, uniform over
    0–99 (49.5 on average), instead of the whole stream (about 1020)."""
    appends = [{"name": "a", "to": "events.append", "rate": "200/s", "arrivals": "constant"}]
    with_snapshots = run(store_system(100, initial=1000), appends, duration="20s")
    store = with_snapshots["event_stores"]["events"]
    assert store["events_per_load"] == pytest.approx(49.5, abs=3)
    assert store["events_per_load_without_snapshots"] == pytest.approx(1020, abs=10)
    assert store["snapshots"] == pytest.approx(store["appends"] / 100, abs=10)
    assert store["load_ms"]["mean"] == pytest.approx(0.2 + 49.5 * 0.01, rel=0.05)
    without = run(store_system(None, initial=1000), appends, duration="20s")
    bare = without["event_stores"]["events"]
    assert bare["events_per_load"] == pytest.approx(1020, abs=10)
    assert bare["load_ms"]["mean"] == pytest.approx(10.2, rel=0.01)
    assert bare["load_ms_without_snapshots"] == pytest.approx(bare["load_ms"]["mean"], rel=1e-3)


def test_appends_to_a_hot_stream_conflict_and_retries_load_again() -> None:
    calm = run(store_system(None, streams=10_000),
               [{"name": "a", "to": "events.append", "rate": "500/s"}], duration="10s")
    assert calm["event_stores"]["events"]["conflicts"] <= 5
    hot = run(store_system(None, streams=1),
              [{"name": "a", "to": "events.append", "rate": "500/s"}], duration="10s")
    store = hot["event_stores"]["events"]
    # A visit lasts 1 ms plus its load; others commit meanwhile at ~500/s.
    assert 0.3 < store["conflict_rate"] < 0.8
    assert hot["requests"]["failed_by_cause"]["rejected"] == store["conflicts"]
    retried = {"workers": "unlimited", "operations": {"handle": {"calls": [
        {"to": "events.append", "retry": {"attempts": 10, "on": ["rejected"],
                                          "base": "1ms", "max": "20ms"}}]}}}
    with_retry = run({**store_system(100, streams=1), "commands": retried},
                     [{"name": "a", "to": "commands.handle", "rate": "200/s"}], duration="10s")
    assert with_retry["requests"]["failed"] <= with_retry["requests"]["total"] * 0.01
    assert with_retry["event_stores"]["events"]["conflicts"] > 0


def test_a_read_sees_a_write_once_the_projection_applied_it() -> None:
    """The projection applies each event in 2 ms, one at a time, at 20 % load: a read
    issued 1 ms after the write never sees it, 100 ms after it nearly always does."""
    r = run(store_system(None), [{"name": "a", "to": "events.append", "rate": "100/s"}],
            duration="60s")
    view = r["event_stores"]["events"]["projections"]["views.apply"]
    assert view["p_visible"]["1ms"] == 0.0
    assert view["p_visible"]["100ms"] > 0.999
    assert view["lag_ms"]["p50"] == pytest.approx(2.0, rel=0.05)
    assert view["delivered"] == r["event_stores"]["events"]["appends"]


def test_an_outbox_counts_the_window_not_the_drain() -> None:
    """`orders` serves 20/s of the 30/s offered, writing a row as it answers; the drain
    answers the rest and went on writing and publishing (594 written, 29.65/s published,
    for 19.85/s answered). The outbox's counts are the window's: a row a request answered
    in it, give or take one at its end, and published all but those left at its end."""
    components = outbox_system({"relay": "polling", "interval": "100ms", "batch": 100})
    orders: Any = components["orders"]
    orders["workers"] = 1
    orders["operations"]["place"]["work"] = {"dist": "constant", "value": "50ms"}
    r = run(components, [{"name": "w", "to": "orders.place", "rate": "30/s"}],
            duration="20s")
    box = r["outboxes"]["orders.place->events.publish"]
    answered = r["components"]["orders"]["throughput_rps"] * 20
    assert r["workloads"]["w"]["requests"]["drained"] > 100  # the drain is long
    assert box["written"] == pytest.approx(answered, abs=1)
    assert box["published"] == box["written"] - box["backlog_end"]
