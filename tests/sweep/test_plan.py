"""`scalesim plan` on a case with a known answer: an M/M/c queue, where the smallest number
of workers meeting a mean-latency bound follows from Erlang C."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from tests.sweep.specs import MMC
from typer.testing import CliRunner

from scalesim.analytic import mmc
from scalesim.cli import app
from scalesim.cli.plan import print_plan
from scalesim.spec import System, load_spec_text
from scalesim.spec.model import Slo
from scalesim.sweep.executor import Serial
from scalesim.sweep.grid import parse_axis
from scalesim.sweep.plan import Candidate, Plan, Planner, Verdict, plan_document


def smallest_workers(rate: float, mean_s: float, bound_s: float) -> int:
    """The smallest c with W = Wq (Erlang C) + E[S] ≤ bound at this load."""
    return next(c for c in range(1, 100) if (rate * mean_s < c and
                                              mmc(rate, 1 / mean_s, c).mean_sojourn_s <= bound_s))


def test_plan_finds_the_erlang_c_answer(tmp_path: Path) -> None:
    """λ = 20/s, E[S] = 100 ms: W(3) = 144 ms, W(4) = 108.7 ms, so for W ≤ 120 ms it is 4,
    and the simulation must show that 3 misses and 4 meets."""
    assert smallest_workers(20.0, 0.1, 0.12) == 4
    spec = tmp_path / "mmc.yaml"
    spec.write_text(MMC)
    result = CliRunner().invoke(app, ["plan", str(spec), "--rate", "20/s", "--slo",
                                      "mean<120ms", "--vary", "components.s.workers=1..12",
                                      "--jobs", "1", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["plan"]["values"] == {"components.s.workers": "4"}
    assert doc["plan"]["simulated"]["met"] and doc["plan"]["simulated"]["decided"]
    below = next(c for c in doc["candidates"] if c["values"]["components.s.workers"] == "3")
    assert below["simulated"]["met"] is False
    assert doc["simulated_candidates"] <= 3


def test_plan_prices_choose_between_replicas_and_workers(tmp_path: Path) -> None:
    """Two ways to add capacity; a replica costs 1/h and a worker 0.1/h, so workers win."""
    spec = tmp_path / "mmc.yaml"
    spec.write_text(MMC)
    result = CliRunner().invoke(app, [
        "plan", str(spec), "--rate", "20/s", "--slo", "mean<120ms",
        "--vary", "components.s.replicas=1..4", "--vary", "components.s.workers=1..6",
        "--cost", "components.s.workers=0.1", "--jobs", "1", "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)["plan"]
    assert plan["values"] == {"components.s.replicas": "1", "components.s.workers": "4"}
    assert plan["cost_per_hour"] == 1.4


def test_plan_needs_an_slo_and_a_rate(tmp_path: Path) -> None:
    spec = tmp_path / "mmc.yaml"
    spec.write_text(MMC)
    runner = CliRunner()
    bad = runner.invoke(app, ["plan", str(spec), "--rate", "20", "--slo", "mean<120ms",
                              "--vary", "components.s.workers=1..4"])
    assert bad.exit_code == 2 and "rate" in bad.output
    bad = runner.invoke(app, ["plan", str(spec), "--rate", "20/s", "--slo", "p77<1s",
                              "--vary", "components.s.workers=1..4"])
    assert bad.exit_code == 2 and "unknown target" in bad.output


def test_a_replica_costs_its_cost_per_replica_hour_unless_priced() -> None:
    def load(overrides: Sequence[str]) -> System:
        return load_spec_text(MMC, overrides=["components.s.cost_per_replica_hour=0.5",
                                              *overrides])

    axes = [parse_axis("components.s.replicas=1..3")]
    slo = Slo.model_validate({"mean": "120ms"})
    assert Planner(load, axes, slo, {}, 3, Serial()).candidate((2,)).cost == 1.5
    assert Planner(load, axes, slo, {"s": 2.0}, 3, Serial()).candidate((2,)).cost == 6.0


def test_an_overloaded_candidate_says_so(tmp_path: Path) -> None:
    """λ = 20/s on one 100 ms worker: ρ = 2, so the estimate has no latency to show."""
    def load(overrides: Sequence[str]) -> System:
        return load_spec_text(MMC, overrides=["workloads.0.rate=20/s", *overrides])

    axes = [parse_axis("components.s.workers=1..4")]
    slo = Slo.model_validate({"mean": "120ms"})
    planner = Planner(load, axes, slo, {}, 3, Serial())
    one = planner.candidate((0,))
    assert planner.analytic(one) is False and one.overloaded
    doc = plan_document(Plan(None, [one], [one.config]), axes, 20.0, slo, "mmc")
    assert doc["candidates"][0]["analytic_overloaded"] is True
    console = Console(record=True, width=160)
    print_plan(doc, console)
    assert "overloaded" in console.export_text()


def test_plan_announces_its_cost_and_refuses_one_over_the_budget(tmp_path: Path) -> None:
    spec = tmp_path / "mmc.yaml"
    spec.write_text(MMC)
    runner = CliRunner()
    args = ["plan", str(spec), "--rate", "20/s", "--slo", "mean<120ms",
            "--vary", "components.s.workers=1..12", "--jobs", "1"]
    # 5 replications of 2·10⁶ s at 20/s for each candidate: hours of events
    long = runner.invoke(app, [*args, "--set", "simulation.duration=2000000s",
                               "--set", "simulation.interval=20s"])
    assert long.exit_code == 3, long.output
    assert "refused" in long.output and "--force" in long.output
    assert "simulating candidate" not in long.output  # nothing ran
    short = runner.invoke(app, [*args, "--set", "simulation.duration=5s", "--budget", "1"])
    assert "simulating the first 1 candidate(s) × 5 replications" in short.output
    assert "simulating candidate 1 (of at most 1): components.s.workers=" in short.output
    assert "replication(s)" in short.output  # the verdict line after it


class Scripted(Planner):
    """A planner whose simulations give set verdicts by workers: the search's own rules."""

    def __init__(self, verdicts: dict[str, tuple[bool, bool]]) -> None:
        super().__init__(lambda o: load_spec_text(MMC, overrides=list(o)),
                         [parse_axis("components.s.workers=1..8")],
                         Slo.model_validate({"mean": "120ms"}), {}, 3, Serial())
        self.verdicts = verdicts

    def simulate(self, candidate: Candidate) -> Verdict:
        met, decided = self.verdicts[candidate.values["components.s.workers"]]
        return Verdict(met, decided, 5, {})


def test_a_marginal_meet_gives_way_to_a_confirmed_one_at_the_same_cost() -> None:
    """Workers are not priced, so 4 and 5 workers cost the same. When 4 meets only on its
    point estimate (marginal) and 5 meets with its interval below the target, the plan is 5:
    the same cost with a margin. When 4 is confirmed it is the plan, and when nothing above
    it is confirmed, the marginal 4 stays the plan."""
    misses, confirmed, marginal = (False, True), (True, True), (True, False)
    below = {str(w): misses for w in range(1, 4)}
    scripts = {
        "5": {**below, "4": marginal, **{str(w): confirmed for w in range(5, 9)}},
        "4": {**below, **{str(w): confirmed for w in range(4, 9)}},
    }
    for expected, verdicts in scripts.items():
        best = Scripted(verdicts).run().best
        assert best is not None and best.values["components.s.workers"] == expected
    only_marginal = {**below, **{str(w): marginal for w in range(4, 9)}}
    best = Scripted(only_marginal).run().best
    assert best is not None and best.values["components.s.workers"] == "4"
