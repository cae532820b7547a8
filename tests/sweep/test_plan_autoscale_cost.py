"""`scalesim plan` with autoscaling: the run's cost is at the replicas the HPA kept, not at
the starting count."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.cli.plan import print_plan
from scalesim.spec import System, load_spec_text
from scalesim.sweep.executor import Serial
from scalesim.sweep.grid import parse_axis
from scalesim.sweep.plan import Planner

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


@pytest.mark.parametrize(("replicas", "low", "costs"), [
    (6, 1, [0.4, 0.5, 0.6]),  # 6 above autoscale.max 4 and 5: the HPA takes them to max
    (1, 3, [0.3, 0.3, 0.3]),  # 1 below autoscale.min 3: the HPA takes it to 3
])
def test_a_candidate_costs_the_replicas_the_first_sync_leaves(replicas: int, low: int,
                                                              costs: list[float]) -> None:
    """The HPA's first sync, at 0 s, takes replicas outside [min, max] into it at once
    (docs/control.md): a candidate with autoscale.max 4 below the 6 replicas the spec starts
    with costs 4 replicas, not 6 (the plan read '7 per hour' where its run used 5)."""
    text = SCALED.replace("replicas: 2", f"replicas: {replicas}").replace("min: 1", f"min: {low}")

    def load(overrides: Sequence[str]) -> System:
        return load_spec_text(text, overrides=overrides)

    axis = parse_axis("components.web.autoscale.max=4,5,8")
    planner = Planner(load, [axis], None, {}, 1, Serial())
    assert [planner.candidate((i,)).cost for i in range(3)] == pytest.approx(costs)
