"""The load lint passes through a subscription: each message once (a healthy system, no
redeliveries), and at most what the subscription drains."""

from __future__ import annotations

import pytest
from tests.lint.helpers import LintYaml, only, rules

from scalesim.lint import LintConfig
from scalesim.lint.context import Context
from scalesim.spec import load_spec_text

# 4500/s published at least once; the consumer fails half its deliveries, and each comes
# back up to max_deliveries 5: the analytic layer counts 4500 × (1 + ½ + ¼ + ⅛ + 1/16)
# = 8719/s deliveries.
REDELIVERED = """
components:
  p: {replicas: 2, workers: 100, health: {readiness: {}},
      operations: {x: {calls: [{to: q, async: true}]}}}
  q:
    kind: queue
    replicas: 2
    capacity: 100000
    delivery: {guarantee: at_least_once, max_deliveries: 5, dead_letter: dlq}
    consumers: [{to: d.y, concurrency: 100, idempotent: true}]
  dlq: {kind: queue, replicas: 2, capacity: 1000}
  d: {replicas: 1, workers: 50, health: {readiness: {}},
      operations: {y: {work: 10ms, error_rate: 50%}}}
workloads: [{name: w, to: p.x, rate: 4500/s}]
"""


def test_load_leaves_redeliveries_out(lint_yaml: LintYaml) -> None:
    """docs/lint.md: retries and failures are left out. d gets 4500/s × 10 ms = 45 busy
    workers of 50 (ρ 0.9, SS502); counting redeliveries it was 8719/s, ρ 1.74 (SS501)."""
    findings = lint_yaml(REDELIVERED)
    assert "SS501" not in rules(findings)
    message = only(findings, "SS502").message
    assert "'d' is offered 4500/s × 10 ms held per request = 45 busy workers against 1 " \
        "replica(s) × 50 workers: ρ ≈ 0.90" in message


def test_the_consumer_gets_each_message_once() -> None:
    context = Context.of(load_spec_text("scalesim: 1\nname: t\n" + REDELIVERED),
                         LintConfig())
    assert context.sustained["d"].rate == pytest.approx(4500.0)  # was 8719
