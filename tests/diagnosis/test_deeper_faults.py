"""A fault one hop beyond the calls that failed: database-per-service with slowdown=100
slows product-db ×100 for 10 s, product-service's workers all wait on it, and the
gateway's calls to product-service time out in its queue. The QA pass found the failures
blamed on product-service's "hangs", the fix "keep the timeout", and neither the fault nor
the saturation named. The finding now names both with the run's numbers, and its fix (a
fallback on the failing call) answers the requests when applied."""

from __future__ import annotations

from tests.diagnosis.advice import findings, from_template, one, run

FALLBACK = "components.gateway.operations.products.calls.0.on_failure={fallback: 1ms, " \
    "degraded: true}"


def test_a_slow_database_behind_a_healthy_service_is_named_with_its_saturation() -> None:
    """product-db: 32 workers, 3 ms queries ×100 = 300 ms, so 32 / 0.3 s = 107/s for the
    200/s product-service sends; product-service's 2 × 32 workers all wait on it."""
    result, found = run(from_template("database-per-service", {"slowdown": 100}))
    failed = one(found, "failures", "products")
    assert failed["summary"].endswith(": a fault on product-db held product-service's workers")
    evidence = failed["evidence"]
    assert "fault: latency ×100 on product-db, from 8 s to 18 s" in evidence
    assert ("under it a visit to product-db takes about 300 ms, not 3 ms: its 1 × 32 "
            "workers serve at most 107/s of the 200/s sent to it, at its limit while the "
            "fault lasted") in evidence
    queue_max = result["components"]["product-service"]["queue_max"]
    assert queue_max > 64
    assert any(e.startswith("product-service waits on product-db, and its 64 workers were all "
                            f"taken: its queue reached {queue_max:,}") for e in evidence)
    assert not any("hang" in e for e in evidence)
    assert "keep the timeout" not in failed["fix"]["summary"]
    assert failed["fix"]["summary"].startswith("the fault on product-db causes them, through "
                                               "product-service, which waits on it")
    assert failed["fix"]["set"] == [FALLBACK]
    # Nor does a timeout warning blame product-service's tail, which is the fault's.
    assert not findings(found, "limit")


def test_the_fallback_answers_what_the_fault_failed() -> None:
    """Applied, no request fails; the degraded answers are the fault's, contained as
    designed (seeds 1 and 2)."""
    for seed in (1, 2):
        system = from_template("database-per-service", {"slowdown": 100}, FALLBACK,
                               f"simulation.seed={seed}")
        result, found = run(system)
        assert result["workloads"]["products"]["requests"]["failed"] == 0
        assert not findings(found, "failures")
        degraded = one(found, "degraded", "products")
        assert degraded["summary"].endswith(": a fault on product-db held product-service's "
                                            "workers")
        assert degraded["fix"]["set"] == ["faults=[]"]
