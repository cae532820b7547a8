"""Compose `extends` merges the base service under the one that extends it, as compose-go
does (loader/extends.go, override/merge.go): mappings key by key, `environment` by
variable, `depends_on` by service, sequences added up, `healthcheck.test` replaced; the
base is looked up in the same file, or in `file`, relative to the project's folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.importers import ImportFailed, import_compose

SAME_FILE = """\
services:
  base:
    image: acme/app:1.0
    profiles: [template]
    environment:
      DATABASE_URL: postgres://app:pw@db:5432/app
    cpus: 2.5
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost:8080/health"]
      interval: 15s
      retries: 4
    depends_on: [cache]
  web:
    extends: base
    ports: ["8080:8080"]
    deploy: {replicas: 3}
    healthcheck:
      test: ["CMD", "wget", "-q", "http://localhost:8080/ready"]
  db:
    image: postgres:16
  cache:
    image: redis:7
"""


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def test_a_service_inherits_what_the_service_it_extends_sets(tmp_path: Path) -> None:
    """web gets base's CPU (2.5 cores: 3 workers), its healthcheck settings but its own
    test, its database address and its dependency; and its profile, which a plain
    `docker compose up` then does not start either (compose-go adds profiles up)."""
    imported = import_compose([str(_write(tmp_path, {"compose.yaml": SAME_FILE}))])
    web = imported.system.components["web"]
    assert (web.replicas, web.workers) == (3, 3)
    readiness = web.health.readiness
    assert (readiness.period, readiness.timeout, readiness.failure_threshold) == (15.0, 30.0, 4)
    assert [call.to for call in web.operations["handle"].calls] == ["cache"]
    assert imported.system.components["cache"].backend == "db"   # web's DB address: the miss
    assert f"{tmp_path}/compose.yaml:4: service web (extends base) has profiles (template): " \
        "`docker compose up` starts it only with one of them (--profile); imported as " \
        "running" in imported.notes
    assert "workers: 3 # 2.5 cores from " f"{tmp_path}/compose.yaml:7: service web (extends " \
        "base), cpus;" in imported.text


COMMON = """\
services:
  base-app:
    image: acme/app:1.0
    environment:
      DATABASE_HOST: db
      CACHE_URL: redis://cache:6379/0
    healthcheck:
      test: ["CMD", "true"]
      interval: 1m30s
    deploy:
      resources:
        limits: {cpus: "2.5"}
"""
CHAIN = """\
services:
  web:
    extends: {file: shared/common.yml, service: base-app}
    ports: ["8080:8080"]
    deploy: {replicas: 2}
  api:
    extends: web
    environment:
      CACHE_URL: ""
  db:
    image: mariadb:11
  cache:
    image: valkey/valkey:8
"""
OVERRIDE = """\
services:
  web:
    deploy: {replicas: 5}
"""


def test_extends_reaches_another_file_and_chains(tmp_path: Path) -> None:
    """api extends web, which extends base-app of shared/common.yml: both get its CPU,
    healthcheck and database; api's empty CACHE_URL overrides the inherited one. compose-go
    resolves `extends` in each file before merging the files, so the override's 5 replicas
    are web's alone: api extends compose.yaml's web, 2 replicas."""
    folder = _write(tmp_path, {"compose.yaml": CHAIN, "compose.override.yaml": OVERRIDE,
                               "shared/common.yml": COMMON})
    components = import_compose([str(folder)]).system.components
    web, api = components["web"], components["api"]
    assert (web.replicas, api.replicas) == (5, 2)
    assert (web.workers, api.workers) == (3, 3)
    assert web.health.readiness.period == api.health.readiness.period == 90.0
    assert [call.to for call in web.operations["handle"].calls] == ["cache"]
    assert [call.to for call in api.operations["handle"].calls] == ["db"]
    assert components["cache"].backend == "db"


def test_a_base_files_own_extends_file_is_relative_to_that_file(tmp_path: Path) -> None:
    """compose-go resolves the relative paths of a file `extends` reads from its folder."""
    folder = _write(tmp_path, {
        "compose.yaml": "services:\n  web:\n    extends: {file: shared/web.yml, service: web}\n"
                        "  db:\n    image: postgres:16\n",
        "shared/web.yml": "services:\n  web:\n    extends: {file: common.yml, service: "
                          "base-app}\n    ports: ['80:80']\n",
        "shared/common.yml": COMMON})
    web = import_compose([str(folder)]).system.components["web"]
    assert web.workers == 3
    assert [call.to for call in web.operations["handle"].calls] == ["db"]


def test_an_inherited_dependency_on_a_service_the_project_lacks_is_bad_input(
        tmp_path: Path) -> None:
    """As compose-go's consistency check: `depends on undefined service`."""
    folder = _write(tmp_path, {
        "compose.yaml": "services:\n  web:\n    extends: {file: base.yml, service: app}\n",
        "base.yml": "services:\n  app:\n    image: acme/app\n    depends_on: [zot]\n"})
    with pytest.raises(ImportFailed) as caught:
        import_compose([str(folder)])
    assert [str(problem) for problem in caught.value.problems] == [
        f"{folder}/base.yml:4: service web (extends app) depends_on zot, which is not a "
        "service in the files"]


@pytest.mark.parametrize(("files", "line", "message"), [
    ({"compose.yaml": "services:\n  web:\n    image: x\n    extends: ghost\n"}, 4,
     "service web extends ghost, which is not a service of {folder}/compose.yaml"),
    ({"compose.yaml": "services:\n  web:\n    extends: {file: nope.yml, service: a}\n"}, 3,
     "service web extends.file: {folder}/nope.yml is not a file"),
    ({"compose.yaml": "services:\n  web:\n    extends: {file: b.yml}\n"}, 3,
     "service web extends: needs a service name (extends: NAME, or extends: {{service: "
     "NAME, file: FILE}})"),
    ({"compose.yaml": "services:\n  a:\n    extends: b\n  b:\n    extends: a\n"}, 5,
     "service b extends: a cycle, which Compose refuses: a (compose.yaml) -> b (compose.yaml) "
     "-> a (compose.yaml)"),
    # an override file's `extends` looks in that file only, as compose-go's ApplyExtends
    ({"compose.yaml": "services:\n  web:\n    image: x\n",
      "compose.override.yaml": "services:\n  api:\n    extends: web\n"}, 3,
     "service api extends web, which is not a service of {folder}/compose.override.yaml"),
])
def test_an_extends_compose_refuses_is_bad_input(tmp_path: Path, files: dict[str, str],
                                                 line: int, message: str) -> None:
    folder = _write(tmp_path, files)
    output = tmp_path / "system.yaml"
    result = CliRunner().invoke(app, ["import", "compose", str(folder), "-o", str(output)])
    assert result.exit_code == 2, result.output
    file = "compose.override.yaml" if "compose.override.yaml" in files else "compose.yaml"
    assert f"{folder}/{file}:{line}: {message.format(folder=folder)}" in result.stderr
    assert not output.exists()


def test_a_remote_base_is_noted_not_dropped_silently(tmp_path: Path) -> None:
    folder = _write(tmp_path, {"compose.yaml": "services:\n  web:\n    image: x\n    extends: "
                               "{file: 'oci://registry/app:1', service: base}\n"})
    imported = import_compose([str(folder)])
    assert f"{folder}/compose.yaml:4: service web extends base from oci://registry/app:1, a " \
        "remote file scalesim import does not fetch: it is imported with its own settings " \
        "only; add what it inherits by hand" in imported.notes


def test_reset_and_override_tags_drop_or_replace_what_came_before(tmp_path: Path) -> None:
    """compose-go's `!reset` drops what the base (or an earlier file) set, `!override`
    replaces it instead of merging (loader/reset.go; its TestLoadExtendsDependsOn):
    web keeps no published port and no inherited CPU, and depends only on cache."""
    folder = _write(tmp_path, {"compose.yaml": """\
services:
  base:
    image: acme/app
    ports: ["8080:8080"]
    environment: {DATABASE_URL: "postgres://db/app"}
    depends_on: [db]
    deploy:
      resources: {limits: {cpus: "3"}}
  web:
    extends: base
    ports: !reset []
    environment: !override {CACHE_URL: "redis://cache:6379"}
    depends_on: !override [cache]
    deploy: !override {replicas: 2}
  db:
    image: postgres:16
  cache:
    image: redis:7
"""})
    imported = import_compose([str(folder)])
    web = imported.system.components["web"]
    assert (web.replicas, web.workers) == (2, 1)
    assert "workers: 1 # PLACEHOLDER: no CPU request or limit" in imported.text.split("web:")[1]
    assert [call.to for call in web.operations["handle"].calls] == ["cache"]
    assert [workload.to for workload in imported.system.workloads] == ["base"]
