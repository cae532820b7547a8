"""Spec texts shared by the tests: a design with no findings, and one with many."""

# A careful design: replicas with readiness probes, timeouts shrinking down the chain, a
# database whose replicas are a leader and its follower.
CLEAN = """
defaults: {network: 0.5ms}
components:
  web:
    kind: gateway
    replicas: 2
    workers: 8
    health: {readiness: {}}
    operations:
      get:
        work: 1ms
        calls:
          - to: api.read
            timeout: 200ms
            retry: {attempts: 2, backoff: exponential, jitter: full}
  api:
    replicas: 2
    workers: 8
    health: {readiness: {}}
    operations:
      read:
        work: 2ms
        calls:
          - {to: db.query, timeout: 100ms}
  db:
    kind: database
    replicas: 2
    workers: 8
    health: {readiness: {}}
    replication: {writes: [update]}
    operations:
      query: {work: 3ms}
      update: {work: 3ms}
workloads:
  - {name: users, to: web.get, rate: 100/s}
"""

# Only warnings: SS105 (db has one replica, so nothing to replicate to) and SS201 (api -> db
# has no timeout).
WARNINGS_ONLY = CLEAN.replace("{to: db.query, timeout: 100ms}", "{to: db.query}").replace(
    "    kind: database\n    replicas: 2", "    kind: database\n    replicas: 1").replace(
    "    replication: {writes: [update]}\n", "")

# One error (SS102: a and b call each other), nothing else.
CYCLE = """
components:
  a: {replicas: 2, health: {readiness: {}},
      operations: {x: {calls: [{to: b.y, timeout: 1s}]}, w: {}}}
  b: {replicas: 2, health: {readiness: {}},
      operations: {y: {calls: [{to: a.w, timeout: 500ms}]}}}
workloads:
  - {name: w, to: a.x, rate: 10/s}
"""
