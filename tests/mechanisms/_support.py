"""Shared settings for the mechanism unit tests.

Hypothesis runs derandomized and without an example database, so every run of this folder
explores exactly the same cases (deterministic CI, no state written to disk).
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, settings

from scalesim.sim.random import Sampler, uniforms

# Deterministic, database-less hypothesis settings for every property in this folder.
PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=200,
                    suppress_health_check=[HealthCheck.too_slow])


def uniform(seed: int) -> Sampler:
    """A U[0,1) sampler on its own fixed-seed stream."""
    return uniforms(np.random.default_rng(seed))


def exponential(seed: int) -> Sampler:
    """An Exp(1) sampler on its own fixed-seed stream."""
    return Sampler(lambda g, n: g.exponential(1.0, n), np.random.default_rng(seed), 1.0)
