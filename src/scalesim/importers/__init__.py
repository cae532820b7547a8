"""Systems from what already exists: Compose files, Kubernetes manifests, Helm charts.

Each source becomes a `Draft` (what the files say, with where they say it), then
`assemble` writes a commented spec that validates. docs/import.md has the mapping.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from scalesim.importers.assemble import Imported, assemble
from scalesim.importers.compose import read_project
from scalesim.importers.draft import MARK
from scalesim.importers.errors import ImportFailed, Problem
from scalesim.importers.helm import chart_name, render
from scalesim.importers.k8s import read_cluster
from scalesim.importers.sources import expand, load_all


def import_compose(paths: Sequence[str]) -> Imported:
    """A Compose project (files, or folders holding one) as a spec."""
    return assemble(read_project(paths))


def import_k8s(paths: Sequence[str], recursive: bool = False, skip_unknown: bool = False,
               name: str | None = None, namespace: str = "default") -> Imported:
    """Kubernetes manifests (files, folders, or '-' for standard input) as a spec."""
    files = expand(paths, recursive)
    folder = Path(paths[0]) if paths and paths[0] != "-" else Path.cwd()
    fallback = (folder if folder.is_dir() else folder.resolve().parent).resolve().name
    return assemble(read_cluster(load_all(files), ", ".join(paths), skip_unknown, name,
                                 fallback or None, "the folder of the manifests", namespace))


def import_helm(chart: str, values: Sequence[str] = (), sets: Sequence[str] = (),
                release: str | None = None, namespace: str = "default",
                skip_unknown: bool = False, name: str | None = None) -> Imported:
    """A Helm chart, rendered with its values, as a spec."""
    chart_id = chart_name(chart)
    documents = render(chart, values, sets, release or chart_id, namespace)
    source = " ".join([chart, *(f"--values {file}" for file in values),
                       *(f"--set {s}" for s in sets)])
    return assemble(read_cluster(documents, source, skip_unknown, name, chart_id,
                                 "the chart's name", namespace))


__all__ = ["MARK", "ImportFailed", "Imported", "Problem", "import_compose", "import_helm",
           "import_k8s"]
