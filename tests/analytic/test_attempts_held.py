"""A timeout or a retry takes the bound a blocking caller's workers put on its callee away
from the analytic estimate (analytic/held.py), so that every level of a chain of
single-worker services gets a station wait, its top calls come out late, and the run
estimate had counted 3 attempts a call, level after level. Where no attempt is late nor
retried the bound holds after all: the run estimate takes the estimate with it
(analytic/attempts.py `HealthyEstimates`), and keeps the plain one where attempts would be
late. Checked against the events the kernel counts, with fixed seeds."""

from __future__ import annotations

import pytest
from tests.analytic.counting import counted
from tests.analytic.test_held_chains import chain as wide_chain
from tests.analytic.test_runtime_retries import EXACT, LEANS_HIGH
from tests.spec.test_bounds import chain

from scalesim.analytic.attempts import HealthyEstimates
from scalesim.analytic.runtime import run_cost, stretches
from scalesim.spec import load_spec_text
from scalesim.spec.model import System

RETRIED = "defaults.calls={retry: {attempts: 3}, timeout: %s}"


def deep(*overrides: str, timeout: str = "1s", length: int = 999, work: str = "1ms"
         ) -> System:
    """`length` services of one worker each, calling the next, at 1 request a second."""
    return load_spec_text(chain(length, work), "chain.yaml", [RETRIED % timeout, *overrides])


def test_the_999_deep_single_worker_chain_with_retries_is_not_a_retry_storm() -> None:
    """c0 holds its one worker for the 999 ms of the chain (ρ = 0.999 at 1/s), so c1 never
    has more than one request and answers in 998 ms, inside its caller's 1 s timeout: the
    kernel makes no retry. The estimate had counted 3 attempts a call at every level (9 to
    13 times the kernel's events); now one (1.05 at seed 1; the arrivals vary a lot, 47 to
    65 requests in 60 s over seeds 1–5)."""
    system = deep("simulation.duration=60s")
    found, cost = counted(system, seed=1), run_cost(system)
    assert found / EXACT <= cost.events <= found * LEANS_HIGH
    assert cost.retry_events == 0.0


def test_the_chain_fed_evenly_is_counted_within_ten_percent() -> None:
    """Constant arrivals take the arrivals' noise away: 1.067 (it was 10.3)."""
    system = deep("simulation.duration=20s", "workloads.0.arrivals=constant")
    found, cost = counted(system, seed=1), run_cost(system)
    assert found / EXACT <= cost.events <= found * EXACT


@pytest.mark.parametrize("balancer", ["least_requests", "round_robin"])
def test_a_chain_of_pools_whose_retries_are_never_steered_keeps_its_bound(balancer: str
                                                                          ) -> None:
    """50 services of 2 × 8 workers at 80 % of the entry, calls timed out after 2 s (the
    chain takes 1 s): a retry steered to another replica would take the pool bound away,
    but none is made. 1.57 (least_requests) and 1.91 (round robin) times the kernel's
    events before, 1.066 now."""
    text = wide_chain(50, balancer, 12.8, work="{dist: exponential, mean: 20ms}",
                      duration="60s")
    system = load_spec_text(text, "chain.yaml", [RETRIED % "2s"])
    found, cost = counted(system, seed=1), run_cost(system)
    assert found / EXACT <= cost.events <= found * EXACT


def test_where_attempts_would_be_late_the_plain_estimate_is_kept() -> None:
    """20 services of 50 ms: c1 answers in 950 ms, past its caller's 500 ms timeout, bound
    or not, so every attempt is late and retried (the kernel's too); the bound is not
    taken, and the estimate stays above the count (1.75)."""
    system = deep("simulation.duration=60s", "workloads.0.rate=0.9/s", timeout="500ms",
                  length=20, work="50ms")
    assert HealthyEstimates(system).bounded is None
    found, cost = counted(system, seed=1), run_cost(system)
    assert found <= cost.events
    (stretch,) = stretches(system, (0.0, 60.0))
    assert stretch.rates["c1.op"] > 2.0  # retried


def test_the_bound_is_dropped_for_a_stretch_whose_faults_make_attempts_late() -> None:
    """A latency fault on c5 for 10 s of 30 makes its callers' attempts late: that
    stretch counts retries, the others none."""
    system = deep("simulation.duration=30s",
                  "faults=[{target: c5, at: 10s, for: 10s, latency: +2s}]", length=50)
    estimates = HealthyEstimates(system)
    assert estimates.bounded is not None and "c5" in estimates.held
    before, during, after = stretches(system, (0.0, 30.0))
    assert before.rates["c5.op"] == pytest.approx(1.0)
    assert during.rates["c5.op"] > 2.0
    assert after.rates["c5.op"] == pytest.approx(1.0)
