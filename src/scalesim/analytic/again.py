"""How likely a retry finds the full queue that refused the attempt before it still full.

A refused arrival saw its station's chain at the top (PASTA); its retry comes a gap later:
the hop back, the back-off, the hop there. By the Markov property, that retry is refused
with P(full at t + gap | full at t) = [e^(Q·gap)]_{K,K} (`chains.full_again`), whatever came
before, so the k-th retry after k − 1 refusals in a row is refused with the same transient
averaged over its own back-off: as the kernel draws it, and over the hops (on a coarser
grid of at most `GAP_CELLS` cells). Exact for Poisson arrivals and exponential service, but for
the retries' own feedback: the others refused in the same full spell come back in the same
window, which this leaves out (optimistic). Other service times take the M/M/c/K chain at
their mean, as the station's loss does.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from scalesim.analytic import lattice
from scalesim.analytic.chains import Array, full_again, poisson_weighted
from scalesim.analytic.lattice import Lattice, on_step
from scalesim.spec.resilience import Retry

# cells of the hops' grid a retry's transient is averaged over (their time is short beside
# the back-off's; their mean is kept)
GAP_CELLS = 32
# grid of a decorrelated wait's values, and draws of U per value, it is propagated on (the
# hops are added on its grid)
DECORRELATED_GRID = 256
DECORRELATED_DRAWS = 64


@dataclass(frozen=True)
class Chain:
    """A bounded queue's chain: λ per queue (of jobs), servers, mean job, room for jobs."""

    arrival_rate: float
    servers: int
    service_mean_s: float
    capacity: int


@dataclass(frozen=True)
class Drawn:
    """A wait of at least `base`, and how far above it (`above`)."""

    base: float
    above: Lattice

    @property
    def longest(self) -> float:
        return self.base + self.above.h * len(self.above.mass)


def backoff_bounds(retry: Retry, attempt: int) -> tuple[float, float] | None:
    """The back-off before retry number `attempt` as the kernel draws it
    (sim/mechanisms/backoff.py), as U(low, high): U(0, longest) fully jittered (Envoy's
    too), U(longest/2, longest) with equal jitter, the longest wait (`Retry.longest_wait`)
    without, 0 with no back-off; None for a decorrelated wait, drawn from the last one."""
    if retry.backoff == "none":
        return 0.0, 0.0
    if retry.jitter == "decorrelated":
        return None
    longest = retry.longest_wait(attempt)
    return {"full": 0.0, "equal": longest / 2.0}.get(retry.jitter, longest), longest


def still_full(retry: Retry, chain: Chain, gap: Lattice, loss: float, same: float
               ) -> tuple[float, ...]:
    """P(retry number j is refused | the attempt before it was), j = 1 … attempts − 1: the
    chain's transient from its top (`chains.full_again`) over the hops (`gap`) and the
    back-off, for the `same` share of retries that come to the queue that refused (the
    rest go to another, refused with the stationary `loss`)."""
    hops, mass = _cells(gap)
    waits = [_waits(retry, j) for j in range(1, retry.attempts)]
    longest = float(hops[-1]) + max(w[1] if isinstance(w, tuple) else w.longest
                                    for w in waits)
    x = (chain.arrival_rate + chain.servers / chain.service_mean_s) * longest
    rate, full = full_again(chain.arrival_rate, chain.servers, chain.service_mean_s,
                            chain.capacity, math.ceil(x + 9.0 * math.sqrt(x) + 42.0))
    out = []
    for wait in waits:
        if isinstance(wait, tuple):
            found = float(_over_uniform(full, rate, hops, *wait) @ mass)
        else:  # the hops and the wait summed on the wait's grid first
            both = lattice.convolve(gap, wait.above)
            at = wait.base + np.arange(len(both.mass), dtype=np.float64) * both.h
            found = float(poisson_weighted(full, rate * at) @ both.mass) / float(both.mass.sum())
        out.append(same * min(1.0, found) + (1.0 - same) * loss)
    return tuple(out)


def _cells(gap: Lattice) -> tuple[Array, Array]:
    """The hops' values and their masses on at most `GAP_CELLS` cells, the mean kept."""
    if gap.h == 0.0:
        return np.zeros(1), np.ones(1)
    h = max(gap.h, gap.h * len(gap.mass) / GAP_CELLS)
    mass = on_step(gap, h)
    values = np.arange(len(mass), dtype=np.float64) * h
    return values, np.asarray(mass / mass.sum(), dtype=np.float64)


def _over_uniform(full: Array, rate: float, hops: Array, low: float, high: float) -> Array:
    """P(full at r + B | full at 0) for each r of `hops`, B ~ U(low, high) (a point when
    they meet): with x = Λ·t, d/dx Σₖ P(Poisson(x) = k)·Cₖ = Σₖ P(Poisson(x) = k)·aₖ when
    Cₖ = a₀ + … + aₖ₋₁, so the mean over B is a difference of the former."""
    spread = rate * (high - low)
    if spread < 1e-6:
        return poisson_weighted(full, rate * (hops + high))
    below = np.concatenate([[0.0], np.cumsum(full)])
    return (poisson_weighted(below, rate * (hops + high))
            - poisson_weighted(below, rate * (hops + low))) / spread


def _waits(retry: Retry, attempt: int) -> tuple[float, float] | Drawn:
    """The back-off before retry number `attempt`: U(low, high) (`backoff_bounds`), or a
    decorrelated wait (`_decorrelated`)."""
    bounds = backoff_bounds(retry, attempt)
    return _decorrelated(retry.base, max(retry.max, retry.base), attempt) if bounds is None \
        else bounds


@functools.lru_cache(maxsize=256)
def _decorrelated(base: float, cap: float, attempt: int) -> Drawn:
    """A decorrelated wait as the kernel draws it: B_j = min(max, base + U·(3·B_{j−1} −
    base)) from B_0 = base, propagated on a grid (each value's draws split between the grid
    values around them). Kept: a retry's waits are the same at every load."""
    if cap <= base:
        return Drawn(base, lattice.zero())
    grid = np.linspace(base, cap, DECORRELATED_GRID)
    step = grid[1] - grid[0]
    u = (np.arange(DECORRELATED_DRAWS) + 0.5) / DECORRELATED_DRAWS
    drawn = np.minimum(cap, base + np.outer(3.0 * grid - base, u))  # value × draw
    position = (drawn - base) / step
    low = np.minimum(np.floor(position).astype(np.int64), DECORRELATED_GRID - 1)
    share = position - low
    moves = np.zeros((DECORRELATED_GRID, DECORRELATED_GRID))  # from value i to value j
    rows = np.repeat(np.arange(DECORRELATED_GRID), DECORRELATED_DRAWS).reshape(drawn.shape)
    np.add.at(moves, (rows, low), (1.0 - share) / DECORRELATED_DRAWS)
    np.add.at(moves, (rows, np.minimum(low + 1, DECORRELATED_GRID - 1)),
              share / DECORRELATED_DRAWS)
    weights = np.zeros(DECORRELATED_GRID)
    weights[0] = 1.0  # B_0 = base
    for _ in range(attempt):
        weights = weights @ moves
    above = grid - base
    weights.flags.writeable = False
    return Drawn(base, lattice.Lattice(step, weights, 0.0, float(above @ weights),
                                       float(above**2 @ weights)))
