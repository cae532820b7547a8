"""`scalesim plan` with autoscaling: the run's cost is at the replicas the HPA kept, not at
the starting count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.cli.plan import print_plan

# 300/s of 10 ms work is 3 busy workers: at a 50 % CPU target on replicas of 2 workers the
# HPA holds ceil(3 / (0.5 × 2)) = 3 replicas, past the 2 it starts with, after the warm-up.
SCALED = """
scalesim: 1
name: scaled
components:
  web:
    replicas: 2
    workers: 2
    cost_per_replica_hour: 0.1
    startup: 1s
    operations: {handle: {work: {dist: exponential, mean: 10ms}}}
    autoscale: {min: 1, max: 8, metrics: [{cpu: 50%}]}
workloads: [{name: users, to: web.handle, rate: 300/s}]
slo: {p99: 500ms}
simulation: {duration: 120s, warmup: 30s, seed: 1}
"""


def test_an_autoscaled_plan_costs_the_replicas_the_run_used(tmp_path: Path) -> None:
    spec = tmp_path / "scaled.yaml"
    spec.write_text(SCALED)
    done = CliRunner().invoke(app, ["plan", str(spec), "--rate", "300/s", "--vary",
                                    "components.web.autoscale.max=6,8", "-r", "2",
                                    "--jobs", "1", "--json"])
    assert done.exit_code == 0, done.output
    plan = json.loads(done.stdout)["plan"]
    assert plan["cost_per_hour"] == pytest.approx(0.2)  # 2 starting replicas at 0.1
    used = plan["simulated"]["replicas_used"]["web"]
    assert used == pytest.approx(3.0, abs=0.05)
    assert plan["run_cost_per_hour"] == pytest.approx(0.1 * used)
    console = Console(record=True, width=400)
    print_plan(json.loads(done.stdout), console)
    assert "0.2 per hour at the starting replicas; with its autoscaling the run used 0.3 per " \
        "hour (mean replicas: web 3)" in console.export_text()
