"""A design review from the spec's own numbers: the offered load of each component (the
analytic layer) and the lint findings, turned into the patterns to apply first.

Each finding votes for its fixes, weighted by severity (error 9, warning 3, info 1: one error
outweighs a few warnings), so the patterns that address the worst, then the most, findings
come first."""

from __future__ import annotations

from dataclasses import dataclass

from scalesim.analytic.load import ComponentLoad, offered_load
from scalesim.lint.finding import Finding, Severity
from scalesim.spec.model import System

WEIGHT = {Severity.ERROR: 9, Severity.WARNING: 3, Severity.INFO: 1}


@dataclass(frozen=True)
class Change:
    """A pattern to apply, and the findings (rule and place) it answers."""

    id: str
    weight: int
    because: list[str]


@dataclass(frozen=True)
class Review:
    loads: dict[str, ComponentLoad]
    findings: list[Finding]
    changes: list[Change]

    def to_json(self) -> dict[str, object]:
        return {
            "components": {name: {"arrival_rate_rps": load.arrival_rate_rps,
                                  "hold_ms": load.hold_s * 1000.0, "rho": load.rho,
                                  "busy_workers": load.concurrency}
                           for name, load in self.loads.items()},
            "findings": [f.to_json() for f in self.findings],
            "changes": [{"id": c.id, "weight": c.weight, "because": c.because}
                        for c in self.changes],
        }


def review(system: System, findings: list[Finding]) -> Review:
    weights: dict[str, int] = {}
    because: dict[str, list[str]] = {}
    for finding in sorted(findings, key=lambda f: -WEIGHT[f.severity]):
        for fix in finding.fixes:
            weights[fix] = weights.get(fix, 0) + WEIGHT[finding.severity]
            because.setdefault(fix, []).append(f"{finding.rule} {finding.path}")
    order = sorted(weights, key=lambda pid: (-weights[pid], pid))
    return Review(offered_load(system), findings,
                  [Change(pid, weights[pid], because[pid]) for pid in order])
