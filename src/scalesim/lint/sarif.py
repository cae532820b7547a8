"""Findings as SARIF 2.1.0 (OASIS), the format CI code-scanning tools read.

Every rule is listed in the tool's driver, so a result's `ruleIndex` points at it; a result
carries the spec file and line (when known) and the dotted spec path as a logical location."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from scalesim import __version__
from scalesim.lint.finding import Finding, Severity
from scalesim.lint.rules import RULES, Rule

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _rule(rule: Rule) -> dict[str, Any]:
    fixes = ", ".join(rule.fixes)
    see = f"; catalog entry: {rule.see}" if rule.see else ""
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.name.replace("-", " ")},
        "fullDescription": {"text": rule.why},
        "help": {"text": f"Fix with the catalog patterns {fixes} "
                         f"(scalesim patterns show ID){see}."},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {"fixes": list(rule.fixes), "see": rule.see},
    }


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": PurePath(finding.file).as_posix()}}
    if finding.line > 0:
        physical["region"] = {"startLine": finding.line,
                              "startColumn": max(1, finding.column)}
    return {
        "ruleId": finding.rule,
        "ruleIndex": index[finding.rule],
        "level": LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": physical,
                       "logicalLocations": [{"fullyQualifiedName": finding.path,
                                             "kind": "member"}]}],
        "properties": {"fixes": list(finding.fixes), "see": finding.see, "why": finding.why},
    }


def to_sarif(findings: list[Finding]) -> dict[str, Any]:
    index = {rule.id: n for n, rule in enumerate(RULES)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "scalesim", "version": __version__,
                                "rules": [_rule(rule) for rule in RULES]}},
            "results": [_result(f, index) for f in findings],
        }],
    }
