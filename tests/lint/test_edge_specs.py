"""Valid specs at the edges of their fields (a component scaled to zero, a workload that
drops to 0/s, unlimited workers, a closed loop, dead letters nobody consumes): every rule runs on
them without an exception; and a rule that fails anyway is one line and exit 2, not a
traceback."""

from __future__ import annotations

import pytest
import typer
from tests.lint.helpers import LintYaml, WriteSpec, only
from typer.testing import CliRunner

from scalesim.cli.lint import lint_command
from scalesim.lint import engine
from scalesim.lint.context import Context
from scalesim.lint.finding import Hit
from scalesim.lint.rules import RULES, Rule

# 'a' starts with no replica (KEDA scales it from zero on q's backlog) and calls with a
# time-window breaker, a bulkhead, a retry budget, and once with no timeout at all.
SCALED_TO_ZERO = """
components:
  p: {replicas: 2, operations: {x: {calls: [{to: q, async: true}]}}}
  q: {kind: queue, replicas: 2, capacity: 1000,
      consumers: [{to: a.x, concurrency: 4}, {to: c.z, concurrency: 2}]}
  a:
    replicas: 0
    workers: 4
    autoscale: {min: 0, max: 4, metrics: [{queue: {of: q, backlog: 10}}]}
    operations:
      x:
        calls:
          - {to: b.y, timeout: 1s, bulkhead: {max_concurrent: 25},
             circuit_breaker: {window_type: time, window: 10, min_calls: 30},
             retry: {attempts: 3, budget: {ratio: 10%, min_per_s: 1}}}
          - {to: c.z}
  b: {replicas: 2, workers: 8, operations: {y: {work: 5ms}}}
  c: {replicas: 0, workers: 2, operations: {z: {work: 1ms}},
      autoscale: {min: 0, max: 2, metrics: [{queue: {of: q, backlog: 10}}]}}
workloads: [{name: w, to: p.x, rate: 10/s}]
"""

EDGE_SPECS = {
    "scaled to zero": SCALED_TO_ZERO,
    "rate drops to 0": """
        components:
          a: {replicas: 2, workers: 4, operations: {x: {work: 10ms, calls: [{to: b.y, timeout: 1s,
              circuit_breaker: {window_type: time, window: 10, min_calls: 5}}]}}}
          b: {replicas: 2, workers: 4, operations: {y: {work: 1ms}}}
        workloads: [{name: w, to: a.x, profile: [{at: 0s, rate: 10/s}, {at: 5s, rate: 0/s}]}]
        """,
    "unlimited workers": """
        components:
          a: {replicas: 2, workers: unlimited, operations: {x: {work: 10ms, calls: [{to: b.y,
              bulkhead: {max_concurrent: 25}}]}}}
          b: {replicas: 2, workers: unlimited, operations: {y: {work: 1ms}}}
        workloads: [{name: w, to: a.x, rate: 10/s}]
        """,
    "closed loop": """
        components:
          a: {replicas: 1, workers: 2, operations: {x: {work: 10ms}}}
        workloads: [{name: w, to: a.x, users: 50, think: 0s}]
        """,
    "dead letters nobody consumes": """
        components:
          a: {replicas: 2, operations: {x: {calls: [{to: q, async: true}]}}}
          q: {kind: queue, replicas: 2, consumers: [{to: d.y, prefetch: 2}],
              delivery: {guarantee: at_least_once, max_deliveries: 3, dead_letter: dlq}}
          dlq: {kind: queue, replicas: 2}
          d: {replicas: 0, workers: 2, autoscale: {min: 0, max: 3, metrics: [{queue: {of: q,
              backlog: 10}}]}, operations: {y: {work: 1ms, error_rate: 100%}}}
        workloads: [{name: w, to: a.x, rate: 10/s}]
        """,
    "partitions into a consumer scaled to zero": SCALED_TO_ZERO.replace(
        "capacity: 1000,\n", "capacity: 1000, partitions: 3,\n"),
}


@pytest.mark.parametrize("name", EDGE_SPECS)
def test_every_rule_runs_on_valid_edge_specs(lint_yaml: LintYaml, name: str) -> None:
    assert isinstance(lint_yaml(EDGE_SPECS[name]), list)  # no exception


def test_a_caller_scaled_to_zero_is_judged_at_the_replicas_it_runs_with(
        lint_yaml: LintYaml) -> None:
    """'a' gets q's 10/s; when it runs, it has up to autoscale.max 4 replicas, so each
    replica's breaker sees 10/4 × 10 s = 25 calls < min_calls 30 (it crashed dividing by
    replicas 0). 'c' (0 replicas, max 2 × 2 workers) serves 4 at once."""
    findings = lint_yaml(SCALED_TO_ZERO)
    message = only(findings, "SS208").message
    assert "each of the 4 calling replicas' breakers sees about 25" in message
    timeout = next(f for f in findings if f.rule == "SS201" and "c.z" in f.message)
    assert "one of its 16 workers" in timeout.message  # 4 replicas × 4 workers
    bulkhead = SCALED_TO_ZERO.replace("{to: c.z}", "{to: c.z, timeout: 1s, bulkhead: "
                                      "{max_concurrent: 2}}")
    message = next(f for f in lint_yaml(bulkhead) if f.rule == "SS209"
                   and "c.z" in f.message).message
    assert "4 caller replicas × 2 = 8 calls" in message
    assert "only 4 (2 × 2 workers at autoscale.max 2)" in message


def _broken(_: Context) -> list[Hit]:
    return [Hit((), str(1 / 0))]


def test_a_rule_that_fails_is_one_line_and_exit_2(write_spec: WriteSpec,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Exit 1 means findings reached --fail-on: an internal error must not look like it."""
    rule = Rule("SS999", "broken", RULES[0].severity, "", (), None, _broken)
    monkeypatch.setattr(engine, "RULES", (*RULES, rule))
    app = typer.Typer()
    app.command("lint")(lint_command)
    app.command("other")(lambda: None)
    result = CliRunner().invoke(app, ["lint", str(write_spec(EDGE_SPECS["closed loop"]))])
    assert result.exit_code == 2
    assert result.stderr == ("error: internal error in rule SS999: ZeroDivisionError: "
                             "division by zero\n")
    assert "Traceback" not in result.output
