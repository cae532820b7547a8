"""One diagnosis finding: what is wrong where, the limit that binds, the evidence, and the
smallest change that fixes it (as text, and as `--set` overrides when the spec can say it)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["problem", "warning"]
# What the finding is about.
Kind = Literal["backlog", "saturated", "overload", "limit", "degraded", "failures", "slo",
               "split_brain", "failover", "split_votes", "rollout", "duplicates", "saga",
               "staleness"]
# The limit that binds: the knob to turn.
Limit = Literal["workers", "cores", "consumer_concurrency", "partitions", "session_timeout",
                "visibility_timeout", "max_deliveries", "commit_interval",
                "connection_pool", "rate_limit", "bulkhead", "circuit_breaker", "fault",
                "downstream", "lease", "failure_limit", "timeout", "retry", "quorum", "ttl",
                "write_policy", "autoscale"]


@dataclass(frozen=True)
class Fix:
    summary: str
    set: tuple[str, ...] = ()  # `--set PATH=VALUE` overrides that apply it; () = none

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary, "set": list(self.set)}


@dataclass(frozen=True)
class Finding:
    kind: Kind
    severity: Severity
    subject: str  # a component, a queue subscription (QUEUE->COMP.OP), a call or a workload
    summary: str  # one line: what happens, with its main number
    limit: Limit | None = None
    evidence: tuple[str, ...] = ()  # the measured and estimated numbers behind it
    fix: Fix | None = None
    numbers: dict[str, float | None] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "severity": self.severity, "subject": self.subject,
                "limit": self.limit, "summary": self.summary, "evidence": list(self.evidence),
                "fix": None if self.fix is None else self.fix.to_json(),
                "numbers": {k: _rounded(v) for k, v in self.numbers.items()}}


def _rounded(value: float | None) -> float | None:
    """Stable, readable JSON: 4 decimals; infinities and NaN (no estimate) become null."""
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return round(value, 4)


def count(value: float) -> str:
    return f"{value:,.0f}"


def rate(value: float) -> str:
    """Per second, short: 815/s, 1,005/s, 0.4/s."""
    return f"{value:,.0f}/s" if abs(value) >= 10 else f"{value:.2g}/s"


def rates_apart(low: float, high: float) -> tuple[str, str]:
    """Two rates per second rounded alike, with as many decimals as it takes (up to 3) for
    `low` < `high` to read as less: "19.0/s < 19.4/s", never "19/s < 19/s"."""
    for decimals in range(4):
        shown = tuple(f"{v:,.{decimals}f}/s" for v in (low, high))
        if round(low, decimals) < round(high, decimals):
            break
    return shown[0], shown[1]


def share(value: float) -> str:
    return f"{value * 100:.0f} %" if value >= 0.1 else f"{value * 100:.2g} %"


def amount(value: float) -> str:
    """A count or a number of cores, 3 significant digits; ∞ for an infinite one."""
    return "∞" if math.isinf(value) else f"{value:.3g}"


def duration(seconds: float) -> str:
    if math.isinf(seconds):
        return "∞ (an infinite mean)"
    return f"{seconds:.3g} s" if seconds >= 1 else f"{seconds * 1e3:.3g} ms"
