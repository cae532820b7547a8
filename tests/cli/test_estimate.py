"""`scalesim estimate`: the JSON contract, the terminal view, --slo, and bad input."""

from __future__ import annotations

import json
import math

from scalesim.analytic import mm1_sojourn_quantile

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
