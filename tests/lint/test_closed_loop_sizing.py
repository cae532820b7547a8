"""SS502's fix on a closed loop: its throughput grows with the capacity it visits (its users
come back sooner), so the replicas are sized by the loop's own law, not for today's rate."""

from __future__ import annotations

import re

from tests.lint.helpers import LintYaml, only, rules

# 50 users thinking 10 ms on 2 replicas of one 10 ms worker: MVA's 200/s fills them
# (ρ ≈ 1.00); at most 50 / 20 ms = 2,500/s with no queueing.
CLOSED = """
defaults: {network: 0ms}
components:
  s:
    replicas: REPLICAS
    workers: 1
    operations: {op: {work: {dist: exponential, mean: 10ms}}}
workloads: [{name: w, to: s.op, users: 50, think: 10ms}]
"""


def _advised(lint_yaml: LintYaml, replicas: int) -> int | None:
    """The replicas SS502 asks for, None when it finds nothing."""
    findings = lint_yaml(CLOSED.replace("REPLICAS", str(replicas)))
    if "SS502" not in rules(findings):
        return None
    found = re.search(r"smallest change is (\d+) replicas", only(findings, "SS502").message)
    assert found is not None
    return int(found.group(1))


def test_one_application_of_the_closed_loop_fix_meets_the_target(lint_yaml: LintYaml) -> None:
    advised = _advised(lint_yaml, 2)
    assert advised is not None
    # Today's 200/s would ask for 3 (200/s × 10 ms / 0.8); the loop then runs faster.
    assert advised > 3
    assert _advised(lint_yaml, advised) is None
    assert _advised(lint_yaml, advised - 1) == advised  # the smallest that does


def test_the_fix_says_the_loops_throughput_rises_with_it(lint_yaml: LintYaml) -> None:
    message = only(lint_yaml(CLOSED.replace("REPLICAS", "2")), "SS502").message
    assert "closed loops' throughput rising with it (MVA)" in message
