"""Random streams and fast samplers.

Each component and purpose gets its own stream, keyed by name rather than by position, so
editing one part of a design does not reshuffle the randomness of the others (common random
numbers across variants). Samplers draw numpy batches and hand out plain floats, because a
per-draw numpy call costs more than the rest of an event. A batch is copied into a packed
array of C doubles (mypyc's `vec`, one memcpy), so a draw reads a double: no Python float is
made per draw, as `tolist` did.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Final

import numpy as np
from librt.vecs import vec
from mypy_extensions import i64

from scalesim.spec.dists import (
    AnyDistribution,
    Constant,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
    Mixture,
    Normal,
    Pareto,
    Uniform,
)

BatchFn = Callable[[np.random.Generator, int], np.ndarray]
_FIRST_BATCH: Final = 64
_MAX_BATCH: Final = 16384


def stream(seed: int, *names: str) -> np.random.Generator:
    """An independent generator for (seed, names…): stable under unrelated spec edits."""
    key = tuple(zlib.crc32(name.encode()) for name in names)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


class Sampler:
    """Draws from one distribution. `draw()` is the hot path: the next double of a batch,
    refilled in batches that grow so short runs do not pay for large ones."""

    __slots__ = ("_batch", "_buf", "_fn", "_next", "_rng", "fixed", "lane", "mean")

    def __init__(self, fn: BatchFn, rng: np.random.Generator, mean: float,
                 fixed: float = -1.0) -> None:
        self._fn = fn
        self._rng = rng
        self._buf: vec[float] = vec[float]()
        self._next: i64 = 0  # the index in _buf of the next draw
        self._batch = _FIRST_BATCH
        self.mean = mean
        self.fixed = fixed  # the value every draw gives, for a constant (no stream used); else -1
        self.lane = -1  # the kernel's agenda lane for this constant, once it asked for one

    def draw(self) -> float:
        at = self._next
        if at == len(self._buf):
            self._buf = vec[float](self._fn(self._rng, self._batch))
            self._batch = min(self._batch * 2, _MAX_BATCH)
            at = 0
        self._next = at + 1
        return self._buf[at]


def batch_function(dist: AnyDistribution) -> BatchFn:
    """A vectorised sampler for a spec distribution; values are seconds, never negative."""
    if isinstance(dist, Constant):
        value = dist.value
        return lambda rng, n: np.full(n, value)
    if isinstance(dist, Exponential):
        mean = dist.mean
        return lambda rng, n: rng.exponential(mean, n)
    if isinstance(dist, Lognormal):
        mu, sigma = dist.mu, dist.sigma
        return lambda rng, n: rng.lognormal(mu, sigma, n)
    if isinstance(dist, Uniform):
        low, high = dist.min, dist.max
        return lambda rng, n: rng.uniform(low, high, n)
    if isinstance(dist, Normal):
        return _truncated_normal(dist.mean, dist.sd)
    if isinstance(dist, Gamma):
        shape = 1.0 / (dist.cv * dist.cv)
        scale = dist.mean / shape
        return lambda rng, n: rng.gamma(shape, scale, n)
    if isinstance(dist, Pareto):
        xmin, alpha = dist.min, dist.alpha
        return lambda rng, n: xmin * (1.0 + rng.pareto(alpha, n))
    if isinstance(dist, Empirical):
        quantiles, values = (np.array(axis) for axis in zip(*dist.knots(), strict=True))
        return lambda rng, n: np.interp(rng.random(n), quantiles, values)
    if isinstance(dist, Mixture):
        weights = np.array([item.weight for item in dist.of])
        parts = [batch_function(item.dist) for item in dist.of]
        return _mixture(weights / weights.sum(), parts)
    raise TypeError(f"unknown distribution {dist!r}")


def _truncated_normal(mean: float, sd: float) -> BatchFn:
    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        values = rng.normal(mean, sd, n)
        negative = values < 0
        while negative.any():  # redraw below zero: truncation, not clipping
            values[negative] = rng.normal(mean, sd, int(negative.sum()))
            negative = values < 0
        return values
    return draw


def _mixture(weights: np.ndarray, parts: list[BatchFn]) -> BatchFn:
    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        choice = rng.choice(len(parts), size=n, p=weights)
        out = np.empty(n)
        for index, part in enumerate(parts):
            mask = choice == index
            count = int(mask.sum())
            if count:
                out[mask] = part(rng, count)
        return out
    return draw


def summed(first: BatchFn, second: BatchFn) -> BatchFn:
    """Draws of two independent distributions added, e.g. a hop plus a fault's extra delay."""
    return lambda rng, n: first(rng, n) + second(rng, n)


def sampler(dist: AnyDistribution, rng: np.random.Generator) -> Sampler:
    fixed = dist.value if isinstance(dist, Constant) else -1.0
    return Sampler(batch_function(dist), rng, dist.mean_s, fixed)


def uniforms(rng: np.random.Generator) -> Sampler:
    """U[0,1) draws, for probabilities and error coin flips."""
    return Sampler(lambda g, n: g.random(n), rng, 0.5)
