"""`scalesim plan` searches capacity knobs only: an axis that is the load --rate sets, how a
run is measured, a time or a share is refused before anything runs (exit 2), and so is a
--set that a --vary would override."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.sweep.specs import MMC
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.sweep.grid import parse_axis
from scalesim.sweep.knobs import capacity_knobs

# Two open workloads, one with a load profile, and a closed one: --rate scales the open ones.
MIX = """
scalesim: 1
name: mix
components:
  s:
    workers: 4
    operations: {op: {work: {dist: exponential, mean: 10ms}}}
workloads:
  - {name: flat, to: s, rate: 100/s}
  - name: ramp
    to: s
    profile: [{at: 0s, rate: 50/s}, {at: 30s, rate: 100/s}]
  - {name: users, to: s, users: 4}
slo: {p99: 100ms}
simulation: {duration: 60s, warmup: 5s, seed: 3}
"""


def _plan(tmp_path: Path, *args: str) -> tuple[int, str]:
    spec = tmp_path / "mix.yaml"
    spec.write_text(MIX)
    done = CliRunner().invoke(app, ["plan", str(spec), "--rate", "300/s", *args, "--jobs", "1"])
    return done.exit_code, " ".join(done.output.replace("│", " ").split())


@pytest.mark.parametrize(("vary", "says"), [
    # the QA case: the plan "for 300/s" was to send 100/s
    ("workloads.0.rate=100/s,200/s", "--rate 300/s sets workloads.0.rate (every open"),
    ("workloads.1.profile.1.rate=80/s,90/s", "--rate 300/s sets workloads.1.profile.1.rate"),
    ("workloads.1.profile=a,b", "--rate 300/s sets workloads.1.profile.0.rate"),
    ("workloads.2.users=4,8", "the workloads are the load the plan is for, not capacity"),
    ("simulation.replications=2,4", "the simulation settings are how a candidate is measured"),
    # the QA case: 20 ms taken for the most capacity, "every one past saturation"
    ("components.s.operations.op.work=5ms,10ms,20ms", "plan takes the largest value of each "
     "axis for its most capacity, but 5ms is a time, and more of a time is no more capacity"),
    ("components.s.startup=1s..10s:3", "but 1s is a time"),
    ("components.s.autoscale.metrics.0.cpu=50%,70%", "but 50% is a share, and a larger one is "
     "no more capacity"),
    ("components.s.operations.op.error_rate=0.01,0.02", "but 0.01 is a share"),
])
def test_an_axis_that_is_no_capacity_knob_exits_2_before_anything_runs(
        tmp_path: Path, vary: str, says: str) -> None:
    code, text = _plan(tmp_path, "--vary", "components.s.workers=4..8", "--vary", vary)
    assert code == 2, text
    assert f"Invalid value for --vary: {vary.partition('=')[0]}: " in text, text
    assert says in text, text
    assert "simulating" not in text and "Plan:" not in text


def test_capacity_knobs_pass() -> None:
    """Counts, a rate that is not the load and names (kept in the order given) are knobs."""
    axes = [parse_axis(text) for text in (
        "components.s.workers=1..8", "components.s.replicas=1,2", "components.s.queue=10,100",
        "components.s.autoscale.max=4..30", "components.s.rate_limit.rate=100/s,200/s",
        "components.s.balancer=random,p2c")]
    capacity_knobs(axes, ["workloads.0.rate", "workloads.1.profile.0.rate"], "300/s")


def test_a_set_that_a_vary_overrides_exits_2(tmp_path: Path) -> None:
    """The QA case: `--set components.s.workers=2` was ignored and workers=5 planned."""
    code, text = _plan(tmp_path, "--vary", "components.s.workers=1..10", "--set",
                       "components.s.workers=2")
    assert code == 2, text
    assert text == ("error: --set components.s.workers=2: components.s.workers is varied "
                    "(--vary), which sets it at every point, so this --set would change "
                    "nothing; give one or the other")


def test_the_plan_line_counts_one_estimate_as_one(tmp_path: Path) -> None:
    """One value, 4 workers at 20/s of 100 ms (W = 108.7 ms by Erlang C): one estimate,
    one simulation, and the line says so in the singular."""
    spec = tmp_path / "mmc.yaml"
    spec.write_text(MMC)
    args = ["plan", str(spec), "--rate", "20/s", "--slo", "mean<120ms", "--vary",
            "components.s.workers=4", "--jobs", "1"]
    doc = json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)
    assert (doc["analytic_evaluations"], doc["simulated_candidates"]) == (1, 1)
    text = CliRunner().invoke(app, args).stdout
    assert "Plan: components.s.workers=4, 1 per hour (1 estimate, 1 simulated)." in \
        " ".join(text.split())
