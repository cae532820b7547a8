"""A Compose file for running the system on one machine.

Services run the app image, databases, caches and queues their tech's image; external
components are not started, their URL comes from the environment. `depends_on` waits for
health where a healthcheck exists; kompose labels carry what Kubernetes would need.
"""

from __future__ import annotations

from typing import Any

from scalesim.generate.base import GeneratedFile, GenerateOptions
from scalesim.generate.documents import banner, to_yaml
from scalesim.generate.naming import (
    HTTP_PORT,
    READY_PATH,
    check_names,
    dns_label,
    env_name,
    go_duration,
)
from scalesim.generate.tech import Tech, runs_as_deployment, tech_of
from scalesim.generate.topology import dependencies
from scalesim.spec.model import Kind, System
from scalesim.spec.resilience import Probe


def _url(system: System, name: str, registry: str) -> str:
    component = system.components[name]
    if component.kind is Kind.EXTERNAL:
        variable = env_name(name, "URL")
        return f"${{{variable}:?set {variable} to the external API's address}}"
    tech = tech_of(name, component, registry)
    return f"{tech.scheme}://{dns_label(name)}:{tech.port}"


def _healthcheck(system: System, name: str, tech: Tech) -> dict[str, Any] | None:
    """From `health.readiness`; servers with a known ping command always get one."""
    health = system.components[name].health
    readiness = health.readiness if health else None
    if tech.http:
        if readiness is None:
            return None
        test: list[str] = ["CMD-SHELL", f"wget -qO- http://localhost:{tech.port}{READY_PATH} "
                           "|| exit 1"]
    elif tech.healthcheck:
        test = list(tech.healthcheck)
        readiness = readiness or Probe()
    else:
        return None
    return {"test": test, "interval": go_duration(readiness.period),
            "timeout": go_duration(readiness.timeout), "retries": readiness.failure_threshold,
            "start_period": go_duration(readiness.initial_delay)}


def _depends_on(system: System, ordered: list[tuple[str, str]]) -> dict[str, set[str]]:
    """Dependency edges in spec order, leaving out any that would close a cycle (async
    calls may form one, and Compose refuses cycles)."""
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


def compose_file(system: System, options: GenerateOptions) -> dict[str, Any]:
    check_names(list(system.components))
    registry = options.image_registry
    started = [n for n, c in system.components.items() if c.kind is not Kind.EXTERNAL]
    graph = _depends_on(system, [(name, dep) for name in started
                                 for dep in dependencies(system, name) if dep in started])
    services: dict[str, Any] = {}
    volumes: dict[str, Any] = {}
    for name in started:
        component = system.components[name]
        tech = tech_of(name, component, registry)
        service: dict[str, Any] = {"image": tech.image}
        environment: dict[str, str] = {}
        if runs_as_deployment(component):
            environment = {env_name(dep, "URL"): _url(system, dep, registry)
                           for dep in dependencies(system, name)}
            environment["PORT"] = str(HTTP_PORT)  # generated services listen here
        else:
            environment = dict(tech.env)
            if tech.password_env:
                variable = env_name(name, "PASSWORD")
                environment[tech.password_env] = f"${{{variable}:?set {variable}}}"
        if environment:
            service["environment"] = dict(sorted(environment.items()))
        if component.kind is Kind.GATEWAY:
            service["ports"] = [str(tech.port)]
        if tech.data_path and not runs_as_deployment(component):
            volumes[f"{dns_label(name)}-data"] = {}
            service["volumes"] = [f"{dns_label(name)}-data:{tech.data_path}"]
        healthcheck = _healthcheck(system, name, tech)
        if healthcheck:
            service["healthcheck"] = healthcheck
        service["deploy"] = {"replicas": component.replicas}
        service["labels"] = _kompose_labels(system, name)
        services[dns_label(name)] = service
    for name in started:
        deps = sorted(graph.get(name, ()))
        if deps:
            services[dns_label(name)]["depends_on"] = {
                dns_label(dep): {"condition": "service_healthy" if "healthcheck" in
                                 services[dns_label(dep)] else "service_started"}
                for dep in deps}
    document: dict[str, Any] = {"name": dns_label(system.name, "system name"),
                                "services": services}
    if volumes:
        document["volumes"] = volumes
    return document


def _kompose_labels(system: System, name: str) -> dict[str, str]:
    component = system.components[name]
    if runs_as_deployment(component):
        kind = "loadbalancer" if component.kind is Kind.GATEWAY else "clusterip"
        return {"kompose.service.type": kind}
    return {"kompose.service.type": "headless", "kompose.controller.type": "statefulset"}


def render(system: System, options: GenerateOptions) -> list[GeneratedFile]:
    return [GeneratedFile("compose/compose.yaml",
                          to_yaml([compose_file(system, options)], banner(system.name,
                                                                          "compose")))]
