"""`scalesim plan` when the estimate has configurations past saturation (ρ ≥ 1): they are
never simulated, and when all of the grid is, the plan says how far past its range each
axis must go, by the estimate alone. M/M/c cases, whose answers follow from Erlang C."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from rich.console import Console
from tests.sweep.specs import BACKLOG, MMC, TWO_TIER
from typer.testing import CliRunner

from scalesim.analytic import mmc
from scalesim.cli import app
from scalesim.cli.plan import print_plan
from scalesim.spec import System, load_spec_text
from scalesim.spec.model import Slo
from scalesim.sweep.executor import Serial
from scalesim.sweep.grid import parse_axis
from scalesim.sweep.plan import Candidate, Planner, Verdict, plan_document

# `web`: replicas of 4 workers each, chosen at random, so each replica is an M/M/4 queue
# at 1/n of the rate (a random split of a Poisson stream is Poisson).
WEB = """
scalesim: 1
name: web
components:
  web:
    workers: 4
    balancer: random
    operations: {handle: {work: {dist: exponential, mean: 10ms}}}
workloads: [{name: w, to: web.handle, rate: 1000/s}]
simulation: {duration: 60s, warmup: 5s, seed: 3}
"""


def fewest(fits: Sequence[bool]) -> int:
    """The first index (from 1) where `fits` holds."""
    return next(n for n, ok in zip(itertools.count(1), fits, strict=False) if ok)


def unsaturated(rate: float, work_s: float, servers: int) -> int:
    """The fewest replicas (of `servers` workers each; 1: the fewest workers) with
    ρ = rate·work / (replicas·servers) below 1: the ceiling of rate·work/servers, one more
    where that is a whole number (at ρ = 1 the queue grows too)."""
    return fewest([rate * work_s / (n * servers) < 1.0 for n in range(1, 10_000)])


def within_workers(rate: float, work_s: float, bound_s: float) -> int:
    """The fewest workers whose M/M/c mean sojourn (Erlang C) is within `bound_s`."""
    return fewest([rate * work_s < n and mmc(rate, 1.0 / work_s, n).mean_sojourn_s <= bound_s
                   for n in range(1, 10_000)])


def within_replicas(rate: float, work_s: float, servers: int, bound_s: float) -> int:
    """The fewest replicas, each an M/M/`servers` queue at rate/replicas, whose mean sojourn
    (Erlang C) is within `bound_s`."""
    return fewest([rate * work_s < n * servers and
                   mmc(rate / n, 1.0 / work_s, servers).mean_sojourn_s <= bound_s
                   for n in range(1, 10_000)])


def _plan(tmp_path: Path, spec: str, *args: str) -> tuple[int, dict, str]:
    path = tmp_path / "spec.yaml"
    path.write_text(spec)
    result = CliRunner().invoke(app, ["plan", str(path), *args, "--jobs", "1", "--json"])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout), result.stderr


BOUND_S = 0.150


@pytest.mark.parametrize(("spec", "path", "rate", "relieved", "meets"), [
    # 100 ms work, one replica: a = rate·0.1 workers' worth
    (MMC, "components.s.workers", 95.0, unsaturated(95.0, 0.1, 1),  # a = 9.5: 10
     within_workers(95.0, 0.1, BOUND_S)),
    (MMC, "components.s.workers", 100.0, unsaturated(100.0, 0.1, 1),  # a = 10: 11
     within_workers(100.0, 0.1, BOUND_S)),
    # 10 ms work, 4 workers a replica: 10k/s is 25 replicas' worth, so 26
    (WEB, "components.web.replicas", 10_000.0, unsaturated(10_000.0, 0.01, 4),
     within_replicas(10_000.0, 0.01, 4, BOUND_S)),
])
def test_a_grid_all_past_saturation_says_how_far_to_go_without_simulating(
        tmp_path: Path, spec: str, path: str, rate: float, relieved: int, meets: int) -> None:
    """Every value of 1..4 is past saturation: nothing is simulated (no refusal over the run
    budget either: the spec runs for 60 s), exit 1, and the axis is taken past its range
    to where ρ < 1 and to where the mean is within 150 ms by Erlang C."""
    code, doc, stderr = _plan(tmp_path, spec, "--rate", f"{rate}/s", "--slo", "mean<150ms",
                              "--vary", f"{path}=1..4")
    assert code == 1 and doc["plan"] is None
    assert doc["simulated_candidates"] == 0 and "simulating" not in stderr
    assert doc["overloaded"] == [{path: "4"}]
    assert relieved > 4  # the estimate must go past the range
    assert doc["reach"] == [{"path": path, "relieved": relieved, "meets": meets,
                             "largest": meets, "relieves": True, "offered": {},
                             "vary": f"{path}={relieved}..{2 * meets}"}]
    console = Console(record=True, width=400)
    print_plan(doc, console)
    text = console.export_text()
    assert "No configuration in the grid can serve this load" in text
    assert f"ρ < 1 from {relieved} and meets the SLO from {meets}" in text
    assert "not simulated: overloaded" in text


def test_past_what_the_spec_takes_the_reach_stops_there(tmp_path: Path) -> None:
    """1e9/s of 100 ms work is offered 10⁸ workers' worth: even the 100,000 replicas a
    component takes at most leave ρ = 1000. The plan says so at once (it used to refuse a
    run of hours, exit 3, for the top of the range)."""
    code, doc, _ = _plan(tmp_path, MMC, "--rate", "1e9/s", "--slo", "mean<150ms",
                         "--vary", "components.s.replicas=1..12")
    assert code == 1 and doc["simulated_candidates"] == 0
    [reach] = doc["reach"]
    assert reach["relieved"] is None and reach["meets"] is None and reach["vary"] is None
    assert reach["largest"] == 100_000
    assert reach["offered"]["s"] == pytest.approx(1e9 * 0.1 / 100_000)
    console = Console(record=True, width=400)
    print_plan(doc, console)
    text = console.export_text()
    # ρ written out in full, as every count of the output (docs/report.md), not 8.33e+06
    assert f"s ρ {1e9 * 0.1 / 12:,.0f})" in text and "s ρ 1,000)" in text
    assert "e+" not in text


def test_each_axis_reaches_with_the_others_at_their_top() -> None:
    """100/s of 100 ms is 10 workers' worth: with 2 workers a replica, ρ < 1 needs 6
    replicas; with 3 replicas, 4 workers each (ρ = 10/12). A value that is not a count
    (the balancer) is not extended."""
    def load(overrides: Sequence[str]) -> System:
        return load_spec_text(MMC, overrides=["workloads.0.rate=100/s", *overrides])

    axes = [parse_axis(text) for text in ("components.s.replicas=1..3",
                                          "components.s.workers=1..2",
                                          "components.s.balancer=random,round_robin")]
    planner = Planner(load, axes, Slo.model_validate({"mean": "150ms"}), {}, 3, Serial())
    reach = {r.path: r.relieved for r in planner.reach() or []}
    assert reach == {"components.s.replicas": unsaturated(100.0, 0.1, 2),
                     "components.s.workers": unsaturated(100.0, 0.1, 3)}


class Counting(Planner):
    """M/M/c workers whose simulations agree with the estimate, each one recorded."""

    def __init__(self, workers: str, rate: float, bound: str) -> None:
        def load(overrides: Sequence[str]) -> System:
            return load_spec_text(MMC, overrides=[f"workloads.0.rate={rate}/s", *overrides])

        super().__init__(load, [parse_axis(f"components.s.workers={workers}")],
                         Slo.model_validate({"mean": bound}), {}, 3, Serial())
        self.runs: list[Candidate] = []

    def simulate(self, candidate: Candidate) -> Verdict:
        self.runs.append(candidate)
        return Verdict(self.analytic(candidate), True, 5, {})


def test_a_value_past_saturation_is_never_simulated() -> None:
    """95/s on 100 ms: 9 workers are at ρ = 1.06 and 10 at 0.95, whose mean (Erlang C) is
    within 400 ms. The plan is 10 as before, but the point just below it, which the search
    used to simulate as the likeliest error of the estimate, is now left out as overloaded;
    the grid is not all past saturation, so there is no reach."""
    assert within_workers(95.0, 0.1, 0.4) == 10 == unsaturated(95.0, 0.1, 1)
    planner = Counting("6..14", 95.0, "400ms")
    found = planner.run()
    assert found.best is not None and found.best.values == {"components.s.workers": "10"}
    assert [c.values for c in planner.runs] == [{"components.s.workers": "10"}]
    assert [c.values for c in found.overloaded] == [{"components.s.workers": "9"}]
    assert planner.reach() is None
    doc = plan_document(found, planner.axes, 95.0, planner.scopes, "mmc")
    assert doc["reach"] is None and doc["overloaded"] == [{"components.s.workers": "9"}]


def test_an_axis_that_relieves_nothing_is_not_walked_to_the_spec_limit() -> None:
    """One replica of `app` is past saturation whatever `db` has (specs.TWO_TIER): the reach
    of the db workers stops at the first doubling, where app's load is unchanged, instead
    of doubling up to the million workers a replica takes."""
    planner = Planner(lambda o: load_spec_text(TWO_TIER, overrides=list(o)),
                      [parse_axis("components.db.workers=6..8")],
                      Slo.model_validate({"p99": "50ms"}), {}, 3, Serial())
    top = planner.candidate(planner.top)
    assert planner.screened(planner.top) and list(top.offered) == ["app"]
    [reach] = planner.reach() or []
    assert not reach.relieves and reach.relieved is None and reach.largest == 16
    assert reach.offered == pytest.approx(top.offered)


def test_a_queue_past_saturation_names_what_drains_it_and_allow_backlog() -> None:
    """The one consumer of `jobs` drains 100/s of 150/s whatever the api has: nothing is
    simulated, the api axis relieves none of it, and the advice is to vary what drains the
    queue or to pass --allow-backlog, as when the simulation showed it falling behind."""
    planner = Planner(lambda o: load_spec_text(BACKLOG, overrides=list(o)),
                      [parse_axis("components.api.replicas=1..2")],
                      Slo.model_validate({"p99": "100ms"}), {}, 3, Serial())
    found = planner.run()
    assert found.best is None and all(c.verdict is None for c in found.candidates)
    doc = plan_document(found, planner.axes, 150.0, planner.scopes, "backlog", (),
                        planner.reach())
    assert [r["relieves"] for r in doc["reach"]] == [False]
    console = Console(record=True, width=400)
    print_plan(doc, console)
    text = console.export_text()
    assert "components.api.replicas: relieves none of it" in text
    assert "No request waits for worker, jobs->worker.run" in text
    assert "--allow-backlog" in text
