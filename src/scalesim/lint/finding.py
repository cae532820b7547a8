"""What a lint rule reports: a finding with its rule, severity, place, numbers and fixes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from scalesim.spec.errors import Path


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """Orders severities so `--fail-on` can compare them."""
        return list(Severity).index(self)


@dataclass(frozen=True)
class Hit:
    """What a rule function yields: where (a spec path) and what, with the concrete numbers.
    The engine adds the rule's id, severity, reason and fixes, and the file position."""

    path: Path
    message: str
    fixes: tuple[str, ...] | None = None
    """Fixes for this very case (e.g. by component kind), instead of the rule's general ones."""


@dataclass(frozen=True)
class Finding:
    rule: str
    name: str
    severity: Severity
    file: str
    line: int
    """1-based; 0 when the spec's positions are unknown."""
    column: int
    path: str
    message: str
    why: str
    fixes: tuple[str, ...]
    see: str | None
    """Catalog id of the anti-pattern (or pattern) the finding is an instance of."""

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"

    def sort_key(self) -> tuple[str, int, int, str, str, str]:
        return (self.file, self.line, self.column, self.rule, self.path, self.message)

    def to_json(self) -> dict[str, object]:
        return {"rule": self.rule, "name": self.name, "severity": str(self.severity),
                "file": self.file, "line": self.line, "column": self.column,
                "path": self.path, "message": self.message, "why": self.why,
                "fixes": list(self.fixes), "see": self.see}
