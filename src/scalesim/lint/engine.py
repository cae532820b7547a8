"""Run the registered rules over a system and place each hit in the spec file."""

from __future__ import annotations

from pathlib import Path as FsPath

from scalesim.lint.config import LintConfig
from scalesim.lint.context import Context
from scalesim.lint.finding import Finding
from scalesim.lint.rules import RULES
from scalesim.spec import System, load_spec
from scalesim.spec.errors import Path, counted, dotted
from scalesim.spec.loader import read_spec_file
from scalesim.spec.yamlpos import Position, load_with_positions


class RuleError(Exception):
    """A rule that failed on a spec: a bug in the rule, not in the spec. Named by the rule,
    so the command can say which one in a line instead of a traceback."""

    def __init__(self, rule: str, error: Exception) -> None:
        super().__init__(f"internal error in rule {rule}: {type(error).__name__}: {error}")
        self.rule = rule


def lint_system(system: System, positions: dict[Path, Position] | None = None,
                file: str | None = None, config: LintConfig | None = None) -> list[Finding]:
    """Every finding of every rule not ignored, sorted by place in the file.

    `positions` (from `load_with_positions`) gives findings their line and column; without
    it both are 0. Raises ValueError for an unknown rule in `config.ignore`, RuleError when
    a rule fails.
    """
    config = config or LintConfig()
    known = {rule.id for rule in RULES} | {rule.name for rule in RULES}
    unknown = sorted(config.ignore - known)
    if unknown:
        raise ValueError(f"{counted(len(unknown), 'unknown rule')} to ignore: "
                         f"{', '.join(unknown)}")
    ctx = Context.of(system, config)
    findings = []
    for rule in RULES:
        if rule.id in config.ignore or rule.name in config.ignore:
            continue
        try:
            hits = list(rule.check(ctx))
        except Exception as error:  # any bug in a rule becomes one error naming it
            raise RuleError(rule.id, error) from error
        for hit in hits:
            line, column = _locate(positions or {}, hit.path)
            findings.append(Finding(rule.id, rule.name, rule.severity, file or "<spec>", line,
                                    column, dotted(hit.path), hit.message, rule.why,
                                    hit.fixes or rule.fixes, rule.see))
    return sorted(findings, key=Finding.sort_key)


def lint_file(path: str | FsPath, config: LintConfig | None = None) -> list[Finding]:
    """Load, validate and lint one spec file; raises SpecError for a bad spec."""
    return load_and_lint(path, config)[1]


def load_and_lint(path: str | FsPath,
                  config: LintConfig | None = None) -> tuple[System, list[Finding]]:
    """The validated system of a spec file and its findings; raises SpecError."""
    system = load_spec(path)
    _, positions = load_with_positions(read_spec_file(path))
    return system, lint_system(system, positions, str(path), config)


def _locate(positions: dict[Path, Position], path: Path) -> Position:
    """The position of `path`, or of its nearest ancestor written in the file (a default
    field has no line of its own)."""
    for cut in range(len(path), -1, -1):
        if path[:cut] in positions:
            return positions[path[:cut]]
    return 0, 0
