"""Deployment files from a system spec: Kubernetes, Istio, Argo Rollouts, Kong, KEDA,
Compose, Helm and service code. `render` makes files in memory; `plan` and `write` put
them in a folder without touching files ScaleSim did not make."""

from scalesim.generate.base import GeneratedFile, GenerateOptions
from scalesim.generate.errors import GenerateError
from scalesim.generate.guide import next_steps
from scalesim.generate.output import MANIFEST, Planned, plan, write
from scalesim.generate.targets import Target, render

__all__ = ["MANIFEST", "GenerateError", "GenerateOptions", "GeneratedFile", "Planned",
           "Target", "next_steps", "plan", "render", "write"]
