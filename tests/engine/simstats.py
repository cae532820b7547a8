"""Replications and confidence intervals for the engine tests.

Each check runs R independent replications (one random stream set each) and asserts that the
analytic value lies in the Student-t confidence interval of the per-replication estimates.
Replication means are close to normal (each averages thousands of requests), so the t
interval is the right width: a correct engine fails a 95 % check with probability 5 % per
fresh set of seeds, and a biased one fails once its bias exceeds the half-width. Seeds are
fixed, so the suite is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from scipy import stats

from scalesim.sim.partial import merge
from scalesim.sim.result import build_result
from scalesim.sim.run import run_replication
from scalesim.spec import load_spec_text

Result = dict[str, Any]


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float

    @property
    def half(self) -> float:
        return (self.high - self.low) / 2.0

    def covers(self, truth: float, slack: float = 0.0) -> bool:
        return self.low - slack <= truth <= self.high + slack

    def __str__(self) -> str:
        return f"{self.mean:.5g} ± {self.half:.3g} ({self.half / abs(self.mean):.2%})"


def interval(values: Sequence[float], level: float = 0.95) -> Interval:
    """Student-t interval of the mean of independent replication values."""
    n = len(values)
    mean = math.fsum(values) / n
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(stats.t.ppf(0.5 + level / 2.0, n - 1)) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half)


def replicate(spec: str, runs: int, seed: int = 1) -> tuple[Result, list[Result]]:
    """The pooled result of `runs` replications and each replication's own result."""
    system = load_spec_text(spec, overrides=(f"simulation.replications={runs}",
                                             f"simulation.seed={seed}"))
    partials = [run_replication(system, seed, r) for r in range(runs)]
    return build_result(system, seed, merge(partials)), [build_result(system, seed, p)
                                                         for p in partials]


def check(per_run: list[Result], metric: Callable[[Result], float], truth: float,
          what: str, slack: float = 0.0) -> Interval:
    """Assert `truth` is inside the 95 % interval of `metric` over replications (widened by
    `slack` for a known deterministic error, e.g. the histogram's bucket width)."""
    found = interval([metric(r) for r in per_run])
    print(f"{what}: analytic {truth:.5g}, simulated {found}")
    assert found.covers(truth, slack), f"{what}: analytic {truth:.6g} outside {found}"
    return found
