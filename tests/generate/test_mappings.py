"""The spec's numbers land in the generated config, mapped as docs/generate.md states."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tests.generate.helpers import (
    OPTIONS,
    ROOT,
    SHOP,
    SMALL,
    by_kind,
    documents,
    generate,
    system,
)

from scalesim.generate import GeneratedFile, Target, render
from scalesim.generate.envoy import retry_on, route_timeout_s
from scalesim.generate.kong import limit_windows, rounding_note
from scalesim.generate.naming import go_duration, whole_seconds
from scalesim.generate.resources import resources_for
from scalesim.spec import load_spec_text
from scalesim.spec.model import Call
from scalesim.spec.resilience import RateLimit
from scalesim.templates import TEMPLATES


def objects(target: Target, overrides: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return documents(generate(SMALL, target, overrides))


def route_from(service: dict[str, Any], caller: str) -> dict[str, Any]:
    return next(r for r in service["spec"]["http"] if r["name"] == f"from-{caller}")


def test_changed_numbers_appear_in_the_generated_config() -> None:
    changed = ("components.api.replicas=5",
               "components.edge.operations.get.calls.0.timeout=250ms",
               "components.edge.operations.get.calls.0.deadline=2s",
               "components.edge.operations.get.calls.0.retry.attempts=4",
               "components.api.outlier_detection.consecutive_5xx=9",
               "components.api.operations.read.calls.1.circuit_breaker.failure_rate=35%")
    k8s = objects(Target.K8S, changed)
    istio = objects(Target.ISTIO, changed)
    assert by_kind(k8s, "Deployment")["api"]["spec"]["replicas"] == 5
    route = route_from(by_kind(istio, "VirtualService")["api"], "edge")
    assert route["timeout"] == "2s"
    assert route["retries"]["perTryTimeout"] == "250ms"
    assert route["retries"]["attempts"] == 3
    rule = by_kind(istio, "DestinationRule")["api"]
    assert rule["spec"]["trafficPolicy"]["outlierDetection"]["consecutive5xxErrors"] == 9
    settings = by_kind(k8s, "ConfigMap")["api-settings"]["data"]["component.json"]
    assert '"failure_rate":0.35' in settings
    assert by_kind(objects(Target.ARGO, changed), "Rollout")["api"]["spec"]["replicas"] == 5


def test_route_timeout_without_deadline_covers_every_try_and_envoys_backoff() -> None:
    """The sidecar retries, so the waits are Envoy's (25 ms base, 250 ms max, retry n
    below min(max, base·2^(n−1))), whatever back-off the spec gives. Shop: orders.create
    800 ms per try, 2 tries, the retry waits below 25 ms -> 1.625 s. A call of 4 tries of
    200 ms with a 1 ms base and 2 ms max still waits up to 25 + 50 + 100 ms in the mesh:
    975 ms, not 806 ms (which would cut the last try short)."""
    route = route_from(by_kind(documents(generate(SHOP, Target.ISTIO)),
                               "VirtualService")["orders"], "gateway")
    assert route["timeout"] == "1625ms"
    fast = {"to": "x.op", "timeout": "200ms",
            "retry": {"attempts": 4, "base": "1ms", "max": "2ms"}}
    assert route_timeout_s(Call.model_validate(fast)) == pytest.approx(0.975)
    step = {"to": "x.op", "timeout": "1s", "retry": {"attempts": 4, "base": "1s", "max": "1h"}}
    assert route_timeout_s(Call.model_validate(step)) == pytest.approx(4.175)
    step["retry"].update(jitter="decorrelated", max="10s")  # type: ignore[attr-defined]
    assert route_timeout_s(Call.model_validate(step)) == pytest.approx(4.175)
    many = {"to": "x.op", "timeout": "1s", "retry": {"attempts": 7}}  # capped at 250 ms
    assert route_timeout_s(Call.model_validate(many)) == pytest.approx(
        7.0 + 0.025 + 0.05 + 0.1 + 0.2 + 0.25 + 0.25)
    assert route["retries"] == {"attempts": 1, "perTryTimeout": "800ms", "retryOn": (
        "5xx,gateway-error,reset,connect-failure,refused-stream,unavailable,503")}


def test_calls_without_retry_disable_istio_default_retries() -> None:
    service = by_kind(documents(generate(SHOP, Target.ISTIO)), "VirtualService")["payments"]
    assert all(route["retries"] == {"attempts": 0} for route in service["spec"]["http"])


SINGLE_TRY = """
scalesim: 1
name: single
components:
  a:
    operations:
      x:
        work: 1ms
        calls: [{to: b.y, timeout: 100ms, deadline: 250ms%s}]
  b:
    operations:
      y: {work: 1ms}
workloads: [{name: w, to: a.x, rate: 1/s}]
"""


@pytest.mark.parametrize("retry", [
    "",                                                       # no retry
    ", retry: {attempts: 1}",
    ", retry: {attempts: 3, max_concurrent: 0}",              # no retry can start
    ", retry: {attempts: 3, on: [circuit_open]}",             # no cause the proxy sees
])
def test_a_route_that_does_not_retry_is_bounded_by_the_calls_timeout(retry: str) -> None:
    """With the Istio routes the service leaves its per-try timeout to the sidecar
    (SCALESIM_RETRIES=mesh); a route making one try has no perTryTimeout, so its own timeout
    must be the try's: min(100 ms timeout, 250 ms deadline)."""
    files = render(load_spec_text(SINGLE_TRY % retry), [Target.K8S, Target.ISTIO], OPTIONS)
    route = route_from(by_kind(documents(files), "VirtualService")["b"], "a")
    assert route["retries"] == {"attempts": 0}
    assert route["timeout"] == "100ms"
    env = by_kind(documents(files), "Deployment")["a"]["spec"]["template"]["spec"][
        "containers"][0]["env"]
    assert {"name": "SCALESIM_RETRIES", "value": "mesh"} in env


def test_a_retrying_route_keeps_the_deadline_and_a_per_try_timeout() -> None:
    files = render(load_spec_text(SINGLE_TRY % ", retry: {attempts: 3}"), Target.ISTIO,
                   OPTIONS)
    route = route_from(by_kind(documents(files), "VirtualService")["b"], "a")
    assert (route["timeout"], route["retries"]["perTryTimeout"]) == ("250ms", "100ms")
    assert route["retries"]["attempts"] == 2


@pytest.mark.parametrize(("causes", "expected"), [
    (["error"], "5xx"),
    (["timeout"], "gateway-error,reset"),
    (["unavailable"], "connect-failure,refused-stream,unavailable"),
    (["rejected", "overflow"], "refused-stream,503"),
    (["rate_limited"], "429"),
    (["circuit_open", "bulkhead_full"], ""),
])
def test_retry_causes_map_to_envoy_conditions(causes: list[str], expected: str) -> None:
    assert retry_on(causes) == expected


def test_connection_pool_folds_in_bulkheads_and_retry_caps() -> None:
    rules = by_kind(objects(Target.ISTIO), "DestinationRule")
    assert rules["api"]["spec"]["trafficPolicy"]["connectionPool"] == {
        "tcp": {"maxConnections": 12},
        "http": {"http1MaxPendingRequests": 1, "http2MaxRequests": 12}}
    assert rules["store"]["spec"]["trafficPolicy"]["connectionPool"] == {
        "http": {"maxRetries": 4}}
    unbulked = by_kind(objects(Target.ISTIO, (
        "components.edge.operations.get.calls.0.bulkhead.max_concurrent=500",)),
        "DestinationRule")["api"]["spec"]["trafficPolicy"]["connectionPool"]
    assert unbulked["tcp"] == {"maxConnections": 100}
    assert unbulked["http"]["http2MaxRequests"] == 200


def test_outlier_detection_and_balancer() -> None:
    policy = by_kind(objects(Target.ISTIO), "DestinationRule")["api"]["spec"]["trafficPolicy"]
    assert policy["outlierDetection"] == {"consecutive5xxErrors": 7, "interval": "5s",
                                          "baseEjectionTime": "15s", "maxEjectionPercent": 33}
    assert policy["loadBalancer"] == {"simple": "LEAST_REQUEST"}


def test_a_resilience4j_breaker_is_noted_not_invented() -> None:
    rule = by_kind(objects(Target.ISTIO), "DestinationRule")["vendor"]
    assert "outlierDetection" not in rule["spec"]["trafficPolicy"]
    assert "circuit_breaker" in rule["metadata"]["annotations"]["scalesim.io/not-mapped"]


def test_faults_become_istio_fault_injection_with_windows_noted() -> None:
    chaos = [d for f in generate(SMALL, Target.ISTIO) if "/chaos/" in f.path
             for d in documents([f])]
    assert [d["metadata"]["name"] for d in chaos] == ["api"]   # sql speaks TCP: no HTTP fault
    route = chaos[0]["spec"]["http"][0]
    assert route["fault"] == {"delay": {"fixedDelay": "40ms", "percentage": {"value": 100.0}},
                              "abort": {"httpStatus": 503, "percentage": {"value": 100.0}}}
    notes = chaos[0]["metadata"]["annotations"]
    assert notes["scalesim.io/fault-windows"].startswith("api at 10s for 5s; api at 30s")
    assert "single replica" in notes["scalesim.io/not-mapped"]
    shop = [d for f in generate(SHOP, Target.ISTIO) if "/chaos/" in f.path
            for d in documents([f])]
    assert shop[0]["spec"]["http"][0]["fault"] == {
        "abort": {"httpStatus": 503, "percentage": {"value": 60.0}}}


ONE_REPLICA = """
scalesim: 1
name: pods
components:
  a:
    operations:
      x: {work: 1ms, calls: [{to: b.y}, {to: db.q}]}
  b:
    replicas: 3
    operations:
      y: {work: 1ms}
  db:
    kind: database
    operations:
      q: {work: 1ms}
workloads: [{name: w, to: a.x, rate: 1/s}]
faults:
  - {target: "b[0]", at: 4s, error_rate: 100%}
  - {target: b, at: 8s, pause: {every: 1s, for: 100ms}}
  - {target: db, at: 4s, latency: +5ms}
"""


def test_faults_no_route_can_inject_get_no_chaos_file_and_the_readme_says_why() -> None:
    """A chaos file for a fault on one replica (or a pause) would be the normal
    VirtualService, injecting nothing; like a TCP component's faults, it gets no file, and
    the README names a pod-level tool instead of telling the user to apply it."""
    files = render(load_spec_text(ONE_REPLICA), Target.ISTIO, OPTIONS)
    assert not [f.path for f in files if "/chaos/" in f.path]
    readme = next(f.content for f in files if f.path == "README.md")
    assert "kubectl apply -f istio/chaos/" not in readme
    assert ("- b: b[0]: a single replica cannot be targeted by a route; "
            "b pause: no Istio fault for it\n") in readme
    assert "- db: Istio has no TCP fault injection\n" in readme
    assert "Chaos Mesh" in readme
    injectable = ONE_REPLICA.replace('"b[0]"', "b")
    chaos = [f for f in render(load_spec_text(injectable), Target.ISTIO, OPTIONS)
             if "/chaos/" in f.path]
    assert [f.path for f in chaos] == ["istio/chaos/b.yaml"]
    assert documents(chaos)[0]["spec"]["http"][0]["fault"] == {
        "abort": {"httpStatus": 503, "percentage": {"value": 100.0}}}


EXPERIMENTS = """
scalesim: 1
name: experiments
components:
  front:
    operations:
      x: {work: 1ms, calls: [{to: back.y}, {to: jobs.publish}]}
  back:
    operations:
      y: {work: 1ms}
  jobs:
    kind: queue
    consumers: [{to: worker.z}]
  worker:
    operations:
      z: {work: 1ms}
workloads: [{name: w, to: front.x, rate: 1/s}]
faults:
  - {target: front, at: 4s, error_rate: 50%}
  - {target: back, at: 4s, latency: +5ms}
  - {target: worker, at: 4s, latency: x5}
"""


def test_a_component_no_request_reaches_gets_no_chaos_file() -> None:
    """worker takes queue deliveries only: no route carries a request to it, so its
    VirtualService would inject nothing (as cqrs's projector, fed by its event store)."""
    files = render(load_spec_text(EXPERIMENTS), Target.ISTIO, OPTIONS)
    assert [f.path for f in files if "/chaos/" in f.path] == [
        "istio/chaos/front.yaml", "istio/chaos/back.yaml"]
    readme = next(f.content for f in files if f.path == "README.md")
    assert "- worker: no HTTP request reaches it" in readme


def _applied(state: dict[tuple[str, str, str], Any], files: list[GeneratedFile],
             delete: bool = False) -> None:
    """`kubectl apply -f` (or `delete -f`) of `files` on a cluster's objects, by kind,
    namespace and name."""
    for doc in documents(files):
        key = (doc["kind"], doc["metadata"]["namespace"], doc["metadata"]["name"])
        if delete:
            del state[key]
        else:
            state[key] = doc


def _experiment_specs() -> dict[str, str]:
    specs = {"experiments": EXPERIMENTS, "one-replica": ONE_REPLICA.replace('"b[0]"', "b")}
    specs.update({template.id: template.build().text for template in TEMPLATES})
    return specs


@pytest.mark.parametrize("spec", sorted(_experiment_specs()))
def test_each_chaos_files_stop_command_restores_the_normal_routes(spec: str) -> None:
    # The README's pair per chaos file, `kubectl apply -f istio/chaos/<c>.yaml   # stop:
    # ...`, run on the objects of istio/: afterwards they are istio/'s alone again.
    system = load_spec_text(_experiment_specs()[spec])
    files = {f.path: f for f in render(system, Target.ISTIO, OPTIONS)}
    readme = files["README.md"].content
    pairs = re.findall(r"^kubectl apply -f (istio/chaos/\S+)   # stop: kubectl (apply|delete) "
                       r"-f (\S+)$", readme, re.MULTILINE)
    assert sorted(path for path, _, _ in pairs) == sorted(p for p in files if "/chaos/" in p)
    normal: dict[tuple[str, str, str], Any] = {}
    _applied(normal, [f for path, f in files.items() if re.fullmatch(r"istio/[^/]+", path)])
    for chaos, verb, stop in pairs:
        state = dict(normal)
        _applied(state, [files[chaos]])
        assert state != normal
        _applied(state, [files[stop]], delete=verb == "delete")
        assert state == normal, chaos


def test_identical_call_sites_are_noted_once() -> None:
    """examples/hedging.yaml: root.search calls leaf ten times in parallel with one hedge;
    the DestinationRule said "Istio exposes no hedging" ten times."""
    rule = by_kind(documents(generate(ROOT / "examples" / "hedging.yaml", Target.ISTIO)),
                   "DestinationRule")["leaf"]
    notes = rule["metadata"]["annotations"]["scalesim.io/not-mapped"].split("; ")
    assert notes.count("root.search -> leaf hedge: Istio exposes no hedging") == 1
    assert len(notes) == len(set(notes))


def test_probes_round_up_to_whole_seconds() -> None:
    container = by_kind(objects(Target.K8S), "Deployment")["edge"]["spec"]["template"][
        "spec"]["containers"][0]
    assert container["readinessProbe"] == {
        "httpGet": {"path": "/ready", "port": "http"}, "initialDelaySeconds": 2,
        "periodSeconds": 2, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 2}
    assert container["livenessProbe"]["timeoutSeconds"] == 2
    assert container["livenessProbe"]["failureThreshold"] == 5
    assert (whole_seconds(0.001), whole_seconds(0.0, minimum=0), whole_seconds(3.0)) == (1, 0, 3)


def test_resources_follow_the_documented_formula() -> None:
    """pricing: 16 workers that only compute -> 16 cores; memory 128 + 2*16 MiB.
    inventory: 4 ms work then a 4 ms db.update plus 2 network hops (lognormal mean) -> the
    worker computes about half the time."""
    shop = system(SHOP)
    assert resources_for(shop, "pricing").requests() == {"cpu": "16000m", "memory": "160Mi"}
    edge = resources_for(system(SMALL), "edge")
    assert edge.memory_mib == 128 + 2 * 16 + 1        # 64 queued requests x 16 KiB = 1 MiB
    inventory = resources_for(shop, "inventory").cpu_m
    assert 7000 <= inventory <= 8000


def test_argo_canary_steps_and_slo_metrics() -> None:
    docs = objects(Target.ARGO)
    steps = by_kind(docs, "Rollout")["api"]["spec"]["strategy"]["canary"]["steps"]
    assert steps == [{"setWeight": 20}, {"pause": {"duration": "60s"}}, {"setWeight": 50},
                     {"pause": {"duration": "60s"}}, {"setWeight": 100}]
    metrics = by_kind(docs, "AnalysisTemplate")["mini-slo"]["spec"]["metrics"]
    assert [(m["name"], m["successCondition"]) for m in metrics] == [
        ("mean", "result[0] <= 20"), ("p99", "result[0] <= 150"),
        ("error-rate", "result[0] <= 0.005")]
    assert "histogram_quantile(0.99," in metrics[1]["provider"]["prometheus"]["query"]


def test_kong_rate_limit_windows() -> None:
    plugin = by_kind(objects(Target.KONG), "KongPlugin")["edge-rate-limit"]
    assert plugin["plugin"] == "rate-limiting"
    assert plugin["config"] == {"second": 200, "policy": "cluster", "limit_by": "service"}
    assert limit_windows(RateLimit(rate="30/min")) == {"minute": 30}
    assert limit_windows(RateLimit(rate="4/h")) == {"hour": 4}
    assert limit_windows(RateLimit(algorithm="sliding_window", rate="10/s", window="1m")) == {
        "minute": 600}
    # Not a whole number a second: exact per minute, bursts bounded per second (Kong
    # enforces both); rounding to 2 a second made 1.5/s a third more and 2.5/s a fifth less.
    assert limit_windows(RateLimit(rate="1.5/s")) == {"second": 2, "minute": 90}
    assert limit_windows(RateLimit(rate="2.5/s")) == {"second": 3, "minute": 150}
    assert limit_windows(RateLimit(rate="0.9/s")) == {"minute": 54}


@pytest.mark.parametrize(("rate", "windows"), [
    ("2.5/h", {"hour": 3, "day": 60}),   # exactly 60 a day (it was hour: 2, half to even)
    ("0.5/h", {"day": 12}),
    ("7/min", {"minute": 7}),
])
def test_kong_uses_the_day_where_a_rate_is_a_whole_number_of_requests_a_day(
        rate: str, windows: dict[str, int]) -> None:
    """Kong's rate-limiting plugin has second, minute, hour, day, month and year windows;
    a UTC day is always 86,400 s, so a count per day is the spec's long-run rate exactly."""
    limit = RateLimit(rate=rate)
    assert limit_windows(limit) == windows
    assert rounding_note(limit, windows) is None


@pytest.mark.parametrize(("rate", "windows", "exact", "differs"), [
    # 0.1/h over 8,765.82 h (365.2425 days): 876.582, so 877 (it was hour: 1, 10 times it)
    ("0.1/h", {"day": 3, "year": 877}, "876.582", "+0.0477%"),
    # 0.0001/s over 31,556,952 s: 3,155.6952, so 3,156 (it was hour: 1, 2.8 times it)
    ("0.0001/s", {"day": 9, "year": 3156}, "3155.6952", "+0.00966%"),
    ("0.01/h", {"year": 88}, "87.6582", "+0.39%"),
])
def test_kong_rounds_a_rate_no_window_holds_to_the_nearest_per_year_with_a_note(
        rate: str, windows: dict[str, int], exact: str, differs: str) -> None:
    """No second, minute, hour or day holds a whole number of requests: the nearest count
    per calendar year (the window where rounding errs least), bursts bounded in the
    shortest window that holds one request, and a note with the difference."""
    limit = RateLimit(rate=rate)
    assert limit_windows(limit) == windows
    count = windows["year"]
    assert rounding_note(limit, windows) == (
        "rate: no second, minute, hour or day holds a whole number of requests; Kong allows "
        f"{count} per calendar year (365.2425 days on average), where the spec's rate makes "
        f"{exact}: {differs}")
    spec = f"""scalesim: 1
name: edge
components:
  gw:
    kind: gateway
    rate_limit: {{rate: {rate}}}
    operations: {{get: {{work: 1ms}}}}
workloads: [{{name: w, to: gw.get, rate: 1/s}}]
"""
    plugin = documents(render(load_spec_text(spec), Target.KONG, OPTIONS))[0]
    assert plugin["config"] == {**windows, "policy": "cluster", "limit_by": "service"}
    assert rounding_note(limit, windows) in plugin["metadata"]["annotations"][
        "scalesim.io/not-mapped"]


def test_keda_triggers_follow_the_queue_tech() -> None:
    scaler = by_kind(objects(Target.KEDA), "ScaledObject")["worker"]["spec"]
    assert [t["type"] for t in scaler["triggers"]] == ["kafka", "rabbitmq"]
    assert scaler["triggers"][0]["metadata"]["lagThreshold"] == "4"      # worker's workers
    assert (scaler["minReplicaCount"], scaler["maxReplicaCount"]) == (2, 4)   # ceil(13/4)
    other = by_kind(objects(Target.KEDA, ("components.tasks.tech=nats",)), "ScaledObject")
    assert other["worker"]["spec"]["triggers"][1]["type"] == "prometheus"


def test_go_durations() -> None:
    assert [go_duration(s) for s in (2.0, 0.2, 0.00025, 90.0)] == ["2s", "200ms", "250us",
                                                                   "90s"]


def test_a_component_with_cores_requests_them_and_its_hpa_target_is_the_specs() -> None:
    # The simulator measures CPU against the cores, so the Deployment requests exactly that
    # (no floor) and the HPA's averageUtilization is the spec's percent.
    from scalesim.generate.autoscaling import cpu_utilization_percent
    name = next(iter(system(SMALL).components))
    cored = system(SMALL, (f"components.{name}.cores=0.03",
                           f"components.{name}.workers=unlimited"))
    assert resources_for(cored, name).cpu_m == 30
    assert cpu_utilization_percent(cored, name, 0.6) == 60
    loop = system(SMALL, (f"components.{name}.event_loop=true",))
    assert resources_for(loop, name).cpu_m == 1000
