"""What people see of the control loops: the terminal summary, the HTML report's charts and
rollout timeline, and the replicas CSV."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.render.report import render_report
from scalesim.render.terminal import print_summary
from scalesim.sim import simulate
from scalesim.spec import load_spec, load_spec_text
from scalesim.templates import get_template

FEATURES = Path(__file__).parents[1] / "kernel" / "control_features.yaml"


def test_the_terminal_summary_shows_scaling_and_rollouts() -> None:
    result = simulate(load_spec(FEATURES))
    console = Console(record=True, width=200)
    print_summary(result, console)
    text = console.export_text()
    assert "Scaling (ready replicas over the window)" in text
    assert "keda: jobs has" in text  # the scale events and their reasons
    assert "Rollouts" in text and "aborted" in text and "promoted" in text
    assert "error_rate" in text and "failure_limit 2" in text  # why the canary was aborted
    assert "cluster: 4 nodes at the start" in text


def test_the_report_charts_replicas_against_load_and_latency() -> None:
    system = load_spec(FEATURES)
    html = render_report(simulate(system, with_series=True), system)
    section = html[html.index('<section id="control">'):]
    section = section[:section.index("</section>")]
    assert "edge: replicas" in section and "edge: load" in section
    assert "end-to-end p99" in section
    assert "Rollout of api to v2 (canary): aborted" in section
    assert "rollout of api to v2" in section  # the timeline chart
    points = [int(n) for n in re.findall(r'data-points="(\d+)"', section)]
    assert points and all(n > 0 for n in points)
    assert "blast radius" in section


def test_out_writes_the_replicas_series(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", str(FEATURES), "--out", str(tmp_path),
                                      "-q"])
    assert result.exit_code == 0, result.output
    with (tmp_path / "replicas.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {r["component"] for r in rows} == {"edge", "api", "catalog", "search", "worker"}
    assert {r["version"] for r in rows if r["component"] == "api"} == {"base", "v2"}
    assert (tmp_path / "nodes.csv").exists()


def test_the_rollouts_table_keeps_failed_measurements_apart_from_errors() -> None:
    """A healthy canary promoted under failure_limit 1 had two measurements without data
    (phase 'error', counted against consecutive_error_limit) and the table called them
    '2 analysis failures', contradicting the promotion."""
    built = get_template("canary").build({"bad": False, "rps": 100, "pause_s": 20})
    result = simulate(load_spec_text(built.text))
    (rollout,) = result["rollouts"]
    phases = [a["phase"] for a in rollout["analysis"]]
    assert rollout["outcome"] == "promoted" and "failed" not in phases and "error" in phases
    console = Console(record=True, width=250)
    print_summary(result, console)
    lines = console.export_text().splitlines()
    header = next(line for line in lines if "component" in line and "outcome" in line)
    row = next(line for line in lines if "promoted" in line)
    table = dict(zip([c.strip() for c in header.split("┃")[1:-1]],
                     [c.strip() for c in row.split("│")[1:-1]], strict=True))
    assert table["analysis failed"] == "0"
    assert table["analysis no data"] == str(phases.count("error"))
