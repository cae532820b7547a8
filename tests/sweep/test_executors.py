"""Replications give the same result wherever they run: in this process, in worker
processes, on a Dask cluster; and the sequential stopping rule of --precision."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest
from tests.sweep.specs import MIXED
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.sim import SafetyStop, simulate
from scalesim.sim.partial import merge
from scalesim.sim.result import build_result
from scalesim.sim.run import run_replication
from scalesim.spec import load_spec, load_spec_text
from scalesim.sweep.executor import DaskCluster, Processes, Serial
from scalesim.sweep.replicate import Execution, Precision, relative_half_width, replicate


def text(result: dict[str, Any]) -> str:
    return json.dumps(result, indent=2, sort_keys=True)


def test_partials_pickle_and_merge_like_one_process() -> None:
    system = load_spec_text(MIXED)
    expected = text(simulate(system, with_series=True))
    partials = [pickle.loads(pickle.dumps(run_replication(system, 5, r, with_series=True)))
                for r in range(3)]
    assert text(build_result(system, 5, merge(partials))) == expected
    assert "timeseries" in json.loads(expected) and "ci95" in json.loads(expected)
    assert json.loads(expected)["calls"][0]["retries"] > 0


def test_worker_processes_give_identical_results() -> None:
    system = load_spec_text(MIXED)
    expected = text(simulate(system, with_series=True))
    serial = text(replicate(system, 5, Serial(), with_series=True))
    pool = Processes(2)
    try:
        parallel = text(replicate(system, 5, pool, with_series=True))
    finally:
        pool.close()
    assert serial == expected
    assert parallel == expected


FEATURES = Path(__file__).parents[1] / "kernel"
# The keys the control loops and data mechanisms add, in the specs that exercise them all.
AREA_KEYS = {"control_features.yaml": ("rollouts", "cluster"),
             "data_features.yaml": ("queues", "dead_letters", "sagas", "outboxes",
                                    "event_stores")}


@pytest.mark.parametrize("name", ["features.yaml", "control_features.yaml",
                                  "data_features.yaml"])
def test_every_area_pools_alike_in_worker_processes(name: str) -> None:
    """Every mechanism's part of the result (scaling, versions, rollouts, nodes, queues,
    sagas, outboxes, event stores, and their time series) survives pickling and pools in
    worker processes exactly as in one process."""
    system = load_spec(FEATURES / name, ["simulation.replications=3"])
    expected = text(simulate(system, with_series=True))
    pool = Processes(2)
    try:
        assert text(replicate(system, system.simulation.seed, pool, with_series=True)) \
            == expected
    finally:
        pool.close()
    result = json.loads(expected)
    assert all(key in result for key in AREA_KEYS.get(name, ()))
    if name == "control_features.yaml":
        assert any("scaling" in c and "versions" in c for c in result["components"].values())
        assert {"replicas", "nodes"} <= set(result["timeseries"])


@pytest.mark.slow
def test_dask_local_cluster_gives_identical_results() -> None:
    pytest.importorskip("distributed")
    systems = [load_spec_text(MIXED)] + [
        load_spec(FEATURES / name, ["simulation.replications=3"])
        for name in ("control_features.yaml", "data_features.yaml")]
    cluster = DaskCluster("local", 2)
    try:
        assert cluster.workers == 2
        for system in systems:
            expected = text(simulate(system, with_series=True))
            seed = system.simulation.seed
            assert text(replicate(system, seed, cluster, with_series=True)) == expected
    finally:
        cluster.close()


def test_a_malformed_dask_address_is_bad_input_and_a_local_cluster_has_a_worker_per_task(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`--dask 'tcp://[::1'` ended in a traceback; `--dask local --jobs 1000` for 3
    replications started 1,000 worker processes (plain processes were already capped)."""
    pytest.importorskip("distributed")
    from scalesim.sweep import executor

    with pytest.raises(executor.ClusterError, match="cannot reach the Dask scheduler"):
        DaskCluster("tcp://[::1")
    asked: list[int | None] = []
    monkeypatch.setattr(executor, "DaskCluster", lambda address, workers: asked.append(workers))
    executor.make_executor(1000, "local", tasks=3)
    assert asked == [3]


def test_precision_stops_at_the_first_precise_replication_whatever_the_jobs() -> None:
    """The rule is checked after each replication in order: the run stops at the first n ≥ 5
    whose relative CI half-width is within the target, and --jobs does not change n."""
    system = load_spec_text(MIXED.replace("replications: 3", "replications: 1"))
    target = Precision(0.03)
    one = Execution(jobs=1, precision=target).simulate(system)
    two = Execution(jobs=2, precision=target).simulate(system)
    assert text(one) == text(two)
    n = one["replications"]
    means = [build_result(system, 5, run_replication(system, 5, r))["latency_ms"]["mean"]
             for r in range(n)]
    assert one["precision"]["met"]
    assert relative_half_width(means) <= 0.03
    assert all(relative_half_width(means[:k]) > 0.03 for k in range(5, n))


def test_a_safety_stop_in_a_worker_is_raised_here() -> None:
    overloaded = MIXED.replace("rate: 300/s", "rate: 5000/s").replace(
        "seed: 5,", "seed: 5, limits: {max_queued: 2000},")
    system = load_spec_text(overloaded)
    pool = Processes(2)
    try:
        with pytest.raises(SafetyStop, match="max_queued"):
            replicate(system, 5, pool)
    finally:
        pool.close()


def test_simulate_command_runs_replications_on_workers(tmp_path: Path) -> None:
    spec = tmp_path / "mixed.yaml"
    spec.write_text(MIXED)
    runner = CliRunner()
    one = runner.invoke(app, ["simulate", str(spec), "-r", "4", "--jobs", "1", "--json"])
    two = runner.invoke(app, ["simulate", str(spec), "-r", "4", "--jobs", "2", "--json"])
    assert one.exit_code == 0, one.output
    assert one.stdout == two.stdout and json.loads(one.stdout)["replications"] == 4
    precise = runner.invoke(app, ["simulate", str(spec), "--precision", "5%", "--json"])
    assert precise.exit_code == 0, precise.output
    doc = json.loads(precise.stdout)
    assert doc["precision"]["met"] and doc["replications"] >= 5
    # the decimal its own hint gives ("use e.g. 0.05 or '5%'") is the same target
    decimal = runner.invoke(app, ["simulate", str(spec), "--precision", "0.05", "--json"])
    assert decimal.exit_code == 0, decimal.output
    assert decimal.stdout == precise.stdout
    assert runner.invoke(app, ["simulate", str(spec), "--precision", "fast"]).exit_code == 2
