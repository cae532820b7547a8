"""Anti-pattern linting of a system spec: rules over the typed `System`, each finding
placed at a line of the spec and pointing at the catalog patterns that fix it."""

from scalesim.lint.config import LintConfig
from scalesim.lint.engine import RuleError, lint_file, lint_system, load_and_lint
from scalesim.lint.finding import Finding, Severity
from scalesim.lint.rules import RULES, Rule

__all__ = ["RULES", "Finding", "LintConfig", "Rule", "RuleError", "Severity", "lint_file",
           "lint_system", "load_and_lint"]
