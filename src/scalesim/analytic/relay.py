"""Messages a transactional outbox's relay publishes (docs/data.md): not a Poisson stream but
a batch every poll, all published at once, so they reach the queue's consumers together.

A polling relay takes the rows committed since its last poll, every `interval` (at once
again after a full batch); a log-tailing connector reads after `interval` what the log holds
and at once again while rows are readable. Either way the rows of an interval go out
together, Poisson(λ·interval) of them: a full `batch` polls again once published.

A batch that finds the subscription's c delivery slots free (its last batch drained: the
slots' utilization ρ < 1 drains one in ρ·T) starts its first c messages at once; the j-th
(0-based) waits for j − c + 1 deliveries to end, which end at rate c/E[held] while all c
are busy. With an exponential delivery that wait is Erlang(j − c + 1, c/E[held]) exactly; a
message's position is size-biased, P(position j) = P(N > j)/E[N].
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from scalesim.analytic.chains import erlang_mixture, poisson_pmf
from scalesim.analytic.lattice import LEAF_POINTS, Lattice, mixture, zero
from scalesim.analytic.station import StationState
from scalesim.spec.data import Outbox

# Poisson batch sizes past mean + this many standard deviations are left out.
SPREAD = 12.0


def batch_sizes(outbox: Outbox, rate: float) -> np.ndarray:
    """P(a poll publishes n rows), n = 0, 1, …: the Poisson commits of an interval. A full
    `batch` polls again as soon as it is published (milliseconds), so the rows past it
    follow at once: the burst is the interval's rows whatever `batch` is."""
    mean = rate * outbox.poll_interval
    top = int(mean + SPREAD * math.sqrt(mean) + SPREAD)
    sizes = poisson_pmf(top + 1, mean)
    sizes[top] += max(0.0, 1.0 - float(sizes.sum()))  # the tail past it
    return sizes


def batch_wait(sizes: np.ndarray, servers: int, held_mean_s: float,
               points: int = LEAF_POINTS) -> Lattice:
    """The buffer wait of a random message of a batch of `sizes` that finds `servers` free
    slots, each delivery held `held_mean_s` on average: completions it waits for, 0 for the
    first `servers`, Erlang(k, servers/held) for the k-th past them."""
    position = (1.0 - np.cumsum(sizes)).clip(0.0)  # P(N > j), j = 0, 1, …: E[N] in all
    if position.sum() <= 0.0:
        return zero()
    head = position[:servers].sum()
    weights = np.concatenate([[head], position[servers:]])
    return erlang_mixture(weights, servers / held_mean_s, points)


def batched(state: StationState, feeds: Sequence[tuple[float, Outbox]], published: float,
            servers: int, held_mean_s: float, points: int = LEAF_POINTS) -> StationState:
    """A subscription's station when relays publish `feeds` (rows a second, outbox) of its
    `published` messages a second: their messages wait as a batch's (`batch_wait`), the
    others as the station's Poisson arrivals. Unchanged when it cannot keep up."""
    shares = [rate / published for rate, _ in feeds if rate > 0.0] if published > 0.0 else []
    if state.wait is None or not shares:
        return state
    waits = [batch_wait(batch_sizes(outbox, rate), servers, held_mean_s, points)
             for rate, outbox in feeds if rate > 0.0]
    rest = max(0.0, 1.0 - sum(shares))
    weights, parts = [*shares, rest], [*waits, state.wait]
    wait = mixture(weights, parts)
    p_wait = sum(s * float(1.0 - w.cdf(0.0)) for s, w in zip(shares, waits, strict=True)) \
        + rest * state.p_wait
    return dataclasses.replace(
        state, p_wait=p_wait, mean_wait_s=wait.mean, wait=wait, exact=False,
        model=f"D^X/G/{servers} (relay batches)" if rest <= 0.0
        else f"{state.model}, {1.0 - rest:.0%} in relay batches")
