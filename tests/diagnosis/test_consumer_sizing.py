"""A queue's consumers sized so that the fix validates and works when applied: a `prefetch`
subscription is raised in its prefetch (the spec refuses a `concurrency` beside it), and an
autoscaled consumer in its autoscaler's bounds (its spec `replicas` is only where it starts:
the autoscaler scales a raised count straight back). The QA pass found the work-queue
template with keda=true told to set concurrency 58 and replicas 8: refused by validation,
and each half alone left the lag as it was. Each fix is applied and simulated again."""

from __future__ import annotations

import math

from tests.diagnosis.advice import findings, from_template, load, one, run, run_as_cli

SUBSCRIPTION = "jobs->worker.process"

# 300 jobs/s of 20 ms on 2 replicas taking 2 each (prefetch): 4 deliveries at a time drain
# about 4 / 20.5 ms = 195/s.
PREFETCH = """
scalesim: 1
name: prefetch
components:
  api:
    replicas: 2
    workers: 32
    operations:
      submit: {work: 0.5ms, calls: [{to: jobs.publish}]}
  jobs:
    kind: queue
    consumers:
      - {to: worker.process, prefetch: 2}
  worker:
    replicas: 2
    workers: 8
    operations:
      process: {work: {dist: exponential, mean: 20ms}}
workloads:
  - {name: submit, to: api.submit, rate: 300/s}
simulation: {duration: 30s, warmup: 2s, seed: 1}
"""

# 2,000 jobs/s of 10 ms for a KEDA-scaled consumer of at most 2 × 8 workers: 1,600/s.
KEDA_MAX = """
scalesim: 1
name: keda-max
components:
  api:
    replicas: 2
    workers: 32
    operations:
      submit: {work: 0.5ms, calls: [{to: jobs.publish}]}
  jobs:
    kind: queue
    consumers:
      - {to: worker.process, prefetch: 16}
  worker:
    replicas: 1
    workers: 8
    operations:
      process: {work: {dist: exponential, mean: 10ms}}
    autoscale:
      min: 1
      max: 2
      metrics: [{queue: {of: jobs, backlog: 100}}]
      polling: 5s
workloads:
  - {name: submit, to: api.submit, rate: 2000/s}
simulation: {duration: 60s, warmup: 2s, seed: 1}
"""


def test_a_prefetch_subscription_is_raised_in_its_prefetch() -> None:
    """The drain is 2 replicas × prefetch 2; 302/s need 302 × 20.5 ms / 85 % = 7.3, so 8
    deliveries in flight: 4 a replica. A `concurrency` override would be refused."""
    system = load(PREFETCH)
    _, found = run(system)
    backlog = one(found, "backlog", SUBSCRIPTION)
    assert backlog["limit"] == "consumer_concurrency"
    assert any(e.startswith("2 deliveries a worker replica at a time (prefetch) drain ")
               for e in backlog["evidence"])
    assert backlog["fix"]["set"] == ["components.jobs.consumers.0.prefetch=4"]
    for seed in (1, 2):
        fixed = load(PREFETCH, *backlog["fix"]["set"], f"simulation.seed={seed}")
        _, after = run(fixed)
        assert not findings(after, "backlog")


def test_a_keda_consumer_s_burst_is_fixed_in_its_autoscaler_s_bounds() -> None:
    """work-queue with keda=true: a 5 s burst at 2,400/s waits for a consumer KEDA starts
    from zero and the HPA caps at 4 replicas (1,600/s). Sized for the peak, 2,400 × 20 ms /
    (8 × 85 %) = 7.06, so 8 replicas, ready when the burst comes (min), which their prefetch
    of 8 (64 ≥ 2,400 × 20.5 ms / 85 % = 58 in flight) needs no change for."""
    system = from_template("work-queue", {"keda": True})
    _, found = run_as_cli(system)
    lag = one(found, "backlog", SUBSCRIPTION)
    assert (lag["severity"], lag["limit"]) == ("warning", "autoscale")
    assert any("at its max, 4 × 8 workers holding one for 20 ms serve at most 1,600/s, under "
               "the 2,400/s to drain; it scaled 0 → 1 at 5 s, 1 → 4 at 15 s" in e
               for e in lag["evidence"])
    assert lag["fix"]["set"] == ["components.worker.autoscale.min=8",
                                 "components.worker.replicas=8",
                                 "components.worker.autoscale.max=8"]
    assert "gives up scaling to zero" in lag["fix"]["summary"]
    for seed in (1, 2):
        fixed = from_template("work-queue", {"keda": True}, *lag["fix"]["set"])
        result, after = run_as_cli(fixed, seed)
        assert not findings(after, "backlog")
        assert result["queues"][SUBSCRIPTION]["lag_ms"]["p99"] < 1000


def test_max_alone_leaves_the_keda_burst_waiting() -> None:
    """Why the fix sets min: a max of 8 alone, scaled from zero sync by sync, still leaves
    messages waiting seconds (the QA pass measured a p99 of 11.6 s)."""
    system = from_template("work-queue", {"keda": True}, "components.worker.autoscale.max=8")
    result, found = run_as_cli(system)
    assert result["queues"][SUBSCRIPTION]["lag_ms"]["p99"] > 10_000
    assert one(found, "backlog", SUBSCRIPTION)["limit"] == "autoscale"


def test_an_autoscaled_consumer_that_falls_behind_gets_a_higher_max() -> None:
    """2,008/s published for at most 1,600/s: 2,008 × 10 ms / (8 × 85 %) = 2.95, so a max
    of 3 (their prefetch of 16 covers 2,008 × 10.5 ms / 85 % = 25 in flight); the spec's
    replicas would be scaled back."""
    _, found = run_as_cli(load(KEDA_MAX))
    backlog = one(found, "backlog", SUBSCRIPTION)
    assert (backlog["severity"], backlog["limit"]) == ("problem", "autoscale")
    published = backlog["numbers"]["published_rps"]
    assert backlog["fix"]["set"] == [
        f"components.worker.autoscale.max={math.ceil(published * 0.010 / (8 * 0.85))}"]
    assert backlog["fix"]["set"] == ["components.worker.autoscale.max=3"]
    for seed in (1, 2):
        _, after = run_as_cli(load(KEDA_MAX, *backlog["fix"]["set"]), seed)
        assert not findings(after, "backlog")
