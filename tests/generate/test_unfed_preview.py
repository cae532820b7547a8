"""A blue-green pre-promotion analysis that no preview client feeds (lint's SS701): every
measurement has no data, so the generated Rollout aborts. `generate` warns, at the spec
line, and the Rollout says so in its `scalesim.io/note`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from scalesim.cli.generate import generate_command
from scalesim.generate.argo import rollout
from scalesim.spec import load_spec_text

SPEC = """
scalesim: 1
name: bluegreen
components:
  web:
    replicas: 3
    workers: 8
    operations:
      page: {work: 2ms}
    versions:
      v2: {operations: {page: {work: 3ms}}}
    rollout:
      to: v2
      strategy: blue_green
      auto_promotion: false
      pre_promotion_analysis: {interval: 20s, count: 2, p99: {max: 300ms}}
workloads:
  - {name: u, to: web.page, rate: 10/s}
"""
SMOKE = "  - {name: smoke, to: web.page, rate: 1/s, preview: true}\n"
WARNING = "pre_promotion_analysis of 'web' measures p99 on the preview 'v2', but no workload"

app = typer.Typer()
app.command("generate")(generate_command)


@app.callback()
def _root() -> None:
    """Test app."""


def _note(spec: str) -> str | None:
    document: dict[str, Any] = rollout(load_spec_text(spec), "web", "demo")
    return document["metadata"].get("annotations", {}).get("scalesim.io/note")


def test_the_rollout_notes_an_analysis_nothing_feeds() -> None:
    note = _note(SPEC)
    assert note is not None and note.startswith(WARNING)


def test_a_preview_client_needs_no_note() -> None:
    assert _note(SPEC + SMOKE) is None


def test_generate_warns_at_the_analysis(tmp_path: Path) -> None:
    spec = tmp_path / "bg.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    result = CliRunner().invoke(app, ["generate", str(spec), "--target", "argo",
                                      "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.output.splitlines() if WARNING in line]
    assert line.startswith(f"{spec}:16:7: ")
    assert "components.web.rollout.pre_promotion_analysis: warning: " in line


def test_other_targets_do_not_warn(tmp_path: Path) -> None:
    spec = tmp_path / "bg.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    result = CliRunner().invoke(app, ["generate", str(spec), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert WARNING not in result.output
