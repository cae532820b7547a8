"""Every distribution `scalesim calibrate` writes has the observed mean: only the mean of the
own times is the operation's, and the load, the estimate and the analytic layer read it by
the spec's own mean_s. An empirical whose percentiles cannot carry it (a rare slow path
above its last percentile, or a last slope that overshoots) must not lose or invent time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import TypeAdapter
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.importers.calibrate.fit import fit
from scalesim.spec.dists import Distribution

DIST: TypeAdapter[Distribution] = TypeAdapter(Distribution)


def written_mean(spec: object) -> float:
    """The mean of a fitted distribution as the spec reads it (seconds)."""
    return DIST.validate_python(spec).mean_s


@pytest.mark.parametrize("n", [300, 585, 5000])
def test_a_rare_one_second_tail_keeps_its_time(n: int) -> None:
    """1 % of visits take 1 s, the rest about 1 ms: fewer than 1,000 put no percentile in
    the tail (p99 is the body's), so the tail is a mixture part of its own."""
    rng = np.random.default_rng(n)
    slow = rng.random(n) < 0.01
    slow[:3] = True  # at least three
    times = np.where(slow, rng.normal(1.0, 0.01, n), rng.lognormal(np.log(0.001), 0.2, n))
    found = fit(list(times))
    assert found.family == "empirical"
    assert written_mean(found.spec) == pytest.approx(times.mean(), rel=0.02)
    parts = found.spec["of"]
    assert found.spec["dist"] == "mixture" and len(parts) == 2
    assert parts[1]["weight"] == pytest.approx(slow.mean(), abs=1e-6)
    assert written_mean(parts[1]["dist"]) == pytest.approx(times[slow].mean(), rel=0.02)


def test_a_constant_body_and_tail_are_two_constants() -> None:
    """297 visits of 1 ms and 3 of 1 s (hedging.yaml's leaf): 0.99 of 1 ms, 0.01 of 1 s."""
    found = fit([0.001] * 297 + [1.0] * 3)
    assert found.spec == {"dist": "mixture", "of": [{"weight": 0.99, "dist": "1ms"},
                                                    {"weight": 0.01, "dist": "1s"}]}


def test_a_last_slope_that_overshoots_ends_at_the_mean() -> None:
    """Times whose last percentile segment, continued to p100, would overstate the mean: a
    p100 at or below the largest time gives the mean instead."""
    rng = np.random.default_rng(5)
    times = np.concatenate([rng.uniform(0.001, 0.002, 980), rng.uniform(0.002, 0.0021, 20)])
    found = fit(list(times))
    assert found.family == "empirical" and found.spec["dist"] == "empirical"
    assert written_mean(found.spec) == pytest.approx(times.mean(), rel=1e-3)
    top = DIST.validate_python(found.spec).percentiles["p100"]  # type: ignore[union-attr]
    assert top <= times.max() * 1.001


@pytest.mark.parametrize("draw", [
    lambda rng, n: rng.exponential(0.002, n) ** 1.5,
    lambda rng, n: rng.pareto(1.5, n) * 0.001 + 0.001,
    lambda rng, n: rng.weibull(0.5, n) * 0.001,
    lambda rng, n: np.round(rng.exponential(0.002, n), 4),
    lambda rng, n: rng.gamma(0.3, 0.01, n),
    lambda rng, n: np.where(rng.random(n) < 0.2, 0.0, rng.lognormal(-7.0, 1.5, n)),
])
def test_any_sample_is_written_with_its_mean(draw: Any) -> None:
    """Heavy, convex, rounded and zero-heavy samples alike, from 25 to 3,000 times."""
    rng = np.random.default_rng(7)
    for n in (25, 100, 700, 3000):
        times = draw(rng, n)
        found = fit(list(times))
        assert written_mean(found.spec) == pytest.approx(times.mean(), rel=2e-3), found.spec


def test_families_keep_the_mean() -> None:
    """A lognormal's median and a normal's centre are set to give the sample's mean (the
    spec truncates a normal at 0, which lifts its mean)."""
    rng = np.random.default_rng(11)
    lognormal = rng.lognormal(np.log(0.004), 0.9, 800)
    found = fit(list(lognormal))
    assert found.family == "lognormal"
    assert written_mean(found.spec) == pytest.approx(lognormal.mean(), rel=2e-3)
    normal = np.abs(rng.normal(0.0002, 0.0001, 2000))
    found = fit(list(normal))
    assert written_mean(found.spec) == pytest.approx(normal.mean(), rel=2e-3)


@pytest.mark.parametrize(("spec", "operations"), [
    ("examples/hedging.yaml", ["leaf.lookup"]),
    ("examples/shop.yaml", ["orders.create", "gateway.checkout"]),
    ("distributed-state-machine", ["api.get"]),
])
def test_the_qa_cases_write_the_observed_mean(tmp_path: Path, spec: str,
                                              operations: list[str]) -> None:
    """Each fitted own time and hop, as written, has the mean calibrate observed: QA's
    cases (hedging's leaf lost 66 % of its mean; shop's and the state machine's overstated
    it by up to 25 %)."""
    runner = CliRunner()
    if not spec.endswith(".yaml"):
        source = tmp_path / "spec.yaml"
        assert runner.invoke(app, ["new", spec, "-o", str(source)]).exit_code == 0
        spec = str(source)
    traces, out = tmp_path / "t.json", tmp_path / "c.yaml"
    result = runner.invoke(app, ["export", spec, "--traces", "otlp", "-o", str(traces),
                                 "--set", "simulation.duration=3s",
                                 "--set", "simulation.traces=1000"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["calibrate", spec, "--traces", str(traces), "-o", str(out),
                                 "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    fitted = {name: op["own_time"] for name, op in report["operations"].items()
              if op.get("own_time")}
    for name in operations:
        assert fitted[name]["family"] == "empirical"
    for name, own in fitted.items():
        assert written_mean(own["fitted"]) * 1e3 == pytest.approx(
            own["observed_mean_ms"], rel=0.02, abs=1e-3), name
    network = report["network"]
    assert written_mean(network["fitted"]) * 1e3 == pytest.approx(
        network["observed_mean_ms"], rel=0.02, abs=1e-3)
