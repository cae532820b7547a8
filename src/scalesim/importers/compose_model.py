"""A Compose project's services as compose-go builds them: files, `include` and `extends`.

compose-go (the library `docker compose` loads files with, loader/loader.go) reads each
file given in order. It first loads the projects the file `include`s, each with its own
project directory and `.env`, and adds their services under the file's own (loader/
include.go: where both define a service, the file's definition wins). It then resolves
each service's `extends` within that file, or in the file `extends.file` names (loader/
extends.go), the base first. Last, it merges the file into the files before it. Every
step merges the way Compose merges files (override/merge.go): mappings key by key, the
later winning; `environment` by variable; sequences added up; `command`, `entrypoint` and
`healthcheck.test` replaced.

So a service here is the list of its *layers*, the definitions that make it, earliest
first, and a reader takes each field from the last layer that sets it (compose.py). A
layer keeps its file, the service it was written for (the base an `extends` names) and
the variables its file is interpolated with, so every value still says where it came
from. What cannot be read (a remote file) is noted, never silently left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from scalesim.importers.draft import Fact
from scalesim.importers.errors import ImportFailed, Problem, fail
from scalesim.importers.sources import Document, Seen, Unreadable, line_of, load_all, read_input

FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
OVERRIDES = {"compose.yaml": "compose.override.yaml", "compose.yml": "compose.override.yml",
             "docker-compose.yaml": "docker-compose.override.yaml",
             "docker-compose.yml": "docker-compose.override.yml"}
# What compose-go's remote resource loaders take (git repositories, OCI artifacts).
REMOTE = ("oci://", "git@", "git://", "ssh://", "http://", "https://")

_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|([A-Za-z_]"
                       r"[A-Za-z0-9_]*)|(\$))")


def interpolate(value: str, environment: Mapping[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `$VAR` and `$$`."""
    def replace(match: re.Match[str]) -> str:
        if match.group(5):
            return "$"
        variable = match.group(1) or match.group(4)
        operator, default = match.group(2), match.group(3) or ""
        current = environment.get(variable)
        if operator == ":-" and not current:
            return default
        if operator == "-" and current is None:
            return default
        return current or ""
    return _VARIABLE.sub(replace, value)


def dotenv(path: Path) -> dict[str, str]:
    """The variables of a `.env` file; none when it does not exist."""
    if not path.is_file():
        return {}
    values = {}
    try:
        text = read_input(str(path), errors="replace")
    except Unreadable as error:
        raise fail(str(path), 0, str(error)) from None
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.removeprefix("export ").partition("=")
            values[key.strip()] = value.strip().strip("'\"")
    return values


@dataclass(frozen=True)
class Layer:
    """One definition that makes a service: its file, the service it was written for (a
    base that `extends` names, or the service itself) and its file's variables.
    `included`: read through an `include`, whose project resolved its `extends` already
    (compose-go loads it whole), so the including file does not resolve it again."""

    file: str
    node: dict[str, Any]
    service: str
    environment: Mapping[str, str]
    included: bool = False


Services = dict[str, list[Layer]]   # service -> its layers, earliest first


@dataclass
class Project:
    """The merged services of the files given, the project's name, and the notes."""

    files: list[str]
    services: Services
    name: Fact[str] | None = None
    notes: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)   # remote includes, by where named
    included: list[str] = field(default_factory=list)   # the files `include` read

    @property
    def source(self) -> str:
        """Every file read, for the spec's header."""
        return ", ".join([*self.files, *(f"{file} (included)" for file in self.included)])


@dataclass
class _Scope:
    """The services one `extends` without `file` looks in: one document's, with what it
    includes; `folder` is where its relative paths start."""

    file: str
    services: Services
    folder: Path
    environment: Mapping[str, str]
    resolved: Services = field(default_factory=dict)

    @property
    def identity(self) -> str:
        """The file, however its path is spelled: what an `extends` cycle comes back to."""
        return str(Path(self.file).resolve())


def project_files(paths: Sequence[str]) -> list[str]:
    """The files to read: each file named, or a folder's Compose file and its override."""
    files: list[str] = []
    for path in paths:
        folder = Path(path)
        if not folder.is_dir():
            files.append(path)
            continue
        found = next((name for name in FILES if (folder / name).is_file()), None)
        if found is None:
            raise fail(path, 0, f"no Compose file here (looked for {', '.join(FILES)})")
        files.append(str(folder / found))
        if (folder / OVERRIDES[found]).is_file():
            files.append(str(folder / OVERRIDES[found]))
    return files


def read_services(paths: Sequence[str]) -> Project:
    """Every service of the project, its includes and extends resolved as compose-go does;
    the `.env` beside the first file gives the variables (never the importing shell)."""
    files = project_files(paths)
    folder = Path(files[0]).parent
    loader = _Loader(Project(files, {}))
    loader.project.services = loader.read(files, folder, dotenv(folder / ".env"),
                                          (str(Path(files[0]).resolve()),), main=True)
    if loader.problems:
        raise ImportFailed(loader.problems)
    return loader.project


def _remote(path: str) -> bool:
    return path.startswith(REMOTE)


class _Loader:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.problems: list[Problem] = []
        self.bases: dict[tuple[str, tuple[tuple[str, str], ...]], _Scope | None] = {}

    def note(self, text: str) -> None:
        if text not in self.project.notes:
            self.project.notes.append(text)

    def read(self, files: Sequence[str], folder: Path, environment: Mapping[str, str],
             chain: tuple[str, ...], main: bool = False) -> Services:
        """The services of a project's files, merged in order."""
        merged: Services = {}
        try:
            documents = load_all(files)
        except ImportFailed as error:
            self.problems += error.problems
            return merged
        for document in documents:
            scope = self._document(document, folder, environment, chain, main)
            if scope is None:
                continue
            for service in scope.services:
                merged.setdefault(service, []).extend(self._extended(service, scope, ()))
        return merged

    def _document(self, document: Document, folder: Path, environment: Mapping[str, str],
                  chain: tuple[str, ...], main: bool) -> _Scope | None:
        """One document's services, with the projects it includes beneath them."""
        own = self._own_services(document, environment)
        if own is None:
            return None
        data = document.data
        if main and isinstance(data.get("name"), str):
            self.project.name = Fact(data["name"], Seen(document.file, line_of(data, "name"),
                                                        "Compose project", "name"))
        includes = data.get("include")
        if includes is not None and not isinstance(includes, list):
            self.problems.append(Problem(document.file, line_of(data, "include"),
                                         "include must be a list of files or of "
                                         "{path, project_directory, env_file}"))
            includes = []
        for index, entry in enumerate(includes or []):
            where = Seen(document.file, line_of(includes, index), "Compose project",
                         f"include[{index}]")
            for service, layers in self._include(entry, where, folder, environment,
                                                 chain).items():
                if service in own and own[service][-1].file == document.file:
                    self.note(f"{where.file}:{line_of(data['services'], service)}: service "
                              f"{service} is also defined in {layers[-1].file}, which "
                              f"{where.file} includes: merged, {where.file}'s settings "
                              "winning (as compose-go merges them)")
                own[service] = layers + own.get(service, [])
        return _Scope(document.file, own, folder, environment)

    def _own_services(self, document: Document,
                      environment: Mapping[str, str]) -> Services | None:
        data = document.data
        if isinstance(data, dict) and "apiVersion" in data and "kind" in data:
            self.problems.append(Problem(document.file, document.line, "this is a Kubernetes "
                                         "manifest, not a Compose file: use `scalesim import "
                                         "k8s`"))
            return None
        services = data.get("services", {}) if isinstance(data, dict) else None
        if not isinstance(services, dict) or not ("services" in data or "include" in data):
            self.problems.append(Problem(document.file, document.line, "not a Compose file: "
                                         "it needs a top-level 'services' mapping"))
            return None
        own: Services = {}
        for service, node in services.items():
            if not isinstance(node, dict):
                self.problems.append(Problem(document.file, line_of(services, service),
                                             f"service '{service}' is not a mapping"))
                continue
            own[str(service)] = [Layer(document.file, node, str(service), environment)]
        return own

    def _include(self, entry: Any, where: Seen, folder: Path, environment: Mapping[str, str],
                 chain: tuple[str, ...]) -> Services:
        """The services of one `include` entry: its files read as a project of their own,
        relative paths from its project directory, its variables from its `.env` (or
        `env_file`) where the including project does not set them."""
        entry = {"path": entry} if isinstance(entry, str) else entry
        paths = entry.get("path") if isinstance(entry, dict) else None
        paths = [paths] if isinstance(paths, str) else paths
        if not isinstance(paths, list) or not paths or \
                not all(isinstance(p, str) for p in paths):
            self.problems.append(Problem(where.file, where.line, f"{where.field} needs a path: "
                                         "a file, or a list of files"))
            return {}
        paths = [interpolate(p, environment) for p in paths]
        if any(_remote(p) for p in paths):
            place = f"{where.file}:{where.line}"
            self.project.unread.append(place)
            self.note(f"{place}: include {', '.join(paths)} is a remote project, which "
                      "scalesim import does not fetch: its services are not in the spec")
            return {}
        files = [folder / p for p in paths]
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            self.problems.append(Problem(where.file, where.line, f"{where.field}: "
                                         f"{', '.join(missing)} is not a file"))
            return {}
        if str(files[0].resolve()) in chain:
            self.problems.append(Problem(where.file, where.line, f"{where.field}: include "
                                         f"cycle: {files[0]} includes itself, through "
                                         f"{' -> '.join(chain)}"))
            return {}
        directory = entry.get("project_directory")
        home = folder / interpolate(directory, environment) if isinstance(directory, str) \
            else files[0].parent
        own = self._env_files(entry.get("env_file"), where, folder, home)
        if own is None:
            return {}
        self.project.included += [str(f) for f in files if str(f) not in self.project.included]
        services = self.read([str(f) for f in files], home, {**own, **environment},
                             (*chain, str(files[0].resolve())))
        return {service: [replace(layer, included=True) for layer in layers]
                for service, layers in services.items()}

    def _env_files(self, given: Any, where: Seen, folder: Path,
                   home: Path) -> dict[str, str] | None:
        """An included project's own variables: its `env_file`s (later ones winning),
        else the `.env` of its project directory; None when one is missing."""
        if given is None:
            return dotenv(home / ".env")
        names = [given] if isinstance(given, str) else given
        variables: dict[str, str] = {}
        for name in names if isinstance(names, list) else []:
            path = folder / str(name)
            if not path.is_file():
                self.problems.append(Problem(where.file, where.line, f"{where.field} env_file "
                                             f"{path} is not a file"))
                return None
            variables.update(dotenv(path))
        return variables

    def _extended(self, service: str, scope: _Scope,
                  visiting: tuple[tuple[str, str], ...]) -> list[Layer]:
        """A service's layers with those of the service it `extends` before them (and of
        that one's base, first): compose-go's ExtendService merge."""
        if service in scope.resolved:
            return scope.resolved[service]
        layers = scope.services[service]
        found = next(((layer.node["extends"], layer) for layer in reversed(layers)
                      if "extends" in layer.node and not layer.included), None)
        if found is None:
            scope.resolved[service] = layers
            return layers
        value, layer = found
        where = Seen(layer.file, line_of(layer.node, "extends"), f"service {service}",
                     "extends")
        base = self._base(value, where, scope, (*visiting, (scope.identity, service)))
        scope.resolved[service] = (base or []) + layers
        return scope.resolved[service]

    def _base(self, value: Any, where: Seen, scope: _Scope,
              visiting: tuple[tuple[str, str], ...]) -> list[Layer] | None:
        """The layers of the service an `extends` names; None (a problem, or a note) when
        they cannot be read."""
        name, file = (value, None) if isinstance(value, str) else (
            (value.get("service"), value.get("file")) if isinstance(value, dict) else (None, None))
        if not isinstance(name, str) or not (file is None or isinstance(file, str)):
            self.problems.append(Problem(where.file, where.line, f"{where.what} extends: "
                                         "needs a service name (extends: NAME, or extends: "
                                         "{service: NAME, file: FILE})"))
            return None
        name = interpolate(name, scope.environment)
        if file is not None and _remote(interpolate(file, scope.environment)):
            self.note(f"{where.file}:{where.line}: {where.what} extends {name} from "
                      f"{file}, a remote file scalesim import does not fetch: it is imported "
                      "with its own settings only; add what it inherits by hand")
            return None
        target = scope if file is None else self._base_file(
            scope.folder / interpolate(file, scope.environment), where, scope.environment)
        if target is None:
            return None
        if (target.identity, name) in visiting:
            chain = " -> ".join(f"{s} ({Path(f).name})" for f, s in (*visiting,
                                                                      (target.identity, name)))
            self.problems.append(Problem(where.file, where.line, f"{where.what} extends: "
                                         f"a cycle, which Compose refuses: {chain}"))
            return None
        if name not in target.services:
            self.problems.append(Problem(where.file, where.line, f"{where.what} extends "
                                         f"{name}, which is not a service of {target.file}"))
            return None
        return self._extended(name, target, visiting)

    def _base_file(self, path: Path, where: Seen,
                   environment: Mapping[str, str]) -> _Scope | None:
        """The services of a file `extends.file` names: read alone (compose-go reads no
        `include` of it), its relative paths from its own folder, interpolated with the
        variables of the project that names it."""
        key = (str(path.resolve()), tuple(sorted(environment.items())))
        if key in self.bases:
            return self.bases[key]
        scope: _Scope | None = None
        if not path.is_file():
            self.problems.append(Problem(where.file, where.line, f"{where.what} extends.file: "
                                         f"{path} is not a file"))
        else:
            try:
                documents = load_all([str(path)])
            except ImportFailed as error:
                self.problems += error.problems
                documents = []
            services: Services = {}
            for document in documents:
                for service, layers in (self._own_services(document, environment) or
                                        {}).items():
                    services.setdefault(service, []).extend(layers)
            scope = _Scope(str(path), services, path.parent, environment) if documents \
                else None
        self.bases[key] = scope
        return scope
