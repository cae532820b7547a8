"""What several runs cost together (a sweep's points, a plan's candidates): one estimate,
budget.Estimate, for one run or a batch, and the batch's refusal as it read before."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalesim.analytic.runtime import run_cost
from scalesim.budget import BUDGET_S, estimate, estimate_runs, human
from scalesim.cli import app
from scalesim.sim.speed import events_per_s
from scalesim.spec import load_spec

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_a_batch_is_its_runs_work_summed_over_its_workers() -> None:
    systems = [load_spec(EXAMPLES / f"{name}.yaml") for name in ("shop", "cascade")]
    found = estimate_runs(systems, workers=2)
    work = sum(run_cost(system).work for system in systems)
    speed = events_per_s()
    assert found.work == work and found.wall_s == work / speed / 2
    assert found.cost.events == pytest.approx(sum(run_cost(s).events for s in systems))
    assert found.summary == found.describe() == (
        f"{work:.3g} events, about {human(work / speed / 2)} at ~{speed:.2g} events/s on 2 "
        "worker(s)")
    assert not found.over


def test_a_batch_over_the_budget_is_refused_as_before() -> None:
    system = load_spec(EXAMPLES / "shop.yaml", ["simulation.duration=3e4s",
                                                "simulation.interval=2s"])
    found = estimate_runs([system] * 4, workers=1)
    assert found.over and found.wall_s > BUDGET_S
    assert found.batch_refusal("simulating 4 points", "Use fewer points",
                               "pass --force to run it anyway") == (
        f"simulating 4 points is estimated at {found.describe()}, over the "
        f"{human(BUDGET_S)} budget. Use fewer points, or pass --force to run it anyway.")


def test_one_run_s_estimate_describes_itself_the_same_way() -> None:
    found = estimate(load_spec(EXAMPLES / "shop.yaml"))
    assert found.work == found.cost.work
    assert found.describe().startswith(f"{found.cost.work:.3g} events, about ")


def test_the_sweep_s_refusal_reads_as_it_did(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [
        "sweep", str(EXAMPLES / "shop.yaml"), "--vary", "workloads.0.rate=100/s,200/s",
        "--set", "simulation.duration=3e5s", "--set", "simulation.interval=20s", "-r", "10",
        "--jobs", "1", "--out", str(tmp_path / "out")])  # hours: nothing may run
    assert result.exit_code == 3, result.output
    text = " ".join(result.stderr.split())
    assert text.startswith("refused: simulating the 2 point(s) left is estimated at ")
    assert " events/s on 1 worker(s), over the 10 min budget. Use fewer points or " \
        "replications or a shorter simulation.duration, or pass --force to run it anyway." \
        in text


@pytest.mark.parametrize("command", [["report", "{spec}", "-o", "{out}/r.html"],
                                     ["compare", "{shop}", "{spec}"],
                                     ["diagram", "{spec}", "-o", "{out}/d.mmd", "--breakers"]])
def test_a_command_without_force_says_how_to_run_the_spec_anyway(
        tmp_path: Path, command: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """report, compare and diagram simulate a spec they are given, but have no --force: the
    refusal names the spec and says to simulate it apart, not to pass --force."""
    monkeypatch.chdir(tmp_path)  # a short name, which the console does not wrap
    spec = Path("huge.yaml")
    spec.write_text((EXAMPLES / "shop.yaml").read_text().replace(
        "rate: 600/s", "rate: 1e9/s", 1))
    args = [a.format(spec=spec, shop=EXAMPLES / "shop.yaml", out=tmp_path) for a in command]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 3, result.output
    text = " ".join(result.stderr.split())
    assert f"simulate it apart (`scalesim simulate {spec} --force --out DIR`) and give " \
        "DIR/result.json to this command." in text
    assert "--force to run it anyway" not in text


def test_a_run_without_a_bound_says_so_not_inf_years(tmp_path: Path) -> None:
    """Three users without think time on work that takes none: infinitely many requests.
    The refusal read 'inf events (inf requests/s …): about inf years' and advised a longer
    interval; it now says the work has no bound and how to give the loop an end."""
    spec = tmp_path / "impatient.yaml"
    spec.write_text("scalesim: 1\nname: impatient\ncomponents:\n  a:\n    workers: unlimited\n"
                    "    operations:\n      x: {}\nworkloads:\n  - {name: w, to: a.x, users: 3}\n"
                    "simulation: {duration: 2s}\n")
    result = CliRunner().invoke(app, ["simulate", str(spec), "-q"])
    assert result.exit_code == 3, result.output
    text = " ".join(result.stderr.split())
    assert text.startswith("refused: this run's work has no bound: its requests never end")
    assert "Give the loop an end (a think time" in text
    assert "inf" not in text.replace("infinite", "")
