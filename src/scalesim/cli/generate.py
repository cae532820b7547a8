"""`scalesim generate`: deployment files from a spec, written only where it is safe."""

from __future__ import annotations

import shlex
from dataclasses import replace
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from scalesim.cli.outputs import OutputError, check_folder
from scalesim.cli.run import (
    EXIT_BAD_INPUT,
    Overrides,
    SpecFile,
    err,
    load_located_or_exit,
    shown,
)
from scalesim.generate import (
    GenerateError,
    GenerateOptions,
    Target,
    next_steps,
    plan,
    render,
    write,
)
from scalesim.generate.argo import preview_warnings
from scalesim.generate.errors import Problem
from scalesim.generate.keda import fixed_consumers
from scalesim.generate.output import WriteError
from scalesim.generate.retries import (
    WORKLOAD_TARGETS,
    lagging_problem,
    lagging_workloads,
    routes_in,
)
from scalesim.generate.targets import chosen_targets, empty_targets, folders
from scalesim.generate.tech import diverging_databases, unknown_techs
from scalesim.spec.errors import printable
from scalesim.spec.loader import Locator

OPTION_LABELS = ("--namespace", "--image-registry", "--k8s-version")


def generate_command(
    file: SpecFile,
    output: Annotated[Path, typer.Option("-o", "--out", "--output", help="Folder to write into.",
                                         file_okay=False)],
    targets: Annotated[list[Target] | None, typer.Option(
        "--target", help="What to generate (repeatable: --target k8s --target istio); "
        "default k8s.", show_default=False)] = None,
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
    written. Prints the next steps (docker compose, kubectl, helm) and writes them in
    DIR/README.md. docs/generate.md maps every spec field to what it becomes.
    """
    try:
        check_folder(output, "-o")  # a typo must not make a tree of folders
    except OutputError as error:
        _refuse([str(error)])
    system, locator = load_located_or_exit(file, overrides)
    try:
        options = GenerateOptions.checked(namespace, image_registry, k8s_version,
                                          labels=OPTION_LABELS)
    except GenerateError as error:  # the options' values, not the spec's
        _refuse(error.problems)
    chosen = targets or [Target.K8S]
    # Istio routes already in the folder retry: the workloads generated now leave it to them
    options = replace(options, mesh_retries=routes_in(output))
    try:
        files = render(system, chosen, options)
    except GenerateError as error:  # the spec's names
        _refuse([_placed(file, locator, problem) for problem in error.located])
    lagging = lagging_workloads(output, chosen)
    problems = [lagging_problem(output, lagging, shlex.join(_command(
        file, [*chosen, *lagging], output, options, overrides)))] if lagging else []
    try:
        planned = plan(output, files, force, folders(chosen))
    except GenerateError as error:  # the output folder's paths, each naming DIR
        _refuse([*problems, *error.problems])
    if problems:
        _refuse(problems)
    try:
        write(output, planned)
    except WriteError as error:  # a full disk: it says what was changed
        _refuse([f"-o {output}: {error}"])
    for item in planned:
        typer.echo(printable(f"{item.status:9} {output / item.file.path}"))
    keda_lines = fixed_consumers(system) if Target.KEDA in chosen_targets(chosen) else []
    for line in [*empty_targets(chosen, [each.path for each in files]), *keda_lines,
                 *_mesh_note(chosen, options, output),
                 *(_placed(file, locator, each) for each in unknown_techs(system)),
                 *(_placed(file, locator, each) for each in diverging_databases(system)
                   if {Target.K8S, Target.HELM} & set(chosen_targets(chosen))),
                 *(_placed(file, locator, each) for each in preview_warnings(system)
                   if Target.ARGO in chosen_targets(chosen))]:
        err.print(line, highlight=False, markup=False, soft_wrap=True)
    err.print(f"[green]ok[/green] {len(planned)} files for '{system.name}' in {shown(output)}",
              highlight=False)
    err.print("next steps:", highlight=False)
    for step in next_steps(system, [item.file.path for item in planned], options, output):
        err.print(f"  {step}", highlight=False, markup=False, soft_wrap=True)


def _command(file: Path, targets: list[Target], output: Path, options: GenerateOptions,
             overrides: list[str] | None) -> list[str]:
    """The command line that generates `targets` with these options and overrides."""
    words = ["scalesim", "generate", str(file)]
    words += [word for target in chosen_targets(targets) for word in ("--target", target.value)]
    words += ["-o", str(output)]
    defaults = GenerateOptions()
    for label, value, default in zip(
            OPTION_LABELS, (options.namespace, options.image_registry, options.k8s_version),
            (defaults.namespace, defaults.image_registry, defaults.k8s_version), strict=True):
        words += [label, value] if value != default else []
    return words + [word for override in overrides or [] for word in ("--set", override)]


def _mesh_note(chosen: list[Target], options: GenerateOptions, output: Path) -> list[str]:
    """Say so when the workloads leave retries to Istio routes generated earlier."""
    workloads = [t.value for t in chosen_targets(chosen) if t in WORKLOAD_TARGETS]
    if not options.mesh_retries or Target.ISTIO in chosen_targets(chosen) or not workloads:
        return []
    return [f"{' and '.join(workloads)}: the services leave retries to the Istio routes in "
            f"{output / Target.ISTIO.value} (SCALESIM_RETRIES=mesh)"]


def _placed(file: Path, locator: Locator, problem: Problem) -> str:
    """A problem with the spec as its own errors are printed, FILE:LINE:COL: path: message
    (the name of a component at its line), or FILE: message when it has no place."""
    if problem.place:
        return str(locator.issue(problem.place, problem.message))
    return f"{file}: {problem.message}"


def _refuse(problems: list[str]) -> NoReturn:
    for problem in problems:
        typer.echo(printable(problem), err=True)
    raise typer.Exit(EXIT_BAD_INPUT)
