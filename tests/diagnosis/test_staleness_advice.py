"""A cache that serves values older than its own staleness budget (`max_staleness`): the QA
pass measured a third of the reads stale under a 1 s budget, the median stale read 3.2 s
old, and the diagnosis said nothing stands out. The finding now counts the reads past the
budget (`caches.*.stale_over_budget`), says why (the writes against the TTL) and gives the
TTL that keeps every value within the budget, the one lint's SS605 asks for; applied and
simulated again, nothing is past it."""

from __future__ import annotations

import math

import pytest
from tests.diagnosis.advice import load, one, run

from scalesim.diagnosis.finding import count, share
from scalesim.lint import lint_system

# The QA spec: 100 keys read 1,000/s (λ = 10/s a key), written 10/s (w = 0.1/s a key) past
# the cache (write_policy none), entries living T = 10 s, a budget of b = 1 s.
STALE = """
scalesim: 1
name: cache-stale
components:
  app:
    replicas: 1
    workers: unlimited
    operations:
      view: {work: 0.1ms, calls: [{to: catalog.get}]}
      edit: {work: 0.1ms, calls: [{to: catalog.put}]}
  catalog:
    kind: cache
    replicas: 1
    workers: unlimited
    backend: db.read
    caching: {ttl: 10s, writes: [put], write_to: db.write, write_policy: none, max_staleness: 1s}
    operations:
      get: {work: 0.1ms}
      put: {work: 0.1ms}
  db:
    kind: database
    replicas: 1
    workers: unlimited
    operations:
      read: {work: 1ms}
      write: {work: 1ms}
workloads:
  - {name: views, to: app.view, rate: 1000/s, keys: 100}
  - {name: edits, to: app.edit, rate: 10/s, keys: 100}
simulation: {duration: 30s, warmup: 5s, seed: 1}
"""
CACHING = "components.catalog.caching"


def test_reads_past_the_budget_are_a_finding_with_the_ttl_that_keeps_them_within() -> None:
    """An entry loaded at the start of its cycle is stale from the first write X ~ Exp(w) on,
    so a hit at u (uniform over the T) is past the budget when u − X > b: a share
    λT/(1 + λT) × ((T − b) − (1 − e^(−w(T − b)))/w) / T = 0.30 of the reads (per cycle that
    share has a standard deviation of 0.32: 4 of it over the run's cycles bounds it). The fix
    is a TTL of the budget less the longest load, which SS605 no longer warns of; the hit
    ratio it costs is λT'/(1 + λ(T' + L)) ≈ 91 %."""
    system = load(STALE)
    result, found = run(system)
    measured = result["caches"]["catalog"]
    over, reads = measured["stale_over_budget"], measured["reads"]
    lam, ttl, budget, w = 10.0, 10.0, 1.0, 0.1
    expected = lam * ttl / (1 + lam * ttl) * \
        ((ttl - budget) - (1 - math.exp(-w * (ttl - budget))) / w) / ttl
    cycles = reads / (1 + lam * ttl)
    assert round(over / reads, 4) == measured["stale_over_budget_share"]
    assert over / reads == pytest.approx(expected, abs=4 * 0.32 / math.sqrt(cycles))

    finding = one(found, "staleness", "catalog")
    assert finding["severity"] == "problem" and finding["limit"] == "ttl"
    median = measured["staleness_ms"]["p50"] / 1e3
    assert finding["summary"] == (
        f"catalog served {share(over / reads)} of its reads older than its 1 s staleness "
        f"budget ({count(over)} of {count(reads)}); the median stale read was {median:.3g} s "
        "old")
    assert finding["numbers"] == {
        "stale_over_budget": over, "stale_over_budget_share": round(over / reads, 4),
        "stale_read_share": round(measured["stale_reads"] / reads, 4), "max_staleness_s": 1.0,
        "staleness_p50_s": round(median, 4)}
    assert finding["evidence"][1].startswith(
        f"write_policy none: its {count(measured['writes'])} writes")
    assert finding["evidence"][1].endswith("an entry lives 10 s (ttl), 10× the budget "
                                           "(lint SS605)")
    longest = measured["load_ms"]["max"]
    assert longest < 10  # 1 ms of db.read: the TTL is the budget less it, 2 digits down
    assert finding["fix"]["set"] == [f"{CACHING}.ttl=990ms"]
    assert "the hit ratio falls to about 91 %" in finding["fix"]["summary"]
    assert "write_policy: write_through" in finding["fix"]["summary"]
    assert "SS605" in {f.rule for f in lint_system(system)}

    fixed_system = load(STALE, *finding["fix"]["set"])
    fixed, after = run(fixed_system)
    assert after == []
    assert fixed["caches"]["catalog"]["stale_over_budget"] == 0
    assert fixed["caches"]["catalog"]["staleness_ms"]["max"] <= 1000
    assert fixed["caches"]["catalog"]["hit_ratio"] == pytest.approx(10 * 0.99 / (1 + 10 * 0.99),
                                                                   abs=0.01)
    assert "SS605" not in {f.rule for f in lint_system(fixed_system)}


def test_writing_through_the_cache_is_the_other_way() -> None:
    """The alternative the fix names: write-through stores each write's value, so with
    loads of 1 ms nothing is stale, and the TTL keeps its hits."""
    fixed, after = run(load(STALE, f"{CACHING}.write_policy=write_through"))
    assert after == []
    assert fixed["caches"]["catalog"]["stale_reads"] == 0


def test_loads_as_long_as_the_budget_leave_no_ttl_to_set() -> None:
    """Cache-aside with 300 ms loads and a 200 ms budget: a load that read the old value
    before a write stores it after, stale for up to its TTL and the load, so no TTL keeps
    it within the budget: the fix says so and sets nothing."""
    result, found = run(load(STALE, f"{CACHING}.write_policy=invalidate", f"{CACHING}.ttl=1s",
                             f"{CACHING}.max_staleness=200ms",
                             "components.db.operations.read.work=300ms",
                             "workloads.1.rate=50/s"))
    finding = one(found, "staleness", "catalog")
    assert result["caches"]["catalog"]["stale_over_budget"] == finding["numbers"][
        "stale_over_budget"] > 0
    assert finding["limit"] is None and finding["fix"]["set"] == []
    assert finding["fix"]["summary"].startswith("the loads of catalog take up to 300 ms, the "
                                                "200 ms budget or more")


def test_a_cache_without_a_budget_is_not_judged() -> None:
    """Without max_staleness the same staleness is no finding, and the result has no count
    past a budget."""
    result, found = run(load(STALE, f"{CACHING}.max_staleness=null"))
    measured = result["caches"]["catalog"]
    assert measured["stale_read_share"] > 0.3
    assert measured["max_staleness_s"] is None and measured["stale_over_budget"] is None
    assert found == []
