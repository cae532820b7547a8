"""A Compose project as a draft system: one component per service.

A folder means its Compose file (compose.yaml, compose.yml, docker-compose.yaml or
docker-compose.yml) and the matching override file, as `docker compose` reads them, with
what they `include` and what their services `extend` (compose_model.py). Each service is
the layers that define it; a later layer overrides an earlier one field by field, as
compose-go merges files: environments merge by variable, `depends_on` by service, labels
by key, sequences (ports, profiles) add up, and `!reset`/`!override` tags cut what came
before. `${VAR}` and `${VAR:-default}` take their values from the `.env` file beside the
first file (never from the shell running the import, so the result does not depend on
it). A value compose-go or the Docker engine would refuse (`replicas: three`, `interval:
15 seconds`) is bad input, named by file, line, service and field (RULES); a number in a
string, as interpolation leaves it, is that number, as compose-go casts it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scalesim.importers.checks import Check, as_whole, at_least, count, duration, field_problem
from scalesim.importers.compose_model import Layer, interpolate, read_services
from scalesim.importers.draft import Component, Draft, Fact, Reference
from scalesim.importers.errors import ImportFailed, Problem
from scalesim.importers.hosts import read_hosts, unread_note
from scalesim.importers.kinds import Guess, guess
from scalesim.importers.sizing import compose_duration, cpu_cores, estimate
from scalesim.importers.sources import Seen, line_of
from scalesim.spec.bounds import MAX_REPLICAS_TOTAL, MAX_WORKERS
from scalesim.spec.model import Kind
from scalesim.spec.units import format_duration

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
STARTED = "service_started"             # compose-go's condition for a short-syntax entry
# The dependency runs to completion (exit 0) before the dependent starts: a one-shot job
# (a migration), never a server the dependent calls.
COMPLETED = "service_completed_successfully"
TRUE = ("true", "y", "yes", "on")       # what compose-go casts to true (toBoolean)


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
    """A `depends_on` or `links` entry: the service it names, a link's alias
    (`SERVICE:ALIAS`) and what the dependent waits for. compose-go refuses one naming a
    service the project lacks, even with `required: false` (that lets it name only a
    service a profile turns off)."""

    key: str
    service: str
    alias: str
    condition: str
    seen: Seen


def read_project(paths: Sequence[str]) -> Draft:
    project = read_services(paths)
    name = project.name
    if name is None:
        folder = Path(project.files[0]).resolve().parent.name or "imported"
        name = Fact(folder, f"the folder of {project.files[0]} (Compose's default project name)")
    draft = Draft(source=project.source, name=name)
    draft.notes += project.notes
    readers = {service: _ServiceReader(draft, service, layers)
               for service, layers in project.services.items()}
    problems = [problem for reader in readers.values()
                for problem in reader.problems(project.services.keys(), project.unread)]
    if problems:
        raise ImportFailed(problems)
    jobs = _jobs(draft, readers)
    for service, reader in readers.items():
        if service not in jobs:
            reader.read(jobs)
    return draft


def _jobs(draft: Draft, readers: dict[str, _ServiceReader]) -> dict[str, set[str]]:
    """The one-shot jobs (a migration): services another waits to complete
    (`condition: service_completed_successfully`), with the host names they answer to.
    A job exits before its dependents start, so it serves no requests: it is not a
    component, and a dependency on it (or its address) is start-up order, not a call."""
    waits: dict[str, list[tuple[str, Seen]]] = {}
    for service, reader in readers.items():
        for dependency in reader.dependencies():
            if dependency.condition == COMPLETED:
                waits.setdefault(dependency.service, []).append((service, dependency.seen))
    jobs = {}
    for job, dependents in waits.items():
        jobs[job] = {host.lower() for host in readers[job].host_names()}
        places = ", ".join(f"{service} ({seen.file}:{seen.line})" for service, seen in dependents)
        verb = "waits" if len(dependents) == 1 else "wait"
        draft.note(f"{job}: a one-shot job, not imported: {places} {verb} for it to complete "
                   f"(depends_on condition {COMPLETED}), so it runs once before they "
                   "start and serves no requests; a dependency on it, or its address, is "
                   "start-up order, not a call")
    return jobs


class _ServiceReader:
    """Reads one service's layers into a component; a later layer wins per field."""

    def __init__(self, draft: Draft, service: str, layers: list[Layer]) -> None:
        self.draft = draft
        self.service = service
        self.layers = layers

    def field(self, path: str) -> tuple[Any, Seen] | None:
        """The value at dotted `path` of the last layer that sets it, and where. A value
        tagged `!reset` on the way unsets it there and before; `!override` keeps only
        that layer's (compose-go's reset.go)."""
        for layer in reversed(self.layers):
            node: Any = layer.node
            line, cut = 0, False
            for part in path.split("."):
                if not isinstance(node, dict) or part not in node:
                    break
                tag = _tags(node).get(part)
                line, node, cut = line_of(node, part), node[part], cut or tag is not None
                if tag == "!reset":
                    break
            else:
                if isinstance(node, str):
                    node = interpolate(node, layer.environment)
                return node, self.seen(layer, line, path)
            if cut:
                return None
        return None

    def layers_of(self, key: str) -> list[Layer]:
        """The layers whose `key` counts where they add up: those after the last that
        tags it `!reset`, or from the last that tags it `!override`."""
        for index in range(len(self.layers) - 1, -1, -1):
            tag = _tags(self.layers[index].node).get(key)
            if tag is not None:
                return self.layers[index + (tag == "!reset"):]
        return self.layers

    def seen(self, layer: Layer, line: int, path: str) -> Seen:
        """Where a value is written: in this service's definition, or in the base it
        extends (named, since the service's own name is not at that line)."""
        what = f"service {self.service}" + ("" if layer.service == self.service
                                            else f" (extends {layer.service})")
        return Seen(layer.file, line, what, path)

    def sequence(self, key: str) -> list[tuple[Any, Seen]]:
        """Each item of a sequence every layer adds to (compose-go appends them), with
        where it is written."""
        items = []
        for layer in self.layers_of(key):
            node = layer.node.get(key)
            for index, item in enumerate(node if isinstance(node, list) else []):
                value = interpolate(item, layer.environment) if isinstance(item, str) else item
                items.append((value, self.seen(layer, line_of(node, index), key)))
        return items

    def value(self, path: str) -> Any:
        """The merged, interpolated value at `path`; None when unset."""
        found = self.field(path)
        return found[0] if found is not None else None

    def problems(self, services: Collection[str], unread: Sequence[str]) -> list[Problem]:
        """Every field the importer reads whose value Compose or the engine refuses, and
        every service it depends on that the files lack (compose-go's checkConsistency:
        'depends on undefined service'; a link is such a dependency). `unread` are the
        remote includes, where such a service may be."""
        remote = f" (the project includes remote files, not read: {', '.join(unread)})" \
            if unread else ""
        found = [Problem(d.seen.file, d.seen.line, f"{d.seen.what} {d.key} "
                         f"{d.service}, which is not a service in the files{remote}")
                 for d in self.dependencies() if d.service not in services]
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

    def read(self, jobs: dict[str, set[str]]) -> None:
        """The service as a component; `jobs` are the one-shot jobs' host names, which
        its settings may name but it never calls."""
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
        self._references(component, set().union(*jobs.values()))
        self._entry(component)

    def _profiles(self) -> None:
        """A service with profiles is not started by a plain `docker compose up`: imported
        as running, noted."""
        found = self.sequence("profiles")
        if found:
            seen = found[0][1]
            profiles = dict.fromkeys(str(profile) for profile, _ in found)
            self.draft.note(f"{seen.file}:{seen.line}: {seen.what} has profiles "
                            f"({', '.join(profiles)}): `docker compose up` starts it "
                            "only with one of them (--profile); imported as running")

    def host_names(self) -> list[str]:
        """The names the service answers to: its own, `container_name`, `hostname` and
        its network aliases."""
        names = [self.service]
        for key in ("container_name", "hostname"):
            found = self.field(key)
            if found is not None and isinstance(found[0], str):
                names.append(found[0])
        for layer in self.layers_of("networks"):
            networks = layer.node.get("networks")
            if isinstance(networks, dict):
                for network in networks.values():
                    aliases = network.get("aliases") if isinstance(network, dict) else None
                    names += [a for a in aliases or [] if isinstance(a, str)]
        return names

    def _hosts(self, component: Component) -> None:
        for host in self.host_names():
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

    def _references(self, component: Component, jobs: set[str]) -> None:
        variables: dict[str, tuple[Any, Seen]] = {}
        for layer in self.layers_of("environment"):
            environment = layer.node.get("environment")
            for variable, value, line in _environment_items(environment):
                seen = self.seen(layer, line, f"environment.{variable}")
                variables[variable] = (interpolate(value, layer.environment)
                                       if isinstance(value, str) else value, seen)
        if any("env_file" in layer.node for layer in self.layers_of("env_file")):
            self.draft.note(f"{self.service}: env_file is not read; addresses in it are "
                            "not seen")
        for variable, (value, seen) in variables.items():
            reading = read_hosts(variable, value)
            component.references += [Reference(host, "", seen) for host in reading.hosts
                                      if host not in jobs]
            if reading.unread:
                self.draft.note(unread_note(self.service, variable, seen))
        for dependency in self.dependencies():
            if dependency.service.lower() in jobs:
                continue
            component.references.append(Reference(dependency.service, "", dependency.seen))
            if dependency.alias:
                self.draft.answer(dependency.service, dependency.alias, "")

    def dependencies(self) -> list[_Dependency]:
        """Every `depends_on` and `links` entry of each layer, once: compose-go merges
        `depends_on` by service, a later layer's `condition` winning (a short-syntax entry
        waits for `service_started`, an entry without one keeps the earlier's)."""
        found: dict[tuple[str, str, str], _Dependency] = {}
        for key in ("depends_on", "links"):
            for layer in self.layers_of(key):
                node = layer.node.get(key)
                items = list(node) if isinstance(node, dict | list) else []
                for index, item in enumerate(items):
                    parts = str(item).split(":")   # compose-go: SERVICE:ALIAS, else as is
                    service, alias = (parts[0], parts[1]) if key == "links" and \
                        len(parts) == 2 else (str(item), "")
                    line = line_of(node, item if isinstance(node, dict) else index)
                    earlier = found.get((key, service, alias))
                    condition = node[item].get("condition") if isinstance(node, dict) and \
                        isinstance(node[item], dict) else STARTED if isinstance(node, list) \
                        else None
                    found[key, service, alias] = _Dependency(
                        key, service, alias,
                        str(condition or (earlier.condition if earlier else STARTED)),
                        self.seen(layer, line, f"{key}.{service}"))
        return list(found.values())

    def _entry(self, component: Component) -> None:
        exposed = self._exposed_label()
        if exposed is not None:
            if component.guess.kind is Kind.SERVICE:
                component.kind = Fact(Kind.GATEWAY, f"{exposed}: exposed outside the system")
            component.entry.append(exposed)
        ports = self.sequence("ports")     # every layer's: compose-go adds them up
        if ports:
            seen = ports[-1][1]
            # `scalesim generate` publishes ports only for entry points, whatever the kind
            if component.final_kind in (Kind.SERVICE, Kind.GATEWAY) or \
                    self._labelled() is not None:
                component.entry.append(seen)
            else:
                self.draft.note(f"{self.service}: its published ports are for people, not "
                                f"an entry point of the system ({seen.file}:{seen.line})")

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
        """Each label's value and where it is, from a mapping or a list of 'KEY=VALUE' in
        each layer; a later layer's label wins (compose-go merges them by key)."""
        read = {}
        for layer in self.layers_of("labels"):
            labels = layer.node.get("labels")
            items: list[tuple[str, int]] = []
            if isinstance(labels, dict):
                items = [(f"{key}={value}", line_of(labels, key))
                         for key, value in labels.items()]
            elif isinstance(labels, list):
                items = [(str(item), line_of(labels, index))
                         for index, item in enumerate(labels)]
            for text, line in items:
                key, _, value = interpolate(text, layer.environment).partition("=")
                read[key] = (value, self.seen(layer, line, f"labels.{key}"))
        return read


def _tags(node: dict[str, Any]) -> dict[Any, str]:
    """The Compose tags (`!reset`, `!override`) on the values of a mapping read from a
    file (sources.Located)."""
    return getattr(node, "tags", {})


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
