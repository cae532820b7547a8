"""Semi-synchronous replication's timeout (docs/data.md): a commit waits for the first
follower's W + A, F, at most `semi_sync_timeout` T; one that times out leaves the leader
asynchronous until that acknowledgement comes back, and the writes meanwhile commit at once.
With F exponential of rate r and Poisson writes at λ a second, per write that waits
λ·E[F; F > T] = λ·e^(−rT)·(T + 1/r) others find the leader asynchronous (renewal reward), so
the mean commit is E[min(F, T)] = (1 − e^(−rT))/r over 1 + λ·E[F; F > T], and the share of
writes that time out e^(−rT) over the same."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scalesim.analytic import lattice
from scalesim.analytic.caveats import caveats
from scalesim.analytic.estimate import Model, estimate
from scalesim.analytic.quorum import semi_sync_shares
from scalesim.sim import simulate
from scalesim.spec import load_spec_text

SPEC = """scalesim: 1
name: t
defaults: {network: 0ms}
components:
  db:
    replicas: REPLICAS
    workers: unlimited
    replication: {mode: semi_sync, writes: [put], write: {dist: exponential, mean: 5ms},
                  ack: 0ms, semi_sync_timeout: TIMEOUT}
    operations:
      put: {work: 1ms}
workloads:
  - {name: w, to: db.put, rate: 100/s}
simulation: {duration: 30s, warmup: 1s, seed: 4}
"""


def _closed_form(rate_per_s: float, timeout: float, writes_per_s: float
                 ) -> tuple[float, float]:
    """(mean commit wait, share of writes that time out)."""
    late = math.exp(-rate_per_s * timeout)
    others = writes_per_s * late * (timeout + 1.0 / rate_per_s)
    return (1.0 - late) / rate_per_s / (1.0 + others), late / (1.0 + others)


def test_a_capped_exponential_has_its_closed_form() -> None:
    """min(X, T) of X ~ Exp(mean 5 ms), T = 4 ms: mean 5·(1 − e^(−0.8)) ms, P(X > T) =
    e^(−0.8), to the grid's resolution."""
    waited, late = lattice.capped(lattice.exponential(5e-3), 4e-3)
    assert late == pytest.approx(math.exp(-0.8), abs=2e-3)
    assert waited.mean == pytest.approx(5e-3 * (1 - math.exp(-0.8)), rel=1e-3)
    assert waited.beyond == 0.0 and waited.quantile(0.999) <= 4e-3 + waited.h


def test_a_timeout_past_the_grid_changes_nothing() -> None:
    """The default 10 s against a 5 ms wait: the same lattice, nothing late."""
    first = lattice.exponential(5e-3)
    assert lattice.capped(first, 10.0) == (first, 0.0)
    waited, timed_out, asynchronous = semi_sync_shares(first, 10.0, 100.0)
    assert waited is first and timed_out == 0.0 and asynchronous == 0.0


def test_the_shares_of_timed_out_and_asynchronous_writes() -> None:
    """F ~ Exp(5 ms), T = 5 ms, 100 writes/s: per write that waits, 100·e^(−1)·10 ms others
    find the leader asynchronous; the e^(−1) of the waiting ones that time out are that much
    less of all writes."""
    waited, timed_out, asynchronous = semi_sync_shares(lattice.exponential(5e-3), 5e-3, 100.0)
    others = 100.0 * math.exp(-1.0) * 10e-3
    assert timed_out == pytest.approx(_closed_form(200.0, 5e-3, 100.0)[1], rel=5e-3)
    assert asynchronous == pytest.approx(others / (1 + others), rel=5e-3)
    assert waited.mean == pytest.approx(5e-3 * (1 - math.exp(-1.0)), rel=1e-3)


@pytest.mark.parametrize(("replicas", "timeout"), [(2, 5e-3), (3, 2e-3), (2, 20e-3)])
def test_the_estimated_commit_is_the_closed_form(replicas: int, timeout: float) -> None:
    """The first of replicas − 1 Exp(5 ms) is Exp of rate (replicas − 1)/5 ms; a write's
    response is its 1 ms of work and that commit wait."""
    spec = SPEC.replace("REPLICAS", str(replicas)).replace("TIMEOUT", f"{timeout * 1e3}ms")
    found = Model(load_spec_text(spec)).evaluate().components["db"].responses["db.put"]
    assert found is not None
    mean, _ = _closed_form((replicas - 1) / 5e-3, timeout, 100.0)
    assert found.mean == pytest.approx(1e-3 + mean, rel=2e-3)


def test_the_simulated_commits_match_the_closed_form() -> None:
    """One follower, T = 5 ms (rT = 1), 100 writes/s for 30 s: the simulated mean commit
    wait and share of fallbacks against the closed form (2.31 ms, 26.9 %; the estimate 6 ms
    and none before the cap), within 4 standard errors."""
    spec = SPEC.replace("REPLICAS", "2").replace("TIMEOUT", "5ms")
    mean, timed_out = _closed_form(200.0, 5e-3, 100.0)
    found = Model(load_spec_text(spec)).evaluate().components["db"].responses["db.put"]
    assert found is not None
    assert found.mean == pytest.approx(1e-3 + mean, rel=2e-3)
    result = simulate(load_spec_text(spec))["replication"]["db"]
    writes = result["writes"]
    # the commit wait is at most T: its standard deviation at most T / 2
    assert result["commit_wait_ms"]["mean"] == pytest.approx(
        mean * 1e3, abs=4 * 5.0 / 2 / np.sqrt(writes))
    assert result["semi_sync_fallbacks"] / writes == pytest.approx(
        timed_out, abs=4 * np.sqrt(timed_out * (1 - timed_out) / writes))


@pytest.mark.parametrize(("timeout", "said"), [
    ("5ms", "26.8% of them stop waiting after semi_sync_timeout and 26.9% come while"),
    ("10s", None),  # the default: never past a 5 ms wait
])
def test_the_replication_caveat_gives_the_writes_that_time_out(timeout: str, said: str | None
                                                               ) -> None:
    """The closed form's 26.9 % within the grid's resolution (one cell at T), and the
    asynchronous share λ·E[F; F > T] / (1 + λ·E[F; F > T]) = 0.368 / 1.368."""
    system = load_spec_text(SPEC.replace("REPLICAS", "2").replace("TIMEOUT", timeout))
    message = {c.code: c for c in caveats(system, estimate(system))}["replication"].message
    if said is None:
        assert "stop waiting" not in message
    else:
        assert f"at 100 writes/s {said}" in message
