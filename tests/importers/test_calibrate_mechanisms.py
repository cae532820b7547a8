"""`scalesim calibrate` on the time the spec's data mechanisms add inside a visit's span: a
replicated write's commit wait and a ReadIndex read's round, an orchestrated saga's
transitions, an event store's aggregate load, and a coalesced cache miss's wait for another
read's load. The simulator draws each anew from the spec, so the own time fitted from its
own export must leave them out: the spec's work comes back, not work plus the mechanism.

Every request is traced (traces: 1000 keeps up to 2,000 per workload), the network is
constant, so an own time's spread is its work's and what is left of the mechanism's; the
tolerance is three standard errors of the mean from that spread and the visits counted.
"""

from __future__ import annotations

import math
from pathlib import Path

from tests.importers.test_calibrate import run_calibrate, simulated_traces, within

RAFT = """\
scalesim: 1
name: raft
defaults: {network: 0.25ms}
components:
  api:
    workers: unlimited
    operations:
      put: {work: 0.2ms, calls: [{to: kv.put}]}
      get: {work: 0.2ms, calls: [{to: kv.get}]}
  kv:
    kind: database
    replicas: 3
    workers: unlimited
    replication:
      mode: raft
      writes: [put]
      reads: leader
      write: {dist: exponential, mean: 2ms}
      ack: 0.25ms
    leader_election: {type: raft, heartbeat: 100ms, election_timeout: 1s}
    operations:
      put: {work: {dist: exponential, mean: 1ms}}
      get: {work: {dist: exponential, mean: 1ms}}
workloads:
  - {name: writes, to: api.put, rate: 50/s, keys: 1000}
  - {name: reads, to: api.get, rate: 50/s, keys: 1000}
simulation: {duration: 20s, warmup: 0s, traces: 1000}
"""


def test_a_raft_commit_and_read_index_are_not_own_time(tmp_path: Path) -> None:
    """A write commits when the first of its two followers acknowledges: 0.25 ms +
    Exp(2 ms)'s minimum of two, 1.25 ms mean with an Exp(1 ms) part (sd 1 ms); a read at
    the leader waits for its ReadIndex round, two acks (0.5 ms), the same each time: taken
    off each read, its own times keep their exponential shape. Own times of Exp(1 ms)
    work: sd √2 ms for a write, 1 ms for a read. Left in, they came to 2.2 and 1.5 ms."""
    traces = simulated_traces(tmp_path, RAFT, "otlp")
    report, _ = run_calibrate(tmp_path, RAFT, "--traces", str(traces))
    put, get = report["operations"]["kv.put"], report["operations"]["kv.get"]
    assert put["visits"] > 800 and get["visits"] > 800
    within(put["own_time"]["observed_mean_ms"], 1.0, math.sqrt(2.0 / put["visits"]),
           "kv.put own ms")
    within(get["own_time"]["observed_mean_ms"], 1.0, math.sqrt(1.0 / get["visits"]),
           "kv.get own ms")
    assert get["own_time"]["family"] == "exponential"  # a fixed wait is off each visit
    assert any("kv.put: own time is its times less" in note and "commit wait (raft) 1.25 ms"
               in note for note in report["notes"])


SEMI_SYNC = """\
scalesim: 1
name: semi
defaults: {network: 0.25ms}
components:
  db:
    replicas: 3
    workers: unlimited
    replication: {mode: semi_sync, writes: [put], write: {dist: exponential, mean: 5ms},
                  ack: 0ms, semi_sync_timeout: 10ms}
    operations:
      put: {work: {dist: exponential, mean: 1ms}}
workloads: [{name: w, to: db.put, rate: 50/s}]
simulation: {duration: 20s, warmup: 0s, traces: 1000}
"""


def test_a_semi_sync_commit_is_not_own_time(tmp_path: Path) -> None:
    """A semi-sync write waits for its first follower, the first of two Exp(5 ms), 10 ms at
    most, and not at all while a timed-out one has turned the leader asynchronous: the
    wait's mean depends on how often writes come (50/s here). Its sd is below Exp(2.5 ms)'s,
    beside Exp(1 ms) of work; left in, it came to 3.5 ms. (With a timeout near the mean the
    asynchronous spells cluster, and the visits' times are no longer independent.)"""
    traces = simulated_traces(tmp_path, SEMI_SYNC, "otlp")
    report, _ = run_calibrate(tmp_path, SEMI_SYNC, "--traces", str(traces))
    put = report["operations"]["db.put"]["own_time"]
    assert put["n"] > 800
    within(put["observed_mean_ms"], 1.0, math.sqrt((1.0 + 2.5**2) / put["n"]), "db.put own ms")


SAGA = """\
scalesim: 1
name: saga
defaults: {network: 0.25ms}
components:
  orders:
    workers: unlimited
    io: nonblocking
    operations:
      place:
        work: {dist: exponential, mean: 1ms}
        calls:
          - saga:
              transition: 2ms
              policy: none
              steps:
                - {name: create, to: db.insert, compensate: db.reject}
                - {name: reserve, to: stock.reserve, compensate: stock.release}
                - {name: charge, to: payments.charge, pivot: true}
  db:
    workers: unlimited
    operations:
      insert: {work: {dist: exponential, mean: 2ms}}
      reject: {work: {dist: exponential, mean: 2ms}}
  stock:
    workers: unlimited
    operations:
      reserve: {work: {dist: exponential, mean: 3ms}}
      release: {work: {dist: exponential, mean: 3ms}}
  payments:
    workers: unlimited
    operations:
      charge: {work: {dist: exponential, mean: 5ms}, error_rate: 10%}
workloads: [{name: orders, to: orders.place, rate: 50/s}]
simulation: {duration: 20s, warmup: 0s, traces: 1000}
"""


def test_a_sagas_transitions_are_not_own_time_and_its_steps_are_its_calls(
        tmp_path: Path) -> None:
    """The coordinator waits 2 ms before each of its three steps: a saga that succeeds
    (its visit's own time is fitted from those) held 6 ms of transitions besides its
    Exp(1 ms) work (sd 1 ms), which left in came to 7 ms; taken off each visit, the work's
    exponential shape stays. Its steps and compensations are
    the calls the saga makes, none a call the spec lacks."""
    traces = simulated_traces(tmp_path, SAGA, "otlp")
    report, _ = run_calibrate(tmp_path, SAGA, "--traces", str(traces))
    place = report["operations"]["orders.place"]
    n = place["own_time"]["n"]
    assert n > 700
    within(place["own_time"]["observed_mean_ms"], 1.0, 1.0 / math.sqrt(n), "place own ms")
    assert place["own_time"]["family"] == "exponential"  # constant transitions: off each
    assert set(place["calls"]) >= {"db.insert", "db.reject", "stock.reserve",
                                   "stock.release", "payments.charge"}
    assert not [note for note in report["notes"] if "which its spec does not" in note]
    assert not [c for c in report["changes"] if ".saga." in c["path"]]


EVENTS = """\
scalesim: 1
name: events
defaults: {network: 0.25ms}
components:
  commands:
    workers: unlimited
    operations:
      handle: {work: 0.2ms, calls: [{to: store.append}]}
  store:
    kind: database
    workers: 64
    event_store:
      streams: 100
      initial_events: 100
      read_per_event: 50us
      snapshot_every: 10
      snapshot_read: 0.5ms
    operations:
      append: {work: {dist: exponential, mean: 1ms}}
workloads: [{name: commands, to: commands.handle, rate: 50/s, keys: 100}]
simulation: {duration: 20s, warmup: 0s, traces: 1000}
"""


def test_an_event_stores_aggregate_load_is_not_own_time(tmp_path: Path) -> None:
    """Each append first loads its stream: the snapshot (0.5 ms, 95 of the 100 streams
    hold 10 events or more) and the events since it (5 on average, 50 µs each): 0.725 ms
    on average over the streams, which left in came to 1.7 ms. The load varies by stream
    (sd 0.18 ms) beside the Exp(1 ms) work: sd 1.02 ms, 1.05 ms allowed for the streams'
    appends meanwhile."""
    traces = simulated_traces(tmp_path, EVENTS, "otlp")
    report, _ = run_calibrate(tmp_path, EVENTS, "--traces", str(traces))
    append = report["operations"]["store.append"]
    n = append["own_time"]["n"]
    assert n > 800
    within(append["own_time"]["observed_mean_ms"], 1.0, 1.05 / math.sqrt(n),
           "store.append own ms")


COALESCED = """\
scalesim: 1
name: coalesced
defaults: {network: 0.25ms}
components:
  api:
    workers: unlimited
    operations:
      get: {work: 0.2ms, calls: [{to: cache.get}]}
  cache:
    kind: cache
    workers: unlimited
    backend: db.read
    caching: {ttl: 100ms, stampede: coalesce}
    operations:
      get: {work: {dist: exponential, mean: 0.5ms}}
  db:
    workers: unlimited
    operations:
      read: {work: 20ms}
workloads: [{name: users, to: api.get, rate: 100/s, keys: 5}]
simulation: {duration: 15s, warmup: 0s, traces: 1000}
"""


def test_a_read_coalesced_with_anothers_load_is_not_own_time(tmp_path: Path) -> None:
    """Five keys at 20/s each, a 100 ms TTL and 20 ms loads: per cycle of 3.4 reads, one
    loads, 0.4 wait about 10 ms for its load and 2 hit, so left in the waits came to 1.6
    ms. The reads that loaded (called db.read) give the Exp(0.5 ms) work alone (sd
    0.5 ms)."""
    traces = simulated_traces(tmp_path, COALESCED, "otlp")
    report, _ = run_calibrate(tmp_path, COALESCED, "--traces", str(traces))
    get = report["operations"]["cache.get"]
    n = get["own_time"]["n"]
    assert n == round(get["calls"]["db.read"]["probability"] * get["visits"]) and n > 200
    within(get["own_time"]["observed_mean_ms"], 0.5, 0.5 / math.sqrt(n), "cache.get own ms")
    assert any(note.startswith(f"cache.get: {n} of ") for note in report["notes"])


def test_visits_shorter_than_the_mechanism_leave_the_own_time_unchanged(
        tmp_path: Path) -> None:
    """Requests without `keys` load stream n with their n-th request: 1,000 of them reach
    the first 1,000 of 100,000 streams, which hold 0 or 1 event and no snapshot, not the
    0.7 ms the spec's streams average. With Exp(0.2 ms) of work their times are below
    that: no own time is left to fit, and the spec's work stays, with a warning."""
    spec = EVENTS.replace("streams: 100\n", "streams: 100000\n").replace(
        ", keys: 100}", "}").replace("mean: 1ms}", "mean: 0.2ms}")
    traces = simulated_traces(tmp_path, spec, "otlp")
    report, text = run_calibrate(tmp_path, spec, "--traces", str(traces))
    append = report["operations"]["store.append"]
    assert append["visits"] > 800 and "own_time" not in append
    assert "append: {work: {dist: exponential, mean: 0.2ms}}" in text
    assert any(note.startswith("WARNING store.append: its visits' own time")
               for note in report["notes"])
