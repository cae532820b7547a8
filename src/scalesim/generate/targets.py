"""Which generator makes which target; `all` is every target in a fixed order.

Every target also writes the deploy README at the top of the folder (the same text for a
spec whatever the target, so generating targets one by one into a folder agrees). Compose
builds the service code, so it brings the code target's files with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from enum import StrEnum

from scalesim.generate import argo, chaos, code, compose, guide, helm, istio, keda, kong, kubernetes
from scalesim.generate.base import GeneratedFile, GenerateOptions
from scalesim.generate.collisions import collision_problems, path_clash
from scalesim.generate.errors import GenerateError, Problem
from scalesim.generate.naming import label_problem, name_problems, system_label
from scalesim.spec.model import System

Renderer = Callable[[System, GenerateOptions], list[GeneratedFile]]


class Target(StrEnum):
    K8S = "k8s"
    ISTIO = "istio"
    ARGO = "argo"
    KONG = "kong"
    KEDA = "keda"
    COMPOSE = "compose"
    HELM = "helm"
    CODE = "code"
    ALL = "all"


def _istio(system: System, options: GenerateOptions) -> list[GeneratedFile]:
    return istio.render(system, options) + chaos.render(system, options)


def _compose(system: System, options: GenerateOptions) -> list[GeneratedFile]:
    return compose.render(system, options) + code.render(system, options)


# The targets that write Kubernetes objects (the Helm chart renders the k8s target's).
OBJECT_TARGETS = (Target.K8S, Target.ISTIO, Target.ARGO, Target.KONG, Target.KEDA)
RENDERERS: dict[Target, Renderer] = {
    Target.K8S: kubernetes.render, Target.ISTIO: _istio, Target.ARGO: argo.render,
    Target.KONG: kong.render, Target.KEDA: keda.render, Target.COMPOSE: _compose,
    Target.HELM: helm.render, Target.CODE: code.render}


def chosen_targets(targets: Target | Iterable[Target]) -> list[Target]:
    """The targets named, each once and in the fixed order; `all` is every one."""
    named = {targets} if isinstance(targets, Target) else set(targets)
    return [t for t in RENDERERS if Target.ALL in named or t in named]


def folders(targets: Target | Iterable[Target]) -> tuple[str, ...]:
    """The top-level folders the targets write into: each its own, named after it; compose
    also writes the services it builds (code/)."""
    found = [t.value for t in chosen_targets(targets)]
    if Target.COMPOSE.value in found:
        found.append(Target.CODE.value)
    return tuple(dict.fromkeys(found))


# What a target needs in the spec to write anything; the others write for any spec.
NEEDS = {Target.ARGO: "component that runs as a Deployment",
         Target.KONG: "component with kind gateway and rate_limit",
         Target.KEDA: "queue consumer that runs as a Deployment, is not left to an HPA "
                      "(autoscale without a queue metric) and can scale"}


def empty_targets(targets: Target | Iterable[Target], paths: Iterable[str]) -> list[str]:
    """One line for each target chosen that has nothing to write for this spec (its folder
    would be empty, so it is not made), saying what it would need."""
    written = {path.split("/", 1)[0] for path in paths}
    return [f"{target.value}: nothing to generate: the spec has no {NEEDS[target]}"
            for target in chosen_targets(targets)
            if target in NEEDS and target.value not in written]


def _system_name_problems(system: System) -> list[Problem]:
    try:
        system_label(system.name)
    except GenerateError as error:
        return error.located
    return []


def _namespace_clashes(system: System) -> list[Problem]:
    """A component whose file would be the Namespace's (`namespace`): found here when a
    name that is no label stops the objects, in which the collision check finds it, from
    being made."""
    return [path_clash(None, name, system.name, kubernetes.NAMESPACE_FILE)
            for name in system.components
            if f"k8s/{name.lower()}.yaml" == kubernetes.NAMESPACE_FILE]


def render(system: System, targets: Target | Iterable[Target],
           options: GenerateOptions) -> list[GeneratedFile]:
    """Every file of the targets (each path once, in a stable order), then the deploy
    README. The objects of every target are made and checked whatever is chosen, so a name
    two components share is refused however the targets are generated, one by one or all;
    every problem with the names is listed at once (GenerateError)."""
    chosen = chosen_targets(targets)
    if Target.ISTIO in chosen:  # one place retries each call: the mesh's routes
        options = replace(options, mesh_retries=True)
    problems = [*_system_name_problems(system), *name_problems(list(system.components))]
    if any(label_problem(name.lower()) is not None for name in [system.name, *system.components]):
        raise GenerateError([*problems, *_namespace_clashes(system)])  # no objects to check
    made = {each: RENDERERS[each](system, options) for each in OBJECT_TARGETS}
    problems += collision_problems([file for each in OBJECT_TARGETS for file in made[each]],
                                   system.name)
    if problems:
        raise GenerateError(problems)
    made.update({each: RENDERERS[each](system, options) for each in chosen
                 if each not in made})
    files: dict[str, GeneratedFile] = {}
    for each in chosen:
        for file in made[each]:
            files.setdefault(file.path, file)
    return [*files.values(), guide.readme(system, options)]
