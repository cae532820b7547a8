"""What every generator returns, and the options they all take."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GenerateOptions:
    namespace: str = "default"
    image_registry: str = "registry.local/scalesim"
    k8s_version: str = "1.33"


@dataclass(frozen=True)
class GeneratedFile:
    """One output file: a path relative to the output folder, and its text."""

    path: str
    content: str
    executable: bool = False
