"""Kubernetes + Istio manifests in the style of public microservices demos import as
expected; bad input names its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.importers import boutique

from scalesim.importers import ImportFailed, import_k8s
from scalesim.sim import simulate
from scalesim.spec import System, load_spec_text
from scalesim.spec.bounds import MAX_CONCURRENCY
from scalesim.spec.checks import iter_calls
from scalesim.spec.model import Call, Kind
from scalesim.spec.resilience import ConnectionPool, OutlierDetection


@pytest.fixture
def demo(tmp_path: Path) -> System:
    return import_k8s(boutique.write(tmp_path)).system


def call(system: System, caller: str, callee: str) -> Call:
    return next(c for name, _, _, c in iter_calls(system) if name == caller and c.to == callee)


def test_every_deployment_becomes_a_component_with_its_replicas(demo: System) -> None:
    assert list(demo.components) == [*boutique.SERVICES, "redis-cart", "stripe"]
    for name in boutique.SERVICES:
        assert demo.components[name].replicas == boutique.REPLICAS.get(name, 1), name
        assert demo.components[name].kind is Kind.SERVICE
        assert demo.components[name].workers == 1      # 200m limit: 0.2 cores
    # the cart's Redis has no database behind it: it is the store itself
    assert (demo.components["redis-cart"].kind, demo.components["redis-cart"].tech) == \
        (Kind.DATABASE, "redis")


def test_calls_follow_the_address_variables(demo: System) -> None:
    for caller, (_, env) in boutique.SERVICES.items():
        expected = [address.split(":")[0] for address in env.values()]
        if caller == "checkoutservice":
            expected.append("emailservice")     # from the ConfigMap
        if caller == "paymentservice":
            expected.append("stripe")           # its ServiceEntry's host
        got = [c.to for c in demo.components[caller].operations["handle"].calls]
        assert got == expected, caller


def test_istio_routes_set_timeouts_retries_and_deadlines(demo: System) -> None:
    # 3 retries of 1 s each plus back-off would take 4.75 s: the route's 3 s is a deadline
    catalog = call(demo, "frontend", "productcatalogservice")
    assert (catalog.timeout, catalog.deadline) == (1.0, 3.0)
    assert catalog.retry is not None and catalog.retry.attempts == 4
    # retryOn 5xx,connect-failure: Envoy's 5xx retries every 5xx, every reset (a connection
    # failure, a refused stream, a per-try timeout) too; only gRPC's unavailable and 429 not
    assert catalog.retry.on == ["timeout", "rejected", "error", "crashed", "overflow", "shed"]
    payment = call(demo, "checkoutservice", "paymentservice")
    assert (payment.timeout, payment.retry) == (2.0, None)   # attempts: 0
    # no route sets retries: Istio retries twice on connect-failure,refused-stream,
    # unavailable,cancelled,retriable-status-codes (no codes listed: none)
    shipping = call(demo, "frontend", "shippingservice")
    assert shipping.timeout is None
    assert shipping.retry is not None and (shipping.retry.attempts, shipping.retry.on) == \
        (3, ["unavailable"])
    # the cart's DestinationRule caps concurrent retries at every caller
    cart = call(demo, "checkoutservice", "cartservice")
    assert cart.retry is not None and cart.retry.max_concurrent == 3
    # the Redis wire protocol is TCP: no mesh retries
    assert call(demo, "cartservice", "redis-cart").retry is None


@pytest.mark.parametrize(("retry_on", "on", "notes"), [
    ("5xx,connect-failure", ["timeout", "rejected", "error", "crashed", "overflow", "shed"],
     []),
    # a 409 only: nothing the spec retries, so no retry (not Istio's default either)
    ("retriable-4xx", None, ["retriable-4xx has no spec cause; left out",
                             "retriable-4xx retries no spec cause: the call is not retried"]),
    ("connect-failure", None, [
        "connect-failure is only part of what crashed, unavailable fail with; left out",
        "connect-failure retries no spec cause: the call is not retried"]),
])
def test_a_routes_retry_on_reads_as_the_causes_it_retries(
        tmp_path: Path, retry_on: str, on: list[str] | None, notes: list[str]) -> None:
    """Notes name only what the spec cannot retry (it said 'connect-failure has no spec
    cause' beside 5xx, which retries every connection failure)."""
    paths = boutique.write(tmp_path)
    istio = Path(paths[1])
    istio.write_text(istio.read_text().replace("retryOn: 5xx,connect-failure",
                                               f"retryOn: {retry_on}"))
    imported = import_k8s(paths)
    catalog = call(imported.system, "frontend", "productcatalogservice")
    assert (catalog.retry.on if catalog.retry else None) == on
    where = "VirtualService productcatalogservice spec.http[0].retries.retryOn: "
    assert [n.removeprefix(where) for n in imported.notes if "retryOn" in n] == notes


def test_service_entries_are_external_components(tmp_path: Path) -> None:
    imported = import_k8s(boutique.write(tmp_path))
    stripe = call(imported.system, "paymentservice", "stripe")
    assert imported.system.components["stripe"].kind is Kind.EXTERNAL
    # no retries on the route: Istio's two, all within the route's 5 s
    assert (stripe.timeout, stripe.deadline) == (None, 5.0)
    assert stripe.retry is not None and stripe.retry.attempts == 3
    # a host nothing in the files declares is reported, not guessed
    assert any(note.startswith("emailservice names smtp.mail.example") for note in
               imported.notes)


def test_destination_rules_and_faults(demo: System) -> None:
    cart = demo.components["cartservice"]
    assert cart.connection_pool == ConnectionPool(
        max_connections=100, max_pending_requests=10, max_requests=MAX_CONCURRENCY)
    assert cart.outlier_detection == OutlierDetection(
        consecutive_5xx=7, interval="5s", base_ejection_time="1m", max_ejection_percent=0.5)
    assert demo.components["currencyservice"].balancer.value == "least_requests"
    faults = {f.target: f for f in demo.faults}
    assert faults["paymentservice"].error_rate == 0.1
    delay = faults["currencyservice"].latency
    assert delay is not None and delay.add is not None
    assert delay.add.mean_s == pytest.approx(1.0)      # 2 s on half the requests


@pytest.mark.parametrize("zeros", [
    "tcp: {maxConnections: 0}\n      http: {http1MaxPendingRequests: 0, http2MaxRequests: 0, "
    "maxRetries: 0}",
    "tcp: {maxConnections: 0}\n      http: {http1MaxPendingRequests: 0, maxRetries: 0}"])
def test_a_connection_pool_limit_of_0_is_unset(tmp_path: Path, zeros: str) -> None:
    """Istio applies only limits above 0 (a 0 leaves its default, no limit): no pool of one
    connection, no queue where nothing may wait, no cap on concurrent retries."""
    paths = boutique.write(tmp_path)
    istio = Path(paths[1])
    text = istio.read_text()
    pool = "tcp: {maxConnections: 100}\n      http: {http1MaxPendingRequests: 10, maxRetries: 3}"
    assert text.count(pool) == 1
    istio.write_text(text.replace(pool, zeros))
    system = import_k8s(paths).system
    assert system.components["cartservice"].connection_pool is None
    cart = call(system, "checkoutservice", "cartservice")
    assert cart.retry is None or cart.retry.max_concurrent is None


def test_pool_and_retry_fields_without_a_spec_field_are_noted(tmp_path: Path) -> None:
    paths = boutique.write(tmp_path)
    istio = Path(paths[1])
    text = istio.read_text()
    pool = "tcp: {maxConnections: 100}\n      http: {http1MaxPendingRequests: 10, maxRetries: 3}"
    istio.write_text(text.replace(pool, "tcp: {maxConnections: 100, connectTimeout: 300ms}\n"
                                  "      http: {http1MaxPendingRequests: 10, maxRetries: 3, "
                                  "idleTimeout: 30s, maxRequestsPerConnection: 10}").replace(
        "retryOn: 5xx,connect-failure", "retryOn: 5xx,connect-failure\n"
        "        retryRemoteLocalities: true"))
    notes = import_k8s(paths).notes
    assert [note for note in notes if "connectionPool." in note] == [
        f"DestinationRule cartservice: connectionPool.{field} has no spec field; left out"
        for field in ("tcp.connectTimeout", "http.idleTimeout",
                      "http.maxRequestsPerConnection")]
    assert "VirtualService productcatalogservice spec.http[0].retries.retryRemoteLocalities: " \
        "the spec has no localities; left out" in notes


def test_a_cpu_of_0_and_a_label_on_one_object_say_so(tmp_path: Path) -> None:
    """A CPU request of 0 is one, not "no CPU request or limit"; one object is no
    "objects"."""
    path = tmp_path / "api.yaml"
    path.write_text("""\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, labels: {app.kubernetes.io/part-of: shop}}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          image: acme/api
          resources: {requests: {cpu: "0"}}
""")
    imported = import_k8s([str(path)])
    assert imported.system.components["api"].workers == 1
    assert f"workers: 1 # PLACEHOLDER: {path}:12 (spec.template.spec.containers[0]." \
        "resources.requests.cpu) is 0 cores, which says nothing of the requests one replica " \
        "serves at once; set them" in imported.text
    assert "name: shop # the app.kubernetes.io/part-of label of 1 object\n" in imported.text


def test_the_imported_demo_simulates(tmp_path: Path) -> None:
    """What is imported runs: every frontend request reaches the services it names, and the
    imported 2 s delay on half of currencyservice's requests shows in its latency."""
    text = import_k8s(boutique.write(tmp_path)).text
    result = simulate(load_spec_text(text, "demo.yaml", ["simulation.duration=20s"]))
    assert result["requests"]["total"] > 100                 # 10/s for 20 s
    served = {name: sum(op["requests"]["total"] for op in c["operations"].values())
              for name, c in result["components"].items()}
    assert all(count > 0 for count in served.values()), served
    assert result["components"]["currencyservice"]["latency_ms"]["p90"] >= 2000.0


def test_entry_points_and_what_is_not_imported(tmp_path: Path) -> None:
    imported = import_k8s(boutique.write(tmp_path))
    assert [w.to for w in imported.system.workloads] == ["frontend"]
    autoscale = imported.system.components["frontend"].autoscale
    assert autoscale is not None and (autoscale.min, autoscale.max) == (3, 10)
    # 70 % of the 100m request is 0.07 cores: 7 % of the one worker its 200m limit gives
    assert [m.cpu for m in autoscale.metrics] == [pytest.approx(0.07)]
    assert any("10 ServiceAccount" in note for note in imported.notes)
    assert imported.system.name == tmp_path.name.replace("_", "-")   # the folder's
    assert "# from " + str(tmp_path / "kubernetes-manifests.yaml") + ":7: Deployment " \
        "frontend, spec.replicas" in imported.text


def test_a_list_and_folders_are_read(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "list.json").write_text(
        '{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "apps/v1", '
        '"kind": "Deployment", "metadata": {"name": "api", "namespace": "shop"}, "spec": '
        '{"replicas": 4, "template": {"metadata": {"labels": {"app": "api"}}, "spec": '
        '{"containers": [{"name": "api", "image": "acme/api"}]}}}}]}')
    with pytest.raises(ImportFailed, match="use --recursive"):
        import_k8s([str(tmp_path)])
    system = import_k8s([str(tmp_path)], recursive=True).system
    assert system.components["api"].replicas == 4
    assert system.name == "shop"


DEPLOYMENT = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n"
              "  template:\n    spec:\n      containers: [{name: api, image: acme/api}]\n")


@pytest.mark.parametrize(("text", "line", "message"), [
    (DEPLOYMENT + "---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
     9, "unknown kind Widget (example.com/v1) named w"),
    (DEPLOYMENT + "---\n" + DEPLOYMENT, 9, "Deployment api in namespace default is defined "
     "twice"),
    ("services:\n  web: {image: nginx}\n", 1, "use `scalesim import compose`"),
    ("apiVersion: v1\nkind: Service\nmetadata: {}\n", 1, "no metadata.name"),
    # an empty name is no name: the API server refuses it (Required value)
    (DEPLOYMENT.replace("{name: api}", "\n  name: ''"), 4,
     "not a Kubernetes object: no metadata.name (it is empty)"),
    ("- just\n- a list\n", 1, "not a Kubernetes object"),
    ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: 2}\n", 1,
     "no pod template"),
    # the parser runs out of text at the line after the last: the last line is named
    ("kind: Service\nmetadata: {name: a\n", 2, "not valid YAML"),
    ('{"apiVersion": "v1", "kind": "Service"', 1, "not valid YAML"),   # truncated JSON
])
def test_bad_input_names_file_and_line(tmp_path: Path, text: str, line: int,
                                        message: str) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(text)
    with pytest.raises(ImportFailed) as caught:
        import_k8s([str(manifest)])
    problem = caught.value.problems[0]
    assert (problem.file, problem.line) == (str(manifest), line)
    assert message in problem.message


def test_unknown_kinds_can_be_skipped(tmp_path: Path) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(DEPLOYMENT + "---\napiVersion: example.com/v1\nkind: Widget\n"
                        "metadata: {name: w}\n")
    imported = import_k8s([str(manifest)], skip_unknown=True)
    assert list(imported.system.components) == ["api"]
    assert any("unknown kind Widget" in note and "skipped" in note for note in imported.notes)


def test_a_statefulset_pod_name_reaches_its_component(tmp_path: Path) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(
        DEPLOYMENT.replace("image: acme/api}", "image: acme/api, env: [{name: DB_HOST, "
                           "value: db-0.db.default.svc.cluster.local}]}")
        + "---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n"
        "  serviceName: db\n  template:\n    metadata: {labels: {app: db}}\n    spec:\n"
        "      containers: [{name: db, image: 'mysql:8'}]\n---\napiVersion: v1\n"
        "kind: Service\nmetadata: {name: db}\nspec: {clusterIP: None, selector: {app: db}}\n")
    system = import_k8s([str(manifest)]).system
    assert [c.to for c in system.components["api"].operations["handle"].calls] == ["db"]


@pytest.mark.parametrize(("text", "message"), [
    ("a: &x [*x]\n", "refers to itself"),
    ("a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
     "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e]\n"
     "g: [*f, *f]\n",
     "too large"),
])
def test_hostile_yaml_fails_cleanly(tmp_path: Path, text: str, message: str) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(text)
    with pytest.raises(ImportFailed, match=message):
        import_k8s([str(manifest)])


def test_merge_keys_are_expanded(tmp_path: Path) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\n"
                        "spec:\n  template:\n    spec:\n      containers:\n"
                        "        - &base {name: api, image: acme/api, resources: "
                        "{limits: {cpu: '3'}}}\n        - <<: *base\n          name: side\n")
    assert import_k8s([str(manifest)]).system.components["api"].workers == 3


CONTROL = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: acme/web, env: [{name: API_URL, value: "http://api"}]}]
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web-rollout}
spec:
  replicas: 5
  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  strategy: {canary: {steps: [{setWeight: 20}]}}
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: api}
spec:
  replicas: 3
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: acme/api}]
  strategy: {blueGreen: {activeService: api}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: acme/agent}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec: {selector: {app: api}, ports: [{name: http, port: 80}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: public}
spec:
  parentRefs: [{name: edge}]
  rules:
    - backendRefs: [{name: web, port: 80}]
"""


def test_rollouts_daemonsets_and_gateway_api_routes(tmp_path: Path) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(CONTROL)
    imported = import_k8s([str(manifest)])
    system = imported.system
    assert system.components["web"].replicas == 5       # the Rollout owns the replicas
    assert system.components["api"].replicas == 3      # a Rollout with its own template
    assert "replicas: 1 # PLACEHOLDER: a DaemonSet runs one replica per node" in imported.text
    assert [w.to for w in system.workloads] == ["web"]  # the HTTPRoute's backend
    assert [c.to for c in system.components["web"].operations["handle"].calls] == ["api"]
    web, api = (system.components[name].rollout for name in ("web", "api"))
    assert web is not None and web.strategy == "canary"
    assert [step.set_weight for step in web.steps] == [pytest.approx(0.2)]
    assert api is not None and api.strategy == "blue_green"


def imports_election(tmp_path: Path, name: str, text: str,
                     expected: dict[str, object] | None) -> str:
    """Import `text` (one workload, `name`): its election has the `expected` fields (None:
    it has none), commented with where it came from. Returns the imported spec's text."""
    manifest = tmp_path / f"{name}.yaml"
    manifest.write_text(text)
    imported = import_k8s([str(manifest)])
    election = imported.system.components[name].leader_election
    if expected is None:
        assert election is None
    else:
        assert election is not None
        assert election.model_dump(include=set(expected)) == expected
        assert "leader_election: # from" in imported.text
    return imported.text


CONTROLLER = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ctl}\nspec:\n"
              "  replicas: 3\n  template:\n    spec:\n      containers:\n"
              "        - name: manager\n          image: acme/manager\n"
              "          command: [/manager]\n          args: {args}\n")


@pytest.mark.parametrize(("args", "expected"), [
    # kubebuilder's scaffold: a bare flag, client-go's defaults (15 s / 10 s / 2 s)
    ('["--leader-elect"]', {"type": "lease", "lease_duration": 15.0, "renew_deadline": 10.0,
                            "retry_period": 2.0}),
    # kube-controller-manager's flags, `=value` and `value` forms
    ('["--leader-elect=true", "--leader-elect-lease-duration=30s", '
     '"--leader-elect-renew-deadline", "20s", "--leader-elect-retry-period=1500ms"]',
     {"type": "lease", "lease_duration": 30.0, "renew_deadline": 20.0, "retry_period": 1.5}),
    ('["--leader-elect=false", "--leader-elect-lease-duration=30s"]', None),
    ('["--metrics-bind-address=:8080"]', None),
])
def test_leader_election_flags_become_a_lease_election(tmp_path: Path, args: str,
                                                        expected: dict[str, object] | None
                                                        ) -> None:
    text = imports_election(tmp_path, "ctl", CONTROLLER.replace("{args}", args), expected)
    assert expected is None or "ctl.yaml:12" in text


ETCD = ("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: etcd}\nspec:\n"
        "  replicas: 3\n  serviceName: etcd\n  template:\n    spec:\n      containers:\n"
        "        - name: etcd\n          image: {image}\n{rest}")


@pytest.mark.parametrize(("image", "rest", "expected"), [
    # the flags, `=value` and `value` forms (etcd's milliseconds)
    ("quay.io/coreos/etcd:v3.5.17",
     '          command: [/usr/local/bin/etcd, "--heartbeat-interval=250", '
     '"--election-timeout", "2500", "--pre-vote=false"]\n',
     {"type": "raft", "heartbeat": 0.25, "election_timeout": 2.5, "pre_vote": False}),
    # bitnami's chart: the ETCD_* environment etcd reads the same way
    ("bitnami/etcd:3.5",
     "          env:\n            - {name: ETCD_HEARTBEAT_INTERVAL, value: '200'}\n"
     "            - {name: ETCD_ELECTION_TIMEOUT, value: '2000'}\n",
     {"type": "raft", "heartbeat": 0.2, "election_timeout": 2.0, "pre_vote": True}),
    # nothing said: etcd's defaults (100 ms, 1 s, pre-vote on)
    ("registry.k8s.io/etcd:3.5.15-0", "          command: [etcd]\n",
     {"type": "raft", "heartbeat": 0.1, "election_timeout": 1.0, "pre_vote": True,
      "check_quorum": True}),
    ("acme/etcd-backup:1", "          command: [/backup]\n", None),
])
def test_an_etcd_member_becomes_a_raft_election(tmp_path: Path, image: str, rest: str,
                                                expected: dict[str, object] | None) -> None:
    imports_election(tmp_path, "etcd", ETCD.replace("{image}", image).replace("{rest}", rest),
                     expected)


def test_a_single_replica_with_leader_election_is_imported_without_it(tmp_path: Path) -> None:
    """kubebuilder scaffolds one replica with --leader-elect: nobody can take over, and the
    spec needs two members for an election, so the import leaves it out and says why."""
    manifest = tmp_path / "ctl.yaml"
    manifest.write_text(CONTROLLER.replace("replicas: 3", "replicas: 1")
                        .replace("{args}", '["--leader-elect"]'))
    imported = import_k8s([str(manifest)])
    assert imported.system.components["ctl"].replicas == 1
    assert imported.system.components["ctl"].leader_election is None
    assert any("ctl: its leader election" in note and "no one to take over" in note
               for note in imported.notes)


def test_leader_election_flags_a_spec_cannot_hold_are_left_out_with_a_note(tmp_path: Path
                                                                          ) -> None:
    """The Lease stores whole seconds (leaseDurationSeconds): 1.5 s is refused, as client-go
    would truncate it; the note says why, and the rest of the import stands."""
    manifest = tmp_path / "ctl.yaml"
    manifest.write_text(CONTROLLER.replace(
        "{args}", '["--leader-elect", "--leader-elect-lease-duration=1500ms", '
        '"--leader-elect-renew-deadline=1s", "--leader-elect-retry-period=500ms"]'))
    imported = import_k8s([str(manifest)])
    assert imported.system.components["ctl"].leader_election is None
    assert any("ctl: its leader_election" in note and "left out" in note
               for note in imported.notes)


TWO_NAMESPACES = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - {name: api, image: acme/api:1.0, resources: {requests: {cpu: "1"}},
           env: [{name: ORDERS_URL, value: "http://orders:8080"},
                 {name: LEDGER_URL, value: "http://orders.billing.svc:5432"}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {type: LoadBalancer, selector: {app: api}, ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: orders, namespace: shop}
spec:
  replicas: 3
  selector: {matchLabels: {app: orders}}
  template:
    metadata: {labels: {app: orders}}
    spec:
      containers: [{name: orders, image: acme/orders:1.0, resources: {requests: {cpu: "2"}}}]
---
apiVersion: v1
kind: Service
metadata: {name: orders, namespace: shop}
spec: {selector: {app: orders}, ports: [{port: 8080}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: orders, namespace: billing}
spec:
  serviceName: orders
  selector: {matchLabels: {app: orders}}
  template:
    metadata: {labels: {app: orders}}
    spec:
      containers: [{name: orders, image: "postgres:17", resources: {limits: {cpu: "4"}}}]
---
apiVersion: v1
kind: Service
metadata: {name: orders, namespace: billing}
spec: {selector: {app: orders}, ports: [{port: 5432}]}
"""


def test_one_name_in_two_namespaces_is_two_components_qualified_by_namespace(
        tmp_path: Path) -> None:
    """`orders` is a service in `shop` and a database in `billing`: a spec has one namespace,
    so each is named after its own (as its DNS name orders.<namespace> maps), with a note;
    before, both were `orders` (one lost, or the writer failed on the other's comments)."""
    manifest = tmp_path / "app.yaml"
    manifest.write_text(TWO_NAMESPACES)
    imported = import_k8s([str(manifest)])
    system = imported.system
    assert set(system.components) == {"api", "orders-shop", "orders-billing"}
    shop, billing = system.components["orders-shop"], system.components["orders-billing"]
    assert (shop.kind, shop.replicas, shop.workers) == (Kind.SERVICE, 3, 2)
    assert (billing.kind, billing.tech, billing.workers) == (Kind.DATABASE, "postgres", 4)
    # the short name resolves in the caller's namespace, the qualified one in billing
    assert [c.to for c in system.components["api"].operations["handle"].calls] == \
        ["orders-shop", "orders-billing"]
    assert [(r.source, r.name, r.why) for r in imported.renamed] == [
        ("shop/orders", "orders-shop", "same name in another namespace"),
        ("billing/orders", "orders-billing", "same name in another namespace")]
    assert any("orders is a component name in 2 namespaces (billing, shop)" in note
               for note in imported.notes)
    assert "Renamed: shop/orders -> orders-shop" in imported.text


SAME_NAME_KINDS = """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: api}
spec:
  replicas: 3
  serviceName: api-db
  template:
    metadata: {labels: {app: api-db}}
    spec:
      containers: [{name: pg, image: "postgres:16"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          image: acme/api
          resources: {requests: {cpu: "1"}}
          env: [{name: DATABASE_URL, value: "postgres://api-db:5432/app"}]
---
apiVersion: v1
kind: Service
metadata: {name: api-db}
spec: {clusterIP: None, selector: {app: api-db}, ports: [{port: 5432}]}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 2
  maxReplicas: 8
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
"""


def test_workloads_of_different_kinds_with_one_name_are_two_components(
        tmp_path: Path) -> None:
    """A StatefulSet and a Deployment `api` are two objects Kubernetes runs side by side:
    each is a component (the second named api-2, as the naming rules number a clash), and
    the HPA aimed at the Deployment scales the Deployment. Before, the Deployment silently
    replaced the StatefulSet."""
    manifest = tmp_path / "app.yaml"
    manifest.write_text(SAME_NAME_KINDS)
    imported = import_k8s([str(manifest)])
    components = imported.system.components
    assert set(components) == {"api", "api-2"}
    database, service = components["api"], components["api-2"]
    assert (database.kind, database.tech, database.replicas) == (Kind.DATABASE, "postgres", 3)
    assert (service.kind, service.replicas) == (Kind.SERVICE, 2)
    assert database.autoscale is None
    assert (service.autoscale.min, service.autoscale.max) == (2, 8)
    assert [call.to for call in service.operations["handle"].calls] == ["api"]
    assert [(r.source, r.name, r.why) for r in imported.renamed] == [
        ("Deployment api", "api-2", "same name as StatefulSet api")]
    assert "2 workloads of different kinds are named api in namespace default: Kubernetes " \
        "runs each, so each is a component (StatefulSet api -> api, Deployment api -> api-2)" \
        in imported.notes


def test_telemetry_names_and_kafka_listener_names_are_not_calls(tmp_path: Path) -> None:
    """Unified tagging sets the worker's telemetry name to its app's (`orders`): the worker
    never calls orders. A Kafka broker's inter-broker listener name is no host either."""
    worker = DEPLOYMENT.replace("name: api}", "name: orders-worker}").replace(
        "[{name: api, image: acme/api}]",
        "[{name: w, image: acme/orders, env: [{name: OTEL_SERVICE_NAME, value: orders}, "
        "{name: DD_SERVICE, value: orders}, {name: OTEL_RESOURCE_ATTRIBUTES, value: "
        "'service.namespace=shop'}]}]")
    orders = DEPLOYMENT.replace("name: api}", "name: orders}").replace(
        "spec:\n  template:", "spec:\n  selector: {matchLabels: {app: orders}}\n  template:\n"
        "    metadata: {labels: {app: orders}}")
    kafka = DEPLOYMENT.replace("name: api}", "name: kafka}").replace(
        "[{name: api, image: acme/api}]",
        "[{name: k, image: 'apache/kafka:3.7', env: [{name: KAFKA_INTER_BROKER_LISTENER_NAME, "
        "value: PLAINTEXT}]}]")
    manifest = tmp_path / "app.yaml"
    manifest.write_text("---\n".join([orders, worker, kafka,
                                      "apiVersion: v1\nkind: Service\nmetadata: {name: orders}"
                                      "\nspec: {selector: {app: orders}, ports: [{port: 80}]}\n"]))
    imported = import_k8s([str(manifest)])
    assert imported.system.components["orders-worker"].operations["handle"].calls == []
    assert not [note for note in imported.notes if "plaintext" in note]


CONNECTION_STRINGS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: orders}
spec:
  template:
    metadata: {labels: {app: orders}}
    spec:
      containers:
        - name: orders
          image: acme/orders
          env:
            - {name: DB_DSN, value: "host=orders-db port=5432 user=orders password=s3cret"}
            - {name: INVENTORY_GRPC_TARGET, value: "dns:///inventory.default.svc:50051"}
            - {name: PRICING_TARGET, value: "xds:///pricing"}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: orders-db}
spec:
  serviceName: orders-db
  template:
    metadata: {labels: {app: orders-db}}
    spec:
      containers: [{name: pg, image: "postgres:16"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: inventory}
spec:
  template:
    metadata: {labels: {app: inventory}}
    spec:
      containers: [{name: inv, image: acme/inventory}]
---
apiVersion: v1
kind: Service
metadata: {name: orders-db}
spec: {clusterIP: None, selector: {app: orders-db}, ports: [{port: 5432}]}
---
apiVersion: v1
kind: Service
metadata: {name: inventory}
spec: {selector: {app: inventory}, ports: [{port: 50051, name: grpc}]}
"""


def test_keyword_dsns_and_grpc_targets_are_calls_and_an_unread_address_is_noted(
        tmp_path: Path) -> None:
    """libpq's keyword DSN and gRPC's `dns:///host:port` name their hosts; an xDS target
    names none import reads: noted (without the value, which may hold a password)."""
    manifest = tmp_path / "app.yaml"
    manifest.write_text(CONNECTION_STRINGS)
    imported = import_k8s([str(manifest)])
    orders = imported.system.components["orders"]
    assert [call.to for call in orders.operations["handle"].calls] == ["orders-db", "inventory"]
    assert [workload.to for workload in imported.system.workloads] == ["orders"]
    assert f"orders: PRICING_TARGET ({manifest}:14) is named like an address, but import " \
        "reads no host in its value (not a URL, host:port, gRPC target or keyword " \
        "connection string it knows): if it names a component this one calls, add the " \
        "call by hand" in imported.notes
    assert not [note for note in imported.notes if "s3cret" in note]


def test_a_host_only_a_workload_without_a_service_has_says_so(tmp_path: Path) -> None:
    """A workload has no DNS name of its own: the note names it, not 'not in the files'."""
    manifest = tmp_path / "app.yaml"
    manifest.write_text(CONNECTION_STRINGS.split("---\napiVersion: v1\nkind: Service")[0])
    imported = import_k8s([str(manifest)])
    assert f"orders names orders-db ({manifest}:12), which no Service of the files answers " \
        "to: StatefulSet orders-db has no Service selecting it, and Kubernetes gives a " \
        "workload no DNS name of its own; add the Service, or the call by hand" \
        in imported.notes


def test_a_startup_probe_is_noted_with_the_grace_it_gives(tmp_path: Path) -> None:
    """The spec has no startup probe: it is not carried, and the note says the start-up
    time it allowed (30 × 10 s) that the imported liveness probe no longer waits for."""
    manifest = tmp_path / "app.yaml"
    manifest.write_text(DEPLOYMENT.replace(
        "[{name: api, image: acme/api}]",
        "[{name: api, image: acme/api, startupProbe: {httpGet: {path: /, port: 80}, "
        "periodSeconds: 10, failureThreshold: 30}, livenessProbe: {httpGet: {path: /, "
        "port: 80}, periodSeconds: 10, timeoutSeconds: 2}}]"))
    imported = import_k8s([str(manifest)])
    assert imported.system.components["api"].health.liveness.period == 10.0
    assert f"{manifest}:7: Deployment api spec.template.spec.containers[0].startupProbe is " \
        "left out: the spec has no startup probe. It gives each start up to 300 s " \
        "(initialDelaySeconds + failureThreshold × periodSeconds) before the other probes " \
        "run; the imported liveness probe runs from each start instead (raise its " \
        "initial_delay to keep that grace)" in imported.notes
