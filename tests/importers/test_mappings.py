"""The small mappings: Envoy settings back to spec terms (the generator's inverse), host
names in addresses, CPU and durations, kinds from images, valid names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scalesim.generate.envoy import RETRY_ON, istio_retries, retry_on, route_timeout_s
from scalesim.importers.envoy import (
    ISTIO_RETRY_ON,
    Reading,
    causes,
    retried,
    retry_waits_s,
    timeouts,
)
from scalesim.importers.hosts import hosts_in, read_hosts
from scalesim.importers.kinds import guess, repository_words
from scalesim.importers.names import Names, spec_name
from scalesim.importers.sizing import cores_text, cpu_cores, estimate, go_duration
from scalesim.spec.model import Call, Kind
from scalesim.spec.resilience import CAUSES

MAPPABLE = [cause for cause in CAUSES if cause in RETRY_ON]


@given(st.sets(st.sampled_from(MAPPABLE), min_size=1))
def test_retry_conditions_read_back_give_the_same_retries(chosen: set[str]) -> None:
    """Reading the generator's retryOn back gives every cause it retries: the chosen ones
    and those Envoy retries along (5xx: every reset and 503 too); written again, they
    retry the same failures, and read again, the same causes."""
    written = retry_on(sorted(chosen))
    back = causes(written)
    assert set(back.causes) >= chosen and back.notes() == []
    assert retried(retry_on(back.causes)) == retried(written)
    assert causes(retry_on(back.causes)).causes == back.causes


EVERY_RESET_AND_503 = ["timeout", "rejected", "crashed", "overflow", "shed"]


@pytest.mark.parametrize(("retry_on", "expected"), [
    # any 5xx, and every reset: a refused stream, a connection failure, a per-try timeout
    ("5xx", Reading(["timeout", "rejected", "error", "crashed", "overflow", "shed"], [], {})),
    ("5xx,connect-failure",
     Reading(["timeout", "rejected", "error", "crashed", "overflow", "shed"], [], {})),
    # 502, 503, 504 and every reset, but not a 500: no `error`
    ("gateway-error", Reading(EVERY_RESET_AND_503, [], {})),
    # a connection failure is part of what a crashed or unavailable callee fails with
    ("connect-failure", Reading([], [], {"connect-failure": ["crashed", "unavailable"]})),
    # every reset: a connection failure and a refused stream are resets; no 503 response
    ("reset", Reading(["crashed"], [], {})),
    # a 409 only: no spec cause answers 409
    ("retriable-4xx", Reading([], ["retriable-4xx"], {})),
    # a reset before any byte is sent: a connection failure, not a lost response
    ("retriable-4xx,reset-before-request,503",
     Reading(["overflow", "shed"], ["retriable-4xx"],
             {"reset-before-request": ["crashed", "unavailable"]})),
    # Istio's default (pilot retry.go): gRPC's unavailable with connection failures and
    # refused streams; cancelled is gRPC's, retriable-status-codes lists no code
    ("connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes",
     Reading(["unavailable"], ["cancelled"], {})),
])
def test_retry_on_reads_as_every_cause_envoy_retries(retry_on: str, expected: Reading) -> None:
    assert causes(retry_on) == expected


def test_istio_default_is_pilots() -> None:
    assert ISTIO_RETRY_ON == \
        "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"


durations = st.integers(min_value=1, max_value=5000).map(lambda ms: f"{ms}ms")


@given(per_try=durations, attempts=st.integers(min_value=1, max_value=6),
       deadline=st.none() | durations, backoff_max=st.sampled_from(["250ms", "1s", "100ms"]))
def test_route_timeouts_read_back_bound_the_call_the_same_way(
        per_try: str, attempts: int, deadline: str | None, backoff_max: str) -> None:
    """Whatever the spec said, the read-back call has the same per-try timeout, retries and
    route timeout (the route's waits are Envoy's, whatever the spec's back-off)."""
    call = Call.model_validate({"to": "x", "timeout": per_try, "deadline": deadline, "retry": {
        "attempts": attempts, "base": "25ms", "max": backoff_max}})
    retries = istio_retries(call)
    timeout, read_deadline = timeouts(route_timeout_s(call), retries, call.timeout,
                                      retry_waits_s(retries, None))
    back = Call.model_validate({"to": "x", "timeout": f"{timeout}s" if timeout else None,
                                "deadline": f"{read_deadline}s" if read_deadline else None,
                                "retry": {"attempts": attempts} if retries else None})
    assert istio_retries(back) == retries
    assert route_timeout_s(back) == pytest.approx(route_timeout_s(call))
    if retries:
        assert back.timeout == pytest.approx(call.timeout)


def test_a_route_timeout_of_the_tries_and_envoys_waits_is_no_deadline() -> None:
    """4 tries of 200 ms and Envoy's waits before 3 retries (25 + 50 + 100 ms): 975 ms is
    what the tries imply, so no deadline; with a 10 ms back-off base (max 100 ms) the
    waits are 10 + 20 + 40 ms."""
    assert retry_waits_s(3, None) == pytest.approx(0.175)
    assert timeouts(0.975, 3, 0.2, retry_waits_s(3, None)) == (0.2, None)
    assert retry_waits_s(3, 0.01) == pytest.approx(0.07)
    assert timeouts(1.0, 3, 0.2, retry_waits_s(3, None)) == (0.2, 1.0)


def test_a_retry_without_per_try_timeout_is_bounded_by_the_route() -> None:
    assert timeouts(3.0, 2, None, 0.25) == (None, 3.0)
    assert timeouts(3.0, 0, None, 0.25) == (3.0, None)


@pytest.mark.parametrize(("variable", "value", "hosts"), [
    ("DATABASE_URL", "postgres://user:pw@db:5432/app", ["db"]),
    ("JDBC", "jdbc:mysql://mysql.shop.svc.cluster.local:3306/x", ["mysql.shop.svc.cluster.local"]),
    ("MONGO", "mongodb://a:27017,b:27017/db?replicaSet=rs0", ["a", "b"]),
    ("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092", ["k1", "k2"]),
    ("CART_SERVICE_ADDR", "cartservice:7070", ["cartservice"]),
    ("REDIS_HOST", "Redis", ["redis"]),
    ("MODE", "redis", []),                  # a bare word counts only in an address variable
    ("PAYMENT_SERVICE", "payments", ["payments"]),
    ("BROKER", "rabbit", ["rabbit"]),
    # the address word must end the name, as import.md writes the rule (…_SERVICE): the
    # service's own name in its telemetry, a Kafka listener's name, are no addresses
    ("OTEL_SERVICE_NAME", "orders", []),
    ("SERVICE_NAME", "orders", []),
    ("KAFKA_INTER_BROKER_LISTENER_NAME", "PLAINTEXT", []),
    # service identity: Datadog's unified tagging, OpenTelemetry's resource attributes
    ("DD_SERVICE", "orders", []),
    ("OTEL_RESOURCE_ATTRIBUTES", "service.name=orders,host.name=web-1", []),
    # Kafka's security protocols are not hosts, even in an address variable
    ("KAFKA_BROKER", "SASL_SSL", []),
    # keyword connection strings: libpq (a host list too), Npgsql, ADO.NET / SQL Server
    ("DB_DSN", "host=orders-db port=5432 user=orders dbname=orders sslmode=disable",
     ["orders-db"]),
    ("PG", "host=pg1,pg2 port=5432,5433 dbname=app target_session_attrs=read-write",
     ["pg1", "pg2"]),
    ("PG", "hostaddr='db' port=5432", ["db"]),
    ("NPGSQL", "Host=db;Port=5432;Database=app", ["db"]),
    ("ConnectionStrings__Shop", "Server=tcp:sql,1433;Database=shop;User Id=sa", ["sql"]),
    ("MSSQL", "Data Source=sqlsrv\\SQLEXPRESS;Initial Catalog=shop", ["sqlsrv"]),
    ("JAVA_OPTS", "-Dserver.address=0.0.0.0 -Xmx1g", []),     # no keyword string
    # gRPC's DNS target: the host is the path, after an (empty) authority
    ("INVENTORY_GRPC_TARGET", "dns:///inventory.default.svc.cluster.local:50051",
     ["inventory.default.svc.cluster.local"]),
    ("GRPC", "dns://8.8.8.8/inventory:50051", ["inventory"]),
    ("GRPC_TARGET", "dns:inventory", ["inventory"]),
    # lists of URLs: comma-separated, or a JSON list (Kibana's ELASTICSEARCH_HOSTS)
    ("ELASTICSEARCH_HOSTS", '["http://es1:9200", "http://es2:9200"]', ["es1", "es2"]),
    ("ES_URLS", "http://es1:9200,https://es2:9200", ["es1", "es2"]),
    ("PORT", "8080", []),
    ("GREETING", "hello world", []),
])
def test_hosts_in_addresses(variable: str, value: str, hosts: list[str]) -> None:
    assert hosts_in(variable, value) == hosts


@pytest.mark.parametrize(("variable", "value", "unread"), [
    ("ORDERS_TARGET", "xds:///orders", True),     # an xDS name: no host to read
    ("CATALOG_URL", "catalog@8080", True),
    ("DB_DSN", "host=orders-db port=5432", False),
    ("LISTEN_ADDR", ":8080", False),              # its own listen port
    ("SOCKET_ADDR", "unix:///var/run/app.sock", False),
    ("DB_HOST", "", False),
    ("MODE", "xds:///orders", False),              # not named like an address
])
def test_an_address_variable_whose_value_shows_no_host_is_unread(
        variable: str, value: str, unread: bool) -> None:
    assert read_hosts(variable, value).unread is unread


@pytest.mark.parametrize(("value", "cores"), [
    ("500m", 0.5), ("2", 2.0), (1.5, 1.5), ("0.25", 0.25), ("lots", None), (0, None),
    (True, None)])
def test_cpu_quantities(value: object, cores: float | None) -> None:
    assert cpu_cores(value) == cores


def test_workers_rule() -> None:
    assert estimate(0.2, None, "x").workers == 1            # type: ignore[union-attr]
    assert estimate(2.5, "postgres", "x").workers == 3      # type: ignore[union-attr]
    assert estimate(8.0, "redis", "x").workers == 1         # type: ignore[union-attr]
    assert estimate(None, None, "x") is None


@pytest.mark.parametrize(("cores", "text"), [
    (1.0, "1 core"), (0.5, "0.5 cores"), (2.0, "2 cores"), (0.1 + 0.2, "0.3 cores"),
    (200_000.0, "200,000 cores"), (5e6, "5,000,000 cores"), (1234.5, "1,234.5 cores")])
def test_cores_read_as_the_docs_write_numbers(cores: float, text: str) -> None:
    """Not '1 cores' nor '5e+06 cores'."""
    assert cores_text(cores) == text
    assert estimate(cores, None, "x").why.startswith(f"{text} from x")  # type: ignore[union-attr]


@pytest.mark.parametrize(("text", "seconds"), [
    ("1.5s", 1.5), ("1m30s", 90.0), ("250ms", 0.25), ("10us", 1e-5), ("1h", 3600.0),
    ("5", None), ("s", None), ("", None), (5, None)])
def test_go_durations(text: object, seconds: float | None) -> None:
    assert go_duration(text) == (pytest.approx(seconds) if seconds is not None else None)


@pytest.mark.parametrize(("image", "kind", "tech"), [
    ("postgres:16-alpine", Kind.DATABASE, "postgres"),
    ("docker.io/bitnami/postgresql:16.2@sha256:abc", Kind.DATABASE, "postgres"),
    ("mysql", Kind.DATABASE, "mysql"), ("mariadb:11", Kind.DATABASE, "mariadb"),
    ("redis:7-alpine", Kind.CACHE, "redis"), ("memcached:1.6", Kind.CACHE, "memcached"),
    ("confluentinc/cp-kafka:7.6.0", Kind.QUEUE, "kafka"),
    ("rabbitmq:3-management", Kind.QUEUE, "rabbitmq"), ("nats:2.10", Kind.QUEUE, "nats"),
    ("localhost:5000/acme/orders:1.0", Kind.SERVICE, None),
])
def test_kind_and_tech_from_the_image(image: str, kind: Kind, tech: str | None) -> None:
    found = guess(image, "x")
    assert (found.kind, found.tech) == (kind, tech)


def test_image_words_ignore_registry_and_tag() -> None:
    assert repository_words("registry.local:5000/team/order-db:1.0") == ["team", "order", "db"]


def test_names_without_an_image_are_only_a_guess() -> None:
    found = guess(None, "orders-db")
    assert (found.kind, found.from_image) == (Kind.DATABASE, False)
    assert "guessed" in found.why


def test_invalid_names_map_to_unique_valid_ones() -> None:
    names = Names()
    assert [names.add(n) for n in ("web_app", "web.app", "Web-App", "_x_", "ok")] == \
        ["web-app", "web-app-2", "Web-App-3", "x", "ok"]
    assert names.mapped == [
        ("web_app", "web-app", "not a valid spec name"),
        ("web.app", "web-app-2", "not a valid spec name, and web-app is taken"),
        ("Web-App", "Web-App-3", "same name as another once lower-cased"),
        ("_x_", "x", "not a valid spec name")]
    assert spec_name("a" * 70) == "a" * 63
    assert spec_name("__") == "component"


def test_one_name_in_several_namespaces_is_qualified_by_each() -> None:
    """Keys tell the components apart; the namespace qualifies the name as its DNS name
    maps, and a qualified name that is taken is numbered like any other."""
    names = Names()
    assert [names.add("orders-shop", "x/orders-shop"),
            names.add("orders", "shop/orders", "shop"),
            names.add("orders", "billing/orders", "billing"),
            names.add("orders", "shop/orders", "shop")] == \
        ["orders-shop", "orders-shop-2", "orders-billing", "orders-shop-2"]
    assert names.mapped == [
        ("shop/orders", "orders-shop-2", "same name in another namespace, and orders-shop is "
         "taken"),
        ("billing/orders", "orders-billing", "same name in another namespace")]
