"""`scalesim calibrate` on traces of a busy system: a server span that starts when the
request arrives holds its wait for a worker, which is not the operation's work. Known
values come back within their sampling error (3 standard errors)."""

from __future__ import annotations

import math
from pathlib import Path

from tests.importers.test_calibrate import run_calibrate, simulated_traces, within

WORK_MS = 8.0
BUSY = f"""\
scalesim: 1
name: busy
components:
  api:
    workers: 1
    operations:
      get: {{work: {{dist: exponential, mean: {WORK_MS:g}ms}}}}
workloads: [{{name: w, to: api.get, rate: 100/s}}]
simulation: {{duration: 20s, warmup: 0s, traces: 1000}}
"""


def test_the_wait_for_a_worker_is_not_fitted_as_work(tmp_path: Path) -> None:
    """One worker at 100/s × 8 ms (ρ = 0.8): a visit's span averages 8 / (1 − 0.8) = 40 ms.
    Every request is traced (about 2,000, and traces: 1000 keeps up to 2,000 successful ones), so
    the visits that found the worker free (about 1 − ρ of them) took their work alone."""
    traces = simulated_traces(tmp_path, BUSY, "otlp")
    report, _ = run_calibrate(tmp_path, BUSY, "--traces", str(traces))
    own = report["operations"]["api.get"]["own_time"]
    assert own["n"] < report["operations"]["api.get"]["visits"] / 2
    within(own["observed_mean_ms"], WORK_MS, WORK_MS / math.sqrt(own["n"]), "api own time ms")
    note = next(n for n in report["notes"] if n.startswith("api.get:"))
    assert "was busy with other traced visits" in note
    assert f"fitted from the {own['n']} that found a worker free" in note


def test_too_few_free_visits_leave_a_warning(tmp_path: Path) -> None:
    """At 200/s (ρ = 1.6) the queue only grows: hardly a visit finds the worker free, so the
    fit keeps every visit and says that it holds the wait."""
    spec = BUSY.replace("100/s", "200/s").replace("duration: 20s", "duration: 2s")
    traces = simulated_traces(tmp_path, spec, "otlp")
    report, _ = run_calibrate(tmp_path, spec, "--traces", str(traces))
    own = report["operations"]["api.get"]["own_time"]
    assert own["n"] == report["operations"]["api.get"]["visits"]
    assert any(n.startswith("WARNING api.get:") and "includes waiting for a worker" in n
               for n in report["notes"])


CONSUMER_MS = 20.0
QUEUED = f"""\
scalesim: 1
name: mq
components:
  api:
    workers: unlimited
    operations:
      post:
        work: {{dist: exponential, mean: 2ms}}
        calls: [{{to: db.query}}, {{to: jobs, async: true}}]
  jobs:
    kind: queue
    consumers: [{{to: worker, concurrency: 2}}]
  worker:
    workers: 4
    operations:
      handle:
        work: {{dist: exponential, mean: {CONSUMER_MS:g}ms}}
        calls: [{{to: db.query}}]
  db:
    workers: unlimited
    operations: {{query: {{work: {{dist: exponential, mean: 3ms}}}}}}
workloads: [{{name: w, to: api.post, rate: 50/s}}]
simulation: {{duration: 20s, warmup: 0s, traces: 1000}}
"""


def test_a_queue_consumer_is_fitted_from_its_deliveries(tmp_path: Path) -> None:
    """The export's CONSUMER spans of the worker's deliveries (every message: about 950)
    give its work back, once the db call the delivery's span holds (not traced; db's time
    is the api's traced calls') is taken out; the broker's publish gets no work time."""
    traces = simulated_traces(tmp_path, QUEUED, "otlp")
    report, text = run_calibrate(tmp_path, QUEUED, "--traces", str(traces))
    ops = report["operations"]
    own = ops["worker.handle"]["own_time"]
    assert own["n"] == ops["worker.handle"]["visits"] > 900
    within(own["observed_mean_ms"], CONSUMER_MS, CONSUMER_MS / math.sqrt(own["n"]),
           "worker own time ms")
    assert "own_time" not in ops["jobs.publish"]
    assert not [c for c in report["changes"] if c["path"].startswith("components.jobs.")]
    assert not any(n.startswith("worker.handle: no visit") for n in report["notes"])
    assert "jobs:\n    kind: queue\n    consumers:" in text


def test_a_consumers_deliveries_lose_the_mean_hop_not_one_hop(tmp_path: Path) -> None:
    """With Exp(5 ms) hops a delivery's span holds four of them (its own two, the db call's
    two): taking out one drawn hop in place of their mean moved the fit by up to 40 %. The
    se is the delivery time's spread over √n: own 20² + db 3² + four hops 4·5² (ms²)."""
    spec = QUEUED.replace("components:", "defaults: {network: {dist: exponential, mean: 5ms}}"
                          "\ncomponents:", 1)
    traces = simulated_traces(tmp_path, spec, "otlp")
    report, _ = run_calibrate(tmp_path, spec, "--traces", str(traces))
    own = report["operations"]["worker.handle"]["own_time"]
    within(own["observed_mean_ms"], CONSUMER_MS,
           math.sqrt(CONSUMER_MS**2 + 3.0**2 + 4 * 5.0**2) / math.sqrt(own["n"]),
           "worker own time ms")
