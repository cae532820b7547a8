"""Which generator makes which target; `all` is every target in a fixed order.

The service-code target lives in `scalesim.generate.code` (written separately) and is
imported only when asked for, so the other targets work while it is absent.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from enum import StrEnum

from scalesim.generate import argo, chaos, compose, helm, istio, keda, kong, kubernetes
from scalesim.generate.base import GeneratedFile, GenerateOptions
from scalesim.generate.errors import GenerateError
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


def code_renderer() -> Renderer:
    """The code target's `render`, or a GenerateError saying it is not available."""
    try:
        module = importlib.import_module("scalesim.generate.code")
    except ModuleNotFoundError as error:
        if error.name not in ("scalesim.generate.code", "scalesim.generate"):
            raise
        raise GenerateError(["target 'code' is not available yet: scalesim.generate.code is "
                             "not installed in this version"]) from None
    renderer: Renderer | None = getattr(module, "render", None)
    if renderer is None:
        raise GenerateError(["target 'code' is not available yet: scalesim.generate.code "
                             "has no render()"])
    return renderer


def code_available() -> bool:
    try:
        code_renderer()
    except GenerateError:
        return False
    return True


RENDERERS: dict[Target, Renderer] = {
    Target.K8S: kubernetes.render, Target.ISTIO: _istio, Target.ARGO: argo.render,
    Target.KONG: kong.render, Target.KEDA: keda.render, Target.COMPOSE: compose.render,
    Target.HELM: helm.render}


def folders(target: Target) -> tuple[str, ...]:
    """The top-level folders `target` writes into (each target has its own, named after it;
    `all` leaves out code while it is absent, as `render` does)."""
    if target is not Target.ALL:
        return (target.value,)
    return tuple(t.value for t in Target if t is not Target.ALL
                 and (t is not Target.CODE or code_available()))


def render(system: System, target: Target, options: GenerateOptions) -> list[GeneratedFile]:
    """Every file of `target`, in a stable order; `all` leaves out code while it is absent."""
    if target is Target.CODE:
        return code_renderer()(system, options)
    if target is not Target.ALL:
        return RENDERERS[target](system, options)
    files = [f for renderer in RENDERERS.values() for f in renderer(system, options)]
    return files + (code_renderer()(system, options) if code_available() else [])
