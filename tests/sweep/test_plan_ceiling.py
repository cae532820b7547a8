"""`scalesim plan` along an autoscaler's max: a run whose autoscaler never asked for its max
runs the same with any higher one, so the search stops raising it and says what limits the
fleet (how fast it scales), with the run's own diagnosis, instead of "Raise --budget"."""

from __future__ import annotations

import json
import math
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.cli.plan import print_plan
from scalesim.diagnosis import diagnose
from scalesim.sim.result import build_result
from scalesim.sim.run import run_replication, simulate
from scalesim.spec import System, load_spec_text
from scalesim.spec.model import Slo
from scalesim.sweep.ceilings import asked_for
from scalesim.sweep.executor import Serial
from scalesim.sweep.grid import parse_axis
from scalesim.sweep.plan import Candidate, Planner, Verdict, plan_document

# The load steps from 100/s to 600/s at 30 s; the fleet starts at 1 replica of 2 workers
# (10 ms each), and a replica the HPA adds serves 20 s after: the queue of 50 refuses and
# the p99 is hundreds of ms at every max, while the estimate (served at max) meets 50 ms
# from 6. Within 120 s the HPA asks for fewer than 5 replicas.
STEP = """
scalesim: 1
name: step
components:
  web:
    replicas: 1
    workers: 2
    queue: 50
    startup: 20s
    operations: {handle: {work: {dist: exponential, mean: 10ms}}}
    autoscale: {min: 1, max: 8, metrics: [{cpu: 50%}]}
workloads:
  - name: users
    to: web.handle
    profile: [{at: 0s, rate: 100/s}, {at: 30s, rate: 600/s}]
slo: {p99: 50ms}
simulation: {duration: 120s, warmup: 0s, seed: 1}
"""


def _with_max(most: int, replications: int = 1) -> System:
    return load_spec_text(STEP, overrides=[f"components.web.autoscale.max={most}",
                                           f"simulation.replications={replications}"])


def test_a_max_never_asked_for_runs_the_same_and_one_asked_for_does_not() -> None:
    """The HPA only clamps its proposal to max: under max the run is the same draw for draw
    with any higher max; a max it reached clamped it and the run differs."""
    results, asked = {}, {}
    for most in (3, 5, 20):
        system = _with_max(most)
        part = run_replication(system, 1, 0)
        asked[most] = asked_for(system, part)["web"]
        results[most] = json.dumps(build_result(system, 1, part), sort_keys=True)
    assert asked[5] == asked[20] < 5 and asked[3] == 3
    assert results[5] == results[20]
    assert results[3] != results[5]


def test_plan_stops_raising_a_max_never_asked_for_and_quotes_the_diagnosis(
        tmp_path: Path) -> None:
    """The frontier is 6 and the point below it, 5, misses with fewer than 5 replicas asked
    for: 6 and every higher max would repeat that run, so one candidate is simulated (it
    walked up to the budget and said "Raise --budget"). The advice is the diagnosis of the
    run at 5, as `simulate` gives it: min sized for the peak, ⌈600/s × 10 ms / (2 × 85 %)⌉."""
    spec = tmp_path / "step.yaml"
    spec.write_text(STEP)
    done = CliRunner().invoke(app, ["plan", str(spec), "--rate", "600/s", "--vary",
                                    "components.web.autoscale.max=2..20", "--jobs", "1",
                                    "--json"])
    assert done.exit_code == 1, done.output
    doc = json.loads(done.stdout)
    assert doc["plan"] is None and doc["simulated_candidates"] == 1
    assert doc["untried"] == [] and not doc["budget_spent"]
    simulated = next(c for c in doc["candidates"] if "simulated" in c)
    assert simulated["values"] == {"components.web.autoscale.max": "5"}
    peak = simulated["simulated"]["peak_replicas"]["web"]
    assert peak < 5
    above = next(c for c in doc["candidates"]
                 if c["values"] == {"components.web.autoscale.max": "6"})
    assert above["analytic_met"] and "simulated" not in above
    assert above["repeats"] == {"components.web.autoscale.max": "5"}
    run = _with_max(5, 5)
    diagnosed = diagnose(run, simulate(run, 1))
    fix = next(f["fix"] for f in diagnosed
               if f["fix"] and any(s.startswith("components.web.") for s in f["fix"]["set"]))
    needed = math.ceil(600 * 0.010 / (2 * 0.85))
    assert fix["set"] == [f"components.web.autoscale.min={needed}"]
    assert doc["unreached_ceilings"] == [{
        "path": "components.web.autoscale.max", "component": "web",
        "values": {"components.web.autoscale.max": "5"}, "peak_replicas": peak, "fix": fix}]
    console = Console(record=True, width=400)
    print_plan(doc, console)
    text = " ".join(console.export_text().split())
    assert "Raise --budget" not in text and "No configuration in the grid met" not in text
    assert "runs as components.web.autoscale.max=5 did" in text
    assert (f"components.web.autoscale.max: at 5, its autoscaler asked for at most {peak} "
            "replicas in any replication, so a higher max runs the same and misses the same "
            "(p99 ") in text
    assert f"The run's diagnosis: {fix['summary']}. Try --set {fix['set'][0]}." in text


class Lagging(Planner):
    """The autoscaling template's case without its 2-minute runs: every max misses and the
    autoscaler asks for `most` replicas at most, so a max up to it binds (the HPA asked for
    all of it) and one above it does not."""

    def __init__(self, most: int, budget: int = 16) -> None:
        super().__init__(lambda o: load_spec_text(STEP, overrides=list(o)),
                         [parse_axis("components.web.autoscale.max=2..30")],
                         Slo.model_validate({"p99": "50ms"}), {}, 1, Serial(), budget=budget)
        self.most_asked = most

    def simulate(self, candidate: Candidate) -> Verdict:
        ceiling = int(candidate.values["components.web.autoscale.max"])
        return Verdict(False, True, 5, {"p99": (200.0, 190.0, 210.0)}, missed=("p99",),
                       peak_replicas={"web": min(ceiling, self.most_asked)})


def test_the_walk_up_a_max_ends_one_past_what_the_autoscaler_asked_for() -> None:
    """From the frontier (6) and the point below (5) each miss queues the next max up, as
    long as the autoscaler asked for all of it: 5 to 10 bind, 11 does not, and 12 to 30
    would repeat its run. Seven simulations, none untried, the budget not the reason."""
    planner = Lagging(10)
    found = planner.run()
    simulated = sorted(int(c.values["components.web.autoscale.max"])
                       for c in found.candidates if c.verdict is not None)
    assert simulated == list(range(5, 12))
    assert found.best is None and found.untried == [] and not found.budget_spent
    assert [(u.candidate.values, u.component) for u in found.unreached] == [
        ({"components.web.autoscale.max": "11"}, "web")]
    doc = plan_document(found, planner.axes, 600.0, planner.scopes, "step")
    console = Console(record=True, width=400)
    print_plan(doc, console)
    text = console.export_text()
    assert "Raise --budget" not in text
    assert ("at 11, its autoscaler asked for at most 10 replicas in any replication, so a "
            "higher max runs the same and misses the same (p99 200.00 ms > 50.00 ms)") in text
    assert "Try a higher components.web.autoscale.min." in text  # no diagnosis to quote


def test_a_max_the_autoscaler_always_reached_is_walked_to_the_budget() -> None:
    """When every max binds, a higher one may help: the walk goes on, and without a plan the
    budget is the reason, with what it left untried."""
    found = Lagging(100, budget=4).run()
    assert found.unreached == [] and found.budget_spent
    assert [c.values["components.web.autoscale.max"] for c in found.untried][:1] == ["9"]
