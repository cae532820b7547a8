"""A Compose project as a draft system: one component per service.

A folder means its Compose file (compose.yaml, compose.yml, docker-compose.yaml or
docker-compose.yml) and the matching override file, as `docker compose` reads them; later
files override earlier ones field by field, environments merge by variable. `${VAR}` and
`${VAR:-default}` take their values from the `.env` file beside the first file (never from
the shell running the import, so the result does not depend on it). A value compose-go or
the Docker engine would refuse (`replicas: three`, `interval: 15 seconds`) is bad input,
named by file, line, service and field (RULES); a number in a string, as interpolation
leaves it, is that number, as compose-go casts it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scalesim.importers.checks import Check, as_whole, at_least, count, duration, field_problem
from scalesim.importers.draft import Component, Draft, Fact, Reference
from scalesim.importers.errors import ImportFailed, Problem, fail
from scalesim.importers.hosts import hosts_in
from scalesim.importers.kinds import Guess, guess
from scalesim.importers.sizing import compose_duration, cpu_cores, estimate
from scalesim.importers.sources import Document, Seen, Unreadable, line_of, load_all, read_input
from scalesim.spec.bounds import MAX_REPLICAS_TOTAL, MAX_WORKERS
from scalesim.spec.model import Kind
from scalesim.spec.units import format_duration

FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
OVERRIDES = {"compose.yaml": "compose.override.yaml", "compose.yml": "compose.override.yml",
             "docker-compose.yaml": "docker-compose.override.yaml",
             "docker-compose.yml": "docker-compose.override.yml"}
ENTRY_LABEL = "kompose.service.type"            # kompose: the Kubernetes Service type
# What `scalesim generate --target compose` writes beside its stand-in images, which do not
# show a component's kind (importers do not import the generator; the round-trip tests
# keep the two in step).
KIND_LABEL = "scalesim.io/kind"
TECH_LABEL = "scalesim.io/tech"
EXPOSED = ("loadbalancer", "nodeport")
# Docker's healthcheck defaults, which differ from Kubernetes' probe defaults.
DOCKER_HEALTH = {"interval": 30.0, "timeout": 30.0, "retries": 3, "start_period": 0.0}
HEALTH_DURATIONS = (("interval", "period"), ("timeout", "timeout"),
                    ("start_period", "initial_delay"))
CPU_FIELDS = ("deploy.resources.limits.cpus", "deploy.resources.reservations.cpus", "cpus")
KINDS = frozenset(kind.value for kind in Kind)
TRUE = ("true", "y", "yes", "on")       # what compose-go casts to true (toBoolean)

_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|([A-Za-z_]"
                       r"[A-Za-z0-9_]*)|(\$))")


def _healthcheck_duration(value: Any) -> str | None:
    """A healthcheck duration: what compose-go reads (go-str2duration: Go's units, days
    and weeks) and the Docker engine takes: 0 (inherit), or at least 1ms."""
    problem = duration(value, compose_duration)
    seconds = compose_duration(value)
    if problem is None and seconds is not None and 0 < seconds < 0.001:
        return f"{value!r} is out of range: it must be 0 or at least 1ms"
    return problem


def _replicas(value: Any) -> str | None:
    """A replica count as compose-go takes it (not negative), and no more than a spec
    simulates, as the Kubernetes importer refuses a workload's."""
    problem = count(0, text=True)(value)
    number = as_whole(value, text=True)
    if problem is None and number is not None and number > MAX_REPLICAS_TOTAL:
        return f"{number:,} is more than a spec simulates ({MAX_REPLICAS_TOTAL:,} replicas in all)"
    return problem


# The fields the importer reads, as compose-go takes them (a string is cast to the number
# its field holds, as after interpolation) and as it and the Docker engine refuse them:
# replicas and scale not negative (compose-go), CPUs not negative (the engine's NanoCPUs),
# retries a count (a uint64 in compose-go).
RULES: tuple[tuple[str, Check], ...] = (
    ("deploy.replicas", _replicas), ("scale", _replicas),
    # at most a worker per core for every worker a replica may have (spec bounds)
    *((field, at_least(0, text=True, most=MAX_WORKERS)) for field in CPU_FIELDS),
    ("healthcheck.retries", count(0, text=True)),
    *((f"healthcheck.{key}", _healthcheck_duration) for key, _ in HEALTH_DURATIONS))


@dataclass(frozen=True)
class _Dependency:
    """A `depends_on` or `links` entry: the service it names and a link's alias
    (`SERVICE:ALIAS`). compose-go refuses one naming a service the project lacks, even with
    `required: false` (that lets it name only a service a profile turns off)."""

    key: str
    service: str
    alias: str
    seen: Seen


@dataclass(frozen=True)
class _Layer:
    """One file's definition of a service."""

    file: str
    node: dict[str, Any]


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


def read_project(paths: Sequence[str]) -> Draft:
    files = project_files(paths)
    documents = load_all(files)
    environment = _dotenv(Path(files[0]).parent / ".env")
    problems: list[Problem] = []
    layers: dict[str, list[_Layer]] = {}
    name: Fact[str] | None = None
    for document in documents:
        services = _services(document, problems)
        if services is None:
            continue
        if isinstance(document.data.get("name"), str):
            name = Fact(document.data["name"], Seen(document.file, line_of(document.data, "name"),
                                                    "Compose project", "name"))
        for service, node in services.items():
            if not isinstance(node, dict):
                problems.append(Problem(document.file, line_of(services, service),
                                        f"service '{service}' is not a mapping"))
                continue
            layers.setdefault(str(service), []).append(_Layer(document.file, node))
    if problems:
        raise ImportFailed(problems)
    if name is None:
        folder = Path(files[0]).resolve().parent.name or "imported"
        name = Fact(folder, f"the folder of {files[0]} (Compose's default project name)")
    draft = Draft(source=", ".join(files), name=name)
    readers = [_ServiceReader(draft, service, service_layers, environment)
               for service, service_layers in layers.items()]
    problems = [problem for reader in readers for problem in reader.problems(layers.keys())]
    if problems:
        raise ImportFailed(problems)
    for reader in readers:
        reader.read()
    return draft


def _services(document: Document, problems: list[Problem]) -> dict[str, Any] | None:
    data = document.data
    if isinstance(data, dict) and "apiVersion" in data and "kind" in data:
        problems.append(Problem(document.file, document.line, "this is a Kubernetes manifest, "
                                "not a Compose file: use `scalesim import k8s`"))
        return None
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
        problems.append(Problem(document.file, document.line, "not a Compose file: it needs a "
                                "top-level 'services' mapping"))
        return None
    services: dict[str, Any] = data["services"]
    return services


def _dotenv(path: Path) -> dict[str, str]:
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


def interpolate(value: str, environment: dict[str, str]) -> str:
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


class _ServiceReader:
    """Reads one service's layers into a component; a later layer wins per field."""

    def __init__(self, draft: Draft, service: str, layers: list[_Layer],
                 environment: dict[str, str]) -> None:
        self.draft = draft
        self.service = service
        self.layers = layers
        self.environment = environment

    def field(self, path: str) -> tuple[Any, Seen] | None:
        for layer in reversed(self.layers):
            node: Any = layer.node
            line = 0
            for part in path.split("."):
                if not isinstance(node, dict) or part not in node:
                    break
                line = line_of(node, part)
                node = node[part]
            else:
                if isinstance(node, str):
                    node = interpolate(node, self.environment)
                return node, Seen(layer.file, line, f"service {self.service}", path)
        return None

    def value(self, path: str) -> Any:
        """The merged, interpolated value at `path`; None when unset."""
        found = self.field(path)
        return found[0] if found is not None else None

    def problems(self, services: Collection[str]) -> list[Problem]:
        """Every field the importer reads whose value Compose or the engine refuses, and
        every service it depends on that the files lack (compose-go's checkConsistency:
        'depends on undefined service'; a link is such a dependency)."""
        found = [Problem(d.seen.file, d.seen.line, f"service {self.service} {d.key} "
                         f"{d.service}, which is not a service in the files")
                 for d in self._dependencies() if d.service not in services]
        for path, check in RULES:
            read = self.field(path)
            if read is None or read[0] is None or (path.startswith("healthcheck.") and
                                                   not self._checked()):
                continue
            value, seen = read
            problem = check(value)
            if problem is not None:
                found.append(field_problem(seen.file, seen.line, seen.what, path, problem))
        return found

    def read(self) -> None:
        image = self.field("image")
        image_name = image[0] if image is not None and isinstance(image[0], str) else None
        if self.field("build") is not None:
            image_name = None   # built here: the image is this project's own code
        component = self.draft.add(Component(self.service, self.service, "",
                                             self._labelled() or guess(image_name,
                                                                       self.service)))
        self._hosts(component)
        replicas = self.field("deploy.replicas") or self.field("scale")
        number = as_whole(replicas[0], text=True) if replicas is not None else None
        if replicas is not None and number is not None:
            component.replicas = Fact(number, replicas[1])   # 0: assemble says so
        self._profiles()
        self._workers(component)
        self._health(component)
        self._references(component)
        self._entry(component)

    def _profiles(self) -> None:
        """A service with profiles is not started by a plain `docker compose up`: imported
        as running, noted."""
        found = self.field("profiles")
        if found is not None and isinstance(found[0], list) and found[0]:
            seen = found[1]
            self.draft.note(f"{seen.file}:{seen.line}: service {self.service} has profiles "
                            f"({', '.join(map(str, found[0]))}): `docker compose up` starts it "
                            "only with one of them (--profile); imported as running")

    def _hosts(self, component: Component) -> None:
        names = [self.service]
        for key in ("container_name", "hostname"):
            found = self.field(key)
            if found is not None and isinstance(found[0], str):
                names.append(found[0])
        for layer in self.layers:
            networks = layer.node.get("networks")
            if isinstance(networks, dict):
                for network in networks.values():
                    aliases = network.get("aliases") if isinstance(network, dict) else None
                    names += [a for a in aliases or [] if isinstance(a, str)]
        for host in names:
            self.draft.answer(component.key, host, "")

    def _workers(self, component: Component) -> None:
        for path in CPU_FIELDS:
            found = self.field(path)
            if found is not None and cpu_cores(found[0]) is not None:
                estimated = estimate(cpu_cores(found[0]), component.guess.tech,
                                     found[1].place)
                if estimated is not None:
                    component.workers = Fact(estimated.workers, estimated.why)
                return
        estimated = estimate(None, component.guess.tech, "")
        if estimated is not None:
            component.workers = Fact(estimated.workers, estimated.why)

    def _checked(self) -> bool:
        """Whether the service has a healthcheck that is not turned off."""
        disable, test = self.value("healthcheck.disable"), self.value("healthcheck.test")
        return isinstance(self.value("healthcheck"), dict) and not (
            disable is True or (isinstance(disable, str) and disable.lower() in TRUE) or
            (isinstance(test, list) and test[:1] == ["NONE"]))

    def _health(self, component: Component) -> None:
        found = self.field("healthcheck")
        if found is None or not self._checked():
            return
        probe: dict[str, Any] = {}
        settings = {key: self._health_setting(key) for key in DOCKER_HEALTH}
        for key, spec_key in HEALTH_DURATIONS:
            probe[spec_key] = _seconds(settings[key][0])
        probe["failure_threshold"] = int(settings["retries"][0])
        defaults = [key for key, (_, defaulted) in settings.items() if defaulted]
        why = f"{found[1]}" + (f" (Docker's defaults for {', '.join(defaults)}: unset or 0)"
                               if defaults else "")
        component.health["readiness"] = Fact(probe, why)

    def _health_setting(self, key: str) -> tuple[float, bool]:
        """(value, whether Docker's default) of a healthcheck setting as Docker applies it:
        unset or 0 is its default (the engine reads 0 as "inherit"), so `interval: 0s` is
        30 s and `retries: 0` is 3."""
        value = self.value(f"healthcheck.{key}")
        number = None if value is None else as_whole(value, text=True) if key == "retries" \
            else compose_duration(value)
        return (float(number), False) if number else (DOCKER_HEALTH[key], True)

    def _references(self, component: Component) -> None:
        variables: dict[str, tuple[Any, Seen]] = {}
        for layer in self.layers:
            environment = layer.node.get("environment")
            for variable, value, line in _environment_items(environment):
                seen = Seen(layer.file, line, f"service {self.service}",
                            f"environment.{variable}")
                variables[variable] = (interpolate(value, self.environment)
                                       if isinstance(value, str) else value, seen)
            if "env_file" in layer.node:
                self.draft.note(f"{self.service}: env_file is not read; addresses in it are "
                                "not seen")
        for variable, (value, seen) in variables.items():
            for host in hosts_in(variable, value):
                component.references.append(Reference(host, "", seen))
        for dependency in self._dependencies():
            component.references.append(Reference(dependency.service, "", dependency.seen))
            if dependency.alias:
                self.draft.answer(dependency.service, dependency.alias, "")

    def _dependencies(self) -> list[_Dependency]:
        """Every `depends_on` and `links` entry of each layer."""
        found = []
        for key in ("depends_on", "links"):
            for layer in self.layers:
                node = layer.node.get(key)
                items = list(node) if isinstance(node, dict | list) else []
                for index, item in enumerate(items):
                    parts = str(item).split(":")   # compose-go: SERVICE:ALIAS, else as is
                    service, alias = (parts[0], parts[1]) if key == "links" and \
                        len(parts) == 2 else (str(item), "")
                    line = line_of(node, item if isinstance(node, dict) else index)
                    found.append(_Dependency(key, service, alias, Seen(
                        layer.file, line, f"service {self.service}", f"{key}.{service}")))
        return found

    def _entry(self, component: Component) -> None:
        exposed = self._exposed_label()
        if exposed is not None:
            if component.guess.kind is Kind.SERVICE:
                component.kind = Fact(Kind.GATEWAY, f"{exposed}: exposed outside the system")
            component.entry.append(exposed)
        ports = self.field("ports")
        if ports is not None and ports[0]:
            # `scalesim generate` publishes ports only for entry points, whatever the kind
            if component.final_kind in (Kind.SERVICE, Kind.GATEWAY) or \
                    self._labelled() is not None:
                component.entry.append(ports[1])
            else:
                self.draft.note(f"{self.service}: its published ports are for people, not "
                                f"an entry point of the system ({ports[1].file}:"
                                f"{ports[1].line})")

    def _labelled(self) -> Guess | None:
        """The kind (and tech) `scalesim generate` names in its labels, which its stand-in
        image cannot show; None when the labels name no kind a spec has."""
        labels = self._labels()
        found = labels.get(KIND_LABEL)
        if found is None or found[0] not in KINDS:
            return None
        tech = labels.get(TECH_LABEL)
        seen = found[1]
        return Guess(Kind(found[0]), tech[0] if tech is not None else None,
                     f"from {seen.file}:{seen.line}: {seen.what}, {seen.field}", False)

    def _exposed_label(self) -> Seen | None:
        """kompose's `kompose.service.type: loadbalancer|nodeport` label, where it is set."""
        found = self._labels().get(ENTRY_LABEL)
        return found[1] if found is not None and found[0].lower() in EXPOSED else None

    def _labels(self) -> dict[str, tuple[str, Seen]]:
        """Each label's value and where it is, from a mapping or a list of 'KEY=VALUE'."""
        found = self.field("labels")
        if found is None:
            return {}
        labels, seen = found
        items: list[tuple[str, int]] = []
        if isinstance(labels, dict):
            items = [(f"{key}={value}", line_of(labels, key)) for key, value in labels.items()]
        elif isinstance(labels, list):
            items = [(str(item), line_of(labels, index)) for index, item in enumerate(labels)]
        read = {}
        for text, line in items:
            key, _, value = text.partition("=")
            read[key] = (value, Seen(seen.file, line, seen.what, f"labels.{key}"))
        return read


def _environment_items(environment: Any) -> list[tuple[str, Any, int]]:
    """(variable, value, line) of a mapping or a list of 'K=V'; a bare 'K' has no value."""
    items: list[tuple[str, Any, int]] = []
    if isinstance(environment, dict):
        items = [(str(k), v, line_of(environment, k)) for k, v in environment.items()]
    elif isinstance(environment, list):
        for index, entry in enumerate(environment):
            if isinstance(entry, str) and "=" in entry:
                variable, _, value = entry.partition("=")
                items.append((variable, value, line_of(environment, index)))
    return items


def _seconds(value: float) -> str:
    return format_duration(value) if value > 0 else "0s"
