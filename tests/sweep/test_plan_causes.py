"""`scalesim plan` names what an error rate no capacity meets is made of: the failures by
cause of the simulation, not the work's own time."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.cli.plan import print_plan

# 20/s against a limit of 10/s: half the requests are refused whatever the workers.
LIMITED = """
scalesim: 1
name: limited
components:
  s:
    workers: 1
    rate_limit: {rate: 10/s}
    operations: {op: {work: {dist: exponential, mean: 10ms}}}
workloads: [{name: w, to: s, rate: 20/s}]
simulation: {duration: 20s, warmup: 1s, seed: 3}
"""


def test_refusals_by_a_rate_limit_are_named(tmp_path: Path) -> None:
    spec = tmp_path / "limited.yaml"
    spec.write_text(LIMITED)
    done = CliRunner().invoke(app, ["plan", str(spec), "--rate", "20/s", "--slo",
                                    "error_rate<1%", "--vary", "components.s.workers=1..3",
                                    "-r", "2", "--jobs", "1", "--json"])
    assert done.exit_code == 1, done.output
    doc = json.loads(done.stdout)
    assert [m["name"] for m in doc["capacity_floor"]] == ["error_rate"]
    simulated = [c["simulated"] for c in doc["candidates"] if "simulated" in c]
    assert simulated
    for run in simulated:
        assert list(run["failed_by_cause"]) == ["rate_limited"]
        assert run["refused_by_cause"] == {"s": {"rate_limited":
                                                 run["failed_by_cause"]["rate_limited"]}}
    console = Console(record=True, width=400)
    print_plan(doc, console)
    text = console.export_text()
    assert "failed requests were rate_limited 100%, refused at s" in text
    assert "raise components.s.rate_limit" in text and "make the work faster" not in text
