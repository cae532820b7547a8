"""Each kind of finding on a small system whose answer is known: the limit named, the
numbers, and a fix that clears it when applied."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
import yaml

from scalesim.analytic import erlang_b
from scalesim.diagnosis import diagnose
from scalesim.sim import simulate
from scalesim.spec import System, load_spec_text
from scalesim.templates.registry import get_template


def _system(components: dict[str, Any], workloads: list[dict[str, Any]],
            overrides: tuple[str, ...] = (), faults: list[dict[str, Any]] | None = None,
            **simulation: Any) -> System:
    spec = {"scalesim": 1, "name": "t", "components": components, "workloads": workloads,
            "faults": faults or [], "simulation": {"duration": "30s", "seed": 1, **simulation}}
    return load_spec_text(yaml.safe_dump(spec, sort_keys=False), "t.yaml", overrides)


def _found(system: System) -> list[dict[str, Any]]:
    return diagnose(system, simulate(system))


def _kinds(found: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(f["kind"], f["subject"]) for f in found}


ONE_WORKER = {"workers": 1, "operations": {"op": {"work": f"{1000 / 173:.6f}ms"}}}


def test_an_overloaded_server_is_saturated_with_a_growing_queue_and_an_overload() -> None:
    # 225/s evenly spaced to one worker serving 173/s: the queue grows 52/s.
    system = _system({"s": ONE_WORKER}, [{"name": "w", "to": "s", "rate": "225/s",
                                          "arrivals": "constant"}])
    found = _found(system)
    assert _kinds(found) == {("saturated", "s"), ("overload", "w")}
    saturated = next(f for f in found if f["kind"] == "saturated")
    assert saturated["limit"] == "workers"
    assert saturated["numbers"]["queue_growth_rps"] == pytest.approx(52, abs=0.5)
    replicas = math.ceil(225 / 173 / 0.85)
    assert saturated["fix"]["set"] == [f"components.s.replicas={replicas}"]
    overload = next(f for f in found if f["kind"] == "overload")
    assert overload["numbers"]["offered_rps"] == pytest.approx(225, abs=0.1)
    assert overload["numbers"]["throughput_rps"] == pytest.approx(173, abs=0.1)
    assert _found(_system({"s": ONE_WORKER}, [{"name": "w", "to": "s", "rate": "225/s",
                                               "arrivals": "constant"}],
                          tuple(saturated["fix"]["set"]))) == []


@pytest.mark.parametrize("seed", [2, 3, 4, 5])
def test_requests_in_flight_at_the_end_of_a_short_window_are_no_overload(seed: int) -> None:
    """200/s on unlimited workers whose work has a median of 200 ms and a p99 of 4 s, for
    10 s: about 95 requests (λ × the mean latency, Little's law) are in flight at the end
    and answered during the drain, with nothing busy. That is the window's edge: the
    saga-orchestration template run for 10 s was told 'the system did not keep up' (QA)."""
    work = {"dist": "lognormal", "median": "200ms", "p99": "4s"}
    system = _system({"api": {"workers": "unlimited", "operations": {"op": {"work": work}}}},
                     [{"name": "w", "to": "api", "rate": "200/s"}], duration="10s",
                     warmup="2s", seed=seed)
    assert not [f for f in _found(system) if f["kind"] == "overload"]


def test_a_bucket_refusing_a_random_stream_under_its_rate_is_given_tokens() -> None:
    """96/s of Poisson arrivals against 100/s with 10 tokens: 3.7 % refused, the bursts.
    The fix said 'raise api.rate_limit.rate from 100/s to 98/s'; it raises the burst to
    what refuses under half a percent of a Poisson stream (the finite dam), and applied,
    the run refuses under 1 %, so nothing is found."""
    api = {"workers": 4, "rate_limit": {"rate": "100/s", "burst": 10},
           "operations": {"op": {"work": "5ms"}}}
    workloads = [{"name": "w", "to": "api", "rate": "100/s"}]
    limit = next(f for f in _found(_system({"api": api}, workloads, duration="30s"))
                 if f["kind"] == "limit")
    [setting] = limit["fix"]["set"]
    assert setting.startswith("components.api.rate_limit.burst=")
    assert 10 < int(setting.split("=")[1]) <= 1000
    fixed = _found(_system({"api": api}, workloads, (setting,), duration="30s"))
    assert not [f for f in fixed if f["kind"] == "limit"]


def test_a_rate_limit_that_refuses_is_named_with_the_rate_that_admits_the_traffic() -> None:
    gateway = {"workers": "unlimited", "rate_limit": {"rate": "100/s", "burst": 1},
               "operations": {"op": {"work": "1ms"}}}
    system = _system({"gw": gateway}, [{"name": "w", "to": "gw", "rate": "200/s",
                                        "arrivals": "constant"}])
    found = _found(system)
    limit = next(f for f in found if f["kind"] == "limit")
    assert limit["limit"] == "rate_limit" and limit["subject"] == "gw"
    assert limit["numbers"]["refused_rps"] == pytest.approx(100, abs=1)
    assert limit["fix"]["set"] == ["components.gw.rate_limit.rate=200/s"]
    assert ("failures", "w") in _kinds(found)  # half the requests fail: rate_limited
    fixed = _found(_system({"gw": gateway}, [{"name": "w", "to": "gw", "rate": "200/s",
                                              "arrivals": "constant"}],
                           tuple(limit["fix"]["set"])))
    assert fixed == []


def test_a_connection_pool_too_small_for_healthy_traffic_is_sized_by_littles_law() -> None:
    # 200 calls/s from one caller replica, 50 ms each: 10 in flight; a pool of 4 overflows.
    # Sized as a bulkhead is: the fewest connections M/M/c/K (no pending places: Erlang B)
    # says refuse under 0.1 % of 10 erlangs.
    caller = {"workers": "unlimited", "operations": {"go": {"calls": [
        {"to": "slow", "on_failure": "continue"}]}}}
    slow = {"workers": "unlimited", "connection_pool": {"max_connections": 4,
                                                         "max_pending_requests": 0},
            "operations": {"op": {"work": "50ms"}}}
    load = [{"name": "w", "to": "gw", "rate": "200/s", "arrivals": "constant"}]
    found = _found(_system({"gw": caller, "slow": slow}, load))
    pool = next(f for f in found if f["kind"] == "limit")
    assert pool["limit"] == "connection_pool"
    assert pool["numbers"]["needed_in_flight"] == pytest.approx(10, rel=0.02)
    connections = next(c for c in range(1, 100) if erlang_b(c, 10.0) < 0.001)
    assert connections == 21
    assert pool["fix"]["set"] == [
        f"components.slow.connection_pool.max_connections={connections}"]
    assert _found(_system({"gw": caller, "slow": slow}, load, tuple(pool["fix"]["set"]))) == []


def test_a_busy_leader_is_sized_by_its_workers_not_by_replicas() -> None:
    """Only the elected leader serves: 3,720/s evenly spaced at 1 ms on its 4 workers keep
    it 93 % busy (over the 90 % of a hot component) while the 3 replicas average 31 %. More
    replicas add nothing; 5 workers run the leader at 74 % (under the 85 % target)."""
    leader = {"replicas": 3, "workers": 4, "operations": {"op": {"work": "1ms"}},
              "leader_election": {"type": "lease"}}
    load = [{"name": "w", "to": "s", "rate": "3720/s", "arrivals": "constant"}]
    found = _found(_system({"s": leader}, load))
    (finding,) = found
    assert (finding["kind"], finding["subject"], finding["limit"]) == ("saturated", "s",
                                                                       "workers")
    assert finding["severity"] == "warning"
    assert finding["numbers"]["replica_utilization"] == pytest.approx(0.93, abs=1e-3)
    assert finding["numbers"]["utilization"] == pytest.approx(0.31, abs=1e-3)
    assert finding["fix"]["set"] == ["components.s.workers=5"]
    assert _found(_system({"s": leader}, load, tuple(finding["fix"]["set"]))) == []


def test_a_hot_key_on_a_hashing_balancer_is_named_and_replicas_are_not_the_fix() -> None:
    """Keys Zipf-skewed (10 keys, exponent 3: the hottest is 83 % of the requests) on a
    balancer that hashes them: the hot key's replica is saturated while the component
    idles, and the finding points at the keys, not at more replicas."""
    svc = {"replicas": 4, "workers": 4, "balancer": "hash",
           "operations": {"op": {"work": {"dist": "exponential", "mean": "1ms"}}}}
    load = [{"name": "w", "to": "s", "rate": "4000/s", "keys": {"count": 10, "skew": 3}}]
    found = _found(_system({"s": svc}, load))
    finding = next(f for f in found if f["kind"] == "saturated")
    # the set applies the balancer the prose names (if requests need not stick to a key)
    assert finding["subject"] == "s" and \
        finding["fix"]["set"] == ["components.s.balancer=least_requests"]
    assert finding["numbers"]["replica_utilization"] >= 0.97
    assert finding["numbers"]["utilization"] < 0.5
    assert any("hashes each request's key" in line for line in finding["evidence"])


def test_a_ring_s_uneven_arcs_flag_a_replica_of_a_busy_component() -> None:
    """Unique keys on a ring of 2 replicas: one owns 62.4 % of the 48,000 a 300 s run sends
    (spec/hashring.py). At 160/s on 10 ms it is about 99 % busy where the component is 80 %:
    a ratio of 1.25 at most, which the ratio rule alone missed at 98 %, but a twentieth of
    the component's idle time. The evidence names the ring's share, not hot keys (there are
    none)."""
    svc = {"replicas": 2, "workers": 1, "balancer": "hash",
           "operations": {"op": {"work": {"dist": "exponential", "mean": "10ms"}}}}
    found = _found(_system({"s": svc}, [{"name": "w", "to": "s", "rate": "160/s"}],
                           duration="300s"))
    finding = next(f for f in found if f["kind"] == "saturated")
    assert finding["subject"] == "s" and finding["numbers"]["replica"] == 0
    assert finding["numbers"]["replica_utilization"] >= 0.95
    assert finding["numbers"]["utilization"] == pytest.approx(0.8, abs=0.02)
    assert any("gives replica 0 62 % of them" in line for line in finding["evidence"])
    assert "least_requests" in finding["fix"]["summary"]


def test_the_ring_s_share_counts_only_the_workloads_that_reach_the_component() -> None:
    """A second workload of 3 keys, sent to another hash-balanced component, weighed in the
    ring's share of `s` by its rate: replica 0 was said to get 34 % of the keys, where the
    only workload reaching `s` gives it 62 % (the test above)."""
    svc = {"replicas": 2, "workers": 1, "balancer": "hash",
           "operations": {"op": {"work": {"dist": "exponential", "mean": "10ms"}}}}
    other = {"replicas": 2, "workers": "unlimited", "balancer": "hash",
             "operations": {"op": {"work": "1ms"}}}
    load = [{"name": "w", "to": "s", "rate": "160/s"},
            {"name": "x", "to": "t", "rate": "1000/s", "keys": {"count": 3}}]
    found = _found(_system({"s": svc, "t": other}, load, duration="300s"))
    finding = next(f for f in found if f["kind"] == "saturated" and f["subject"] == "s")
    assert any("gives replica 0 62 % of them" in line for line in finding["evidence"])


def test_a_flash_crowd_on_an_autoscaled_fleet_raises_its_min_not_its_replicas() -> None:
    """100/s, then 1,200/s at once for a minute, on 4-worker replicas holding 10 ms with a
    queue of 20 and a 20 s start-up: from 1 replica the autoscaler needs several syncs, and
    the full queues refuse meanwhile. Spec replicas would be scaled back to min before the
    crowd; min = 1200 × 10 ms / (4 × 0.85) = 3.5 → 4 replicas serve it from the start."""
    web = {"replicas": 1, "workers": 4, "queue": 20, "startup": "20s",
           "operations": {"op": {"work": "10ms"}},
           "autoscale": {"min": 1, "max": 10, "metrics": [{"cpu": "50%"}]}}
    load = [{"name": "w", "to": "web", "rate": "100/s",
             "profile": [{"at": "0s", "rate": "100/s"}, {"at": "60s", "rate": "1200/s"},
                         {"at": "120s", "rate": "100/s"}]}]
    found = _found(_system({"web": web}, load, duration="150s"))
    finding = next(f for f in found if f["kind"] == "saturated")
    assert finding["subject"] == "web" and finding["limit"] == "workers"
    assert finding["fix"]["set"] == ["components.web.autoscale.min=4"]
    assert any("never reached its max of 10" in line for line in finding["evidence"])
    fixed = _found(_system({"web": web}, load, tuple(finding["fix"]["set"]), duration="150s"))
    assert not [f for f in fixed if f["subject"] == "web"]


def test_a_failover_the_callers_felt_is_told_with_the_visits_it_refused() -> None:
    """A Raft leader crashed at 10 s: until the others elect one, every request to the
    elected component is refused unavailable, so the refusals are Poisson with mean
    λ × the time without a leader (1,000/s here; within 4 σ). Without the crash there is no
    failover and nothing to tell."""
    kv = {"replicas": 3, "workers": 64, "operations": {"get": {"work": "1ms"}},
          "leader_election": {"type": "raft"}}
    load = [{"name": "w", "to": "kv.get", "rate": "1000/s"}]
    crash = [{"target": "kv[0]", "at": "10s", "crash": True}]
    system = _system({"kv": kv}, load, faults=crash)
    result = simulate(system)
    found = diagnose(system, result)
    (finding,) = [f for f in found if f["kind"] == "failover"]
    entry = result["elections"]["kv"]
    refused = finding["numbers"]["refused_no_leader"]
    assert finding["subject"] == "kv" and refused == entry["refused_no_leader"]
    expected = 1000.0 * entry["leaderless_s"]
    assert abs(refused - expected) <= 4 * math.sqrt(expected)
    # etcd's 1 s timeout is 10 of its 100 ms heartbeats: none shorter is offered.
    assert "the election timeout (1 s) is 10 heartbeats or less already" in \
        finding["fix"]["summary"]
    assert finding["fix"]["set"] == []
    assert ("failures", "w") in _kinds(found)  # no retry: those requests failed
    assert not [f for f in _found(_system({"kv": kv}, load)) if f["kind"] == "failover"]


def test_a_healthy_system_has_nothing_to_report() -> None:
    svc = {"workers": 8, "operations": {"op": {"work": {"dist": "exponential",
                                                         "mean": "10ms"}}}}
    assert _found(_system({"s": svc}, [{"name": "w", "to": "s", "rate": "300/s"}])) == []


def test_a_missed_workload_slo_is_traced_to_the_slowest_step_of_its_path() -> None:
    from pathlib import Path

    from scalesim.spec import load_spec

    shop = load_spec(Path(__file__).parents[2] / "examples" / "shop.yaml")
    found = _found(shop)
    slo = [f for f in found if f["kind"] == "slo"]
    assert [f["subject"] for f in slo] == ["shoppers"]  # browsers and all traffic meet theirs
    assert slo[0]["numbers"]["actual_ms"] > slo[0]["numbers"]["target_ms"] == 400
    assert slo[0]["evidence"][0].startswith(
        "p99 along the slowest path (the requests of shoppers, at its entry, then each call "
        "over its calls): gateway.checkout ")
    assert "→ orders.create " in slo[0]["evidence"][0]
    # payments.charge's p99 is over its calls, not the requests (which it can exceed)
    assert slo[0]["summary"].endswith(f"most of it is payments.charge (p99 of its calls "
                                      f"{slo[0]['numbers']['slowest_ms']:.3g} ms)")


def _slo_met(system: System) -> bool:
    return all(check["met"] for check in simulate(system)["slo"]["checks"])


def test_a_missed_slo_set_by_a_slow_call_gets_a_timeout_that_meets_it_when_applied() -> None:
    """shop's shoppers miss their p99 of 400 ms on the wait for payments.charge (lognormal,
    p99 600 ms, under a 2 s timeout): the fix is a timeout on that call, the target less the
    ~50 ms the path spends elsewhere, whose cut-off calls its fallback answers; applied,
    every SLO holds."""
    from pathlib import Path

    from scalesim.spec import load_spec

    shop = Path(__file__).parents[2] / "examples" / "shop.yaml"
    (slo,) = [f for f in _found(load_spec(shop)) if f["kind"] == "slo"]
    (fix,) = slo["fix"]["set"]
    prefix = "components.orders.operations.create.calls.1.timeout="
    assert fix.startswith(prefix)
    assert 300 <= int(fix.removeprefix(prefix).removesuffix("ms")) < 400
    assert "which its fallback answers" in slo["fix"]["summary"]
    assert _slo_met(load_spec(shop, (fix,)))


SLOW_CALL = {"api": {"workers": "unlimited", "operations": {"get": {
                 "work": "2ms", "calls": [{"to": "db.read"}, {"to": "ext.call"}]}}},
             "db": {"workers": "unlimited", "operations": {"read": {"work": "5ms"}}},
             "ext": {"kind": "external", "operations": {"call": {"work": {
                 "dist": "lognormal", "median": "40ms", "p99": "400ms"}}}}}


@pytest.mark.parametrize(("error_rate", "fails"), [("10%", True), ("1%", False)])
def test_a_timeout_for_a_slow_call_is_sized_from_the_target_and_says_what_it_cuts_off(
        error_rate: str, fails: bool) -> None:
    """A call to a lognormal external (median 40 ms, p99 400 ms) with no timeout sets a
    p99 of ~400 ms against an SLO of 200 ms. The timeout proposed is the target less the
    path's other 7 ms (its own work, the 5 ms read), rounded down: 190 ms, which cuts off
    ~6 % of the calls (5.8 % for this lognormal). With an error-rate SLO of 10 % they may
    fail; with 1 % the set gives the call a fallback too. Either way, applied, every SLO
    holds."""
    slo = ("slo.p99=200ms", f"slo.error_rate={error_rate}")
    load = [{"name": "w", "to": "api.get", "rate": "100/s"}]
    (finding,) = [f for f in _found(_system(SLOW_CALL, load, slo)) if f["kind"] == "slo"]
    assert finding["summary"].endswith(
        f"most of it is ext.call (p99 of its calls {finding['numbers']['slowest_ms']:.3g} ms)")
    call = "components.api.operations.get.calls.1"
    fallback = [] if fails else [f"{call}.on_failure={{fallback: 1ms, degraded: true}}"]
    assert finding["fix"]["set"] == [f"{call}.timeout=190ms", *fallback]
    cut = float(finding["fix"]["summary"].split("cuts off about ")[1].split(" %")[0])
    assert cut == pytest.approx(5.8, abs=1.5)
    assert ("a fallback answers them" in finding["fix"]["summary"]) is not fails
    fixed = _system(SLOW_CALL, load, (*slo, *finding["fix"]["set"]))
    assert _slo_met(fixed)


def test_a_fault_that_starts_after_the_window_is_not_cited() -> None:
    from pathlib import Path

    from scalesim.diagnosis.context import Run
    from scalesim.spec import load_spec

    shop = Path(__file__).parents[2] / "examples" / "shop.yaml"
    whole = Run(load_spec(shop), {})
    assert [f.target for f in whole.faults_on("payments")] == ["payments"]  # 40 s < 65 s
    # 5 s warm-up + 20 s ends at 25 s, before the fault's 40 s: it never struck.
    short = load_spec(shop, ("simulation.duration=20s",))
    assert Run(short, {}).faults_on("payments") == []
    # One that started inside the window and outlasts it still counts.
    assert Run(load_spec(shop, ("simulation.duration=40s",)), {}).faults_on("payments")


@pytest.mark.slow
def test_the_shortened_shop_diagnosis_leaves_the_later_fault_out() -> None:
    from pathlib import Path

    from scalesim.spec import load_spec

    short = load_spec(Path(__file__).parents[2] / "examples" / "shop.yaml",
                      ("simulation.duration=20s",))
    found = _found(short)
    assert found and not any("fault" in line for f in found for line in f["evidence"])


def two_leaders(name: str, components: dict[str, Any], workloads: list[dict[str, Any]],
                faults: list[dict[str, Any]], overrides: tuple[str, ...], replications: int = 1,
                ) -> tuple[float, list[dict[str, Any]]]:
    """100 s of `components` with `faults`: `name`'s time with two leaders, and the
    diagnosis."""
    system = _system(components, workloads, overrides, faults, duration="100s",
                     replications=replications)
    result = simulate(system)
    return result["elections"][name]["split_brain_s"], diagnose(system, result)


def test_a_leader_paused_past_its_lease_is_two_leaders_shrunk_by_the_least_renew_deadline(
        ) -> None:
    """Kubernetes' defaults (15 s / 10 s / 2 s) and a 30 s pause of the leader: replaced
    meanwhile, it leads on for renew_deadline (10 s) once it runs again. The fix's setting,
    the least renew_deadline client-go allows (above 1.2 × 2 s: 2.5 s), shrinks that to
    2.5 s; only a fencing token (the application's) removes it."""
    components = {"ctl": {"replicas": 3, "workers": 100,
                          "operations": {"reconcile": {"work": "1ms"}},
                          "leader_election": {"type": "lease"}}}
    workloads = [{"name": "w", "to": "ctl.reconcile", "rate": "20/s"}]
    pause = [{"target": "ctl[0]", "at": "20s", "for": "1000s",
              "pause": {"every": "1000s", "for": "30s"}}]

    def split(overrides: tuple[str, ...] = ()) -> tuple[float, list[dict[str, Any]]]:
        return two_leaders("ctl", components, workloads, pause, overrides)

    seconds, found = split()
    (finding,) = [f for f in found if f["kind"] == "split_brain"]
    assert seconds == 10.0 and finding["subject"] == "ctl" and finding["limit"] == "lease"
    assert finding["severity"] == "problem"
    assert finding["summary"].startswith("ctl: two replicas acted as leader for 10.0 s (1 time)")
    assert "fencing token" in finding["fix"]["summary"]
    assert finding["fix"]["set"] == ["components.ctl.leader_election.renew_deadline=2500ms"]
    assert any("pauses of 30 s" in line for line in finding["evidence"])
    shrunk, found = split(tuple(finding["fix"]["set"]))
    assert shrunk == 2.5
    (again,) = [f for f in found if f["kind"] == "split_brain"]
    assert again["fix"]["set"] == []  # nothing shorter is allowed: fencing, or a longer lease


def test_a_pause_cut_short_by_its_fault_window_is_told_at_its_real_length() -> None:
    """A 60 s pause in a 25 s fault window lasts 25 s (the pause ends with the window): the
    evidence and the longer lease the fix names say 25 s, not the pause's own 60 s."""
    components = {"ctl": {"replicas": 3, "workers": 100,
                          "operations": {"reconcile": {"work": "1ms"}},
                          "leader_election": {"type": "lease"}}}
    workloads = [{"name": "w", "to": "ctl.reconcile", "rate": "20/s"}]
    pause = [{"target": "ctl[0]", "at": "20s", "for": "25s",
              "pause": {"every": "1000s", "for": "60s"}}]
    seconds, found = two_leaders("ctl", components, workloads, pause, ())
    (finding,) = [f for f in found if f["kind"] == "split_brain"]
    assert seconds == 10.0
    assert any("pauses of 25 s" in line for line in finding["evidence"])
    assert "above the longest pause (25 s)" in finding["fix"]["summary"]


def test_a_raft_leader_cut_off_without_check_quorum_is_told_to_turn_it_on() -> None:
    """Raft without CheckQuorum, its leader cut off from the others from 20 s to 50 s:
    it leads beside the new leader until the cut heals, about 28 s. The fix turns
    CheckQuorum on (as etcd always does), which ends the second leader within two election
    timeouts (2 s with etcd's); fencing and ReadIndex stay the remedy for what is left."""
    components = {"etcd": {"replicas": 3, "workers": 100,
                           "operations": {"put": {"work": "1ms"}},
                           "leader_election": {"type": "raft", "check_quorum": False}}}
    workloads = [{"name": "w", "to": "etcd.put", "rate": "20/s"}]
    cut = [{"target": "etcd[0]", "at": "20s", "for": "30s", "partition": {"with": "etcd"}}]

    def split(overrides: tuple[str, ...] = ()) -> tuple[float, list[dict[str, Any]]]:
        return two_leaders("etcd", components, workloads, cut, overrides)

    seconds, found = split()
    (finding,) = [f for f in found if f["kind"] == "split_brain"]
    assert 30.0 - 2.0 - 0.01 < seconds <= 30.0 - 1.0 + 0.11
    assert "cut off from the others" in finding["summary"]
    assert "until the cut healed" in finding["summary"]
    assert "ReadIndex" in finding["fix"]["summary"]
    assert finding["fix"]["set"] == ["components.etcd.leader_election.check_quorum=true"]
    assert any("partition" in line for line in finding["evidence"])
    shrunk, found = split(tuple(finding["fix"]["set"]))
    assert shrunk <= 2.0
    for again in (f for f in found if f["kind"] == "split_brain"):
        assert again["fix"]["set"] == []  # what is left is fencing's and ReadIndex's


def test_a_lease_cut_off_from_the_api_server_is_told_to_stop_before_a_takeover() -> None:
    """A 3 s lease with RenewDeadline 2.5 s and RetryPeriod 1 s, the holder cut off from the
    API server at 20 s: in some of 20 replications a candidate takes the lease (3 s after
    the last renewal) before the holder gives up (3.5 s after it). The fix is the longest
    RenewDeadline that stops the holder first, lease_duration − retry_period = 2 s: then no
    replication has two leaders."""
    components = {"ctl": {"replicas": 3, "workers": 100,
                          "operations": {"reconcile": {"work": "1ms"}},
                          "leader_election": {"type": "lease", "lease_duration": "3s",
                                              "renew_deadline": "2.5s", "retry_period": "1s"}}}
    workloads = [{"name": "w", "to": "ctl.reconcile", "rate": "20/s"}]
    cut = [{"target": "ctl[0]", "at": "20s", "for": "10s", "partition": {"with": "ctl"}}]
    seconds, found = two_leaders("ctl", components, workloads, cut, (), replications=20)
    (finding,) = [f for f in found if f["kind"] == "split_brain"]
    assert seconds > 0 and "cut off from the API server" in finding["summary"]
    assert finding["fix"]["set"] == ["components.ctl.leader_election.renew_deadline=2000ms"]
    assert any("partition" in line for line in finding["evidence"])
    fixed, found = two_leaders("ctl", components, workloads, cut, tuple(finding["fix"]["set"]),
                               replications=20)
    assert fixed == 0.0 and not [f for f in found if f["kind"] == "split_brain"]



CHAIN = {"api": {"replicas": 2, "workers": 32,
                 "operations": {"get": {"work": "1ms",
                                        "calls": [{"to": "db.query", "timeout": "2s"}]}}},
         "db": {"replicas": 1, "workers": 8,
                "operations": {"query": {"work": {"dist": "exponential", "mean": "10ms"}}}}}


def test_a_component_behind_saturated_callers_is_sized_for_the_demand_offered() -> None:
    """api's 64 workers wait on db, which serves 800/s: only 801/s reach db while the
    workload offers 2,000/s. Sized for what arrived (2 replicas) db stays saturated; sized
    for the offered 2,000/s, 2000 × 10 ms / (8 × 0.85) = 2.9 → 3 replicas, and nothing is
    left to find."""
    load = [{"name": "reads", "to": "api.get", "rate": "2000/s"}]
    found = _found(_system(CHAIN, load, duration="10s"))
    db = next(f for f in found if f["kind"] == "saturated" and f["subject"] == "db")
    assert db["fix"]["set"] == [f"components.db.replicas={math.ceil(2000 * 0.01 / (8 * 0.85))}"]
    assert "sized for the 2,000/s the workloads offer" in db["fix"]["summary"]
    assert any("its callers (api) are at their limit" in line for line in db["evidence"])
    assert _found(_system(CHAIN, load, tuple(db["fix"]["set"]), duration="10s")) == []


def _mmc_sojourn_quantile(rate: float, mean_s: float, servers: int, q: float) -> float:
    """The q-quantile of an M/M/c FCFS sojourn: no wait with probability 1 − C (Erlang C),
    else an exponential wait at rate cμ − λ; then the exponential service."""
    from scalesim.analytic.markovian import erlang_c

    mu = 1.0 / mean_s
    theta = servers * mu - rate
    waits = erlang_c(servers, rate * mean_s)

    def tail(t: float) -> float:
        both = (theta * math.exp(-mu * t) - mu * math.exp(-theta * t)) / (theta - mu)
        return (1.0 - waits) * math.exp(-mu * t) + waits * both

    low, high = 0.0, 10.0
    for _ in range(100):
        low, high = (low, (low + high) / 2) if tail((low + high) / 2) <= 1.0 - q \
            else ((low + high) / 2, high)
    return high


def test_a_latency_slo_missed_for_queueing_is_sized_with_erlang_c() -> None:
    """330/s on 4 workers of exponential 10 ms (ρ 0.83) misses a p99 of 60 ms by queueing,
    not by a callee (it has none): the fix is the fewest workers whose M/M/c sojourn p99 is
    under 60 ms (5: 49.7 ms), and applied, the SLO is met."""
    svc = {"workers": 4, "operations": {"op": {"work": {"dist": "exponential",
                                                         "mean": "10ms"}}}}
    load = [{"name": "w", "to": "svc.op", "rate": "330/s"}]
    found = _found(_system({"svc": svc}, load, ("slo.p99=60ms",)))
    (slo,) = [f for f in found if f["kind"] == "slo"]
    assert slo["limit"] == "workers"
    workers = next(c for c in range(4, 10)
                   if _mmc_sojourn_quantile(330, 0.01, c, 0.99) <= 0.060)
    assert workers == 5
    assert slo["fix"]["set"] == [f"components.svc.workers={workers}"]
    assert _found(_system({"svc": svc}, load, ("slo.p99=60ms", *slo["fix"]["set"]))) == []


def test_a_latency_slo_missed_on_busy_cores_is_sized_by_replicas() -> None:
    """1,200/s of 4 ms CPU on 2 replicas × 2 cores offers 4.8 cores of 4: the CPU, not a
    callee, takes the time. 3 replicas (80 % of 6 cores) meet a p99 of 100 ms."""
    api = {"replicas": 2, "workers": 32, "cores": 2,
           "operations": {"get": {"cpu": {"dist": "exponential", "mean": "4ms"},
                                  "wait": "5ms"}}}
    load = [{"name": "reads", "to": "api.get", "rate": "1200/s"}]
    found = _found(_system({"api": api}, load, ("slo.p99=100ms",), duration="10s"))
    (slo,) = [f for f in found if f["kind"] == "slo"]
    assert slo["limit"] == "cores"
    assert slo["fix"]["set"] == [f"components.api.replicas={math.ceil(1200 * 0.004 / 2)}"]
    fixed = _found(_system({"api": api}, load, ("slo.p99=100ms", *slo["fix"]["set"]),
                           duration="10s"))
    assert fixed == []


def test_refusals_while_an_autoscaler_scaled_up_are_not_fixed_by_its_max() -> None:
    """1,500/s from the start on 2 replicas × 4 workers of 10 ms, autoscaled up to 4 with a
    20 s start-up: the full queues refuse until the new replicas serve, then 4 keep up (94 %
    busy; M/M/4/84 refuses 0.03 %). A higher max changes nothing; starting with the
    replicas the load needs, 1500 × 10 ms / (4 × 0.85) → 5 (max raised to match), leaves
    nothing to find. Told alike from the time series and, without one, from M/M/c/K."""
    web = {"replicas": 2, "workers": 4, "queue": 80, "startup": "20s",
           "operations": {"op": {"work": {"dist": "exponential", "mean": "10ms"}}},
           "autoscale": {"min": 2, "max": 4, "metrics": [{"cpu": "50%"}]}}
    load = [{"name": "w", "to": "web", "rate": "1500/s"}]
    system = _system({"web": web}, load, duration="60s")
    fixes = []
    for with_series in (True, False):
        found = diagnose(system, simulate(system, with_series=with_series))
        finding = next(f for f in found if f["kind"] == "saturated")
        assert any("while it scaled up, not at its max" in line for line in finding["evidence"])
        fixes.append(finding["fix"]["set"])
    replicas = math.ceil(1500 * 0.010 / (4 * 0.85))
    assert fixes[0] == fixes[1] == [f"components.web.replicas={replicas}",
                                    f"components.web.autoscale.max={replicas}"]
    assert _found(_system({"web": web}, load, tuple(fixes[0]), duration="60s")) == []


def _mmck_loss(offered: float, servers: int, room: int) -> float:
    """Erlang's loss for M/M/c/K: P(all `room` places taken), by PASTA."""
    weights = [1.0]
    for n in range(1, room + 1):
        weights.append(weights[-1] * offered / min(n, servers))
    return weights[-1] / sum(weights)


def test_a_bulkhead_is_sized_for_the_bursts_of_its_calls_not_their_mean() -> None:
    """100 calls/s of 20 ms keep about 2 in flight; a thread pool of 2 with 2 waiting
    places refuses 23 % (M/M/2/4), and 3 threads, the mean's size, still 8 % — which is a
    pool too small, not slow answers (there are none). The fix is the fewest threads that
    M/M/c/K says refuse under 0.1 %, and applied, nothing is refused worth a finding."""
    def system(size: int, overrides: tuple[str, ...] = ()) -> System:
        gateway = {"workers": 32, "operations": {"recs": {"work": "1ms", "calls": [
            {"to": "recs.get", "timeout": "500ms",
             "bulkhead": {"type": "threadpool", "size": size, "queue": 2},
             "on_failure": {"fallback": "1ms", "degraded": True}}]}}}
        recs = {"replicas": 2, "workers": "unlimited",
                "operations": {"get": {"work": {"dist": "exponential", "mean": "20ms"}}}}
        return _system({"gw": gateway, "recs": recs},
                       [{"name": "w", "to": "gw.recs", "rate": "100/s"}], overrides,
                       duration="20s")

    found = _found(system(2))
    (pool,) = [f for f in found if f["limit"] == "bulkhead"]
    offered = pool["numbers"]["needed_in_flight"]
    assert offered == pytest.approx(100 * 0.020, rel=0.05)  # the calls of a Poisson stream
    threads = next(c for c in range(1, 50) if _mmck_loss(offered, c, c + 2) < 0.001)
    assert threads == 7
    assert pool["fix"]["set"] == [f"components.gw.operations.recs.calls.0.bulkhead.size={threads}"]
    (mean_sized,) = [f for f in _found(system(3)) if f["limit"] == "bulkhead"]
    assert mean_sized["severity"] == "problem" and "slowly" not in mean_sized["summary"]
    assert _found(system(2, tuple(pool["fix"]["set"]))) == []


def test_a_timeout_below_the_callees_p99_is_named_though_retries_answer_the_requests(
) -> None:
    """The retry-backoff template with a 20 ms timeout on a dependency whose p99 is about
    37 ms, run for 10 s: about 12 % of the attempts time out and are retried, so under 1 %
    of the requests fail and 'nothing stood out' (QA). The finding names the timeout; its
    fix is 1.5× the callee's measured p99, and with it under 1 % of the attempts time out."""
    text = get_template("retry-backoff").build({}).text
    timeout = "components.client.operations.fetch.calls.0.timeout"
    system = load_spec_text(text, "rb.yaml", (f"{timeout}=20ms", "simulation.duration=10s"))
    result = simulate(system)
    (found,) = [f for f in diagnose(system, result) if f["limit"] == "timeout"]
    (call,) = result["calls"]
    assert found["numbers"]["timeout_share"] == pytest.approx(
        call["timeouts"] / call["attempts"], abs=1e-4)
    assert call["timeouts"] / call["attempts"] > 0.05
    assert result["requests"]["failed"] / result["requests"]["total"] < 0.01
    p99 = result["components"]["dependency"]["operations"]["get"]["latency_ms"]["p99"]
    assert found["fix"]["set"] == [f"{timeout}={math.ceil(1.5 * p99)}ms"]
    fixed = load_spec_text(text, "rb.yaml", (*found["fix"]["set"], "simulation.duration=10s"))
    (after,) = simulate(fixed)["calls"]
    assert after["timeouts"] / after["attempts"] < 0.01


def test_a_backend_behind_a_coalescing_cache_is_sized_for_the_misses_it_will_get() -> None:
    """caching-strategies with a 200 ms TTL on 2 × 20 workers of products, 10 s: its loads
    take about 200 ms, so the cache's coalesced misses wait on them and only about 2,045/s
    reach products where the workloads offer about 2,355/s. Sized for the 2,045/s, the fix
    predicted 67 % busy and a run with it measured 77 % (QA); sized for the offered rate,
    the prediction is what the run with the fix measures."""
    text = get_template("caching-strategies").build({}).text
    overrides = ("components.catalog.caching.ttl=200ms", "components.products.workers=20",
                 "simulation.duration=10s", "simulation.warmup=2s")
    system = load_spec_text(text, "cs.yaml", overrides)
    (found,) = [f for f in _found(system) if f["subject"] == "products"]
    expected = float(re.search(r"expect about (\d+) %", found["fix"]["summary"])[1]) / 100
    fixed = load_spec_text(text, "cs.yaml", (*overrides, *found["fix"]["set"]))
    busy = simulate(fixed)["components"]["products"]["utilization"]
    assert busy == pytest.approx(expected, abs=0.03)
