"""`scalesim simulate`: JSON contract, outputs, exit codes, determinism."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.cli.specs import GOOD

RESULT_KEYS = {"scalesim", "system", "seed", "replications", "simulated_s", "requests",
               "throughput_rps", "goodput_rps", "latency_ms", "workloads", "components",
               "calls"}


def test_json_result_has_the_contract_keys(run_cli, spec_file) -> None:
    result = run_cli("simulate", str(spec_file()), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= RESULT_KEYS
    assert set(data["requests"]["failed_by_cause"]) >= {"timeout", "rejected", "error",
                                                         "circuit_open", "crashed"}
    assert set(data["latency_ms"]) == {"mean", "p50", "p90", "p95", "p99", "p999", "max"}
    assert data["requests"]["total"] == data["requests"]["ok"] + data["requests"]["failed"]
    component = data["components"]["api"]
    assert {"throughput_rps", "utilization", "cpu", "queue_mean", "queue_max", "latency_ms",
            "operations"} <= set(component)
    call = data["calls"][0]
    assert (call["from"], call["to"]) == ("api.get", "db.read")


def test_same_seed_gives_byte_identical_json(run_cli, spec_file) -> None:
    path = spec_file()
    first = run_cli("simulate", str(path), "--json").output
    second = run_cli("simulate", str(path), "--json").output
    other = run_cli("simulate", str(path), "--json", "--seed", "4").output
    assert first == second
    assert first != other
    assert json.loads(other)["seed"] == 4


def test_out_writes_result_and_series(run_cli, spec_file, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = run_cli("simulate", str(spec_file()), "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    data = json.loads((out / "result.json").read_text())
    rows = list(csv.DictReader((out / "timeseries.csv").open()))
    assert [float(r["t_s"]) for r in rows] == [1, 2, 3, 4, 5]  # one per second of the window
    completed = sum(float(r["throughput_rps"]) for r in rows)
    # Rows count completions per second; the total counts the window's arrivals, of which
    # the few still in flight at the end finish during the drain.
    assert 0 <= data["requests"]["total"] - completed <= 0.01 * data["requests"]["total"]
    comps = list(csv.DictReader((out / "components.csv").open()))
    assert {r["component"] for r in comps} == {"api", "db"}
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_missed_slo_exits_1_only_with_check_slo(run_cli, spec_file) -> None:
    path = spec_file(GOOD + "slo: {p99: 1ms}\n")
    assert run_cli("simulate", str(path), "--quiet").exit_code == 0
    missed = run_cli("simulate", str(path), "--quiet", "--check-slo")
    assert missed.exit_code == 1
    met = run_cli("simulate", str(spec_file(GOOD + "slo: {p99: 10s}\n", "ok.yaml")),
                  "--check-slo", "--quiet")
    assert met.exit_code == 0


def test_runaway_load_stops_at_the_queue_limit_with_exit_3(run_cli, spec_file) -> None:
    overloaded = GOOD.replace("rate: 200/s", "rate: 5k/s").replace(
        "simulation: {duration: 5s, seed: 3}",
        "simulation: {duration: 600s, seed: 3, limits: {max_queued: 2000}}")
    result = run_cli("simulate", str(spec_file(overloaded)))
    assert result.exit_code == 3
    assert "max_queued" in result.output
    assert "ρ" in result.output  # warned before running


def test_bad_input_writes_nothing(run_cli, spec_file, tmp_path: Path) -> None:
    out = tmp_path / "never"
    result = run_cli("simulate", str(spec_file("scalesim: 1\n")), "--out", str(out))
    assert result.exit_code == 2
    assert not out.exists()


def test_replications_add_confidence_intervals(run_cli, spec_file) -> None:
    path = spec_file()
    result = run_cli("simulate", str(path), "--json", "--set", "simulation.replications=4")
    data = json.loads(result.output)
    low, high = data["ci95"]["latency_ms"]["mean"]
    assert low < data["latency_ms"]["mean"] < high
    assert data["replications"] == 4


def test_the_overload_warning_counts_what_a_rate_limit_admits(monkeypatch) -> None:
    """900/s at 10 ms on 2 × 4 workers is ρ ≈ 1.12: warned before the run. Behind a rate
    limit of 600/s (refused requests cost no worker time) it is ρ ≈ 0.75: no warning. The
    api-gateway template was warned at ρ ≈ 1.06 while it ran 57 % busy."""
    from rich.console import Console

    from scalesim.cli import run
    from scalesim.spec import load_spec_text

    spec = """
scalesim: 1
name: gw
components:
  a: {replicas: 2, workers: 4, operations: {x: {work: 10ms}}}
workloads: [{name: w, to: a.x, rate: 900/s}]
"""
    for extra, warned in (("", True), ("rate_limit: {rate: 600/s}, ", False)):
        console = Console(record=True, width=200)
        monkeypatch.setattr(run, "err", console)
        run._warn_overload(load_spec_text(spec.replace("{replicas: 2,", "{" + extra +
                                                       "replicas: 2,")), quiet=False)
        text = console.export_text()
        assert ("'a' is offered more than it can serve: ρ ≈ 1.12" in text) is warned, text


def test_the_overload_warning_knows_closed_loops_bounded_queues_and_cores(monkeypatch) -> None:
    """A closed loop of 10 users (think 50 ms, 8 ms of work) runs at its MVA throughput,
    118.6/s: ρ ≈ 0.95, no warning (its users bound its load). 600/s on 2 workers of 4 ms with
    3 queue places: ρ = 1.2 and the M/M/2/5 chain refuses p₅ of the arrivals. 1500/s of 1 ms
    CPU on one core: ρ = 1.5 whatever the 8 workers. 50 users without think time on one
    worker: at its capacity (MVA: 100/s), where an open workload's queue would grow, its
    users wait there: at capacity, not overloaded."""
    import math

    from rich.console import Console

    from scalesim.cli import run
    from scalesim.spec import load_spec_text

    a = 600.0 * 0.004
    weights = [a**n / math.factorial(min(n, 2)) / 2 ** max(0, n - 2) for n in range(6)]
    refused = f"{weights[5] / sum(weights):.0%}"
    head = "scalesim: 1\nname: t\ncomponents:\n  srv:\n"
    cases = {
        "workers: 1\n    operations: {op: {work: {dist: exponential, mean: 8ms}}}\n"
        "workloads: [{name: w, to: srv.op, users: 10, think: {dist: exponential, mean: "
        "50ms}}]\n": None,
        "workers: 2\n    queue: 3\n    operations: {op: {work: {dist: exponential, mean: 4ms}}}"
        "\nworkloads: [{name: w, to: srv.op, rate: 600/s}]\n":
            f"ρ ≈ 1.20 (600.0 rps admitted × 4 ms per request over its workers); its queue "
            f"is bounded (3 per replica), so it refuses about {refused} of requests",
        "workers: 8\n    cores: 1\n    operations: {op: {cpu: {dist: exponential, mean: 1ms}}}"
        "\nworkloads: [{name: w, to: srv.op, rate: 1500/s}]\n":
            "'srv' is offered more CPU than its cores can serve: ρ ≈ 1.50 (1,500.0 rps "
            "admitted × 1 ms of CPU per request over 1 core per replica); its queue grows",
        "workers: 1\n    operations: {op: {work: {dist: exponential, mean: 10ms}}}\n"
        "workloads: [{name: w, to: srv.op, users: 50, think: 0s}]\n":
            "'srv' is at capacity: the closed loops' 50 users keep it busy (ρ ≈ 1.00, 100.0 "
            "rps × 10 ms per request over its workers); its queue holds at most",
    }
    for spec, expected in cases.items():
        console = Console(record=True, width=400)
        monkeypatch.setattr(run, "err", console)
        run._warn_overload(load_spec_text(head + "    " + spec), quiet=False)
        text = console.export_text()
        if expected is None:
            assert "warning" not in text, text
        else:
            assert expected in text, text


def test_closed_loops_against_a_bounded_queue_are_warned_of_refusals(monkeypatch) -> None:
    """2 replicas × (16 workers + 100 queue places) hold 232 requests. 200 users fit (100 a
    replica): at capacity, more users wait, up to 232. 2,000 users do not: 1,768 are
    refused and send again at once, (2,000 − 232) / 0.5 ms ≈ 3.5 million requests a
    second, 99.5 % refused; with a 5 ms think time they send again after it. Before, the
    warning said more users add waiting there, not throughput, whatever the bound."""
    from rich.console import Console
    from tests.analytic.test_closed_refusals import qa

    from scalesim.cli import run
    from scalesim.spec import load_spec_text

    cases = {
        (200, "0s"): "'api' is at capacity: the closed loops' 200 users keep it busy (ρ ≈ "
                     "1.00, 16,000.0 rps × 2 ms per request over its workers); its queue "
                     "holds at most what the users have in flight, so more users add waiting "
                     "there, not throughput, up to the 232 requests it holds at once: past "
                     "that, more users add refusals",
        (2000, "0s"): "'api' is full: the closed loops' 2,000 users outnumber the 232 "
                      "requests it holds at once (workers and queue places of its "
                      "replicas); the others are refused and send again at once, so more "
                      "users add refusals, not throughput: the estimate has 99.5% of its "
                      "visits refused and about 3,536,018 requests sent a second",
        (2000, "5ms"): "the others are refused and send again after their think time",
    }
    for (users, think), expected in cases.items():
        console = Console(record=True, width=400)
        monkeypatch.setattr(run, "err", console)
        run._warn_overload(load_spec_text(qa(users, think)), quiet=False)
        text = console.export_text()
        assert expected in text, text
        assert ("more users add waiting there" in text) is (users == 200), text


def test_a_run_too_short_for_a_busy_queue_is_warned_with_the_time_that_would_do(
        monkeypatch) -> None:
    """M/M/1 at ρ = 0.95 with 1 ms of work for 10 s: Whitt's formula pins the mean down to
    about ±79 % (docs/capacity.md); about 631 s in all would give ±10 %, the queue takes
    1.6 s to forget where it was and the run starts empty. At ρ = 0.5 the same run is
    precise enough: nothing is said. With --precision the warning is whether
    --max-replications leaves room (about 1,578 replications of 10 s for ±2 %)."""
    from rich.console import Console

    from scalesim.cli import run
    from scalesim.spec import load_spec_text
    from scalesim.sweep.replicate import Execution, Precision

    spec = """
scalesim: 1
name: mm1
components:
  s: {operations: {x: {work: {dist: exponential, mean: 1ms}}}}
workloads: [{name: w, to: s.x, rate: RATE/s}]
simulation: {duration: 10s}
"""

    def warned(rate: int, execution: Execution, quiet: bool = False) -> str:
        console = Console(record=True, width=400)
        monkeypatch.setattr(run, "err", console)
        run._warn_short_run(load_spec_text(spec.replace("RATE", str(rate))), execution,
                            quiet)
        return console.export_text()

    text = warned(950, Execution())
    assert "pins its mean latency down to about ±79% (95 %): 's' is busy (ρ ≈ 0.95)" in text
    assert "About 631 s in all gives ±10%" in text and "about 64 replications" in text
    assert "simulation.warmup 4.7 s (3 relaxation times)" in text
    assert warned(500, Execution()) == "" and warned(950, Execution(), quiet=True) == ""
    text = warned(950, Execution(precision=Precision(0.02, 100)))
    assert "about 1,578 replications of 10 s, past --max-replications 100" in text
    assert warned(950, Execution(precision=Precision(0.02, 2000))) == ""


def test_max_replications_below_5_is_5(run_cli, spec_file) -> None:
    """docs/cli.md: "below 5 it is 5"; 3 ran 5 but 1 was refused (the option's least was 2)."""
    fast = GOOD.replace("duration: 5s", "duration: 1s")
    result = run_cli("simulate", str(spec_file(fast)), "--precision", "50%",
                     "--max-replications", "1", "--jobs", "1", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["replications"] == 5 and document["precision"]["max_replications"] == 5


def test_precision_stops_once_a_replication_answers_nothing(run_cli, spec_file) -> None:
    """A workload that sends nothing has no mean latency: more runs cannot make its interval
    known, so --precision stops at its least (5), not its most (100), and says why."""
    idle = GOOD.replace("rate: 200/s", "profile: [{at: 0s, rate: 0/s}]")
    result = run_cli("simulate", str(spec_file(idle)), "--precision", "5%", "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert "5 replications: the 95 % CI of the mean latency cannot be told" in result.output


def test_max_replications_without_precision_is_refused(run_cli, spec_file) -> None:
    """It caps what --precision adds: alone it was ignored (one replication ran, exit 0)."""
    result = run_cli("simulate", str(spec_file()), "--max-replications", "7", "--json")
    assert result.exit_code == 2
    assert "applies with --precision PCT only" in result.output


CLOSED_BEHIND_A_LIMIT = """\
scalesim: 1
name: rl3
components:
  api:
    workers: 4
    rate_limit: {rate: 100/s, burst: 10}
    operations:
      get: {work: {dist: exponential, mean: 5ms}}
workloads:
  - {name: users, to: api.get, users: 20, think: {dist: exponential, mean: 100ms}}
simulation: {duration: 3s}
"""


def test_a_closed_loop_behind_a_rate_limit_is_summarised(run_cli, spec_file) -> None:
    """The overload check looks at the system's open part first, which a closed loop alone
    leaves without workloads: the rate limit's admitted shares crashed on it (numpy's
    stack of nothing) instead of the summary printing."""
    result = run_cli("simulate", str(spec_file(CLOSED_BEHIND_A_LIMIT)))
    assert result.exit_code == 0, result.output
    assert "rate_limited" in result.output or "rate limited" in result.output
