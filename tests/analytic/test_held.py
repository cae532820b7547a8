"""A component reached only by synchronous calls from blocking callers whose workers are no
more than its own never waits (analytic/held.py), and deep call chains are estimated without
recursion: a chain of single-worker services is then an M/D/1 queue at its entry and
nothing below."""

from __future__ import annotations

import pytest
from tests.spec.test_bounds import chain

from scalesim.analytic.estimate import Model
from scalesim.analytic.held import unqueued_components
from scalesim.spec import load_spec_text

TWO_TIERS = """
scalesim: 1
name: t
components:
  api:
    replicas: 2
    workers: 4
    operations:
      get: {{work: 1ms, calls: [{{to: db.query{call}}}]}}
  db:
    workers: {db_workers}
    operations:
      query: {{work: 2ms}}
workloads:
  - {{name: w, to: api.get, rate: 100/s}}
{extra}
"""


def two_tiers(db_workers: int = 8, call: str = "", extra: str = "",
              overrides: tuple[str, ...] = ()) -> set[str]:
    text = TWO_TIERS.format(db_workers=db_workers, call=call, extra=extra)
    return unqueued_components(load_spec_text(text, overrides=list(overrides)))


def test_md1_at_the_entry_of_a_single_worker_chain() -> None:
    """100 services of one worker each, 1 ms of work: c0 holds its worker for 100 ms, so it
    is an M/D/1 queue at ρ = 0.1 (wait ρS/2(1−ρ)) and the 99 below it never queue, since only
    c0's one worker can wait on c1, c1's on c2, and so on. The simulation gives
    105.49 ms (95 % CI 105.24–105.75, 4 × 2,000 s); each level's own wait made it unstable."""
    estimate = Model(load_spec_text(chain(100))).evaluate()
    latency = estimate.workloads["w"].latency
    assert latency is not None
    service, rho = 0.1, 0.1
    assert latency.mean == pytest.approx(service + rho * service / (2 * (1 - rho)), rel=1e-6)
    assert all(estimate.components[f"c{i}"].state.mean_wait_s == 0.0 for i in range(1, 100))


def test_a_thousand_deep_chain_is_estimated_without_recursion() -> None:
    """Half a request a second into a 1 s chain: M/D/1 at ρ = 0.5 at c0, 1.5 s in all, and
    every request succeeds (the success of each call is known before its caller's)."""
    estimate = Model(load_spec_text(chain(1000).replace("rate: 1/s", "rate: 0.5/s"))).evaluate()
    workload = estimate.workloads["w"]
    assert workload.latency is not None and workload.latency.mean == pytest.approx(1.5, rel=1e-6)
    assert workload.success == 1.0


def test_callers_workers_bound_the_callee() -> None:
    """api's 2 × 4 = 8 workers can wait on db at once: no more than db's 8, so db never
    queues; with 7 it can."""
    assert two_tiers(db_workers=8) == {"db"}
    assert two_tiers(db_workers=7) == set()


@pytest.mark.parametrize(("call", "extra"), [
    (", timeout: 50ms", ""),  # an attempt given up on keeps db's worker
    (", hedge: {after: 5ms}", ""),
    (", async: true", ""),
    ("", "  - {name: direct, to: db.query, rate: 1/s}"),  # arrivals that no worker holds
    ("", "faults:\n  - {target: api, at: 1s, crash: true}"),  # orphans a crash leaves
])
def test_what_lets_requests_outnumber_the_callers_workers(call: str, extra: str) -> None:
    assert two_tiers(call=call, extra=extra) == set()


def test_a_parallel_group_counts_its_branches_and_must_wait_for_all() -> None:
    both = "components.api.operations.get.calls=[{parallel: {calls: [{to: db.query}, " \
           "{to: db.query}]%s}}]"
    assert two_tiers(db_workers=16, overrides=(both % "",)) == {"db"}
    assert two_tiers(db_workers=15, overrides=(both % "",)) == set()
    assert two_tiers(db_workers=16, overrides=(both % ", wait_for: any",)) == set()
