"""`scalesim estimate`: the JSON contract, the terminal view, --slo, and bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

from typer.testing import CliRunner

from scalesim.analytic import mm1_sojourn_quantile
from scalesim.cli import app

MM1 = """
scalesim: 1
name: mm1
components:
  s:
    operations: {op: {work: {dist: exponential, mean: 10ms}}}
workloads: [{name: w, to: s, rate: 50/s}]
"""


def test_json_contract_and_closed_forms(run_cli, spec_file) -> None:
    result = run_cli("estimate", str(spec_file(MM1)), "--json", "--slo", "p99<200ms")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert {"system", "method", "stable", "throughput_rps", "error_rate", "latency_ms",
            "workloads", "components", "bottleneck", "slo", "caveats", "simulate"} <= set(doc)
    w = doc["workloads"]["w"]
    assert w["exact"] and w["latency_ms"]["mean"] == 20.0
    assert math.isclose(w["latency_ms"]["p99"], mm1_sojourn_quantile(50, 100, 0.99) * 1e3,
                        rel_tol=2e-3)
    assert math.isclose(w["saturation_rps"], 100.0, rel_tol=3e-3)
    assert doc["slo"]["met"] and doc["slo"]["binding"] == "p99"
    assert math.isclose(doc["slo"]["max_rate_rps"], 100 - math.log(100) / 0.2, rel_tol=3e-3)
    assert doc["simulate"] is False and doc["caveats"] == []


def test_terminal_view_names_bottleneck_and_caveats(run_cli) -> None:
    result = run_cli("estimate", "examples/retry-storm.yaml")
    assert result.exit_code == 0, result.output
    assert "api" in result.output and "retries-under-load" in result.output
    assert "scalesim simulate" in result.output


MM1K = """
scalesim: 1
name: mm1k
components:
  s:
    workers: 1
    queue: 4
    operations: {op: {work: {dist: exponential, mean: 10ms}}}
workloads: [{name: w, to: s, rate: 100/s}]
"""


def test_the_faults_column_is_not_read_as_availability_beside_refusals(
        run_cli, spec_file) -> None:
    """M/M/1/K at ρ = 1, K = 5: 1 / (K + 1) = 16.667 % refused, no replica ever down. The
    column read 'availability 1.000000' beside 'errors 16.667%'; it counts only
    random_failures' downtime, so it is headed 'up (faults)' (the JSON key is unchanged)."""
    path = str(spec_file(MM1K))
    doc = json.loads(run_cli("estimate", path, "--json").output)
    w = doc["workloads"]["w"]
    assert math.isclose(w["error_rate"], 1 / 6, abs_tol=1e-6) and w["availability"] == 1.0
    result = CliRunner().invoke(app, ["estimate", path], env={"COLUMNS": "200"})  # one line
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if "errors" in line)
    assert "up (faults)" in header and "availability" not in header
    assert "16.667%" in result.output and "1.000000" in result.output


BISTABLE = """
scalesim: 1
name: bistable
components:
  a: {workers: unlimited, operations: {x: {calls: [
      {to: b.y, timeout: 30ms, retry: {attempts: 3, backoff: none, on: [timeout]}}]}}}
  b: {workers: 10, operations: {y: {work: 10ms}}}
workloads: [{name: w, to: a.x, rate: 400/s}]
"""


def test_terminal_view_says_up_front_when_retries_can_storm(run_cli, spec_file) -> None:
    """Calm at 400/s, held at 1,200/s once every try is sent (tests/analytic): the line
    under the workloads points to the caveat that gives the numbers."""
    result = run_cli("estimate", str(spec_file(BISTABLE)))
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "b has a second steady state: a burst can start a retry storm" in text
    assert "metastable b: two steady states" in text and "1,200.0/s (1.20× its capacity)" in text
    calm = run_cli("estimate", str(spec_file(BISTABLE.replace("attempts: 3", "attempts: 2"))))
    assert "second steady state" not in calm.output


def test_bad_slo_and_bad_spec_exit_2(run_cli, spec_file) -> None:
    assert run_cli("estimate", str(spec_file(MM1)), "--slo", "p99 200ms").exit_code == 2
    assert run_cli("estimate", str(spec_file(MM1)), "--slo", "p99<fast").exit_code == 2
    twice = run_cli("estimate", str(spec_file(MM1)), "--slo", "p99<1ms,p99<2ms")
    assert twice.exit_code == 2 and "'p99' is given twice" in twice.output
    bad = run_cli("estimate", str(spec_file(MM1.replace("10ms", "10"))))
    assert bad.exit_code == 2 and "needs a unit" in bad.output


def _unwrapped(output: str) -> str:
    """The output with the terminal's line wrapping (80 columns under the test runner)
    undone: words separated by single spaces."""
    return " ".join(output.split())


def test_slo_no_load_meets_is_not_called_saturation(run_cli) -> None:
    """The shop's p99 is payments.charge's own tail (600 ms at p99), ≈ 397 ms at any load:
    no load meets p99 < 300 ms, which is not a component saturating (nothing does)."""
    args = ("estimate", "examples/shop.yaml", "--slo", "p99<300ms,error_rate<0.5%")
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    text = _unwrapped(result.output)
    assert ("SLO missed by all requests and workload shoppers all requests: p99 396.51 ms > "
            "300 ms; error_rate 0.000% ≤ 0.500%") in text
    assert ("no load meets it: even at light load, p99 396.51 ms > 300 ms; the slowest step "
            "is payments.charge (its own p99 600.00 ms)") in text
    assert "saturates first" not in text and "would hold" not in text
    slo = json.loads(run_cli(*args, "--json").output)["slo"]
    assert slo["binding"] == "p99" and slo["max_rate_rps"] == 0.0
    assert slo["unmet_at_no_load"] == {
        "scope": "all", "name": "p99", "target_ms": 300.0, "estimate_ms": 396.5126,
        "met": False, "set_by": {"operation": "payments.charge", "own_ms": 600.0021}}


def test_workload_slos_are_judged_as_simulate_judges_them(run_cli) -> None:
    """The shop's system-wide p99 (400 ms) is met, but its shoppers' own (400 ms) is not:
    the SLO is missed, and no load meets it (payments.charge's tail again)."""
    result = run_cli("estimate", "examples/shop.yaml")
    assert result.exit_code == 0, result.output
    text = _unwrapped(result.output)
    assert ("SLO missed by workload shoppers all requests: p99 396.51 ms ≤ 400 ms; "
            "error_rate 0.000% ≤ 1.000%") in text  # the header names the scope that missed
    assert "workload shoppers: p99 621.72 ms > 400 ms; error_rate 0.001% ≤ 1.000%" in text
    assert "workload browsers: p99 8.39 ms ≤ 50 ms; error_rate 0.000% ≤ 0.100%" in text
    assert ("no load meets it: even at light load, shoppers p99 621.72 ms > 400 ms; the "
            "slowest step is payments.charge (its own p99 600.00 ms)") in text
    doc = json.loads(run_cli("estimate", "examples/shop.yaml", "--json").output)
    assert not doc["slo"]["met"] and doc["slo"]["binding"] == "shoppers p99"
    assert doc["workloads"]["shoppers"]["slo"] == {"met": False, "checks": [
        {"scope": "shoppers", "name": "p99", "target_ms": 400.0, "estimate_ms": 621.7242,
         "met": False},
        {"scope": "shoppers", "name": "error_rate", "target": 0.01, "estimate": 1.1e-05,
         "met": True}]}


def test_a_scope_lists_its_missed_targets_first() -> None:
    """A line of passing numbers under 'SLO missed' read as a contradiction: the verdict
    names the scope that misses, and within a scope the missed target comes first."""
    from rich.console import Console

    from scalesim.cli.estimate import _print_slo

    console = Console(record=True, width=200)
    _print_slo({"met": False, "checks": [
        {"scope": "all", "name": "p99", "target_ms": 300.0, "estimate_ms": 120.0, "met": True},
        {"scope": "all", "name": "error_rate", "target": 0.001, "estimate": 0.02,
         "met": False},
        {"scope": "w", "name": "p99", "target_ms": 50.0, "estimate_ms": 20.0, "met": True}]},
        console)
    assert console.export_text().splitlines() == [
        "SLO missed by all requests",
        "  all requests: error_rate 2.000% > 0.100%; p99 120.00 ms ≤ 300 ms",
        "  workload w: p99 20.00 ms ≤ 50 ms"]


def test_a_workload_slo_alone_sets_the_capacity(run_cli, spec_file) -> None:
    """M/M/1, μ = 100, its one workload's own p99 ≤ 200 ms (no system-wide SLO): met up to
    λ = 100 − ln(100)/0.2 = 76.97/s, which that target binds."""
    spec = MM1.replace("rate: 50/s}", "rate: 50/s, slo: {p99: 200ms}}")
    result = run_cli("estimate", str(spec_file(spec)))
    assert "SLO met workload w: p99 92.10 ms ≤ 200 ms holds up to 77.0 rps in total (1.54× " \
        "today's rates; w p99 binds)" in _unwrapped(result.output)
    slo = json.loads(run_cli("estimate", str(spec_file(spec)), "--json").output)["slo"]
    assert slo["met"] and slo["binding"] == "w p99"
    assert math.isclose(slo["max_rate_rps"], 100 - math.log(100) / 0.2, rel_tol=3e-3)


LIMITED = """
scalesim: 1
name: limited
components:
  s:
    workers: 4
    rate_limit: {rate: 100/s}
    operations: {op: {work: 10ms}}
workloads: [{name: w, to: s, rate: 300/s}]
"""


def test_a_rate_limited_component_shows_what_comes_and_what_it_admits(
        run_cli, spec_file) -> None:
    """300/s come to a limit of 100/s: the station serves 100/s (`arrival_rate_rps`, its
    λ, ρ = 100 × 10 ms / 4), the table's rps is the 300/s the refused share is of."""
    path = str(spec_file(LIMITED))
    doc = json.loads(run_cli("estimate", path, "--json").stdout)
    s = doc["components"]["s"]
    assert (s["incoming_rps"], s["arrival_rate_rps"]) == (300.0, 100.0)
    assert math.isclose(s["utilization"], 0.25) and math.isclose(s["rate_limited"], 2 / 3,
                                                                  rel_tol=1e-5)
    text = CliRunner().invoke(app, ["estimate", path], env={"COLUMNS": "200"}).stdout
    row = next(line for line in text.splitlines() if line.startswith("│ s "))
    assert "300.0" in row and "66.67%" in row
    assert "100.0 admitted" in text


def test_a_full_queue_behind_is_said_to_refuse_not_to_grow(tmp_path: Path) -> None:
    """A subscription that drains 20/s of 100/s into a queue of capacity 1,000: the queue
    refuses 80 % of the messages (1 − 20/100), it cannot grow without bound."""
    spec = tmp_path / "q.yaml"
    spec.write_text("""scalesim: 1
name: q
components:
  a:
    operations:
      x: {work: 1ms, calls: [{to: q.publish, async: true}]}
  q:
    kind: queue
    capacity: 1000
    operations: {publish: {work: 0ms}}
    consumers: [{to: d.y, concurrency: 2}]
  d:
    workers: 4
    operations: {y: {work: 100ms}}
workloads: [{name: w, to: a.x, rate: 100/s}]
""")
    printed = CliRunner().invoke(app, ["estimate", str(spec)], env={"COLUMNS": "250"})
    assert "the full queue refuses 80.0% of its messages" in printed.output
    assert "grows without bound" not in printed.output
