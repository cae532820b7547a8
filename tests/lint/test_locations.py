"""Findings point at the line a person would edit."""

from __future__ import annotations

from tests.lint.helpers import LintYaml, WriteSpec, only

from scalesim.lint import lint_system
from scalesim.spec import load_spec

SPEC = """\
scalesim: 1
name: where
components:
  a:
    replicas: 2
    operations:
      x:
        calls:
          - to: b.y
            timeout: 1s
            retry:
              attempts: 3
              backoff: none
          - to: c.y
  b:
    replicas: 2
    operations:
      y: {}
  c:
    replicas: 1
    operations:
      y: {}
workloads:
  - {name: w, to: a.x, rate: 10/s}
"""


def line_of(text: str) -> int:
    """1-based line of the one line of SPEC that contains `text`."""
    lines = [n for n, line in enumerate(SPEC.splitlines(), 1) if text in line]
    assert len(lines) == 1, text
    return lines[0]


def test_each_finding_points_at_its_field(lint_yaml: LintYaml) -> None:
    findings = lint_yaml(SPEC)
    assert only(findings, "SS202").line == line_of("backoff: none")
    assert only(findings, "SS201").line == line_of("- to: c.y")
    assert only(findings, "SS105").line == line_of("replicas: 1")
    assert only(findings, "SS201").path == "components.a.operations.x.calls[1]"


def test_a_default_field_points_at_its_nearest_written_parent(lint_yaml: LintYaml) -> None:
    spec = SPEC.replace("  c:\n    replicas: 1\n", "  c:\n")
    finding = only(lint_yaml(spec), "SS105")
    assert finding.path == "components.c.replicas"
    assert finding.line == line_of("  c:")
    assert finding.location.endswith(f":{finding.line}")


def test_findings_are_sorted_by_line(lint_yaml: LintYaml) -> None:
    lines = [f.line for f in lint_yaml(SPEC)]
    assert lines == sorted(lines)


def test_without_positions_lines_are_zero(write_spec: WriteSpec) -> None:
    findings = lint_system(load_spec(write_spec(SPEC)))
    assert findings and all(f.line == 0 and f.file == "<spec>" for f in findings)
