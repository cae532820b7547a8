"""A typical web + worker + postgres + redis + rabbitmq Compose project imports as expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from scalesim.importers import MARK, ImportFailed, import_compose
from scalesim.importers.compose import interpolate
from scalesim.importers.names import INVALID
from scalesim.importers.sizing import RULE
from scalesim.spec.model import Kind

# A Django/Celery-style project, written the way such projects usually are.
WEB_WORKER = """\
name: bookshop
services:
  web:
    build: .
    image: acme/bookshop:1.4
    command: gunicorn bookshop.wsgi --workers 4
    ports:
      - "8000:8000"
    environment:
      DATABASE_URL: postgres://shop:${DB_PASSWORD:-secret}@db:5432/shop
      REDIS_URL: redis://redis:6379/0
      CELERY_BROKER_URL: amqp://guest:guest@rabbitmq:5672//
      DEBUG: "false"
    depends_on:
      db:
        condition: service_healthy
      redis:
        condition: service_started
      rabbitmq:
        condition: service_started
    deploy:
      replicas: 3
      resources:
        limits:
          cpus: "1.5"
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost:8000/health"]
      interval: 15s
      timeout: 2s
      retries: 4
  worker:
    image: acme/bookshop:1.4
    command: celery -A bookshop worker --concurrency 8
    environment:
      - DATABASE_URL=postgres://shop:secret@db:5432/shop
      - CELERY_BROKER_URL=amqp://guest:guest@rabbitmq:5672//
    depends_on: [db, rabbitmq]
    deploy:
      replicas: 2
  db:
    image: postgres:16-alpine
    environment:
      POSTGRES_PASSWORD: secret
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U shop"]
      interval: 5s
    volumes:
      - pgdata:/var/lib/postgresql/data
  redis:
    image: redis:7-alpine
  rabbitmq:
    image: rabbitmq:3.13-management
    ports:
      - "15672:15672"
volumes:
  pgdata: {}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "docker-compose.yml").write_text(WEB_WORKER)
    return tmp_path


def test_web_worker_project_imports_into_the_expected_spec(project: Path) -> None:
    imported = import_compose([str(project)])
    system = imported.system
    assert system.name == "bookshop"
    assert {name: c.kind for name, c in system.components.items()} == {
        "web": Kind.SERVICE, "worker": Kind.SERVICE, "db": Kind.DATABASE,
        "redis": Kind.CACHE, "rabbitmq": Kind.QUEUE}
    assert {name: c.tech for name, c in system.components.items()} == {
        "web": None, "worker": None, "db": "postgres", "redis": "redis", "rabbitmq": "rabbitmq"}
    web, worker = system.components["web"], system.components["worker"]
    assert (web.replicas, worker.replicas) == (3, 2)
    assert web.workers == 2                     # 1.5 cores rounded up
    assert system.components["redis"].workers == 1     # Redis runs commands on one thread
    # web reads through the cache (its database URL is the miss path) and publishes jobs
    web_calls = web.operations["handle"].calls
    assert [(c.to, c.async_) for c in web_calls] == [("redis", False), ("rabbitmq", True)]
    assert system.components["redis"].backend == "db"
    # nothing calls the worker and it publishes nowhere: it consumes the queue
    assert [c.to for c in system.components["rabbitmq"].consumers] == ["worker"]
    assert [c.to for c in worker.operations["handle"].calls] == ["db"]
    assert [w.to for w in system.workloads] == ["web"]   # rabbitmq's UI port is not one
    readiness = web.health.readiness
    assert (readiness.period, readiness.timeout, readiness.failure_threshold) == (15.0, 2.0, 4)
    db_readiness = system.components["db"].health.readiness
    # Docker's defaults where the healthcheck is silent, not Kubernetes'
    assert (db_readiness.period, db_readiness.timeout, db_readiness.failure_threshold) == \
        (5.0, 30.0, 3)


@pytest.mark.parametrize("zero", ["0s", "0"])
def test_a_healthcheck_setting_of_0_is_dockers_default(project: Path, zero: str) -> None:
    """The engine reads 0 as "inherit": interval and timeout 30 s, 3 retries (not the
    spec's 10 s, 1 s and 3, nor a probe without a period)."""
    compose = project / "docker-compose.yml"
    text = compose.read_text()
    assert text.count("      interval: 15s\n      timeout: 2s\n      retries: 4\n") == 1
    compose.write_text(text.replace(
        "      interval: 15s\n      timeout: 2s\n      retries: 4\n",
        f"      interval: {zero!r}\n      timeout: {zero!r}\n      retries: 0\n"))
    imported = import_compose([str(project)])
    readiness = imported.system.components["web"].health.readiness
    assert (readiness.period, readiness.timeout, readiness.failure_threshold) == (30.0, 30.0, 3)
    assert "(Docker's defaults for interval, timeout, retries, start_period: unset or 0)" in \
        imported.text


def test_a_service_scaled_to_0_or_behind_a_profile_is_noted(tmp_path: Path) -> None:
    """As a Kubernetes workload of 0 replicas: its comment says it is scaled down. A
    service with profiles does not start with a plain `docker compose up`: a note."""
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  web:\n    image: acme/web\n    ports: ['80']\n"
                       "    environment: {API_URL: 'http://api:8080'}\n"
                       "  api:\n    image: acme/api\n    scale: 0\n"
                       "  debug:\n    image: acme/debug\n    profiles: [debug, tools]\n"
                       "    deploy: {replicas: 0}\n")
    imported = import_compose([str(compose)])
    assert {name: c.replicas for name, c in imported.system.components.items()} == \
        {"web": 1, "api": 1, "debug": 1}
    assert f"replicas: 1 # from {compose}:8: service api, scale is 0 (scaled down)" in \
        imported.text
    assert f"from {compose}:12: service debug, deploy.replicas is 0 (scaled down)" in \
        imported.text
    assert f"{compose}:11: service debug has profiles (debug, tools): `docker compose up` " \
        "starts it only with one of them (--profile); imported as running" in imported.notes


def test_values_say_where_they_came_from_and_placeholders_are_marked(project: Path) -> None:
    text = import_compose([str(project)]).text
    compose = str(project / "docker-compose.yml")
    assert f"replicas: 3 # from {compose}:22: service web, deploy.replicas" in text
    assert f"# from {compose}:11: service web, environment.REDIS_URL" in text
    # the workers' estimate names its source once (it said "1.5 cores from from …")
    assert f"workers: 2 # 1.5 cores from {compose}:25: service web, " \
        f"deploy.resources.limits.cpus; {RULE}" in [line.strip() for line in text.splitlines()]
    assert "backend: db # the database its callers (web) also reach" in text
    work_lines = [line for line in text.splitlines() if line.strip().startswith("work:")]
    assert work_lines and all(MARK in line for line in work_lines)
    rate_lines = [line for line in text.splitlines() if line.strip().startswith("rate:")]
    assert rate_lines and all(MARK in line for line in rate_lines)


def test_override_file_wins_field_by_field(project: Path) -> None:
    (project / "docker-compose.override.yml").write_text(
        "services:\n  web:\n    deploy:\n      replicas: 5\n    environment:\n"
        "      SEARCH_URL: http://search:9200\n  search:\n    image: elasticsearch:8.13.0\n")
    system = import_compose([str(project)]).system
    assert system.components["web"].replicas == 5
    assert system.components["search"].kind is Kind.DATABASE
    assert "search" in [c.to for c in system.components["web"].operations["handle"].calls]


def test_a_service_built_here_runs_its_own_code_whatever_its_image(tmp_path: Path) -> None:
    """A stand-in named after a server (as the Compose target builds them) still calls."""
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  api:\n    build: ./api\n    ports: ['8080']\n"
                       "    environment: {REDIS_URL: 'http://redis:8080'}\n"
                       "  redis:\n    build: ./redis\n    image: registry.local/redis:latest\n"
                       "    environment: {DB_URL: 'http://db:8080'}\n"
                       "  db:\n    build: ./db\n")
    system = import_compose([str(compose)]).system
    assert (system.components["redis"].kind, system.components["redis"].backend) == \
        (Kind.CACHE, "db")


def test_invalid_names_are_mapped_and_reported(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  web_app:\n    image: acme/web\n    ports: ['80']\n"
                       "    environment: {API: 'http://api.v2:8080'}\n"
                       "  api.v2:\n    image: acme/api\n")
    imported = import_compose([str(compose)])
    assert imported.renamed == [("web_app", "web-app", INVALID), ("api.v2", "api-v2", INVALID)]
    assert [c.to for c in imported.system.components["web-app"].operations["handle"].calls] \
        == ["api-v2"]
    assert ("Renamed: web_app -> web-app (not a valid spec name), api.v2 -> api-v2 (not a "
            "valid spec name)") in imported.text


@pytest.mark.parametrize(("text", "expected"), [
    ("${DB:-fallback}", "fallback"), ("${SET}", "yes"), ("$SET/x", "yes/x"),
    ("${UNSET-}", ""), ("cost $$5", "cost $5"), ("${EMPTY:-d}", "d"), ("${EMPTY-d}", ""),
])
def test_interpolation_follows_compose(text: str, expected: str) -> None:
    assert interpolate(text, {"SET": "yes", "EMPTY": ""}) == expected


@pytest.mark.parametrize(("text", "line", "message"), [
    ("services: [a, b]\n", 1, "top-level 'services' mapping"),
    ("apiVersion: v1\nkind: Service\nmetadata: {name: a}\n", 1, "use `scalesim import k8s`"),
    # the parser runs out of text at the line after the last: the last line is named
    ("services:\n  web:\n    image: [\n", 3, "not valid YAML"),
    ('{"services": {"web": {"image": "nginx"}}', 1, "not valid YAML"),   # truncated JSON
    ("services:\n  web: 3\n", 2, "service 'web' is not a mapping"),
])
def test_bad_input_names_file_and_line(tmp_path: Path, text: str, line: int,
                                        message: str) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(text)
    with pytest.raises(ImportFailed) as caught:
        import_compose([str(compose)])
    problem = caught.value.problems[0]
    assert (problem.file, problem.line) == (str(compose), line)
    assert message in problem.message


def test_a_folder_without_a_compose_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="no Compose file here"):
        import_compose([str(tmp_path)])


@pytest.mark.parametrize("text", ["", "services: {}\n"])
def test_a_file_without_services_is_an_error_that_says_so(tmp_path: Path, text: str) -> None:
    """It said the imported spec did not validate, 'a bug in scalesim import'."""
    compose = tmp_path / "compose.yaml"
    compose.write_text(text)
    with pytest.raises(ImportFailed, match="no services or workloads in the files"):
        import_compose([str(compose)])


@pytest.mark.parametrize(("dependency", "line", "message"), [
    ("    depends_on: [ghost]\n", 4, "service api depends_on ghost"),
    ("    depends_on:\n      ghost: {condition: service_healthy}\n", 5,
     "service api depends_on ghost"),
    # required: false lets compose-go skip only a service a profile turns off
    ("    depends_on:\n      ghost: {condition: service_started, required: false}\n", 5,
     "service api depends_on ghost"),
    # a link is a dependency too; SERVICE:ALIAS names SERVICE (it was a note, or a KeyError)
    ("    links: ['nope:nope']\n", 4, "service api links nope"),
    ("    links: [nope]\n", 4, "service api links nope"),
])
def test_a_dependency_on_a_service_not_in_the_files_is_bad_input(
        tmp_path: Path, dependency: str, line: int, message: str) -> None:
    """compose-go refuses the project: 'service "api" depends on undefined service "ghost"'
    (loader/validate.go checkConsistency), so `docker compose` never runs it."""
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  api:\n    image: nginx\n" + dependency +
                       "  db:\n    image: postgres\n")
    with pytest.raises(ImportFailed) as caught:
        import_compose([str(compose)])
    assert [str(problem) for problem in caught.value.problems] == \
        [f"{compose}:{line}: {message}, which is not a service in the files"]


def test_a_dependency_on_a_service_of_another_file_is_kept(tmp_path: Path) -> None:
    """The override file's service is the project's: the link resolves, alias and all."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n  api:\n    image: acme/api\n    ports: ['80']\n"
        "    links: ['db:database']\n    environment: {DB: 'postgres://database/x'}\n")
    (tmp_path / "compose.override.yaml").write_text("services:\n  db:\n    image: postgres\n")
    imported = import_compose([str(tmp_path)])
    assert [c.to for c in imported.system.components["api"].operations["handle"].calls] == \
        ["db"]
    assert not [note for note in imported.notes if "not in the files" in note]


def test_components_that_reach_each_other_get_an_async_call(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  a:\n    image: acme/a\n    ports: ['80']\n"
                       "    environment: {B_URL: 'http://b:80'}\n"
                       "  b:\n    image: acme/b\n    environment: {A_URL: 'http://a:80'}\n")
    imported = import_compose([str(compose)])
    calls = {name: [(c.to, c.async_) for c in component.operations["handle"].calls]
             for name, component in imported.system.components.items()}
    assert calls == {"a": [("b", False)], "b": [("a", True)]}   # walked from the entry a
    assert any("reach each other" in note for note in imported.notes)


def test_a_queue_without_a_consumer_in_the_files_gets_a_marked_stand_in(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  web:\n    image: acme/web\n    ports: ['80']\n"
                       "    environment: {BROKER_URL: 'amqp://jobs:5672'}\n"
                       "  jobs:\n    image: rabbitmq:4\n")
    imported = import_compose([str(compose)])
    system = imported.system
    assert [c.to for c in system.components["jobs"].consumers] == ["jobs-consumer"]
    assert "kind: service # PLACEHOLDER: no consumer of jobs was found" in imported.text
    assert [(c.to, c.async_) for c in system.components["web"].operations["handle"].calls] == \
        [("jobs", True)]


MIGRATION = """\
services:
  api:
    image: acme/api:1.0
    ports: ["8000:8000"]
    environment:
      DATABASE_URL: postgres://app:pw@db:5432/app
    depends_on:
      migrate:
        condition: service_completed_successfully
      db:
        condition: service_healthy
  worker:
    image: acme/api:1.0
    environment:
      MIGRATE_URL: http://migrate:8080
      DATABASE_URL: postgres://app:pw@db:5432/app
    depends_on: [migrate]
  migrate:
    image: acme/api:1.0
    command: ["alembic", "upgrade", "head"]
    environment:
      DATABASE_URL: postgres://app:pw@db:5432/app
    depends_on:
      db:
        condition: service_healthy
  db:
    image: postgres:16
"""


def test_a_job_depended_on_to_complete_is_start_up_order_not_a_component(
        tmp_path: Path) -> None:
    """`service_completed_successfully`: Compose starts api once migrate has exited 0, so
    migrate never serves a request: no component, no call to it (nor from worker, which
    names it too), and its own queries to db are not load on db."""
    compose = tmp_path / "compose.yaml"
    compose.write_text(MIGRATION)
    imported = import_compose([str(compose)])
    components = imported.system.components
    assert sorted(components) == ["api", "db", "worker"]
    assert [call.to for call in components["api"].operations["handle"].calls] == ["db"]
    assert [call.to for call in components["worker"].operations["handle"].calls] == ["db"]
    assert [workload.to for workload in imported.system.workloads] == ["api"]
    assert f"migrate: a one-shot job, not imported: api ({compose}:8) waits for it to " \
        "complete (depends_on condition service_completed_successfully), so it runs once " \
        "before they start and serves no requests; a dependency on it, or its address, is " \
        "start-up order, not a call" in imported.notes
    assert not [note for note in imported.notes if "not in the files" in note]


def test_a_later_short_syntax_dependency_waits_only_for_the_start(tmp_path: Path) -> None:
    """compose-go merges `depends_on` by service: an override's `depends_on: [migrate]`
    is `condition: service_started`, so migrate keeps running and api calls it."""
    (tmp_path / "compose.yaml").write_text(MIGRATION)
    (tmp_path / "compose.override.yaml").write_text(
        "services:\n  api:\n    depends_on: [migrate]\n")
    imported = import_compose([str(tmp_path)])
    assert "migrate" in imported.system.components
    assert [call.to for call in imported.system.components["api"].operations["handle"].calls] \
        == ["db", "migrate"]


def test_a_keyword_dsn_is_a_call_and_an_unread_address_a_note(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  api:\n    image: acme/api\n    ports: ['80:80']\n"
                       "    environment:\n      DB_DSN: host=db port=5432 dbname=app\n"
                       "      SEARCH_URL: xds:///search\n  db:\n    image: postgres:16\n")
    imported = import_compose([str(compose)])
    assert [call.to for call in imported.system.components["api"].operations["handle"].calls] \
        == ["db"]
    assert f"api: SEARCH_URL ({compose}:7) is named like an address, but import reads no " \
        "host in its value (not a URL, host:port, gRPC target or keyword connection string " \
        "it knows): if it names a component this one calls, add the call by hand" \
        in imported.notes


def test_a_servers_own_wiring_is_noted_once_with_every_place(tmp_path: Path) -> None:
    """Kafka names ZooKeeper twice (depends_on, KAFKA_ZOOKEEPER_CONNECT): one note."""
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  kafka:\n    image: confluentinc/cp-kafka:7.6\n"
                       "    depends_on: [zookeeper]\n    environment:\n"
                       "      KAFKA_ZOOKEEPER_CONNECT: zookeeper:2181\n"
                       "  zookeeper:\n    image: confluentinc/cp-zookeeper:7.6\n")
    notes = [note for note in import_compose([str(compose)]).notes if "wiring" in note]
    assert notes == [f"kafka → zookeeper: kafka server's own wiring ({compose}:4, {compose}:6)"
                     ", not a call"]
