"""Refusals that come with a fault: one slowed replica's full queue while the component has
room (named, with the fault, and kept off by least-requests balancing; no retry budget, no
workers), a whole component's slowdown (a warning), a hot shard's balancer fix as a `--set`,
and an autoscaled component's fix that does not depend on `--out`. Fixes are applied and
simulated again."""

from __future__ import annotations

import json
from pathlib import Path

from tests.diagnosis.advice import HEAD, SLOW_REPLICA, SLOW_RETRY, load, one, run
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.diagnosis.context import Run, slowed_replica
from scalesim.sim import simulate

# api at ρ = 800/s × 20 ms / (2 × 10) = 0.8, slowed ×3 for 2 s; a 6 % retry budget and a
# fallback contain it (12-storm after both its fixes).
STORM = """
scalesim: 1
name: storm
components:
  front:
    kind: gateway
    replicas: 2
    workers: unlimited
    operations:
      go:
        calls:
          - to: api.handle
            timeout: 150ms
            retry: {attempts: 4, backoff: none, jitter: none, budget: {ratio: 6%, min_per_s: 0}}
            on_failure: {fallback: 1ms, degraded: true}
  api:
    replicas: 2
    workers: 10
    queue: 200
    operations:
      handle: {work: {dist: exponential, mean: 20ms}}
workloads:
  - {name: users, to: front.go, rate: 800/s}
faults:
  - {target: api, at: 8s, for: 2s, latency: x3}
simulation: {duration: 30s, warmup: 2s}
"""

HOT_SHARD = """
scalesim: 1
name: hot-shard
components:
  edge:
    kind: gateway
    replicas: 2
    workers: unlimited
    operations:
      read:
        calls:
          - {to: profiles.get, timeout: 500ms}
  profiles:
    replicas: 6
    workers: 4
    queue: 50
    balancer: hash
    operations:
      get: {work: {dist: exponential, mean: 8ms}}
workloads:
  - {name: readers, to: edge.read, rate: 2000/s, keys: {count: 2000, skew: 1.3}}
simulation: {duration: 10s, warmup: 2s}
"""

# A ramp from 300/s to 1,500/s on 8 workers of 20 ms, autoscaled 2–3 with a 10 s start-up.
HPA = """
scalesim: 1
name: hpa-max-low
components:
  lb:
    kind: gateway
    replicas: 2
    workers: unlimited
    operations:
      req:
        calls:
          - {to: app.serve, timeout: 2s}
  app:
    replicas: 2
    workers: 8
    queue: 50
    startup: 10s
    autoscale: {min: 2, max: 3, metrics: [{cpu: 70%}]}
    operations:
      serve: {work: {dist: exponential, mean: 20ms}}
workloads:
  - name: traffic
    to: lb.req
    rate: 300/s
    profile: [{at: 0s, rate: 300/s}, {at: 20s, rate: 1500/s, ramp: linear}, {at: 40s, rate: 1500/s}]
simulation: {duration: 60s, warmup: 0s}
"""


def test_a_slowed_replica_is_named_with_its_fault_and_kept_off_by_balancing() -> None:
    result, found = run(load(SLOW_REPLICA))
    assert result["error_rate"] > 0.1  # round robin sends api[0] its third all along
    api = one(found, "saturated", "api")
    assert api["limit"] == "fault" and api["severity"] == "problem"
    assert "api[0]" in api["summary"]
    assert any("latency ×8 on api[0], from 6 s to 21 s" in e for e in api["evidence"])
    assert api["numbers"]["replica"] == 0
    assert api["fix"]["set"] == ["components.api.balancer=least_requests"]
    fixed, _ = run(load(SLOW_REPLICA, *api["fix"]["set"]))
    assert fixed["error_rate"] < 0.01  # measured 0.4 %


def test_requests_sent_straight_to_a_slowed_replica_point_at_the_same_fix() -> None:
    """A workload sent to api itself (no gateway): its failures finding took the fault's
    removal (`faults=[]`) beside the saturated finding's least_requests, two fixes for the
    one cause (docs/results.md: one cause, one fix). Both now give the balancer."""
    gateway = SLOW_REPLICA[SLOW_REPLICA.index("  gw:"):SLOW_REPLICA.index("  api:")]
    result, found = run(load(SLOW_REPLICA.replace(gateway, ""), "workloads.0.to=api.get"))
    assert result["error_rate"] > 0.01
    balancer = ["components.api.balancer=least_requests"]
    assert one(found, "saturated", "api")["fix"]["set"] == balancer
    assert one(found, "failures", "users")["fix"]["set"] == balancer


def test_the_slowed_replica_is_the_results_busiest_and_its_estimate_the_fallback() -> None:
    system = load(SLOW_REPLICA)
    result = simulate(system)
    busiest = result["components"]["api"]["busiest_replica"]
    slowed = slowed_replica(Run(system, result), "api")
    # Measured per replica, the result names api[0], and the diagnosis takes its number.
    assert slowed is not None and slowed.replica == busiest["replica"] == 0
    assert slowed.measured and slowed.utilization == busiest["utilization"]
    # Where the result names another replica, the estimate: all 16 workers busy for the
    # 15 s of the fault, healthy for the other 10 s.
    elsewhere = {**result, "components": {**result["components"], "api": {
        **result["components"]["api"], "busiest_replica": {**busiest, "replica": 1}}}}
    estimated = slowed_replica(Run(system, elsewhere), "api")
    healthy = result["components"]["api"]["throughput_rps"] / 3 * 0.015 / 16
    assert estimated is not None and not estimated.measured
    assert abs(estimated.utilization - (15 + 10 * healthy) / 25) < 1e-9


def test_a_slowed_replica_with_an_unbounded_queue_runs_hot_and_is_kept_off() -> None:
    # The fault to the end, no queue bound: api[0] is all busy from 3 s on (97 % over the
    # window), nothing is refused.
    hot = ("faults.0={target: 'api[0]', at: 3s, latency: x8}", "components.api.queue=null")
    result, found = run(load(SLOW_REPLICA, *hot))
    assert result["error_rate"] > 0.2
    api = one(found, "saturated", "api")
    assert api["numbers"]["replica"] == 0 and api["numbers"]["replica_utilization"] > 0.9
    assert any("slowed by a fault" in e for e in api["evidence"])
    assert api["fix"]["set"] == ["components.api.balancer=least_requests"]
    fixed, _ = run(load(SLOW_REPLICA, *hot, *api["fix"]["set"]))
    assert fixed["error_rate"] < 0.01  # measured 0.7 %


def test_no_retry_budget_for_a_component_with_room() -> None:
    # After a retry (round 1), the retries multiplied api's load ×1.2 with api 38 % busy.
    _, found = run(load(SLOW_REPLICA, SLOW_RETRY))
    api = one(found, "saturated", "api")
    assert api["limit"] == "fault"
    assert all("retry.budget" not in s for f in found if f["fix"] for s in f["fix"]["set"])
    assert api["fix"]["set"] == ["components.api.balancer=least_requests"]


def test_refusals_only_under_a_whole_component_fault_are_a_warning() -> None:
    _, found = run(load(STORM))
    api = one(found, "saturated", "api")
    assert api["severity"] == "warning" and api["limit"] == "fault"
    assert any("came with the fault: latency ×3 on api, from 8 s to 10 s" in e
               for e in api["evidence"])


def test_a_hot_shards_balancer_fix_has_its_set() -> None:
    _, found = run(load(HOT_SHARD))
    profiles = one(found, "saturated", "profiles")
    assert profiles["fix"]["set"] == ["components.profiles.balancer=least_requests"]
    fixed, _ = run(load(HOT_SHARD, *profiles["fix"]["set"]))
    assert fixed["error_rate"] < 0.01


def test_plain_simulate_gives_the_autoscale_fix_that_out_gives(tmp_path: Path) -> None:
    spec = tmp_path / "hpa.yaml"
    spec.write_text(HPA)
    plain = CliRunner().invoke(app, ["simulate", str(spec), "--json", "--quiet"])
    assert plain.exit_code == 0, plain.output
    result = json.loads(plain.stdout)
    assert "timeseries" not in result
    app_fix = one(result["diagnosis"], "saturated", "app")["fix"]
    assert app_fix["set"] == ["components.app.autoscale.min=5",
                              "components.app.autoscale.max=5"]


BACKLOGGED = HEAD + """components:
  api:
    replicas: 3
    workers: 1
    operations:
      get: {work: 6ms}
workloads:
  - {name: w, to: api.get, rate: 150/s, arrivals: constant}
faults:
  - {target: "api[1]", at: 0s, latency: x5}
simulation: {duration: 20s, warmup: 1s, seed: 1}
"""


def test_a_slowed_replica_is_offered_what_it_was_sent_not_what_it_finished() -> None:
    # Round robin sends api[1] 50/s of 30 ms visits: 1.5 erlangs for its one worker, which
    # finishes only 33/s while its queue grows; the evidence counted finished visits
    # (133/s over 3 replicas: "44/s offered it 1.33 erlangs").
    _, found = run(load(BACKLOGGED))
    api = one(found, "saturated", "api")
    assert any("its 50/s offered it 1.5 erlangs for 1 worker," in e for e in api["evidence"])
