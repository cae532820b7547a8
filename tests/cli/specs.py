"""Specs shared by the CLI tests."""

GOOD = """\
scalesim: 1
name: tiny
components:
  api:
    workers: 4
    operations:
      get:
        work: {dist: exponential, mean: 2ms}
        calls:
          - to: db.read
            timeout: 50ms
  db:
    workers: 8
    operations:
      read: {work: 1ms}
workloads:
  - {name: users, to: api.get, rate: 200/s}
simulation: {duration: 5s, seed: 3}
"""
