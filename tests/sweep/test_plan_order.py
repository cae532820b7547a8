"""`scalesim plan` with `--vary` values in any order: the search needs them ascending."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.sweep.specs import MMC
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.sweep.grid import Axis
from scalesim.sweep.plan import capacity_ordered


def test_values_of_quantities_ascend_and_others_keep_their_order() -> None:
    axes = [Axis("a", ("8", "2", "5", "2")), Axis("b", ("1000/s", "50/s")),
            Axis("c", ("p2c", "random"))]
    assert [a.values for a in capacity_ordered(axes)] == [
        ("2", "5", "8"), ("50/s", "1000/s"), ("p2c", "random")]


@pytest.mark.parametrize("values", ["6,3,4,2", "6..2", "2,6,4,3"])
def test_plan_finds_the_erlang_c_answer_whatever_the_order(tmp_path: Path,
                                                            values: str) -> None:
    """λ = 20/s, E[S] = 100 ms, W ≤ 120 ms: 4 workers (W(3) = 144 ms, W(4) = 108.7 ms),
    cheaper than 6 when each worker has a price."""
    spec = tmp_path / "mmc.yaml"
    spec.write_text(MMC)
    result = CliRunner().invoke(app, [
        "plan", str(spec), "--rate", "20/s", "--slo", "mean<120ms", "--vary",
        f"components.s.workers={values}", "--cost", "components.s.workers=1", "--jobs", "1",
        "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["plan"]["values"] == {"components.s.workers": "4"}
    assert doc["plan"]["cost_per_hour"] == 5.0
    values_seen = doc["axes"][0]["values"]
    assert values_seen == sorted(values_seen, key=int)
