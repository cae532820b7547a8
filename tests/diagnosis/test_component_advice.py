"""Component findings whose advice a QA pass applied and found wanting: a retry storm with
no fix, an autoscaler's max raised where its scale-up lagged, a connection pool flagged for
a handful of overflows and sized without a burst margin, and a fix pointing through a
chain of findings. Each fix, applied, clears what it was for."""

from __future__ import annotations

import math
import re
from typing import Any

from tests.diagnosis.advice import load, one, run

from scalesim.diagnosis import diagnose
from scalesim.diagnosis.components import refused_share
from scalesim.sim import simulate

STORM = {
    "scalesim": 1, "name": "storm",
    "components": {
        "front": {"kind": "gateway", "replicas": 2, "workers": "unlimited", "operations": {
            "go": {"calls": [{"to": "api.handle", "timeout": "150ms", "retry": {
                "attempts": 4, "backoff": "none", "jitter": "none"}}]}}},
        "api": {"replicas": 2, "workers": 10, "queue": 200, "operations": {
            "handle": {"work": {"dist": "exponential", "mean": "20ms"}}}}},
    "workloads": [{"name": "users", "to": "front.go", "rate": "800/s"}],
    "faults": [{"target": "api", "at": "8s", "for": "2s", "latency": "x3"}],
    "simulation": {"duration": "30s", "warmup": "2s", "seed": 1},
}
CALL = "components.front.operations.go.calls.0"


def test_retries_that_multiply_the_load_into_saturation_get_a_retry_budget() -> None:
    """A 2 s slowdown starts a storm: 4 attempts with no backoff keep api's 2 × 10 workers
    of 20 ms refusing long after it (80 % of the requests failed), though the 800/s sent
    keep them 80 % busy. More replicas are not needed: the fix is a retry budget on the
    call that retried, the largest whole percent r that keeps (1 + r) × api's utilization
    without retries (800/s × 20 ms / 20 workers = 0.8) under 85 % busy: 6 %, the same the
    failures finding proposes; applied, most requests are answered, where a jittered
    exponential backoff alone leaves the storm."""
    result, found = run(load(STORM))
    assert result["error_rate"] > 0.5
    api = one(found, "saturated", "api")
    ratio = math.floor(100 * (0.85 / (800 * 0.020 / 20) - 1))
    assert api["fix"]["set"] == [f"{CALL}.retry.budget={{ratio: {ratio}%, min_per_s: 0}}"]
    assert "front.go→api.handle" in api["fix"]["summary"]
    assert run(load(STORM, *api["fix"]["set"]))[0]["error_rate"] < 0.15
    backoff = (f"{CALL}.retry.backoff=exponential", f"{CALL}.retry.jitter=full")
    assert run(load(STORM, *backoff))[0]["error_rate"] > 0.5


HPA = {
    "scalesim": 1, "name": "hpa",
    "components": {
        "lb": {"kind": "gateway", "replicas": 2, "workers": "unlimited", "operations": {
            "req": {"calls": [{"to": "app.serve", "timeout": "2s"}]}}},
        "app": {"replicas": 2, "workers": 8, "queue": 50, "startup": "10s",
                "autoscale": {"min": 2, "max": 3, "metrics": [{"cpu": "70%"}]},
                "operations": {"serve": {"work": {"dist": "exponential", "mean": "20ms"}}}}},
    "workloads": [{"name": "traffic", "to": "lb.req", "rate": "300/s", "profile": [
        {"at": "0s", "rate": "300/s"}, {"at": "20s", "rate": "1500/s", "ramp": "linear"},
        {"at": "40s", "rate": "1500/s"}]}],
    "simulation": {"duration": "60s", "warmup": "0s", "seed": 1},
}


def test_refusals_while_the_fleet_scaled_up_raise_its_min_with_its_max() -> None:
    """A ramp to 1,500/s on 8 workers of 20 ms autoscaled 2–3: refusals at max, and a notable
    share while fewer than 3 were ready (start-up 10 s). A higher max alone (the fix before)
    left 22 % failed, the fleet reaching 5 only at 45 s; the fix raises min with it, both to
    the peak's ⌈1500 × 20 ms / (8 × 0.85)⌉ = 5, and applied nearly nothing fails."""
    system = load(HPA)
    result = simulate(system, with_series=True)
    app = one(diagnose(system, result), "saturated", "app")
    assert any("as well as at its max" in line for line in app["evidence"])
    assert app["fix"]["set"] == ["components.app.autoscale.min=5",
                                 "components.app.autoscale.max=5"]
    assert run(load(HPA, *app["fix"]["set"]))[0]["error_rate"] < 0.01


POOL = {
    "scalesim": 1, "name": "pool",
    "components": {
        "web": {"kind": "gateway", "replicas": 2, "workers": 64, "operations": {"page": {
            "work": "1ms", "calls": [{"to": "api.get", "timeout": "1s"}]}}},
        "api": {"replicas": 4, "workers": 32,
                "connection_pool": {"max_connections": 4, "max_pending_requests": 16},
                "operations": {"get": {"work": {"dist": "exponential", "mean": "20ms"}}}}},
    "workloads": [{"name": "users", "to": "web.page", "rate": "800/s"}],
    "simulation": {"duration": "20s", "warmup": "2s", "seed": 1},
}


def _pool_finding(seed: int, connections: int) -> list[dict[str, Any]]:
    """The connection-pool findings of POOL over 60 s with `connections`, each asserted
    to stand for 0.1 % or more of the calls."""
    result, found = run(load(POOL, "simulation.duration=60s", f"simulation.seed={seed}",
                             f"components.api.connection_pool.max_connections={connections}"))
    found = [f for f in found if f["limit"] == "connection_pool"]
    refused = result["components"]["api"]["connection_pool"]["overflow"] \
        / result["calls"][0]["attempts"]
    assert bool(found) == (refused >= 0.001)
    return found


def test_a_connection_pool_is_sized_for_the_bursts_of_its_calls() -> None:
    """400/s a web replica at about 20 ms: about 8 calls in flight for 4 connections. The
    fix is the fewest connections, with the 16 pending places, whose M/M/c/K loss is under
    0.1 %, as a bulkhead is sized (more than the mean's 8 / 0.85); applied over 60 s with
    other seeds, the pool makes no finding."""
    pool = one(run(load(POOL))[1], "limit", "api")
    offered = pool["numbers"]["needed_in_flight"]
    needed = next(c for c in range(1, 100) if refused_share(offered, c, c + 16) < 0.001)
    assert needed > math.ceil(offered / 0.85)
    assert pool["fix"]["set"] == [f"components.api.connection_pool.max_connections={needed}"]
    assert _pool_finding(2, needed) == _pool_finding(3, needed) == []


def test_a_few_overflows_of_a_connection_pool_are_no_finding() -> None:
    """With 10 connections (sized from the mean before) seed 2 overflowed 41 times of some
    48,000 calls, under the 0.1 % a bulkhead's refusals need to make a finding, as do a
    pool's now (before, any overflow did)."""
    assert _pool_finding(2, 10) == []


TTL = {
    "scalesim": 1, "name": "ttl",
    "components": {
        "api": {"replicas": 2, "workers": 64, "operations": {"product": {
            "work": "1ms", "calls": [{"to": "cache.get", "timeout": "500ms"}]}}},
        "cache": {"kind": "cache", "replicas": 2, "workers": 64, "backend": "db.select",
                  "caching": {"ttl": "200ms", "stampede": "coalesce"},
                  "operations": {"get": {"work": "0.3ms"}}},
        "db": {"kind": "database", "replicas": 1, "workers": 16, "queue": 200,
               "operations": {"select": {"work": {"dist": "exponential", "mean": "8ms"}}}}},
    "workloads": [{"name": "shoppers", "to": "api.product", "rate": "3000/s",
                   "keys": {"count": 20000, "skew": 0.8},
                   "slo": {"p99": "100ms", "error_rate": "1%"}}],
    "simulation": {"duration": "20s", "warmup": "2s", "seed": 1},
}


def test_a_wait_through_a_chain_points_at_the_root_finding_with_its_set() -> None:
    """api waits on cache, which waits on db at its limit. api's saturated finding and the
    SLO finding relieve db, the root, with db's own fix and its set, said once (before:
    "relieve cache first (relieve db first (see its finding): …)" with no set); applied,
    nothing is left to find."""
    _, found = run(load(TTL))
    db = one(found, "saturated", "db")
    assert db["fix"]["set"]
    for finding in (one(found, "saturated", "api"), one(found, "slo", "shoppers")):
        assert finding["fix"]["set"] == db["fix"]["set"]
        assert finding["fix"]["summary"].startswith(
            f"relieve db first ({db['fix']['summary']}), which cache waits on: ")
        assert not re.search(r"relieve \w+ first \(relieve", finding["fix"]["summary"])
    assert run(load(TTL, *db["fix"]["set"]))[1] == []
