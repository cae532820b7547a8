"""Specs of queueing networks with exact answers, checked both by the estimate
(tests/analytic) and by simulation (tests/engine)."""

# A Jackson tandem: exponential work at every station, Poisson arrivals, nonblocking callers.
TANDEM = """
scalesim: 1
name: tandem
components:
  a:
    io: nonblocking
    operations: {op: {work: {dist: exponential, mean: 2ms}, calls: [{to: b}]}}
  b:
    workers: 2
    io: nonblocking
    operations: {op: {work: {dist: exponential, mean: 3ms}, calls: [{to: c}]}}
  c:
    operations: {op: {work: {dist: exponential, mean: 1ms}}}
workloads: [{name: w, to: a, rate: 300/s}]
"""

# A closed product-form network: 10 users thinking 100 ms, two exponential FCFS stations.
CLOSED = """
scalesim: 1
name: closed
components:
  front:
    io: nonblocking
    operations: {op: {work: {dist: exponential, mean: 8ms}, calls: [{to: db}]}}
  db:
    operations: {op: {work: {dist: exponential, mean: 12ms}}}
workloads: [{name: users, to: front, users: 10, think: {dist: exponential, mean: 100ms}}]
"""


def fan_out(wait_for: str) -> str:
    """A step that calls four exponential branches (10 ms, no queueing) at once and goes on
    when `wait_for` of them have answered: its time is an order statistic of the four."""
    branches = "".join(f"  b{i}: {{workers: unlimited, operations: {{x: {{work: {{dist: "
                       f"exponential, mean: 10ms}}}}}}}}\n" for i in range(1, 5))
    return f"""
scalesim: 1
name: fanout
components:
  api:
    workers: unlimited
    operations:
      get:
        calls:
          - parallel:
              wait_for: {wait_for}
              calls: [{{to: b1}}, {{to: b2}}, {{to: b3}}, {{to: b4}}]
{branches}workloads: [{{name: w, to: api, rate: 500/s}}]
"""
