"""Checks of the control blocks that need the whole system: the queue a KEDA metric reads is
consumed by the component, a CPU target has finite workers to measure, a version changes
operations that exist, a preview client aims at a blue-green rollout, and the cluster holds
the replicas it starts with."""

from __future__ import annotations

from scalesim.spec.errors import Path, counted, did_you_mean
from scalesim.spec.model import Kind, System

Problem = tuple[Path, str]


def check_control(system: System) -> list[Problem]:
    problems: list[Problem] = []
    for name, component in system.components.items():
        path: Path = ("components", name)
        controlled = [field for field in ("autoscale", "rollout")
                      if getattr(component, field) is not None]
        if component.kind is Kind.EXTERNAL and controlled:
            problems.append(((*path, controlled[0]), "an external component runs outside "
                             "your cluster: it cannot be autoscaled or rolled out"))
            continue
        if component.replicas == 0 and (component.autoscale is None or
                                        component.autoscale.min != 0):
            problems.append(((*path, "replicas"), "'replicas: 0' needs 'autoscale' with "
                             "'min: 0' (KEDA scales from zero); otherwise at least 1"))
        if component.autoscale is not None:
            problems += _check_autoscale(system, name)
        for vname, version in component.versions.items():
            for oname in version.operations:
                if oname not in component.effective_operations:
                    problems.append(((*path, "versions", vname, "operations", oname),
                                     f"'{name}' has no operation '{oname}'"
                                     f"{did_you_mean(oname, component.effective_operations)}"))
    for index, workload in enumerate(system.workloads):
        if workload.preview:
            problems += _check_preview(system, index)
    if system.cluster is not None:
        pods = sum(c.replicas for c in system.components.values() if c.kind is not Kind.EXTERNAL)
        room = system.cluster.nodes * system.cluster.pods_per_node
        if pods > room:
            problems.append((("cluster",), f"the components start with {pods} replicas but "
                             f"{counted(system.cluster.nodes, 'node')} can hold {room}; raise "
                             "'nodes' or 'pods_per_node'"))
    return problems


def _check_preview(system: System, index: int) -> list[Problem]:
    """A preview client needs a preview Service: its target rolls out blue-green."""
    name = system.workloads[index].to.partition(".")[0]
    component = system.components.get(name)
    if component is None:
        return []  # the reference check says so
    rollout = component.rollout
    if rollout is not None and rollout.strategy == "blue_green":
        return []
    has = "no rollout" if rollout is None else f"a {rollout.strategy} rollout"
    return [(("workloads", index, "preview"), f"'{name}' has {has}: only a blue-green rollout "
             "has a preview Service for 'preview: true' to reach")]


def _check_autoscale(system: System, name: str) -> list[Problem]:
    component = system.components[name]
    autoscale = component.autoscale
    assert autoscale is not None
    problems: list[Problem] = []
    base: Path = ("components", name, "autoscale", "metrics")
    for index, metric in enumerate(autoscale.metrics):
        if metric.cpu is not None and component.worker_limit is None \
                and component.core_limit is None:
            problems.append(((*base, index, "cpu"), "a CPU target needs a finite 'workers' "
                             "or 'cores' (the CPU used is measured against them)"))
        queue = metric.queue
        if queue is None:
            continue
        target = system.components.get(queue.of)
        where = (*base, index, "queue", "of")
        if target is None:
            problems.append((where, f"no component '{queue.of}'"
                             f"{did_you_mean(queue.of, system.components)}"))
        elif target.kind is not Kind.QUEUE:
            problems.append((where, f"'{queue.of}' is a {target.kind.value}, not a queue"))
        elif not any(system.resolve(c.to)[0] == name for c in target.consumers):
            problems.append((where, f"'{name}' does not consume '{queue.of}': add a consumer "
                             f"'{name}.<operation>' to it"))
    return problems
