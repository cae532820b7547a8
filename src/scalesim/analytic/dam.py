"""The workload of a queue with Poisson arrivals and one constant job time D: the M/D/1
waiting time, and a token bucket as a finite dam.

Both rest on H(u), the mass of the workload below u·D relative to its mass at 0. It solves
the level-crossing equation H'(u) = ρ(H(u) − H(u − 1)), H(0) = 1, whatever ρ = λD is
(no steady state needed), and Erlang's formula gives it:
H(u) = Σ_{k ≤ u} (−ρ(u − k))^k / k! · e^{ρ(u − k)}. That sum alternates and loses digits as
u grows (at ρ 0.9 about 1e-12 of H at u = 10, 1e-4 at u = 24), so past `ANCHOR` H follows
the equation's one real mode besides the constant, e^{θu} with θ = ρ(1 − e^{−θ}). The
others fade faster: by the anchor they are 2e-9 of it at ρ 0.9 (less above), 2e-7 at ρ 0.5,
4e-6 at ρ 0.3, where the M/D/1 tail there is 2e-6 and 6e-10, so its absolute error past
the anchor stays below 1e-14.

- M/D/1 (ρ < 1): P(W ≤ uD) = (1 − ρ)H(u), its tail past the anchor in closed form.
- Token bucket of `burst` b refilled at r, a request taking one token (the simulator's):
  the missing tokens over r are the workload of a queue of jobs 1/r that admits a request
  only when its job fits below b/r, i.e. when the workload is at most (b − 1)/r. Below
  that level the density is the unbounded queue's, so the admitted share is
  A = H(b − 1)/(1 + ρH(b − 1)) with ρ = λ/r (work conservation: λA/r is the busy share,
  1 − P(0)). b = 1 gives 1/(1 + ρ): λr/(λ + r) admitted.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
ANCHOR = 10  # Erlang's sum up to u = ANCHOR, the dominant mode past it


def _mass(rho: float, u: Array) -> Array:
    """H(u) for 0 ≤ u ≤ ANCHOR by Erlang's sum, its terms over e^{ρu} so that a large ρ
    overflows only the result (to inf)."""
    scaled = np.zeros_like(u)
    for k in range(int(u.max()) + 1 if u.size else 0):
        x = rho * np.maximum(u - k, 0.0)
        scaled += np.where(u >= k, (-x) ** k / math.factorial(k) * math.exp(-rho * k), 0.0)
    with np.errstate(over="ignore"):
        return np.asarray(scaled * np.exp(rho * u), dtype=np.float64)


def _mode(rho: float) -> float:
    """θ ≠ 0 with θ = ρ(1 − e^{−θ}) (0 at ρ = 1): Newton's method on the convex
    θ − ρ(1 − e^{−θ}) from the side where it converges monotonically."""
    if rho == 1.0:
        return 0.0
    rho = max(rho, 1e-150)  # e^{−θ} stays finite (such a tail is nothing anyway)
    theta = rho if rho > 1.0 else 2.0 * math.log(rho) - 2.0  # ρe^{−θ} = e²/ρ > −θ + ρ
    for _ in range(200):
        step = (theta - rho + rho * math.exp(-theta)) / (1.0 - rho * math.exp(-theta))
        theta -= step
        if abs(step) <= 1e-15 * max(1.0, abs(theta)):
            break
    return theta


def _anchored(rho: float) -> tuple[float, float, float]:
    """H at the anchor, its slope there H' = ρ(H(K) − H(K − 1)) (rounding can take a
    vanishing one below 0), and θ."""
    at = _mass(rho, np.array([ANCHOR - 1.0, float(ANCHOR)]))
    return float(at[1]), max(0.0, rho * float(at[1] - at[0])), _mode(rho)  # H rises


def md1_wait_tail(rho: float, u: Array) -> Array:
    """P(W > uD) of M/D/1 at ρ < 1."""
    if rho <= 0.0:
        return np.zeros_like(u)
    near = np.minimum(u, float(ANCHOR))
    tail = np.clip(1.0 - (1.0 - rho) * _mass(rho, near), 0.0, 1.0)
    far = u > ANCHOR
    if far.any():
        _, slope, theta = _anchored(rho)
        tail[far] = (1.0 - rho) * slope / -theta * np.exp(theta * (u[far] - ANCHOR))
    return tail


def bucket_refused(rho: float, burst: float) -> float:
    """The share of Poisson arrivals at ρ = λ/r that a full-at-start token bucket of
    `burst` tokens refused in the long run (the finite dam above)."""
    if rho <= 0.0:
        return 0.0
    u = burst - 1.0
    if u <= ANCHOR:
        level = float(_mass(rho, np.array([u]))[0])
    elif rho * ANCHOR > 700.0:  # H(ANCHOR) past e^{600}: 1/H of the refusals is nothing
        return (rho - 1.0) / rho
    else:
        anchor, slope, theta = _anchored(rho)
        if rho < 1.0:  # the M/D/1 tail: no cancellation in 1 − (1 − ρ)H
            tail = (1.0 - rho) * slope / -theta * math.exp(theta * (u - ANCHOR))
            level = (1.0 - tail) / (1.0 - rho)
            return tail / (1.0 + rho * level)
        x = u - ANCHOR
        grown = x if theta == 0.0 else math.expm1(min(theta * x, 700.0)) / theta
        level = anchor + slope * grown
    if not math.isfinite(level):  # past 1e308: 1/H of the refusals is nothing
        return (rho - 1.0) / rho
    return max(0.0, (1.0 + (rho - 1.0) * level) / (1.0 + rho * level))


def md1_wait_reach(rho: float, tail: float) -> float:
    """The u past which P(W > uD) of M/D/1 at ρ < 1 is below `tail` (the anchor at least)."""
    _, slope, theta = _anchored(rho)
    at_anchor = (1.0 - rho) * slope / -theta
    return ANCHOR + max(0.0, math.log(tail / at_anchor) / theta) if at_anchor > 0.0 \
        else float(ANCHOR)
