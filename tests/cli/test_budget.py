"""What several runs cost together (a sweep's points, a plan's candidates): one estimate,
budget.Estimate, for one run or a batch, and the batch's refusal as it read before."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalesim.analytic.runtime import RunCost, run_cost
from scalesim.budget import BUDGET_S, Estimate, amount, estimate, estimate_runs, human
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
    assert found.summary == found.describe()
    assert found.describe().startswith(f"{amount(work)} events, ")
    assert found.describe().endswith(f" at ~{amount(float(f'{speed:.2g}'))} events/s on 2 "
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
    assert found.describe().startswith(f"{amount(found.cost.work)} events, ")


def test_a_batch_s_line_writes_its_numbers_out_and_a_wait_under_a_second_as_such() -> None:
    """`plan` printed '2.2e+05 events, about 0 s at ~1e+06 events/s': counts in full
    (docs/report.md: never scientific notation), and a wait below a second is not none."""
    found = Estimate(RunCost(0.0, 0.0, 0, 0.0), 1.04e6, 2, 0.21, (), "", 2.2e5)
    assert found.describe() == ("220,000 events, under 1 s at ~1,000,000 events/s on 2 "
                                "worker(s)")
    slower = Estimate(RunCost(0.0, 0.0, 0, 0.0), 1.04e6, 2, 1.4, (), "", 3.06e6)
    assert slower.describe().startswith("3,060,000 events, about 1 s at ~1,000,000 ")


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


def _refused(tmp_path: Path, text: str, *args: str) -> str:
    """The refusal (exit 3) a command prints for the spec `text`, on one line."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    result = CliRunner().invoke(app, [args[0], str(spec), *args[1:]])
    assert result.exit_code == 3, result.output
    return " ".join(result.stderr.split())


def test_a_sweep_with_a_run_without_a_bound_says_so_not_inf_years(tmp_path: Path) -> None:
    """A sweep's refusal read 'estimated at inf events, about inf years' where simulate
    says the work has no bound and how to end the loop; it now says the same."""
    text = _refused(tmp_path, "scalesim: 1\nname: loop\ncomponents:\n  api:\n    workers: "
                    "unlimited\n    operations:\n      get: {work: 1ms, calls: [{to: api.get, "
                    "async: true}]}\nworkloads:\n  - {name: w, to: api.get, rate: 1/s}\n"
                    "simulation: {duration: 2s}\n", "sweep", "--vary",
                    "components.api.workers=1,2")
    assert text.startswith("refused: simulating the 2 point(s) left: the work of point 0 "
                           "(workers=1) and of 1 more has no bound: its requests never end")
    assert text.endswith("Give the loop an end (a think time, work that takes time, a call "
                         "made with a probability below 1), or pass --force to run it anyway.")
    assert "inf" not in text.replace("infinite", "")


def test_a_sweep_refusing_a_run_without_a_bound_names_its_point(tmp_path: Path) -> None:
    """Two users without think time: only the point whose work takes no time never ends.
    The refusal said 'one run's work has no bound' without saying which point; it names
    it as the sweep's invalid points are named ('point N (label)')."""
    text = _refused(tmp_path, "scalesim: 1\nname: users\ncomponents:\n  a:\n    workers: "
                    "unlimited\n    operations:\n      x: {work: 1ms}\nworkloads:\n  - {name: "
                    "w, to: a.x, users: 2}\nsimulation: {duration: 2s}\n", "sweep", "--vary",
                    "components.a.operations.x.work=1ms,0ms")
    assert text.startswith("refused: simulating the 2 point(s) left: the work of point 1 "
                           "(work=0ms) has no bound: its requests never end")


MM1 = """scalesim: 1
name: mm1
components:
  api: {workers: 1, operations: {get: {work: {dist: exponential, mean: 10ms}}}}
workloads: [{name: w, to: api.get, rate: 80/s}]
simulation: {duration: 2000s, warmup: 100s}
"""


def _refusal(*overrides: str) -> str:
    from scalesim.spec import load_spec_text

    return estimate(load_spec_text(MM1, "mm1.yaml", list(overrides))).refusal("force it")


def test_an_event_limit_refusal_says_to_raise_it_not_the_interval() -> None:
    """80/s for 2,100 s is 168,000 requests, two events each: past max_events 1000. The
    advice read 'Shorten duration, lower the rate or raise simulation.interval', which does
    not move the events; it names the limit and the number to raise it above."""
    from scalesim.spec import load_spec_text

    events = run_cost(load_spec_text(MM1, "mm1.yaml")).events
    text = _refusal("simulation.limits.max_events=1000")
    assert "past simulation.limits.max_events (1,000), where it would stop." in text
    assert text.endswith(f"Raise simulation.limits.max_events above {events:,.0f}, or shorten "
                         "simulation.duration or simulation.warmup or lower the rate "
                         "(simulation.interval and the replications do not change a "
                         "replication's events), or force it.")
    assert "raise simulation.interval" not in text


def test_the_event_limit_is_one_replication_s() -> None:
    """The kernel counts max_events per replication: 3 replications of 336,000 events
    under a limit of 400,000 run to the end, so they are not refused on it (they were, on
    the 1,008,000 of all three)."""
    from scalesim.spec import load_spec_text

    system = load_spec_text(MM1, "mm1.yaml", ["simulation.replications=3",
                                              "simulation.limits.max_events=400000"])
    assert run_cost(system).events > 400_000 * 2
    assert not estimate(system).over
    text = _refusal("simulation.replications=3", "simulation.limits.max_events=300000")
    assert f"{run_cost(system).events / 3:,.0f} events a replication, past " \
        "simulation.limits.max_events (300,000)" in text


def test_too_many_intervals_say_to_raise_the_interval() -> None:
    """2,000 s in 4 ms intervals is 500,000 rows, over 200,000: an interval of 2,000 s /
    200,000 = 10 ms fits; the events are under their limit, so max_events is not named."""
    text = _refusal("simulation.interval=4ms")
    assert "500,000 time-series intervals of 0.004 s, over 200,000." in text
    assert text.endswith("Raise simulation.interval to 0.01 s or more, or shorten "
                         "simulation.duration, or force it.")
    assert "max_events" not in text


def test_several_limits_each_get_their_own_advice() -> None:
    """1e6 s at 80/s: 160 M events, past a 1e8 limit, and 500,000 intervals of 2 s."""
    text = _refusal("simulation.duration=1e6s", "simulation.interval=2s",
                    "simulation.limits.max_events=100000000")
    assert " For max_events: raise simulation.limits.max_events above " in text
    assert " For the intervals: raise simulation.interval to 5 s or more, or shorten " \
        "simulation.duration." in text
    assert text.endswith(" Or force it.")


# The M/M/1 above driven by a closed loop of users (and, in MIXED, by both kinds of workload).
LOOP = MM1.replace("workloads: [{name: w, to: api.get, rate: 80/s}]",
                   "workloads: [{name: u, to: api.get, users: 8, think: THINK}]")
MIXED = MM1.replace("workloads: [{name: w, to: api.get, rate: 80/s}]",
                    "workloads: [{name: w, to: api.get, rate: 20/s},\n"
                    "            {name: u, to: api.get, users: 8, think: 100ms}]")


@pytest.mark.parametrize(("spec", "less"), [
    (LOOP.replace("THINK", "0s"), "use fewer users or give the users a think time"),
    (LOOP.replace("THINK", "100ms"), "use fewer users or lengthen the users' think time"),
    (MIXED, "lower the open workloads' rate, use fewer users or lengthen the users' think "
            "time"),
], ids=["loop-no-think", "loop-think", "open-and-loop"])
@pytest.mark.parametrize("overrides", [["simulation.limits.max_events=1000"],
                                       ["simulation.duration=1e7s",
                                        "simulation.interval=100s"]],
                         ids=["max-events", "wall-time"])
def test_the_advice_for_less_load_names_what_the_workloads_have(
        spec: str, less: str, overrides: list[str]) -> None:
    """A closed loop has no rate: its load is its users and their think time, so a refusal
    that said 'lower the rate' for it named a knob the spec does not have."""
    from scalesim.spec import load_spec_text

    text = estimate(load_spec_text(spec, "loop.yaml", overrides)).refusal("force it")
    assert f" or {less}" in text
    if "rate: " not in spec:
        assert "rate" not in text
