"""`scalesim import compose|k8s|helm`: a spec from the files a system already has."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from scalesim.cli.outputs import OutputError, write_file
from scalesim.cli.run import EXIT_BAD_INPUT, err
from scalesim.importers import (
    MARK,
    Imported,
    ImportFailed,
    import_compose,
    import_helm,
    import_k8s,
)

import_app = typer.Typer(
    help="Make a spec from a Compose file, Kubernetes manifests or a Helm chart "
    "(docs/import.md).", no_args_is_help=True)

Output = Annotated[Path | None, typer.Option(
    "-o", "--out", "--output", dir_okay=False,
    help="Write the spec here (default: print it).", show_default=False)]
Force = Annotated[bool, typer.Option(help="Overwrite the output file if it exists.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the import report as JSON.")]
SystemName = Annotated[str | None, typer.Option(
    "--name", help="The system's name (default: from the files).", show_default=False)]
SkipUnknown = Annotated[bool, typer.Option(
    help="Leave out objects of kinds the importer does not know, instead of failing.")]


def _run(make: Callable[[], Imported], output: Path | None, force: bool,
         as_json: bool) -> None:
    """Import, then write all or nothing; every problem exits 2 with nothing written."""
    if output is not None and output.exists() and not force:
        typer.echo(f"{output}: exists; use --force to overwrite it", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    try:
        imported = make()
    except ImportFailed as error:
        for problem in error.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if output is not None:
        _write(output, imported.text)
    if as_json:
        typer.echo(json.dumps(_report(imported, output), indent=2))
    elif output is None:
        typer.echo(imported.text, nl=False)
    _tell(imported, output)


def _write(output: Path, text: str) -> None:
    try:
        write_file(output, text)
    except OutputError as error:  # it names the path
        typer.echo(str(error), err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _report(imported: Imported, output: Path | None) -> dict[str, object]:
    system = imported.system
    report: dict[str, object] = {
        "output": str(output) if output is not None else None,
        "system": system.name,
        "components": {name: component.kind.value
                       for name, component in system.components.items()},
        "workloads": [workload.to for workload in system.workloads],
        "renamed": {source: name for source, name, _ in imported.renamed},
        "placeholders": imported.placeholders,
        "notes": imported.notes}
    if output is None:
        report["spec"] = imported.text
    return report


def _tell(imported: Imported, output: Path | None) -> None:
    system = imported.system
    where = f" → {output}" if output is not None else ""
    err.print(f"[green]ok[/green] '{system.name}': {len(system.components)} components, "
              f"{len(system.workloads)} workloads{where}", highlight=False, markup=True)
    for source, name, why in imported.renamed:
        err.print(f"  renamed {source} -> {name} ({why})", highlight=False, markup=False)
    for note in imported.notes:
        err.print(f"  note: {note}", highlight=False, markup=False, soft_wrap=True)
    err.print(f"  {imported.placeholders} values marked {MARK} are not in the files: fill "
              "them in before trusting results", highlight=False, markup=False)


@import_app.command("compose")
def compose_command(
    paths: Annotated[list[str], typer.Argument(
        help="Compose files, or folders holding compose.yaml / docker-compose.yml "
        "(and its override file).", show_default=False)],
    output: Output = None, force: Force = False, as_json: AsJson = False,
) -> None:
    """A spec from a Compose project: services, replicas, healthchecks, addresses."""
    _run(lambda: import_compose(paths), output, force, as_json)


@import_app.command("k8s")
def k8s_command(
    paths: Annotated[list[str], typer.Argument(
        help="Manifest files or folders (YAML or JSON); '-' reads standard input.",
        show_default=False)],
    output: Output = None,
    recursive: Annotated[bool, typer.Option("--recursive", "-R",
                                            help="Read folders' subfolders too.")] = False,
    namespace: Annotated[str, typer.Option(
        help="Namespace of objects that name none (as kubectl apply -n).")] = "default",
    skip_unknown: SkipUnknown = False, name: SystemName = None, force: Force = False,
    as_json: AsJson = False,
) -> None:
    """A spec from Kubernetes manifests, with Istio, Gateway API, KEDA and Argo objects."""
    _run(lambda: import_k8s(paths, recursive, skip_unknown, name, namespace), output, force,
         as_json)


@import_app.command("helm")
def helm_command(
    chart: Annotated[str, typer.Argument(help="The chart's folder.", show_default=False)],
    values: Annotated[list[str] | None, typer.Option(
        "--values", "-f", help="A values file (repeatable; later files win).")] = None,
    sets: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE", help="A value, as helm --set takes it (repeatable).")] = None,
    release: Annotated[str | None, typer.Option(
        help="Release name (default: the chart's name).", show_default=False)] = None,
    namespace: Annotated[str, typer.Option(help="Namespace to render into.")] = "default",
    output: Output = None, skip_unknown: SkipUnknown = False, name: SystemName = None,
    force: Force = False, as_json: AsJson = False,
) -> None:
    """A spec from a Helm chart, rendered with `helm` (or helm-python-sdk) and its values."""
    _run(lambda: import_helm(chart, values or [], sets or [], release, namespace,
                             skip_unknown, name), output, force, as_json)
