"""`scalesim generate`: deployment files from a spec, written only where it is safe."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from scalesim.cli.run import EXIT_BAD_INPUT, Overrides, SpecFile, err, load_or_exit
from scalesim.generate import (
    GenerateError,
    GenerateOptions,
    Target,
    code_available,
    plan,
    render,
    write,
)
from scalesim.generate.naming import dns_label

_K8S_VERSION = re.compile(r"^1\.\d+$")


def _options(namespace: str, image_registry: str, k8s_version: str) -> GenerateOptions:
    problems = []
    try:
        dns_label(namespace, "namespace")
    except GenerateError as error:
        problems += error.problems
    if not image_registry or any(c.isspace() for c in image_registry):
        problems.append(f"image registry {image_registry!r}: must be non-empty, no spaces")
    if not _K8S_VERSION.match(k8s_version):
        problems.append(f"Kubernetes version {k8s_version!r}: give major.minor, e.g. 1.33")
    if problems:
        raise GenerateError(problems)
    return GenerateOptions(namespace=namespace, image_registry=image_registry.rstrip("/"),
                           k8s_version=k8s_version)


def generate_command(
    file: SpecFile,
    output: Annotated[Path, typer.Option("-o", "--out", "--output", help="Folder to write into.",
                                         file_okay=False)],
    target: Annotated[Target, typer.Option(help="What to generate.")] = Target.K8S,
    namespace: Annotated[str, typer.Option(help="Kubernetes namespace.")] = "default",
    image_registry: Annotated[str, typer.Option(
        help="Registry (and path) of the services' images.")] = "registry.local/scalesim",
    k8s_version: Annotated[str, typer.Option(help="Kubernetes version to target.")] = "1.33",
    force: Annotated[bool, typer.Option(
        help="Overwrite files that ScaleSim did not generate (or that were edited).")] = False,
    overrides: Overrides = None,
) -> None:
    """Generate deployment files into DIR; refuse to overwrite files ScaleSim did not write.

    Bad input (spec errors, options, unsafe paths, foreign files) exits 2 with nothing
    written. docs/generate.md maps every spec field to what it becomes.
    """
    system = load_or_exit(file, overrides)
    try:
        options = _options(namespace, image_registry, k8s_version)
        files = render(system, target, options)
        planned = plan(output, files, force)
    except GenerateError as error:
        for problem in error.problems:
            typer.echo(f"{file}: {problem}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if target is Target.ALL and not code_available():
        err.print("[yellow]warning[/yellow]: target 'code' is not available yet; "
                  "generated everything else", highlight=False)
    write(output, planned)
    for item in planned:
        typer.echo(f"{item.status:9} {output / item.file.path}")
    err.print(f"[green]ok[/green] {len(planned)} files for '{system.name}' in {output}",
              highlight=False)
