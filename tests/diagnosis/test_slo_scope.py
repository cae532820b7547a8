"""An SLO over all requests follows the workload whose requests are most of those over the
target, and a timeout with no error-rate SLO to hold says so."""

from __future__ import annotations

from tests.diagnosis.advice import HEAD, load, one, run

# 0.5 % of the requests take 300 ms (reports); the rest call db.q, exponential with a 50 ms
# mean, so 995/s × e^(−199/50) ≈ 1.9 % of all requests pass 200 ms through it.
MIXED = HEAD + """components:
  web:
    workers: unlimited
    operations:
      slow: {work: 300ms}
      fast: {work: 1ms, calls: [{to: db.q}]}
  db:
    workers: unlimited
    operations:
      q: {work: {dist: exponential, mean: 50ms}}
workloads:
  - {name: reports, to: web.slow, rate: 5/s}
  - {name: users, to: web.fast, rate: 995/s}
slo: {p99: 200ms}
simulation: {duration: 10s, seed: 1}
"""


def test_an_slo_over_all_requests_follows_the_workload_whose_tail_sets_it() -> None:
    result, found = run(load(MIXED))
    finding = one(found, "slo", "all")
    # Not the slowest workload (reports, all at 300 ms, 0.5 % of the requests): the users
    # whose calls to db.q are most of the requests over 200 ms.
    assert "most of it is db.q" in finding["summary"]
    path = next(e for e in finding["evidence"] if "along the slowest path" in e)
    users_p99 = result["workloads"]["users"]["latency_ms"]["p99"]
    assert "the requests of users" in path and "web.slow" not in path
    assert f"web.fast {round(users_p99)} ms" in path


def test_a_timeout_without_an_error_rate_slo_says_what_it_fails_not_that_one_holds() -> None:
    # The proposed timeout cuts about 2 % of the requests (db.q's calls past it), which
    # fail: the spec has no error-rate SLO, so none "still holds"; the fix says no SLO
    # limits them and that a fallback would answer them.
    _, found = run(load(MIXED))
    fix = one(found, "slo", "all")["fix"]
    assert "error-rate SLO still holds" not in fix["summary"]
    assert "which fail (" in fix["summary"]
    assert "no error-rate SLO limits them; a fallback on the call would answer them" in \
        fix["summary"]
