"""Thresholds of the lint rules; the defaults are documented in docs/lint.md."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LintConfig:
    max_depth: int = 3
    """Synchronous hops (calls between operations) a chain may have before SS101 reports it."""
    max_calls: int = 3
    """Expected calls from one operation to one component per request at which SS104 reports."""
    utilization: float = 0.8
    """Offered load (ρ) at which SS502 warns that a component is near capacity, and above
    which SS204 warns that retries could double its load; ρ ≥ 1 is SS501."""
    ignore: frozenset[str] = frozenset()
    """Rule ids or names to skip."""
