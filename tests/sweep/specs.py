"""Small specs with known answers for the sweep, executor and plan tests."""

MM1 = """
scalesim: 1
name: mm1
components:
  s:
    operations: {op: {work: {dist: exponential, mean: 10ms}}}
workloads: [{name: w, to: s, rate: 50/s}]
slo: {p99: 200ms}
simulation: {duration: 100s, warmup: 5s, seed: 3}
"""

# Two tiers, a retry and a breaker: enough mechanisms that every part of a partial merges.
MIXED = """
scalesim: 1
name: mixed
defaults: {network: 0.2ms}
components:
  api:
    replicas: 2
    workers: 4
    operations:
      get:
        work: {dist: exponential, mean: 2ms}
        calls:
          - to: db
            timeout: 50ms
            retry: {attempts: 2}
            circuit_breaker: {window: 20, min_calls: 10}
          - {to: events, async: true}
  db:
    workers: 4
    operations: {q: {work: {dist: exponential, mean: 5ms}, error_rate: 1%}}
  events:
    kind: queue
    consumers: [{to: mail, concurrency: 2}]
  mail:
    workers: 2
    operations: {send: {work: {dist: exponential, mean: 4ms}}}
workloads: [{name: w, to: api, rate: 300/s}]
simulation: {duration: 10s, warmup: 1s, seed: 5, replications: 3, traces: 2}
"""

MMC = """
scalesim: 1
name: mmc
components:
  s:
    workers: 1
    operations: {op: {work: {dist: exponential, mean: 100ms}}}
workloads: [{name: w, to: s, rate: 10/s}]
simulation: {duration: 60s, warmup: 5s, seed: 3}
"""

# A front `app` holding a worker across its call to `db`: one replica of `app` is past
# saturation whatever `db` has (about 7 ms held per request, 1000/s on 4 workers), so the
# `db` axis relieves nothing there.
TWO_TIER = """
scalesim: 1
name: two-tier
defaults: {network: 0.1ms}
components:
  app:
    workers: 4
    operations:
      get:
        work: {dist: exponential, mean: 1.5ms}
        calls: [{to: db.q}]
  db:
    workers: 6
    operations: {q: {work: {dist: exponential, mean: 5ms}}}
workloads: [{name: w, to: app.get, rate: 1000/s}]
simulation: {duration: 5s, warmup: 1s, seed: 3}
"""

# Requests publish to a queue whose one consumer drains 100/s of the 150/s sent: the request
# SLO is met easily while the backlog grows by about 50/s.
BACKLOG = """
scalesim: 1
name: backlog
components:
  api:
    workers: 8
    operations:
      submit:
        work: {dist: exponential, mean: 1ms}
        calls: [{to: jobs.publish}]
  jobs:
    kind: queue
    consumers: [{to: worker.run, concurrency: 1}]
  worker:
    workers: 1
    operations: {run: {work: 10ms}}
workloads: [{name: w, to: api.submit, rate: 150/s}]
simulation: {duration: 8s, warmup: 1s, seed: 3}
"""
