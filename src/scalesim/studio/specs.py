"""Reading a spec sent to the API: size limit, located errors, lint findings. The same
loader and linter as the command line (scalesim.spec, scalesim.lint)."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from scalesim.lint import lint_system
from scalesim.spec import SpecError, SpecIssue, System, load_spec_text
from scalesim.spec.yamlpos import YamlSyntaxError, load_with_positions
from scalesim.studio.config import MAX_SPEC_BYTES

SPEC_NAME = "spec.yaml"


class SpecRejected(HTTPException):
    """400 with every located problem of a spec."""

    def __init__(self, issues: list[SpecIssue]) -> None:
        self.issues = [issue_json(issue) for issue in issues]
        super().__init__(400, f"the spec has {len(issues)} error(s); the first: "
                              f"line {issues[0].line}: {issues[0].path or 'spec'}: "
                              f"{issues[0].message}" if issues else "the spec is not valid")


def issue_json(issue: SpecIssue) -> dict[str, Any]:
    return {"line": issue.line, "column": issue.column, "path": issue.path,
            "message": issue.message}


def check_size(text: str) -> None:
    size = len(text.encode("utf-8"))
    if size > MAX_SPEC_BYTES:
        raise HTTPException(413, f"the spec is {size:,} bytes; the studio accepts specs of at "
                                 f"most {MAX_SPEC_BYTES:,} bytes")


def load(text: str) -> System:
    """The validated System, or SpecRejected (400) naming every problem, or 413."""
    check_size(text)
    try:
        return load_spec_text(text, SPEC_NAME)
    except SpecError as error:
        raise SpecRejected(error.issues) from None


def validate(text: str) -> dict[str, Any]:
    """Errors (line, column, path, message) and, for a valid spec, lint findings placed at
    their lines, each with the catalog patterns that fix it."""
    check_size(text)
    try:
        system = load_spec_text(text, SPEC_NAME)
    except SpecError as error:
        return {"valid": False, "errors": [issue_json(i) for i in error.issues], "findings": []}
    try:
        _, positions = load_with_positions(text)
    except YamlSyntaxError:  # cannot happen after a successful load; be safe anyway
        positions = {}
    findings = [f.to_json() for f in lint_system(system, positions, SPEC_NAME)]
    return {"valid": True, "errors": [], "findings": findings}
