"""Which generator makes which target; `all` is every target in a fixed order.

Every target also writes the deploy README at the top of the folder (the same text for a
spec whatever the target, so generating targets one by one into a folder agrees). Compose
builds the service code, so it brings the code target's files with it.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from scalesim.generate import argo, chaos, code, compose, guide, helm, istio, keda, kong, kubernetes
from scalesim.generate.base import GeneratedFile, GenerateOptions
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


RENDERERS: dict[Target, Renderer] = {
    Target.K8S: kubernetes.render, Target.ISTIO: _istio, Target.ARGO: argo.render,
    Target.KONG: kong.render, Target.KEDA: keda.render, Target.COMPOSE: _compose,
    Target.HELM: helm.render, Target.CODE: code.render}


def folders(target: Target) -> tuple[str, ...]:
    """The top-level folders `target` writes into: its own, named after it; compose also
    writes the services it builds (code/), and `all` writes every one."""
    if target is Target.ALL:
        return tuple(t.value for t in Target if t is not Target.ALL)
    if target is Target.COMPOSE:
        return (Target.COMPOSE.value, Target.CODE.value)
    return (target.value,)


def render(system: System, target: Target, options: GenerateOptions) -> list[GeneratedFile]:
    """Every file of `target` (each path once, in a stable order), then the deploy README."""
    chosen = list(RENDERERS) if target is Target.ALL else [target]
    files: dict[str, GeneratedFile] = {}
    for each in chosen:
        for file in RENDERERS[each](system, options):
            files.setdefault(file.path, file)
    return [*files.values(), guide.readme(system, options)]
