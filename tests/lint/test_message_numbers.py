"""Numbers in lint messages read in full, never in scientific notation (QA: "'web' is
offered 1e+05/s × 2 ms held per request" for a workload at 100,000/s)."""

from __future__ import annotations

from tests.lint.helpers import LintYaml, only

OVERLOADED = """
scalesim: 1
name: big
components:
  web:
    replicas: 2
    workers: 8
    operations:
      get: {work: 2ms}
workloads:
  - {name: w, to: web.get, rate: 1000000/s}
"""

# Three layers of 100 attempts: up to 100³ calls reach d for one request.
NESTED = """
scalesim: 1
name: nested
components:
  a: {operations: {x: {work: 1ms, calls: [{to: b.y, retry: {attempts: 100}}]}}}
  b: {operations: {y: {work: 1ms, calls: [{to: c.z, retry: {attempts: 100}}]}}}
  c: {operations: {z: {work: 1ms, calls: [{to: d.w, retry: {attempts: 100}}]}}}
  d: {operations: {w: {work: 1ms}}}
workloads:
  - {name: w, to: a.x, rate: 10/s}
"""


def test_a_large_rate_and_its_busy_workers_read_in_full(lint_yaml: LintYaml) -> None:
    message = only(lint_yaml(OVERLOADED), "SS501").message
    assert "'web' is offered 1,000,000/s × 2 ms held per request = 2,000 busy workers " \
        "against 2 replicas × 8 workers" in message
    assert "e+" not in message


def test_a_large_retry_product_reads_in_full(lint_yaml: LintYaml) -> None:
    message = only(lint_yaml(NESTED), "SS204").message
    assert "up to 1,000,000 calls reach 'd.w'" in message
    assert "e+" not in message
