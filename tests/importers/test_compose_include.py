"""Compose's top-level `include` loads other Compose projects into this one, as compose-go
does (loader/include.go): each with its own project directory for relative paths and its
own `.env` for the variables the including project does not set; where both define a
service, the including file's definition wins."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.importers.test_compose_extends import _write
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.importers import ImportFailed, import_compose

API = """\
include:
  - infra/compose.yaml
services:
  api:
    image: acme/api
    environment:
      DATABASE_URL: postgres://db:5432/app
    ports: ["8000:8000"]
    depends_on: [db]
"""
INFRA = """\
services:
  db:
    image: ${DB_IMAGE:-mysql:8}
    deploy: {replicas: 2}
"""


def test_included_services_are_components_and_can_be_depended_on(tmp_path: Path) -> None:
    """db, defined in the included project, is a component: api's dependency on it is
    valid (compose-go copies included services into the model) and api calls it. The
    included project's `.env` sets DB_IMAGE: db runs postgres."""
    folder = _write(tmp_path, {"compose.yaml": API, "infra/compose.yaml": INFRA,
                               "infra/.env": "DB_IMAGE=postgres:16\n"})
    imported = import_compose([str(folder)])
    db = imported.system.components["db"]
    assert (db.kind.value, db.tech, db.replicas) == ("database", "postgres", 2)
    api = imported.system.components["api"]
    assert [call.to for call in api.operations["handle"].calls] == ["db"]
    assert f"replicas: 2 # from {folder}/infra/compose.yaml:4: service db, deploy.replicas" \
        in imported.text
    assert f"Imported from {folder}/compose.yaml, {folder}/infra/compose.yaml (included)" \
        in imported.text
    assert not [note for note in imported.notes if "not in the files" in note]


def test_the_including_projects_variables_win_over_the_included_env(tmp_path: Path) -> None:
    folder = _write(tmp_path, {"compose.yaml": API, "infra/compose.yaml": INFRA,
                               "infra/.env": "DB_IMAGE=postgres:16\n",
                               ".env": "DB_IMAGE=mariadb:11\n"})
    assert import_compose([str(folder)]).system.components["db"].tech == "mariadb"


def test_long_syntax_path_list_project_directory_and_env_file(tmp_path: Path) -> None:
    """`path` lists the included project's files (merged in order), `env_file` its
    variables (relative to the including project), and `project_directory` where its own
    relative paths start: here the include its second file makes."""
    folder = _write(tmp_path, {
        "compose.yaml": "include:\n  - path: [infra/base.yaml, infra/more.yaml]\n"
                        "    project_directory: infra/home\n    env_file: vars.env\n"
                        "services:\n  api:\n    image: acme/api\n    depends_on: [db, cache]\n",
        "vars.env": "DB_IMAGE=postgres:16\n",
        "infra/base.yaml": INFRA,
        "infra/more.yaml": "include: [cache.yaml]\nservices:\n  db:\n    deploy: {replicas: 3}\n",
        "infra/home/cache.yaml": "services:\n  cache:\n    image: redis:7\n"})
    components = import_compose([str(folder)]).system.components
    assert (components["db"].tech, components["db"].replicas) == ("postgres", 3)
    assert components["cache"].kind.value == "cache"


def test_a_service_defined_here_and_included_merges_this_files_settings_on_top(
        tmp_path: Path) -> None:
    folder = _write(tmp_path, {"compose.yaml": API + "  db:\n    deploy: {replicas: 4}\n",
                               "infra/compose.yaml": INFRA})
    imported = import_compose([str(folder)])
    db = imported.system.components["db"]
    assert (db.tech, db.replicas) == ("mysql", 4)
    assert f"{folder}/compose.yaml:10: service db is also defined in {folder}/infra/compose" \
        f".yaml, which {folder}/compose.yaml includes: merged, {folder}/compose.yaml's " \
        "settings winning (as compose-go merges them)" in imported.notes


def test_a_service_can_extend_an_included_one(tmp_path: Path) -> None:
    """compose-go includes before it resolves `extends`, so the base is in the file."""
    folder = _write(tmp_path, {
        "compose.yaml": "include: [base.yaml]\nservices:\n  web:\n    extends: app\n",
        "base.yaml": "services:\n  app:\n    image: acme/app\n    cpus: 3.5\n"})
    assert import_compose([str(folder)]).system.components["web"].workers == 4


@pytest.mark.parametrize(("files", "line", "message"), [
    ({"compose.yaml": "include: [nope.yaml]\nservices: {}\n"}, 1,
     "include[0]: {folder}/nope.yaml is not a file"),
    ({"compose.yaml": "include:\n  - project_directory: x\nservices: {}\n"}, 2,
     "include[0] needs a path: a file, or a list of files"),
    ({"compose.yaml": "include: infra.yaml\nservices: {}\n"}, 1,
     "include must be a list of files or of {{path, project_directory, env_file}}"),
    ({"compose.yaml": "include: [a.yaml]\nservices:\n  x:\n    image: x\n",
      "a.yaml": "include: [compose.yaml]\nservices: {}\n"}, 1,
     "include[0]: include cycle: {folder}/compose.yaml includes itself, through "
     "{folder}/compose.yaml -> {folder}/a.yaml"),
])
def test_an_include_compose_refuses_is_bad_input(tmp_path: Path, files: dict[str, str],
                                                 line: int, message: str) -> None:
    folder = _write(tmp_path, files)
    output = tmp_path / "system.yaml"
    result = CliRunner().invoke(app, ["import", "compose", str(folder), "-o", str(output)])
    assert result.exit_code == 2, result.output
    where = f"{folder}/a.yaml" if "cycle" in message else f"{folder}/compose.yaml"
    assert f"{where}:{line}: {message.format(folder=folder)}" in result.stderr
    assert not output.exists()


def test_a_remote_include_is_noted_and_named_where_a_dependency_is_missing(
        tmp_path: Path) -> None:
    folder = _write(tmp_path, {"compose.yaml": API.replace("infra/compose.yaml",
                                                           "oci://registry/infra:1")})
    with pytest.raises(ImportFailed) as caught:
        import_compose([str(folder)])
    assert [str(problem) for problem in caught.value.problems] == [
        f"{folder}/compose.yaml:9: service api depends_on db, which is not a service in the "
        f"files (the project includes remote files, not read: {folder}/compose.yaml:2)"]
    folder.joinpath("compose.yaml").write_text(
        API.replace("infra/compose.yaml", "oci://registry/infra:1").replace(
            "    depends_on: [db]\n", ""))
    imported = import_compose([str(folder)])
    assert f"{folder}/compose.yaml:2: include oci://registry/infra:1 is a remote project, " \
        "which scalesim import does not fetch: its services are not in the spec" \
        in imported.notes



def test_an_included_projects_extends_is_resolved_there(tmp_path: Path) -> None:
    """compose-go loads an included project whole, its `extends` applied, relative to its
    own directory (infra/base.yml, not base.yml beside compose.yaml), and only once."""
    folder = _write(tmp_path, {
        "compose.yaml": "include: [infra/compose.yaml]\nservices:\n  api:\n"
                        "    image: acme/api\n    depends_on: [db]\n",
        "infra/compose.yaml": "services:\n  db:\n    extends: {file: base.yml, service: pg}\n",
        "infra/base.yml": "services:\n  pg:\n    image: postgres:16\n    cpus: 2\n"})
    imported = import_compose([str(folder)])
    db = imported.system.components["db"]
    assert (db.tech, db.workers) == ("postgres", 2)
