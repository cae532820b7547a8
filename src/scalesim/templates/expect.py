"""Expected outcomes as data: a metric of the result, a comparison and the reason.

A metric is a dotted path into the result dict (docs/results.md). A bracketed part picks a
mapping key that contains dots (`queues[jobs->worker.process]`), the `calls` entry with
that `from->to`, or the `rollouts` entry of that component (`rollouts[api]`). Three shares
are derived wherever a `requests` block is: `goodput_share` (ok / total), `failed_share`
and `degraded_share`."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

Op = Literal["<", "<=", ">", ">=", "~"]
_TOKEN = re.compile(r"\[([^\]]*)\]|([^.\[\]]+)")
_SHARES = {"goodput_share": "ok", "failed_share": "failed", "degraded_share": "degraded"}


@dataclass(frozen=True)
class Expect:
    """`metric op value`; with `minus`, the metric minus that other metric (an added cost);
    with `per`, divided by that other metric (a rate: a cost per simulated second); `~`
    means within `tolerance` (relative) of value."""

    metric: str
    op: Op
    value: float
    why: str
    tolerance: float = 0.0
    minus: str | None = None
    per: str | None = None

    def __str__(self) -> str:
        subject = f"{self.metric} − {self.minus}" if self.minus else self.metric
        if self.per:
            subject = f"({subject}) / {self.per}" if self.minus else f"{subject} / {self.per}"
        target = (f"{self.value:g} ± {self.tolerance * 100:g}%" if self.op == "~"
                  else f"{self.value:g}")
        return f"{subject} {'≈' if self.op == '~' else self.op} {target}"

    def holds(self, actual: float) -> bool:
        if self.op == "~":
            return abs(actual - self.value) <= self.tolerance * abs(self.value)
        return {"<": actual < self.value, "<=": actual <= self.value,
                ">": actual > self.value, ">=": actual >= self.value}[self.op]


SIGMAS = 4  # statistical expectations hold within this many standard errors
FEW = 25  # expected events below which a share is bounded above only (Poisson)


def count_at_most(mean: float) -> float:
    """A Poisson count's upper bound: the mean, SIGMAS standard deviations, and SIGMAS more
    for tiny means (where the normal approximation undercounts the tail)."""
    return mean + SIGMAS * math.sqrt(mean) + SIGMAS


def share_near(metric: str, share: float, trials: float, why: str) -> Expect:
    """A share of `trials` independent events: within SIGMAS binomial standard errors of
    `share` when enough of them are expected, else at most its Poisson bound."""
    if trials * share < FEW:
        return Expect(metric, "<=", count_at_most(trials * share) / trials, why)
    tolerance = SIGMAS * math.sqrt((1 - share) / (trials * share))
    return Expect(metric, "~", share, why, tolerance=tolerance)


@dataclass(frozen=True)
class Check:
    """One expectation evaluated against one result."""

    expect: Expect
    actual: float | None

    @property
    def met(self) -> bool:
        return self.actual is not None and self.expect.holds(self.actual)

    def __str__(self) -> str:
        actual = "missing" if self.actual is None else f"{self.actual:g}"
        verdict = "ok  " if self.met else "MISS"
        return f"{verdict} {self.expect} (actual {actual}): {self.expect.why}"

    def to_json(self) -> dict[str, Any]:
        """`templates check --json`'s form, which the studio shows too."""
        e = self.expect
        return {"metric": e.metric, "minus": e.minus, "per": e.per, "op": e.op,
                "value": e.value, "tolerance": e.tolerance, "why": e.why, "text": str(e),
                "actual": self.actual, "met": self.met}


def metric(result: dict[str, Any], path: str) -> float | None:
    """The number at `path` in a result, or None when it does not exist (or is null)."""
    node: Any = result
    for bracketed, plain in _TOKEN.findall(path):
        key = bracketed or plain
        if isinstance(node, list):
            node = next((c for c in node if f"{c.get('from')}->{c.get('to')}" == key
                         or c.get("component") == key), None)
        elif isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, dict) and key in _SHARES and "requests" in node:
            counts = node["requests"]
            node = counts[_SHARES[key]] / counts["total"] if counts["total"] else None
        else:
            return None
    if isinstance(node, bool) or not isinstance(node, int | float) or math.isnan(node):
        return None
    return float(node)


def evaluate(expects: tuple[Expect, ...], result: dict[str, Any]) -> list[Check]:
    """Each expectation with its actual value; a missing metric is never met."""
    checks = []
    for expect in expects:
        actual = metric(result, expect.metric)
        if expect.minus is not None and actual is not None:
            base = metric(result, expect.minus)
            actual = None if base is None else actual - base
        if expect.per is not None and actual is not None:
            over = metric(result, expect.per)
            actual = actual / over if over else None
        checks.append(Check(expect, actual))
    return checks
