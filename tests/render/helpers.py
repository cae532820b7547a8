"""Shared by the render tests: example runs, a Typer app with the render commands, golden
files."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import typer

from scalesim.cli.render import compare_command, diagram_command, export_command, report_command
from scalesim.sim import simulate
from scalesim.spec import System, load_spec, load_spec_text
from scalesim.templates import get_template

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).parent / "golden"
HOSTILE = '<script>alert("x")</script>\'&"'

app = typer.Typer()
app.command("diagram")(diagram_command)
app.command("report")(report_command)
app.command("compare")(compare_command)
app.command("export")(export_command)


@cache
def run(example: str, *overrides: str) -> tuple[System, dict[str, Any]]:
    """An example simulated with its time series (cached per test process; do not mutate)."""
    system = load_spec(EXAMPLES / f"{example}.yaml", list(overrides))
    result = simulate(system, with_series=True)
    return system, result


@cache
def e_commerce() -> tuple[System, dict[str, Any]]:
    """The e-commerce template run for 5 s (no series): its diagram is about 2,300 px wide
    at natural size, wider than any page."""
    system = load_spec_text(get_template("e-commerce").build({}).text,
                            overrides=["simulation.duration=5s", "simulation.warmup=0s"])
    return system, simulate(system, 1)


def check_golden(name: str, text: str) -> None:
    """Compare with tests/render/golden/NAME; SCALESIM_UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / name
    if os.environ.get("SCALESIM_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with SCALESIM_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"
