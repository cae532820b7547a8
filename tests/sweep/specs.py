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
