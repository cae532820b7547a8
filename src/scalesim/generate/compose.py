"""A Compose file that runs the whole system on one machine: `docker compose up --build`.

Every component runs its generated service (the code target, built from ../code/<c>): the
services and gateways, and the HTTP stand-ins for databases, caches, queues and external
APIs, since HTTP is what the generated code speaks to them (no real database, cache or
broker image is needed). Each listens on 8080 and finds what it calls through exactly the
variables its code reads, <C>_URL=http://<c>:8080. The entry points (gateways and what
workloads call) publish 8080 on a host port. Every service has a healthcheck on /ready, so
`depends_on` starts callees first; kompose labels carry what Kubernetes would need. Each
service reserves the CPU the k8s target requests, and its labels name the component's kind
and tech, which its stand-in image cannot say: `scalesim import compose` reads both back.
"""

from __future__ import annotations

from typing import Any

from scalesim.generate.base import GeneratedFile, GenerateOptions
from scalesim.generate.code.views import ServiceView, services
from scalesim.generate.documents import banner, to_yaml
from scalesim.generate.naming import (
    HTTP_PORT,
    READY_PATH,
    dns_label,
    go_duration,
    system_label,
)
from scalesim.generate.resources import resources_for
from scalesim.spec.model import Kind, System
from scalesim.spec.resilience import Probe

COMPOSE_FILE = "compose/compose.yaml"
CODE_FROM_COMPOSE = "../code"  # the code target's folder, relative to the compose file
KIND_LABEL = "scalesim.io/kind"
TECH_LABEL = "scalesim.io/tech"


def _url(component: str) -> str:
    return f"http://{dns_label(component)}:{HTTP_PORT}"


def _healthcheck(system: System, name: str) -> dict[str, Any]:
    """GET /ready with the image's own Python (the slim image has no curl or wget), timed
    by `health.readiness` or Kubernetes' probe defaults."""
    health = system.components[name].health
    readiness = (health.readiness if health else None) or Probe()
    probe = (f"import urllib.request; urllib.request.urlopen("
             f"'http://localhost:{HTTP_PORT}{READY_PATH}', timeout={readiness.timeout:g})")
    return {"test": ["CMD", "python", "-c", probe],
            "interval": go_duration(readiness.period),
            "timeout": go_duration(readiness.timeout), "retries": readiness.failure_threshold,
            "start_period": go_duration(readiness.initial_delay)}


def _depends_on(ordered: list[tuple[str, str]]) -> dict[str, set[str]]:
    """Dependency edges in spec order, leaving out any that would close a cycle (a queue
    delivering to a consumer that publishes to it again, say: Compose refuses cycles)."""
    graph: dict[str, set[str]] = {}

    def reaches(start: str, goal: str) -> bool:
        seen, stack = set(), [start]
        while stack:
            node = stack.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                stack.extend(graph.get(node, ()))
        return False

    for source, target in ordered:
        if not reaches(target, source):
            graph.setdefault(source, set()).add(target)
    return graph


def entry_points(system: System) -> list[str]:
    """Components outside callers reach: gateways and the targets of workloads."""
    called = {system.resolve(workload.to)[0] for workload in system.workloads}
    return [name for name, component in system.components.items()
            if component.kind is Kind.GATEWAY or name in called]


def _service(system: System, view: ServiceView, registry: str) -> dict[str, Any]:
    environment = {variable: _url(component) for component, variable, _ in view.downstreams}
    environment["PORT"] = str(HTTP_PORT)
    service: dict[str, Any] = {
        "build": {"context": f"{CODE_FROM_COMPOSE}/{view.name}"},
        "image": f"{registry}/{dns_label(view.name)}:latest",
        "environment": dict(sorted(environment.items()))}
    if view.name in entry_points(system):
        service["ports"] = [str(HTTP_PORT)]  # an ephemeral host port: works with replicas
    service["healthcheck"] = _healthcheck(system, view.name)
    component = system.components[view.name]
    # Compose has no autoscaler to start a consumer that scales from zero: run one.
    cores = resources_for(system, view.name).cpu_m / 1000
    service["deploy"] = {"replicas": max(1, component.replicas),
                         "resources": {"reservations": {"cpus": f"{cores:g}"}}}
    service["labels"] = _labels(component.kind, component.tech)
    return service


def _labels(kind: Kind, tech: str | None) -> dict[str, str]:
    """kompose's Service type, and the kind and tech the stand-in image does not show."""
    labels = {"kompose.service.type": "loadbalancer" if kind is Kind.GATEWAY else "clusterip",
              KIND_LABEL: kind.value}
    if tech is not None:
        labels[TECH_LABEL] = tech
    return labels


def compose_file(system: System, options: GenerateOptions) -> dict[str, Any]:
    views = services(system)
    graph = _depends_on([(view.name, component) for view in views
                         for component, _, _ in view.downstreams])
    compose: dict[str, Any] = {}
    for view in views:
        service = _service(system, view, options.image_registry)
        if graph.get(view.name):
            service["depends_on"] = {dns_label(dependency): {"condition": "service_healthy"}
                                     for dependency in sorted(graph[view.name])}
        compose[dns_label(view.name)] = service
    return {"name": system_label(system.name), "services": compose}


def render(system: System, options: GenerateOptions) -> list[GeneratedFile]:
    """The Compose file alone; the targets module adds the code it builds."""
    return [GeneratedFile(COMPOSE_FILE, to_yaml([compose_file(system, options)],
                                                banner(system.name, "compose")))]
