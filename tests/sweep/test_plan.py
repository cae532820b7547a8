"""`scalesim plan` on a case with a known answer: an M/M/c queue, where the smallest number
of workers meeting a mean-latency bound follows from Erlang C."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rich.console import Console
from tests.sweep.specs import BACKLOG, MMC, TWO_TIER
from typer.testing import CliRunner

from scalesim.analytic import mmc
from scalesim.analytic.capacity import overloaded
from scalesim.analytic.estimate import Model
from scalesim.cli import app
from scalesim.cli.plan import percent, print_plan
from scalesim.spec import System, load_spec_text
from scalesim.spec.model import Slo
from scalesim.sweep.executor import Serial
from scalesim.sweep.grid import parse_axis
from scalesim.sweep.plan import (
    Candidate,
    Plan,
    Planner,
    Verdict,
    plan_document,
    plan_scopes,
)


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


@pytest.mark.parametrize(("cost", "says"), [
    ("s=-5", "a price is 0 to 1,000,000,000,000"),
    ("s=nan", "a price is 0 to 1,000,000,000,000"),
    ("s=inf", "a price is 0 to 1,000,000,000,000"),
    ("s=1e308", "a price is 0 to 1,000,000,000,000"),  # sums to infinity
    ("nope=1", "'nope' is neither a component"),
])
def test_plan_refuses_a_price_it_cannot_use(tmp_path: Path, cost: str, says: str) -> None:
    """A negative or NaN price makes 'cheapest' meaningless, and a misspelt name was
    silently ignored."""
    spec = tmp_path / "mmc.yaml"
    spec.write_text(MMC)
    result = CliRunner().invoke(app, [
        "plan", str(spec), "--rate", "20/s", "--slo", "mean<120ms",
        "--vary", "components.s.workers=1..6", "--cost", cost, "--jobs", "1"])
    assert result.exit_code == 2 and says in result.output, result.output


def test_plan_names_its_own_options_when_they_are_wrong(tmp_path: Path) -> None:
    """--rate 0/s was reported as '--set #1: workloads[0].rate … (with )'."""
    spec = tmp_path / "mmc.yaml"
    spec.write_text(MMC)
    result = CliRunner().invoke(app, [
        "plan", str(spec), "--rate", "0/s", "--slo", "mean<120ms",
        "--vary", "components.s.workers=1..6", "--jobs", "1"])
    assert result.exit_code == 2 and "the load to plan for must be above 0" in result.output


def test_a_bad_candidate_names_the_vary_that_made_it(tmp_path: Path) -> None:
    """workers=0 of a --vary range after one --set was reported as '--set #2'."""
    spec = tmp_path / "mmc.yaml"
    spec.write_text(MMC)
    result = CliRunner().invoke(app, [
        "plan", str(spec), "--rate", "1/s", "--slo", "mean<120ms", "--set",
        "simulation.seed=3", "--vary", "components.s.workers=0..2", "--jobs", "1"])
    lines = result.output.splitlines()
    assert result.exit_code == 2 and lines, result.output
    assert all(line.startswith("--vary: components.s.workers: ")
               and line.endswith("(with components.s.workers=0)") for line in lines), lines


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
    doc = plan_document(Plan(None, [one], [one.config]), axes, 20.0, planner.scopes, "mmc")
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


class AsEstimated(Planner):
    """A two-tier planner whose simulations agree with the estimate: the plan must then be
    the cheapest configuration the estimate says meets, found within a small budget."""

    def __init__(self, paths: Sequence[str], budget: int) -> None:
        ranges = {"components.app.replicas": "1..4", "components.db.workers": "6..20"}
        super().__init__(lambda o: load_spec_text(TWO_TIER, overrides=list(o)),
                         [parse_axis(f"{p}={ranges[p]}") for p in paths],
                         Slo.model_validate({"p99": "50ms"}),
                         {"components.db.workers": 0.05}, 3, Serial(), budget=budget)

    def simulate(self, candidate: Candidate) -> Verdict:
        return Verdict(self.analytic(candidate), True, 5, {})


def _cheapest_estimated(planner: Planner) -> dict[str, str]:
    """By brute force over the grid: the cheapest configuration the estimate says meets."""
    sizes = [range(len(a.values)) for a in planner.axes]
    configs = [(i, j) for i in sizes[0] for j in sizes[1]]
    met = [planner.candidate(c) for c in configs if planner.analytic(planner.candidate(c))]
    return min(met, key=lambda c: (c.cost, sum(c.config))).values


@pytest.mark.parametrize("paths", [("components.app.replicas", "components.db.workers"),
                                   ("components.db.workers", "components.app.replicas")])
def test_a_miss_the_estimate_saw_coming_moves_along_the_axis_that_relieves_it(
        paths: tuple[str, str]) -> None:
    """One app replica is past saturation whatever db has, and db workers are cheap: a miss
    there must send the search to more app replicas, not up the db axis one worker at a
    time. In either axis order the plan is the brute-force answer within 4 simulations."""
    expected = _cheapest_estimated(AsEstimated(paths, 4))
    found = AsEstimated(paths, 4).run()
    assert found.best is not None and found.best.values == expected
    assert expected["components.app.replicas"] == "2"  # app=1 is never the answer
    walked = [c for c in found.candidates if c.verdict is not None
              and c.values["components.app.replicas"] == "1"]
    assert len(walked) <= 1


@pytest.mark.parametrize("paths", [("components.app.replicas", "components.db.workers"),
                                   ("components.db.workers", "components.app.replicas")])
def test_every_candidate_carries_its_estimate_whatever_the_axis_order(
        paths: tuple[str, str]) -> None:
    """A simulated candidate's `analytic_overloaded` is what the estimate says of it, named."""
    planner = AsEstimated(paths, 4)
    doc = plan_document(planner.run(), planner.axes, 1000.0, planner.scopes, "two-tier")
    for entry in doc["candidates"]:
        system = load_spec_text(TWO_TIER, overrides=[f"{p}={v}"
                                                     for p, v in entry["values"].items()])
        names = [name for name, _ in overloaded(Model(system).evaluate())]
        assert entry["analytic_met"] is not None
        assert entry["analytic_overloaded"] is bool(names)
        assert entry["analytic_overloaded_by"] == names


def test_a_plan_out_of_budget_says_so_and_names_what_it_left() -> None:
    """With one simulation, the cheapest opening candidate (one app replica: a miss) uses the
    budget: the configurations the estimate says meet were never simulated, so the output
    must not claim that nothing in the grid meets the SLO."""
    planner = AsEstimated(("components.app.replicas", "components.db.workers"), 1)
    found = planner.run()
    assert found.best is None and found.budget_spent
    expected = _cheapest_estimated(AsEstimated(("components.app.replicas",
                                                "components.db.workers"), 1))
    assert expected in [c.values for c in found.untried]
    assert all(c.analytic_met and c.verdict is None for c in found.untried)
    doc = plan_document(found, planner.axes, 1000.0, planner.scopes, "two-tier")
    console = Console(record=True, width=400)
    print_plan(doc, console)
    text = console.export_text()
    assert "budget ran out" in text and "No configuration in the grid met" not in text


def test_a_queue_falling_behind_is_a_miss_unless_allowed(tmp_path: Path) -> None:
    """Requests meet their p99 easily, but the one consumer drains 100/s of 150/s: every
    configuration of the api lets the backlog grow, so nothing is a plan; with
    --allow-backlog the cheapest is, flagged with the subscription's name."""
    spec = tmp_path / "backlog.yaml"
    spec.write_text(BACKLOG)
    args = ["plan", str(spec), "--rate", "150/s", "--slo", "p99<100ms",
            "--vary", "components.api.replicas=1..2", "--jobs", "1", "-r", "2", "--json"]
    strict = CliRunner().invoke(app, args)
    assert strict.exit_code == 1, strict.output
    doc = json.loads(strict.stdout)
    assert doc["plan"] is None
    for entry in doc["candidates"]:
        assert "jobs->worker.run" in entry["analytic_overloaded_by"]
        if "simulated" in entry:
            assert entry["simulated"]["behind"] == ["jobs->worker.run"]
            assert entry["simulated"]["met"] is False
    allowed = CliRunner().invoke(app, [*args, "--allow-backlog"])
    assert allowed.exit_code == 0, allowed.output
    plan = json.loads(allowed.stdout)["plan"]
    assert plan["values"] == {"components.api.replicas": "1"}
    assert plan["simulated"]["behind"] == ["jobs->worker.run"]
    text = CliRunner().invoke(app, [*args[:-1], "--allow-backlog"]).stdout
    assert "Warning" in text and "jobs->worker.run" in text


@pytest.mark.parametrize("share", [0.0, 0.001, 0.0004, 0.004, 0.0666, 1e-5, 0.5])
def test_error_rates_print_as_percent_precise_enough_to_compare(share: float) -> None:
    """Three significant digits of a percentage: read back, it is the share within 0.5 %,
    so 0.04 % and 0.4 % never both print as 0.00."""
    text = percent(share)
    assert text.endswith("%")
    assert float(text[:-1]) / 100 == pytest.approx(share, rel=5e-3, abs=1e-12)


def test_the_plan_table_shows_the_error_rate_target_and_intervals_in_percent() -> None:
    doc = {"system": "s", "rate_rps": 10.0, "slo": {"error_rate": 0.001},
           "workload_slos": {"w": {"error_rate": 0.01}},
           "axes": [{"path": "components.s.replicas", "values": ["1"]}],
           "plan": None, "untried": [], "analytic_evaluations": 1,
           "simulated_candidates": 1,
           "candidates": [{"values": {"components.s.replicas": "1"}, "cost_per_hour": 1.0,
                           "analytic_met": True, "analytic_overloaded": False,
                           "analytic_overloaded_by": [], "analytic_behind": [],
                           "analytic": {"error_rate": 0.0002, "w error_rate": 0.0003},
                           "analytic_missed": [],
                           "simulated": {"met": False, "decided": True, "replications": 3,
                                         "stopped": None, "behind": [],
                                         "missed": [{"scope": "all", "name": "error_rate",
                                                     "target": 0.001, "value": 0.003}],
                                         "ci95": {"error_rate": [0.003, 0.002, 0.004],
                                                  "w error_rate": [0.005, 0.004, 0.006]}}}]}
    console = Console(record=True, width=200)
    print_plan(doc, console)
    text = console.export_text()
    assert "error_rate ≤ 0.1%" in text and "error_rate 0.02%" in text
    assert "0.2%–0.4%" in text and "missed: error_rate 0.3% > 0.1%" in text
    assert "workload w error_rate ≤ 1%" in text and "w error_rate 0.03%" in text
    assert "w error_rate 0.4%–0.6%" in text


# Two workloads on separate servers: `slow` on an M/M/c (E[S] = 100 ms, the varied workers)
# with its own SLO, `fast` 1 ms requests that dominate the mix, so the SLO on all requests
# together is met with fewer workers than `slow`'s own needs.
MIXED_SLOS = """
scalesim: 1
name: mixed-slos
components:
  s:
    workers: 1
    operations: {op: {work: {dist: exponential, mean: 100ms}}}
  f:
    workers: 8
    operations: {op: {work: {dist: exponential, mean: 1ms}}}
workloads:
  - {name: slow, to: s, rate: 10/s, slo: {mean: 115ms}}
  - {name: fast, to: f, rate: 90/s}
slo: {mean: 30ms}
simulation: {duration: 60s, warmup: 5s, seed: 3}
"""


def _plan_json(tmp_path: Path, spec: str, *args: str) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "spec.yaml"
    path.write_text(spec)
    result = CliRunner().invoke(app, ["plan", str(path), *args, "--jobs", "1", "--json"])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def test_a_workload_slo_stricter_than_the_overall_one_sets_the_plan(tmp_path: Path) -> None:
    """At 10/s, `slow`'s mean is W(2) = 133 ms and W(3) = 104.5 ms (Erlang C), so its own
    mean ≤ 115 ms needs 3 workers; the mean of all requests, 0.1·W + 0.9·1 ms, is 14 ms with
    2 (1 is past saturation), within 30 ms. Judged on all requests alone the plan is 2;
    judged on every scope, it is 3, and 2 is a simulated miss of `slow`'s mean. Without
    --slo the spec's own `slo` is the one on all requests."""
    assert smallest_workers(10.0, 0.1, 0.115) == 3
    assert 0.1 * mmc(10.0, 10.0, 2).mean_sojourn_s + 0.9 * 0.001 <= 0.030
    args = ["--rate", "100/s", "--vary", "components.s.workers=1..8"]
    code, doc = _plan_json(tmp_path, MIXED_SLOS, *args, "--slo", "mean<30ms")
    assert code == 0 and doc["plan"]["values"] == {"components.s.workers": "3"}
    assert doc["slo"] == {"mean": 30.0} and doc["workload_slos"] == {"slow": {"mean": 115.0}}
    assert "unchecked_workload_slos" not in doc
    two = next(c for c in doc["candidates"] if c["values"]["components.s.workers"] == "2")
    assert two["simulated"]["met"] is False and two["simulated"]["decided"]
    assert [(m["scope"], m["name"]) for m in two["simulated"]["missed"]] == [("slow", "mean")]
    low, high = two["simulated"]["ci95"]["slow mean"][1:]
    assert low <= mmc(10.0, 10.0, 2).mean_sojourn_s * 1e3 <= high
    console = Console(record=True, width=400)
    print_plan(doc, console)
    text = console.export_text()
    assert "SLO mean ≤ 30.00 ms; workload slow mean ≤ 115.00 ms" in text
    assert "missed: slow mean " in text and " ms > 115.00 ms" in text
    _, overall = _plan_json(tmp_path, MIXED_SLOS.replace(", slo: {mean: 115ms}", ""), *args)
    assert overall["plan"]["values"] == {"components.s.workers": "2"}
    assert overall["slo"] == {"mean": 30.0} and overall["workload_slos"] == {}


def test_a_workload_slo_no_configuration_meets_ends_without_a_plan(tmp_path: Path) -> None:
    """`w`'s own p99 ≤ 50 ms on 100 ms exponential work: no number of workers gets its p99
    below the work's own (460 ms), so there is no plan (exit 1), and the misses name `w`."""
    args = ["--rate", "20/s", "--slo", "mean<120ms", "--vary", "components.s.workers=1..12"]
    spec = MMC.replace("rate: 10/s}", "rate: 10/s, slo: {p99: 50ms}}")
    code, doc = _plan_json(tmp_path, spec, *args)
    assert code == 1 and doc["plan"] is None
    simulated = [c["simulated"] for c in doc["candidates"] if "simulated" in c]
    assert simulated and all(not s["met"] and s["decided"] for s in simulated)
    assert all(("w", "p99") in [(m["scope"], m["name"]) for m in s["missed"]]
               for s in simulated)
    assert [(m["scope"], m["name"]) for m in doc["capacity_floor"]] == [("w", "p99")]
    console = Console(record=True, width=400)
    print_plan(doc, console)
    text = console.export_text()
    assert "No capacity meets the SLO" in text and "missed: w p99" in text


def test_a_target_below_the_work_itself_says_no_capacity_meets_it(tmp_path: Path) -> None:
    """36/s of exponential 100 ms work: the p99 of the work alone is 100·ln(100) = 460.5 ms,
    so p99 ≤ 300 ms is out of reach of any number of workers. At 12 workers (ρ = 0.3) the
    estimate is that within 0.1 %, and 11 add nothing: the plan says more capacity cannot
    meet it rather than to widen the ranges. With 4..5 workers the last step still cuts the
    p99 (ρ 0.9 to 0.72): widening may help, and it says so."""
    floor = 100 * math.log(100)
    args = ["--rate", "36/s", "--slo", "p99<300ms", "--budget", "1", "-r", "2",
            "--max-replications", "2"]
    code, doc = _plan_json(tmp_path, MMC, *args, "--vary", "components.s.workers=4..12")
    assert code == 1 and doc["plan"] is None
    [miss] = doc["capacity_floor"]
    assert (miss["scope"], miss["name"], miss["target"]) == ("all", "p99", 300.0)
    assert miss["value"] == pytest.approx(floor, rel=1e-3)
    console = Console(record=True, width=400)
    print_plan(doc, console)
    text = console.export_text()
    assert "No capacity meets the SLO: even at the top of every range " \
        "(components.s.workers=12) the estimate misses p99 " \
        f"{miss['value']:,.2f} ms > 300.00 ms" in text
    assert "more capacity cannot meet this target" in text and "Widen" not in text
    _, near = _plan_json(tmp_path, MMC, *args, "--vary", "components.s.workers=4..5")
    assert near["plan"] is None and near["capacity_floor"] == []
    console = Console(record=True, width=400)
    print_plan(near, console)
    assert "Widen the ranges" in console.export_text()


def test_plan_needs_an_slo_to_meet(tmp_path: Path) -> None:
    """Without --slo the spec's SLOs are planned for, as `estimate` judges them; with none
    at all there is nothing to plan for (exit 2, before any simulation)."""
    spec = tmp_path / "mmc.yaml"
    spec.write_text(MMC)
    result = CliRunner().invoke(app, ["plan", str(spec), "--rate", "20/s", "--vary",
                                      "components.s.workers=1..4", "--jobs", "1"])
    assert result.exit_code == 2, result.output
    # the spec lacks an SLO; --slo was not given, so it is not an invalid --slo
    assert result.output == (f"error: {spec}: nothing to plan for: give --slo, or an slo in "
                             "the spec (the system's or a workload's)\n")
    system = load_spec_text(MIXED_SLOS)
    wanted = Slo.model_validate({"p99": "1s"})
    assert plan_scopes(system, None) == system.slo_scopes()
    assert plan_scopes(system, wanted) == [(None, wanted), ("slow", system.workloads[0].slo)]


@pytest.mark.parametrize(("own_p99", "decided"), [((460.0, 400.0, 520.0), True),
                                                   ((52.0, 30.0, 60.0), False)])
def test_a_sure_miss_on_one_target_decides_whatever_the_others_say(
        own_p99: tuple[float, float, float], decided: bool) -> None:
    """The mean of all requests is undecided (its interval 90–130 ms straddles 120 ms). When
    `w`'s own p99 interval lies wholly above its 50 ms, the candidate is a decided miss: no
    more replications can make it meet. When that one straddles its target too, it is not."""
    spec = MMC.replace("rate: 10/s}", "rate: 10/s, slo: {p99: 50ms}}")
    planner = Planner(lambda o: load_spec_text(spec, overrides=list(o)),
                      [parse_axis("components.s.workers=1..4")],
                      Slo.model_validate({"mean": "120ms"}), {}, 3, Serial())
    scripted = {"mean": (100.0, 90.0, 130.0), "p99": own_p99}
    planner._judged = lambda name, runs: scripted[name]  # type: ignore[method-assign]
    verdict = planner._judge(SimpleNamespace(summaries=[], replications=5), [])  # type: ignore[arg-type]
    assert verdict.decided is decided and not verdict.met
    assert verdict.missed == ("w p99",)


def test_plan_refuses_to_vary_the_replicas_an_autoscaler_decides(tmp_path: Path) -> None:
    """With `autoscale`, `replicas` is only the starting count and the estimate serves at
    `autoscale.max`: every value of the axis had the same estimate, and the plan named a
    replica count the HPA overrides. It is refused up front, naming the fields to vary."""
    spec = tmp_path / "mmc.yaml"
    spec.write_text(MMC.replace("    workers: 1\n", "    workers: 1\n    autoscale: "
                                "{min: 1, max: 6, metrics: [{cpu: 60%}]}\n"))
    result = CliRunner().invoke(app, [
        "plan", str(spec), "--rate", "20/s", "--slo", "mean<120ms",
        "--vary", "components.s.replicas=1..6", "--jobs", "1"])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "components.s.autoscale.max" in text and "components.s.autoscale.min" in text, text
    assert "simulating" not in text, text
