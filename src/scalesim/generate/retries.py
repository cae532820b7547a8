"""Which place retries a call when targets are generated one at a time into one folder.

The Istio routes retry, so the Deployments beside them must tell the services not to
(SCALESIM_RETRIES=mesh), or each try a service makes is retried again by its sidecar.
Generated together, `render` sees both targets. Generated one by one, the folder's manifest
says what is already there: workloads generated into a folder holding the routes leave
retries to them, and routes generated beside workloads that retry themselves are refused,
since a target writes only its own folder and cannot fix the workloads'.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from scalesim.generate.output import read_manifest
from scalesim.generate.targets import Target, chosen_targets

MESH_SETTING = "SCALESIM_RETRIES"
WORKLOAD_TARGETS = (Target.K8S, Target.HELM)  # the targets that write Deployments


def _present(directory: Path, target: Target) -> list[Path]:
    """The files the manifest records under the target's folder that are still there."""
    return [directory / path for path in read_manifest(directory)
            if path.split("/", 1)[0] == target.value and (directory / path).is_file()]


def routes_in(directory: Path) -> bool:
    """Whether the folder already holds generated Istio routes, which retry."""
    return bool(_present(directory, Target.ISTIO))


def _retries_itself(path: Path) -> bool:
    """A generated file with a Deployment whose service was not told to leave retries to
    the mesh."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return "kind: Deployment" in text and MESH_SETTING not in text


def lagging_workloads(directory: Path, targets: Iterable[Target]) -> list[Target]:
    """When the Istio routes are generated: the workload targets already in the folder, and
    not generated now, whose services retry each call themselves."""
    chosen = chosen_targets(targets)
    if Target.ISTIO not in chosen:
        return []
    return [target for target in WORKLOAD_TARGETS if target not in chosen
            and any(_retries_itself(path) for path in _present(directory, target))]


def lagging_problem(directory: Path, lagging: Iterable[Target], command: str) -> str:
    """Why the routes are refused, with the command that generates both together."""
    folders = " and ".join(str(directory / target.value) for target in lagging)
    return (f"{folders}: its Deployments retry each call in the service (generated without "
            "the Istio routes), and the routes would retry each of those tries again; "
            f"generate them together, so the services leave retries to the mesh: {command}")
