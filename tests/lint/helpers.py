"""Types of the fixtures in conftest.py, and small assertions on findings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from scalesim.lint import Finding

WriteSpec = Callable[[str], Path]
LintYaml = Callable[..., list[Finding]]


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def only(findings: list[Finding], rule: str) -> Finding:
    """The one finding of `rule`."""
    matching = [f for f in findings if f.rule == rule]
    assert len(matching) == 1, matching
    return matching[0]
