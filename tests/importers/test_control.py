"""Autoscalers and rollouts read back: whatever the spec says, generate then import gives the
same `autoscale` and `rollout` (property tests over the generators' whole range), and
hand-written HPAs, KEDA ScaledObjects and Argo Rollouts import into the expected specs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.importers.control_terms import rollout_terms
from tests.importers.junk import assert_noted_or_located, spoil

from scalesim.generate import GenerateOptions, Target, render
from scalesim.generate.argo import CANARY_STEPS
from scalesim.importers import import_k8s
from scalesim.importers.assemble import assemble
from scalesim.importers.k8s import read_cluster
from scalesim.importers.k8s.rollout import SUGGESTED_STEPS
from scalesim.importers.sources import parse
from scalesim.sim import simulate
from scalesim.spec import System, load_spec_text

OPTIONS = GenerateOptions(namespace="demo", image_registry="registry.example/demo")
TARGETS = (Target.K8S, Target.ISTIO, Target.KEDA, Target.ARGO)
FLEET: dict[str, Any] = {
    "scalesim": 1, "name": "fleet",
    "components": {
        "api": {"replicas": 3, "workers": 4, "operations": {"get": {"work": "5ms"}}},
        "jobs": {"kind": "queue", "tech": "kafka",
                 "consumers": [{"to": "worker.run", "prefetch": 4}]},
        "worker": {"replicas": 2, "workers": 4, "operations": {"run": {"work": "10ms"}}}},
    "workloads": [{"name": "users", "to": "api.get", "rate": "10/s"},
                  {"name": "producer", "to": "jobs.publish", "rate": "10/s"}]}


def fleet(component: str, **fields: Any) -> System:
    data: dict[str, Any] = yaml.safe_load(yaml.safe_dump(FLEET))
    data["components"][component].update(fields)
    return load_spec_text(yaml.safe_dump(data, sort_keys=False), "fleet.yaml")


def round_trip(system: System) -> System:
    """generate (k8s, istio, keda, argo), then import, in memory."""
    documents = [document for target in TARGETS for file in render(system, target, OPTIONS)
                 if file.path.endswith(".yaml") for document in parse(file.content, file.path)]
    return assemble(read_cluster(documents, "generated")).system


# -- strategies: what the generators can write, over their whole range -----------------------

def seconds(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda value: f"{value}s")


def percent(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda value: f"{value}%")


policies = st.lists(st.one_of(
    st.fixed_dictionaries({"pods": st.integers(1, 50), "period": seconds(1, 1800)}),
    st.fixed_dictionaries({"percent": percent(1, 900), "period": seconds(1, 1800)})),
    min_size=1, max_size=4)
rules = st.fixed_dictionaries({}, optional={
    "stabilization": seconds(0, 3600), "select": st.sampled_from(["max", "min", "disabled"]),
    "policies": policies})
rates = st.one_of(st.integers(1, 100_000).map(lambda r: f"{r}/s"),
                  st.integers(1, 99).map(lambda r: f"{r / 10}/s"))


@st.composite
def controller(draw: st.DrawFn) -> dict[str, Any]:
    """The controller flags: not fields of any object, carried by the generator's note."""
    sync = draw(st.integers(1, 120))
    window = draw(st.one_of(st.integers(1, sync), st.integers(1, 3).map(lambda k: k * sync)))
    return {"sync_period": f"{sync}s", "window": f"{window}s",
            **draw(st.fixed_dictionaries({}, optional={
                "tolerance": percent(0, 50), "cpu_initialization": seconds(0, 900),
                "initial_readiness_delay": seconds(0, 300)}))}


@st.composite
def hpa_autoscale(draw: st.DrawFn) -> dict[str, Any]:
    low = draw(st.integers(1, 20))
    metrics = draw(st.lists(st.sampled_from(["cpu", "rps"]), min_size=1, max_size=2,
                            unique=True))
    chosen = [{"cpu": draw(percent(1, 100))} if kind == "cpu" else {"rps": draw(rates)}
              for kind in metrics]
    return {"min": low, "max": draw(st.integers(low, 500)), "metrics": chosen,
            **draw(st.fixed_dictionaries({}, optional={
                "scale_up": rules, "scale_down": rules, "controller": controller()}))}


@st.composite
def keda_autoscale(draw: st.DrawFn) -> dict[str, Any]:
    low = draw(st.integers(0, 5))
    queue: dict[str, Any] = {"of": "jobs", "backlog": draw(st.integers(1, 5000))}
    if draw(st.booleans()):
        queue["activation"] = draw(st.integers(0, 100))
    others = draw(st.lists(st.sampled_from(["cpu", "rps"]), max_size=2, unique=True))
    metrics = [{"queue": queue}] + [{"cpu": draw(percent(1, 100))} if kind == "cpu" else
                                    {"rps": draw(rates)} for kind in others]
    return {"min": low, "max": draw(st.integers(max(low, 1), 500)), "metrics": metrics,
            **draw(st.fixed_dictionaries({}, optional={
                "polling": seconds(1, 300), "cooldown": seconds(0, 3600),
                "scale_up": rules, "scale_down": rules, "controller": controller()}))}


def flattened(autoscale: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in autoscale.items() if k != "controller"},
            **autoscale.get("controller", {})}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(autoscale=st.one_of(hpa_autoscale().map(lambda a: ("api", a)),
                           keda_autoscale().map(lambda a: ("worker", a))))
def test_every_autoscale_comes_back(autoscale: tuple[str, dict[str, Any]]) -> None:
    """An HPA (with its behavior and the flags the generator notes) or a KEDA ScaledObject
    reads back as exactly the spec's autoscale."""
    name, fields = autoscale
    system = fleet(name, autoscale=flattened(fields))
    back = round_trip(system).components[name].autoscale
    assert back is not None
    assert back.model_dump() == system.components[name].autoscale.model_dump()  # type: ignore[union-attr]


checks = st.fixed_dictionaries({}, optional={
    "error_rate": st.integers(0, 1000).flatmap(lambda low: st.fixed_dictionaries(
        {"max": st.just(low / 1000)},
        optional={"fail_above": st.integers(low, 1000).map(lambda high: high / 1000)})),
    **{name: st.integers(1, 5000).flatmap(lambda low: st.fixed_dictionaries(
        {"max": st.just(f"{low}ms")},
        optional={"fail_above": st.integers(low, 9000).map(lambda high: f"{high}ms")}))
       for name in ("mean", "p50", "p90", "p95", "p99", "p999")}}).filter(bool)


def analyses(**extra: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.tuples(checks, st.fixed_dictionaries({"interval": seconds(1, 600)}, optional={
        "count": st.integers(1, 10), "initial_delay": seconds(0, 300),
        "failure_limit": st.integers(-1, 5), "inconclusive_limit": st.integers(0, 5),
        "consecutive_error_limit": st.integers(0, 10), **extra})).map(
        lambda parts: {**parts[1], **parts[0]})


surges = st.tuples(st.one_of(st.integers(0, 5), percent(0, 100)),
                   st.one_of(st.integers(0, 5), percent(0, 100))).filter(
    lambda pair: pair[0] not in (0, "0%") or pair[1] not in (0, "0%"))
steps = st.lists(st.one_of(
    percent(0, 100).map(lambda weight: {"set_weight": weight}),
    seconds(1, 3600).map(lambda pause: {"pause": pause}),
    analyses().map(lambda analysis: {"analysis": analysis})), min_size=1, max_size=6)


@st.composite
def rollouts(draw: st.DrawFn) -> dict[str, Any]:
    strategy = draw(st.sampled_from(["rolling", "canary", "blue_green"]))
    rollout: dict[str, Any] = {"to": "v2", "at": "60s", "strategy": strategy}
    if strategy in ("rolling", "canary"):
        rollout["max_surge"], rollout["max_unavailable"] = draw(surges)
    if strategy == "canary":
        rollout["steps"] = draw(steps)
        rollout["traffic_routing"] = draw(st.booleans())
        rollout.update(draw(st.fixed_dictionaries({}, optional={
            "analysis": analyses(starting_step=st.integers(0, len(rollout["steps"]))),
            "abort_scale_down_delay": seconds(0, 600)})))
        if rollout["traffic_routing"] and draw(st.booleans()):
            rollout["scale_down_delay"] = draw(seconds(0, 600))
    if strategy == "blue_green":
        rollout.update(draw(st.fixed_dictionaries({}, optional={
            "preview_replicas": st.integers(1, 5), "auto_promotion": st.booleans(),
            "auto_promotion_after": seconds(0, 600), "scale_down_delay": seconds(0, 600),
            "abort_scale_down_delay": seconds(0, 600),
            "pre_promotion_analysis": analyses(), "post_promotion_analysis": analyses()})))
    return rollout


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rollout=rollouts())
def test_every_rollout_comes_back(rollout: dict[str, Any]) -> None:
    """A rolling update, a canary (steps, analyses, traffic routing, delays) or a blue-green
    reads back as the spec's rollout, all but the version and start no file holds."""
    system = fleet("api", versions={"v2": {}}, rollout=rollout)
    back = round_trip(system).components["api"]
    assert back.rollout is not None and list(back.versions) == [back.rollout.to]
    assert rollout_terms(back.rollout) == rollout_terms(system.components["api"].rollout)  # type: ignore[arg-type]


def test_the_argo_default_canary_is_recognised_by_its_own_steps() -> None:
    """The importer's copy of the steps the argo target writes for a component without a
    rollout is the generator's."""
    assert SUGGESTED_STEPS == CANARY_STEPS


# -- third-party objects ---------------------------------------------------------------------

HPA = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: checkout, namespace: shop}
spec:
  replicas: 3
  selector: {matchLabels: {app: checkout}}
  template:
    metadata: {labels: {app: checkout}}
    spec:
      containers:
        - name: checkout
          image: ghcr.io/acme/checkout:2.3.1
          ports: [{containerPort: 8080}]
          resources:
            requests: {cpu: 500m, memory: 256Mi}
            limits: {cpu: "2", memory: 512Mi}
---
apiVersion: v1
kind: Service
metadata: {name: checkout, namespace: shop}
spec:
  type: LoadBalancer
  selector: {app: checkout}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: checkout, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: checkout}
  minReplicas: 3
  maxReplicas: 50
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
    - type: Pods
      pods:
        metric: {name: http_requests_per_second}
        target: {type: AverageValue, averageValue: "150"}
    - type: External
      external:
        metric: {name: sqs_messages_visible, selector: {matchLabels: {queue: orders}}}
        target: {type: AverageValue, averageValue: "30"}
    - type: Resource
      resource: {name: memory, target: {type: Utilization, averageUtilization: 80}}
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 30
      policies:
        - {type: Percent, value: 200, periodSeconds: 60}
        - {type: Pods, value: 10, periodSeconds: 60}
      selectPolicy: Max
    scaleDown:
      stabilizationWindowSeconds: 600
      policies: [{type: Pods, value: 2, periodSeconds: 120}]
      selectPolicy: Min
"""


def test_a_hand_written_hpa_with_behavior(tmp_path: Path) -> None:
    manifest = tmp_path / "checkout.yaml"
    manifest.write_text(HPA)
    imported = import_k8s([str(manifest)])
    autoscale = imported.system.components["checkout"].autoscale
    assert autoscale is not None
    assert (autoscale.min, autoscale.max) == (3, 50)
    # 60 % of the 500m request is 0.3 cores: 15 % of the 2 workers the 2-core limit gives
    assert [(m.cpu, m.rps) for m in autoscale.metrics] == [(pytest.approx(0.15), None),
                                                           (None, 150.0)]
    up, down = autoscale.scale_up, autoscale.scale_down
    assert (up.stabilization, up.select, down.stabilization, down.select) == \
        (30.0, "max", 600.0, "min")
    assert [(p.percent, p.pods, p.period) for p in up.policies] == \
        [(2.0, None, 60.0), (None, 10, 60.0)]
    assert [(p.pods, p.period) for p in down.policies] == [(2, 120.0)]
    notes = " ".join(imported.notes)
    assert "spec.metrics[2] (External sqs_messages_visible) has no spec counterpart" in notes
    assert "spec.metrics[3] (Resource memory) has no spec counterpart" in notes
    line = HPA.splitlines().index("      stabilizationWindowSeconds: 30") + 1
    assert f"stabilization: 30s # from {manifest}:{line}: HorizontalPodAutoscaler checkout, " \
        "spec.behavior.scaleUp.stabilizationWindowSeconds" in imported.text
    assert "startup: 10s # PLACEHOLDER" in imported.text


KEDA = """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: rabbitmq}
spec:
  serviceName: rabbitmq
  selector: {matchLabels: {app: rabbitmq}}
  template:
    metadata: {labels: {app: rabbitmq}}
    spec:
      containers: [{name: rabbitmq, image: "rabbitmq:3.13-management",
                    ports: [{name: amqp, containerPort: 5672}]}]
---
apiVersion: v1
kind: Service
metadata: {name: rabbitmq}
spec: {selector: {app: rabbitmq}, ports: [{name: tcp-amqp, port: 5672}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: kafka}
spec:
  serviceName: kafka
  replicas: 3
  selector: {matchLabels: {app: kafka}}
  template:
    metadata: {labels: {app: kafka}}
    spec:
      containers: [{name: kafka, image: "bitnami/kafka:3.7", ports: [{containerPort: 9092}]}]
---
apiVersion: v1
kind: Service
metadata: {name: kafka}
spec: {selector: {app: kafka}, ports: [{name: tcp-kafka, port: 9092}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          image: acme/api:1.0
          ports: [{containerPort: 8080}]
          env:
            - {name: RABBITMQ_URL, value: "amqp://app:secret@rabbitmq:5672/"}
            - {name: KAFKA_BROKERS, value: "kafka:9092"}
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec: {type: LoadBalancer, selector: {app: api}, ports: [{name: http, port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: mailer}
spec:
  replicas: 0
  selector: {matchLabels: {app: mailer}}
  template:
    metadata: {labels: {app: mailer}}
    spec:
      containers:
        - name: mailer
          image: acme/mailer:1.0
          resources: {requests: {cpu: 250m}}
          env: [{name: RABBITMQ_URL, value: "amqp://app:secret@rabbitmq.default.svc:5672/"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: indexer}
spec:
  replicas: 1
  selector: {matchLabels: {app: indexer}}
  template:
    metadata: {labels: {app: indexer}}
    spec:
      containers:
        - name: indexer
          image: acme/indexer:1.0
          resources: {requests: {cpu: "1"}}
          env: [{name: KAFKA_BROKERS, value: "kafka:9092"}]
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata: {name: rabbitmq-auth}
spec:
  secretTargetRef: [{parameter: host, name: rabbitmq-secret, key: host}]
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: mailer}
spec:
  scaleTargetRef: {name: mailer}
  pollingInterval: 10
  cooldownPeriod: 120
  maxReplicaCount: 20
  triggers:
    - type: rabbitmq
      metadata:
        protocol: amqp
        queueName: emails
        mode: QueueLength
        value: "25"
        activationValue: "5"
        hostFromEnv: RABBITMQ_URL
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: indexer}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: indexer}
  minReplicaCount: 1
  maxReplicaCount: 12
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown:
          stabilizationWindowSeconds: 60
          policies: [{type: Percent, value: 50, periodSeconds: 30}]
  triggers:
    - type: kafka
      metadata: {bootstrapServers: "kafka.default.svc:9092", consumerGroup: indexer,
                 topic: documents}
    - type: cron
      metadata: {timezone: Europe/Paris, start: 0 8 * * *, end: 0 20 * * *,
                 desiredReplicas: "4"}
    - type: cpu
      metricType: Utilization
      metadata: {value: "70"}
"""


def test_keda_rabbitmq_and_kafka_scaled_objects(tmp_path: Path) -> None:
    manifest = tmp_path / "workers.yaml"
    manifest.write_text(KEDA)
    imported = import_k8s([str(manifest)])
    system = imported.system
    mailer, indexer = system.components["mailer"], system.components["indexer"]
    assert mailer.replicas == 0          # KEDA starts it from zero
    assert mailer.autoscale is not None and indexer.autoscale is not None
    assert (mailer.autoscale.min, mailer.autoscale.max) == (0, 20)        # KEDA's default min
    assert (mailer.autoscale.polling, mailer.autoscale.cooldown) == (10.0, 120.0)
    assert [m.queue.model_dump() for m in mailer.autoscale.metrics if m.queue] == \
        [{"of": "rabbitmq", "backlog": 25, "activation": 5}]
    assert (indexer.autoscale.min, indexer.autoscale.max) == (1, 12)
    assert [m.queue.model_dump() for m in indexer.autoscale.metrics if m.queue] == \
        [{"of": "kafka", "backlog": 10, "activation": 0}]                # KEDA's lagThreshold
    assert [m.cpu for m in indexer.autoscale.metrics if m.cpu] == [pytest.approx(0.7)]
    assert (indexer.autoscale.scale_down.stabilization,
            [(p.percent, p.period) for p in indexer.autoscale.scale_down.policies]) == \
        (60.0, [(0.5, 30.0)])
    assert [system.resolve(c.to)[0] for c in system.components["rabbitmq"].consumers] == \
        ["mailer"]
    assert [system.resolve(c.to)[0] for c in system.components["kafka"].consumers] == \
        ["indexer"]
    assert any("spec.triggers[1] (cron) has no spec counterpart" in note
               for note in imported.notes)
    assert "backlog: 10 # messages per replica: KEDA's default lagThreshold 10" in imported.text
    assert [c.prefetch for c in system.components["rabbitmq"].consumers] == [1]


CPU_ONLY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker}
spec:
  replicas: 2
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers:
        - {name: worker, image: acme/worker:1.0, resources: {requests: {cpu: "1"}}}
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: worker}
spec:
  scaleTargetRef: {name: worker}
  minReplicaCount: 1
  maxReplicaCount: 5
  pollingInterval: 10
  cooldownPeriod: 60
  triggers:
    - {type: cpu, metricType: Utilization, metadata: {value: "60"}}
"""


def test_a_cpu_only_scaled_object_keeps_its_autoscale_without_polling_or_cooldown(
        tmp_path: Path) -> None:
    """KEDA's pollingInterval and cooldownPeriod drive activation and scaling to zero, which
    the spec simulates for queue metrics only (and refuses without one): a CPU-only
    ScaledObject is the HPA's 1 to N, imported with a note instead of the two."""
    manifest = tmp_path / "worker.yaml"
    manifest.write_text(CPU_ONLY)
    imported = import_k8s([str(manifest)])
    autoscale = imported.system.components["worker"].autoscale
    assert autoscale is not None
    assert (autoscale.min, autoscale.max, [m.cpu for m in autoscale.metrics]) == \
        (1, 5, [pytest.approx(0.6)])
    assert not {"polling", "cooldown"} & autoscale.model_fields_set
    assert any("ScaledObject worker: spec.pollingInterval and spec.cooldownPeriod left out: "
               "KEDA polls its triggers to activate the target and scale it to zero" in note
               for note in imported.notes), imported.notes


def test_the_imported_keda_consumer_starts_from_zero_at_its_polling_interval(
        tmp_path: Path) -> None:
    """KEDA's state machine on the imported numbers: nothing waits at the 0 s poll; at the
    10 s poll (pollingInterval) 10/s of publishes exceed activationValue 5, so 0 → 1."""
    manifest = tmp_path / "workers.yaml"
    manifest.write_text(KEDA)
    text = import_k8s([str(manifest)]).text
    result = simulate(load_spec_text(text, "workers.yaml", ["simulation.duration=12s"]))
    events = result["components"]["mailer"]["scaling"]["events"]
    assert [(e["t_s"], e["from"], e["to"]) for e in events] == [(10.0, 0, 1)]


ARGO = """\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: checkout, namespace: shop}
spec:
  replicas: 5
  selector: {matchLabels: {app: checkout}}
  template:
    metadata: {labels: {app: checkout}}
    spec:
      containers:
        - {name: checkout, image: "acme/checkout:2.0", ports: [{containerPort: 8080}],
           resources: {requests: {cpu: "1"}}}
  strategy:
    canary:
      canaryService: checkout-canary
      stableService: checkout-stable
      trafficRouting:
        istio: {virtualService: {name: checkout-vsvc, routes: [primary]}}
      analysis:
        templates: [{templateName: success-rate}]
        startingStep: 6
        args: [{name: service-name, value: checkout-canary.shop.svc.cluster.local}]
      steps:
        - setWeight: 5
        - pause: {duration: 10m}
        - setWeight: 20
        - pause: {}
        - analysis: {templates: [{templateName: latency}]}
        - experiment:
            duration: 5m
            templates: [{name: baseline, specRef: stable}]
        - setWeight: 60
        - pause: {duration: 300}
---
apiVersion: v1
kind: Service
metadata: {name: checkout-stable, namespace: shop}
spec: {selector: {app: checkout}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: checkout-canary, namespace: shop}
spec: {selector: {app: checkout}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: success-rate, namespace: shop}
spec:
  args: [{name: service-name}]
  metrics:
    - name: success-rate
      interval: 5m
      successCondition: result[0] >= 0.95
      failureLimit: 3
      provider:
        prometheus:
          address: http://prometheus.istio-system:9090
          query: |
            sum(irate(istio_requests_total{reporter="source",
              destination_service=~"{{args.service-name}}",response_code!~"5.*"}[5m])) /
            sum(irate(istio_requests_total{reporter="source",
              destination_service=~"{{args.service-name}}"}[5m]))
---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: latency, namespace: shop}
spec:
  metrics:
    - name: p95-latency
      interval: 1m
      count: 3
      successCondition: result[0] < 0.5
      failureCondition: result[0] >= 1
      provider:
        prometheus:
          address: http://prometheus.monitoring:9090
          query: >-
            histogram_quantile(0.95,
            sum(rate(http_request_duration_seconds_bucket{service="checkout"}[1m])) by (le))
    - name: smoke
      provider:
        web: {url: "http://checkout-canary.shop/healthz", jsonPath: "{$.ok}"}
      successCondition: result == true
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: search, namespace: shop}
spec:
  replicas: 4
  selector: {matchLabels: {app: search}}
  template:
    metadata: {labels: {app: search}}
    spec:
      containers: [{name: search, image: "acme/search:7", ports: [{containerPort: 8080}]}]
  strategy:
    blueGreen:
      activeService: search
      previewService: search-preview
      autoPromotionEnabled: false
      scaleDownDelaySeconds: 60
      prePromotionAnalysis:
        templates: [{templateName: smoke-errors, clusterScope: true}]
---
apiVersion: v1
kind: Service
metadata: {name: search, namespace: shop}
spec: {selector: {app: search}, ports: [{name: http, port: 80}]}
---
apiVersion: argoproj.io/v1alpha1
kind: ClusterAnalysisTemplate
metadata: {name: smoke-errors}
spec:
  metrics:
    - name: errors
      successCondition: result[0] <= 0.01
      provider:
        prometheus:
          address: http://prometheus.monitoring:9090
          query: >-
            sum(rate(http_requests_total{code=~"5.."}[2m])) / sum(rate(http_requests_total[2m]))
"""


def test_argo_canary_with_analysis_templates_and_a_blue_green(tmp_path: Path) -> None:
    manifest = tmp_path / "rollouts.yaml"
    manifest.write_text(ARGO)
    imported = import_k8s([str(manifest)])
    canary = imported.system.components["checkout"].rollout
    assert canary is not None and canary.strategy == "canary" and canary.traffic_routing
    assert [s.model_dump(exclude_none=True) | ({"analysis": "…"} if s.analysis else {})
            for s in canary.steps] == [
        {"set_weight": 0.05}, {"pause": 600.0}, {"set_weight": 0.2}, {"pause": 60.0},
        {"analysis": "…"}, {"set_weight": 0.6}, {"pause": 300.0}]     # the experiment is out
    step = canary.steps[4].analysis
    assert step is not None and (step.interval, step.count) == (60.0, 3)
    assert step.p95 is not None and (step.p95.max, step.p95.fail_above) == (0.5, 1.0)
    background = canary.analysis
    assert background is not None and background.error_rate is not None
    assert background.error_rate.max == pytest.approx(0.05)          # 95 % success
    assert (background.interval, background.failure_limit) == (300.0, 3)
    assert background.starting_step == 5          # Argo's step 6, without the experiment
    blue = imported.system.components["search"].rollout
    assert blue is not None and blue.strategy == "blue_green"
    assert (blue.auto_promotion, blue.scale_down_delay) == (False, 60.0)
    pre = blue.pre_promotion_analysis
    assert pre is not None and pre.error_rate is not None and pre.error_rate.max == 0.01
    assert (pre.count, pre.interval) == (1, 120.0)    # measured once, over the query's range
    notes = " ".join(imported.notes)
    assert "spec.strategy.canary.steps[5] (experiment) is not simulated" in notes
    assert "spec.metrics[1] has no Prometheus query (provider web)" in notes
    assert "pause: 60s # PLACEHOLDER" in imported.text         # `pause: {}` waits for a person
    assert "2 components roll out at the same PLACEHOLDER time" in notes


def test_a_pause_imports_as_the_whole_seconds_argo_waits(tmp_path: Path) -> None:
    """Argo truncates a pause to int32 seconds (RolloutPause.DurationSeconds): 1500ms waits
    1 s, and 500ms not at all. A fractional pause dropped the whole rollout, the spec's
    pause being whole seconds."""
    manifest = tmp_path / "argo.yaml"
    steps = ("        - setWeight: 20\n        - pause: {duration: 1500ms}\n"
             "        - pause: {duration: 500ms}\n        - setWeight: 50\n")
    text = ARGO.split("---")[0]
    start = text.index("      steps:\n") + len("      steps:\n")
    manifest.write_text(text[:start] + steps)
    imported = import_k8s([str(manifest)])
    rollout = load_spec_text(imported.text).components["checkout"].rollout
    assert rollout is not None
    assert [(s.set_weight, s.pause) for s in rollout.steps] == [
        (0.2, None), (None, 1.0), (0.5, None)]
    assert "1500ms, which Argo truncates to whole seconds" in imported.text
    assert "spec.strategy.canary.steps[2] pauses 500ms, which Argo truncates to 0 s (no " \
        "pause); left out" in " ".join(imported.notes)


def test_a_canary_spelled_like_the_default_is_a_rollout_without_scalesim_label(
        tmp_path: Path) -> None:
    manifest = tmp_path / "rollout.yaml"
    manifest.write_text(ARGO.split("---")[0].replace(
        ARGO.split("strategy:\n", 1)[1].split("---")[0],
        "    canary:\n      steps: " + yaml.safe_dump(CANARY_STEPS, default_flow_style=True)))
    rollout = import_k8s([str(manifest)]).system.components["checkout"].rollout
    assert rollout is not None and len(rollout.steps) == len(CANARY_STEPS)


def test_two_autoscalers_on_one_workload_keep_the_first(tmp_path: Path) -> None:
    manifest = tmp_path / "checkout.yaml"
    manifest.write_text(HPA + "---\n" + HPA.split("---")[-1].replace(
        "name: checkout, namespace", "name: checkout-memory, namespace", 1))
    imported = import_k8s([str(manifest)])
    assert imported.system.components["checkout"].autoscale is not None
    assert any("HorizontalPodAutoscaler checkout-memory: checkout is scaled by "
               "HorizontalPodAutoscaler checkout already" in note for note in imported.notes)


# -- strange values never crash, never make an invalid spec ----------------------------------

CONTROL_KINDS = ("HorizontalPodAutoscaler", "ScaledObject", "Rollout", "AnalysisTemplate",
                 "ClusterAnalysisTemplate")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_strange_values_in_control_objects_are_noted_or_located(data: st.DataObject) -> None:
    """Any value of an HPA, ScaledObject, Rollout or AnalysisTemplate replaced by junk: the
    import gives a valid spec (what does not fit is noted) or a located error, nothing else."""
    documents = list(yaml.safe_load_all(data.draw(st.sampled_from([HPA, KEDA, ARGO]))))
    chosen = data.draw(st.sampled_from([d for d in documents if d["kind"] in CONTROL_KINDS]))
    spoil(data, chosen["spec"])
    assert_noted_or_located(yaml.safe_dump_all(documents, sort_keys=False))


@pytest.mark.parametrize(("request_cpu", "limit", "utilization", "cpu"), [
    ("750m", "1", 70, 0.53),      # 0.525 cores of 1 worker: 52.5 %, a half rounded up
    ("1500m", "2", 50, 0.38),     # 0.75 cores of 2 workers: 37.5 %
    ("500m", "1", 73, 0.37),      # 0.365 cores: 36.5 %
    ("700m", "1", 45, 0.32)])     # 0.315 cores: 31.5 %
def test_a_cpu_target_is_its_exact_share_with_halves_rounded_up(
        tmp_path: Path, request_cpu: str, limit: str, utilization: int, cpu: float) -> None:
    """The utilization of the request, over the workers, is computed on the quantities as
    written (no float error tips a half either way) and rounded half up."""
    manifest = tmp_path / "checkout.yaml"
    manifest.write_text(HPA.replace("requests: {cpu: 500m", f"requests: {{cpu: {request_cpu}")
                        .replace('limits: {cpu: "2"', f'limits: {{cpu: "{limit}"')
                        .replace("averageUtilization: 60", f"averageUtilization: {utilization}"))
    autoscale = import_k8s([str(manifest)]).system.components["checkout"].autoscale
    assert autoscale is not None
    assert autoscale.metrics[0].cpu == pytest.approx(cpu)
