"""`scalesim plan`'s confidence intervals stay where a run can be: no error rate below 0."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from scalesim.cli import app

# 0.2 % of 200 requests a replication: most replications fail none, so Student t's interval
# around their mean reaches below 0.
RARE = """
scalesim: 1
name: rare
components:
  s:
    workers: 1
    operations: {op: {work: {dist: exponential, mean: 10ms}, error_rate: 0.2%}}
workloads: [{name: w, to: s, rate: 20/s}]
simulation: {duration: 10s, warmup: 1s, seed: 3}
"""


def test_error_rate_intervals_are_shares(tmp_path: Path) -> None:
    spec = tmp_path / "rare.yaml"
    spec.write_text(RARE)
    done = CliRunner().invoke(app, ["plan", str(spec), "--rate", "20/s", "--slo",
                                    "mean<100ms,error_rate<1%", "--vary",
                                    "components.s.workers=1..2", "--jobs", "1", "--json"])
    assert done.exit_code == 0, done.output
    simulated = json.loads(done.stdout)["plan"]["simulated"]
    estimate, low, high = simulated["ci95"]["error_rate"]
    assert 0.0 == low <= estimate <= high <= 1.0
    assert simulated["ci95"]["mean"][1] >= 0.0
