"""Comparison: deltas with the right direction, common random numbers, the CLI."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from tests.render.helpers import EXAMPLES, app, run
from typer.testing import CliRunner

from scalesim.render.compare import (
    Delta,
    comparison,
    deltas,
    print_comparison,
    render_compare,
)
from scalesim.sim import simulate
from scalesim.spec import load_spec_text
from scalesim.templates import get_template


def test_direction_of_a_change_decides_better_or_worse() -> None:
    assert Delta("system", "latency_p99_ms", 100.0, 80.0, "lower").verdict == "better"
    assert Delta("system", "error_rate", 0.01, 0.02, "lower").verdict == "worse"
    assert Delta("system", "goodput_rps", 100.0, 90.0, "higher").verdict == "worse"
    assert Delta("system", "goodput_rps", 100.0, 100.5, "higher").verdict == "same"
    assert Delta("x", "utilization", 0.2, 0.5, None).verdict == "changed"
    assert Delta("x", "latency_p99_ms", None, 5.0, "lower").verdict == "n/a"
    assert Delta("x", "failed", 0, 3, "lower").relative is None


def test_a_design_against_itself_changes_nothing() -> None:
    _, result = run("contained", "simulation.duration=45s")
    assert {d.verdict for d in deltas(result, result)} <= {"same", "n/a"}
    assert comparison(result, result)["common_random_numbers"] is True


def test_containment_beats_the_cascade_where_it_should() -> None:
    _, cascade = run("cascade", "simulation.duration=45s")
    _, contained = run("contained", "simulation.duration=45s")
    by_key = {(d.scope, d.metric): d for d in deltas(cascade, contained)}
    assert by_key[("workload buying", "goodput_rps")].verdict == "better"
    assert by_key[("system", "error_rate")].verdict == "better"
    # Contained's breaker falls back on purpose: its fallbacks are not failures.
    edge = "call gateway.browse → recs.get"
    assert by_key[(edge, "fallbacks")].verdict == "changed"
    assert by_key[(edge, "failed_unrecovered")].verdict in ("same", "better")
    assert by_key[("workload browsing", "degraded")].verdict == "changed"
    assert not [d for d in deltas(cascade, contained) if d.verdict == "worse"]
    judged = comparison(cascade, contained)["verdict"]
    assert judged["better"] == "b" and judged["summary"] == "B is better than A"
    assert any(r.startswith("trade-off: B answers") for r in judged["reasons"])
    assert comparison(contained, cascade)["verdict"]["better"] == "a"
    html = render_compare(cascade, contained, (None, None), ("cascade", "contained"))
    assert "common random numbers" in html and 'class="good"' in html
    assert "contained is better than cascade" in html


def test_cli_compares_two_specs_with_one_seed(tmp_path: Path) -> None:
    out = tmp_path / "c.html"
    done = CliRunner().invoke(app, [
        "compare", str(EXAMPLES / "cascade.yaml"), str(EXAMPLES / "contained.yaml"),
        "-o", str(out), "--json", "--seed", "5"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["a"]["seed"] == data["b"]["seed"] == 5 and data["common_random_numbers"]
    assert out.read_text().count("<svg") >= 2
    # Without -o or --json the verdict and what differs go to the terminal.
    printed = CliRunner().invoke(app, ["compare", str(EXAMPLES / "cascade.yaml"),
                                       str(EXAMPLES / "contained.yaml"), "--seed", "5"])
    assert printed.exit_code == 0, printed.output
    assert data["verdict"]["better"] == "b"
    assert "contained.yaml is better than cascade.yaml" in printed.stdout
    assert "What differs (one replication each" in printed.stdout


def test_a_difference_inside_both_intervals_is_the_same() -> None:
    """With replications, a system number whose 95 % intervals overlap may differ by chance:
    it counts as the same, where a 5 % change without intervals is worse."""
    _, a = run("cascade")
    b = json.loads(json.dumps(a))
    b["latency_ms"]["p99"] = a["latency_ms"]["p99"] * 1.05

    def p99(result: dict) -> Delta:
        return next(d for d in deltas(a, result) if d.metric == "latency_p99_ms")

    assert p99(b).verdict == "worse"
    low, high = a["latency_ms"]["p99"] * 0.97, a["latency_ms"]["p99"] * 1.03
    a["ci95"] = {"latency_ms": {"p99": [low, high]}}
    b["ci95"] = {"latency_ms": {"p99": [low * 1.05, high * 1.05]}}
    assert p99(b).within_noise and p99(b).verdict == "same"
    b["ci95"] = {"latency_ms": {"p99": [high * 1.001, high * 1.1]}}
    assert p99(b).verdict == "worse"


def _longer(result: dict[str, Any], factor: float) -> dict[str, Any]:
    """The same run as if measured `factor` times as long at the same rates: every count
    scaled, every rate and latency kept."""
    longer = copy.deepcopy(result)
    longer["simulated_s"] = result["simulated_s"] * factor
    for workload in longer["workloads"].values():
        for key in ("failed", "degraded"):
            workload["requests"][key] = workload["requests"].get(key, 0) * factor
    for component in longer["components"].values():
        component["refused_by_cause"] = {cause: n * factor
                                         for cause, n in component["refused_by_cause"].items()}
    for call in longer["calls"]:
        call["failed"] *= factor
        call["fallbacks"] *= factor
    return longer


def test_runs_of_different_lengths_compare_counts_per_second() -> None:
    """20 s against 40 s of the same design marked failed, refused and failed_unrecovered
    worse only because the longer run counted twice as long."""
    _, result = run("contained", "simulation.duration=45s")
    longer = _longer(result, 2.0)
    compared = deltas(result, longer)
    counted = {d.metric for d in compared if d.metric.endswith("_per_s")}
    assert {"failed_per_s", "refused_per_s", "failed_unrecovered_per_s"} <= counted
    assert not {"failed", "refused", "failed_unrecovered"} & {d.metric for d in compared}
    assert {d.verdict for d in compared} <= {"same", "n/a"}
    failed = next(d for d in compared if d.metric == "failed_per_s")
    browsing = result["workloads"][failed.scope.removeprefix("workload ")]
    assert failed.a == browsing["requests"]["failed"] / result["simulated_s"]
    data = comparison(result, longer)
    assert data["counts_per_s"] and data["b"]["window_s"] == 2 * data["a"]["window_s"]
    assert any("different windows" in c for c in data["cautions"])
    assert "different windows" in render_compare(result, longer, (None, None), ("A", "B"))


def test_the_terminal_warns_of_different_seeds_and_windows() -> None:
    _, result = run("contained", "simulation.duration=45s")
    other = {**_longer(result, 2.0), "seed": result["seed"] + 1}
    out = io.StringIO()
    print_comparison(result, other, ("A", "B"), Console(file=out, width=200))
    text = out.getvalue()
    assert "warning: The runs used different seeds" in text
    assert "warning: The runs measured different windows (45 s and 90 s" in text
    same = io.StringIO()
    print_comparison(result, result, ("A", "B"), Console(file=same, width=200))
    assert "warning" not in same.getvalue()


def test_queue_lag_percentiles_are_compared_lower_is_better() -> None:
    system = load_spec_text(get_template("work-queue").build({}).text,
                            overrides=["simulation.duration=3s"])
    result = simulate(system, 1)
    slower = copy.deepcopy(result)
    for queue in slower["queues"].values():
        queue["lag_ms"]["p99"] = queue["lag_ms"]["p99"] * 2 + 1.0
    rows = {(d.scope, d.metric): d for d in deltas(result, slower)
            if d.scope.startswith("queue ")}
    assert rows and {metric for _, metric in rows} == {"lag_p50_ms", "lag_p99_ms"}
    assert len(rows) == 2 * len(result["queues"])
    for (scope, metric), d in rows.items():
        assert d.better == "lower"
        assert d.verdict == ("worse" if metric == "lag_p99_ms" else "same"), (scope, metric)


def test_replicated_runs_judge_the_latency_percentiles_with_intervals_by_them() -> None:
    """With replications the system's p50, p95 and p99 have 95 % intervals and are judged by
    them; the p999, which a few runs cannot bound above, has none and is marked `(no CI)`."""
    text = """
scalesim: 1
name: q
components: {s: {workers: 1, operations: {op: {work: {dist: exponential, mean: 1ms}}}}}
workloads: [{name: w, to: s.op, rate: 500/s}]
simulation: {duration: 5s, warmup: 1s, replications: 3, seed: 3}
"""
    a = simulate(load_spec_text(text))
    b = simulate(load_spec_text(text.replace("500/s", "600/s")))
    latencies = {d.metric: d.has_intervals for d in deltas(a, b) if d.scope == "system"
                 and d.metric.startswith("latency_p")}
    assert latencies == {"latency_p50_ms": True, "latency_p95_ms": True,
                         "latency_p99_ms": True, "latency_p999_ms": False}
    # The page says so too: how rows are judged, and which one has no interval.
    page = render_compare(a, b, (None, None), ("A", "B"))
    assert "95 % intervals overlap count as the same" in page
    assert "changes under 1 % count as the same" not in page
    p999 = next(row for row in page.split("<tr>") if ">latency_p999_ms<" in row)
    assert "(no CI)" in p999
    assert all("(no CI)" not in row for row in page.split("<tr>")
               if ">latency_p99_ms<" in row)
