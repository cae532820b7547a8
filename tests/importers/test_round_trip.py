"""generate, then import: every example and template comes back with the same topology,
replicas, timeouts, retries, outlier settings, autoscaling, rollouts, leader elections and
queues' delivery settings; generating again gives the same files."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.importers.control_terms import rollout_terms
from tests.importers.delivery_terms import (
    comparable,
    dead_letter_kept,
    expected_back,
    read_back,
)

from scalesim.generate import GeneratedFile, GenerateOptions, Target, render
from scalesim.generate.envoy import istio_retries, route_timeout_s
from scalesim.generate.istio import mesh_routed, route_sites
from scalesim.generate.naming import dns_label
from scalesim.generate.tech import runs_as_deployment
from scalesim.importers import Imported, ImportFailed, import_compose, import_k8s
from scalesim.importers.envoy import retried
from scalesim.importers.k8s.ingress import kong_rate_limit
from scalesim.spec import System, load_spec, load_spec_text
from scalesim.spec.checks import iter_calls
from scalesim.spec.consistency import LeaderElection
from scalesim.spec.errors import Path as Path_
from scalesim.spec.model import Call, Component, Kind
from scalesim.templates import TEMPLATES, load_built

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = GenerateOptions(namespace="demo", image_registry="registry.example/demo")
SPECS = [*sorted((ROOT / "examples").glob("*.yaml")), ROOT / "tests/generate/control.yaml"]
# Templates whose parameters switch a controller on (or its other form)
VARIANTS = [("work-queue", {"keda": True}), ("load-balanced-service", {"autoscale": True}),
            ("canary", {"traffic_routing": False})]
CASES = [pytest.param(("file", str(path), {}), id=path.stem) for path in SPECS] + \
    [pytest.param(("template", t.id, {}), id=t.id) for t in TEMPLATES] + \
    [pytest.param(("template", name, values), id=f"{name}-{'-'.join(values)}")
     for name, values in VARIANTS]
Case = tuple[str, str, dict[str, Any]]
# What generate writes in component.json that bounds a replica besides its workers
LIMITS = ("queue", "cores", "event_loop", "overhead")


def original(case: Case) -> System:
    kind, name, values = case
    if kind == "file":
        return load_spec(name)
    return load_built(next(t for t in TEMPLATES if t.id == name).build(values))


def write(files: Iterable[GeneratedFile], folder: Path) -> None:
    for file in files:
        target = folder / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file.content)


def topology(system: System, compose: bool = False) -> set[tuple[str, str]]:
    """Who reaches whom, as component pairs: calls, cache misses and queue deliveries. The
    code the compose target runs makes no calls for a choreographed saga (its participants
    react to events; docs/generate.md), so `compose` leaves those out."""
    pairs = {(caller.lower(), system.resolve(call.to)[0].lower())
             for caller, _, path, call in iter_calls(system)
             if not (compose and _choreographed(system, path))}
    for name, component in system.components.items():
        if component.backend is not None:
            pairs.add((name.lower(), system.resolve(component.backend)[0].lower()))
        pairs |= {(name.lower(), system.resolve(c.to)[0].lower()) for c in component.consumers}
    return pairs


def _choreographed(system: System, path: Path_) -> bool:
    if "saga" not in path:
        return False
    node: Any = system
    for part in path[:path.index("saga") + 1]:
        node = node[part] if isinstance(part, int) else (
            node.get(part) if isinstance(node, dict) else getattr(node, part))
    return bool(node.coordination == "choreography")


def stand_ins(system: System) -> set[str]:
    """The marked stand-in consumers the import adds for queues without consumers (a saga's
    event queue; a dead-letter queue whose source's broker.json does not name it), when the
    queue's image says it is one (SQS runs as the app's own image)."""
    kept = {dead_letter_kept(system, n) for n in system.components}
    return {f"{name.lower()}-consumer" for name, c in system.components.items()
            if c.kind is Kind.QUEUE and not c.consumers and not runs_as_deployment(c)
            and name.lower() not in kept}


def call_between(system: System, caller: str, callee: str, operation: str | None = None) -> Call:
    """The caller's first call to the callee (to that operation, when one is given)."""
    return next(call for name, _, _, call in iter_calls(system)
                if name == caller and system.resolve(call.to)[0] == callee
                and operation in (None, system.resolve(call.to)[1]))


def documents(files: Iterable[GeneratedFile]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(doc["kind"], doc["metadata"]["name"]): doc for file in files
            if file.path.endswith(".yaml") and "/chaos/" not in file.path
            for doc in yaml.safe_load_all(file.content) if doc}


TARGETS = (Target.K8S, Target.ISTIO, Target.KEDA, Target.ARGO)


def imported_from_k8s(system: System, folder: Path) -> Imported:
    files = [f for target in TARGETS for f in render(system, target, OPTIONS)]
    write(files, folder)
    folders = [str(folder / target.value) for target in TARGETS
               if (folder / target.value).is_dir()]
    return import_k8s(folders)


@pytest.mark.parametrize("case", CASES)
def test_k8s_and_istio_round_trip(case: Case, tmp_path: Path) -> None:
    system = original(case)
    back = imported_from_k8s(system, tmp_path).system
    extra = stand_ins(system)
    assert set(back.components) == {name.lower() for name in system.components} | extra
    assert topology(back) == topology(system) | {(name.removesuffix("-consumer"), name)
                                                 for name in extra}
    for name, component in system.components.items():
        again = back.components[name.lower()]
        if component.kind is not Kind.EXTERNAL:
            assert again.replicas == component.replicas, name
        assert_same_autoscale(component, again, name)
        assert_same_settings(component, again, name)
        assert_same_rollout(component, again, name)
        assert_same_election(component, again, name)
        assert read_back(again) == expected_back(system, name), name
        if name.lower() in {dead_letter_kept(system, n) for n in system.components}:
            assert again.kind is Kind.QUEUE, name      # named by its source's broker.json
        if component.kind in (Kind.GATEWAY, Kind.EXTERNAL) or not runs_as_deployment(component):
            assert again.kind is component.kind, name      # the objects say what it is
        if component.outlier_detection is not None:
            assert again.outlier_detection is not None
            assert again.outlier_detection.model_dump(exclude={"max_ejection_time"}) == \
                component.outlier_detection.model_dump(exclude={"max_ejection_time"})
        if not mesh_routed(system, name):
            continue
        for site in route_sites(system, name):     # a route per caller (and operation)
            call = site.edge.call
            back_call = back.effective(call_between(back, site.edge.caller.lower(),
                                                    name.lower(), site.operation))
            assert istio_retries(back_call) == istio_retries(call), (site.route_name, name)
            assert route_timeout_s(back_call) == pytest.approx(route_timeout_s(call)) \
                if route_timeout_s(call) is not None else route_timeout_s(back_call) is None
            if istio_retries(call) > 0:
                assert back_call.timeout == call.timeout, (site.route_name, name)
    generate_again(system, back)


def assert_same_autoscale(component: Component, again: Component, name: str) -> None:
    """The autoscaler comes back field by field. A CPU target keeps its cores per replica:
    with the same workers it is the same share; when the import estimates other workers
    (a component that waits on calls requests less than a core per worker) it is the same
    cores, to the whole percent both sides store."""
    spec = component.autoscale
    if spec is None or (not spec.queue_metrics and not runs_as_deployment(component)
                        and component.kind is Kind.EXTERNAL):
        assert again.autoscale is None, name
        return
    back = again.autoscale
    assert back is not None, name
    assert back.model_dump(exclude={"metrics"}) == spec.model_dump(exclude={"metrics"}), name
    assert [m.kind for m in back.metrics] == [m.kind for m in spec.metrics], name
    for metric, read in zip(spec.metrics, back.metrics, strict=True):
        if metric.cpu is None:
            assert read.model_dump() == {**metric.model_dump(), "queue": None if not
                                         metric.queue else {**metric.queue.model_dump(),
                                                            "of": metric.queue.of.lower()}}
            continue
        assert read.cpu is not None
        workers, workers_back = component.worker_limit, again.worker_limit
        assert workers is not None and workers_back is not None
        if workers == workers_back:
            assert read.cpu == pytest.approx(metric.cpu), name
        else:
            cores = min(metric.cpu * workers, workers_back)
            assert read.cpu * workers_back == pytest.approx(cores, abs=0.01 * workers_back), name


def assert_same_rollout(component: Component, again: Component, name: str) -> None:
    """The rollout comes back but for its version and start, which no file says (Argo
    Rollouts take over Deployments only: a StatefulSet's rollout is not generated)."""
    spec = component.rollout if runs_as_deployment(component) else None
    if spec is None:
        assert again.rollout is None and not again.versions, name
        return
    back = again.rollout
    assert back is not None, name
    assert list(again.versions) == [back.to], name
    assert rollout_terms(back) == rollout_terms(spec), name


def assert_same_election(component: Component, again: Component, name: str) -> None:
    """The election comes back from the settings ConfigMap (`consistency.json`): a Lease's
    client-go settings, or Raft's etcd ones (etcd cannot set `election_timeout_max`, and
    which operations only the leader serves is the application's)."""
    election = component.leader_election
    if election is None and component.replication is not None \
            and component.replication.mode == "raft":
        election = LeaderElection(type="raft")   # what the generator writes for it
    if election is None or component.kind is Kind.EXTERNAL:
        assert again.leader_election is None, name
        return
    back = again.leader_election
    assert back is not None, name
    left_out = {"operations", "election_timeout_max"}
    assert back.model_dump(exclude=left_out) == election.model_dump(exclude=left_out), name


def generate_again(system: System, back: System) -> None:
    """The mapping inverts the generator's: generating the import gives the same
    DestinationRules, routes, probes, autoscalers, Rollout strategies and analyses (for
    components that run the same way)."""
    same_kind = {name.lower() for name, c in system.components.items()
                 if back.components[name.lower()].kind is c.kind
                 and runs_as_deployment(back.components[name.lower()]) == runs_as_deployment(c)}
    same_workers = {name.lower() for name, c in system.components.items()
                    if back.components[name.lower()].worker_limit == c.worker_limit}
    stood_in = stand_ins(system)
    before = documents([f for target in TARGETS for f in render(system, target, OPTIONS)])
    after = documents([f for target in TARGETS for f in render(back, target, OPTIONS)])
    for (kind, name), doc in before.items():
        owner = name.removesuffix("-settings")
        owner = next((c.lower() for c in system.components
                      if name.startswith(f"{c.lower()}-") and kind == "AnalysisTemplate"),
                     owner)
        if owner not in same_kind:
            continue
        if kind == "ScaledObject" and system.components[_spelled(system, owner)].autoscale \
                is None:
            continue         # the keda target's default: no autoscale either way
        again = after[kind, name]
        if kind in ("HorizontalPodAutoscaler", "ScaledObject") and owner not in same_workers:
            assert _without_cpu(again["spec"]) == _without_cpu(doc["spec"]), name
        elif kind in ("HorizontalPodAutoscaler", "ScaledObject", "AnalysisTemplate"):
            assert again["spec"] == doc["spec"], (kind, name)
        elif kind == "Rollout" and system.components[_spelled(system, owner)].rollout:
            assert again["spec"]["strategy"] == doc["spec"]["strategy"], name
        elif kind == "Rollout":   # the default canary; its SLO analysis needs the spec's slo
            assert again["spec"]["strategy"]["canary"]["steps"] == \
                doc["spec"]["strategy"]["canary"]["steps"], name
        if kind == "ConfigMap" and f"{owner}-consumer" not in stood_in:
            # a queue the import gave a stand-in consumer has its subscription in broker.json
            assert broker_terms(again) == broker_terms(doc), name
        if kind == "DestinationRule":
            assert again["spec"] == doc["spec"], name
        elif kind == "VirtualService":
            assert [(r["name"], r.get("timeout"), retries(r)) for r in again["spec"]["http"]] \
                == [(r["name"], r.get("timeout"), retries(r)) for r in doc["spec"]["http"]]
        elif kind in ("Deployment", "StatefulSet"):
            first, second = (d["spec"]["template"]["spec"]["containers"][0] for d in (doc, again))
            for probe in ("readinessProbe", "livenessProbe"):
                assert second.get(probe) == first.get(probe), (name, probe)
            assert sorted(e["name"] for e in second["env"]) == \
                sorted(e["name"] for e in first["env"]), name


def retries(route: dict[str, Any]) -> dict[str, Any]:
    """A route's retries, its retryOn as what Envoy retries under it (envoy.retried): the
    import reads every cause a condition covers, so the route generated again also names
    the conditions another one includes (`gateway-error,reset` comes back
    `gateway-error,reset,connect-failure,refused-stream,503`, the same retries)."""
    found = dict(route["retries"])
    if "retryOn" in found:
        found["retryOn"] = retried(found["retryOn"])
    return found


def broker_terms(config_map: dict[str, Any]) -> Any:
    """A settings ConfigMap's broker.json, but for what follows the subscriptions'
    concurrency (delivery_terms.comparable)."""
    return comparable(json.loads(config_map["data"].get("broker.json", "null")))


def assert_same_settings(component: Component, again: Component, name: str) -> None:
    """What the generated component.json holds comes back: the workers (the CPU request
    understates them where they wait on calls), their queue and io, the CPU model (cores,
    event_loop, overhead), every operation and its CPU demand,
    `startup` where autoscale or rollout needs it, a cache's hit ratio, and each consumer's
    concurrency or prefetch the import writes."""
    if component.kind is Kind.EXTERNAL:
        return      # an ExternalName Service: no pod, no settings
    if Kind.QUEUE not in (component.kind, again.kind):  # the import writes no queue's workers
        assert again.worker_limit == component.worker_limit, name
        assert again.io == component.io, name
        for field in LIMITS:
            assert getattr(again, field) == getattr(component, field), (name, field)
        assert set(again.operations) == set(component.operations), name  # JSON sorts keys
        for operation, spec in component.operations.items():
            assert again.operations[operation].demand == spec.demand, (name, operation)
    if again.autoscale is not None or again.rollout is not None:
        assert again.startup == component.startup, name
    if component.hit_ratio is not None and again.hit_ratio is not None:
        assert again.hit_ratio == component.hit_ratio, name
    for consumer in again.consumers:
        first = next((c for c in component.consumers if c.to.partition(".")[0].lower() ==
                      consumer.to.partition(".")[0]), None)
        for field in ("concurrency", "prefetch"):
            if first is not None and field in consumer.model_fields_set and \
                    field in first.model_fields_set:
                assert getattr(consumer, field) == getattr(first, field), name


def _spelled(system: System, lowered: str) -> str:
    return next(name for name in system.components if name.lower() == lowered)


def _without_cpu(spec: dict[str, Any]) -> dict[str, Any]:
    """An autoscaler's spec without the CPU numbers, which follow the CPU request."""
    kept = [m for m in spec.get("metrics", []) if m.get("resource", {}).get("name") != "cpu"]
    triggers = [t for t in spec.get("triggers", []) if t["type"] != "cpu"]
    return {**spec, "metrics": kept, "triggers": triggers}


@pytest.mark.parametrize("case", CASES)
def test_compose_round_trip(case: Case, tmp_path: Path) -> None:
    system = original(case)
    files = render(system, Target.COMPOSE, OPTIONS)
    write(files, tmp_path)
    back = import_compose([str(tmp_path / "compose")]).system
    # no broker settings: every queue without consumers gets a stand-in
    extra = {f"{name.lower()}-consumer" for name, c in system.components.items()
             if c.kind is Kind.QUEUE and not c.consumers}
    assert set(back.components) == {name.lower() for name in system.components} | extra
    assert topology(back) == topology(system, compose=True) | {
        (name.removesuffix("-consumer"), name) for name in extra}
    compose = next(f.content for f in files if f.path == "compose/compose.yaml")
    reserved = _reserved_cores(compose)
    for name, component in system.components.items():   # Compose does not scale to zero
        again = back.components[name.lower()]
        assert again.replicas == max(1, component.replicas), name
        assert (again.kind, again.tech) == (component.kind, component.tech), name
        if again.kind not in (Kind.QUEUE, Kind.EXTERNAL) and again.tech not in ("redis",
                                                                                 "valkey"):
            assert again.workers == max(1, math.ceil(reserved[dns_label(name)])), name
    again_file = next(f.content for f in render(back, Target.COMPOSE, OPTIONS)
                      if f.path == "compose/compose.yaml")
    # all but the banner, the stand-ins, and the CPU reservations, which follow the work
    # the files lack
    assert _comparable(again_file, extra) == _comparable(compose, set())


def _reserved_cores(compose: str) -> dict[str, float]:
    services = yaml.safe_load(compose)["services"]
    return {name: float(s["deploy"]["resources"]["reservations"]["cpus"])
            for name, s in services.items()}


def _comparable(compose: str, stand_ins: set[str]) -> dict[str, Any]:
    """The file without CPU reservations and without the stand-in consumers' services and
    the addresses and dependencies naming them."""
    data: dict[str, Any] = yaml.safe_load(compose)
    for name in stand_ins:
        del data["services"][name]
    for service in data["services"].values():
        del service["deploy"]["resources"]
        service["environment"] = {k: v for k, v in service["environment"].items()
                                  if v.split("//")[-1].split(":")[0] not in stand_ins}
        kept = {k: v for k, v in service.get("depends_on", {}).items() if k not in stand_ins}
        service.pop("depends_on", None)
        if kept:
            service["depends_on"] = kept
    return data


def test_what_generate_could_not_map_is_relayed_as_a_note(tmp_path: Path) -> None:
    """circuit-breaker: the Resilience4j breaker stays in the caller, which the generated
    DestinationRule says in scalesim.io/not-mapped; the import says that its spec lacks it,
    instead of a design that silently has no breaker."""
    system = original(("template", "circuit-breaker", {}))
    write([f for target in TARGETS for f in render(system, target, OPTIONS)], tmp_path)
    imported = import_k8s([str(tmp_path / t.value) for t in TARGETS
                           if (tmp_path / t.value).is_dir()])
    assert all(c.circuit_breaker is None for _, _, _, c in iter_calls(imported.system))
    (note,) = [n for n in imported.notes if "not hold" in n]
    assert "DestinationRule payments" in note and "circuit_breaker" in note


def test_a_kong_rate_limit_comes_back(tmp_path: Path) -> None:
    """api-gateway: 1,500/s per workload becomes a KongPlugin the gateway's Ingress names
    (second: 1500, limit_by: consumer); imported, it is the same rate_limit (it was skipped
    as 'nothing the spec holds'). A rate Kong holds in two windows (1.5/s: minute 90 and
    second 2) comes back as its long-run rate with the shorter window as its burst."""
    system = original(("template", "api-gateway", {}))
    write([f for target in (Target.K8S, Target.KONG)
           for f in render(system, target, OPTIONS)], tmp_path)
    back = import_k8s([str(tmp_path / "k8s"), str(tmp_path / "kong")]).system
    gateway = next(c for c in system.components.values() if c.rate_limit is not None)
    again = next(c for c in back.components.values() if c.rate_limit is not None)
    assert (again.rate_limit.rate, again.rate_limit.per_workload) == (  # type: ignore[union-attr]
        gateway.rate_limit.rate, gateway.rate_limit.per_workload)  # type: ignore[union-attr]
    assert kong_rate_limit({"second": 2, "minute": 90, "policy": "local"}) == {
        "rate": "1.5/s", "burst": 2, "scope": "replica"}


RETRIES = """scalesim: 1
name: retries
components:
  web:
    kind: gateway
    operations:
      send:
        calls:
          - {{to: api.handle, timeout: 200ms, retry: {{attempts: 3, on: [{on}]}}}}
  api:
    operations:
      handle: {{work: 10ms}}
workloads:
  - {{name: users, to: web.send, rate: 10/s}}
"""
EVERY_RESET_AND_503 = ["timeout", "rejected", "crashed", "overflow", "shed"]


@pytest.mark.parametrize(("on", "back"), [
    # what Envoy can retry alone comes back as it was
    (["unavailable"], ["unavailable"]),
    (["rate_limited"], ["rate_limited"]),
    (["crashed"], ["crashed"]),
    (EVERY_RESET_AND_503, EVERY_RESET_AND_503),
    (["error", "timeout", "rejected", "crashed", "overflow", "unavailable"],   # the default
     ["timeout", "rejected", "error", "crashed", "overflow", "shed", "unavailable"]),
    # 5xx retries every 5xx and every reset; gateway-error 502-504 and every reset
    (["error"], ["timeout", "rejected", "error", "crashed", "overflow", "shed"]),
    (["timeout"], EVERY_RESET_AND_503),
    (["rejected", "rate_limited"], ["rejected", "overflow", "rate_limited", "shed"]),
    # refused inside the caller: the sidecar never sees them
    (["circuit_open", "bulkhead_full", "unavailable"], ["unavailable"]),
])
def test_retry_on_comes_back_as_what_the_sidecar_retries(on: list[str], back: list[str],
                                                         tmp_path: Path) -> None:
    """generate (istio), then import: `on` is every cause the generated retryOn retries
    (Envoy's router: docs/import.md), so `on` that Envoy can say alone comes back as it
    was, and generating the import again retries the same failures."""
    system = load_spec_text(RETRIES.format(on=", ".join(on)), "retries.yaml")
    imported = imported_from_k8s(system, tmp_path)
    call = call_between(imported.system, "web", "api")
    assert call.retry is not None and call.retry.on == back
    assert not [note for note in imported.notes if "retryOn" in note]
    (before,), (after,) = ([d for d in documents(render(s, Target.ISTIO, OPTIONS)).values()
                            if d["kind"] == "VirtualService"] for s in (system, imported.system))
    assert [retries(r) for r in after["spec"]["http"]] == \
        [retries(r) for r in before["spec"]["http"]]


BROKERED = """
scalesim: 1
name: brokered
components:
  orders:
    workers: 1
    operations:
      handle:
        work: 8ms
        calls: [{to: db}, {to: rabbit, async: true}]
  worker:
    workers: 2
    operations: {handle: {work: 20ms}}
  db: {kind: database, tech: postgres, workers: 4, operations: {query: {work: 3ms}}}
  rabbit:
    kind: queue
    tech: rabbitmq
    consumers: [{to: worker, concurrency: 2}]
workloads: [{name: orders, to: orders, rate: 150/s}]
"""


def test_compose_keeps_a_stand_in_queue_and_workers_that_only_compute(tmp_path: Path) -> None:
    """A queue runs as a stand-in image named after the component, and a worker that only
    computes reserves a core: the labels and the reservation bring both back."""
    write(render(load_spec_text(BROKERED, "brokered.yaml"), Target.COMPOSE, OPTIONS), tmp_path)
    back = import_compose([str(tmp_path / "compose")]).system
    rabbit = back.components["rabbit"]
    assert (rabbit.kind, rabbit.tech) == (Kind.QUEUE, "rabbitmq")
    assert [c.to for c in rabbit.consumers] == ["worker"]
    assert call_between(back, "orders", "rabbit").async_
    assert (back.components["worker"].workers, back.components["db"].workers) == (2, 4)


def test_k8s_reads_the_numbers_scalesim_wrote_in_component_json(tmp_path: Path) -> None:
    """The generated ConfigMaps hold the spec's work, startup and concurrency: they come
    back as written, not as placeholders; the rate, in no generated file, stays one."""
    system = load_spec_text(BROKERED.replace(
        "    workers: 1\n", "    workers: 1\n    startup: 15s\n    autoscale: {max: 4, metrics: "
        "[{cpu: 60%}]}\n", 1), "brokered.yaml")
    imported = imported_from_k8s(system, tmp_path)
    back = imported.system
    assert back.components["orders"].operations["handle"].demand.mean_s == 0.008
    assert back.components["orders"].startup == system.components["orders"].startup
    assert [c.concurrency for c in back.components["rabbit"].consumers] == [2]
    assert imported.placeholders == 2   # the rate, and the order of orders' two calls
    assert not any("ConfigMap" in note for note in imported.notes if "skipped" in note)
    assert any("rates are placeholders" in note for note in imported.notes)


SEVERAL = """
scalesim: 1
name: several
components:
  front:
    kind: gateway
    operations:
      browse: {work: 1ms, calls: [{to: catalog.list}]}
      buy: {work: 2ms, calls: [{to: catalog.reserve}, {to: jobs, async: true}]}
  catalog:
    operations: {list: {work: 3ms}, reserve: {work: 4ms}}
  jobs: {kind: queue, tech: rabbitmq, consumers: [{to: mailer.send, concurrency: 3}]}
  mailer:
    operations: {send: {work: 5ms}, bounce: {work: 6ms}}
workloads: [{name: w, to: front.browse, rate: 10/s}, {name: b, to: front.buy, rate: 5/s}]
"""


def test_k8s_brings_back_every_operation_component_json_names(tmp_path: Path) -> None:
    """Each operation comes back with its work and the calls it makes, each to the callee's
    operation; a queue delivers to its consumer's; each operation of an entry point that no
    call reaches gets a workload (its rate a PLACEHOLDER)."""
    imported = imported_from_k8s(load_spec_text(SEVERAL, "several.yaml"), tmp_path)
    back = imported.system
    front, catalog = back.components["front"], back.components["catalog"]
    assert [[call.to for call in op.calls] for op in front.operations.values()] == \
        [["catalog.list"], ["catalog.reserve", "jobs"]]
    assert {name: op.demand.mean_s for name, op in catalog.operations.items()} == \
        {"list": 0.003, "reserve": 0.004}
    assert set(back.components["mailer"].operations) == {"send", "bounce"}
    assert [(c.to, c.concurrency) for c in back.components["jobs"].consumers] == \
        [("mailer.send", 3)]
    assert [w.to for w in back.workloads] == ["front.browse", "front.buy"]
    assert imported.placeholders == 4   # two rates, and the call order of each operation
    assert "one operation for every endpoint" not in imported.text


@pytest.mark.parametrize(("workers", "problem"), [
    ('"many"', "'many' is not a whole number"), ("0", "0 is not a whole number from 1"),
    ("2.5", "2.5 is not a whole number"), ("true", "True is not a whole number")])
def test_workers_the_generated_service_refuses_are_bad_input(tmp_path: Path, workers: str,
                                                               problem: str) -> None:
    """The generated service refuses such a settings file at startup: the import names the
    ConfigMap's line and the setting, and writes nothing."""
    write(render(load_spec_text(BROKERED, "brokered.yaml"), Target.K8S, OPTIONS), tmp_path)
    orders = tmp_path / "k8s" / "orders.yaml"
    text = orders.read_text()
    assert text.count('"workers":1') == 1
    orders.write_text(text.replace('"workers":1', f'"workers":{workers}'))
    line = 1 + text[:text.index("component.json:")].count("\n")
    with pytest.raises(ImportFailed) as failed:
        import_k8s([str(tmp_path / "k8s")])
    assert str(failed.value).startswith(
        f"{orders}:{line}: ConfigMap orders-settings data.component.json (workers): {problem}")


LIMITED = """
scalesim: 1
name: limited
components:
  front:
    kind: gateway
    workers: 8
    queue: 0
    cores: 2
    overhead: {request: 200us, call: {dist: exponential, mean: 50us}}
    operations: {handle: {cpu: 1ms, calls: [{to: loop}]}}
  loop:
    io: nonblocking
    event_loop: true
    cores: 0.5
    queue: 32
    operations: {handle: {work: 2ms}}
workloads: [{name: users, to: front, rate: 100/s}]
"""


def test_k8s_brings_back_queue_cores_event_loop_and_overhead(tmp_path: Path) -> None:
    """No template sets the CPU model; what component.json holds of it comes back as the
    spec gave it (a queue of 0, which refuses all waiting, included)."""
    system = load_spec_text(LIMITED, "limited.yaml")
    back = imported_from_k8s(system, tmp_path).system
    for name, component in system.components.items():
        assert_same_settings(component, back.components[name], name)
    assert back.components["front"].queue == 0
    assert back.components["loop"].core_limit == 0.5


SCALED = """
scalesim: 1
name: scaled
components:
  api:
    replicas: 6
    workers: 8
    cores: 2
    autoscale: {min: 3, max: 10, metrics: [{cpu: 70%}]}
    operations: {post: {work: 2ms, calls: [{to: loop}, {to: jobs, async: true}]}}
  loop:
    replicas: 5
    io: nonblocking
    event_loop: true
    autoscale: {min: 1, max: 4, metrics: [{cpu: 45%}]}
    operations: {handle: {work: 2ms}}
  jobs: {kind: queue, tech: rabbitmq, consumers: [{to: worker, prefetch: 4}]}
  worker:
    replicas: 2
    workers: 4
    autoscale: {min: 1, max: 8, metrics: [{queue: {of: jobs, backlog: 30}}]}
    operations: {process: {work: 20ms}}
workloads: [{name: users, to: api, rate: 100/s}]
"""


def test_k8s_brings_back_an_autoscaled_start_and_a_cpu_target_of_cores(tmp_path: Path) -> None:
    """An autoscaled workload states no replicas: its start other than the minimum (above
    the maximum too, which the scaler lowers at its first sync) comes back from
    component.json; a CPU target of a component with cores (or an event loop's one core)
    comes back as the share of those cores, not of its workers."""
    system = load_spec_text(SCALED, "scaled.yaml")
    back = imported_from_k8s(system, tmp_path).system
    for name, component in system.components.items():
        again = back.components[name]
        assert again.replicas == component.replicas, name
        assert_same_autoscale(component, again, name)


@pytest.mark.parametrize(("old", "new", "field", "problem"), [
    ('"queue":32', '"queue":"many"', "queue", "queue: Input should be a valid integer"),
    ('"queue":32', '"queue":-1', "queue", "queue: Input should be greater than or equal to 0"),
    ('"cores":0.5', '"cores":0', "cores", "cores"),
    ('"cores":0.5', '"cores":2', "cores", "an event loop computes on one core at a time"),
    ('"event_loop":true', '"event_loop":"yes"', "event_loop", "event_loop"),
])
def test_limits_the_spec_refuses_are_bad_input(tmp_path: Path, old: str, new: str,
                                               field: str, problem: str) -> None:
    """A queue, cores or event loop the spec (and the generated service) refuses: the
    import names the ConfigMap's line and the setting, and writes nothing."""
    write(render(load_spec_text(LIMITED, "limited.yaml"), Target.K8S, OPTIONS), tmp_path)
    loop = tmp_path / "k8s" / "loop.yaml"
    text = loop.read_text()
    assert text.count(old) == 1
    loop.write_text(text.replace(old, new))
    line = 1 + text[:text.index("component.json:")].count("\n")
    with pytest.raises(ImportFailed) as failed:
        import_k8s([str(tmp_path / "k8s")])
    message = str(failed.value)
    assert message.startswith(
        f"{loop}:{line}: ConfigMap loop-settings data.component.json ({field}): "), message
    assert problem in message


def test_an_io_the_generated_service_refuses_is_bad_input(tmp_path: Path) -> None:
    write(render(load_spec_text(BROKERED, "brokered.yaml"), Target.K8S, OPTIONS), tmp_path)
    orders = tmp_path / "k8s" / "orders.yaml"
    text = orders.read_text()
    orders.write_text(text.replace('"io":"blocking"', '"io":"async"', 1))
    line = 1 + text[:text.index("component.json:")].count("\n")
    with pytest.raises(ImportFailed) as failed:
        import_k8s([str(tmp_path / "k8s")])
    assert str(failed.value).startswith(
        f"{orders}:{line}: ConfigMap orders-settings data.component.json (io): 'async' is not "
        "one of blocking, nonblocking")


def test_a_component_json_scalesim_did_not_label_is_not_read(tmp_path: Path) -> None:
    files = render(load_spec_text(BROKERED, "brokered.yaml"), Target.K8S, OPTIONS)
    write(files, tmp_path)
    orders = tmp_path / "k8s" / "orders.yaml"
    text = orders.read_text()
    first = text.index("app.kubernetes.io/managed-by: scalesim")   # the ConfigMap's label
    orders.write_text(text[:first] + "app.kubernetes.io/managed-by: someone" +
                      text[first + len("app.kubernetes.io/managed-by: scalesim"):])
    back = import_k8s([str(tmp_path / "k8s")]).system
    assert back.components["orders"].operations["handle"].demand.mean_s == 0.005  # placeholder
    assert back.components["worker"].operations["handle"].demand.mean_s == 0.02


@pytest.mark.parametrize("case", CASES)
def test_k8s_alone_brings_back_who_publishes_and_who_consumes(case: Case, tmp_path: Path) -> None:
    """Without the KEDA objects (`generate`'s default target), `component.json` still says
    who publishes to a queue and who consumes it: the same component graph."""
    system = original(case)
    write(render(system, Target.K8S, OPTIONS), tmp_path)
    back = import_k8s([str(tmp_path / "k8s")]).system
    extra = stand_ins(system)
    assert topology(back) == topology(system) | {(name.removesuffix("-consumer"), name)
                                                 for name in extra}
