"""What every generator returns, and the options they all take."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from scalesim.generate.errors import GenerateError
from scalesim.generate.naming import dns_label

_K8S_VERSION = re.compile(r"1\.(0|[1-9][0-9]{0,2})")  # a semver minor: no leading zero
# The oldest Kubernetes serving every API the output uses: autoscaling/v2 (HPA) is GA in
# 1.23, policy/v1 (PodDisruptionBudget) in 1.21, networking.k8s.io/v1 (Ingress) in 1.19.
OLDEST_K8S = 23
# The newest Kubernetes whose API schemas the objects are checked against (the tests validate
# them strictly with kubernetes-validate's bundle): a later release may have removed an API.
NEWEST_K8S = 37
_SUPPORTED = f"1.{OLDEST_K8S} to 1.{NEWEST_K8S}"
# An image reference's registry and path as Docker reads it: a host (and port), then
# lower-case path components separated by '.', '_', '__' or dashes.
_HOST = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?"
_PATH = r"[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*"
_REGISTRY = re.compile(rf"{_HOST}(/{_PATH})*/?")


@dataclass(frozen=True)
class GenerateOptions:
    namespace: str = "default"
    image_registry: str = "registry.local/scalesim"
    k8s_version: str = "1.33"
    # Set when the Istio routes are generated with the workloads: their sidecars retry, so
    # the services are told to leave retries to them (SCALESIM_RETRIES=mesh).
    mesh_retries: bool = False

    @classmethod
    def checked(cls, namespace: str, image_registry: str, k8s_version: str,
                labels: tuple[str, str, str] = ("namespace", "image registry",
                                                "Kubernetes version")) -> GenerateOptions:
        """Options from a person's input; a GenerateError lists every value that is wrong,
        each named by its label (the CLI's option names, the studio's fields)."""
        problems = []
        try:
            dns_label(namespace, labels[0], fold=False)
        except GenerateError as error:
            problems += error.problems
        if len(image_registry) > 200 or not _REGISTRY.fullmatch(image_registry):
            problems.append(f"{labels[1]} {image_registry!r}: give a registry host and path "
                            "in lower case, e.g. registry.local/scalesim or localhost:5000/team")
        problem = _version_problem(k8s_version)
        if problem is not None:
            problems.append(f"{labels[2]} {k8s_version!r}: {problem}")
        if problems:
            raise GenerateError(problems)
        return cls(namespace=namespace, image_registry=image_registry.rstrip("/"),
                   k8s_version=k8s_version)


def k8s_minor(version: str) -> int:
    """The minor release of a checked Kubernetes version, '1.33' -> 33."""
    return int(version.split(".")[1])


def _version_problem(version: str) -> str | None:
    """Why the output cannot target Kubernetes `version` (the Helm chart's kubeVersion), or
    None: it is not major.minor, older than the APIs the objects use, or newer than the
    schemas they were checked against."""
    if not _K8S_VERSION.fullmatch(version):
        return f"give major.minor from {_SUPPORTED}, e.g. 1.33"
    minor = k8s_minor(version)
    if minor < OLDEST_K8S:
        return (f"the output uses autoscaling/v2 HorizontalPodAutoscalers, served from "
                f"Kubernetes 1.{OLDEST_K8S}; give {_SUPPORTED}")
    if minor > NEWEST_K8S:
        return (f"the output is checked against the APIs of Kubernetes up to 1.{NEWEST_K8S} "
                f"and a later release may not serve them; give {_SUPPORTED}")
    return None


@dataclass(frozen=True)
class GeneratedFile:
    """One output file: a path relative to the output folder, and its text. A manifest also
    keeps the component it is of (None: the system's own, as the Namespace) and the objects
    it holds, so names two components' objects share are found before anything is written."""

    path: str
    content: str
    executable: bool = False
    owner: str | None = field(default=None, compare=False)
    objects: tuple[dict[str, Any], ...] = field(default=(), compare=False, repr=False)
