"""The pre-run precision warning counts only the components a request waits on: an
asynchronous consumer's queue swings without touching any request's latency."""

from __future__ import annotations

from scalesim.analytic.estimate import Model
from scalesim.analytic.precision import short_run, waited_by
from scalesim.spec import load_spec_text
from scalesim.spec.model import System

POINTS = 64


def _consumer() -> System:
    """06-consumer after its fix: a quick api publishing to a busy queue consumer."""
    return load_spec_text("""scalesim: 1
name: slow-consumer
components:
  api:
    replicas: 2
    workers: 32
    operations:
      upload:
        work: {dist: exponential, mean: 3ms}
        calls: [{to: jobs.publish, async: true}]
  jobs:
    kind: queue
    consumers: [{to: thumbnailer.resize, concurrency: 7}]
  thumbnailer:
    replicas: 2
    workers: 4
    operations:
      resize: {work: {dist: exponential, mean: 50ms}}
workloads:
  - {name: uploads, to: api.upload, rate: 120/s}
simulation: {duration: 30s, warmup: 2s, replications: 3}
""")


def test_an_async_consumer_is_not_on_a_requests_path() -> None:
    assert waited_by(_consumer()) == {"uploads": {"api"}}


def test_a_busy_async_consumer_makes_no_short_run_warning() -> None:
    # thumbnailer at ρ ≈ 0.75 used to be counted as if each upload waited on it: ±126 %
    # with 3 replications, where the measured 95 % CI of the mean latency was ±5 %.
    system = _consumer()
    estimate = Model(system, POINTS).evaluate()
    assert estimate.components["thumbnailer"].state.utilization > 0.7
    assert short_run(estimate, 90.0, 0.10) is None


def test_a_busy_component_on_the_path_still_warns() -> None:
    # The same work called synchronously at 150/s (ρ ≈ 0.94): the upload waits on its
    # queue, and 10 s pin the mean latency down to about ±110 % only.
    short = short_run(Model(load_spec_text(SYNC), POINTS).evaluate(), 10.0, 0.10)
    assert short is not None and short.busiest == "thumbnailer"


SYNC = """scalesim: 1
name: sync-consumer
components:
  api:
    replicas: 2
    workers: 32
    operations:
      upload:
        work: {dist: exponential, mean: 3ms}
        calls: [{to: thumbnailer.resize}]
  thumbnailer:
    replicas: 2
    workers: 4
    operations:
      resize: {work: {dist: exponential, mean: 50ms}}
workloads:
  - {name: uploads, to: api.upload, rate: 150/s}
simulation: {duration: 10s, warmup: 2s}
"""
