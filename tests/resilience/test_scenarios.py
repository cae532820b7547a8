"""The stories the resilience mechanisms exist for, each with a measured, asserted outcome."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.kernel.helpers import binomial_bound, call, run

from scalesim.sim import run_kernels, simulate
from scalesim.spec import load_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _goodput_share(result: dict, workload: str) -> float:
    requests = result["workloads"][workload]["requests"]
    return requests["ok"] / requests["total"]


def _whole_run_fault(example: str) -> dict:
    # The slow dependency for the whole window, so every request is measured under it.
    return simulate(load_spec(EXAMPLES / example, ["faults.0.at=0s", "faults.0.for=60s"]))


def test_a_slow_dependency_cascades_into_an_unrelated_operation() -> None:
    unprotected = _whole_run_fault("cascade.yaml")
    # checkout never calls recs, yet the gateway's workers are all held by browse calls.
    assert _goodput_share(unprotected, "buying") < 0.5
    assert unprotected["workloads"]["buying"]["requests"]["failed_by_cause"]["rejected"] > 0


def test_timeout_breaker_and_bulkhead_contain_it() -> None:
    contained = _whole_run_fault("contained.yaml")
    assert _goodput_share(contained, "buying") >= 0.95
    edge = call(contained, "gateway.browse", "recs.get")
    assert edge["bulkhead"]["max_active"] <= 5
    assert edge["circuit_breaker"]["not_permitted"] > 0
    assert contained["workloads"]["browsing"]["requests"]["degraded"] > 0


def test_retries_past_saturation_amplify_load_and_cut_goodput() -> None:
    storm = simulate(load_spec(EXAMPLES / "retry-storm.yaml"))
    calm = simulate(load_spec(EXAMPLES / "retry-storm.yaml",
                              ["components.clients.operations.send.calls.0.retry.attempts=1"]))
    assert call(storm, "clients.send", "api.handle")["amplification"] >= 2.0
    assert storm["goodput_rps"] < calm["goodput_rps"]


def test_a_retry_budget_bounds_the_amplification() -> None:
    budget = "components.clients.operations.send.calls.0.retry.budget"
    bounded = simulate(load_spec(EXAMPLES / "retry-storm.yaml",
                                 [f"{budget}={{ratio: 10%, min_per_s: 0}}"]))
    edge = call(bounded, "clients.send", "api.handle")
    assert edge["amplification"] <= 1.1
    assert edge["retry_budget_exhausted"] > 0


def _fan_out(leaves: int, hedge: bool) -> list:
    branch = {"to": "leaf.lookup", **({"hedge": {"after": "10ms", "max": 1}} if hedge else {})}
    components = {
        "root": {"workers": "unlimited", "operations": {"search": {"calls": [
            {"parallel": {"calls": [branch] * leaves}}]}}},
        "leaf": {"replicas": 10, "workers": "unlimited", "operations": {"lookup": {
            "work": {"dist": "mixture", "of": [{"weight": 0.99, "dist": "1ms"},
                                               {"weight": 0.01, "dist": "1s"}]}}}}}
    import yaml

    from scalesim.spec import load_spec_text
    spec = {"scalesim": 1, "name": "tail", "components": components,
            "workloads": [{"name": "q", "to": "root.search", "rate": "20/s"}],
            "simulation": {"duration": "250s", "seed": 5}}
    return run_kernels(load_spec_text(yaml.safe_dump(spec)))


@pytest.mark.slow
def test_tail_at_scale_and_hedging() -> None:
    plain = _fan_out(100, hedge=False)[0].plan.workloads[0].hist
    slow_share = 1.0 - plain.fraction_at_most(0.5)
    n = plain.count
    expected = 1.0 - 0.99**100  # every one of 100 leaves must be fast
    assert slow_share == pytest.approx(expected, abs=binomial_bound(n, expected))
    hedged = _fan_out(100, hedge=True)[0].plan.workloads[0].hist
    # A hedge is slow only if both attempts are: 1 - (1 - 0.01²)^100 ≈ 1 %.
    assert 1.0 - hedged.fraction_at_most(0.5) < 0.03


def test_outlier_detection_ejects_a_failing_replica() -> None:
    components = {
        "client": {"workers": "unlimited", "operations": {"go": {"calls": [{"to": "svc"}]}}},
        "svc": {"replicas": 5, "workers": "unlimited", "operations": {"op": {"work": "1ms"}}}}
    load = [{"name": "w", "to": "client", "rate": "500/s"}]
    faults = [{"target": "svc[0]", "error_rate": 1.0}]
    without = run(components, load, faults=faults, duration="60s")
    components["svc"]["outlier_detection"] = {"consecutive_5xx": 5, "interval": "1s",
                                              "base_ejection_time": "30s"}
    with_detection = run(components, load, faults=faults, duration="60s")
    assert without["error_rate"] == pytest.approx(0.2, abs=binomial_bound(30000, 0.2))
    # Ejected after 5 errors, back after 30 s, 60 s then (k = 2), ...: a few dozen errors.
    assert with_detection["error_rate"] < 0.005
    assert with_detection["components"]["svc"]["ejections"] >= 1
    assert any(e["event"] == "ejected" and e["replica"] == 0
               for e in with_detection["events"])


def test_a_rate_limits_429s_do_not_eject_the_replica_that_sends_them() -> None:
    """Envoy's consecutive_5xx counts 5xx answers (and local-origin failures), not a 429:
    each replica's bucket admits its burst and then its rate, ejected never. Counted as a
    failure, both replicas took turns being ejected and half the requests were lost."""
    components = {
        "a": {"workers": "unlimited", "operations": {"x": {"calls": [{"to": "b.get"}]}}},
        "b": {"workers": "unlimited", "replicas": 2, "outlier_detection": {},
              "rate_limit": {"rate": "10/s", "scope": "replica"},
              "operations": {"get": {"work": "1ms"}}}}
    result = run(components, [{"name": "w", "to": "a.x", "rate": "200/s",
                               "arrivals": "constant"}], duration="60s")
    assert result["components"]["b"]["ejections"] == 0
    ok = result["requests"]["ok"]
    assert 2 * (10 + 10 * 60) - 4 <= ok <= 2 * (10 + 10 * 60) + 2  # burst + rate × time each


def test_the_ejection_cap_is_a_share_of_the_replicas_after_a_rollout() -> None:
    """After a rollout replaced both replicas, a fault on both ejected both although
    max_ejection_percent is 50 %: the share was taken of the four replicas ever made."""
    components = {
        "a": {"workers": "unlimited", "operations": {"x": {"calls": [{"to": "b.get"}]}}},
        "b": {"workers": "unlimited", "replicas": 2,
              "outlier_detection": {"max_ejection_percent": "50%"},
              "operations": {"get": {"work": "1ms"}},
              "versions": {"v2": {"operations": {"get": {"work": "1ms"}}}},
              "rollout": {"to": "v2", "at": "1s"}}}
    faults = [{"target": "b", "at": "10s", "for": "5s", "error_rate": 1.0}]
    result = run(components, [{"name": "w", "to": "a.x", "rate": "20/s",
                               "arrivals": "constant"}], faults=faults, duration="20s")
    ejected = [e for e in result["events"] if e["event"] == "ejected"]
    assert len(ejected) == 1 and 10.0 < ejected[0]["t_s"] < 15.0, ejected
    assert ejected[0]["replica"] >= 2  # one of the rollout's replicas


def test_readiness_probes_detect_a_crash_within_period_times_threshold() -> None:
    svc = {"replicas": 3, "workers": "unlimited", "operations": {"op": {"work": "1ms"}},
           "health": {"readiness": {"period": "2s", "failure_threshold": 3}}}
    result = run({"svc": svc}, [{"name": "w", "to": "svc", "rate": "300/s"}],
                 faults=[{"target": "svc[1]", "at": "10s", "crash": True}], duration="60s")
    detected = [e["t_s"] for e in result["events"]
                if e["event"] == "not_ready" and e["replica"] == 1]
    assert detected and 10.0 < detected[0] <= 10.0 + 2.0 * 3
    # Only requests sent to the dead replica before it left rotation fail: about a third of
    # at most 6 s of traffic.
    crashed = result["requests"]["failed_by_cause"]["crashed"]
    assert 0 < crashed <= 300 * 6 / 3 * 1.2


def _probed(work: dict, fault: dict) -> dict:
    """api (2 replicas of 2 workers, a readiness probe every 5 s, 2 failures in a row take a
    replica out) at 50/s; `fault` from 10 s."""
    api = {"replicas": 2, "workers": 2, "operations": {"get": work},
           "health": {"readiness": {"period": "5s", "failure_threshold": 2}}}
    db = {"replicas": 2, "workers": "unlimited", "operations": {"q": {"work": "5ms"}}}
    return run({"api": api, "db": db}, [{"name": "w", "to": "api.get", "rate": "50/s"}],
               faults=[{"at": "10s", **fault}], duration="40s")


def _not_ready(result: dict, replica: int) -> list[float]:
    return [e["t_s"] for e in result["events"]
            if e["event"] == "not_ready" and e["replica"] == replica]


def test_readiness_sees_a_replica_slowed_by_a_latency_fault() -> None:
    """api[0]'s work takes 2 s more from 10 s: its 2 workers finish 1 visit a second while 25/s
    arrive, so a probe queued behind them waits far past its 1 s timeout. The probes at 15 s
    and 20 s fail: out of rotation at 20 s (it stayed in rotation throughout when the probe
    judged the wait by the spec's 5 ms of work)."""
    result = _probed({"work": "5ms"}, {"target": "api[0]", "for": "20s", "latency": "+2s"})
    assert _not_ready(result, 0)[:1] == [20.0]
    assert _not_ready(result, 1) == []


def test_readiness_sees_workers_held_by_a_slow_dependency() -> None:
    """db answers 2 s late from 10 s: api's workers are all held waiting on it (its own work
    is 1 ms, all the probe knew). The probe at 15 s is the first to find every worker busy;
    the one at 20 s finds them busy again and measures their hold (2 workers × 5 s / the
    visits finished meanwhile: about 2 s each), so it and the one at 25 s fail and both
    replicas leave rotation at 25 s (never before), one period later than a latency fault on
    the replica itself, whose effect the probe knows at once."""
    result = _probed({"work": "1ms", "calls": [{"to": "db.q"}]},
                     {"target": "db", "latency": "+2s"})
    assert _not_ready(result, 0)[:1] == _not_ready(result, 1)[:1] == [25.0]
