"""`scalesim calibrate`: known parameters recovered from traces and load tests.

Synthetic traces are written the way the generated services export them (a SERVER span per
visit, a CLIENT span per call attempt with `scalesim.dependency` and `scalesim.attempt`,
nanosecond times) from parameters drawn with a fixed seed; the recovered values must lie
within their sampling error (3 standard errors: a binomial share's √(p(1−p)/n), an
exponential mean's mean/√n). Then a simulated run's own exported traces, every request
kept, give back the spec's parameters the same way.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from tests.importers.hangs import hanging
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.importers import sources
from scalesim.importers.calibrate import CalibrationError
from scalesim.importers.calibrate.apply import Change, write
from scalesim.importers.calibrate.fit import fit, ks_p_value
from scalesim.importers.calibrate.loadtest import read_rows
from scalesim.importers.calibrate.spans import read_spans
from scalesim.importers.calibrate.traces import observe, own_time
from scalesim.spec import load_spec, load_spec_text
from scalesim.spec.bounds import MAX_INPUT_MIB

MS = 1_000_000  # nanoseconds
EPOCH = 1_700_000_000 * 10**9

START = """\
scalesim: 1
name: shop
# before calibration: the shape is right, the numbers are guesses
components:
  front:
    workers: unlimited
    operations:
      order:
        work: 1ms  # a guess
        calls:
          - {to: back.get}
          - parallel:
              calls: [{to: shard.find}, {to: shard.find}, {to: shard.find}]
  back:
    workers: unlimited
    operations:
      get: {work: 1ms}
  shard:
    workers: unlimited
    operations:
      find: {work: 1ms}
workloads: [{name: w, to: front.order, rate: 100/s}]
"""


class Traces:
    """OTLP JSON as an OpenTelemetry SDK exports it, one resource per service."""

    def __init__(self) -> None:
        self.by_service: dict[str, list[dict[str, Any]]] = {}
        self.ids = 0

    def _id(self, size: int) -> str:
        self.ids += 1
        return f"{self.ids:0{size}x}"

    def span(self, service: str, name: str, kind: int, trace: str, parent: str | None,
             start: int, end: int, error: bool = False, span_id: str | None = None,
             **attributes: Any) -> str:
        span_id = span_id or self._id(16)
        item: dict[str, Any] = {
            "traceId": trace, "spanId": span_id, "name": name, "kind": kind,
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(end),
            "attributes": [{"key": k, "value": {"intValue": str(v)} if isinstance(v, int)
                            else {"stringValue": v}} for k, v in attributes.items()],
            "status": {"code": 2, "message": "error"} if error else {}}
        if parent is not None:
            item["parentSpanId"] = parent
        self.by_service.setdefault(service, []).append(item)
        return span_id

    def call(self, trace: str, parent: str, caller: str, target: str, sent: int, own: int,
             hop: int, attempt: int = 1, error: bool = False) -> int:
        """A client span and the callee's server span; returns when the answer is back."""
        component = target.split(".")[0]
        client = self.span(caller, f"call {target}", 3, trace, parent, sent,
                           sent + 2 * hop + own, error, **{"scalesim.dependency": target,
                                                          "scalesim.attempt": attempt})
        self.span(component, target, 2, trace, client, sent + hop, sent + hop + own, error)
        return sent + 2 * hop + own

    def document(self) -> dict[str, Any]:
        return {"resourceSpans": [
            {"resource": {"attributes": [{"key": "service.name",
                                          "value": {"stringValue": name}}]},
             "scopeSpans": [{"scope": {"name": "scalesim"}, "spans": spans}]}
            for name, spans in self.by_service.items()]}


VISITS = 4000
HOP = MS // 2  # 0.5 ms each way


def synthetic(seed: int = 11) -> tuple[dict[str, Any], dict[str, Any]]:
    """front.order: Exp(4 ms) own time, back.get with probability 0.3, then a parallel
    fan-out of 3 to shard.find; 5 % of visits fail on their own. Returns the OTLP document
    and what was drawn."""
    rng = np.random.default_rng(seed)
    traces = Traces()
    own = rng.exponential(4.0, VISITS)
    called = rng.random(VISITS) < 0.3
    failed = rng.random(VISITS) < 0.05
    at = EPOCH
    for i in range(VISITS):
        trace = traces._id(32)
        start = at
        root = traces._id(16)
        t = start + round(own[i] * MS)  # all own time before the calls
        if called[i]:
            t = traces.call(trace, root, "front", "back.get", t, 2 * MS, HOP)
        ends = [traces.call(trace, root, "front", "shard.find", t, round(x * MS), HOP)
                for x in rng.uniform(0.5, 1.5, 3)]
        traces.span("front", "front.order", 2, trace, None, start, max(ends), bool(failed[i]),
                    span_id=root)
        at += 10 * MS
    truth = {"own_ms": float(own[~failed].mean()), "p": float(called.mean()),
             "error": float(failed.mean())}
    return traces.document(), truth


def run_calibrate(tmp_path: Path, spec: str, *options: str) -> tuple[dict[str, Any], str]:
    source = tmp_path / "spec.yaml"
    source.write_text(spec)
    out = tmp_path / "calibrated.yaml"
    result = CliRunner().invoke(app, ["calibrate", str(source), "-o", str(out), "--json",
                                      *options])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), out.read_text()


def run_load_test(tmp_path: Path, spec: str, rows: list[str]) -> tuple[dict[str, Any], str]:
    """Calibrate `spec` from a load-test CSV of `rows`: (the report's load_test, new spec)."""
    csv = tmp_path / "load.csv"
    csv.write_text("\n".join(rows) + "\n")
    report, text = run_calibrate(tmp_path, spec, "--load-test", str(csv))
    return report["load_test"], text


def within(found: float, truth: float, se: float, what: str) -> None:
    print(f"{what}: truth {truth:.5g}, found {found:.5g} (3 se = {3 * se:.3g})")
    assert abs(found - truth) <= 3 * se, f"{what}: {found} vs {truth} ± {3 * se}"


def test_known_parameters_come_back_from_synthetic_traces(tmp_path: Path) -> None:
    document, truth = synthetic()
    path = tmp_path / "traces.json"
    path.write_text(json.dumps(document))
    report, text = run_calibrate(tmp_path, START, "--traces", str(path))
    order = report["operations"]["front.order"]
    own = order["own_time"]
    assert own["family"] == "exponential"  # the KS test keeps the true family
    within(own["observed_mean_ms"], 4.0, 4.0 / math.sqrt(VISITS), "own time mean ms")
    assert own["observed_mean_ms"] == pytest.approx(truth["own_ms"], abs=1e-3)  # exact split
    within(order["calls"]["back.get"]["probability"], 0.3,
           math.sqrt(0.3 * 0.7 / VISITS), "call probability")
    shards = order["calls"]["shard.find"]
    assert shards["calls_per_visit"] == 3.0 and shards["parallel_share"] == 1.0
    assert order["shape"]["steps"][-1] == ["shard.find"] * 3  # a fan-out of three
    within(order["error_rate"]["observed"], 0.05, math.sqrt(0.05 * 0.95 / VISITS),
           "error rate")
    assert report["network"]["fitted"] == "500us"  # the gap beyond each callee, halved
    calibrated = yaml.safe_load(text)
    front = calibrated["components"]["front"]["operations"]["order"]
    assert front["work"]["dist"] == "exponential"
    assert front["calls"][0]["probability"] == pytest.approx(truth["p"], abs=1e-4)
    assert front["error_rate"] == pytest.approx(truth["error"], abs=1e-5)
    assert "# a guess" in text and "# before calibration" in text  # comments kept


def test_a_retry_seen_in_traces_raises_the_attempts(tmp_path: Path) -> None:
    traces = Traces()
    for i in range(50):
        trace = traces._id(32)
        start = EPOCH + i * 10 * MS
        root = traces._id(16)
        t = traces.call(trace, root, "front", "back.get", start + MS, MS, HOP, 1, error=i < 10)
        if i < 10:
            t = traces.call(trace, root, "front", "back.get", t, MS, HOP, 2)
        traces.span("front", "front.order", 2, trace, None, start, t + MS, span_id=root)
    path = tmp_path / "traces.json"
    path.write_text(json.dumps(traces.document()))
    spec = START.replace("{to: back.get}", "{to: back.get, timeout: 1s}")
    report, text = run_calibrate(tmp_path, spec, "--traces", str(path))
    call = report["operations"]["front.order"]["calls"]["back.get"]
    assert call["max_attempts"] == 2 and call["attempts_per_call"] == 1.2
    assert yaml.safe_load(text)["components"]["front"]["operations"]["order"]["calls"][0][
        "retry"] == {"attempts": 2}
    assert report["operations"]["front.order"]["error_rate"]["observed"] == 0.0


TRUTH = """\
scalesim: 1
name: shop
defaults: {network: 0.5ms}
components:
  front:
    workers: unlimited
    operations:
      order:
        work: {dist: exponential, mean: 4ms}
        error_rate: 5%
        calls:
          - {to: back.get, probability: 30%}
          - parallel:
              calls: [{to: shard.find}, {to: shard.find}, {to: shard.find}]
  back:
    workers: unlimited
    operations:
      get: {work: {dist: exponential, mean: 2ms}}
  shard:
    workers: unlimited
    operations:
      find: {work: {dist: lognormal, median: 1ms, p99: 5ms}}
workloads: [{name: w, to: front.order, rate: 100/s}]
simulation: {duration: 15s, traces: 1000}
"""


def simulated_traces(tmp_path: Path, spec: str, form: str) -> Path:
    """The traces of a simulated run of `spec`, exported in `form` (otlp or jaeger)."""
    source = tmp_path / "truth.yaml"
    source.write_text(spec)
    runner = CliRunner()
    assert runner.invoke(app, ["simulate", str(source), "--out", str(tmp_path / "run"),
                               "-q"]).exit_code == 0
    traces = tmp_path / f"traces.{form}.json"
    assert runner.invoke(app, ["export", str(tmp_path / "run" / "result.json"), "--traces",
                               form, "-o", str(traces)]).exit_code == 0
    return traces


@pytest.mark.parametrize("form", ["otlp", "jaeger"])
def test_a_simulated_runs_own_traces_give_back_its_spec(tmp_path: Path, form: str) -> None:
    """15 s at 100/s: about 1,500 requests, all kept (traces: 1000 keeps up to 2,000
    successful ones), so the exported sample is every request, not a chosen one."""
    traces = simulated_traces(tmp_path, TRUTH, form)
    report, _ = run_calibrate(tmp_path, START, "--traces", str(traces))
    ops = report["operations"]
    n = ops["front.order"]["visits"]
    assert 1300 < n < 1700
    within(ops["front.order"]["own_time"]["observed_mean_ms"], 4.0, 4.0 / math.sqrt(n * 0.95),
           "front own time ms")
    within(ops["back.get"]["own_time"]["observed_mean_ms"], 2.0,
           2.0 / math.sqrt(ops["back.get"]["visits"]), "back own time ms")
    within(ops["front.order"]["calls"]["back.get"]["probability"], 0.3,
           math.sqrt(0.21 / n), "probability")
    within(ops["front.order"]["error_rate"]["observed"], 0.05, math.sqrt(0.0475 / n),
           "error rate")
    shard = ops["shard.find"]["own_time"]
    assert shard["family"] == "lognormal"
    median = float(shard["fitted"]["median"].removesuffix("ms"))
    within(median, 1.0, 1.0 * 0.69 * 1.2533 / math.sqrt(ops["shard.find"]["visits"]),
           "shard median ms")  # σ = ln 5 / 2.326; the median's se ≈ 1.2533 σ m / √n
    assert report["network"]["fitted"] == "500us"
    calibrated = load_spec(tmp_path / "calibrated.yaml")
    assert calibrated.defaults.network.mean_s == pytest.approx(0.0005)


ROUND_TRIP = """\
scalesim: 1
name: roundtrip
defaults: {network: 0.25ms}
components:
  api:
    replicas: 2
    workers: 16
    operations:
      get:
        work: {dist: exponential, mean: 4ms}
        calls: [{to: db.read, timeout: 1s}]
  db:
    workers: 32
    operations: {read: {work: {dist: exponential, mean: 3ms}}}
workloads: [{name: users, to: api.get, rate: 50/s}]
simulation: {duration: 20s, warmup: 0s, traces: 1000}
"""


@pytest.mark.parametrize("form", ["otlp", "jaeger"])
def test_a_call_answered_on_the_exports_grid_is_waited_for(tmp_path: Path, form: str) -> None:
    """The export rounds every time to 0.1 ms; with 0.25 ms hops the answer it implies
    (callee end + (start − sent)) often lands a step past the caller's end. The call was
    still waited for: api.get's own time is its Exp(4 ms) work, and the network 0.25 ms
    (a constant: its rounded hops fall on 0.2 and 0.3 ms only)."""
    traces = simulated_traces(tmp_path, ROUND_TRIP, form)
    report, _ = run_calibrate(tmp_path, ROUND_TRIP, "--traces", str(traces))
    own = report["operations"]["api.get"]["own_time"]
    n = own["n"]
    assert n > 900 and own["family"] == "exponential"
    within(own["observed_mean_ms"], 4.0, 4.0 / math.sqrt(n), "api.get own time ms")
    network = report["network"]
    assert network["family"] == "constant" and network["n"] == n
    within(network["observed_mean_ms"], 0.25, 0.05 / math.sqrt(n), "network ms")
    alone = observe(read_spans(traces), {})["api.get"].ok_own_s  # no spec: the times decide
    within(float(np.mean(alone)) * 1e3, 4.0, 4.0 / math.sqrt(len(alone)), "by the times ms")


def test_the_spec_says_which_calls_were_waited_for(tmp_path: Path) -> None:
    """With Exp(0.5 ms) hops the way back differs from the way out, so the answer the export
    implies may land well past (or before) the caller's end: the times cannot tell a
    waited-for call, the spec can (the own time's mean is right; each visit's carries the
    difference of its two hops). A call the spec makes async is never waited for, even when
    its answer came back before the caller ended."""
    truth = ROUND_TRIP.replace("{network: 0.25ms}", "{network: {dist: exponential, mean: 0.5ms}}")
    traces = simulated_traces(tmp_path, truth, "otlp")
    report, _ = run_calibrate(tmp_path, truth, "--traces", str(traces))
    own = report["operations"]["api.get"]["own_time"]
    within(own["observed_mean_ms"], 4.0, 4.0 / math.sqrt(own["n"]), "api.get own time ms")
    asynchronous = truth.replace("{to: db.read, timeout: 1s}", "{to: db.read, async: true}")
    report, _ = run_calibrate(tmp_path, asynchronous, "--traces", str(traces), "--force")
    own = report["operations"]["api.get"]["own_time"]  # the whole visit: work and the call
    within(own["observed_mean_ms"], 4.0 + 0.5 + 3.0 + 0.5,
           math.sqrt(4.0**2 + 0.5**2 + 3.0**2 + 0.5**2) / math.sqrt(own["n"]), "api.get visit ms")


BREAKER = """\
scalesim: 1
name: breaker
defaults: {network: 0.25ms}
components:
  checkout:
    replicas: 2
    workers: 128
    operations:
      pay:
        work: 2ms
        calls:
          - to: payments.charge
            timeout: 1s
            circuit_breaker: {window: 20, min_calls: 10, failure_rate: 50%, open_for: 10s,
                              half_open_calls: 3}
            on_failure: {fallback: 5ms, degraded: true}
  payments:
    kind: external
    operations: {charge: {work: {dist: lognormal, median: 120ms, p99: 600ms}}}
workloads: [{name: checkout, to: checkout.pay, rate: 100/s}]
faults: [{target: payments, latency: +30s}]
simulation: {duration: 30s, warmup: 5s, seed: 1}
"""


@pytest.mark.parametrize("form", ["otlp", "jaeger"])
def test_calls_that_never_reached_the_callee_are_not_its_visits(tmp_path: Path,
                                                                form: str) -> None:
    """The gateway hangs, so every call is refused by the open breaker (`circuit_open`, in
    the caller) or still `unfinished` when the run ends: no visit of payments.charge, so
    nothing to fit for it (its error rate was 1.0), no call to measure the network by (it
    was 25 µs), and checkout.pay's visits each waited on the call until its 1 s timeout
    or not at all: each took 2 ms of work and 5 ms of fallback (its own time was up to
    1.007 s). Visits that fell back are left out of the own time: `work` stays 2 ms."""
    traces = simulated_traces(tmp_path, BREAKER, form)
    report, text = run_calibrate(tmp_path, BREAKER, "--traces", str(traces))
    pay = report["operations"]["checkout.pay"]
    assert "payments.charge" not in report["operations"] and "network" not in report
    spans = read_spans(traces)
    status = Counter(str(s.attributes["scalesim.status"]) for s in spans
                     if s.service == "payments")
    refused, unfinished = status.pop("circuit_open"), status.pop("unfinished")
    assert not status  # nothing else: no call reached the gateway and ended
    assert refused and unfinished and refused + unfinished == pay["visits"]  # one call each
    assert (f"payments.charge: no visit in the traces, only spans that are not: {refused} "
            f"refused, {unfinished} unfinished (unchanged)") in report["notes"]
    assert pay["fell_back"] == pay["visits"] and "own_time" not in pay
    assert yaml.safe_load(text) == yaml.safe_load(BREAKER)  # nothing to change
    from scalesim.importers.calibrate.sites import waiting  # new with this test
    from scalesim.importers.calibrate.traces import visits, waits
    for visit in visits(spans, waiting(load_spec_text(BREAKER))):
        assert own_time(visit) == pytest.approx(0.007, abs=2e-4)  # within two grid steps
        assert all(a.failed and a.callee is None for a in visit.attempts)
        assert max(high - low for low, high, _ in waits(visit)) <= 10**9


TIMEOUTS = hanging("""\
scalesim: 1
name: timeouts
defaults: {network: 0.25ms}
components:
  caller:
    replicas: 2
    workers: 64
    operations:
      call:
        work: 1ms
        post_work: 2ms
        calls:
          - {to: dependency.get, timeout: 100ms, retry: {attempts: 2, backoff: constant,
                                                         base: 10ms}}
  dependency:
    workers: unlimited
    operations:
      get:
        work: HANGS
workloads: [{name: calls, to: caller.call, rate: 100/s}]
simulation: {duration: 10s, warmup: 0s, traces: 1000, seed: 1}
""")


def test_a_timed_out_attempt_is_the_callers_wait_not_its_error(tmp_path: Path) -> None:
    """10 % of the dependency's answers hang 3 s; the caller gives up after 100 ms and
    retries once after 10 ms. The caller's own time is its 1 ms of work and 2 ms of
    post_work, retried visits included: it waited on a timed-out attempt until the timeout,
    then through the back-off, not until the hung answer came (before: mean 13.9 ms). Its
    failures (both attempts hung) are timeouts, not its own errors (before: 1.06 %). Each
    own time sums about six times rounded to the 0.1 ms grid: sd q/√2."""
    traces = simulated_traces(tmp_path, TIMEOUTS, "otlp")
    report, text = run_calibrate(tmp_path, TIMEOUTS, "--traces", str(traces))
    call = report["operations"]["caller.call"]
    own = call["own_time"]
    assert own["n"] > 900
    within(own["observed_mean_ms"], 3.0, 0.1 / math.sqrt(2) / math.sqrt(own["n"]),
           "caller own time ms")
    assert call["error_rate"]["observed"] == 0.0
    assert call["calls"]["dependency.get"]["max_attempts"] == 2
    assert "error_rate" not in yaml.safe_load(text)["components"]["caller"]["operations"][
        "call"]
    hung = report["operations"]["dependency.get"]
    assert hung["error_rate"]["observed"] == 0.0 and hung["not_visits"].get("unfinished")
    assert call["fell_back"] == 0


PAIR = """\
scalesim: 1
name: pair
components:
  front:
    cores: 1
    event_loop: true
    operations: {order: {cpu: 1ms, calls: [{to: back.get}]}}
  back:
    cores: 1
    event_loop: true
    operations: {get: {cpu: 2ms}}
workloads: [{name: w, to: front.order, rate: 10/s}]
"""


def utilization_rows() -> list[str]:
    """PAIR's load test: 2.1 ms of CPU per request in front, 2.8 ms in back, 0.02 idle."""
    rows = ["rate_rps,throughput_rps,mean_ms,cpu_front,cpu_back"]
    for x in (20.0, 60.0, 120.0, 200.0):
        rows.append(f"{x},{x},9.0,{0.02 + x * 0.0021},{0.02 + x * 0.0028}")
    return rows


def test_load_test_utilization_law_recovers_the_overhead(tmp_path: Path) -> None:
    """front (1 call per visit, states 1 ms of CPU) and back (no calls, states 2 ms): with a
    runtime overhead of 0.8 ms per request and 0.3 ms per call, front uses 2.1 ms and back
    2.8 ms of CPU per request, plus 0.02 cores idle; the least squares give them back."""
    load, text = run_load_test(tmp_path, PAIR, utilization_rows())
    assert load["method"] == "utilization law"
    assert load["cpu_per_request_ms"] == {"front": pytest.approx(2.1), "back": pytest.approx(2.8)}
    assert load["overhead_ms"]["front"] == {"request": pytest.approx(0.8),
                                            "call": pytest.approx(0.3)}
    assert yaml.safe_load(text)["defaults"]["overhead"] == {"request": "800us",
                                                             "call": "300us"}


def test_the_report_shows_numbers_and_yaml_not_python(tmp_path: Path) -> None:
    """The report for people: the load test's CPU and overhead per component in ms, and
    each fitted value as the YAML the spec gets (a change's line, read as YAML, is the
    value written)."""
    (tmp_path / "spec.yaml").write_text(PAIR)
    (tmp_path / "load.csv").write_text("\n".join(utilization_rows()) + "\n")
    document, _ = synthetic()
    (tmp_path / "t.json").write_text(json.dumps(document))
    result = CliRunner().invoke(app, ["calibrate", str(tmp_path / "spec.yaml"), "-o",
                                      str(tmp_path / "out.yaml"), "--load-test",
                                      str(tmp_path / "load.csv")])
    assert result.exit_code == 0, result.output
    assert "    CPU per request: back 2.8 ms, front 2.1 ms\n" in result.stdout
    assert ("    overhead: back 0.8 ms per request + 0.3 ms per call, front 0.8 ms per "
            "request + 0.3 ms per call\n") in result.stdout
    assert "    200 rps: mean 9 ms, cores back 0.58, front 0.44\n" in result.stdout
    assert "'" not in result.stdout  # no Python dict, quoted
    assert "  defaults.overhead = {request: 800us, call: 300us}  # " in result.stdout
    (tmp_path / "spec.yaml").write_text(START)
    result = CliRunner().invoke(app, ["calibrate", str(tmp_path / "spec.yaml"), "-o",
                                      str(tmp_path / "out2.yaml"), "--traces",
                                      str(tmp_path / "t.json")])
    assert result.exit_code == 0, result.output
    assert "'" not in result.stdout
    line = next(x for x in result.stdout.splitlines()
                if x.startswith("  components.front.operations.order.work = "))
    shown = line.split(" = ", 1)[1].split("  # ")[0]
    calibrated = yaml.safe_load((tmp_path / "out2.yaml").read_text())
    assert yaml.safe_load(shown) == calibrated["components"]["front"]["operations"]["order"][
        "work"]
    assert shown.startswith("{dist: exponential, mean: ")


@pytest.mark.parametrize(("cores", "replicas"), [(1, 1), (2, 2), (0.5, 1)])
def test_load_test_regression_finds_the_bottleneck_demand(tmp_path: Path, cores: float,
                                                          replicas: int) -> None:
    """4 ms of CPU per request on `cores` × `replicas` cores saturates at their number over
    4 ms: means R = 3 ms + S/(1 − X·S) with S = 4 ms / cores at four levels give back the
    4 ms, the saturation 1/S and the overhead 4 ms − 2.5 ms stated (grid step 1/4000 of
    1/X_max). It found S, 1 ms on four cores, as the CPU per request before."""
    spec = f"""\
scalesim: 1
name: one
components:
  api:
    cores: {cores}
    replicas: {replicas}
    operations: {{get: {{cpu: 2.5ms}}}}
workloads: [{{name: w, to: api.get, rate: 10/s}}]
"""
    s = 0.004 / (cores * replicas)
    rows = ["rate_rps,throughput_rps,mean_ms"]
    for x in (0.1 / s, 0.4 / s, 0.6 / s, 0.8 / s):
        rows.append(f"{x},{x},{(0.003 + s / (1 - x * s)) * 1e3}")
    load, text = run_load_test(tmp_path, spec, rows)
    assert load["cpu_per_request_ms"]["api"] == pytest.approx(4.0, rel=2e-3)
    assert load["saturation_rps"] == pytest.approx(1.0 / s, rel=2e-3)
    assert load["overhead_ms"]["api"]["request"] == pytest.approx(1.5, abs=0.01)
    assert "overhead" in yaml.safe_load(text)["components"]["api"]


def test_a_simulated_load_test_gives_back_the_overhead(tmp_path: Path) -> None:
    """The truth: 0.8 ms of runtime overhead per request on top of an Exp(1.2 ms) CPU demand,
    one core. Simulated 20 s at 100, 250 and 400/s (and idle), the rows' cores used are
    sums of random demands: each level's U has standard error √(X·T)·sd/T with sd = 1.2 ms,
    which gives the least-squares slope's. The calibrated spec states 1.2 ms and no
    overhead; the load test must find 2.0 ms per request and 0.8 ms of overhead within 3
    of those standard errors."""
    from scalesim.sim import simulate
    truth = """\
scalesim: 1
name: one
components:
  api:
    workers: unlimited
    cores: 1
    overhead: {request: 0.8ms}
    operations: {get: {cpu: {dist: exponential, mean: 1.2ms}}}
workloads: [{name: w, to: api.get, rate: 100/s}]
simulation: {duration: 20s, warmup: 1s}
"""
    rows = ["rate_rps,throughput_rps,mean_ms,cpu_api", "0,0,0,0"]
    x, variances = [0.0], [0.0]
    for seed, rate in enumerate((100, 250, 400), 1):
        found = simulate(load_spec_text(truth, overrides=(
            f"workloads.0.rate={rate}/s", f"simulation.seed={seed}")))
        throughput = found["components"]["api"]["throughput_rps"]
        rows.append(f"{rate},{throughput},{found['latency_ms']['mean']},"
                    f"{found['components']['api']['cores_used']}")
        x.append(throughput)
        variances.append(throughput * 20.0 * 0.0012**2 / 20.0**2)
    stated = truth.replace("    overhead: {request: 0.8ms}\n", "")
    load, text = run_load_test(tmp_path, stated, rows)
    spread = np.array(x) - np.mean(x)
    se_ms = math.sqrt(float(spread**2 @ np.array(variances))) / float(spread @ spread) * 1e3
    within(load["cpu_per_request_ms"]["api"], 2.0, se_ms, "CPU per request ms")
    within(load["overhead_ms"]["api"]["request"], 0.8, se_ms, "overhead per request ms")
    written = yaml.safe_load(text)["components"]["api"]["overhead"]["request"]
    assert written == f"{load['overhead_ms']['api']['request'] * 1e3:.4g}us"


@pytest.mark.parametrize(("content", "message"), [
    ("rate_rps,mean_ms\n1,2\n", "missing column(s) throughput_rps"),
    ("rate_rps,throughput_rps,mean_ms\n1,x,2\n", "throughput_rps: not a number"),
    ("rate_rps,throughput_rps,mean_ms\n10,10,2\n", "two load levels or more"),
    ("rate_rps,throughput_rps,mean_ms\n1,1,2\n4,4\n", "load.csv:3: mean_ms: missing"),
    ("rate_rps,throughput_rps,mean_ms\n1,-1,2\n4,4,2\n",
     "load.csv:2: throughput_rps: must be finite and >= 0"),
    ("rate_rps,throughput_rps,mean_ms\n1,1,2\n" + "x" * 200_000 + "\n",
     "load.csv:3: not CSV: field larger than field limit"),
    # means no queue gives (0 ms): no demand fits (ZeroDivisionError before)
    ("rate_rps,throughput_rps,mean_ms\n100,100,0\n200,200,0\n",
     "load.csv: mean_ms: no service demand fits these response times"),
    # 1e200 ms, once unfitted, is past the bound of a spec's durations
    ("rate_rps,throughput_rps,mean_ms\n100,100,5\n200,200,1e200\n",
     "load.csv:3: mean_ms: 1e200 is more than the most milliseconds a spec's duration may "
     "be"),
])
def test_bad_load_tests_are_refused(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "spec.yaml").write_text(START)
    (tmp_path / "load.csv").write_text(content)
    result = CliRunner().invoke(app, ["calibrate", str(tmp_path / "spec.yaml"), "-o",
                                      str(tmp_path / "out.yaml"), "--load-test",
                                      str(tmp_path / "load.csv")])
    assert result.exit_code == 2 and message in result.stderr
    assert not (tmp_path / "out.yaml").exists()


@pytest.mark.parametrize(("content", "message"), [
    ('{"something": []}', "t.json: neither OTLP JSON"),
    ('{"resourceSpans": [', "t.json:1:20: not JSON: Expecting value"),
    # pretty-printed and cut short: where it breaks, not its first line ("{" alone)
    ('{\n  "resourceSpans": [\n    {"scopeSpans": [\n', "t.json:4:1: not JSON: Expecting value"),
    # one document per line: the line that is not, and its column
    ('{"data": []}\n{"data": [}\n', "t.json:2:11: not JSON: Expecting value"),
    ('{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "x"}]}]}]}',
     "t.json: resourceSpans[0].scopeSpans[0].spans[0]: missing field 'traceId'"),
    ('{"data": [{"spans": [{"traceID": "a", "spanID": "b", "operationName": "x", '
     '"startTime": "soon", "duration": 1}]}]}',
     "t.json: data[0].spans[0].startTime: 'soon' is not a whole number of microseconds"),
    # Python's own messages ('Incorrect padding', "invalid literal for int()") named
    # neither the field nor what it should hold
    ('{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "aa", "spanId": "' + "0a" * 8
     + '", "name": "x", "startTimeUnixNano": "1", "endTimeUnixNano": "2"}]}]}]}',
     "t.json: resourceSpans[0].scopeSpans[0].spans[0].traceId: 'aa' is not an id: hex "
     "(32 digits for a trace, 16 for a span) or base64"),
    ('{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "' + "01" * 16 + '", '
     '"spanId": "' + "0a" * 8 + '", "name": "x", "startTimeUnixNano": "1", '
     '"endTimeUnixNano": "nan"}]}]}]}',
     "t.json: resourceSpans[0].scopeSpans[0].spans[0].endTimeUnixNano: 'nan' is not a "
     "whole number of nanoseconds"),
    ('{"resourceSpans": [{"scopeSpans": [{"spans": [[1, 2]]}]}]}',
     "t.json: resourceSpans[0].scopeSpans[0].spans[0]: malformed: not an object of a "
     "span's fields"),
    ("[1, 2]", "t.json: not a trace document"),
    # a span its own parent, and two each other's: the walk up the tree never ended
    ('{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "' + "01" * 16 + '", '
     '"spanId": "' + "0a" * 8 + '", "parentSpanId": "' + "0a" * 8 + '", "name": "x", '
     '"startTimeUnixNano": "1", "endTimeUnixNano": "2"}]}]}]}',
     f"t.json: trace {'01' * 16}: span {'0a' * 8} is its own ancestor"),
    ('{"data": [{"spans": [{"traceID": "1", "spanID": "a", "operationName": "x", '
     '"references": [{"refType": "CHILD_OF", "spanID": "b"}], "startTime": 1, "duration": 1}, '
     '{"traceID": "1", "spanID": "b", "operationName": "y", "references": [{"refType": '
     '"CHILD_OF", "spanID": "a"}], "startTime": 1, "duration": 1}]}]}',
     "its own ancestor (its parent ids form a loop)"),
    ('{"data": [{"spans": [{"traceID": "a", "spanID": "b", "operationName": "x", '
     '"startTime": 1, "duration": 1e308}]}]}',
     "t.json: data[0].spans[0].duration: a time before 0 or past 2^64 ns"),
    # a span that ends before it starts was read as one of no time (own time clipped at 0)
    ('{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "' + "01" * 16 + '", '
     '"spanId": "' + "0a" * 8 + '", "name": "x", "startTimeUnixNano": "5", '
     '"endTimeUnixNano": "2"}]}]}]}',
     "t.json: resourceSpans[0].scopeSpans[0].spans[0].endTimeUnixNano: span " + "0a" * 8
     + " ends before it starts: 2 is before its startTimeUnixNano 5"),
    ('{"data": [{"spans": [{"traceID": "a", "spanID": "b1", "operationName": "x", '
     '"startTime": 1700000000000000, "duration": -3000}]}]}',
     "t.json: data[0].spans[0].duration: span b1 ends before it starts: -3000 µs, a "
     "negative duration"),
    # one document per line (the Collector's file exporter): the line is named too
    ('{"data": []}\n{"data": [{"spans": [{"traceID": "a", "spanID": "b2", '
     '"operationName": "x", "startTime": 9, "duration": "-2"}]}]}\n',
     "t.json:2: data[0].spans[0].duration: span b2 ends before it starts"),
])
def test_bad_traces_are_refused_with_the_place(tmp_path: Path, content: str,
                                               message: str) -> None:
    (tmp_path / "spec.yaml").write_text(START)
    (tmp_path / "t.json").write_text(content)
    result = CliRunner().invoke(app, ["calibrate", str(tmp_path / "spec.yaml"), "-o",
                                      str(tmp_path / "out.yaml"), "--traces",
                                      str(tmp_path / "t.json")])
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "out.yaml").exists()


def test_the_output_is_overwritten_only_with_force(tmp_path: Path) -> None:
    """Like `new` and `import`: an existing OUT (here the spec itself) needs --force."""
    document, _ = synthetic()
    (tmp_path / "t.json").write_text(json.dumps(document))
    spec = tmp_path / "spec.yaml"
    spec.write_text(START)
    command = ["calibrate", str(spec), "-o", str(spec), "--traces", str(tmp_path / "t.json")]
    refused = CliRunner().invoke(app, command)
    assert refused.exit_code == 2, refused.output
    assert refused.stderr == f"{spec}: exists; use --force to overwrite it\n"
    assert spec.read_text() == START
    forced = CliRunner().invoke(app, [*command, "--force"])
    assert forced.exit_code == 0, forced.output
    assert yaml.safe_load(spec.read_text())["components"]["front"]["operations"]["order"][
        "work"]["dist"] == "exponential"


def test_traces_of_another_system_are_refused(tmp_path: Path) -> None:
    """Traces that match none of the spec's operations calibrate nothing: bad input, not a
    copy of the spec reported as 'no changes'."""
    document, _ = synthetic()
    (tmp_path / "t.json").write_text(json.dumps(document))
    (tmp_path / "spec.yaml").write_text(ROUND_TRIP)
    result = CliRunner().invoke(app, ["calibrate", str(tmp_path / "spec.yaml"), "-o",
                                      str(tmp_path / "out.yaml"), "--traces",
                                      str(tmp_path / "t.json")])
    assert result.exit_code == 2, result.output
    assert result.stderr == (f"{tmp_path / 't.json'}: no operation of the spec is in the "
                             "traces: they hold back.get, front.order, shard.find; the spec "
                             "has api.get, db.read\n")
    assert not (tmp_path / "out.yaml").exists()


WRAPPED = """\
scalesim: 1
name: shop
components:
  checkout:
    operations:
      pay:
        work: 2ms
        calls:
          - to: payments.charge
            # after 10 calls, open when half fail
            circuit_breaker: {window: 20, min_calls: 10, failure_rate: 50%,
                              open_for: 10s, half_open_calls: 3}
            on_failure: {fallback: 5ms, degraded: true}
  payments:
    kind: external
    operations:
      charge:
        work: {dist: lognormal, median: 120ms, p99: 600ms}  # a guess
workloads: [{name: w, to: checkout.pay,
             rate: 10/s}]
"""


def test_only_the_changed_values_change_in_the_written_spec() -> None:
    """A flow mapping written over two lines stays so; a changed value too long for the
    file's widest line is broken after a comma, its further lines under its first key; a
    new key goes after its mapping's last one (in a flow mapping, on a line of its own when
    the line would grow too long)."""
    op = ("components", "payments", "operations", "charge")
    call = ("components", "checkout", "operations", "pay", "calls", 0)
    changes = [Change((*op, "work"), {"dist": "empirical", "percentiles": {
                   "p0": "49ms", "p50": "254.5ms", "p90": "663.7ms", "p99": "913.4ms"}}, ""),
               Change((*op, "error_rate"), 0.02439, ""),
               Change((*call, "on_failure", "fallback"), "6ms", ""),
               Change((*call, "circuit_breaker", "min_calls"), 12, ""),
               Change((*call, "circuit_breaker", "slow_call_duration"), "500ms", ""),
               Change(("defaults", "network"), "1ms", "")]
    assert write(WRAPPED, changes) == edited(
        WRAPPED,
        ("min_calls: 10, failure_rate: 50%,\n                              open_for: 10s, "
         "half_open_calls: 3}", "min_calls: 12, failure_rate: 50%,\n"
         "                              open_for: 10s, half_open_calls: 3,\n"
         "                              slow_call_duration: 500ms}"),
        ("{fallback: 5ms, degraded: true}", "{fallback: 6ms, degraded: true}"),
        ("        work: {dist: lognormal, median: 120ms, p99: 600ms}  # a guess\n",
         "        work: {dist: empirical,\n"
         "               percentiles: {p0: 49ms, p50: 254.5ms, p90: 663.7ms,\n"
         "                             p99: 913.4ms}}  # a guess\n        error_rate: 0.02439\n"),
        ("             rate: 10/s}]\n", "             rate: 10/s}]\ndefaults:\n  network: 1ms\n"))



MIXTURE = {"dist": "mixture", "of": [
    {"weight": 0.026413, "dist": "0us"}, {"weight": 0.175796, "dist": "100us"},
    {"weight": 0.797791, "dist": {"dist": "empirical", "percentiles": {
        "p0": "187.9us", "p10": "187.9us", "p25": "281.9us", "p50": "375.9us",
        "p75": "563.8us", "p90": "939.7us", "p95": "1.128ms", "p99": "2.082ms",
        "p999": "3.062ms", "p100": "3.062ms"}}}]}


def test_a_nested_flow_value_is_wrapped_inside_too() -> None:
    """A fitted mixture was broken once after `{dist: mixture,` and its `of: [...]` left on
    one line of 282 characters: every collection inside is broken after commas as well, so
    no line passes the file's widest, and the value reads back the same."""
    op = ("components", "payments", "operations", "charge")
    written = write(WRAPPED, [Change((*op, "work"), MIXTURE, "")])
    widest = max(80, *(len(line) for line in WRAPPED.splitlines()))
    assert max(len(line) for line in written.splitlines()) <= widest
    spec = yaml.safe_load(written)
    assert spec["components"]["payments"]["operations"]["charge"]["work"] == MIXTURE


IMPORTED = """\
components:
  a:
    operations: # PLACEHOLDER: one operation for every endpoint
      get:
        work: 5ms # PLACEHOLDER: compute time per request; run `scalesim calibrate`
        wait: 1ms  # measured by hand
        calls: # PLACEHOLDER: order and share unknown
          - to: b
"""


def test_a_calibrated_value_loses_its_placeholder_mark() -> None:
    """`scalesim import` marks a guessed value PLACEHOLDER: once calibrated it says what it
    was fitted from instead; other comments, and marks on values left alone, stay."""
    base = ("components", "a", "operations", "get")
    written = write(IMPORTED, [Change((*base, "work"), "7.5ms", "own time of 800 visits"),
                               Change((*base, "wait"), "2ms", "scaled")])
    assert written == edited(
        IMPORTED,
        ("work: 5ms # PLACEHOLDER: compute time per request; run `scalesim calibrate`\n",
         "work: 7.5ms # calibrated: own time of 800 visits\n"),
        ("wait: 1ms  # measured", "wait: 2ms  # measured"))


def edited(text: str, *changes: tuple[str, str]) -> str:
    """`text` with each (old, new) made, each old found exactly once."""
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


ALIASED = """\
scalesim: 1
name: fan
components:
  root:
    operations:
      search:
        calls:
          - parallel:
              calls:
                - &leaf {to: leaf.lookup, hedge: {after: 10ms}}
                - *leaf
        # the leaves
  leaf:
    operations: {lookup: {work: 1ms}}
workloads: [{name: w, to: root.search, rate: 20/s}]
"""


def test_a_key_is_added_after_a_collection_that_ends_in_an_alias() -> None:
    """An alias's node is its anchor's, marks included: a new key after a block that ends
    in `*leaf` went where the anchor ends, mid-line (examples/hedging.yaml's calibrated
    spec did not validate). It goes after the block's last line of content, before the
    comment that follows it."""
    path = ("components", "root", "operations", "search", "work")
    assert write(ALIASED, [Change(path, "4ms", "")]) == edited(
        ALIASED, ("                - *leaf\n", "                - *leaf\n        work: 4ms\n"))
    assert load_spec_text(write(ALIASED, [Change(path, "4ms", "")])).components["root"]


@pytest.mark.parametrize("kind", ["otlp", "jaeger"])
def test_traces_that_name_another_system_are_warned_of(tmp_path: Path, kind: str) -> None:
    """ScaleSim's export names the system (scalesim.system, on OTLP resources and Jaeger
    processes): traces of `shop` fitted to a spec of another name share only the operations
    of the same name, which is worth a warning, not a silent fit."""
    traces = simulated_traces(tmp_path, TRUTH, kind)
    spec = tmp_path / "spec.yaml"
    spec.write_text(START.replace("name: shop", "name: shop-v2"))
    result = CliRunner().invoke(app, ["calibrate", str(spec), "-o", str(tmp_path / "out.yaml"),
                                      "--traces", str(traces)])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        f"warning: {traces}: the traces are of system 'shop', the spec is 'shop-v2'; fitted "
        "anyway where an operation's name matched (back.get, front.order, shard.find)")
    same = CliRunner().invoke(app, ["calibrate", str(tmp_path / "truth.yaml"), "-o",
                                    str(tmp_path / "same.yaml"), "--traces", str(traces)])
    assert same.exit_code == 0, same.output
    assert "warning" not in same.stderr


@pytest.mark.parametrize("option", ["--traces", "--load-test"])
def test_an_endless_input_is_refused_at_the_cap(tmp_path: Path, option: str) -> None:
    (tmp_path / "spec.yaml").write_text(START)
    result = CliRunner().invoke(app, ["calibrate", str(tmp_path / "spec.yaml"), "-o",
                                      str(tmp_path / "out.yaml"), option, "/dev/zero"])
    assert result.exit_code == 2, result.output
    assert result.stderr == (f"/dev/zero: larger than {MAX_INPUT_MIB} MiB, the most scalesim "
                             "reads from one input file\n")
    assert not (tmp_path / "out.yaml").exists()


def test_each_reader_stops_at_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_INPUT_MIB", 1)
    big = tmp_path / "big"
    big.write_text(" " * 1024**2 + "\n")
    for read in (read_spans, read_rows):
        with pytest.raises(CalibrationError, match="big: larger than 1 MiB"):
            read(big)


def test_fit_picks_the_family_and_judges_it() -> None:
    rng = np.random.default_rng(3)
    assert fit(list(rng.exponential(0.002, 3000))).family == "exponential"
    assert fit(list(rng.lognormal(-7.0, 0.6, 3000))).family == "lognormal"
    bimodal = list(np.concatenate([rng.normal(0.001, 1e-5, 1500), rng.normal(0.01, 1e-4, 1500)]))
    found = fit(bimodal)  # no family fits two modes: a mixture of their percentiles
    assert found.family == "empirical" and found.spec["dist"] == "mixture"
    assert [part["weight"] for part in found.spec["of"]] == [0.5, 0.5]
    assert [part["dist"]["percentiles"]["p50"] for part in found.spec["of"]] == [
        "1ms", "10.01ms"]
    assert fit([0.003] * 50).spec == "3ms"
    rounded = fit([0.0002] * 500 + [0.0003] * 500)  # a 0.25 ms constant on a 0.1 ms grid
    assert (rounded.family, rounded.spec) == ("constant", "250us")
    assert fit([0.0001] * 300 + [0.0002] * 400 + [0.0003] * 300).family != "constant"


def test_ks_p_value_matches_scipy() -> None:
    from scipy import stats
    for d, n in ((0.02, 1000), (0.05, 200), (0.1, 50)):
        assert ks_p_value(d, n) == pytest.approx(stats.kstwobign.sf(
            (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d), rel=1e-6)


def test_traces_and_a_load_test_together_count_the_overhead_once(tmp_path: Path) -> None:
    """PAIR with 0.8 ms of runtime overhead per request, 0.3 ms per call and 0.2 ms hops,
    calibrated from its exported traces and its exact load test (utilization_rows). The
    export times a hop from the send, which holds no overhead, and the visits' spans hold
    the overheads the load test fits: the network is 0.2 ms (it was 0: the overheads taken
    out of it) and the waits hold none (they held 1.1 and 0.8 ms), so the calibrated spec
    answers as the truth does; 2 % leaves room for the CPU queueing a span may hold
    (ρ = 0.105 in front, 0.14 in back) fitted as wait."""
    truth = PAIR.replace("components:", "defaults: {network: 0.2ms, overhead: "
                         "{request: 0.8ms, call: 0.3ms}}\ncomponents:").replace(
        "rate: 10/s}]", "rate: 50/s}]\nsimulation: {duration: 10s, traces: 1000}")
    traces = simulated_traces(tmp_path, truth, "otlp")
    (tmp_path / "load.csv").write_text("\n".join(utilization_rows()) + "\n")
    report, text = run_calibrate(tmp_path, PAIR, "--traces", str(traces), "--load-test",
                                 str(tmp_path / "load.csv"))
    assert report["network"]["fitted"] == "200us"
    from scalesim.sim import simulate
    means = [simulate(load_spec_text(spec, overrides=("workloads.0.rate=50/s",
                                                      "simulation.duration=10s")))[
        "latency_ms"]["mean"] for spec in (truth, text)]
    print(f"mean latency ms: truth {means[0]}, calibrated {means[1]}")
    assert means[1] == pytest.approx(means[0], rel=0.02)


def test_a_load_test_that_shows_no_queueing_fits_nothing(tmp_path: Path) -> None:
    """Means falling as the load rises (5, 4, 3 ms at 100, 200, 300/s) fit R = Z + S/(1 −
    X·S) only at the grid's smallest S: it reported a saturation of 3,000,000/s and wrote
    an overhead of 0. Now nothing is fitted, with a warning naming the file."""
    spec = """\
scalesim: 1
name: one
components:
  api:
    cores: 1
    operations: {get: {cpu: 2.5ms}}
workloads: [{name: w, to: api.get, rate: 10/s}]
"""
    (tmp_path / "spec.yaml").write_text(spec)
    (tmp_path / "load.csv").write_text("rate_rps,throughput_rps,mean_ms\n100,100,5\n"
                                       "200,200,4\n300,300,3\n")
    result = CliRunner().invoke(app, ["calibrate", str(tmp_path / "spec.yaml"), "-o",
                                      str(tmp_path / "out.yaml"), "--json", "--load-test",
                                      str(tmp_path / "load.csv")])
    assert result.exit_code == 0, result.output
    load = json.loads(result.stdout)["load_test"]
    assert load["saturation_rps"] is None and load["overhead_ms"] == {}
    assert (tmp_path / "out.yaml").read_text() == spec
    assert (f"warning: {tmp_path / 'load.csv'}: mean_ms does not rise with throughput_rps "
            "(least-squares slope -0.01 ms per request/s)") in result.stderr
