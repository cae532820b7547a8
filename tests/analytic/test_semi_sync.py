"""Semi-synchronous replication's timeout (docs/data.md): a commit waits for the first
follower's W + A, F, at most `semi_sync_timeout` T; when one times out, the writes sent
during its T wait with it (each until T runs out or its own F comes: min(F, U), U uniform on
(0, T)), and those after commit at once until that acknowledgement comes back. With F
exponential of rate r and Poisson writes at λ a second, per write that waits afresh λ·T·e^(−rT)
others wait for the switch and λ·e^(−rT)/r find the leader asynchronous (renewal reward),
so the mean commit is (E[min(F, T)] + λ·T·e^(−rT)·E[min(F, U)]) over
1 + λ·e^(−rT)·(T + 1/r), and the share of writes that time out e^(−rT) over the same."""

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
    r, t = rate_per_s, timeout
    late = math.exp(-r * t)
    others = writes_per_s * late * (t + 1.0 / r)
    capped = (1.0 - late) / r  # E[min(F, T)]
    with_switch = capped - (1.0 - late * (1.0 + r * t)) / (r * r * t)  # E[min(F, U)]
    waits = capped + writes_per_s * t * late * with_switch
    return waits / (1.0 + others), late / (1.0 + others)


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
    semi = semi_sync_shares(first, 10.0, 100.0)
    assert semi.waited is first and semi.timed_out == 0.0
    assert semi.switching == 0.0 and semi.asynchronous == 0.0


def test_the_shares_of_timed_out_and_asynchronous_writes() -> None:
    """F ~ Exp(5 ms), T = 5 ms, 100 writes/s: per write that waits afresh, 100·e^(−1)·5 ms
    others wait for the switch and as many find the leader asynchronous; the e^(−1) of the
    fresh ones that time out are that much less of all writes. Those waiting for the switch
    wait min(F, U): E = E[min(F, T)] − (1 − 2·e^(−1))·T / 1 (rT = 1)."""
    semi = semi_sync_shares(lattice.exponential(5e-3), 5e-3, 100.0)
    each = 100.0 * math.exp(-1.0) * 5e-3
    assert semi.timed_out == pytest.approx(_closed_form(200.0, 5e-3, 100.0)[1], rel=5e-3)
    assert semi.switching == pytest.approx(each / (1 + 2 * each), rel=5e-3)
    assert semi.asynchronous == pytest.approx(each / (1 + 2 * each), rel=5e-3)
    capped = 5e-3 * (1 - math.exp(-1.0))
    assert semi.waited.mean == pytest.approx(capped, rel=1e-3)
    assert semi.with_switch.mean == pytest.approx(
        capped - (1 - 2 * math.exp(-1.0)) * 5e-3, rel=5e-3)


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
    wait and share of fallbacks against the closed form (2.56 ms, 26.9 %; the estimate 6 ms
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
    ("5ms", "26.8% of them stop waiting after semi_sync_timeout, 13.4% wait with one that "
            "does, and 13.5% come while"),
    ("10s", None),  # the default: never past a 5 ms wait
])
def test_the_replication_caveat_gives_the_writes_that_time_out(timeout: str, said: str | None
                                                               ) -> None:
    """The closed form's 26.9 % within the grid's resolution (one cell at T), and the
    shares waiting for the switch, λ·T·e^(−rT) / (1 + λ·e^(−rT)·(T + 1/r)) = 0.184 / 1.368,
    and finding the leader asynchronous, λ·e^(−rT)/r over the same, also 0.184 / 1.368 (13.45 %,
    13.5 on the grid)."""
    system = load_spec_text(SPEC.replace("REPLICAS", "2").replace("TIMEOUT", timeout))
    message = {c.code: c for c in caveats(system, estimate(system))}["replication"].message
    if said is None:
        assert "stop waiting" not in message
    else:
        assert f"at 100 writes/s {said}" in message
