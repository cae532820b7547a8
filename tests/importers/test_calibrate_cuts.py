"""`scalesim calibrate` on what cuts a visit short: requests refused at a real system's
door, attempts given up on at a call's deadline, and the fallback that runs after a call
failed. Each recovers known values within their sampling error (3 standard errors)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from tests.importers.hangs import hanging
from tests.importers.test_calibrate import (
    EPOCH,
    HOP,
    MS,
    START,
    TIMEOUTS,
    Traces,
    edited,
    run_calibrate,
    simulated_traces,
    within,
)

from scalesim.importers.calibrate.run import report_text
from scalesim.importers.calibrate.spans import read_spans
from scalesim.importers.calibrate.traces import left_out

REFUSALS = 1000
# What a real server span says when it turned a request away, by OpenTelemetry's semantic
# conventions: the stable and the legacy HTTP attribute (a number, or a string as some
# tracers write it), and gRPC's numeric status (8 RESOURCE_EXHAUSTED, 14 UNAVAILABLE).
REFUSED_AS = ({"http.response.status_code": 429}, {"http.status_code": "503"},
              {"rpc.grpc.status_code": 8}, {"rpc.grpc.status_code": 14})


def refused_at_the_door(seed: int = 5) -> tuple[dict[str, Any], dict[str, float]]:
    """front.order: Exp(4 ms) own time, one call to back.get (Exp(2 ms)), 5 % of visits
    failing on their own, each answered 200 or 500; and a quarter as many requests again
    refused at front's door in 50 µs (429 unmarked, as OpenTelemetry leaves a server's 4xx,
    the others errors), and as many calls refused at back's. Returns the OTLP document and
    what was drawn."""
    rng = np.random.default_rng(seed)
    traces = Traces()
    own, back = rng.exponential(4.0, REFUSALS * 4), rng.exponential(2.0, REFUSALS * 4)
    failed = rng.random(REFUSALS * 4) < 0.05
    at = EPOCH
    for i in range(REFUSALS * 4):
        trace, root = traces._id(32), traces._id(16)
        t = traces.call(trace, root, "front", "back.get", at + round(own[i] * MS),
                        round(back[i] * MS), HOP)
        traces.span("front", "front.order", 2, trace, None, at, t, bool(failed[i]),
                    span_id=root, **{"http.response.status_code": 500 if failed[i] else 200})
        at += 10 * MS
    for i in range(REFUSALS):
        code = REFUSED_AS[i % len(REFUSED_AS)]
        error = code != REFUSED_AS[0]
        traces.span("front", "front.order", 2, traces._id(32), None, at, at + MS // 20, error,
                    **code)
        trace, root = traces._id(32), traces._id(16)
        client = traces.span("front", "call back.get", 3, trace, root, at + MS, at + 2 * MS,
                             True, **{"scalesim.dependency": "back.get", "scalesim.attempt": 1})
        traces.span("back", "back.get", 2, trace, client, at + MS + HOP,
                    at + MS + HOP + MS // 20, error, **code)
        traces.span("front", "front.order", 2, trace, None, at, at + 3 * MS, span_id=root)
        at += 10 * MS
    truth = {"own_ms": float(own[~failed].mean()), "ok": float((~failed).sum()),
             "back_ms": float(back.mean()), "error": float(failed.sum()) / (REFUSALS * 5)}
    return traces.document(), truth


def test_requests_refused_at_the_door_are_no_visits(tmp_path: Path) -> None:
    """The refusals are counted apart (1,000 of 6,000 requests at front's door, 1,000 of
    5,000 calls at back's) and are none of the operations' work times or errors; front's
    visits whose call was refused went on without it (left out of its own time). The true
    error rate is 5 % of the 4,000 visits that made their call: 4 % of all 5,000."""
    document, truth = refused_at_the_door()
    path = tmp_path / "traces.json"
    path.write_text(json.dumps(document))
    report, _ = run_calibrate(tmp_path, START, "--traces", str(path))
    front, back = report["operations"]["front.order"], report["operations"]["back.get"]
    assert front["visits"] == REFUSALS * 5 and front["fell_back"] == REFUSALS
    # one visit got through beside each refusal, 10 ms apart: 100/s; back took none then
    assert front["refusals"] == {"count": REFUSALS, "share": round(1 / 6, 4),
                                 "admitted_rps": 100.0}
    assert back["visits"] == REFUSALS * 4
    assert back["refusals"] == {"count": REFUSALS, "share": 0.2, "admitted_rps": 0.0}
    own = front["own_time"]
    assert own["n"] == truth["ok"]
    within(own["observed_mean_ms"], 4.0, 4.0 / math.sqrt(own["n"]), "front own time ms")
    assert own["observed_mean_ms"] == pytest.approx(truth["own_ms"], abs=1e-3)
    back_own = back["own_time"]
    within(back_own["observed_mean_ms"], 2.0, 2.0 / math.sqrt(back_own["n"]),
           "back own time ms")
    assert back_own["observed_mean_ms"] == pytest.approx(truth["back_ms"], abs=1e-3)
    within(front["error_rate"]["observed"], 0.04, math.sqrt(0.04 * 0.96 / (REFUSALS * 5)),
           "error rate")
    assert front["error_rate"]["observed"] == pytest.approx(truth["error"], abs=1e-5)
    assert ("front.order: 1000 of 6000 requests (16.67%) were refused at the door (HTTP 429 "
            "or 503, gRPC RESOURCE_EXHAUSTED or UNAVAILABLE) and the spec refuses none "
            "there: give front a rate_limit, load_shedding or a bounded queue. 100 visits/s "
            "of front got through while they were refused: a rate limit to start from, --set "
            "components.front.rate_limit.rate=100/s (in YAML, rate_limit: {rate: 100/s} under "
            "components.front); from sampled traces, divide it by the share of requests "
            "sampled") in report["notes"]
    assert any(note.startswith("back.get: 1000 of 5000") and note.endswith(
        "no visit got through while they were refused, so the traces give no rate to start "
        "a rate limit from") for note in report["notes"])
    assert "    refused at the door: 1000 (16.67% of the requests that reached it)\n" in \
        report_text(report)
    limited = START.replace("  front:\n", "  front:\n    rate_limit: {rate: 90/s}\n")
    report, _ = run_calibrate(tmp_path, limited, "--traces", str(path), "--force")
    assert report["operations"]["front.order"]["refusals"]["count"] == REFUSALS
    assert not [note for note in report["notes"] if "refused at the door" in note
                and note.startswith("front.order")]



@pytest.mark.parametrize(("tags", "refused"), [
    ([{"key": "http.status_code", "type": "int64", "value": 429}], True),
    ([{"key": "http.response.status_code", "type": "string", "value": "503"}], True),
    ([{"key": "rpc.grpc.status_code", "type": "int64", "value": 14}], True),
    ([{"key": "rpc.grpc.status_code", "type": "int64", "value": 4}], False),  # deadline
    ([{"key": "http.response.status_code", "type": "int64", "value": 500}], False),
    # ScaleSim's own outcome decides: a span it says ran is a visit
    ([{"key": "http.status_code", "type": "int64", "value": 503},
      {"key": "scalesim.status", "type": "string", "value": "error"}], False),
])
def test_jaeger_tags_say_a_refusal_as_otlp_attributes_do(tmp_path: Path, tags: list[Any],
                                                         refused: bool) -> None:
    """Jaeger writes OpenTelemetry's attributes as tags of the same names."""
    span = {"traceID": "1", "spanID": "a", "operationName": "get", "processID": "p1",
            "startTime": 1, "duration": 50,
            "tags": [{"key": "span.kind", "type": "string", "value": "server"}, *tags]}
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"data": [{"spans": [span], "processes": {
        "p1": {"serviceName": "api"}}}]}))
    assert left_out(read_spans(path)) == ({("api.get", "refused at the door"): 1} if refused
                                          else {})


# TIMEOUTS' caller, its call bounded by a deadline instead of a timeout and retries
DEADLINE = edited(TIMEOUTS, ("name: timeouts", "name: deadlines"), (
    "          - {to: dependency.get, timeout: 100ms, retry: {attempts: 2, backoff: constant,\n"
    "                                                         base: 10ms}}\n",
    "          - {to: dependency.get, deadline: 100ms, on_failure: continue}\n"))


def simulated(tmp_path: Path, spec: str) -> tuple[Path, dict[str, Any]]:
    """The OTLP traces of a simulated run of `spec`, and the run's calls by (from, to)."""
    traces = simulated_traces(tmp_path, spec, "otlp")
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    return traces, {(c["from"], c["to"]): c for c in result["calls"]}


def test_an_attempt_past_the_calls_deadline_is_given_up_on(tmp_path: Path) -> None:
    """10 % of the dependency's answers hang 3 s; the call's 100 ms deadline (no timeout)
    gives up on them and the caller goes on to its post_work. Its own time is its 1 ms of
    work and 2 ms of post_work; the calls cut by the deadline failed (as the simulator
    counts them: its `timeouts`), and the visits after them are left out of the own time.
    Before, those whose late answer came within the run counted as successful visits of
    1 ms (mean 2.82 ms)."""
    traces, calls = simulated(tmp_path, DEADLINE)
    report, _ = run_calibrate(tmp_path, DEADLINE, "--traces", str(traces))
    call = report["operations"]["caller.call"]
    assert call["fell_back"] == calls[("caller.call", "dependency.get")]["timeouts"] > 50
    own = call["own_time"]
    within(own["observed_mean_ms"], 3.0, 0.1 / math.sqrt(2) / math.sqrt(own["n"]),
           "caller own time ms")
    assert call["error_rate"]["observed"] == 0.0


FALLBACK = hanging("""\
scalesim: 1
name: fallbacks
defaults: {network: 0.25ms}
components:
  caller:
    replicas: 2
    workers: 128
    operations:
      call:
        work: 1ms
        post_work: 2ms
        calls:
          - {to: dependency.get, timeout: 80ms, deadline: 150ms,
             retry: {attempts: 3, backoff: constant, base: 10ms},
             on_failure: {fallback: {dist: exponential, mean: 5ms}}}
          - {to: audit.log, probability: 50%}
  dependency:
    workers: unlimited
    operations:
      get:
        work: HANGS
  audit:
    workers: unlimited
    operations: {log: {work: 1ms}}
workloads: [{name: calls, to: caller.call, rate: 150/s}]
simulation: {duration: 10s, warmup: 0s, traces: 1000, seed: 2}
""", 0.3)


def test_the_fallback_time_is_fitted_from_the_gap_it_leaves(tmp_path: Path) -> None:
    """A third of the dependency's answers hang: an attempt times out at 80 ms, its retry
    10 ms later is given up on at the 150 ms deadline (no third attempt fits), and the
    fallback, Exp(5 ms), runs. It has no span: it is the gap in the caller's span from
    the failed call to the next call sent (half the visits call audit.log), or to the end
    less the 2 ms of post_work. Each gap holds up to four times rounded to the export's
    0.1 ms grid: an sd of 0.1 ms beside the fallback's 5 ms."""
    traces, calls = simulated(tmp_path, FALLBACK)
    report, text = run_calibrate(tmp_path, FALLBACK, "--traces", str(traces))
    fallback = report["operations"]["caller.call"]["calls"]["dependency.get"]["fallback"]
    assert fallback["n"] == calls[("caller.call", "dependency.get")]["fallbacks"] > 100
    within(fallback["observed_mean_ms"], 5.0, math.hypot(5.0, 0.1) / math.sqrt(fallback["n"]),
           "fallback mean ms")
    assert fallback["family"] == "exponential"
    written = yaml.safe_load(text)["components"]["caller"]["operations"]["call"]["calls"][0]
    assert written["on_failure"]["fallback"] == fallback["fitted"]
    assert report["operations"]["caller.call"]["fell_back"] == fallback["n"]


PROPAGATED = hanging("""\
scalesim: 1
name: propagated
defaults: {network: 0.25ms}
components:
  front:
    workers: unlimited
    operations:
      get:
        work: 1ms
        calls: [{to: middle.get, timeout: 100ms, propagate_deadline: true, on_failure: continue}]
  middle:
    workers: unlimited
    operations:
      get:
        work: 5ms
        post_work: 2ms
        calls:
          - {to: leaf.get, on_failure: continue}
          - {to: log.write, probability: 50%, on_failure: continue}
  leaf:
    workers: unlimited
    operations:
      get:
        work: HANGS
  log:
    workers: unlimited
    operations: {write: {work: 1ms}}
workloads: [{name: w, to: front.get, rate: 100/s}]
simulation: {duration: 10s, warmup: 0s, traces: 1000, seed: 1}
""")


def test_a_propagated_deadline_bounds_the_callees_calls(tmp_path: Path) -> None:
    """front gives middle 100 ms and passes the deadline on: middle's call to a hung leaf
    is given up on then (middle goes on to its post_work), and its call to log.write after
    it times out where it is sent, never leaving. Those visits of middle are left out of its
    own time, 5 ms of work and 2 ms of post_work (before: the hung calls seemed answered,
    hiding the post_work: 6.9 ms); the calls past the deadline are no visits of log.write.
    Each own time holds the export's grid rounding of up to ten times, which back-to-back
    calls turn into a small excess: within one 0.1 ms step."""
    traces, calls = simulated(tmp_path, PROPAGATED)
    report, _ = run_calibrate(tmp_path, PROPAGATED, "--traces", str(traces))
    middle, log = report["operations"]["middle.get"], report["operations"]["log.write"]
    cut = calls[("middle.get", "leaf.get")]["timeouts"]
    running = middle["not_visits"].get("unfinished", 0)  # when the run ended
    assert cut > 50 and cut - running <= middle["fell_back"] <= cut
    own = middle["own_time"]
    assert own["observed_mean_ms"] == pytest.approx(7.0, abs=0.1)
    past = calls[("middle.get", "log.write")]
    assert log["not_visits"] == {"refused": past["timeouts"]} and past["timeouts"] > 20
    assert log["visits"] == past["attempts"] - past["timeouts"]


HEDGED = """\
scalesim: 1
name: hedged
components:
  root:
    workers: unlimited
    operations:
      search:
        work: 1ms
        calls:
          - parallel:
              calls:
                - &leaf {to: leaf.lookup, hedge: {after: 10ms, max: 1}}
                - *leaf
                - *leaf
  leaf:
    replicas: 4
    workers: unlimited
    operations:
      lookup:
        work: {dist: mixture, of: [{weight: 0.9, dist: 1ms}, {weight: 0.1, dist: 1s}]}
workloads: [{name: w, to: root.search, rate: 50/s}]
simulation: {duration: 10s, warmup: 0s, traces: 1000, seed: 1}
"""


def test_a_hedged_call_is_waited_for_until_an_attempt_wins(tmp_path: Path) -> None:
    """A leaf answer takes a second one time in ten; 10 ms later a hedge goes to another
    replica and answers in 1 ms, and the slow attempt is cancelled. root waited on the call
    until the hedge won, not only while the hedge was out: its own time is its 1 ms of work
    (before: the 10 ms before each hedge counted too, 2.77 ms on average). Each own time
    sums the export's rounded times: within one 0.1 ms step."""
    traces, calls = simulated(tmp_path, HEDGED)
    report, _ = run_calibrate(tmp_path, HEDGED, "--traces", str(traces))
    assert calls[("root.search", "leaf.lookup")]["hedges"] > 30
    own = report["operations"]["root.search"]["own_time"]
    assert own["n"] > 400
    assert own["observed_mean_ms"] == pytest.approx(1.0, abs=0.1)
