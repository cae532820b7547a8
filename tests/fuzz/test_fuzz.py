"""Every spec ends in exit 0, 1, 2 or 3 with no traceback, whatever it holds (issue 19).

Specs come from the JSON Schema and from mangled examples; each goes through validate,
simulate (bounded: short, one replication, few events), estimate, lint, diagram, report,
generate, import (of what generate wrote) and calibrate (from the run's exported traces).
The budget is fixed: FUZZ_EXAMPLES per test (SCALESIM_FUZZ_EXAMPLES overrides it, e.g. 2000
for a long local hunt). In CI the examples are derandomized, so every run tries the same
ones; elsewhere they are random and hypothesis keeps failures in its database (.hypothesis/,
not committed) to replay them first. Failures worth keeping are @example cases below.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from click.testing import Result
from hypothesis import HealthCheck, example, given, settings
from tests.fuzz.strategies import BASES, as_yaml, mangled_specs, schema_specs
from typer.testing import CliRunner

from scalesim.cli import app

BOUNDED = ["simulation.duration=2s", "simulation.warmup=0s", "simulation.replications=1",
           "simulation.interval=1s", "simulation.limits.max_events=200000",
           "simulation.limits.max_in_flight=100000", "simulation.limits.max_queued=100000",
           "simulation.limits.drain=5s"]
EXITS = {0, 1, 2, 3}
FUZZ_EXAMPLES = int(os.environ.get("SCALESIM_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=FUZZ_EXAMPLES, derandomize=bool(os.environ.get("CI")),
                deadline=None, suppress_health_check=[
                    HealthCheck.too_slow, HealthCheck.data_too_large,
                    HealthCheck.function_scoped_fixture])


def _run(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args))
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not crashed and result.exit_code in EXITS, (
        f"scalesim {' '.join(args)} -> {result.exit_code}\n{result.output[-2000:]}\n"
        f"{result.exception!r}")
    return result


def every_command(spec: Path, work: Path) -> None:
    """Run each command on `spec`; the simulated ones with bounded settings."""
    overrides = [part for item in BOUNDED for part in ("--set", item)]
    if _run("validate", str(spec)).exit_code != 0:
        return  # the rest would fail the same way, already covered by validate
    _run("lint", str(spec))
    _run("estimate", str(spec), "--json")
    _run("diagram", str(spec), "-o", str(work / "a.dot"))
    _run("diagram", str(spec), "-o", str(work / "a.mmd"))
    _run("generate", str(spec), "--target", "all", "-o", str(work / "deploy"))
    for source in ("compose", "k8s"):  # what generate wrote, read back
        if (work / "deploy" / source).is_dir():
            _run("import", source, str(work / "deploy" / source), *(
                ["-R"] if source == "k8s" else []), "-o", str(work / f"imported-{source}.yaml"))
    out = work / "run"
    simulated = _run("simulate", str(spec), "--out", str(out), "--quiet", *overrides)
    if simulated.exit_code in (0, 1):
        result = out / "result.json"
        _run("report", str(result), "-o", str(work / "report.html"), "--spec", str(spec))
        _run("diagram", str(result), "-o", str(work / "b.mmd"), "--breakers")
        _run("compare", str(result), str(result), "--json")
        _run("export", str(result), "--metrics", "openmetrics", "-o", str(work / "m.txt"))
        traces = work / "traces.json"
        if _run("export", str(result), "--traces", "otlp", "-o", str(traces)).exit_code == 0:
            _run("calibrate", str(spec), "--traces", str(traces), "-o",
                 str(work / "calibrated.yaml"))
        json.loads(result.read_text())  # a result is plain JSON: no NaN or Infinity


HOSTILE_EXAMPLES: list[dict[str, Any]] = [
    {**BASES[0], "workloads": [{"name": "w", "to": "gateway", "rate": "1e400/s"}]},
    {**BASES[0], "simulation": {"duration": "1e9s"}},
    {**BASES[0], "workloads": [{"name": "w", "to": "gateway", "rate": "10/s", "keys": 10**12}]},
    {**BASES[0], "simulation": {"seed": -1}},
    {"scalesim": 1, "name": "outage", "components": {"api": {"operations": {
        "get": {"error_rate": 1}}}}, "workloads": [{"name": "w", "to": "api", "rate": "50/s"}]},
    {"scalesim": 1, "name": "loop", "components": {"a": {"workers": "unlimited", "operations": {
        "x": {"calls": [{"to": "a.x", "async": True}]}}}},
     "workloads": [{"name": "w", "to": "a", "rate": "10/s"}]},
]


@FUZZ
@given(data=mangled_specs())
@example(data=HOSTILE_EXAMPLES[0]).via("defect 4: a rate of 1e400/s")
@example(data=HOSTILE_EXAMPLES[1]).via("defect 10: a run of 1e9 s")
@example(data=HOSTILE_EXAMPLES[2]).via("defect 4: 10^12 keys")
@example(data=HOSTILE_EXAMPLES[3]).via("defect 4: a negative seed")
@example(data=HOSTILE_EXAMPLES[4]).via("defect 5: no successful request")
@example(data=HOSTILE_EXAMPLES[5]).via("a loop of zero-time async calls")
def test_mangled_examples_end_in_an_exit_code(data: dict[str, Any], tmp_path_factory: Any
                                              ) -> None:
    work = tmp_path_factory.mktemp("fuzz")
    spec = work / "spec.yaml"
    spec.write_text(as_yaml(data))
    every_command(spec, work)


@FUZZ
@given(data=schema_specs())
def test_specs_built_from_the_schema_end_in_an_exit_code(data: dict[str, Any],
                                                         tmp_path_factory: Any) -> None:
    work = tmp_path_factory.mktemp("fuzz")
    spec = work / "spec.yaml"
    spec.write_text(as_yaml(data))
    every_command(spec, work)
