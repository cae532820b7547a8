"""Options that the capacity commands share: where to run (`--jobs`, `--dask`) and SLO
targets written on the command line (`--slo "p99<200ms,error_rate<0.1%"`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from scalesim.spec.model import Slo
    from scalesim.sweep.replicate import Precision

Jobs = Annotated[int | None, typer.Option(
    "--jobs", "-j", min=1, help="Worker processes for replications and points "
    "(default: one per core; 1 runs everything in this process).")]
Dask = Annotated[str | None, typer.Option(
    "--dask", metavar="ADDRESS", help="Run on a Dask cluster: a scheduler address "
    "(tcp://host:8786) or 'local' for a LocalCluster with --jobs workers (needs "
    "scalesim[dask]).")]
SloText = Annotated[str | None, typer.Option(
    "--slo", metavar="TARGETS", help="SLO targets, e.g. \"p99<200ms,error_rate<0.1%\" "
    "(mean, p50, p90, p95, p99, p999, error_rate); replaces the spec's slo.")]

DEFAULT_MAX_REPLICATIONS = 100

Replications = Annotated[int | None, typer.Option(
    "--replications", "-r", min=1, max=10_000, help="Independent replications (overrides "
    "simulation.replications); several give 95 % confidence intervals.")]
PrecisionText = Annotated[str | None, typer.Option(
    "--precision", metavar="PCT", help="Add replications until the 95 % CI half-width of "
    "the mean latency is within PCT of the mean, e.g. 2% (at least 5 replications, or "
    "--replications if more).")]
MaxReplications = Annotated[int | None, typer.Option(
    "--max-replications", min=1, help="With --precision: stop here even if not precise "
    f"(default {DEFAULT_MAX_REPLICATIONS}; below 5 it is 5, the replications --precision "
    "always runs).")]

_TARGET = re.compile(r"^\s*([a-z_0-9]+)\s*<=?\s*(.+?)\s*$")


def parse_slo(text: str) -> Slo:
    """'p99<200ms,error_rate<0.1%' -> Slo(p99=0.2, error_rate=0.001); raises typer.BadParameter
    naming the part that is wrong."""
    from pydantic import ValidationError

    from scalesim.spec.errors import plain_message
    from scalesim.spec.model import Slo

    targets: dict[str, str | float] = {}
    for part in text.split(","):
        match = _TARGET.match(part)
        if match is None:
            raise typer.BadParameter(f"'{part.strip()}' is not NAME<VALUE, e.g. p99<200ms",
                                     param_hint="--slo")
        name, value = match.groups()
        if name not in Slo.model_fields:
            raise typer.BadParameter(f"unknown target '{name}'; use "
                                     + ", ".join(Slo.model_fields), param_hint="--slo")
        if name in targets:
            raise typer.BadParameter(f"'{name}' is given twice", param_hint="--slo")
        targets[name] = value
    try:
        return Slo.model_validate(targets)
    except ValidationError as error:
        problem = error.errors()[0]
        raise typer.BadParameter(f"{problem['loc'][0]}: {plain_message(problem['msg'])}",
                                 param_hint="--slo") from None


def parse_precision(text: str | None, most: int | None) -> Precision | None:
    """--precision PCT and its --max-replications; the cap alone caps nothing, so it is
    refused rather than ignored."""
    from scalesim.spec.units import parse_fraction
    from scalesim.sweep.replicate import Precision

    if text is None:
        if most is not None:
            raise typer.BadParameter("applies with --precision PCT only (it caps the "
                                     "replications --precision adds); for a fixed number "
                                     "give --replications N", param_hint="--max-replications")
        return None
    try:
        target = parse_fraction(text)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--precision") from None
    if target <= 0.0:
        raise typer.BadParameter("must be above 0%", param_hint="--precision")
    return Precision(target, DEFAULT_MAX_REPLICATIONS if most is None else most)


def replication_override(replications: int | None) -> list[str]:
    return [f"simulation.replications={replications}"] if replications else []
